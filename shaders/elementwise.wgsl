// elementwise.wgsl: pointwise kernels. One invocation computes one output element.
//
// Entry points (binding 0 is always the `Params` uniform):
//   fill              out[i] = p.alpha                                  out@1
//   unary             out[i] = f_op(x[i]; alpha)                        x@1, out@2
//   unary_backward    gx[i]  = gy[i] * f_op'(x[i]; alpha)               x@1, gy@2, gx@3
//   binary            out[i] = a[i] (op) b[i], same shapes, contiguous  a@1, b@2, out@3
//   binary_broadcast  out[i] = a[ia] (op) b[ib], with ia, ib from the
//                     output's multi-index and per-operand strides
//                     (stride 0 on a broadcast axis), rank <= 8        a@1, b@2, out@3
//
// Unary op codes (crate atelier-kernels, kernels::elementwise::UnaryOp):
//   0 neg, 1 exp, 2 log, 3 sqrt, 4 abs, 5 relu, 6 leaky_relu(alpha), 7 tanh, 8 sigmoid,
//   9 softplus, 10 pow(alpha), 11 add_scalar(alpha), 12 mul_scalar(alpha)
// Binary op codes (BinaryOp): 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min, 6 eq, 7 gt
//
// Grids above the per-dimension limit are folded into y and z (see `linear_id`).

override WG: u32 = 256;
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
    _pad: u32,
    shape: array<vec4<u32>, 2>,
    a_strides: array<vec4<u32>, 2>,
    b_strides: array<vec4<u32>, 2>,
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

fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
    return (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * WG + lid.x;
}

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

fn apply_unary(op: u32, v: f32, alpha: f32) -> f32 {
    switch op {
        case 0u: { return -v; }
        case 1u: { return exp(v); }
        case 2u: { return log(v); }
        case 3u: { return sqrt(v); }
        case 4u: { return abs(v); }
        case 5u: { return max(v, 0.0); }
        case 6u: { return select(alpha * v, v, v > 0.0); }
        case 7u: { return stable_tanh(v); }
        case 8u: { return stable_sigmoid(v); }
        case 9u: { return softplus(v); }
        case 10u: { return power(v, alpha); }
        case 11u: { return v + alpha; }
        case 12u: { return v * alpha; }
        default: { return 0.0; }
    }
}

// d f_op / d v
fn unary_derivative(op: u32, v: f32, alpha: f32) -> f32 {
    switch op {
        case 0u: { return -1.0; }
        case 1u: { return exp(v); }
        case 2u: { return 1.0 / v; }
        case 3u: { return 0.5 / sqrt(v); }
        case 4u: { return sign(v); }
        case 5u: { return select(0.0, 1.0, v > 0.0); }
        case 6u: { return select(alpha, 1.0, v > 0.0); }
        case 7u: { let t = stable_tanh(v); return 1.0 - t * t; }
        case 8u: { let s = stable_sigmoid(v); return s * (1.0 - s); }
        case 9u: { return stable_sigmoid(v); }
        case 10u: { return alpha * power(v, alpha - 1.0); }
        case 11u: { return 1.0; }
        case 12u: { return alpha; }
        default: { return 0.0; }
    }
}

fn apply_binary(op: u32, l: f32, r: f32) -> f32 {
    switch op {
        case 0u: { return l + r; }
        case 1u: { return l - r; }
        case 2u: { return l * r; }
        case 3u: { return l / r; }
        case 4u: { return max(l, r); }
        case 5u: { return min(l, r); }
        case 6u: { return select(0.0, 1.0, l == r); }
        case 7u: { return select(0.0, 1.0, l > r); }
        default: { return 0.0; }
    }
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
        unary_out[i] = apply_unary(OP, x[i], p.alpha);
    }
}

@compute @workgroup_size(WG)
fn unary_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i < p.n {
        gx[i] = gy[i] * unary_derivative(OP, x[i], p.alpha);
    }
}

@compute @workgroup_size(WG)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i < p.n {
        binary_out[i] = apply_binary(OP, a[i], b[i]);
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
    var ia = 0u;
    var ib = 0u;
    for (var d = i32(RANK) - 1; d >= 0; d--) {
        let size = pb.shape[d / 4][d % 4];
        let idx = rem % size;
        rem = rem / size;
        ia += idx * pb.a_strides[d / 4][d % 4];
        ib += idx * pb.b_strides[d / 4][d % 4];
    }
    binary_out[i] = apply_binary(OP, a[ia], b[ib]);
}
