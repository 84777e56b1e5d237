// elementwise.wgsl: pointwise kernels. One invocation computes one output element.
//
// Entry points (binding 0 is always the `Params` uniform):
//   fill              out[i] = p.alpha                                  out@1
//   unary             out[i] = f_op(x[i]; alpha)                        x@1, out@2
//   unary_backward    gx[i]  = gy[i] * f_op'(x[i]; alpha)               x@1, gy@2, gx@3
//   binary            out[i] = a[i] (op) b[i], same shapes, contiguous  a@1, b@2, out@3
//   binary_broadcast  out[io] = a[ia] (op) b[ib], with ia, ib, io from the
//                     output's multi-index, per-operand strides
//                     (stride 0 on a broadcast axis) and offsets, rank <= 8
//                     (io = i, offsets 0, but in the boxes of a tensor larger
//                     than one binding: see `crate::blocks`)          a@1, b@2, out@3
//
// The ops themselves (`unary_op`, `unary_derivative`, `binary_op`, switching on OP) are
// generated from the op table in ops.rs and joined after this file; the helpers they call
// are below.
//
// Grids above the per-dimension limit are folded into y and z (see `linear_id`).

// The op code (unary, unary_backward, binary, binary_broadcast): a pipeline constant, so each
// op compiles to its own pipeline and the switch below folds away. Reading it from the
// uniform instead costs 3x on a CPU adapter, which cannot skip the other cases.
override OP: u32 = 0u;
// binary_broadcast's rank, a pipeline constant too: the index loop then unrolls and its
// shape and stride lookups become constant indices.
override RANK: u32 = 1u;

struct Params {
    n: u32,
    op: u32, // the op code again (the shader reads the OP constant; kept for the layout)
    alpha: f32,
    _pad: u32,
}

struct BroadcastParams {
    n: u32,
    op: u32,   // as OP (unused here)
    rank: u32, // as RANK (unused here)
    a_offset: u32,
    b_offset: u32,
    out_offset: u32,
    _pad0: u32,
    _pad1: u32,
    shape: array<vec4<u32>, 2>,
    a_strides: array<vec4<u32>, 2>,
    b_strides: array<vec4<u32>, 2>,
    out_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(0) var<uniform> pb: BroadcastParams;

@group(0) @binding(1) var<storage, read_write> fill_out: array<f32>;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> unary_out: array<f32>;

@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> binary_out: array<f32>;


fn stable_tanh(v: f32) -> f32 {
    let x = abs(v);
    // 1 - 2 / (e^{2|v|} + 1) never overflows to inf/inf, but near 0 it subtracts two numbers
    // close to 1, a relative error of about 1e-7 / |v| (1e-4 at 1e-3): there the Taylor
    // series, whose next term (62/2835 x^9) is below f32 precision for x < 0.1
    let x2 = x * x;
    let series = x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
    let t = select(1.0 - 2.0 / (exp(2.0 * x) + 1.0), series, x < 0.1);
    return select(-t, t, v >= 0.0);
}

fn stable_sigmoid(v: f32) -> f32 {
    if v >= 0.0 {
        return 1.0 / (1.0 + exp(-v));
    }
    let e = exp(v);
    return e / (1.0 + e);
}

// 1 - tanh(v)^2 = 4 e^{-2|v|} / (1 + e^{-2|v|})^2: no cancellation where tanh(v) is near ±1
fn tanh_derivative(v: f32) -> f32 {
    let e = exp(-2.0 * abs(v));
    return 4.0 * e / ((1.0 + e) * (1.0 + e));
}

// s(v) (1 - s(v)) = e^{-|v|} / (1 + e^{-|v|})^2: no cancellation where s(v) is near 1
fn sigmoid_derivative(v: f32) -> f32 {
    let e = exp(-abs(v));
    return e / ((1.0 + e) * (1.0 + e));
}

fn softplus(v: f32) -> f32 {
    // log(1 + e^v); below -15 the log(1 + tiny) would round to 0, so use e^v itself
    if v < -15.0 {
        return exp(v);
    }
    return max(v, 0.0) + log(1.0 + exp(-abs(v)));
}

fn power(v: f32, e: f32) -> f32 {
    if e == 2.0 {
        return v * v;
    }
    if e == 1.0 {
        return v;
    }
    // WGSL's pow is undefined for v < 0; integer exponents keep their sign rule
    let r = pow(abs(v), e);
    if v < 0.0 && e == round(e) && (i32(e) & 1) == 1 {
        return -r;
    }
    return r;
}

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i < p.n {
        fill_out[i] = p.alpha;
    }
}

@compute @workgroup_size(WG)
fn unary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i < p.n {
        unary_out[i] = unary_op(x[i], p.alpha);
    }
}

@compute @workgroup_size(WG)
fn unary_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i < p.n {
        gx[i] = gy[i] * unary_derivative(x[i], p.alpha);
    }
}

@compute @workgroup_size(WG)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i < p.n {
        binary_out[i] = binary_op(a[i], b[i]);
    }
}

@compute @workgroup_size(WG)
fn binary_broadcast(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= pb.n {
        return;
    }
    // peel the output's multi-index off from the innermost axis outwards
    var rem = i;
    var ia = pb.a_offset;
    var ib = pb.b_offset;
    var io = pb.out_offset;
    for (var d = i32(RANK) - 1; d >= 0; d--) {
        let size = pb.shape[d / 4][d % 4];
        let idx = rem % size;
        rem = rem / size;
        ia += idx * pb.a_strides[d / 4][d % 4];
        ib += idx * pb.b_strides[d / 4][d % 4];
        io += idx * pb.out_strides[d / 4][d % 4];
    }
    binary_out[io] = binary_op(a[ia], b[ib]);
}
