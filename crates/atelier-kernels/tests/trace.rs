//! The timeline (`Gpu::start_trace`, `Gpu::write_trace`, what `ATELIER_PROFILE=FILE.json`
//! writes at exit) is a valid Chrome trace-event file: every event has name, ph, ts, dur, pid
//! and tid; the GPU events are the dispatches, in order, not overlapping on a track, with the
//! variant and shape a family chose; the CPU track holds their recording. (Its own test
//! binary: profiling is process-wide.)

use atelier_kernels::context::gpu_for_tests;
use atelier_kernels::elementwise::{self, UnaryOp};
use atelier_kernels::matmul::{self, MatmulSpec, MatmulVariant};
use atelier_kernels::variant::Variant;
use atelier_kernels::{GpuBuffer, gpu};
use serde_json::Value;

#[test]
fn a_short_run_writes_a_valid_trace() {
    if !gpu_for_tests() {
        return;
    }
    let g = gpu();
    let (a, b, c, d) = (
        GpuBuffer::uninit(9 * 5),
        GpuBuffer::uninit(5 * 7),
        GpuBuffer::uninit(9 * 7),
        GpuBuffer::uninit(9 * 7),
    );
    // recorded before the trace starts: not in it
    elementwise::fill(&a, 0.5);
    if !g.start_trace() {
        eprintln!("skipping: {} has no TIMESTAMP_QUERY", g.info.name);
        return;
    }
    let fills = 5;
    for _ in 0..fills {
        elementwise::fill(&a, 1.0);
        elementwise::fill(&b, 2.0);
    }
    let spec = MatmulSpec::contiguous(1, 9, 7, 5);
    matmul::matmul(&spec, &a, &b, &c);
    elementwise::unary(UnaryOp::Relu, 0.0, &c, &d);
    assert_eq!(g.read(&d, 0, 1)[0], 10.0, "the work itself ran");
    let dispatches = 2 * fills + 2;

    let path = std::env::temp_dir().join(format!("atelier-trace-{}.json", std::process::id()));
    assert_eq!(g.write_trace(&path).unwrap(), dispatches);
    let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();

    let events = json["traceEvents"].as_array().expect("traceEvents");
    for e in events {
        assert!(e["name"].is_string(), "{e}");
        assert!(e["ph"].is_string(), "{e}");
        for field in ["ts", "dur", "pid", "tid"] {
            assert!(
                e[field].as_f64().is_some_and(|v| v >= 0.0),
                "{field} in {e}"
            );
        }
    }
    let complete = |pid: u64| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["ph"] == "X" && e["pid"] == pid)
            .collect()
    };

    // GPU: the dispatches in recording order, each track ordered and without overlap
    let mut gpu_events = complete(1);
    assert_eq!(gpu_events.len(), dispatches);
    assert_eq!(json["otherData"]["dispatches"], dispatches);
    gpu_events.sort_by(|x, y| {
        x["ts"]
            .as_f64()
            .unwrap()
            .total_cmp(&y["ts"].as_f64().unwrap())
    });
    let kernels: Vec<&str> = gpu_events
        .iter()
        .map(|e| e["args"]["kernel"].as_str().unwrap())
        .collect();
    assert!(
        kernels[..2 * fills]
            .iter()
            .all(|k| *k == "elementwise/elementwise.wgsl::fill"),
        "{kernels:?}"
    );
    assert!(
        kernels[2 * fills].starts_with("matmul/matmul.wgsl::"),
        "{kernels:?}"
    );
    assert_eq!(
        kernels[2 * fills + 1],
        "elementwise/elementwise.wgsl::unary"
    );
    let mut tracks: Vec<u64> = gpu_events
        .iter()
        .map(|e| e["tid"].as_u64().unwrap())
        .collect();
    tracks.dedup();
    for tid in tracks {
        let track: Vec<&&Value> = gpu_events.iter().filter(|e| e["tid"] == tid).collect();
        for pair in track.windows(2) {
            let end = pair[0]["ts"].as_f64().unwrap() + pair[0]["dur"].as_f64().unwrap();
            assert!(
                pair[1]["ts"].as_f64().unwrap() >= end - 1e-3,
                "overlap on GPU track {tid}: {} then {}",
                pair[0],
                pair[1]
            );
        }
    }

    // the matmul carries the variant and the shape its family chose for
    let mm = gpu_events[2 * fills];
    assert_eq!(mm["args"]["family"], "matmul");
    assert_eq!(mm["args"]["variant"], MatmulVariant::auto(&spec).name());
    assert!(
        mm["args"]["shape"]
            .as_str()
            .is_some_and(|s| s.contains("m: 9") && s.contains("k: 5")),
        "{mm}"
    );
    assert!(
        mm["name"]
            .as_str()
            .unwrap()
            .ends_with(&format!("({})", mm["args"]["variant"].as_str().unwrap()))
    );
    assert!(mm["args"]["workgroups"].is_array());

    // CPU: each dispatch's recording, the submits and the waits
    let cpu = complete(2);
    let records = cpu
        .iter()
        .filter(|e| e["name"].as_str().unwrap().starts_with("record "))
        .count();
    assert_eq!(records, dispatches);
    for name in ["submit", "wait for the GPU (profiler read-back)"] {
        assert!(cpu.iter().any(|e| e["name"] == name), "no {name} span");
    }
    // track names for the viewer
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "M" && e["name"] == "process_name" && e["pid"] == 1)
    );

    // the profiler's table goes on; a new trace starts empty
    assert!(g.profile().is_some());
    assert!(g.start_trace());
    let path = std::env::temp_dir().join(format!("atelier-trace-{}-2.json", std::process::id()));
    assert_eq!(g.write_trace(&path).unwrap(), 0);
    std::fs::remove_file(&path).unwrap();
    g.disable_profiling();
    assert!(
        g.write_trace(&path).is_err(),
        "no trace once profiling is off"
    );
}
