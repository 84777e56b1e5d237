//! Deriving independent seeds from (seed, index) pairs, so image i of a builtin set and the
//! shuffle of epoch e can each be made on their own, in any order, and still be reproducible.

/// SplitMix64's finaliser: a bijective mix of all 64 bits.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for item `index` of a stream seeded by `seed`.
pub fn derive_seed(seed: u64, index: u64) -> u64 {
    splitmix64(seed ^ splitmix64(index))
}
