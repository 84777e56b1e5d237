//! The fast CPU device allocates no tensor memory inside a training step once its shapes
//! repeat: outputs come from the host pool, a convolution's im2col matrix from each thread's
//! scratch, as GPU buffers come from the buffer pool (issue "a fast CPU device", item 1).
//!
//! A counting global allocator sees every allocation of this test binary; after two warm-up
//! steps, the next steps of the README demo's DCGAN may make small allocations (the autograd
//! graph's nodes, shapes) but none of tensor size, except
//! inside the `gemm` crate, which allocates its packing buffer in each call (it takes no
//! caller workspace; `cpu::gemm::in_gemm_call` tells those apart, and they are counted and
//! shown, not asserted). The same holds for a step of Gatys style transfer (VGG-19 to relu5_1,
//! every loss, Adam on the pixels). The allocator counts the whole process: tests added here
//! take turns on the lock.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use atelier_gan::{Dcgan, DcganConfig, latent};
use atelier_kernels::cpu::{CpuMode, with_cpu_mode};
use atelier_style::Vgg19;
use atelier_style::gatys::{TransferConfig, adam_step, pixel_adam};
use atelier_style::loss::PerceptualLoss;
use atelier_tensor::{Device, Tensor};

/// Allocations of at least this many bytes count as tensor-sized: 4 Ki f32s, smaller than
/// any activation of the networks below (the smallest, D's last map at batch 8, is counted
/// separately: it is under the host pool's minimum and left to the allocator by design).
const TENSOR_BYTES: usize = 16 * 1024;

struct Counting;

static LARGE: AtomicU64 = AtomicU64::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);
static IN_GEMM: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded unchanged to the system allocator
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as above
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: as above
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn count(size: usize) {
    if size < TENSOR_BYTES {
        return;
    }
    if atelier_kernels::cpu::gemm::in_gemm_call() {
        IN_GEMM.fetch_add(1, Relaxed);
    } else {
        LARGE.fetch_add(1, Relaxed);
        LARGEST.fetch_max(size, Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static TURNS: Mutex<()> = Mutex::new(());

/// Tensor-sized allocations outside the GEMM crate (and the largest of them), and those inside
/// it, made by `steps` runs of `step` after `warm_up`.
fn large_allocations(warm_up: usize, steps: usize, mut step: impl FnMut()) -> (u64, usize, u64) {
    for _ in 0..warm_up {
        step();
    }
    LARGE.store(0, Relaxed);
    LARGEST.store(0, Relaxed);
    IN_GEMM.store(0, Relaxed);
    for _ in 0..steps {
        step();
    }
    (
        LARGE.load(Relaxed),
        LARGEST.load(Relaxed),
        IN_GEMM.load(Relaxed),
    )
}

#[test]
fn a_dcgan_step_on_the_fast_cpu_allocates_no_tensor_memory_once_warm() {
    let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
    with_cpu_mode(CpuMode::Fast, || {
        let config = DcganConfig {
            nz: 100,
            ngf: 16,
            ndf: 16,
            channels: 3,
            image_size: 32,
        };
        let batch = 8;
        let mut gan = Dcgan::new(config, Device::Cpu, 0, 2e-4);
        let real = Tensor::rand_uniform(&[batch, 3, 32, 32], -1.0, 1.0, 1, Device::Cpu);
        let z = latent::noise(batch, config.nz, 2, Device::Cpu);
        let before = gan.steps();
        let (large, largest, in_gemm) = large_allocations(2, 3, || {
            gan.step(&real, &z);
        });
        println!("3 warm DCGAN steps: {in_gemm} packing buffers allocated inside the gemm crate");
        assert_eq!(gan.steps(), before + 5, "the steps ran");
        assert_eq!(
            large, 0,
            "3 warm DCGAN steps made {large} allocations of at least {TENSOR_BYTES} bytes \
             (largest {largest})"
        );
    });
}

#[test]
fn a_gatys_step_on_the_fast_cpu_allocates_no_tensor_memory_once_warm() {
    let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
    with_cpu_mode(CpuMode::Fast, || {
        // 32 px: VGG's fifth block at 2x2, every layer's maps over the 16 KiB line
        let side = 32;
        let vgg = Vgg19::random(0, "relu5_1", Device::Cpu).expect("VGG-19 to relu5_1");
        let image = |seed| Tensor::rand_uniform(&[1, 3, side, side], 0.0, 1.0, seed, Device::Cpu);
        let (content, style) = (image(1), image(2));
        let config = TransferConfig::default();
        let loss = PerceptualLoss::new(&vgg, &style, config.weights);
        let target = loss.content_target(&content);
        let x = content.deep_clone().requires_grad_(true);
        let mut adam = pixel_adam(&x, config.lr);
        let before = x.to_vec();
        let (large, largest, in_gemm) = large_allocations(2, 3, || {
            adam_step(&loss, &target, &x, &mut adam);
        });
        println!("3 warm Gatys steps: {in_gemm} packing buffers allocated inside the gemm crate");
        assert_ne!(x.to_vec(), before, "the steps changed the image");
        assert_eq!(
            large, 0,
            "3 warm Gatys steps made {large} allocations of at least {TENSOR_BYTES} bytes \
             (largest {largest})"
        );
    });
}
