//! Lowering from conditions: `tests/data/lower/*.yaml`, and a sweep over the corpus rules files.
//!
//! A case gives a condition in the Falco language and events as maps from field name (with `[arg]` if
//! any) to value — a YAML sequence for list fields; fields not listed are missing — each with the
//! expected answer; or `error:` with a substring of the expected lowering error. The harness parses and
//! checks the condition with frule-lang, lowers it, verifies the IR, round-trips it through the textual
//! form, compiles it to bytecode and evaluates each event.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use frule_codegen::abi::{FieldArg, MapEvent, OwnedValue, ScalarKind};
use frule_codegen::lower::{Lowerer, scalar_kind};
use frule_codegen::{ir, verify, vm};
use frule_lang::check::{Severity, check_condition};
use frule_lang::fields;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Uint(u64),
    Bool(bool),
    Text(String),
    List(Vec<Scalar>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Event {
    #[serde(default)]
    fields: BTreeMap<String, Scalar>,
    expect: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    condition: String,
    #[serde(default)]
    events: Vec<Event>,
    #[serde(default)]
    error: Option<String>,
}

fn text_of(s: &Scalar) -> String {
    match s {
        Scalar::Int(i) => i.to_string(),
        Scalar::Uint(u) => u.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Text(t) => t.clone(),
        Scalar::List(_) => String::new(),
    }
}

fn owned(kind: ScalarKind, s: &Scalar) -> Result<OwnedValue, String> {
    let t = text_of(s);
    let bad = |e: &dyn std::fmt::Display| format!("bad {kind} value {t:?}: {e}");
    Ok(match kind {
        ScalarKind::Int => OwnedValue::I64(t.parse().map_err(|e| bad(&e))?),
        ScalarKind::Uint => OwnedValue::U64(t.parse().map_err(|e| bad(&e))?),
        ScalarKind::Double => OwnedValue::F64(t.parse().map_err(|e| bad(&e))?),
        ScalarKind::Bool => OwnedValue::Bool(t.parse().map_err(|e| bad(&e))?),
        ScalarKind::Str | ScalarKind::Bytes => OwnedValue::Bytes(t.into_bytes()),
        ScalarKind::Ip | ScalarKind::Net => OwnedValue::Ip(t.parse().map_err(|e| bad(&e))?),
    })
}

fn event(fields_: &BTreeMap<String, Scalar>) -> Result<MapEvent, String> {
    let mut ev = MapEvent::new();
    for (key, v) in fields_ {
        let (name, arg) = match key.split_once('[') {
            Some((n, rest)) => (n, Some(rest.trim_end_matches(']'))),
            None => (key.as_str(), None),
        };
        let r = fields::resolve(name, arg).map_err(|e| format!("{key}: {e}"))?;
        let kind = scalar_kind(r.info().ty);
        let arg = match r.arg {
            fields::FieldArg::None => None,
            fields::FieldArg::Index(i) => Some(FieldArg::Index(i)),
            fields::FieldArg::Key(k) => Some(FieldArg::Key(k)),
        };
        match v {
            Scalar::List(items) => {
                let vs = items
                    .iter()
                    .map(|i| owned(kind, i))
                    .collect::<Result<_, _>>()?;
                ev.set_list(r.id, arg, vs);
            }
            s => {
                ev.set(r.id, arg, owned(kind, s)?);
            }
        }
    }
    Ok(ev)
}

/// Lowers a condition into a verified one-rule program.
fn lower(condition: &str) -> Result<ir::Program, String> {
    let expr =
        frule_lang::parser::parse_condition(condition).map_err(|e| format!("parse: {e:?}"))?;
    let errors: Vec<String> = check_condition(&expr)
        .into_iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| i.message)
        .collect();
    if !errors.is_empty() {
        return Err(format!("check: {errors:?}"));
    }
    let mut l = Lowerer::new();
    l.add_rule("case", &expr).map_err(|es| {
        es.into_iter()
            .map(|e| e.message)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let p = l.finish();
    verify::verify(&p).map_err(|e| format!("verify: {e}\n{p}"))?;
    Ok(p)
}

fn run_case(case: &Case) -> Result<(), String> {
    let p = match (lower(&case.condition), &case.error) {
        (Err(e), Some(want)) if e.contains(want.as_str()) => return Ok(()),
        (Err(e), _) => return Err(e),
        (Ok(p), Some(want)) => return Err(format!("expected an error containing {want:?}\n{p}")),
        (Ok(p), None) => p,
    };
    let text = p.to_text();
    let again = ir::parse(&text).map_err(|e| format!("reparse: {e}\n{text}"))?;
    if again.to_text() != text {
        return Err(format!("round trip changed the text:\n{text}"));
    }
    let prog = vm::Program::compile(&p).map_err(|e| e.to_string())?;
    if case.events.is_empty() {
        return Err("a case needs events or an error".into());
    }
    for (i, e) in case.events.iter().enumerate() {
        let mut ev = event(&e.fields)?;
        let got = prog.eval(&mut ev);
        if got != e.expect {
            return Err(format!(
                "event {i}: expected {}, got {got}\n{text}",
                e.expect
            ));
        }
    }
    Ok(())
}

#[test]
fn lowering_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lower");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data/lower exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let (mut total, mut failures) = (0, Vec::new());
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable case file");
        let cases: Vec<Case> = match serde_saphyr::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: {e}", f.display()));
                continue;
            }
        };
        for c in &cases {
            total += 1;
            if let Err(e) = run_case(c) {
                failures.push(format!("{}: {}: {e}", f.display(), c.condition));
            }
        }
    }
    println!("{total} lowering cases");
    assert!(total > 0);
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn corpus() -> PathBuf {
    std::env::var_os("FRULE_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    )
}

/// Every rule of the upstream rules files lowers, verifies, round-trips, compiles, and evaluates on an
/// empty event without panicking; all of them share one program (hash-consed).
#[test]
fn corpus_rules_lower() {
    let dir = corpus().join("rules/falcosecurity-rules");
    if !dir.is_dir() {
        println!(
            "skipping: corpus not found at {} (set FRULE_CORPUS)",
            dir.display()
        );
        return;
    }
    let names = [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ];
    let files: Vec<frule_lang::loader::RulesFile> = names
        .iter()
        .map(|n| {
            let p = dir.join(n);
            frule_lang::loader::RulesFile {
                name: p.display().to_string(),
                content: std::fs::read(&p).expect("readable rules file"),
            }
        })
        .collect();
    let loaded = frule_lang::loader::load(&files);
    let mut l = Lowerer::new();
    let mut failures = Vec::new();
    for r in &loaded.rules {
        if let Err(es) = l.add_rule(&r.name, &r.expr) {
            failures.push(format!(
                "{}: {}",
                r.name,
                es.into_iter()
                    .map(|e| e.message)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    let p = l.finish();
    let lowered = p.rules.len();
    println!(
        "{} rules loaded, {lowered} lowered into {} values, {} field slots, {} sets, {} regexes",
        loaded.rules.len(),
        p.values.len(),
        p.fields.len(),
        p.sets.len(),
        p.regexes.len()
    );
    assert!(
        failures.is_empty(),
        "{} rules failed to lower:\n{}",
        failures.len(),
        failures.join("\n")
    );
    verify::verify(&p).expect("the corpus program verifies");
    let text = p.to_text();
    let again = ir::parse(&text).expect("the corpus program reparses");
    assert_eq!(again.to_text(), text);
    let prog = vm::Program::compile(&p).expect("the corpus program compiles");
    let mut m = prog.machine();
    let mut out = Vec::new();
    prog.matches(&mut m, &mut MapEvent::new(), &mut out);
    println!("{} rules match an event without fields", out.len());
    assert!(
        lowered > 50,
        "expected the upstream rulesets, lowered {lowered}"
    );

    // Differential: memoized and plain evaluation agree on generated events whose values are drawn
    // from the program's own constants (so that predicates hit), with fields missing at random.
    let plain = vm::Program::compile_with(&p, vm::CompileOptions { memoize: false })
        .expect("the corpus program compiles without memos");
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut pool: Vec<&ir::Constant> = p.sets.iter().flat_map(|(_, s)| s.items.iter()).collect();
    pool.extend(p.values.iter().filter_map(|(_, i)| match i {
        ir::Inst::Const(c) => Some(c),
        _ => None,
    }));
    let pool: Vec<Vec<&ir::Constant>> = p
        .fields
        .iter()
        .map(|(_, d)| {
            pool.iter()
                .copied()
                .filter(|c| {
                    c.kind() == d.ty.kind
                        || (d.ty.kind == ScalarKind::Net && c.kind() == ScalarKind::Ip)
                })
                .collect()
        })
        .collect();
    let mut pm = plain.machine();
    let (mut matched, mut plain_out) = (0usize, Vec::new());
    for _ in 0..2000 {
        let mut ev = generated_event(&p, &pool, &mut rng);
        let mut ev2 = ev.clone();
        out.clear();
        plain_out.clear();
        prog.matches(&mut m, &mut ev, &mut out);
        plain.matches(&mut pm, &mut ev2, &mut plain_out);
        assert_eq!(out, plain_out, "memoized and plain evaluation disagree");
        matched += out.len();
    }
    println!("{matched} rule matches over 2000 generated events");
    assert!(matched > 0, "generated events should match some rules");

    // Sharing: every rule lowered into a program of its own answers like the shared program.
    let singles: Vec<vm::Program> = loaded
        .rules
        .iter()
        .map(|r| {
            let mut l = Lowerer::new();
            l.add_rule(&r.name, &r.expr).expect("lowered above");
            vm::Program::compile(&l.finish()).expect("compiles")
        })
        .collect();
    let mut sm: Vec<vm::Machine> = singles.iter().map(vm::Program::machine).collect();
    for _ in 0..300 {
        let ev = generated_event(&p, &pool, &mut rng);
        out.clear();
        prog.matches(&mut m, &mut ev.clone(), &mut out);
        let mut alone = Vec::new();
        for (i, (s, sm)) in singles.iter().zip(sm.iter_mut()).enumerate() {
            if s.eval_rule(sm, &mut ev.clone(), 0) {
                alone.push(i);
            }
        }
        assert_eq!(out, alone, "rules lowered alone and together disagree");
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// An event for the fields of `p`: each present with probability 15/16, its value drawn from `pool` (the
/// program's constants of each field's kind) or a filler.
fn generated_event(p: &ir::Program, pool: &[Vec<&ir::Constant>], rng: &mut XorShift) -> MapEvent {
    let mut ev = MapEvent::new();
    for ((_, d), candidates) in p.fields.iter().zip(pool) {
        if rng.below(16) == 0 {
            continue;
        }
        let pick = |rng: &mut XorShift| -> OwnedValue {
            match candidates.get(rng.below(candidates.len() + 1)) {
                Some(ir::Constant::Int(x)) => OwnedValue::I64(*x),
                Some(ir::Constant::Uint(x)) => OwnedValue::U64(*x),
                Some(ir::Constant::Double(x)) => OwnedValue::F64(*x),
                Some(ir::Constant::Bool(x)) => OwnedValue::Bool(*x),
                Some(ir::Constant::Str(x) | ir::Constant::Bytes(x)) => OwnedValue::Bytes(x.clone()),
                Some(ir::Constant::Ip(x)) => OwnedValue::Ip(*x),
                Some(ir::Constant::Net(n)) => OwnedValue::Ip(n.addr),
                None => match d.ty.kind {
                    ScalarKind::Int => OwnedValue::I64(-1),
                    ScalarKind::Uint => OwnedValue::U64(0),
                    ScalarKind::Double => OwnedValue::F64(0.0),
                    ScalarKind::Bool => OwnedValue::Bool(true),
                    ScalarKind::Str | ScalarKind::Bytes => OwnedValue::Bytes(b"/tmp/x".to_vec()),
                    ScalarKind::Ip | ScalarKind::Net => OwnedValue::Ip([10, 0, 0, 1].into()),
                },
            }
        };
        if d.ty.list {
            let n = rng.below(3);
            let vs = (0..n).map(|_| pick(rng)).collect();
            ev.set_list(d.id, d.arg.clone(), vs);
        } else {
            let v = pick(rng);
            ev.set(d.id, d.arg.clone(), v);
        }
    }
    ev
}
