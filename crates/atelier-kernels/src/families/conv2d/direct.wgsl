// direct.wgsl: 2-D convolution, direct variant: one invocation per output element, the
// readable baseline. The fast variant is implicit_gemm.wgsl (same bindings).
//
// Layouts (PyTorch's): x [N, C, H, W], weight [K, C, R, S], y [N, K, P, Q], bias [K].
//   y[n,k,p,q] = bias[k] + sum_{c,r,s} x[n, c, p*stride_h - pad_h + r*dil_h,
//                                             q*stride_w - pad_w + s*dil_w] * weight[k,c,r,s]
// (x outside [0,H) x [0,W) is zero padding).
//
// Entry points (binding 0 is always the `Params` uniform):
//   forward_direct          y[n,k,p,q]   one invocation each   x@1, weight@2, bias@3, y@4
//   backward_data_direct    gx[n,c,h,w]  one invocation each   gy@1, weight@2, bias@3, gx@4
//                           gx = sum over the (k, r, s) whose tap lands on (h, w); plus bias[c]
//                           when has_bias (that is conv_transpose2d's forward with its bias)
//   backward_weight_direct  gw[k,c,r,s]  one invocation each   x@1, gy@2, gw@3
//                           gw = sum_{n,p,q} gy[n,k,p,q] * x[n, c, tap(p, r), tap(q, s)]
//   channel_sum             gb[k] = sum_{n,i} gy[n,k,i] for i < P*Q; one workgroup per k,
//                           a tree reduction in workgroup memory    gy@1, gb@2
//
// When has_bias is 0 the launcher binds the weight at bias@3 and it is never read.
// Grids above the per-dimension limit are folded into y and z (see `linear_id`).


struct Params {
    n: u32, c: u32, h: u32, w: u32,
    k: u32, r: u32, s: u32, p: u32,
    q: u32, stride_h: u32, stride_w: u32, pad_h: u32,
    pad_w: u32, dil_h: u32, dil_w: u32, has_bias: u32,
    // used by implicit_gemm.wgsl only (one Params struct for both files)
    split_len: u32, splits: u32, len: u32, _pad: u32,
}

@group(0) @binding(0) var<uniform> prm: Params;

// forward_direct
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
// backward_data_direct (weight@2 and bias@3 as above)
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;
// backward_weight_direct (x@1 as above)
@group(0) @binding(2) var<storage, read> gy_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> gw: array<f32>;
// channel_sum (gy@1 as above)
@group(0) @binding(2) var<storage, read_write> gb: array<f32>;


// The input coordinate that output position `o` reads through kernel tap `t` (may be negative
// or past the edge, which is padding).
fn tap(o: u32, t: u32, stride: u32, pad: u32, dil: u32) -> i32 {
    return i32(o * stride + t * dil) - i32(pad);
}

// The output position whose tap `t` lands on input coordinate `i`, or -1 when none does
// (between two strided positions, or outside [0, out_len)).
fn tapped_by(i: u32, t: u32, stride: u32, pad: u32, dil: u32, out_len: u32) -> i32 {
    let scaled = i32(i + pad) - i32(t * dil);
    if scaled < 0 || scaled % i32(stride) != 0 {
        return -1;
    }
    let o = scaled / i32(stride);
    return select(-1, o, o < i32(out_len));
}

@compute @workgroup_size(WG)
fn forward_direct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= prm.n * prm.k * prm.p * prm.q {
        return;
    }
    let q = i % prm.q;
    let p = (i / prm.q) % prm.p;
    let k = (i / (prm.q * prm.p)) % prm.k;
    let n = i / (prm.q * prm.p * prm.k);
    var acc = 0.0;
    for (var c = 0u; c < prm.c; c++) {
        let x_plane = (n * prm.c + c) * prm.h * prm.w;
        let w_plane = (k * prm.c + c) * prm.r * prm.s;
        for (var r = 0u; r < prm.r; r++) {
            let ih = tap(p, r, prm.stride_h, prm.pad_h, prm.dil_h);
            if ih < 0 || ih >= i32(prm.h) {
                continue;
            }
            for (var s = 0u; s < prm.s; s++) {
                let iw = tap(q, s, prm.stride_w, prm.pad_w, prm.dil_w);
                if iw < 0 || iw >= i32(prm.w) {
                    continue;
                }
                acc += x[x_plane + u32(ih) * prm.w + u32(iw)] * weight[w_plane + r * prm.s + s];
            }
        }
    }
    if prm.has_bias != 0u {
        acc += bias[k];
    }
    y[i] = acc;
}

@compute @workgroup_size(WG)
fn backward_data_direct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= prm.n * prm.c * prm.h * prm.w {
        return;
    }
    let iw = i % prm.w;
    let ih = (i / prm.w) % prm.h;
    let c = (i / (prm.w * prm.h)) % prm.c;
    let n = i / (prm.w * prm.h * prm.c);
    var acc = 0.0;
    for (var r = 0u; r < prm.r; r++) {
        let p = tapped_by(ih, r, prm.stride_h, prm.pad_h, prm.dil_h, prm.p);
        if p < 0 {
            continue;
        }
        for (var s = 0u; s < prm.s; s++) {
            let q = tapped_by(iw, s, prm.stride_w, prm.pad_w, prm.dil_w, prm.q);
            if q < 0 {
                continue;
            }
            for (var k = 0u; k < prm.k; k++) {
                let gy_at = ((n * prm.k + k) * prm.p + u32(p)) * prm.q + u32(q);
                let w_at = ((k * prm.c + c) * prm.r + r) * prm.s + s;
                acc += gy[gy_at] * weight[w_at];
            }
        }
    }
    if prm.has_bias != 0u {
        acc += bias[c];
    }
    gx[i] = acc;
}

@compute @workgroup_size(WG)
fn backward_weight_direct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= prm.k * prm.c * prm.r * prm.s {
        return;
    }
    let s = i % prm.s;
    let r = (i / prm.s) % prm.r;
    let c = (i / (prm.s * prm.r)) % prm.c;
    let k = i / (prm.s * prm.r * prm.c);
    var acc = 0.0;
    for (var n = 0u; n < prm.n; n++) {
        let x_plane = (n * prm.c + c) * prm.h * prm.w;
        let gy_plane = (n * prm.k + k) * prm.p * prm.q;
        for (var p = 0u; p < prm.p; p++) {
            let ih = tap(p, r, prm.stride_h, prm.pad_h, prm.dil_h);
            if ih < 0 || ih >= i32(prm.h) {
                continue;
            }
            for (var q = 0u; q < prm.q; q++) {
                let iw = tap(q, s, prm.stride_w, prm.pad_w, prm.dil_w);
                if iw < 0 || iw >= i32(prm.w) {
                    continue;
                }
                acc += gy_w[gy_plane + p * prm.q + q] * x[x_plane + u32(ih) * prm.w + u32(iw)];
            }
        }
    }
    gw[i] = acc;
}

var<workgroup> partial: array<f32, WG>;

// Uses prm.n (batch), prm.k (channels) and prm.p * prm.q (elements per channel plane).
@compute @workgroup_size(WG)
fn channel_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
    // one workgroup per channel; the grid may be folded, so every workgroup stays for the
    // barriers and only the real channels write
    let k = wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
    let plane = prm.p * prm.q;
    var acc = 0.0;
    if k < prm.k {
        for (var j = lid.x; j < prm.n * plane; j += WG) {
            let n = j / plane;
            acc += gy[(n * prm.k + k) * plane + j % plane];
        }
    }
    partial[lid.x] = acc;
    workgroupBarrier();
    for (var half = WG / 2u; half > 0u; half /= 2u) {
        if lid.x < half {
            partial[lid.x] += partial[lid.x + half];
        }
        workgroupBarrier();
    }
    if lid.x == 0u && k < prm.k {
        gb[k] = partial[0];
    }
}
