// batchnorm_gy.wgsl: the backward reductions' output gradient, read as it is (joined last in
// the batchnorm modules without a fused activation; batchnorm_gy_act.wgsl is its twin).

fn grad_y(i: u32) -> f32 {
    return gy[i];
}
