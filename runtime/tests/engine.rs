//! Engine cases on synthetic events, from `tests/data/engine/cases.yaml`: rule matching (`first` /
//! `all`), priority threshold, selection by name substring, wildcard, tags, and output rendering.

use std::collections::BTreeMap;

use frule_codegen::abi::{MapEvent, OwnedValue, ScalarKind};
use frule_codegen::lower::scalar_kind;
use frule_lang::events::codes_for_name;
use frule_lang::fields;
use frule_lang::loader::{Priority, RulesFile, load};
use frule_runtime::engine::{Engine, RuleMatching, RuleSelector, Selection};
use frule_runtime::output::{self, Alert, FieldValue, OutputOptions};
use serde_json::Value;

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

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
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        let rules = case["rules"].as_str().unwrap_or("");
        let loaded = load(&[RulesFile::new("rules.yaml", rules)]);
        assert!(
            loaded.is_ok(),
            "{name}: rules do not load: {:?}",
            loaded.diagnostics
        );
        let mut engine = Engine::new(&loaded);
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
            continue;
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
