// batchnorm_act.wgsl: batchnorm_apply fused with the activation after it (DCGAN's BN → ReLU
// and BN → LeakyReLU), joined after batchnorm.wgsl (its Params, bindings and helpers). The
// activation's pass over the tensor (a read and a write of every element) and its dispatch
// go away; its backward needs only the output (y > 0 exactly where the input was, for any
// slope >= 0), so the tensor op keeps y instead of the normalised values.
//
//   batchnorm_apply_act   one invocation per element:
//                           v = (x - mean[c]) * invstd[c] * gamma[c] + beta[c]
//                           y = v where v > 0, SLOPE * v elsewhere (ReLU: SLOPE = 0)
//                         x@1, mean@2, invstd@3, gamma@4, beta@5, y@6
//
// SLOPE is an override constant: one pipeline per slope in use (two in a DCGAN).

override SLOPE: f32 = 0.0;

@compute @workgroup_size(WG)
fn batchnorm_apply_act(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total {
        return;
    }
    let c = channel_of(i);
    let v = (x[i] - mean[c]) * invstd[c] * gamma[c] + beta[c];
    y[i] = select(SLOPE * v, v, v > 0.0);
}
