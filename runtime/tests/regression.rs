//! Falco's regression suite as an oracle (spec falco-regression.md section A): every detection test
//! whose trace is in the corpus, from the table `tests/data/engine/regression.yaml`, replayed through
//! the engine (state updated per event, every event evaluated), plus the exact-output oracle of
//! `single_rule.yaml` on `cat_write.scap` (text and JSON).
//!
//! The corpus is read in place from `FRULE_CORPUS` (default `../shared/corpus` beside the workspace);
//! without it the tests print why and pass.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::strings;
use frule_lang::loader::{Priority, RulesFile, load};
use frule_runtime::engine::{Backend, Engine, Selection};
use frule_runtime::output::{self, Alert, OutputOptions};
use frule_runtime::scap::ScapReader;
use serde_json::Value;

fn rules_files(dir: &Path, names: &[String]) -> Vec<RulesFile> {
    let mut out = Vec::new();
    for n in names {
        let p = dir.join("falco-regression/rules").join(n);
        let mut paths = if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&p)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            v.sort();
            v
        } else {
            vec![p]
        };
        for f in paths.drain(..) {
            let content = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            out.push(RulesFile::new(f.display().to_string(), content));
        }
    }
    out
}

/// Replays a trace through an engine configured like the old harness, conditions running on
/// `backend`; returns the engine and alerts.
fn replay(dir: &Path, case: &Value, backend: Backend) -> (Engine, Vec<Alert>) {
    let name = case["name"].as_str().unwrap_or("?");
    let loaded = load(&rules_files(dir, &strings(case.get("rules"))));
    assert!(
        loaded.is_ok(),
        "{name}: rules do not load: {:#?}",
        loaded.diagnostics
    );
    let mut engine = Engine::new(&loaded);
    engine.set_backend(backend);
    if let Some(p) = case.get("priority").and_then(Value::as_str) {
        let p = Priority::parse(p).unwrap_or_else(|| panic!("{name}: priority {p}"));
        engine.ruleset_mut().set_min_priority(p);
    }
    let sel = Selection {
        disabled_substrings: strings(case.get("disabled")),
        disabled_tags: strings(case.get("disable_tags")),
        enabled_tags: strings(case.get("run_tags")),
        selectors: Vec::new(),
    };
    assert_eq!(sel.apply(engine.ruleset_mut()), Ok(()), "{name}");
    let trace = dir
        .join("scap/falco-test")
        .join(case["trace"].as_str().unwrap_or(""));
    let mut reader =
        ScapReader::open(&trace).unwrap_or_else(|e| panic!("{name}: {}: {e}", trace.display()));
    engine.set_capture_state(reader.state());
    let mut alerts = Vec::new();
    while let Some(rec) = reader
        .next_event()
        .unwrap_or_else(|e| panic!("{name}: {}: {e}", trace.display()))
    {
        engine.process(&rec.event, rec.cpu, &mut alerts);
    }
    (engine, alerts)
}

fn level_count(engine: &Engine, level: &str) -> u64 {
    let p = Priority::parse(level).unwrap_or_else(|| panic!("level {level}"));
    engine
        .stats()
        .by_priority
        .get(p as usize)
        .copied()
        .unwrap_or(0)
}

#[test]
fn detection_tests() {
    let Some(dir) = common::corpus_with("falco-regression") else {
        return;
    };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/engine/regression.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases = cases.as_array().cloned().unwrap_or_default();
    assert!(cases.len() >= 50, "the table lost cases");
    let text_opts = OutputOptions {
        hostname: "test-falco-hostname".into(),
        ..OutputOptions::default()
    };
    let mut failures = Vec::new();
    for (&backend, case) in Backend::ALL
        .iter()
        .flat_map(|b| cases.iter().map(move |c| (b, c)))
    {
        let name = &format!("{} [{backend}]", case["name"].as_str().unwrap_or("?"));
        let (engine, alerts) = replay(&dir, case, backend);
        let detected = engine.stats().detected;
        let mut problems = Vec::new();
        match case["detect"].as_bool() {
            Some(false) if detected != 0 => {
                problems.push(format!("expected no detections, got {detected}"));
            }
            Some(true) if detected == 0 => problems.push("expected detections, got 0".into()),
            _ => {}
        }
        for level in strings(case.get("levels")) {
            if level_count(&engine, &level) == 0 {
                problems.push(format!("no detection at level {level}"));
            }
        }
        let counts: BTreeMap<String, u64> = case
            .get("counts")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        for (rule, want) in &counts {
            let got = engine.count_of(rule);
            if got != *want {
                problems.push(format!("{rule}: expected {want}, got {got}"));
            }
        }
        if let Some(needle) = case.get("stdout_contains").and_then(Value::as_str)
            && !alerts
                .iter()
                .any(|a| output::text::format(a, &text_opts).contains(needle))
        {
            problems.push(format!("no alert line contains {needle:?}"));
        }
        if let Some(reason) = case.get("pending").and_then(Value::as_str) {
            if problems.is_empty() {
                failures.push(format!("{name}: marked pending ({reason}) but passes now"));
            } else {
                eprintln!("pending {name}: {reason}: {}", problems.join("; "));
            }
            continue;
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name}: {}\n{}",
                problems.join("; "),
                engine.summary()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Whether local time is UTC at `ts` (the oracle was recorded with TZ=UTC; its text carries the
/// local offset).
fn local_is_utc(ts: u64) -> bool {
    output::text::evt_time_iso8601(ts).ends_with("+0000")
}

#[test]
fn exact_output_oracle() {
    let Some(dir) = common::corpus_with("falco-regression") else {
        return;
    };
    let suites = dir.join("falco-regression/suites");
    for (rules, ext, json) in [
        ("single_rule.yaml", "txt", false),
        ("single_rule_with_tags.yaml", "json", true),
    ] {
        let case: Value = serde_json::json!({
            "name": rules, "trace": "cat_write.scap", "rules": [rules]
        });
        for &backend in Backend::ALL {
            let (_, alerts) = replay(&dir, &case, backend);
            let Some(first) = alerts.first() else {
                panic!("{rules} [{backend}]: no alerts");
            };
            if !local_is_utc(first.time) {
                eprintln!(
                    "skipping the byte comparison: local time zone is not UTC (run with TZ=UTC)"
                );
                return;
            }
            let opts = OutputOptions {
                json_output: json,
                time_format_iso_8601: true,
                hostname: "test-falco-hostname".into(),
                ..OutputOptions::default()
            };
            let got: Vec<String> = alerts
                .iter()
                .map(|a| output::format_alert(a, &opts))
                .collect();
            let path = suites.join(format!("expected_output_single_rule_with_cat_write.{ext}"));
            let want = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let want: Vec<&str> = want.lines().collect();
            assert_eq!(got, want, "{rules} [{backend}] vs {}", path.display());
        }
    }
}
