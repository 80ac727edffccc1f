//! Live mode of `frule-monitor`: frule's eBPF capture feeding the engine.
//!
//! Order of start-up (so nothing is missed): build the interest set from the enabled rules
//! plus the syscalls state tracking needs, open the capture, then scan `/proc` into the
//! engine's initial state while the capture's events are drained into memory
//! (`Capture::drain_while`), so none is dropped meanwhile. What changes between the attach and
//! the scan is seen twice (scan and event), never missed. Then the loop polls batches (the held
//! events first), evaluates each event and sends the alerts to the configured outputs until
//! SIGINT or SIGTERM sets the stop flag.
//!
//! Invariants:
//! - every problem of the capture (not root, no BTF, no BPF, attach failure) comes back as an
//!   `Err` message, never a panic; the caller exits 2 with it;
//! - events of the monitor's own process are skipped, so writing alerts can never feed back
//!   into the rules (Falco's drivers skip their own events the same way);
//! - a malformed event from the kernel is counted and skipped, the loop goes on.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use frule_capture_bpf::procfs::{self, FdKind as ProcFdKind};
use frule_capture_bpf::{
    Capture, CaptureOptions, Counters, CpuCounters, EntryHook, EventHeader, Interest,
    PROCEXIT_CODES, SUPPORTED, SYSCALL_TABLE_SIZE, Toctou,
};
use frule_lang::evttypes::EvtTypeSet;
use frule_lang::loader::Priority;
use frule_runtime::config::{self, Config, ConfigError, DropAction, EngineKind, SyscallEventDrops};
use frule_runtime::container::tracker::{CONTAINER_E, CONTAINER_JSON_2_E, CONTAINER_JSON_E};
use frule_runtime::engine::{Engine, SYSCALL_SOURCE};
use frule_runtime::event::Event;
use frule_runtime::output::Outputs;
use frule_runtime::scap::{
    CaptureState, FdInfo, FdKind, GroupInfo, Interface, InterfaceAddr, ProcInfo, ScapWriter,
    UserInfo, WriterOptions,
};

use crate::web::{self, Published, WebOptions};

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
    // SAFETY: `on_sighup` only stores to an atomic, which is async-signal-safe, and has the
    // `extern "C" fn(c_int)` signature `signal` expects.
    unsafe {
        libc::signal(
            libc::SIGHUP,
            on_sighup as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
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
/// capture cannot give. A capture being recorded (`recording`) takes every supported syscall:
/// a recording serves later rules and `frulec profile`, which learns the syscalls a workload used
/// and must not see only those today's rules ask for. Open events carry the opened file's dev,
/// ino and flag bits only when a rule reads them ([`Engine::reads_open_file_props`]) or the
/// capture is recorded.
fn interest_for(engine: &Engine, recording: bool) -> (Interest, Vec<String>) {
    let needed = engine.ruleset().evttypes_needed(SYSCALL_SOURCE);
    let mut warnings = Vec::new();
    let mut interest = if needed.is_all() || recording {
        Interest::all_supported()
    } else {
        let (interest, mut unsupported) = Interest::from_ppm_events(needed.codes());
        // the `container` metaevents are the monitor's own, made from its container runtime
        // lookups (`container_events`), not the capture's
        unsupported.retain(|c| ![CONTAINER_E, CONTAINER_JSON_E, CONTAINER_JSON_2_E].contains(c));
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
    // the opened file's dev/ino/flag bits cost an open event most of its kernel time when the fd
    // table has grown; a recording keeps them, as Falco's captures have them
    let props = recording || engine.reads_open_file_props();
    (
        interest.with_procexit(true).with_open_file_props(props),
        warnings,
    )
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
            let l4proto = if *tcp { 2 } else { 3 }; // libscap SCAP_L4_TCP, SCAP_L4_UDP
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

/// The host's network interfaces (`getifaddrs`), as a capture's interface list records them:
/// libsinsp decides which end of a socket is local (`fd.lip`, `fd.lport`, …) with this list.
fn host_interfaces(state: &mut CaptureState) {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head into `head`, which we own and free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return;
    }
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, alive until freeifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: ifa_addr is non-null and points to a sockaddr of the family it declares.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        let v4 = |p: *const libc::sockaddr| {
            if p.is_null() {
                return 0;
            }
            // SAFETY: the caller checked the family is AF_INET, so this is a sockaddr_in.
            let sin = unsafe { &*(p as *const libc::sockaddr_in) };
            // s_addr is in network order; its memory bytes are the address's octets
            u32::from_le_bytes(sin.sin_addr.s_addr.to_ne_bytes())
        };
        let v6 = |p: *const libc::sockaddr| {
            if p.is_null() {
                return [0u8; 16];
            }
            // SAFETY: the caller checked the family is AF_INET6, so this is a sockaddr_in6.
            let sin6 = unsafe { &*(p as *const libc::sockaddr_in6) };
            sin6.sin6_addr.s6_addr
        };
        let addr = match family {
            libc::AF_INET => InterfaceAddr::V4 {
                addr: v4(ifa.ifa_addr),
                netmask: v4(ifa.ifa_netmask),
                bcast: v4(ifa.ifa_ifu),
            },
            libc::AF_INET6 => InterfaceAddr::V6 {
                addr: v6(ifa.ifa_addr),
                netmask: v6(ifa.ifa_netmask),
                bcast: [0; 16],
            },
            _ => continue,
        };
        state.interfaces.push(Interface {
            name,
            addr,
            linkspeed: 0,
        });
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
}

/// The initial state: every thread and fd of `/proc`, and the host's users.
pub fn initial_state() -> CaptureState {
    let mut state = CaptureState::default();
    host_users(&mut state);
    host_interfaces(&mut state);
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

/// How the live monitor runs, beyond the engine and the outputs.
pub struct LiveOptions {
    /// The capture's ring buffers and entry hook (see [`capture_settings`]).
    pub capture: CaptureSettings,
    /// `--write FILE`: record the initial state and every evaluated event into a `.scap` file.
    pub write: Option<PathBuf>,
    /// `syscall_event_drops`.
    pub drops: SyscallEventDrops,
    /// The web server, when `webserver.enabled`.
    pub web: Option<WebOptions>,
    /// Whether per-event-type evaluation time is measured (`metrics.enabled`).
    pub metrics: bool,
    /// Files and directories to watch for changes (`watch_config_files`): the rules files and
    /// the configuration file; empty: no watching.
    pub watch: Vec<PathBuf>,
    /// Reads the configuration again, then loads, selects and builds the rules (SIGHUP and
    /// watched changes). Runs on a side thread; `Err` is the message to log, and the running
    /// rules stay.
    pub reload: Arc<dyn Fn() -> Result<Reloaded, String> + Send + Sync>,
    /// The rules files of the current load, with their SHA-256 (for `/metrics`).
    pub rules_files: Vec<(String, String)>,
}

/// The live capture's settings from the configuration (`engine`, `frule.entry_hook`), in the
/// capture's own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSettings {
    /// Bytes of each ring buffer.
    pub buffer_bytes: usize,
    /// CPUs sharing one ring buffer.
    pub cpus_per_buffer: usize,
    /// Which programs make the syscall-entry copies.
    pub entry_hook: EntryHook,
}

/// The host facts the ring settings are checked against.
#[derive(Debug, Clone, Copy)]
pub struct HostCpus {
    /// The page size in bytes.
    pub page_size: usize,
    /// CPUs online now (Falco compares `cpus_for_each_buffer` with these).
    pub online: usize,
    /// CPUs the kernel can bring up (the capture maps a ring to each of these).
    pub possible: usize,
}

impl HostCpus {
    /// The running host's page size and CPU counts.
    pub fn current() -> HostCpus {
        // SAFETY: sysconf has no preconditions; it only reads system constants.
        let (page, online) = unsafe {
            (
                libc::sysconf(libc::_SC_PAGESIZE),
                libc::sysconf(libc::_SC_NPROCESSORS_ONLN),
            )
        };
        let online = usize::try_from(online).unwrap_or(1).max(1);
        // "0-3,6" -> 7: the highest possible CPU index plus one, as libbpf counts them
        let possible = std::fs::read_to_string("/sys/devices/system/cpu/possible")
            .ok()
            .and_then(|text| {
                text.trim()
                    .split([',', '-'])
                    .filter_map(|n| n.parse::<usize>().ok())
                    .max()
            })
            .map_or(online, |max| (max + 1).max(online));
        HostCpus {
            page_size: usize::try_from(page).unwrap_or(4096),
            online,
            possible,
        }
    }
}

/// Maps `engine` and `frule.entry_hook` to the capture's options with Falco's checks, and
/// returns the warnings to print.
///
/// - `buf_size_preset`: the size must be a multiple of the page size and more than two pages
///   (Falco's `configure_syscall_buffer_size`); unset: the capture's default, 8 MiB.
/// - `cpus_for_each_buffer`: `0` is one ring for all CPUs (libpman); more than the online CPUs
///   is one ring for all of them with Falco's warning (`configure_syscall_buffer_num`); unset,
///   and always for `ebpf` and `kmod`: one ring per CPU.
pub fn capture_settings(
    config: &Config,
    host: HostCpus,
) -> Result<(CaptureSettings, Vec<String>), ConfigError> {
    let defaults = CaptureOptions::default();
    let mut warnings = Vec::new();
    let engine = &config.engine;
    let buffer_bytes = match &engine.buf_size_preset {
        None => defaults.buffer_bytes,
        Some(preset) => {
            let bytes =
                config::buf_size_preset_bytes(i64::from(preset.value)).ok_or_else(|| {
                    preset.error(format!(
                        "expected a preset index between 1 and 10, found {}",
                        preset.value
                    ))
                })?;
            let page = host.page_size.max(1);
            if !bytes.is_multiple_of(page) || bytes / page <= 2 {
                return Err(preset.error(format!(
                    "preset {} gives ring buffers of {bytes} bytes, which must be a multiple of the page size ({page}) and more than two pages: choose a greater preset",
                    preset.value
                )));
            }
            bytes
        }
    };
    let cpus_per_buffer = match (&engine.kind, &engine.cpus_for_each_buffer) {
        (EngineKind::ModernEbpf, Some(n)) => {
            let want = usize::from(n.value);
            if want > host.online {
                warnings.push(n.remark(&format!(
                    "a ring buffer every {want} CPUs was asked for, but only {} CPUs are online: one ring buffer for all CPUs",
                    host.online
                )));
            }
            if want == 0 || want >= host.online {
                host.possible.max(1)
            } else {
                want
            }
        }
        _ => defaults.cpus_per_buffer,
    };
    let entry_hook = match config.entry_hook {
        config::EntryHook::Auto => EntryHook::Auto,
        config::EntryHook::SysEnter => EntryHook::SysEnter,
        config::EntryHook::SyscallTracepoints => EntryHook::SyscallTracepoints,
    };
    Ok((
        CaptureSettings {
            buffer_bytes,
            cpus_per_buffer,
            entry_hook,
        },
        warnings,
    ))
}

/// The start-up line describing the rings and the entry hook in use (Falco logs the buffer size
/// and the CPUs per buffer likewise).
fn capture_line(capture: &Capture, settings: &CaptureSettings) -> String {
    let rings = capture.ring_count();
    let mib = settings.buffer_bytes >> 20;
    let size = if mib > 0 {
        format!("{mib} MiB")
    } else {
        format!("{} KiB", settings.buffer_bytes >> 10)
    };
    let hook = match (capture.entry_hook(), capture.toctou()) {
        (None, _) | (_, Toctou::Disabled) => "none".to_string(),
        (Some(kind), toctou) => {
            let name = match kind {
                EntryHook::SysEnter => "sys_enter",
                _ => "syscall_tracepoints",
            };
            match toctou {
                // an entry copy that failed to attach leaves open/connect paths read at exit
                Toctou::Unavailable(why) => format!("{name} (not attached: {why})"),
                Toctou::NotNeeded => format!(
                    "{name} (detached: no rule needs open, creat, openat, openat2 or connect)"
                ),
                // the classic tracepoints run only for the wanted syscalls among the five
                _ if kind == EntryHook::SyscallTracepoints => format!(
                    "{name} ({})",
                    capture
                        .entry_hooks_attached()
                        .iter()
                        .map(|t| t.trim_start_matches("sys_enter_"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => name.to_string(),
            }
        }
    };
    let sharing = match settings.cpus_per_buffer {
        1 => "one per CPU".to_string(),
        n => format!("one every {n} CPUs"),
    };
    format!(
        "frule-monitor: {rings} ring buffer{} of {size}, {sharing}; entry hook: {hook}",
        if rings == 1 { "" } else { "s" },
    )
}

/// What a successful reload produced.
pub struct Reloaded {
    /// The engine with the new rules (its state is replaced by the running one's).
    pub engine: Engine,
    /// The rules files of the new load, with their SHA-256 (for `/metrics`).
    pub rules_files: Vec<(String, String)>,
    /// Remarks to log: configuration keys that changed but apply only after a restart.
    pub notes: Vec<String>,
}

/// Set by SIGHUP: reload the rules.
static RELOAD: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sighup(_sig: libc::c_int) {
    RELOAD.store(true, Ordering::SeqCst);
}

/// Threads of this process (the main thread, the capture's start-up drain thread, the reload and
/// web threads): their events are not evaluated. A thread's slot is freed when its exit event
/// is seen (`release_own_thread`). A fixed set of atomics so the per-event check takes no lock.
static OWN_TIDS: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

fn gettid() -> u64 {
    // SAFETY: the gettid syscall takes no arguments and cannot fail.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    u64::try_from(tid).unwrap_or(0)
}

/// Registers the calling thread as one of the monitor's own.
fn register_own_thread() {
    let tid = gettid();
    for slot in &OWN_TIDS {
        if slot
            .compare_exchange(0, tid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
            || slot.load(Ordering::SeqCst) == tid
        {
            return;
        }
    }
}

/// Forgets one of the monitor's threads once its exit event has been seen: every event it made
/// came before (events are handed out in time order), and its id may now be reused by another
/// process, whose events must be evaluated.
fn release_own_thread(tid: u64) {
    for slot in &OWN_TIDS {
        if slot
            .compare_exchange(tid, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

/// Frees the slots of own threads that are gone without their exit event having been seen (the
/// kernel dropped it, or the rings were full): otherwise the kernel could give the id to another
/// process, whose events would then be skipped. A thread counts as gone when
/// `/proc/self/task/<tid>` is missing at two checks in a row (`suspects` carries the first
/// sighting to the next check), so that the events it made just before exiting, still in the
/// rings at the first check, are skipped as before. `alive` tells whether a thread of this
/// process still exists ([`own_thread_alive`]).
fn prune_own_threads(suspects: &mut Vec<u64>, alive: impl Fn(u64) -> bool) {
    let mut gone = Vec::new();
    for slot in &OWN_TIDS {
        let tid = slot.load(Ordering::SeqCst);
        if tid == 0 || alive(tid) {
            continue;
        }
        if suspects.contains(&tid) {
            release_own_thread(tid);
        } else {
            gone.push(tid);
        }
    }
    *suspects = gone;
}

/// Whether thread `tid` of this process still exists.
fn own_thread_alive(tid: u64) -> bool {
    std::path::Path::new(&format!("/proc/self/task/{tid}")).exists()
}

fn is_own(tid: u64) -> bool {
    OWN_TIDS.iter().any(|s| s.load(Ordering::Relaxed) == tid)
}

/// Falco's token bucket: `rate` tokens a second up to `max_burst`, starting full.
#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    max: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(rate: f64, max: f64) -> Self {
        TokenBucket {
            rate,
            max,
            tokens: max,
            last: Instant::now(),
        }
    }

    fn claim(&mut self, now: Instant) -> bool {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.rate).min(self.max);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The kernel counters as Falco names them (one second's delta, or totals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct DropCounts {
    /// Events the kernel tried to send (written plus dropped), Falco's `n_evts`.
    n_evts: u64,
    n_drops: u64,
    buffer: u64,
    buffer_process: u64,
    buffer_file: u64,
    buffer_network: u64,
    buffer_other: u64,
    scratch: u64,
    max_event_size: u64,
    no_ring: u64,
}

impl DropCounts {
    fn of(c: &CpuCounters) -> Self {
        DropCounts {
            n_evts: c.events + c.drops(),
            n_drops: c.drops(),
            buffer: c.drops_buffer,
            buffer_process: c.drops_buffer_proc,
            buffer_file: c.drops_buffer_file,
            buffer_network: c.drops_buffer_net,
            buffer_other: c.drops_buffer_other,
            scratch: c.drops_no_scratch,
            max_event_size: c.drops_max_event_size,
            no_ring: c.drops_no_ring,
        }
    }

    fn minus(&self, o: &Self) -> Self {
        DropCounts {
            n_evts: self.n_evts.saturating_sub(o.n_evts),
            n_drops: self.n_drops.saturating_sub(o.n_drops),
            buffer: self.buffer.saturating_sub(o.buffer),
            buffer_process: self.buffer_process.saturating_sub(o.buffer_process),
            buffer_file: self.buffer_file.saturating_sub(o.buffer_file),
            buffer_network: self.buffer_network.saturating_sub(o.buffer_network),
            buffer_other: self.buffer_other.saturating_sub(o.buffer_other),
            scratch: self.scratch.saturating_sub(o.scratch),
            max_event_size: self.max_event_size.saturating_sub(o.max_event_size),
            no_ring: self.no_ring.saturating_sub(o.no_ring),
        }
    }

    /// The `output_fields` of Falco's drop alert. Falco's per-syscall buffer categories
    /// (`n_drops_buffer_open_exit`, …) are finer than the capture's counters; frule reports its
    /// own four categories under their own names instead of inventing Falco's.
    fn alert_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("n_evts", self.n_evts.to_string()),
            ("n_drops", self.n_drops.to_string()),
            ("n_drops_buffer_total", self.buffer.to_string()),
            ("n_drops_buffer_process", self.buffer_process.to_string()),
            ("n_drops_buffer_file", self.buffer_file.to_string()),
            ("n_drops_buffer_network", self.buffer_network.to_string()),
            ("n_drops_buffer_other", self.buffer_other.to_string()),
            ("n_drops_scratch_map", self.scratch.to_string()),
            ("n_drops_max_event_size", self.max_event_size.to_string()),
            ("n_drops_no_ring", self.no_ring.to_string()),
            ("n_drops_page_faults", "0".to_string()),
            ("n_drops_bug", "0".to_string()),
            ("ebpf_enabled", "1".to_string()),
        ]
    }
}

/// Falco's `syscall_evt_drop_mgr`: once a second, compares the kernel counters with the previous
/// second's and, when the fraction dropped exceeds the threshold and the token bucket allows,
/// runs the configured actions.
#[derive(Debug)]
struct DropManager {
    config: SyscallEventDrops,
    bucket: TokenBucket,
    last: DropCounts,
    /// Seconds with drops above the threshold (`event drop detected: N occurrences`).
    occurrences: u64,
    /// Times the actions ran (`num times actions taken: N`).
    actions_taken: u64,
}

/// What the drop manager asks of the loop.
#[derive(Debug, PartialEq, Eq)]
enum DropVerdict {
    Continue,
    Exit,
}

const DROP_RULE: &str = "Falco internal: syscall event drop";

impl DropManager {
    fn new(config: SyscallEventDrops) -> Self {
        let bucket = TokenBucket::new(config.rate, config.max_burst);
        DropManager {
            config,
            bucket,
            last: DropCounts::default(),
            occurrences: 0,
            actions_taken: 0,
        }
    }

    fn check(&mut self, now_counts: DropCounts, outputs: &mut Outputs) -> DropVerdict {
        let mut delta = now_counts.minus(&self.last);
        self.last = now_counts;
        let mut threshold = self.config.threshold;
        if self.config.simulate_drops {
            // as Falco: one pretend drop a second, with a threshold of zero
            delta.n_drops += 1;
            delta.n_evts += 1;
            threshold = 0.0;
        }
        if delta.n_drops == 0 {
            return DropVerdict::Continue;
        }
        let ratio = if delta.n_evts == 0 {
            1.0
        } else {
            delta.n_drops as f64 / delta.n_evts as f64
        };
        if ratio <= threshold {
            return DropVerdict::Continue;
        }
        self.occurrences += 1;
        if !self.bucket.claim(Instant::now()) {
            return DropVerdict::Continue;
        }
        self.actions_taken += 1;
        let msg = format!(
            "{DROP_RULE}. {} system calls dropped in last second.",
            delta.n_drops
        );
        let mut verdict = DropVerdict::Continue;
        for a in &self.config.actions {
            match a {
                DropAction::Ignore => {}
                DropAction::Log => log(&msg),
                DropAction::Alert => outputs.send_internal(
                    now_ns(),
                    Priority::Debug,
                    DROP_RULE,
                    &msg,
                    &delta.alert_fields(),
                ),
                DropAction::Exit => {
                    log(&msg);
                    log("Exiting.");
                    verdict = DropVerdict::Exit;
                }
            }
        }
        verdict
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A log line on stderr with Falco's prefix (`Sun Nov 29 03:44:46 2026: …`).
fn log(msg: &str) {
    let now = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::system());
    eprintln!("{}: {msg}", now.strftime("%a %b %e %H:%M:%S %Y"));
}

/// Modification stamps of the watched files (directories contribute their `.yml`/`.yaml`
/// files), to notice a change.
fn stamps(paths: &[PathBuf]) -> Vec<(PathBuf, Option<(std::time::SystemTime, u64)>)> {
    let stamp = |p: &std::path::Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.modified().unwrap_or(std::time::UNIX_EPOCH), m.len()))
    };
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            files.retain(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"));
            files.sort();
            for f in files {
                let s = stamp(&f);
                out.push((f, s));
            }
        } else {
            out.push((p.clone(), stamp(p)));
        }
    }
    out
}

/// Evaluation counts and time per event type (only with `metrics.enabled`). Every event is
/// counted; one in [`EvalTimes::SAMPLE`] is timed and its time counts for `SAMPLE` events, so
/// the clock reads cost little on the hot path and the total is an unbiased estimate.
#[derive(Debug, Default)]
struct EvalTimes {
    ns: Vec<u64>,
    count: Vec<u64>,
    seen: u64,
}

impl EvalTimes {
    const SAMPLE: u64 = 16;

    /// Whether the next event is timed.
    fn sample_next(&mut self) -> bool {
        self.seen = self.seen.wrapping_add(1);
        self.seen.is_multiple_of(Self::SAMPLE)
    }

    fn slot(&mut self, evttype: u16) -> usize {
        let i = usize::from(evttype);
        if self.ns.len() <= i {
            self.ns.resize(i + 1, 0);
            self.count.resize(i + 1, 0);
        }
        i
    }

    fn count(&mut self, evttype: u16) {
        let i = self.slot(evttype);
        if let Some(c) = self.count.get_mut(i) {
            *c += 1;
        }
    }

    fn add_sampled(&mut self, evttype: u16, ns: u64) {
        let i = self.slot(evttype);
        if let Some(n) = self.ns.get_mut(i) {
            *n += ns.saturating_mul(Self::SAMPLE);
        }
    }
}

/// A Prometheus label value, escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A tag as a Prometheus label name (`tag_<tag>`, other characters as `_`).
fn tag_label(tag: &str) -> String {
    let mut s = String::from("tag_");
    s.extend(
        tag.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
    );
    s
}

struct MetricsInput<'a> {
    engine: &'a Engine,
    counters: &'a Counters,
    events: u64,
    malformed: u64,
    times: &'a EvalTimes,
    reloads: (u64, u64),
    rules_files: &'a [(String, String)],
    written: Option<u64>,
}

/// The Prometheus text of `/metrics`, with Falco's names where Falco has the metric.
fn metrics_text(m: &MetricsInput<'_>) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(8192);
    let family = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
    };
    family(
        &mut out,
        "falcosecurity_falco_version_info",
        "gauge",
        "frule-monitor version",
    );
    let _ = writeln!(
        out,
        "falcosecurity_falco_version_info{{version=\"frule-{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    family(
        &mut out,
        "falcosecurity_falco_sha256_rules_files_info",
        "gauge",
        "rules files loaded, with their sha256",
    );
    for (name, sha) in m.rules_files {
        let _ = writeln!(
            out,
            "falcosecurity_falco_sha256_rules_files_info{{file_name=\"{}\",sha256=\"{sha}\"}} 1",
            label(name)
        );
    }
    let t = DropCounts::of(&m.counters.total());
    for (name, v, help) in [
        (
            "falcosecurity_scap_n_evts_total",
            t.n_evts,
            "events the kernel tried to send (written plus dropped)",
        ),
        (
            "falcosecurity_scap_n_drops_total",
            t.n_drops,
            "events the kernel dropped, every reason",
        ),
        (
            "falcosecurity_scap_n_drops_scratch_map_total",
            t.scratch,
            "events dropped for want of the per-cpu scratch area",
        ),
        (
            "falcosecurity_scap_n_drops_max_event_size_total",
            t.max_event_size,
            "events dropped for exceeding 64 KiB",
        ),
        (
            "falcosecurity_scap_n_drops_no_ring_total",
            t.no_ring,
            "events dropped on a cpu without a ring buffer",
        ),
        (
            "falcosecurity_falco_num_evts_total",
            m.events,
            "events evaluated by the rules",
        ),
        (
            "falcosecurity_frule_malformed_events_total",
            m.malformed,
            "events from the kernel that did not decode",
        ),
        (
            "falcosecurity_frule_reloads_total",
            m.reloads.0,
            "successful rules reloads",
        ),
        (
            "falcosecurity_frule_reload_failures_total",
            m.reloads.1,
            "rules reloads that failed (the previous rules stayed)",
        ),
    ] {
        family(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {v}");
    }
    family(
        &mut out,
        "falcosecurity_scap_n_drops_buffer_total",
        "counter",
        "events dropped because the ring buffer was full, by syscall category",
    );
    for (drop, v) in [
        ("process", t.buffer_process),
        ("file", t.buffer_file),
        ("network", t.buffer_network),
        ("other", t.buffer_other),
    ] {
        let _ = writeln!(
            out,
            "falcosecurity_scap_n_drops_buffer_total{{dir=\"exit\",drop=\"{drop}\"}} {v}"
        );
    }
    family(
        &mut out,
        "falcosecurity_scap_n_evts_cpu_total",
        "counter",
        "events written by the kernel, per cpu",
    );
    for (cpu, c) in m.counters.per_cpu.iter().enumerate() {
        let _ = writeln!(
            out,
            "falcosecurity_scap_n_evts_cpu_total{{cpu=\"{cpu}\"}} {}",
            c.events
        );
    }
    family(
        &mut out,
        "falcosecurity_scap_n_drops_cpu_total",
        "counter",
        "events dropped by the kernel, per cpu",
    );
    for (cpu, c) in m.counters.per_cpu.iter().enumerate() {
        let _ = writeln!(
            out,
            "falcosecurity_scap_n_drops_cpu_total{{cpu=\"{cpu}\"}} {}",
            c.drops()
        );
    }
    if let Some(w) = m.written {
        family(
            &mut out,
            "falcosecurity_frule_capture_file_events_total",
            "counter",
            "events written to the --write capture file",
        );
        let _ = writeln!(out, "falcosecurity_frule_capture_file_events_total {w}");
    }
    family(
        &mut out,
        "falcosecurity_falco_rules_matches_total",
        "counter",
        "alerts per rule",
    );
    let stats = m.engine.stats();
    for (i, r) in m.engine.ruleset().rules().iter().enumerate() {
        let n = stats.by_rule.get(i).copied().unwrap_or(0);
        if n == 0 && !m.engine.ruleset().is_active(i) {
            continue;
        }
        let mut labels = format!(
            "priority=\"{}\",rule_name=\"{}\",source=\"{}\"",
            label(r.priority.as_str()),
            label(&r.name),
            label(&r.source)
        );
        for t in &r.tags {
            let _ = write!(labels, ",{}=\"true\"", tag_label(t));
        }
        let _ = writeln!(
            out,
            "falcosecurity_falco_rules_matches_total{{{labels}}} {n}"
        );
    }
    m.engine.state().containers().write_prometheus(&mut out);
    if !m.times.count.is_empty() {
        family(
            &mut out,
            "falcosecurity_frule_evaluation_seconds_total",
            "counter",
            "time spent evaluating the rules of each event type, estimated from one event in 16 (rules of one event type run as one compiled program, so the time is per event type, not per rule)",
        );
        let names = |i: usize| {
            u16::try_from(i)
                .ok()
                .and_then(frule_lang::events::event)
                .map_or("unknown", |e| e.name)
        };
        for (i, ns) in m.times.ns.iter().enumerate() {
            if *ns > 0 {
                let _ = writeln!(
                    out,
                    "falcosecurity_frule_evaluation_seconds_total{{evt_code=\"{i}\",evt_type=\"{}\"}} {:.9}",
                    names(i),
                    *ns as f64 / 1e9
                );
            }
        }
        family(
            &mut out,
            "falcosecurity_frule_evaluations_total",
            "counter",
            "events evaluated, per event type",
        );
        for (i, c) in m.times.count.iter().enumerate() {
            if *c > 0 {
                let _ = writeln!(
                    out,
                    "falcosecurity_frule_evaluations_total{{evt_code=\"{i}\",evt_type=\"{}\"}} {c}",
                    names(i)
                );
            }
        }
        rule_costs(&mut out, m);
    }
    out
}

/// Per-rule figures derived from the per-event-type counts and sampled times.
///
/// The rules of one event type run as one fused compiled program (shared subexpressions are
/// evaluated once for all of them), so a rule's own time is not measured; timing each rule on
/// the side would evaluate shared work again and change what is measured. What is exact is how
/// many events reached each rule's program (the events of its event types). The time is an
/// attribution, stated as such in the help text: each event type's sampled time split equally
/// among the active rules of that type.
fn rule_costs(out: &mut String, m: &MetricsInput<'_>) {
    use std::fmt::Write as _;
    let ruleset = m.engine.ruleset();
    let rules: Vec<(usize, &frule_runtime::engine::RuleEntry)> = ruleset
        .rules()
        .iter()
        .enumerate()
        .filter(|(i, r)| ruleset.is_active(*i) && r.source == SYSCALL_SOURCE)
        .collect();
    let mut sharing = vec![0u64; m.times.count.len()];
    for (_, r) in &rules {
        for c in r.evttypes.codes() {
            if let Some(n) = sharing.get_mut(usize::from(c)) {
                *n += 1;
            }
        }
    }
    let mut lines = Vec::with_capacity(rules.len());
    for (_, r) in &rules {
        let (mut events, mut ns) = (0u64, 0f64);
        for c in r.evttypes.codes() {
            let c = usize::from(c);
            events += m.times.count.get(c).copied().unwrap_or(0);
            let share = sharing.get(c).copied().unwrap_or(0).max(1);
            ns += m.times.ns.get(c).copied().unwrap_or(0) as f64 / share as f64;
        }
        if events > 0 {
            lines.push((label(&r.name), events, ns));
        }
    }
    let _ = writeln!(
        out,
        "# HELP falcosecurity_frule_rule_evaluations_total events of the rule's event types, each of which ran the rule's condition (or the fused program of its event type)"
    );
    let _ = writeln!(
        out,
        "# TYPE falcosecurity_frule_rule_evaluations_total counter"
    );
    for (name, events, _) in &lines {
        let _ = writeln!(
            out,
            "falcosecurity_frule_rule_evaluations_total{{rule_name=\"{name}\"}} {events}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP falcosecurity_frule_rule_evaluation_seconds_total estimated: the sampled evaluation time of each of the rule's event types split equally among the active rules of that type (rules of one event type run as one fused program, so a rule's own time is not measured)"
    );
    let _ = writeln!(
        out,
        "# TYPE falcosecurity_frule_rule_evaluation_seconds_total counter"
    );
    for (name, _, ns) in &lines {
        let _ = writeln!(
            out,
            "falcosecurity_frule_rule_evaluation_seconds_total{{rule_name=\"{name}\"}} {:.9}",
            ns / 1e9
        );
    }
}

/// Watches the host until SIGINT/SIGTERM (or a drop `exit` action), sending alerts to `outputs`,
/// then prints the summary on stderr. `Ok(true)` is a normal stop, `Ok(false)` a stop by the drop
/// `exit` action (exit code 1). `Err` carries the message of a capture that could not start.
pub fn run(
    engine: &mut Engine,
    outputs: &mut Outputs,
    options: LiveOptions,
) -> Result<bool, String> {
    let (interest, warnings) = interest_for(engine, options.write.is_some());
    for w in &warnings {
        eprintln!("Warning: {w}");
    }
    let syscalls = (0..SYSCALL_TABLE_SIZE)
        .filter(|&nr| interest.contains_syscall(nr))
        .count();
    install_signal_handlers();
    register_own_thread();
    let settings = options.capture;
    let mut capture = Capture::open(CaptureOptions {
        interest,
        buffer_bytes: settings.buffer_bytes,
        cpus_per_buffer: settings.cpus_per_buffer,
        entry_hook: settings.entry_hook,
        ..CaptureOptions::default()
    })
    .map_err(|e| format!("Error: cannot start the live capture: {e}"))?;
    eprintln!("{}", capture_line(&capture, &settings));
    // The capture is attached: until the first poll, its events are held in memory rather than
    // left to fill the rings (a busy host fills them within a fraction of a second). The helper
    // thread that drains them is one of the monitor's own.
    let mut writer = capture.drain_while_with(register_own_thread, || -> Result<_, String> {
        let initial = initial_state();
        engine.set_capture_state(&initial);
        start_containers(engine);
        match &options.write {
            None => Ok(None),
            Some(path) => {
                let mut w =
                    ScapWriter::create(path, WriterOptions::sysdig_compat()).map_err(|e| {
                        format!("Error: cannot write capture file {}: {e}", path.display())
                    })?;
                w.write_state(&initial).map_err(|e| {
                    format!("Error: cannot write capture file {}: {e}", path.display())
                })?;
                Ok(Some(w))
            }
        }
    })?;

    let published = Arc::new(Published::default());
    if let Some(web) = &options.web {
        let addr =
            web::start(web.clone(), Arc::clone(&published), register_own_thread).map_err(|e| {
                format!(
                    "Error: cannot start the webserver on {}:{}: {e}",
                    web.address, web.port
                )
            })?;
        log(&format!(
            "Starting health webserver with threadiness 1, listening on {addr}"
        ));
    }
    eprintln!(
        "frule-monitor: watching {syscalls} syscalls with {} rules",
        engine.ruleset().active_count()
    );

    let started = Instant::now();
    let mut alerts = Vec::new();
    let mut events: u64 = 0;
    let mut malformed: u64 = 0;
    let mut drops = DropManager::new(options.drops.clone());
    let mut exit_requested = false;
    let mut last_check = Instant::now();
    let mut vanished_own_threads = Vec::new();
    let mut times = EvalTimes::default();
    let mut reloads = (0u64, 0u64);
    let mut rules_files = options.rules_files.clone();
    let mut watched = stamps(&options.watch);
    let mut pending: Option<mpsc::Receiver<Result<Reloaded, String>>> = None;
    let mut write_failed = false;
    let publish = |engine: &Engine,
                   counters: &Counters,
                   ev: u64,
                   mal: u64,
                   times: &EvalTimes,
                   reloads,
                   files: &[(String, String)],
                   written| {
        if options.web.as_ref().is_some_and(|w| w.metrics) {
            published.set_metrics(metrics_text(&MetricsInput {
                engine,
                counters,
                events: ev,
                malformed: mal,
                times,
                reloads,
                rules_files: files,
                written,
            }));
        }
    };
    while !STOP.load(Ordering::SeqCst) && !exit_requested {
        // A reload that finished swaps in between two batches: every event is evaluated by
        // exactly one ruleset, and the state carries over.
        if let Some(rx) = &pending {
            match rx.try_recv() {
                Ok(Ok(next)) => {
                    for n in &next.notes {
                        log(&format!("Warning: {n}"));
                    }
                    engine.replace_rules(next.engine);
                    let (interest, warnings) = interest_for(engine, options.write.is_some());
                    for w in &warnings {
                        eprintln!("Warning: {w}");
                    }
                    if let Err(e) = capture.set_interest(&interest) {
                        log(&format!("Error: cannot update the captured syscalls: {e}"));
                    }
                    rules_files = next.rules_files;
                    reloads.0 += 1;
                    log(&format!(
                        "Rules reloaded: {} rules enabled",
                        engine.ruleset().active_count()
                    ));
                    pending = None;
                }
                Ok(Err(msg)) => {
                    reloads.1 += 1;
                    eprint!("{msg}");
                    if !msg.ends_with('\n') {
                        eprintln!();
                    }
                    log("Error: the rules could not be reloaded; the previous rules stay in use");
                    pending = None;
                }
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => pending = None,
            }
        }
        if pending.is_none() && RELOAD.swap(false, Ordering::SeqCst) {
            log("SIGHUP received, restarting...");
            pending = Some(spawn_reload(&options.reload));
        }

        for raw in capture.poll(Duration::from_millis(100)) {
            if let Some(h) = EventHeader::parse(raw.data)
                && is_own(h.tid)
            {
                if PROCEXIT_CODES.contains(&h.event_type) {
                    release_own_thread(h.tid);
                }
                continue;
            }
            let Ok(evt) = Event::new(raw.data) else {
                malformed += 1;
                continue;
            };
            events += 1;
            if let Some(w) = &mut writer
                && let Err(e) = w.write_event_with(raw.data, raw.cpu, 0)
            {
                log(&format!(
                    "Error: cannot write the capture file, writing stops: {e}"
                ));
                write_failed = true;
            }
            if write_failed {
                writer = None;
                write_failed = false;
            }
            alerts.clear();
            if options.metrics {
                times.count(evt.event_type());
                if times.sample_next() {
                    let t0 = Instant::now();
                    engine.process(&evt, raw.cpu, &mut alerts);
                    let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    times.add_sampled(evt.event_type(), ns);
                } else {
                    engine.process(&evt, raw.cpu, &mut alerts);
                }
            } else {
                engine.process(&evt, raw.cpu, &mut alerts);
            }
            for a in &alerts {
                outputs.send(a);
            }
        }
        container_events(engine, outputs, &mut alerts, writer.as_mut());
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            prune_own_threads(&mut vanished_own_threads, own_thread_alive);
            if let Ok(c) = capture.counters() {
                if drops.check(DropCounts::of(&c.total()), outputs) == DropVerdict::Exit {
                    exit_requested = true;
                }
                let written = writer.as_ref().map(|w| w.stats().events_written);
                publish(
                    engine,
                    &c,
                    events,
                    malformed,
                    &times,
                    reloads,
                    &rules_files,
                    written,
                );
            }
            if !options.watch.is_empty() && pending.is_none() {
                let now = stamps(&options.watch);
                if now != watched {
                    watched = now;
                    log("A rules or configuration file changed, reloading...");
                    pending = Some(spawn_reload(&options.reload));
                }
            }
        }
    }
    let total = capture
        .counters()
        .map(|c| DropCounts::of(&c.total()))
        .unwrap_or_default();
    drop(capture);
    if let Some(w) = writer {
        let stats = w.stats();
        match w.finish() {
            Ok(_) => eprintln!("Capture file: {} events written", stats.events_written),
            Err(e) => eprintln!("Error: cannot finish the capture file: {e}"),
        }
    }
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
    eprintln!(
        "   - event drop detected: {} occurrences",
        drops.occurrences
    );
    eprintln!("   - num times actions taken: {}", drops.actions_taken);
    eprintln!(
        "   - events dropped: {}, malformed events skipped: {malformed}",
        total.n_drops
    );
    eprint!("{}", engine.summary());
    eprintln!("{}", engine.state().containers().summary());
    Ok(!exit_requested)
}

// ---- container metadata (see `frule_runtime::container::tracker`) ----

/// Switches the engine's container metadata to asynchronous lookups from the container runtimes at their
/// default sockets (Docker, containerd, CRI-O, podman; the one the cgroup layout names first), following
/// Docker's start/destroy events. Failed lookups are logged with their reason; without any runtime every
/// lookup fails with `no_runtime` and containers keep only `container.id`.
fn start_containers(engine: &mut Engine) {
    *engine.containers_mut() = frule_runtime::container::Containers::runtimes(
        frule_runtime::container::Runtimes::default(),
        log,
    );
}

/// The `container` events of lookups that completed since the last call: written to the capture being
/// recorded, then evaluated (rules on `evt.type = container` fire on them), in the same order a replay of
/// that capture sees them.
fn container_events<W: std::io::Write>(
    engine: &mut Engine,
    outputs: &mut Outputs,
    alerts: &mut Vec<frule_runtime::output::Alert>,
    mut writer: Option<&mut ScapWriter<W>>,
) {
    for raw in engine.containers_mut().take_metaevents() {
        let Ok(evt) = Event::new(&raw) else {
            continue;
        };
        if let Some(w) = writer.as_mut()
            && let Err(e) = w.write_event(&raw)
        {
            log(&format!(
                "Error: cannot write a container event to the capture file: {e}"
            ));
        }
        alerts.clear();
        engine.process(&evt, 0, alerts);
        for a in alerts.iter() {
            outputs.send(a);
        }
    }
}

/// Runs the reload closure on a side thread (its file reads are the monitor's own syscalls).
fn spawn_reload(
    reload: &Arc<dyn Fn() -> Result<Reloaded, String> + Send + Sync>,
) -> mpsc::Receiver<Result<Reloaded, String>> {
    let (tx, rx) = mpsc::channel();
    let reload = Arc::clone(reload);
    let spawned = std::thread::Builder::new()
        .name("frule-reload".into())
        .spawn(move || {
            register_own_thread();
            let _ = tx.send(reload());
        });
    if let Err(e) = spawned {
        let (tx, rx2) = mpsc::channel();
        let _ = tx.send(Err(format!("Error: cannot start the reload: {e}")));
        return rx2;
    }
    rx
}

/// Lowercase hex SHA-256 of `bytes` (Falco's `sha256_rules_files_info`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// An engine with the rules of one YAML text (which must load), its ruleset built.
    fn engine_of(rules: &str) -> Engine {
        let loaded =
            frule_lang::loader::load(&[frule_lang::loader::RulesFile::new("r.yaml", rules)]);
        assert!(
            loaded.is_ok(),
            "{}",
            frule_lang::render::text::render(&loaded)
        );
        let mut engine = Engine::new(&loaded);
        engine.ruleset_mut().build();
        engine
    }

    /// A thread registered as the monitor's own stays so until its exit event is handled, then
    /// its id (which the kernel may give to another process) is evaluated again.
    #[test]
    fn own_threads_are_released_at_their_exit() {
        // ids no real thread of the test process has (pid_max is at most 2^22)
        let (a, b) = (u64::MAX - 1, u64::MAX - 2);
        for tid in [a, b] {
            let free = OWN_TIDS.iter().find(|s| {
                s.compare_exchange(0, tid, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            });
            assert!(free.is_some(), "a free slot for {tid}");
        }
        assert!(is_own(a) && is_own(b));
        release_own_thread(a);
        assert!(!is_own(a) && is_own(b));
        release_own_thread(a);
        release_own_thread(b);
        assert!(!is_own(b));
    }

    /// The start-up warnings name the rules whose event types nothing gives, and not the
    /// `container` rules: the monitor makes those metaevents itself.
    #[test]
    fn interest_warnings_name_only_what_nothing_gives() {
        let rules = "
- rule: privileged
  desc: d
  condition: evt.type = container and container.privileged = true
  output: p
  priority: WARNING
- rule: switches
  desc: d
  condition: evt.type = switch and proc.name = x
  output: s
  priority: WARNING
";
        let engine = engine_of(rules);
        let (_, warnings) = interest_for(&engine, false);
        assert_eq!(
            warnings,
            ["rule 'switches' needs event types the live capture does not give: switch"]
        );
    }

    /// An own thread that vanished without an exit event is forgotten at the second check that
    /// finds it gone; a live one stays.
    #[test]
    fn vanished_own_threads_are_released() {
        let gone = u64::MAX - 3; // no such thread
        let live = gettid();
        for tid in [gone, live] {
            let free = OWN_TIDS.iter().find(|s| {
                s.compare_exchange(0, tid, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            });
            assert!(free.is_some(), "a free slot for {tid}");
        }
        // other tests' made-up ids (OWN_TIDS is shared) count as alive here
        let alive = |tid: u64| tid != gone && (tid != live || own_thread_alive(tid));
        assert!(own_thread_alive(live) && !own_thread_alive(gone));
        let mut suspects = Vec::new();
        prune_own_threads(&mut suspects, alive);
        assert!(is_own(gone), "kept at the first sighting");
        assert!(suspects.contains(&gone) && !suspects.contains(&live));
        prune_own_threads(&mut suspects, alive);
        assert!(!is_own(gone), "released at the second");
        assert!(is_own(live), "a live thread stays");
        release_own_thread(live);
    }

    /// `engine` keys become the capture's options with Falco's checks: the page-size rule of
    /// `buf_size_preset`, and `cpus_for_each_buffer` 0 or above the online CPUs meaning one ring.
    #[test]
    fn capture_settings_follow_falco() {
        let host = HostCpus {
            page_size: 4096,
            online: 2,
            possible: 2,
        };
        let settings = |o: &[&str], host: HostCpus| {
            let o: Vec<String> = o.iter().map(|s| (*s).to_string()).collect();
            let c = Config::with_overrides(&o).unwrap_or_else(|e| panic!("{o:?}: {e}"));
            capture_settings(&c, host)
                .map(|(s, w)| (s.buffer_bytes, s.cpus_per_buffer, s.entry_hook, w))
        };
        let mib = 1usize << 20;
        // overrides -> (ring bytes, CPUs per ring, entry hook, number of warnings)
        type Want = (usize, usize, EntryHook, usize);
        let cases: [(&[&str], Want); 8] = [
            (&[], (8 * mib, 1, EntryHook::Auto, 0)),
            (
                &["engine.modern_ebpf.buf_size_preset=1"],
                (mib, 1, EntryHook::Auto, 0),
            ),
            (
                &["engine.modern_ebpf.cpus_for_each_buffer=1"],
                (8 * mib, 1, EntryHook::Auto, 0),
            ),
            (
                &["engine.modern_ebpf.cpus_for_each_buffer=2"],
                (8 * mib, 2, EntryHook::Auto, 0),
            ),
            (
                &["engine.modern_ebpf.cpus_for_each_buffer=0"],
                (8 * mib, 2, EntryHook::Auto, 0),
            ),
            (
                &["engine.modern_ebpf.cpus_for_each_buffer=3"],
                (8 * mib, 2, EntryHook::Auto, 1),
            ),
            (
                &["engine.kind=kmod", "engine.kmod.buf_size_preset=5"],
                (16 * mib, 1, EntryHook::Auto, 0),
            ),
            (
                &["frule.entry_hook=syscall_tracepoints"],
                (8 * mib, 1, EntryHook::SyscallTracepoints, 0),
            ),
        ];
        for (o, (bytes, cpus, hook, nwarnings)) in cases {
            match settings(o, host) {
                Ok((b, c, h, w)) => {
                    assert_eq!(
                        (b, c, h, w.len()),
                        (bytes, cpus, hook, nwarnings),
                        "{o:?}: {w:?}"
                    );
                }
                Err(e) => panic!("{o:?}: {e}"),
            }
        }
        // one ring for all CPUs covers every possible CPU, also those offline now
        let sparse = HostCpus {
            possible: 8,
            ..host
        };
        let one_ring = settings(&["engine.modern_ebpf.cpus_for_each_buffer=0"], sparse);
        assert_eq!(one_ring.map(|s| s.1).ok(), Some(8));
        // Falco's warning, located
        let w = settings(&["engine.modern_ebpf.cpus_for_each_buffer=3"], host).map(|s| s.3);
        assert_eq!(
            w.ok(),
            Some(vec![
                "-o: engine.modern_ebpf.cpus_for_each_buffer: a ring buffer every 3 CPUs was asked for, but only 2 CPUs are online: one ring buffer for all CPUs".to_string()
            ])
        );
        // 1 MiB is two pages of 512 KiB: too small, as Falco says
        let big_pages = HostCpus {
            page_size: 512 << 10,
            ..host
        };
        let e = settings(&["engine.modern_ebpf.buf_size_preset=1"], big_pages).err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some(
                "-o: engine.modern_ebpf.buf_size_preset: preset 1 gives ring buffers of 1048576 bytes, which must be a multiple of the page size (524288) and more than two pages: choose a greater preset"
            )
        );
        assert!(settings(&["engine.modern_ebpf.buf_size_preset=2"], big_pages).is_ok());
    }

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
                    l4proto: 2,
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
                    l4proto: 3,
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

    struct LineSink(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl frule_runtime::output::Channel for LineSink {
        fn send(&mut self, _: &frule_runtime::output::Alert, line: &str) -> std::io::Result<()> {
            if let Ok(mut v) = self.0.lock() {
                v.push(line.to_string());
            }
            Ok(())
        }
        fn name(&self) -> &'static str {
            "capture"
        }
    }

    fn counts(n_evts: u64, drops: u64) -> DropCounts {
        DropCounts {
            n_evts,
            n_drops: drops,
            buffer: drops,
            buffer_file: drops,
            ..DropCounts::default()
        }
    }

    /// Falco's drop manager: deltas per second, the threshold on the dropped fraction, the
    /// token bucket (rate 0: only the initial burst), and the alert's counters.
    #[test]
    fn drop_manager_follows_threshold_and_token_bucket() {
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut outputs = Outputs::new(frule_runtime::output::OutputOptions {
            json_output: true,
            hostname: "h".into(),
            ..Default::default()
        });
        outputs.add(Box::new(LineSink(std::sync::Arc::clone(&lines))));
        let mut m = DropManager::new(SyscallEventDrops {
            threshold: 0.1,
            actions: vec![DropAction::Alert],
            rate: 0.0,
            max_burst: 2.0,
            simulate_drops: false,
        });
        // (cumulative events, cumulative drops) per second, and whether actions ran
        let seconds = [
            (1000, 0, false),    // no drop
            (2000, 50, false),   // 50 of 1050: under the threshold
            (3000, 400, true),   // 350 of 1350
            (3100, 900, true),   // 500 of 600
            (3200, 1400, false), // above the threshold, but the bucket is empty
        ];
        for (i, (evts, drops, acted)) in seconds.into_iter().enumerate() {
            let before = m.actions_taken;
            assert_eq!(
                m.check(counts(evts + drops, drops), &mut outputs),
                DropVerdict::Continue
            );
            assert_eq!(m.actions_taken > before, acted, "second {i}");
        }
        assert_eq!((m.occurrences, m.actions_taken), (3, 2));
        let lines = lines.lock().map(|l| l.clone()).unwrap_or_default();
        assert_eq!(lines.len(), 2);
        let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap_or_default();
        assert_eq!(
            first["output"],
            "Falco internal: syscall event drop. 350 system calls dropped in last second."
        );
        assert_eq!(first["output_fields"]["n_evts"], "1350");
        assert_eq!(first["output_fields"]["n_drops_buffer_file"], "350");
        assert_eq!(first["priority"], "Debug");
    }

    #[test]
    fn drop_manager_exit_action_stops() {
        let mut outputs = Outputs::new(frule_runtime::output::OutputOptions::default());
        let mut m = DropManager::new(SyscallEventDrops {
            actions: vec![DropAction::Exit],
            simulate_drops: true,
            ..SyscallEventDrops::default()
        });
        assert_eq!(
            m.check(DropCounts::default(), &mut outputs),
            DropVerdict::Exit
        );
    }

    /// Per-rule evaluations are exact sums over the rule's event types; the time is each event
    /// type's time split equally among the active rules of that type.
    #[test]
    fn rule_costs_sum_event_types_and_split_shared_time() {
        let rules = "
- rule: open a
  desc: d
  condition: evt.type = openat and fd.name = /a
  output: a
  priority: WARNING
- rule: open or exec b
  desc: d
  condition: evt.type in (openat, execve) and proc.name = b
  output: b
  priority: WARNING
- rule: never
  desc: d
  condition: evt.type = connect and fd.num = 1
  output: c
  priority: WARNING
";
        let engine = engine_of(rules);
        let (openat, execve) = (307u16, 293u16);
        let mut times = EvalTimes::default();
        for _ in 0..10 {
            times.count(openat);
        }
        for _ in 0..4 {
            times.count(execve);
        }
        times.add_sampled(openat, 1024 / EvalTimes::SAMPLE); // 1024 ns for openat
        times.add_sampled(execve, 512 / EvalTimes::SAMPLE); // 512 ns for execve
        let counters = Counters::default();
        let mut out = String::new();
        rule_costs(
            &mut out,
            &MetricsInput {
                engine: &engine,
                counters: &counters,
                events: 14,
                malformed: 0,
                times: &times,
                reloads: (0, 0),
                rules_files: &[],
                written: None,
            },
        );
        let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "falcosecurity_frule_rule_evaluations_total{rule_name=\"open a\"} 10",
                "falcosecurity_frule_rule_evaluations_total{rule_name=\"open or exec b\"} 14",
                "falcosecurity_frule_rule_evaluation_seconds_total{rule_name=\"open a\"} 0.000000512",
                "falcosecurity_frule_rule_evaluation_seconds_total{rule_name=\"open or exec b\"} 0.000001024",
            ]
        );
    }

    #[test]
    fn nul_list_ends_every_item_with_nul() {
        assert_eq!(nul_list(["a", "bc"]), b"a\0bc\0".to_vec());
        assert!(nul_list([]).is_empty());
    }
}
