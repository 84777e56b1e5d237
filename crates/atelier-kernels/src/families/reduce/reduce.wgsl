// reduce.wgsl: sum or max over chosen axes, times a scale (mean = sum with scale 1/count).
//
// The input is described as kept axes (out_shape, and the input stride of each) and reduced
// axes (red_shape, red_strides); the output is contiguous over the kept axes.
//
// Entry points (binding 0 is the `Params` uniform; x@1, out@2):
//   reduce_serial      one invocation per output element, looping over the reduced elements.
//                      Best when there are many outputs and each reduces few elements.
//   reduce_workgroup   one workgroup per output element: its WG threads stride over the
//                      reduced elements, then a tree reduction in workgroup memory.
//                      Best when each output reduces many elements (batch statistics, losses).
// op: 0 sum, 1 max. Grids above the per-dimension limit are folded into y and z.
//
// Each dispatch reduces the slice [red_begin, red_n) of the reduced elements and, when
// `accumulate` is set, combines its result with what `out` already holds: the launcher cuts
// long reductions into slices, because software Vulkan (lavapipe) silently ends a shader
// invocation's loops after 65,535 iterations in all (the scale is applied per slice, so max
// needs scale >= 0).
//
// `x_offset` is where the input starts in `x` and `out_offset` + Σ idx·out_dst_strides where
// output `idx` goes in `out`: the launcher of a reduction over tensors larger than one storage
// binding runs it in boxes of its axes, each on windows of both buffers (`crate::blocks`);
// otherwise x_offset and out_offset are 0 and out_dst_strides the output's row-major strides.


struct Params {
    out_n: u32,
    red_n: u32,
    out_rank: u32,
    red_rank: u32,
    op: u32,
    scale: f32,
    red_begin: u32,
    accumulate: u32,
    x_offset: u32,
    out_offset: u32,
    _pad0: u32,
    _pad1: u32,
    out_shape: array<vec4<u32>, 2>,
    out_strides: array<vec4<u32>, 2>,
    red_shape: array<vec4<u32>, 2>,
    red_strides: array<vec4<u32>, 2>,
    out_dst_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, WG>;


// output `i`'s place: the input offset of the first element reduced into it, and its index
// in `out`
fn locate(i: u32) -> vec2<u32> {
    var rem = i;
    var off = p.x_offset;
    var dst = p.out_offset;
    for (var a = i32(p.out_rank) - 1; a >= 0; a--) {
        let size = p.out_shape[a / 4][a % 4];
        let idx = rem % size;
        off += idx * p.out_strides[a / 4][a % 4];
        dst += idx * p.out_dst_strides[a / 4][a % 4];
        rem = rem / size;
    }
    return vec2<u32>(off, dst);
}

// offset of the j-th reduced element relative to the base
fn reduced_offset(j: u32) -> u32 {
    var rem = j;
    var off = 0u;
    for (var a = i32(p.red_rank) - 1; a >= 0; a--) {
        let size = p.red_shape[a / 4][a % 4];
        off += (rem % size) * p.red_strides[a / 4][a % 4];
        rem = rem / size;
    }
    return off;
}

fn identity() -> f32 {
    if p.op == 1u {
        return -3.4028235e38;
    }
    return 0.0;
}

fn combine(acc: f32, v: f32) -> f32 {
    if p.op == 1u {
        return max(acc, v);
    }
    return acc + v;
}

// out[i] = v, or combined with the earlier slices' result (`i` from `locate`)
fn store(i: u32, v: f32) {
    if p.accumulate != 0u {
        out[i] = combine(out[i], v);
    } else {
        out[i] = v;
    }
}

@compute @workgroup_size(WG)
fn reduce_serial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = group_id(wid, nwg) * WG + lid.x;
    if i >= p.out_n {
        return;
    }
    let at = locate(i);
    var acc = identity();
    for (var j = p.red_begin; j < p.red_n; j++) {
        acc = combine(acc, x[at.x + reduced_offset(j)]);
    }
    store(at.y, acc * p.scale);
}

@compute @workgroup_size(WG)
fn reduce_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
    // the whole workgroup works on output i, so this return (for the padding workgroups of a
    // folded grid) is uniform and every remaining thread reaches the barriers
    let i = group_id(wid, nwg);
    if i >= p.out_n {
        return;
    }
    let at = locate(i);
    var acc = identity();
    for (var j = p.red_begin + lid.x; j < p.red_n; j += WG) {
        acc = combine(acc, x[at.x + reduced_offset(j)]);
    }
    partial[lid.x] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid.x < stride {
            partial[lid.x] = combine(partial[lid.x], partial[lid.x + stride]);
        }
        workgroupBarrier();
    }
    if lid.x == 0u {
        store(at.y, partial[0] * p.scale);
    }
}
