// translate.wgsl: per-image translation of an NCHW tensor with zero fill (DiffAugment's
// `rand_translation`), one invocation per output element; its backward pass is the same
// gather with the shifts negated (a translation maps each in-range element to one place).
//
// Entry point (binding 0 is the `Params` uniform):
//   translate2d   y[n, c, i, j] = x[n, c, i + s * dy[n], j + s * dx[n]], 0 where that is outside
//                 the image; dy, dx are whole numbers stored as f32 in shifts[n * 2 + 0 / 1],
//                 s = +1 forward, -1 for the gradient          x@1, shifts@2, y@3
//
// Grids above the per-dimension limit are folded into y and z (see `linear_id`).

struct Params {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    // n * c * h * w
    total: u32,
    // +1: the translation; -1: its inverse (the backward pass)
    sign: i32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> shifts: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn translate2d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total {
        return;
    }
    let col = i % p.w;
    let row = (i / p.w) % p.h;
    let plane = i / (p.w * p.h);
    let img = plane / p.c;
    let dy = p.sign * i32(round(shifts[img * 2u]));
    let dx = p.sign * i32(round(shifts[img * 2u + 1u]));
    let sr = i32(row) + dy;
    let sc = i32(col) + dx;
    var v = 0.0;
    if sr >= 0 && sr < i32(p.h) && sc >= 0 && sc < i32(p.w) {
        v = x[(plane * p.h + u32(sr)) * p.w + u32(sc)];
    }
    y[i] = v;
}
