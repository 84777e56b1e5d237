//! 2-D convolution and transposed convolution (groups = 1), PyTorch's layouts:
//! conv2d weight `[K, C, R, S]`, conv_transpose2d weight `[C_in, C_out, R, S]`.
//! The kernel variant (direct or an implicit GEMM) is chosen per shape and direction by the
//! conv2d family (`ATELIER_KERNELS=conv2d=<variant>`, or `tune` to time them on first use).

use atelier_kernels::conv2d::cpu as f;
use atelier_kernels::conv2d::reference as r;
use atelier_kernels::conv2d::{self as k, Conv2dSpec, ConvTranspose2dSpec};

use super::run::kernel_op;
use crate::tensor::Tensor;

/// Stride, padding and dilation, each (along H, along W).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dParams {
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
        }
    }
}

impl Conv2dParams {
    /// Square stride and padding, no dilation.
    pub fn new(stride: usize, padding: usize) -> Conv2dParams {
        Conv2dParams {
            stride: (stride, stride),
            padding: (padding, padding),
            dilation: (1, 1),
        }
    }
}

/// Stride, padding, output padding and dilation of a transposed convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2dParams {
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub output_padding: (usize, usize),
    pub dilation: (usize, usize),
}

impl Default for ConvTranspose2dParams {
    fn default() -> Self {
        ConvTranspose2dParams {
            stride: (1, 1),
            padding: (0, 0),
            output_padding: (0, 0),
            dilation: (1, 1),
        }
    }
}

impl ConvTranspose2dParams {
    /// Square stride and padding, no output padding or dilation.
    pub fn new(stride: usize, padding: usize) -> ConvTranspose2dParams {
        ConvTranspose2dParams {
            stride: (stride, stride),
            padding: (padding, padding),
            ..Default::default()
        }
    }
}

fn dims4(op: &str, what: &str, t: &Tensor) -> [usize; 4] {
    match t.shape() {
        &[a, b, c, d] => [a, b, c, d],
        s => panic!("{op}: {what} must be 4-D, got {s:?}"),
    }
}

fn check_bias(op: &str, bias: Option<&Tensor>, channels: usize) {
    if let Some(b) = bias {
        assert_eq!(
            b.shape(),
            [channels],
            "{op}: bias must be [{channels}], got {:?}",
            b.shape()
        );
    }
}

impl Tensor {
    /// `conv2d(x [N, C, H, W], weight [K, C, R, S]) + bias [K]` → `[N, K, P, Q]`.
    pub fn conv2d(&self, weight: &Tensor, bias: Option<&Tensor>, p: Conv2dParams) -> Tensor {
        let [n, c, h, w] = dims4("conv2d", "input", self);
        let [kk, c2, rr, ss] = dims4("conv2d", "weight", weight);
        assert_eq!(
            c,
            c2,
            "conv2d: input {:?} has {c} channels, weight {:?} expects {c2}",
            self.shape(),
            weight.shape()
        );
        check_bias("conv2d", bias, kk);
        let spec = Conv2dSpec {
            n,
            c,
            h,
            w,
            k: kk,
            r: rr,
            s: ss,
            stride: p.stride,
            pad: p.padding,
            dilation: p.dilation,
        };
        spec.validate();
        let out = [n, kk, spec.p(), spec.q()];
        let y = match bias {
            Some(b) => kernel_op!(
                "conv2d",
                [self, weight, b],
                [&out],
                gpu | i,
                o | k::conv2d_forward(&spec, i[0], i[1], Some(i[2]), o[0]),
                fast | i,
                o | f::conv2d_forward(&spec, i[0], i[1], Some(i[2]), &mut o[0]),
                cpu | i,
                o | r::conv2d_forward(&spec, i[0], i[1], Some(i[2]), &mut o[0])
            ),
            None => kernel_op!(
                "conv2d",
                [self, weight],
                [&out],
                gpu | i,
                o | k::conv2d_forward(&spec, i[0], i[1], None, o[0]),
                fast | i,
                o | f::conv2d_forward(&spec, i[0], i[1], None, &mut o[0]),
                cpu | i,
                o | r::conv2d_forward(&spec, i[0], i[1], None, &mut o[0])
            ),
        }
        .remove(0);
        let (x, wt) = (self.detach(), weight.detach());
        let has_bias = bias.is_some();
        let need = [
            self.requires_grad(),
            weight.requires_grad(),
            bias.is_some_and(|b| b.requires_grad()),
        ];
        let (xs, ws) = ([n, c, h, w], [kk, c, rr, ss]);
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        y.with_node("conv2d", &inputs, move |g| {
            let gx = need[0].then(|| {
                kernel_op!(
                    "conv2d backward_data",
                    [g, &wt],
                    [&xs],
                    gpu | i,
                    o | k::conv2d_backward_data(&spec, i[0], i[1], o[0]),
                    fast | i,
                    o | f::conv2d_backward_data(&spec, i[0], i[1], &mut o[0]),
                    cpu | i,
                    o | r::conv2d_backward_data(&spec, i[0], i[1], &mut o[0])
                )
                .remove(0)
            });
            let gw = need[1].then(|| {
                kernel_op!(
                    "conv2d backward_weight",
                    [&x, g],
                    [&ws],
                    gpu | i,
                    o | k::conv2d_backward_weight(&spec, i[0], i[1], o[0]),
                    fast | i,
                    o | f::conv2d_backward_weight(&spec, i[0], i[1], &mut o[0]),
                    cpu | i,
                    o | r::conv2d_backward_weight(&spec, i[0], i[1], &mut o[0])
                )
                .remove(0)
            });
            let mut grads = vec![gx, gw];
            if has_bias {
                grads.push(need[2].then(|| {
                    kernel_op!(
                        "conv2d backward_bias",
                        [g],
                        [&[spec.k]],
                        gpu | i,
                        o | k::conv2d_backward_bias(&spec, i[0], o[0]),
                        fast | i,
                        o | f::conv2d_backward_bias(&spec, i[0], &mut o[0]),
                        cpu | i,
                        o | r::conv2d_backward_bias(&spec, i[0], &mut o[0])
                    )
                    .remove(0)
                }));
            }
            grads
        })
    }

    /// `conv_transpose2d(x [N, C_in, H, W], weight [C_in, C_out, R, S]) + bias [C_out]`
    /// → `[N, C_out, H_out, W_out]`, H_out = (H−1)·stride − 2·pad + dil·(R−1) + output_pad + 1.
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        p: ConvTranspose2dParams,
    ) -> Tensor {
        let [n, c_in, h_in, w_in] = dims4("conv_transpose2d", "input", self);
        let [c_in2, c_out, rr, ss] = dims4("conv_transpose2d", "weight", weight);
        assert_eq!(
            c_in,
            c_in2,
            "conv_transpose2d: input {:?} has {c_in} channels, weight {:?} expects {c_in2}",
            self.shape(),
            weight.shape()
        );
        check_bias("conv_transpose2d", bias, c_out);
        let spec = ConvTranspose2dSpec {
            n,
            c_in,
            h_in,
            w_in,
            c_out,
            r: rr,
            s: ss,
            stride: p.stride,
            pad: p.padding,
            output_padding: p.output_padding,
            dilation: p.dilation,
        };
        spec.validate();
        let out = [n, c_out, spec.h_out(), spec.w_out()];
        // the transposed conv's forward is conv2d's backward-data, and so on
        let y = match bias {
            Some(b) => kernel_op!(
                "conv_transpose2d",
                [self, weight, b],
                [&out],
                gpu | i,
                o | k::conv_transpose2d_forward(&spec, i[0], i[1], Some(i[2]), o[0]),
                fast | i,
                o | f::conv_transpose2d_forward(&spec, i[0], i[1], Some(i[2]), &mut o[0]),
                cpu | i,
                o | r::conv_transpose2d_forward(&spec, i[0], i[1], Some(i[2]), &mut o[0])
            ),
            None => kernel_op!(
                "conv_transpose2d",
                [self, weight],
                [&out],
                gpu | i,
                o | k::conv_transpose2d_forward(&spec, i[0], i[1], None, o[0]),
                fast | i,
                o | f::conv_transpose2d_forward(&spec, i[0], i[1], None, &mut o[0]),
                cpu | i,
                o | r::conv_transpose2d_forward(&spec, i[0], i[1], None, &mut o[0])
            ),
        }
        .remove(0);
        let (x, wt) = (self.detach(), weight.detach());
        let has_bias = bias.is_some();
        let need = [
            self.requires_grad(),
            weight.requires_grad(),
            bias.is_some_and(|b| b.requires_grad()),
        ];
        let (xs, ws) = ([n, c_in, h_in, w_in], [c_in, c_out, rr, ss]);
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        y.with_node("conv_transpose2d", &inputs, move |g| {
            let gx = need[0].then(|| {
                kernel_op!(
                    "conv_transpose2d backward_data",
                    [g, &wt],
                    [&xs],
                    gpu | i,
                    o | k::conv_transpose2d_backward_data(&spec, i[0], i[1], o[0]),
                    fast | i,
                    o | f::conv_transpose2d_backward_data(&spec, i[0], i[1], &mut o[0]),
                    cpu | i,
                    o | r::conv_transpose2d_backward_data(&spec, i[0], i[1], &mut o[0])
                )
                .remove(0)
            });
            let gw = need[1].then(|| {
                kernel_op!(
                    "conv_transpose2d backward_weight",
                    [&x, g],
                    [&ws],
                    gpu | i,
                    o | k::conv_transpose2d_backward_weight(&spec, i[0], i[1], o[0]),
                    fast | i,
                    o | f::conv_transpose2d_backward_weight(&spec, i[0], i[1], &mut o[0]),
                    cpu | i,
                    o | r::conv_transpose2d_backward_weight(&spec, i[0], i[1], &mut o[0])
                )
                .remove(0)
            });
            let mut grads = vec![gx, gw];
            if has_bias {
                grads.push(need[2].then(|| {
                    kernel_op!(
                        "conv_transpose2d backward_bias",
                        [g],
                        [&[spec.c_out]],
                        gpu | i,
                        o | k::conv_transpose2d_backward_bias(&spec, i[0], o[0]),
                        fast | i,
                        o | f::conv_transpose2d_backward_bias(&spec, i[0], &mut o[0]),
                        cpu | i,
                        o | r::conv_transpose2d_backward_bias(&spec, i[0], &mut o[0])
                    )
                    .remove(0)
                }));
            }
            grads
        })
    }
}
