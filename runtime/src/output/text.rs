//! Falco's text alert line: `<time>: <Priority> <output>`.
//!
//! `<time>` is `%evt.time` — local `HH:MM:SS.nnnnnnnnn` — or, with `time_format_iso_8601`,
//! `%evt.time.iso8601` — local `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+hhmm`. Since Falco 0.44 the whole line is
//! escaped like the body of a JSON string (control characters, `"` and `\`), so one alert is always
//! one line; invalid UTF-8 was already replaced with U+FFFD when fields were rendered.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Alert, OutputOptions};

fn zoned(ts: u64) -> Option<jiff::ZonedDateTime> {
    let t = Timestamp::from_nanosecond(i128::from(ts)).ok()?;
    Some(t.to_zoned_datetime(TimeZone::system()))
}

/// `%evt.time`: local `HH:MM:SS.nnnnnnnnn`.
pub fn evt_time(ts: u64) -> String {
    match zoned(ts) {
        Some(z) => format!("{}.{:09}", z.strftime("%H:%M:%S"), ts % 1_000_000_000),
        None => super::NA.to_string(),
    }
}

/// `%evt.time.iso8601`: local `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+hhmm`.
pub fn evt_time_iso8601(ts: u64) -> String {
    match zoned(ts) {
        Some(z) => format!(
            "{}.{:09}{}",
            z.strftime("%Y-%m-%dT%H:%M:%S"),
            ts % 1_000_000_000,
            z.strftime("%z")
        ),
        None => super::NA.to_string(),
    }
}

/// The prefix field's name and text for this alert (`evt.time` or `evt.time.iso8601`).
pub fn prefix_time(alert: &Alert, opts: &OutputOptions) -> (&'static str, String) {
    if opts.time_format_iso_8601 {
        ("evt.time.iso8601", evt_time_iso8601(alert.time))
    } else {
        ("evt.time", evt_time(alert.time))
    }
}

/// The full line before escaping: time, priority and rendered output.
pub fn raw_line(alert: &Alert, opts: &OutputOptions) -> String {
    let (_, time) = prefix_time(alert, opts);
    format!("{time}: {} {}", alert.priority.as_str(), alert.output)
}

/// Escapes text like the inside of a JSON string (nlohmann's `dump`, as Falco 0.44 does).
pub fn escape(s: &str) -> String {
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        return s.to_string();
    }
    let quoted = serde_json::Value::String(s.to_string()).to_string();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_string()
}

/// The text alert line, without the trailing newline.
pub fn format(alert: &Alert, opts: &OutputOptions) -> String {
    escape(&raw_line(alert, opts))
}
