// batchnorm_subgroup.wgsl: subgroup variants of batchnorm's two per-channel reductions, for
// devices with wgpu's SUBGROUP feature (lavapipe: subgroups of 8; NVIDIA: 32).
//
// This file is compiled appended to batchnorm.wgsl (see shaders.rs): it uses that file's
// `Params`, bindings, `partial` and helpers, so the baselines sit right above it. It is a module
// of its own because naga rejects subgroup operations on a device without the feature, and is
// only compiled when a launcher asks for it there. (naga 30 does not accept WGSL's
// `enable subgroups;` yet; the device feature alone enables the built-ins.)
//
// Entry points (bindings and results as the baselines they replace):
//   batchnorm_stats_subgroup            batchnorm_stats with `subgroup_workgroup_sum`
//                                         x@1, mean@2, invstd@3, running_mean@4, running_var@5
//   batchnorm_backward_reduce_subgroup  batchnorm_backward_reduce with `subgroup_workgroup_sum`
//                                         x@1, gy@2, mean@3, invstd@4, ggamma@5, gbeta@6
// The only change is the workgroup sum: the baseline's tree in workgroup memory takes log2(WG)
// barriers; here each subgroup adds its lanes in registers (subgroupAdd), one value per
// subgroup goes through workgroup memory, and one barrier later every subgroup adds those.

// The subgroup's lanes, ids and size, passed on from the entry point's built-ins.
struct Lanes {
    sg: u32,
    num_sg: u32,
    lane: u32,
    size: u32,
}

// Sums `v` over the workgroup; every invocation gets the total. Called in uniform control flow.
fn subgroup_workgroup_sum(l: Lanes, v: vec2<f32>) -> vec2<f32> {
    let s = subgroupAdd(v);
    if l.lane == 0u {
        partial[l.sg] = s;
    }
    workgroupBarrier();
    // every subgroup adds the per-subgroup sums, so every invocation has the total (more of
    // them than lanes on a device with small subgroups, hence the loop)
    var t = vec2(0.0);
    for (var k = l.lane; k < l.num_sg; k += l.size) {
        t += partial[k];
    }
    let total = subgroupAdd(t);
    // nobody may overwrite `partial` before everyone has read it
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(WG)
fn batchnorm_stats_subgroup(@builtin(workgroup_id) wid: vec3<u32>,
                            @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_id) lid: vec3<u32>,
                            @builtin(subgroup_id) sg: u32, @builtin(num_subgroups) num_sg: u32,
                            @builtin(subgroup_invocation_id) lane: u32,
                            @builtin(subgroup_size) sg_size: u32) {
    let c = group_id(wid, nwg);
    if c >= p.c {
        return;
    }
    let l = Lanes(sg, num_sg, lane, sg_size);
    let m = p.n * p.hw;
    var s = 0.0;
    for (var j = lid.x; j < m; j += WG) {
        s += x[channel_element(c, j)];
    }
    let mu = subgroup_workgroup_sum(l, vec2(s, 0.0)).x / f32(m);
    var q = 0.0;
    for (var j = lid.x; j < m; j += WG) {
        let d = x[channel_element(c, j)] - mu;
        q += d * d;
    }
    let biased_var = subgroup_workgroup_sum(l, vec2(q, 0.0)).x / f32(m);
    if lid.x == 0u {
        write_stats(c, mu, biased_var, m);
    }
}

@compute @workgroup_size(WG)
fn batchnorm_backward_reduce_subgroup(@builtin(workgroup_id) wid: vec3<u32>,
                                      @builtin(num_workgroups) nwg: vec3<u32>,
                                      @builtin(local_invocation_id) lid: vec3<u32>,
                                      @builtin(subgroup_id) sg: u32,
                                      @builtin(num_subgroups) num_sg: u32,
                                      @builtin(subgroup_invocation_id) lane: u32,
                                      @builtin(subgroup_size) sg_size: u32) {
    let c = group_id(wid, nwg);
    if c >= p.c {
        return;
    }
    let l = Lanes(sg, num_sg, lane, sg_size);
    let m = p.n * p.hw;
    let mu = bwd_mean[c];
    let is = bwd_invstd[c];
    var sums = vec2(0.0);
    for (var j = lid.x; j < m; j += WG) {
        let i = channel_element(c, j);
        let g = grad_y(i);
        sums += vec2(g, g * (x[i] - mu) * is);
    }
    let total = subgroup_workgroup_sum(l, sums);
    if lid.x == 0u {
        gbeta_out[c] = total.x;
        ggamma_out[c] = total.y;
    }
}
