// loss.wgsl: a loss and its gradient in one dispatch.
//
// Entry points (binding 0 is the Params uniform):
//   bce_with_logits   one workgroup of LOSS_WG invocations      x@1, t@2, loss@3, grad@4
//     loss[0] = mean_i  max(x_i, 0) - x_i * t_i + log(1 + exp(-|x_i|))
//               (PyTorch's binary_cross_entropy_with_logits, mean reduction, stable for any x)
//     grad[i] = (sigmoid(x_i) - t_i) / n          (d loss / d x_i)
//
// One workgroup: the loss of a GAN's discriminator sees one logit per image (or a patch map
// of a few thousand), so a single pass with a strided loop and one tree reduction is enough,
// and the mean needs no second dispatch.

const LOSS_WG: u32 = 256u;

struct Params {
    n: u32,
    inv_n: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

var<workgroup> partial: array<f32, LOSS_WG>;

// log(1 + v) accurate for tiny v (Kahan's trick; WGSL has no log1p): a confident, correct
// logit's loss is log(1 + exp(-|x|)) alone, 1e-14 at |x| = 32, which log(1.0 + v) rounds to 0
fn log1p(v: f32) -> f32 {
    let u = 1.0 + v;
    if u == 1.0 {
        return v;
    }
    return log(u) * v / (u - 1.0);
}

// sigmoid(v) - t without overflow (exp of a non-positive number only) and without the
// cancellation of 1 - 1e-16 when a confident logit meets its target: for v >= 0,
// sigmoid(v) = 1 - e/(1 + e) with e = exp(-v), so the difference is (1 - t) - e/(1 + e)
fn sigmoid_minus(v: f32, t: f32) -> f32 {
    let e = exp(-abs(v));
    let small = e / (1.0 + e);
    return select(small - t, (1.0 - t) - small, v >= 0.0);
}

@compute @workgroup_size(LOSS_WG)
fn bce_with_logits(@builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    var sum = 0.0;
    for (var i = lid; i < prm.n; i += LOSS_WG) {
        let xi = x[i];
        let ti = t[i];
        sum += max(xi, 0.0) - xi * ti + log1p(exp(-abs(xi)));
        grad[i] = sigmoid_minus(xi, ti) * prm.inv_n;
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var half = LOSS_WG / 2u; half > 0u; half /= 2u) {
        if lid < half {
            partial[lid] += partial[lid + half];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        loss[0] = partial[0] * prm.inv_n;
    }
}
