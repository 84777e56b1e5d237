//! What the training commands' run logs share (`gan::runlog`, `cyclegan::runlog`,
//! `style::runlog`): the run's
//! [`RunLog`] (TensorBoard events, scalars.csv) and its [`RunPage`] (index.html), opened for a
//! new or a resumed run, with the rule that a failure here warns once and training goes on (a
//! lost chart is no reason to lose a run); and GPU time per step from the profiler.

use std::path::Path;

use atelier_runlog::{RunLog, RunPage};
use atelier_tensor::Device;

/// The checkpoint every trainer writes, as the page links it.
const CHECKPOINT: &str = "checkpoint.safetensors";

pub struct PageLog {
    log: RunLog,
    pub page: RunPage,
    warned: bool,
}

impl PageLog {
    /// The log of the run in `dir` at `step` (resumed when past step 0: scalars.csv keeps its
    /// rows up to `step`, a new event file carries on), with `page` written at once.
    pub fn open(dir: &Path, step: u64, tensorboard: bool, page: RunPage) -> anyhow::Result<Self> {
        let log = if step > 0 {
            RunLog::resume(dir, step, tensorboard)?
        } else {
            RunLog::create(dir, tensorboard)?
        };
        let mut me = PageLog {
            log,
            page,
            warned: false,
        };
        me.write_page();
        Ok(me)
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        self.log.dir()
    }

    /// The page's checkpoint line, when the run folder holds a checkpoint (at `step`).
    pub fn checkpoint_in(dir: &Path, step: u64) -> Option<(String, u64)> {
        dir.join(CHECKPOINT)
            .exists()
            .then(|| (CHECKPOINT.to_string(), step))
    }

    pub fn warn(&mut self, what: &str, e: impl std::fmt::Display) {
        if !self.warned {
            eprintln!("atelier: warning: {what}: {e} (training goes on)");
            self.warned = true;
        }
    }

    pub fn write_page(&mut self) {
        if let Err(e) = self.log.write_page(&self.page) {
            self.warn("writing the run page", e);
        }
    }

    /// Logs `(tag, value)` pairs at `step`.
    pub fn scalars(&mut self, step: u64, values: &[(&str, f64)]) {
        if let Err(e) = self.log.scalars(step, values) {
            self.warn("logging scalars", e);
        }
    }

    /// Logs the sample grid just written at `path` (at the page's step) and rewrites the page.
    pub fn sample(&mut self, path: &Path) {
        if let Err(e) = self.log.image(self.page.step, "samples", path) {
            self.warn("logging the sample grid", e);
        }
        self.write_page();
    }

    /// A checkpoint was written at the page's step: the page says so.
    pub fn checkpoint(&mut self) {
        self.page.checkpoint = Some((CHECKPOINT.into(), self.page.step));
        self.write_page();
    }

    /// The page marked as no longer training, at `step`.
    pub fn finish(&mut self, step: u64) {
        self.page.running = false;
        self.page.step = step;
        self.write_page();
    }
}

/// GPU milliseconds per step between log lines, when the profiler times every dispatch
/// (ATELIER_PROFILE=1). It reads nothing extra: a log line has just read the losses back, so
/// the queue is already drained.
pub struct GpuClock {
    device: Device,
    /// (step, total GPU ns) at the last log line.
    last: Option<(u64, f64)>,
}

impl GpuClock {
    pub fn start(device: Device, step: u64) -> GpuClock {
        GpuClock {
            device,
            last: gpu_total_ns(device).map(|ns| (step, ns)),
        }
    }

    /// GPU ms per step since the last call (or the start), when the profiler is on.
    pub fn ms_per_step(&mut self, step: u64) -> Option<f64> {
        let now = gpu_total_ns(self.device)?;
        let last = self.last.replace((step, now));
        let (from, before) = last?;
        (step > from).then(|| (now - before) / 1e6 / (step - from) as f64)
    }
}

/// GPU time of every dispatch so far, when the profiler is on.
fn gpu_total_ns(device: Device) -> Option<f64> {
    if device != Device::Gpu {
        return None;
    }
    let gpu = atelier_kernels::gpu();
    if !gpu.is_profiling() {
        return None;
    }
    gpu.profile().map(|p| p.total_ns())
}
