//! atelier-runlog: what a training run leaves for the people watching it, in its run folder.
//!
//! - TensorBoard event files (`events.out.tfevents.*`, [`tensorboard`]): every scalar and
//!   sample grid, readable by `tensorboard --logdir runs/`.
//! - `scalars.csv` ([`scalars`]): the same scalars as plain text.
//! - `index.html` ([`page`]): the run page.
//!
//! A trainer holds one [`RunLog`]: it calls [`RunLog::scalars`] when it reads values back,
//! [`RunLog::image`] when it writes a sample grid, and [`RunLog::write_page`] at samples and
//! checkpoints. Tags group by their prefix (`loss/D`, `loss/G` share a chart).

pub mod error;
pub mod page;
pub mod scalars;
pub mod tensorboard;

use std::path::{Path, PathBuf};

pub use error::{Result, RunLogError};
pub use page::{Figure, RunPage};
pub use scalars::Scalars;

use error::io;
use scalars::ScalarFile;
use tensorboard::EventWriter;

/// What a [`RunLog`] writes in a run folder, as a trainer's run layout lists them
/// (`atelier_fs::run_dir::RunLayout`: a trailing `*` stands for any rest of the name), so that
/// a new run forced into an old run's folder replaces them too.
pub const FILES: [&str; 3] = [page::FILE, scalars::FILE, "events.out.tfevents.*"];

pub struct RunLog {
    dir: PathBuf,
    events: Option<EventWriter>,
    scalars: ScalarFile,
}

impl RunLog {
    /// A new run's log in `dir` (which must exist); `tensorboard` adds an event file.
    pub fn create(dir: &Path, tensorboard: bool) -> Result<RunLog> {
        let events = tensorboard
            .then(|| EventWriter::create(dir).map_err(io(dir)))
            .transpose()?;
        Ok(RunLog {
            dir: dir.to_path_buf(),
            events,
            scalars: ScalarFile::create(dir)?,
        })
    }

    /// The log of a run resumed at `step`: scalars.csv keeps its rows up to `step`, and a new
    /// event file starts with a session start at `step + 1`, so TensorBoard drops what the
    /// earlier files logged after the checkpoint (the resumed run logs those steps again).
    pub fn resume(dir: &Path, step: u64, tensorboard: bool) -> Result<RunLog> {
        let events = match tensorboard {
            true => {
                let mut w = EventWriter::create(dir).map_err(io(dir))?;
                w.session_start(step + 1).map_err(io(w.path()))?;
                Some(w)
            }
            false => None,
        };
        Ok(RunLog {
            dir: dir.to_path_buf(),
            events,
            scalars: ScalarFile::resume(dir, step)?,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The event file, when TensorBoard logging is on.
    pub fn event_file(&self) -> Option<&Path> {
        self.events.as_ref().map(EventWriter::path)
    }

    /// Logs `(tag, value)` pairs at `step` (non-finite values too: TensorBoard shows them).
    pub fn scalars(&mut self, step: u64, values: &[(&str, f64)]) -> Result<()> {
        if let Some(w) = &mut self.events {
            w.scalars(step, values).map_err(io(w.path()))?;
        }
        self.scalars.append(step, values)
    }

    /// Logs the image file at `path` (already written, PNG or any format `image` reads) under
    /// `tag` at `step`.
    pub fn image(&mut self, step: u64, tag: &str, path: &Path) -> Result<()> {
        let Some(w) = &mut self.events else {
            return Ok(());
        };
        let bytes = std::fs::read(path).map_err(io(path))?;
        let bad = |source| RunLogError::Image {
            path: path.to_path_buf(),
            source,
        };
        let img = image::load_from_memory(&bytes).map_err(bad)?;
        let channels = img.color().channel_count();
        let png = if image::guess_format(&bytes).ok() == Some(image::ImageFormat::Png) {
            bytes
        } else {
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Png)
                .map_err(bad)?;
            out.into_inner()
        };
        w.png(step, tag, png, (img.width(), img.height()), channels)
            .map_err(io(w.path()))
    }

    /// Every scalar logged so far (this session's and, when resumed, the earlier ones').
    pub fn history(&self) -> &Scalars {
        &self.scalars.scalars
    }

    /// Rewrites RUN_DIR/index.html.
    pub fn write_page(&self, page: &RunPage) -> Result<PathBuf> {
        page::write(&self.dir, page, self.history())
    }
}
