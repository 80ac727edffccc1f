//! Per-event evaluation of the upstream Falco rules (stable + incubating + sandbox) by the bytecode VM
//! and by the Cranelift JIT, the way the engine runs them: one lookup by event code, then the fused
//! program of the event's type. Fields are served by an array indexed by field id, so that the figures
//! measure the engine and not the field provider.
//!
//! The event mix is weighted by real frequencies: every event type and direction of the 502Error
//! capture (`perf-anchors.md` §4.1) appears about count/10 times ([`CAPTURE_COUNTS`], 918 events per
//! iteration, enter and exit events both, as the capture has them), with fields of the capture's
//! scenario (curl → haproxy → python on one host). Like the capture itself, the mix is benign: no
//! rule is expected to match, which is the common case. Also measured: an event whose type no rule
//! wants (`futex`), and, as a reference, every rule on every event without the event-type index.
//!
//! Run: `cargo bench -p frule-benches --bench eval` (reads `FRULE_CORPUS`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use frule_codegen::abi::{
    self, FieldArg, FieldId, FieldSource, FixedFields, OwnedValue, ScalarKind, ValueBuf,
};
use frule_codegen::dispatch::{Dispatch, JitDispatch};
use frule_codegen::lower::{Lowerer, scalar_kind};
use frule_codegen::opt::{self, evttype_partition};
use frule_codegen::{ir, jit, verify, vm};
use frule_lang::fields;
use frule_lang::loader::{self, RulesFile};

/// Field values by field id (arguments ignored): the cheapest possible provider. The fixed-offset
/// numeric fields (`abi::FIXED_FIELD_NAMES`) are also kept decoded, as the runtime's event view
/// decodes them, and the wanted ones copied into the block the compiled code (VM or JIT) passes.
struct ArrayEvent {
    values: Vec<Option<OwnedValue>>,
    fixed: FixedFields,
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
        let mut ev = ArrayEvent {
            values,
            fixed: FixedFields::EMPTY,
        };
        let mut fixed = FixedFields::EMPTY;
        abi::fill_fixed_by_extract(&mut ev, u64::MAX, &mut fixed, &mut ValueBuf::new());
        ev.fixed = fixed;
        ev
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

    /// The wanted fields of the decoded block, one at a time: a group compares a handful of
    /// them, and copying those few costs less than copying the whole block.
    fn fixed_fields(&mut self, wanted: u64, block: &mut FixedFields) {
        let present = self.fixed.present & wanted;
        let mut left = present;
        while left != 0 {
            let i = left.trailing_zeros() as usize;
            left &= left - 1;
            if let (Some(to), Some(from)) = (block.values.get_mut(i), self.fixed.values.get(i)) {
                *to = *from;
            }
        }
        block.present = present;
    }
}

/// Event types and directions of the 502Error capture (draios/sysdig-inspect `capture-samples`, the
/// capture of `perf-anchors.md` §4.1; `shared/corpus/scap/sysdig-inspect/502Error.scap`) with their
/// counts, as `sysdig -r 502Error.scap -p '%evt.type %evt.dir' | sort | uniq -c` reports them (9,478
/// events, PROCINFO blocks excluded). The benchmark mix weights event types by these counts.
const CAPTURE_COUNTS: &[(&str, char, u32)] = &[
    ("switch", '>', 706),
    ("futex", '>', 477),
    ("futex", '<', 477),
    ("close", '>', 413),
    ("close", '<', 413),
    ("epoll_pwait", '>', 367),
    ("epoll_pwait", '<', 367),
    ("read", '>', 333),
    ("read", '<', 333),
    ("recvfrom", '>', 322),
    ("recvfrom", '<', 322),
    ("sendto", '>', 316),
    ("sendto", '<', 316),
    ("open", '>', 222),
    ("open", '<', 222),
    ("mmap", '>', 222),
    ("mmap", '<', 222),
    ("fstat", '>', 222),
    ("fstat", '<', 222),
    ("munmap", '>', 148),
    ("munmap", '<', 148),
    ("mprotect", '>', 148),
    ("mprotect", '<', 148),
    ("connect", '>', 123),
    ("connect", '<', 123),
    ("socket", '>', 117),
    ("socket", '<', 117),
    ("clone", '<', 111),
    ("accept", '>', 111),
    ("accept", '<', 111),
    ("setsockopt", '>', 92),
    ("setsockopt", '<', 92),
    ("epoll_ctl", '>', 88),
    ("epoll_ctl", '<', 88),
    ("shutdown", '>', 74),
    ("shutdown", '<', 74),
    ("procexit", '>', 74),
    ("exit", '>', 74),
    ("fcntl", '>', 43),
    ("fcntl", '<', 43),
    ("getpid", '>', 40),
    ("getpid", '<', 40),
    ("writev", '>', 37),
    ("writev", '<', 37),
    ("uname", '>', 37),
    ("uname", '<', 37),
    ("set_tid_address", '>', 37),
    ("set_tid_address", '<', 37),
    ("set_robust_list", '>', 37),
    ("set_robust_list", '<', 37),
    ("sendmsg", '>', 37),
    ("sendmsg", '<', 37),
    ("select", '>', 37),
    ("select", '<', 37),
    ("rt_sigprocmask", '>', 37),
    ("rt_sigprocmask", '<', 37),
    ("madvise", '>', 37),
    ("madvise", '<', 37),
    ("clone", '>', 37),
    ("access", '>', 37),
    ("access", '<', 37),
    ("wait4", '>', 12),
    ("wait4", '<', 12),
    ("rt_sigtimedwait", '>', 12),
    ("rt_sigtimedwait", '<', 12),
    ("kill", '>', 3),
    ("kill", '<', 3),
];

/// The event code of `name` in direction `dir`: the newest version of the event, or, when every
/// version is old (the enter events current drivers no longer emit, which the 502Error capture still
/// has), the newest old one.
fn code_of(name: &str, dir: char) -> u16 {
    let want_exit = dir == '<';
    let codes = || {
        frule_lang::events::codes_for_name(name)
            .iter()
            .copied()
            .filter(move |c| (c % 2 == 1) == want_exit)
    };
    codes()
        .rfind(|c| frule_lang::events::event(*c).is_some_and(|e| !e.is_old_version()))
        .or_else(|| codes().next_back())
        .unwrap_or(0)
}

/// The fields an event of this type carries in the capture's scenario (haproxy in front of a
/// python server, curl as the client; everything on the host).
fn fields_for(t: &'static str, dir: char, proc_: usize) -> Vec<(&'static str, &'static str)> {
    let (name, exe, cmdline, pname, user, uid) = match proc_ % 10 {
        0..=3 => (
            "curl",
            "/usr/bin/curl",
            "curl http://localhost:8080/",
            "bash",
            "root",
            "0",
        ),
        4..=6 => (
            "haproxy",
            "/usr/sbin/haproxy",
            "haproxy -f /etc/haproxy/haproxy.cfg",
            "systemd",
            "haproxy",
            "99",
        ),
        _ => (
            "python",
            "/usr/bin/python2.7",
            "python server.py",
            "bash",
            "root",
            "0",
        ),
    };
    let mut f = vec![
        ("evt.type", t),
        ("evt.dir", if dir == '<' { "<" } else { ">" }),
        ("proc.name", name),
        ("proc.exepath", exe),
        ("proc.exe", exe),
        ("proc.cmdline", cmdline),
        ("proc.pname", pname),
        ("user.name", user),
        ("user.uid", uid),
        ("container.id", "host"),
        ("evt.failed", "false"),
    ];
    match t {
        "open" | "close" | "read" | "fstat" | "mmap" | "munmap" | "fcntl" | "writev" | "access" => {
            f.extend([
                ("fd.num", "5"),
                ("fd.typechar", "f"),
                ("fd.name", "/usr/lib/python2.7/json/decoder.pyc"),
                ("fd.directory", "/usr/lib/python2.7/json"),
                ("fd.filename", "decoder.pyc"),
                ("evt.is_open_read", "true"),
                ("evt.is_open_write", "false"),
            ]);
        }
        "connect" | "accept" | "socket" | "sendto" | "recvfrom" | "setsockopt" | "shutdown"
        | "sendmsg" => {
            f.extend([
                ("fd.num", "6"),
                ("fd.typechar", "4"),
                ("fd.type", "ipv4"),
                ("fd.name", "127.0.0.1:43562->127.0.0.1:8080"),
                ("fd.sip", "127.0.0.1"),
                ("fd.cip", "127.0.0.1"),
                ("fd.sport", "8080"),
                ("fd.cport", "43562"),
                ("fd.l4proto", "tcp"),
                ("fd.sockfamily", "ip"),
            ]);
        }
        _ => {}
    }
    f
}

/// The benchmark mix: every (type, direction) of [`CAPTURE_COUNTS`] about count/10 times (at least
/// once), interleaved round-robin so that consecutive events differ as in a real stream — 918 events
/// per iteration, each with its event code (for the per-event-type dispatch).
fn mix() -> Vec<(u16, ArrayEvent)> {
    let mut left: Vec<u32> = CAPTURE_COUNTS
        .iter()
        .map(|(_, _, n)| (n / 10).max(1))
        .collect();
    let mut out = Vec::new();
    let mut proc_ = 0usize;
    while left.iter().any(|n| *n > 0) {
        for (i, (t, dir, _)) in CAPTURE_COUNTS.iter().enumerate() {
            if let Some(n) = left.get_mut(i)
                && *n > 0
            {
                *n -= 1;
                proc_ += 3;
                out.push((
                    code_of(t, *dir),
                    ArrayEvent::new(&fields_for(t, *dir, proc_)),
                ));
            }
        }
    }
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

/// Runs the mix `iters` times on one backend (the profiling mode, see [`profile`]); out of line so
/// that callgrind can collect this function alone (`--toggle-collect=*run_mix*`).
#[inline(never)]
fn run_mix(
    iters: usize,
    events: &mut [(u16, ArrayEvent)],
    mut one: impl FnMut(u16, &mut ArrayEvent, &mut Vec<usize>),
) -> usize {
    let mut out = Vec::new();
    let mut fired = 0;
    for _ in 0..iters {
        for (code, ev) in events.iter_mut() {
            out.clear();
            one(*code, ev, &mut out);
            fired += black_box(&out).len();
        }
    }
    fired
}

/// The profiling mode: with `FRULE_EVAL_PROFILE=N` (and `FRULE_EVAL_BACKEND=vm|jit`, default both),
/// the mix runs `N` times on each backend outside criterion and the CPU time per event is printed;
/// under `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*run_mix*'` the
/// instruction count divided by `N × 918` is the cost per event, independent of the machine's load.
fn profile(iters: usize, p: &ir::Program, events: &mut [(u16, ArrayEvent)]) {
    let options = evttype_partition::PartitionOptions::default();
    let backend = std::env::var("FRULE_EVAL_BACKEND").unwrap_or_default();
    let n = events.len() * iters;
    let report = |name: &str, started: std::time::Instant, fired: usize| {
        let ns = started.elapsed().as_nanos() as f64 / n.max(1) as f64;
        println!("{name}: {n} events, {fired} matches, {ns:.1} ns/event (wall)");
    };
    if std::env::var_os("FRULE_EVAL_STATS").is_some() {
        let d = Dispatch::build(p, options).expect("the upstream groups compile to bytecode");
        let mut seen = std::collections::BTreeMap::new();
        for (code, _) in events.iter() {
            *seen.entry(*code).or_insert(0usize) += 1;
        }
        for (code, count) in seen {
            let name = frule_lang::events::event(code).map_or("?", |e| e.name);
            match d.table().group(code) {
                Some(g) => {
                    let grp = &d.partition.groups[g];
                    println!(
                        "{code:4} {name:16} x{count:3} group {g:3}: {} rules, {} values",
                        grp.rules.len(),
                        grp.program.values.len()
                    );
                    if std::env::var("FRULE_EVAL_DUMP").is_ok_and(|v| v == name) {
                        println!("{}", grp.program);
                    }
                    if std::env::var("FRULE_EVAL_ASM").is_ok_and(|v| v == name) {
                        println!("{}", jit::emit_asm(&grp.program).unwrap_or_default());
                    }
                }
                None => println!("{code:4} {name:16} x{count:3} unwanted"),
            }
        }
    }
    if backend.is_empty() || backend == "vm" {
        let d = Dispatch::build(p, options).expect("the upstream groups compile to bytecode");
        let mut m = d.machines();
        let started = std::time::Instant::now();
        let fired = run_mix(iters, events, |code, ev, out| {
            d.matches(&mut m, code, ev, out)
        });
        report("vm", started, fired);
    }
    if backend.is_empty() || backend == "jit" {
        let d = JitDispatch::build(p, options).expect("the upstream groups compile");
        let mut m = d.machines();
        let started = std::time::Instant::now();
        let fired = run_mix(iters, events, |code, ev, out| {
            d.matches(&mut m, code, ev, out)
        });
        report("jit", started, fired);
    }
}

fn eval(c: &mut Criterion) {
    let p = match upstream_program() {
        Ok(p) => p,
        Err(reason) => {
            eprintln!("skipping eval benchmark: {reason}");
            return;
        }
    };
    let mut events = mix();
    let n = events.len();
    if let Some(iters) = std::env::var("FRULE_EVAL_PROFILE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        if let Ok(only) = std::env::var("FRULE_EVAL_ONLY") {
            // Profile the events of one type only (e.g. `open`), to see where a group's time goes.
            events.retain(|(code, _)| {
                frule_lang::events::event(*code).is_some_and(|e| e.name == only)
            });
        }
        profile(iters, &p, &mut events);
        return;
    }

    // The engine's shape: one table lookup by event code, then the fused program of the event's
    // type (`opt::evttype_partition`), for the VM (`dispatch::Dispatch`) and the JIT
    // (`dispatch::JitDispatch`, one native program per group).
    let options = evttype_partition::PartitionOptions {
        opt: opt::Options::default(),
        specialize_evttype: true,
    };
    let mut g = c.benchmark_group("eval_upstream_by_evttype");
    g.throughput(Throughput::Elements(n as u64));
    let dispatch = Dispatch::build(&p, options).expect("the upstream groups compile to bytecode");
    {
        let mut m = dispatch.machines();
        let mut out = Vec::new();
        g.bench_function(format!("vm/502Error mix ({n} events)"), |b| {
            b.iter(|| {
                for (code, ev) in events.iter_mut() {
                    out.clear();
                    dispatch.matches(&mut m, *code, ev, &mut out);
                    black_box(&out);
                }
            })
        });
    }
    let jd = JitDispatch::build(&p, options).expect("the upstream groups compile");
    let all_native = jd.programs().iter().all(jit::Program::is_native);
    if all_native {
        let mut m = jd.machines();
        let mut out = Vec::new();
        g.bench_function(format!("jit/502Error mix ({n} events)"), |b| {
            b.iter(|| {
                for (code, ev) in events.iter_mut() {
                    out.clear();
                    jd.matches(&mut m, *code, ev, &mut out);
                    black_box(&out);
                }
            })
        });
    } else {
        eprintln!("skipping the jit figures: some group falls back to the vm");
    }
    g.finish();

    // An event no rule wants (`futex` exit): the dispatch lookup reaches the empty group.
    let futex = code_of("futex", '<');
    let mut ev = ArrayEvent::new(&[("evt.type", "futex"), ("evt.dir", "<")]);
    let mut g = c.benchmark_group("eval_unwanted_event_type");
    g.throughput(Throughput::Elements(1));
    {
        let mut m = dispatch.machines();
        let mut out = Vec::new();
        g.bench_function("vm/dispatch futex", |b| {
            b.iter(|| {
                out.clear();
                dispatch.matches(&mut m, black_box(futex), black_box(&mut ev), &mut out);
                black_box(&out);
            })
        });
    }
    if all_native {
        let mut m = jd.machines();
        let mut out = Vec::new();
        g.bench_function("jit/dispatch futex", |b| {
            b.iter(|| {
                out.clear();
                jd.matches(&mut m, black_box(futex), black_box(&mut ev), &mut out);
                black_box(&out);
            })
        });
    }
    g.finish();

    // Reference: every rule on every event (no event-type index), one program.
    let vmp = vm::Program::compile(&p).expect("the upstream program compiles to bytecode");
    let mut g = c.benchmark_group("eval_upstream_all_rules");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    {
        let mut m = vmp.machine();
        let mut out = Vec::new();
        g.bench_function(format!("vm/502Error mix ({n} events)"), |b| {
            b.iter(|| {
                for (_, ev) in events.iter_mut() {
                    out.clear();
                    vmp.matches(&mut m, ev, &mut out);
                    black_box(&out);
                }
            })
        });
    }
    if let Ok(jp) = jit::Program::compile(&p) {
        let mut m = jp.machine();
        let mut out = Vec::new();
        g.bench_function(format!("jit/502Error mix ({n} events)"), |b| {
            b.iter(|| {
                for (_, ev) in events.iter_mut() {
                    out.clear();
                    jp.matches(&mut m, ev, &mut out);
                    black_box(&out);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, eval);
criterion_main!(benches);
