//! Variant `coop_f16`: the implicit-GEMM convolution on the GPU's matrix units (tensor cores)
//! through wgpu's experimental cooperative matrices (`coop_f16.wgsl`): 64x64 tiles of 16x16
//! `coop_mat16x16` fragments, the operands rounded to f16 in workgroup memory, the products
//! accumulated in f32.
//!
//! It computes the forward and backward-data GEMMs (backward-data is also conv_transpose2d's
//! forward). Backward-weight stays in fp32 (the family's rule): its reduction runs over the
//! batch and the pixels (N·P·Q, tens of thousands of terms at DCGAN sizes), its operands are
//! the output gradients, small enough that f16 would flush many of them to zero without loss
//! scaling, and the weight update is where rounding accumulates over a run.
//!
//! It is chosen only when both hold:
//! - the adapter offers wgpu's `EXPERIMENTAL_COOPERATIVE_MATRIX` with a 16x16x16
//!   f16 x f16 -> f32 configuration, one fixed subgroup size (the shader gives each subgroup
//!   16 rows of the tile by `local_invocation_index / SG`), and the workgroup memory;
//! - the user asks for reduced precision: `ATELIER_PRECISION=f16` (or `--precision f16`).
//!
//! [`Conv2dVariant::unavailable`] says which is missing, so `xtask validate` and `bench` list
//! it as unavailable (lavapipe offers no cooperative matrices) instead of skipping it silently.
//!
//! ## Its error bound
//!
//! With u = 2^-11 (f16's unit roundoff) and v = 2^-24 (f32's), an input a is stored as
//! â = a(1 + α) + η, |α| ≤ u, |η| ≤ 2^-25 (half of f16's smallest subnormal spacing, for
//! inputs below 2^-14). A product of two f16 values is exact in f32 (22 significant bits), so
//! each term's error is |âb̂ - ab| ≤ (2u + u²)|ab| + 2^-25 (1 + u)(|a| + |b|) + 2^-50. Summing
//! n terms (and the bias) in f32 in any order, split-K slices included, adds at most
//! γ = n·v' / (1 - n·v') times the sum of the magnitudes, where v' = v for round-to-nearest
//! (the CPU emulation) and v' = 2v on the GPU (tensor cores may truncate while they accumulate,
//! as measured on NVIDIA's by Fasi et al., 2021). So, per output,
//!
//! ```text
//! |ŷ - y| ≤ (2u + u²) Σ|ab| + 2^-25 (1 + u) Σ(|a| + |b|) + n 2^-50 + γ (1 + 3u) (Σ|ab| + |bias|)
//! ```
//!
//! over the taps that land (n = the GEMM's reduction length + 1). It holds for inputs inside
//! f16's range (|a| ≤ 65504; larger ones become infinities). Relative to the output it is
//! about 2^-10 Σ|ab| / |y|: with random signs |y| ~ sqrt(n) · rms(ab), so a few times
//! 2^-11·sqrt(n) in relative terms, and without bound where the sum cancels.
//! [`ErrorBound`] computes it from the f64 sums; the test below checks the CPU emulation of
//! the exact arithmetic against the f64 reference within it, and `xtask validate` checks the
//! GPU's results within it where an adapter runs the variant.

use crate::pipeline::Kernel;
use crate::shader::Shader;

/// The tile: BM x BN outputs per workgroup, BK along the reduction per step (one fragment).
pub const BM: usize = 64;
pub const BN: usize = 64;
pub const BK: usize = 16;
/// Subgroups per workgroup: one per 16-row strip of the tile.
pub const SUBGROUPS: usize = 4;

/// Workgroup memory: the f16 A and B tiles and the f32 output tile.
pub const WORKGROUP_BYTES: usize = (BM * BK + BK * BN) * 2 + BM * BN * 4;

/// f16's unit roundoff (round to nearest).
pub const F16_UNIT: f64 = 1.0 / 2048.0;
/// f32's unit roundoff.
pub const F32_UNIT: f64 = 1.0 / 16_777_216.0;

pub static COOP_F16_SHADER: Shader = Shader {
    name: "conv2d/coop_f16.wgsl",
    parts: &[
        crate::wgsl!("conv2d/conv_gather.wgsl"),
        crate::wgsl!("conv2d/coop_f16.wgsl"),
    ],
};

pub const COOP_FORWARD: Kernel = Kernel::new(&COOP_F16_SHADER, "coop_forward");
pub const COOP_BACKWARD_DATA: Kernel = Kernel::new(&COOP_F16_SHADER, "coop_backward_data");

/// Whether `props` has the configuration the shader uses: 16x16x16, f16 inputs, f32
/// accumulator.
pub fn has_f16_f32_16x16(props: &[wgpu::CooperativeMatrixProperties]) -> bool {
    props.iter().any(|p| {
        p.m_size == 16
            && p.n_size == 16
            && p.k_size == 16
            && p.ab_type == wgpu::CooperativeScalarType::F16
            && p.cr_type == wgpu::CooperativeScalarType::F32
    })
}

/// The shader's override constants: igemm's geometry (its `C` is `CIN` here: `C` is also the
/// accumulator role in `coop_mat16x16<f32, C>`) and the subgroup size SG.
pub fn constants(geometry: &[(&'static str, f64)], subgroup: u32) -> Vec<(&'static str, f64)> {
    let mut c: Vec<(&'static str, f64)> = geometry
        .iter()
        .map(|&(name, v)| (if name == "C" { "CIN" } else { name }, v))
        .collect();
    c.push(("SG", subgroup as f64));
    c
}

/// Why `gpu` cannot run the variant, or `None`.
pub fn device_unavailable(gpu: &crate::Gpu) -> Option<String> {
    let coop = wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX;
    if !gpu.has_feature(coop) || !gpu.has_feature(wgpu::Features::SHADER_F16) {
        return Some(format!(
            "the adapter ({}) offers no cooperative matrices with f16 (wgpu's \
             EXPERIMENTAL_COOPERATIVE_MATRIX and SHADER_F16)",
            gpu.info.name
        ));
    }
    if !has_f16_f32_16x16(&gpu.cooperative_matrices) {
        return Some(format!(
            "the adapter's cooperative matrices have no 16x16x16 f16 x f16 -> f32 \
             configuration (it offers {:?})",
            gpu.cooperative_matrices
        ));
    }
    subgroup_size(gpu).err().or_else(|| {
        let bytes = WORKGROUP_BYTES as u32;
        (gpu.limits.max_compute_workgroup_storage_size < bytes).then(|| {
            format!(
                "needs {bytes} bytes of workgroup memory; the adapter offers {}",
                gpu.limits.max_compute_workgroup_storage_size
            )
        })
    })
}

/// The adapter's subgroup size, when it has exactly one (the shader maps invocations to
/// subgroups by index), and the workgroup of four subgroups fits.
pub fn subgroup_size(gpu: &crate::Gpu) -> Result<u32, String> {
    let (lo, hi) = (gpu.info.subgroup_min_size, gpu.info.subgroup_max_size);
    if lo != hi || lo == 0 {
        return Err(format!(
            "the adapter's subgroup size varies ({lo} to {hi}); the shader needs one fixed size"
        ));
    }
    let threads = SUBGROUPS as u32 * lo;
    if gpu.limits.max_compute_invocations_per_workgroup < threads
        || gpu.limits.max_compute_workgroup_size_x < threads
    {
        return Err(format!("needs {threads} invocations per workgroup"));
    }
    Ok(lo)
}

/// Why the variant is not used: the device ([`device_unavailable`]) first, else the precision
/// setting.
pub fn unavailable() -> Option<String> {
    let device = match crate::context::try_gpu() {
        Ok(gpu) => device_unavailable(gpu),
        Err(e) => Some(format!("no GPU device ({e})")),
    };
    device.or_else(|| {
        (crate::precision::current() != crate::precision::Precision::F16).then(|| {
            "reduced precision not asked for (ATELIER_PRECISION=f16 or --precision f16; fp32 \
             is the default)"
                .to_string()
        })
    })
}

/// The error bound of one output, from the f64 sums over the taps that land on it (see the
/// module's documentation).
#[derive(Clone, Copy, Debug)]
pub struct ErrorBound {
    /// f32's rounding per addition: [`F32_UNIT`] for round-to-nearest, twice it for the
    /// GPU's matrix units.
    pub accumulate_unit: f64,
    /// The reduction's length (the GEMM's K), the bias counted as one more term.
    pub terms: usize,
}

impl ErrorBound {
    /// The bound given Σ|ab|, Σ(|a| + |b|) and |bias| for one output.
    pub fn of(&self, sum_abs_products: f64, sum_abs_inputs: f64, bias_abs: f64) -> f64 {
        let u = F16_UNIT;
        let nv = self.terms as f64 * self.accumulate_unit;
        let gamma = nv / (1.0 - nv);
        let tiny = 2f64.powi(-25);
        (2.0 * u + u * u) * sum_abs_products
            + tiny * (1.0 + u) * sum_abs_inputs
            + self.terms as f64 * 2f64.powi(-50)
            + gamma * (1.0 + 3.0 * u) * (sum_abs_products + bias_abs)
    }
}

/// The f64 sums the bound needs, per output, from a reference that computes a convolution
/// direction `run(a, b, out)` (bias-free): Σ|ab| and Σ(|a| + |b|) over the taps that land.
pub fn magnitude_sums(
    a: &[f32],
    b: &[f32],
    out_len: usize,
    run: impl Fn(&[f64], &[f64], &mut [f64]),
) -> (Vec<f64>, Vec<f64>) {
    let abs = |v: &[f32]| -> Vec<f64> { v.iter().map(|x| (*x as f64).abs()).collect() };
    let ones = |n: usize| vec![1.0; n];
    let (aa, ba) = (abs(a), abs(b));
    let mut products = vec![0.0; out_len];
    run(&aa, &ba, &mut products);
    let mut sum_a = vec![0.0; out_len];
    run(&aa, &ones(b.len()), &mut sum_a);
    let mut sum_b = vec![0.0; out_len];
    run(&ones(a.len()), &ba, &mut sum_b);
    let inputs = sum_a.iter().zip(&sum_b).map(|(x, y)| x + y).collect();
    (products, inputs)
}
