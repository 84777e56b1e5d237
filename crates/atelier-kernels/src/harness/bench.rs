//! The interface between a family's benchmark cases and what times them.
//!
//! A family's `bench.rs` walks its shapes, makes a few copies of each shape's buffers, and
//! hands every (kernel, variant) of that shape to [`Bencher::measure`] with its work (FLOPs,
//! bytes), its PyTorch equivalent, and a closure that launches one run on copy `i`. The
//! drivers implement [`Bencher`]: `cargo xtask bench` (median of many runs, GPU timestamps,
//! table, JSON, roofline) and the criterion benches (`cargo bench -p atelier-benches`).

use serde::Serialize;

use super::inputs::Inputs;
use super::work::Work;

/// One row of a benchmark: what runs, at which shape, doing how much work.
#[derive(Clone, Debug)]
pub struct BenchRow {
    /// The family (`conv2d`), as in the registry.
    pub family: &'static str,
    /// `family.kernel` (`conv2d.forward`).
    pub kernel: String,
    pub variant: String,
    /// A label of the shape (`D2 N64 64x32x32>128x16x16 4x4/s2/p1`).
    pub shape: String,
    pub work: Work,
    /// The same work in PyTorch, for the side-by-side (`scripts/torch_bench.py`).
    pub torch: Option<TorchOp>,
}

/// Which device a suite times: the GPU's kernels (on whatever adapter `gpu()` opened) or the
/// fast CPU device's (`families/*/cpu.rs`, on host vectors, wall clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchDevice {
    Gpu,
    Cpu,
}

impl BenchDevice {
    pub fn name(self) -> &'static str {
        match self {
            BenchDevice::Gpu => "gpu",
            BenchDevice::Cpu => "cpu",
        }
    }
}

/// The variant name of every fast CPU row (the fast CPU device has one way to run each kernel).
pub const CPU_VARIANT: &str = "cpu";

/// What runs a family's benchmark cases.
pub trait Bencher {
    /// The device whose kernels the cases time; a family without a fast CPU kernel adds no
    /// rows on [`BenchDevice::Cpu`].
    fn device(&self) -> BenchDevice {
        BenchDevice::Gpu
    }
    /// A small subset of shapes (CI-sized on a software adapter).
    fn quick(&self) -> bool;
    /// The DCGAN batch sizes to run the network shapes at.
    fn dcgan_batches(&self) -> Vec<usize>;
    /// Whether a row passes the user's filter: make buffers only for shapes with wanted rows.
    fn wants(&self, kernel: &str, variant: &str, shape: &str) -> bool;
    /// The source of random input buffers.
    fn inputs(&mut self) -> &mut Inputs;
    /// Times `run(i)` (`i` below `copies`: which copy of the buffers to use) as `row`.
    fn measure(&mut self, row: BenchRow, copies: usize, run: &mut dyn FnMut(usize));
}

/// How copies of buffers totalling `bytes` to rotate through (see [`super::inputs`]).
pub fn copies_for(bytes: f64) -> usize {
    super::inputs::rotation(bytes)
}

/// The PyTorch code that does a row's work, for `scripts/torch_bench.py`: a Python
/// expression over named random tensors, evaluated with `torch`, `F`
/// (`torch.nn.functional`) and `aten` (`torch.ops.aten`) in scope.
#[derive(Clone, Debug, Serialize)]
pub struct TorchOp {
    /// Evaluated for each timed run (`F.conv2d(x, w, stride=2, padding=1)`).
    pub expr: String,
    /// A CPU replacement when `expr` calls CUDA-only kernels (SyncBatchNorm's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_expr: Option<String>,
    /// The values `expr` names: name, shape, and how to make them (`rand`: uniform in
    /// [-1, 1); `positive`: in [0.5, 1.5); `count`: a one-element int32 tensor holding
    /// `value`; `scalar`: the Python float `value`).
    pub inputs: Vec<TorchInput>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TorchInput {
    pub name: String,
    pub shape: Vec<usize>,
    pub init: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

impl TorchOp {
    pub fn new(expr: impl Into<String>) -> TorchOp {
        TorchOp {
            expr: expr.into(),
            cpu_expr: None,
            inputs: Vec::new(),
        }
    }

    /// A random input in [-1, 1).
    pub fn rand(mut self, name: &str, shape: &[usize]) -> TorchOp {
        self.inputs.push(TorchInput {
            name: name.into(),
            shape: shape.to_vec(),
            init: "rand",
            value: None,
        });
        self
    }

    /// A random input in [0.5, 1.5) (a standard deviation, say).
    pub fn positive(mut self, name: &str, shape: &[usize]) -> TorchOp {
        self.inputs.push(TorchInput {
            name: name.into(),
            shape: shape.to_vec(),
            init: "positive",
            value: None,
        });
        self
    }

    /// A one-element int32 tensor holding `value` (an element count).
    pub fn count(mut self, name: &str, value: usize) -> TorchOp {
        self.inputs.push(TorchInput {
            name: name.into(),
            shape: vec![1],
            init: "count",
            value: Some(value as f64),
        });
        self
    }

    /// A Python float named `name` (an op's scalar).
    pub fn scalar(mut self, name: &str, value: f64) -> TorchOp {
        self.inputs.push(TorchInput {
            name: name.into(),
            shape: Vec::new(),
            init: "scalar",
            value: Some(value),
        });
        self
    }

    /// The expression to use on a CPU instead.
    pub fn on_cpu(mut self, expr: impl Into<String>) -> TorchOp {
        self.cpu_expr = Some(expr.into());
        self
    }
}
