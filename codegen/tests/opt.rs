//! Optimizer file tests: `tests/data/opt/*.frir`, input → expected output IR.
//!
//! A file starts with `; test opt PASS...` (the passes to run, in order, or `-O1`/`-O2` for a level),
//! then optional `; event: …` lines (as in `tests/data/ir`: `<field id>=<value>, … => <rule indices>`),
//! then the input program, then a line `; expect:` followed by the expected printed output, every line
//! prefixed with `; ` (so the whole file still parses as the input). For every file:
//!
//! - input and output verify, and the output printed equals the expectation (`FRULE_BLESS=1` rewrites
//!   it after an intended change);
//! - the VM gives the `; event:` answers on both input and output;
//! - differential: input and output give the same answers on 500 generated events whose values come
//!   from the program's constants (fields missing at random).
//!
//! The corpus test optimizes the upstream rules files and compares the optimized and the plain
//! program, checks that the IR event-type partition equals the AST resolver rule by rule, and that
//! per-event-type dispatch answers like the whole program.

use std::path::{Path, PathBuf};

use frule_codegen::abi::{FieldId, MapEvent, OwnedValue, ScalarKind};
use frule_codegen::dispatch::Dispatch;
use frule_codegen::ir;
use frule_codegen::opt::{self, evttype_partition};
use frule_codegen::{verify, vm};

#[path = "support/frir.rs"]
mod frir;

const EXPECT: &str = "; expect:";

struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
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

fn matches(p: &vm::Program, ev: &MapEvent) -> Vec<usize> {
    let mut m = p.machine();
    let mut out = Vec::new();
    p.matches(&mut m, &mut ev.clone(), &mut out);
    out
}

/// Per field slot: the constants of the program that fit it (so that generated values hit).
fn pools(p: &ir::Program) -> Vec<Vec<ir::Constant>> {
    let mut all: Vec<&ir::Constant> = p.sets.iter().flat_map(|(_, s)| s.items.iter()).collect();
    all.extend(p.values.iter().filter_map(|(_, i)| match i {
        ir::Inst::Const(c) => Some(c),
        _ => None,
    }));
    p.fields
        .iter()
        .map(|(_, d)| {
            all.iter()
                .filter(|c| {
                    c.kind() == d.ty.kind
                        || (d.ty.kind == ScalarKind::Net && c.kind() == ScalarKind::Ip)
                })
                .map(|c| (*c).clone())
                .collect()
        })
        .collect()
}

fn owned(c: &ir::Constant) -> OwnedValue {
    match c {
        ir::Constant::Int(x) => OwnedValue::I64(*x),
        ir::Constant::Uint(x) => OwnedValue::U64(*x),
        ir::Constant::Double(x) => OwnedValue::F64(*x),
        ir::Constant::Bool(x) => OwnedValue::Bool(*x),
        ir::Constant::Str(x) | ir::Constant::Bytes(x) => OwnedValue::Bytes(x.clone()),
        ir::Constant::Ip(x) => OwnedValue::Ip(*x),
        ir::Constant::Net(n) => OwnedValue::Ip(n.addr),
    }
}

/// A random event over `p`'s fields: missing with probability 1/8, else a pooled constant, a variant
/// of one (prefix, suffix, embedded, upper-cased), or a fallback value of the kind.
fn generated_event(p: &ir::Program, pools: &[Vec<ir::Constant>], rng: &mut XorShift) -> MapEvent {
    let mut ev = MapEvent::new();
    for ((_, d), pool) in p.fields.iter().zip(pools) {
        if rng.below(8) == 0 {
            continue;
        }
        let pick = |rng: &mut XorShift| -> OwnedValue {
            match pool.get(rng.below(pool.len() + 1)).map(owned) {
                Some(OwnedValue::Bytes(b)) => OwnedValue::Bytes(match rng.below(5) {
                    0 => [b"/x/".as_slice(), &b].concat(),
                    1 => [&b, b"-y".as_slice()].concat(),
                    2 => [b"a".as_slice(), &b, b"b"].concat(),
                    3 => b.to_ascii_uppercase(),
                    _ => b,
                }),
                Some(v) => v,
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

/// Input and output agree on `n` generated events drawn from the input's constants.
fn differential(
    input: &ir::Program,
    output: &ir::Program,
    n: usize,
    seed: u64,
) -> Result<usize, String> {
    let a = vm::Program::compile(input).map_err(|e| e.to_string())?;
    let b = vm::Program::compile(output).map_err(|e| e.to_string())?;
    let (mut ma, mut mb) = (a.machine(), b.machine());
    let pools = pools(input);
    let mut rng = XorShift(seed);
    let mut hits = 0;
    for _ in 0..n {
        let ev = generated_event(input, &pools, &mut rng);
        let (mut ra, mut rb) = (Vec::new(), Vec::new());
        a.matches(&mut ma, &mut ev.clone(), &mut ra);
        b.matches(&mut mb, &mut ev.clone(), &mut rb);
        if ra != rb {
            return Err(format!("input matches {ra:?}, output {rb:?} on {ev:?}"));
        }
        hits += ra.len();
    }
    Ok(hits)
}

fn strip_expect(text: &str) -> (String, Option<String>) {
    match text.find(&format!("\n{EXPECT}\n")) {
        Some(i) => {
            let input = text[..=i].to_owned();
            let rest = &text[i + EXPECT.len() + 2..];
            let expected = rest
                .lines()
                .map(|l| {
                    l.strip_prefix("; ")
                        .unwrap_or(l.strip_prefix(';').unwrap_or(l))
                })
                .map(|l| format!("{l}\n"))
                .collect();
            (input, Some(expected))
        }
        None => (text.to_owned(), None),
    }
}

fn run_file(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let directive = text
        .lines()
        .find_map(|l| l.strip_prefix("; test opt"))
        .ok_or("missing '; test opt' directive")?
        .trim()
        .to_owned();
    let passes: Vec<Box<dyn opt::Pass>> = match directive.as_str() {
        "-O1" => opt::pipeline(1),
        "-O2" => opt::pipeline(2),
        names => names
            .split_whitespace()
            .map(|n| opt::pass_by_name(n).ok_or_else(|| format!("unknown pass {n:?}")))
            .collect::<Result<_, _>>()?,
    };
    let (input_text, expected) = strip_expect(&text);
    let input = ir::parse(&input_text).map_err(|e| format!("parse: {e}"))?;
    verify::verify(&input).map_err(|e| format!("input does not verify: {e}"))?;
    let (output, stats) = opt::run_passes(&input, &passes, false);
    verify::verify(&output).map_err(|e| format!("output does not verify: {e}"))?;
    if stats.len() != passes.len() {
        return Err("one stat per pass expected".into());
    }
    let printed = output.to_text();
    if expected.as_deref() != Some(printed.as_str()) {
        if std::env::var_os("FRULE_BLESS").is_some() {
            let mut out = input_text.clone();
            out.push_str(EXPECT);
            out.push('\n');
            for l in printed.lines() {
                out.push_str("; ");
                out.push_str(l);
                out.push('\n');
            }
            std::fs::write(path, out).map_err(|e| e.to_string())?;
        } else {
            return Err(format!(
                "the output differs from the '; expect:' section (FRULE_BLESS=1 rewrites it); got:\n{printed}"
            ));
        }
    }
    let a = vm::Program::compile(&input).map_err(|e| e.to_string())?;
    let b = vm::Program::compile(&output).map_err(|e| e.to_string())?;
    for spec in text.lines().filter_map(|l| l.strip_prefix("; event: ")) {
        let (ev, expect) = parse_event(spec)?;
        let (ra, rb) = (matches(&a, &ev), matches(&b, &ev));
        if ra != expect || rb != expect {
            return Err(format!(
                "event {spec:?}: expected {expect:?}, input gave {ra:?}, output {rb:?}"
            ));
        }
    }
    differential(&input, &output, 500, 0x2545_f491_4f6c_dd1d)?;
    Ok(())
}

#[test]
fn opt_files() {
    frir::run_all("opt", "optimizer files", run_file);
}

fn corpus() -> PathBuf {
    std::env::var_os("FRULE_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    )
}

/// The upstream rules, loaded, and lowered into one program (rules that fail to lower are skipped).
fn corpus_program() -> Option<(frule_lang::loader::LoadResult, ir::Program, Vec<usize>)> {
    let dir = corpus().join("rules/falcosecurity-rules");
    if !dir.is_dir() {
        println!(
            "skipping: corpus not found at {} (set FRULE_CORPUS)",
            dir.display()
        );
        return None;
    }
    let files: Vec<frule_lang::loader::RulesFile> = [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ]
    .iter()
    .filter_map(|n| {
        let p = dir.join(n);
        Some(frule_lang::loader::RulesFile::new(
            p.display().to_string(),
            std::fs::read(&p).ok()?,
        ))
    })
    .collect();
    let loaded = frule_lang::loader::load(&files);
    let mut l = frule_codegen::lower::Lowerer::new();
    let mut lowered = Vec::new();
    for (i, r) in loaded.rules.iter().enumerate() {
        if l.add_rule(&r.name, &r.expr).is_ok() {
            lowered.push(i);
        }
    }
    Some((loaded, l.finish(), lowered))
}

/// Every optimization level keeps the corpus program's answers on generated events, and -O2 makes it
/// no bigger.
#[test]
fn corpus_optimized_answers_unchanged() {
    let Some((_, p, _)) = corpus_program() else {
        return;
    };
    for level in [1, 2] {
        let (o, stats) = opt::optimize(&p, opt::Options { level, dump: false });
        verify::verify(&o).unwrap_or_else(|e| panic!("-O{level} output verifies: {e}"));
        let hits = differential(&p, &o, 2000, 0x9e37_79b9_7f4a_7c15 + u64::from(level))
            .unwrap_or_else(|e| panic!("-O{level}: {e}"));
        println!(
            "-O{level}: {} → {} values, {hits} matches over 2000 events; {stats:?}",
            p.values.len(),
            o.values.len()
        );
        assert!(hits > 0, "generated events should match some rules");
    }
}

/// The IR partition gives every upstream rule exactly the event types of the AST resolver.
#[test]
fn corpus_partition_agrees_with_lang_resolver() {
    let Some((loaded, p, lowered)) = corpus_program() else {
        return;
    };
    let sets = evttype_partition::rule_evttypes(&p);
    assert_eq!(sets.len(), lowered.len());
    let mut disagree = Vec::new();
    for (set, &i) in sets.iter().zip(&lowered) {
        let Some(rule) = loaded.rules.get(i) else {
            continue;
        };
        match frule_lang::evttypes::evttypes_of(&rule.expr) {
            Ok(ast) if ast == *set => {}
            other => disagree.push(format!(
                "{}: ast {:?}, ir {:?}",
                rule.name,
                other.map(|s| s.names()),
                set.names()
            )),
        }
    }
    println!("{} rules compared", sets.len());
    assert!(sets.len() > 50);
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

/// Dispatch by event code answers like the whole program restricted to the rules whose event-type
/// set holds the code, in first-match and all-matches modes (events carry `evt.type` = the code's name,
/// as the specialization contract says).
#[test]
fn corpus_dispatch_agrees_with_whole_program() {
    let Some((_, p, _)) = corpus_program() else {
        return;
    };
    let whole = vm::Program::compile(&p).expect("compiles");
    let mut wm = whole.machine();
    for specialize_evttype in [false, true] {
        let d = Dispatch::build(
            &p,
            evttype_partition::PartitionOptions {
                opt: opt::Options::default(),
                specialize_evttype,
            },
        )
        .expect("dispatch builds");
        for g in &d.partition.groups {
            verify::verify(&g.program).expect("group programs verify");
        }
        let evttype_slot = p
            .fields
            .iter()
            .find(|(_, f)| f.name == "evt.type" && f.arg.is_none())
            .map(|(_, f)| f.id)
            .expect("the corpus uses evt.type");
        let pools = pools(&p);
        let mut rng = XorShift(0x1234_5678_9abc_def1);
        let mut dm = d.machines();
        let mut hits = 0;
        let codes = frule_lang::events::EVENT_COUNT;
        // mostly codes some rule wants, so that the comparison sees matches
        let wanted: Vec<usize> = (0..codes)
            .filter(|&c| d.partition.by_code.get(c).is_some_and(|&g| g != 0))
            .collect();
        for _ in 0..4000 {
            let code = if rng.below(4) == 0 {
                rng.below(codes)
            } else {
                wanted.get(rng.below(wanted.len())).copied().unwrap_or(0)
            };
            let code = u16::try_from(code).unwrap_or(0);
            let mut ev = generated_event(&p, &pools, &mut rng);
            let name = frule_lang::events::event(code).map_or("NA", |e| e.name);
            if specialize_evttype {
                ev.set(
                    evttype_slot,
                    None,
                    OwnedValue::Bytes(name.as_bytes().to_vec()),
                );
            }
            let mut all = Vec::new();
            whole.matches(&mut wm, &mut ev.clone(), &mut all);
            all.retain(|&i| d.partition.sets.get(i).is_some_and(|s| s.contains(code)));
            let mut got = Vec::new();
            d.matches(&mut dm, code, &mut ev.clone(), &mut got);
            assert_eq!(
                got, all,
                "code {code} ({name}), specialize {specialize_evttype}"
            );
            assert_eq!(
                d.first_match(&mut dm, code, &mut ev.clone()),
                all.first().copied()
            );
            hits += all.len();
        }
        println!(
            "specialize {specialize_evttype}: {} groups, {hits} matches",
            d.group_count()
        );
        assert!(hits > 0);
    }
}
