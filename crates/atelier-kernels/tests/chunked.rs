//! Tensors larger than one storage binding run in batch chunks (`atelier_kernels::chunk`): each
//! launcher that splits gives, with the binding limit lowered for the test's thread, what it
//! gives unsplit (every chunked run must really have split: the device counts chunks).
//!
//! Shapes keep one item at 256 f32 (1 KiB), a multiple of every storage offset alignment a
//! device may ask (at most 256 bytes), and a limit of 2 KiB splits a batch of 5 into 2 + 2 + 1.
//! One image larger than a binding (12 planes of 8×8: 3 KiB) splits inside: convolutions into
//! blocks of 8 + 4 channels, pooling into chunks of planes, Gram matrices into row blocks.

use atelier_kernels::batchnorm::{self as bn, BatchNormConfig, BatchNormMode, BatchNormReduction};
use atelier_kernels::chunk::with_binding_limit;
use atelier_kernels::context::gpu_for_tests;
use atelier_kernels::conv2d::{self, Conv2dSpec, ConvTranspose2dSpec, ConvVariant};
use atelier_kernels::elementwise::{self as ew, BinaryOp, UnaryOp};
use atelier_kernels::harness::relative_error;
use atelier_kernels::instance_norm::{self as inorm, InstanceNormConfig};
use atelier_kernels::layout::{self, StridedCopy};
use atelier_kernels::matmul;
use atelier_kernels::pool2d::{self, Pool2dConfig};
use atelier_kernels::reduce::{self, ReduceOp, ReduceSpec};
use atelier_kernels::resample;
use atelier_kernels::variant::Variant;
use atelier_kernels::{GpuBuffer, gpu};

const LIMIT: u64 = 2048;

/// Deterministic values in [-1.5, 2.5) (an offset, so statistics are not those of zero mean).
fn values(len: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s % 10_000) as f32 / 10_000.0 * 4.0 - 1.5
        })
        .collect()
}

fn up(len: usize, seed: u32) -> GpuBuffer {
    gpu().upload(&values(len, seed))
}

/// Runs `f` (which returns its outputs, read back) whole, then with the binding limit lowered;
/// asserts the lowered run split into chunks and that every output agrees within `tol`.
fn same_split(what: &str, tol: f64, f: impl Fn() -> Vec<Vec<f32>>) {
    let whole = f();
    let before = gpu().stats();
    let split = with_binding_limit(LIMIT, &f);
    let chunks = (gpu().stats() - before).chunks;
    assert!(chunks >= 3, "{what}: ran in {chunks} chunks, not split");
    for (i, (a, b)) in whole.iter().zip(&split).enumerate() {
        let err = relative_error(b, a);
        assert!(
            err <= tol,
            "{what}: output {i} differs by {err:e} when split"
        );
    }
}

fn read(b: &GpuBuffer) -> Vec<f32> {
    gpu().read(b, 0, b.len())
}

#[test]
fn convolutions_split_along_the_batch_give_what_they_give_whole() {
    if !gpu_for_tests() {
        return;
    }
    // x [5, 4, 8, 8], y [5, 4, 8, 8]: one item of each is 256 f32
    let spec = Conv2dSpec {
        n: 5,
        c: 4,
        h: 8,
        w: 8,
        k: 4,
        r: 3,
        s: 3,
        stride: (1, 1),
        pad: (1, 1),
        dilation: (1, 1),
    };
    let (x, w, gy) = (
        up(spec.x_len(), 1),
        up(spec.w_len(), 2),
        up(spec.y_len(), 3),
    );
    for &v in ConvVariant::ALL {
        if v.unavailable().is_some() {
            continue;
        }
        // split-K's slices follow the binding too (the partial sums must fit one), so the
        // split run may sum a reduction in other slices: a float tolerance
        same_split(&format!("conv2d forward {}", v.name()), 1e-6, || {
            let y = GpuBuffer::uninit(spec.y_len());
            conv2d::conv2d_forward_with(v, &spec, &x, &w, None, &y);
            vec![read(&y)]
        });
        same_split(&format!("conv2d backward-data {}", v.name()), 1e-6, || {
            let gx = GpuBuffer::uninit(spec.x_len());
            conv2d::conv2d_backward_data_with(v, &spec, &gy, &w, &gx);
            vec![read(&gx)]
        });
        // a sum over the batch: the chunks' partial sums add up in another order
        same_split(
            &format!("conv2d backward-weight {}", v.name()),
            1e-5,
            || {
                let gw = GpuBuffer::uninit(spec.w_len());
                conv2d::conv2d_backward_weight_with(v, &spec, &x, &gy, &gw);
                vec![read(&gw)]
            },
        );
    }
    // a transposed convolution [5, 16, 4, 4] -> [5, 4, 8, 8] runs on the same launchers
    let t = ConvTranspose2dSpec {
        n: 5,
        c_in: 16,
        h_in: 4,
        w_in: 4,
        c_out: 4,
        r: 4,
        s: 4,
        stride: (2, 2),
        pad: (1, 1),
        output_padding: (0, 0),
        dilation: (1, 1),
    };
    let (tx, tw, tgy) = (up(t.x_len(), 4), up(t.w_len(), 5), up(t.y_len(), 6));
    // its weight (4 KiB) is over the limit too: it also runs in blocks of channels, whose
    // partial sums add up in another order
    same_split("conv_transpose2d forward", 1e-5, || {
        let y = GpuBuffer::uninit(t.y_len());
        conv2d::conv_transpose2d_forward(&t, &tx, &tw, None, &y);
        vec![read(&y)]
    });
    same_split("conv_transpose2d backward", 1e-5, || {
        let (gx, gw) = (GpuBuffer::uninit(t.x_len()), GpuBuffer::uninit(t.w_len()));
        conv2d::conv_transpose2d_backward_data(&t, &tgy, &tw, &gx);
        conv2d::conv_transpose2d_backward_weight(&t, &tx, &tgy, &gw);
        vec![read(&gx), read(&gw)]
    });
}

#[test]
fn batch_normalisation_split_along_the_batch_gives_what_it_gives_whole() {
    if !gpu_for_tests() {
        return;
    }
    let cfg = BatchNormConfig::new(5, 4, 8, 8);
    let c = cfg.c;
    let (x, gy, gamma, beta) = (up(cfg.len(), 7), up(cfg.len(), 8), up(c, 9), up(c, 10));
    for &v in BatchNormReduction::ALL {
        if v.unavailable().is_some() {
            continue;
        }
        // statistics from chunked sums are computed another way: a float tolerance
        same_split(&format!("batchnorm training {}", v.name()), 1e-5, || {
            let (mean, invstd) = (GpuBuffer::uninit(c), GpuBuffer::uninit(c));
            let (rm, rv) = (gpu().upload(&vec![0.1; c]), gpu().upload(&vec![0.9; c]));
            bn::batchnorm_stats_with(v, &cfg, &x, &mean, &invstd, &rm, &rv);
            let y = GpuBuffer::uninit(cfg.len());
            bn::batchnorm_apply(&cfg, &x, &mean, &invstd, &gamma, &beta, &y);
            let (gg, gb, gx) = (
                GpuBuffer::uninit(c),
                GpuBuffer::uninit(c),
                GpuBuffer::uninit(cfg.len()),
            );
            bn::batchnorm_backward_reduce_with(v, &cfg, &x, &gy, &mean, &invstd, &gg, &gb);
            let mode = BatchNormMode::Training;
            bn::batchnorm_backward_apply(
                &cfg, mode, &x, &gy, &mean, &invstd, &gamma, &gg, &gb, &gx,
            );
            [&mean, &invstd, &rm, &rv, &y, &gg, &gb, &gx]
                .map(read)
                .to_vec()
        });
    }
}

#[test]
fn pointwise_ops_split_into_ranges_give_what_they_give_whole() {
    if !gpu_for_tests() {
        return;
    }
    let n = 5 * 256 + 3; // a last range that is not a whole vec4
    let (a, b) = (up(n, 11), up(n, 12));
    same_split("pointwise", 0.0, || {
        let (u, g, s, f) = (
            GpuBuffer::uninit(n),
            GpuBuffer::uninit(n),
            GpuBuffer::uninit(n),
            GpuBuffer::uninit(n),
        );
        ew::unary(UnaryOp::LeakyRelu, 0.2, &a, &u);
        ew::unary_backward(UnaryOp::LeakyRelu, 0.2, &a, &b, &g);
        ew::binary(BinaryOp::Mul, &a, &b, &s);
        ew::fill(&f, 3.5);
        vec![read(&u), read(&g), read(&s), read(&f)]
    });
}

#[test]
fn a_window_reads_and_writes_only_its_range() {
    if !gpu_for_tests() {
        return;
    }
    let data = values(1024, 13);
    let big = gpu().upload(&data);
    let win = big.window(256, 512);
    assert_eq!(gpu().read(&win, 0, 4), &data[256..260]);
    let out = GpuBuffer::uninit(512);
    ew::unary(UnaryOp::Relu, 0.0, &win, &out);
    let want: Vec<f32> = data[256..768].iter().map(|v| v.max(0.0)).collect();
    assert_eq!(read(&out), want);
    drop(win);
    // the window returned nothing to the pool: the buffer is still whole
    assert_eq!(read(&big), data);
}

/// Two images of 12 channels of 8×8 (3 KiB each, over the 2 KiB limit): each image runs in
/// blocks of channels, the partial sums over input channels added up (a float tolerance).
#[test]
fn one_image_over_a_binding_runs_in_blocks_of_channels() {
    if !gpu_for_tests() {
        return;
    }
    let spec = Conv2dSpec {
        n: 2,
        c: 12,
        h: 8,
        w: 8,
        k: 12,
        r: 3,
        s: 3,
        stride: (1, 1),
        pad: (1, 1),
        dilation: (1, 1),
    };
    let (x, w, gy, bias) = (
        up(spec.x_len(), 21),
        up(spec.w_len(), 22),
        up(spec.y_len(), 23),
        up(spec.k, 24),
    );
    for &v in ConvVariant::ALL {
        if v.unavailable().is_some() {
            continue;
        }
        same_split(&format!("conv2d by channels {}", v.name()), 1e-5, || {
            let (y, gx, gw, gb) = (
                GpuBuffer::uninit(spec.y_len()),
                GpuBuffer::uninit(spec.x_len()),
                GpuBuffer::uninit(spec.w_len()),
                GpuBuffer::uninit(spec.k),
            );
            conv2d::conv2d_forward_with(v, &spec, &x, &w, Some(&bias), &y);
            conv2d::conv2d_backward_data_with(v, &spec, &gy, &w, &gx);
            conv2d::conv2d_backward_weight_with(v, &spec, &x, &gy, &gw);
            conv2d::conv2d_backward_bias(&spec, &gy, &gb);
            [&y, &gx, &gw, &gb].map(read).to_vec()
        });
    }
    // a transposed convolution [2, 12, 4, 4] -> [2, 12, 8, 8] (its output image is 3 KiB)
    let t = ConvTranspose2dSpec {
        n: 2,
        c_in: 12,
        h_in: 4,
        w_in: 4,
        c_out: 12,
        r: 4,
        s: 4,
        stride: (2, 2),
        pad: (1, 1),
        output_padding: (0, 0),
        dilation: (1, 1),
    };
    let (tx, tw, tgy, tb) = (
        up(t.x_len(), 25),
        up(t.w_len(), 26),
        up(t.y_len(), 27),
        up(t.c_out, 28),
    );
    same_split("conv_transpose2d by channels", 1e-5, || {
        let (y, gx, gw, gb) = (
            GpuBuffer::uninit(t.y_len()),
            GpuBuffer::uninit(t.x_len()),
            GpuBuffer::uninit(t.w_len()),
            GpuBuffer::uninit(t.c_out),
        );
        conv2d::conv_transpose2d_forward(&t, &tx, &tw, Some(&tb), &y);
        conv2d::conv_transpose2d_backward_data(&t, &tgy, &tw, &gx);
        conv2d::conv_transpose2d_backward_weight(&t, &tx, &tgy, &gw);
        conv2d::conv_transpose2d_backward_bias(&t, &tgy, &gb);
        [&y, &gx, &gw, &gb].map(read).to_vec()
    });
}

/// Pooling works plane by plane: one image of 20 planes of 8×8 (5 KiB) runs in chunks of 8 +
/// 8 + 4 planes, exactly.
#[test]
fn pooling_one_image_over_a_binding_runs_in_chunks_of_planes() {
    if !gpu_for_tests() {
        return;
    }
    // a window that overlaps (3, stride 2, padding 1) so the backward gathers from several
    let cfg = Pool2dConfig::square(1, 20, 8, 8, 3, 2, 1);
    let (x, gy) = (up(cfg.in_len(), 31), up(cfg.out_len(), 32));
    same_split("pool2d by planes", 0.0, || {
        let (y, argmax, gx) = (
            GpuBuffer::uninit(cfg.out_len()),
            GpuBuffer::uninit(cfg.out_len()),
            GpuBuffer::uninit(cfg.in_len()),
        );
        pool2d::max_pool2d(&cfg, &x, &y, &argmax);
        pool2d::max_pool2d_backward(&cfg, &gy, &argmax, &gx);
        let (ay, agx) = (
            GpuBuffer::uninit(cfg.out_len()),
            GpuBuffer::uninit(cfg.in_len()),
        );
        pool2d::avg_pool2d(&cfg, &x, &ay);
        pool2d::avg_pool2d_backward(&cfg, &gy, &agx);
        [&y, &argmax, &gx, &ay, &agx].map(read).to_vec()
    });
}

/// Gram matrices of two items F [12, 64] (3 KiB each): row blocks of 8 + 4, G in 4 blocks,
/// the gradient S·F summed over blocks of k by the kernel's accumulate.
#[test]
fn gram_matrices_of_features_over_a_binding_run_in_row_blocks() {
    if !gpu_for_tests() {
        return;
    }
    let (n, c, l) = (2, 12, 64);
    let (f, s) = (up(n * c * l, 41), up(n * c * c, 42));
    same_split("gram by rows", 1e-5, || {
        let (g, gf) = (GpuBuffer::uninit(n * c * c), GpuBuffer::uninit(n * c * l));
        matmul::gram(n, c, l, &f, &g);
        matmul::gram_backward(n, c, l, &s, &f, &gf);
        vec![read(&g), read(&gf)]
    });
    // and whole, they are the products they stand for
    let (fv, sv) = (values(n * c * l, 41), values(n * c * c, 42));
    let g = GpuBuffer::uninit(n * c * c);
    matmul::gram(n, c, l, &f, &g);
    let gf = GpuBuffer::uninit(n * c * l);
    matmul::gram_backward(n, c, l, &s, &f, &gf);
    let (mut g_want, mut gf_want) = (vec![0f32; n * c * c], vec![0f32; n * c * l]);
    for b in 0..n {
        let fb = &fv[b * c * l..];
        for i in 0..c {
            for j in 0..c {
                g_want[b * c * c + i * c + j] = (0..l).map(|k| fb[i * l + k] * fb[j * l + k]).sum();
            }
            for k in 0..l {
                gf_want[b * c * l + i * l + k] = (0..c)
                    .map(|j| sv[b * c * c + i * c + j] * fb[j * l + k])
                    .sum();
            }
        }
    }
    assert!(relative_error(&read(&g), &g_want) <= 1e-5);
    assert!(relative_error(&read(&gf), &gf_want) <= 1e-5);
}

/// Upsampling and reflection padding work plane by plane: one image over the limit (20
/// upsampled planes of 8×8, 12 padded planes of 16×8) runs in chunks of planes, exactly.
#[test]
fn resampling_one_image_over_a_binding_runs_in_chunks_of_planes() {
    if !gpu_for_tests() {
        return;
    }
    let up_cfg = resample::UpsampleConfig {
        n: 1,
        c: 20,
        h: 4,
        w: 4,
        scale: [2, 2],
    };
    // padded planes of 16×8 (512 bytes: windows of whole planes stay aligned)
    let pad = resample::ReflectionPadConfig::new(1, 12, 8, 8, [0, 0, 3, 5]);
    let (x, gy, px, pgy) = (
        up(up_cfg.in_len(), 51),
        up(up_cfg.out_len(), 52),
        up(pad.in_len(), 53),
        up(pad.out_len(), 54),
    );
    same_split("resample by planes", 0.0, || {
        let (y, gx) = (
            GpuBuffer::uninit(up_cfg.out_len()),
            GpuBuffer::uninit(up_cfg.in_len()),
        );
        resample::upsample_nearest2d(&up_cfg, &x, &y);
        resample::upsample_nearest2d_backward(&up_cfg, &gy, &gx);
        let (py, pgx) = (
            GpuBuffer::uninit(pad.out_len()),
            GpuBuffer::uninit(pad.in_len()),
        );
        resample::reflection_pad2d(&pad, &px, &py);
        resample::reflection_pad2d_backward(&pad, &pgy, &pgx);
        [&y, &gx, &py, &pgx].map(read).to_vec()
    });
}

/// Instance normalisation: each instance is one plane, so two images of 12 channels of 8×8
/// (3 KiB each) run in blocks of 8 + 4 channels, statistics and all, exactly.
#[test]
fn instance_normalisation_of_an_image_over_a_binding_runs_in_blocks_of_channels() {
    if !gpu_for_tests() {
        return;
    }
    let cfg = InstanceNormConfig::new(2, 12, 8, 8);
    let (c, g) = (cfg.c, cfg.instances());
    let (x, gy, gamma, beta) = (up(cfg.len(), 61), up(cfg.len(), 62), up(c, 63), up(c, 64));
    same_split("instance_norm by channels", 0.0, || {
        let (mean, invstd, y) = (
            GpuBuffer::uninit(g),
            GpuBuffer::uninit(g),
            GpuBuffer::uninit(cfg.len()),
        );
        inorm::instance_norm_stats(&cfg, &x, &mean, &invstd);
        inorm::instance_norm_apply(&cfg, &x, &mean, &invstd, &gamma, &beta, &y);
        let (sgx, sg, gx) = (
            GpuBuffer::uninit(g),
            GpuBuffer::uninit(g),
            GpuBuffer::uninit(cfg.len()),
        );
        inorm::instance_norm_backward_reduce(&cfg, &x, &gy, &mean, &invstd, &sgx, &sg);
        inorm::instance_norm_backward_apply(&cfg, &x, &gy, &mean, &invstd, &gamma, &sgx, &sg, &gx);
        [&mean, &invstd, &y, &sgx, &sg, &gx].map(read).to_vec()
    });
}

/// Layout copies, reductions and general products bind strided views: with a buffer over the
/// limit they run in boxes of their index space (`atelier_kernels::blocks`), each on windows
/// that start aligned at or below the box's first element. A 37×41 transpose (5.9 KiB) runs
/// in tiles, sums and maxima in boxes (the reduced ones accumulated), a product with B
/// transposed in tiles of C and boxes of K: as whole (sums within float reassociation).
#[test]
fn strided_copies_reductions_and_products_over_a_binding_run_in_boxes() {
    if !gpu_for_tests() {
        return;
    }
    let (r, c, n) = (37, 41, 29);
    let (x, bt) = (up(r * c, 71), up(n * c, 72));
    same_split("copy_strided in tiles", 0.0, || {
        let y = GpuBuffer::uninit(r * c);
        let transpose = StridedCopy {
            shape: vec![c, r],
            src_offset: 0,
            src_strides: vec![1, c],
            dst_offset: 0,
            dst_strides: vec![r, 1],
        };
        layout::copy_strided(&transpose, &x, &y);
        vec![read(&y)]
    });
    same_split("reduce in boxes", 1e-5, || {
        let (outer, all, rows) = (
            GpuBuffer::uninit(c),
            GpuBuffer::uninit(1),
            GpuBuffer::uninit(r),
        );
        reduce::reduce(
            ReduceOp::Sum,
            &ReduceSpec::over_axes(&[r, c], &[0]),
            1.0,
            &x,
            &outer,
        );
        reduce::reduce(
            ReduceOp::Sum,
            &ReduceSpec::over_axes(&[r, c], &[0, 1]),
            0.5,
            &x,
            &all,
        );
        reduce::reduce(
            ReduceOp::Max,
            &ReduceSpec::over_axes(&[r, c], &[1]),
            1.0,
            &x,
            &rows,
        );
        [&outer, &all, &rows].map(read).to_vec()
    });
    same_split("matmul in boxes", 1e-5, || {
        // [r, c] · Bᵀ with B stored [n, c]
        let spec = matmul::MatmulSpec {
            b_row_stride: 1,
            b_col_stride: c,
            b_batch_stride: 0,
            ..matmul::MatmulSpec::contiguous(1, r, n, c)
        };
        let y = GpuBuffer::uninit(r * n);
        matmul::matmul(&spec, &x, &bt, &y);
        vec![read(&y)]
    });
}

/// Planes of an odd size (13×13: 676 bytes) cannot be split into blocks that start at a
/// bindable offset and fit 2 KiB (4 planes on a 16-byte aligned device, 64 on a 256-byte one):
/// blocks of 3 planes start anywhere, and their launches run on aligned copies of their
/// windows. Convolutions (in channel blocks), pooling and instance normalisation give what
/// they give whole.
#[test]
fn odd_sized_planes_run_in_unaligned_blocks_on_aligned_copies() {
    if !gpu_for_tests() {
        return;
    }
    let staged = || gpu().stats().staged;
    let before = staged();
    let spec = Conv2dSpec {
        n: 2,
        c: 6,
        h: 13,
        w: 13,
        k: 6,
        r: 3,
        s: 3,
        stride: (1, 1),
        pad: (1, 1),
        dilation: (1, 1),
    };
    let (x, w, gy) = (
        up(spec.x_len(), 81),
        up(spec.w_len(), 82),
        up(spec.y_len(), 83),
    );
    same_split("conv2d with odd planes", 1e-5, || {
        let (y, gx, gw) = (
            GpuBuffer::uninit(spec.y_len()),
            GpuBuffer::uninit(spec.x_len()),
            GpuBuffer::uninit(spec.w_len()),
        );
        conv2d::conv2d_forward(&spec, &x, &w, None, &y);
        conv2d::conv2d_backward_data(&spec, &gy, &w, &gx);
        conv2d::conv2d_backward_weight(&spec, &x, &gy, &gw);
        [&y, &gx, &gw].map(read).to_vec()
    });
    let cfg = Pool2dConfig::square(1, 8, 13, 13, 3, 2, 1);
    let (px, pgy) = (up(cfg.in_len(), 84), up(cfg.out_len(), 85));
    same_split("pool2d with odd planes", 0.0, || {
        let (y, gx) = (
            GpuBuffer::uninit(cfg.out_len()),
            GpuBuffer::uninit(cfg.in_len()),
        );
        pool2d::avg_pool2d(&cfg, &px, &y);
        pool2d::avg_pool2d_backward(&cfg, &pgy, &gx);
        [&y, &gx].map(read).to_vec()
    });
    let ncfg = InstanceNormConfig::new(2, 6, 13, 13);
    let (nx, gamma, beta) = (up(ncfg.len(), 86), up(6, 87), up(6, 88));
    same_split("instance_norm with odd planes", 1e-6, || {
        let g = ncfg.instances();
        let (mean, invstd, y) = (
            GpuBuffer::uninit(g),
            GpuBuffer::uninit(g),
            GpuBuffer::uninit(ncfg.len()),
        );
        inorm::instance_norm_stats(&ncfg, &nx, &mean, &invstd);
        inorm::instance_norm_apply(&ncfg, &nx, &mean, &invstd, &gamma, &beta, &y);
        [&mean, &invstd, &y].map(read).to_vec()
    });
    assert!(staged() > before, "no launch ran on an aligned copy");
}
