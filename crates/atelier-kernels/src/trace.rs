//! The timeline: every profiled dispatch as a Chrome trace-event file, which Perfetto
//! (ui.perfetto.dev) and chrome://tracing open.
//!
//! `ATELIER_PROFILE=FILE.json` (or [`crate::Gpu::start_trace`] and
//! [`crate::Gpu::write_trace`]) keeps, beside the profiler's per-kernel totals, one event per
//! dispatch:
//!
//! - **GPU** (process 1): each dispatch from its begin to its end timestamp, named
//!   `shader::entry` (with the variant, where the family has several), its arguments the
//!   family, variant and problem shape the family chose for (`variant::launching`), the
//!   workgroup grid, the pipeline's override constants, and whether tuning ran it. One track
//!   per queue; dispatches that the GPU ran overlapping go to a second lane, so every track
//!   holds ordered, non-overlapping events.
//! - **CPU** (process 2, a track per thread): the recording of each dispatch (pipeline lookup
//!   or compilation, bind group, encoding), each submit, and each wait for the GPU that the
//!   profiler's read-back makes.
//!
//! Both are in microseconds from the start of the trace. The GPU's clock and the CPU's are
//! not calibrated against each other: the GPU track is shifted by the one constant that puts
//! every batch's first dispatch at or after the CPU time of its submit, so distances within
//! the GPU track are exact and its place beside the CPU track is as early as the submits
//! allow.
//!
//! The file holds at most [`MAX_DISPATCHES`] dispatches (the first ones; a note says how many
//! were left out): profile a few steps, not a whole run.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt::Debug;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::time::Instant;

use serde_json::{Value, json};

/// Dispatches a trace keeps: about 600 bytes each in the file (its GPU and CPU events), so
/// at most some 60 MB, which the viewers still open (a DCGAN step at batch 128 is about 350).
pub const MAX_DISPATCHES: usize = 100_000;

/// Whether a trace is being kept: labels are only built then.
static ACTIVE: AtomicBool = AtomicBool::new(false);

pub(crate) fn active() -> bool {
    ACTIVE.load(Relaxed)
}

/// What a family's launcher says about the dispatches it records.
#[derive(Clone, Debug)]
struct Label {
    family: &'static str,
    variant: &'static str,
    problem: String,
    tuning: bool,
}

thread_local! {
    static LABELS: RefCell<Vec<Label>> = const { RefCell::new(Vec::new()) };
    static THREAD: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` with its dispatches labelled with the family, variant and problem (when a trace
/// is kept; otherwise just runs `f`).
pub(crate) fn with_label<R>(
    family: &'static str,
    variant: &'static str,
    problem: &dyn Debug,
    tuning: bool,
    f: impl FnOnce() -> R,
) -> R {
    if !active() {
        return f();
    }
    LABELS.with(|l| {
        l.borrow_mut().push(Label {
            family,
            variant,
            problem: format!("{problem:?}"),
            tuning,
        })
    });
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            LABELS.with(|l| l.borrow_mut().pop());
        }
    }
    let _pop = Pop;
    f()
}

/// This thread's track number (1, 2, ... in the order threads first record).
fn thread_number() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    THREAD.with(|t| {
        if t.get() == 0 {
            t.set(NEXT.fetch_add(1, Relaxed));
        }
        t.get()
    })
}

/// The arguments of one dispatch, interned (a step's dispatches repeat every step).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct DispatchArgs {
    family: Option<&'static str>,
    variant: Option<&'static str>,
    problem: Option<String>,
    tuning: bool,
    grid: [u32; 3],
    constants: String,
}

type KernelName = (&'static str, &'static str);

struct GpuEvent {
    kernel: KernelName,
    args: u32,
    begin: u64,
    end: u64,
    batch: u32,
}

#[derive(Clone, Copy)]
pub(crate) enum Span {
    Record(KernelName, u32),
    Submit,
    Wait,
}

struct CpuEvent {
    span: Span,
    thread: u32,
    start_ns: f64,
    end_ns: f64,
}

/// What a trace holds so far.
pub(crate) struct Trace {
    started: Instant,
    args: Vec<DispatchArgs>,
    interned: HashMap<DispatchArgs, u32>,
    gpu: Vec<GpuEvent>,
    /// CPU time of each submit that carried timed dispatches, ns since `started`.
    batches: Vec<f64>,
    cpu: Vec<CpuEvent>,
    threads: HashMap<u32, String>,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
    dropped: usize,
}

impl Trace {
    pub(crate) fn new() -> Trace {
        ACTIVE.store(true, Relaxed);
        Trace {
            started: Instant::now(),
            args: Vec::new(),
            interned: HashMap::new(),
            gpu: Vec::new(),
            batches: Vec::new(),
            cpu: Vec::new(),
            threads: HashMap::new(),
            period_ns: 1.0,
            dropped: 0,
        }
    }

    fn full(&self) -> bool {
        self.gpu.len() >= MAX_DISPATCHES
    }

    fn ns_since_start(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.started).as_nanos() as f64
    }

    /// The arguments' number for a dispatch of `grid` with `constants`, labelled by the
    /// innermost `with_label` on this thread.
    pub(crate) fn intern(&mut self, grid: [u32; 3], constants: &[(&str, f64)]) -> u32 {
        let label = LABELS.with(|l| l.borrow().last().cloned());
        let constants: Vec<String> = constants.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let args = DispatchArgs {
            family: label.as_ref().map(|l| l.family),
            variant: label.as_ref().map(|l| l.variant),
            tuning: label.as_ref().is_some_and(|l| l.tuning),
            problem: label.map(|l| l.problem),
            grid,
            constants: constants.join(" "),
        };
        if let Some(&id) = self.interned.get(&args) {
            return id;
        }
        let id = self.args.len() as u32;
        self.args.push(args.clone());
        self.interned.insert(args, id);
        id
    }

    /// A span of CPU work on the calling thread.
    pub(crate) fn cpu_span(&mut self, span: Span, start: Instant, end: Instant) {
        let unknown_args =
            matches!(span, Span::Record(_, args) if args as usize >= self.args.len());
        if self.full() || unknown_args {
            return;
        }
        let thread = thread_number();
        self.threads.entry(thread).or_insert_with(|| {
            std::thread::current()
                .name()
                .map_or_else(|| format!("thread {thread}"), str::to_string)
        });
        let (start_ns, end_ns) = (self.ns_since_start(start), self.ns_since_start(end));
        self.cpu.push(CpuEvent {
            span,
            thread,
            start_ns,
            end_ns,
        });
    }

    /// A submit carrying timed dispatches is about to happen.
    pub(crate) fn submitting(&mut self) {
        let now = self.ns_since_start(Instant::now());
        self.batches.push(now);
    }

    /// One dispatch of the last submit, from its timestamps.
    pub(crate) fn gpu(&mut self, kernel: KernelName, args: u32, ticks: (u64, u64), period_ns: f64) {
        if args as usize >= self.args.len() {
            return; // recorded before this trace started
        }
        if self.full() {
            self.dropped += 1;
            return;
        }
        self.period_ns = period_ns;
        self.gpu.push(GpuEvent {
            kernel,
            args,
            begin: ticks.0,
            end: ticks.1,
            batch: self.batches.len().saturating_sub(1) as u32,
        });
    }

    pub(crate) fn dispatches(&self) -> usize {
        self.gpu.len()
    }

    /// The Chrome trace-event JSON (object form) of everything kept.
    pub(crate) fn to_json(&self, info: &wgpu::AdapterInfo) -> Value {
        const GPU: u32 = 1;
        const CPU: u32 = 2;
        let us = |ns: f64| ns / 1e3;
        let mut events = vec![
            metadata("process_name", GPU, 0, &format!("GPU: {}", info.name)),
            metadata("process_sort_index", GPU, 0, "0"),
            metadata("process_name", CPU, 0, "CPU: recording and submitting"),
            metadata("process_sort_index", CPU, 0, "1"),
        ];

        // GPU ticks relative to the earliest, in ns; then shifted onto the CPU clock
        let base = self.gpu.iter().map(|e| e.begin).min().unwrap_or(0);
        let ns = |tick: u64| tick.saturating_sub(base) as f64 * self.period_ns;
        let mut first_of_batch: HashMap<u32, f64> = HashMap::new();
        for e in &self.gpu {
            let b = first_of_batch.entry(e.batch).or_insert(f64::INFINITY);
            *b = b.min(ns(e.begin));
        }
        let shift = first_of_batch
            .iter()
            .filter_map(|(batch, first)| {
                self.batches
                    .get(*batch as usize)
                    .map(|submit| submit - first)
            })
            .fold(0.0, f64::max);
        let mut order: Vec<&GpuEvent> = self.gpu.iter().collect();
        order.sort_by_key(|e| e.begin);
        // lanes: a dispatch goes to the first lane whose last dispatch has ended
        let mut lane_ends: Vec<f64> = Vec::new();
        for e in order {
            let begin = ns(e.begin) + shift;
            let end = ns(e.end.max(e.begin)) + shift;
            let lane = match lane_ends.iter().position(|&t| t <= begin) {
                Some(l) => l,
                None => {
                    lane_ends.push(0.0);
                    events.push(metadata(
                        "thread_name",
                        GPU,
                        lane_ends.len() as u32,
                        &if lane_ends.len() == 1 {
                            "queue".to_string()
                        } else {
                            format!("queue (overlapping, lane {})", lane_ends.len())
                        },
                    ));
                    lane_ends.len() - 1
                }
            };
            lane_ends[lane] = end;
            let a = &self.args[e.args as usize];
            events.push(json!({
                "name": match a.variant {
                    Some(v) => format!("{}::{} ({v})", e.kernel.0, e.kernel.1),
                    None => format!("{}::{}", e.kernel.0, e.kernel.1),
                },
                "cat": a.family.unwrap_or("kernel"),
                "ph": "X",
                "ts": us(begin),
                "dur": us(end - begin),
                "pid": GPU,
                "tid": lane as u32 + 1,
                "args": dispatch_args(e.kernel, a),
            }));
        }

        let mut threads: Vec<(&u32, &String)> = self.threads.iter().collect();
        threads.sort();
        for (tid, name) in threads {
            events.push(metadata("thread_name", CPU, *tid, name));
        }
        for e in &self.cpu {
            let (name, cat, args) = match e.span {
                Span::Record(kernel, args) => (
                    format!("record {}::{}", kernel.0, kernel.1),
                    "record",
                    dispatch_args(kernel, &self.args[args as usize]),
                ),
                Span::Submit => ("submit".to_string(), "submit", json!({})),
                Span::Wait => (
                    "wait for the GPU (profiler read-back)".to_string(),
                    "wait",
                    json!({}),
                ),
            };
            events.push(json!({
                "name": name,
                "cat": cat,
                "ph": "X",
                "ts": us(e.start_ns),
                "dur": us(e.end_ns - e.start_ns),
                "pid": CPU,
                "tid": e.thread,
                "args": args,
            }));
        }
        json!({
            "displayTimeUnit": "ns",
            "otherData": {
                "tool": "atelier",
                "atelier": env!("CARGO_PKG_VERSION"),
                "adapter": info.name,
                "driver": format!("{} {}", info.driver, info.driver_info),
                "backend": format!("{:?}", info.backend),
                "dispatches": self.gpu.len(),
                "dispatches_left_out": self.dropped,
                "clock": "GPU timestamps, shifted onto the CPU clock so that no batch starts before its submit",
            },
            "traceEvents": events,
        })
    }

    /// Writes [`Trace::to_json`] to `path` atomically.
    pub(crate) fn write(&self, path: &Path, info: &wgpu::AdapterInfo) -> Result<(), String> {
        let text = serde_json::to_vec(&self.to_json(info)).map_err(|e| e.to_string())?;
        atelier_fs::write_atomic(path, &text).map_err(|e| e.to_string())
    }

    pub(crate) fn dropped(&self) -> usize {
        self.dropped
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        ACTIVE.store(false, Relaxed);
    }
}

/// A metadata event (the name of a process or track). It carries `ts` and `dur` like every
/// other event, which the viewers ignore.
fn metadata(what: &str, pid: u32, tid: u32, name: &str) -> Value {
    let args = if what.ends_with("sort_index") {
        json!({ "sort_index": name.parse::<i64>().unwrap_or(0) })
    } else {
        json!({ "name": name })
    };
    json!({ "name": what, "ph": "M", "ts": 0, "dur": 0, "pid": pid, "tid": tid, "args": args })
}

fn dispatch_args(kernel: KernelName, a: &DispatchArgs) -> Value {
    let mut args = json!({
        "kernel": format!("{}::{}", kernel.0, kernel.1),
        "workgroups": a.grid,
    });
    let map = args.as_object_mut().expect("an object");
    if let Some(f) = a.family {
        map.insert("family".into(), json!(f));
    }
    if let Some(v) = a.variant {
        map.insert("variant".into(), json!(v));
    }
    if let Some(p) = &a.problem {
        map.insert("shape".into(), json!(p));
    }
    if !a.constants.is_empty() {
        map.insert("constants".into(), json!(a.constants));
    }
    if a.tuning {
        map.insert("tuning".into(), json!(true));
    }
    args
}
