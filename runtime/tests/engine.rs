//! Engine cases on synthetic events, from `tests/data/engine/cases.yaml`: rule matching (`first` /
//! `all`), priority threshold, selection by name substring, wildcard, tags, and output rendering.

mod common;

use std::collections::BTreeMap;

use common::strings;
use frule_codegen::abi::{MapEvent, OwnedValue, ScalarKind};
use frule_codegen::lower::scalar_kind;
use frule_lang::events::codes_for_name;
use frule_lang::fields;
use frule_lang::loader::{Priority, RulesFile, load};
use frule_runtime::engine::{Backend, Engine, RuleMatching, RuleSelector, Selection};
use frule_runtime::output::{self, Alert, FieldValue, OutputOptions};
use serde_json::Value;

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn event(fields_of: &serde_json::Map<String, Value>) -> (u16, u64, MapEvent) {
    let mut ev = MapEvent::new();
    let mut code = 0;
    let mut ts = 0;
    for (k, v) in fields_of {
        if k == "ts" {
            ts = v.as_u64().unwrap_or(0);
            continue;
        }
        let text = scalar_text(v);
        if k == "evt.type" {
            code = codes_for_name(&text).first().copied().unwrap_or(0);
        }
        let r = fields::resolve(k, None).unwrap_or_else(|e| panic!("field {k}: {e}"));
        let value = match scalar_kind(r.ty()) {
            ScalarKind::Int => {
                OwnedValue::I64(text.parse().unwrap_or_else(|_| panic!("{k}={text}")))
            }
            ScalarKind::Uint => {
                OwnedValue::U64(text.parse().unwrap_or_else(|_| panic!("{k}={text}")))
            }
            ScalarKind::Bool => OwnedValue::Bool(text == "true"),
            ScalarKind::Ip | ScalarKind::Net => {
                OwnedValue::Ip(text.parse().unwrap_or_else(|_| panic!("{k}={text}")))
            }
            _ => OwnedValue::Bytes(text.into_bytes()),
        };
        ev.set(r.id, None, value);
    }
    (code, ts, ev)
}

fn json_of(v: &FieldValue) -> Value {
    match v {
        FieldValue::Null => Value::Null,
        FieldValue::Str(s) => Value::from(s.as_str()),
        FieldValue::U64(x) => Value::from(*x),
        FieldValue::I64(x) => Value::from(*x),
        FieldValue::F64(x) => Value::from(*x),
        FieldValue::Bool(x) => Value::from(*x),
    }
}

#[test]
fn engine_cases() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/engine/cases.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases = cases.as_array().cloned().unwrap_or_default();
    assert!(cases.len() >= 10, "too few cases");
    for &backend in Backend::ALL {
        for case in &cases {
            engine_case(case, backend);
        }
    }
}

/// Runs one case of `cases.yaml` on `backend`.
fn engine_case(case: &Value, backend: Backend) {
    let name = &format!("{} [{backend}]", case["name"].as_str().unwrap_or("?"));
    let rules = case["rules"].as_str().unwrap_or("");
    let loaded = load(&[RulesFile::new("rules.yaml", rules)]);
    assert!(
        loaded.is_ok(),
        "{name}: rules do not load: {:?}",
        loaded.diagnostics
    );
    let mut engine = Engine::new(&loaded);
    engine.set_backend(backend);
    let opts = case.get("options").cloned().unwrap_or(Value::Null);
    if let Some(m) = opts.get("rule_matching").and_then(Value::as_str) {
        engine.set_rule_matching(RuleMatching::parse(m).unwrap_or_else(|| panic!("{name}")));
    }
    if let Some(p) = opts.get("priority").and_then(Value::as_str) {
        engine
            .ruleset_mut()
            .set_min_priority(Priority::parse(p).unwrap_or_else(|| panic!("{name}")));
    }
    let selection = Selection {
        disabled_substrings: strings(opts.get("disabled")),
        disabled_tags: strings(opts.get("disable_tags")),
        enabled_tags: strings(opts.get("run_tags")),
        selectors: opts
            .get("selectors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|s| RuleSelector {
                        enable: s["enable"].as_bool().unwrap_or(false),
                        rule: s.get("rule").and_then(Value::as_str).map(str::to_string),
                        tag: s.get("tag").and_then(Value::as_str).map(str::to_string),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let applied = selection.apply(engine.ruleset_mut());
    if let Some(err) = case.get("error").and_then(Value::as_str) {
        assert_eq!(applied, Err(err.to_string()), "{name}");
        return;
    }
    assert_eq!(applied, Ok(()), "{name}");
    let mut alerts: Vec<Alert> = Vec::new();
    for ev in case["events"].as_array().cloned().unwrap_or_default() {
        let Some(map) = ev.as_object() else {
            panic!("{name}: event is not a map");
        };
        let (code, ts, mut src) = event(map);
        engine.process_fields("syscall", code, ts, &mut src, &mut alerts);
    }
    let info = engine.ruleset().build_info().cloned();
    let info = info.unwrap_or_else(|| panic!("{name}: the ruleset was not built"));
    assert_eq!(info.backend, backend, "{name}");
    assert_eq!(info.evttype_mismatches, vec![], "{name}: evttype sets");
    if backend == Backend::Jit && cfg!(target_arch = "x86_64") {
        assert_eq!(info.fallbacks, vec![], "{name}: jit fallbacks");
        assert_eq!(info.native, info.programs, "{name}: native programs");
    }
    let want: BTreeMap<String, u64> = case["counts"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    for (rule, n) in &want {
        assert_eq!(engine.count_of(rule), *n, "{name}: count of {rule}");
    }
    let total: u64 = want.values().sum();
    assert_eq!(engine.stats().detected, total, "{name}: events detected");
    assert_eq!(alerts.len() as u64, total, "{name}: alerts");
    if let Some(outputs) = case.get("outputs") {
        let got: Vec<&str> = alerts.iter().map(|a| a.output.as_str()).collect();
        assert_eq!(got, strings(Some(outputs)), "{name}: outputs");
    }
    if let Some(fields_want) = case.get("fields") {
        let first = alerts.first().unwrap_or_else(|| panic!("{name}: no alert"));
        let got: serde_json::Map<String, Value> = first
            .output_fields
            .iter()
            .map(|(k, v)| (k.to_string(), json_of(v)))
            .collect();
        assert_eq!(&Value::Object(got), fields_want, "{name}: output_fields");
    }
}

fn sample_alert() -> Alert {
    Alert {
        rule: "open_from_cat".into(),
        priority: Priority::Warning,
        source: "syscall".into(),
        tags: vec!["filesystem".to_string(), "process".to_string()].into(),
        time: 1_470_327_477_881_781_397,
        output: "An open was seen (command=cat \"/dev/null\"\n)".into(),
        output_fields: vec![
            ("fd.cport".into(), FieldValue::Null),
            (
                "proc.cmdline".into(),
                FieldValue::Str("cat /dev/null".into()),
            ),
            ("proc.pid".into(), FieldValue::I64(7)),
        ],
    }
}

#[test]
fn text_line_is_escaped_like_falco_0_44() {
    let opts = OutputOptions {
        time_format_iso_8601: true,
        hostname: "h".into(),
        ..OutputOptions::default()
    };
    let a = sample_alert();
    let line = output::text::format(&a, &opts);
    let time = output::text::evt_time_iso8601(a.time);
    assert_eq!(
        line,
        format!("{time}: Warning An open was seen (command=cat \\\"/dev/null\\\"\\n)")
    );
    assert!(time.starts_with("2016-08-0"), "{time}");
    assert!(time.contains(".881781397"), "{time}");
    let plain = output::text::evt_time(a.time);
    assert!(plain.ends_with(":57.881781397"), "{plain}");
    assert_eq!(plain.len(), "16:17:57.881781397".len());
}

#[test]
fn json_alert_layout_and_options() {
    let mut opts = OutputOptions {
        json_output: true,
        time_format_iso_8601: false,
        hostname: "test-falco-hostname".into(),
        ..OutputOptions::default()
    };
    let a = sample_alert();
    let line = output::format_alert(&a, &opts);
    let prefix = output::text::evt_time(a.time);
    let want = format!(
        "{{\"hostname\":\"test-falco-hostname\",\"output\":\"{prefix}: Warning An open was seen (command=cat \\\"/dev/null\\\"\\n)\",\"priority\":\"Warning\",\"rule\":\"open_from_cat\",\"source\":\"syscall\",\"tags\":[\"filesystem\",\"process\"],\"time\":\"2016-08-04T16:17:57.881781397Z\", \"output_fields\": {{\"evt.time\":1470327477881781397,\"fd.cport\":null,\"proc.cmdline\":\"cat /dev/null\",\"proc.pid\":7}}}}"
    );
    assert_eq!(line, want);
    let parsed: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(parsed["output_fields"]["proc.pid"], 7);

    opts.json_include_output_property = false;
    opts.json_include_tags_property = false;
    opts.json_include_output_fields_property = false;
    opts.json_include_message_property = true;
    let line = output::format_alert(&a, &opts);
    assert_eq!(
        line,
        "{\"hostname\":\"test-falco-hostname\",\"message\":\"An open was seen (command=cat \\\"/dev/null\\\"\\n)\",\"priority\":\"Warning\",\"rule\":\"open_from_cat\",\"source\":\"syscall\",\"time\":\"2016-08-04T16:17:57.881781397Z\"}"
    );
}

#[test]
fn summary_is_falcos() {
    let loaded = load(&[RulesFile::new(
        "r.yaml",
        "- rule: a\n  desc: d\n  condition: evt.type=open\n  output: o\n  priority: INFO\n- rule: b\n  desc: d\n  condition: evt.type=execve\n  output: o\n  priority: ERROR\n",
    )]);
    assert!(loaded.is_ok(), "{:?}", loaded.diagnostics);
    let mut engine = Engine::new(&loaded);
    let mut alerts = Vec::new();
    for name in ["open", "execve", "open", "close"] {
        let mut m = serde_json::Map::new();
        m.insert("evt.type".into(), Value::from(name));
        let (code, ts, mut ev) = event(&m);
        engine.process_fields("syscall", code, ts, &mut ev, &mut alerts);
    }
    assert_eq!(
        engine.summary(),
        "Events detected: 3\nRule counts by severity:\n   ERROR: 1\n   INFO: 2\nTriggered rules by rule name:\n   a: 2\n   b: 1\n"
    );
    assert_eq!(engine.stats().events, 4);
}

/// A raw event in libscap's layout (26-byte header, `u16` parameter lengths, parameters).
fn raw_event(code: u16, ts: u64, tid: u64, params: &[&[u8]]) -> Vec<u8> {
    let len = 26 + 2 * params.len() + params.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&ts.to_le_bytes());
    out.extend_from_slice(&tid.to_le_bytes());
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&u32::try_from(params.len()).unwrap_or(0).to_le_bytes());
    for p in params {
        out.extend_from_slice(&u16::try_from(p.len()).unwrap_or(u16::MAX).to_le_bytes());
    }
    for p in params {
        out.extend_from_slice(p);
    }
    out
}

/// Generic syscall events (`PPME_GENERIC_E/X`) have `evt.type` = the syscall name of their `ID`
/// parameter, not their code's name (`syscall`): the optimized backends must not specialize
/// `evt.type` for them, and every backend must agree with the reference.
#[test]
fn generic_syscall_events_on_every_backend() {
    use frule_lang::events::{GENERIC_CODES, sc_code};
    let rules = "
- rule: getpid called
  desc: d
  condition: evt.type = getpid
  output: \"getpid (type=%evt.type)\"
  priority: INFO
- rule: open or getpid
  desc: d
  condition: evt.type in (open, getpid) and evt.dir = <
  output: \"o\"
  priority: INFO
- rule: not open
  desc: d
  condition: evt.type != open and evt.dir = <
  output: \"n\"
  priority: INFO
- rule: not getpid
  desc: d
  condition: not evt.type = getpid and evt.dir = >
  output: \"g\"
  priority: INFO
";
    let loaded = load(&[RulesFile::new("rules.yaml", rules)]);
    assert!(loaded.is_ok(), "{:?}", loaded.diagnostics);
    let (Some(getpid), Some(getuid)) = (sc_code("getpid"), sc_code("getuid")) else {
        panic!("the syscall table lacks getpid or getuid");
    };
    let [enter, exit] = GENERIC_CODES;
    let events = [
        raw_event(enter, 1, 7, &[&getpid.to_le_bytes(), &39u16.to_le_bytes()]),
        raw_event(exit, 2, 7, &[&getpid.to_le_bytes(), &39u16.to_le_bytes()]),
        raw_event(enter, 3, 7, &[&getuid.to_le_bytes(), &102u16.to_le_bytes()]),
        raw_event(exit, 4, 7, &[&getuid.to_le_bytes(), &102u16.to_le_bytes()]),
    ];
    for &backend in Backend::ALL {
        let mut engine = Engine::new(&loaded);
        engine.set_backend(backend);
        engine.set_rule_matching(RuleMatching::All);
        let mut alerts = Vec::new();
        for bytes in &events {
            let evt = frule_runtime::event::Event::new(bytes)
                .unwrap_or_else(|e| panic!("synthetic event: {e}"));
            engine.process(&evt, 0, &mut alerts);
        }
        let got: Vec<(&str, &str)> = alerts
            .iter()
            .map(|a| (&*a.rule, a.output.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("getpid called", "getpid (type=getpid)"),
                ("getpid called", "getpid (type=getpid)"),
                ("open or getpid", "o"),
                ("not open", "n"),
                // `not evt.type = getpid` is every code but the generic pair in Falco's index, so
                // it is not evaluated on the getuid event either.
                ("not open", "n"),
            ],
            "{backend}"
        );
    }
}

/// Changing the backend or the selection rebuilds the programs; the build reports what it did.
#[test]
fn backend_and_selection_changes_rebuild() {
    let loaded = load(&[RulesFile::new(
        "r.yaml",
        "- rule: a\n  desc: d\n  condition: evt.type=open and proc.name=cat\n  output: o\n  priority: INFO\n- rule: b\n  desc: d\n  condition: evt.type in (open, execve) and proc.name=sh\n  output: o\n  priority: ERROR\n",
    )]);
    assert!(loaded.is_ok(), "{:?}", loaded.diagnostics);
    let mut engine = Engine::new(&loaded);
    assert_eq!(engine.backend(), Backend::Jit, "the default backend");
    assert!(engine.ruleset().build_info().is_none(), "built before use");
    for &backend in Backend::ALL {
        engine.set_backend(backend);
        assert!(
            engine.ruleset().build_info().is_none(),
            "{backend}: stale programs kept"
        );
        // open: {a, b}; execve: {b}. The optimized backends also split open's codes by name, which
        // are all `open`.
        assert_eq!(engine.ruleset_mut().program_count(), 2, "{backend}");
        let info = engine.ruleset().build_info().cloned().unwrap_or_default();
        assert_eq!((info.backend, info.rules), (backend, 2), "{backend}");
        engine.ruleset_mut().enable_by_name("b", false);
        assert_eq!(engine.ruleset_mut().program_count(), 1, "{backend}");
        engine.ruleset_mut().enable_by_name("b", true);
    }
}

/// `Engine::reads_open_file_props` on the cases of `tests/data/engine/open_file_props.yaml`: which
/// fields, where (condition, output, macro, transformer, `val()`), on which event types, in which
/// enabled rules make a live capture look up the opened file.
#[test]
fn open_file_props_follow_the_fields_rules_read() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/engine/open_file_props.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases = cases.as_array().cloned().unwrap_or_default();
    assert!(cases.len() >= 10, "too few cases");
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        let mut yaml = String::new();
        for m in case["macros"].as_array().into_iter().flatten() {
            yaml += &format!(
                "- macro: {}\n  condition: {}\n",
                m["name"].as_str().unwrap_or(""),
                m["condition"].as_str().unwrap_or("")
            );
        }
        for (i, r) in case["rules"].as_array().into_iter().flatten().enumerate() {
            yaml += &format!(
                "- rule: r{i}\n  desc: d\n  condition: {}\n  output: \"{}\"\n  priority: INFO\n",
                r["condition"].as_str().unwrap_or(""),
                r["output"].as_str().unwrap_or("")
            );
        }
        let loaded = load(&[RulesFile::new("r.yaml", yaml.as_str())]);
        assert!(loaded.is_ok(), "{name}: {:?}", loaded.diagnostics);
        let mut engine = Engine::new(&loaded);
        for d in strings(case.get("disable")) {
            engine.ruleset_mut().enable_by_name(&d, false);
        }
        let want = case["want"].as_bool().unwrap_or(false);
        assert_eq!(engine.reads_open_file_props(), want, "{name}");
    }
}

/// Which rules of Falco's upstream files read what an open event takes from the opened file: none
/// of the stable ones (Clear Log Activities tests `evt.arg.flags contains "O_TRUNC"`, which reads
/// the same without it), so a live capture running them skips the lookup; one incubating rule
/// prints `%evt.arg.flags` of an open, whose text shows the overlay-layer bits.
#[test]
fn upstream_rules_reading_open_file_props() {
    let Some(dir) = common::corpus_with("rules") else {
        return;
    };
    let cases: [(&str, &[&str]); 3] = [
        ("falco_rules.yaml", &[]),
        (
            "falco-incubating_rules.yaml",
            &["Backdoored library loaded into SSHD (CVE-2024-3094)"],
        ),
        ("falco-sandbox_rules.yaml", &[]),
    ];
    for (n, want) in cases {
        let p = dir.join("rules/falcosecurity-rules").join(n);
        let content = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let loaded = load(&[RulesFile::new(p.display().to_string(), content)]);
        assert!(loaded.is_ok(), "{n}: {:?}", loaded.diagnostics);
        let mut engine = Engine::new(&loaded);
        assert_eq!(engine.reads_open_file_props(), !want.is_empty(), "{n}");
        // each rule alone, those the file disables included
        let names: Vec<String> = engine
            .ruleset()
            .rules()
            .iter()
            .map(|r| r.name.clone())
            .collect();
        let mut readers = Vec::new();
        for name in &names {
            engine.ruleset_mut().enable_all(false);
            engine.ruleset_mut().enable_by_name(name, true);
            if engine.reads_open_file_props() {
                readers.push(name.as_str());
            }
        }
        assert_eq!(readers, want, "{n}");
    }
}

/// The upstream rulesets build on every backend with nothing skipped, every program native with the
/// JIT, and the optimizer's event-type sets equal to the loader's (Falco's index) for every rule.
#[test]
fn upstream_rules_build_on_every_backend() {
    let Some(dir) = common::corpus_with("rules") else {
        return;
    };
    let files: Vec<RulesFile> = [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ]
    .iter()
    .map(|n| {
        let p = dir.join("rules/falcosecurity-rules").join(n);
        let content = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        RulesFile::new(p.display().to_string(), content)
    })
    .collect();
    let loaded = load(&files);
    assert!(loaded.is_ok(), "{:?}", loaded.diagnostics);
    let mut engine = Engine::new(&loaded);
    let active = engine.ruleset().active_count();
    assert!(active > 50, "only {active} active upstream rules");
    for &backend in Backend::ALL {
        engine.set_backend(backend);
        engine.ruleset_mut().build();
        assert_eq!(engine.ruleset().skipped(), &[], "{backend}: skipped rules");
        let info = engine.ruleset().build_info().cloned().unwrap_or_default();
        assert_eq!(info.rules, active, "{backend}: rules compiled");
        assert_eq!(info.evttype_mismatches, vec![], "{backend}: evttype sets");
        assert!(info.programs > 10, "{backend}: {} programs", info.programs);
        if backend == Backend::Jit && cfg!(target_arch = "x86_64") {
            assert_eq!(info.fallbacks, vec![], "jit fallbacks");
            assert_eq!(info.native, info.programs, "native programs");
        }
    }
}

/// Measurement driver (not a test; prints figures): builds the upstream rules on every backend and
/// replays `sysdig-inspect/502Error.scap` from memory `FRULE_REPLAY_ROUNDS` times (default 20),
/// state reset each round. Run it optimized:
/// `cargo test --release -p frule-runtime --test engine -- --ignored --nocapture replay_speed`.
#[test]
#[ignore = "measurement driver; run explicitly with --ignored --nocapture"]
fn replay_speed_per_backend() {
    use frule_runtime::scap::ScapReader;
    use std::time::Instant;
    let Some(dir) = common::corpus_with("rules") else {
        return;
    };
    let files: Vec<RulesFile> = [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ]
    .iter()
    .map(|n| {
        let p = dir.join("rules/falcosecurity-rules").join(n);
        let content = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        RulesFile::new(p.display().to_string(), content)
    })
    .collect();
    let loaded = load(&files);
    assert!(loaded.is_ok(), "{:?}", loaded.diagnostics);
    let path = dir.join("scap/sysdig-inspect/502Error.scap");
    let mut reader = ScapReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut events: Vec<(Vec<u8>, u16)> = Vec::new();
    while let Some(rec) = reader.next_event().unwrap_or_else(|e| panic!("{e}")) {
        events.push((rec.event.as_bytes().to_vec(), rec.cpu));
    }
    let rounds: usize = std::env::var("FRULE_REPLAY_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for &backend in Backend::ALL {
        let mut engine = Engine::new(&loaded);
        engine.set_backend(backend);
        engine.ruleset_mut().build();
        let info = engine.ruleset().build_info().cloned().unwrap_or_default();
        let mut alerts = Vec::new();
        let started = Instant::now();
        for _ in 0..rounds {
            engine.set_capture_state(reader.state());
            for (bytes, cpu) in &events {
                let Ok(evt) = frule_runtime::event::Event::new(bytes) else {
                    continue;
                };
                alerts.clear();
                engine.process(&evt, *cpu, &mut alerts);
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let n = (events.len() * rounds) as f64;
        println!(
            "{backend:6} build {:7.1} ms ({} programs, {} native) | {:>10.0} events/s, {:6.0} ns/event, {} detected",
            info.elapsed.as_secs_f64() * 1e3,
            info.programs,
            info.native,
            n / secs,
            secs * 1e9 / n,
            engine.stats().detected
        );
    }
}
