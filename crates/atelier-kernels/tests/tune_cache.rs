//! The tune cache: choices survive the process in a file per adapter and driver, a second
//! run reads them instead of timing, a corrupt file or another adapter's is ignored and
//! rewritten, and a software adapter's automatic choice keeps the rule. Every test points
//! the cache at its own temporary folder (`with_tune_cache`), never the user's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use atelier_kernels::context::gpu_for_tests;
use atelier_kernels::matmul::{MatmulSpec, MatmulVariant, matmul_with};
use atelier_kernels::tune::file::{self, CacheFile, Entry, Identity};
use atelier_kernels::tune::{
    self, TIMED_RUNS, remembered_on, tuned, tuned_choice, with_tune_cache,
};
use atelier_kernels::variant::{self, Variant, with_kernels};
use atelier_kernels::{GpuBuffer, gpu};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-tune-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A tiny product, small enough for lavapipe, that both matmul variants handle.
fn problem() -> MatmulSpec {
    MatmulSpec::contiguous(1, 9, 7, 5)
}

/// Tunes [`problem`] with the cache at `dir`; returns the choice and how many launches the
/// tuning made (0 when it read the choice).
fn tune_counting(dir: &Path) -> (MatmulVariant, usize) {
    let spec = problem();
    let a = GpuBuffer::uninit(spec.m * spec.k);
    let b = GpuBuffer::uninit(spec.k * spec.n);
    let c = GpuBuffer::uninit(spec.m * spec.n);
    let mut launches = 0;
    let chosen = with_tune_cache(dir.to_str().unwrap(), || {
        tuned::<MatmulVariant>(&spec, &mut |v| {
            launches += 1;
            matmul_with(v, &spec, &a, &b, &c);
        })
    });
    (chosen, launches)
}

fn cache_path(dir: &Path) -> PathBuf {
    file::path_in(dir, &Identity::of(&gpu().info))
}

fn read_cache(path: &Path) -> CacheFile {
    let text = std::fs::read_to_string(path).expect("the cache file was written");
    serde_json::from_str(&text).expect("the cache file parses")
}

#[test]
fn a_second_run_reads_the_choice_instead_of_timing() {
    if !gpu_for_tests() {
        return;
    }
    let first = temp_dir("first");
    let (chosen, launches) = tune_counting(&first);
    let candidates = MatmulVariant::candidates(&problem()).len();
    assert_eq!(
        launches,
        candidates * (1 + TIMED_RUNS),
        "the first run times"
    );

    let path = cache_path(&first);
    let written = read_cache(&path);
    assert_eq!(written.adapter, Identity::of(&gpu().info));
    let entry = &written.choices[&tune::key::<MatmulVariant>(&problem())];
    assert_eq!(entry.variant, chosen.name());
    assert_eq!(entry.ms.len(), candidates, "every candidate's time is kept");

    // a second run: a location this process has not read, holding the first run's file
    let second = temp_dir("second");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::copy(&path, cache_path(&second)).unwrap();
    assert_eq!(tune_counting(&second), (chosen, 0), "read, not timed");
    let summary = with_tune_cache(second.to_str().unwrap(), tune::cache_summary);
    assert_eq!(summary.choices, 1);
    assert_eq!(
        summary.path.as_deref().ok(),
        Some(cache_path(&second).as_path())
    );

    // and in the same process, the first location answers from memory
    assert_eq!(tune_counting(&first), (chosen, 0));
    for dir in [first, second] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn a_corrupt_file_is_ignored_and_rewritten() {
    if !gpu_for_tests() {
        return;
    }
    let dir = temp_dir("corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    let path = cache_path(&dir);
    std::fs::write(&path, b"{\"format\": 1, \"choices\": {\"matmul: Matm").unwrap();

    let summary = with_tune_cache(dir.to_str().unwrap(), tune::cache_summary);
    assert_eq!(summary.choices, 0);
    assert!(
        summary
            .ignored
            .as_deref()
            .is_some_and(|why| why.contains("not a tune cache file")),
        "{summary:?}"
    );

    let (chosen, launches) = tune_counting(&dir);
    assert!(
        launches > 0,
        "nothing usable was cached: the candidates are timed"
    );
    let rewritten = read_cache(&path);
    assert_eq!(
        rewritten.choices[&tune::key::<MatmulVariant>(&problem())].variant,
        chosen.name()
    );
    let summary = with_tune_cache(dir.to_str().unwrap(), tune::cache_summary);
    assert!(summary.ignored.is_none() && summary.choices == 1);
    std::fs::remove_dir_all(dir).unwrap();
}

/// The file at this adapter's path, written (as a copied or colliding file would be) by
/// another adapter or driver version, with a choice for the very problem.
fn foreign_file(dir: &Path, identity: Identity) -> PathBuf {
    let key = tune::key::<MatmulVariant>(&problem());
    let file = CacheFile::new(
        identity,
        BTreeMap::from([(
            key,
            Entry {
                variant: "naive".into(),
                ms: BTreeMap::new(),
            },
        )]),
    );
    std::fs::create_dir_all(dir).unwrap();
    let path = cache_path(dir);
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    path
}

#[test]
fn another_adapters_or_drivers_choices_never_apply() {
    if !gpu_for_tests() {
        return;
    }
    let ours = Identity::of(&gpu().info);
    let another_adapter = Identity {
        name: "NVIDIA H200".into(),
        driver: "NVIDIA".into(),
        driver_info: "575.57.08".into(),
        vendor: 0x10de,
        device: 0x2335,
        ..ours.clone()
    };
    let another_driver = Identity {
        driver_info: format!("{} (an older build)", ours.driver_info),
        ..ours.clone()
    };
    for (name, identity) in [("adapter", another_adapter), ("driver", another_driver)] {
        let dir = temp_dir(name);
        let path = foreign_file(&dir, identity.clone());
        let (_, launches) = tune_counting(&dir);
        assert!(launches > 0, "another {name}'s choice was used");
        assert_eq!(
            read_cache(&path).adapter,
            ours,
            "rewritten as this adapter's"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
    // and a file under another adapter's name in the same folder is never read
    let dir = temp_dir("other-name");
    std::fs::create_dir_all(&dir).unwrap();
    let other = Identity {
        name: "NVIDIA H200".into(),
        ..ours.clone()
    };
    std::fs::write(
        file::path_in(&dir, &other),
        serde_json::to_vec(&CacheFile::new(ours.clone(), BTreeMap::new())).unwrap(),
    )
    .unwrap();
    let summary = with_tune_cache(dir.to_str().unwrap(), tune::cache_summary);
    assert!(summary.choices == 0 && summary.ignored.is_none());
    std::fs::remove_dir_all(dir).unwrap();
}

/// `auto` takes a cached choice on a hardware adapter and keeps the rule on a software one.
/// This machine's adapter decides which `variant::choose` sees; `remembered_on` answers for
/// both kinds.
#[test]
fn auto_uses_the_cache_on_hardware_and_the_rule_on_software() {
    if !gpu_for_tests() {
        return;
    }
    let spec = problem();
    let rule = MatmulVariant::auto(&spec);
    let other = *MatmulVariant::candidates(&spec)
        .iter()
        .find(|v| **v != rule)
        .expect("two candidates");
    let dir = temp_dir("software");
    let ours = Identity::of(&gpu().info);
    let key = tune::key::<MatmulVariant>(&spec);
    std::fs::create_dir_all(&dir).unwrap();
    let file = CacheFile::new(
        ours,
        BTreeMap::from([(
            key,
            Entry {
                variant: other.name().into(),
                ms: BTreeMap::new(),
            },
        )]),
    );
    std::fs::write(cache_path(&dir), serde_json::to_vec(&file).unwrap()).unwrap();

    with_tune_cache(dir.to_str().unwrap(), || {
        // the cache holds the other variant, and `tune` takes it without timing...
        assert_eq!(tuned_choice::<MatmulVariant>(&spec), Some(other));
        let mut never = |_: MatmulVariant| panic!("nothing is timed");
        let tuned = with_kernels("matmul=tune", || variant::choose(&spec, &mut never)).unwrap();
        assert_eq!(tuned, other);
        // ...and so does `auto` on a hardware adapter, while a software one keeps the rule
        assert_eq!(remembered_on::<MatmulVariant>(false, &spec), Some(other));
        assert_eq!(remembered_on::<MatmulVariant>(true, &spec), None);
        let auto = with_kernels("matmul=auto", || variant::choose(&spec, &mut never)).unwrap();
        assert_eq!(auto, if gpu().is_software() { rule } else { other });
    });
    std::fs::remove_dir_all(dir).unwrap();
}
