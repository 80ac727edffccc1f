//! Loading, attaching and reading the capture.
//!
//! Invariants:
//! - every ring buffer is created by this module, sized by [`CaptureOptions::buffer_bytes`],
//!   and registered in `ringbuf_maps` at the index of each CPU it serves
//!   (CPU `c` uses ring `c / cpus_per_buffer`); a CPU without a ring counts a drop;
//! - a [`Batch`] holds copies of events drained from all rings in one pass, ordered by
//!   their timestamp (stable for equal timestamps); ordering holds within a batch;
//! - every event carries the CPU of the ring it came from: exact with one ring per CPU
//!   (the default), the first CPU the ring serves when `cpus_per_buffer` > 1 (as libscap's
//!   modern_bpf engine, which reports the buffer);
//! - the scratch buffers are reused between batches: steady-state polling allocates
//!   nothing;
//! - every program is loaded before the first is attached, and `sys_exit` is attached last;
//! - events held by [`Capture::drain_while`] are handed out, in the order they were drained,
//!   before any event read from the rings afterwards.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use aya::maps::{Array, ArrayOfMaps, Map, MapData, PerCpuArray, RingBuf};
use aya::programs::tp_btf::BtfTracePointLinkId;
use aya::programs::trace_point::TracePointLinkId;
use aya::programs::{BtfTracePoint, Program, ProgramError, RawTracePoint, TracePoint};
use aya::{Btf, Ebpf, EbpfLoader};

use crate::error::CaptureError;
use crate::interest::{ENTRY_COPY_SYSCALLS, INTERESTING_SIZE, Interest};

/// The compiled kernel program (committed in `bpf/frule.bpf.o`, see `build.rs`).
static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/frule.bpf.o"));

/// Where the kernel publishes its BTF.
pub const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";

/// How the programs hook the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttachMode {
    /// `tp_btf`, falling back to `raw_tp` when a `tp_btf` program fails to load or attach.
    #[default]
    Auto,
    /// BTF-enabled tracepoints only (`tp_btf/sys_exit`, …).
    BtfTracepoint,
    /// Raw tracepoints only (`raw_tp/sys_exit`, …).
    RawTracepoint,
}

/// Options of [`Capture::open`].
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// Bytes per ring buffer: a power of two and a multiple of the page size (Falco's
    /// default is 8 MiB).
    pub buffer_bytes: usize,
    /// How many CPUs share one ring buffer (1 = one per CPU; Falco's default is 2).
    pub cpus_per_buffer: usize,
    /// The syscalls to capture at start (can be changed with [`Capture::set_interest`]).
    pub interest: Interest,
    /// How to hook the kernel.
    pub attach: AttachMode,
    /// At most this many events are copied into one [`Batch`].
    pub max_batch_events: usize,
    /// Copy open-family paths and connect sockaddrs at syscall entry, so a thread cannot change
    /// them between the kernel's use and the exit event ([`EntryHook`] says with which
    /// programs). When no entry program attaches the capture still runs and reads them at exit;
    /// [`Capture::toctou`] tells which.
    pub toctou: bool,
    /// Which programs make the entry-time copies.
    pub entry_hook: EntryHook,
    /// Bytes of payload kept in sendto/recvfrom/sendmsg/recvmsg events (Falco's
    /// `snaplen`, default 80; at most 4096).
    pub snaplen: u32,
}

/// Which programs make the entry-time (TOCTOU) copies of open-family paths and connect
/// sockaddrs.
///
/// The two kinds cost differently. A program on the raw `sys_enter` tracepoint runs for every
/// syscall of the host, so every syscall the rules do not need pays a second program dispatch.
/// The classic `syscalls:sys_enter_*` tracepoints fire for their own syscall only, at a higher
/// price per call (perf's per-syscall event path runs before the program), so only
/// open/openat/openat2/creat/connect pay. On the reference VM (`BENCHMARKS.md`, session 7) the
/// classic hooks cost an open/close pair ≈ 100 ns more and every other syscall 10–30 ns less.
/// Falco's modern probe uses the classic ones, and on a real host, where most syscalls are
/// reads, writes, polls and futexes, they cost less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EntryHook {
    /// The classic tracepoints when tracefs offers them, else (in `tp_btf` mode) one
    /// `tp_btf/sys_enter` program.
    #[default]
    Auto,
    /// One `tp_btf/sys_enter` program for all five syscalls (in raw tracepoint mode, where BTF
    /// tracepoints are not used, the classic tracepoints instead): the cheaper choice for a
    /// host that does little but open files.
    SysEnter,
    /// The classic `syscalls:sys_enter_{open,creat,openat,openat2,connect}` tracepoints (they
    /// need tracefs mounted).
    SyscallTracepoints,
}

/// Whether the TOCTOU mitigation is in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toctou {
    /// Paths and sockaddrs of open/openat/openat2/creat/connect are copied at entry.
    Active,
    /// The entry hook is loaded but not attached: none of open/openat/openat2/creat/connect
    /// is wanted, so no syscall pays for an entry program. It attaches as soon as
    /// [`Capture::set_interest`] wants one of them.
    NotNeeded,
    /// Turned off by [`CaptureOptions::toctou`].
    Disabled,
    /// Could not attach (in raw tracepoint mode, usually tracefs is not mounted); the reason is
    /// given.
    Unavailable(String),
}

impl Default for CaptureOptions {
    fn default() -> Self {
        Self {
            buffer_bytes: 8 << 20,
            cpus_per_buffer: 1,
            interest: Interest::all_supported(),
            attach: AttachMode::Auto,
            max_batch_events: 64 * 1024,
            toctou: true,
            entry_hook: EntryHook::Auto,
            snaplen: 80,
        }
    }
}

/// The counters of one CPU (kernel side), in the order of `struct counters`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuCounters {
    /// Events written to a ring buffer.
    pub events: u64,
    /// Events dropped because the ring buffer was full.
    pub drops_buffer: u64,
    /// Events dropped because they exceeded 64 KiB.
    pub drops_max_event_size: u64,
    /// Events dropped because no ring buffer served this CPU.
    pub drops_no_ring: u64,
    /// Events dropped because the per-CPU scratch area was missing.
    pub drops_no_scratch: u64,
    /// Of `drops_buffer`: process events (clone/fork/execve/procexit).
    pub drops_buffer_proc: u64,
    /// Of `drops_buffer`: file events (open/openat/openat2/creat/close).
    pub drops_buffer_file: u64,
    /// Of `drops_buffer`: network events (socket/connect/accept/bind/listen).
    pub drops_buffer_net: u64,
    /// Of `drops_buffer`: every other syscall.
    pub drops_buffer_other: u64,
    /// Exit events whose path or sockaddr came from the entry-time (TOCTOU) copy.
    pub toctou_used: u64,
}

impl CpuCounters {
    fn from_raw(raw: [u64; 10]) -> Self {
        let [
            events,
            drops_buffer,
            drops_max_event_size,
            drops_no_ring,
            drops_no_scratch,
            proc_,
            file,
            net,
            other,
            toctou_used,
        ] = raw;
        Self {
            events,
            drops_buffer,
            drops_max_event_size,
            drops_no_ring,
            drops_no_scratch,
            drops_buffer_proc: proc_,
            drops_buffer_file: file,
            drops_buffer_net: net,
            drops_buffer_other: other,
            toctou_used,
        }
    }

    /// All drops of this CPU, whatever the reason.
    pub fn drops(&self) -> u64 {
        self.drops_buffer + self.drops_max_event_size + self.drops_no_ring + self.drops_no_scratch
    }

    fn add(&mut self, o: &Self) {
        self.events += o.events;
        self.drops_buffer += o.drops_buffer;
        self.drops_max_event_size += o.drops_max_event_size;
        self.drops_no_ring += o.drops_no_ring;
        self.drops_no_scratch += o.drops_no_scratch;
        self.drops_buffer_proc += o.drops_buffer_proc;
        self.drops_buffer_file += o.drops_buffer_file;
        self.drops_buffer_net += o.drops_buffer_net;
        self.drops_buffer_other += o.drops_buffer_other;
        self.toctou_used += o.toctou_used;
    }
}

/// Kernel-side counters per CPU plus what the reader handed out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// One entry per possible CPU, indexed by CPU number.
    pub per_cpu: Vec<CpuCounters>,
    /// Events handed out by [`Capture::poll`] so far.
    pub events_read: u64,
}

impl Counters {
    /// The sum over all CPUs.
    pub fn total(&self) -> CpuCounters {
        let mut t = CpuCounters::default();
        for c in &self.per_cpu {
            t.add(c);
        }
        t
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    ts: u64,
    start: usize,
    len: usize,
    cpu: u16,
}

/// One event handed out by a [`Batch`]: its bytes in the scap layout and the CPU it was
/// captured on (`evt.cpu`, and the `cpuid` of an event block when the event is written to a
/// `.scap` file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEvent<'a> {
    /// The CPU whose ring buffer held the event (see the module invariants for shared rings).
    pub cpu: u16,
    /// The event: 26-byte header, u16 parameter lengths, parameters.
    pub data: &'a [u8],
}

/// Events of one poll, in timestamp order; each item is one event in the scap layout.
#[derive(Debug)]
pub struct Batch<'a> {
    data: &'a [u8],
    order: std::slice::Iter<'a, Slot>,
}

impl<'a> Iterator for Batch<'a> {
    type Item = RawEvent<'a>;

    fn next(&mut self) -> Option<RawEvent<'a>> {
        let s = self.order.next()?;
        let data = self.data.get(s.start..s.start + s.len)?;
        Some(RawEvent { cpu: s.cpu, data })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.order.size_hint()
    }
}

impl ExactSizeIterator for Batch<'_> {}

/// A running live capture: the loaded programs, their rings and the reader state.
///
/// Dropping it detaches the programs and frees the maps.
pub struct Capture {
    // Field order matters for drop: rings before the object that references them.
    rings: Vec<RingBuf<MapData>>,
    interesting: Array<MapData, u8>,
    counters: PerCpuArray<MapData, [u64; 10]>,
    attach_mode: AttachMode,
    toctou: Toctou,
    toctou_hook: ToctouHook,
    data: Vec<u8>,
    order: Vec<Slot>,
    max_batch_events: usize,
    cpus_per_buffer: usize,
    events_read: u64,
    pacing: Pacing,
    /// Events drained by [`Capture::drain_while`] and not yet handed out, oldest first.
    backlog: std::collections::VecDeque<Drained>,
    ebpf: Ebpf,
}

/// Most bytes of events [`Capture::drain_while`] holds in memory (256 MiB).
pub const BACKLOG_MAX_BYTES: usize = 256 << 20;

/// Stops [`Capture::drain_while`]'s helper when dropped: after `work` returns or unwinds.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Events copied out of the rings in one pass: their bytes and their slots in timestamp order.
#[derive(Debug, Default)]
struct Drained {
    data: Vec<u8>,
    order: Vec<Slot>,
}

/// The entry-time (TOCTOU) programs: which kind was loaded, and their links while attached.
///
/// Invariant: links are held exactly while some wanted syscall needs an entry-time copy
/// ([`Interest::needs_entry_copy`]); otherwise no entry program runs at all.
#[derive(Debug)]
enum ToctouHook {
    /// Not loaded (turned off, or neither kind loads).
    None,
    /// `tp_btf/sys_enter` loaded; attached when the link is present.
    Btf(Option<BtfTracePointLinkId>),
    /// The classic `syscalls:sys_enter_*` tracepoints loaded, one link slot per entry of
    /// [`TOCTOU_PROGRAMS`]: each attached only while its own syscall is wanted, as Falco's
    /// libpman does, so that a ruleset wanting openat but not connect runs no program on connect.
    Classic([Option<TracePointLinkId>; TOCTOU_PROGRAMS.len()]),
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("rings", &self.rings.len())
            .field("attach_mode", &self.attach_mode)
            .field("events_read", &self.events_read)
            .finish_non_exhaustive()
    }
}

/// Programs: (name in the object, tracepoint) for tp_btf and raw_tp, in attach order. All of
/// them are loaded (verified) before the first is attached, so the capture starts at once
/// rather than one verification after another; the process hooks go first, so that by the time
/// the first syscall event is written the process events it may depend on are flowing too.
const BTF_PROGRAMS: [(&str, &str); 3] = [
    ("frule_sched_exec", "sched_process_exec"),
    ("frule_sched_exit", "sched_process_exit"),
    ("frule_sys_exit", "sys_exit"),
];
const RAW_PROGRAMS: [(&str, &str); 3] = [
    ("frule_sched_exec_raw", "sched_process_exec"),
    ("frule_sched_exit_raw", "sched_process_exit"),
    ("frule_sys_exit_raw", "sys_exit"),
];

impl Capture {
    /// Loads the kernel program, creates the ring buffers, fills the interesting-syscalls
    /// map and attaches. Events flow from the moment this returns: poll soon, or hand slow
    /// start-up work to [`Capture::drain_while`], or the rings fill and events are dropped.
    ///
    /// Every program is loaded before any is attached (verification is most of the time this
    /// takes), then the entry-time copy hook, the process hooks and `sys_exit` are attached in
    /// that order, within microseconds of each other.
    pub fn open(options: CaptureOptions) -> Result<Self, CaptureError> {
        check_privileges()?;
        if !Path::new(KERNEL_BTF).exists() {
            return Err(CaptureError::BtfMissing { path: KERNEL_BTF });
        }
        validate(&options)?;
        let ncpus = aya::util::nr_cpus().map_err(|(what, source)| CaptureError::System {
            what: if what.is_empty() {
                "possible cpus"
            } else {
                what
            },
            source,
        })?;
        let ncpus_u32 = u32::try_from(ncpus)
            .map_err(|_| CaptureError::InvalidOption(format!("{ncpus} cpus is too many")))?;
        let btf = Btf::from_sys_fs().map_err(|_| CaptureError::BtfMissing { path: KERNEL_BTF })?;
        let boot_time = boot_time_ns()?;

        let mut ebpf = EbpfLoader::new()
            .btf(Some(&btf))
            // `toctou_args` is task-local storage, which aya creates but has no typed handle for
            .allow_unsupported_maps()
            .override_global("boot_time", &boot_time, true)
            .override_global("snaplen", &options.snaplen, true)
            .map_max_entries("aux_maps", ncpus_u32)
            .map_max_entries("ringbuf_maps", ncpus_u32)
            .load(OBJECT)
            .map_err(load_error)?;

        // Rings: one per `cpus_per_buffer` CPUs.
        let nrings = ncpus.div_ceil(options.cpus_per_buffer);
        let mut rings = Vec::with_capacity(nrings);
        for _ in 0..nrings {
            rings.push(create_ring(options.buffer_bytes)?);
        }
        {
            let outer = ebpf.map_mut("ringbuf_maps").ok_or(CaptureError::Object {
                kind: "map",
                name: "ringbuf_maps",
            })?;
            let mut outer: ArrayOfMaps<&mut MapData, RingBuf<MapData>> =
                ArrayOfMaps::try_from(outer).map_err(|e| CaptureError::map("ringbuf_maps", e))?;
            for cpu in 0..ncpus_u32 {
                let ring = rings.get(cpu as usize / options.cpus_per_buffer).ok_or(
                    CaptureError::Object {
                        kind: "map",
                        name: "ringbuf_maps",
                    },
                )?;
                outer
                    .set(cpu, ring, 0)
                    .map_err(|e| CaptureError::map("ringbuf_maps", e))?;
            }
        }

        let interesting_map =
            ebpf.take_map("interesting_syscalls")
                .ok_or(CaptureError::Object {
                    kind: "map",
                    name: "interesting_syscalls",
                })?;
        let mut interesting: Array<MapData, u8> = Array::try_from(interesting_map)
            .map_err(|e| CaptureError::map("interesting_syscalls", e))?;
        write_interest(&mut interesting, &options.interest)?;
        let counters_map = ebpf.take_map("counters").ok_or(CaptureError::Object {
            kind: "map",
            name: "counters",
        })?;
        let counters =
            PerCpuArray::try_from(counters_map).map_err(|e| CaptureError::map("counters", e))?;

        let loaded = load_programs(&mut ebpf, &btf, options.attach)?;
        let (toctou, toctou_hook) = if options.toctou {
            match load_toctou(&mut ebpf, &btf, options.attach, options.entry_hook) {
                Ok(hook) => (Toctou::NotNeeded, hook),
                Err(e) => (Toctou::Unavailable(e.to_string()), ToctouHook::None),
            }
        } else {
            (Toctou::Disabled, ToctouHook::None)
        };
        let mut capture = Self {
            rings,
            interesting,
            counters,
            attach_mode: loaded,
            toctou,
            toctou_hook,
            data: Vec::with_capacity(1 << 20),
            order: Vec::with_capacity(4096),
            max_batch_events: options.max_batch_events,
            cpus_per_buffer: options.cpus_per_buffer,
            events_read: 0,
            pacing: Pacing::new(options.buffer_bytes),
            backlog: std::collections::VecDeque::new(),
            ebpf,
        };
        capture.sync_toctou(&options.interest, true);
        capture.attach_mode = attach_programs(&mut capture.ebpf, options.attach, loaded)?;
        Ok(capture)
    }

    /// Runs `work` on the calling thread while a helper thread drains the rings into memory,
    /// and returns what `work` returned. The events drained meanwhile are handed out by the
    /// next [`Capture::poll`]/[`Capture::drain`] calls, oldest first, before anything newer.
    ///
    /// For start-up work between [`Capture::open`] and the first poll (a `/proc` scan, say):
    /// under a heavy syscall load the rings fill within a fraction of a second, and every event
    /// they cannot hold is lost. Held events take memory, at most [`BACKLOG_MAX_BYTES`]; past
    /// that the helper stops draining and the kernel counts drops again. If the helper thread
    /// cannot be started, `work` runs alone.
    pub fn drain_while<T>(&mut self, work: impl FnOnce() -> T) -> T {
        self.drain_while_with(|| {}, work)
    }

    /// [`Capture::drain_while`], running `helper_start` first on the helper thread (named
    /// `frule-drain`), before it drains anything.
    ///
    /// For a caller that must know its own threads: a monitor that does not evaluate the
    /// syscalls of its own process registers the helper's thread id here. `helper_start` does
    /// not run when the helper thread cannot be started.
    pub fn drain_while_with<T>(
        &mut self,
        helper_start: impl FnOnce() + Send,
        work: impl FnOnce() -> T,
    ) -> T {
        let stop = AtomicBool::new(false);
        let rings = &mut self.rings;
        let backlog = &mut self.backlog;
        let (limit, cpus_per_buffer) = (self.max_batch_events, self.cpus_per_buffer);
        let mut pacing = self.pacing;
        thread::scope(|s| {
            // a helper the OS refuses to start leaves `work` alone (the scope joins the helper)
            let _ = thread::Builder::new()
                .name("frule-drain".into())
                .spawn_scoped(s, || {
                    helper_start();
                    let mut held = 0usize;
                    while !stop.load(Ordering::Acquire) && held < BACKLOG_MAX_BYTES {
                        thread::sleep(if pacing.hurry {
                            Duration::ZERO
                        } else {
                            pacing.pace
                        });
                        let mut chunk = Drained::default();
                        let (n, fullest) = fill_from(rings, &mut chunk, limit, cpus_per_buffer);
                        pacing.update(fullest, n, n >= limit);
                        if n > 0 {
                            held += chunk.data.len();
                            backlog.push_back(chunk);
                        }
                    }
                });
            // set even when `work` panics, so the scope's join does not wait forever
            let _stop = StopOnDrop(&stop);
            work()
        })
    }

    /// Attaches the loaded entry-time programs that `interest` needs (with `detach`, also
    /// detaches the ones it does not), so that a capture without open/openat/openat2/creat/connect
    /// costs no syscall an entry program, and with the classic tracepoints each of the five runs
    /// only while its own syscall is wanted. A failure to attach detaches every entry program and
    /// leaves [`Toctou::Unavailable`] with the reason.
    fn sync_toctou(&mut self, interest: &Interest, detach: bool) {
        let needed = interest.needs_entry_copy();
        let result = match &mut self.toctou_hook {
            ToctouHook::None => return,
            ToctouHook::Btf(link) => {
                if !needed && !detach {
                    return;
                }
                sync_toctou_btf(&mut self.ebpf, link, needed)
            }
            ToctouHook::Classic(links) => {
                let wanted = ENTRY_COPY_SYSCALLS.map(|nr| interest.contains_syscall(nr));
                sync_toctou_classic(&mut self.ebpf, links, wanted, detach)
            }
        };
        let attached = match &self.toctou_hook {
            ToctouHook::None => false,
            ToctouHook::Btf(link) => link.is_some(),
            ToctouHook::Classic(links) => links.iter().any(Option::is_some),
        };
        self.toctou = match result {
            Ok(()) if attached => Toctou::Active,
            Ok(()) => Toctou::NotNeeded,
            Err(e) => Toctou::Unavailable(e.to_string()),
        };
    }

    /// The tracepoints whose entry-time program is attached now (`sys_enter` for the
    /// `tp_btf` program; for the classic ones `sys_enter_open`, `sys_enter_creat`,
    /// `sys_enter_openat`, `sys_enter_openat2`, `sys_enter_connect`, in this order, those whose
    /// syscall is wanted): what [`Capture::set_interest`] left running.
    pub fn entry_hooks_attached(&self) -> Vec<&'static str> {
        match &self.toctou_hook {
            ToctouHook::None => Vec::new(),
            ToctouHook::Btf(link) => link.iter().map(|_| TOCTOU_BTF.1).collect(),
            ToctouHook::Classic(links) => TOCTOU_PROGRAMS
                .iter()
                .zip(links)
                .filter(|(_, link)| link.is_some())
                .map(|((_, hook), _)| *hook)
                .collect(),
        }
    }

    /// Which programs make the entry-time copies when they are needed ([`EntryHook::SysEnter`]
    /// or [`EntryHook::SyscallTracepoints`], never `Auto`); `None` when the copies are turned off
    /// or no entry program loaded.
    pub fn entry_hook(&self) -> Option<EntryHook> {
        match self.toctou_hook {
            ToctouHook::None => None,
            ToctouHook::Btf(_) => Some(EntryHook::SysEnter),
            ToctouHook::Classic(_) => Some(EntryHook::SyscallTracepoints),
        }
    }

    /// The hooks actually in use (after a fallback from `tp_btf`, [`AttachMode::RawTracepoint`]).
    pub fn attach_mode(&self) -> AttachMode {
        self.attach_mode
    }

    /// Whether paths and sockaddrs are copied at syscall entry.
    pub fn toctou(&self) -> &Toctou {
        &self.toctou
    }

    /// The number of ring buffers.
    pub fn ring_count(&self) -> usize {
        self.rings.len()
    }

    /// Replaces the set of captured syscalls; takes effect for the next syscall exit.
    pub fn set_interest(&mut self, interest: &Interest) -> Result<(), CaptureError> {
        // entry copies start before the exit side wants them and stop after it no longer does
        self.sync_toctou(interest, false);
        write_interest(&mut self.interesting, interest)?;
        self.sync_toctou(interest, true);
        Ok(())
    }

    /// Drains what the rings hold now, without waiting; the batch may be empty.
    pub fn drain(&mut self) -> Batch<'_> {
        self.fill();
        self.batch()
    }

    /// Waits up to `timeout` for events, then hands out what was drained.
    ///
    /// The reader paces itself instead of waking per event: before each drain it sleeps for
    /// the current pace, which doubles while the rings stay nearly empty (up
    /// to 30 ms, libscap's longest back-off) and halves when a drain finds a ring more than a
    /// quarter full; after such a drain the next one follows without sleeping. Under a steady
    /// load each wake-up therefore drains many events, and the rings keep ample headroom.
    pub fn poll(&mut self, timeout: Duration) -> Batch<'_> {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.pacing.hurry {
                let left = deadline.saturating_duration_since(Instant::now());
                thread::sleep(self.pacing.pace.min(left));
            }
            if self.fill() > 0 || Instant::now() >= deadline {
                break;
            }
        }
        self.batch()
    }

    /// Copies up to `max_batch_events` events out of the rings (or takes the oldest held
    /// chunk of [`Capture::drain_while`]) and orders them.
    fn fill(&mut self) -> usize {
        if let Some(chunk) = self.backlog.pop_front() {
            self.data = chunk.data;
            self.order = chunk.order;
            self.events_read += self.order.len() as u64;
            // what was held came from full rings: drain again without sleeping
            self.pacing.hurry = true;
            return self.order.len();
        }
        let mut chunk = Drained {
            data: std::mem::take(&mut self.data),
            order: std::mem::take(&mut self.order),
        };
        let limit = self.max_batch_events;
        let (n, fullest) = fill_from(&mut self.rings, &mut chunk, limit, self.cpus_per_buffer);
        self.data = chunk.data;
        self.order = chunk.order;
        self.events_read += n as u64;
        self.pacing.update(fullest, n, n >= limit);
        n
    }

    fn batch(&self) -> Batch<'_> {
        Batch {
            data: &self.data,
            order: self.order.iter(),
        }
    }

    /// The kernel's run statistics of every loaded program of this capture (`run_time_ns` and
    /// `run_cnt` of `bpftool prog show`), in object order. The kernel counts only while run-time
    /// statistics are on ([`RunTimeStats`]); the mean over all programs, total time over total
    /// runs, is the per-invocation figure Falco's libs publish for their driver.
    pub fn program_stats(&self) -> Vec<ProgramStats> {
        self.ebpf
            .programs()
            .filter_map(|(name, p)| {
                let info = p.info().ok()?;
                Some(ProgramStats {
                    name: name.to_owned(),
                    runs: info.run_count(),
                    run_time: info.run_time(),
                })
            })
            .collect()
    }

    /// Reads the kernel counters of every CPU.
    pub fn counters(&self) -> Result<Counters, CaptureError> {
        let values = self
            .counters
            .get(&0, 0)
            .map_err(|e| CaptureError::map("counters", e))?;
        Ok(Counters {
            per_cpu: values
                .iter()
                .map(|raw| CpuCounters::from_raw(*raw))
                .collect(),
            events_read: self.events_read,
        })
    }
}

/// Run statistics of one loaded eBPF program of a capture ([`Capture::program_stats`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramStats {
    /// The program's name in the object (`frule_sys_exit`, …).
    pub name: String,
    /// How many times it ran while statistics were on.
    pub runs: u64,
    /// Its total run time while statistics were on.
    pub run_time: Duration,
}

/// Keeps the kernel's eBPF run-time statistics on while it lives (`BPF_ENABLE_STATS`, the
/// scoped form of `sysctl kernel.bpf_stats_enabled=1`), and off again once dropped, even if the
/// process dies. The statistics cost every run of every eBPF program on the machine a clock read
/// or two, so measure slowdowns with them off.
#[derive(Debug)]
pub struct RunTimeStats {
    _fd: std::os::fd::OwnedFd,
}

impl RunTimeStats {
    /// Turns run-time statistics on (needs CAP_SYS_ADMIN).
    pub fn enable() -> Result<Self, CaptureError> {
        let fd =
            aya::sys::enable_stats(aya::sys::Stats::RunTime).map_err(|e| CaptureError::System {
                what: "BPF_ENABLE_STATS",
                source: e.io_error,
            })?;
        Ok(Self { _fd: fd })
    }
}

/// Clears `out`, copies up to `limit` events out of `rings` into it and orders them by timestamp
/// (stable: each ring's events are nearly sorted already, and the sort merges the runs). Returns
/// the number of events and the bytes taken from the fullest ring.
fn fill_from(
    rings: &mut [RingBuf<MapData>],
    out: &mut Drained,
    limit: usize,
    cpus_per_buffer: usize,
) -> (usize, usize) {
    out.data.clear();
    out.order.clear();
    let mut fullest = 0usize;
    for (index, ring) in rings.iter_mut().enumerate() {
        let cpu = u16::try_from(index * cpus_per_buffer).unwrap_or(u16::MAX);
        let mut bytes = 0usize;
        while out.order.len() < limit {
            let Some(item) = ring.next() else {
                break;
            };
            let bytes_of: &[u8] = &item;
            let ts = bytes_of
                .get(0..8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_le_bytes);
            out.order.push(Slot {
                ts,
                start: out.data.len(),
                len: bytes_of.len(),
                cpu,
            });
            out.data.extend_from_slice(bytes_of);
            // the ring's own 8-byte record header, rounded to 8 as the kernel does
            bytes += (bytes_of.len() + 8).next_multiple_of(8);
        }
        fullest = fullest.max(bytes);
    }
    out.order.sort_by_key(|s| s.ts);
    (out.order.len(), fullest)
}

/// How long the reader sleeps before its next drain.
///
/// Invariants: `MIN_PACE <= pace <= MAX_PACE`; `hurry` is set exactly when the last drain found
/// a ring more than a quarter full or hit the batch limit, and then the next drain does not
/// sleep. With 8 MiB rings and the 30 ms ceiling, a ring fills only above ≈ 270 MB/s per CPU,
/// and the pace halves long before: a drain that finds a quarter of a ring used.
#[derive(Debug, Clone, Copy)]
struct Pacing {
    pace: Duration,
    hurry: bool,
    ring_bytes: usize,
}

impl Pacing {
    const MIN_PACE: Duration = Duration::from_micros(100);
    const MAX_PACE: Duration = Duration::from_millis(30);

    fn new(ring_bytes: usize) -> Self {
        Pacing {
            pace: Duration::from_micros(500),
            hurry: false,
            ring_bytes,
        }
    }

    /// Adapts to a drain that took `fullest` bytes from its fullest ring and `events` in all.
    fn update(&mut self, fullest: usize, events: usize, at_limit: bool) {
        let quarter = self.ring_bytes / 4;
        let sixteenth = self.ring_bytes / 16;
        self.hurry = at_limit || fullest > quarter;
        if self.hurry {
            self.pace = (self.pace / 2).max(Self::MIN_PACE);
        } else if events == 0 || fullest < sixteenth {
            self.pace = (self.pace * 2).min(Self::MAX_PACE);
        }
    }
}

fn validate(o: &CaptureOptions) -> Result<(), CaptureError> {
    let page = page_size();
    if !o.buffer_bytes.is_power_of_two()
        || o.buffer_bytes < page
        || !o.buffer_bytes.is_multiple_of(page)
    {
        return Err(CaptureError::InvalidOption(format!(
            "buffer size {} must be a power of two and a multiple of the page size ({page})",
            o.buffer_bytes
        )));
    }
    if u32::try_from(o.buffer_bytes).is_err() {
        return Err(CaptureError::InvalidOption(format!(
            "buffer size {} is larger than 2 GiB",
            o.buffer_bytes
        )));
    }
    if o.snaplen > 4096 {
        return Err(CaptureError::InvalidOption(format!(
            "snaplen {} is larger than 4096",
            o.snaplen
        )));
    }
    if o.cpus_per_buffer == 0 {
        return Err(CaptureError::InvalidOption(
            "cpus per buffer must be at least 1".into(),
        ));
    }
    if o.max_batch_events == 0 {
        return Err(CaptureError::InvalidOption(
            "max batch events must be at least 1".into(),
        ));
    }
    Ok(())
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(v).unwrap_or(4096)
}

/// Root, or CAP_SYS_ADMIN, or CAP_BPF together with CAP_PERFMON (from /proc/self/status).
fn check_privileges() -> Result<(), CaptureError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        return Ok(());
    }
    let cap_eff = fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
    });
    let has = |bit: u32| cap_eff.is_some_and(|c| c & (1u64 << bit) != 0);
    const CAP_SYS_ADMIN: u32 = 21;
    const CAP_PERFMON: u32 = 38;
    const CAP_BPF: u32 = 39;
    if has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON)) {
        return Ok(());
    }
    Err(CaptureError::NotRoot { euid })
}

/// Nanoseconds between the epoch and boot: event time = this + CLOCK_BOOTTIME.
fn boot_time_ns() -> Result<u64, CaptureError> {
    let read = |clock| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: ts is a valid, writable timespec for the duration of the call.
        let r = unsafe { libc::clock_gettime(clock, &mut ts) };
        if r != 0 {
            return Err(CaptureError::System {
                what: "clock_gettime",
                source: std::io::Error::last_os_error(),
            });
        }
        Ok((ts.tv_sec as i128) * 1_000_000_000 + ts.tv_nsec as i128)
    };
    let real = read(libc::CLOCK_REALTIME)?;
    let boot = read(libc::CLOCK_BOOTTIME)?;
    Ok(u64::try_from(real - boot).unwrap_or(0))
}

fn load_error(e: aya::EbpfError) -> CaptureError {
    use aya::maps::MapError;
    if let aya::EbpfError::MapError(MapError::CreateError { io_error, .. }) = &e {
        match io_error.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => {
                // SAFETY: geteuid has no preconditions and cannot fail.
                let euid = unsafe { libc::geteuid() };
                return CaptureError::NotRoot { euid };
            }
            Some(libc::ENOSYS) => {
                return CaptureError::BpfUnavailable(std::io::Error::from_raw_os_error(
                    libc::ENOSYS,
                ));
            }
            _ => {}
        }
    }
    CaptureError::Load(Box::new(e))
}

fn create_ring(bytes: usize) -> Result<RingBuf<MapData>, CaptureError> {
    const BPF_MAP_TYPE_RINGBUF: u32 = 27;
    let def = aya_obj::maps::bpf_map_def {
        map_type: BPF_MAP_TYPE_RINGBUF,
        key_size: 0,
        value_size: 0,
        max_entries: u32::try_from(bytes).map_err(|_| {
            CaptureError::InvalidOption(format!("buffer size {bytes} is too large"))
        })?,
        map_flags: 0,
        id: 0,
        pinning: aya_obj::maps::PinningType::None,
    };
    let obj = aya_obj::Map::Legacy(aya_obj::maps::LegacyMap {
        def,
        inner_def: None,
        section_index: 0,
        section_kind: aya_obj::EbpfSectionKind::Maps,
        symbol_index: None,
        data: Vec::new(),
    });
    let data = MapData::create(obj, "frule_ring", None).map_err(|e| {
        if let aya::maps::MapError::CreateError { io_error, .. } = &e
            && matches!(
                io_error.raw_os_error(),
                Some(libc::EPERM) | Some(libc::EACCES)
            )
        {
            // SAFETY: geteuid has no preconditions and cannot fail.
            let euid = unsafe { libc::geteuid() };
            return CaptureError::NotRoot { euid };
        }
        CaptureError::map("frule_ring", e)
    })?;
    RingBuf::try_from(Map::RingBuf(data)).map_err(|e| CaptureError::map("frule_ring", e))
}

fn write_interest(map: &mut Array<MapData, u8>, interest: &Interest) -> Result<(), CaptureError> {
    let slots = interest.slots();
    for (i, v) in slots.iter().enumerate().take(INTERESTING_SIZE as usize) {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        map.set(i, *v, 0)
            .map_err(|e| CaptureError::map("interesting_syscalls", e))?;
    }
    Ok(())
}

/// Loads (verifies) the three main programs without attaching any: `tp_btf`, or `raw_tp` when
/// asked or, in [`AttachMode::Auto`], when a `tp_btf` program does not load. Returns the kind
/// loaded.
fn load_programs(ebpf: &mut Ebpf, btf: &Btf, mode: AttachMode) -> Result<AttachMode, CaptureError> {
    match mode {
        AttachMode::BtfTracepoint => load_btf(ebpf, btf).map(|()| AttachMode::BtfTracepoint),
        AttachMode::RawTracepoint => load_raw(ebpf).map(|()| AttachMode::RawTracepoint),
        AttachMode::Auto => match load_btf(ebpf, btf) {
            Ok(()) => Ok(AttachMode::BtfTracepoint),
            Err(btf_err) => {
                detach_all(ebpf);
                load_raw(ebpf)
                    .map(|()| AttachMode::RawTracepoint)
                    .map_err(|_| btf_err)
            }
        },
    }
}

/// Attaches the programs [`load_programs`] loaded (`loaded`), in [`BTF_PROGRAMS`] order. In
/// [`AttachMode::Auto`] a `tp_btf` attach failure unloads them and loads and attaches the
/// `raw_tp` ones instead. Returns the hooks in use.
fn attach_programs(
    ebpf: &mut Ebpf,
    requested: AttachMode,
    loaded: AttachMode,
) -> Result<AttachMode, CaptureError> {
    if loaded == AttachMode::RawTracepoint {
        return attach_raw(ebpf).map(|()| AttachMode::RawTracepoint);
    }
    match attach_btf(ebpf) {
        Ok(()) => Ok(AttachMode::BtfTracepoint),
        Err(btf_err) if requested == AttachMode::Auto => {
            detach_all(ebpf);
            load_raw(ebpf)
                .and_then(|()| attach_raw(ebpf))
                .map(|()| AttachMode::RawTracepoint)
                .map_err(|_| btf_err)
        }
        Err(e) => Err(e),
    }
}

fn load_btf(ebpf: &mut Ebpf, btf: &Btf) -> Result<(), CaptureError> {
    for (name, hook) in BTF_PROGRAMS {
        let prog: &mut BtfTracePoint = program(ebpf, name, hook)?;
        prog.load(hook, btf).map_err(attach_error(name, hook))?;
    }
    Ok(())
}

fn attach_btf(ebpf: &mut Ebpf) -> Result<(), CaptureError> {
    for (name, hook) in BTF_PROGRAMS {
        let prog: &mut BtfTracePoint = program(ebpf, name, hook)?;
        prog.attach().map_err(attach_error(name, hook))?;
    }
    Ok(())
}

/// Program `name` of the object as the program kind `P` (`tp_btf`, raw or classic tracepoint); a
/// missing program is an object error, a program of another kind an attach error on `hook`.
fn program<'a, P>(
    ebpf: &'a mut Ebpf,
    name: &'static str,
    hook: &'static str,
) -> Result<&'a mut P, CaptureError>
where
    &'a mut P: TryFrom<&'a mut Program, Error = ProgramError>,
{
    ebpf.program_mut(name)
        .ok_or(CaptureError::Object {
            kind: "program",
            name,
        })?
        .try_into()
        .map_err(attach_error(name, hook))
}

/// Wraps what aya reports about program `name` on `hook` (load, attach or detach).
fn attach_error(
    name: &'static str,
    hook: &'static str,
) -> impl Fn(ProgramError) -> CaptureError + Copy {
    move |e| CaptureError::Attach {
        program: name,
        hook,
        source: Box::new(e),
    }
}

/// The classic entry-time programs: (name in the object, tracepoint), one per syscall of
/// [`ENTRY_COPY_SYSCALLS`], in its order.
const TOCTOU_PROGRAMS: [(&str, &str); ENTRY_COPY_SYSCALLS.len()] = [
    ("frule_toctou_open", "sys_enter_open"),
    ("frule_toctou_creat", "sys_enter_creat"),
    ("frule_toctou_openat", "sys_enter_openat"),
    ("frule_toctou_openat2", "sys_enter_openat2"),
    ("frule_toctou_connect", "sys_enter_connect"),
];
/// Loads the syscall-entry copy programs without attaching them (see [`EntryHook`] for the
/// choice): the classic `syscalls:sys_enter_*` tracepoints (whose attach, later, needs
/// tracefs), or the `tp_btf/sys_enter` program where BTF tracepoints may be used, which is also
/// the fallback of [`EntryHook::Auto`] when tracefs lacks the syscall tracepoints.
fn load_toctou(
    ebpf: &mut Ebpf,
    btf: &Btf,
    mode: AttachMode,
    hook: EntryHook,
) -> Result<ToctouHook, CaptureError> {
    let sys_enter = match hook {
        EntryHook::SysEnter => true,
        EntryHook::SyscallTracepoints => false,
        EntryHook::Auto => !syscall_tracepoints_available(),
    };
    if sys_enter && mode != AttachMode::RawTracepoint {
        match load_toctou_btf(ebpf, btf) {
            Ok(()) => return Ok(ToctouHook::Btf(None)),
            Err(e) if mode == AttachMode::BtfTracepoint => return Err(e),
            Err(_) => {
                if let Some(p) = ebpf.program_mut(TOCTOU_BTF.0)
                    && let Ok(p) = <&mut BtfTracePoint>::try_from(p)
                {
                    let _ = p.unload();
                }
            }
        }
    }
    load_toctou_classic(ebpf)?;
    Ok(ToctouHook::Classic([const { None }; TOCTOU_PROGRAMS.len()]))
}

const TOCTOU_BTF: (&str, &str) = ("frule_sys_enter", "sys_enter");

/// Whether tracefs (where aya looks for it) lists the classic syscall-entry tracepoints: they
/// exist only on kernels built with `CONFIG_FTRACE_SYSCALLS` and are attached by the id tracefs
/// gives.
fn syscall_tracepoints_available() -> bool {
    ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        .iter()
        .any(|root| {
            TOCTOU_PROGRAMS.iter().all(|(_, hook)| {
                std::path::Path::new(root)
                    .join("events/syscalls")
                    .join(hook)
                    .join("id")
                    .exists()
            })
        })
}

fn toctou_btf_program(ebpf: &mut Ebpf) -> Result<&mut BtfTracePoint, CaptureError> {
    let (name, hook) = TOCTOU_BTF;
    program(ebpf, name, hook)
}

fn load_toctou_btf(ebpf: &mut Ebpf, btf: &Btf) -> Result<(), CaptureError> {
    let (name, hook) = TOCTOU_BTF;
    toctou_btf_program(ebpf)?
        .load(hook, btf)
        .map_err(attach_error(name, hook))
}

fn sync_toctou_btf(
    ebpf: &mut Ebpf,
    link: &mut Option<BtfTracePointLinkId>,
    needed: bool,
) -> Result<(), CaptureError> {
    let (name, hook) = TOCTOU_BTF;
    let wrap = attach_error(name, hook);
    let prog = toctou_btf_program(ebpf)?;
    match (needed, link.take()) {
        (true, None) => *link = Some(prog.attach().map_err(wrap)?),
        (false, Some(id)) => prog.detach(id).map_err(wrap)?,
        (_, kept) => *link = kept,
    }
    Ok(())
}

fn toctou_classic_program<'a>(
    ebpf: &'a mut Ebpf,
    name: &'static str,
    hook: &'static str,
) -> Result<&'a mut TracePoint, CaptureError> {
    program(ebpf, name, hook)
}

fn load_toctou_classic(ebpf: &mut Ebpf) -> Result<(), CaptureError> {
    for (name, hook) in TOCTOU_PROGRAMS {
        toctou_classic_program(ebpf, name, hook)?
            .load()
            .map_err(attach_error(name, hook))?;
    }
    Ok(())
}

/// Attaches each classic entry tracepoint whose syscall is `wanted` and, with `detach`,
/// detaches the others. On a failure every one is detached again: the copies are then
/// [`Toctou::Unavailable`] as a whole rather than present for some syscalls only.
fn sync_toctou_classic(
    ebpf: &mut Ebpf,
    links: &mut [Option<TracePointLinkId>; TOCTOU_PROGRAMS.len()],
    wanted: [bool; TOCTOU_PROGRAMS.len()],
    detach: bool,
) -> Result<(), CaptureError> {
    let mut failed = None;
    for (((name, hook), link), want) in TOCTOU_PROGRAMS
        .into_iter()
        .zip(links.iter_mut())
        .zip(wanted)
    {
        match (want, link.take()) {
            (true, None) => {
                match toctou_classic_program(ebpf, name, hook)
                    .and_then(|p| p.attach("syscalls", hook).map_err(attach_error(name, hook)))
                {
                    Ok(id) => *link = Some(id),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            (false, Some(id)) if detach => {
                let _ = toctou_classic_program(ebpf, name, hook).map(|p| p.detach(id));
            }
            (_, kept) => *link = kept,
        }
    }
    let Some(e) = failed else {
        return Ok(());
    };
    for ((name, hook), link) in TOCTOU_PROGRAMS.into_iter().zip(links.iter_mut()) {
        if let Some(id) = link.take() {
            let _ = toctou_classic_program(ebpf, name, hook).map(|p| p.detach(id));
        }
    }
    Err(e)
}

fn load_raw(ebpf: &mut Ebpf) -> Result<(), CaptureError> {
    for (name, hook) in RAW_PROGRAMS {
        let prog: &mut RawTracePoint = program(ebpf, name, hook)?;
        prog.load().map_err(attach_error(name, hook))?;
    }
    Ok(())
}

fn attach_raw(ebpf: &mut Ebpf) -> Result<(), CaptureError> {
    for (name, hook) in RAW_PROGRAMS {
        let prog: &mut RawTracePoint = program(ebpf, name, hook)?;
        prog.attach(hook).map_err(attach_error(name, hook))?;
    }
    Ok(())
}

/// Unloads whatever `tp_btf` programs were loaded before a fallback, so no event is
/// produced twice.
fn detach_all(ebpf: &mut Ebpf) {
    for (name, _) in BTF_PROGRAMS {
        if let Some(p) = ebpf.program_mut(name)
            && let Ok(p) = <&mut BtfTracePoint>::try_from(p)
        {
            let _ = p.unload();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_validated_with_a_reason() {
        let page = page_size();
        let cases: [(usize, usize, usize, Option<&str>); 6] = [
            (8 << 20, 1, 1, None),
            (page, 2, 1, None),
            (3 << 20, 1, 1, Some("power of two")),
            (page / 2, 1, 1, Some("multiple of the page size")),
            (8 << 20, 0, 1, Some("cpus per buffer")),
            (8 << 20, 1, 0, Some("max batch events")),
        ];
        for (buffer_bytes, cpus_per_buffer, max_batch_events, want) in cases {
            let o = CaptureOptions {
                buffer_bytes,
                cpus_per_buffer,
                max_batch_events,
                ..CaptureOptions::default()
            };
            match (validate(&o), want) {
                (Ok(()), None) => {}
                (Err(e), Some(w)) => assert!(e.to_string().contains(w), "{e} lacks {w}"),
                (r, w) => panic!("{buffer_bytes}/{cpus_per_buffer}: got {r:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn pacing_backs_off_when_idle_and_hurries_under_pressure() {
        let ring = 8 << 20;
        let mut p = Pacing::new(ring);
        // (bytes from the fullest ring, events, batch limit hit) -> (pace in µs, hurry)
        type Step = ((usize, usize, bool), (u64, bool));
        let steps: [Step; 8] = [
            ((0, 0, false), (1000, false)),
            ((4096, 40, false), (2000, false)),
            ((0, 0, false), (4000, false)),
            ((ring / 8, 10_000, false), (4000, false)),
            ((ring / 2, 50_000, false), (2000, true)),
            ((ring / 2, 50_000, false), (1000, true)),
            ((100, 1, true), (500, true)),
            ((0, 0, false), (1000, false)),
        ];
        for (i, ((fullest, events, limit), (pace, hurry))) in steps.into_iter().enumerate() {
            p.update(fullest, events, limit);
            assert_eq!(
                (p.pace.as_micros() as u64, p.hurry),
                (pace, hurry),
                "step {i}"
            );
        }
        for _ in 0..20 {
            p.update(0, 0, false);
        }
        assert_eq!(p.pace, Pacing::MAX_PACE);
        for _ in 0..20 {
            p.update(ring, 1, false);
        }
        assert_eq!(p.pace, Pacing::MIN_PACE);
    }

    #[test]
    fn counters_sum_over_cpus_and_drops_add_every_reason() {
        let a = CpuCounters::from_raw([10, 1, 2, 3, 4, 1, 0, 0, 0, 7]);
        let b = CpuCounters::from_raw([5, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
        let c = Counters {
            per_cpu: vec![a, b],
            events_read: 15,
        };
        let t = c.total();
        assert_eq!(t.events, 15);
        assert_eq!(t.drops(), 1 + 2 + 3 + 5);
        assert_eq!(t.toctou_used, 7);
    }
}
