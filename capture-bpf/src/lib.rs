//! frule's eBPF capture: the kernel program, its loader and the ring-buffer reader.
//!
//! This crate depends on no other frule crate: it hands out raw events in the scap event
//! layout, and the runtime decodes them with the same decoder it uses for `.scap` files.
//!
//! # Use
//!
//! ```no_run
//! use std::time::Duration;
//! use frule_capture_bpf::{Capture, CaptureOptions, EventHeader, Interest};
//!
//! // openat and execve exits, plus procexit (PPME codes as Falco's rules select them)
//! let (interest, unsupported) = Interest::from_ppm_events([307, 293, 186]);
//! assert!(unsupported.is_empty());
//! let mut capture = Capture::open(CaptureOptions { interest, ..CaptureOptions::default() })?;
//! loop {
//!     for event in capture.poll(Duration::from_millis(100)) {
//!         // `event.data` is one event in the scap layout: 26-byte header, u16 lengths,
//!         // params; `event.cpu` the CPU it was captured on
//!         if let Some(h) = EventHeader::parse(event.data) {
//!             println!("cpu {} tid {} event type {}", event.cpu, h.tid, h.event_type);
//!         }
//!     }
//!     let drops = capture.counters()?.total().drops();
//!     if drops > 0 {
//!         eprintln!("{drops} events dropped so far");
//!     }
//! }
//! # Ok::<(), frule_capture_bpf::CaptureError>(())
//! ```
//!
//! # Design
//!
//! The kernel side is our own C program, `bpf/frule.bpf.c`, compiled once with clang into
//! a CO-RE object that is committed (`bpf/frule.bpf.o`) and embedded here, so building this
//! crate needs no C toolchain (see `build.rs` and `bpf/build.sh`). It follows the design of
//! Falco's modern_bpf driver (spec `capture-and-scap.md` §1):
//!
//! - **Hooks**: `tp_btf/sys_exit` dispatches on the syscall id; `tp_btf/sched_process_exec`
//!   reports successful `execve`/`execveat` with the new image; `tp_btf/sched_process_exit`
//!   reports `procexit`. Each has a `raw_tp` twin used when `tp_btf` cannot be loaded
//!   ([`AttachMode`]). Both need kernel BTF for CO-RE relocation.
//! - **Filter first**: the syscall id is looked up in the `interesting_syscalls` array map
//!   before any other work; [`Interest`] fills it from PPME codes or syscall numbers and
//!   [`Capture::set_interest`] changes it live.
//! - **Exit-only events in the scap layout**: a 26-byte header (ts, tid, len, type,
//!   nparams), one u16 length per parameter, then the parameters, using libscap's PPME
//!   numbering and the parameter lists of current falcosecurity/libs exit events (which
//!   carry the enter parameters). Flags are translated to PPM values (`PPM_O_*`,
//!   `PPM_CL_*`, `PPM_AF_*`), `AT_FDCWD` is -100, ports are in host order.
//! - **Assembly**: variable-size events are built in a per-CPU 128 KiB scratch area and
//!   copied once into the ring with `bpf_ringbuf_output(BPF_RB_NO_WAKEUP)`; events over 64 KiB
//!   are dropped and counted. Fixed-size events (close, procexit) are written straight into
//!   their exact-size `bpf_ringbuf_reserve` slot, and kernel objects are read one probe read per
//!   object (the span up to the last field needed) rather than one per field. Every read is bounded: paths 4096 B, argv and env 4096 B each, unix paths
//!   108 B, 8 cgroup subsystems of at most 6 path components. execve's `trusted_exepath`
//!   is rebuilt from the exe file's dentries (at most 32 components, crossing mounts),
//!   since `bpf_d_path` is not allowed on these hooks.
//! - **TOCTOU mitigation** (as Falco): the path or sockaddr of open/creat/openat/openat2/
//!   connect is copied at syscall entry into the thread's task-local storage (a
//!   `BPF_MAP_TYPE_TASK_STORAGE` map: found from the task without a hash probe, freed with the
//!   task) that the exit event reads, so the event shows what the kernel used, not what a racing
//!   thread wrote afterwards. Where
//!   BTF tracepoints load, one `tp_btf/sys_enter` program makes the copies; otherwise (raw
//!   tracepoint mode) the classic `syscalls:sys_enter_*` tracepoints do, which need tracefs
//!   (`mount -t tracefs nodev /sys/kernel/tracing`) and cost more per call (perf's syscall event
//!   path runs before the program). The entry hook is attached only while one of those five
//!   syscalls is wanted ([`Interest::needs_entry_copy`], followed by [`Capture::set_interest`]),
//!   so other interest sets cost no syscall an entry program. Without either hook the capture
//!   reads at exit and [`Capture::toctou`] says why ([`Toctou`]).
//! - **Buffers**: one BPF ring buffer per `cpus_per_buffer` CPUs, created by the loader
//!   with [`CaptureOptions::buffer_bytes`] and placed in an array-of-maps indexed by CPU.
//! - **Reader**: [`Capture::poll`] paces itself: it sleeps before each drain, for a pace that
//!   doubles while the rings stay nearly empty (up to 30 ms) and halves when a drain finds a
//!   ring more than a quarter full (then the next drain does not sleep), so a steady load is
//!   drained in large batches with few wake-ups; each drain takes every ring into one [`Batch`]
//!   ordered by timestamp; each [`RawEvent`] carries the CPU of its ring.
//! - **Start-up**: [`Capture::open`] loads (verifies) every program before attaching any, then
//!   attaches the entry-time copy hook, the process hooks and `sys_exit` back to back. The
//!   verifier's cost is kept low (under a second for the whole object on a 2-vCPU VM, see
//!   BENCHMARKS.md "Start-up") by moving code that branches a lot into global functions, which
//!   are verified once each instead of once per path that reaches them. From the attach on,
//!   events accumulate; [`Capture::drain_while`] keeps draining them into memory while the
//!   caller does its own start-up work (the `/proc` scan), so a busy host loses none.
//! - **Counters**: per CPU, events written and drops by reason (ring full, with a
//!   process/file/network/other split, event too large, no ring, no scratch area):
//!   [`Counters`].
//!
//! Events emitted: see [`SUPPORTED`] (syscall, x86_64 number, exit event, the PPME codes
//! that name it). Process: clone/fork/vfork/clone3, execve/execveat, procexit, setuid
//! family, setsid/setpgid, kill, unshare/setns, chroot. Files: open/openat/openat2/creat,
//! close, read/write/pread/pwrite (payload cut to the snaplen), dup/dup2/dup3, fcntl,
//! pipe/pipe2, chdir/fchdir, mkdir(at), rmdir, unlink(at), rename(at/at2), link(at),
//! symlink(at), chmod family, chown family, mount/umount2, memfd_create. Network: socket, socketpair, bind, listen, connect, accept/accept4,
//! sendto/recvfrom/sendmsg/recvmsg (payload cut to [`CaptureOptions::snaplen`]). Other:
//! ptrace, init_module/finit_module, bpf, userfaultfd, mprotect.
//! Any other interesting syscall gives `GENERIC_X` (PPME 1) with its `PPM_SC` code (from
//! `bpf/ppm_sc_table.h`, generated data) and its native number.
//!
//! # Not done yet
//!
//! - 32-bit (ia32) syscalls are not mapped to their 64-bit events.
//! - No dedicated event yet (they give `GENERIC_X`, without parameters, when interesting):
//!   readv/writev/preadv/pwritev, shutdown, prctl, capset, and the other syscalls of the
//!   table that Falco's rules rarely use. sendmsg/recvmsg gather at most 8 iovecs.
//! - execve: `cwd` is sent empty (as Falco does: user space tracks it); clone:
//!   `pidns_init_start_ts` is 0; procexit: `reaper_tid` is 0.
//! - execve `flags`: memfd origin, writability and overlay layer are tested live;
//!   writability is a simplified permission check (owner, primary group, mode bits,
//!   CAP_DAC_OVERRIDE/CAP_FOWNER; no ACLs or supplementary groups). The overlayfs layer
//!   flags (`PPM_EXE_UPPER/LOWER_LAYER`, `PPM_FD_UPPER/LOWER_LAYER` on open) use Falco's
//!   `ovl_inode.__upperdentry` test (live-tested on a private overlay mount).
//! - Initial state comes from a `/proc` scan ([`procfs::scan`]), not from BPF task
//!   iterators; sockets of other network namespaces have no endpoints. No
//!   `sched_process_fork` hook (x86_64 reports the child's clone exit instead).
//! - Events are ordered by timestamp within a batch, not across batches: an event still
//!   being written while a batch is drained comes in the next one (as with libscap's
//!   lowest-head merge).
//! - Only x86_64.

#![deny(missing_docs)]

mod capture;
mod error;
mod header;
mod interest;
pub mod procfs;

pub use capture::{
    AttachMode, BACKLOG_MAX_BYTES, Batch, Capture, CaptureOptions, Counters, CpuCounters,
    EntryHook, KERNEL_BTF, ProgramStats, RawEvent, RunTimeStats, Toctou,
};
pub use error::CaptureError;
pub use header::EventHeader;
pub use interest::{
    ENTRY_COPY_SYSCALLS, Interest, NO_OPEN_FILE_PROPS_SLOT, PROCEXIT_CODES, PROCEXIT_SLOT,
    SUPPORTED, SYSCALL_TABLE_SIZE, SupportedSyscall,
};
