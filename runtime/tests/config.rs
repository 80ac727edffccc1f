//! Configuration cases from `tests/data/config/*.yaml`: a falco.yaml text and `-o` overrides,
//! then either the settings read (`expect`, compared key by key) with the exact `warnings` and
//! `notices`, or the exact `error` text, which is what the user sees after `Error: ` (so the
//! case files are the snapshot of every configuration diagnostic they name).
//!
//! A case: `name`, `config` (the file text, `falco.yaml` in messages; absent: no file, the
//! source is `-o`), `overrides` (list), and `expect` + `warnings` + `notices` (both default to
//! none) or `error`.

mod common;

use std::path::Path;

use common::strings;
use frule_runtime::config::{Config, EntryHook};
use serde_json::{Value, json};

/// The settings a case can name in `expect`.
fn settings(c: &Config) -> Value {
    let located = |l: &Option<frule_runtime::config::Located<u16>>| match l {
        Some(l) => json!({"value": l.value, "key": l.key}),
        None => Value::Null,
    };
    json!({
        "kind": c.engine.kind.name(),
        "replay_file": c.engine.replay_file(),
        "buf_size_preset": located(&c.engine.buf_size_preset),
        "buffer_bytes": c.engine.buffer_bytes(),
        "cpus_for_each_buffer": located(&c.engine.cpus_for_each_buffer),
        "drop_failed_exit": c.engine.drop_failed_exit,
        "entry_hook": match c.entry_hook {
            EntryHook::Auto => "auto",
            EntryHook::SysEnter => "sys_enter",
            EntryHook::SyscallTracepoints => "syscall_tracepoints",
        },
    })
}

fn run_file(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases: Vec<Value> =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("(unnamed)");
        let overrides = strings(case.get("overrides"));
        let got = match case.get("config").and_then(Value::as_str) {
            Some(yaml) => Config::from_yaml("falco.yaml", yaml, &overrides),
            None => Config::with_overrides(&overrides),
        };
        match (got, case.get("error").and_then(Value::as_str)) {
            (Ok(c), None) => {
                let actual = settings(&c);
                if let Some(Value::Object(want)) = case.get("expect") {
                    for (k, v) in want {
                        if actual.get(k) != Some(v) {
                            failures.push(format!(
                                "{name}: {k}: want {v}, got {}",
                                actual.get(k).unwrap_or(&Value::Null)
                            ));
                        }
                    }
                }
                for (what, got) in [("warnings", &c.warnings), ("notices", &c.notices)] {
                    let want = strings(case.get(what));
                    if *got != want {
                        failures.push(format!("{name}: {what}: want {want:#?}, got {got:#?}"));
                    }
                }
            }
            (Ok(c), Some(want)) => {
                failures.push(format!("{name}: want error {want:?}, got {}", settings(&c)));
            }
            (Err(e), Some(want)) => {
                if e.to_string() != want {
                    failures.push(format!("{name}: want error\n  {want}\ngot\n  {e}"));
                }
            }
            (Err(e), None) => failures.push(format!("{name}: unexpected error: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{}: {} of {} cases failed:\n{}",
        path.display(),
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn config_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let total: usize = files.iter().map(|f| run_file(f)).sum();
    assert!(total > 0, "no cases in {}", dir.display());
    eprintln!("{total} configuration cases in {} files", files.len());
}
