// peak.wgsl: the machine's own ceilings, which the benchmark suite measures before anything
// else (the roofline's flat roof and its slope).
//
// Entry points (binding 0 is always the `Params` uniform):
//   fma_peak   out[i] = the sum of the lanes of 8 independent vec4 chains, each stepped
//              c = fma(c, a, b) UNROLL * iters times                      out@1
//              One invocation per output. The chains live in registers and touch no memory
//              until the one store, so the kernel is bound by FMA issue: 8 chains x 4 lanes
//              give every lane 8 independent FMAs in flight, enough to hide FMA latency.
//              a and b come from the uniform (the compiler cannot fold them); with |a| < 1
//              every chain converges to b / (1 - a), so values stay normal and finite.
//              FLOPs per invocation: 2 (mul + add) x 4 lanes x 8 chains x UNROLL x iters.
//   copy_vec4  dst[i] = src[i] for vec4 i < n4: 16 bytes read and 16 written each
//              src@1, dst@2 (GpuBuffers are padded to 16 bytes, so a partial last vec4 is
//              in bounds)
//
// Grids above the per-dimension limit are folded into y and z (see `linear_id`). `iters`
// stays small enough for software Vulkan's loop cutoff (llvmpipe ends a shader's loops after
// about 65,535 iterations in all); the launcher caps it.

const UNROLL: u32 = 4u;

struct Params {
    // fma_peak: outputs and steps; copy_vec4: n = vec4s to copy
    n: u32,
    iters: u32,
    a: f32,
    b: f32,
}

@group(0) @binding(0) var<uniform> prm: Params;

// fma_peak
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
// copy_vec4
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;


@compute @workgroup_size(WG)
fn fma_peak(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= prm.n {
        return;
    }
    let a = vec4<f32>(prm.a);
    let b = vec4<f32>(prm.b);
    // distinct starting values per invocation, lane and chain
    let start = vec4<f32>(0.0, 0.25, 0.5, 0.75) + f32(i % 1024u) * 0.001;
    var c0 = start;
    var c1 = start + 0.125;
    var c2 = start + 0.25;
    var c3 = start + 0.375;
    var c4 = start + 0.5;
    var c5 = start + 0.625;
    var c6 = start + 0.75;
    var c7 = start + 0.875;
    for (var it = 0u; it < prm.iters; it++) {
        for (var u = 0u; u < UNROLL; u++) {
            c0 = fma(c0, a, b);
            c1 = fma(c1, a, b);
            c2 = fma(c2, a, b);
            c3 = fma(c3, a, b);
            c4 = fma(c4, a, b);
            c5 = fma(c5, a, b);
            c6 = fma(c6, a, b);
            c7 = fma(c7, a, b);
        }
    }
    let sum = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7));
    out[i] = (sum.x + sum.y) + (sum.z + sum.w);
}

@compute @workgroup_size(WG)
fn copy_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i < prm.n {
        dst[i] = src[i];
    }
}
