//! Times the bytecode VM on the upstream Falco rules (stable + incubating + sandbox), all rules of the
//! files evaluated per event (no event-type index yet), against a small synthetic syscall mix served by an
//! array-backed field provider, so the figure is the engine's cost, not the provider's.
//!
//! Run: `cargo run --release -p frule-codegen --example eval_corpus` (reads `FRULE_CORPUS`, default
//! `../shared/corpus` next to the workspace).

use std::path::{Path, PathBuf};
use std::time::Instant;

use frule_codegen::abi::{FieldArg, FieldId, FieldSource, OwnedValue, ValueBuf};
use frule_codegen::lower::{Lowerer, scalar_kind};
use frule_codegen::{abi::ScalarKind, verify, vm};
use frule_lang::fields;

/// Field values by field id (arguments ignored): the cheapest possible provider.
struct ArrayEvent {
    values: Vec<Option<OwnedValue>>,
}

impl ArrayEvent {
    fn new(fields_: &[(&str, &str)]) -> ArrayEvent {
        let mut values = vec![None; fields::all().count()];
        for (name, v) in fields_ {
            let Some(id) = fields::lookup(name) else {
                eprintln!("unknown field {name}");
                continue;
            };
            let value = match scalar_kind(id.info().ty) {
                ScalarKind::Int => OwnedValue::I64(v.parse().unwrap_or(0)),
                ScalarKind::Uint => OwnedValue::U64(v.parse().unwrap_or(0)),
                ScalarKind::Bool => OwnedValue::Bool(*v == "true"),
                ScalarKind::Ip | ScalarKind::Net => {
                    OwnedValue::Ip(v.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])))
                }
                ScalarKind::Double => OwnedValue::F64(v.parse().unwrap_or(0.0)),
                ScalarKind::Str | ScalarKind::Bytes => OwnedValue::Bytes(v.as_bytes().to_vec()),
            };
            if let Some(slot) = values.get_mut(id.0 as usize) {
                *slot = Some(value);
            }
        }
        ArrayEvent { values }
    }
}

impl FieldSource for ArrayEvent {
    fn extract(&mut self, field: FieldId, _arg: Option<&FieldArg>, out: &mut ValueBuf) -> bool {
        match self.values.get(field.0 as usize) {
            Some(Some(v)) => {
                out.push(v.as_ref());
                true
            }
            _ => false,
        }
    }
}

/// Nanoseconds this thread has spent on a CPU (Linux `/proc/thread-self/schedstat`), so that the figure
/// does not count time the thread waited for a core on a busy machine; `None` elsewhere.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn corpus() -> PathBuf {
    std::env::var_os("FRULE_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    )
}

fn main() {
    let dir = corpus().join("rules/falcosecurity-rules");
    let names = [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ];
    let mut files = Vec::new();
    for n in names {
        let p = dir.join(n);
        match std::fs::read(&p) {
            Ok(content) => files.push(frule_lang::loader::RulesFile {
                name: p.display().to_string(),
                content,
            }),
            Err(e) => {
                eprintln!("skipping: cannot read {}: {e}", p.display());
                return;
            }
        }
    }
    let t0 = Instant::now();
    let loaded = frule_lang::loader::load(&files);
    let t1 = Instant::now();
    let mut l = Lowerer::new();
    for r in &loaded.rules {
        if let Err(e) = l.add_rule(&r.name, &r.expr) {
            eprintln!("{}: {:?}", r.name, e);
        }
    }
    let p = l.finish();
    if let Err(e) = verify::verify(&p) {
        eprintln!("verifier: {e}");
        return;
    }
    let prog = match vm::Program::compile(&p) {
        Ok(prog) => prog,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    let t2 = Instant::now();
    println!(
        "{} rules: load {:.1} ms, lower+verify+compile {:.1} ms ({} IR values)",
        prog.rule_count(),
        (t1 - t0).as_secs_f64() * 1e3,
        (t2 - t1).as_secs_f64() * 1e3,
        p.values.len()
    );
    let mut events = [
        ArrayEvent::new(&[
            ("evt.type", "execve"),
            ("evt.dir", "<"),
            ("proc.name", "bash"),
            ("proc.pname", "sshd"),
            ("proc.cmdline", "bash -i"),
            ("proc.exepath", "/usr/bin/bash"),
            ("user.uid", "0"),
            ("user.name", "root"),
            ("container.id", "host"),
        ]),
        ArrayEvent::new(&[
            ("evt.type", "openat"),
            ("evt.dir", "<"),
            ("fd.name", "/etc/shadow"),
            ("fd.typechar", "f"),
            ("evt.is_open_read", "true"),
            ("proc.name", "cat"),
            ("proc.pname", "bash"),
            ("user.uid", "1000"),
            ("container.id", "host"),
        ]),
        ArrayEvent::new(&[
            ("evt.type", "connect"),
            ("evt.dir", "<"),
            ("fd.sip", "10.0.0.1"),
            ("fd.sport", "443"),
            ("fd.typechar", "4"),
            ("proc.name", "curl"),
            ("container.id", "abc123"),
        ]),
        ArrayEvent::new(&[
            ("evt.type", "read"),
            ("evt.dir", "<"),
            ("fd.num", "3"),
            ("proc.name", "nginx"),
        ]),
    ];
    let plain = match vm::Program::compile_with(&p, vm::CompileOptions { memoize: false }) {
        Ok(prog) => prog,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    for (label, prog) in [
        ("memoized", &prog),
        ("plain", &plain),
        ("memoized", &prog),
        ("plain", &plain),
    ] {
        let mut m = prog.machine();
        let mut out = Vec::new();
        let rounds = 200_000usize;
        let t = Instant::now();
        let c0 = cpu_ns();
        let mut matched = 0usize;
        for i in 0..rounds {
            let ev = &mut events[i % events.len()];
            out.clear();
            prog.matches(&mut m, ev, &mut out);
            matched += out.len();
        }
        let dt = t.elapsed();
        let cpu = match (c0, cpu_ns()) {
            (Some(a), Some(b)) => {
                format!("{:.0} ns/event on-CPU, ", (b - a) as f64 / rounds as f64)
            }
            _ => String::new(),
        };
        println!(
            "{label}: all {} rules per event, {}-event mix: {cpu}{:.0} ns/event wall ({matched} matches in {rounds} events)",
            prog.rule_count(),
            events.len(),
            dt.as_secs_f64() * 1e9 / rounds as f64
        );
    }
}
