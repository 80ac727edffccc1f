//! Replays every stored fuzzing finding on a stable toolchain: each file under
//! `fuzz/regressions/<target>/` is an input that once crashed, hung or made evaluators disagree in the
//! fuzz target `<target>`, and goes through the same body the fuzz binary runs (`fuzz/src`, compiled
//! here as a module, without libFuzzer). A regression fails the test with the target, the file and the
//! panic message.

use std::path::{Path, PathBuf};

#[allow(
    dead_code,
    reason = "the fuzz bodies' helpers are only partly used by the replay"
)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz_bodies;

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions")
}

/// The stored inputs of `target`, sorted by name.
fn inputs(target: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(regressions_dir().join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_regressions_dir_names_a_target() {
    let Ok(entries) = std::fs::read_dir(regressions_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(
            fuzz_bodies::TARGETS.iter().any(|(t, _)| *t == name),
            "fuzz/regressions/{name} is not a fuzz target"
        );
    }
}

#[test]
fn stored_inputs_replay_cleanly() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (target, body) in fuzz_bodies::TARGETS {
        for path in inputs(target) {
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| body(&data));
            replayed += 1;
            if let Err(panic) = outcome {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{target}: {}: {msg}", path.display()));
            }
        }
    }
    eprintln!("replayed {replayed} stored fuzz inputs");
    assert!(failures.is_empty(), "regressions:\n{}", failures.join("\n"));
}

/// The `load_rules` target loads its base ruleset before every input; were it to stop loading (a
/// renamed field, a stricter check), every fuzz input would only exercise the error path. Warnings are
/// expected (lists and macros that only fuzz inputs refer to, the deprecated `%container.info`).
#[test]
fn load_rules_base_ruleset_loads_cleanly() {
    use frule_lang::loader::{RulesFile, load};
    let load = load(&[RulesFile::new(
        "base_rules.yaml",
        fuzz_bodies::load_rules::BASE_RULES,
    )]);
    let errors: Vec<String> = load
        .diagnostics
        .iter()
        .filter(|d| d.severity == frule_lang::diagnostic::Severity::Error)
        .map(|d| format!("{d:?}"))
        .collect();
    assert!(
        errors.is_empty(),
        "the base ruleset has errors:\n{}",
        errors.join("\n")
    );
    assert_eq!(load.rules.len(), 2, "both base rules load");
}
