//! Per-event evaluation of the upstream Falco rules (stable + incubating + sandbox, all rules of one
//! program, rule order kept) by the bytecode VM and by the Cranelift JIT, over a synthetic syscall mix
//! whose fields are served by an array indexed by field id, so that the figures measure the engine and
//! not the field provider. Also: an event whose type no rule wants (a program without rules: the
//! per-event-type programs are not wired here yet, so this is the floor of one evaluation call), and
//! compiling the whole ruleset to native code.
//!
//! Run: `cargo bench -p frule-benches --bench eval` (reads `FRULE_CORPUS`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use frule_codegen::abi::{FieldArg, FieldId, FieldSource, OwnedValue, ScalarKind, ValueBuf};
use frule_codegen::dispatch::Dispatch;
use frule_codegen::lower::{Lowerer, scalar_kind};
use frule_codegen::opt::{self, evttype_partition};
use frule_codegen::{ir, jit, verify, vm};
use frule_lang::fields;
use frule_lang::loader::{self, RulesFile};

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

/// A syscall mix shaped like the 502Error capture of `perf-anchors.md` §4.1 (futex, close, epoll,
/// read, recvfrom, sendto, open, mmap, fstat, connect, socket, accept, clone, execve): frequent
/// uninteresting events, occasional process and file events.
fn mix() -> Vec<ArrayEvent> {
    let common = |t: &'static str| {
        vec![
            ("evt.type", t),
            ("evt.dir", "<"),
            ("proc.name", "haproxy"),
            ("proc.pname", "systemd"),
            ("proc.exepath", "/usr/sbin/haproxy"),
            ("user.uid", "99"),
            ("user.name", "haproxy"),
            ("container.id", "host"),
            ("fd.num", "7"),
        ]
    };
    let mut out = Vec::new();
    for t in [
        "futex",
        "futex",
        "close",
        "epoll_pwait",
        "read",
        "recvfrom",
        "sendto",
        "futex",
        "close",
        "read",
        "mmap",
        "fstat",
    ] {
        out.push(ArrayEvent::new(&common(t)));
    }
    out.push(ArrayEvent::new(&[
        ("evt.type", "openat"),
        ("evt.dir", "<"),
        ("fd.name", "/etc/haproxy/haproxy.cfg"),
        ("fd.directory", "/etc/haproxy"),
        ("fd.filename", "haproxy.cfg"),
        ("fd.typechar", "f"),
        ("evt.is_open_read", "true"),
        ("evt.is_open_write", "false"),
        ("proc.name", "haproxy"),
        ("proc.pname", "systemd"),
        ("user.uid", "99"),
        ("container.id", "host"),
    ]));
    out.push(ArrayEvent::new(&[
        ("evt.type", "connect"),
        ("evt.dir", "<"),
        ("fd.sip", "10.0.0.1"),
        ("fd.sport", "443"),
        ("fd.typechar", "4"),
        ("fd.l4proto", "tcp"),
        ("proc.name", "curl"),
        ("proc.pname", "bash"),
        ("container.id", "abc123def456"),
    ]));
    out.push(ArrayEvent::new(&[
        ("evt.type", "execve"),
        ("evt.dir", "<"),
        ("proc.name", "python3"),
        ("proc.pname", "bash"),
        ("proc.cmdline", "python3 app.py"),
        ("proc.exepath", "/usr/bin/python3"),
        ("proc.args", "app.py"),
        ("user.uid", "1000"),
        ("user.name", "app"),
        ("container.id", "host"),
    ]));
    out.push(ArrayEvent::new(&[
        ("evt.type", "clone"),
        ("evt.dir", "<"),
        ("proc.name", "python3"),
        ("proc.pname", "bash"),
        ("container.id", "host"),
    ]));
    out
}

fn upstream_program() -> Result<ir::Program, String> {
    let files: Vec<RulesFile> = frule_benches::upstream_rules()?
        .into_iter()
        .map(|(name, bytes)| RulesFile::new(name, bytes))
        .collect();
    let loaded = loader::load(&files);
    let mut l = Lowerer::new();
    for r in &loaded.rules {
        l.add_rule(&r.name, &r.expr)
            .map_err(|e| format!("{}: {e:?}", r.name))?;
    }
    let p = l.finish();
    verify::verify(&p).map_err(|e| e.to_string())?;
    Ok(p)
}

fn eval(c: &mut Criterion) {
    let p = match upstream_program() {
        Ok(p) => p,
        Err(reason) => {
            eprintln!("skipping eval benchmark: {reason}");
            return;
        }
    };
    let vmp = vm::Program::compile(&p).expect("the upstream program compiles to bytecode");
    let jp = match jit::Program::compile(&p) {
        Ok(jp) => Some(jp),
        Err(e) => {
            eprintln!("jit unavailable, only the vm is measured: {e}");
            None
        }
    };
    let mut events = mix();
    let n = events.len();

    let mut g = c.benchmark_group("eval_upstream_all_rules");
    g.throughput(Throughput::Elements(n as u64));
    {
        let mut m = vmp.machine();
        let mut out = Vec::new();
        g.bench_function(format!("vm/{n}-event mix"), |b| {
            b.iter(|| {
                for ev in events.iter_mut() {
                    out.clear();
                    vmp.matches(&mut m, ev, &mut out);
                    black_box(&out);
                }
            })
        });
    }
    if let Some(jp) = &jp {
        let mut m = jp.machine();
        let mut out = Vec::new();
        g.bench_function(format!("jit/{n}-event mix"), |b| {
            b.iter(|| {
                for ev in events.iter_mut() {
                    out.clear();
                    jp.matches(&mut m, ev, &mut out);
                    black_box(&out);
                }
            })
        });
    }
    g.finish();

    // With the per-event-type programs (`opt::evttype_partition`): one table lookup by event code,
    // then the fused program of the event's type.
    let options = || evttype_partition::PartitionOptions {
        opt: opt::Options::default(),
        specialize_evttype: true,
    };
    let codes: Vec<u16> = events
        .iter()
        .map(|ev| {
            let t = match ev
                .values
                .get(fields::lookup("evt.type").map_or(0, |f| f.0 as usize))
            {
                Some(Some(OwnedValue::Bytes(b))) => String::from_utf8_lossy(b).into_owned(),
                _ => String::new(),
            };
            // The exit event of the type (events carry `evt.dir = <`).
            frule_lang::events::codes_for_name(&t)
                .last()
                .copied()
                .unwrap_or(0)
        })
        .collect();
    let mut g = c.benchmark_group("eval_upstream_by_evttype");
    g.throughput(Throughput::Elements(n as u64));
    if let Ok(d) = Dispatch::build(&p, options()) {
        let mut m = d.machines();
        let mut out = Vec::new();
        g.bench_function(format!("vm/{n}-event mix"), |b| {
            b.iter(|| {
                for (ev, code) in events.iter_mut().zip(&codes) {
                    out.clear();
                    d.matches(&mut m, *code, ev, &mut out);
                    black_box(&out);
                }
            })
        });
    }
    let part = evttype_partition::partition(&p, options());
    let jits: Vec<jit::Program> = part
        .groups
        .iter()
        .filter_map(|grp| jit::Program::compile_or_vm(&grp.program).ok())
        .collect();
    if jits.len() == part.groups.len() {
        let mut ms: Vec<jit::Machine> = jits.iter().map(jit::Program::machine).collect();
        let mut out = Vec::new();
        g.bench_function(format!("jit/{n}-event mix"), |b| {
            b.iter(|| {
                for (ev, code) in events.iter_mut().zip(&codes) {
                    out.clear();
                    let gi = part.by_code.get(usize::from(*code)).copied().unwrap_or(0) as usize;
                    if let (Some(jp), Some(m)) = (jits.get(gi), ms.get_mut(gi)) {
                        jp.matches(m, ev, &mut out);
                    }
                    black_box(&out);
                }
            })
        });
    }
    g.finish();

    // An event no rule wants: with an event-type index it reaches an empty program.
    let empty = ir::Program::new();
    let vme = vm::Program::compile(&empty).expect("an empty program compiles");
    let mut ev = ArrayEvent::new(&[("evt.type", "futex"), ("evt.dir", "<")]);
    let mut g = c.benchmark_group("eval_unwanted_event_type");
    g.throughput(Throughput::Elements(1));
    {
        let mut m = vme.machine();
        let mut out = Vec::new();
        g.bench_function("vm/empty program", |b| {
            b.iter(|| {
                out.clear();
                vme.matches(&mut m, &mut ev, &mut out);
                black_box(&out);
            })
        });
    }
    if let Ok(jpe) = jit::Program::compile(&empty) {
        let mut m = jpe.machine();
        let mut out = Vec::new();
        g.bench_function("jit/empty program", |b| {
            b.iter(|| {
                out.clear();
                jpe.matches(&mut m, &mut ev, &mut out);
                black_box(&out);
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("compile_upstream");
    g.sample_size(10);
    g.bench_function("jit/native code from IR", |b| {
        b.iter(|| jit::Program::compile(black_box(&p)).is_ok())
    });
    g.bench_function("vm/bytecode from IR", |b| {
        b.iter(|| vm::Program::compile(black_box(&p)).is_ok())
    });
    g.finish();
}

criterion_group!(benches, eval);
criterion_main!(benches);
