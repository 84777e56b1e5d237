//! The fast CPU device's optimizer steps: the reference's per-element loops (simple enough to
//! vectorise), split over the thread pool in chunks. Every element's update depends on that
//! element alone, so the chunks are independent and the result is the reference's, bit for
//! bit.

use rayon::prelude::*;

use crate::cpu::threads::GRAIN;
use crate::cpu::{install, threads};
use crate::optim::reference as r;
use crate::optim::{AdamStep, SgdStep};

/// Elements per chunk: the whole tensor when it is small (on the calling thread), else about
/// four chunks per thread.
fn chunk_len(n: usize) -> Option<usize> {
    (threads() > 1 && n >= 2 * GRAIN).then(|| n.div_ceil(4 * threads()).max(GRAIN))
}

/// One Adam step, as [`r::adam`].
pub fn adam(hp: &AdamStep, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    let n = p.len();
    assert!(
        g.len() == n && m.len() == n && v.len() == n,
        "adam: lengths differ"
    );
    let Some(k) = chunk_len(n) else {
        return r::adam(hp, p, g, m, v);
    };
    install(|| {
        p.par_chunks_mut(k)
            .zip(g.par_chunks(k))
            .zip(m.par_chunks_mut(k))
            .zip(v.par_chunks_mut(k))
            .for_each(|(((p, g), m), v)| r::adam(hp, p, g, m, v))
    });
}

/// One SGD step, as [`r::sgd`].
pub fn sgd(hp: &SgdStep, p: &mut [f32], g: &[f32], buf: Option<&mut [f32]>) {
    let n = p.len();
    assert_eq!(g.len(), n, "sgd: lengths differ");
    let Some(k) = chunk_len(n) else {
        return r::sgd(hp, p, g, buf);
    };
    install(|| match buf {
        Some(b) => {
            assert_eq!(b.len(), n, "sgd: momentum buffer length");
            p.par_chunks_mut(k)
                .zip(g.par_chunks(k))
                .zip(b.par_chunks_mut(k))
                .for_each(|((p, g), b)| r::sgd(hp, p, g, Some(b)))
        }
        None => p
            .par_chunks_mut(k)
            .zip(g.par_chunks(k))
            .for_each(|(p, g)| r::sgd(hp, p, g, None)),
    });
}
