//! `ATELIER_PROFILE=FILE.json` on a real command: a tiny DCGAN training run writes its
//! timeline at exit (and still prints the per-kernel table), as a Chrome trace-event file
//! whose GPU events are the DCGAN's kernels.

use std::process::Command;

use atelier_kernels::context::gpu_for_tests;

#[test]
fn a_training_run_writes_its_timeline_at_exit() {
    if !gpu_for_tests() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("atelier-cli-{}-trace", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("trace.json");
    let run = dir.join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args([
            "gan",
            "train",
            "--data",
            "builtin:kandinsky:32",
            "--image-size",
            "32",
        ])
        .args([
            "--ngf", "8", "--ndf", "8", "--nz", "16", "--batch", "4", "--steps", "1",
        ])
        .arg("--out")
        .arg(&run)
        .env("ATELIER_PROFILE", &trace)
        .env("ATELIER_DEVICE", "gpu")
        .output()
        .expect("running atelier");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("atelier profile"),
        "the table is printed: {stderr}"
    );
    assert!(stderr.contains("trace of"), "{stderr}");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&trace).expect("the trace was written")).unwrap();
    let events = json["traceEvents"].as_array().expect("traceEvents");
    let gpu_names: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["pid"] == 1)
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        gpu_names.len() as u64,
        json["otherData"]["dispatches"].as_u64().unwrap()
    );
    // a DCGAN step: convolutions (with their variant), batch norm, Adam
    for kernel in ["conv2d/", "batchnorm/", "optim/"] {
        assert!(
            gpu_names.iter().any(|n| n.contains(kernel)),
            "no {kernel} dispatch in {gpu_names:?}"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e["pid"] == 2 && e["name"].as_str().unwrap().starts_with("record ")),
        "the CPU track holds the recording"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
