// layout.wgsl: strided copies. One invocation copies one element.
//
// Entry point (binding 0 is the `Params` uniform):
//   copy_strided   for every multi-index idx of `shape` (rank <= 8):
//                  dst[dst_offset + Σ idx_d * dst_strides_d] = src[src_offset + Σ idx_d * src_strides_d]
//                    src@1, dst@2
// One kernel serves permute (permuted source strides), slice (a source offset), concat (a
// destination offset into a larger output), broadcast expansion (source stride 0) and the
// gradient of slice (a destination region of a zero tensor). Only covered elements are written.
// Grids above the per-dimension limit are folded into y and z (see `linear_id`).


struct Params {
    n: u32,
    rank: u32,
    src_offset: u32,
    dst_offset: u32,
    shape: array<vec4<u32>, 2>,
    src_strides: array<vec4<u32>, 2>,
    dst_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;


@compute @workgroup_size(WG)
fn copy_strided(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.n {
        return;
    }
    var rem = i;
    var s = p.src_offset;
    var d = p.dst_offset;
    for (var a = i32(p.rank) - 1; a >= 0; a--) {
        let size = p.shape[a / 4][a % 4];
        let idx = rem % size;
        rem = rem / size;
        s += idx * p.src_strides[a / 4][a % 4];
        d += idx * p.dst_strides[a / 4][a % 4];
    }
    dst[d] = src[s];
}
