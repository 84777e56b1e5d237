//! f64 helpers for the CPU side of validation: the reference runs in f64 (so the GPU's f32
//! result is compared with the exact answer, not with another rounding of it), and the
//! reference's backward formulas are checked against central finite differences.

pub fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

pub fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// Rounds to f32 and back: a value the GPU can hold exactly.
pub fn round_f32(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| x as f32 as f64).collect()
}

/// Tolerance for the reference's analytic gradient against finite differences in f64.
pub const TOL_FINITE_DIFF: f64 = 1e-6;

/// d loss / d x by central differences, one coordinate at a time.
pub fn numeric_gradient(x: &[f64], loss: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = 1e-5 * x[i].abs().max(1.0);
            xp[i] = x[i] + h;
            let up = loss(&xp);
            xp[i] = x[i] - h;
            let down = loss(&xp);
            xp[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// sum(a * b): the loss whose gradient with respect to the output is `b`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
