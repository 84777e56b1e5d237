//! Launchers for `reduce.wgsl` and its subgroup variant `reduce_subgroup.wgsl`.

use bytemuck::{Pod, Zeroable};

use super::{REDUCE, REDUCE_SUBGROUP_SHADER, ReduceVariant};
use crate::WG;
use crate::blocks::{self, View};
use crate::buffer_pool::GpuBuffer;
use crate::context::{gpu, subgroups_missing};
use crate::elementwise::MAX_RANK;
use crate::pipeline::Kernel;

pub const REDUCE_SERIAL: Kernel = Kernel::new(&REDUCE, "reduce_serial");
pub const REDUCE_WORKGROUP: Kernel = Kernel::new(&REDUCE, "reduce_workgroup");
pub const REDUCE_SUBGROUP: Kernel = Kernel::new(&REDUCE_SUBGROUP_SHADER, "reduce_subgroup");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    Sum = 0,
    Max = 1,
}

impl ReduceOp {
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Max => "max",
        }
    }
}

impl ReduceVariant {
    /// Reduced elements per dispatch: each invocation of the serial kernel loops over all of
    /// them, each of a workgroup's WG over 1/WG of them, and every reduced element costs a
    /// few loop iterations (the offset decoding loops over the axes); lavapipe's limit of
    /// 65,535 iterations per invocation then still holds with the full 8 reduced axes.
    pub fn slice_len(self) -> usize {
        match self {
            ReduceVariant::Serial => 2048,
            ReduceVariant::Workgroup | ReduceVariant::Subgroup => 2048 * WG as usize,
        }
    }
}

/// A reduction of a strided input: kept axes (the output's shape, contiguous, and the input
/// stride of each) and reduced axes (shape and input strides).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReduceSpec {
    pub out_shape: Vec<usize>,
    pub out_strides: Vec<usize>,
    pub red_shape: Vec<usize>,
    pub red_strides: Vec<usize>,
}

impl ReduceSpec {
    /// Reducing `axes` of a contiguous tensor of `shape`.
    pub fn over_axes(shape: &[usize], axes: &[usize]) -> ReduceSpec {
        let mut strides = vec![1; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        let mut spec = ReduceSpec {
            out_shape: vec![],
            out_strides: vec![],
            red_shape: vec![],
            red_strides: vec![],
        };
        for d in 0..shape.len() {
            if axes.contains(&d) {
                spec.red_shape.push(shape[d]);
                spec.red_strides.push(strides[d]);
            } else {
                spec.out_shape.push(shape[d]);
                spec.out_strides.push(strides[d]);
            }
        }
        spec
    }

    pub fn out_count(&self) -> usize {
        self.out_shape.iter().product()
    }

    pub fn reduced_count(&self) -> usize {
        self.red_shape.iter().product()
    }

    /// One past the largest input index the spec reads.
    pub fn input_extent(&self) -> usize {
        let reach = |s: &[usize], st: &[usize]| {
            s.iter()
                .zip(st)
                .map(|(a, b)| (a.max(&1) - 1) * b)
                .sum::<usize>()
        };
        reach(&self.out_shape, &self.out_strides) + reach(&self.red_shape, &self.red_strides) + 1
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    out_n: u32,
    red_n: u32,
    out_rank: u32,
    red_rank: u32,
    op: u32,
    scale: f32,
    red_begin: u32,
    accumulate: u32,
    x_offset: u32,
    out_offset: u32,
    _pad: [u32; 2],
    out_shape: [u32; MAX_RANK],
    out_strides: [u32; MAX_RANK],
    red_shape: [u32; MAX_RANK],
    red_strides: [u32; MAX_RANK],
    out_dst_strides: [u32; MAX_RANK],
}

fn u32_of(v: usize) -> u32 {
    u32::try_from(v).expect("reduce: sizes must fit in u32")
}

/// out = scale · (op over the reduced axes of x), with the variant `ATELIER_KERNELS` asks for
/// (the rule of [`ReduceVariant::auto`] by default).
pub fn reduce(op: ReduceOp, spec: &ReduceSpec, scale: f32, x: &GpuBuffer, out: &GpuBuffer) {
    let problem = (spec.reduced_count(), spec.out_count());
    crate::variant::run(&problem, |v| reduce_with(op, v, spec, scale, x, out));
}

/// out = scale · (op over the reduced axes of x), with `variant`.
///
/// When `x` or `out` is larger than one binding the reduction runs in boxes of its kept and
/// reduced axes (`crate::blocks`), each on windows of both: the boxes of one block of outputs
/// along the reduced axes run in order, the first writing and the rest combining into it.
pub fn reduce_with(
    op: ReduceOp,
    variant: ReduceVariant,
    spec: &ReduceSpec,
    scale: f32,
    x: &GpuBuffer,
    out: &GpuBuffer,
) {
    assert!(
        spec.out_shape.len() <= MAX_RANK && spec.red_shape.len() <= MAX_RANK,
        "reduce {}: at most {MAX_RANK} kept and {MAX_RANK} reduced axes ({spec:?})",
        op.name()
    );
    assert_eq!(
        out.len(),
        spec.out_count(),
        "reduce {}: output of {} for {spec:?}",
        op.name(),
        out.len()
    );
    assert!(
        spec.input_extent() <= x.len(),
        "reduce {}: input of {} too small for {spec:?}",
        op.name(),
        x.len()
    );
    assert!(
        spec.reduced_count() > 0,
        "reduce {}: nothing to reduce over ({spec:?})",
        op.name()
    );
    let (kept, reduced) = (spec.out_shape.len(), spec.red_shape.len());
    let out_dst = blocks::contiguous_strides(&spec.out_shape);
    let shape: Vec<usize> = spec
        .out_shape
        .iter()
        .chain(&spec.red_shape)
        .copied()
        .collect();
    let views = [
        View {
            what: "x",
            buffer: x,
            offset: 0,
            strides: spec
                .out_strides
                .iter()
                .chain(&spec.red_strides)
                .copied()
                .collect(),
        },
        View {
            what: "out",
            buffer: out,
            offset: 0,
            strides: out_dst.iter().copied().chain(vec![0; reduced]).collect(),
        },
    ];
    let whole = Place {
        x_offset: 0,
        out_offset: 0,
        out_dst: &out_dst,
        accumulate: false,
    };
    if !blocks::needed(&views) {
        return launch(op, variant, spec, scale, &whole, x, out);
    }
    blocks::for_each_block(&format!("reduce {}", op.name()), &shape, &views, |b| {
        let part = ReduceSpec {
            out_shape: b.size[..kept].to_vec(),
            out_strides: spec.out_strides.clone(),
            red_shape: b.size[kept..].to_vec(),
            red_strides: spec.red_strides.clone(),
        };
        let place = Place {
            x_offset: b.offsets[0],
            out_offset: b.offsets[1],
            out_dst: &out_dst,
            // the reduced axes come last: their first box for these outputs writes
            accumulate: b.start[kept..].iter().any(|&i| i > 0),
        };
        launch(
            op,
            variant,
            &part,
            scale,
            &place,
            &b.windows[0],
            &b.windows[1],
        );
    });
}

/// Where a launch reads and writes: the input's and the output's first element, the output's
/// strides, and whether it combines with what the output holds.
struct Place<'a> {
    x_offset: usize,
    out_offset: usize,
    out_dst: &'a [usize],
    accumulate: bool,
}

fn launch(
    op: ReduceOp,
    variant: ReduceVariant,
    spec: &ReduceSpec,
    scale: f32,
    place: &Place,
    x: &GpuBuffer,
    out: &GpuBuffer,
) {
    let mut p = Params {
        out_n: u32_of(spec.out_count()),
        red_n: u32_of(spec.reduced_count()),
        out_rank: spec.out_shape.len() as u32,
        red_rank: spec.red_shape.len() as u32,
        op: op as u32,
        scale,
        red_begin: 0,
        accumulate: 0,
        x_offset: u32_of(place.x_offset),
        out_offset: u32_of(place.out_offset),
        _pad: [0; 2],
        out_shape: [1; MAX_RANK],
        out_strides: [0; MAX_RANK],
        red_shape: [1; MAX_RANK],
        red_strides: [0; MAX_RANK],
        out_dst_strides: [0; MAX_RANK],
    };
    for (d, (&s, &st)) in spec.out_shape.iter().zip(&spec.out_strides).enumerate() {
        p.out_shape[d] = u32_of(s);
        p.out_strides[d] = u32_of(st);
        p.out_dst_strides[d] = u32_of(place.out_dst[d]);
    }
    for (d, (&s, &st)) in spec.red_shape.iter().zip(&spec.red_strides).enumerate() {
        p.red_shape[d] = u32_of(s);
        p.red_strides[d] = u32_of(st);
    }
    let (kernel, groups) = match variant {
        ReduceVariant::Serial => (
            &REDUCE_SERIAL,
            u32_of(spec.out_count().div_ceil(WG as usize)),
        ),
        ReduceVariant::Workgroup => (&REDUCE_WORKGROUP, u32_of(spec.out_count())),
        ReduceVariant::Subgroup => {
            if let Some(why) = subgroups_missing() {
                panic!("reduce {}: variant subgroup cannot run: {why}", op.name());
            }
            (&REDUCE_SUBGROUP, u32_of(spec.out_count()))
        }
    };
    // one accumulating dispatch per slice of the reduced elements
    let red_n = spec.reduced_count();
    for (i, begin) in (0..red_n).step_by(variant.slice_len()).enumerate() {
        p.red_begin = u32_of(begin);
        p.red_n = u32_of((begin + variant.slice_len()).min(red_n));
        p.accumulate = u32::from(place.accumulate || i > 0);
        gpu().launch(kernel, &[], &p, &[x, out], groups);
    }
}
