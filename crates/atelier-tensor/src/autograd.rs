//! Reverse-mode autograd.
//!
//! An op whose inputs need gradients records a [`Node`] on its output: its name, its inputs,
//! and a closure from the output's gradient to one optional gradient per input. `backward`
//! walks the nodes in reverse topological order, accumulates gradients (a tensor used twice
//! gets the sum), stores them on leaves that `requires_grad`, and drops every node it visited,
//! freeing the saved tensors: the graph lives for one backward, as in PyTorch.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use crate::tensor::Tensor;

/// The gradient function of one op: output gradient → one optional gradient per input.
pub type BackwardFn = Box<dyn Fn(&Tensor) -> Vec<Option<Tensor>>>;

pub struct Node {
    pub op: &'static str,
    pub inputs: Vec<Tensor>,
    pub backward: BackwardFn,
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops currently record the graph.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Runs `f` without recording the graph (as `torch.no_grad()`).
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let prev = GRAD_ENABLED.with(|g| g.replace(false));
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GRAD_ENABLED.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(prev);
    f()
}

impl Tensor {
    /// Marks a leaf tensor as needing gradients (builder style).
    pub fn requires_grad_(self, on: bool) -> Tensor {
        assert!(
            self.0.node.borrow().is_none() || !on,
            "requires_grad_: only leaf tensors can be marked (this one is computed by an op)"
        );
        self.0.requires_grad.set(on);
        self
    }

    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.get()
    }

    /// Whether this tensor was made by an op (it has a node) rather than created directly.
    pub fn is_leaf(&self) -> bool {
        self.0.node.borrow().is_none()
    }

    /// The accumulated gradient, after `backward`.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.borrow().clone()
    }

    pub fn set_grad(&self, g: Option<Tensor>) {
        *self.0.grad.borrow_mut() = g;
    }

    /// Clears the accumulated gradient.
    pub fn zero_grad(&self) {
        *self.0.grad.borrow_mut() = None;
    }

    /// The same values, cut off from the graph.
    pub fn detach(&self) -> Tensor {
        self.view_of(self.shape())
    }

    /// Attaches a node to a freshly computed output when grad mode is on and any input needs
    /// gradients. Ops call this last.
    pub(crate) fn with_node(
        self,
        op: &'static str,
        inputs: &[&Tensor],
        backward: impl Fn(&Tensor) -> Vec<Option<Tensor>> + 'static,
    ) -> Tensor {
        if is_grad_enabled() && inputs.iter().any(|t| t.requires_grad()) {
            self.0.requires_grad.set(true);
            *self.0.node.borrow_mut() = Some(Node {
                op,
                inputs: inputs.iter().map(|t| (*t).clone()).collect(),
                backward: Box::new(backward),
            });
        }
        self
    }

    /// Backpropagates from this scalar: every leaf that requires gradients and contributes to
    /// it gets `grad += d self / d leaf`. The graph is freed afterwards.
    pub fn backward(&self) {
        assert_eq!(
            self.numel(),
            1,
            "backward: called on a tensor of shape {:?}; it needs a scalar (sum or mean first)",
            self.shape()
        );
        assert!(
            self.requires_grad(),
            "backward: the tensor does not require grad (no leaf needs gradients, or it was made under no_grad)"
        );
        self.backward_with(self.ones_like());
    }

    /// Backpropagates with an explicit output gradient of this tensor's shape.
    pub fn backward_with(&self, grad: Tensor) {
        assert_eq!(grad.shape(), self.shape(), "backward_with: gradient shape");
        let order = topological_order(self);
        let mut grads: HashMap<usize, Tensor> = HashMap::new();
        grads.insert(self.id(), grad);
        no_grad(|| {
            for t in order.iter().rev() {
                let Some(g) = grads.remove(&t.id()) else {
                    continue;
                };
                let node = t.0.node.borrow_mut().take();
                match node {
                    Some(node) => {
                        let input_grads = (node.backward)(&g);
                        assert_eq!(
                            input_grads.len(),
                            node.inputs.len(),
                            "{}: backward arity",
                            node.op
                        );
                        for (input, ig) in node.inputs.iter().zip(input_grads) {
                            let Some(ig) = ig else { continue };
                            if !input.requires_grad() {
                                continue;
                            }
                            assert_eq!(
                                ig.shape(),
                                input.shape(),
                                "{}: backward produced gradient {:?} for input {:?}",
                                node.op,
                                ig.shape(),
                                input.shape()
                            );
                            let acc = match grads.remove(&input.id()) {
                                Some(prev) => prev.add(&ig),
                                None => ig,
                            };
                            grads.insert(input.id(), acc);
                        }
                    }
                    None => {
                        // a leaf: accumulate into .grad as PyTorch does
                        if t.requires_grad() {
                            let acc = match t.grad() {
                                Some(prev) => prev.add(&g),
                                None => g,
                            };
                            t.set_grad(Some(acc));
                        }
                    }
                }
            }
        });
    }

    /// The op that made this tensor, if the graph is still alive.
    pub fn grad_fn(&self) -> Option<&'static str> {
        self.0.node.borrow().as_ref().map(|n| n.op)
    }
}

/// Tensors reachable from `root` through nodes, each after all its inputs.
fn topological_order(root: &Tensor) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    // iterative DFS: (tensor, inputs already pushed?)
    let mut stack = vec![(root.clone(), false)];
    while let Some((t, expanded)) = stack.pop() {
        if expanded {
            order.push(t);
            continue;
        }
        if !seen.insert(t.id()) {
            continue;
        }
        stack.push((t.clone(), true));
        if let Some(node) = t.0.node.borrow().as_ref() {
            for i in &node.inputs {
                if !seen.contains(&i.id()) && i.requires_grad() {
                    stack.push((i.clone(), false));
                }
            }
        }
    }
    order
}
