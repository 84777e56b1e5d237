//! Deterministic Inception weights and inputs that scripts/make_inception_fixture.py makes bit
//! for bit in Python, so the network can be checked against pytorch-fid's modules without the
//! real weights file: SplitMix64 over FNV-1a(key) + index, the top 24 bits as a uniform in
//! [0, 1) (exact in f32), mapped per kind of tensor (He-uniform convolutions, BatchNorm scales
//! and variances in [0.5, 1.5), shifts and means in [-0.1, 0.1)).

use super::spec;
use super::weights::StateDict;

fn fnv1a64(s: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

fn splitmix64(z: u64) -> u64 {
    let mut z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` uniforms in [0, 1) named by `key`.
pub fn values(key: &str, n: usize) -> Vec<f64> {
    let h = fnv1a64(key);
    (0..n as u64)
        .map(|i| (splitmix64(h.wrapping_add(i)) >> 40) as f64 / (1u64 << 24) as f64)
        .collect()
}

/// `n` values in [lo, hi) named by `key` (the fixture's inputs).
pub fn input(key: &str, n: usize, lo: f64, hi: f64) -> Vec<f32> {
    values(key, n)
        .into_iter()
        .map(|u| (lo + (hi - lo) * u) as f32)
        .collect()
}

/// The value of state_dict entry `key` with `shape`.
pub fn tensor(key: &str, shape: &[usize]) -> Vec<f32> {
    let n: usize = shape.iter().product();
    let u = values(key, n);
    let map: Box<dyn Fn(f64) -> f64> = if key.ends_with("conv.weight") {
        let fan_in: usize = shape[1..].iter().product();
        let bound = (6.0 / fan_in as f64).sqrt();
        Box::new(move |u| (2.0 * u - 1.0) * bound)
    } else if key.ends_with("bn.weight") || key.ends_with("bn.running_var") {
        Box::new(|u| 0.5 + u)
    } else if key.ends_with("bn.bias") || key.ends_with("bn.running_mean") {
        Box::new(|u| (u - 0.5) * 0.2)
    } else {
        Box::new(|u| u - 0.5)
    };
    u.into_iter().map(|v| map(v) as f32).collect()
}

/// Every weight the network needs, made this way.
pub fn state_dict() -> StateDict {
    let mut sd = StateDict::new("synthetic weights");
    for (key, shape) in spec::expected_keys() {
        let v = tensor(&key, &shape);
        sd.insert(key, shape, v);
    }
    sd
}
