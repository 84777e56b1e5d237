// batchnorm.wgsl: 2-D batch normalisation of an NCHW tensor with per-channel statistics, as
// PyTorch's BatchNorm2d (affine, track_running_stats). Channel c has m = N*H*W elements;
// xhat = (x - mean[c]) * invstd[c].
//
// Training forward:   batchnorm_stats, then batchnorm_apply.
// Evaluation forward: batchnorm_invstd (invstd from running_var), then batchnorm_apply with
//                     running_mean bound as `mean`.
// Backward (both modes, with the statistics the forward used): batchnorm_backward_reduce,
//                     then batchnorm_backward_apply (p.training selects the formula).
//
// Entry points (binding 0 is always the `Params` uniform):
// A module is this file, its variant's file if any (subgroup, split), then the definition of
// `grad_y` (batchnorm_gy.wgsl or batchnorm_gy_act.wgsl).
//
//   batchnorm_stats            one workgroup per channel: mean and biased variance over the m
//                              elements (two passes over x: the mean, then the squared
//                              deviations from it); mean[c], invstd[c] = 1/sqrt(var + eps);
//                              and, in place, PyTorch's
//                              running = (1 - momentum) * running + momentum * batch, with the
//                              unbiased variance var * m/(m-1) for running_var
//                                x@1, mean@2, invstd@3, running_mean@4, running_var@5
//   batchnorm_invstd           one invocation per channel: invstd[c] = 1/sqrt(var[c] + eps)
//                                var@1, invstd@2
//   batchnorm_apply            one invocation per element: y = xhat * gamma[c] + beta[c]
//                                x@1, mean@2, invstd@3, gamma@4, beta@5, y@6
//   batchnorm_backward_reduce  one workgroup per channel: gbeta[c] = sum(gy),
//                              ggamma[c] = sum(gy * xhat), gy read through `grad_y`
//                              (batchnorm_gy.wgsl; batchnorm_gy_act.wgsl for the fused
//                              activation's backward)
//                                x@1, gy@2, mean@3, invstd@4, ggamma@5, gbeta@6
//   batchnorm_backward_apply   one invocation per element, reading the two sums back from
//                              ggamma and gbeta:
//                              training:   gx = gamma*invstd/m * (m*gy - gbeta - xhat*ggamma)
//                              evaluation: gx = gy * gamma * invstd (statistics are constants)
//                                x@1, gy@2, mean@3, invstd@4, gamma@5, ggamma@6, gbeta@7, gx@8
//
// Grids above the per-dimension limit are folded into y and z (see `group_id`).

// Invocations per workgroup (WG, the prelude's); a power of two (the reductions halve it).

struct Params {
    n: u32,
    c: u32,
    hw: u32,
    // n * c * hw
    total: u32,
    eps: f32,
    momentum: f32,
    // elements per channel of the whole batch (N*H*W), for the training backward: a launch over
    // a chunk of the batch (see atelier_kernels::chunk) has a smaller n
    m: u32,
    training: u32,
    // blocks per channel of the split reductions (batchnorm_split.wgsl), else 1
    blocks: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// batchnorm_stats
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats_mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats_invstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_var: array<f32>;

// batchnorm_invstd
@group(0) @binding(1) var<storage, read> var_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> invstd_out: array<f32>;

// batchnorm_apply
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

// batchnorm_backward_reduce (x@1 as above)
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read> bwd_mean: array<f32>;
@group(0) @binding(4) var<storage, read> bwd_invstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> ggamma_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> gbeta_out: array<f32>;

// batchnorm_backward_apply (x@1, gy@2, bwd_mean@3, bwd_invstd@4 as above)
@group(0) @binding(5) var<storage, read> bwd_gamma: array<f32>;
@group(0) @binding(6) var<storage, read> ggamma: array<f32>;
@group(0) @binding(7) var<storage, read> gbeta: array<f32>;
@group(0) @binding(8) var<storage, read_write> gx: array<f32>;

var<workgroup> partial: array<vec2<f32>, WG>;

// The workgroup's index in a grid folded into y and z.


// Index in x of element j (0 <= j < m) of channel c: j runs over (n, h*w) in order.
fn channel_element(c: u32, j: u32) -> u32 {
    let n = j / p.hw;
    let s = j - n * p.hw;
    return (n * p.c + c) * p.hw + s;
}

// The channel of element i of x.
fn channel_of(i: u32) -> u32 {
    return (i / p.hw) % p.c;
}

// Channel c's statistics from its mean and biased variance over m elements: mean, invstd,
// and the running averages (with the unbiased variance).
fn write_stats(c: u32, mu: f32, biased_var: f32, m: u32) {
    stats_mean[c] = mu;
    stats_invstd[c] = 1.0 / sqrt(biased_var + p.eps);
    let unbiased_var = biased_var * f32(m) / f32(m - 1u);
    running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mu;
    running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * unbiased_var;
}

// Sums `v` over the workgroup; every invocation gets the total. Called in uniform control flow.
fn workgroup_sum(lid: u32, v: vec2<f32>) -> vec2<f32> {
    partial[lid] = v;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    // nobody may overwrite `partial` before everyone has read the total
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(WG)
fn batchnorm_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
    let c = group_id(wid, nwg);
    if c >= p.c {
        return;
    }
    let m = p.n * p.hw;
    var s = 0.0;
    for (var j = lid.x; j < m; j += WG) {
        s += x[channel_element(c, j)];
    }
    let mu = workgroup_sum(lid.x, vec2(s, 0.0)).x / f32(m);
    var q = 0.0;
    for (var j = lid.x; j < m; j += WG) {
        let d = x[channel_element(c, j)] - mu;
        q += d * d;
    }
    let biased_var = workgroup_sum(lid.x, vec2(q, 0.0)).x / f32(m);
    if lid.x == 0u {
        write_stats(c, mu, biased_var, m);
    }
}

@compute @workgroup_size(WG)
fn batchnorm_invstd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
    let c = linear_id(wid, nwg, lid);
    if c < p.c {
        invstd_out[c] = 1.0 / sqrt(var_in[c] + p.eps);
    }
}

@compute @workgroup_size(WG)
fn batchnorm_apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total {
        return;
    }
    let c = channel_of(i);
    y[i] = (x[i] - mean[c]) * invstd[c] * gamma[c] + beta[c];
}

@compute @workgroup_size(WG)
fn batchnorm_backward_reduce(@builtin(workgroup_id) wid: vec3<u32>,
                             @builtin(num_workgroups) nwg: vec3<u32>,
                             @builtin(local_invocation_id) lid: vec3<u32>) {
    let c = group_id(wid, nwg);
    if c >= p.c {
        return;
    }
    let m = p.n * p.hw;
    let mu = bwd_mean[c];
    let is = bwd_invstd[c];
    var sums = vec2(0.0);
    for (var j = lid.x; j < m; j += WG) {
        let i = channel_element(c, j);
        let g = grad_y(i);
        sums += vec2(g, g * (x[i] - mu) * is);
    }
    let total = workgroup_sum(lid.x, sums);
    if lid.x == 0u {
        gbeta_out[c] = total.x;
        ggamma_out[c] = total.y;
    }
}

@compute @workgroup_size(WG)
fn batchnorm_backward_apply(@builtin(workgroup_id) wid: vec3<u32>,
                            @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total {
        return;
    }
    backward_apply_at(i, gy[i]);
}

// gx[i] from the output gradient `g` of element i (batchnorm_backward_apply's formula).
fn backward_apply_at(i: u32, g: f32) {
    let c = channel_of(i);
    let scale = bwd_gamma[c] * bwd_invstd[c];
    if p.training == 1u {
        let inv_m = 1.0 / f32(p.m);
        let xhat = (x[i] - bwd_mean[c]) * bwd_invstd[c];
        gx[i] = scale * (g - gbeta[c] * inv_m - xhat * ggamma[c] * inv_m);
    } else {
        gx[i] = g * scale;
    }
}
