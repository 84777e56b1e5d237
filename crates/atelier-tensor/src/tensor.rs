//! The tensor type: shape, storage, and autograd state.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use atelier_kernels::{GpuBuffer, elementwise as ew, gpu};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal, Uniform};

use crate::autograd::Node;
use crate::device::{DType, Device};
use crate::storage::{CpuData, Storage};

static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

pub(crate) struct Inner {
    pub id: usize,
    pub shape: Vec<usize>,
    /// Shared between a tensor and its reshaped views.
    pub storage: Rc<Storage>,
    pub requires_grad: Cell<bool>,
    pub grad: RefCell<Option<Tensor>>,
    /// How this tensor was computed, while the graph is alive (None for leaves).
    pub node: RefCell<Option<Node>>,
}

/// An n-dimensional array of f32 on the CPU or the GPU, contiguous, row-major. Cloning a
/// `Tensor` is cheap: clones share storage and autograd state.
#[derive(Clone)]
pub struct Tensor(pub(crate) Rc<Inner>);

pub(crate) fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

impl Tensor {
    pub(crate) fn from_storage(storage: Storage, shape: &[usize]) -> Tensor {
        Tensor(Rc::new(Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shape: shape.to_vec(),
            storage: Rc::new(storage),
            requires_grad: Cell::new(false),
            grad: RefCell::new(None),
            node: RefCell::new(None),
        }))
    }

    pub(crate) fn view_of(&self, shape: &[usize]) -> Tensor {
        Tensor(Rc::new(Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shape: shape.to_vec(),
            storage: self.0.storage.clone(),
            requires_grad: Cell::new(false),
            grad: RefCell::new(None),
            node: RefCell::new(None),
        }))
    }

    pub(crate) fn from_cpu(data: CpuData, shape: &[usize]) -> Tensor {
        assert_eq!(
            data.len(),
            numel(shape),
            "tensor: {} values for shape {shape:?}",
            data.len()
        );
        Tensor::from_storage(Storage::Cpu(RefCell::new(data)), shape)
    }

    pub(crate) fn from_gpu(buf: GpuBuffer, shape: &[usize]) -> Tensor {
        assert_eq!(
            buf.len(),
            numel(shape),
            "tensor: buffer of {} for shape {shape:?}",
            buf.len()
        );
        Tensor::from_storage(Storage::Gpu(buf), shape)
    }

    /// A tensor holding `data` with `shape` on `device`.
    pub fn from_vec(data: Vec<f32>, shape: &[usize], device: Device) -> Tensor {
        assert_eq!(
            data.len(),
            numel(shape),
            "from_vec: {} values do not fill shape {shape:?}",
            data.len()
        );
        match device {
            Device::Cpu => Tensor::from_cpu(CpuData::F32(data), shape),
            Device::Gpu => Tensor::from_gpu(gpu().upload(&data), shape),
        }
    }

    /// An f64 CPU tensor (for gradient checks and exact references).
    pub fn from_f64(data: Vec<f64>, shape: &[usize]) -> Tensor {
        Tensor::from_cpu(CpuData::F64(data), shape)
    }

    /// A scalar (shape `[]`).
    pub fn scalar(v: f32, device: Device) -> Tensor {
        Tensor::full(&[], v, device)
    }

    pub fn full(shape: &[usize], value: f32, device: Device) -> Tensor {
        let n = numel(shape);
        match device {
            Device::Cpu => Tensor::from_cpu(CpuData::F32(vec![value; n]), shape),
            Device::Gpu => {
                let b = GpuBuffer::uninit(n);
                ew::fill(&b, value);
                Tensor::from_gpu(b, shape)
            }
        }
    }

    pub fn zeros(shape: &[usize], device: Device) -> Tensor {
        Tensor::full(shape, 0.0, device)
    }

    pub fn ones(shape: &[usize], device: Device) -> Tensor {
        Tensor::full(shape, 1.0, device)
    }

    /// Same shape, device and dtype as `self`, filled with `value`.
    pub fn full_like(&self, value: f32) -> Tensor {
        match &*self.0.storage {
            Storage::Cpu(c) => {
                let n = self.numel();
                let d = match c.borrow().dtype() {
                    DType::F32 => CpuData::F32(vec![value; n]),
                    DType::F64 => CpuData::F64(vec![value as f64; n]),
                };
                Tensor::from_cpu(d, self.shape())
            }
            Storage::Gpu(_) => Tensor::full(self.shape(), value, Device::Gpu),
        }
    }

    pub fn zeros_like(&self) -> Tensor {
        self.full_like(0.0)
    }

    pub fn ones_like(&self) -> Tensor {
        self.full_like(1.0)
    }

    /// Uniform values in [lo, hi), deterministic for a seed and the same on every device.
    pub fn rand_uniform(shape: &[usize], lo: f32, hi: f32, seed: u64, device: Device) -> Tensor {
        let mut rng = StdRng::seed_from_u64(seed);
        let dist = Uniform::new(lo, hi).expect("rand_uniform: lo < hi");
        let data = (0..numel(shape)).map(|_| dist.sample(&mut rng)).collect();
        Tensor::from_vec(data, shape, device)
    }

    /// Normal values with the given mean and standard deviation, deterministic for a seed.
    pub fn randn(shape: &[usize], mean: f32, std: f32, seed: u64, device: Device) -> Tensor {
        let mut rng = StdRng::seed_from_u64(seed);
        let data = (0..numel(shape))
            .map(|_| {
                let z: f32 = StandardNormal.sample(&mut rng);
                mean + std * z
            })
            .collect();
        Tensor::from_vec(data, shape, device)
    }

    pub fn shape(&self) -> &[usize] {
        &self.0.shape
    }

    pub fn dims(&self) -> usize {
        self.0.shape.len()
    }

    pub fn numel(&self) -> usize {
        numel(&self.0.shape)
    }

    pub fn device(&self) -> Device {
        self.0.storage.device()
    }

    pub fn dtype(&self) -> DType {
        match &*self.0.storage {
            Storage::Cpu(c) => c.borrow().dtype(),
            Storage::Gpu(_) => DType::F32,
        }
    }

    /// A process-unique id (stable for the tensor's life).
    pub fn id(&self) -> usize {
        self.0.id
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.0.storage
    }

    /// The GPU buffer of a GPU tensor (for kernels outside this crate).
    pub fn gpu_buffer(&self) -> &GpuBuffer {
        match &*self.0.storage {
            Storage::Gpu(b) => b,
            Storage::Cpu(_) => panic!("gpu_buffer: tensor {:?} is on the CPU", self.shape()),
        }
    }

    /// The host data of an f32 CPU tensor, for code that updates it in place (optimizers).
    /// Panics for GPU or f64 tensors.
    pub fn cpu_f32_mut(&self) -> std::cell::RefMut<'_, Vec<f32>> {
        match &*self.0.storage {
            Storage::Cpu(c) => std::cell::RefMut::map(c.borrow_mut(), |d| match d {
                CpuData::F32(v) => v,
                CpuData::F64(_) => panic!("cpu_f32_mut: tensor {:?} holds f64", self.0.shape),
            }),
            Storage::Gpu(_) => panic!("cpu_f32_mut: tensor {:?} is on the GPU", self.shape()),
        }
    }

    /// The host data of an f32 CPU tensor. Panics for GPU or f64 tensors.
    pub fn cpu_f32(&self) -> std::cell::Ref<'_, Vec<f32>> {
        match &*self.0.storage {
            Storage::Cpu(c) => std::cell::Ref::map(c.borrow(), |d| match d {
                CpuData::F32(v) => v,
                CpuData::F64(_) => panic!("cpu_f32: tensor {:?} holds f64", self.0.shape),
            }),
            Storage::Gpu(_) => panic!("cpu_f32: tensor {:?} is on the GPU", self.shape()),
        }
    }

    /// All values as f32 (reads back from the GPU).
    pub fn to_vec(&self) -> Vec<f32> {
        match &*self.0.storage {
            Storage::Cpu(c) => c.borrow().to_f32(),
            Storage::Gpu(b) => gpu().read(b, 0, b.len()),
        }
    }

    /// The values as f64 (exact for f64 CPU tensors).
    pub fn to_vec_f64(&self) -> Vec<f64> {
        match &*self.0.storage {
            Storage::Cpu(c) => c.borrow().to_f64(),
            Storage::Gpu(b) => gpu()
                .read(b, 0, b.len())
                .into_iter()
                .map(f64::from)
                .collect(),
        }
    }

    /// The single value of a one-element tensor.
    pub fn item(&self) -> f32 {
        assert_eq!(
            self.numel(),
            1,
            "item: tensor of shape {:?} is not a scalar",
            self.shape()
        );
        self.to_vec()[0]
    }

    /// A copy on `device` (self when it is already there). Not recorded by autograd.
    pub fn to_device(&self, device: Device) -> Tensor {
        if self.device() == device {
            return self.clone();
        }
        Tensor::from_vec(self.to_vec(), self.shape(), device)
    }

    /// A copy as an f64 CPU tensor. Not recorded by autograd.
    pub fn to_f64(&self) -> Tensor {
        Tensor::from_f64(self.to_vec_f64(), self.shape())
    }

    /// A copy as an f32 tensor on the same device (CPU f64 → CPU f32).
    pub fn to_f32(&self) -> Tensor {
        match self.device() {
            Device::Gpu => self.clone(),
            Device::Cpu => Tensor::from_vec(self.to_vec(), self.shape(), Device::Cpu),
        }
    }

    /// A deep copy with its own storage, detached from the graph.
    pub fn deep_clone(&self) -> Tensor {
        match &*self.0.storage {
            Storage::Cpu(c) => {
                let d = match &*c.borrow() {
                    CpuData::F32(v) => CpuData::F32(v.clone()),
                    CpuData::F64(v) => CpuData::F64(v.clone()),
                };
                Tensor::from_cpu(d, self.shape())
            }
            Storage::Gpu(b) => {
                let out = GpuBuffer::uninit(b.len());
                gpu().copy(b, 0, &out, 0, b.len());
                Tensor::from_gpu(out, self.shape())
            }
        }
    }

    /// Overwrites this tensor's values with `src`'s (same shape and device), in place. Used by
    /// optimizers and checkpoint loading; not recorded by autograd.
    pub fn assign(&self, src: &Tensor) {
        assert_eq!(self.shape(), src.shape(), "assign: shapes differ");
        match (&*self.0.storage, &*src.0.storage) {
            (Storage::Gpu(d), Storage::Gpu(s)) => gpu().copy(s, 0, d, 0, s.len()),
            (Storage::Cpu(d), Storage::Cpu(s)) => {
                let s = s.borrow();
                let mut d = d.borrow_mut();
                *d = match (&*d, &*s) {
                    (CpuData::F32(_), s) => CpuData::F32(s.to_f32()),
                    (CpuData::F64(_), s) => CpuData::F64(s.to_f64()),
                };
            }
            _ => panic!("assign: tensors are on different devices"),
        }
    }

    /// Overwrites the values from host data, in place.
    pub fn write(&self, data: &[f32]) {
        assert_eq!(
            data.len(),
            self.numel(),
            "write: {} values for shape {:?}",
            data.len(),
            self.shape()
        );
        match &*self.0.storage {
            Storage::Gpu(b) => gpu().write(b, 0, data),
            Storage::Cpu(c) => {
                let mut c = c.borrow_mut();
                *c = match &*c {
                    CpuData::F32(_) => CpuData::F32(data.to_vec()),
                    CpuData::F64(_) => CpuData::F64(data.iter().map(|&x| x as f64).collect()),
                };
            }
        }
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor({:?}, {}", self.shape(), self.device())?;
        if self.device() == Device::Cpu && self.numel() <= 16 {
            write!(f, ", {:?}", self.to_vec())?;
        }
        if self.requires_grad() {
            write!(f, ", requires_grad")?;
        }
        write!(f, ")")
    }
}
