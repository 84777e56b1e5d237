//! Nearest-neighbour upsampling and reflection padding of NCHW tensors.

use atelier_kernels::resample::cpu as f;
use atelier_kernels::resample::reference as r;
use atelier_kernels::resample::{self as k, ReflectionPadConfig, UpsampleConfig};

use super::run::kernel_op;
use crate::tensor::Tensor;

fn nchw(op: &str, t: &Tensor) -> [usize; 4] {
    match t.shape() {
        &[n, c, h, w] => [n, c, h, w],
        s => panic!("{op}: input must be [N, C, H, W], got {s:?}"),
    }
}

impl Tensor {
    /// Repeats every pixel `scale`×`scale` times.
    pub fn upsample_nearest2d(&self, scale: usize) -> Tensor {
        let [n, c, h, w] = nchw("upsample_nearest2d", self);
        assert!(scale >= 1, "upsample_nearest2d: scale must be at least 1");
        let cfg = UpsampleConfig {
            n,
            c,
            h,
            w,
            scale: [scale; 2],
        };
        let out = [n, c, cfg.out_h(), cfg.out_w()];
        let y = kernel_op!(
            "upsample_nearest2d",
            [self],
            [&out],
            gpu | i,
            o | k::upsample_nearest2d(&cfg, i[0], o[0]),
            fast | i,
            o | f::upsample_nearest2d(&cfg, i[0], &mut o[0]),
            cpu | i,
            o | r::upsample_nearest2d(&cfg, i[0], &mut o[0])
        )
        .remove(0);
        let shape = self.shape().to_vec();
        y.with_node("upsample_nearest2d", &[self], move |gy| {
            let gx = kernel_op!(
                "upsample_nearest2d backward",
                [gy],
                [&shape],
                gpu | i,
                o | k::upsample_nearest2d_backward(&cfg, i[0], o[0]),
                fast | i,
                o | f::upsample_nearest2d_backward(&cfg, i[0], &mut o[0]),
                cpu | i,
                o | r::upsample_nearest2d_backward(&cfg, i[0], &mut o[0])
            )
            .remove(0);
            vec![Some(gx)]
        })
    }

    /// Pads by reflection, PyTorch's order `[left, right, top, bottom]`; each pad must be
    /// smaller than the dimension it pads.
    pub fn reflection_pad2d(&self, pad: [usize; 4]) -> Tensor {
        let [n, c, h, w] = nchw("reflection_pad2d", self);
        let cfg = ReflectionPadConfig::new(n, c, h, w, pad);
        cfg.validate("reflection_pad2d");
        let out = [n, c, cfg.out_h(), cfg.out_w()];
        let y = kernel_op!(
            "reflection_pad2d",
            [self],
            [&out],
            gpu | i,
            o | k::reflection_pad2d(&cfg, i[0], o[0]),
            fast | i,
            o | f::reflection_pad2d(&cfg, i[0], &mut o[0]),
            cpu | i,
            o | r::reflection_pad2d(&cfg, i[0], &mut o[0])
        )
        .remove(0);
        let shape = self.shape().to_vec();
        y.with_node("reflection_pad2d", &[self], move |gy| {
            let gx = kernel_op!(
                "reflection_pad2d backward",
                [gy],
                [&shape],
                gpu | i,
                o | k::reflection_pad2d_backward(&cfg, i[0], o[0]),
                fast | i,
                o | f::reflection_pad2d_backward(&cfg, i[0], &mut o[0]),
                cpu | i,
                o | r::reflection_pad2d_backward(&cfg, i[0], &mut o[0])
            )
            .remove(0);
            vec![Some(gx)]
        })
    }
}
