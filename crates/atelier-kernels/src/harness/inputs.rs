//! Input buffers for benchmarks: random values (so no kernel meets only zeros), and enough
//! copies to rotate through that a run never finds its inputs in a cache the previous run
//! warmed.

use crate::{GpuBuffer, gpu};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Bytes the rotated copies of a case's buffers should span together: more than any cache in
/// the way (an H100's L2 is 50 MB; lavapipe runs on the CPU, whose L3 is about 32 MB here).
pub const ROTATE_BYTES: f64 = 128.0 * 1024.0 * 1024.0;
/// Most copies, whatever the size.
pub const MAX_COPIES: usize = 8;

/// How many copies of a case whose buffers take `bytes` together to rotate through.
pub fn rotation(bytes: f64) -> usize {
    ((ROTATE_BYTES / bytes.max(1.0)).ceil() as usize).clamp(1, MAX_COPIES)
}

/// A source of random GPU buffers. One host block of random values is made once and grown
/// when needed; each buffer uploads a slice of it from a different offset, so copies differ
/// and no buffer costs a fresh pass of the random generator.
pub struct Inputs {
    block: Vec<f32>,
    rng: SmallRng,
    next_offset: usize,
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            block: Vec::new(),
            rng: SmallRng::seed_from_u64(0x5eed),
            next_offset: 0,
        }
    }
}

impl Inputs {
    /// A buffer of `len` values in [-1, 1).
    pub fn random(&mut self, len: usize) -> GpuBuffer {
        gpu().upload(self.random_slice(len))
    }

    /// A buffer of `len` values in [lo, hi) (e.g. a positive variance).
    pub fn random_in(&mut self, len: usize, lo: f32, hi: f32) -> GpuBuffer {
        gpu().upload(&self.host_random_in(len, lo, hi))
    }

    /// [`Inputs::random`] in host memory, for the fast CPU device's rows.
    pub fn host_random(&mut self, len: usize) -> Vec<f32> {
        self.random_slice(len).to_vec()
    }

    /// [`Inputs::random_in`] in host memory.
    pub fn host_random_in(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..len).map(|_| self.rng.random_range(lo..hi)).collect()
    }

    /// An output in host memory (NaN, so a kernel that skips an element shows it).
    pub fn host_output(&self, len: usize) -> Vec<f32> {
        vec![f32::NAN; len]
    }

    /// `len` values in [-1, 1) from the shared block.
    fn random_slice(&mut self, len: usize) -> &[f32] {
        // the block is a little longer than any request so offsets vary
        let want = len + 4093;
        if self.block.len() < want {
            let more = want - self.block.len();
            let rng = &mut self.rng;
            self.block
                .extend((0..more).map(|_| rng.random_range(-1.0f32..1.0)));
        }
        let offset = self.next_offset % (self.block.len() - len + 1);
        self.next_offset += 1021;
        &self.block[offset..offset + len]
    }

    /// An output buffer of `len` (contents undefined; the kernel overwrites it).
    pub fn output(&self, len: usize) -> GpuBuffer {
        GpuBuffer::uninit(len)
    }
}
