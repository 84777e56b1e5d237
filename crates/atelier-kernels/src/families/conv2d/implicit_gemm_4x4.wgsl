
// implicit_gemm_4x4.wgsl: the register block of variant `implicit_gemm`, compiled after
// implicit_gemm.wgsl (whose entry points use it): 4 x 4 outputs per invocation.
const TM: u32 = 4u;
const TN: u32 = 4u;
