//! What the `igemm*` design promises, checked on the SPIR-V naga writes for Vulkan, so a
//! regression shows without a GPU.
//!
//! Each variant's generated WGSL is parsed, its override constants set to a real layer's
//! geometry (as a pipeline would be; the divisors are then constants the driver sees), and
//! each GEMM entry point written to SPIR-V twice: as `create_shader_module` gives it (wgpu's
//! runtime checks: index clamps, guarded division, a counter in every loop) and as a
//! trusted module gives it (no checks). In each, the K loop is the loop of the entry point
//! that contains the workgroup barrier (`OpControlBarrier`). Over the instructions between
//! its header block and its merge block, and over the whole body of every function called
//! from there (transitively: naga writes guarded `/` and `%` as helper functions), the test
//! asserts:
//! - no integer division or remainder (`OpUDiv`, `OpSDiv`, `OpUMod`, `OpSRem`, `OpSMod`);
//! - no other loop (`OpLoopMerge`): the inner product and the staging are straight-line code;
//! - exactly BK * 4 * FM * FN `Fma` (GLSL.std.450) instructions on vec4s: the whole unrolled
//!   inner product of one step, one vec4 fma per 4 outputs and reduction element.
//!
//! And after the K loop, the epilogue: two barriers per 64x64 fragment staged through
//! workgroup memory, and no loop.
//!
//! The shape special cases (`skinny.wgsl`: `skinny_n`, `split_dot`) are held to the same
//! rule of no division in their K loops (their inner products are short loops, not unrolled).
//!
//! The checker itself is shown to fail where it should: the older `implicit_gemm` variant
//! decodes its im2col indices with division inside its K loop, and has an inner loop.

use std::collections::BTreeSet;

use super::igemm::{BK, IGEMM_64X64, IGEMM_64X128, IGEMM_128X64, IGEMM_128X128, IgemmKernels};
use crate::shader::Shader;

mod op {
    pub const EXT_INST: u32 = 12;
    pub const ENTRY_POINT: u32 = 15;
    pub const FUNCTION: u32 = 54;
    pub const FUNCTION_END: u32 = 56;
    pub const FUNCTION_CALL: u32 = 57;
    pub const U_DIV: u32 = 134;
    pub const S_DIV: u32 = 135;
    pub const U_MOD: u32 = 137;
    pub const S_REM: u32 = 138;
    pub const S_MOD: u32 = 139;
    pub const CONTROL_BARRIER: u32 = 224;
    pub const LOOP_MERGE: u32 = 246;
    pub const LABEL: u32 = 248;
    /// GLSL.std.450's Fma, the instruction number of an `OpExtInst`.
    pub const GLSL_FMA: u32 = 50;
    pub const DIVISIONS: [u32; 5] = [U_DIV, S_DIV, U_MOD, S_REM, S_MOD];
}

/// One instruction: its opcode and operand words.
struct Inst<'a> {
    op: u32,
    args: &'a [u32],
}

/// The instructions of a SPIR-V module, grouped by function (by result id).
struct Module<'a> {
    entry: u32,
    functions: Vec<(u32, Vec<Inst<'a>>)>,
}

fn parse(words: &[u32]) -> Module<'_> {
    assert_eq!(words[0], 0x0723_0203, "not SPIR-V");
    let mut at = 5;
    let (mut entry, mut functions, mut current) = (None, Vec::new(), None::<(u32, Vec<Inst>)>);
    while at < words.len() {
        let (count, op) = ((words[at] >> 16) as usize, words[at] & 0xffff);
        assert!(count > 0, "malformed SPIR-V at word {at}");
        let args = &words[at + 1..at + count];
        at += count;
        match op {
            op::ENTRY_POINT => entry = Some(args[1]),
            op::FUNCTION => current = Some((args[1], Vec::new())),
            op::FUNCTION_END => functions.push(current.take().expect("OpFunctionEnd outside")),
            _ => {
                if let Some((_, body)) = current.as_mut() {
                    body.push(Inst { op, args });
                }
            }
        }
    }
    Module {
        entry: entry.expect("no entry point"),
        functions,
    }
}

/// What was found in a K loop and the functions it calls.
#[derive(Debug, Default)]
struct KLoop {
    divisions: usize,
    inner_loops: usize,
    fmas: usize,
}

impl Module<'_> {
    fn body(&self, id: u32) -> &[Inst<'_>] {
        &self
            .functions
            .iter()
            .find(|(f, _)| *f == id)
            .expect("a called function")
            .1
    }

    /// The loops of a function body, as instruction ranges from the header's label to the
    /// merge block's label.
    fn loops(body: &[Inst]) -> Vec<(usize, usize)> {
        let mut loops = Vec::new();
        for (i, inst) in body.iter().enumerate() {
            if inst.op != op::LOOP_MERGE {
                continue;
            }
            let header = (0..i)
                .rev()
                .find(|&h| body[h].op == op::LABEL)
                .expect("a header");
            let merge = inst.args[0];
            let end = (i..body.len())
                .find(|&e| body[e].op == op::LABEL && body[e].args[0] == merge)
                .expect("the merge block");
            loops.push((header, end));
        }
        loops
    }

    /// The entry point's K loop (the outermost loop holding the barrier) and what it and the
    /// functions it calls contain.
    fn k_loop(&self) -> KLoop {
        self.k_loop_holding(|i| i.op == op::CONTROL_BARRIER)
    }

    /// The entry point's first outermost loop holding an instruction `holds` accepts, and what
    /// it and the functions it calls contain.
    fn k_loop_holding(&self, holds: impl Fn(&Inst) -> bool) -> KLoop {
        let body = self.body(self.entry);
        let with_barrier: Vec<_> = Self::loops(body)
            .into_iter()
            .filter(|&(h, e)| body[h..e].iter().any(&holds))
            .collect();
        let &(h, e) = with_barrier
            .iter()
            .min_by_key(|(h, _)| *h)
            .expect("the entry point has no such loop");
        let mut found = KLoop::default();
        let mut called = BTreeSet::new();
        scan(&body[h..e], 1, &mut found, &mut called);
        let mut done = BTreeSet::new();
        while let Some(&f) = called.iter().find(|f| !done.contains(*f)) {
            done.insert(f);
            scan(self.body(f), 0, &mut found, &mut called);
        }
        found
    }
}

/// Adds what `insts` hold to `found` (less `own` loops: the K loop's own header), and the
/// functions they call to `called`.
fn scan(insts: &[Inst], own: usize, found: &mut KLoop, called: &mut BTreeSet<u32>) {
    let loops = insts.iter().filter(|i| i.op == op::LOOP_MERGE).count();
    found.inner_loops += loops - own;
    for i in insts {
        if op::DIVISIONS.contains(&i.op) {
            found.divisions += 1;
        }
        if i.op == op::EXT_INST && i.args[3] == op::GLSL_FMA {
            found.fmas += 1;
        }
        if i.op == op::FUNCTION_CALL {
            called.insert(i.args[2]);
        }
    }
}

/// The DCGAN discriminator's second layer (64 -> 128 channels, 4x4, stride 2, padding 1),
/// and a 3x3 dilated one: the geometry the pipelines are specialised for.
pub(super) const GEOMETRIES: [[(&str, f64); 9]; 2] = [
    [
        ("C", 64.0),
        ("R", 4.0),
        ("S", 4.0),
        ("SH", 2.0),
        ("SW", 2.0),
        ("PH", 1.0),
        ("PW", 1.0),
        ("DH", 1.0),
        ("DW", 1.0),
    ],
    [
        ("C", 3.0),
        ("R", 3.0),
        ("S", 3.0),
        ("SH", 1.0),
        ("SW", 1.0),
        ("PH", 2.0),
        ("PW", 2.0),
        ("DH", 2.0),
        ("DW", 2.0),
    ],
];

/// `entry` of `shader` in SPIR-V, with `constants`, checked (wgpu's default) or not
/// ([`crate::shader_dump::spirv`], which `ATELIER_DUMP_SHADERS` writes too).
pub(super) fn spirv(
    shader: &Shader,
    entry: &str,
    constants: &[(&str, f64)],
    checked: bool,
) -> Vec<u32> {
    crate::shader_dump::spirv(shader, entry, constants, checked).unwrap_or_else(|e| panic!("{e}"))
}

const ENTRIES: [&str; 5] = [
    "igemm_forward",
    "igemm_forward_vec4",
    "igemm_backward_data",
    "igemm_backward_weight",
    "igemm_backward_weight_vec4",
];

#[test]
fn igemm_k_loops_divide_nothing_and_are_unrolled() {
    let variants: [&'static IgemmKernels; 4] =
        [&IGEMM_128X128, &IGEMM_128X64, &IGEMM_64X128, &IGEMM_64X64];
    for g in variants {
        let (tm, tn) = g.tile.per_invocation();
        for geometry in &GEOMETRIES {
            for entry in ENTRIES {
                for checked in [true, false] {
                    let words = spirv(g.shader(), entry, geometry, checked);
                    let found = parse(&words).k_loop();
                    let what = format!(
                        "{} {entry} (checked: {checked}, {geometry:?}): {found:?}",
                        g.shader().name
                    );
                    assert_eq!(found.divisions, 0, "division in the K loop: {what}");
                    assert_eq!(found.inner_loops, 0, "a loop inside the K loop: {what}");
                    assert_eq!(
                        found.fmas,
                        BK * tm * tn / 4,
                        "the unrolled inner product: {what}"
                    );
                }
            }
        }
    }
}

/// The epilogue stages the output through workgroup memory one 64x64 fragment at a time: two
/// barriers per fragment after the K loop (writes done, reads done), beside the K loop's one
/// and the one before it; and nothing after the K loop loops either (it is generated
/// straight-line).
#[test]
fn igemm_epilogues_stage_every_fragment() {
    let variants: [&'static IgemmKernels; 4] =
        [&IGEMM_128X128, &IGEMM_128X64, &IGEMM_64X128, &IGEMM_64X64];
    for g in variants {
        let (tm, tn) = g.tile.per_invocation();
        let fragments = (tm / 4) * (tn / 4);
        for entry in ENTRIES {
            let words = spirv(g.shader(), entry, &GEOMETRIES[0], false);
            let module = parse(&words);
            let body = module.body(module.entry);
            let barriers = body.iter().filter(|i| i.op == op::CONTROL_BARRIER).count();
            let what = format!("{} {entry}", g.shader().name);
            assert_eq!(barriers, 2 + 2 * fragments, "{what}");
            let loops = body.iter().filter(|i| i.op == op::LOOP_MERGE).count();
            assert_eq!(loops, 1, "only the K loop: {what}");
        }
    }
}

#[test]
fn the_check_sees_division_and_inner_loops_in_the_older_gemm() {
    let tiles = super::TILES;
    let constants: Vec<(&str, f64)> = tiles.constants().to_vec();
    let words = spirv(
        &super::IMPLICIT_GEMM_4X4_SHADER,
        "forward_implicit_gemm",
        &constants,
        true,
    );
    let found = parse(&words).k_loop();
    assert!(found.divisions > 0, "{found:?}");
    assert!(found.inner_loops > 0, "{found:?}");
}

/// `skinny_n` and `split_dot` (`skinny.wgsl`): no division in their K loops either. skinny_n's
/// K loop (the one with the barriers) holds one inner loop, over the staged step, of one vec4
/// fma per row (4 rows); split_dot's (the one with the fma; the tree after it holds the
/// barriers) is one scalar fma per element.
#[test]
fn skinny_k_loops_divide_nothing() {
    let shader = &super::skinny::SKINNY_SHADER;
    let is_fma = |i: &Inst| i.op == op::EXT_INST && i.args[3] == op::GLSL_FMA;
    for geometry in &GEOMETRIES {
        for checked in [true, false] {
            for entry in [
                "skinny_forward",
                "skinny_backward_data",
                "split_dot_forward",
            ] {
                let module = spirv(shader, entry, geometry, checked);
                let found = if entry == "split_dot_forward" {
                    parse(&module).k_loop_holding(is_fma)
                } else {
                    parse(&module).k_loop()
                };
                let what = format!("{entry} (checked: {checked}, {geometry:?}): {found:?}");
                assert_eq!(found.divisions, 0, "division in the K loop: {what}");
                let (inner, fmas) = if entry == "split_dot_forward" {
                    (0, 1)
                } else {
                    (1, 4)
                };
                assert_eq!(found.inner_loops, inner, "{what}");
                assert_eq!(found.fmas, fmas, "{what}");
            }
        }
    }
}
