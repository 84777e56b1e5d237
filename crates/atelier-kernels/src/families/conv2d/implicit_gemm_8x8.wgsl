
// implicit_gemm_8x8.wgsl: the register block of variant `implicit_gemm_8x8`, compiled
// after implicit_gemm.wgsl (whose entry points use it): 8 x 8 outputs per invocation,
// 64 multiply-adds for every 4 vec4 reads of workgroup memory (the 4 x 4 block: 16 for 2).
const TM: u32 = 8u;
const TN: u32 = 8u;
