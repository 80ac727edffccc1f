//! A syscall load generator for the storm benchmark (`benches/storm.sh`): one thread issues
//! syscalls as fast as it can for a fixed time and prints what it did. It needs no capture and
//! no privileges.
//!
//! `cargo run --release -p frule-capture-bpf --example syscall_load -- MODE SECONDS`
//!
//! Modes (each "op" is one loop iteration; the syscalls it costs are counted as issued):
//! - `open`: open + close of `/etc/hostname` (2 syscalls);
//! - `exec`: fork + execve of `/bin/true` + wait (the child's clone, execve, exit and its
//!   loader's opens are not counted: `ops` are what to compare);
//! - `connect`: socket + connect to a loopback listener + close (3 syscalls; the listener
//!   thread accepts and closes, not counted);
//! - `mix`: 8 open/close pairs, 2 connects and 1 exec per round (one op = one round);
//! - `untraced`: `getppid` (1 syscall), which no Falco rule and no state tracking asks for: what
//!   every syscall the ruleset does not need pays for the hooks and the in-kernel filter.
//!
//! Output, one line: `mode=M seconds=S ops=N ops_per_s=R syscalls=N syscalls_per_s=R cpu_s=C
//! cpu_ns_per_op=P`. `cpu_s` is the CPU time (user + system) of this process and of its waited-for
//! children over the loop: on a shared machine the wall-clock rate depends on what else runs on
//! the core, while the CPU time per op (which includes the kernel's work for each syscall, and so
//! the eBPF programs' cost) does not.
//!
//! With `SYSCALL_LOAD_SMALL_FDTABLE=1` in the environment the load runs in a child forked after every
//! descriptor above 2 is closed, so it starts with the kernel's embedded 64-slot fd table, as a
//! process started by systemd or a container init does. Without it the load keeps the table it
//! inherited: a process forked by bash (which holds fd 255) starts with a table grown past 255
//! slots, and exec never shrinks it. The capture reads an opened file's dev/ino by plain loads from
//! an embedded table and by probe reads from a grown one, so the two cost differently.

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn open_close() {
    drop(std::fs::File::open("/etc/hostname"));
}

fn exec_true() {
    let _ = Command::new("/bin/true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// User + system CPU time of `who` (`RUSAGE_SELF` or `RUSAGE_CHILDREN`), in seconds.
fn cpu_seconds(who: libc::c_int) -> f64 {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: ru points to writable memory of the right size for getrusage, which fills it.
    let ru = unsafe {
        libc::getrusage(who, ru.as_mut_ptr());
        ru.assume_init()
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn cpu_now() -> f64 {
    cpu_seconds(libc::RUSAGE_SELF) + cpu_seconds(libc::RUSAGE_CHILDREN)
}

/// Continues in a child whose fd table is the kernel's embedded one (see the module doc): the
/// parent closes every descriptor above 2, forks, waits and exits with the child's status. A child's
/// table is sized at fork by the parent's highest open descriptor.
fn continue_with_small_fd_table() {
    // SAFETY: called first thing in main, before any thread exists, so forking is sound; the
    // syscalls take no pointers except waitpid's, which gets a valid `c_int`.
    unsafe {
        // without it (Linux < 5.9) the child would keep the grown table the benchmark asked to avoid
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            eprintln!(
                "syscall_load: close_range failed, cannot start with a small fd table: {}",
                std::io::Error::last_os_error()
            );
            std::process::exit(1);
        }
        match libc::fork() {
            -1 => {
                eprintln!(
                    "syscall_load: fork failed: {}",
                    std::io::Error::last_os_error()
                );
                std::process::exit(1);
            }
            0 => {}
            child => {
                let mut status: libc::c_int = 0;
                if libc::waitpid(child, &mut status, 0) < 0 || !libc::WIFEXITED(status) {
                    std::process::exit(1);
                }
                std::process::exit(libc::WEXITSTATUS(status));
            }
        }
    }
}

fn main() {
    if std::env::var_os("SYSCALL_LOAD_SMALL_FDTABLE").is_some_and(|v| v == "1") {
        continue_with_small_fd_table();
    }
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "open".into());
    let seconds: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let listener = TcpListener::bind("127.0.0.1:0").ok();
    let addr = listener.as_ref().and_then(|l| l.local_addr().ok());
    if let Some(l) = listener {
        std::thread::spawn(move || {
            for s in l.incoming() {
                drop(s);
            }
        });
    }
    let connect = || {
        if let Some(a) = addr {
            drop(TcpStream::connect(a));
        }
    };
    let (per_op, op): (u64, Box<dyn Fn()>) = match mode.as_str() {
        "open" => (2, Box::new(open_close)),
        "exec" => (1, Box::new(exec_true)),
        "connect" => (3, Box::new(connect)),
        "mix" => (
            8 * 2 + 2 * 3 + 1,
            Box::new(move || {
                for _ in 0..8 {
                    open_close();
                }
                connect();
                connect();
                exec_true();
            }),
        ),
        "untraced" => (
            1,
            Box::new(|| {
                // SAFETY: getppid takes no arguments and cannot fail.
                unsafe { libc::getppid() };
            }),
        ),
        other => {
            eprintln!(
                "syscall_load: unknown mode {other:?} (open, exec, connect, mix or untraced)"
            );
            std::process::exit(2);
        }
    };
    let limit = Duration::from_secs_f64(seconds);
    let cpu0 = cpu_now();
    let start = Instant::now();
    let mut ops: u64 = 0;
    while start.elapsed() < limit {
        for _ in 0..16 {
            op();
        }
        ops += 16;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_now() - cpu0;
    println!(
        "mode={mode} seconds={secs:.3} ops={ops} ops_per_s={:.0} syscalls={} syscalls_per_s={:.0} cpu_s={cpu:.3} cpu_ns_per_op={:.0}",
        ops as f64 / secs,
        ops * per_op,
        (ops * per_op) as f64 / secs,
        cpu * 1e9 / ops.max(1) as f64
    );
}
