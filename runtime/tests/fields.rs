//! Field values over the corpus captures compared with Debian's sysdig 0.29.3.
//!
//! Each case file in `tests/data/fields/` names a capture, a sysdig format and the lines sysdig
//! printed (the command that produced them is in the file's header). The test replays the capture
//! through [`State`] and [`Extractor`] and renders the same fields; every recorded line must match.
//! A second test runs sysdig itself when it is installed and compares every printed event.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use frule_codegen::abi::FieldArg;
use frule_lang::fields::{self, FieldArg as LangArg};
use frule_runtime::fields::Extractor;
use frule_runtime::scap::ScapReader;
use frule_runtime::state::State;

/// One `%field` of a format.
fn parse_format(fmt: &str) -> Vec<(fields::FieldId, Option<FieldArg>)> {
    fmt.split('|')
        .map(|tok| {
            let tok = tok.trim_start_matches('%');
            let (name, arg) = match tok.split_once('[') {
                Some((n, a)) => (n, Some(a.trim_end_matches(']'))),
                None => (tok, None),
            };
            let r = fields::resolve(name, arg).unwrap_or_else(|e| panic!("{tok}: {e}"));
            let arg = match r.arg {
                LangArg::None => None,
                LangArg::Index(i) => Some(FieldArg::Index(i)),
                LangArg::Key(k) => Some(FieldArg::Key(k)),
            };
            (r.id, arg)
        })
        .collect()
}

/// Every event's rendered line (`num|field|field…`), keyed by event number.
fn replay(path: &Path, fmt: &str) -> BTreeMap<u64, String> {
    let fields = parse_format(fmt);
    let mut reader = ScapReader::open(path).expect("readable capture");
    let mut state = State::from_capture(reader.state());
    let mut out = BTreeMap::new();
    while let Some(rec) = reader.next_event().expect("valid event") {
        state.update(&rec.event);
        let mut x = Extractor::new(&state, rec.event).with_cpu(rec.cpu);
        let mut line = String::new();
        for (i, (id, arg)) in fields.iter().enumerate() {
            if i > 0 {
                line.push('|');
            }
            x.render_field(*id, arg.as_ref(), &mut line);
        }
        out.insert(state.context().num, line);
    }
    out
}

/// Recorded times are UTC: cases with local-time fields only apply when the local zone is UTC.
fn skip_for_zone(case: &Case) -> bool {
    let local_is_utc = jiff::tz::TimeZone::system()
        .to_offset(jiff::Timestamp::now())
        .seconds()
        == 0;
    let uses_local = case.format.contains("evt.time") || case.format.contains("evt.datetime");
    if uses_local && !local_is_utc {
        eprintln!(
            "skipping {}: it records UTC times and the local zone is not UTC",
            case.capture
        );
        return true;
    }
    false
}

struct Case {
    /// Lines known to differ still (libsinsp behaviour not reproduced yet); the test fails when
    /// more lines differ, so the count only goes down.
    max_diffs: usize,
    /// The same bound for the live comparison, which covers every event of the capture.
    live_max_diffs: usize,
    capture: String,
    format: String,
    lines: Vec<String>,
}

fn load_case(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).expect("case file");
    let mut capture = String::new();
    let mut format = String::new();
    let mut lines = Vec::new();
    let mut max_diffs = 0;
    let mut live_max_diffs = 0;
    for l in text.lines() {
        if let Some(v) = l.strip_prefix("# live-max-diffs: ") {
            live_max_diffs = v.trim().parse().expect("live-max-diffs number");
        }
        if let Some(v) = l.strip_prefix("# max-diffs: ") {
            max_diffs = v.trim().parse().expect("max-diffs number");
        }
        if let Some(v) = l.strip_prefix("# capture: ") {
            capture = v.to_string();
        } else if let Some(v) = l.strip_prefix("# format: ") {
            format = v.to_string();
        } else if !l.starts_with('#') && !l.is_empty() {
            lines.push(l.to_string());
        }
    }
    Case {
        max_diffs,
        live_max_diffs,
        capture,
        format,
        lines,
    }
}

fn compare(ours: &BTreeMap<u64, String>, fmt: &str, expected: &[String]) -> Vec<String> {
    let mut diffs = Vec::new();
    for l in expected {
        let (num, rest) = l.split_once('|').unwrap_or((l, ""));
        let num: u64 = num.parse().expect("event number");
        // our line starts with evt.num too (the format's first field)
        let got = ours
            .get(&num)
            .map(String::as_str)
            .unwrap_or("<missing event>");
        let want = format!("{num}|{rest}");
        if got != want {
            diffs.push(format!(
                "event {num} ({fmt}):\n  sysdig: {want}\n  frule:  {got}"
            ));
        }
    }
    diffs
}

#[test]
fn recorded_sysdig_outputs() {
    let root = common::corpus_root();
    if !root.join("scap").is_dir() {
        eprintln!("skipping: corpus not found at {}", root.display());
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fields");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("case dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut diffs = Vec::new();
    let mut checked = 0;
    for f in &files {
        let case = load_case(f);
        if skip_for_zone(&case) {
            continue;
        }
        let ours = replay(&root.join("scap").join(&case.capture), &case.format);
        checked += case.lines.len();
        let d = compare(&ours, &case.format, &case.lines);
        eprintln!(
            "{}: {} lines, {} differ",
            f.display(),
            case.lines.len(),
            d.len()
        );
        if d.len() > case.max_diffs {
            diffs.extend(d);
        }
    }
    eprintln!("{checked} recorded lines checked");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// Runs sysdig on the same captures with every case's format and compares every printed line.
#[test]
fn live_sysdig_comparison() {
    let root = common::corpus_root();
    if !root.join("scap").is_dir() {
        eprintln!("skipping: corpus not found at {}", root.display());
        return;
    }
    if Command::new("sysdig").arg("--version").output().is_err() {
        eprintln!("skipping: sysdig is not installed");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fields");
    let mut diffs = Vec::new();
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("case dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    entries.sort();
    for f in entries {
        let case = load_case(&f);
        if skip_for_zone(&case) {
            continue;
        }
        let cap = root.join("scap").join(&case.capture);
        let out = Command::new("sysdig")
            .arg("-r")
            .arg(&cap)
            .arg("-p")
            .arg(format!("*{}", case.format))
            .arg("not evt.type in (mmap, munmap)")
            .env("TZ", "UTC")
            .output()
            .expect("sysdig runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let ours = replay(&cap, &case.format);
        checked += lines.len();
        let d = compare(&ours, &case.format, &lines);
        eprintln!("{}: {} lines, {} differ", f.display(), lines.len(), d.len());
        if std::env::var_os("FRULE_SHOW_DIFFS").is_some() {
            eprintln!("{}", d.join("\n"));
        }
        if d.len() > case.live_max_diffs {
            diffs.extend(d);
        }
    }
    eprintln!("{checked} sysdig lines checked, {} differ", diffs.len());
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
