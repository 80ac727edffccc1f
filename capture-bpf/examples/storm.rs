//! Open/close storm against the live capture: how fast one thread issues syscalls without
//! and with the capture, how many events the capture delivers, what it drops, and what the
//! reader costs.
//!
//! Run as root:
//! `cargo run --release -p frule-capture-bpf --example storm -- [PAIRS] [BUFFER_MIB] [MODE]`
//! (defaults: 1 000 000 open/close pairs of `/etc/hostname`, 8 MiB per ring, TOCTOU copies on).
//! MODE is a comma-separated list: `filtered` attaches the programs with nothing interesting (the
//! cost every syscall pays for the in-kernel filter alone), `no-toctou` leaves out the
//! syscall-entry copies, `raw` attaches the raw tracepoints (`raw_tp/sys_exit`, and for the entry
//! copies the classic `syscalls:sys_enter_*` tracepoints of the five syscalls instead of one
//! `tp_btf/sys_enter` program for all), `sys-enter` or `syscall-tracepoints` choose the entry-copy
//! hook (`EntryHook`; by default the classic tracepoints when tracefs has them), `no-file-props`
//! leaves out the opened file's dev/ino lookup of open events (as when no rule reads them), `exec`
//! makes each pair a fork + execve of `/bin/true` + wait instead (capturing clone, execve and
//! procexit). The loop runs once without the capture (baseline), then with it while the main thread
//! drains the rings, then again for half as many pairs with the kernel's eBPF run-time statistics
//! on, for each program's mean run time and the mean over all of them (Falco's published
//! per-invocation metric). Every figure printed is measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use frule_capture_bpf::{AttachMode, Capture, CaptureOptions, EntryHook, Interest, RunTimeStats};

fn thread_cpu_time() -> Duration {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: ru points to writable memory of the right size for getrusage, which fills it.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_THREAD, ru.as_mut_ptr());
        ru.assume_init()
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Wall time and this thread's CPU time (user + system, so including the kernel's work for each
/// syscall and the eBPF programs it runs) of `pairs` open/close pairs, or with `exec` of `pairs`
/// runs of `/bin/true` (the children's CPU is not counted: compare the eBPF run times).
fn load(pairs: u64, exec: bool) -> (Duration, Duration) {
    let cpu0 = thread_cpu_time();
    let start = Instant::now();
    for _ in 0..pairs {
        if exec {
            let _ = std::process::Command::new("/bin/true").status();
        } else {
            drop(std::fs::File::open("/etc/hostname"));
        }
    }
    (start.elapsed(), thread_cpu_time().saturating_sub(cpu0))
}

/// Runs `load` on a worker thread while this thread drains the rings: the worker's (wall, CPU),
/// events and bytes read, and the reader's wall and CPU time.
fn drive(
    cap: &mut Capture,
    pairs: u64,
    exec: bool,
) -> ((Duration, Duration), u64, u64, Duration, Duration) {
    let done = Arc::new(AtomicBool::new(false));
    let done2 = Arc::clone(&done);
    let cpu0 = thread_cpu_time();
    let worker = std::thread::spawn(move || {
        let d = load(pairs, exec);
        done2.store(true, Ordering::Release);
        d
    });
    let (mut seen, mut bytes) = (0u64, 0u64);
    let start = Instant::now();
    loop {
        let finished = done.load(Ordering::Acquire);
        for ev in cap.poll(Duration::from_millis(50)) {
            seen += 1;
            bytes += ev.data.len() as u64;
        }
        if finished {
            for ev in cap.drain() {
                seen += 1;
                bytes += ev.data.len() as u64;
            }
            break;
        }
    }
    let wall = start.elapsed();
    let reader_cpu = thread_cpu_time().saturating_sub(cpu0);
    (
        worker.join().unwrap_or_default(),
        seen,
        bytes,
        wall,
        reader_cpu,
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pairs: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let mode = args.next().unwrap_or_default();
    let toctou = !mode.split(',').any(|m| m == "no-toctou");
    let filtered = mode.split(',').any(|m| m == "filtered");
    let exec = mode.split(',').any(|m| m == "exec");
    let entry_hook = if mode.split(',').any(|m| m == "sys-enter") {
        EntryHook::SysEnter
    } else if mode.split(',').any(|m| m == "syscall-tracepoints") {
        EntryHook::SyscallTracepoints
    } else {
        EntryHook::Auto
    };
    let attach = if mode.split(',').any(|m| m == "raw") {
        AttachMode::RawTracepoint
    } else {
        AttachMode::Auto
    };

    // The baseline runs on its own thread too, like the loaded run, so both are measured alike.
    let baseline = std::thread::spawn(move || load(pairs, exec))
        .join()
        .unwrap_or_default();

    let interest = if filtered {
        Interest::none()
    } else if exec {
        // clone, execve, procexit
        Interest::from_ppm_events([222, 223, 292, 293, 186]).0
    } else {
        Interest::from_ppm_events([306, 307, 4, 5]).0
    };
    let interest = interest.with_open_file_props(!mode.split(',').any(|m| m == "no-file-props"));
    let options = CaptureOptions {
        interest,
        buffer_bytes: mib << 20,
        toctou,
        attach,
        entry_hook,
        ..CaptureOptions::default()
    };
    let mut cap = match Capture::open(options) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("storm: {e}");
            std::process::exit(1);
        }
    };

    let (loaded, seen, bytes, wall, reader_cpu) = drive(&mut cap, pairs, exec);
    // A second loaded window with the kernel's run-time statistics on (they cost every program
    // run a clock read, so the window above is measured without them).
    let stats_before = cap.program_stats();
    let stats = RunTimeStats::enable();
    let stats_pairs = pairs / 2;
    if stats.is_ok() {
        drive(&mut cap, stats_pairs.max(1), exec);
    }
    let stats_after = cap.program_stats();
    drop(stats);
    let c = cap.counters().map(|c| c.total()).unwrap_or_default();
    let (rings, attached, toctou_state) = (
        cap.ring_count(),
        cap.attach_mode(),
        format!("{:?} through {:?}", cap.toctou(), cap.entry_hook()),
    );
    drop(cap);
    // A-B-A: the baseline again once the programs are detached, to show the machine's drift.
    let after = std::thread::spawn(move || load(pairs, exec))
        .join()
        .unwrap_or_default();
    let syscalls = (2 * pairs) as f64;
    let per_pair = |d: Duration| d.as_nanos() as f64 / pairs.max(1) as f64;
    let base_cpu = (per_pair(baseline.1) + per_pair(after.1)) / 2.0;

    println!("rings: {rings} x {mib} MiB, attach {attached:?}, toctou {toctou_state}");
    for (what, (wall, cpu)) in [
        ("baseline (no capture)", baseline),
        ("with capture         ", loaded),
        ("baseline again       ", after),
    ] {
        println!(
            "{what}: {pairs} pairs in {:.3} s = {:.0} syscalls/s, {:.0} ns CPU per pair",
            wall.as_secs_f64(),
            syscalls / wall.as_secs_f64(),
            per_pair(cpu)
        );
    }
    println!(
        "capture cost: {:.0} ns CPU per open/close pair ({:.0} ns per syscall), slowdown {:.1}% in CPU time",
        per_pair(loaded.1) - base_cpu,
        (per_pair(loaded.1) - base_cpu) / 2.0,
        100.0 * (per_pair(loaded.1) / base_cpu - 1.0)
    );
    println!(
        "events (all processes): {} written by the kernel, {seen} read ({:.1} MiB), drops {} (ring full {})",
        c.events,
        bytes as f64 / f64::from(1 << 20),
        c.drops(),
        c.drops_buffer
    );
    println!(
        "reader: {:.3} s CPU over {:.3} s wall = {:.1}% of a core, {:.0} ns per event",
        reader_cpu.as_secs_f64(),
        wall.as_secs_f64(),
        100.0 * reader_cpu.as_secs_f64() / wall.as_secs_f64(),
        reader_cpu.as_nanos() as f64 / seen.max(1) as f64
    );
    println!(
        "eBPF programs, {} more with run-time statistics on (all processes):",
        stats_pairs.max(1)
    );
    let (mut total_runs, mut total_ns) = (0u64, 0u128);
    for a in &stats_after {
        let Some(b) = stats_before.iter().find(|b| b.name == a.name) else {
            continue;
        };
        let runs = a.runs.saturating_sub(b.runs);
        let ns = a.run_time.saturating_sub(b.run_time).as_nanos();
        if runs > 0 {
            println!(
                "  {:<22} {runs:>10} runs {:>7.0} ns per run",
                a.name,
                ns as f64 / runs as f64
            );
            total_runs += runs;
            total_ns += ns;
        }
    }
    println!(
        "  {:<22} {total_runs:>10} runs {:>7.0} ns per run (Falco modern_bpf: 349 ns per invocation with 15 syscalls)",
        "all programs",
        total_ns as f64 / total_runs.max(1) as f64
    );
}
