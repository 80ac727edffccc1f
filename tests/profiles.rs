//! The per-image profiles of `examples/profiles/`: every profile validates (alone and all together), and has a
//! `frulec test` file `examples/profiles/tests/<profile>.yaml` that replays the image's normal behaviour (no
//! alert) and deviations (alerts). `tests/captures.yaml` replays recorded container workloads with all
//! profiles loaded and is skipped without the corpus (`FRULE_CORPUS`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn profiles_dir() -> PathBuf {
    Path::new(ROOT).join("examples/profiles")
}

fn frulec(cwd: &Path, args: &[String]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_frulec"));
    cmd.current_dir(cwd).args(args);
    if let Some(c) = corpus() {
        cmd.env("FRULE_CORPUS", c);
    }
    cmd.output().expect("the frulec binary runs")
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("FRULE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("../shared/corpus"));
    dir.is_dir().then_some(dir)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The profile names (`nginx`, `allowed_images`, …), sorted.
fn profiles() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(profiles_dir())
        .expect("examples/profiles")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

#[test]
fn every_profile_validates_alone_and_together() {
    let names = profiles();
    assert!(names.len() >= 16, "{names:?}");
    let dir = profiles_dir();
    for n in &names {
        let out = frulec(&dir, &["validate".into(), format!("{n}.yaml")]);
        assert_eq!(out.status.code(), Some(0), "{n}: {}", text(&out.stdout));
        assert_eq!(text(&out.stdout).trim(), format!("{n}.yaml: Ok"), "{n}");
    }
    let mut args = vec!["validate".to_string()];
    args.extend(names.iter().map(|n| format!("{n}.yaml")));
    let out = frulec(&dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn every_profile_has_passing_tests_with_normal_behaviour_and_deviations() {
    let dir = profiles_dir().join("tests");
    let mut files = Vec::new();
    for n in profiles() {
        let file = format!("{n}.yaml");
        let content = std::fs::read_to_string(dir.join(&file))
            .unwrap_or_else(|e| panic!("profile {n} has no test file tests/{file}: {e}"));
        // normal behaviour without alert, and at least one deviation that raises one
        assert!(
            content.contains("expect: []"),
            "{file}: no case without alert"
        );
        assert!(
            content.contains("- {rule: ") || content.contains("- rule: "),
            "{file}: no deviation"
        );
        files.push(file);
    }
    if corpus().is_some() {
        files.push("captures.yaml".into());
    } else {
        println!("skipping tests/captures.yaml: corpus not found (set FRULE_CORPUS)");
    }
    let mut args = vec!["test".to_string(), "-q".to_string()];
    args.extend(files);
    let out = frulec(&dir, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}
