// instance_norm.wgsl: 2-D instance normalisation of an NCHW tensor, as PyTorch's
// InstanceNorm2d(affine=True): statistics per instance (n, c) over its m = H*W contiguous
// elements, no running statistics, gamma and beta per channel. Instance g = n*C + c;
// xhat = (x - mean[g]) * invstd[g]. The structure is batchnorm.wgsl's with the instance in
// place of the channel.
//
// Forward:  instance_norm_stats, then instance_norm_apply.
// Backward: instance_norm_backward_reduce (per-instance sums), instance_norm_backward_apply
//           (gx from them), instance_norm_param_grads (ggamma, gbeta: the sums added over n).
//
// Entry points (binding 0 is always the `Params` uniform):
//   instance_norm_stats            one workgroup per instance: mean and biased variance (two
//                                  passes over x), mean[g], invstd[g] = 1/sqrt(var + eps)
//                                    x@1, mean@2, invstd@3
//   instance_norm_apply            one invocation per element: y = xhat * gamma[c] + beta[c]
//                                    x@1, mean@2, invstd@3, gamma@4, beta@5, y@6
//   instance_norm_backward_reduce  one workgroup per instance: sum_gy[g] = sum(gy),
//                                  sum_gy_xhat[g] = sum(gy * xhat)
//                                    x@1, gy@2, mean@3, invstd@4, sum_gy_xhat@5, sum_gy@6
//   instance_norm_backward_apply   one invocation per element:
//                                  gx = gamma*invstd/m * (m*gy - sum_gy - xhat*sum_gy_xhat)
//                                    x@1, gy@2, mean@3, invstd@4, gamma@5, sum_gy_xhat@6,
//                                    sum_gy@7, gx@8
//   instance_norm_param_grads      one invocation per channel: ggamma[c] = sum over n of
//                                  sum_gy_xhat[n*C + c], gbeta[c] likewise of sum_gy
//                                    sum_gy_xhat@1, sum_gy@2, ggamma@3, gbeta@4
//
// Grids above the per-dimension limit are folded into y and z (see `group_id`).

// Invocations per workgroup; a power of two (the reductions halve it).

struct Params {
    n: u32,
    c: u32,
    hw: u32,
    // n * c * hw
    total: u32,
    eps: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// instance_norm_stats
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> invstd_out: array<f32>;

// instance_norm_apply (x@1 as above)
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

// instance_norm_backward_reduce (x@1 as above)
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read> bwd_mean: array<f32>;
@group(0) @binding(4) var<storage, read> bwd_invstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> sum_gy_xhat_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> sum_gy_out: array<f32>;

// instance_norm_backward_apply (x@1, gy@2, bwd_mean@3, bwd_invstd@4 as above)
@group(0) @binding(5) var<storage, read> bwd_gamma: array<f32>;
@group(0) @binding(6) var<storage, read> sum_gy_xhat: array<f32>;
@group(0) @binding(7) var<storage, read> sum_gy: array<f32>;
@group(0) @binding(8) var<storage, read_write> gx: array<f32>;

// instance_norm_param_grads
@group(0) @binding(1) var<storage, read> pg_sum_gy_xhat: array<f32>;
@group(0) @binding(2) var<storage, read> pg_sum_gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> ggamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> gbeta: array<f32>;

var<workgroup> partial: array<vec2<f32>, WG>;

// The workgroup's index in a grid folded into y and z.


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
fn instance_norm_stats(@builtin(workgroup_id) wid: vec3<u32>,
                       @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = group_id(wid, nwg);
    if g >= p.n * p.c {
        return;
    }
    let base = g * p.hw;
    var s = 0.0;
    for (var j = lid.x; j < p.hw; j += WG) {
        s += x[base + j];
    }
    let mu = workgroup_sum(lid.x, vec2(s, 0.0)).x / f32(p.hw);
    var q = 0.0;
    for (var j = lid.x; j < p.hw; j += WG) {
        let d = x[base + j] - mu;
        q += d * d;
    }
    let biased_var = workgroup_sum(lid.x, vec2(q, 0.0)).x / f32(p.hw);
    if lid.x == 0u {
        mean_out[g] = mu;
        invstd_out[g] = 1.0 / sqrt(biased_var + p.eps);
    }
}

@compute @workgroup_size(WG)
fn instance_norm_apply(@builtin(workgroup_id) wid: vec3<u32>,
                       @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total {
        return;
    }
    let g = i / p.hw;
    let c = g % p.c;
    y[i] = (x[i] - mean[g]) * invstd[g] * gamma[c] + beta[c];
}

@compute @workgroup_size(WG)
fn instance_norm_backward_reduce(@builtin(workgroup_id) wid: vec3<u32>,
                                 @builtin(num_workgroups) nwg: vec3<u32>,
                                 @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = group_id(wid, nwg);
    if g >= p.n * p.c {
        return;
    }
    let base = g * p.hw;
    let mu = bwd_mean[g];
    let is = bwd_invstd[g];
    var sums = vec2(0.0);
    for (var j = lid.x; j < p.hw; j += WG) {
        let gyj = gy[base + j];
        sums += vec2(gyj, gyj * (x[base + j] - mu) * is);
    }
    let total = workgroup_sum(lid.x, sums);
    if lid.x == 0u {
        sum_gy_out[g] = total.x;
        sum_gy_xhat_out[g] = total.y;
    }
}

@compute @workgroup_size(WG)
fn instance_norm_backward_apply(@builtin(workgroup_id) wid: vec3<u32>,
                                @builtin(num_workgroups) nwg: vec3<u32>,
                                @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total {
        return;
    }
    let g = i / p.hw;
    let c = g % p.c;
    let inv_m = 1.0 / f32(p.hw);
    let xhat = (x[i] - bwd_mean[g]) * bwd_invstd[g];
    let scale = bwd_gamma[c] * bwd_invstd[g];
    gx[i] = scale * (gy[i] - sum_gy[g] * inv_m - xhat * sum_gy_xhat[g] * inv_m);
}

@compute @workgroup_size(WG)
fn instance_norm_param_grads(@builtin(workgroup_id) wid: vec3<u32>,
                             @builtin(num_workgroups) nwg: vec3<u32>,
                             @builtin(local_invocation_id) lid: vec3<u32>) {
    let c = linear_id(wid, nwg, lid);
    if c >= p.c {
        return;
    }
    var sums = vec2(0.0);
    for (var n = 0u; n < p.n; n++) {
        let g = n * p.c + c;
        sums += vec2(pg_sum_gy_xhat[g], pg_sum_gy[g]);
    }
    ggamma[c] = sums.x;
    gbeta[c] = sums.y;
}
