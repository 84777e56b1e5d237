// batchnorm_gy_act.wgsl: the backward of batch norm fused with the ReLU or LeakyReLU after it
// (batchnorm_apply_act). The gradient reaching batch norm is the activation's backward,
// gy * (1 where y > 0, SLOPE elsewhere), recomputed here from the fused forward's output y
// (y > 0 exactly where the normalised value was, for SLOPE >= 0) instead of in a pass of its
// own: the reductions read it through `grad_y`, batchnorm_backward_apply_act through
// `grad_y_apply`.
//
// Bindings after the ones the kernel shares with its unfused twin:
//   reductions (batchnorm_backward_reduce*_act, batchnorm_split_reduce_act)   y@7
//   batchnorm_backward_apply_act                                              y@9
// SLOPE is an override constant: one pipeline per slope in use.

override SLOPE: f32 = 0.0;

@group(0) @binding(7) var<storage, read> act_y: array<f32>;
@group(0) @binding(9) var<storage, read> act_y_apply: array<f32>;

fn act_grad(g: f32, y: f32) -> f32 {
    return select(SLOPE * g, g, y > 0.0);
}

fn grad_y(i: u32) -> f32 {
    return act_grad(gy[i], act_y[i]);
}

fn grad_y_apply(i: u32) -> f32 {
    return act_grad(gy[i], act_y_apply[i]);
}
