//! Data-driven suite of the type checker and the output-format parser.
//!
//! Every `tests/data/check/*.yaml` file is a list of cases; each case is one test named `<file>/<name>`.
//! A case gives either a `condition` (parsed with the condition parser, then checked with
//! `check::check_condition`) or an `output` (parsed with `output::parse_output`), and what must come out:
//!
//! - nothing else: the condition checks clean (no errors, no warnings) / the output parses;
//! - `errors`: the error messages, in order; each expected text must be a *prefix* of the actual message
//!   (the prefix is libsinsp's wording, our hints follow it);
//! - `warnings`: the warnings, in order, each written `CODE: message prefix`;
//! - `fails: true`: at least one error, whatever its text (for cases transcribed from upstream tests that
//!   only assert a failure); `warning_count`: the number of warnings, whatever their text;
//! - `unknown_filter`: whether the first error is one `skip-if-unknown-filter` forgives;
//! - `tokens` (outputs): the token texts in order (`%` and width stripped), e.g. `[proc.name, evt.arg.flags]`;
//! - `types` (conditions): the left side's type after transformers, written as `frulec fields` prints
//!   types (`UINT64`, `CHARBUF (list)`); checks only the first check of the condition.
//!
//! One more test, `corpus/syscall_outputs`, parses the `output:` of every syscall-source rule in the
//! rules corpus (`FRULE_CORPUS`, default `<workspace>/../shared/corpus`) after Falco's `%container.info`
//! stripping; it prints a reason and passes when the corpus is absent.

use std::path::{Path, PathBuf};

use frule_lang::ast::{Expr, ExprKind};
use frule_lang::check::{Severity, check_condition, check_operand};
use frule_lang::output::{parse_output, strip_container_info};
use frule_lang::parser::parse_condition;
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    errors: Vec<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    unknown_filter: Option<bool>,
    #[serde(default)]
    tokens: Option<Vec<String>>,
    #[serde(default)]
    types: Option<String>,
    #[serde(default)]
    fails: bool,
    #[serde(default)]
    warning_count: Option<usize>,
}

fn first_check(e: &Expr) -> Option<&frule_lang::ast::Check> {
    match &e.kind {
        ExprKind::Check(c) => Some(c),
        ExprKind::And(cs) | ExprKind::Or(cs) => cs.iter().find_map(first_check),
        ExprKind::Not(c) => first_check(c),
        ExprKind::Macro(_) => None,
    }
}

fn compare_prefixes(what: &str, expected: &[String], actual: &[String]) -> Result<(), Failed> {
    let ok = expected.len() == actual.len()
        && expected
            .iter()
            .zip(actual)
            .all(|(e, a)| a.starts_with(e.as_str()));
    if ok {
        Ok(())
    } else {
        Err(
            format!("{what} differ\nexpected (prefixes): {expected:#?}\nactual: {actual:#?}")
                .into(),
        )
    }
}

fn run_condition(case: &Case, text: &str) -> Result<(), Failed> {
    let expr = match parse_condition(text) {
        Ok(e) => e,
        // Upstream compiler tests count a parse error as a failure too.
        Err(_) if case.fails => return Ok(()),
        Err(e) => return Err(format!("condition does not parse: {e}").into()),
    };
    let issues = check_condition(&expr);
    let errors: Vec<String> = issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| i.message.clone())
        .collect();
    let warnings: Vec<String> = issues
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .map(|i| format!("{}: {}", i.code, i.message))
        .collect();
    if case.fails {
        if errors.is_empty() {
            return Err(format!("expected an error, got none (warnings: {warnings:?})").into());
        }
    } else {
        compare_prefixes("errors", &case.errors, &errors)?;
    }
    match case.warning_count {
        Some(n) if warnings.len() != n => {
            return Err(format!("expected {n} warnings, got {warnings:#?}").into());
        }
        Some(_) => {}
        None => compare_prefixes("warnings", &case.warnings, &warnings)?,
    }
    if let Some(expected) = case.unknown_filter {
        let actual = issues
            .iter()
            .find(|i| i.severity == Severity::Error)
            .is_some_and(|i| i.is_unknown_filter());
        if actual != expected {
            return Err(format!("unknown_filter: expected {expected}, got {actual}").into());
        }
    }
    if let Some(expected) = &case.types {
        let check = first_check(&expr).ok_or("no check in condition")?;
        let t =
            check_operand(&check.lhs, false).map_err(|e| format!("lhs does not check: {e:?}"))?;
        let actual = format!("{}{}", t.ty, if t.list { " (list)" } else { "" });
        if &actual != expected {
            return Err(format!("type: expected {expected}, got {actual}").into());
        }
    }
    Ok(())
}

fn run_output(case: &Case, text: &str) -> Result<(), Failed> {
    match parse_output(text) {
        Ok(fmt) => {
            if !case.errors.is_empty() {
                return Err(
                    format!("expected errors {:?}, output parsed: {fmt:?}", case.errors).into(),
                );
            }
            if let Some(expected) = &case.tokens {
                let actual: Vec<String> = fmt.tokens().map(|t| t.text.clone()).collect();
                if &actual != expected {
                    return Err(format!("tokens: expected {expected:?}, got {actual:?}").into());
                }
            }
        }
        Err(e) => {
            compare_prefixes("errors", &case.errors, std::slice::from_ref(&e.message))?;
            if let Some(expected) = case.unknown_filter
                && e.is_unknown_filter() != expected
            {
                return Err(format!("unknown_filter: expected {expected}").into());
            }
        }
    }
    Ok(())
}

fn run_case(case: &Case) -> Result<(), Failed> {
    match (&case.condition, &case.output) {
        (Some(c), None) => run_condition(case, c),
        (None, Some(o)) => run_output(case, o),
        _ => Err("a case needs exactly one of `condition` and `output`".into()),
    }
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/check")
}

fn load_trials() -> Result<Vec<Trial>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .map_err(|e| format!("{}: {e}", data_dir().display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut trials = Vec::new();
    for path in files {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let cases: Vec<Case> =
            serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for case in cases {
            let name = format!("{stem}/{}", case.name);
            trials.push(Trial::test(name, move || run_case(&case)));
        }
    }
    Ok(trials)
}

/// The part of a rules-file item this test reads; every other key is ignored.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RulesItem {
    rule: Option<String>,
    output: Option<String>,
    source: Option<String>,
}

fn corpus_dir() -> PathBuf {
    match std::env::var_os("FRULE_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

fn corpus_outputs() -> Result<(), Failed> {
    let dir = corpus_dir().join("rules");
    if !dir.is_dir() {
        println!("skipped: no rules corpus at {}", dir.display());
        return Ok(());
    }
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    // Plugin rules use their plugins' fields, which are not part of the syscall schema.
    files.retain(|p| !p.components().any(|c| c.as_os_str() == "plugins"));
    files.sort();
    let (mut checked, mut failures) = (0, Vec::new());
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let items = match serde_saphyr::from_str::<Vec<RulesItem>>(&text) {
            Ok(items) => items,
            Err(e) => {
                println!("note: {} not read: {e}", path.display());
                continue;
            }
        };
        for item in items {
            let (Some(rule), Some(output)) = (item.rule, item.output) else {
                continue;
            };
            if item.source.as_deref().is_some_and(|s| s != "syscall") {
                continue;
            }
            let output = output.trim();
            let output = strip_container_info(output).unwrap_or_else(|| output.to_string());
            checked += 1;
            if let Err(e) = parse_output(&output) {
                failures.push(format!("{}: rule '{rule}': {e}", path.display()));
            }
        }
    }
    if checked < 200 {
        return Err(format!(
            "only {checked} syscall rule outputs found under {}",
            dir.display()
        )
        .into());
    }
    if !failures.is_empty() {
        return Err(format!(
            "{} of {checked} outputs fail:\n{}",
            failures.len(),
            failures.join("\n")
        )
        .into());
    }
    println!("{checked} syscall rule outputs parse");
    Ok(())
}

/// Any condition the parser accepts, and any text as an output format, must check without panicking.
/// The inputs are the parser's own conformance cases (`tests/data/parser`), which are full of edge cases.
fn no_panics_on_parser_cases() -> Result<(), Failed> {
    #[derive(Deserialize)]
    struct Input {
        input: String,
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parser");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipped: {} is absent", dir.display());
        return Ok(());
    };
    let mut n = 0;
    for e in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        let Ok(cases) = serde_saphyr::from_str::<Vec<Input>>(&text) else {
            continue;
        };
        for case in cases {
            if let Ok(expr) = parse_condition(&case.input) {
                let _ = check_condition(&expr);
                n += 1;
            }
            let _ = parse_output(&case.input);
            let _ = parse_output(&format!("%{}", case.input));
        }
    }
    println!("{n} parsed conditions checked");
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = match load_trials() {
        Ok(t) => t,
        Err(e) => vec![Trial::test("load case files", move || {
            Err(e.clone().into())
        })],
    };
    trials.push(Trial::test("corpus/syscall_outputs", corpus_outputs));
    trials.push(Trial::test(
        "robustness/parser_cases",
        no_panics_on_parser_cases,
    ));
    libtest_mimic::run(&args, trials).exit();
}
