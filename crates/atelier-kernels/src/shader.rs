//! WGSL sources. A [`Shader`] is one or more files of a family's folder, joined in order after
//! `prelude.wgsl` (the helpers every kernel may use: the `WG` workgroup size, `group_id`,
//! `linear_id`). A file that extends another (a variant that reuses its base's bindings and
//! helpers) lists the base first. Parts may also be generated text, such as the elementwise
//! family's op table.
//!
//! Line numbers in a compiler message count from the start of the joined source: the prelude
//! comes first ([`PRELUDE_LINES`] lines).

/// The helpers joined before every shader.
pub const PRELUDE: &str = include_str!("prelude.wgsl");

/// Lines the prelude adds before a shader's own first line.
pub const PRELUDE_LINES: usize = {
    let bytes = PRELUDE.as_bytes();
    let mut i = 0;
    let mut lines = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            lines += 1;
        }
        i += 1;
    }
    lines
};

/// A WGSL module: its name (for messages and the pipeline cache) and its parts.
pub struct Shader {
    /// `family/file.wgsl`, unique: the pipeline cache keys modules on it.
    pub name: &'static str,
    /// Joined in order after the prelude.
    pub parts: &'static [&'static str],
}

impl Shader {
    /// The whole source: the prelude, then the parts. WGSL wants its `enable` directives
    /// before any declaration: a part's `enable ...;` lines (conv2d's `coop_f16` asks for `f16`
    /// and `wgpu_cooperative_matrix`) are moved before the prelude, once each, and leave a
    /// comment in their place (so a message's line numbers count those lines too).
    pub fn source(&self) -> String {
        let mut s = String::with_capacity(
            PRELUDE.len() + self.parts.iter().map(|p| p.len() + 1).sum::<usize>(),
        );
        let mut enables: Vec<&str> = Vec::new();
        let mut body = String::new();
        for part in self.parts {
            for line in part.lines() {
                let t = line.trim();
                if t.starts_with("enable ") && t.ends_with(';') {
                    if !enables.contains(&t) {
                        enables.push(t);
                    }
                    body.push_str("// (enable directive moved to the top)");
                } else {
                    body.push_str(line);
                }
                body.push('\n');
            }
        }
        for e in &enables {
            s.push_str(e);
            s.push('\n');
        }
        s.push_str(PRELUDE);
        s.push_str(&body);
        s
    }
}

/// `wgsl!("family/file.wgsl")`: a file of `src/families/`, embedded at compile time.
#[macro_export]
macro_rules! wgsl {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/families/", $file))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prelude_comes_first_and_is_counted() {
        static S: Shader = Shader {
            name: "test/x.wgsl",
            parts: &["fn a() {}", "fn b() {}"],
        };
        let src = S.source();
        assert!(src.starts_with(PRELUDE));
        assert!(src.ends_with("fn a() {}\nfn b() {}\n"));
        assert_eq!(PRELUDE_LINES, PRELUDE.lines().count());
    }

    #[test]
    fn enable_directives_come_before_the_prelude() {
        static S: Shader = Shader {
            name: "test/y.wgsl",
            parts: &[
                "enable f16;\nfn a() {}",
                "enable f16;\nenable subgroups;\nfn b() {}",
            ],
        };
        let src = S.source();
        assert!(
            src.starts_with("enable f16;\nenable subgroups;\n// prelude.wgsl"),
            "{src}"
        );
        assert_eq!(src.matches("enable f16;").count(), 1);
        assert!(src.ends_with("fn b() {}\n"));
    }
}
