// optim.wgsl: fused optimizer steps, PyTorch's semantics. One dispatch updates one parameter
// tensor in place; one invocation updates one element (parameter and its optimizer state).
//
// Entry points (binding 0 is always the params uniform):
//   adam   torch.optim.Adam / AdamW                        p@1 (rw), g@2, m@3 (rw), v@4 (rw)
//            p  = p * param_scale                 (AdamW's decoupled decay; 1 for Adam)
//            g' = g + grad_decay * p              (Adam's L2 decay; 0 for AdamW)
//            m  = beta1 * m + (1 - beta1) * g'
//            v  = beta2 * v + (1 - beta2) * g'^2
//            p  = p - step_size * m / (sqrt(v) / sqrt_bc2 + eps)     (eps outside the sqrt)
//          with step_size = lr / (1 - beta1^t) and sqrt_bc2 = sqrt(1 - beta2^t), computed on
//          the host in f64 so the kernel has no pow.
//   sgd    torch.optim.SGD                                 p@1 (rw), g@2, buf@3 (rw)
//            d = g + weight_decay * p
//            if momentum != 0:
//              buf = first_step ? d : momentum * buf + (1 - dampening) * d
//              d   = nesterov ? d + momentum * buf : buf
//            p = p - lr * d
//          buf is never touched when momentum is 0.
//
// Grids above the per-dimension limit are folded into y and z (see `linear_id`).


// AdamParams: adam_params.wgsl, joined before this file

struct SgdParams {
    n: u32,
    // bit 0: momentum on, bit 1: first step (buf starts as d), bit 2: nesterov
    flags: u32,
    lr: f32,
    weight_decay: f32,
    momentum: f32,
    one_minus_dampening: f32,
    _pad0: f32,
    _pad1: f32,
}

const SGD_MOMENTUM: u32 = 1u;
const SGD_FIRST_STEP: u32 = 2u;
const SGD_NESTEROV: u32 = 4u;

@group(0) @binding(0) var<uniform> pa: AdamParams;
@group(0) @binding(0) var<uniform> ps: SgdParams;

@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;

@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@group(0) @binding(3) var<storage, read_write> buf: array<f32>;


@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= pa.n {
        return;
    }
    let pi = p[i] * pa.param_scale;
    let gi = g[i] + pa.grad_decay * pi;
    let mi = pa.beta1 * m[i] + pa.one_minus_beta1 * gi;
    let vi = pa.beta2 * v[i] + pa.one_minus_beta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - pa.step_size * mi / (sqrt(vi) / pa.sqrt_bc2 + pa.eps);
}

@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= ps.n {
        return;
    }
    let pi = p[i];
    var d = g[i] + ps.weight_decay * pi;
    if (ps.flags & SGD_MOMENTUM) != 0u {
        var b = d;
        if (ps.flags & SGD_FIRST_STEP) == 0u {
            b = ps.momentum * buf[i] + ps.one_minus_dampening * d;
        }
        buf[i] = b;
        if (ps.flags & SGD_NESTEROV) != 0u {
            d = d + ps.momentum * b;
        } else {
            d = b;
        }
    }
    p[i] = pi - ps.lr * d;
}
