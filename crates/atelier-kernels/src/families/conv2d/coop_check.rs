//! What can be checked of `coop_f16` without a GPU that runs it (lavapipe offers no
//! cooperative matrices): naga parses and validates the shader with the cooperative-matrix and
//! f16 capabilities, and writes Vulkan SPIR-V for each entry point at real layers' geometry
//! (checked and trusted), in which the matrix-unit instructions are really there; without the
//! capability naga refuses it.

use super::coop::COOP_F16_SHADER;
use super::spirv_check::{GEOMETRIES, spirv};

/// SPIR-V opcodes and the capability of SPV_KHR_cooperative_matrix.
mod op {
    pub const CAPABILITY: u32 = 17;
    pub const TYPE_COOPERATIVE_MATRIX: u32 = 4456;
    pub const COOPERATIVE_MATRIX_LOAD: u32 = 4457;
    pub const COOPERATIVE_MATRIX_STORE: u32 = 4458;
    pub const COOPERATIVE_MATRIX_MUL_ADD: u32 = 4459;
    pub const CAPABILITY_COOPERATIVE_MATRIX: u32 = 6022;
    pub const CAPABILITY_FLOAT16: u32 = 9;
}

/// (opcode, first operand word) of every instruction.
fn instructions(words: &[u32]) -> Vec<(u32, Vec<u32>)> {
    assert_eq!(words[0], 0x0723_0203, "not SPIR-V");
    let mut at = 5;
    let mut out = Vec::new();
    while at < words.len() {
        let (count, opcode) = ((words[at] >> 16) as usize, words[at] & 0xffff);
        assert!(count > 0, "malformed SPIR-V at word {at}");
        out.push((opcode, words[at + 1..at + count].to_vec()));
        at += count;
    }
    out
}

const ENTRIES: [&str; 2] = ["coop_forward", "coop_backward_data"];

#[test]
fn the_coop_shader_validates_and_writes_cooperative_matrix_spirv() {
    for geometry in &GEOMETRIES {
        for sg in [32, 64] {
            let constants = super::coop::constants(geometry, sg);
            for entry in ENTRIES {
                for checked in [true, false] {
                    let words = spirv(&COOP_F16_SHADER, entry, &constants, checked);
                    let insts = instructions(&words);
                    let count = |o: u32| insts.iter().filter(|(c, _)| *c == o).count();
                    let has_capability = |cap: u32| {
                        insts
                            .iter()
                            .any(|(c, a)| *c == op::CAPABILITY && a[0] == cap)
                    };
                    let what = format!("{entry} (SG {sg}, checked {checked}, {geometry:?})");
                    assert!(has_capability(op::CAPABILITY_COOPERATIVE_MATRIX), "{what}");
                    assert!(has_capability(op::CAPABILITY_FLOAT16), "{what}");
                    // f16 A and B, f32 C: three matrix types
                    assert!(count(op::TYPE_COOPERATIVE_MATRIX) >= 3, "{what}");
                    // per step one A and four B fragments loaded, four products; four stores
                    assert_eq!(count(op::COOPERATIVE_MATRIX_LOAD), 5, "{what}");
                    assert_eq!(count(op::COOPERATIVE_MATRIX_MUL_ADD), 4, "{what}");
                    assert_eq!(count(op::COOPERATIVE_MATRIX_STORE), 4, "{what}");
                }
            }
        }
    }
}

#[test]
fn without_the_cooperative_matrix_capability_naga_refuses_the_shader() {
    let source = COOP_F16_SHADER.source();
    let module = naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&source)));
    let caps = naga::valid::Capabilities::all() - naga::valid::Capabilities::COOPERATIVE_MATRIX;
    let result =
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps).validate(&module);
    assert!(
        result.is_err(),
        "naga accepted cooperative matrices without the capability"
    );
}
