// prelude.wgsl: joined before every atelier shader (see src/shader.rs).
//
// WG: invocations per workgroup of the one-invocation-per-element kernels (a pipeline
// constant; launchers size their grids for 256, atelier_kernels::WG).
// group_id / linear_id: the workgroup's and the invocation's index in a grid that launchers
// fold into y and z past the per-dimension limit: x + y * nx + z * nx * ny.

override WG: u32 = 256;

fn group_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
}

fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
    return group_id(wid, nwg) * WG + lid.x;
}
