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
