// The uniform of both Adam kernels (`optim.wgsl`'s per-tensor one and `adam_multi.wgsl`),
// joined before each: the layout of `launch.rs`'s `AdamParams`, written once.

struct AdamParams {
    n: u32,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    eps: f32,
    step_size: f32,
    sqrt_bc2: f32,
    grad_decay: f32,
    param_scale: f32,
    _pad0: f32,
    _pad1: f32,
}
