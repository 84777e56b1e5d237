//! Every WGSL file in `shaders/`, embedded at compile time.

use crate::pipeline::Shader;

macro_rules! shader {
    ($ident:ident, $file:literal) => {
        pub static $ident: Shader = Shader {
            name: $file,
            source: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shaders/",
                $file
            )),
        };
    };
    // A file that extends another (its entry points use the base file's bindings and helpers):
    // compiled as the two concatenated, the base first.
    ($ident:ident, $base:literal + $file:literal) => {
        pub static $ident: Shader = Shader {
            name: $file,
            source: concat!(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../shaders/",
                    $base
                )),
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../shaders/",
                    $file
                ))
            ),
        };
    };
}

shader!(ELEMENTWISE, "elementwise.wgsl");
shader!(LAYOUT, "layout.wgsl");
shader!(MATMUL, "matmul.wgsl");
shader!(REDUCE, "reduce.wgsl");
shader!(REDUCE_SUBGROUP, "reduce.wgsl" + "reduce_subgroup.wgsl");
shader!(OPTIM, "optim.wgsl");
shader!(BATCHNORM, "batchnorm.wgsl");
shader!(
    BATCHNORM_SUBGROUP,
    "batchnorm.wgsl" + "batchnorm_subgroup.wgsl"
);
shader!(INSTANCE_NORM, "instance_norm.wgsl");
shader!(POOL, "pool.wgsl");
shader!(RESAMPLE, "resample.wgsl");
shader!(TRANSLATE, "translate.wgsl");
shader!(CONV2D, "conv2d.wgsl");
// the implicit GEMM, once per register block (the second file declares TM and TN)
shader!(
    CONV2D_IMPLICIT_GEMM,
    "conv2d_implicit_gemm.wgsl" + "conv2d_implicit_gemm_4x4.wgsl"
);
shader!(
    CONV2D_IMPLICIT_GEMM_8X8,
    "conv2d_implicit_gemm.wgsl" + "conv2d_implicit_gemm_8x8.wgsl"
);
shader!(PEAK, "peak.wgsl");
