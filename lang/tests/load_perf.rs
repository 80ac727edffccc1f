//! A driver for measuring the loader, not a check: `cargo test --release -p frule-lang --test load_perf --
//! --ignored` loads the three upstream rules files `FRULE_LOAD_REPEAT` times (default 1), for CPU time
//! (`perf stat -e task-clock`), instruction counts (`valgrind --tool=callgrind`) and profiles, which a loaded
//! machine does not distort the way it distorts wall time.

use frule_lang::loader::{self, RulesFile};

#[test]
#[ignore = "a measurement driver, run explicitly"]
fn load_upstream_rules() {
    let dir = std::env::var_os("FRULE_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus").into())
        .join("rules/falcosecurity-rules");
    let mut files = Vec::new();
    for name in [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ] {
        match std::fs::read(dir.join(name)) {
            Ok(bytes) => files.push(RulesFile::new(dir.join(name).display().to_string(), bytes)),
            Err(e) => {
                eprintln!("corpus not available ({e}); nothing to measure");
                return;
            }
        }
    }
    let repeat = std::env::var("FRULE_LOAD_REPEAT")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1);
    for _ in 0..repeat {
        let result = loader::load(std::hint::black_box(&files));
        assert!(
            result.is_ok(),
            "the upstream rules must load without errors"
        );
    }
}

/// Where the time goes: YAML parsing alone versus the whole load, `FRULE_LOAD_REPEAT` times each (run with
/// `--nocapture`; CPU time of this thread, so a busy machine distorts it less than wall time).
#[test]
#[ignore = "a measurement driver, run explicitly"]
fn load_phases() {
    let dir = std::env::var_os("FRULE_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus").into())
        .join("rules/falcosecurity-rules");
    let mut texts = Vec::new();
    for name in [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ] {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(t) => texts.push((dir.join(name).display().to_string(), t)),
            Err(e) => {
                eprintln!("corpus not available ({e}); nothing to measure");
                return;
            }
        }
    }
    let repeat = std::env::var("FRULE_LOAD_REPEAT")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    let files: Vec<RulesFile> = texts
        .iter()
        .map(|(n, t)| RulesFile::new(n.clone(), t.clone()))
        .collect();
    // warm up the lazily built tables
    let _ = loader::load(&files);
    let t = std::time::Instant::now();
    for _ in 0..repeat {
        for (_, text) in &texts {
            let docs = loader::yaml::parse(std::hint::black_box(text));
            assert!(docs.is_ok());
        }
    }
    let yaml = t.elapsed() / repeat;
    let t = std::time::Instant::now();
    for _ in 0..repeat {
        let result = loader::load(std::hint::black_box(&files));
        assert!(result.is_ok());
    }
    let all = t.elapsed() / repeat;
    eprintln!("yaml::parse {yaml:?}, whole load {all:?} (per load, mean of {repeat})");
}
