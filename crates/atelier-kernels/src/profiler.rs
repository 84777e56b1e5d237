//! The timestamp profiler: GPU time per kernel, from timestamp queries.
//!
//! When profiling is on (`ATELIER_PROFILE=1`, or [`Gpu::enable_profiling`]) and the device has
//! `TIMESTAMP_QUERY`, the recorder asks [`Profiler::pass_writes`] for the `timestamp_writes` of
//! every compute pass it records: a begin and an end query in one preallocated query set of
//! [`QUERIES`] slots. Nothing is created per dispatch. At each flush the recorder calls
//! [`Profiler::resolve`] (resolve the used queries into a buffer, copy that to a mappable one,
//! both recorded into the encoder being submitted) and, after the submit, [`Profiler::collect`],
//! which waits for the GPU, reads the ticks and adds `end - begin` to the kernel that ran in the
//! pass. The recorder flushes when the query set is full.
//!
//! Profiling therefore makes every flush wait for the GPU. The times themselves are GPU
//! timestamps and do not include that wait. With profiling off the recorder holds no profiler
//! and a launch pays one `Option` check.
//!
//! A command that ran with `ATELIER_PROFILE=1` prints the per-kernel table at exit when its
//! `main` holds a [`ReportAtExit`] guard (the `atelier` binary and `xtask` do). With
//! `ATELIER_PROFILE=FILE.json` it also writes every dispatch as a Chrome trace-event
//! timeline to that file at exit (see [`crate::trace`]).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use crate::context::Gpu;
use crate::pipeline::Kernel;
use crate::trace::{Span, Trace};

/// Timestamp queries in the query set: a begin and an end per pass, so half as many passes
/// fit before the recorder must flush (wgpu's `QUERY_SET_MAX_QUERIES`).
pub const QUERIES: u32 = wgpu::QUERY_SET_MAX_QUERIES;

/// What `ATELIER_PROFILE` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileRequest {
    /// Unset, empty, `0`, `false` or `off`.
    Off,
    /// `1`, `true` or `on`: the per-kernel table at exit.
    Table,
    /// `FILE.json`: the table, and the timeline of every dispatch written to the file.
    Trace(PathBuf),
}

impl ProfileRequest {
    /// One value of `ATELIER_PROFILE`; `Err` for anything else (say, a file name without
    /// `.json`, which is more likely a mistake than a wish for a file).
    pub fn parse(value: &str) -> Result<ProfileRequest, String> {
        let v = value.trim();
        match v.to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "off" => Ok(ProfileRequest::Off),
            "1" | "true" | "on" => Ok(ProfileRequest::Table),
            lower if lower.ends_with(".json") => Ok(ProfileRequest::Trace(PathBuf::from(v))),
            _ => Err(format!(
                "ATELIER_PROFILE={value:?} is not 1 (the per-kernel table), 0, or FILE.json (a trace too)"
            )),
        }
    }

    /// The environment's request, read once; a wrong value is reported once and profiling
    /// stays off.
    pub fn from_env() -> &'static ProfileRequest {
        static REQUEST: OnceLock<ProfileRequest> = OnceLock::new();
        REQUEST.get_or_init(|| {
            let value = std::env::var("ATELIER_PROFILE").unwrap_or_default();
            ProfileRequest::parse(&value).unwrap_or_else(|e| {
                eprintln!("atelier: {e}; profiling stays off");
                ProfileRequest::Off
            })
        })
    }
}

/// Whether `ATELIER_PROFILE` asks for profiling (`1`, `true`, `on` or a trace file).
pub fn requested_by_env() -> bool {
    *ProfileRequest::from_env() != ProfileRequest::Off
}

/// The GPU time of one dispatch.
#[derive(Clone, Copy, Debug)]
pub struct DispatchTime {
    /// The kernel's shader file and entry point.
    pub kernel: (&'static str, &'static str),
    pub ns: f64,
}

/// Calls and total GPU time of one kernel.
#[derive(Clone, Debug, Default)]
pub struct KernelTotal {
    pub calls: u64,
    pub ns: f64,
}

/// Per-kernel totals since profiling started; `Display` prints the table.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// `(shader::entry, total)`, the most expensive first.
    pub kernels: Vec<(String, KernelTotal)>,
}

impl Profile {
    /// GPU time of all kernels together, in nanoseconds.
    pub fn total_ns(&self) -> f64 {
        self.kernels.iter().fold(0.0, |sum, (_, t)| sum + t.ns)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kernels.is_empty() {
            return write!(f, "no kernel ran");
        }
        let total = self.total_ns();
        let w = self
            .kernels
            .iter()
            .map(|(k, _)| k.len())
            .max()
            .unwrap_or(0)
            .max(12);
        writeln!(
            f,
            "{:<w$} {:>8} {:>11} {:>11} {:>7}",
            "kernel", "calls", "total ms", "mean µs", "% GPU"
        )?;
        writeln!(f, "{}", "-".repeat(w + 41))?;
        for (name, t) in &self.kernels {
            writeln!(
                f,
                "{:<w$} {:>8} {:>11.3} {:>11.2} {:>6.1}%",
                name,
                t.calls,
                t.ns / 1e6,
                t.ns / 1e3 / t.calls.max(1) as f64,
                100.0 * t.ns / total.max(f64::MIN_POSITIVE)
            )?;
        }
        write!(f, "{:<w$} {:>8} {:>11.3}", "all kernels", "", total / 1e6)
    }
}

pub(crate) struct Profiler {
    queries: wgpu::QuerySet,
    /// QUERY_RESOLVE | COPY_SRC: where the query set is resolved.
    resolved: wgpu::Buffer,
    /// MAP_READ | COPY_DST: the host reads the ticks from here.
    readback: wgpu::Buffer,
    /// The kernel of each pass recorded since the last collect (and its arguments' number in
    /// the trace); pass i owns queries 2i, 2i+1.
    passes: Vec<((&'static str, &'static str), u32)>,
    totals: HashMap<(&'static str, &'static str), KernelTotal>,
    /// Per-dispatch times, kept only when asked for (a benchmark splits them into runs).
    dispatch_times: Option<Vec<DispatchTime>>,
    /// The timeline, when one is kept.
    pub(crate) trace: Option<Trace>,
}

impl Profiler {
    /// A profiler for `device`, or `None` when it lacks `TIMESTAMP_QUERY`.
    pub(crate) fn new(device: &wgpu::Device) -> Option<Profiler> {
        if !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return None;
        }
        let bytes = QUERIES as u64 * wgpu::QUERY_SIZE as u64;
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        Some(Profiler {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("profiler timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: QUERIES,
            }),
            resolved: buffer(
                "profiler resolve",
                wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            ),
            readback: buffer(
                "profiler readback",
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ),
            passes: Vec::with_capacity(QUERIES as usize / 2),
            totals: HashMap::new(),
            dispatch_times: None,
            trace: None,
        })
    }

    /// No room for another pass: the recorder must flush first.
    pub(crate) fn is_full(&self) -> bool {
        self.passes.len() * 2 >= QUERIES as usize
    }

    /// The timestamp writes for the next compute pass, which runs `kernel` (`args`: its
    /// arguments' number in the trace, if one is kept).
    pub(crate) fn pass_writes(
        &mut self,
        kernel: &Kernel,
        args: u32,
    ) -> wgpu::ComputePassTimestampWrites<'_> {
        let begin = self.passes.len() as u32 * 2;
        self.passes.push(((kernel.shader.name, kernel.entry), args));
        wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(begin),
            end_of_pass_write_index: Some(begin + 1),
        }
    }

    /// Records, at the end of `encoder`, the copy of this batch's timestamps to the host.
    pub(crate) fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        if self.passes.is_empty() {
            return;
        }
        let used = self.passes.len() as u32 * 2;
        encoder.resolve_query_set(&self.queries, 0..used, &self.resolved, 0);
        let bytes = used as u64 * wgpu::QUERY_SIZE as u64;
        encoder.copy_buffer_to_buffer(&self.resolved, 0, &self.readback, 0, bytes);
    }

    /// Just before the submit that carries [`Profiler::resolve`]: the trace notes when.
    pub(crate) fn submitting(&mut self) {
        if let Some(t) = self.trace.as_mut().filter(|_| !self.passes.is_empty()) {
            t.submitting();
        }
    }

    /// After the submit that carried [`Profiler::resolve`]: waits, reads the ticks and
    /// attributes each pass's time to its kernel.
    pub(crate) fn collect(&mut self, gpu: &Gpu) {
        if self.passes.is_empty() {
            return;
        }
        let bytes = self.passes.len() as u64 * 2 * wgpu::QUERY_SIZE as u64;
        let period_ns = gpu.queue.get_timestamp_period() as f64;
        let slice = self.readback.slice(0..bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        let waiting = Instant::now();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        gpu.device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("atelier: device lost while profiling");
        rx.recv()
            .expect("map callback ran")
            .unwrap_or_else(|e| panic!("atelier: reading timestamps failed: {e}"));
        if let Some(t) = &mut self.trace {
            t.cpu_span(Span::Wait, waiting, Instant::now());
        }
        {
            let view = slice
                .get_mapped_range()
                .unwrap_or_else(|e| panic!("atelier: mapping timestamps failed: {e}"));
            let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&view);
            for (pass, (kernel, args)) in self.passes.iter().enumerate() {
                let (begin, end) = (ticks[2 * pass], ticks[2 * pass + 1]);
                let ns = end.saturating_sub(begin) as f64 * period_ns;
                if let Some(t) = &mut self.trace {
                    t.gpu(*kernel, *args, (begin, end), period_ns);
                }
                let total = self.totals.entry(*kernel).or_default();
                total.calls += 1;
                total.ns += ns;
                if let Some(times) = &mut self.dispatch_times {
                    times.push(DispatchTime {
                        kernel: *kernel,
                        ns,
                    });
                }
            }
        }
        self.readback.unmap();
        self.passes.clear();
    }

    fn profile(&self) -> Profile {
        let mut kernels: Vec<(String, KernelTotal)> = self
            .totals
            .iter()
            .map(|((shader, entry), t)| (format!("{shader}::{entry}"), t.clone()))
            .collect();
        kernels.sort_by(|a, b| b.1.ns.total_cmp(&a.1.ns).then_with(|| a.0.cmp(&b.0)));
        Profile { kernels }
    }
}

impl Gpu {
    /// Turns profiling on (it stays on); `keep_dispatch_times` also keeps every dispatch's
    /// time for [`Gpu::take_dispatch_times`]. Returns false, and changes nothing, when the
    /// device has no `TIMESTAMP_QUERY`.
    pub fn enable_profiling(&self, keep_dispatch_times: bool) -> bool {
        let mut rec = self.recorder.lock().unwrap();
        if rec.profiler.is_none() {
            // passes recorded so far carry no timestamps: submit them before the first that does
            rec.flush(self);
            rec.profiler = Profiler::new(&self.device);
        }
        let Some(p) = rec.profiler.as_mut() else {
            return false;
        };
        if keep_dispatch_times && p.dispatch_times.is_none() {
            p.dispatch_times = Some(Vec::new());
        }
        true
    }

    /// Turns profiling off: what was recorded is submitted first, and the times gathered so
    /// far are dropped. For measurements that must not pay for timestamp writes (the
    /// benchmark's whole training step).
    pub fn disable_profiling(&self) {
        let mut rec = self.recorder.lock().unwrap();
        if rec.profiler.is_some() {
            rec.flush(self);
            rec.profiler = None;
        }
    }

    /// Turns profiling on (as [`Gpu::enable_profiling`]) and starts a new timeline of every
    /// dispatch from here on, for [`Gpu::write_trace`]; a timeline kept so far is dropped.
    /// Returns false when the device has no `TIMESTAMP_QUERY`.
    pub fn start_trace(&self) -> bool {
        if !self.enable_profiling(false) {
            return false;
        }
        let mut rec = self.recorder.lock().unwrap();
        // the passes recorded so far belong to no trace: collect them first
        rec.flush(self);
        if let Some(p) = rec.profiler.as_mut() {
            p.trace = None; // resets the trace's flag before the new one sets it
            p.trace = Some(Trace::new());
        }
        true
    }

    /// Writes the timeline kept since [`Gpu::start_trace`] (or since the start, under
    /// `ATELIER_PROFILE=FILE.json`) to `path` as Chrome trace-event JSON, atomically; submits
    /// pending work and waits first. Returns the number of dispatches written.
    pub fn write_trace(&self, path: &Path) -> Result<usize, crate::Error> {
        let mut rec = self.recorder.lock().unwrap();
        rec.flush(self);
        let trace = rec
            .profiler
            .as_ref()
            .and_then(|p| p.trace.as_ref())
            .ok_or_else(|| {
                crate::Error::Config(
                    "no trace is being kept (set ATELIER_PROFILE=FILE.json, or call start_trace)"
                        .into(),
                )
            })?;
        trace.write(path, &self.info).map_err(|e| {
            crate::Error::Config(format!("writing the trace {}: {e}", path.display()))
        })?;
        if trace.dropped() > 0 {
            eprintln!(
                "atelier: the trace {} holds the first {} dispatches; {} more were left out",
                path.display(),
                trace.dispatches(),
                trace.dropped()
            );
        }
        Ok(trace.dispatches())
    }

    /// Whether dispatches are being timed.
    pub fn is_profiling(&self) -> bool {
        self.recorder.lock().unwrap().profiler.is_some()
    }

    /// Per-kernel GPU time so far (submits pending work and waits), or `None` when profiling
    /// is off.
    pub fn profile(&self) -> Option<Profile> {
        let mut rec = self.recorder.lock().unwrap();
        rec.flush(self);
        rec.profiler.as_ref().map(Profiler::profile)
    }

    /// The GPU time of every dispatch since the last call, in recording order (submits pending
    /// work and waits). Empty unless profiling was enabled with `keep_dispatch_times`.
    pub fn take_dispatch_times(&self) -> Vec<DispatchTime> {
        let mut rec = self.recorder.lock().unwrap();
        rec.flush(self);
        rec.profiler
            .as_mut()
            .and_then(|p| p.dispatch_times.as_mut())
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

/// Prints the per-kernel table on stderr when dropped, if `ATELIER_PROFILE` asked for it and
/// a GPU context was created, and writes the timeline when it named a file. Hold one in
/// `main`: `let _profile = ReportAtExit;`.
pub struct ReportAtExit;

impl Drop for ReportAtExit {
    fn drop(&mut self) {
        let request = ProfileRequest::from_env();
        if *request == ProfileRequest::Off {
            return;
        }
        let Some(gpu) = crate::context::gpu_if_created() else {
            return;
        };
        if let Some(profile) = gpu.profile() {
            eprintln!(
                "\natelier profile ({}, GPU timestamps)\n{profile}",
                gpu.info.name
            );
        }
        if let ProfileRequest::Trace(path) = request {
            if !gpu.is_profiling() {
                eprintln!(
                    "atelier: no trace written to {}: {} has no TIMESTAMP_QUERY, or the command turned profiling off",
                    path.display(),
                    gpu.info.name
                );
                return;
            }
            match gpu.write_trace(path) {
                Ok(n) => eprintln!(
                    "atelier: trace of {n} dispatches in {} (open it in https://ui.perfetto.dev or chrome://tracing)",
                    path.display()
                ),
                Err(e) => eprintln!("atelier: no trace written: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_values() {
        for off in ["", "0", "off", "False"] {
            assert_eq!(ProfileRequest::parse(off), Ok(ProfileRequest::Off));
        }
        for table in ["1", "on", "TRUE"] {
            assert_eq!(ProfileRequest::parse(table), Ok(ProfileRequest::Table));
        }
        assert_eq!(
            ProfileRequest::parse(" runs/Step.JSON "),
            Ok(ProfileRequest::Trace(PathBuf::from("runs/Step.JSON")))
        );
        let err = ProfileRequest::parse("trace").unwrap_err();
        assert!(
            err.contains("\"trace\"") && err.contains("FILE.json"),
            "{err}"
        );
    }
}
