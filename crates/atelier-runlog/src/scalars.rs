//! RUN_DIR/scalars.csv: every scalar a run logged (`step,tag,value`), appended as it goes; the
//! run page draws its curves from it, and a resumed run keeps the rows up to its checkpoint.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Result, io};

pub const FILE: &str = "scalars.csv";
const HEADER: &str = "step,tag,value";

/// The scalars logged so far, by tag, in the order tags first appeared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scalars {
    tags: Vec<String>,
    values: BTreeMap<String, Vec<(u64, f64)>>,
}

impl Scalars {
    pub fn push(&mut self, step: u64, tag: &str, value: f64) {
        if !self.values.contains_key(tag) {
            self.tags.push(tag.to_string());
        }
        self.values
            .entry(tag.to_string())
            .or_default()
            .push((step, value));
    }

    /// Tags in first-logged order.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// (step, value) of `tag`, in logging order.
    pub fn get(&self, tag: &str) -> &[(u64, f64)] {
        self.values.get(tag).map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Tags grouped by their prefix before the first `/` (TensorBoard's grouping), groups in
    /// first-logged order: `loss/D`, `loss/G` → ("loss", [D, G]).
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for tag in &self.tags {
            let group = tag.split('/').next().unwrap_or(tag).to_string();
            match groups.iter_mut().find(|(g, _)| *g == group) {
                Some((_, tags)) => tags.push(tag.clone()),
                None => groups.push((group, vec![tag.clone()])),
            }
        }
        groups
    }
}

/// [`Scalars`] backed by RUN_DIR/scalars.csv.
pub struct ScalarFile {
    path: PathBuf,
    pub scalars: Scalars,
}

impl ScalarFile {
    /// A new file with just the header.
    pub fn create(dir: &Path) -> Result<ScalarFile> {
        let path = dir.join(FILE);
        std::fs::write(&path, format!("{HEADER}\n")).map_err(io(&path))?;
        Ok(ScalarFile {
            path,
            scalars: Scalars::default(),
        })
    }

    /// The existing file's rows up to `step` (the file is rewritten with only those); a
    /// missing file starts empty, unreadable rows are dropped.
    pub fn resume(dir: &Path, step: u64) -> Result<ScalarFile> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut scalars = Scalars::default();
        let mut kept = format!("{HEADER}\n");
        for line in text.lines().skip(1) {
            let mut f = line.splitn(3, ',');
            let (Some(s), Some(tag), Some(v)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let (Ok(s), Ok(v)) = (s.parse::<u64>(), v.parse::<f64>()) else {
                continue;
            };
            if s <= step {
                scalars.push(s, tag, v);
                kept.push_str(line);
                kept.push('\n');
            }
        }
        std::fs::write(&path, kept).map_err(io(&path))?;
        Ok(ScalarFile { path, scalars })
    }

    /// Appends rows at `step` (a comma in a tag becomes `_`: the file has three columns).
    pub fn append(&mut self, step: u64, values: &[(&str, f64)]) -> Result<()> {
        let mut text = String::new();
        for &(tag, v) in values {
            let tag = tag.replace(',', "_");
            text.push_str(&format!("{step},{tag},{v}\n"));
            self.scalars.push(step, &tag, v);
        }
        let mut f = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        f.write_all(text.as_bytes()).map_err(io(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_follow_the_prefix_in_first_logged_order() {
        let mut s = Scalars::default();
        for (tag, v) in [("loss/D", 1.0), ("lr", 2e-4), ("loss/G", 2.0), ("D/x", 0.5)] {
            s.push(1, tag, v);
        }
        s.push(2, "loss/D", 0.5);
        assert_eq!(
            s.groups(),
            vec![
                (
                    "loss".to_string(),
                    vec!["loss/D".to_string(), "loss/G".to_string()]
                ),
                ("lr".to_string(), vec!["lr".to_string()]),
                ("D".to_string(), vec!["D/x".to_string()]),
            ]
        );
        assert_eq!(s.get("loss/D"), &[(1, 1.0), (2, 0.5)]);
        assert!(s.get("nothing").is_empty());
    }

    #[test]
    fn resume_keeps_the_rows_up_to_the_step() {
        let dir = std::env::temp_dir().join(format!("atelier-scalars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut f = ScalarFile::create(&dir).unwrap();
        for step in [2, 4, 6] {
            f.append(step, &[("loss/D", step as f64), ("a,b", 1.0)])
                .unwrap();
        }
        let r = ScalarFile::resume(&dir, 4).unwrap();
        assert_eq!(r.scalars.get("loss/D"), &[(2, 2.0), (4, 4.0)]);
        assert_eq!(r.scalars.get("a_b").len(), 2);
        let text = std::fs::read_to_string(dir.join(FILE)).unwrap();
        assert_eq!(text.lines().count(), 5, "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
