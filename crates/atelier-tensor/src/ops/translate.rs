//! Per-image translation with zero fill (DiffAugment's `rand_translation`).

use atelier_kernels::translate::cpu as f;
use atelier_kernels::translate::reference as r;
use atelier_kernels::translate::{self as k, TranslateConfig};

use super::run::kernel_op;
use crate::tensor::Tensor;

impl Tensor {
    /// Shifts image `n` of `[N, C, H, W]` so that `out[n, c, i, j] = self[n, c, i + dy, j + dx]`
    /// (0 where that falls outside), with `shifts` `[N, 2]` holding whole-number `(dy, dx)`
    /// per image. Differentiable in `self` (the shifts are data, not parameters).
    pub fn translate2d(&self, shifts: &Tensor) -> Tensor {
        let &[n, c, h, w] = self.shape() else {
            panic!(
                "translate2d: input must be [N, C, H, W], got {:?}",
                self.shape()
            );
        };
        assert_eq!(
            shifts.shape(),
            [n, 2],
            "translate2d: shifts must be [{n}, 2] (dy, dx per image), got {:?}",
            shifts.shape()
        );
        let cfg = TranslateConfig { n, c, h, w };
        let shape = self.shape().to_vec();
        let shifts = shifts.detach();
        let y = kernel_op!(
            "translate2d",
            [self, &shifts],
            [&shape],
            gpu | i,
            o | k::translate2d(&cfg, i[0], i[1], o[0], false),
            fast | i,
            o | f::translate2d(&cfg, i[0], i[1], &mut o[0]),
            cpu | i,
            o | r::translate2d(&cfg, i[0], i[1], &mut o[0])
        )
        .remove(0);
        y.with_node("translate2d", &[self], move |gy| {
            let gx = kernel_op!(
                "translate2d backward",
                [gy, &shifts],
                [&shape],
                gpu | i,
                o | k::translate2d(&cfg, i[0], i[1], o[0], true),
                fast | i,
                o | f::translate2d_backward(&cfg, i[0], i[1], &mut o[0]),
                cpu | i,
                o | r::translate2d_backward(&cfg, i[0], i[1], &mut o[0])
            )
            .remove(0);
            vec![Some(gx)]
        })
    }
}
