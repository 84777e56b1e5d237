// batchnorm_act.wgsl: batch norm fused with the activation after it (DCGAN's BN → ReLU and
// BN → LeakyReLU), joined after batchnorm.wgsl (its Params, bindings and helpers) and
// batchnorm_gy_act.wgsl (SLOPE, the output y, the activation's derivative). The activation's
// pass over the tensor (a read and a write of every element) and its dispatch go away, forward
// and backward; its backward needs only the output (y > 0 exactly where the input was, for any
// slope >= 0), so the tensor op keeps y instead of the normalised values.
//
//   batchnorm_apply_act           one invocation per element:
//                                   v = (x - mean[c]) * invstd[c] * gamma[c] + beta[c]
//                                   y = v where v > 0, SLOPE * v elsewhere (ReLU: SLOPE = 0)
//                                 x@1, mean@2, invstd@3, gamma@4, beta@5, y@6
//   batchnorm_backward_apply_act  batchnorm_backward_apply of the activation's backward,
//                                 gy * (1 where y > 0, SLOPE elsewhere), recomputed here
//                                 x@1, gy@2, mean@3, invstd@4, gamma@5, ggamma@6, gbeta@7,
//                                 gx@8, y@9
// This module's batchnorm_backward_reduce (and the subgroup and split modules' reductions
// joined with batchnorm_gy_act.wgsl) are the reductions of that same gradient, y@7.

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

@compute @workgroup_size(WG)
fn batchnorm_backward_apply_act(@builtin(workgroup_id) wid: vec3<u32>,
                                @builtin(num_workgroups) nwg: vec3<u32>,
                                @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.total {
        return;
    }
    backward_apply_at(i, grad_y_apply(i));
}
