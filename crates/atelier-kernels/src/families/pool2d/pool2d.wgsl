// pool2d.wgsl: 2-D max and average pooling of an NCHW tensor, as PyTorch's max_pool2d and
// avg_pool2d with dilation 1, ceil_mode false, padding <= kernel / 2, and (average)
// count_include_pad true. Output size: OH = (H + 2*ph - kh) / sh + 1, OW likewise. The window of
// output (oh, ow) covers input rows oh*sh - ph .. oh*sh - ph + kh - 1 (columns likewise);
// padded positions are -inf for max and 0 for average.
//
// Entry points (binding 0 is always the `Params` uniform):
//   max_pool2d           one invocation per output element: y = the window's maximum,
//                        argmax = its index ih*W + iw in the input plane (u32; the first
//                        maximum in row-major order on ties)
//                          x@1, y@2, argmax@3
//   max_pool2d_backward  one invocation per input element: gx = the sum of gy over the
//                        outputs whose window contains it and whose argmax it is (a gather over
//                        those windows: no atomics, no races)
//                          gy@1, argmax@2, gx@3
//   avg_pool2d           one invocation per output element: y = window sum / divisor, where
//                        divisor = kh*kw clipped to the padded input as PyTorch does
//                          x@1, y@2
//   avg_pool2d_backward  one invocation per input element: gx = the sum of gy / divisor over
//                        the outputs whose window contains it (gather)
//                          gy@1, gx@2
//
// Grids above the per-dimension limit are folded into y and z (see `linear_id`).


struct Params {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    kh: u32,
    kw: u32,
    sh: u32,
    sw: u32,
    ph: u32,
    pw: u32,
    // n * c * h * w
    total_in: u32,
    // n * c * oh * ow
    total_out: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// max_pool2d, avg_pool2d
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax_out: array<u32>;

// max_pool2d_backward, avg_pool2d_backward
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<u32>;
@group(0) @binding(3) var<storage, read_write> max_gx: array<f32>;
@group(0) @binding(2) var<storage, read_write> avg_gx: array<f32>;


// The rows [lo, hi) of the window starting at `start` (may be negative) of size k that lie
// inside 0 .. size.
fn clipped(start: i32, k: u32, size: u32) -> vec2<u32> {
    return vec2(u32(max(start, 0)), u32(min(start + i32(k), i32(size))));
}

// The outputs o in [lo, hi] whose window (start o*s - pad, size k) contains input index i,
// clipped to 0 .. out - 1; empty when lo > hi.
fn windows_containing(i: u32, k: u32, s: u32, pad: u32, out: u32) -> vec2<i32> {
    // o*s - pad <= i  and  i <= o*s - pad + k - 1
    let first = i32(i + pad) - i32(k) + 1;
    var lo = 0;
    if first > 0 {
        lo = (first + i32(s) - 1) / i32(s);
    }
    let hi = min(i32(i + pad) / i32(s), i32(out) - 1);
    return vec2(lo, hi);
}

// PyTorch's avg_pool2d divisor with count_include_pad: the window clipped to the padded input.
fn avg_divisor(oh: u32, ow: u32) -> f32 {
    let h0 = i32(oh * p.sh) - i32(p.ph);
    let w0 = i32(ow * p.sw) - i32(p.pw);
    let h1 = min(h0 + i32(p.kh), i32(p.h + p.ph));
    let w1 = min(w0 + i32(p.kw), i32(p.w + p.pw));
    return f32((h1 - h0) * (w1 - w0));
}

@compute @workgroup_size(WG)
fn max_pool2d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total_out {
        return;
    }
    let ow = i % p.ow;
    let oh = (i / p.ow) % p.oh;
    let plane = (i / (p.ow * p.oh)) * p.h * p.w;
    let rows = clipped(i32(oh * p.sh) - i32(p.ph), p.kh, p.h);
    let cols = clipped(i32(ow * p.sw) - i32(p.pw), p.kw, p.w);
    // padding <= kernel / 2 leaves every window at least one input element
    var best_idx = rows.x * p.w + cols.x;
    var best = x[plane + best_idx];
    for (var ih = rows.x; ih < rows.y; ih++) {
        for (var iw = cols.x; iw < cols.y; iw++) {
            let v = x[plane + ih * p.w + iw];
            if v > best {
                best = v;
                best_idx = ih * p.w + iw;
            }
        }
    }
    y[i] = best;
    argmax_out[i] = best_idx;
}

@compute @workgroup_size(WG)
fn max_pool2d_backward(@builtin(workgroup_id) wid: vec3<u32>,
                       @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total_in {
        return;
    }
    let iw = i % p.w;
    let ih = (i / p.w) % p.h;
    let out_plane = (i / (p.w * p.h)) * p.oh * p.ow;
    let me = ih * p.w + iw;
    let rows = windows_containing(ih, p.kh, p.sh, p.ph, p.oh);
    let cols = windows_containing(iw, p.kw, p.sw, p.pw, p.ow);
    var acc = 0.0;
    for (var oh = rows.x; oh <= rows.y; oh++) {
        for (var ow = cols.x; ow <= cols.y; ow++) {
            let o = out_plane + u32(oh) * p.ow + u32(ow);
            if argmax[o] == me {
                acc += gy[o];
            }
        }
    }
    max_gx[i] = acc;
}

@compute @workgroup_size(WG)
fn avg_pool2d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total_out {
        return;
    }
    let ow = i % p.ow;
    let oh = (i / p.ow) % p.oh;
    let plane = (i / (p.ow * p.oh)) * p.h * p.w;
    let rows = clipped(i32(oh * p.sh) - i32(p.ph), p.kh, p.h);
    let cols = clipped(i32(ow * p.sw) - i32(p.pw), p.kw, p.w);
    var acc = 0.0;
    for (var ih = rows.x; ih < rows.y; ih++) {
        for (var iw = cols.x; iw < cols.y; iw++) {
            acc += x[plane + ih * p.w + iw];
        }
    }
    y[i] = acc / avg_divisor(oh, ow);
}

@compute @workgroup_size(WG)
fn avg_pool2d_backward(@builtin(workgroup_id) wid: vec3<u32>,
                       @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total_in {
        return;
    }
    let iw = i % p.w;
    let ih = (i / p.w) % p.h;
    let out_plane = (i / (p.w * p.h)) * p.oh * p.ow;
    let rows = windows_containing(ih, p.kh, p.sh, p.ph, p.oh);
    let cols = windows_containing(iw, p.kw, p.sw, p.pw, p.ow);
    var acc = 0.0;
    for (var oh = rows.x; oh <= rows.y; oh++) {
        for (var ow = cols.x; ow <= cols.y; ow++) {
            let o = out_plane + u32(oh) * p.ow + u32(ow);
            acc += gy[o] / avg_divisor(u32(oh), u32(ow));
        }
    }
    avg_gx[i] = acc;
}
