//! Open/close storm against the live capture: how fast one thread issues syscalls without
//! and with the capture, how many events the capture delivers, what it drops, and what the
//! reader costs.
//!
//! Run as root:
//! `cargo run --release -p frule-capture-bpf --example storm -- [PAIRS] [BUFFER_MIB] [no-toctou|filtered]`
//! (defaults: 1 000 000 open/close pairs of `/etc/hostname`, 8 MiB per ring, TOCTOU
//! copies on). `filtered` attaches the programs with nothing interesting: it measures the
//! cost every syscall pays for the in-kernel filter alone. The loop runs once without the capture (baseline), then with it while the
//! main thread drains the rings. Every figure printed is measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use frule_capture_bpf::{Capture, CaptureOptions, Interest};

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

fn load(pairs: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..pairs {
        drop(std::fs::File::open("/etc/hostname"));
    }
    start.elapsed()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pairs: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let mode = args.next().unwrap_or_default();
    let toctou = mode != "no-toctou";
    let filtered = mode == "filtered";

    let baseline = load(pairs);

    let interest = if filtered {
        Interest::none()
    } else {
        Interest::from_ppm_events([306, 307, 4, 5]).0
    };
    let options = CaptureOptions {
        interest,
        buffer_bytes: mib << 20,
        toctou,
        ..CaptureOptions::default()
    };
    let mut cap = match Capture::open(options) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("storm: {e}");
            std::process::exit(1);
        }
    };

    let done = Arc::new(AtomicBool::new(false));
    let done2 = Arc::clone(&done);
    let cpu0 = thread_cpu_time();
    let worker = std::thread::spawn(move || {
        let d = load(pairs);
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
    let loaded = worker.join().unwrap_or_default();
    let reader_cpu = thread_cpu_time().saturating_sub(cpu0);
    let c = cap.counters().map(|c| c.total()).unwrap_or_default();
    let syscalls = (2 * pairs) as f64;

    println!(
        "rings: {} x {mib} MiB, toctou {:?}",
        cap.ring_count(),
        cap.toctou()
    );
    println!(
        "baseline (no capture): {pairs} pairs in {:.3} s = {:.0} syscalls/s",
        baseline.as_secs_f64(),
        syscalls / baseline.as_secs_f64()
    );
    println!(
        "with capture:          {pairs} pairs in {:.3} s = {:.0} syscalls/s (slowdown {:.1}%)",
        loaded.as_secs_f64(),
        syscalls / loaded.as_secs_f64(),
        100.0 * (loaded.as_secs_f64() / baseline.as_secs_f64() - 1.0)
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
}
