// batchnorm_split.wgsl: batchnorm's two per-channel reductions split over many workgroups per
// channel, for few channels of many elements (the baselines give a channel one workgroup, so
// a layer of 64 channels keeps at most 64 of a GPU's workgroups busy). Each is two dispatches:
// a pass over x where workgroup (c, b) reduces block b of channel c (p.blocks blocks of
// ceil(m / p.blocks) elements in channel order), then a merge of each channel's partial results
// (one invocation per channel, p.blocks values).
//
// This file is compiled appended to batchnorm.wgsl (its Params, helpers, `write_stats`), then
// batchnorm_gy.wgsl or batchnorm_gy_act.wgsl (`grad_y`).
//
// Entry points (binding 0 is the Params uniform; partial buffers hold c * blocks values, the
// blocks of channel c at c * blocks):
//   batchnorm_split_stats         per block: its mean and the sum of squared deviations from
//                                 it (two passes over the block, as the baseline's two over
//                                 the channel); the means, then the sums, in one buffer
//                                   x@1, part@2 (rw, 2 * c * blocks)
//   batchnorm_split_stats_merge   per channel: mean = sum(n_b * mean_b) / m and
//                                 M2 = sum(M2_b + n_b * (mean_b - mean)^2) (Chan et al.), the
//                                 biased variance M2 / m; then what batchnorm_stats writes
//                                   part@1, mean@2, invstd@3, running_mean@4 (rw),
//                                   running_var@5 (rw) (batchnorm_stats's bindings)
//   batchnorm_split_reduce        per block: sum(grad_y) and sum(grad_y * xhat)
//                                   x@1, gy@2, mean@3, invstd@4, part_gbeta@5 (rw),
//                                   part_ggamma@6 (rw) [, y@7 with the fused activation]
//   batchnorm_split_reduce_merge  per channel: gbeta[c], ggamma[c] = the sums of its blocks
//                                   part_gbeta@1, part_ggamma@2, ggamma@3, gbeta@4

@group(0) @binding(2) var<storage, read_write> part_stats: array<f32>;
@group(0) @binding(1) var<storage, read> merge_stats_in: array<f32>;

@group(0) @binding(5) var<storage, read_write> part_gbeta: array<f32>;
@group(0) @binding(6) var<storage, read_write> part_ggamma: array<f32>;

@group(0) @binding(1) var<storage, read> merge_gbeta_in: array<f32>;
@group(0) @binding(2) var<storage, read> merge_ggamma_in: array<f32>;
@group(0) @binding(3) var<storage, read_write> merge_ggamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> merge_gbeta: array<f32>;

// Elements of a block (the last one may be shorter, or empty).
fn block_len() -> u32 {
    let m = p.n * p.hw;
    return (m + p.blocks - 1u) / p.blocks;
}

// The elements [start, end) of channel c's block b.
fn block_range(b: u32) -> vec2<u32> {
    let m = p.n * p.hw;
    let start = min(b * block_len(), m);
    return vec2(start, min(start + block_len(), m));
}

@compute @workgroup_size(WG)
fn batchnorm_split_stats(@builtin(workgroup_id) wid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_id) lid: vec3<u32>) {
    let w = group_id(wid, nwg);
    if w >= p.c * p.blocks {
        return;
    }
    let c = w / p.blocks;
    let r = block_range(w % p.blocks);
    let count = r.y - r.x;
    var s = 0.0;
    for (var j = r.x + lid.x; j < r.y; j += WG) {
        s += x[channel_element(c, j)];
    }
    let mu = workgroup_sum(lid.x, vec2(s, 0.0)).x / f32(max(count, 1u));
    var q = 0.0;
    for (var j = r.x + lid.x; j < r.y; j += WG) {
        let d = x[channel_element(c, j)] - mu;
        q += d * d;
    }
    let m2 = workgroup_sum(lid.x, vec2(q, 0.0)).x;
    if lid.x == 0u {
        part_stats[w] = mu;
        part_stats[p.c * p.blocks + w] = m2;
    }
}

@compute @workgroup_size(WG)
fn batchnorm_split_stats_merge(@builtin(workgroup_id) wid: vec3<u32>,
                               @builtin(num_workgroups) nwg: vec3<u32>,
                               @builtin(local_invocation_id) lid: vec3<u32>) {
    let c = linear_id(wid, nwg, lid);
    if c >= p.c {
        return;
    }
    let m = p.n * p.hw;
    var s = 0.0;
    for (var b = 0u; b < p.blocks; b++) {
        let r = block_range(b);
        s += f32(r.y - r.x) * merge_stats_in[c * p.blocks + b];
    }
    let mu = s / f32(m);
    var m2 = 0.0;
    for (var b = 0u; b < p.blocks; b++) {
        let r = block_range(b);
        let d = merge_stats_in[c * p.blocks + b] - mu;
        m2 += merge_stats_in[(p.c + c) * p.blocks + b] + f32(r.y - r.x) * d * d;
    }
    write_stats(c, mu, m2 / f32(m), m);
}

@compute @workgroup_size(WG)
fn batchnorm_split_reduce(@builtin(workgroup_id) wid: vec3<u32>,
                          @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_id) lid: vec3<u32>) {
    let w = group_id(wid, nwg);
    if w >= p.c * p.blocks {
        return;
    }
    let c = w / p.blocks;
    let r = block_range(w % p.blocks);
    let mu = bwd_mean[c];
    let is = bwd_invstd[c];
    var sums = vec2(0.0);
    for (var j = r.x + lid.x; j < r.y; j += WG) {
        let i = channel_element(c, j);
        let g = grad_y(i);
        sums += vec2(g, g * (x[i] - mu) * is);
    }
    let total = workgroup_sum(lid.x, sums);
    if lid.x == 0u {
        part_gbeta[w] = total.x;
        part_ggamma[w] = total.y;
    }
}

@compute @workgroup_size(WG)
fn batchnorm_split_reduce_merge(@builtin(workgroup_id) wid: vec3<u32>,
                                @builtin(num_workgroups) nwg: vec3<u32>,
                                @builtin(local_invocation_id) lid: vec3<u32>) {
    let c = linear_id(wid, nwg, lid);
    if c >= p.c {
        return;
    }
    var sums = vec2(0.0);
    for (var b = 0u; b < p.blocks; b++) {
        sums += vec2(merge_gbeta_in[c * p.blocks + b], merge_ggamma_in[c * p.blocks + b]);
    }
    merge_gbeta[c] = sums.x;
    merge_ggamma[c] = sums.y;
}
