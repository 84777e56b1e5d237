//! The fast CPU device's matrix product: `C (+)= A · B` on strided f32 matrices, through the
//! `gemm` crate (candle's: packing, SIMD microkernels picked at run time for the CPU's AVX2,
//! AVX-512 or NEON, threads on rayon). Every GEMM-shaped kernel (matmul, the convolutions'
//! im2col products) calls [`sgemm`]; the strides let a caller pass a transposed operand without
//! copying it.
//!
//! Why `gemm` and not `matrixmultiply` (ndarray's): on this project's DCGAN-layer shapes both
//! reach the same single-thread speed on a 2-core AVX2 machine, but `gemm` runs its threads on
//! the rayon pool the other ops use (one pool, one `ATELIER_THREADS`), accumulates into C
//! (`C += A·B`, which backward-weight's sum over the batch needs), and was 1.5x faster on the
//! tall-skinny products of the deep layers (512x16x1600: 0.45 ms against 0.69 ms);
//! `matrixmultiply` threads on a pool of its own, sized by another variable.
//!
//! One allocation is the crate's own: `gemm` 0.19 packs its operands into a buffer it
//! allocates inside each call (it takes no caller workspace), so a GEMM allocates and frees
//! tens of KiB per call whatever atelier pools. [`in_gemm_call`] tells those allocations from
//! atelier's (the allocation-counting test, `tests/tests/cpu_step_allocations.rs`, uses it).

use std::cell::Cell;

thread_local! {
    // a depth, not a flag: a thread waiting inside one GEMM may run another pool job's GEMM
    static IN_GEMM: Cell<u32> = const { Cell::new(0) };
}

/// Whether this thread is inside a call of the `gemm` crate (where its packing buffers are
/// allocated).
pub fn in_gemm_call() -> bool {
    IN_GEMM.with(Cell::get) > 0
}

/// A strided view of a matrix inside a slice: element (i, j) is `data[offset + i·row + j·col]`.
#[derive(Clone, Copy, Debug)]
pub struct Strided {
    pub offset: usize,
    pub row: usize,
    pub col: usize,
}

impl Strided {
    /// A row-major matrix with `cols` columns starting at `offset`.
    pub fn rows(offset: usize, cols: usize) -> Strided {
        Strided {
            offset,
            row: cols,
            col: 1,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns starting at `offset`.
    pub fn transposed(offset: usize, cols: usize) -> Strided {
        Strided {
            offset,
            row: 1,
            col: cols,
        }
    }

    /// Panics unless an `rows`×`cols` matrix with these strides lies inside `len` elements.
    fn check(&self, what: &str, rows: usize, cols: usize, len: usize) {
        if rows == 0 || cols == 0 {
            return;
        }
        let last = self.offset + (rows - 1) * self.row + (cols - 1) * self.col;
        assert!(
            last < len,
            "sgemm: {what} ({rows}x{cols}, {self:?}) reaches element {last} of {len}"
        );
    }
}

/// `c = a · b` (or `c += a · b` when `accumulate`), a `m`×`k`, b `k`×`n`, c `m`×`n`.
/// `threads`: run the product on the pool's threads (false when the caller already splits
/// the work over them).
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    sa: Strided,
    b: &[f32],
    sb: Strided,
    c: &mut [f32],
    sc: Strided,
    accumulate: bool,
    threads: bool,
) {
    sa.check("a", m, k, a.len());
    sb.check("b", k, n, b.len());
    sc.check("c", m, n, c.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    c[sc.offset + i * sc.row + j * sc.col] = 0.0;
                }
            }
        }
        return;
    }
    let pool = super::threads();
    let mut run = |parallelism| {
        IN_GEMM.with(|d| d.set(d.get() + 1));
        // SAFETY: every element each matrix's strides reach was checked to lie inside its
        // slice above; `c` is borrowed mutably, so it aliases neither `a` nor `b`.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr().add(sc.offset),
                sc.col as isize,
                sc.row as isize,
                accumulate,
                a.as_ptr().add(sa.offset),
                sa.col as isize,
                sa.row as isize,
                b.as_ptr().add(sb.offset),
                sb.col as isize,
                sb.row as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            )
        };
        IN_GEMM.with(|d| d.set(d.get() - 1));
    };
    if threads && pool > 1 {
        super::install(|| run(gemm::Parallelism::Rayon(pool)));
    } else {
        run(gemm::Parallelism::None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn products_transposes_and_accumulation() {
        let (m, n, k) = (37, 29, 61);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
        let want = naive(m, n, k, &a, &b);
        for threads in [false, true] {
            let mut c = vec![f32::NAN; m * n];
            sgemm(
                (m, n, k),
                &a,
                Strided::rows(0, k),
                &b,
                Strided::rows(0, n),
                &mut c,
                Strided::rows(0, n),
                false,
                threads,
            );
            assert_eq!(c, want);
            // cᵀ = bᵀ · aᵀ, every operand passed as the transpose of its row-major storage
            let mut ct = vec![0.0; m * n];
            sgemm(
                (n, m, k),
                &b,
                Strided::transposed(0, n),
                &a,
                Strided::transposed(0, k),
                &mut ct,
                Strided::transposed(0, n),
                false,
                threads,
            );
            assert_eq!(ct, want);
            sgemm(
                (m, n, k),
                &a,
                Strided::rows(0, k),
                &b,
                Strided::rows(0, n),
                &mut c,
                Strided::rows(0, n),
                true,
                threads,
            );
            assert!(c.iter().zip(&want).all(|(x, w)| *x == 2.0 * w));
        }
    }

    #[test]
    #[should_panic(expected = "reaches element")]
    fn a_view_past_the_slice_panics() {
        let a = vec![0.0; 6];
        let mut c = vec![0.0; 4];
        sgemm(
            (2, 2, 3),
            &a,
            Strided::rows(1, 3),
            &a,
            Strided::rows(0, 2),
            &mut c,
            Strided::rows(0, 2),
            false,
            false,
        );
    }
}
