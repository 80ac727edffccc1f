//! End-to-end tests of `frulec validate`, `frulec parse` and `frulec fields`: the built binary, its output
//! and its exit codes (0 = ok, 1 = the input is invalid, 2 = usage or I/O error).

use std::path::PathBuf;
use std::process::{Command, Output};

fn frulec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_frulec"))
        .args(args)
        .output()
        .expect("the frulec binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("FRULE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")));
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

fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("frulec-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("temp file");
    path
}

#[test]
fn default_ruleset_validates_ok() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/frule_rules.yaml");
    let out = frulec(&["validate", path]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out).trim(), format!("{path}: Ok"));
}

#[test]
fn upstream_rules_validate_ok_together() {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("rules/falcosecurity-rules");
    let files: Vec<String> = [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ]
    .iter()
    .map(|f| dir.join(f).display().to_string())
    .collect();
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let out = frulec(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    for f in &files {
        assert!(
            stdout(&out).contains(&format!("{f}: Ok")),
            "{}",
            stdout(&out)
        );
    }
}

#[test]
fn invalid_condition_is_located_and_exits_1() {
    let path = temp_file(
        "bad_condition.yaml",
        "- rule: r\n  desc: d\n  condition: >\n    evt.type = open and\n    proc.nmae = cat\n  output: \"%proc.name\"\n  priority: WARNING\n",
    );
    let out = frulec(&["validate", path.to_str().expect("utf-8 path")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(": Invalid"), "{text}");
    assert!(text.contains("LOAD_ERR_COMPILE_CONDITION"), "{text}");
    // The misspelt field is on line 5, column 5 of the file, inside the folded block scalar.
    assert!(text.contains("bad_condition.yaml:5:5"), "{text}");
    assert!(
        text.contains("proc.name"),
        "a did-you-mean suggestion: {text}"
    );
}

#[test]
fn json_format_has_falco_load_results_shape() {
    let path = temp_file(
        "bad_priority.yaml",
        "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: WARNNG\n",
    );
    let out = frulec(&[
        "validate",
        "--format",
        "json",
        path.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let result = &doc["falco_load_results"][0];
    assert_eq!(result["successful"], serde_json::Value::Bool(false));
    assert_eq!(result["errors"][0]["code"], "LOAD_ERR_YAML_VALIDATE");
    assert_eq!(result["errors"][0]["message"], "Invalid priority");
}

#[test]
fn regression_macro_loop_is_invalid() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("falco-regression/rules/invalid_macro_loop.yaml");
    let out = frulec(&["validate", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("LOAD_ERR_VALIDATE"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn unreadable_file_exits_2_and_names_it() {
    let out = frulec(&["validate", "/nonexistent/rules.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/rules.yaml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_arguments_is_a_usage_error() {
    assert_eq!(frulec(&["validate"]).status.code(), Some(2));
    assert_eq!(frulec(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn parse_prints_the_canonical_form() {
    let out = frulec(&["parse", "evt.type=open and proc.name in (cat,vi)"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("(evt.type = open and proc.name in (cat, vi))"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn parse_error_is_located_and_exits_1() {
    let out = frulec(&["parse", "evt.type=open bar"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("unexpected token after 'open', expecting 'or', 'and'"),
        "{err}"
    );
    assert!(err.contains('^'), "a caret under the position: {err}");
}

#[test]
fn fields_json_lists_the_schema() {
    let out = frulec(&["fields", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let fields = doc.as_array().expect("an array of fields");
    let proc_name = fields
        .iter()
        .find(|f| f["name"] == "proc.name")
        .expect("proc.name is listed");
    assert_eq!(proc_name["type"], "CHARBUF");
    assert!(fields.len() > 200, "{} fields", fields.len());
}
