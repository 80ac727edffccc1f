//! Field extraction: the values Falco rules read, from the current event and the [`State`].
//!
//! An [`Extractor`] is a cheap view over one event and the state after [`State::update`] applied it;
//! it implements the compiled code's [`FieldSource`] and renders fields as text for outputs
//! ([`Extractor::render_field`]). Semantics follow libsinsp's filterchecks (`sinsp_filtercheck_
//! {event,thread,fd,user,group}.cpp`): a value that cannot be known is *missing* (`extract` returns
//! false, outputs print `<NA>`), never an empty string or zero.
//!
//! Representation (see `frule_codegen::abi`): integers widened to 64 bits with the field type's
//! sign, strings as raw bytes, addresses as `IpAddr`. Multi-valued forms:
//! - `proc.aname`, `proc.aexe`, `proc.aexepath`, `proc.acmdline`, `proc.apid` without an index push
//!   one item per ancestor, parent first (libsinsp compares them with "any ancestor"; the schema flags
//!   them `MultiValue::Ancestors`); rendered, they are joined by spaces;
//! - `fd.ip`, `fd.net`, `fd.port`, `fd.proto` (filter-only, `MultiValue::Endpoints`) push both
//!   endpoints of a connected socket (client first), one for a listening socket; libsinsp's
//!   `=`/`in`/ordering match either end, `!=` neither. `fd.proto` carries the ports, as libsinsp's
//!   `compare_port` compares them for it;
//! - `fd.cip.name`, `fd.sip.name`, `fd.lip.name`, `fd.rip.name` (`MultiValue::Names`) push the
//!   names, among those the rules mention, whose addresses include the socket's (see [`crate::dns`]):
//!   present on a connected IPv4/IPv6 socket even with no name, so that `!=` holds there, as in
//!   libsinsp's `compare_domain`; `fd.sip.name` of a listening socket is present only with a name.
//!   Rendered, the first name.
//!
//! `container.*` and `k8s.*` come from [`crate::container::tracker`] (what Falco's container plugin
//! gives, through the state's container cache). Not implemented yet, so always missing:
//! `container.ip`, `container.host_*`, `k8s.pod.ip`, the deprecated `k8s.*`, `fs.path.*`,
//! `fdlist.*`, `evt.around`, `evt.abspath`, `evt.deltatime`, `proc.nthreads`,
//! `proc.nchilds`, `proc.fdopencount`, `proc.vmsize`-style counters and `thread.cpu*`. See
//! [`is_supported`].

mod fixed;
mod names;
mod render;

use std::cell::Cell;
use std::net::IpAddr;
use std::sync::OnceLock;

use frule_codegen::abi::{FieldArg, FieldId, FieldSource, ValueBuf, ValueRef};
use frule_lang::events::{Direction, EventFlags, ParamType};
use frule_lang::fields::{self, FieldType};

use crate::event::{Event, P, ParamValue};
use crate::state::{FdEntry, FdType, Role, State, ThreadInfo};

pub use names::errno_name;

/// Every field the extractor knows, resolved once from the schema's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs, reason = "one variant per schema field, named after it")]
enum K {
    EvtNum,
    EvtTime,
    EvtTimeS,
    EvtTimeIso,
    EvtDatetime,
    EvtDatetimeS,
    EvtRawtime,
    EvtRawtimeS,
    EvtRawtimeNs,
    EvtReltime,
    EvtReltimeS,
    EvtReltimeNs,
    EvtSource,
    EvtIsAsync,
    EvtHostname,
    EvtLatency,
    EvtLatencyS,
    EvtLatencyNs,
    EvtDir,
    EvtType,
    SyscallType,
    EvtCategory,
    EvtCpu,
    EvtArgs,
    EvtInfo,
    EvtArg,
    EvtRawarg,
    EvtBuffer,
    EvtBuflen,
    EvtRes,
    EvtRawres,
    EvtFailed,
    EvtIsIo,
    EvtIsIoRead,
    EvtIsIoWrite,
    EvtIsOpenRead,
    EvtIsOpenWrite,
    EvtIsOpenExec,
    EvtIsOpenCreate,
    EvtCount,
    ProcExe,
    ProcPexe,
    ProcAexe,
    ProcExepath,
    ProcPexepath,
    ProcAexepath,
    ProcName,
    ProcPname,
    ProcAname,
    ProcArgs,
    ProcCmdline,
    ProcPcmdline,
    ProcAcmdline,
    ProcCmdnargs,
    ProcCmdlenargs,
    ProcExeline,
    ProcEnv,
    ProcCwd,
    ProcTty,
    ProcPid,
    ProcPpid,
    ProcApid,
    ProcVpid,
    ProcPvpid,
    ProcSid,
    ProcSname,
    ProcSidExe,
    ProcSidExepath,
    ProcVpgid,
    ProcVpgidName,
    ProcVpgidExe,
    ProcVpgidExepath,
    ProcPgid,
    ProcDuration,
    ProcPpidDuration,
    ProcPidTs,
    ProcPpidTs,
    ProcIsExeWritable,
    ProcIsExeUpper,
    ProcIsExeLower,
    ProcIsExeMemfd,
    ProcIsSidLeader,
    ProcIsVpgidLeader,
    ProcIsPgidLeader,
    ProcExeIno,
    ProcExeInoCtime,
    ProcExeInoMtime,
    ProcExeInoCtimeDurProcStart,
    ProcExeInoCtimeDurPidnsStart,
    ProcPidnsInitStartTs,
    CapPermitted,
    CapInheritable,
    CapEffective,
    ProcFdopencount,
    ProcFdlimit,
    ThreadTid,
    ThreadIsMain,
    ThreadVtid,
    ThreadNametid,
    ThreadCgroups,
    ThreadCgroup,
    ProcNthreads,
    UserUid,
    UserName,
    UserHomedir,
    UserShell,
    UserLoginuid,
    UserLoginname,
    GroupGid,
    GroupName,
    FdNum,
    FdType,
    FdTypechar,
    FdName,
    FdDirectory,
    FdFilename,
    FdIp,
    FdCip,
    FdSip,
    FdLip,
    FdRip,
    FdPort,
    FdProto,
    FdCport,
    FdSport,
    FdLport,
    FdRport,
    FdL4proto,
    FdSockfamily,
    FdIsServer,
    FdUid,
    FdNet,
    FdCnet,
    FdSnet,
    FdLnet,
    FdRnet,
    FdConnected,
    FdNameChanged,
    FdDev,
    FdDevMajor,
    FdDevMinor,
    FdIno,
    FdNameraw,
    FdIsUpper,
    FdIsLower,
    FdCipName,
    FdSipName,
    FdLipName,
    FdRipName,
    /// Every field [`crate::container::tracker::serves`], `container.id` included.
    Container,
    Unsupported,
}

fn kind_of_name(name: &str) -> K {
    use K::*;
    match name {
        "evt.num" => EvtNum,
        "evt.time" => EvtTime,
        "evt.time.s" => EvtTimeS,
        "evt.time.iso8601" => EvtTimeIso,
        "evt.datetime" => EvtDatetime,
        "evt.datetime.s" => EvtDatetimeS,
        "evt.rawtime" => EvtRawtime,
        "evt.rawtime.s" => EvtRawtimeS,
        "evt.rawtime.ns" => EvtRawtimeNs,
        "evt.reltime" => EvtReltime,
        "evt.reltime.s" => EvtReltimeS,
        "evt.reltime.ns" => EvtReltimeNs,
        "evt.source" => EvtSource,
        "evt.is_async" => EvtIsAsync,
        "evt.hostname" => EvtHostname,
        "evt.latency" => EvtLatency,
        "evt.latency.s" => EvtLatencyS,
        "evt.latency.ns" => EvtLatencyNs,
        "evt.dir" => EvtDir,
        "evt.type" => EvtType,
        "syscall.type" => SyscallType,
        "evt.category" => EvtCategory,
        "evt.cpu" => EvtCpu,
        "evt.args" => EvtArgs,
        "evt.info" => EvtInfo,
        "evt.arg" => EvtArg,
        "evt.rawarg" => EvtRawarg,
        "evt.buffer" => EvtBuffer,
        "evt.buflen" => EvtBuflen,
        "evt.res" => EvtRes,
        "evt.rawres" => EvtRawres,
        "evt.failed" => EvtFailed,
        "evt.is_io" => EvtIsIo,
        "evt.is_io_read" => EvtIsIoRead,
        "evt.is_io_write" => EvtIsIoWrite,
        "evt.is_open_read" => EvtIsOpenRead,
        "evt.is_open_write" => EvtIsOpenWrite,
        "evt.is_open_exec" => EvtIsOpenExec,
        "evt.is_open_create" => EvtIsOpenCreate,
        "evt.count" => EvtCount,
        "proc.exe" => ProcExe,
        "proc.pexe" => ProcPexe,
        "proc.aexe" => ProcAexe,
        "proc.exepath" => ProcExepath,
        "proc.pexepath" => ProcPexepath,
        "proc.aexepath" => ProcAexepath,
        "proc.name" => ProcName,
        "proc.pname" => ProcPname,
        "proc.aname" => ProcAname,
        "proc.args" => ProcArgs,
        "proc.cmdline" => ProcCmdline,
        "proc.pcmdline" => ProcPcmdline,
        "proc.acmdline" => ProcAcmdline,
        "proc.cmdnargs" => ProcCmdnargs,
        "proc.cmdlenargs" => ProcCmdlenargs,
        "proc.exeline" => ProcExeline,
        "proc.env" => ProcEnv,
        "proc.cwd" => ProcCwd,
        "proc.tty" => ProcTty,
        "proc.pid" => ProcPid,
        "proc.ppid" => ProcPpid,
        "proc.apid" => ProcApid,
        "proc.vpid" => ProcVpid,
        "proc.pvpid" => ProcPvpid,
        "proc.sid" => ProcSid,
        "proc.sname" => ProcSname,
        "proc.sid.exe" => ProcSidExe,
        "proc.sid.exepath" => ProcSidExepath,
        "proc.vpgid" => ProcVpgid,
        "proc.vpgid.name" => ProcVpgidName,
        "proc.vpgid.exe" => ProcVpgidExe,
        "proc.vpgid.exepath" => ProcVpgidExepath,
        "proc.pgid" => ProcPgid,
        "proc.duration" => ProcDuration,
        "proc.ppid.duration" => ProcPpidDuration,
        "proc.pid.ts" => ProcPidTs,
        "proc.ppid.ts" => ProcPpidTs,
        "proc.is_exe_writable" => ProcIsExeWritable,
        "proc.is_exe_upper_layer" => ProcIsExeUpper,
        "proc.is_exe_lower_layer" => ProcIsExeLower,
        "proc.is_exe_from_memfd" => ProcIsExeMemfd,
        "proc.is_sid_leader" => ProcIsSidLeader,
        "proc.is_vpgid_leader" => ProcIsVpgidLeader,
        "proc.is_pgid_leader" => ProcIsPgidLeader,
        "proc.exe_ino" => ProcExeIno,
        "proc.exe_ino.ctime" => ProcExeInoCtime,
        "proc.exe_ino.mtime" => ProcExeInoMtime,
        "proc.exe_ino.ctime_duration_proc_start" => ProcExeInoCtimeDurProcStart,
        "proc.exe_ino.ctime_duration_pidns_start" => ProcExeInoCtimeDurPidnsStart,
        "proc.pidns_init_start_ts" => ProcPidnsInitStartTs,
        "thread.cap_permitted" => CapPermitted,
        "thread.cap_inheritable" => CapInheritable,
        "thread.cap_effective" => CapEffective,
        "proc.fdopencount" => ProcFdopencount,
        "proc.fdlimit" => ProcFdlimit,
        "thread.tid" => ThreadTid,
        "thread.ismain" => ThreadIsMain,
        "thread.vtid" => ThreadVtid,
        "thread.nametid" => ThreadNametid,
        "thread.cgroups" => ThreadCgroups,
        "thread.cgroup" => ThreadCgroup,
        "proc.nthreads" => ProcNthreads,
        "user.uid" => UserUid,
        "user.name" => UserName,
        "user.homedir" => UserHomedir,
        "user.shell" => UserShell,
        "user.loginuid" => UserLoginuid,
        "user.loginname" => UserLoginname,
        "group.gid" => GroupGid,
        "group.name" => GroupName,
        "fd.num" => FdNum,
        "fd.type" => FdType,
        "fd.typechar" => FdTypechar,
        "fd.name" => FdName,
        "fd.directory" => FdDirectory,
        "fd.filename" => FdFilename,
        "fd.ip" => FdIp,
        "fd.cip" => FdCip,
        "fd.sip" => FdSip,
        "fd.lip" => FdLip,
        "fd.rip" => FdRip,
        "fd.port" => FdPort,
        "fd.proto" => FdProto,
        "fd.cport" => FdCport,
        "fd.sport" => FdSport,
        "fd.lport" => FdLport,
        "fd.rport" => FdRport,
        "fd.l4proto" => FdL4proto,
        "fd.sockfamily" => FdSockfamily,
        "fd.is_server" => FdIsServer,
        "fd.uid" => FdUid,
        "fd.net" => FdNet,
        "fd.cnet" => FdCnet,
        "fd.snet" => FdSnet,
        "fd.lnet" => FdLnet,
        "fd.rnet" => FdRnet,
        "fd.connected" => FdConnected,
        "fd.name_changed" => FdNameChanged,
        "fd.dev" => FdDev,
        "fd.dev.major" => FdDevMajor,
        "fd.dev.minor" => FdDevMinor,
        "fd.ino" => FdIno,
        "fd.nameraw" => FdNameraw,
        "fd.is_upper_layer" => FdIsUpper,
        "fd.is_lower_layer" => FdIsLower,
        "fd.cip.name" => FdCipName,
        "fd.sip.name" => FdSipName,
        "fd.lip.name" => FdLipName,
        "fd.rip.name" => FdRipName,
        n if crate::container::tracker::serves(n) => Container,
        _ => Unsupported,
    }
}

fn kind(id: FieldId) -> K {
    static TABLE: OnceLock<Vec<K>> = OnceLock::new();
    let t = TABLE.get_or_init(|| fields::all().map(|f| kind_of_name(f.name())).collect());
    t.get(id.0 as usize).copied().unwrap_or(K::Unsupported)
}

/// Whether the extractor implements `field` (others are always missing).
pub fn is_supported(field: FieldId) -> bool {
    kind(field) != K::Unsupported
}

/// The fields and the current event, as compiled conditions and outputs read them.
pub struct Extractor<'a> {
    state: &'a State,
    evt: Event<'a>,
    cpu: Option<u16>,
    tmp: Vec<u8>,
    /// The event's thread, looked up on first use (rules read many fields of one event).
    thread: Cell<Option<Option<&'a ThreadInfo>>>,
    /// The event's fd entry, looked up on first use.
    event_fd: Cell<Option<Option<&'a FdEntry>>>,
    dns: Option<&'a crate::dns::Table>,
}

impl<'a> Extractor<'a> {
    /// A view over `evt` (already applied to `state` with [`State::update`]).
    pub fn new(state: &'a State, evt: Event<'a>) -> Extractor<'a> {
        Extractor {
            state,
            evt,
            cpu: None,
            tmp: Vec::new(),
            thread: Cell::new(None),
            event_fd: Cell::new(None),
            dns: None,
        }
    }

    /// Sets the names `fd.*ip.name` know (without a table, an address has no name).
    pub fn with_dns(mut self, table: &'a crate::dns::Table) -> Extractor<'a> {
        self.dns = Some(table);
        self
    }

    /// Sets the CPU the event was captured on (`evt.cpu`), known from the capture's block.
    pub fn with_cpu(mut self, cpu: u16) -> Extractor<'a> {
        self.cpu = Some(cpu);
        self
    }

    /// The event.
    pub fn event(&self) -> &Event<'a> {
        &self.evt
    }

    fn thread(&self) -> Option<&'a ThreadInfo> {
        if let Some(t) = self.thread.get() {
            return t;
        }
        let t = self.state.thread(self.evt.tid() as i64);
        self.thread.set(Some(t));
        t
    }

    /// The fd the event is about ([`State::event_fd`]), looked up once per event.
    fn event_fd(&self) -> Option<&'a FdEntry> {
        if let Some(f) = self.event_fd.get() {
            return f;
        }
        let f = self.state.event_fd();
        self.event_fd.set(Some(f));
        f
    }

    /// libsinsp's `extract_fd`: only events that create, use or destroy an fd have fd fields.
    fn fd_event(&self) -> bool {
        self.evt.info().is_some_and(|i| {
            i.flags.contains(EventFlags::CREATES_FD)
                || i.flags.contains(EventFlags::USES_FD)
                || i.flags.contains(EventFlags::DESTROYS_FD)
        })
    }

    fn fd_num_arg(arg: Option<&FieldArg>) -> Option<i64> {
        match arg {
            Some(FieldArg::Index(i)) => i64::try_from(*i).ok(),
            _ => None,
        }
    }

    fn fdinfo(&self, arg: Option<&FieldArg>) -> Option<&'a FdEntry> {
        if !self.fd_event() || self.thread().is_none() {
            return None;
        }
        match Self::fd_num_arg(arg) {
            Some(n) => self.state.fd(self.evt.tid() as i64, n),
            None => self.event_fd(),
        }
    }

    fn res(&self) -> Option<i64> {
        if self.evt.direction() != Direction::Exit {
            return None;
        }
        let p = self.evt.param(0)?;
        let info = p.info?;
        if info.name != "res" && info.name != "fd" {
            return None;
        }
        p.as_i64()
    }

    /// libsinsp's `evt.is_open_*`: from the open family's exit flags (`PPM_O_RDONLY` = 1,
    /// `PPM_O_WRONLY` = 2, `PPM_O_F_CREATED` = 0x4000, `PPM_O_TMPFILE` = 0x2000, `PPM_O_CREAT` = 4);
    /// "exec" means a created file with an execute bit in its mode (`creat` too).
    fn is_open(&self, k: K) -> bool {
        const EXEC_BITS: u64 = 0o111;
        let mode = || {
            self.evt
                .param_of(P::mode)
                .and_then(|p| p.as_u64())
                .unwrap_or(0)
        };
        if self.evt.direction() == Direction::Exit && self.evt.name() == "creat" {
            return k == K::EvtIsOpenExec && mode() & EXEC_BITS != 0;
        }
        let Some(flags) = self.open_flags() else {
            return false;
        };
        match k {
            K::EvtIsOpenRead => flags & 1 != 0,
            K::EvtIsOpenWrite => flags & 2 != 0,
            K::EvtIsOpenCreate => {
                flags & 0x4000 != 0 || (flags & 0x2000 != 0 && self.res().is_some_and(|r| r >= 0))
            }
            _ => {
                flags & (0x2000 | 4) != 0
                    && self.evt.name() != "open_by_handle_at"
                    && mode() & EXEC_BITS != 0
            }
        }
    }

    fn open_flags(&self) -> Option<u32> {
        let n = self.evt.name();
        if self.evt.direction() != Direction::Exit
            || !matches!(n, "open" | "openat" | "openat2" | "open_by_handle_at")
        {
            return None;
        }
        self.evt
            .param_of(P::flags)
            .and_then(|p| p.as_u64())
            .map(|f| f as u32)
    }

    /// The file name an fd-creating exit event names when the fd is not in the table
    /// (libsinsp's `extract_fdname_from_event`).
    fn fdname_from_event(&self, raw: bool, out: &mut Vec<u8>) -> bool {
        if self.evt.direction() != Direction::Exit {
            return false;
        }
        let tid = self.evt.tid() as i64;
        match self.evt.name() {
            "open" | "creat" => match self.state.param_p(&self.evt, P::name) {
                Some(p) => {
                    out.extend_from_slice(p.as_str_bytes());
                    true
                }
                None => false,
            },
            "connect" | "accept" | "accept4" => {
                if let Some(p) = self.evt.param(1) {
                    render::param_text(self.state, &self.evt, &p, false, out);
                }
                true
            }
            "openat" | "openat2" => {
                let Some(name) = self.state.param_p(&self.evt, P::name) else {
                    return false;
                };
                let name = name.as_str_bytes();
                if raw {
                    out.extend_from_slice(name);
                    return true;
                }
                let Some(dirfd) = self
                    .state
                    .param_p(&self.evt, P::dirfd)
                    .and_then(|p| p.as_i64())
                else {
                    return false;
                };
                let dir = self.state.dirfd_path(tid, name, dirfd);
                out.extend_from_slice(&crate::state::concat_path(&dir, name));
                true
            }
            _ => true,
        }
    }

    fn push_str(out: &mut ValueBuf, s: &[u8]) -> bool {
        out.push_bytes(s);
        true
    }

    fn proc_field(&mut self, k: K, arg: Option<&FieldArg>, out: &mut ValueBuf) -> bool {
        let st = self.state;
        let Some(t) = self.thread() else {
            return k == K::ThreadTid && {
                out.push_i64(self.evt.tid() as i64);
                true
            };
        };
        let index = match arg {
            Some(FieldArg::Index(i)) => Some(*i),
            _ => None,
        };
        let ts = self.evt.ts();
        let xid = |v: i64| (-1..=i64::from(u32::MAX)).contains(&v);
        match k {
            K::ProcExe => Self::push_str(out, &t.exe),
            K::ProcExepath => Self::push_str(out, &t.exepath),
            K::ProcName => Self::push_str(out, &t.comm),
            K::ProcArgs => {
                self.tmp.clear();
                join_args(&t.args, &mut self.tmp);
                Self::push_str(out, &self.tmp)
            }
            K::ProcCmdline => {
                self.tmp.clear();
                cmdline(t, &mut self.tmp);
                Self::push_str(out, &self.tmp)
            }
            K::ProcExeline => {
                self.tmp.clear();
                self.tmp.extend_from_slice(&t.exe);
                self.tmp.push(b' ');
                join_args(&t.args, &mut self.tmp);
                Self::push_str(out, &self.tmp)
            }
            K::ProcCmdnargs => {
                out.push_u64(t.args.len() as u64);
                true
            }
            K::ProcCmdlenargs => {
                let n: usize =
                    t.args.iter().map(Vec::len).sum::<usize>() + t.args.len().saturating_sub(1);
                out.push_u64(n as u64);
                true
            }
            K::ProcEnv => match arg {
                Some(FieldArg::Key(name)) => {
                    let v = t.env_var(name.as_bytes()).unwrap_or(b"");
                    Self::push_str(out, v)
                }
                _ => {
                    self.tmp.clear();
                    for (i, e) in t.env.iter().enumerate() {
                        if i > 0 {
                            self.tmp.push(b' ');
                        }
                        self.tmp.extend_from_slice(e);
                    }
                    Self::push_str(out, &self.tmp)
                }
            },
            // the cwd is per process: libsinsp's get_cwd reads the main thread's
            K::ProcCwd => Self::push_str(out, &st.main_thread(t).unwrap_or(t).cwd),
            K::ProcTty => {
                out.push_u64(u64::from(t.tty));
                true
            }
            K::ProcPid => {
                xid(t.pid) && {
                    out.push_i64(t.pid);
                    true
                }
            }
            K::ProcVpid => {
                t.vpid != -1 && {
                    out.push_i64(t.vpid);
                    true
                }
            }
            K::ThreadVtid => {
                t.vtid != -1 && {
                    out.push_i64(t.vtid);
                    true
                }
            }
            K::ThreadTid => {
                out.push_i64(self.evt.tid() as i64);
                true
            }
            K::ThreadIsMain => {
                out.push_bool(t.is_main_thread());
                true
            }
            K::ThreadNametid => {
                self.tmp.clear();
                self.tmp.extend_from_slice(&t.comm);
                self.tmp
                    .extend_from_slice(self.evt.tid().to_string().as_bytes());
                Self::push_str(out, &self.tmp)
            }
            K::ThreadCgroups => {
                if t.cgroups.is_empty() {
                    return false;
                }
                self.tmp.clear();
                for (i, c) in t.cgroups.iter().enumerate() {
                    if i > 0 {
                        self.tmp.push(b' ');
                    }
                    self.tmp.extend_from_slice(c);
                }
                Self::push_str(out, &self.tmp)
            }
            K::ThreadCgroup => {
                let Some(FieldArg::Key(sub)) = arg else {
                    return false;
                };
                let found = t.cgroups.iter().find_map(|c| {
                    let eq = c.iter().position(|&b| b == b'=')?;
                    (&c[..eq] == sub.as_bytes()).then(|| &c[eq + 1..])
                });
                match found {
                    Some(v) => Self::push_str(out, v),
                    None => false,
                }
            }
            K::ProcNthreads => {
                let _ = st;
                false
            }
            K::ProcSid => {
                out.push_i64(t.sid);
                true
            }
            K::ProcVpgid => {
                out.push_i64(t.vpgid);
                true
            }
            K::ProcPgid => {
                out.push_i64(t.pgid);
                true
            }
            K::ProcSname | K::ProcSidExe | K::ProcSidExepath => {
                let leader = st.oldest_matching_ancestor(t, |x| x.sid);
                let v: &[u8] = match (leader, k) {
                    (Some(l), K::ProcSname) => &l.comm,
                    (Some(l), K::ProcSidExe) => &l.exe,
                    (Some(l), _) => &l.exepath,
                    (None, _) => b"",
                };
                Self::push_str(out, v)
            }
            K::ProcVpgidName | K::ProcVpgidExe | K::ProcVpgidExepath => {
                let leader = st.oldest_matching_ancestor(t, |x| x.vpgid);
                let v: &[u8] = match (leader, k) {
                    (Some(l), K::ProcVpgidName) => &l.comm,
                    (Some(l), K::ProcVpgidExe) => &l.exe,
                    (Some(l), _) => &l.exepath,
                    (None, _) => b"",
                };
                Self::push_str(out, v)
            }
            K::ProcPname | K::ProcPexe | K::ProcPexepath | K::ProcPcmdline | K::ProcPpid => {
                let Some(p) = st.ancestor(t, 1) else {
                    return false;
                };
                self.push_proc_value(k, p, out)
            }
            K::ProcPvpid => {
                let Some(p) = st.thread(t.ptid) else {
                    return false;
                };
                out.push_i64(p.vpid);
                true
            }
            K::ProcAname | K::ProcAexe | K::ProcAexepath | K::ProcAcmdline | K::ProcApid => {
                match index {
                    Some(n) => {
                        let Some(a) = st.ancestor(t, n) else {
                            return false;
                        };
                        self.push_proc_value(k, a, out)
                    }
                    None => {
                        let mut any = false;
                        for a in st.ancestors(t) {
                            any |= self.push_proc_value(k, a, out);
                        }
                        any
                    }
                }
            }
            K::ProcDuration => {
                t.clone_ts != 0 && {
                    out.push_i64(ts.wrapping_sub(t.clone_ts) as i64);
                    true
                }
            }
            K::ProcPpidDuration => {
                let Some(p) = st.ancestor(t, 1) else {
                    return false;
                };
                p.clone_ts != 0 && {
                    out.push_i64(ts.wrapping_sub(p.clone_ts) as i64);
                    true
                }
            }
            K::ProcPidTs => {
                t.clone_ts != 0 && {
                    out.push_i64(t.clone_ts as i64);
                    true
                }
            }
            K::ProcPpidTs => {
                let Some(p) = st.thread(t.ptid) else {
                    return false;
                };
                out.push_i64(p.clone_ts as i64);
                true
            }
            K::ProcIsExeWritable => {
                out.push_bool(t.exe_writable);
                true
            }
            K::ProcIsExeUpper => {
                out.push_bool(t.exe_upper_layer);
                true
            }
            K::ProcIsExeLower => {
                out.push_bool(t.exe_lower_layer);
                true
            }
            K::ProcIsExeMemfd => {
                out.push_bool(t.exe_from_memfd);
                true
            }
            K::ProcIsSidLeader => {
                out.push_bool(t.sid == t.vpid);
                true
            }
            K::ProcIsVpgidLeader => {
                out.push_bool(t.vpgid == t.vpid);
                true
            }
            K::ProcIsPgidLeader => {
                out.push_bool(t.pgid == t.pid);
                true
            }
            K::ProcExeIno => {
                t.exe_ino != 0 && {
                    out.push_i64(t.exe_ino as i64);
                    true
                }
            }
            K::ProcExeInoCtime => {
                t.exe_ino_ctime != 0 && {
                    out.push_u64(t.exe_ino_ctime);
                    true
                }
            }
            K::ProcExeInoMtime => {
                t.exe_ino_mtime != 0 && {
                    out.push_u64(t.exe_ino_mtime);
                    true
                }
            }
            K::ProcExeInoCtimeDurProcStart => {
                t.clone_ts != 0 && t.exe_ino_ctime != 0 && t.clone_ts > t.exe_ino_ctime && {
                    out.push_u64(t.clone_ts - t.exe_ino_ctime);
                    true
                }
            }
            K::ProcExeInoCtimeDurPidnsStart => {
                t.pidns_init_start_ts != 0 && t.exe_ino_ctime > t.pidns_init_start_ts && {
                    out.push_u64(t.exe_ino_ctime - t.pidns_init_start_ts);
                    true
                }
            }
            K::ProcPidnsInitStartTs => {
                t.pidns_init_start_ts != 0 && {
                    out.push_u64(t.pidns_init_start_ts);
                    true
                }
            }
            K::CapPermitted | K::CapInheritable | K::CapEffective => {
                let caps = match k {
                    K::CapPermitted => t.cap_permitted,
                    K::CapInheritable => t.cap_inheritable,
                    _ => t.cap_effective,
                };
                self.tmp.clear();
                names::caps_to_string(caps, &mut self.tmp);
                Self::push_str(out, &self.tmp)
            }
            K::ProcFdlimit => {
                out.push_i64(t.fdlimit);
                true
            }
            K::UserUid => {
                out.push_u64(u64::from(t.uid));
                true
            }
            K::UserName | K::UserHomedir | K::UserShell => {
                let u = st.user(t.uid);
                let v = match (k, u) {
                    (K::UserName, Some(u)) => u.name.as_str(),
                    (K::UserHomedir, Some(u)) => u.homedir.as_str(),
                    (K::UserShell, Some(u)) => u.shell.as_str(),
                    (K::UserName, None) if t.uid == 0 => "root",
                    (K::UserHomedir, None) if t.uid == 0 => "/root",
                    _ => "<NA>",
                };
                Self::push_str(out, v.as_bytes())
            }
            K::UserLoginuid => {
                out.push_i64(if t.loginuid < u32::MAX {
                    i64::from(t.loginuid)
                } else {
                    -1
                });
                true
            }
            K::UserLoginname => {
                let v = match st.user(t.loginuid) {
                    Some(u) => u.name.as_str(),
                    None if t.loginuid == 0 => "root",
                    None => "<NA>",
                };
                Self::push_str(out, v.as_bytes())
            }
            K::GroupGid => {
                out.push_u64(u64::from(t.gid));
                true
            }
            K::GroupName => {
                let v = match st.group(t.gid) {
                    Some(g) => g.name.as_str(),
                    None if t.gid == 0 => "root",
                    None => "<NA>",
                };
                Self::push_str(out, v.as_bytes())
            }
            _ => false,
        }
    }

    fn push_proc_value(&mut self, k: K, p: &ThreadInfo, out: &mut ValueBuf) -> bool {
        match k {
            K::ProcPname | K::ProcAname => Self::push_str(out, &p.comm),
            K::ProcPexe | K::ProcAexe => Self::push_str(out, &p.exe),
            K::ProcPexepath | K::ProcAexepath => Self::push_str(out, &p.exepath),
            K::ProcPcmdline | K::ProcAcmdline => {
                let mut v = Vec::new();
                cmdline(p, &mut v);
                Self::push_str(out, &v)
            }
            K::ProcPpid | K::ProcApid => {
                out.push_i64(p.pid);
                true
            }
            _ => false,
        }
    }

    fn fd_field(&mut self, k: K, arg: Option<&FieldArg>, out: &mut ValueBuf) -> bool {
        if !self.fd_event() || self.thread().is_none() {
            return false;
        }
        let ctx = self.state.context();
        if k == K::FdNum {
            // libsinsp reads the thread's `lastevent_fd`, -1 when the event names no fd
            out.push_i64(ctx.lastevent_fd);
            return true;
        }
        let fd = self.fdinfo(arg);
        match k {
            K::FdName | K::FdNameraw => {
                let raw = k == K::FdNameraw;
                self.tmp.clear();
                let fd = fd.filter(|_| !self.state.context().fd_hidden);
                match fd {
                    // the common case: the tracked name as is, without the scratch copy
                    Some(f) if !raw => return Self::push_str(out, &f.name),
                    Some(f) => self.tmp.extend_from_slice(&f.name_raw),
                    None => {
                        let mut v = Vec::new();
                        if !self.fdname_from_event(raw, &mut v) {
                            return false;
                        }
                        self.tmp = v;
                    }
                }
                if raw {
                    dedup_slashes(&mut self.tmp);
                }
                Self::push_str(out, &self.tmp)
            }
            K::FdType => match fd.and_then(|f| f.ty.name()) {
                Some(n) => Self::push_str(out, n.as_bytes()),
                None => fd.is_some() && Self::push_str(out, b"<NA>"),
            },
            K::FdTypechar => {
                let c = match fd {
                    Some(f) => f.ty.typechar(),
                    None => render::event_typechar(&self.evt),
                };
                Self::push_str(out, &[c])
            }
            K::FdDirectory => {
                let mut name = Vec::new();
                let is_file = match fd {
                    None => {
                        if !self.fdname_from_event(false, &mut name) {
                            return false;
                        }
                        true
                    }
                    Some(f) if f.ty == FdType::File || f.ty == FdType::Directory => {
                        name.extend_from_slice(&f.name);
                        f.ty == FdType::File
                    }
                    Some(_) => return false,
                };
                if is_file {
                    match name.iter().rposition(|&b| b == b'/') {
                        Some(pos) if pos != 0 => {
                            if pos < name.len() - 1 {
                                name.truncate(pos);
                            }
                        }
                        _ => name = b"/".to_vec(),
                    }
                }
                Self::push_str(out, &name)
            }
            K::FdFilename => {
                let Some(f) = fd.filter(|f| f.is_file()) else {
                    return false;
                };
                let n = &f.name;
                let v: &[u8] = match n.iter().rposition(|&b| b == b'/') {
                    Some(pos) if pos < n.len() - 1 => &n[pos + 1..],
                    Some(_) => n,
                    None => b"/",
                };
                Self::push_str(out, v)
            }
            _ => {
                let Some(f) = fd else { return false };
                self.sock_field(k, f, out)
            }
        }
    }

    fn sock_field(&mut self, k: K, f: &FdEntry, out: &mut ValueBuf) -> bool {
        let conn = matches!(f.ty, FdType::Ipv4Sock | FdType::Ipv6Sock);
        let serv = matches!(f.ty, FdType::Ipv4ServSock | FdType::Ipv6ServSock);
        let role_none = f.role == Role::None;
        let s = &f.sock;
        let push_ip = |out: &mut ValueBuf, ip: Option<IpAddr>| match ip {
            Some(ip) => {
                out.push_ip(ip);
                true
            }
            None => false,
        };
        let is_local = || s.sip.is_some_and(|ip| self.state.is_local_addr(ip));
        match k {
            K::FdCip | K::FdCnet => conn && !role_none && push_ip(out, s.sip),
            K::FdCipName | K::FdSipName | K::FdLipName | K::FdRipName => {
                let ip = match k {
                    _ if role_none => None,
                    K::FdCipName if conn => s.sip,
                    K::FdSipName if conn => s.dip,
                    K::FdSipName if serv => s.sip,
                    K::FdLipName | K::FdRipName if conn => {
                        let local = k == K::FdLipName;
                        if local == is_local() { s.sip } else { s.dip }
                    }
                    _ => None,
                };
                let Some(ip) = ip else { return false };
                if let Some(t) = self.dns {
                    t.names_of(ip).for_each(|n| out.push_bytes(n.as_bytes()));
                }
                // libsinsp compares a connected socket's address with the names even when none
                // resolves to it; a listening socket only through an extracted name.
                conn || !out.is_empty()
            }
            K::FdSip | K::FdSnet => {
                if role_none && !serv {
                    return false;
                }
                if serv {
                    push_ip(out, s.sip)
                } else {
                    conn && push_ip(out, s.dip)
                }
            }
            K::FdLip | K::FdLnet | K::FdRip | K::FdRnet => {
                if !conn || role_none {
                    return false;
                }
                let local = matches!(k, K::FdLip | K::FdLnet);
                push_ip(out, if local == is_local() { s.sip } else { s.dip })
            }
            K::FdCport => {
                conn && !role_none && {
                    out.push_u64(u64::from(s.sport));
                    true
                }
            }
            K::FdSport => {
                if serv {
                    out.push_u64(u64::from(s.sport));
                    true
                } else {
                    conn && !role_none && {
                        out.push_u64(u64::from(s.dport));
                        true
                    }
                }
            }
            K::FdLport | K::FdRport => {
                if !conn || role_none {
                    return false;
                }
                let local = k == K::FdLport;
                out.push_u64(u64::from(if local == is_local() {
                    s.sport
                } else {
                    s.dport
                }));
                true
            }
            K::FdIp | K::FdNet => {
                if conn {
                    // libsinsp's `compare_ip`/`compare_net` read both ends of a connection socket even
                    // before it is connected, when they are still all zeros.
                    let zero = if f.ty == FdType::Ipv4Sock {
                        IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
                    } else {
                        IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
                    };
                    out.push_ip(s.sip.unwrap_or(zero));
                    out.push_ip(s.dip.unwrap_or(zero));
                    true
                } else {
                    serv && push_ip(out, s.sip)
                }
            }
            // libsinsp compares `fd.proto` exactly like `fd.port` (`compare_port` serves both).
            K::FdPort | K::FdProto => {
                if conn {
                    out.push_u64(u64::from(s.sport));
                    out.push_u64(u64::from(s.dport));
                    true
                } else {
                    serv && {
                        out.push_u64(u64::from(s.sport));
                        true
                    }
                }
            }
            K::FdL4proto => Self::push_str(out, f.l4proto_shown().name().as_bytes()),
            K::FdSockfamily => {
                if f.ty.is_ip() {
                    Self::push_str(out, b"ip")
                } else if f.ty == FdType::Unix {
                    Self::push_str(out, b"unix")
                } else {
                    false
                }
            }
            K::FdIsServer => {
                let v = serv || (conn && s.dip.is_some_and(|ip| self.state.is_local_addr(ip)));
                out.push_bool(v);
                true
            }
            K::FdConnected => {
                out.push_bool(f.connected);
                true
            }
            K::FdNameChanged => {
                out.push_bool(self.state.context().name_changed);
                true
            }
            K::FdDev => {
                out.push_i64(i64::from(f.dev));
                true
            }
            K::FdDevMajor => {
                out.push_i64(i64::from((f.dev & 0xfff00) >> 8));
                true
            }
            K::FdDevMinor => {
                out.push_i64(i64::from((f.dev & 0xff) | ((f.dev >> 12) & 0xfff00)));
                true
            }
            K::FdIno => {
                out.push_i64(f.ino as i64);
                true
            }
            K::FdIsUpper => {
                out.push_bool(f.open_flags & 0x8000 != 0);
                true
            }
            K::FdIsLower => {
                out.push_bool(f.open_flags & 0x10000 != 0);
                true
            }
            K::FdUid => {
                let tid = self.evt.tid();
                let fd = self.state.context().lastevent_fd;
                Self::push_str(out, format!("{tid}{fd}").as_bytes())
            }
            _ => false,
        }
    }

    fn evt_field(&mut self, k: K, arg: Option<&FieldArg>, out: &mut ValueBuf) -> bool {
        let ctx = self.state.context();
        let ts = self.evt.ts();
        let exit = self.evt.direction() == Direction::Exit;
        match k {
            K::EvtNum => {
                out.push_u64(ctx.num);
                true
            }
            K::EvtTime | K::EvtTimeS | K::EvtDatetime | K::EvtDatetimeS | K::EvtTimeIso => {
                self.tmp.clear();
                render::time_text(k_time(k), ts, &mut self.tmp);
                Self::push_str(out, &self.tmp)
            }
            K::EvtRawtime | K::EvtRawtimeNs => {
                out.push_u64(if k == K::EvtRawtime {
                    ts
                } else {
                    ts % 1_000_000_000
                });
                true
            }
            K::EvtRawtimeS => {
                out.push_u64(ts / 1_000_000_000);
                true
            }
            K::EvtReltime | K::EvtReltimeS | K::EvtReltimeNs => {
                let d = ts.saturating_sub(ctx.first_ts);
                out.push_i64(match k {
                    K::EvtReltime => d,
                    K::EvtReltimeS => d / 1_000_000_000,
                    _ => d % 1_000_000_000,
                } as i64);
                true
            }
            K::EvtSource => Self::push_str(out, b"syscall"),
            K::EvtIsAsync => {
                out.push_bool(false);
                true
            }
            K::EvtHostname => {
                let h = self.state.hostname();
                !h.is_empty() && Self::push_str(out, h.as_bytes())
            }
            K::EvtLatency | K::EvtLatencyS | K::EvtLatencyNs => {
                let lat = if exit {
                    self.enter_ts().map_or(0, |e| ts.saturating_sub(e))
                } else {
                    0
                };
                out.push_i64(match k {
                    K::EvtLatency => lat,
                    K::EvtLatencyS => lat / 1_000_000_000,
                    _ => lat % 1_000_000_000,
                } as i64);
                true
            }
            K::EvtDir => Self::push_str(out, if exit { b"<" } else { b">" }),
            K::EvtType => {
                let n = self.evt.type_name();
                let n = if n == "unknown" { "<unknown>" } else { n };
                Self::push_str(out, n.as_bytes())
            }
            K::SyscallType => {
                let is_sys = self.evt.info().is_some_and(|i| i.category.is_syscall());
                is_sys && exit && Self::push_str(out, self.evt.type_name().as_bytes())
            }
            K::EvtCategory => {
                let n = self
                    .evt
                    .info()
                    .map_or("unknown", |i| render::category_name(i.category));
                Self::push_str(out, n.as_bytes())
            }
            K::EvtCpu => match self.cpu {
                Some(c) => {
                    out.push_i64(i64::from(c as i16));
                    true
                }
                None => false,
            },
            K::EvtArgs | K::EvtInfo => {
                self.tmp.clear();
                render::args_text(self.state, &self.evt, &mut self.tmp);
                Self::push_str(out, &self.tmp)
            }
            K::EvtArg => {
                let Some(p) = self.arg_param(arg) else {
                    return false;
                };
                self.tmp.clear();
                render::param_text(self.state, &self.evt, &p, true, &mut self.tmp);
                Self::push_str(out, &self.tmp)
            }
            K::EvtRawarg => {
                let Some(p) = self.arg_param(arg) else {
                    return false;
                };
                push_raw_param(&p, out)
            }
            K::EvtBuffer => {
                let p = self
                    .evt
                    .param_by_name("data")
                    .or_else(|| self.evt.param_by_name("buf"));
                match p {
                    Some(p) => Self::push_str(out, p.raw),
                    None => false,
                }
            }
            K::EvtBuflen => {
                let p = self
                    .evt
                    .param_by_name("data")
                    .or_else(|| self.evt.param_by_name("buf"));
                match (p, self.res()) {
                    (Some(_), Some(r)) if r >= 0 => {
                        out.push_u64(r as u64);
                        true
                    }
                    _ => false,
                }
            }
            K::EvtRes => match self.res() {
                Some(r) if r >= 0 => Self::push_str(out, b"SUCCESS"),
                Some(r) => match errno_name(r) {
                    Some(n) => Self::push_str(out, n.as_bytes()),
                    None => Self::push_str(out, r.to_string().as_bytes()),
                },
                None => false,
            },
            K::EvtRawres => match self.res() {
                Some(r) => {
                    out.push_i64(r);
                    true
                }
                None => false,
            },
            K::EvtFailed => {
                out.push_bool(self.res().is_some_and(|r| r < 0));
                true
            }
            K::EvtIsIo | K::EvtIsIoRead | K::EvtIsIoWrite => {
                let f = self.evt.info().map_or(EventFlags(0), |i| i.flags);
                let r = f.contains(EventFlags::READS_FROM_FD);
                let w = f.contains(EventFlags::WRITES_TO_FD);
                out.push_bool(match k {
                    K::EvtIsIo => r || w,
                    K::EvtIsIoRead => r,
                    _ => w,
                });
                true
            }
            K::EvtIsOpenRead | K::EvtIsOpenWrite | K::EvtIsOpenExec | K::EvtIsOpenCreate => {
                out.push_bool(self.is_open(k));
                true
            }
            K::EvtCount => {
                out.push_u64(1);
                true
            }
            _ => false,
        }
    }

    fn enter_ts(&self) -> Option<u64> {
        self.state.enter_ts(&self.evt)
    }

    /// The parameter `evt.arg`/`evt.rawarg` names: by name (with the stored enter event as
    /// fallback for old captures) or by position.
    fn arg_param(&self, arg: Option<&FieldArg>) -> Option<crate::event::Param<'a>> {
        match arg? {
            // the event's own parameters only, as libsinsp reads one event
            FieldArg::Key(name) => self.evt.param_by_name(name),
            FieldArg::Index(i) => self.evt.param(usize::try_from(*i).ok()?),
        }
    }

    /// Renders a field as libsinsp prints it in outputs; `false` (and `<NA>` in `out`) when missing.
    pub fn render_field(
        &mut self,
        field: FieldId,
        arg: Option<&FieldArg>,
        out: &mut String,
    ) -> bool {
        let mut buf = ValueBuf::new();
        let k = kind(field);
        if !self.extract(field, arg, &mut buf) || buf.is_empty() {
            // list fields without items render as empty, like libsinsp's joined strings
            if self.extract_ok_empty(k) {
                return true;
            }
            out.push_str("<NA>");
            return false;
        }
        let ty = field.info().ty;
        let ty = if k == K::EvtRawarg {
            match self.arg_param(arg).and_then(|p| p.info) {
                Some(i) => render::field_type_of_param(i.ty),
                None => ty,
            }
        } else {
            ty
        };
        // An address known under several names renders as its first, as libsinsp extracts one.
        let one = matches!(k, K::FdCipName | K::FdSipName | K::FdLipName | K::FdRipName);
        for (i, v) in buf.iter().enumerate() {
            if i > 0 {
                if one {
                    break;
                }
                out.push(' ');
            }
            render::value_text(ty, v, out);
        }
        true
    }

    fn extract_ok_empty(&self, _k: K) -> bool {
        false
    }
}

fn k_time(k: K) -> render::TimeFmt {
    match k {
        K::EvtTime => render::TimeFmt::Time,
        K::EvtTimeS => render::TimeFmt::TimeS,
        K::EvtDatetime => render::TimeFmt::Datetime,
        K::EvtDatetimeS => render::TimeFmt::DatetimeS,
        _ => render::TimeFmt::Iso8601,
    }
}

fn push_raw_param(p: &crate::event::Param<'_>, out: &mut ValueBuf) -> bool {
    let Some(info) = p.info else {
        out.push_bytes(p.raw);
        return true;
    };
    match p.value() {
        ParamValue::Empty => false,
        ParamValue::Int(v) => {
            out.push_i64(v);
            true
        }
        ParamValue::Uint(v) => {
            out.push_u64(v);
            true
        }
        ParamValue::Double(v) => {
            out.push_f64(v);
            true
        }
        ParamValue::Str(s) => {
            out.push_bytes(s);
            true
        }
        _ => {
            if info.ty == ParamType::Ipv4addr
                && let Ok(a) = <[u8; 4]>::try_from(p.raw)
            {
                out.push_ip(IpAddr::from(a));
                return true;
            }
            out.push_bytes(p.raw);
            true
        }
    }
}

/// `argv[1..]` joined by spaces (`proc.args`).
fn join_args(args: &[Vec<u8>], out: &mut Vec<u8>) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(a);
    }
}

/// libsinsp's `populate_cmdline`: comm, then each argument after a space.
fn cmdline(t: &ThreadInfo, out: &mut Vec<u8>) {
    out.extend_from_slice(&t.comm);
    for a in &t.args {
        out.push(b' ');
        out.extend_from_slice(a);
    }
}

fn dedup_slashes(v: &mut Vec<u8>) {
    let mut prev = 0u8;
    v.retain(|&b| {
        let keep = !(b == b'/' && prev == b'/');
        prev = b;
        keep
    });
}

impl FieldSource for Extractor<'_> {
    fn extract(&mut self, field: FieldId, arg: Option<&FieldArg>, out: &mut ValueBuf) -> bool {
        let k = kind(field);
        use K::*;
        match k {
            EvtNum | EvtTime | EvtTimeS | EvtTimeIso | EvtDatetime | EvtDatetimeS | EvtRawtime
            | EvtRawtimeS | EvtRawtimeNs | EvtReltime | EvtReltimeS | EvtReltimeNs | EvtSource
            | EvtIsAsync | EvtHostname | EvtLatency | EvtLatencyS | EvtLatencyNs | EvtDir
            | EvtType | SyscallType | EvtCategory | EvtCpu | EvtArgs | EvtInfo | EvtArg
            | EvtRawarg | EvtBuffer | EvtBuflen | EvtRes | EvtRawres | EvtFailed | EvtIsIo
            | EvtIsIoRead | EvtIsIoWrite | EvtIsOpenRead | EvtIsOpenWrite | EvtIsOpenExec
            | EvtIsOpenCreate | EvtCount => self.evt_field(k, arg, out),
            FdNum | FdType | FdTypechar | FdName | FdDirectory | FdFilename | FdIp | FdCip
            | FdSip | FdLip | FdRip | FdPort | FdProto | FdCport | FdSport | FdLport | FdRport
            | FdL4proto | FdSockfamily | FdIsServer | FdUid | FdNet | FdCnet | FdSnet | FdLnet
            | FdRnet | FdConnected | FdNameChanged | FdDev | FdDevMajor | FdDevMinor | FdIno
            | FdNameraw | FdIsUpper | FdIsLower | FdCipName | FdSipName | FdLipName | FdRipName => {
                self.fd_field(k, arg, out)
            }
            Container => {
                let ts = self.evt.ts();
                let c = self.state.containers();
                c.push_field(self.thread(), ts, field, arg, out)
            }
            Unsupported => false,
            _ => self.proc_field(k, arg, out),
        }
    }

    /// The fixed-offset numeric fields decoded directly (see `fixed.rs`), not through `extract`.
    fn fixed_fields(&mut self, wanted: u64, block: &mut frule_codegen::abi::FixedFields) {
        self.fill_fixed(wanted, block);
    }
}

/// How a value of `ty` is represented when extracted (for tests and the engine's checks).
pub fn is_signed(ty: FieldType) -> bool {
    matches!(
        ty,
        FieldType::Int8
            | FieldType::Int16
            | FieldType::Int32
            | FieldType::Int64
            | FieldType::Errno
            | FieldType::Fd
            | FieldType::Pid
            | FieldType::RelTime
    )
}

/// Renders one extracted item as text (for callers holding a [`ValueBuf`]).
pub fn value_to_string(ty: FieldType, v: ValueRef<'_>) -> String {
    let mut s = String::new();
    render::value_text(ty, v, &mut s);
    s
}
