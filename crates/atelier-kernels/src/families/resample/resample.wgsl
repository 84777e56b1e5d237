// resample.wgsl: nearest-neighbour upsampling by integer factors and reflection padding of an
// NCHW tensor, as PyTorch's upsample_nearest2d (integer scale_factor) and reflection_pad2d.
// Both backward passes are gathers over the outputs that read an input element: no atomics.
//
// Entry points (binding 0 is always the `Params` uniform):
//   upsample_nearest2d           one invocation per output element:
//                                y[oh, ow] = x[oh / scale_h, ow / scale_w]       x@1, y@2
//   upsample_nearest2d_backward  one invocation per input element: gx[ih, iw] = the sum of gy
//                                over its scale_h x scale_w block                gy@1, gx@2
//   reflection_pad2d             one invocation per output element (OH = H + top + bottom,
//                                OW = W + left + right; each pad < the padded dimension):
//                                y[oh, ow] = x[reflect(oh - top, H), reflect(ow - left, W)],
//                                reflect(i, n) = -i below 0, 2(n-1) - i past n-1 x@1, y@2
//   reflection_pad2d_backward    one invocation per input element: gx = the sum of gy over the
//                                (up to 3 x 3) outputs that reflect onto it      gy@1, gx@2
//
// Grids above the per-dimension limit are folded into y and z (see `linear_id`).


struct Params {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    scale_h: u32,
    scale_w: u32,
    left: u32,
    right: u32,
    top: u32,
    bottom: u32,
    // n * c * h * w
    total_in: u32,
    // n * c * oh * ow
    total_out: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// forward kernels
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// backward kernels
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read_write> gx: array<f32>;


// PyTorch's reflection of i (in -(n-1) .. 2(n-1)) into 0 .. n-1, the edge not repeated.
fn reflect(i: i32, n: u32) -> u32 {
    let last = i32(n) - 1;
    if i < 0 {
        return u32(-i);
    }
    if i > last {
        return u32(2 * last - i);
    }
    return u32(i);
}

// The output positions along one axis that reflect onto input index i: the copy itself, its
// mirror in the low padding, its mirror in the high padding; -1 where there is none.
fn reflected_from(i: u32, n: u32, lo: u32, hi: u32) -> vec3<i32> {
    let ii = i32(i);
    let last = i32(n) - 1;
    var r = vec3(ii + i32(lo), -1, -1);
    // low padding: output lo - i for 1 <= i <= lo
    if ii >= 1 && ii <= i32(lo) {
        r.y = i32(lo) - ii;
    }
    // high padding: output lo + 2(n-1) - i for n-1-hi <= i <= n-2
    if ii <= last - 1 && ii >= last - i32(hi) {
        r.z = i32(lo) + 2 * last - ii;
    }
    return r;
}

@compute @workgroup_size(WG)
fn upsample_nearest2d(@builtin(workgroup_id) wid: vec3<u32>,
                      @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total_out {
        return;
    }
    let ow = i % p.ow;
    let oh = (i / p.ow) % p.oh;
    let plane = i / (p.ow * p.oh);
    y[i] = x[(plane * p.h + oh / p.scale_h) * p.w + ow / p.scale_w];
}

@compute @workgroup_size(WG)
fn upsample_nearest2d_backward(@builtin(workgroup_id) wid: vec3<u32>,
                               @builtin(num_workgroups) nwg: vec3<u32>,
                               @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total_in {
        return;
    }
    let iw = i % p.w;
    let ih = (i / p.w) % p.h;
    let plane = i / (p.w * p.h);
    var acc = 0.0;
    for (var a = 0u; a < p.scale_h; a++) {
        let row = (plane * p.oh + ih * p.scale_h + a) * p.ow + iw * p.scale_w;
        for (var b = 0u; b < p.scale_w; b++) {
            acc += gy[row + b];
        }
    }
    gx[i] = acc;
}

@compute @workgroup_size(WG)
fn reflection_pad2d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total_out {
        return;
    }
    let ow = i % p.ow;
    let oh = (i / p.ow) % p.oh;
    let plane = i / (p.ow * p.oh);
    let ih = reflect(i32(oh) - i32(p.top), p.h);
    let iw = reflect(i32(ow) - i32(p.left), p.w);
    y[i] = x[(plane * p.h + ih) * p.w + iw];
}

@compute @workgroup_size(WG)
fn reflection_pad2d_backward(@builtin(workgroup_id) wid: vec3<u32>,
                             @builtin(num_workgroups) nwg: vec3<u32>,
                             @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total_in {
        return;
    }
    let iw = i % p.w;
    let ih = (i / p.w) % p.h;
    let plane = i / (p.w * p.h);
    let rows = reflected_from(ih, p.h, p.top, p.bottom);
    let cols = reflected_from(iw, p.w, p.left, p.right);
    var acc = 0.0;
    for (var a = 0; a < 3; a++) {
        for (var b = 0; b < 3; b++) {
            if rows[a] >= 0 && cols[b] >= 0 {
                acc += gy[(plane * p.oh + u32(rows[a])) * p.ow + u32(cols[b])];
            }
        }
    }
    gx[i] = acc;
}
