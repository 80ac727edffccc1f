//! End-to-end tests of `frulec test`, driven by data files:
//!
//! - `tests/data/frulec_test/pass/*.yaml`: suites that must pass (exit 0);
//! - `tests/data/frulec_test/fail/*.yaml`: suites with failing cases (exit 1); the report on stdout must equal
//!   the snapshot `*.stdout` beside each file;
//! - `tests/data/frulec_test/malformed/*.yaml`: invalid test files (exit 2); the located diagnostics on stderr
//!   must equal the snapshot `*.stderr` beside each file;
//! - `tests/rules/*.yaml`: the conformance tests of the embedded default ruleset, in the same format (files
//!   whose name contains `captures` replay corpus captures and are skipped without the corpus).
//!
//! Snapshots are re-blessed with `FRULE_BLESS=1 cargo test --test frulec_test`.
//! The binary runs with the data directory as working directory, so the paths in the report are stable.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn data_dir() -> PathBuf {
    Path::new(ROOT).join("tests/data/frulec_test")
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("FRULE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipping: corpus not found at {} (set FRULE_CORPUS)",
            dir.display()
        );
        None
    }
}

/// Runs `frulec test` in `cwd` on `files`; `FRULE_CORPUS` is set when the corpus exists.
fn frulec_test(cwd: &Path, files: &[String]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_frulec"));
    cmd.current_dir(cwd).arg("test").args(files);
    if let Some(c) = corpus() {
        cmd.env("FRULE_CORPUS", c);
    }
    cmd.output().expect("the frulec binary runs")
}

/// The `*.yaml` files of a directory, sorted, as names relative to `base`.
fn yaml_files(dir: &Path, base: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.strip_prefix(base).unwrap_or(&p).display().to_string())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no test files in {}", dir.display());
    files
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compares `actual` with the snapshot file, or rewrites it under `FRULE_BLESS=1`.
fn check_snapshot(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("FRULE_BLESS").is_some() {
        std::fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e} (bless with FRULE_BLESS=1)", path.display()))?;
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "{} differs (bless with FRULE_BLESS=1)\n--- expected\n{expected}--- actual\n{actual}",
            path.display()
        ))
    }
}

/// The report without the summary's list of backends, which depends on the build (the JIT is a feature).
fn without_backends(report: &str) -> String {
    report
        .lines()
        .map(|l| match l.find(" (backends: ") {
            Some(i) if l.starts_with("test result: ") => &l[..i],
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn passing_suites_pass() {
    let dir = data_dir();
    for f in yaml_files(&dir.join("pass"), &dir) {
        let out = frulec_test(&dir, std::slice::from_ref(&f));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{f}:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("test result: ok."), "{f}");
    }
}

#[test]
fn failing_suites_report_the_diff() {
    let dir = data_dir();
    let mut errors = Vec::new();
    for f in yaml_files(&dir.join("fail"), &dir) {
        let out = frulec_test(&dir, std::slice::from_ref(&f));
        assert_eq!(out.status.code(), Some(1), "{f}: {}", text(&out.stderr));
        let snap = dir.join(f.replace(".yaml", ".stdout"));
        if let Err(e) = check_snapshot(&snap, &without_backends(&text(&out.stdout))) {
            errors.push(e);
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn malformed_files_are_located_errors() {
    let dir = data_dir();
    let mut errors = Vec::new();
    for f in yaml_files(&dir.join("malformed"), &dir) {
        let out = frulec_test(&dir, std::slice::from_ref(&f));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{f}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{f}: {stderr}");
        for line in stderr.lines() {
            assert!(
                line.starts_with(&format!("{f}:")) && line.contains(": error: "),
                "{f}: not a located diagnostic: {line}"
            );
        }
        let snap = dir.join(f.replace(".yaml", ".stderr"));
        if let Err(e) = check_snapshot(&snap, &stderr) {
            errors.push(e);
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn an_invalid_file_does_not_stop_the_others() {
    let dir = data_dir();
    let out = frulec_test(
        &dir,
        &[
            "malformed/unknown_keys.yaml".into(),
            "pass/basics.yaml".into(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ok      two shells and a cat"), "{stdout}");
    assert!(stdout.contains("1 invalid test file"), "{stdout}");
}

#[test]
fn unreadable_test_file_exits_2() {
    let out = frulec_test(&data_dir(), &["does-not-exist.yaml".into()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("does-not-exist.yaml:0:0: error: cannot read the test file"),
        "{}",
        text(&out.stderr)
    );
}

/// The rule names of a rules file (`- rule: NAME` items that define a rule).
fn rule_names(rules: &str) -> BTreeSet<String> {
    rules
        .lines()
        .filter_map(|l| l.strip_prefix("- rule: "))
        .map(|n| n.trim().to_string())
        .collect()
}

#[test]
fn default_ruleset_conformance() {
    let root = Path::new(ROOT);
    let mut files = yaml_files(&root.join("tests/rules"), root);
    if corpus().is_none() {
        files.retain(|f| !f.contains("captures"));
    }
    let out = frulec_test(root, &files);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // Every rule of the default ruleset has a case where it fires and one where it does not: an expectation
    // naming it (fires) and, by `rule_matching: all` in a near-miss case with `expect: []`, silence.
    let rules =
        std::fs::read_to_string(root.join("rules/frule_rules.yaml")).expect("default ruleset");
    let tests = std::fs::read_to_string(root.join("tests/rules/frule_rules.yaml"))
        .expect("conformance tests");
    let names = rule_names(&rules);
    assert!(names.len() >= 15, "{names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| {
            !tests.contains(&format!("rule: {n}\n")) && !tests.contains(&format!("- {n}\n"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a firing case: {missing:?}"
    );
    let near_misses = tests.matches("(near miss)").count();
    assert!(
        near_misses >= names.len(),
        "{near_misses} near misses for {} rules",
        names.len()
    );
}
