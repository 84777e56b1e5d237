//! The `igemm*` variants: an implicit-GEMM convolution core built like CUTLASS's SIMT sgemm,
//! generated from one template (`igemm.wgsl`) per tile size by string substitution.
//!
//! The design, per K step of BK = 16 (the template has the arithmetic):
//! - 256 invocations per workgroup; each owns FM x FN strided 4x4 fragments (8x8 outputs in a
//!   128x128 tile), accumulated in plain `vec4` variables (never an array, so nothing can be
//!   indexed dynamically and spill);
//! - the inner product is unrolled here, in Rust: BK steps of FM + FN vec4 loads from workgroup
//!   memory and 4*FM*FN vec4 `fma`s, with constant offsets;
//! - workgroup memory holds two stages of the A and B tiles; the next tile is loaded from
//!   global memory into registers before the current one is multiplied and stored into the
//!   other stage after, so one barrier per step suffices (double buffering);
//! - the vec4 index of a staged row is XORed with (kk & 7): stores along m, stores along the
//!   reduction (8 lanes per row) and vec4 loads then all hit distinct banks, without padding
//!   (padding would push the 128x128 tile past 32 KiB);
//! - the conv geometry is override constants and the reduction index is walked (adds and
//!   carries), so the K loop has no division or modulo: `spirv_check` proves it on naga's output;
//! - split-K in every direction, chosen by the launcher so a layer runs at least
//!   [`TARGET_WORKGROUPS`] workgroups (twice a 132-SM GPU);
//! - the output leaves through workgroup memory (the epilogue, one 64x64 fragment at a time in
//!   the idle staging tiles), so a warp's global stores are 32 consecutive floats of the
//!   output instead of 16 addresses 4 apart (forward) or 16 rows apart (backward-weight).
//!
//! Global loads are vec4s where the layout allows: the operands contiguous along the
//! reduction (forward's weight, backward-weight's gy) when their rows are whole quads
//! ([`vec4_aligned`]: every DCGAN layer), through the `_vec4` entry points, which bind the same
//! buffer as `array<vec4<f32>>`. The im2col gathers (x, and gy in backward-data) are not
//! 16-byte aligned in general and stay scalar.

use std::fmt::Write;
use std::sync::OnceLock;

use crate::pipeline::Kernel;
use crate::shader::Shader;

/// The reduction step of every igemm tile.
pub const BK: usize = 16;
/// Invocations per workgroup.
pub const THREADS: usize = 256;
/// Each split-K launch aims for at least this many workgroups: twice the 132 SMs of an
/// H100/H200, so a layer fills the GPU at least twice.
pub const TARGET_WORKGROUPS: usize = 264;

/// One tile size of the family: BM x BN outputs per workgroup, 64 rows (columns) per fragment
/// column of the 16 x 16 invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IgemmTile {
    pub bm: usize,
    pub bn: usize,
}

impl IgemmTile {
    /// 4x4 fragments per invocation along M and N.
    const fn fragments(&self) -> (usize, usize) {
        (self.bm / 64, self.bn / 64)
    }

    /// Outputs per invocation along M and N (8x8 for a 128x128 tile).
    pub const fn per_invocation(&self) -> (usize, usize) {
        (self.bm / 16, self.bn / 16)
    }

    /// Workgroup memory: two stages of a BK x BM and a BK x BN tile of f32.
    pub const fn workgroup_bytes(&self) -> usize {
        2 * BK * (self.bm + self.bn) * 4
    }

    const fn valid(&self) -> bool {
        (self.bm == 64 || self.bm == 128) && (self.bn == 64 || self.bn == 128)
    }

    /// Why a device with `limits` cannot run this tile, or `None`.
    pub fn unavailable(&self, limits: &wgpu::Limits) -> Option<String> {
        let bytes = self.workgroup_bytes() as u32;
        if limits.max_compute_workgroup_storage_size < bytes {
            return Some(format!(
                "needs {bytes} bytes of workgroup memory; the adapter offers {}",
                limits.max_compute_workgroup_storage_size
            ));
        }
        let threads = THREADS as u32;
        if limits.max_compute_invocations_per_workgroup < threads
            || limits.max_compute_workgroup_size_x < threads
        {
            return Some(format!(
                "needs {threads} invocations per workgroup; the adapter offers {}",
                limits
                    .max_compute_invocations_per_workgroup
                    .min(limits.max_compute_workgroup_size_x)
            ));
        }
        None
    }

    /// The variant's WGSL: the template with its holes filled.
    pub fn source(&self) -> String {
        assert!(self.valid(), "igemm: no {}x{} tile", self.bm, self.bn);
        let mut s = TEMPLATE.to_string();
        // the `_vec4` entry points: copies of two entries with their own holes
        for (entry, prefix, holes) in [
            ("igemm_forward", "FORWARD", &["DECLARE", "LOAD", "PUT"][..]),
            (
                "igemm_backward_weight",
                "BACKWARD_WEIGHT",
                &["DECLARE", "STEP", "LOAD", "PUT"],
            ),
        ] {
            let head = format!("@compute @workgroup_size(THREADS)\nfn {entry}(");
            let start = s
                .find(&head)
                .expect("igemm.wgsl: an entry point is missing");
            let end = start
                + s[start..]
                    .find("\n}\n")
                    .expect("igemm.wgsl: unclosed entry")
                + 3;
            // the name, and the parameters' continuation lines aligned under the longer name
            let indent = " ".repeat(format!("fn {entry}(").len());
            let mut copy = s[start..end]
                .replace(&format!("fn {entry}("), &format!("fn {entry}_vec4("))
                .replace(
                    &format!("\n{indent}@builtin"),
                    &format!("\n{indent}     @builtin"),
                );
            for hole in holes {
                copy = copy.replace(
                    &format!("{{{{{prefix}_{hole}}}}}"),
                    &format!("{{{{{prefix}_VEC4_{hole}}}}}"),
                );
            }
            s.insert_str(end, &format!("\n{copy}"));
        }
        use Staging::{KMajor, KMajorVec4, MMajor};
        let holes = [
            ("CONSTANTS", self.constants()),
            ("MULTIPLY", self.multiply()),
            ("FORWARD_DECLARE", self.declare(MMajor, KMajor)),
            ("FORWARD_LOAD", self.forward_load()),
            ("FORWARD_PUT", self.put(MMajor, KMajor)),
            ("FORWARD_VEC4_DECLARE", self.declare(MMajor, KMajorVec4)),
            ("FORWARD_VEC4_LOAD", self.forward_vec4_load()),
            ("FORWARD_VEC4_PUT", self.put(MMajor, KMajorVec4)),
            ("BACKWARD_DATA_DECLARE", self.declare(MMajor, MMajor)),
            ("BACKWARD_DATA_LOAD", self.backward_data_load()),
            ("BACKWARD_DATA_PUT", self.put(MMajor, MMajor)),
            ("WEIGHT_TAPS", self.weight_taps()),
            ("BACKWARD_WEIGHT_DECLARE", self.declare(KMajor, KMajor)),
            ("BACKWARD_WEIGHT_STEP", String::new()),
            ("BACKWARD_WEIGHT_LOAD", self.backward_weight_load(false)),
            ("BACKWARD_WEIGHT_PUT", self.put(KMajor, KMajor)),
            // gy's quads walk their own (n, p, q), from j_begin + 4 * quad
            (
                "BACKWARD_WEIGHT_VEC4_DECLARE",
                self.declare(KMajorVec4, KMajor)
                    + "    var walk_4 = walk_of(j_begin + 4u * (lid & 3u), prm.p, prm.q);\n",
            ),
            (
                "BACKWARD_WEIGHT_VEC4_STEP",
                "        walk_4 = walk_add(walk_4, bk_step, prm.p, prm.q);".to_string(),
            ),
            ("BACKWARD_WEIGHT_VEC4_LOAD", self.backward_weight_load(true)),
            ("BACKWARD_WEIGHT_VEC4_PUT", self.put(KMajorVec4, KMajor)),
        ];
        for (hole, text) in holes {
            let key = format!("{{{{{hole}}}}}");
            assert!(s.contains(&key), "igemm.wgsl has no {key}");
            s = s.replace(&key, &text);
        }
        // {{EPILOGUE_ALONG_M:at|put}} and {{EPILOGUE_ALONG_N:at|put}}: see `epilogue`
        for (hole, along) in [
            ("{{EPILOGUE_ALONG_M:", Along::M),
            ("{{EPILOGUE_ALONG_N:", Along::N),
        ] {
            while let Some(start) = s.find(hole) {
                let end = start
                    + s[start..]
                        .find("}}")
                        .expect("igemm.wgsl: unclosed EPILOGUE");
                let (at, put) = s[start + hole.len()..end]
                    .split_once('|')
                    .expect("igemm.wgsl: EPILOGUE wants at|put");
                let code = self.epilogue(along, at, put);
                s.replace_range(start..end + 2, &code);
            }
        }
        assert!(!s.contains("{{"), "igemm.wgsl: a hole is left unfilled");
        s
    }

    fn constants(&self) -> String {
        let (fm, fn_) = self.fragments();
        format!(
            "const BM: u32 = {}u;\nconst BN: u32 = {}u;\n// 4x4 fragments per invocation\n\
             const FM: u32 = {fm}u;\nconst FN: u32 = {fn_}u;",
            self.bm, self.bn
        )
    }

    /// Staged elements per invocation and step of an operand `width` wide.
    const fn slots(width: usize) -> usize {
        BK * width / THREADS
    }

    fn declare(&self, a: Staging, b: Staging) -> String {
        let (fm, fn_) = self.fragments();
        let mut s = String::new();
        for r in 0..4 * fm {
            for g in 0..fn_ {
                writeln!(s, "    var acc_{r}_{g} = vec4<f32>(0.0);").unwrap();
            }
        }
        for (name, staging, width) in [("pa", a, self.bm), ("pb", b, self.bn)] {
            let ty = match staging {
                Staging::KMajorVec4 => "vec4<f32>",
                _ => "f32",
            };
            for slot in staging.slot_names(width) {
                writeln!(s, "    var {name}_{slot}: {ty};").unwrap();
            }
        }
        // each fragment's vec4 column in a staged row
        for f in 0..fm {
            writeln!(s, "    let a_v{f} = {}u + tx;", 16 * f).unwrap();
        }
        for g in 0..fn_ {
            writeln!(s, "    let b_v{g} = {}u + ty;", 16 * g).unwrap();
        }
        s
    }

    fn put(&self, a: Staging, b: Staging) -> String {
        let mut s = String::new();
        for (put, pre, staging, width, col, kk) in [
            ("put_a", "pa", a, self.bm, "a_col", "a_kk"),
            ("put_b", "pb", b, self.bn, "b_put", "b_kk"),
        ] {
            match staging {
                Staging::MMajor => {
                    let rows = if put == "put_a" { "A_ROWS" } else { "B_ROWS" };
                    for i in 0..Self::slots(width) {
                        writeln!(
                            s,
                            "        {put}(stage, {kk} + {rows} * {i}u, {col}, {pre}_{i});"
                        )
                        .unwrap();
                    }
                }
                Staging::KMajor => {
                    for (h, t) in Staging::k_major_slots(width) {
                        writeln!(
                            s,
                            "        {put}(stage, b_kk + {}u, b_put + {}u, {pre}_{h}_{t});",
                            8 * h,
                            32 * t
                        )
                        .unwrap();
                    }
                }
                Staging::KMajorVec4 => {
                    for t in 0..width / 64 {
                        for (e, lane) in ["x", "y", "z", "w"].iter().enumerate() {
                            writeln!(
                                s,
                                "        {put}(stage, 4u * (lid & 3u) + {e}u, (lid >> 2u) + {}u, \
                                 {pre}_v{t}.{lane});",
                                64 * t
                            )
                            .unwrap();
                        }
                    }
                }
            }
        }
        s
    }

    /// Loads of an m-major operand: slot i is row `kk + rows * i`, its walk state one
    /// `walk_add` from the previous slot's.
    fn walked_loads(
        width: usize,
        reg: &str,
        kk: &str,
        rows: &str,
        walk: &str,
        step: &str,
        load: impl Fn(&str, &str) -> String,
    ) -> String {
        let mut s = format!("        {{\n            var w = {walk};\n");
        for i in 0..Self::slots(width) {
            if i > 0 {
                writeln!(s, "            w = {step};").unwrap();
            }
            let ok = format!("j0 + {kk} + {rows} * {i}u < j_end");
            writeln!(s, "            {reg}_{i} = {};", load(&ok, "w")).unwrap();
        }
        s.push_str("        }\n");
        s
    }

    fn forward_load(&self) -> String {
        let mut s = Self::walked_loads(
            self.bm,
            "pa",
            "a_kk",
            "A_ROWS",
            "a_walk",
            "walk_add(w, a_row_step, R, S)",
            |ok, w| format!("forward_a(a_ok && {ok}, x_base, h0, w0, {w})"),
        );
        for (h, t) in Staging::k_major_slots(self.bn) {
            writeln!(
                s,
                "        pb_{h}_{t} = forward_b(b_col + {}u, j0 + b_kk + {}u, j_end);",
                32 * t,
                8 * h
            )
            .unwrap();
        }
        s
    }

    /// forward_load with the weight read as vec4s: invocation lid loads the quad
    /// j0 + 4 * (lid % 4) of output channels lid / 4 + 64 * t.
    fn forward_vec4_load(&self) -> String {
        let mut s = Self::walked_loads(
            self.bm,
            "pa",
            "a_kk",
            "A_ROWS",
            "a_walk",
            "walk_add(w, a_row_step, R, S)",
            |ok, w| format!("forward_a(a_ok && {ok}, x_base, h0, w0, {w})"),
        );
        for t in 0..self.bn / 64 {
            writeln!(
                s,
                "        pb_v{t} = forward_b4(origin.y + (lid >> 2u) + {}u, j0 + 4u * (lid & 3u), j_end);",
                64 * t
            )
            .unwrap();
        }
        s
    }

    fn backward_data_load(&self) -> String {
        let mut s = Self::walked_loads(
            self.bm,
            "pa",
            "a_kk",
            "A_ROWS",
            "a_walk",
            "walk_add(w, a_row_step, ny, nz)",
            |ok, w| format!("backward_data_a(a_ok && {ok}, gy_base, p0, q0, out_steps, {w})"),
        );
        s += &Self::walked_loads(
            self.bn,
            "pb",
            "b_kk",
            "B_ROWS",
            "b_walk",
            "walk_add(w, b_row_step, ny, nz)",
            |ok, w| format!("backward_data_b({ok}, b_col, taps, {w})"),
        );
        s
    }

    fn weight_taps(&self) -> String {
        let mut s = String::new();
        for t in 0..self.bn / 32 {
            writeln!(s, "    let tap_{t} = weight_tap(b_col + {}u);", 32 * t).unwrap();
        }
        s
    }

    /// With `vec4`, gy (A) is read as vec4s: invocation lid loads the quad j0 + 4 * (lid % 4)
    /// (walked in `walk_4`) of output channels lid / 4 + 64 * t.
    fn backward_weight_load(&self, vec4: bool) -> String {
        let mut s = String::from(
            "        {\n            let walk_1 = walk_add(walk_0, half_step, prm.p, prm.q);\n",
        );
        if vec4 {
            for t in 0..self.bm / 64 {
                writeln!(
                    s,
                    "            pa_v{t} = backward_weight_a4(origin.x + (lid >> 2u) + {}u, \
                     j0 + 4u * (lid & 3u) < j_end, walk_4);",
                    64 * t
                )
                .unwrap();
            }
        }
        for h in 0..2 {
            let ok = format!("j0 + b_kk + {}u < j_end", 8 * h);
            for t in (0..self.bm / 32).filter(|_| !vec4) {
                writeln!(
                    s,
                    "            pa_{h}_{t} = backward_weight_a(a_row + {}u, {ok}, walk_{h});",
                    32 * t
                )
                .unwrap();
            }
            for t in 0..self.bn / 32 {
                writeln!(
                    s,
                    "            pb_{h}_{t} = backward_weight_b(tap_{t}, {ok}, walk_{h});"
                )
                .unwrap();
            }
        }
        s.push_str("        }\n");
        s
    }

    /// The unrolled inner product over one staged step: per kk, FM + FN vec4 loads at constant
    /// offsets and 4 * FM * FN vec4 fmas.
    fn multiply(&self) -> String {
        let (fm, fn_) = self.fragments();
        let mut s = String::from(
            "        let a_stage = stage * (BK * BM / 4u);\n        let b_stage = stage * (BK * BN / 4u);\n",
        );
        for kk in 0..BK {
            s.push_str("        {\n");
            let swz = kk & 7;
            for f in 0..fm {
                writeln!(
                    s,
                    "            let a{f} = a_tile[a_stage + {}u + (a_v{f} ^ {swz}u)];",
                    kk * self.bm / 4
                )
                .unwrap();
            }
            for g in 0..fn_ {
                writeln!(
                    s,
                    "            let b{g} = b_tile[b_stage + {}u + (b_v{g} ^ {swz}u)];",
                    kk * self.bn / 4
                )
                .unwrap();
            }
            for f in 0..fm {
                for (i, lane) in ["x", "y", "z", "w"].iter().enumerate() {
                    let r = 4 * f + i;
                    for g in 0..fn_ {
                        writeln!(
                            s,
                            "            acc_{r}_{g} = fma(vec4<f32>(a{f}.{lane}), b{g}, acc_{r}_{g});"
                        )
                        .unwrap();
                    }
                }
            }
            s.push_str("        }\n");
        }
        s
    }

    /// The epilogue (the hole `{{EPILOGUE_ALONG_M:at|put}}` or `{{EPILOGUE_ALONG_N:at|put}}`):
    /// the accumulators leave through workgroup memory, one 64 x 64 fragment (f, g) at a time,
    /// so that the global stores of a warp are consecutive addresses of the output.
    ///
    /// Invocation (tx, ty) holds rows 4*tx + 0..3 and columns 4*ty + 0..3 of each fragment.
    /// The fragment's two column halves are written to the two (now idle) staging tiles,
    /// columns 0..31 (ty < 8) to `a_tile` and 32..63 to `b_tile`, 64 x 32 floats each (512
    /// vec4s: the smallest staging tile holds it); after a barrier every invocation reads 8
    /// elements of each half back in the order the output is contiguous in, and stores them:
    /// - along M (forward, backward-data: consecutive rows are consecutive pixels of a
    ///   channel plane): a half is column-major, vec4s of 4 rows; invocation `lid` reads row
    ///   lid % 64 of columns lid / 64 + 4 * it. The writes are one vec4 per column, 8
    ///   consecutive invocations on 128 consecutive bytes: free of bank conflicts.
    /// - along N (backward-weight: consecutive columns are consecutive (c, r, s) of a weight):
    ///   a half is row-major, 8 vec4s a row, the vec4 index XORed with (row / 4) % 8 so the
    ///   writes of one vec4 per row by 8 consecutive invocations (rows 4 apart) hit distinct
    ///   banks; invocation `lid` reads column lid % 32 of rows lid / 32 + 8 * it.
    ///
    /// `at` is a WGSL expression of ROW (a row of the tile, i.e. of the GEMM): where that row
    /// starts in the output, or `NO_ROW` past the GEMM; `put` stores VALUE at column COL of
    /// the row starting at AT (its own bounds test on COL).
    fn epilogue(&self, along: Along, at: &str, put: &str) -> String {
        let (fm, fn_) = self.fragments();
        let at_of = |row: &str| at.replace("ROW", row);
        let put_of = |at: &str, col: &str, value: &str| {
            put.replace("AT", at)
                .replace("COL", col)
                .replace("VALUE", value)
        };
        let mut s = String::from(
            "    // epilogue: the accumulators through workgroup memory (igemm.rs, `epilogue`)
",
        );
        for f in 0..fm {
            for g in 0..fn_ {
                writeln!(
                    s,
                    "    {{ // fragment ({f}, {g}): rows {}.., columns {}.. of the tile",
                    64 * f,
                    64 * g
                )
                .unwrap();
                // the writes: a vec4 per column (along M) or per row (along N)
                for (tile, cond) in [("a_tile", "ty < 8u"), ("b_tile", "ty >= 8u")] {
                    writeln!(s, "        if {cond} {{").unwrap();
                    for i in 0..4 {
                        let value = match along {
                            Along::M => {
                                let lane = ["x", "y", "z", "w"][i];
                                let rows: Vec<_> = (0..4)
                                    .map(|r| format!("acc_{}_{g}.{lane}", 4 * f + r))
                                    .collect();
                                format!("vec4<f32>({})", rows.join(", "))
                            }
                            Along::N => format!("acc_{}_{g}", 4 * f + i),
                        };
                        let index = match along {
                            // column 4*(ty % 8) + i, vec4 of rows 4*tx..
                            Along::M => format!("(4u * (ty & 7u) + {i}u) * 16u + tx"),
                            // row 4*tx + i, vec4 of columns 4*(ty % 8).., swizzled
                            Along::N => format!("(4u * tx + {i}u) * 8u + ((ty & 7u) ^ (tx & 7u))"),
                        };
                        writeln!(s, "            {tile}[{index}] = {value};").unwrap();
                    }
                    writeln!(s, "        }}").unwrap();
                }
                writeln!(s, "        workgroupBarrier();").unwrap();
                // the reads, in the output's order, and the stores
                let (row0, col0) = (64 * f, 64 * g);
                if along == Along::M {
                    let at = at_of(&format!("origin.x + {row0}u + (lid & 63u)"));
                    writeln!(s, "        let at = {at};").unwrap();
                }
                for (half, tile) in ["a_tile", "b_tile"].iter().enumerate() {
                    for it in 0..8 {
                        let (value, row_at, col) = match along {
                            Along::M => (
                                format!(
                                    "{tile}[(lid >> 6u) * 16u + {}u + ((lid & 63u) >> 2u)][lid & 3u]",
                                    64 * it
                                ),
                                "at".to_string(),
                                format!("origin.y + {}u + (lid >> 6u)", col0 + 32 * half + 4 * it),
                            ),
                            Along::N => {
                                let row = format!("(lid >> 5u) + {}u", 8 * it);
                                (
                                    format!(
                                        "{tile}[({row}) * 8u + (((lid & 31u) >> 2u) ^ ((lid >> 7u) + {}u))][lid & 3u]",
                                        (2 * it) & 7
                                    ),
                                    at_of(&format!("origin.x + {row0}u + {row}")),
                                    format!("origin.y + {}u + (lid & 31u)", col0 + 32 * half),
                                )
                            }
                        };
                        writeln!(s, "        {};", put_of(&row_at, &col, &value)).unwrap();
                    }
                }
                writeln!(
                    s,
                    "        workgroupBarrier();
    }}"
                )
                .unwrap();
            }
        }
        s
    }
}

/// Which way an output is contiguous: along the GEMM's rows (M) or its columns (N).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Along {
    M,
    N,
}

/// How an operand is staged: along its tile's width (lanes take consecutive columns, each
/// invocation a fixed column and rows `kk + ROWS * i`: for operands contiguous along m or n),
/// or along the reduction (8 lanes take 8 consecutive rows, each invocation rows kk and kk + 8
/// and columns `lid / 8 + 32 * t`: for operands contiguous along j), or along the reduction
/// in vec4s (4 lanes take the 16 rows of a column as 4 quads, each invocation the quad
/// lid % 4 of columns `lid / 4 + 64 * t`: for operands contiguous and aligned along j).
#[derive(Clone, Copy)]
enum Staging {
    MMajor,
    KMajor,
    KMajorVec4,
}

impl Staging {
    fn k_major_slots(width: usize) -> impl Iterator<Item = (usize, usize)> {
        (0..2).flat_map(move |h| (0..width / 32).map(move |t| (h, t)))
    }

    fn slot_names(self, width: usize) -> Vec<String> {
        match self {
            Staging::MMajor => (0..IgemmTile::slots(width))
                .map(|i| i.to_string())
                .collect(),
            Staging::KMajor => Self::k_major_slots(width)
                .map(|(h, t)| format!("{h}_{t}"))
                .collect(),
            Staging::KMajorVec4 => (0..width / 64).map(|t| format!("v{t}")).collect(),
        }
    }
}

const TEMPLATE: &str = crate::wgsl!("conv2d/igemm.wgsl");

/// One generated variant: its tile and its shader, generated on first use.
pub struct IgemmKernels {
    pub tile: IgemmTile,
    name: &'static str,
    shader: OnceLock<Shader>,
}

impl IgemmKernels {
    const fn new(name: &'static str, bm: usize, bn: usize) -> IgemmKernels {
        let tile = IgemmTile { bm, bn };
        assert!(tile.valid());
        IgemmKernels {
            tile,
            name,
            shader: OnceLock::new(),
        }
    }

    /// The generated module (made once, kept for the life of the process).
    pub fn shader(&'static self) -> &'static Shader {
        self.shader.get_or_init(|| {
            let source: &'static str = Box::leak(self.tile.source().into_boxed_str());
            Shader {
                name: self.name,
                parts: Box::leak(Box::new([crate::wgsl!("conv2d/conv_gather.wgsl"), source])),
            }
        })
    }

    pub fn forward(&'static self) -> Kernel {
        Kernel::new(self.shader(), "igemm_forward")
    }

    pub fn backward_data(&'static self) -> Kernel {
        Kernel::new(self.shader(), "igemm_backward_data")
    }

    pub fn backward_weight(&'static self) -> Kernel {
        Kernel::new(self.shader(), "igemm_backward_weight")
    }

    /// `forward` reading the weight as vec4s: for C*R*S a multiple of 4 ([`vec4_aligned`]).
    pub fn forward_vec4(&'static self) -> Kernel {
        Kernel::new(self.shader(), "igemm_forward_vec4")
    }

    /// `backward_weight` reading gy as vec4s: for P*Q a multiple of 4 ([`vec4_aligned`]).
    pub fn backward_weight_vec4(&'static self) -> Kernel {
        Kernel::new(self.shader(), "igemm_backward_weight_vec4")
    }

    pub fn sum_splits(&'static self) -> Kernel {
        Kernel::new(self.shader(), "igemm_sum_splits")
    }
}

/// The generated tiles: 128x128 (8x8 per invocation, 32 KiB), 128x64 and 64x128 (8x4 and
/// 4x8, 24 KiB), and 64x64 (4x4, 16 KiB: within WebGPU's default limits).
pub static IGEMM_128X128: IgemmKernels = IgemmKernels::new("conv2d/igemm128x128.wgsl", 128, 128);
pub static IGEMM_128X64: IgemmKernels = IgemmKernels::new("conv2d/igemm128x64.wgsl", 128, 64);
pub static IGEMM_64X128: IgemmKernels = IgemmKernels::new("conv2d/igemm64x128.wgsl", 64, 128);
pub static IGEMM_64X64: IgemmKernels = IgemmKernels::new("conv2d/igemm64x64.wgsl", 64, 64);

const _: () = assert!(IgemmTile { bm: 64, bn: 64 }.workgroup_bytes() <= 16384);

/// Whether an operand contiguous along the reduction, `row_len` elements a row, can be read
/// as vec4s: every row starts 16-byte aligned and the slices (multiples of [`BK`]) start and
/// end on whole quads.
pub const fn vec4_aligned(row_len: usize) -> bool {
    row_len.is_multiple_of(4)
}

/// How many slices a reduction of `k` is cut into (and how long each is, a multiple of
/// [`BK`]) when `tiles` workgroups cover the output: enough slices for
/// [`TARGET_WORKGROUPS`] (at most `bound`: the partial sums are bound as one buffer), each at
/// least `MIN_SLICE` long, none longer than `max_len`.
pub fn split_k(tiles: usize, k: usize, max_len: usize, bound: usize) -> (usize, usize) {
    const MIN_SLICE: usize = 8 * BK;
    let wanted = TARGET_WORKGROUPS.div_ceil(tiles.max(1)).min(bound);
    let most = (k / MIN_SLICE).max(1);
    let fewest = k.div_ceil(max_len).max(1);
    let splits = wanted.clamp(1, most).max(fewest);
    // slices rounded down to BK, so there are at least `splits` of them
    let mut len = (k / splits / BK * BK).max(BK);
    if k.div_ceil(len) > bound {
        // the rounding made more slices than the partial sums' binding holds: round up instead
        len = k.div_ceil(bound).next_multiple_of(BK).min(max_len.max(BK));
    }
    (k.max(1).div_ceil(len), len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_k_never_makes_more_slices_than_the_binding_holds() {
        // a 3-channel 128x128 output at a 1 MiB binding holds 5 slices; 2,592 rounded down to
        // slices of 512 would make 6
        for (tiles, k, bound) in [(16, 2592, 5), (1, 10_000, 3), (7, 97, 1), (2, 4099, 9)] {
            let (splits, len) = split_k(tiles, k, 16_384, bound);
            assert!(
                splits <= bound,
                "{tiles} {k} {bound}: {splits} slices of {len}"
            );
            assert!(
                splits * len >= k && (splits - 1) * len < k,
                "{splits} x {len} covers {k}"
            );
        }
    }

    #[test]
    fn every_tile_generates_valid_wgsl() {
        for g in [&IGEMM_128X128, &IGEMM_128X64, &IGEMM_64X128, &IGEMM_64X64] {
            let src = g.shader().source();
            let module = wgpu::naga::front::wgsl::parse_str(&src)
                .unwrap_or_else(|e| panic!("{}: {}", g.name, e.emit_to_string(&src)));
            wgpu::naga::valid::Validator::new(
                wgpu::naga::valid::ValidationFlags::all(),
                wgpu::naga::valid::Capabilities::all(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {e:?}", g.name));
        }
    }

    #[test]
    fn splits_cover_the_reduction_and_fill_the_gpu() {
        for (tiles, k) in [
            (1, 1),
            (1, 100_000),
            (4, 1152),
            (300, 5000),
            (32, 65_536),
            (5000, 1 << 22),
        ] {
            let (splits, len) = split_k(tiles, k, 16_384, usize::MAX);
            assert!(len % BK == 0 && len <= 16_384, "{tiles} {k}: {len}");
            assert!(splits >= 1 && splits * len >= k && (splits - 1) * len < k.max(1));
            // enough workgroups, unless the slices are already near their shortest
            assert!(
                tiles * splits >= TARGET_WORKGROUPS || len < 16 * BK,
                "{tiles} {k}: {splits}"
            );
        }
    }
}
