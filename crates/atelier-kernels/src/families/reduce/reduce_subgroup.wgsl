// reduce_subgroup.wgsl: the subgroup variant of `reduce_workgroup`, for devices with wgpu's
// SUBGROUP feature (lavapipe: subgroups of 8; NVIDIA: 32).
//
// This file is compiled appended to reduce.wgsl (see shaders.rs): it uses that file's `Params`,
// bindings, `partial` and helpers, so the baseline sits right above it. It is a module of its
// own because naga rejects subgroup operations on a device without the feature, and is only
// compiled when a launcher asks for it there. (naga 30 does not accept WGSL's
// `enable subgroups;` yet; the device feature alone enables the built-ins.)
//
// Entry point (Params@0, x@1, out@2, as reduce_workgroup):
//   reduce_subgroup   one workgroup per output element. Its WG threads stride over the reduced
//                     elements exactly as in reduce_workgroup; then each subgroup combines its
//                     lanes in registers (subgroupAdd / subgroupMax), its lane 0 writes one
//                     value to workgroup memory, and after a single barrier the first subgroup
//                     combines those WG / subgroup_size values the same way. The baseline's
//                     tree takes log2(WG) = 8 barriers; this takes one.

// op over the lanes of this invocation's subgroup; every lane gets the result
fn subgroup_combine(v: f32) -> f32 {
    if p.op == 1u {
        return subgroupMax(v);
    }
    return subgroupAdd(v);
}

@compute @workgroup_size(WG)
fn reduce_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>,
                   @builtin(subgroup_id) sg: u32, @builtin(num_subgroups) num_sg: u32,
                   @builtin(subgroup_invocation_id) lane: u32,
                   @builtin(subgroup_size) sg_size: u32) {
    // uniform over the workgroup, as in reduce_workgroup
    let i = group_id(wid, nwg);
    if i >= p.out_n {
        return;
    }
    let at = locate(i);
    var acc = identity();
    for (var j = p.red_begin + lid.x; j < p.red_n; j += WG) {
        acc = combine(acc, x[at.x + reduced_offset(j)]);
    }
    // one value per subgroup into workgroup memory
    acc = subgroup_combine(acc);
    if lane == 0u {
        partial[sg] = acc;
    }
    workgroupBarrier();
    // the first subgroup combines the per-subgroup values (more of them than lanes on a
    // device with small subgroups, hence the loop)
    if sg == 0u {
        var total = identity();
        for (var k = lane; k < num_sg; k += sg_size) {
            total = combine(total, partial[k]);
        }
        total = subgroup_combine(total);
        if lane == 0u {
            store(at.y, total * p.scale);
        }
    }
}
