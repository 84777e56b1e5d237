//! L-BFGS (Nocedal & Wright, *Numerical Optimization*, algorithms 7.4 and 7.5) on one tensor,
//! with a backtracking (Armijo) line search. Everything stays on the tensor's device; the host
//! reads only scalars (the loss and dot products).
//!
//! As `torch.optim.LBFGS`, it takes a closure that evaluates the loss at the tensor's current
//! value and leaves the gradient in `.grad()`; one [`Lbfgs::step`] is one iteration: a
//! direction from the two-loop recursion, then a line search along it (one or more
//! evaluations). A curvature pair is kept only when sᵀy > 0, which keeps the implied Hessian
//! approximation positive definite without a Wolfe search.

use std::collections::VecDeque;

use atelier_tensor::{Tensor, no_grad};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbfgsConfig {
    /// Curvature pairs remembered.
    pub history: usize,
    /// The first step tried along each direction (1 is the natural quasi-Newton step).
    pub lr: f32,
    /// Stop when the largest gradient component is below this.
    pub tolerance_grad: f32,
    /// Stop when a step changes the loss by less than this.
    pub tolerance_change: f32,
    /// Halvings tried before the line search gives up.
    pub max_line_search: usize,
    /// Sufficient decrease: accept t when f(x + t·d) ≤ f(x) + c1·t·gᵀd.
    pub c1: f32,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        LbfgsConfig {
            history: 10,
            lr: 1.0,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
            max_line_search: 25,
            c1: 1e-4,
        }
    }
}

/// What one iteration did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbfgsStep {
    /// The loss at the tensor's value after the step.
    pub loss: f32,
    /// Loss evaluations this iteration used.
    pub evaluations: usize,
    /// Nothing more to do: the gradient vanished, the loss stopped changing, or no step along
    /// the direction decreased the loss.
    pub converged: bool,
}

pub struct Lbfgs {
    pub config: LbfgsConfig,
    param: Tensor,
    /// (s, y, 1 / sᵀy), oldest first.
    pairs: VecDeque<(Tensor, Tensor, f32)>,
    /// The loss and gradient at the current value, once evaluated.
    current: Option<(f32, Tensor)>,
}

fn dot(a: &Tensor, b: &Tensor) -> f32 {
    a.mul(b).sum_all().item()
}

fn max_abs(t: &Tensor) -> f32 {
    t.abs().reshape(&[t.numel()]).max(&[0], false).item()
}

impl Lbfgs {
    /// Optimises `param`, a leaf tensor that requires gradients.
    pub fn new(param: Tensor, config: LbfgsConfig) -> Lbfgs {
        assert!(
            param.requires_grad() && param.is_leaf(),
            "Lbfgs: the parameter must be a leaf tensor that requires grad"
        );
        Lbfgs {
            config,
            param,
            pairs: VecDeque::new(),
            current: None,
        }
    }

    /// Evaluates `closure` at the parameter's current value: its loss and gradient.
    fn evaluate(&self, closure: &mut dyn FnMut() -> f32) -> (f32, Tensor) {
        self.param.zero_grad();
        let loss = closure();
        let grad = self
            .param
            .grad()
            .expect("Lbfgs: the closure left no gradient");
        (loss, grad)
    }

    /// −H·g by the two-loop recursion over the remembered pairs (H₀ = γI, γ = sᵀy / yᵀy of the
    /// newest pair).
    fn direction(&self, g: &Tensor) -> Tensor {
        let mut q = g.clone();
        let mut alphas = vec![0.0; self.pairs.len()];
        for (i, (s, y, rho)) in self.pairs.iter().enumerate().rev() {
            alphas[i] = rho * dot(s, &q);
            q = q.sub(&y.mul_scalar(alphas[i]));
        }
        if let Some((s, y, _)) = self.pairs.back() {
            q = q.mul_scalar(dot(s, y) / dot(y, y));
        }
        for (i, (s, y, rho)) in self.pairs.iter().enumerate() {
            let beta = rho * dot(y, &q);
            q = q.add(&s.mul_scalar(alphas[i] - beta));
        }
        q.neg()
    }

    /// One iteration; see the module documentation for `closure`.
    pub fn step(&mut self, closure: &mut dyn FnMut() -> f32) -> LbfgsStep {
        let c = self.config;
        let mut evaluations = 0;
        let (loss, g) = match self.current.take() {
            Some(state) => state,
            None => {
                evaluations += 1;
                self.evaluate(closure)
            }
        };
        let done = |loss, evaluations| LbfgsStep {
            loss,
            evaluations,
            converged: true,
        };
        if no_grad(|| max_abs(&g)) <= c.tolerance_grad {
            self.current = Some((loss, g));
            return done(loss, evaluations);
        }
        let (d, slope) = no_grad(|| {
            let d = self.direction(&g);
            let slope = dot(&g, &d);
            if slope < 0.0 {
                return (d, slope);
            }
            // not a descent direction (the pairs went stale): restart from steepest descent
            self.pairs.clear();
            let d = g.neg();
            let slope = dot(&g, &d);
            (d, slope)
        });
        // without curvature information, scale the first step by the gradient (as PyTorch)
        let mut t = if self.pairs.is_empty() {
            c.lr * no_grad(|| 1.0 / g.abs().sum_all().item()).min(1.0)
        } else {
            c.lr
        };
        let start = self.param.deep_clone();
        let mut step = None;
        for _ in 0..c.max_line_search {
            no_grad(|| self.param.assign(&start.add(&d.mul_scalar(t))));
            evaluations += 1;
            let (new_loss, new_g) = self.evaluate(closure);
            if new_loss.is_finite() && new_loss <= loss + c.c1 * t * slope {
                step = Some((t, new_loss, new_g));
                break;
            }
            t *= 0.5;
        }
        let Some((t, new_loss, new_g)) = step else {
            // no decrease along d: leave the parameter where it was
            self.param.assign(&start);
            self.current = Some((loss, g));
            return done(loss, evaluations);
        };
        no_grad(|| {
            let s = d.mul_scalar(t);
            let y = new_g.sub(&g);
            let sy = dot(&s, &y);
            if sy > 1e-10 {
                self.pairs.push_back((s, y, 1.0 / sy));
                if self.pairs.len() > c.history {
                    self.pairs.pop_front();
                }
            }
        });
        self.current = Some((new_loss, new_g));
        LbfgsStep {
            loss: new_loss,
            evaluations,
            converged: (loss - new_loss).abs() < c.tolerance_change,
        }
    }
}

#[cfg(test)]
mod tests {
    use atelier_tensor::{Device, Tensor};

    use super::*;

    /// Runs L-BFGS on `f` from `start` (CPU), returning the final point and the iterations.
    fn minimise(
        f: &dyn Fn(&Tensor) -> Tensor,
        start: &[f32],
        iterations: usize,
    ) -> (Vec<f32>, usize) {
        let x = Tensor::from_vec(start.to_vec(), &[start.len()], Device::Cpu).requires_grad_(true);
        let mut opt = Lbfgs::new(x.clone(), LbfgsConfig::default());
        let mut closure = || {
            let loss = f(&x);
            loss.backward();
            loss.item()
        };
        for i in 0..iterations {
            if opt.step(&mut closure).converged {
                return (x.to_vec(), i + 1);
            }
        }
        (x.to_vec(), iterations)
    }

    #[test]
    fn quadratic() {
        // f(x) = ½ Σ aᵢ (xᵢ − bᵢ)², condition number 100: minimum at b
        let a = [1.0, 3.0, 10.0, 30.0, 100.0];
        let b = [1.0, -2.0, 0.5, 3.0, -1.0];
        let at = Tensor::from_vec(a.to_vec(), &[5], Device::Cpu);
        let bt = Tensor::from_vec(b.to_vec(), &[5], Device::Cpu);
        let f = |x: &Tensor| x.sub(&bt).square().mul(&at).sum_all().mul_scalar(0.5);
        let (x, iterations) = minimise(&f, &[0.0; 5], 100);
        for (xi, bi) in x.iter().zip(b) {
            assert!((xi - bi).abs() < 1e-4, "x = {x:?}, want {b:?}");
        }
        assert!(iterations < 30, "took {iterations} iterations");
    }

    #[test]
    fn rosenbrock() {
        // f(x, y) = (1 − x)² + 100 (y − x²)², from the classic start (−1.2, 1): minimum (1, 1)
        let f = |p: &Tensor| {
            let (x, y) = (p.slice(0, 0, 1), p.slice(0, 1, 2));
            let a = x.neg().add_scalar(1.0).square();
            let b = y.sub(&x.square()).square().mul_scalar(100.0);
            a.add(&b).sum_all()
        };
        let (p, iterations) = minimise(&f, &[-1.2, 1.0], 200);
        assert!(
            (p[0] - 1.0).abs() < 1e-3 && (p[1] - 1.0).abs() < 1e-3,
            "ended at {p:?} after {iterations} iterations"
        );
        // gradient descent needs thousands of iterations here; L-BFGS a few dozen
        assert!(iterations < 100, "took {iterations} iterations");
    }
}
