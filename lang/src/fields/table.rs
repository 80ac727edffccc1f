//! The rows of the field schema.
//!
//! Names, types and flags follow libsinsp's filterchecks (falcosecurity/libs commit 48dfd53:
//! `sinsp_filtercheck_{gen_event,event,thread,user,group,fd,fspath,fdlist}.cpp`) and the container plugin
//! (falcosecurity/plugins `plugins/container`, for `container.*` and `k8s.*`). Descriptions are our own
//! short summaries. Rows are grouped by [`FieldClass`] in `FieldClass::ALL` order; within a class they keep
//! libsinsp's order, which is the order `falco --list` prints.

use super::ArgKind::{
    DottedKey, EventArg, EventRawArg, IndexAllowed, IndexOrKeyRequired, IndexRequired, KeyAllowed,
    KeyRequired,
};
use super::FieldClass::{
    Container, Evt, EvtSyscall, Fd, FdList, FsPath, Group, K8s, Process, User,
};
use super::FieldInfo as F;
use super::FieldType::*;
use super::MultiValue;

/// Every field, grouped by class in `falco --list` order.
pub static FIELDS: &[F] = &[
    // ---- evt (all event types) ----
    F::new("evt.num", Evt, Uint64, "event number, counting from 1"),
    F::new(
        "evt.time",
        Evt,
        CharBuf,
        "event timestamp as time of day with nanoseconds",
    ),
    F::new(
        "evt.time.s",
        Evt,
        CharBuf,
        "event timestamp as time of day without nanoseconds",
    ),
    F::new(
        "evt.time.iso8601",
        Evt,
        CharBuf,
        "event timestamp in ISO 8601 format with nanoseconds, UTC",
    ),
    F::new(
        "evt.datetime",
        Evt,
        CharBuf,
        "event timestamp with the date and nanoseconds",
    ),
    F::new(
        "evt.datetime.s",
        Evt,
        CharBuf,
        "event timestamp with the date, without nanoseconds",
    ),
    F::new(
        "evt.rawtime",
        Evt,
        AbsTime,
        "event timestamp in nanoseconds since the epoch",
    ),
    F::new(
        "evt.rawtime.s",
        Evt,
        AbsTime,
        "seconds part of the event timestamp",
    ),
    F::new(
        "evt.rawtime.ns",
        Evt,
        AbsTime,
        "nanoseconds part of the event timestamp",
    ),
    F::new(
        "evt.reltime",
        Evt,
        RelTime,
        "nanoseconds since the start of the capture",
    ),
    F::new(
        "evt.reltime.s",
        Evt,
        RelTime,
        "seconds since the start of the capture",
    ),
    F::new(
        "evt.reltime.ns",
        Evt,
        RelTime,
        "nanoseconds part of the time since the start of the capture",
    ),
    F::new(
        "evt.pluginname",
        Evt,
        CharBuf,
        "for plugin events, the name of the plugin that produced the event",
    ),
    F::new(
        "evt.plugininfo",
        Evt,
        CharBuf,
        "for plugin events, the plugin's one-line summary of the event",
    ),
    F::new(
        "evt.source",
        Evt,
        CharBuf,
        "name of the event source (syscall, k8s_audit, …)",
    ),
    F::new(
        "evt.is_async",
        Evt,
        Bool,
        "true for asynchronous events (not produced by a syscall)",
    ),
    F::new(
        "evt.asynctype",
        Evt,
        CharBuf,
        "for asynchronous events, their type (e.g. container)",
    ),
    F::new(
        "evt.hostname",
        Evt,
        CharBuf,
        "host name of the machine, overridable with FALCO_HOSTNAME",
    ),
    // ---- evt (syscall events) ----
    F::new(
        "evt.latency",
        EvtSyscall,
        RelTime,
        "nanoseconds between the enter event and the exit event",
    )
    .deprecated(),
    F::new(
        "evt.latency.s",
        EvtSyscall,
        RelTime,
        "seconds part of evt.latency",
    )
    .deprecated(),
    F::new(
        "evt.latency.ns",
        EvtSyscall,
        RelTime,
        "nanoseconds part of evt.latency",
    )
    .deprecated(),
    F::new(
        "evt.latency.quantized",
        EvtSyscall,
        Uint64,
        "base-10 logarithm of evt.latency",
    )
    .deprecated()
    .hidden(),
    F::new(
        "evt.latency.human",
        EvtSyscall,
        CharBuf,
        "evt.latency as human-readable text (e.g. 10.3ms)",
    )
    .deprecated(),
    F::new(
        "evt.deltatime",
        EvtSyscall,
        RelTime,
        "nanoseconds since the previous event",
    ),
    F::new(
        "evt.deltatime.s",
        EvtSyscall,
        RelTime,
        "seconds part of evt.deltatime",
    ),
    F::new(
        "evt.deltatime.ns",
        EvtSyscall,
        RelTime,
        "nanoseconds part of evt.deltatime",
    ),
    F::new(
        "evt.outputtime",
        EvtSyscall,
        CharBuf,
        "event time in the format chosen for outputs",
    )
    .print_only(),
    F::new(
        "evt.dir",
        EvtSyscall,
        CharBuf,
        "'>' for enter events, '<' for exit events; since Falco 0.42 always '<'",
    )
    .deprecated(),
    F::new(
        "evt.type",
        EvtSyscall,
        CharBuf,
        "event name, e.g. open or execve",
    ),
    F::new(
        "evt.type.is",
        EvtSyscall,
        Uint32,
        "1 if the event is of the type after the dot (evt.type.is.open), else 0",
    )
    .with_arg(DottedKey),
    F::new(
        "syscall.type",
        EvtSyscall,
        CharBuf,
        "for syscall events, the syscall name; unset for other events",
    ),
    F::new(
        "evt.category",
        EvtSyscall,
        CharBuf,
        "event category: file, net, memory, process, ipc …",
    ),
    F::new(
        "evt.cpu",
        EvtSyscall,
        Int16,
        "number of the CPU the event happened on",
    ),
    F::new(
        "evt.args",
        EvtSyscall,
        CharBuf,
        "all event arguments as one string",
    ),
    F::new(
        "evt.arg",
        EvtSyscall,
        CharBuf,
        "one event argument as text, by name (evt.arg.fd) or position (evt.arg[0])",
    )
    .with_arg(EventArg),
    F::new(
        "evt.rawarg",
        EvtSyscall,
        Dyn,
        "one event argument by name (evt.rawarg.res), with the argument's own type",
    )
    .with_arg(EventRawArg)
    .no_rhs()
    .no_transformer(),
    F::new("evt.info", EvtSyscall, CharBuf, "same as evt.args"),
    F::new(
        "evt.buffer",
        EvtSyscall,
        ByteBuf,
        "the data buffer of I/O events such as read or sendto",
    ),
    F::new(
        "evt.buflen",
        EvtSyscall,
        Uint64,
        "length of the data buffer of I/O events",
    ),
    F::new(
        "evt.res",
        EvtSyscall,
        CharBuf,
        "result as text: SUCCESS or an error name such as ENOENT",
    ),
    F::new(
        "evt.rawres",
        EvtSyscall,
        Int64,
        "result as a number, e.g. -2; good for range checks",
    ),
    F::new(
        "evt.failed",
        EvtSyscall,
        Bool,
        "true if the syscall returned an error",
    ),
    F::new(
        "evt.is_io",
        EvtSyscall,
        Bool,
        "true for events that read or write a descriptor",
    ),
    F::new(
        "evt.is_io_read",
        EvtSyscall,
        Bool,
        "true for events that read from a descriptor",
    ),
    F::new(
        "evt.is_io_write",
        EvtSyscall,
        Bool,
        "true for events that write to a descriptor",
    ),
    F::new(
        "evt.io_dir",
        EvtSyscall,
        CharBuf,
        "'r' for reads, 'w' for writes",
    ),
    F::new(
        "evt.is_wait",
        EvtSyscall,
        Bool,
        "true for events that make the thread wait (sleep, select, poll …)",
    ),
    F::new(
        "evt.wait_latency",
        EvtSyscall,
        RelTime,
        "for waiting events, nanoseconds spent waiting",
    )
    .deprecated(),
    F::new(
        "evt.is_syslog",
        EvtSyscall,
        Bool,
        "true for writes to /dev/log",
    ),
    F::new(
        "evt.count",
        EvtSyscall,
        Uint32,
        "always 1; for counting events",
    ),
    F::new(
        "evt.count.error",
        EvtSyscall,
        Uint32,
        "1 for events that failed",
    ),
    F::new(
        "evt.count.error.file",
        EvtSyscall,
        Uint32,
        "1 for failed file I/O events",
    ),
    F::new(
        "evt.count.error.net",
        EvtSyscall,
        Uint32,
        "1 for failed network I/O events",
    ),
    F::new(
        "evt.count.error.memory",
        EvtSyscall,
        Uint32,
        "1 for failed memory events",
    ),
    F::new(
        "evt.count.error.other",
        EvtSyscall,
        Uint32,
        "1 for other failed events",
    ),
    F::new("evt.count.exit", EvtSyscall, Uint32, "1 for exit events"),
    F::new(
        "evt.count.procinfo",
        EvtSyscall,
        Uint32,
        "1 for procinfo events of main threads",
    )
    .hidden(),
    F::new(
        "evt.count.threadinfo",
        EvtSyscall,
        Uint32,
        "1 for procinfo events",
    )
    .hidden(),
    F::new(
        "evt.around",
        EvtSyscall,
        Uint64,
        "accepts events within D ms of timestamp T: evt.around[T]=D",
    )
    .with_arg(IndexRequired)
    .filter_only()
    .no_rhs()
    .no_transformer(),
    F::new(
        "evt.abspath",
        EvtSyscall,
        CharBuf,
        "absolute path built from dirfd and name (evt.abspath.src / .dst for two-path syscalls)",
    )
    .with_arg(DottedKey),
    F::new(
        "evt.buflen.in",
        EvtSyscall,
        Uint64,
        "buffer length of input I/O events",
    )
    .hidden(),
    F::new(
        "evt.buflen.out",
        EvtSyscall,
        Uint64,
        "buffer length of output I/O events",
    )
    .hidden(),
    F::new(
        "evt.buflen.file",
        EvtSyscall,
        Uint64,
        "buffer length of file I/O events",
    )
    .hidden(),
    F::new(
        "evt.buflen.file.in",
        EvtSyscall,
        Uint64,
        "buffer length of file reads",
    )
    .hidden(),
    F::new(
        "evt.buflen.file.out",
        EvtSyscall,
        Uint64,
        "buffer length of file writes",
    )
    .hidden(),
    F::new(
        "evt.buflen.net",
        EvtSyscall,
        Uint64,
        "buffer length of network I/O events",
    )
    .hidden(),
    F::new(
        "evt.buflen.net.in",
        EvtSyscall,
        Uint64,
        "buffer length of network reads",
    )
    .hidden(),
    F::new(
        "evt.buflen.net.out",
        EvtSyscall,
        Uint64,
        "buffer length of network writes",
    )
    .hidden(),
    F::new(
        "evt.is_open_read",
        EvtSyscall,
        Bool,
        "true for open-family events that open the path for reading",
    ),
    F::new(
        "evt.is_open_write",
        EvtSyscall,
        Bool,
        "true for open-family events that open the path for writing",
    ),
    F::new(
        "evt.infra.docker.name",
        EvtSyscall,
        CharBuf,
        "name of a docker infrastructure event",
    )
    .hidden(),
    F::new(
        "evt.infra.docker.container.id",
        EvtSyscall,
        CharBuf,
        "container id of a docker infrastructure event",
    )
    .hidden(),
    F::new(
        "evt.infra.docker.container.name",
        EvtSyscall,
        CharBuf,
        "container name of a docker infrastructure event",
    )
    .hidden(),
    F::new(
        "evt.infra.docker.container.image",
        EvtSyscall,
        CharBuf,
        "container image of a docker infrastructure event",
    )
    .hidden(),
    F::new(
        "evt.is_open_exec",
        EvtSyscall,
        Bool,
        "true for open-family or creat events that create an executable file",
    ),
    F::new(
        "evt.is_open_create",
        EvtSyscall,
        Bool,
        "true for open-family events that create a file",
    ),
    // ---- process ----
    F::new(
        "proc.exe",
        Process,
        CharBuf,
        "argv[0] of the process, usually the executable name",
    ),
    F::new(
        "proc.pexe",
        Process,
        CharBuf,
        "proc.exe of the parent process",
    ),
    F::new(
        "proc.aexe",
        Process,
        CharBuf,
        "proc.exe of an ancestor: proc.aexe[1] is the parent; without index, any ancestor",
    )
    .with_arg(IndexAllowed)
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Ancestors),
    F::new(
        "proc.exepath",
        Process,
        CharBuf,
        "full path of the executable, symlinks resolved",
    ),
    F::new(
        "proc.pexepath",
        Process,
        CharBuf,
        "proc.exepath of the parent process",
    ),
    F::new(
        "proc.aexepath",
        Process,
        CharBuf,
        "proc.exepath of an ancestor (index as for proc.aname)",
    )
    .with_arg(IndexAllowed)
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Ancestors),
    F::new(
        "proc.name",
        Process,
        CharBuf,
        "process name (the kernel's comm, at most 16 characters)",
    ),
    F::new(
        "proc.pname",
        Process,
        CharBuf,
        "proc.name of the parent process",
    ),
    F::new(
        "proc.aname",
        Process,
        CharBuf,
        "proc.name of an ancestor: proc.aname[1] is the parent; without index, any ancestor",
    )
    .with_arg(IndexAllowed)
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Ancestors),
    F::new(
        "proc.args",
        Process,
        CharBuf,
        "command-line arguments without argv[0]; proc.args[N] is one argument",
    )
    .with_arg(IndexAllowed),
    F::new(
        "proc.aargs",
        Process,
        CharBuf,
        "proc.args of an ancestor (index as for proc.aname)",
    )
    .with_arg(IndexAllowed),
    F::new(
        "proc.cmdline",
        Process,
        CharBuf,
        "proc.name followed by proc.args",
    ),
    F::new(
        "proc.pcmdline",
        Process,
        CharBuf,
        "proc.cmdline of the parent process",
    ),
    F::new(
        "proc.acmdline",
        Process,
        CharBuf,
        "proc.cmdline of an ancestor (index as for proc.aname)",
    )
    .with_arg(IndexAllowed)
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Ancestors),
    F::new(
        "proc.cmdnargs",
        Process,
        Uint64,
        "number of command-line arguments",
    ),
    F::new(
        "proc.cmdlenargs",
        Process,
        Uint64,
        "total length of the command-line arguments",
    ),
    F::new(
        "proc.exeline",
        Process,
        CharBuf,
        "proc.exe followed by proc.args",
    ),
    F::new(
        "proc.env",
        Process,
        CharBuf,
        "environment as 'NAME=value …'; proc.env[NAME] is one variable's value",
    )
    .with_arg(KeyAllowed),
    F::new(
        "proc.aenv",
        Process,
        CharBuf,
        "environment of ancestors; proc.aenv[NAME] searches them for a variable",
    )
    .with_arg(KeyAllowed)
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Ancestors),
    F::new("proc.cwd", Process, CharBuf, "current working directory"),
    F::new(
        "proc.loginshellid",
        Process,
        Int64,
        "pid of the oldest shell among the ancestors",
    ),
    F::new(
        "proc.tty",
        Process,
        Uint32,
        "controlling terminal; 0 if none",
    ),
    F::new("proc.pid", Process, Int64, "process id"),
    F::new("proc.ppid", Process, Int64, "parent process id"),
    F::new(
        "proc.apid",
        Process,
        Int64,
        "pid of an ancestor (index as for proc.aname)",
    )
    .with_arg(IndexAllowed)
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Ancestors),
    F::new(
        "proc.vpid",
        Process,
        Int64,
        "process id inside its PID namespace",
    ),
    F::new(
        "proc.pvpid",
        Process,
        Int64,
        "parent process id inside its PID namespace",
    ),
    F::new("proc.sid", Process, Int64, "session id"),
    F::new(
        "proc.sname",
        Process,
        CharBuf,
        "proc.name of the session leader",
    ),
    F::new(
        "proc.sid.exe",
        Process,
        CharBuf,
        "proc.exe of the session leader",
    ),
    F::new(
        "proc.sid.exepath",
        Process,
        CharBuf,
        "proc.exepath of the session leader",
    ),
    F::new(
        "proc.vpgid",
        Process,
        Int64,
        "process group id inside the PID namespace",
    ),
    F::new(
        "proc.vpgid.name",
        Process,
        CharBuf,
        "proc.name of the process group leader (namespace view)",
    ),
    F::new(
        "proc.vpgid.exe",
        Process,
        CharBuf,
        "proc.exe of the process group leader (namespace view)",
    ),
    F::new(
        "proc.vpgid.exepath",
        Process,
        CharBuf,
        "proc.exepath of the process group leader (namespace view)",
    ),
    F::new(
        "proc.pgid",
        Process,
        Int64,
        "process group id as seen from the host",
    ),
    F::new(
        "proc.pgid.name",
        Process,
        CharBuf,
        "proc.name of the process group leader",
    ),
    F::new(
        "proc.pgid.exe",
        Process,
        CharBuf,
        "proc.exe of the process group leader",
    ),
    F::new(
        "proc.pgid.exepath",
        Process,
        CharBuf,
        "proc.exepath of the process group leader",
    ),
    F::new(
        "proc.duration",
        Process,
        RelTime,
        "nanoseconds since the process started",
    ),
    F::new(
        "proc.ppid.duration",
        Process,
        RelTime,
        "nanoseconds since the parent process started",
    ),
    F::new(
        "proc.pid.ts",
        Process,
        RelTime,
        "process start time, nanoseconds since the epoch",
    ),
    F::new(
        "proc.ppid.ts",
        Process,
        RelTime,
        "parent process start time, nanoseconds since the epoch",
    ),
    F::new(
        "proc.is_exe_writable",
        Process,
        Bool,
        "true if the user who started the process can write its executable",
    ),
    F::new(
        "proc.is_exe_upper_layer",
        Process,
        Bool,
        "true if the executable is in the upper layer of an overlayfs",
    ),
    F::new(
        "proc.is_exe_lower_layer",
        Process,
        Bool,
        "true if the executable is in a lower layer of an overlayfs",
    ),
    F::new(
        "proc.is_exe_from_memfd",
        Process,
        Bool,
        "true if the executable is an anonymous memfd file",
    ),
    F::new(
        "proc.is_sid_leader",
        Process,
        Bool,
        "true if the process leads its session",
    ),
    F::new(
        "proc.is_vpgid_leader",
        Process,
        Bool,
        "true if the process leads its process group (namespace view)",
    ),
    F::new(
        "proc.is_pgid_leader",
        Process,
        Bool,
        "true if the process leads its process group",
    ),
    F::new(
        "proc.exe_ino",
        Process,
        Int64,
        "inode number of the executable",
    ),
    F::new(
        "proc.exe_ino.ctime",
        Process,
        AbsTime,
        "status change time of the executable, nanoseconds since the epoch",
    ),
    F::new(
        "proc.exe_ino.mtime",
        Process,
        AbsTime,
        "modification time of the executable, nanoseconds since the epoch",
    ),
    F::new(
        "proc.exe_ino.ctime_duration_proc_start",
        Process,
        AbsTime,
        "nanoseconds between the executable's ctime and the process start",
    ),
    F::new(
        "proc.exe_ino.ctime_duration_pidns_start",
        Process,
        AbsTime,
        "nanoseconds between the PID namespace start and the executable's ctime",
    ),
    F::new(
        "proc.pidns_init_start_ts",
        Process,
        Uint64,
        "start time of the PID namespace, nanoseconds since the epoch",
    ),
    F::new(
        "thread.cap_permitted",
        Process,
        CharBuf,
        "permitted capability set",
    ),
    F::new(
        "thread.cap_inheritable",
        Process,
        CharBuf,
        "inheritable capability set",
    ),
    F::new(
        "thread.cap_effective",
        Process,
        CharBuf,
        "effective capability set",
    ),
    F::new(
        "proc.fdopencount",
        Process,
        Uint64,
        "number of open descriptors",
    ),
    F::new(
        "proc.fdlimit",
        Process,
        Int64,
        "maximum number of descriptors the process may open",
    ),
    F::new(
        "proc.fdusage",
        Process,
        Double,
        "open descriptors divided by the limit",
    ),
    F::new("proc.vmsize", Process, Uint64, "virtual memory size in kB"),
    F::new("proc.vmrss", Process, Uint64, "resident memory in kB"),
    F::new("proc.vmswap", Process, Uint64, "swapped memory in kB"),
    F::new(
        "thread.pfmajor",
        Process,
        Uint64,
        "major page faults since the thread started",
    ),
    F::new(
        "thread.pfminor",
        Process,
        Uint64,
        "minor page faults since the thread started",
    ),
    F::new("thread.tid", Process, Int64, "thread id"),
    F::new(
        "thread.ismain",
        Process,
        Bool,
        "true for the main thread of the process",
    ),
    F::new(
        "thread.vtid",
        Process,
        Int64,
        "thread id inside its PID namespace",
    ),
    F::new(
        "thread.nametid",
        Process,
        CharBuf,
        "process name and thread id together",
    )
    .hidden(),
    F::new(
        "thread.exectime",
        Process,
        RelTime,
        "CPU time of the last scheduled thread (switch events)",
    ),
    F::new(
        "thread.totexectime",
        Process,
        RelTime,
        "total CPU time of the thread since the capture started (switch events)",
    ),
    F::new(
        "thread.cgroups",
        Process,
        CharBuf,
        "all cgroups of the thread as one string",
    ),
    F::new(
        "thread.cgroup",
        Process,
        CharBuf,
        "cgroup of one subsystem, named after a dot: thread.cgroup.cpuacct",
    )
    .with_arg(DottedKey),
    F::new(
        "proc.nthreads",
        Process,
        Uint64,
        "number of live threads of the process, main thread included",
    ),
    F::new(
        "proc.nchilds",
        Process,
        Uint64,
        "number of live non-main threads of the process",
    ),
    F::new(
        "thread.cpu",
        Process,
        Double,
        "CPU used by the thread in the last second",
    ),
    F::new(
        "thread.cpu.user",
        Process,
        Double,
        "user CPU used by the thread in the last second",
    ),
    F::new(
        "thread.cpu.system",
        Process,
        Double,
        "system CPU used by the thread in the last second",
    ),
    F::new(
        "thread.vmsize",
        Process,
        Uint64,
        "virtual memory in kB (main thread: the process's)",
    ),
    F::new(
        "thread.vmrss",
        Process,
        Uint64,
        "resident memory in kB (main thread: the process's)",
    ),
    F::new(
        "thread.vmsize.b",
        Process,
        Uint64,
        "virtual memory in bytes",
    )
    .hidden(),
    F::new(
        "thread.vmrss.b",
        Process,
        Uint64,
        "resident memory in bytes",
    )
    .hidden(),
    F::new("proc.stdin.type", Process, CharBuf, "type of descriptor 0"),
    F::new("proc.stdout.type", Process, CharBuf, "type of descriptor 1"),
    F::new("proc.stderr.type", Process, CharBuf, "type of descriptor 2"),
    F::new("proc.stdin.name", Process, CharBuf, "name of descriptor 0"),
    F::new("proc.stdout.name", Process, CharBuf, "name of descriptor 1"),
    F::new("proc.stderr.name", Process, CharBuf, "name of descriptor 2"),
    // ---- user ----
    F::new("user.uid", User, Uint32, "user id"),
    F::new("user.name", User, CharBuf, "user name"),
    F::new("user.homedir", User, CharBuf, "home directory of the user"),
    F::new("user.shell", User, CharBuf, "login shell of the user"),
    F::new(
        "user.loginuid",
        User,
        Int64,
        "audit user id (auid); -1 when unset",
    ),
    F::new("user.loginname", User, CharBuf, "name of the audit user"),
    // ---- group ----
    F::new("group.gid", Group, Uint32, "group id"),
    F::new("group.name", Group, CharBuf, "group name"),
    // ---- fd ----
    F::new("fd.num", Fd, Int64, "descriptor number"),
    F::new(
        "fd.type",
        Fd,
        CharBuf,
        "descriptor type: file, directory, ipv4, ipv6, unix, pipe, event, signalfd …",
    ),
    F::new(
        "fd.typechar",
        Fd,
        CharBuf,
        "descriptor type as one character: f, d, 4, 6, u, p, e, s …",
    ),
    F::new(
        "fd.name",
        Fd,
        CharBuf,
        "full name: the path of a file, the connection tuple of a socket",
    ),
    F::new(
        "fd.directory",
        Fd,
        CharBuf,
        "for files, the directory holding the file",
    ),
    F::new(
        "fd.filename",
        Fd,
        CharBuf,
        "for files, the file name without the directory",
    ),
    F::new(
        "fd.ip",
        Fd,
        IpAddr,
        "matches the client or the server address",
    )
    .filter_only()
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Endpoints),
    F::new("fd.cip", Fd, IpAddr, "client IP address"),
    F::new("fd.sip", Fd, IpAddr, "server IP address"),
    F::new("fd.lip", Fd, IpAddr, "local IP address"),
    F::new("fd.rip", Fd, IpAddr, "remote IP address"),
    F::new("fd.port", Fd, Port, "matches the client or the server port")
        .filter_only()
        .no_rhs()
        .no_transformer()
        .multi(MultiValue::Endpoints),
    F::new("fd.cport", Fd, Port, "client port of TCP/UDP sockets"),
    F::new("fd.sport", Fd, Port, "server port of TCP/UDP sockets"),
    F::new("fd.lport", Fd, Port, "local port of TCP/UDP sockets"),
    F::new("fd.rport", Fd, Port, "remote port of TCP/UDP sockets"),
    F::new(
        "fd.l4proto",
        Fd,
        CharBuf,
        "transport protocol of a socket: tcp, udp, icmp or raw",
    ),
    F::new("fd.sockfamily", Fd, CharBuf, "socket family: ip or unix"),
    F::new(
        "fd.is_server",
        Fd,
        Bool,
        "true if this process is the server end of the connection",
    ),
    F::new(
        "fd.uid",
        Fd,
        CharBuf,
        "unique descriptor id: descriptor number and thread id",
    ),
    F::new(
        "fd.containername",
        Fd,
        CharBuf,
        "container id and descriptor name together",
    ),
    F::new(
        "fd.containerdirectory",
        Fd,
        CharBuf,
        "container id and directory together",
    ),
    F::new(
        "fd.proto",
        Fd,
        Port,
        "matches the client or the server protocol",
    )
    .filter_only()
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Endpoints),
    F::new(
        "fd.cproto",
        Fd,
        CharBuf,
        "client protocol of TCP/UDP sockets",
    ),
    F::new(
        "fd.sproto",
        Fd,
        CharBuf,
        "server protocol of TCP/UDP sockets",
    ),
    F::new(
        "fd.lproto",
        Fd,
        CharBuf,
        "local protocol of TCP/UDP sockets",
    ),
    F::new(
        "fd.rproto",
        Fd,
        CharBuf,
        "remote protocol of TCP/UDP sockets",
    ),
    F::new(
        "fd.net",
        Fd,
        IpNet,
        "matches the client or the server address against a network",
    )
    .filter_only()
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Endpoints),
    F::new(
        "fd.cnet",
        Fd,
        IpNet,
        "matches the client address against a network",
    )
    .filter_only()
    .no_rhs()
    .no_transformer(),
    F::new(
        "fd.snet",
        Fd,
        IpNet,
        "matches the server address against a network",
    )
    .filter_only()
    .no_rhs()
    .no_transformer(),
    F::new(
        "fd.lnet",
        Fd,
        IpNet,
        "matches the local address against a network",
    )
    .filter_only()
    .no_rhs()
    .no_transformer(),
    F::new(
        "fd.rnet",
        Fd,
        IpNet,
        "matches the remote address against a network",
    )
    .filter_only()
    .no_rhs()
    .no_transformer(),
    F::new(
        "fd.connected",
        Fd,
        Bool,
        "true if a TCP/UDP socket is connected",
    ),
    F::new(
        "fd.name_changed",
        Fd,
        Bool,
        "true if the event changed the descriptor's name (e.g. connect, rename)",
    ),
    F::new(
        "fd.cip.name",
        Fd,
        CharBuf,
        "domain name of the client address",
    )
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Names),
    F::new(
        "fd.sip.name",
        Fd,
        CharBuf,
        "domain name of the server address",
    )
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Names),
    F::new(
        "fd.lip.name",
        Fd,
        CharBuf,
        "domain name of the local address",
    )
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Names),
    F::new(
        "fd.rip.name",
        Fd,
        CharBuf,
        "domain name of the remote address",
    )
    .no_rhs()
    .no_transformer()
    .multi(MultiValue::Names),
    F::new("fd.dev", Fd, Int32, "device number of the file's device"),
    F::new(
        "fd.dev.major",
        Fd,
        Int32,
        "major device number of the file's device",
    ),
    F::new(
        "fd.dev.minor",
        Fd,
        Int32,
        "minor device number of the file's device",
    ),
    F::new("fd.ino", Fd, Int64, "inode number of the file"),
    F::new(
        "fd.nameraw",
        Fd,
        CharBuf,
        "like fd.name, but the file path as passed, not normalized",
    ),
    F::new(
        "fd.types",
        Fd,
        CharBuf,
        "types of the open descriptors; fd.types[N] is the type of descriptor N",
    )
    .with_arg(IndexAllowed)
    .list()
    .no_rhs(),
    F::new(
        "fd.is_upper_layer",
        Fd,
        Bool,
        "true if the file is in the upper layer of an overlayfs",
    ),
    F::new(
        "fd.is_lower_layer",
        Fd,
        Bool,
        "true if the file is in a lower layer of an overlayfs",
    ),
    // ---- fs.path ----
    F::new(
        "fs.path.name",
        FsPath,
        CharBuf,
        "the path a path-based syscall works on, normalized",
    ),
    F::new(
        "fs.path.nameraw",
        FsPath,
        CharBuf,
        "the path a path-based syscall works on, as passed",
    ),
    F::new(
        "fs.path.source",
        FsPath,
        CharBuf,
        "source path of two-path syscalls (rename, link …), normalized",
    ),
    F::new(
        "fs.path.sourceraw",
        FsPath,
        CharBuf,
        "source path of two-path syscalls, as passed",
    ),
    F::new(
        "fs.path.target",
        FsPath,
        CharBuf,
        "target path of two-path syscalls, normalized",
    ),
    F::new(
        "fs.path.targetraw",
        FsPath,
        CharBuf,
        "target path of two-path syscalls, as passed",
    ),
    // ---- fdlist ----
    F::new(
        "fdlist.nums",
        FdList,
        CharBuf,
        "for poll events, the descriptor numbers, comma separated",
    ),
    F::new(
        "fdlist.names",
        FdList,
        CharBuf,
        "for poll events, the descriptor names, comma separated",
    ),
    F::new(
        "fdlist.cips",
        FdList,
        CharBuf,
        "for poll events, the client addresses, comma separated",
    ),
    F::new(
        "fdlist.sips",
        FdList,
        CharBuf,
        "for poll events, the server addresses, comma separated",
    ),
    F::new(
        "fdlist.cports",
        FdList,
        CharBuf,
        "for poll events, the client ports, comma separated",
    ),
    F::new(
        "fdlist.sports",
        FdList,
        CharBuf,
        "for poll events, the server ports, comma separated",
    ),
    // ---- container (container plugin) ----
    F::new(
        "container.id",
        Container,
        CharBuf,
        "container id (first 12 characters), from the cgroups; 'host' outside containers",
    ),
    F::new(
        "container.full_id",
        Container,
        CharBuf,
        "full container id, from the container runtime",
    ),
    F::new(
        "container.name",
        Container,
        CharBuf,
        "container name; 'host' outside containers",
    ),
    F::new(
        "container.image",
        Container,
        CharBuf,
        "container image name, e.g. falcosecurity/falco:latest",
    ),
    F::new(
        "container.image.id",
        Container,
        CharBuf,
        "container image id",
    ),
    F::new(
        "container.type",
        Container,
        CharBuf,
        "container runtime type: docker, cri-o, containerd …",
    ),
    F::new(
        "container.privileged",
        Container,
        Bool,
        "true for privileged containers",
    ),
    F::new(
        "container.mounts",
        Container,
        CharBuf,
        "mounts as space-separated 'source:dest:mode:rdrw:propagation' items",
    ),
    F::new(
        "container.mount",
        Container,
        CharBuf,
        "one mount, by index (container.mount[0]) or source path glob",
    )
    .with_arg(IndexOrKeyRequired),
    F::new(
        "container.mount.source",
        Container,
        CharBuf,
        "source of one mount, by index or destination path glob",
    )
    .with_arg(IndexOrKeyRequired),
    F::new(
        "container.mount.dest",
        Container,
        CharBuf,
        "destination of one mount, by index or source path glob",
    )
    .with_arg(IndexOrKeyRequired),
    F::new(
        "container.mount.mode",
        Container,
        CharBuf,
        "mode of one mount, by index or source path glob",
    )
    .with_arg(IndexOrKeyRequired),
    F::new(
        "container.mount.rdwr",
        Container,
        CharBuf,
        "read/write flag of one mount, by index or source path glob",
    )
    .with_arg(IndexOrKeyRequired),
    F::new(
        "container.mount.propagation",
        Container,
        CharBuf,
        "propagation of one mount, by index or source path glob",
    )
    .with_arg(IndexOrKeyRequired),
    F::new(
        "container.image.repository",
        Container,
        CharBuf,
        "image repository, e.g. falcosecurity/falco",
    ),
    F::new(
        "container.image.tag",
        Container,
        CharBuf,
        "image tag, e.g. latest",
    ),
    F::new(
        "container.image.digest",
        Container,
        CharBuf,
        "image registry digest",
    ),
    F::new(
        "container.healthcheck",
        Container,
        CharBuf,
        "health check command of the container",
    )
    .deprecated(),
    F::new(
        "container.liveness_probe",
        Container,
        CharBuf,
        "liveness probe command of the container",
    )
    .deprecated(),
    F::new(
        "container.readiness_probe",
        Container,
        CharBuf,
        "readiness probe command of the container",
    )
    .deprecated(),
    F::new(
        "container.start_ts",
        Container,
        AbsTime,
        "container start time, nanoseconds since the epoch",
    ),
    F::new(
        "container.duration",
        Container,
        RelTime,
        "nanoseconds since container.start_ts",
    ),
    F::new(
        "container.ip",
        Container,
        CharBuf,
        "primary IPv4 address of the container or pod",
    ),
    F::new(
        "container.cni.json",
        Container,
        CharBuf,
        "CNI result of the pod as JSON",
    ),
    F::new(
        "container.host_pid",
        Container,
        Bool,
        "true if the container shares the host PID namespace",
    ),
    F::new(
        "container.host_network",
        Container,
        Bool,
        "true if the container shares the host network namespace",
    ),
    F::new(
        "container.host_ipc",
        Container,
        Bool,
        "true if the container shares the host IPC namespace",
    ),
    F::new(
        "container.label",
        Container,
        CharBuf,
        "one container label: container.label[NAME]",
    )
    .with_arg(KeyRequired),
    F::new(
        "container.labels",
        Container,
        CharBuf,
        "all container labels as 'key:value,…'",
    ),
    F::new(
        "container.info",
        Container,
        CharBuf,
        "placeholder of old outputs for container details; removed from outputs by the loader",
    )
    .deprecated()
    .print_only(),
    F::new(
        "proc.is_container_healthcheck",
        Container,
        Bool,
        "true if the process is a container health check",
    )
    .deprecated(),
    F::new(
        "proc.is_container_liveness_probe",
        Container,
        Bool,
        "true if the process is a liveness probe",
    )
    .deprecated(),
    F::new(
        "proc.is_container_readiness_probe",
        Container,
        Bool,
        "true if the process is a readiness probe",
    )
    .deprecated(),
    // ---- k8s (container plugin) ----
    F::new("k8s.pod.name", K8s, CharBuf, "Kubernetes pod name"),
    F::new("k8s.ns.name", K8s, CharBuf, "Kubernetes namespace name"),
    F::new("k8s.pod.id", K8s, CharBuf, "legacy alias of k8s.pod.uid"),
    F::new("k8s.pod.uid", K8s, CharBuf, "Kubernetes pod UID"),
    F::new(
        "k8s.pod.sandbox_id",
        K8s,
        CharBuf,
        "pod sandbox id (first 12 characters)",
    ),
    F::new(
        "k8s.pod.full_sandbox_id",
        K8s,
        CharBuf,
        "full pod sandbox id",
    ),
    F::new(
        "k8s.pod.label",
        K8s,
        CharBuf,
        "one pod label: k8s.pod.label[NAME]",
    )
    .with_arg(KeyRequired),
    F::new(
        "k8s.pod.labels",
        K8s,
        CharBuf,
        "all pod labels as 'key:value,…'",
    ),
    F::new("k8s.pod.ip", K8s, CharBuf, "pod IPv4 address"),
    F::new(
        "k8s.pod.cni.json",
        K8s,
        CharBuf,
        "CNI result of the pod as JSON",
    ),
    F::new(
        "k8s.rc.name",
        K8s,
        CharBuf,
        "replication controller name; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.rc.id",
        K8s,
        CharBuf,
        "replication controller id; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.rc.label",
        K8s,
        CharBuf,
        "replication controller label; use the k8smeta plugin",
    )
    .with_arg(KeyRequired)
    .deprecated(),
    F::new(
        "k8s.rc.labels",
        K8s,
        CharBuf,
        "replication controller labels; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.svc.name",
        K8s,
        CharBuf,
        "service name; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.svc.id",
        K8s,
        CharBuf,
        "service id; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.svc.label",
        K8s,
        CharBuf,
        "service label; use the k8smeta plugin",
    )
    .with_arg(KeyRequired)
    .deprecated(),
    F::new(
        "k8s.svc.labels",
        K8s,
        CharBuf,
        "service labels; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.ns.id",
        K8s,
        CharBuf,
        "namespace id; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.ns.label",
        K8s,
        CharBuf,
        "namespace label; use the k8smeta plugin",
    )
    .with_arg(KeyRequired)
    .deprecated(),
    F::new(
        "k8s.ns.labels",
        K8s,
        CharBuf,
        "namespace labels; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.rs.name",
        K8s,
        CharBuf,
        "replica set name; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.rs.id",
        K8s,
        CharBuf,
        "replica set id; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.rs.label",
        K8s,
        CharBuf,
        "replica set label; use the k8smeta plugin",
    )
    .with_arg(KeyRequired)
    .deprecated(),
    F::new(
        "k8s.rs.labels",
        K8s,
        CharBuf,
        "replica set labels; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.deployment.name",
        K8s,
        CharBuf,
        "deployment name; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.deployment.id",
        K8s,
        CharBuf,
        "deployment id; use the k8smeta plugin",
    )
    .deprecated(),
    F::new(
        "k8s.deployment.label",
        K8s,
        CharBuf,
        "deployment label; use the k8smeta plugin",
    )
    .with_arg(KeyRequired)
    .deprecated(),
    F::new(
        "k8s.deployment.labels",
        K8s,
        CharBuf,
        "deployment labels; use the k8smeta plugin",
    )
    .deprecated(),
];
