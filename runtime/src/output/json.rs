//! Falco's JSON alert: one object per line.
//!
//! Keys are sorted as nlohmann's default map sorts them, and `output_fields` comes last, appended
//! after the other keys exactly as Falco's formatter long wrote it (`…"time":"…", "output_fields":
//! {…}}`) — the byte layout of Falco's regression oracle
//! (`expected_output_single_rule_with_cat_write.json`). Parsed as JSON it is the same object current
//! Falco emits, which is all Falcosidekick and falco-talon read.
//!
//! - `time` is RFC 3339 in UTC with nanoseconds and `Z`, whatever `time_format_iso_8601` says;
//! - `output` is the text line (unescaped; JSON escaping applies), `message` the output without prefix;
//! - `output_fields` holds every `%field` of the rule output (`null` when unavailable) plus the prefix
//!   time field (`evt.time` or `evt.time.iso8601`) as integer nanoseconds.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::{Alert, FieldValue, OutputOptions, text};

/// RFC 3339 UTC with nanoseconds: `2016-08-04T16:17:57.881781397Z`.
pub fn rfc3339(ts: u64) -> String {
    match jiff::Timestamp::from_nanosecond(i128::from(ts)) {
        Ok(t) => format!(
            "{}.{:09}Z",
            t.strftime("%Y-%m-%dT%H:%M:%S"),
            ts % 1_000_000_000
        ),
        Err(_) => super::NA.to_string(),
    }
}

fn value(v: &FieldValue) -> Value {
    match v {
        FieldValue::Null => Value::Null,
        FieldValue::Str(s) => Value::String(s.clone()),
        FieldValue::U64(x) => Value::from(*x),
        FieldValue::I64(x) => Value::from(*x),
        FieldValue::F64(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        FieldValue::Bool(x) => Value::Bool(*x),
    }
}

fn push_key_str(out: &mut String, key: &str, v: &str) {
    let _ = write!(out, "{}:{}", Value::from(key), Value::from(v));
}

/// The JSON alert line, without the trailing newline.
pub fn format(alert: &Alert, opts: &OutputOptions) -> String {
    let mut out = String::with_capacity(256 + alert.output.len() * 2);
    out.push('{');
    push_key_str(&mut out, "hostname", &opts.hostname);
    if opts.json_include_message_property {
        out.push(',');
        push_key_str(&mut out, "message", &alert.output);
    }
    if opts.json_include_output_property {
        out.push(',');
        push_key_str(&mut out, "output", &text::raw_line(alert, opts));
    }
    out.push(',');
    push_key_str(&mut out, "priority", alert.priority.as_str());
    out.push(',');
    push_key_str(&mut out, "rule", &alert.rule);
    out.push(',');
    push_key_str(&mut out, "source", &alert.source);
    if opts.json_include_tags_property {
        let tags = Value::Array(alert.tags.iter().map(|t| Value::from(t.as_str())).collect());
        let _ = write!(out, ",\"tags\":{tags}");
    }
    out.push(',');
    push_key_str(&mut out, "time", &rfc3339(alert.time));
    if opts.json_include_output_fields_property {
        let (time_key, _) = text::prefix_time(alert, opts);
        let mut fields: BTreeMap<&str, Value> = BTreeMap::new();
        for (k, v) in &alert.output_fields {
            fields.insert(k, value(v));
        }
        fields.insert(time_key, Value::from(alert.time));
        // Sorted by key, like nlohmann's map (built by hand: serde_json's map order depends on a
        // crate feature another dependency might turn on).
        out.push_str(", \"output_fields\": {");
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{}:{v}", Value::from(*k));
        }
        out.push('}');
    }
    out.push('}');
    out
}
