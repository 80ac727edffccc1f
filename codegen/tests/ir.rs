//! IR file tests: `tests/data/ir/*.frir`, Cranelift filetest style.
//!
//! A file starts with a directive comment saying what to check, followed by expectations as comments;
//! the rest is IR text (comments are ignored by the IR parser):
//!
//! - `; test roundtrip` — the file is in canonical printed form: parsing it and printing it again gives
//!   the file's text back (minus the directive lines), the program verifies, and print → parse → print
//!   is stable. Rewrite the body with `FRULE_BLESS=1` after an intended printer change.
//! - `; test verify` — the program parses but the verifier rejects it; each `; error: LOCATION: MESSAGE`
//!   line must be one of the reported errors, and every reported error must be expected.
//! - `; test parse-error` — parsing fails with `; error: LINE:COL: MESSAGE`.
//! - `; test run` — the program verifies and is evaluated on events written as
//!   `; event: <field id>=<value>, ... => <matching rule indices>` (values: `"string"`, `u:<n>`,
//!   `i:<n>`, `ip:<addr>`, `true`/`false`; fields not listed are missing).

use std::path::{Path, PathBuf};

use frule_codegen::abi::{FieldId, MapEvent, OwnedValue};
use frule_codegen::{ir, verify, vm};

const DIRECTIVE: &str = "; test ";
const ERROR: &str = "; error: ";
const EVENT: &str = "; event: ";

fn body_of(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with(DIRECTIVE) && !l.starts_with(ERROR) && !l.starts_with(EVENT))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn parse_value(s: &str) -> Result<OwnedValue, String> {
    let s = s.trim();
    if let Some(q) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Ok(OwnedValue::Bytes(q.as_bytes().to_vec()));
    }
    if let Some(n) = s.strip_prefix("u:") {
        return n.parse().map(OwnedValue::U64).map_err(|e| e.to_string());
    }
    if let Some(n) = s.strip_prefix("i:") {
        return n.parse().map(OwnedValue::I64).map_err(|e| e.to_string());
    }
    if let Some(a) = s.strip_prefix("ip:") {
        return a.parse().map(OwnedValue::Ip).map_err(|e| e.to_string());
    }
    match s {
        "true" => Ok(OwnedValue::Bool(true)),
        "false" => Ok(OwnedValue::Bool(false)),
        _ => Err(format!("bad event value {s:?}")),
    }
}

fn parse_event(spec: &str) -> Result<(MapEvent, Vec<usize>), String> {
    let (fields, expect) = spec.split_once("=>").ok_or("event needs '=> indices'")?;
    let mut ev = MapEvent::new();
    for f in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (id, v) = f
            .split_once('=')
            .ok_or_else(|| format!("bad field {f:?}"))?;
        let id: u32 = id
            .trim()
            .parse()
            .map_err(|_| format!("bad field id {id:?}"))?;
        ev.set(FieldId(id), None, parse_value(v)?);
    }
    let expect = expect
        .split_whitespace()
        .map(|n| n.parse::<usize>().map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    Ok((ev, expect))
}

fn run_file(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let directive = text
        .lines()
        .find_map(|l| l.strip_prefix(DIRECTIVE))
        .ok_or("missing '; test' directive")?
        .trim()
        .to_owned();
    let errors: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(ERROR))
        .map(str::trim)
        .collect();
    let body = body_of(&text);
    match directive.as_str() {
        "roundtrip" => {
            let p = ir::parse(&body).map_err(|e| format!("parse: {e}"))?;
            verify::verify(&p).map_err(|e| format!("verify: {e}"))?;
            let printed = p.to_text();
            let again = ir::parse(&printed).map_err(|e| format!("reparse: {e}"))?;
            if again != p || again.to_text() != printed {
                return Err(format!("print -> parse -> print is not stable:\n{printed}"));
            }
            if printed != body {
                if std::env::var_os("FRULE_BLESS").is_some() {
                    let header: String = text
                        .lines()
                        .filter(|l| {
                            l.starts_with(DIRECTIVE) || l.starts_with(ERROR) || l.starts_with(EVENT)
                        })
                        .map(|l| format!("{l}\n"))
                        .collect();
                    std::fs::write(path, header + &printed).map_err(|e| e.to_string())?;
                } else {
                    return Err(format!(
                        "the file is not in printed form (FRULE_BLESS=1 rewrites it); printed:\n{printed}"
                    ));
                }
            }
            Ok(())
        }
        "verify" => {
            let p = ir::parse(&body).map_err(|e| format!("parse: {e}"))?;
            let got: Vec<String> = match verify::verify(&p) {
                Ok(()) => vec![],
                Err(e) => {
                    e.0.iter()
                        .map(|e| format!("{}: {}", e.location, e.message))
                        .collect()
                }
            };
            if errors.is_empty() {
                return Err("a verify test needs '; error:' lines".into());
            }
            let missing: Vec<&&str> = errors
                .iter()
                .filter(|e| !got.iter().any(|g| g == *e))
                .collect();
            let unexpected: Vec<&String> = got
                .iter()
                .filter(|g| !errors.contains(&g.as_str()))
                .collect();
            if !missing.is_empty() || !unexpected.is_empty() {
                return Err(format!(
                    "missing errors: {missing:?}\nunexpected errors: {unexpected:?}"
                ));
            }
            Ok(())
        }
        "parse-error" => match ir::parse(&body) {
            Ok(_) => Err("expected a parse error".into()),
            Err(e) => {
                let got = e.to_string();
                if errors.len() == 1 && errors.first() == Some(&got.as_str()) {
                    Ok(())
                } else {
                    Err(format!("expected {errors:?}, got {got:?}"))
                }
            }
        },
        "run" => {
            let p = ir::parse(&body).map_err(|e| format!("parse: {e}"))?;
            verify::verify(&p).map_err(|e| format!("verify: {e}"))?;
            let prog = vm::Program::compile(&p).map_err(|e| e.to_string())?;
            let mut machine = prog.machine();
            let events: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix(EVENT)).collect();
            if events.is_empty() {
                return Err("a run test needs '; event:' lines".into());
            }
            for spec in events {
                let (mut ev, expect) = parse_event(spec)?;
                let mut got = Vec::new();
                prog.matches(&mut machine, &mut ev, &mut got);
                if got != expect {
                    return Err(format!("event {spec:?}: expected {expect:?}, got {got:?}"));
                }
            }
            Ok(())
        }
        other => Err(format!("unknown directive {other:?}")),
    }
}

fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ir");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/ir exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "frir"))
        .collect();
    files.sort();
    files
}

#[test]
fn ir_files() {
    let files = files();
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = run_file(f) {
            failures.push(format!(
                "{}: {e}",
                f.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    println!("{} IR files", files.len());
    assert!(!files.is_empty(), "no IR files found");
    assert!(
        failures.is_empty(),
        "{} of {} files failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
