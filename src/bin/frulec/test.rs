//! `frulec test`: offline rule tests — rules + recorded or synthetic events → expected alerts.
//!
//! A test file (YAML, schema in `docs/frulec-test.md`) names the rules to load (files relative to the test
//! file and/or rules given inline), and a list of cases. Each case feeds events — given as field values, or a
//! capture file replayed with its recorded state — to a fresh engine and compares the alerts per rule with the
//! expectation: rule names with exact counts, optionally output substrings and the priority, or no alert at all.
//! The expectation is exhaustive: a rule that fires without being listed fails the case.
//!
//! Every case runs on every [`Backend`] the library has ([`Backend::ALL`]), on an engine of that backend, and a
//! difference between backends is a failure like any other: backends that fail differently are named in
//! `[…]` after the case.
//!
//! Invariants:
//! - a test file is fully checked (keys, types, field names, field values, event types, paths) before any case
//!   runs; a malformed file is reported as `FILE:LINE:COL: error: MESSAGE` lines and none of its cases run;
//! - nothing in a test file can make the command panic;
//! - the report is deterministic (no times, no hash order), so it can be snapshotted.
//!
//! Exit codes: 0 = every case passed, 1 = a case failed (or its rules did not load), 2 = a test file is
//! unreadable or invalid (the valid files are still run and reported).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use frule::lang::loader::yaml::{self, Kind, Node};
use frule::lang::loader::{self, RulesFile};
use frule::{Backend, Engine, Priority, RuleMatching};

use crate::Outcome;

/// Arguments of `frulec test`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print only failures and the summary, not one line per passing case.
    #[arg(short, long)]
    pub quiet: bool,
    /// Test files (YAML), run in this order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Timestamp of the first event given as field values (2023-11-14T22:13:20Z); each next event is 1 ms later.
const BASE_TS: u64 = 1_700_000_000_000_000_000;

/// A problem in a test file, with its 1-based position (0:0 when the whole file is concerned).
#[derive(Debug)]
struct Problem {
    line: u32,
    col: u32,
    message: String,
}

impl Problem {
    fn at(node: &Node, message: impl Into<String>) -> Problem {
        Problem {
            line: node.line0 + 1,
            col: node.col0 + 1,
            message: message.into(),
        }
    }
}

/// An event given as field values.
#[derive(Debug)]
struct FieldEvent {
    /// The line of the event's mapping.
    line: u32,
    /// `evt.type`.
    evt_type: String,
    /// Every other field, in the order given (defaults first).
    fields: Vec<(String, String)>,
}

/// What a case feeds to the engine.
#[derive(Debug)]
enum Input {
    /// Events given as field values.
    Events(Vec<FieldEvent>),
    /// A capture file, replayed with its recorded state.
    Capture(PathBuf),
}

/// One expected rule.
#[derive(Debug)]
struct Expected {
    rule: String,
    count: u64,
    output: Vec<String>,
    priority: Option<Priority>,
}

/// One test case.
#[derive(Debug)]
struct Case {
    name: String,
    line: u32,
    col: u32,
    matching: RuleMatching,
    input: Input,
    expect: Vec<Expected>,
}

/// A checked test file.
#[derive(Debug)]
struct TestFile {
    rules: Vec<RulesFile>,
    cases: Vec<Case>,
}

/// Runs the command.
pub fn run(args: &Args) -> Outcome {
    let mut invalid = 0u64;
    let mut totals = Totals::default();
    for path in &args.files {
        let display = path.display().to_string();
        let file = match parse_file(path) {
            Ok(f) => f,
            Err(problems) => {
                invalid += 1;
                for p in problems {
                    eprintln!("{display}:{}:{}: error: {}", p.line, p.col, p.message);
                }
                println!("{display}: invalid test file, no case run");
                continue;
            }
        };
        run_file(&display, &file, args.quiet, &mut totals);
    }
    let names: Vec<&str> = Backend::ALL.iter().map(|b| b.name()).collect();
    let invalid_files = match invalid {
        0 => String::new(),
        1 => "; 1 invalid test file".to_string(),
        n => format!("; {n} invalid test files"),
    };
    println!(
        "test result: {}. {} passed; {} failed{invalid_files} (backends: {})",
        if totals.failed == 0 && invalid == 0 {
            "ok"
        } else {
            "FAILED"
        },
        totals.passed,
        totals.failed,
        names.join(", ")
    );
    if invalid > 0 {
        Outcome::Error
    } else if totals.failed > 0 {
        Outcome::Invalid
    } else {
        Outcome::Ok
    }
}

#[derive(Default)]
struct Totals {
    passed: u64,
    failed: u64,
}

/// An alert as the comparison sees it.
struct Got {
    rule: String,
    priority: Priority,
    output: String,
}

fn run_file(display: &str, file: &TestFile, quiet: bool, totals: &mut Totals) {
    // Load once to report rule errors once; every case gets its own engine below.
    let load = loader::load(&file.rules);
    if !load.is_ok() {
        println!("{display}: the rules did not load, every case fails:");
        print!("{}", frule::lang::render::text::render(&load));
        for case in &file.cases {
            println!(
                "FAILED  {} ({display}:{}:{}): the rules did not load",
                case.name, case.line, case.col
            );
            totals.failed += 1;
        }
        return;
    }
    let known: std::collections::BTreeSet<&str> =
        load.rules.iter().map(|r| r.name.as_str()).collect();
    let mut engines: Vec<Option<Engine>> = Backend::ALL.iter().map(|_| None).collect();
    for case in &file.cases {
        // A misspelt rule name would make `count: 0` pass vacuously: it is a failure of the case.
        let unknown: Vec<String> = case
            .expect
            .iter()
            .filter(|e| !known.contains(e.rule.as_str()))
            .map(|e| format!("! no rule named {:?} is loaded", e.rule))
            .collect();
        // Backends with the same diff are reported together.
        let mut diffs: Vec<(Vec<&'static str>, Vec<String>)> = Vec::new();
        for (&backend, cache) in Backend::ALL.iter().zip(engines.iter_mut()) {
            let mut diff = unknown.clone();
            match run_case(file, case, backend, cache) {
                Ok(got) => diff.extend(compare(&case.expect, &got)),
                Err(e) => diff.push(format!("! {e}")),
            }
            if diff.is_empty() {
                continue;
            }
            match diffs.iter_mut().find(|(_, d)| *d == diff) {
                Some((names, _)) => names.push(backend.name()),
                None => diffs.push((vec![backend.name()], diff)),
            }
        }
        if diffs.is_empty() {
            totals.passed += 1;
            if !quiet {
                println!(
                    "ok      {} ({display}:{}:{})",
                    case.name, case.line, case.col
                );
            }
            continue;
        }
        totals.failed += 1;
        // When every backend fails the same way the report does not name them (the summary line does), so
        // a report reads the same whatever backends the build has.
        let unanimous =
            diffs.len() == 1 && diffs.iter().all(|(n, _)| n.len() == Backend::ALL.len());
        for (names, diff) in diffs {
            let which = if unanimous {
                String::new()
            } else {
                format!(" [{}]", names.join(", "))
            };
            println!(
                "FAILED  {} ({display}:{}:{}){which}",
                case.name, case.line, case.col
            );
            for line in diff {
                println!("    {line}");
            }
        }
    }
}

/// Runs one case with `backend` and returns its alerts in order.
///
/// Events given as field values do not involve the engine's state, so their cases share one engine per
/// backend (`cache`, compiled once per file); a capture replay gets a fresh engine, whose state starts
/// from the capture's.
fn run_case(
    file: &TestFile,
    case: &Case,
    backend: Backend,
    cache: &mut Option<Engine>,
) -> Result<Vec<Got>, String> {
    let fresh = || -> Result<Engine, String> {
        let mut e = Engine::from_rules(&file.rules).map_err(|e| e.to_string())?;
        e.set_backend(backend);
        Ok(e)
    };
    let mut own;
    let engine = match (&case.input, cache) {
        (Input::Events(_), Some(e)) => e,
        (Input::Events(_), slot) => slot.insert(fresh()?),
        (Input::Capture(_), _) => {
            own = fresh()?;
            &mut own
        }
    };
    engine.set_rule_matching(case.matching);
    let mut got = Vec::new();
    let mut push = |a: &frule::Alert| {
        got.push(Got {
            rule: a.rule.to_string(),
            priority: a.priority,
            output: a.output.clone(),
        })
    };
    match &case.input {
        Input::Events(events) => {
            for (i, ev) in events.iter().enumerate() {
                let fields: Vec<(&str, &str)> = ev
                    .fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let ts = BASE_TS.saturating_add((i as u64).saturating_mul(1_000_000));
                let alerts = engine
                    .process_fields(&ev.evt_type, ts, &fields)
                    .map_err(|e| format!("event at line {}: {e}", ev.line))?;
                alerts.iter().for_each(&mut push);
            }
        }
        Input::Capture(path) => {
            engine
                .replay(path, &mut push)
                .map_err(|e| format!("cannot replay {}: {e}", path.display()))?;
        }
    }
    Ok(got)
}

/// The differences between what was expected and what fired, one line each (empty = pass):
/// `-` a missing or short count, `+` an unexpected rule or surplus, `~` a wrong output or priority.
fn compare(expect: &[Expected], got: &[Got]) -> Vec<String> {
    let mut by_rule: BTreeMap<&str, Vec<&Got>> = BTreeMap::new();
    for g in got {
        by_rule.entry(g.rule.as_str()).or_default().push(g);
    }
    let mut diff = Vec::new();
    let alerts = |n: u64| {
        if n == 1 {
            "1 alert".to_string()
        } else {
            format!("{n} alerts")
        }
    };
    for e in expect {
        let fired = by_rule.remove(e.rule.as_str()).unwrap_or_default();
        let n = fired.len() as u64;
        if n != e.count {
            let sign = if n < e.count { '-' } else { '+' };
            diff.push(format!(
                "{sign} {}: expected {}, got {}",
                e.rule,
                alerts(e.count),
                alerts(n)
            ));
            if let Some(first) = fired.first() {
                diff.push(format!("      first: {} {}", first.priority, first.output));
            }
            continue;
        }
        for s in &e.output {
            if !fired.iter().any(|g| g.output.contains(s.as_str())) {
                diff.push(format!("~ {}: no output contains {s:?}", e.rule));
                for g in &fired {
                    diff.push(format!("      got: {}", g.output));
                }
            }
        }
        if let Some(p) = e.priority
            && let Some(g) = fired.iter().find(|g| g.priority != p)
        {
            diff.push(format!(
                "~ {}: expected priority {p}, got {}",
                e.rule, g.priority
            ));
        }
    }
    for (rule, fired) in by_rule {
        diff.push(format!(
            "+ {rule}: expected no alert, got {}",
            alerts(fired.len() as u64)
        ));
        if let Some(first) = fired.first() {
            diff.push(format!("      first: {} {}", first.priority, first.output));
        }
    }
    diff
}

// ---------------------------------------------------------------------------------------------------------
// Reading and checking a test file
// ---------------------------------------------------------------------------------------------------------

/// Checks the keys of a mapping against the allowed ones.
fn check_keys(map: &Node, what: &str, allowed: &[&str], problems: &mut Vec<Problem>) {
    if let Kind::Map(entries) = &map.kind {
        for (k, _) in entries {
            match k.as_scalar() {
                Some(name) if allowed.contains(&name) => {}
                Some(name) => problems.push(Problem::at(
                    k,
                    format!(
                        "unknown key `{name}` in {what} (expected one of: {})",
                        allowed.join(", ")
                    ),
                )),
                None => problems.push(Problem::at(k, format!("keys of {what} must be text"))),
            }
        }
    }
}

fn scalar<'a>(node: &'a Node, what: &str, problems: &mut Vec<Problem>) -> Option<&'a str> {
    match node.as_scalar() {
        Some(s) => Some(s),
        None => {
            problems.push(Problem::at(node, format!("{what} must be a scalar")));
            None
        }
    }
}

/// `${NAME}` references to environment variables in a path.
fn expand_env(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("unterminated `${{` in {text:?}"));
        };
        let name = &after[..end];
        match std::env::var(name) {
            Ok(v) => out.push_str(&v),
            Err(_) => return Err(format!("environment variable {name} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A path of the test file, relative to its directory.
fn resolve_path(
    base: &Path,
    node: &Node,
    what: &str,
    problems: &mut Vec<Problem>,
) -> Option<PathBuf> {
    let text = scalar(node, what, problems)?;
    match expand_env(text) {
        Ok(p) => Some(base.join(p)),
        Err(e) => {
            problems.push(Problem::at(node, e));
            None
        }
    }
}

fn parse_matching(node: &Node, problems: &mut Vec<Problem>) -> Option<RuleMatching> {
    let text = scalar(node, "rule_matching", problems)?;
    let m = RuleMatching::parse(text);
    if m.is_none() {
        problems.push(Problem::at(
            node,
            format!("rule_matching must be `first` or `all`, not {text:?}"),
        ));
    }
    m
}

/// Reads and checks a whole test file.
fn parse_file(path: &Path) -> Result<TestFile, Vec<Problem>> {
    let whole = |message: String| {
        vec![Problem {
            line: 0,
            col: 0,
            message,
        }]
    };
    let bytes =
        std::fs::read(path).map_err(|e| whole(format!("cannot read the test file: {e}")))?;
    let src = String::from_utf8(bytes).map_err(|_| whole("the test file is not UTF-8".into()))?;
    let docs = yaml::parse(&src).map_err(|e| {
        let (line0, col0) = e.line_col0.unwrap_or((0, 0));
        vec![Problem {
            line: line0 + 1,
            col: col0 + 1,
            message: format!("invalid YAML: {}", e.message),
        }]
    })?;
    let mut problems = Vec::new();
    let root = match docs.as_slice() {
        [root] if matches!(root.kind, Kind::Map(_)) => root,
        [other] => {
            return Err(vec![Problem::at(
                other,
                "a test file is a mapping with `cases` (and `rules` or `inline_rules`)",
            )]);
        }
        [] => return Err(whole("the test file is empty".into())),
        [_, second, ..] => {
            return Err(vec![Problem::at(
                second,
                "a test file has a single YAML document",
            )]);
        }
    };
    check_keys(
        root,
        "a test file",
        &[
            "rules",
            "inline_rules",
            "rule_matching",
            "defaults",
            "cases",
        ],
        &mut problems,
    );
    let base = path.parent().unwrap_or(Path::new("")).to_path_buf();

    let mut rules = Vec::new();
    if let Some(node) = root.get("rules") {
        let items: Vec<&Node> = match &node.kind {
            Kind::Seq(v) => v.iter().collect(),
            Kind::Scalar(_) => vec![node],
            _ => {
                problems.push(Problem::at(node, "rules must be a path or a list of paths"));
                Vec::new()
            }
        };
        for item in items {
            let Some(p) = resolve_path(&base, item, "a rules file path", &mut problems) else {
                continue;
            };
            match std::fs::read(&p) {
                Ok(content) => rules.push(RulesFile::new(p.display().to_string(), content)),
                Err(e) => problems.push(Problem::at(
                    item,
                    format!("cannot read rules file {}: {e}", p.display()),
                )),
            }
        }
    }
    if let Some(node) = root.get("inline_rules")
        && let Some(text) = scalar(node, "inline_rules", &mut problems)
    {
        // Pad with newlines so that diagnostics in the inline rules name the test file's own lines.
        let line0 = src
            .get(..node.offset as usize)
            .map_or(0, |s| s.bytes().filter(|&b| b == b'\n').count());
        let mut content = "\n".repeat(line0);
        content.push_str(text);
        rules.push(RulesFile::new(path.display().to_string(), content));
    }
    if root.get("rules").is_none() && root.get("inline_rules").is_none() {
        problems.push(Problem::at(
            root,
            "a test file needs `rules` (rules files) or `inline_rules`",
        ));
    }
    let matching = root
        .get("rule_matching")
        .and_then(|n| parse_matching(n, &mut problems))
        .unwrap_or_default();
    let defaults = root
        .get("defaults")
        .map(|n| parse_fields(n, "defaults", &mut problems))
        .unwrap_or_default();

    let mut cases = Vec::new();
    match root.get("cases").map(|n| (n, &n.kind)) {
        Some((_, Kind::Seq(items))) if !items.is_empty() => {
            for item in items {
                if let Some(c) = parse_case(item, &base, matching, &defaults, &mut problems) {
                    cases.push(c);
                }
            }
        }
        Some((n, _)) => problems.push(Problem::at(n, "cases must be a non-empty list")),
        None => problems.push(Problem::at(root, "a test file needs `cases`")),
    }
    let mut names: BTreeMap<&str, ()> = BTreeMap::new();
    for c in &cases {
        if names.insert(&c.name, ()).is_some() {
            problems.push(Problem {
                line: c.line,
                col: c.col,
                message: format!("duplicate case name {:?}", c.name),
            });
        }
    }
    if problems.is_empty() {
        Ok(TestFile { rules, cases })
    } else {
        problems.sort_by_key(|p| (p.line, p.col));
        Err(problems)
    }
}

/// A field given in an event or in `defaults`: name (with its key node) and value (`None` = explicitly
/// missing, to take a default away).
type FieldSpec = (String, Option<String>, Node);

/// Reads a mapping of field names to values, checking the names against the field schema.
fn parse_fields(node: &Node, what: &str, problems: &mut Vec<Problem>) -> Vec<FieldSpec> {
    let Kind::Map(entries) = &node.kind else {
        problems.push(Problem::at(
            node,
            format!("{what} must be a mapping of field names to values"),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(name) = scalar(k, "a field name", problems) else {
            continue;
        };
        let (base, arg) = match name.split_once('[') {
            Some((b, rest)) => match rest.strip_suffix(']') {
                Some(a) => (b, Some(a)),
                None => {
                    problems.push(Problem::at(
                        k,
                        format!("field {name:?} lacks its closing `]`"),
                    ));
                    continue;
                }
            },
            None => (name, None),
        };
        if let Err(e) = frule::lang::fields::resolve(base, arg) {
            problems.push(Problem::at(k, format!("{name}: {e}")));
            continue;
        }
        let value = match &v.kind {
            Kind::Null => None,
            Kind::Scalar(s) => Some(s.clone()),
            _ => {
                problems.push(Problem::at(
                    v,
                    format!("the value of {name} must be a scalar (or null for missing)"),
                ));
                continue;
            }
        };
        out.push((name.to_string(), value, k.clone()));
    }
    out
}

fn parse_case(
    node: &Node,
    base: &Path,
    file_matching: RuleMatching,
    file_defaults: &[FieldSpec],
    problems: &mut Vec<Problem>,
) -> Option<Case> {
    if !matches!(node.kind, Kind::Map(_)) {
        problems.push(Problem::at(node, "a case must be a mapping"));
        return None;
    }
    check_keys(
        node,
        "a case",
        &[
            "name",
            "desc",
            "rule_matching",
            "defaults",
            "events",
            "capture",
            "expect",
        ],
        problems,
    );
    let before = problems.len();
    let name = match node.get("name") {
        Some(n) => scalar(n, "name", problems).map(str::to_string),
        None => {
            problems.push(Problem::at(node, "a case needs a `name`"));
            None
        }
    };
    let matching = node
        .get("rule_matching")
        .and_then(|n| parse_matching(n, problems))
        .unwrap_or(file_matching);
    let mut defaults: Vec<FieldSpec> = file_defaults.to_vec();
    if let Some(d) = node.get("defaults") {
        defaults.extend(parse_fields(d, "defaults", problems));
    }
    let input = match (node.get("events"), node.get("capture")) {
        (Some(ev), None) => parse_events(ev, &defaults, problems).map(Input::Events),
        (None, Some(cap)) => {
            let p = resolve_path(base, cap, "capture", problems);
            match p {
                Some(p) if p.is_file() => Some(Input::Capture(p)),
                Some(p) => {
                    problems.push(Problem::at(
                        cap,
                        format!("capture file {} not found", p.display()),
                    ));
                    None
                }
                None => None,
            }
        }
        (Some(_), Some(cap)) => {
            problems.push(Problem::at(
                cap,
                "a case has `events` or `capture`, not both",
            ));
            None
        }
        (None, None) => {
            problems.push(Problem::at(node, "a case needs `events` or `capture`"));
            None
        }
    };
    let expect = match node.get("expect") {
        Some(e) => parse_expect(e, problems),
        None => {
            problems.push(Problem::at(
                node,
                "a case needs `expect` (a list of rules, or `[]` for no alert)",
            ));
            None
        }
    };
    if problems.len() > before {
        return None;
    }
    Some(Case {
        name: name?,
        line: node.line0 + 1,
        col: node.col0 + 1,
        matching,
        input: input?,
        expect: expect?,
    })
}

fn parse_events(
    node: &Node,
    defaults: &[FieldSpec],
    problems: &mut Vec<Problem>,
) -> Option<Vec<FieldEvent>> {
    let Kind::Seq(items) = &node.kind else {
        problems.push(Problem::at(node, "events must be a list of field mappings"));
        return None;
    };
    if items.is_empty() {
        problems.push(Problem::at(node, "events must not be empty"));
        return None;
    }
    // One engine without rules checks the values by their field types (numbers, addresses, booleans).
    let mut checker = Engine::from_rules(&[]).ok();
    let mut out = Vec::new();
    for item in items {
        let given = parse_fields(item, "an event", problems);
        // defaults first, then the event's own fields; a later value (or null) replaces an earlier one
        let mut merged: Vec<(String, Option<String>, Node)> = Vec::new();
        for (name, value, key) in defaults.iter().cloned().chain(given) {
            match merged.iter_mut().find(|(n, _, _)| *n == name) {
                Some(slot) => *slot = (name, value, key),
                None => merged.push((name, value, key)),
            }
        }
        let mut evt_type = None;
        let mut fields = Vec::new();
        let mut keys = Vec::new();
        for (name, value, key) in merged {
            let Some(value) = value else { continue };
            if name == "evt.type" {
                if frule::lang::events::codes_for_name(&value).is_empty() {
                    problems.push(Problem::at(&key, format!("unknown event type {value:?}")));
                }
                evt_type = Some(value);
            } else {
                fields.push((name, value));
                keys.push(key);
            }
        }
        let Some(evt_type) = evt_type else {
            problems.push(Problem::at(item, "an event needs `evt.type`"));
            continue;
        };
        if let Some(engine) = checker.as_mut() {
            for ((name, value), key) in fields.iter().zip(&keys) {
                if let Err(e) = engine.process_fields(&evt_type, BASE_TS, &[(name, value)]) {
                    problems.push(Problem::at(key, e.to_string()));
                }
            }
        }
        out.push(FieldEvent {
            line: item.line0 + 1,
            evt_type,
            fields,
        });
    }
    Some(out)
}

fn parse_expect(node: &Node, problems: &mut Vec<Problem>) -> Option<Vec<Expected>> {
    let items = match &node.kind {
        Kind::Seq(v) => v,
        Kind::Scalar(s) if s == "none" => return Some(Vec::new()),
        _ => {
            problems.push(Problem::at(
                node,
                "expect must be a list of rules (`- rule: NAME`) or `[]`/`none` for no alert",
            ));
            return None;
        }
    };
    let mut out: Vec<Expected> = Vec::new();
    for item in items {
        let e = match &item.kind {
            Kind::Scalar(rule) => Expected {
                rule: rule.clone(),
                count: 1,
                output: Vec::new(),
                priority: None,
            },
            Kind::Map(_) => {
                check_keys(
                    item,
                    "an expected alert",
                    &["rule", "count", "output", "priority"],
                    problems,
                );
                let Some(rule) = item
                    .get("rule")
                    .and_then(|n| scalar(n, "rule", problems))
                    .map(str::to_string)
                else {
                    if item.get("rule").is_none() {
                        problems.push(Problem::at(item, "an expected alert needs `rule`"));
                    }
                    continue;
                };
                let count = match item.get("count") {
                    None => 1,
                    Some(n) => match n.as_scalar().map(str::parse::<u64>) {
                        Some(Ok(c)) => c,
                        _ => {
                            problems.push(Problem::at(n, "count must be a number ≥ 0"));
                            continue;
                        }
                    },
                };
                let output = match item.get("output").map(|n| (n, &n.kind)) {
                    None => Vec::new(),
                    Some((_, Kind::Scalar(s))) => vec![s.clone()],
                    Some((_, Kind::Seq(v))) => {
                        let mut subs = Vec::new();
                        for s in v {
                            if let Some(s) = scalar(s, "an output substring", problems) {
                                subs.push(s.to_string());
                            }
                        }
                        if subs.len() != v.len() {
                            continue;
                        }
                        subs
                    }
                    Some((n, _)) => {
                        problems.push(Problem::at(
                            n,
                            "output must be a substring or a list of substrings",
                        ));
                        continue;
                    }
                };
                let priority = match item.get("priority") {
                    None => None,
                    Some(n) => match n.as_scalar().and_then(Priority::parse) {
                        Some(p) => Some(p),
                        None => {
                            problems.push(Problem::at(
                                n,
                                "priority must be one of emergency, alert, critical, error, warning, \
                                 notice, informational, debug",
                            ));
                            continue;
                        }
                    },
                };
                if count == 0 && (!output.is_empty() || priority.is_some()) {
                    problems.push(Problem::at(
                        item,
                        "an expected alert with count 0 cannot check output or priority",
                    ));
                    continue;
                }
                Expected {
                    rule,
                    count,
                    output,
                    priority,
                }
            }
            _ => {
                problems.push(Problem::at(
                    item,
                    "an expected alert is a rule name or a mapping with `rule`",
                ));
                continue;
            }
        };
        if out.iter().any(|o| o.rule == e.rule) {
            problems.push(Problem::at(
                item,
                format!("rule {:?} is expected twice", e.rule),
            ));
            continue;
        }
        out.push(e);
    }
    Some(out)
}
