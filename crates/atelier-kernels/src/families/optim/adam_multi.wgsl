// adam_multi.wgsl: Adam (torch.optim.Adam / AdamW) on many parameter tensors in one dispatch,
// as PyTorch's multi-tensor (`foreach`) Adam: the same per-element update as optim.wgsl's
// `adam`, here over a list of tensors.
//
// The moments of all the tensors live in two flat buffers, m and v, each tensor's at its own
// offset (see optim/multi.rs: `AdamGroup`). The parameters and gradients are the tensors'
// own buffers, bound one pair per slot (SLOTS of them, generated below: WGSL has no arrays of
// buffers, so the slot is picked by a `switch`). The work is cut into chunks of at most CHUNK
// elements of one tensor; one workgroup updates one chunk, described by one row of `chunks`:
//   (slot, first element in the tensor, elements, where the tensor's moments start in m, v)
// so every invocation of a workgroup takes the same `switch` case.
//
//   adam_multi   chunks@1, m@2 (rw), v@3 (rw), then p_s@(4 + 2s) (rw), g_s@(5 + 2s)
//                for s < SLOTS; pa.n is the number of chunks (workgroups).
//                Per element i of slot s, with j = its moments' index:
//                  p  = p * param_scale
//                  g' = g + grad_decay * p
//                  m[j] = beta1 * m[j] + (1 - beta1) * g'
//                  v[j] = beta2 * v[j] + (1 - beta2) * g'^2
//                  p  = p - step_size * m[j] / (sqrt(v[j]) / sqrt_bc2 + eps)
//
// Grids above the per-dimension limit are folded into y and z (see `group_id`).

// AdamParams: adam_params.wgsl, joined before this file

@group(0) @binding(0) var<uniform> pa: AdamParams;
@group(0) @binding(1) var<storage, read> chunks: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;

//@SLOT_BINDINGS

// The updated parameter from its old value `p_old` and gradient `g_in`; updates the moments
// at j.
fn adam_element(p_old: f32, g_in: f32, j: u32) -> f32 {
    let pi = p_old * pa.param_scale;
    let gi = g_in + pa.grad_decay * pi;
    let mi = pa.beta1 * m[j] + pa.one_minus_beta1 * gi;
    let vi = pa.beta2 * v[j] + pa.one_minus_beta2 * gi * gi;
    m[j] = mi;
    v[j] = vi;
    return pi - pa.step_size * mi / (sqrt(vi) / pa.sqrt_bc2 + pa.eps);
}

@compute @workgroup_size(WG)
fn adam_multi(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
    let w = group_id(wid, nwg);
    if w >= pa.n {
        return;
    }
    let chunk = chunks[w];
    let slot = chunk.x;
    for (var k = lid.x; k < chunk.z; k += WG) {
        let i = chunk.y + k;
        let j = chunk.w + i;
        switch slot {
//@SLOT_CASES
            default: {}
        }
    }
}
