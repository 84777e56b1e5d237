//! RUN_DIR/index.html: one page that shows a run to a person, with nothing to install and
//! nothing fetched: the config, the sample grids over time (the latest large, a strip of
//! earlier ones), the curves of every scalar (inline SVG, grouped as TensorBoard groups
//! them), figures such as a latent walk, the checkpoint's step, and links to every file.
//! Images are relative links to the PNGs beside it, so the folder can be zipped, served or
//! opened from disk. It is rewritten (temp file + rename) at each sample and checkpoint.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use atelier_plot::LineChart;

use crate::error::{Result, io};
use crate::scalars::Scalars;

pub const FILE: &str = "index.html";

/// At most this many earlier grids in the strip (spread evenly over the run).
const STRIP: usize = 12;

/// An image shown under its own heading (a latent walk, real images, translations).
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub title: String,
    /// Relative to the run folder.
    pub path: String,
    pub caption: String,
}

/// What a trainer knows about its run; the page adds what it finds in the folder.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunPage {
    pub title: String,
    /// Key facts, shown as a table at the top (model, data, device, ...).
    pub facts: Vec<(String, String)>,
    pub step: u64,
    pub total_steps: Option<u64>,
    /// While true the page reloads itself every 30 s.
    pub running: bool,
    /// The checkpoint (relative path) and the step it holds.
    pub checkpoint: Option<(String, u64)>,
    /// A folder (relative) of `step_NNNNNN.png` grids, and what one shows.
    pub samples: Option<(String, String)>,
    pub figures: Vec<Figure>,
    /// The run's configuration, shown as it is (JSON).
    pub config: Option<String>,
}

/// A sample grid and its step.
#[derive(Clone, Debug, PartialEq)]
struct Grid {
    step: u64,
    path: String,
}

/// The `step_NNNNNN.png` files of `dir/folder`, by step.
fn grids(dir: &Path, folder: &str) -> Vec<Grid> {
    let Ok(entries) = std::fs::read_dir(dir.join(folder)) else {
        return Vec::new();
    };
    let mut grids: Vec<Grid> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let step = name
                .strip_prefix("step_")?
                .strip_suffix(".png")?
                .parse()
                .ok()?;
            Some(Grid {
                step,
                path: format!("{folder}/{name}"),
            })
        })
        .collect();
    grids.sort_by_key(|g| g.step);
    grids
}

/// Up to `n` of `items`, spread evenly, the first always among them.
fn spread<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n)
        .map(|i| items[i * (items.len() - 1) / (n - 1).max(1)].clone())
        .collect()
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A path for an `href`/`src`: each segment percent-encoded where it must be.
fn url(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// The files and folders at the top of the run folder: (name, is folder, size or count).
fn listing(dir: &Path) -> Vec<(String, bool, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut items: Vec<(String, bool, u64)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.ends_with(".tmp") || name == FILE {
                return None;
            }
            let meta = e.metadata().ok()?;
            let size = if meta.is_dir() {
                std::fs::read_dir(e.path()).map_or(0, |d| d.count() as u64)
            } else {
                meta.len()
            };
            Some((name, meta.is_dir(), size))
        })
        .collect();
    items.sort();
    items
}

/// One SVG chart per scalar group.
fn charts(scalars: &Scalars) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (group, tags) in scalars.groups() {
        let mut chart = LineChart::new(group.as_str()).size(560, 320);
        for tag in &tags {
            let name = tag.strip_prefix(&format!("{group}/")).unwrap_or(tag);
            let points = scalars
                .get(tag)
                .iter()
                .map(|&(s, v)| (s as f64, v))
                .collect();
            chart = chart.series(name, points);
        }
        out.push((group, chart.to_svg()?));
    }
    Ok(out)
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; padding: 0 16px; }
h1 { margin-bottom: 4px; } h2 { margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.status { color: #555; margin-top: 0; }
table.facts td { padding: 2px 16px 2px 0; vertical-align: top; } table.facts td:first-child { color: #666; }
figure { margin: 0; } figcaption { color: #555; font-size: 0.9em; }
img.latest { max-width: 100%; width: 640px; image-rendering: pixelated; border: 1px solid #ccc; }
.strip { display: flex; gap: 10px; overflow-x: auto; padding-bottom: 8px; }
.strip img { height: 128px; image-rendering: pixelated; border: 1px solid #ccc; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart svg { width: 560px; max-width: 100%; height: auto; border: 1px solid #eee; }
img.figure { max-width: 100%; image-rendering: pixelated; border: 1px solid #ccc; }
pre { background: #f6f6f6; padding: 12px; overflow-x: auto; }
ul.files { columns: 2; }
";

/// The page's HTML for the run in `dir`.
pub fn render(dir: &Path, page: &RunPage, scalars: &Scalars) -> Result<String> {
    let mut h = String::new();
    let title = escape(&page.title);
    let refresh = if page.running {
        "<meta http-equiv=\"refresh\" content=\"30\">\n"
    } else {
        ""
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n{refresh}\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    );
    let progress = match page.total_steps {
        Some(total) => format!("step {} of {total}", page.step),
        None => format!("step {}", page.step),
    };
    let state = if page.running { "training" } else { "stopped" };
    let ck = match &page.checkpoint {
        Some((path, step)) => format!(
            "; checkpoint at step <span id=\"checkpoint-step\">{step}</span> \
             (<a href=\"{}\">{}</a>)",
            url(path),
            escape(path)
        ),
        None => String::new(),
    };
    let _ = writeln!(h, "<p class=\"status\">{progress}, {state}{ck}</p>");
    if !page.facts.is_empty() {
        h.push_str("<table class=\"facts\">\n");
        for (k, v) in &page.facts {
            let _ = writeln!(h, "<tr><td>{}</td><td>{}</td></tr>", escape(k), escape(v));
        }
        h.push_str("</table>\n");
    }

    if let Some((folder, caption)) = &page.samples {
        let all = grids(dir, folder);
        if let Some((latest, earlier)) = all.split_last() {
            let _ = writeln!(
                h,
                "<h2>Samples</h2>\n<figure><img class=\"latest\" src=\"{}\" alt=\"samples at step {}\">\
                 <figcaption>step {}: {}</figcaption></figure>",
                url(&latest.path),
                latest.step,
                latest.step,
                escape(caption)
            );
            if !earlier.is_empty() {
                h.push_str("<h3>Over time</h3>\n<div class=\"strip\">\n");
                for g in spread(earlier, STRIP) {
                    let _ = writeln!(
                        h,
                        "<figure><a href=\"{0}\"><img src=\"{0}\" alt=\"step {1}\"></a>\
                         <figcaption>step {1}</figcaption></figure>",
                        url(&g.path),
                        g.step
                    );
                }
                h.push_str("</div>\n");
            }
        }
    }

    if !scalars.is_empty() {
        h.push_str("<h2>Curves</h2>\n<div class=\"charts\">\n");
        for (group, svg) in charts(scalars)? {
            let _ = writeln!(
                h,
                "<div class=\"chart\" data-group=\"{}\">{svg}</div>",
                escape(&group)
            );
        }
        h.push_str("</div>\n");
    }

    for f in page.figures.iter().filter(|f| dir.join(&f.path).exists()) {
        let _ = writeln!(
            h,
            "<h2>{}</h2>\n<figure><img class=\"figure\" src=\"{}\" alt=\"{}\">\
             <figcaption>{}</figcaption></figure>",
            escape(&f.title),
            url(&f.path),
            escape(&f.title),
            escape(&f.caption)
        );
    }

    if let Some(config) = &page.config {
        let _ = writeln!(h, "<h2>Configuration</h2>\n<pre>{}</pre>", escape(config));
    }

    h.push_str("<h2>Files</h2>\n<ul class=\"files\">\n");
    for (name, is_dir, size) in listing(dir) {
        let what = if is_dir {
            format!("{size} files")
        } else {
            human_size(size)
        };
        let slash = if is_dir { "/" } else { "" };
        let _ = writeln!(
            h,
            "<li><a href=\"{}{slash}\">{}{slash}</a> ({what})</li>",
            url(&name),
            escape(&name)
        );
    }
    h.push_str(
        "</ul>\n<p class=\"status\">Written by atelier. TensorBoard reads the \
                events.out.tfevents.* files here: <code>tensorboard --logdir .</code></p>\n\
                </body>\n</html>\n",
    );
    Ok(h)
}

/// Writes RUN_DIR/index.html (through a temporary file of this process and a rename, so a
/// browser never reads half a page and two writers never share a temporary file).
pub fn write(dir: &Path, page: &RunPage, scalars: &Scalars) -> Result<PathBuf> {
    let html = render(dir, page, scalars)?;
    let path = dir.join(FILE);
    atelier_fs::write_atomic(&path, html.as_bytes()).map_err(|e| io(&path)(e.into_io()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_the_first_and_last_and_at_most_n() {
        let v: Vec<u32> = (0..100).collect();
        let s = spread(&v, 5);
        assert_eq!(s, vec![0, 24, 49, 74, 99]);
        assert_eq!(spread(&v[..3], 5), vec![0, 1, 2]);
    }

    #[test]
    fn text_and_urls_are_escaped() {
        assert_eq!(
            escape("<a href='x'>&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(url("samples/step 1#.png"), "samples/step%201%23.png");
    }
}
