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
//! - `; test lower` — the `; condition: …` lines (Falco conditions) are lowered as rules `r0`, `r1`, …
//!   into one program, which must verify and print as the file body (`FRULE_BLESS=1` rewrites it).
//! - `; test run` — the program verifies and is evaluated on events written as
//!   `; event: <field id>=<value>, ... => <matching rule indices>` (values: `"string"`, `u:<n>`,
//!   `i:<n>`, `ip:<addr>`, `true`/`false`; fields not listed are missing; a field listed several times
//!   has several values, in order — a list, or a multi-valued field).

use std::path::Path;

use frule_codegen::abi::{FieldId, MapEvent, OwnedValue};
use frule_codegen::{ir, verify, vm};

#[path = "support/frir.rs"]
mod frir;

const DIRECTIVE: &str = "; test ";
const ERROR: &str = "; error: ";
pub(crate) const EVENT: &str = "; event: ";
const CONDITION: &str = "; condition: ";

/// The leading block of `;` lines (directive, expectations, free comments) and the rest.
fn split_header(text: &str) -> (String, String) {
    let (mut header, mut body, mut in_header) = (String::new(), String::new(), true);
    for l in text.lines() {
        in_header &= l.starts_with(';');
        let out = if in_header { &mut header } else { &mut body };
        out.push_str(l);
        out.push('\n');
    }
    (header, body)
}

pub(crate) fn body_of(text: &str) -> String {
    split_header(text).1
}

/// Compares `printed` with the file body, or rewrites the body when `FRULE_BLESS` is set.
fn check_or_bless(path: &Path, text: &str, body: &str, printed: &str) -> Result<(), String> {
    if printed == body {
        return Ok(());
    }
    if std::env::var_os("FRULE_BLESS").is_some() {
        let (header, _) = split_header(text);
        return std::fs::write(path, header + printed).map_err(|e| e.to_string());
    }
    Err(format!(
        "the file body differs from the printed program (FRULE_BLESS=1 rewrites it); printed:\n{printed}"
    ))
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

pub(crate) fn parse_event(spec: &str) -> Result<(MapEvent, Vec<usize>), String> {
    let (fields, expect) = spec.split_once("=>").ok_or("event needs '=> indices'")?;
    let mut ev = MapEvent::new();
    // A field listed several times has several values (list and multi-valued fields), in order.
    let mut values: Vec<(u32, Vec<OwnedValue>)> = Vec::new();
    for f in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (id, v) = f
            .split_once('=')
            .ok_or_else(|| format!("bad field {f:?}"))?;
        let id: u32 = id
            .trim()
            .parse()
            .map_err(|_| format!("bad field id {id:?}"))?;
        let v = parse_value(v)?;
        match values.iter_mut().find(|(i, _)| *i == id) {
            Some((_, vs)) => vs.push(v),
            None => values.push((id, vec![v])),
        }
    }
    for (id, vs) in values {
        ev.set_list(FieldId(id), None, vs);
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
            check_or_bless(path, &text, &body, &printed)?;
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
            let events: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix(EVENT)).collect();
            if events.is_empty() {
                return Err("a run test needs '; event:' lines".into());
            }
            // Both with and without memo slots: the answers must not depend on them.
            for memoize in [true, false] {
                let prog = vm::Program::compile_with(&p, vm::CompileOptions { memoize })
                    .map_err(|e| e.to_string())?;
                let mut machine = prog.machine();
                for spec in &events {
                    let (mut ev, expect) = parse_event(spec)?;
                    let mut got = Vec::new();
                    prog.matches(&mut machine, &mut ev, &mut got);
                    if got != expect {
                        return Err(format!(
                            "event {spec:?} (memoize: {memoize}): expected {expect:?}, got {got:?}"
                        ));
                    }
                    // the first match, and each rule alone (no guard plan), agree
                    let first = prog.first_match(&mut machine, &mut ev);
                    if first != expect.first().copied() {
                        return Err(format!(
                            "event {spec:?} (memoize: {memoize}): first match {first:?}, expected {:?}",
                            expect.first()
                        ));
                    }
                    let alone: Vec<usize> = (0..prog.rule_count())
                        .filter(|&i| prog.eval_rule(&mut machine, &mut ev, i))
                        .collect();
                    if alone != expect {
                        return Err(format!(
                            "event {spec:?} (memoize: {memoize}): rule by rule {alone:?}, expected {expect:?}"
                        ));
                    }
                }
            }
            Ok(())
        }
        "lower" => {
            let mut l = frule_codegen::lower::Lowerer::new();
            let conditions: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix(CONDITION))
                .collect();
            if conditions.is_empty() {
                return Err("a lower test needs '; condition:' lines".into());
            }
            for (i, c) in conditions.iter().enumerate() {
                let expr =
                    frule_lang::parser::parse_condition(c).map_err(|e| format!("{c}: {e:?}"))?;
                l.add_rule(&format!("r{i}"), &expr)
                    .map_err(|e| format!("{c}: {e:?}"))?;
            }
            let p = l.finish();
            verify::verify(&p).map_err(|e| format!("verify: {e}"))?;
            check_or_bless(path, &text, &body, &p.to_text())
        }
        other => Err(format!("unknown directive {other:?}")),
    }
}

#[test]
fn ir_files() {
    frir::run_all("ir", "IR files", run_file);
}

/// Robustness: token-level mutations of the round-trip file (operands, ids, numbers and opcodes
/// replaced, rules dropped) never make the parser, the verifier, the compiler or the VM panic, and every
/// program the verifier accepts compiles.
#[test]
fn mutated_programs_never_panic() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ir/roundtrip_all_instructions.frir");
    let text = std::fs::read_to_string(path).expect("round-trip file");
    let lines: Vec<&str> = text.lines().collect();
    let words = [
        "v0", "v3", "v99", "$0", "$7", "%0", "%5", "^0", "^9", "cmp.lt", "in", "and", "not",
        "tolower", "len", "0", "-1",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    let (mut parsed, mut verified) = (0, 0);
    for _ in 0..3000 {
        let mut ls: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        for _ in 0..1 + next(2) {
            let i = next(ls.len());
            if ls[i].starts_with("rule") && next(4) == 0 {
                ls.remove(i);
                continue;
            }
            // Replace one token after the `=` (the defined id stays, so numbering stays dense).
            let mut toks: Vec<String> = ls[i].split(' ').map(str::to_owned).collect();
            if toks.len() < 3 {
                continue;
            }
            let j = 2 + next(toks.len() - 2);
            let w = words[next(words.len())];
            toks[j] = if toks[j].ends_with(',') {
                format!("{w},")
            } else {
                w.to_owned()
            };
            ls[i] = toks.join(" ");
        }
        let src = ls.join("\n");
        let Ok(p) = ir::parse(&src) else { continue };
        parsed += 1;
        if verify::verify(&p).is_err() {
            continue;
        }
        verified += 1;
        let prog = vm::Program::compile(&p)
            .unwrap_or_else(|e| panic!("verified program must compile: {e}\n{src}"));
        let mut m = prog.machine();
        let mut out = Vec::new();
        prog.matches(&mut m, &mut MapEvent::new(), &mut out);
        let mut ev = MapEvent::new();
        ev.set(FieldId(7), None, OwnedValue::Bytes(b"bash".to_vec()));
        prog.matches(&mut m, &mut ev, &mut out);
    }
    println!("{parsed} mutants parsed, {verified} verified");
    assert!(parsed > 0 && verified > 0);
}
