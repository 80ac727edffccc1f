//! The same events as `sysdig -r CAPTURE FILTER`: every filter of `tests/data/filters/filters.txt`
//! on every corpus capture that Debian's sysdig 0.29.3 reads, frule's engine against sysdig itself.
//!
//! frule runs all filters at once, one rule per filter with `rule_matching: all` and the output
//! `%evt.num`, through the engine as a replay does (state updated by every event, every event
//! evaluated), on every backend. sysdig runs once per filter and capture (two at a time), printing
//! `%evt.num`. The event numbers that match must be the same, except for the bounded differences the
//! data file lists under `[known]` with their reason. Only events sysdig prints at all count: it never
//! shows the internal metaevents (`container`, `procinfo`, …) that frule's engine evaluates as Falco's
//! does, nor the events whose fd flags changed since ([`UNIVERSE`]). `FRULE_FILTER_CAPTURES=a.scap,b.scap` limits the run to those captures.
//!
//! Skipped, with the reason printed, without the corpus (`FRULE_CORPUS`) or without sysdig.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use frule_lang::loader::{RulesFile, load};
use frule_runtime::engine::{Backend, Engine, RuleMatching};
use frule_runtime::scap::ScapReader;

/// The data file: the filters, and the known differences per (capture file name, filter).
struct Cases {
    filters: Vec<String>,
    known: BTreeMap<(String, String), usize>,
}

fn cases() -> Cases {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/filters/filters.txt"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut cases = Cases {
        filters: Vec::new(),
        known: BTreeMap::new(),
    };
    let mut section = "";
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            section = line;
            continue;
        }
        match section {
            "[filters]" => cases.filters.push(line.to_owned()),
            "[known]" => {
                let parts: Vec<&str> = line.split(" | ").collect();
                let [capture, max, filter, _reason] = parts[..] else {
                    panic!(
                        "{path}:{}: want CAPTURE | MAX-DIFFS | FILTER | REASON",
                        n + 1
                    );
                };
                let max = max
                    .parse()
                    .unwrap_or_else(|e| panic!("{path}:{}: {max}: {e}", n + 1));
                cases
                    .known
                    .insert((capture.to_owned(), filter.to_owned()), max);
            }
            _ => panic!("{path}:{}: line outside a section", n + 1),
        }
    }
    cases
}

fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = common::captures(&dir.join("scap"));
    if let Ok(only) = std::env::var("FRULE_FILTER_CAPTURES") {
        let only: Vec<&str> = only.split(',').collect();
        out.retain(|p| {
            p.file_name()
                .is_some_and(|n| only.contains(&&*n.to_string_lossy()))
        });
    }
    out
}

/// One rule per filter, named by its index, printing the event number.
fn rules_yaml(filters: &[String]) -> String {
    let mut y = String::new();
    for (i, f) in filters.iter().enumerate() {
        // A JSON string is a YAML double-quoted scalar.
        let cond = serde_json::Value::String(f.clone()).to_string();
        y.push_str(&format!(
            "- rule: f{i}\n  desc: filter {i}\n  condition: {cond}\n  output: \"%evt.num\"\n  priority: INFO\n"
        ));
    }
    y
}

/// Per filter, the event numbers frule's engine matches in `capture` on `backend`.
fn frule_matches(
    capture: &Path,
    filters: &[String],
    backend: Backend,
) -> Result<Vec<BTreeSet<u64>>, String> {
    let loaded = load(&[RulesFile::new("filters.yaml", rules_yaml(filters))]);
    assert!(loaded.is_ok(), "{:#?}", loaded.diagnostics);
    assert_eq!(loaded.rules.len(), filters.len());
    let mut engine = Engine::new(&loaded);
    engine.set_backend(backend);
    engine.set_rule_matching(RuleMatching::All);
    let mut reader = ScapReader::open(capture).map_err(|e| e.to_string())?;
    engine.set_capture_state(reader.state());
    let index: BTreeMap<String, usize> = (0..filters.len()).map(|i| (format!("f{i}"), i)).collect();
    let mut out = vec![BTreeSet::new(); filters.len()];
    let mut alerts = Vec::new();
    while let Some(rec) = reader.next_event().map_err(|e| e.to_string())? {
        alerts.clear();
        engine.process(&rec.event, rec.cpu, &mut alerts);
        for a in &alerts {
            let i = index[&*a.rule];
            let num = a
                .output
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("output {:?}: {e}", a.output));
            out[i].insert(num);
        }
    }
    Ok(out)
}

/// The event numbers `sysdig -r capture filter` prints, or `None` when sysdig rejects the filter or
/// cannot read the capture (with what it said).
fn sysdig_matches(capture: &Path, filter: &str) -> Result<BTreeSet<u64>, String> {
    let out = Command::new("sysdig")
        .arg("-r")
        .arg(capture)
        .args(["-p", "%evt.num", filter])
        .env("TZ", "UTC")
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    stdout
        .lines()
        .map(|l| l.trim().parse().map_err(|e| format!("{l:?}: {e}")))
        .collect()
}

/// sysdig's answer per (capture, filter) index pair.
type Answers = BTreeMap<(usize, usize), Result<BTreeSet<u64>, String>>;

/// The events compared: those sysdig prints at all, but for the ones whose fd semantics changed.
const UNIVERSE: &str = "not evt.type in (mmap, munmap, setsockopt, getsockopt)";

fn sysdig_available() -> bool {
    match Command::new("sysdig").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            eprintln!("skipping: sysdig is not installed (apt-get install -y sysdig)");
            false
        }
    }
}

#[test]
fn filters_match_the_same_events_as_sysdig() {
    let Some(dir) = common::corpus_with("scap") else {
        return;
    };
    if !sysdig_available() {
        return;
    }
    let cases = cases();
    let captures = captures(&dir);
    // sysdig's answers for every (capture, filter), two sysdig processes at a time.
    // Filter index `filters.len()` stands for [`UNIVERSE`]: the events compared.
    let everything = cases.filters.len();
    let jobs: Vec<(usize, usize)> = (0..captures.len())
        .flat_map(|c| (0..=everything).map(move |f| (c, f)))
        .collect();
    let next = Mutex::new(0usize);
    let answers: Mutex<Answers> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let j = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        let j = *n;
                        *n += 1;
                        j
                    };
                    let Some(&(c, f)) = jobs.get(j) else { break };
                    // mmap/munmap and the exits of setsockopt/getsockopt: current libs flag them as
                    // fd users, sysdig 0.29.3 does not (see tests/data/fields/README.md), so the fd
                    // fields of the two sides are not comparable there.
                    let filter = cases.filters.get(f).map_or(UNIVERSE, String::as_str);
                    let r = sysdig_matches(&captures[c], filter);
                    answers
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert((c, f), r);
                }
            });
        }
    });
    let answers = answers.into_inner().unwrap_or_else(|e| e.into_inner());

    let mut failures = Vec::new();
    let mut compared = 0usize;
    let mut events = 0usize;
    let mut unknown_known: BTreeSet<(String, String)> = cases.known.keys().cloned().collect();
    for (c, capture) in captures.iter().enumerate() {
        let name = capture
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for &backend in Backend::ALL {
            let ours = match frule_matches(capture, &cases.filters, backend) {
                Ok(o) => o,
                Err(e) => {
                    // A capture frule cannot read must be one sysdig cannot read either.
                    let sysdig_ok = answers.get(&(c, everything)).is_some_and(Result::is_ok);
                    assert!(!sysdig_ok, "{name}: frule cannot read it ({e}), sysdig can");
                    eprintln!("{name}: neither reads it ({e})");
                    break;
                }
            };
            let Some(Ok(shown)) = answers.get(&(c, everything)) else {
                eprintln!("{name}: sysdig cannot read it");
                break;
            };
            for (f, filter) in cases.filters.iter().enumerate() {
                let theirs: BTreeSet<u64> = match answers.get(&(c, f)) {
                    Some(Ok(t)) => t.intersection(shown).copied().collect(),
                    Some(Err(e)) => {
                        if backend == Backend::ALL[0] {
                            eprintln!("{name}: sysdig rejects {filter:?}: {}", e.trim());
                        }
                        continue;
                    }
                    None => continue,
                };
                compared += 1;
                events += theirs.len();
                let ours: BTreeSet<u64> = ours[f].intersection(shown).copied().collect();
                let diff: Vec<String> = theirs
                    .symmetric_difference(&ours)
                    .map(|n| {
                        let who = if theirs.contains(n) {
                            "sysdig"
                        } else {
                            "frule"
                        };
                        format!("{n} (only {who})")
                    })
                    .collect();
                let key = (name.clone(), filter.clone());
                let allowed = cases.known.get(&key).copied().unwrap_or(0);
                unknown_known.remove(&key);
                if diff.len() > allowed {
                    failures.push(format!(
                        "{name} {backend:?} {filter:?}: {} events differ (allowed {allowed}): {}",
                        diff.len(),
                        diff.iter().take(12).cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
    }
    eprintln!(
        "{compared} (capture, filter, backend) comparisons, {events} sysdig matches, {} failures",
        failures.len()
    );
    assert!(
        unknown_known.is_empty(),
        "[known] entries that match no capture and filter: {unknown_known:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
