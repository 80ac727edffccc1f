//! Data-driven tests of the rules-file loader (`frule_lang::loader`).
//!
//! Every `tests/data/loader/*.yaml` file is a list of cases. A case loads one or more rules files — inline
//! text (`rules:`) or files of the shared corpus (`corpus:` relative to `$FRULE_CORPUS`, skipped with a
//! printed reason when the corpus is absent) — and states what must come out:
//!
//! - `ok`: whether the load succeeds (no errors);
//! - `expect`: diagnostics that must be present, each by `code`, optionally `item` (Falco's innermost named
//!   item, `"rule 'x'"`), `message` (substring), `at` (`line:col` of our exact position, 1-based) and `file`
//!   (index of the file it is reported under) and `help` (substring of the help line);
//! - `exhaustive: true`: no diagnostics other than the expected ones;
//! - `conditions`: rule name → the macro-resolved condition printed canonically (`print::condition_to_string`);
//! - `rules`: the rule names in evaluation order;
//! - `enabled`: rule name → whether it ends up enabled.
//!
//! One test per case (libtest-mimic), so a failure names its case.

use std::path::{Path, PathBuf};

use frule_lang::diagnostic::Diagnostic;
use frule_lang::loader::{LoadResult, RulesFile, load};
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    files: Vec<FileSpec>,
    ok: Option<bool>,
    #[serde(default)]
    expect: Vec<Expect>,
    #[serde(default)]
    exhaustive: bool,
    #[serde(default)]
    conditions: std::collections::BTreeMap<String, String>,
    rules: Option<Vec<String>>,
    #[serde(default)]
    enabled: std::collections::BTreeMap<String, bool>,
}

#[derive(Debug, Deserialize)]
struct FileSpec {
    name: Option<String>,
    rules: Option<String>,
    corpus: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Expect {
    code: String,
    item: Option<String>,
    message: Option<String>,
    at: Option<String>,
    file: Option<u32>,
    help: Option<String>,
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("FRULE_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    )
}

fn item_of(d: &Diagnostic) -> String {
    d.context
        .iter()
        .rev()
        .find(|c| {
            !c.item_name.is_empty() && c.item_type != "value for" && c.item_type != "overrides"
        })
        .map_or_else(String::new, |c| {
            format!("{} '{}'", c.item_type, c.item_name)
        })
}

fn describe(r: &LoadResult, d: &Diagnostic) -> String {
    let at = d.primary.map_or_else(String::new, |p| {
        let lc = r.source_map.line_col(p.file, p.start);
        format!("{}:{}", lc.line, lc.col)
    });
    format!("{} [{}] at {at}: {}", d.code, item_of(d), d.message)
}

fn matches(r: &LoadResult, d: &Diagnostic, e: &Expect) -> bool {
    if d.code.as_str() != e.code {
        return false;
    }
    if let Some(i) = &e.item
        && &item_of(d) != i
    {
        return false;
    }
    if let Some(m) = &e.message
        && !d.message.contains(m.as_str())
    {
        return false;
    }
    if let Some(f) = e.file
        && d.file.map(|x| x.0) != Some(f)
    {
        return false;
    }
    if let Some(h) = &e.help
        && !d.help.as_deref().is_some_and(|x| x.contains(h.as_str()))
    {
        return false;
    }
    if let Some(at) = &e.at {
        let Some(p) = d.primary else { return false };
        let lc = r.source_map.line_col(p.file, p.start);
        if &format!("{}:{}", lc.line, lc.col) != at {
            return false;
        }
    }
    true
}

fn run_case(case: &Case) -> Result<(), Failed> {
    let mut files = Vec::new();
    for (i, f) in case.files.iter().enumerate() {
        let name = f.name.clone().unwrap_or_else(|| format!("rules{i}.yaml"));
        if let Some(text) = &f.rules {
            files.push(RulesFile::new(name, text.as_bytes()));
        } else if let Some(p) = &f.corpus {
            let path = corpus_dir().join(p);
            let Ok(content) = std::fs::read(&path) else {
                println!(
                    "skipping {}: corpus file {} not found",
                    case.name,
                    path.display()
                );
                return Ok(());
            };
            let name = f
                .name
                .clone()
                .unwrap_or_else(|| p.rsplit('/').next().unwrap_or(p).to_string());
            files.push(RulesFile::new(name, content));
        }
    }
    let r = load(&files);
    let all: Vec<String> = r.diagnostics.iter().map(|d| describe(&r, d)).collect();
    let mut problems = Vec::new();
    if let Some(ok) = case.ok
        && ok != r.is_ok()
    {
        problems.push(format!("expected ok={ok}, got ok={}", r.is_ok()));
    }
    for e in &case.expect {
        if !r.diagnostics.iter().any(|d| matches(&r, d, e)) {
            problems.push(format!("missing diagnostic {e:?}"));
        }
    }
    if case.exhaustive {
        for d in &r.diagnostics {
            if !case.expect.iter().any(|e| matches(&r, d, e)) {
                problems.push(format!("unexpected diagnostic {}", describe(&r, d)));
            }
        }
    }
    for (rule, want) in &case.conditions {
        match r.rules.iter().find(|x| &x.name == rule) {
            Some(x) => {
                let got = frule_lang::print::condition_to_string(&x.expr);
                if &got != want {
                    problems.push(format!(
                        "rule '{rule}': condition\n  want {want}\n  got  {got}"
                    ));
                }
            }
            None => problems.push(format!("rule '{rule}' was not compiled")),
        }
    }
    for (rule, want) in &case.enabled {
        match r.rules.iter().find(|x| &x.name == rule) {
            Some(x) if x.enabled != *want => {
                problems.push(format!(
                    "rule '{rule}': enabled is {}, want {want}",
                    x.enabled
                ));
            }
            Some(_) => {}
            None => problems.push(format!("rule '{rule}' was not compiled")),
        }
    }
    if let Some(names) = &case.rules {
        let got: Vec<&str> = r.rules.iter().map(|x| x.name.as_str()).collect();
        if got != names.iter().map(String::as_str).collect::<Vec<_>>() {
            problems.push(format!("rules: want {names:?}, got {got:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\nall diagnostics:\n  {}",
            problems.join("\n"),
            all.join("\n  ")
        )
        .into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/loader");
    let mut trials = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    for path in paths {
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let stem = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let cases: Vec<Case> = match serde_saphyr::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("{}: {e}", path.display());
                trials.push(Trial::test(format!("{stem}::<parse>"), move || {
                    Err(msg.into())
                }));
                continue;
            }
        };
        for case in cases {
            trials.push(Trial::test(format!("{stem}::{}", case.name), move || {
                run_case(&case)
            }));
        }
    }
    trials.extend(robustness_trials());
    libtest_mimic::run(&args, trials).exit();
}

/// Hostile inputs, generated: each must give one located `LOAD_ERR_YAML_PARSE` (never a panic, a hang or a
/// stack overflow).
fn robustness_trials() -> Vec<Trial> {
    fn case(
        name: &'static str,
        content: Vec<u8>,
        at: &'static str,
        message: &'static str,
    ) -> Trial {
        Trial::test(format!("robustness::{name}"), move || {
            let r = load(&[RulesFile::new("hostile.yaml", content)]);
            let errors: Vec<&Diagnostic> = r.diagnostics.iter().filter(|d| d.is_error()).collect();
            let [d] = errors.as_slice() else {
                return Err(format!("expected one error, got {}", errors.len()).into());
            };
            let got = describe(&r, d);
            if d.code.as_str() != "LOAD_ERR_YAML_PARSE"
                || !got.contains(at)
                || !d.message.contains(message)
            {
                return Err(format!("got {got}").into());
            }
            Ok(())
        })
    }
    let item = "- list: l\n  items: [a, b, c, d, e, f, g, h]\n";
    let huge = item.repeat(50 * 1024 * 1024 / item.len() + 1).into_bytes();
    let deep = format!(
        "- list: l\n  items: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    )
    .into_bytes();
    let mut bomb = String::from("- list: a\n  items: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("- list: a{i}\n  items: &a{i} [{refs}]\n"));
    }
    vec![
        case("file_over_50_mib", huge, "at 1:1", "exceeds the limit"),
        case("nesting_100000_deep", deep, "at 2:", "limit"),
        case("alias_bomb", bomb.into_bytes(), "at ", "budget"),
        case(
            "invalid_utf8",
            b"- list: a\n  items: [\xff\xfe]\n".to_vec(),
            "at 2:11",
            "invalid UTF-8",
        ),
        case(
            "nul_byte",
            b"- list: a\n  items: [a\x00b]\n".to_vec(),
            "at 2:12",
            "NUL byte",
        ),
    ]
}
