//! System state: threads, the process tree, fd tables, users and groups, as libsinsp keeps them.
//!
//! [`State::update`] is called once for every event, in capture order, *before* rules see it. It
//! applies the event the way libsinsp's parser does (clone/fork/vfork/clone3 create threads,
//! execve/execveat replace the image, open/socket/accept/dup/pipe/… add fds, close and procexit
//! remove them) so that field extraction reads the state *after* the event — except where libsinsp
//! shows the old state: a `close` exit still shows the closed fd, a `procexit` still shows the
//! exiting thread. Those removals are deferred to the next call of `update`, exactly as libsinsp
//! defers them to the next event.
//!
//! Old captures carry enter and exit events; current ones carry exit events with the enter
//! parameters. Each thread keeps a copy of its last enter event, and [`State::param`] falls back to
//! it when an exit event lacks a parameter, so both layouts give the same state.
//!
//! Invariants:
//! - fd tables are per process (keyed by pid): threads of a process share one table, a forked
//!   child gets a copy of its parent's;
//! - memory is bounded: exited threads and closed fds are removed, the thread table holds at most
//!   [`Limits::max_threads`] entries (least recently active evicted first) and an fd table at most
//!   [`Limits::max_fds_per_process`] fds (further fds are not tracked, as in libsinsp);
//! - which fd an event is about follows libsinsp's `reset`: every enter sets the thread's
//!   `lastevent_fd` (-1, or the fd it uses), the exit that pairs with it keeps it, an exit whose
//!   enter was lost clears it and falls back to its own fd parameter, and an fd a parser adds
//!   becomes it; [`EventContext::fd`] is the entry the fd fields read, `lastevent_fd` is `fd.num`;
//! - reads and writes change sockets as libsinsp's `parse_read_exit`/`parse_write_exit` do:
//!   connected after a success, a datagram tuple (and a guessed role) from the call's peer;
//! - nothing here reads the host: users and groups come from a [`UserDb`] (the capture's lists, or
//!   `/etc/passwd` + `/etc/group` through [`HostUserDb`] on live runs only).

pub mod container;
mod fd;
mod users;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use frule_lang::events::{self, Direction, EventFlags, flags as ppm_flags};

use crate::event::{Event, P, Param, ParamValue, SockTuple};
use crate::scap::{CaptureState, FdKind, InterfaceAddr, ProcInfo};

use fd::Interfaces;
pub use fd::{FdEntry, FdType, L4Proto, Role, SockInfo};
pub use users::{CaptureUserDb, GroupEntry, HostUserDb, UserDb, UserEntry};

/// A hash map keyed by integers (tids, fds, uids) with [`IntHasher`]: the tables are probed several
/// times per event, and SipHash's flood resistance buys nothing for keys a capture or the kernel chose.
pub(crate) type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// A multiply-rotate hasher (FxHash's step) for integer keys; `finish` rotates so the bucket index
/// (low bits) depends on the high bits of the product too.
#[derive(Default, Clone, Copy)]
pub(crate) struct IntHasher(u64);

impl IntHasher {
    const K: u64 = 0xf135_7aea_2e62_a9c5;

    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(Self::K);
    }
}

impl Hasher for IntHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b.get_mut(..c.len()).unwrap_or(&mut []).copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.add(x);
    }

    #[inline]
    fn write_i64(&mut self, x: i64) {
        self.add(x as u64);
    }

    #[inline]
    fn write_u32(&mut self, x: u32) {
        self.add(u64::from(x));
    }

    #[inline]
    fn write_u16(&mut self, x: u16) {
        self.add(u64::from(x));
    }

    #[inline]
    fn write_usize(&mut self, x: usize) {
        self.add(x as u64);
    }
}

/// Size bounds of the tables.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most threads kept; when exceeded, the least recently active tenth is evicted.
    pub max_threads: usize,
    /// Most fds tracked per process (libsinsp's `MAX_FD_TABLE_SIZE`).
    pub max_fds_per_process: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_threads: 131_072,
            max_fds_per_process: 4096,
        }
    }
}

/// One thread, with the process-wide data libsinsp keeps on every thread.
#[derive(Clone, Debug, Default)]
pub struct ThreadInfo {
    /// Thread id.
    pub tid: i64,
    /// Process id (the thread group leader's tid).
    pub pid: i64,
    /// Parent thread id.
    pub ptid: i64,
    /// Session id.
    pub sid: i64,
    /// Process group id as seen in the thread's pid namespace.
    pub vpgid: i64,
    /// Process group id.
    pub pgid: i64,
    /// Thread id in its pid namespace.
    pub vtid: i64,
    /// Process id in its pid namespace.
    pub vpid: i64,
    /// `comm` (`proc.name`).
    pub comm: Vec<u8>,
    /// `argv[0]` (`proc.exe`).
    pub exe: Vec<u8>,
    /// Full path of the executable (`proc.exepath`).
    pub exepath: Vec<u8>,
    /// `argv[1..]`.
    pub args: Vec<Vec<u8>>,
    /// Environment, `NAME=value` each.
    pub env: Vec<Vec<u8>>,
    /// Working directory, always ending with `/`.
    pub cwd: Vec<u8>,
    /// Real user id.
    pub uid: u32,
    /// Real group id.
    pub gid: u32,
    /// Login uid (`u32::MAX` when unset).
    pub loginuid: u32,
    /// Controlling terminal.
    pub tty: u32,
    /// Capability sets.
    pub cap_inheritable: u64,
    /// Permitted capabilities.
    pub cap_permitted: u64,
    /// Effective capabilities.
    pub cap_effective: u64,
    /// cgroups, `subsys=path` each.
    pub cgroups: Vec<Vec<u8>>,
    /// Short container id, `host`, or `None` when no cgroups are known.
    pub container_id: Option<String>,
    /// `PPM_CL_*` clone flags.
    pub clone_flags: u32,
    /// When the thread was created (0 when it predates the capture).
    pub clone_ts: u64,
    /// When the process last executed a new image.
    pub lastexec_ts: u64,
    /// Inode of the executable.
    pub exe_ino: u64,
    /// ctime of the executable's inode.
    pub exe_ino_ctime: u64,
    /// mtime of the executable's inode.
    pub exe_ino_mtime: u64,
    /// Start time of the pid namespace's init.
    pub pidns_init_start_ts: u64,
    /// The executable is writable by the user.
    pub exe_writable: bool,
    /// The executable is in an overlay upper layer.
    pub exe_upper_layer: bool,
    /// The executable is in an overlay lower layer.
    pub exe_lower_layer: bool,
    /// The executable is a memfd.
    pub exe_from_memfd: bool,
    /// The fd limit.
    pub fdlimit: i64,
    /// The thread has exited but is kept because other threads of its process remain.
    pub exited: bool,
    /// The fd the thread's current syscall is about (libsinsp's `m_lastevent_fd`): set by every
    /// enter event (-1, or the fd it uses), kept by the exit that pairs with it, reset to -1 by an
    /// exit that does not (its enter was lost), then taken from the exit's own fd parameter, and
    /// set to the fd a parser adds to the table. `fd.num` reads it, and fd fields fall back to it.
    pub lastevent_fd: i64,
    /// The code of the thread's last enter event (libsinsp's `m_lastevent_type`; `u16::MAX` before
    /// the first): an exit pairs with it when its code is this plus one.
    pub lastevent_type: u16,
    /// Timestamp of the thread's last event (for eviction).
    pub last_seen: u64,
    /// The last enter event of this thread (raw bytes), for exit events that lack its params.
    last_enter: Vec<u8>,
}

impl ThreadInfo {
    /// Whether this thread is its process's main thread.
    pub fn is_main_thread(&self) -> bool {
        self.tid == self.pid
    }

    /// The value of environment variable `name`.
    pub fn env_var(&self, name: &[u8]) -> Option<&[u8]> {
        self.env.iter().find_map(|e| {
            let rest = e.strip_prefix(name)?;
            rest.strip_prefix(b"=")
        })
    }

    /// A thread libsinsp first hears of from one of its events: ids and credentials unknown.
    pub fn unknown(tid: i64) -> ThreadInfo {
        ThreadInfo {
            tid,
            pid: tid,
            ptid: -1,
            sid: -1,
            vpgid: -1,
            pgid: -1,
            vtid: -1,
            vpid: -1,
            comm: b"<NA>".to_vec(),
            exe: b"<NA>".to_vec(),
            uid: u32::MAX,
            gid: u32::MAX,
            loginuid: u32::MAX,
            lastevent_fd: -1,
            lastevent_type: u16::MAX,
            ..ThreadInfo::default()
        }
    }

    /// A copy for a new child thread: everything but the stored enter event (the child's
    /// events pair with their own enters), which would only be copied to be dropped.
    fn copy_for_child(&self) -> ThreadInfo {
        let ThreadInfo {
            tid,
            pid,
            ptid,
            sid,
            vpgid,
            pgid,
            vtid,
            vpid,
            comm,
            exe,
            exepath,
            args,
            env,
            cwd,
            uid,
            gid,
            loginuid,
            tty,
            cap_inheritable,
            cap_permitted,
            cap_effective,
            cgroups,
            container_id,
            clone_flags,
            clone_ts,
            lastexec_ts,
            exe_ino,
            exe_ino_ctime,
            exe_ino_mtime,
            pidns_init_start_ts,
            exe_writable,
            exe_upper_layer,
            exe_lower_layer,
            exe_from_memfd,
            fdlimit,
            exited,
            lastevent_fd,
            lastevent_type,
            last_seen,
            last_enter: _,
        } = self;
        ThreadInfo {
            tid: *tid,
            pid: *pid,
            ptid: *ptid,
            sid: *sid,
            vpgid: *vpgid,
            pgid: *pgid,
            vtid: *vtid,
            vpid: *vpid,
            comm: comm.clone(),
            exe: exe.clone(),
            exepath: exepath.clone(),
            args: args.clone(),
            env: env.clone(),
            cwd: cwd.clone(),
            uid: *uid,
            gid: *gid,
            loginuid: *loginuid,
            tty: *tty,
            cap_inheritable: *cap_inheritable,
            cap_permitted: *cap_permitted,
            cap_effective: *cap_effective,
            cgroups: cgroups.clone(),
            container_id: container_id.clone(),
            clone_flags: *clone_flags,
            clone_ts: *clone_ts,
            lastexec_ts: *lastexec_ts,
            exe_ino: *exe_ino,
            exe_ino_ctime: *exe_ino_ctime,
            exe_ino_mtime: *exe_ino_mtime,
            pidns_init_start_ts: *pidns_init_start_ts,
            exe_writable: *exe_writable,
            exe_upper_layer: *exe_upper_layer,
            exe_lower_layer: *exe_lower_layer,
            exe_from_memfd: *exe_from_memfd,
            fdlimit: *fdlimit,
            exited: *exited,
            lastevent_fd: *lastevent_fd,
            lastevent_type: *lastevent_type,
            last_seen: *last_seen,
            last_enter: Vec::new(),
        }
    }

    fn from_proc(p: &ProcInfo) -> ThreadInfo {
        let mut t = ThreadInfo {
            tid: p.tid as i64,
            pid: p.pid as i64,
            ptid: p.ptid as i64,
            sid: p.sid,
            vpgid: p.vpgid,
            pgid: p.pgid,
            vtid: p.vtid,
            vpid: p.vpid,
            comm: p.comm.clone(),
            exe: p.exe.clone(),
            exepath: p.exepath.clone(),
            args: split_nul(&p.args),
            env: split_nul(&p.env),
            cwd: with_slash(&p.cwd),
            uid: p.uid,
            gid: p.gid,
            loginuid: p.loginuid,
            tty: p.tty,
            cap_inheritable: p.cap_inheritable,
            cap_permitted: p.cap_permitted,
            cap_effective: p.cap_effective,
            cgroups: split_nul(&p.cgroups),
            clone_flags: p.flags,
            exe_ino: p.exe_ino,
            exe_ino_ctime: p.exe_ino_ctime,
            exe_ino_mtime: p.exe_ino_mtime,
            pidns_init_start_ts: p.pidns_init_start_ts,
            exe_writable: p.exe_writable,
            exe_upper_layer: p.exe_upper_layer,
            exe_lower_layer: p.exe_lower_layer,
            exe_from_memfd: p.exe_from_memfd,
            fdlimit: p.fdlimit as i64,
            lastevent_fd: -1,
            lastevent_type: u16::MAX,
            ..ThreadInfo::default()
        };
        t.container_id = container::container_id(t.cgroups.iter().map(Vec::as_slice));
        t
    }
}

/// Splits a buffer of NUL-terminated strings (args, env, cgroups).
pub(crate) fn split_nul(b: &[u8]) -> Vec<Vec<u8>> {
    if b.is_empty() {
        return Vec::new();
    }
    let b = b.strip_suffix(b"\0").unwrap_or(b);
    b.split(|&c| c == 0).map(<[u8]>::to_vec).collect()
}

fn with_slash(p: &[u8]) -> Vec<u8> {
    let mut v = p.to_vec();
    if !v.ends_with(b"/") {
        v.push(b'/');
    }
    v
}

/// `dst = src`, reusing `dst`'s allocation (and not touching it when equal).
fn set_bytes(dst: &mut Vec<u8>, src: &[u8]) {
    if dst.as_slice() != src {
        dst.clear();
        dst.extend_from_slice(src);
    }
}

/// `dst = with_slash(src)` without a temporary.
fn set_dir(dst: &mut Vec<u8>, src: &[u8]) {
    let slash = !src.ends_with(b"/");
    let same = dst.len() == src.len() + usize::from(slash)
        && dst.starts_with(src)
        && (!slash || dst.ends_with(b"/"));
    if !same {
        dst.clear();
        dst.extend_from_slice(src);
        if slash {
            dst.push(b'/');
        }
    }
}

/// `dst = split_nul(raw)`, reusing the allocations of `dst`'s items; true if the list changed.
fn set_nul_list(dst: &mut Vec<Vec<u8>>, raw: &[u8]) -> bool {
    if raw.is_empty() {
        let changed = !dst.is_empty();
        dst.clear();
        return changed;
    }
    let raw = raw.strip_suffix(b"\0").unwrap_or(raw);
    let mut changed = false;
    let mut n = 0;
    for item in raw.split(|&c| c == 0) {
        match dst.get_mut(n) {
            Some(d) if d.as_slice() == item => {}
            Some(d) => {
                d.clear();
                d.extend_from_slice(item);
                changed = true;
            }
            None => {
                dst.push(item.to_vec());
                changed = true;
            }
        }
        n += 1;
    }
    if dst.len() != n {
        dst.truncate(n);
        changed = true;
    }
    changed
}

/// libsinsp's path concatenation: an absolute `name` stands alone, a relative one is appended to
/// `dir`; then `.`/`..` components and duplicate slashes are resolved.
pub fn concat_path(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let joined: Vec<u8> = if name.first() == Some(&b'/') || dir.is_empty() {
        name.to_vec()
    } else {
        let mut v = dir.to_vec();
        if !v.ends_with(b"/") {
            v.push(b'/');
        }
        v.extend_from_slice(name);
        v
    };
    normalize(&joined)
}

fn normalize(p: &[u8]) -> Vec<u8> {
    if p.first() != Some(&b'/') {
        return p.to_vec();
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for comp in p.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::with_capacity(p.len());
    for c in &parts {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    if out.is_empty() || (p.ends_with(b"/") && p.len() > 1 && !parts.is_empty()) {
        out.push(b'/');
    }
    out
}

/// Per-event facts the extractor needs, computed by [`State::update`].
#[derive(Clone, Debug, Default)]
pub struct EventContext {
    /// Event number, counting every event from 1.
    pub num: u64,
    /// Timestamp of the event.
    pub ts: u64,
    /// Timestamp of the first event (for `evt.reltime`).
    pub first_ts: u64,
    /// The thread the event belongs to.
    pub tid: i64,
    /// The fd whose table entry the event's fd fields read (libsinsp's event fdinfo, or its
    /// fallback, the thread's `lastevent_fd`); `None` without a thread.
    pub fd: Option<i64>,
    /// The thread's `lastevent_fd` after the event (`fd.num`, -1 when none).
    pub lastevent_fd: i64,
    /// The event renamed its fd (`fd.name_changed`).
    pub name_changed: bool,
    /// A failed connect: `fd.name` shows the tuple the event carries, the fd keeps its old state.
    pub fd_hidden: bool,
}

/// The whole state.
pub struct State {
    threads: IntMap<i64, ThreadInfo>,
    fds: IntMap<i64, IntMap<i64, FdEntry>>,
    users: Box<dyn UserDb>,
    limits: Limits,
    /// Deferred removals (libsinsp removes closed fds and exited threads on the next event).
    pending_fd_close: Option<(i64, i64)>,
    pending_thread_exit: Option<i64>,
    ctx: EventContext,
    /// Network interfaces' addresses, for `fd.lip`/`fd.rip`, sorted.
    local_addrs: Vec<IpAddr>,
    /// The capture's interfaces in its order, to complete half-known tuples.
    ifaces: Interfaces,
    hostname: String,
    /// Container metadata (`container.*`, `k8s.*`), see [`crate::container::tracker`].
    containers: crate::container::Containers,
}

impl Default for State {
    fn default() -> Self {
        State::new(Box::new(CaptureUserDb::default()))
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("threads", &self.threads.len())
            .field("fd_tables", &self.fds.len())
            .finish()
    }
}

fn flag(name: &str) -> u32 {
    ppm_flags::CLONE_FLAGS.value_of(name).unwrap_or(0)
}

impl State {
    /// An empty state reading users and groups from `users`.
    pub fn new(users: Box<dyn UserDb>) -> State {
        State {
            threads: IntMap::default(),
            fds: IntMap::default(),
            users,
            limits: Limits::default(),
            pending_fd_close: None,
            pending_thread_exit: None,
            ctx: EventContext::default(),
            local_addrs: Vec::new(),
            ifaces: Interfaces::default(),
            hostname: String::new(),
            containers: crate::container::Containers::default(),
        }
    }

    /// The state at the start of a capture: its process, fd, user, group and interface lists.
    pub fn from_capture(cap: &CaptureState) -> State {
        let mut s = State::new(Box::new(CaptureUserDb::from_capture(cap)));
        s.load_capture(cap);
        s
    }

    /// Adds a capture's process and fd lists and interface addresses to the state.
    pub fn load_capture(&mut self, cap: &CaptureState) {
        for p in &cap.processes {
            let t = ThreadInfo::from_proc(p);
            self.threads.insert(t.tid, t);
        }
        for f in &cap.fds {
            let pid = self
                .threads
                .get(&(f.tid as i64))
                .map_or(f.tid as i64, |t| t.pid);
            let entry = FdEntry::from_scap(&f.kind, f.ino);
            self.insert_fd(pid, f.fd, entry);
        }
        self.fix_sockets_from_capture();
        for i in &cap.interfaces {
            match i.addr {
                InterfaceAddr::V4 { addr, netmask, .. } => self.ifaces.v4.push((
                    std::net::Ipv4Addr::from(addr.to_le_bytes()),
                    std::net::Ipv4Addr::from(netmask.to_le_bytes()),
                )),
                InterfaceAddr::V6 { addr, .. } => {
                    self.ifaces.v6.push(std::net::Ipv6Addr::from(addr))
                }
            }
            self.local_addrs.push(match i.addr {
                InterfaceAddr::V4 { addr, .. } => IpAddr::from(addr.to_le_bytes()),
                InterfaceAddr::V6 { addr, .. } => IpAddr::from(addr),
            });
        }
        // sorted for the binary search of `is_local_addr` (captures list many interfaces)
        self.local_addrs.sort_unstable();
        self.local_addrs.dedup();
        if let Some(m) = &cap.machine {
            self.hostname = m.hostname.clone();
        }
    }

    /// libsinsp's `fix_sockets_coming_from_proc`: a connected IPv4 socket of the initial fd list
    /// whose source port is a listening port is the server side (its tuple is swapped to keep the
    /// client first); any other is a client.
    fn fix_sockets_from_capture(&mut self) {
        let server_ports: std::collections::HashSet<u16> = self
            .fds
            .values()
            .flat_map(|t| t.values())
            .filter(|f| f.ty == FdType::Ipv4ServSock)
            .map(|f| f.sock.sport)
            .collect();
        for table in self.fds.values_mut() {
            for f in table.values_mut() {
                if f.ty != FdType::Ipv4Sock || f.role != Role::None {
                    continue;
                }
                if server_ports.contains(&f.sock.sport) {
                    f.swap_ends();
                    f.role = Role::Server;
                } else {
                    f.role = Role::Client;
                }
            }
        }
    }

    /// Replaces the size bounds.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Replaces the user and group database.
    pub fn set_user_db(&mut self, users: Box<dyn UserDb>) {
        self.users = users;
    }

    /// Container metadata: what `container.*` and `k8s.*` fields read.
    pub fn containers(&self) -> &crate::container::Containers {
        &self.containers
    }

    /// Container metadata, to switch to live lookups or insert metadata known otherwise.
    pub fn containers_mut(&mut self) -> &mut crate::container::Containers {
        &mut self.containers
    }

    /// The per-event facts of the last event given to [`State::update`].
    pub fn context(&self) -> &EventContext {
        &self.ctx
    }

    /// The thread `tid`.
    pub fn thread(&self, tid: i64) -> Option<&ThreadInfo> {
        self.threads.get(&tid)
    }

    /// How many threads are tracked.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    /// How many fds are tracked, over all processes.
    pub fn fd_count(&self) -> usize {
        self.fds.values().map(HashMap::len).sum()
    }

    /// The main thread of `t`'s process (itself when it is the main thread or the leader is gone).
    pub fn main_thread<'s>(&'s self, t: &'s ThreadInfo) -> Option<&'s ThreadInfo> {
        if t.is_main_thread() {
            Some(t)
        } else {
            self.threads.get(&t.pid)
        }
    }

    /// libsinsp's `get_ancestor_process(t, n)`: the main thread `n` process levels up (0 = own).
    pub fn ancestor<'s>(&'s self, t: &'s ThreadInfo, n: u64) -> Option<&'s ThreadInfo> {
        let mut mt = self.main_thread(t)?;
        for _ in 0..n {
            let p = self.threads.get(&mt.ptid)?;
            mt = self.main_thread(p)?;
        }
        Some(mt)
    }

    /// libsinsp's `traverse_parent_state`: every ancestor thread of `t` (by `ptid`, starting with the
    /// parent), stopping at a loop or a missing parent.
    pub fn ancestors<'s>(&'s self, t: &'s ThreadInfo) -> impl Iterator<Item = &'s ThreadInfo> + 's {
        let start = self.main_thread(t).unwrap_or(t);
        let mut cur = self.threads.get(&start.ptid);
        let mut seen = 0usize;
        let limit = self.threads.len();
        std::iter::from_fn(move || {
            let c = cur?;
            if c.tid == -1 || seen > limit {
                return None;
            }
            seen += 1;
            cur = if c.ptid == c.tid {
                None
            } else {
                self.threads.get(&c.ptid)
            };
            Some(c)
        })
    }

    /// libsinsp's `get_oldest_matching_ancestor`: the session (or process group) leader named by
    /// `id_of(t)`. Outside a pid namespace that is simply the thread with that id; inside one, the
    /// oldest ancestor in an unbroken chain of ancestors sharing the id. `None` when the id is unset.
    pub fn oldest_matching_ancestor<'s>(
        &'s self,
        t: &'s ThreadInfo,
        id_of: fn(&ThreadInfo) -> i64,
    ) -> Option<&'s ThreadInfo> {
        let id = id_of(t);
        if id == -1 {
            return None;
        }
        let in_pidns = t.clone_flags & flag("CLONE_CHILD_IN_PIDNS") != 0 || t.tid != t.vtid;
        if !in_pidns && let Some(l) = self.threads.get(&id) {
            return Some(l);
        }
        let mut leader = None;
        for a in self.ancestors(t) {
            if id_of(a) != id {
                break;
            }
            leader = Some(a);
        }
        leader
    }

    /// The fd `fd` of the process of thread `tid`.
    pub fn fd(&self, tid: i64, fd: i64) -> Option<&FdEntry> {
        let pid = self.threads.get(&tid)?.pid;
        self.fds.get(&pid)?.get(&fd)
    }

    /// The fd the current event is about (`fd.*` fields), if tracked.
    pub fn event_fd(&self) -> Option<&FdEntry> {
        self.fd(self.ctx.tid, self.ctx.fd?)
    }

    /// The user with this uid.
    pub fn user(&self, uid: u32) -> Option<&UserEntry> {
        self.users.user(uid)
    }

    /// The group with this gid.
    pub fn group(&self, gid: u32) -> Option<&GroupEntry> {
        self.users.group(gid)
    }

    /// Whether an address belongs to one of the capture's network interfaces.
    pub fn is_local_addr(&self, ip: IpAddr) -> bool {
        self.local_addrs.binary_search(&ip).is_ok()
    }

    /// The machine's hostname from the capture (empty when unknown).
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The parameter `name` of `evt`, falling back to the thread's stored enter event of the same
    /// syscall when the exit event does not carry it (old captures).
    pub fn param<'e>(&'e self, evt: &Event<'e>, name: &str) -> Option<Param<'e>> {
        if let Some(p) = evt.param_by_name(name)
            && !p.raw.is_empty()
        {
            return Some(p);
        }
        self.paired_enter(evt)?
            .param_by_name(name)
            .filter(|p| !p.raw.is_empty())
    }

    /// The thread's stored enter event of the syscall whose exit is `evt`, if it has one.
    fn paired_enter<'e>(&'e self, evt: &Event<'_>) -> Option<Event<'e>> {
        if evt.direction() != Direction::Exit {
            return None;
        }
        let t = self.threads.get(&(evt.tid() as i64))?;
        let enter = Event::new(&t.last_enter).ok()?;
        (enter.event_type().wrapping_add(1) == evt.event_type()).then_some(enter)
    }

    /// [`State::param`] for a parameter of [`P`] (no name search).
    pub(crate) fn param_p<'e>(&'e self, evt: &Event<'e>, p: P) -> Option<Param<'e>> {
        if let Some(v) = evt.param_of(p)
            && !v.raw.is_empty()
        {
            return Some(v);
        }
        self.paired_enter(evt)?
            .param_of(p)
            .filter(|v| !v.raw.is_empty())
    }

    /// The timestamp of the enter event paired with exit event `evt` (same thread, stored enter of
    /// the same syscall), for `evt.latency`.
    pub fn enter_ts(&self, evt: &Event<'_>) -> Option<u64> {
        let t = self.threads.get(&(evt.tid() as i64))?;
        let enter = Event::new(&t.last_enter).ok()?;
        (enter.event_type().wrapping_add(1) == evt.event_type()).then(|| enter.ts())
    }

    fn insert_fd(&mut self, pid: i64, fd: i64, entry: FdEntry) {
        let max = self.limits.max_fds_per_process;
        let table = self.fds.entry(pid).or_default();
        if table.len() < max || table.contains_key(&fd) {
            table.insert(fd, entry);
        }
    }

    /// libsinsp's `add_fd` on the event's thread: the new fd becomes the thread's `lastevent_fd`
    /// and the event's fd (whether or not the table had room for it).
    fn fd_added(&mut self, tid: i64, fd: i64) {
        self.ctx.fd = Some(fd);
        self.ctx.lastevent_fd = fd;
        if let Some(t) = self.threads.get_mut(&tid) {
            t.lastevent_fd = fd;
        }
    }

    fn apply_pending(&mut self) {
        if let Some((pid, fd)) = self.pending_fd_close.take()
            && let Some(t) = self.fds.get_mut(&pid)
        {
            t.remove(&fd);
        }
        if let Some(tid) = self.pending_thread_exit.take() {
            self.remove_thread(tid);
        }
    }

    fn remove_thread(&mut self, tid: i64) {
        let Some(t) = self.threads.get(&tid) else {
            return;
        };
        let pid = t.pid;
        let others = self.threads.values().any(|o| o.pid == pid && o.tid != tid);
        if t.is_main_thread() && others {
            if let Some(t) = self.threads.get_mut(&tid) {
                t.exited = true;
            }
            return;
        }
        self.threads.remove(&tid);
        if !others {
            self.fds.remove(&pid);
            // a main thread kept only for its threads goes with the last of them
            if self.threads.get(&pid).is_some_and(|m| m.exited) {
                self.threads.remove(&pid);
            }
        }
    }

    fn evict_if_full(&mut self) {
        if self.threads.len() < self.limits.max_threads {
            return;
        }
        let mut by_age: Vec<(u64, i64)> = self
            .threads
            .values()
            .map(|t| (t.last_seen, t.tid))
            .collect();
        by_age.sort_unstable();
        let n = (self.limits.max_threads / 10).max(1);
        for (_, tid) in by_age.into_iter().take(n) {
            if let Some(t) = self.threads.remove(&tid)
                && !self.threads.values().any(|o| o.pid == t.pid)
            {
                self.fds.remove(&t.pid);
            }
        }
    }

    /// Applies one event. Call it for every event in order, before evaluating rules on it.
    pub fn update(&mut self, evt: &Event<'_>) {
        self.apply_pending();
        let code = evt.event_type();
        let ci = code_info(code);
        let tid = evt.tid() as i64;
        let ts = evt.ts();
        // user and group metaevents are consumed by the user database, not numbered
        if ci.op != Op::Users {
            self.ctx.num += 1;
        }
        self.ctx.ts = ts;
        if self.ctx.first_ts == 0 {
            self.ctx.first_ts = ts;
        }
        self.ctx.tid = tid;
        self.ctx.fd = None;
        self.ctx.lastevent_fd = -1;
        self.ctx.name_changed = false;
        self.ctx.fd_hidden = false;
        if !ci.known {
            return;
        }
        // one table probe for the event's thread (created for syscalls, as libsinsp does)
        let thread = if ci.syscall {
            if self.threads.len() >= self.limits.max_threads && !self.threads.contains_key(&tid) {
                self.evict_if_full();
            }
            Some(
                self.threads
                    .entry(tid)
                    .or_insert_with(|| ThreadInfo::unknown(tid)),
            )
        } else {
            self.threads.get_mut(&tid)
        };
        if let Some(t) = thread {
            t.last_seen = ts;
            if ci.enter && ci.syscall {
                // only syscall enters pair with exits (a `switch` between them must not replace
                // the stored execve enter)
                t.last_enter.clear();
                t.last_enter.extend_from_slice(evt.as_bytes());
            }
            if ci.resets {
                // libsinsp's `sinsp_parser::reset`
                let fd_param = || {
                    ci.fd_index
                        .and_then(|i| evt.param(usize::from(i)))
                        .filter(|p| !p.raw.is_empty())
                        .and_then(|p| p.as_i64())
                };
                if ci.enter {
                    t.lastevent_type = code;
                    t.lastevent_fd = if ci.uses_fd {
                        fd_param().unwrap_or(-1)
                    } else {
                        -1
                    };
                } else {
                    let paired = code == t.lastevent_type.wrapping_add(1)
                        || ci.alt_enter == Some(t.lastevent_type);
                    if !paired {
                        // the enter was lost: whatever fd it named is not this syscall's
                        t.lastevent_fd = -1;
                    }
                    if ci.uses_fd
                        && t.lastevent_fd == -1
                        && let Some(fd) = fd_param()
                    {
                        t.lastevent_fd = fd;
                    }
                }
            }
            self.ctx.fd = Some(t.lastevent_fd);
            self.ctx.lastevent_fd = t.lastevent_fd;
            if ci.op == Op::None || (ci.enter && ci.op != Op::Procexit) {
                // nothing else changes the tables: the thread found above is the one to observe
                self.containers.observe(evt, Some(t));
                return;
            }
            // reads and writes (the commonest events) change only an fd: no second thread lookup
            if let Op::Read { tuple } | Op::Write { tuple, .. } = ci.op {
                let pid = t.pid;
                self.containers.observe(evt, Some(t));
                let send = matches!(ci.op, Op::Write { send: true, .. });
                self.rw_exit(evt, pid, tuple, matches!(ci.op, Op::Read { .. }), send);
                return;
            }
        }
        if ci.enter {
            if ci.op == Op::Procexit {
                self.procexit(evt);
            }
        } else {
            // libsinsp's `m_oldname` check: did parsing rename the event's fd?
            let before = if ci.renames {
                self.event_fd().map(|f| f.name.clone())
            } else {
                None
            };
            self.parse_exit(evt, ci);
            if let Some(before) = before {
                self.ctx.name_changed = self.event_fd().is_some_and(|f| f.name != before);
            }
        }
        // container metadata: metaevents into the cache, lookups for containers seen first here
        self.containers.observe(evt, self.threads.get(&tid));
    }

    fn procexit(&mut self, evt: &Event<'_>) {
        let tid = evt.tid() as i64;
        let reaper = evt
            .param_of(P::reaper_tid)
            .and_then(|p| p.as_i64())
            .unwrap_or(0);
        if reaper > 0 {
            for t in self.threads.values_mut() {
                if t.ptid == tid {
                    t.ptid = reaper;
                }
            }
        }
        self.pending_thread_exit = Some(tid);
    }

    fn res(&self, evt: &Event<'_>) -> Option<i64> {
        evt.param(0).and_then(|p| p.as_i64())
    }

    fn parse_exit(&mut self, evt: &Event<'_>, ci: &CodeInfo) {
        match ci.op {
            Op::None => {}
            Op::Clone => self.clone_exit(evt),
            Op::Execve => self.execve_exit(evt),
            Op::Procexit => self.procexit(evt),
            Op::Open => self.open_exit(evt, ci),
            Op::Socket => self.socket_exit(evt),
            Op::Connect => self.connect_exit(evt),
            Op::Accept => self.accept_exit(evt),
            Op::Bind => self.bind_exit(evt),
            Op::Close => self.close_exit(evt),
            Op::Dup => self.dup_exit(evt),
            Op::Fcntl => self.fcntl_exit(evt),
            Op::Pipe => self.pipe_exit(evt, FdType::Fifo),
            Op::Socketpair => self.socketpair_exit(evt),
            // handled with the event's thread at hand in `update`
            Op::Read { .. } | Op::Write { .. } => {}
            Op::Simple(ty) => self.simple_fd(evt, ty, b""),
            Op::Bpf => {
                if evt.param_of(P::cmd).is_some() {
                    self.simple_fd(evt, FdType::Bpf, b"");
                }
            }
            Op::Memfd => {
                let n = self
                    .param_p(evt, P::name)
                    .map(|p| {
                        let mut v = b"memfd:".to_vec();
                        v.extend_from_slice(p.as_str_bytes());
                        v
                    })
                    .unwrap_or_default();
                self.simple_fd(evt, FdType::Memfd, &n)
            }
            Op::Chdir => self.chdir_exit(evt),
            Op::Fchdir => self.fchdir_exit(evt),
            Op::SetId { param, uid } => self.setid_exit(evt, param, uid),
            Op::Setsid => {
                if let Some(r) = self.res(evt).filter(|r| *r >= 0)
                    && let Some(t) = self.threads.get_mut(&(evt.tid() as i64))
                {
                    t.sid = r;
                }
            }
            Op::Users => self.users.update(evt),
        }
    }

    fn tid_of(evt: &Event<'_>) -> i64 {
        evt.tid() as i64
    }

    fn pid_of(&self, tid: i64) -> Option<i64> {
        self.threads.get(&tid).map(|t| t.pid)
    }

    fn clone_exit(&mut self, evt: &Event<'_>) {
        let Some(res) = self.res(evt) else { return };
        if res < 0 {
            return;
        }
        let ts = evt.ts();
        let geti = |n: P| evt.param_of(n).and_then(|p| p.as_i64());
        let flags = geti(P::flags).unwrap_or(0) as u32;
        let ev_tid = geti(P::tid).unwrap_or(evt.tid() as i64);
        let ev_pid = geti(P::pid).unwrap_or(ev_tid);
        let ev_ptid = geti(P::ptid).unwrap_or(0);
        let is_thread = flags & flag("CLONE_THREAD") != 0;
        let (child_tid, parent_tid, child_pid, child_ptid, vtid, vpid, caller_side) = if res == 0 {
            // the child's own event: the params describe the child
            (
                evt.tid() as i64,
                ev_ptid,
                ev_pid,
                ev_ptid,
                geti(P::vtid),
                geti(P::vpid),
                false,
            )
        } else {
            let caller = self.threads.get(&(evt.tid() as i64));
            if self.threads.contains_key(&res) {
                // the child's event came first: it is authoritative
                return;
            }
            let (pid, ptid) = if is_thread {
                (ev_pid, ev_ptid)
            } else {
                (res, evt.tid() as i64)
            };
            let in_ns = flags & flag("CLONE_CHILD_IN_PIDNS") != 0
                || caller.is_some_and(|c| c.vtid != c.tid && c.vtid > 0);
            let (vt, vp) = if in_ns {
                (None, None)
            } else {
                (Some(res), Some(pid))
            };
            (res, evt.tid() as i64, pid, ptid, vt, vp, true)
        };
        let parent = self.threads.get(&if caller_side {
            evt.tid() as i64
        } else {
            parent_tid
        });
        // only whether the parent is known and its pid are needed once the child is a copy
        let parent_pid = parent.map(|p| p.pid);
        let mut t = parent.map_or_else(ThreadInfo::default, ThreadInfo::copy_for_child);
        t.exited = false;
        t.tid = child_tid;
        t.pid = child_pid;
        t.ptid = child_ptid;
        t.vtid = vtid.unwrap_or(child_tid);
        t.vpid = vpid.unwrap_or(child_pid);
        // the child's strings mostly equal the parent's: overwrite in place, allocate only on change
        if let Some(comm) = evt.param_of(P::comm).map(|p| p.as_str_bytes())
            && !comm.is_empty()
        {
            set_bytes(&mut t.comm, comm);
        }
        if let Some(exe) = evt.param_of(P::exe).map(|p| p.as_str_bytes())
            && !exe.is_empty()
        {
            set_bytes(&mut t.exe, exe);
        }
        if let Some(args) = evt.param_of(P::args) {
            set_nul_list(&mut t.args, args.raw);
        }
        if let Some(cwd) = evt.param_of(P::cwd).map(|p| p.as_str_bytes())
            && !cwd.is_empty()
        {
            set_dir(&mut t.cwd, cwd);
        }
        if let Some(cg) = evt.param_of(P::cgroups)
            && (set_nul_list(&mut t.cgroups, cg.raw)
                || parent_pid.is_none()
                || t.container_id.is_none())
        {
            t.container_id = container::container_id(t.cgroups.iter().map(Vec::as_slice));
        }
        if let Some(u) = geti(P::uid) {
            t.uid = u as u32;
        }
        if let Some(g) = geti(P::gid) {
            t.gid = g as u32;
        }
        if let Some(l) = geti(P::fdlimit) {
            t.fdlimit = l;
        }
        if let Some(ts) = evt
            .param_of(P::pidns_init_start_ts)
            .and_then(|p| p.as_u64())
        {
            t.pidns_init_start_ts = ts;
        }
        if parent_pid.is_none() {
            t.loginuid = u32::MAX;
        }
        t.clone_flags = flags;
        t.clone_ts = ts;
        t.last_seen = ts;
        t.lastevent_fd = -1;
        t.lastevent_type = u16::MAX;
        // fds: threads share their process's table; a new process gets a copy of the parent's
        if !is_thread {
            let parent_pid = parent_pid.unwrap_or(parent_tid);
            if parent_pid != child_pid
                && !self.fds.contains_key(&child_pid)
                && let Some(table) = self.fds.get(&parent_pid).cloned()
            {
                self.fds.insert(child_pid, table);
            }
        }
        self.evict_if_full();
        self.threads.insert(child_tid, t);
    }

    fn execve_exit(&mut self, evt: &Event<'_>) {
        let Some(res) = self.res(evt) else { return };
        if res < 0 {
            return;
        }
        let tid = Self::tid_of(evt);
        let getb = |n: P| evt.param_of(n).map(|p| p.as_str_bytes().to_vec());
        let geti = |n: P| evt.param_of(n).and_then(|p| p.as_i64());
        // exepath: the trusted path if the driver gives one, else the filename resolved on cwd
        let filename = self
            .param_p(evt, P::filename)
            .or_else(|| self.param_p(evt, P::pathname))
            .map(|p| p.as_str_bytes().to_vec());
        let ts = evt.ts();
        let fresh = self.threads.get(&tid).is_none_or(|t| t.ptid == -1);
        let t = self
            .threads
            .entry(tid)
            .or_insert_with(|| ThreadInfo::unknown(tid));
        if fresh {
            if let Some(v) = geti(P::pid) {
                t.pid = v;
            }
            if let Some(v) = geti(P::ptid) {
                t.ptid = v;
            }
        }
        if let Some(v) = getb(P::exe) {
            t.exe = v;
        }
        if let Some(a) = evt.param_of(P::args) {
            t.args = split_nul(a.raw);
        }
        if let Some(v) = getb(P::comm) {
            t.comm = v;
        }
        // the cwd is not taken from execve (libsinsp keeps the one from clone or the process list)
        if let Some(e) = evt.param_of(P::env) {
            t.env = split_nul(e.raw);
        }
        if let Some(cg) = evt.param_of(P::cgroups) {
            t.cgroups = split_nul(cg.raw);
            t.container_id = container::container_id(t.cgroups.iter().map(Vec::as_slice));
        }
        if let Some(v) = geti(P::tty) {
            t.tty = v as u32;
        }
        if let Some(v) = geti(P::fdlimit) {
            t.fdlimit = v;
        }
        if let Some(v) = geti(P::vpgid) {
            t.vpgid = v;
        }
        if let Some(v) = geti(P::pgid) {
            t.pgid = v;
        }
        if let Some(v) = geti(P::loginuid) {
            t.loginuid = v as u32;
        }
        if let Some(v) = geti(P::uid) {
            t.uid = v as u32;
        }
        if let Some(v) = geti(P::gid) {
            t.gid = v as u32;
        }
        if let Some(f) = geti(P::flags) {
            let f = f as u32;
            t.exe_writable = f & 1 != 0;
            t.exe_upper_layer = f & 2 != 0;
            t.exe_from_memfd = f & 4 != 0;
            t.exe_lower_layer = f & 8 != 0;
        }
        for (n, slot) in [
            (P::cap_inheritable, &mut t.cap_inheritable),
            (P::cap_permitted, &mut t.cap_permitted),
            (P::cap_effective, &mut t.cap_effective),
            (P::exe_ino, &mut t.exe_ino),
            (P::exe_ino_ctime, &mut t.exe_ino_ctime),
            (P::exe_ino_mtime, &mut t.exe_ino_mtime),
        ] {
            if let Some(v) = evt.param_of(n).and_then(|p| p.as_u64()) {
                *slot = v;
            }
        }
        match getb(P::trusted_exepath).filter(|v| !v.is_empty()) {
            Some(p) => t.exepath = p,
            None => {
                if let Some(f) = filename.filter(|f| !f.is_empty()) {
                    t.exepath = concat_path(&t.cwd, &f);
                } else if t.exe.first() == Some(&b'/') {
                    t.exepath = t.exe.clone();
                }
            }
        }
        t.lastexec_ts = ts;
    }

    fn cwd_of(&self, tid: i64) -> Vec<u8> {
        self.threads
            .get(&tid)
            .map(|t| t.cwd.clone())
            .unwrap_or_default()
    }

    /// libsinsp's `parse_dirfd`: the directory a relative path of an `*at` call starts from.
    pub fn dirfd_path(&self, tid: i64, name: &[u8], dirfd: i64) -> Vec<u8> {
        const AT_FDCWD: i64 = -100;
        if name.first() == Some(&b'/') {
            return Vec::new();
        }
        if dirfd == AT_FDCWD {
            return self.cwd_of(tid);
        }
        self.fd(tid, dirfd)
            .map(|f| f.name.clone())
            .unwrap_or_default()
    }

    fn open_exit(&mut self, evt: &Event<'_>, ci: &CodeInfo) {
        let Some(fd) = self.res(evt) else { return };
        if fd < 0 {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(pid) = self.pid_of(tid) else { return };
        self.fd_added(tid, fd);
        let name_idx = if ci.by_handle { P::path } else { P::name };
        let raw = self
            .param_p(evt, name_idx)
            .map(|p| p.as_str_bytes().to_vec())
            .unwrap_or_default();
        let flags = self
            .param_p(evt, P::flags)
            .and_then(|p| p.as_u64())
            .unwrap_or(0) as u32;
        let full = if ci.at {
            let dirfd = self
                .param_p(evt, P::dirfd)
                .and_then(|p| p.as_i64())
                .unwrap_or(-100);
            let dir = self.dirfd_path(tid, &raw, dirfd);
            concat_path(&dir, &raw)
        } else {
            concat_path(&self.cwd_of(tid), &raw)
        };
        let is_dir = flags & 0x400 != 0; // PPM_O_DIRECTORY
        let mut e = FdEntry::new(if is_dir {
            FdType::Directory
        } else {
            FdType::File
        });
        e.name = full;
        e.name_raw = raw;
        e.open_flags = flags;
        e.dev = self
            .param_p(evt, P::dev)
            .and_then(|p| p.as_u64())
            .unwrap_or(0) as u32;
        e.ino = self
            .param_p(evt, P::ino)
            .and_then(|p| p.as_u64())
            .unwrap_or(0);
        self.insert_fd(pid, fd, e);
    }

    fn socket_exit(&mut self, evt: &Event<'_>) {
        let Some(fd) = self.res(evt) else { return };
        if fd < 0 {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(pid) = self.pid_of(tid) else { return };
        self.fd_added(tid, fd);
        let domain = self
            .param_p(evt, P::domain)
            .and_then(|p| p.as_u64())
            .unwrap_or(0);
        let ty = self
            .param_p(evt, P::type_)
            .and_then(|p| p.as_u64())
            .unwrap_or(0)
            & 0xff;
        let proto = self
            .param_p(evt, P::proto)
            .and_then(|p| p.as_u64())
            .unwrap_or(0);
        let mut e = FdEntry::new(match domain {
            1 => FdType::Unix,
            2 => FdType::Ipv4Sock,
            10 => FdType::Ipv6Sock,
            16 => FdType::Netlink,
            _ => FdType::Unknown,
        });
        if matches!(e.ty, FdType::Ipv4Sock | FdType::Ipv6Sock) {
            // libsinsp's add_socket: IPPROTO_TCP=6, UDP=17, IP=0 (by type), ICMP=1, RAW=255
            let raw = ty == 3;
            e.sock.l4proto = match proto {
                6 if raw => L4Proto::Raw,
                6 => L4Proto::Tcp,
                17 if raw => L4Proto::Raw,
                17 => L4Proto::Udp,
                0 => match ty {
                    1 => L4Proto::Tcp,
                    2 => L4Proto::Udp,
                    _ => L4Proto::Unknown,
                },
                1 if raw => L4Proto::Raw,
                1 => L4Proto::Icmp,
                255 => L4Proto::Raw,
                _ => L4Proto::Unknown,
            };
        }
        self.insert_fd(pid, fd, e);
    }

    fn connect_exit(&mut self, evt: &Event<'_>) {
        let tid = Self::tid_of(evt);
        let Some(fd) = self.ctx.fd else { return };
        let res = self.res(evt).unwrap_or(-1);
        // EINPROGRESS counts as connected, as in libsinsp
        let ok = res >= 0 || res == -115;
        if !ok {
            // libsinsp leaves the event without fd info: fd fields come from the event itself
            self.ctx.fd_hidden = true;
            return;
        }
        let Some(pid) = self.pid_of(tid) else { return };
        let updated = {
            let tuple = evt.param_of(P::tuple).map(|p| p.value());
            let addr = self.param_p(evt, P::addr).map(|p| p.value());
            let Some(mut e) = self.fd(tid, fd).cloned() else {
                return;
            };
            match tuple {
                Some(ParamValue::SockTuple(t)) => e.set_tuple(&t, Role::Client),
                _ => {
                    if let Some(ParamValue::SockAddr(a)) = addr {
                        e.set_peer(&a, Role::Client);
                    }
                }
            }
            e.connected = ok;
            e
        };
        self.insert_fd(pid, fd, updated);
    }

    fn accept_exit(&mut self, evt: &Event<'_>) {
        let Some(fd) = self.res(evt) else { return };
        if fd < 0 {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(pid) = self.pid_of(tid) else { return };
        self.fd_added(tid, fd);
        let mut e = FdEntry::new(FdType::Unknown);
        if let Some(ParamValue::SockTuple(t)) = evt.param_of(P::tuple).map(|p| p.value()) {
            e.ty = match t {
                SockTuple::Inet(..) => FdType::Ipv4Sock,
                SockTuple::Inet6(..) => FdType::Ipv6Sock,
                SockTuple::Unix(..) => FdType::Unix,
                SockTuple::Other(..) => FdType::Unknown,
            };
            // the listening socket's protocol carries over
            e.sock.l4proto = L4Proto::Tcp;
            e.set_tuple(&t, Role::Server);
        }
        e.connected = true;
        self.insert_fd(pid, fd, e);
    }

    fn bind_exit(&mut self, evt: &Event<'_>) {
        if self.res(evt).is_none_or(|r| r < 0) {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(fd) = self.ctx.fd else { return };
        let Some(pid) = self.pid_of(tid) else { return };
        let updated = {
            let addr = self.param_p(evt, P::addr).map(|p| p.value());
            let Some(mut e) = self.fd(tid, fd).cloned() else {
                return;
            };
            if let Some(ParamValue::SockAddr(a)) = addr {
                e.set_bound(&a);
            }
            e
        };
        self.insert_fd(pid, fd, updated);
    }

    fn close_exit(&mut self, evt: &Event<'_>) {
        let tid = Self::tid_of(evt);
        let Some(fd) = self.ctx.fd else { return };
        if self.res(evt).is_none_or(|r| r < 0) {
            return;
        }
        if let Some(pid) = self.pid_of(tid) {
            self.pending_fd_close = Some((pid, fd));
        }
    }

    fn dup_exit(&mut self, evt: &Event<'_>) {
        let Some(newfd) = self.res(evt) else { return };
        if newfd < 0 {
            return;
        }
        let tid = Self::tid_of(evt);
        let old = self
            .param_p(evt, P::oldfd)
            .or_else(|| self.param_p(evt, P::fd))
            .and_then(|p| p.as_i64());
        let Some(old) = old else { return };
        let Some(pid) = self.pid_of(tid) else { return };
        self.fd_added(tid, newfd);
        if let Some(e) = self.fd(tid, old).cloned() {
            self.insert_fd(pid, newfd, e);
        } else if let Some(t) = self.fds.get_mut(&pid) {
            t.remove(&newfd);
        }
    }

    fn fcntl_exit(&mut self, evt: &Event<'_>) {
        let Some(newfd) = self.res(evt) else { return };
        let cmd = self
            .param_p(evt, P::cmd)
            .and_then(|p| p.as_u64())
            .unwrap_or(0);
        // PPM_FCNTL_F_DUPFD = 1, F_DUPFD_CLOEXEC = 0x1a
        if newfd < 0 || (cmd != 1 && cmd != 0x1a) {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(old) = self.ctx.fd else { return };
        let Some(pid) = self.pid_of(tid) else { return };
        if let Some(e) = self.fd(tid, old).cloned() {
            self.fd_added(tid, newfd);
            self.insert_fd(pid, newfd, e);
        }
    }

    fn pipe_exit(&mut self, evt: &Event<'_>, ty: FdType) {
        if self.res(evt).is_none_or(|r| r < 0) {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(pid) = self.pid_of(tid) else { return };
        let fd1 = evt.param_of(P::fd1).and_then(|p| p.as_i64());
        let fd2 = evt.param_of(P::fd2).and_then(|p| p.as_i64());
        let ino = evt.param_of(P::ino).and_then(|p| p.as_u64()).unwrap_or(0);
        for fd in [fd1, fd2].into_iter().flatten() {
            self.fd_added(tid, fd);
            let mut e = FdEntry::new(ty);
            e.ino = ino;
            self.insert_fd(pid, fd, e);
        }
    }

    fn socketpair_exit(&mut self, evt: &Event<'_>) {
        if self.res(evt).is_none_or(|r| r < 0) {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(pid) = self.pid_of(tid) else { return };
        let domain = self
            .param_p(evt, P::domain)
            .and_then(|p| p.as_u64())
            .unwrap_or(1);
        for (i, n) in [P::fd1, P::fd2].into_iter().enumerate() {
            if let Some(fd) = evt.param_of(n).and_then(|p| p.as_i64()) {
                if i == 0 {
                    self.fd_added(tid, fd);
                } else {
                    // the second fd becomes the thread's last fd; the event keeps the first
                    self.ctx.lastevent_fd = fd;
                    if let Some(t) = self.threads.get_mut(&tid) {
                        t.lastevent_fd = fd;
                    }
                }
                let mut e = FdEntry::new(if domain == 1 {
                    FdType::Unix
                } else {
                    FdType::Unknown
                });
                e.connected = true;
                self.insert_fd(pid, fd, e);
            }
        }
    }

    /// libsinsp's `parse_read_exit`/`parse_write_exit`: a successful read or write marks an IP
    /// socket connected, and a datagram socket (or one whose connect was not seen) takes its tuple
    /// from the call's peer address; send, sendto and sendmsg on an fd the table lacks add a UDP
    /// socket first (`infer_send_sendto_sendmsg_fdinfo`).
    fn rw_exit(&mut self, evt: &Event<'_>, pid: i64, tuple: bool, incoming: bool, send: bool) {
        // old captures' recvmmsg/sendmmsg exits carry no parameters
        let Some(res) = self.res(evt) else { return };
        let Some(mut fd) = self.ctx.fd else { return };
        // one table probe in the common case (a known fd)
        let (mut e, inferred) = match self.fds.get_mut(&pid).and_then(|t| t.get_mut(&fd)) {
            Some(e) => {
                if res < 0 {
                    return;
                }
                if matches!(e.ty, FdType::Ipv4Sock | FdType::Ipv6Sock) {
                    e.connected = true;
                }
                let tcp = e.ty == FdType::Ipv4Sock && e.sock.l4proto == L4Proto::Tcp;
                if !tuple || (!e.name.is_empty() && tcp) {
                    return;
                }
                (e.clone(), false)
            }
            None => {
                if !send || res < 0 {
                    return;
                }
                let domain = match self
                    .param_p(evt, P::tuple)
                    .and_then(|p| p.raw.first().copied())
                {
                    Some(2) => FdType::Ipv4Sock,
                    Some(10) => FdType::Ipv6Sock,
                    _ => return,
                };
                let Some(sfd) = self.param_p(evt, P::fd).and_then(|p| p.as_i64()) else {
                    return;
                };
                let mut e = FdEntry::new(domain);
                e.sock.l4proto = L4Proto::Udp;
                e.connected = true;
                self.fd_added(Self::tid_of(evt), sfd);
                fd = sfd;
                (e, true)
            }
        };
        let Some(ParamValue::SockTuple(t)) = self.param_p(evt, P::tuple).map(|p| p.value()) else {
            if inferred {
                self.insert_fd(pid, fd, e);
            }
            return;
        };
        if !e.update_tuple(&t, &self.ifaces) {
            if inferred {
                self.insert_fd(pid, fd, e);
            }
            return;
        }
        if matches!(e.ty, FdType::Ipv4Sock | FdType::Ipv6Sock) {
            if e.role == Role::None {
                e.role = self.guess_role(pid, fd, &e, incoming);
            }
            // stored client first: a reader that is the client, a writer that is the server,
            // has the peer on the source side
            if (incoming && e.role == Role::Client) || (!incoming && e.role == Role::Server) {
                e.swap_ends();
            } else {
                e.rename_tuple();
            }
        }
        self.insert_fd(pid, fd, e);
    }

    /// libsinsp's `set_net_role_by_guessing`. Its port checks read the fd's tuple as an IPv4 one
    /// (for an IPv6 socket that is bytes 8..12 of the client address), and they scan the whole fd
    /// table, the fd itself included: an IPv4 socket always finds its own ports, so its role
    /// follows the direction of the first transfer that gives it a tuple.
    fn guess_role(&self, pid: i64, fd: i64, e: &FdEntry, incoming: bool) -> Role {
        let (sport, dport) = e.ipv4_view_ports();
        let table = self.fds.get(&pid);
        let others = || {
            table
                .into_iter()
                .flatten()
                .filter(|(n, _)| **n != fd)
                .map(|(_, f)| f)
        };
        let bound = std::iter::once(e).chain(others()).any(|f| match f.ty {
            FdType::Ipv4Sock => f.sock.dport == dport,
            FdType::Ipv4ServSock => f.sock.sport == dport,
            _ => false,
        });
        if !bound {
            return Role::Client;
        }
        let client_port = std::iter::once(e)
            .chain(others())
            .any(|f| f.ty == FdType::Ipv4Sock && f.sock.sport == sport);
        if !client_port {
            return Role::Server;
        }
        if incoming { Role::Server } else { Role::Client }
    }

    fn simple_fd(&mut self, evt: &Event<'_>, ty: FdType, name: &[u8]) {
        let Some(fd) = self.res(evt) else { return };
        if fd < 0 {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(pid) = self.pid_of(tid) else { return };
        self.fd_added(tid, fd);
        let mut e = FdEntry::new(ty);
        e.name = name.to_vec();
        self.insert_fd(pid, fd, e);
    }

    fn set_cwd(&mut self, tid: i64, path: Vec<u8>) {
        let Some(pid) = self.pid_of(tid) else { return };
        // cwd is per process: update every thread of it
        for t in self.threads.values_mut() {
            if t.pid == pid {
                t.cwd = path.clone();
            }
        }
    }

    fn chdir_exit(&mut self, evt: &Event<'_>) {
        if self.res(evt).is_none_or(|r| r < 0) {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(p) = self.param_p(evt, P::path) else {
            return;
        };
        let new = with_slash(&concat_path(&self.cwd_of(tid), p.as_str_bytes()));
        self.set_cwd(tid, new);
    }

    fn fchdir_exit(&mut self, evt: &Event<'_>) {
        if self.res(evt).is_none_or(|r| r < 0) {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(fd) = self.ctx.fd else { return };
        let Some(name) = self.fd(tid, fd).map(|f| f.name.clone()) else {
            return;
        };
        self.set_cwd(tid, with_slash(&name));
    }

    fn setid_exit(&mut self, evt: &Event<'_>, param: P, uid: bool) {
        if self.res(evt).is_none_or(|r| r < 0) {
            return;
        }
        let tid = Self::tid_of(evt);
        let Some(v) = self.param_p(evt, param).and_then(|p| p.as_u64()) else {
            return;
        };
        let v = v as u32;
        if v == u32::MAX {
            return;
        }
        let Some(pid) = self.pid_of(tid) else { return };
        for t in self.threads.values_mut() {
            if t.pid == pid {
                if uid {
                    t.uid = v;
                } else {
                    t.gid = v;
                }
            }
        }
    }

    /// Inserts a thread (for tests and for embedders that know their processes).
    pub fn insert_thread(&mut self, t: ThreadInfo) {
        self.evict_if_full();
        self.threads.insert(t.tid, t);
    }
}

/// What [`State::update`] does with an event, by event code (a table built once from the catalog's
/// names, so the hot path switches on the code instead of comparing names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// Leaves the tables alone.
    None,
    Clone,
    Execve,
    Procexit,
    Open,
    Socket,
    Connect,
    Accept,
    Bind,
    Close,
    Dup,
    Fcntl,
    Pipe,
    Socketpair,
    /// An fd of this type without a name (eventfd, signalfd, timerfd, …).
    Simple(FdType),
    /// The read family (`parse_read_exit`): `tuple` is set for the calls whose exit carries the
    /// peer's address (recv, recvfrom, recvmsg, recvmmsg).
    Read {
        tuple: bool,
    },
    /// The write family (`parse_write_exit`): `send` for send, sendto and sendmsg (which may
    /// create the socket they write to), `tuple` for those and sendmmsg.
    Write {
        tuple: bool,
        send: bool,
    },
    Bpf,
    Memfd,
    Chdir,
    Fchdir,
    /// setuid/setresuid (`uid`) or setgid/setresgid: the parameter holding the new id.
    SetId {
        param: P,
        uid: bool,
    },
    Setsid,
    /// `useradded`/`groupadded`: for the user database, not numbered.
    Users,
}

/// The per-code facts [`State::update`] needs.
#[derive(Clone, Copy, Debug)]
struct CodeInfo {
    op: Op,
    /// The code is in the catalog.
    known: bool,
    /// A syscall event (creates its thread when unknown; its enter is kept for its exit).
    syscall: bool,
    /// Enter direction.
    enter: bool,
    /// `EF_USES_FD`: the event names the fd it is about.
    uses_fd: bool,
    /// Where that fd is (libscap's `get_enter_event_fd_location`/`get_exit_event_fd_location`).
    fd_index: Option<u8>,
    /// Goes through libsinsp's per-event reset of the thread's `lastevent_*` (every event with a
    /// thread but `EF_SKIPPARSERESET` ones, `switch` and the metaevents without a thread).
    resets: bool,
    /// Another enter this exit pairs with (`execve` exits after an `execveat` enter).
    alt_enter: Option<u16>,
    /// connect/bind may rename the event's fd (`fd.name_changed`).
    renames: bool,
    /// `openat`/`openat2`: relative names start at `dirfd`.
    at: bool,
    /// `open_by_handle_at`: the name is in `path`.
    by_handle: bool,
}

const UNKNOWN_CODE: CodeInfo = CodeInfo {
    op: Op::None,
    known: false,
    syscall: false,
    enter: false,
    uses_fd: false,
    fd_index: None,
    resets: false,
    alt_enter: None,
    renames: false,
    at: false,
    by_handle: false,
};

/// libsinsp's parsers, by event name (every direction of the name maps to the same operation).
fn op_of_name(name: &str) -> Op {
    match name {
        "clone" | "fork" | "vfork" | "clone3" => Op::Clone,
        "execve" | "execveat" => Op::Execve,
        "procexit" => Op::Procexit,
        "open" | "openat" | "openat2" | "creat" | "open_by_handle_at" => Op::Open,
        "socket" => Op::Socket,
        "connect" => Op::Connect,
        "accept" | "accept4" => Op::Accept,
        "bind" => Op::Bind,
        "close" => Op::Close,
        "dup" | "dup2" | "dup3" => Op::Dup,
        "fcntl" => Op::Fcntl,
        "pipe" | "pipe2" => Op::Pipe,
        "socketpair" => Op::Socketpair,
        "read" | "readv" | "pread" | "preadv" => Op::Read { tuple: false },
        "recv" | "recvfrom" | "recvmsg" | "recvmmsg" => Op::Read { tuple: true },
        "write" | "writev" | "pwrite" | "pwritev" => Op::Write {
            tuple: false,
            send: false,
        },
        "send" | "sendto" | "sendmsg" => Op::Write {
            tuple: true,
            send: true,
        },
        "sendmmsg" => Op::Write {
            tuple: true,
            send: false,
        },
        "eventfd" | "eventfd2" => Op::Simple(FdType::Event),
        "signalfd" | "signalfd4" => Op::Simple(FdType::Signalfd),
        "timerfd_create" => Op::Simple(FdType::Timerfd),
        "inotify_init" | "inotify_init1" => Op::Simple(FdType::Inotify),
        "epoll_create" | "epoll_create1" => Op::Simple(FdType::Eventpoll),
        "userfaultfd" => Op::Simple(FdType::Userfaultfd),
        "io_uring_setup" => Op::Simple(FdType::IoUring),
        "pidfd_open" => Op::Simple(FdType::Pidfd),
        "bpf" => Op::Bpf,
        "memfd_create" => Op::Memfd,
        "chdir" => Op::Chdir,
        "fchdir" => Op::Fchdir,
        "setuid" => Op::SetId {
            param: P::uid,
            uid: true,
        },
        "setresuid" => Op::SetId {
            param: P::euid,
            uid: true,
        },
        "setgid" => Op::SetId {
            param: P::gid,
            uid: false,
        },
        "setresgid" => Op::SetId {
            param: P::egid,
            uid: false,
        },
        "setsid" => Op::Setsid,
        "useradded" | "groupadded" => Op::Users,
        _ => Op::None,
    }
}

/// The [`CodeInfo`] of an event code ([`UNKNOWN_CODE`] beyond the catalog).
#[inline]
fn code_info(code: u16) -> &'static CodeInfo {
    static TABLE: std::sync::OnceLock<Vec<CodeInfo>> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let execveat_enter = events::events()
            .iter()
            .find(|e| e.name == "execveat" && e.direction() == Direction::Enter)
            .map(|e| e.code);
        events::events()
            .iter()
            .map(|e| {
                let enter = e.direction() == Direction::Enter;
                let uses_fd = e.flags.contains(EventFlags::USES_FD);
                CodeInfo {
                    op: op_of_name(e.name),
                    known: true,
                    syscall: e.category.is_syscall(),
                    enter,
                    uses_fd,
                    fd_index: if uses_fd { fd_location(e) } else { None },
                    resets: !e.flags.contains(EventFlags::SKIPPARSERESET)
                        && !matches!(
                            e.name,
                            "switch"
                                | "container"
                                | "useradded"
                                | "userdeleted"
                                | "groupadded"
                                | "groupdeleted"
                                | "pluginevent"
                                | "asyncevent"
                        ),
                    alt_enter: if !enter && e.name == "execve" {
                        execveat_enter
                    } else {
                        None
                    },
                    renames: matches!(e.name, "connect" | "bind"),
                    at: e.name.starts_with("openat"),
                    by_handle: e.name == "open_by_handle_at",
                }
            })
            .collect()
    });
    t.get(usize::from(code)).unwrap_or(&UNKNOWN_CODE)
}

/// libscap's fd parameter positions: enter events keep the fd first (but `mmap`/`mmap2` and
/// `splice`); exit events list it where their layout has it, and some have none (-1 there).
/// A position whose parameter is not an fd counts as none.
fn fd_location(e: &events::EventInfo) -> Option<u8> {
    let at: usize = if e.direction() == Direction::Enter {
        match e.name {
            "mmap" | "mmap2" => 4,
            "splice" => 1,
            _ => 0,
        }
    } else {
        match e.name {
            "setns" | "listen" | "shutdown" | "fchdir" | "lseek" | "llseek" | "ioctl" | "fstat"
            | "close" | "getdents" | "getdents64" | "flock" | "copy_file_range" | "fcntl"
            | "dup" | "dup2" | "dup3" | "newfstatat" | "fchownat" | "fchmodat" | "mkdirat"
            | "unlinkat" | "mknodat" | "sendmmsg" | "recvmmsg" | "io_uring_register"
            | "io_uring_enter" | "setsockopt" | "getsockopt" | "fsconfig" | "finit_module"
            | "fchmod" | "fchown" => 1,
            "read" | "pread" | "bind" | "write" | "pwrite" | "recv" | "send" | "sendto"
            | "sendmsg" | "sendfile" | "splice" | "writev" | "pwritev" | "connect"
            | "symlinkat" => 2,
            "recvfrom" | "readv" | "preadv" => 3,
            "recvmsg" => 5,
            "mmap" | "mmap2" => 8,
            _ => return None,
        }
    };
    let p = e.params.get(at)?;
    matches!(p.ty, events::ParamType::Fd | events::ParamType::Fd32)
        .then(|| u8::try_from(at).ok())
        .flatten()
}

impl From<&FdKind> for FdType {
    fn from(k: &FdKind) -> FdType {
        fd::type_of_kind(k)
    }
}
