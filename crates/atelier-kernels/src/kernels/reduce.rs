//! Launchers for `shaders/reduce.wgsl` and its subgroup variant `shaders/reduce_subgroup.wgsl`.

use bytemuck::{Pod, Zeroable};

use super::{WG, groups_for};
use crate::context::{gpu, subgroups_missing};
use crate::kernels::elementwise::MAX_RANK;
use crate::pipeline::Kernel;
use crate::pool::GpuBuffer;
use crate::shaders::{REDUCE, REDUCE_SUBGROUP as REDUCE_SUBGROUP_SHADER};

pub const REDUCE_SERIAL: Kernel = Kernel::new(&REDUCE, "reduce_serial");
pub const REDUCE_WORKGROUP: Kernel = Kernel::new(&REDUCE, "reduce_workgroup");
pub const REDUCE_SUBGROUP: Kernel = Kernel::new(&REDUCE_SUBGROUP_SHADER, "reduce_subgroup");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// How the reduction is spread over the GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceVariant {
    /// One invocation per output element.
    Serial,
    /// One workgroup per output element, with a tree reduction in workgroup memory.
    Workgroup,
    /// As `Workgroup`, but each subgroup reduces in registers (`subgroupAdd`) and only one
    /// value per subgroup goes through workgroup memory. Needs the device's SUBGROUP feature.
    Subgroup,
}

impl ReduceVariant {
    pub const ALL: [ReduceVariant; 3] = [
        ReduceVariant::Serial,
        ReduceVariant::Workgroup,
        ReduceVariant::Subgroup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReduceVariant::Serial => "serial",
            ReduceVariant::Workgroup => "workgroup",
            ReduceVariant::Subgroup => "subgroup",
        }
    }

    pub fn from_name(name: &str) -> Option<ReduceVariant> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// Why this variant cannot run on the current device, or `None` when it can.
    pub fn unavailable_reason(self) -> Option<String> {
        match self {
            ReduceVariant::Serial | ReduceVariant::Workgroup => None,
            ReduceVariant::Subgroup => subgroups_missing(),
        }
    }

    pub fn is_available(self) -> bool {
        self.unavailable_reason().is_none()
    }

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

    /// The variants the current device can run.
    pub fn available() -> Vec<ReduceVariant> {
        Self::ALL.into_iter().filter(|v| v.is_available()).collect()
    }

    /// A workgroup per output when each output reduces at least a workgroup's worth of
    /// elements (its threads then all have work, and the loop per thread stays short), or when
    /// there are too few outputs (under 4096) to fill the GPU with one thread each; otherwise a
    /// thread per output, which keeps every lane busy without a barrier.
    ///
    /// A workgroup per output is the subgroup variant where the device has subgroups.
    ///
    /// (lavapipe, the software Vulkan device, also stops any invocation after 65,535 loop
    /// iterations in total, silently: the serial kernel is wrong there past about 21,800
    /// reduced elements, another reason never to pick it for long reductions.)
    pub fn auto(reduced_count: usize, out_count: usize) -> ReduceVariant {
        if reduced_count >= WG as usize || (out_count < 4096 && reduced_count > 16) {
            if ReduceVariant::Subgroup.is_available() {
                ReduceVariant::Subgroup
            } else {
                ReduceVariant::Workgroup
            }
        } else {
            ReduceVariant::Serial
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
    out_shape: [u32; MAX_RANK],
    out_strides: [u32; MAX_RANK],
    red_shape: [u32; MAX_RANK],
    red_strides: [u32; MAX_RANK],
}

fn u32_of(v: usize) -> u32 {
    u32::try_from(v).expect("reduce: sizes must fit in u32")
}

/// out = scale · (op over the reduced axes of x).
pub fn reduce(
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
    let mut p = Params {
        out_n: u32_of(spec.out_count()),
        red_n: u32_of(spec.reduced_count()),
        out_rank: spec.out_shape.len() as u32,
        red_rank: spec.red_shape.len() as u32,
        op: op as u32,
        scale,
        red_begin: 0,
        accumulate: 0,
        out_shape: [1; MAX_RANK],
        out_strides: [0; MAX_RANK],
        red_shape: [1; MAX_RANK],
        red_strides: [0; MAX_RANK],
    };
    for (d, (&s, &st)) in spec.out_shape.iter().zip(&spec.out_strides).enumerate() {
        p.out_shape[d] = u32_of(s);
        p.out_strides[d] = u32_of(st);
    }
    for (d, (&s, &st)) in spec.red_shape.iter().zip(&spec.red_strides).enumerate() {
        p.red_shape[d] = u32_of(s);
        p.red_strides[d] = u32_of(st);
    }
    let constants = [("WG", WG as f64)];
    let (kernel, groups) = match variant {
        ReduceVariant::Serial => (&REDUCE_SERIAL, groups_for(spec.out_count())),
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
        p.accumulate = u32::from(i > 0);
        gpu().launch(kernel, &constants, &p, &[x, out], groups);
    }
}
