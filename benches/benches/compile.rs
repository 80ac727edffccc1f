//! Compiling the upstream Falco rules (`falco_rules.yaml` + incubating + sandbox) end to end, and its
//! stages: lowering to one IR program, the `-O2` pass pipeline, event-type partitioning with fusion
//! (one optimized program per event type), and code generation for the VM and the JIT. The engine's
//! path to native code is "partition + jit per group", measured with and without loading.
//!
//! Run: `cargo bench -p frule-benches --bench compile`. The engine's path compiles the distinct
//! group programs on [`frule_codegen::jit::compile_threads`] threads (`FRULE_COMPILE_THREADS=n`
//! overrides it); the `, 1 thread` variant is the same work on the calling thread alone.
//!
//! Wall and CPU time side by side (the CPU time of every thread, from `/proc/self/stat`):
//! `FRULE_COMPILE_CPU=50 <bench binary> --bench` runs 50 engine compiles on the default thread
//! count and 50 on one thread and prints both figures per compile.
//!
//! Stage breakdown in instructions (independent of the machine's load): build with
//! `cargo bench -p frule-benches --bench compile --no-run`, then run the printed executable under
//! `valgrind --tool=callgrind` with `--bench --profile-time 1 'end to end: load\+lower\+partition\+jit
//! per group$'` — profiling mode runs the routine once to warm up, so in
//! `callgrind_annotate --inclusive=yes --tree=calling` the callees of `Bencher::iter` and of its
//! closure (`loader::load`, `lower`, `evttype_partition::partition` with `opt::optimize` inside,
//! `jit::Program::compile_all_on`) are the stages of exactly one compile. With
//! `--separate-threads=yes` callgrind writes one file per thread: the calling thread's
//! `Bencher::iter` is the critical path of one compile (what the wall time follows on idle cores),
//! and the helper threads' files hold the rest of the work (the total is what the CPU time follows).

use criterion::{Criterion, criterion_group, criterion_main};
use frule_codegen::dispatch::Dispatch;
use frule_codegen::ir;
use frule_codegen::lower::Lowerer;
use frule_codegen::opt::{self, evttype_partition::PartitionOptions};
use frule_lang::loader::{self, LoadResult, RulesFile};

fn lower(loaded: &LoadResult) -> ir::Program {
    let mut l = Lowerer::new();
    for r in loaded.rules.iter().filter(|r| r.enabled) {
        // rules the IR cannot express yet (none upstream) are left out, as the engine does
        let _ = l.add_rule(&r.name, &r.expr);
    }
    l.finish()
}

fn compile(c: &mut Criterion) {
    let files = match frule_benches::upstream_rules() {
        Ok(files) => files,
        Err(reason) => {
            eprintln!("skipping compile benchmark: {reason}");
            return;
        }
    };
    let files: Vec<RulesFile> = files
        .into_iter()
        .map(|(name, bytes)| RulesFile::new(name, bytes))
        .collect();
    let loaded = loader::load(&files);
    assert!(
        loaded.is_ok(),
        "the upstream rules must load without errors"
    );
    let program = lower(&loaded);
    let (optimized, _) = opt::optimize(&program, opt::Options::default());

    if std::env::var_os("FRULE_COMPILE_STATS").is_some() {
        // The groups the engine compiles: rules, values and how many are textually identical.
        let part = opt::evttype_partition::partition(&program, PartitionOptions::default());
        let mut seen = std::collections::HashMap::new();
        for (i, grp) in part.groups.iter().enumerate() {
            let text = grp.program.to_string();
            let first = *seen.entry(text).or_insert(i);
            println!(
                "group {i:3} {:16} {:3} rules {:5} values{}",
                grp.evttype.unwrap_or("-"),
                grp.rules.len(),
                grp.program.values.len(),
                if first != i {
                    format!(" = group {first}")
                } else {
                    String::new()
                }
            );
        }
        return;
    }
    // What the engine does (`frule_runtime`'s ruleset): partition by event type (optimizing once) and
    // compile every group to native code, identical groups once and the distinct ones in parallel
    // (`jit::Program::compile_all`), on `threads` threads.
    let native_groups_on = |p: &ir::Program, threads: usize| {
        let part = opt::evttype_partition::partition(p, PartitionOptions::default());
        let sources: Vec<&ir::Program> = part.groups.iter().map(|g| &g.program).collect();
        frule_codegen::jit::Program::compile_all_on(&sources, threads)
            .into_iter()
            .filter_map(Result::ok)
            .count()
    };
    let threads = frule_codegen::jit::compile_threads();

    if let Some(n) = std::env::var("FRULE_COMPILE_CPU")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        // Wall and CPU time (all threads) per engine compile, on the default thread count and on
        // one thread, so a parallel speed-up is reported with what it costs in CPU.
        for t in [threads, 1] {
            let (wall0, cpu0) = (std::time::Instant::now(), cpu_seconds());
            for _ in 0..n {
                let loaded = loader::load(std::hint::black_box(&files));
                std::hint::black_box(native_groups_on(&lower(&loaded), t));
            }
            let wall = wall0.elapsed().as_secs_f64() * 1e3 / f64::from(n);
            let cpu = (cpu_seconds() - cpu0) * 1e3 / f64::from(n);
            println!(
                "engine compile on {t} thread(s): {wall:.1} ms wall, {cpu:.1} ms CPU per compile ({n} compiles)"
            );
        }
        return;
    }

    let mut g = c.benchmark_group("compile/falco+incubating+sandbox");
    g.sample_size(20);
    g.bench_function("lower", |b| b.iter(|| lower(std::hint::black_box(&loaded))));
    g.bench_function("optimize -O2", |b| {
        b.iter(|| opt::optimize(std::hint::black_box(&program), opt::Options::default()))
    });
    g.bench_function("partition+fuse+vm", |b| {
        b.iter(|| Dispatch::build(std::hint::black_box(&program), PartitionOptions::default()))
    });
    g.bench_function("vm codegen (whole program)", |b| {
        b.iter(|| frule_codegen::vm::Program::compile(std::hint::black_box(&optimized)))
    });
    g.bench_function("jit codegen (whole program)", |b| {
        b.iter(|| frule_codegen::jit::Program::compile_or_vm(std::hint::black_box(&optimized)))
    });
    g.bench_function("end to end: load+lower+optimize+partition+vm", |b| {
        b.iter(|| {
            let loaded = loader::load(std::hint::black_box(&files));
            let p = lower(&loaded);
            Dispatch::build(&p, PartitionOptions::default())
        })
    });
    g.bench_function("lower+partition+jit per group (load excluded)", |b| {
        b.iter(|| native_groups_on(&lower(std::hint::black_box(&loaded)), threads))
    });
    g.bench_function("end to end: load+lower+partition+jit per group", |b| {
        b.iter(|| {
            let loaded = loader::load(std::hint::black_box(&files));
            native_groups_on(&lower(&loaded), threads)
        })
    });
    g.bench_function(
        "end to end: load+lower+partition+jit per group, 1 thread",
        |b| {
            b.iter(|| {
                let loaded = loader::load(std::hint::black_box(&files));
                native_groups_on(&lower(&loaded), 1)
            })
        },
    );
    g.bench_function("end to end: load+lower+optimize+jit", |b| {
        b.iter(|| {
            let loaded = loader::load(std::hint::black_box(&files));
            let p = lower(&loaded);
            let (o, _) = opt::optimize(&p, opt::Options::default());
            frule_codegen::jit::Program::compile_or_vm(&o)
        })
    });
    g.finish();
}

/// The CPU time (user + system, every thread, finished ones included) this process has used, from
/// `/proc/self/stat` (in clock ticks of 1/100 s, Linux's `USER_HZ`); 0 elsewhere.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

criterion_group!(benches, compile);
criterion_main!(benches);
