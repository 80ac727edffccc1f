//! `frulec compile`: stages, formats and exit codes, run on the built binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn frulec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_frulec"))
        .arg("compile")
        .args(args)
        .output()
        .expect("frulec runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A rules file written to the test's temp dir.
fn rules_file(name: &str, yaml: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("frulec-compile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, yaml).expect("write rules file");
    path
}

const RULES: &str = r#"
- macro: spawned_process
  condition: (evt.type in (execve, execveat) and evt.dir = <)
- list: shells
  items: [bash, sh]
- rule: shell spawned
  desc: d
  condition: spawned_process and proc.name in (shells)
  output: o
  priority: WARNING
- rule: open etc
  desc: d
  condition: evt.type in (open, openat) and (fd.name startswith /etc/ or fd.name startswith /usr/)
  output: o
  priority: WARNING
"#;

#[test]
fn evttypes_json_per_rule() {
    let f = rules_file("evttypes.yaml", RULES);
    let o = frulec(&[
        "-r",
        f.to_str().unwrap_or_default(),
        "--emit",
        "evttypes",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(
        lines,
        vec![
            serde_json::json!({"rule": "shell spawned", "all": false, "evttypes": ["execve", "execveat"]}),
            serde_json::json!({"rule": "open etc", "all": false, "evttypes": ["open", "openat"]}),
        ]
    );
}

#[test]
fn evttypes_of_condition_uses_files_macros() {
    let f = rules_file("macros.yaml", RULES);
    let o = frulec(&[
        "-r",
        f.to_str().unwrap_or_default(),
        "--condition",
        "spawned_process or evt.type = connect",
        "--emit",
        "evttypes",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"rule": null, "all": false, "evttypes": ["connect", "execve", "execveat"]})
    );
    // without files, a condition that does not restrict the type is `all`
    let o = frulec(&[
        "--condition",
        "proc.name = bash",
        "--emit",
        "evttypes",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("json");
    assert_eq!(v.get("all"), Some(&serde_json::Value::Bool(true)));
    assert_eq!(v.get("rule"), Some(&serde_json::Value::Null));
}

#[test]
fn ir_and_opt_stages() {
    let f = rules_file("stages.yaml", RULES);
    let path = f.to_str().unwrap_or_default();
    let o = frulec(&["-r", path, "--rule", "open etc", "--emit", "ir"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ir = stdout(&o);
    assert!(ir.contains("cmp.startswith"), "{ir}");
    assert!(ir.contains("rule \"open etc\""), "{ir}");
    assert!(!ir.contains("shell spawned"), "{ir}");

    let o = frulec(&["-r", path, "--rule", "open etc", "--emit", "opt"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let opt = stdout(&o);
    for pass in [
        "inline",
        "const_fold",
        "simplify",
        "list_hash",
        "reorder_by_cost",
    ] {
        assert!(
            opt.contains(&format!("; pass {pass}:")),
            "{pass} missing in\n{opt}"
        );
    }
    assert!(
        opt.contains("anyof.startswith"),
        "list_hash merged the chain:\n{opt}"
    );

    let o = frulec(&["-r", path, "--emit", "opt", "-O", "1", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("json");
    let passes = v
        .get("passes")
        .and_then(|p| p.as_array())
        .cloned()
        .unwrap_or_default();
    assert_eq!(passes.len(), 3, "{v}");

    let o = frulec(&["-r", path, "--emit", "ast"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("shell spawned: "), "{}", stdout(&o));
}

#[test]
fn summary_compiles_with_both_backends() {
    let f = rules_file("summary.yaml", RULES);
    for backend in ["vm", "jit"] {
        let o = frulec(&[
            "-r",
            f.to_str().unwrap_or_default(),
            "--backend",
            backend,
            "--format",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{backend}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("json");
        assert_eq!(v.get("rules"), Some(&serde_json::json!(2)), "{v}");
        assert!(
            v.get("evttype_programs")
                .and_then(|g| g.as_u64())
                .unwrap_or(0)
                >= 2,
            "{v}"
        );
    }
}

#[test]
fn exit_codes() {
    // invalid rules file: diagnostics as `frulec validate` prints them, exit 1
    let bad = rules_file(
        "bad.yaml",
        "- rule: r\n  desc: d\n  condition: proc.nme = x\n  output: o\n  priority: INFO\n",
    );
    let o = frulec(&["-r", bad.to_str().unwrap_or_default(), "--emit", "ir"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("proc.nme"), "{}", stderr(&o));
    // invalid condition
    let o = frulec(&["--condition", "proc.name = ", "--emit", "ir"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // unknown rule
    let f = rules_file("codes.yaml", RULES);
    let o = frulec(&[
        "-r",
        f.to_str().unwrap_or_default(),
        "--rule",
        "nope",
        "--emit",
        "ir",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // unreadable file, nothing to compile, bad emit: exit 2
    let o = frulec(&["-r", "/nonexistent/rules.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
    let o = frulec(&[]);
    assert_eq!(o.status.code(), Some(2));
    let o = frulec(&["--condition", "proc.name = x", "--emit", "bogus"]);
    assert_eq!(o.status.code(), Some(2));
}

/// The upstream files compile end to end (skipped without the corpus).
#[test]
fn upstream_rules_compile() {
    let dir = std::env::var_os("FRULE_CORPUS").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")),
        PathBuf::from,
    );
    let dir = dir.join("rules/falcosecurity-rules");
    if !dir.is_dir() {
        println!("skipping: corpus not found at {}", dir.display());
        return;
    }
    let mut args: Vec<String> = Vec::new();
    for f in [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ] {
        args.push("-r".into());
        args.push(dir.join(f).display().to_string());
    }
    args.extend(["--emit", "evttypes", "--format", "json"].map(String::from));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = frulec(&refs);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let n = stdout(&o).lines().count();
    assert!(n > 50, "one line per enabled rule, got {n}");
}

#[test]
fn clif_and_asm_show_the_native_code() {
    for (emit, needle) in [("clif", "function"), ("asm", "")] {
        let o = frulec(&[
            "--condition",
            "proc.name = bash and evt.num > 3",
            "--emit",
            emit,
        ]);
        assert_eq!(o.status.code(), Some(0), "{emit}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            !out.trim().is_empty() && out.contains(needle),
            "{emit}:\n{out}"
        );
    }
}
