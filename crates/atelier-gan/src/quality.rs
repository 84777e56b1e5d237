//! The quality metrics papers print, on Inception pool features (rows of an `n × d` matrix,
//! computed in f64 on the CPU):
//!
//! - **FID** (Heusel et al. 2017): `‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½)`, with unbiased
//!   covariances as pytorch-fid (`np.cov`). `tr (Σ₁Σ₂)^½` is the sum of the square roots of
//!   the eigenvalues of the symmetric `Σ₁^½ Σ₂ Σ₁^½` (the same eigenvalues), which stays exact
//!   when Σ₁ is singular (fewer images than feature dimensions); pytorch-fid's `scipy.linalg.
//!   sqrtm` of the product gives the same trace.
//! - **KID** (Bińkowski et al. 2018): the unbiased estimate of the squared MMD with the cubic
//!   polynomial kernel `k(x, y) = (x·y / d + 1)³`, averaged over random subsets of both sets
//!   (as the paper's code and torch-fidelity: 100 subsets of 1000 by default), with the
//!   standard deviation over the subsets.
//! - **Precision and recall** (Kynkäänniemi et al. 2019): each set's manifold is the union of
//!   balls around its points reaching their k-th nearest neighbour (k = 3); precision is the
//!   fraction of generated points inside the real manifold, recall the fraction of real points
//!   inside the generated one.

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;

/// `n` feature vectors of length `d`, row-major.
#[derive(Clone, Debug)]
pub struct Features {
    pub n: usize,
    pub d: usize,
    pub values: Vec<f32>,
}

impl Features {
    pub fn new(values: Vec<f32>, n: usize, d: usize) -> Features {
        assert_eq!(
            values.len(),
            n * d,
            "features: {} values for {n} × {d}",
            values.len()
        );
        Features { n, d, values }
    }

    fn matrix(&self) -> DMatrix<f64> {
        DMatrix::from_row_iterator(self.n, self.d, self.values.iter().map(|&v| f64::from(v)))
    }

    fn rows(&self, ids: &[usize]) -> DMatrix<f64> {
        DMatrix::from_fn(ids.len(), self.d, |i, j| {
            f64::from(self.values[ids[i] * self.d + j])
        })
    }
}

/// Mean and (unbiased) covariance of a feature set.
pub struct Gaussian {
    pub mu: DVector<f64>,
    pub sigma: DMatrix<f64>,
}

impl Gaussian {
    pub fn of(f: &Features) -> Gaussian {
        assert!(
            f.n >= 2,
            "FID needs at least 2 feature vectors, got {}",
            f.n
        );
        let x = f.matrix();
        let mu = x.row_mean().transpose();
        let centred = DMatrix::from_fn(f.n, f.d, |i, j| x[(i, j)] - mu[j]);
        let sigma = centred.transpose() * &centred / (f.n as f64 - 1.0);
        Gaussian { mu, sigma }
    }
}

/// The Fréchet distance between two Gaussians.
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> f64 {
    let diff = &a.mu - &b.mu;
    // Σ₁^½ from Σ₁'s eigendecomposition (eigenvalues clamped at 0: rounding makes the
    // null space's slightly negative)
    let eig = SymmetricEigen::new(a.sigma.clone());
    let sqrt_vals = eig.eigenvalues.map(|v| v.max(0.0).sqrt());
    let root =
        &eig.eigenvectors * DMatrix::from_diagonal(&sqrt_vals) * eig.eigenvectors.transpose();
    let m = &root * &b.sigma * &root;
    let m = (&m + m.transpose()) * 0.5;
    let tr_sqrt: f64 = m
        .symmetric_eigenvalues()
        .iter()
        .map(|v| v.max(0.0).sqrt())
        .sum();
    diff.dot(&diff) + a.sigma.trace() + b.sigma.trace() - 2.0 * tr_sqrt
}

/// FID between two feature sets.
pub fn fid(a: &Features, b: &Features) -> f64 {
    frechet_distance(&Gaussian::of(a), &Gaussian::of(b))
}

/// KID's settings.
#[derive(Clone, Copy, Debug)]
pub struct KidConfig {
    pub subsets: usize,
    /// Images per subset (at most the smaller set's size).
    pub subset_size: usize,
    pub seed: u64,
}

impl Default for KidConfig {
    fn default() -> Self {
        KidConfig {
            subsets: 100,
            subset_size: 1000,
            seed: 0,
        }
    }
}

/// KID: the mean of the subsets' unbiased MMD² estimates and their standard deviation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Kid {
    pub mean: f64,
    pub std: f64,
    pub subsets: usize,
    pub subset_size: usize,
}

/// The unbiased MMD² of two equal-size samples `x`, `y` (rows) with the cubic polynomial
/// kernel: `(Σ_{i≠j} k(xᵢ,xⱼ) + Σ_{i≠j} k(yᵢ,yⱼ)) / (m(m−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ) / m²`.
pub fn mmd2_unbiased(x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let (m, d) = (x.nrows() as f64, x.ncols() as f64);
    let kernel =
        |a: &DMatrix<f64>, b: &DMatrix<f64>| (a * b.transpose()).map(|v| (v / d + 1.0).powi(3));
    let (kxx, kyy, kxy) = (kernel(x, x), kernel(y, y), kernel(x, y));
    let off_diagonal = |k: &DMatrix<f64>| k.sum() - k.trace();
    (off_diagonal(&kxx) + off_diagonal(&kyy)) / (m * (m - 1.0)) - 2.0 * kxy.sum() / (m * m)
}

/// KID between two feature sets: `subsets` random subsets of `subset_size` from each (without
/// replacement within a subset), seeded.
pub fn kid(a: &Features, b: &Features, cfg: &KidConfig) -> Kid {
    let m = cfg.subset_size.min(a.n).min(b.n);
    assert!(m >= 2, "KID needs at least 2 feature vectors per set");
    assert_eq!(a.d, b.d, "KID: feature lengths differ");
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let estimates: Vec<f64> = (0..cfg.subsets.max(1))
        .map(|_| {
            let ia = sample(&mut rng, a.n, m).into_vec();
            let ib = sample(&mut rng, b.n, m).into_vec();
            mmd2_unbiased(&a.rows(&ia), &b.rows(&ib))
        })
        .collect();
    let k = estimates.len() as f64;
    let mean = estimates.iter().sum::<f64>() / k;
    let var = estimates.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / k;
    Kid {
        mean,
        std: var.sqrt(),
        subsets: estimates.len(),
        subset_size: m,
    }
}

/// Squared Euclidean distances between the rows of `a` and of `b`.
fn squared_distances(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    let na: Vec<f64> = a.row_iter().map(|r| r.norm_squared()).collect();
    let nb: Vec<f64> = b.row_iter().map(|r| r.norm_squared()).collect();
    let dot = a * b.transpose();
    DMatrix::from_fn(a.nrows(), b.nrows(), |i, j| {
        (na[i] + nb[j] - 2.0 * dot[(i, j)]).max(0.0)
    })
}

/// Each row's squared distance to its k-th nearest other row.
fn kth_neighbour_radii(x: &DMatrix<f64>, k: usize) -> Vec<f64> {
    let d = squared_distances(x, x);
    (0..x.nrows())
        .map(|i| {
            let mut row: Vec<f64> = (0..x.nrows())
                .filter(|&j| j != i)
                .map(|j| d[(i, j)])
                .collect();
            let k = k.min(row.len()).max(1) - 1;
            row.select_nth_unstable_by(k, f64::total_cmp);
            row[k]
        })
        .collect()
}

/// The fraction of `queries` inside the manifold of `points` (within some point's k-NN radius).
fn coverage(points: &DMatrix<f64>, queries: &DMatrix<f64>, k: usize) -> f64 {
    let radii = kth_neighbour_radii(points, k);
    let d = squared_distances(queries, points);
    let inside = (0..queries.nrows())
        .filter(|&q| (0..points.nrows()).any(|p| d[(q, p)] <= radii[p]))
        .count();
    inside as f64 / queries.nrows() as f64
}

/// Precision and recall of generated features against real ones, with k nearest neighbours.
pub fn precision_recall(real: &Features, fake: &Features, k: usize) -> (f64, f64) {
    assert!(
        real.n > k && fake.n > k,
        "precision/recall need more than k = {k} points per set"
    );
    let (r, f) = (real.matrix(), fake.matrix());
    (coverage(&r, &f, k), coverage(&f, &r, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian_features(n: usize, d: usize, shift: f32, seed: u64) -> Features {
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = StdRng::seed_from_u64(seed);
        let v = (0..n * d)
            .map(|_| {
                let z: f32 = StandardNormal.sample(&mut rng);
                z + shift
            })
            .collect();
        Features::new(v, n, d)
    }

    #[test]
    fn fid_of_known_gaussians() {
        // diagonal covariances: FID = |μ1 − μ2|² + Σ (σ1 − σ2)²
        let a = Gaussian {
            mu: DVector::from_vec(vec![0.0, 1.0, 2.0]),
            sigma: DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 4.0, 9.0])),
        };
        let b = Gaussian {
            mu: DVector::from_vec(vec![1.0, 1.0, 0.0]),
            sigma: DMatrix::from_diagonal(&DVector::from_vec(vec![4.0, 4.0, 1.0])),
        };
        let want = (1.0 + 0.0 + 4.0) + (1.0 + 0.0 + 4.0);
        assert!((frechet_distance(&a, &b) - want).abs() < 1e-9);
        assert!(frechet_distance(&a, &a).abs() < 1e-9);
    }

    #[test]
    fn fid_handles_fewer_points_than_dimensions() {
        let a = gaussian_features(20, 64, 0.0, 1);
        let b = gaussian_features(20, 64, 0.5, 2);
        // zero up to rounding: the null space's eigenvalues are ~1e-15, their roots ~1e-7
        let same = fid(&a, &a);
        assert!(same.abs() < 1e-4, "{same}");
        let shifted = fid(&a, &b);
        // the mean term alone is 64 · 0.25
        assert!(shifted > 10.0 && shifted.is_finite(), "{shifted}");
    }

    /// MMD² by its definition, in nested loops.
    fn direct_mmd2(x: &[Vec<f64>], y: &[Vec<f64>]) -> f64 {
        let d = x[0].len() as f64;
        let k = |a: &[f64], b: &[f64]| {
            (a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>() / d + 1.0).powi(3)
        };
        let m = x.len() as f64;
        let (mut xx, mut yy, mut xy) = (0.0, 0.0, 0.0);
        for i in 0..x.len() {
            for j in 0..x.len() {
                if i != j {
                    xx += k(&x[i], &x[j]);
                    yy += k(&y[i], &y[j]);
                }
                xy += k(&x[i], &y[j]);
            }
        }
        xx / (m * (m - 1.0)) + yy / (m * (m - 1.0)) - 2.0 * xy / (m * m)
    }

    #[test]
    fn kid_matches_the_direct_computation_on_known_features() {
        let x: Vec<Vec<f64>> = vec![
            vec![0.5, -1.0, 2.0],
            vec![1.5, 0.0, -0.5],
            vec![-2.0, 1.0, 0.25],
            vec![0.0, 3.0, 1.0],
        ];
        let y: Vec<Vec<f64>> = vec![
            vec![1.0, 1.0, 1.0],
            vec![-1.0, 0.5, 2.0],
            vec![2.5, -1.5, 0.0],
            vec![0.75, 0.25, -2.0],
        ];
        let flat = |v: &[Vec<f64>]| v.iter().flatten().map(|&x| x as f32).collect::<Vec<f32>>();
        let (fx, fy) = (Features::new(flat(&x), 4, 3), Features::new(flat(&y), 4, 3));
        // subsets of the whole set: every subset's estimate is the full one, in some order
        let cfg = KidConfig {
            subsets: 5,
            subset_size: 4,
            seed: 3,
        };
        let k = kid(&fx, &fy, &cfg);
        let want = direct_mmd2(&x, &y);
        assert!(
            (k.mean - want).abs() < 1e-12 * want.abs().max(1.0),
            "{} vs {want}",
            k.mean
        );
        assert!(k.std < 1e-12, "{}", k.std);
        assert_eq!((k.subsets, k.subset_size), (5, 4));

        // subsets of 3: each estimate is the direct MMD² of some 3 rows of each set
        let cfg = KidConfig {
            subsets: 50,
            subset_size: 3,
            seed: 4,
        };
        let k = kid(&fx, &fy, &cfg);
        let mut all = Vec::new();
        for skip_x in 0..4 {
            for skip_y in 0..4 {
                let sx: Vec<Vec<f64>> = (0..4)
                    .filter(|&i| i != skip_x)
                    .map(|i| x[i].clone())
                    .collect();
                let sy: Vec<Vec<f64>> = (0..4)
                    .filter(|&i| i != skip_y)
                    .map(|i| y[i].clone())
                    .collect();
                all.push(direct_mmd2(&sx, &sy));
            }
        }
        let (lo, hi) = all
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(
            k.mean >= lo && k.mean <= hi && k.std > 0.0,
            "{k:?} outside [{lo}, {hi}]"
        );
    }

    #[test]
    fn kid_is_near_zero_for_one_distribution_and_positive_for_two() {
        let a = gaussian_features(200, 16, 0.0, 5);
        let b = gaussian_features(200, 16, 0.0, 6);
        let c = gaussian_features(200, 16, 1.0, 7);
        let cfg = KidConfig {
            subsets: 20,
            subset_size: 100,
            seed: 0,
        };
        let same = kid(&a, &b, &cfg);
        let diff = kid(&a, &c, &cfg);
        assert!(same.mean.abs() < 3.0 * same.std + 1e-3, "{same:?}");
        assert!(diff.mean > 5.0 * diff.std, "{diff:?}");
    }

    #[test]
    fn precision_and_recall_see_missing_modes() {
        // fake covers only half of the real set's two clusters: full precision, half recall
        let mut real = Vec::new();
        let mut fake = Vec::new();
        for i in 0..40 {
            let c = if i % 2 == 0 { 0.0 } else { 100.0 };
            real.extend([c + (i as f32) * 0.01, c]);
            if i % 2 == 0 {
                fake.extend([c + (i as f32) * 0.011, c]);
            }
        }
        let (p, r) = precision_recall(&Features::new(real, 40, 2), &Features::new(fake, 20, 2), 3);
        assert_eq!(p, 1.0);
        assert!((r - 0.5).abs() < 0.05, "{r}");
    }
}
