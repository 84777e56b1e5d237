//! Reused host vectors for a kernel's temporaries (a convolution's im2col matrix): each thread
//! keeps the vectors it used, so a training loop that repeats its shapes allocates none after
//! its first step.

use std::cell::RefCell;

thread_local! {
    static FREE: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on a vector of `len` elements (contents unspecified: `f` writes before it reads),
/// taken from this thread's free list and returned to it afterwards.
pub fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut v = FREE
        .with(|free| {
            let mut free = free.borrow_mut();
            // the smallest free vector that is large enough, else the largest (grown below)
            let best = (0..free.len())
                .filter(|&i| free[i].capacity() >= len)
                .min_by_key(|&i| free[i].capacity())
                .or_else(|| (0..free.len()).max_by_key(|&i| free[i].capacity()));
            best.map(|i| free.swap_remove(i))
        })
        .unwrap_or_default();
    if v.len() < len {
        v.resize(len, 0.0);
    }
    let r = f(&mut v[..len]);
    FREE.with(|free| free.borrow_mut().push(v));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_vector_is_reused() {
        let first = with_scratch(1000, |s| s.as_ptr() as usize);
        let again = with_scratch(600, |s| {
            assert_eq!(s.len(), 600);
            s.as_ptr() as usize
        });
        assert_eq!(first, again);
    }
}
