//! Live mode of `frule-monitor`: frule's eBPF capture feeding the engine.
//!
//! Order of start-up (so nothing is missed): build the interest set from the enabled rules
//! plus the syscalls state tracking needs, open the capture, then scan `/proc` into the
//! engine's initial state. What changes between the attach and the scan is seen twice (scan
//! and event), never missed. Then the loop polls batches, evaluates each event and sends the
//! alerts to the configured outputs until SIGINT or SIGTERM sets the stop flag.
//!
//! Invariants:
//! - every problem of the capture (not root, no BTF, no BPF, attach failure) comes back as an
//!   `Err` message, never a panic; the caller exits 2 with it;
//! - events of the monitor's own process are skipped, so writing alerts can never feed back
//!   into the rules (Falco's drivers skip their own events the same way);
//! - a malformed event from the kernel is counted and skipped, the loop goes on.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use frule_capture_bpf::procfs::{self, FdKind as ProcFdKind};
use frule_capture_bpf::{
    Capture, CaptureOptions, EventHeader, Interest, SUPPORTED, SYSCALL_TABLE_SIZE,
};
use frule_lang::evttypes::EvtTypeSet;
use frule_runtime::engine::{Engine, SYSCALL_SOURCE};
use frule_runtime::event::Event;
use frule_runtime::output::Outputs;
use frule_runtime::scap::{CaptureState, FdInfo, FdKind, GroupInfo, ProcInfo, UserInfo};

/// Syscalls the state tracking needs whatever the rules say: process tree, fd table, cwd,
/// users. Names as in [`SUPPORTED`]; names the capture does not know are ignored.
const STATE_SYSCALLS: &[&str] = &[
    "clone",
    "clone3",
    "fork",
    "vfork",
    "execve",
    "execveat",
    "open",
    "openat",
    "openat2",
    "creat",
    "close",
    "socket",
    "socketpair",
    "connect",
    "accept",
    "accept4",
    "bind",
    "listen",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "pipe",
    "pipe2",
    "chdir",
    "fchdir",
    "chroot",
    "setuid",
    "setgid",
    "setresuid",
    "setresgid",
    "setreuid",
    "setregid",
    "setsid",
    "setpgid",
    "memfd_create",
];

/// Set by SIGINT/SIGTERM; the loop checks it between polls.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `on_signal` only stores to an atomic, which is async-signal-safe, and has
        // the `extern "C" fn(c_int)` signature `signal` expects.
        unsafe {
            libc::signal(
                sig,
                on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

/// The interest set for the enabled rules, and one warning per rule needing events the
/// capture cannot give.
fn interest_for(engine: &Engine) -> (Interest, Vec<String>) {
    let needed = engine.ruleset().evttypes_needed(SYSCALL_SOURCE);
    let mut warnings = Vec::new();
    let mut interest = if needed.is_all() {
        Interest::all_supported()
    } else {
        let (interest, unsupported) = Interest::from_ppm_events(needed.codes());
        if !unsupported.is_empty() {
            let missing = EvtTypeSet::from_codes(&unsupported);
            for (i, r) in engine.ruleset().rules().iter().enumerate() {
                if !engine.ruleset().is_active(i) || r.source != SYSCALL_SOURCE {
                    continue;
                }
                let names: BTreeSet<&str> =
                    r.evttypes.intersect(&missing).names().into_iter().collect();
                if !names.is_empty() {
                    let list: Vec<&str> = names.into_iter().collect();
                    warnings.push(format!(
                        "rule '{}' needs event types the live capture does not give: {}",
                        r.name,
                        list.join(", ")
                    ));
                }
            }
        }
        interest
    };
    for s in SUPPORTED
        .iter()
        .filter(|s| STATE_SYSCALLS.contains(&s.name))
    {
        interest = interest.with_syscall(s.nr);
    }
    (interest.with_procexit(true), warnings)
}

fn nul_list<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = Vec::new();
    for s in items {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    out
}

/// The `scap_fd_type` code of an fd known only by its link text.
fn named_fd_type(link: &str) -> u8 {
    let anon = link.strip_prefix("anon_inode:").unwrap_or("");
    match anon.trim_start_matches('[').trim_end_matches(']') {
        "eventfd" => 9,
        "signalfd" => 11,
        "eventpoll" => 12,
        "inotify" => 13,
        "timerfd" => 14,
        "userfaultfd" => 18,
        "io_uring" => 19,
        "pidfd" => 21,
        a if a.starts_with("bpf") => 17,
        _ if link.starts_with("/memfd:") => 20,
        _ => 10,
    }
}

fn v4_code(a: &IpAddr) -> Option<u32> {
    match a {
        IpAddr::V4(v) => Some(u32::from_le_bytes(v.octets())),
        IpAddr::V6(v) => v.to_ipv4_mapped().map(|v| u32::from_le_bytes(v.octets())),
    }
}

fn v6_bytes(a: &IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
        IpAddr::V6(v) => v.octets(),
    }
}

fn fd_kind(kind: &ProcFdKind, ino: u64) -> FdKind {
    match kind {
        ProcFdKind::File { path, flags, dev } => FdKind::File {
            open_flags: *flags,
            name: path.as_bytes().to_vec(),
            dev: Some(*dev),
        },
        ProcFdKind::Inet { local, remote, tcp } => {
            let l4proto = if *tcp { 1 } else { 2 };
            let server = remote.0.is_unspecified() && remote.1 == 0;
            match (v4_code(&local.0), v4_code(&remote.0)) {
                (Some(ip), _) if server => FdKind::Ipv4Server {
                    ip,
                    port: local.1,
                    l4proto,
                },
                (Some(sip), Some(dip)) => FdKind::Ipv4Socket {
                    sip,
                    dip,
                    sport: local.1,
                    dport: remote.1,
                    l4proto,
                },
                _ if server => FdKind::Ipv6Server {
                    ip: v6_bytes(&local.0),
                    port: local.1,
                    l4proto,
                },
                _ => FdKind::Ipv6Socket {
                    sip: v6_bytes(&local.0),
                    dip: v6_bytes(&remote.0),
                    sport: local.1,
                    dport: remote.1,
                    l4proto,
                },
            }
        }
        ProcFdKind::Unix { path } => FdKind::Unix {
            source: 0,
            destination: 0,
            name: path.as_bytes().to_vec(),
        },
        ProcFdKind::Socket => FdKind::Named {
            fd_type: 10,
            name: format!("socket:[{ino}]").into_bytes(),
        },
        ProcFdKind::Pipe => FdKind::Named {
            fd_type: 7,
            name: format!("pipe:[{ino}]").into_bytes(),
        },
        ProcFdKind::Other(link) => FdKind::Named {
            fd_type: named_fd_type(link),
            name: link.as_bytes().to_vec(),
        },
    }
}

/// The host's users and groups, as a capture's user list would record them.
fn host_users(state: &mut CaptureState) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if let [name, _, uid, gid, _, home, shell, ..] = f.as_slice()
            && let (Ok(uid), Ok(gid)) = (uid.parse(), gid.parse())
        {
            state.users.push(UserInfo {
                uid,
                gid,
                name: (*name).into(),
                homedir: (*home).into(),
                shell: (*shell).into(),
            });
        }
    }
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    for line in group.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if let [name, _, gid, ..] = f.as_slice()
            && let Ok(gid) = gid.parse()
        {
            state.groups.push(GroupInfo {
                gid,
                name: (*name).into(),
            });
        }
    }
}

/// The initial state: every thread and fd of `/proc`, and the host's users.
pub fn initial_state() -> CaptureState {
    let mut state = CaptureState::default();
    host_users(&mut state);
    for t in procfs::scan() {
        for fd in &t.fds {
            state.fds.push(FdInfo {
                tid: t.tid,
                fd: fd.fd,
                ino: fd.ino,
                kind: fd_kind(&fd.kind, fd.ino),
            });
        }
        let cgroups: Vec<String> = t
            .cgroups
            .iter()
            .map(|(ctrl, path)| format!("{ctrl}={path}"))
            .collect();
        state.processes.push(ProcInfo {
            tid: t.tid,
            pid: t.pid,
            ptid: t.ptid,
            sid: t.sid as i64,
            vpgid: t.pgid as i64,
            pgid: t.pgid as i64,
            comm: t.comm.into_bytes(),
            exe: t.exe.into_bytes(),
            exepath: t.exepath.into_bytes(),
            args: nul_list(t.args.iter().map(String::as_str)),
            cwd: t.cwd.into_bytes(),
            fdlimit: t.fdlimit,
            uid: t.uid,
            gid: t.gid,
            vmsize_kb: t.vmsize_kb,
            vmrss_kb: t.vmrss_kb,
            vmswap_kb: t.vmswap_kb,
            pfmajor: t.pfmajor,
            pfminor: t.pfminor,
            env: nul_list(t.env.iter().map(String::as_str)),
            vtid: t.vtid as i64,
            vpid: t.vpid as i64,
            cgroups: nul_list(cgroups.iter().map(String::as_str)),
            root: t.root.into_bytes(),
            tty: t.tty,
            loginuid: t.loginuid,
            cap_inheritable: t.cap_inheritable,
            cap_permitted: t.cap_permitted,
            cap_effective: t.cap_effective,
            ..ProcInfo::default()
        });
    }
    state
}

/// Watches the host until SIGINT/SIGTERM, sending alerts to `outputs`, then prints the
/// summary on stderr. `Err` carries the message of a capture that could not start.
pub fn run(engine: &mut Engine, outputs: &mut Outputs) -> Result<(), String> {
    let (interest, warnings) = interest_for(engine);
    for w in &warnings {
        eprintln!("Warning: {w}");
    }
    let syscalls = (0..SYSCALL_TABLE_SIZE)
        .filter(|&nr| interest.contains_syscall(nr))
        .count();
    install_signal_handlers();
    let mut capture = Capture::open(CaptureOptions {
        interest,
        ..CaptureOptions::default()
    })
    .map_err(|e| format!("Error: cannot start the live capture: {e}"))?;
    engine.set_capture_state(&initial_state());
    let own_tid = u64::from(std::process::id());
    eprintln!(
        "frule-monitor: watching {syscalls} syscalls with {} rules",
        engine.ruleset().active_count()
    );

    let started = Instant::now();
    let mut alerts = Vec::new();
    let mut events: u64 = 0;
    let mut malformed: u64 = 0;
    let mut last_drops: u64 = 0;
    let mut drop_occurrences: u64 = 0;
    let mut last_check = Instant::now();
    while !STOP.load(Ordering::SeqCst) {
        for bytes in capture.poll(Duration::from_millis(100)) {
            if EventHeader::parse(bytes).is_some_and(|h| h.tid == own_tid) {
                continue;
            }
            let Ok(evt) = Event::new(bytes) else {
                malformed += 1;
                continue;
            };
            events += 1;
            alerts.clear();
            engine.process(&evt, 0, &mut alerts);
            for a in &alerts {
                outputs.send(a);
            }
        }
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            if let Ok(c) = capture.counters() {
                let drops = c.total().drops();
                if drops > last_drops {
                    drop_occurrences += 1;
                    last_drops = drops;
                }
            }
        }
    }
    let drops = capture
        .counters()
        .map(|c| c.total().drops())
        .unwrap_or(last_drops);
    if drops > last_drops {
        drop_occurrences += 1;
    }
    drop(capture);
    outputs.close();
    for e in outputs.take_errors() {
        eprintln!("Error: {e}");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let eps = if elapsed > 0.0 {
        events as f64 / elapsed
    } else {
        0.0
    };
    eprintln!("Elapsed time: {elapsed:.3}, Captured Events: {events}, {eps:.2} eps");
    eprintln!("Syscall event drop monitoring:");
    eprintln!("   - event drop detected: {drop_occurrences} occurrences");
    eprintln!("   - num times actions taken: 0");
    eprintln!("   - events dropped: {drops}, malformed events skipped: {malformed}");
    eprint!("{}", engine.summary());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn fd_kinds_from_proc_follow_libscap_codes() {
        let lo = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let cases = [
            (
                ProcFdKind::Inet {
                    local: (lo, 8080),
                    remote: (any, 0),
                    tcp: true,
                },
                FdKind::Ipv4Server {
                    ip: u32::from_le_bytes([127, 0, 0, 1]),
                    port: 8080,
                    l4proto: 1,
                },
            ),
            (
                ProcFdKind::Inet {
                    local: (IpAddr::V6(Ipv6Addr::LOCALHOST), 5353),
                    remote: (IpAddr::V6(Ipv6Addr::LOCALHOST), 53),
                    tcp: false,
                },
                FdKind::Ipv6Socket {
                    sip: Ipv6Addr::LOCALHOST.octets(),
                    dip: Ipv6Addr::LOCALHOST.octets(),
                    sport: 5353,
                    dport: 53,
                    l4proto: 2,
                },
            ),
            (
                ProcFdKind::Pipe,
                FdKind::Named {
                    fd_type: 7,
                    name: b"pipe:[42]".to_vec(),
                },
            ),
            (
                ProcFdKind::Other("anon_inode:[eventpoll]".into()),
                FdKind::Named {
                    fd_type: 12,
                    name: b"anon_inode:[eventpoll]".to_vec(),
                },
            ),
            (
                ProcFdKind::Other("anon_inode:inotify".into()),
                FdKind::Named {
                    fd_type: 13,
                    name: b"anon_inode:inotify".to_vec(),
                },
            ),
        ];
        for (proc_kind, want) in cases {
            assert_eq!(fd_kind(&proc_kind, 42), want, "{proc_kind:?}");
        }
    }

    #[test]
    fn nul_list_ends_every_item_with_nul() {
        assert_eq!(nul_list(["a", "bc"]), b"a\0bc\0".to_vec());
        assert!(nul_list([]).is_empty());
    }
}
