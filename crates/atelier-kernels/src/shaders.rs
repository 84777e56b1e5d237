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
}

shader!(ELEMENTWISE, "elementwise.wgsl");
shader!(LAYOUT, "layout.wgsl");
shader!(MATMUL, "matmul.wgsl");
shader!(REDUCE, "reduce.wgsl");
shader!(OPTIM, "optim.wgsl");
shader!(BATCHNORM, "batchnorm.wgsl");
shader!(INSTANCE_NORM, "instance_norm.wgsl");
shader!(POOL, "pool.wgsl");
shader!(RESAMPLE, "resample.wgsl");
shader!(CONV2D, "conv2d.wgsl");
shader!(CONV2D_IMPLICIT_GEMM, "conv2d_implicit_gemm.wgsl");
shader!(PEAK, "peak.wgsl");
