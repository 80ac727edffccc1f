//! Writing `.scap` capture files that frule, current falcosecurity/libs and Debian's sysdig 0.29.3
//! (libs commit e5c53d64, 2022) all read.
//!
//! A capture is written in libscap's order (spec capture-and-scap.md §3): a section header
//! (version 1.2), then the state blocks — machine info, interface list, user list, process list, one
//! fd list per thread — then event blocks. [`ScapWriter`] enforces that order: state blocks may only
//! be written before the first event, because a reader treats any non-event block after the events
//! as the start of a concatenated capture.
//!
//! ```no_run
//! use frule_runtime::scap::{ScapReader, ScapWriter, WriterOptions};
//!
//! // rewrite a capture (replay → write) so that sysdig 0.29.3 reads it like frule does
//! let mut reader = ScapReader::open("in.scap")?;
//! let mut writer = ScapWriter::create("out.scap.gz", WriterOptions::sysdig_compat().gzip())?;
//! writer.write_state(reader.state())?;
//! while let Some(record) = reader.next_event()? {
//!     writer.write_record(&record)?;
//! }
//! writer.finish()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Live capture writes its /proc scan with [`ScapWriter::write_processes`] and
//! [`ScapWriter::write_fds`], then the raw events with [`ScapWriter::write_event`].
//!
//! Block versions are the newest ones *both* generations of readers understand: `MI`, `IL_V2`,
//! `UL_V2`, `PL_V9`, `FDL_V2`, and `EV_V2`/`EVF_V2` (with their `_LARGE` variants for the event
//! types whose parameter lengths are `u32`).
//!
//! # Compatibility with sysdig 0.29.3
//!
//! What the old reader does with what current libs produce (checked against `sysdig -r`, see
//! `tests/scap_writer.rs`), and what [`WriterOptions`] does about it:
//!
//! - **Process-list tail.** Libs 0.10 *inserted* `pidns_init_start_ts` and `tty` before
//!   `loginuid`, so sysdig 0.29.3 reads a current entry's `loginuid` from the wrong bytes.
//!   [`ProcLayout::Compat`] writes the pre-0.10 tail (`loginuid`, `exe_writable`, three capability
//!   sets) that both read identically, dropping the fields only current libs know (`tty`,
//!   `pidns_init_start_ts`, `exe_ino*`, overlay flags, `pgid`); [`ProcLayout::Current`] writes
//!   everything, for readers of current libs and frule.
//! - **Event codes at or above 336** (Debian's `PPM_EVENT_MAX`) are skipped silently by the old
//!   reader. With [`WriterOptions::skip_unknown_to_sysdig`] the writer leaves them out, so that
//!   frule and sysdig see the same events in the file.
//! - **Extra exit parameters** (current libs append parameters to exit events): the old libsinsp
//!   parses `min(table count, nparams)` parameters and ignores the rest, so they are harmless and
//!   kept by default; [`WriterOptions::trim_params`] cuts them to Debian's counts for byte-exact
//!   old-style files.
//! - **Exit-only events**: sysdig 0.29.3 takes some facts from the enter event only. Measured:
//!   with exit events alone, `fd.name` of `openat`/`read`/`close` is still resolved (the current
//!   exit events carry `fd`), but `proc.exepath` stays empty (it comes from the `execve` enter
//!   event's `filename`), and enter-only lines are missing from sysdig's output.
//!   [`WriterOptions::synthesize_enter`] writes, before an exit event whose enter event was not
//!   written for that thread, an enter event with the same timestamp whose parameters are copied
//!   by name from the exit event as given. It is off by default because on captures that do have
//!   enter events it would add events for syscalls caught mid-flight.
//! - **Fd types above 16** (bpf, userfaultfd, io_uring, memfd, pidfd) make the old reader fail the
//!   whole file ("wrong fd type"). With `skip_unknown_to_sysdig` they are written as
//!   `SCAP_FD_UNSUPPORTED` with their name: sysdig shows the name (and `fd.type` `<NA>`).
//! - **Newer events of old syscalls**: current libs split `dup` into `dup`/`dup2`/`dup3` events, and
//!   added `accept4`, `umount2`, `pipe2` and several syscalls (`chown`, `setreuid`,
//!   `memfd_create`, …) with codes ≥ 336, which our live capture emits.
//!   [`WriterOptions::downgrade_events`] rewrites them as the event sysdig 0.29.3 itself records
//!   for that syscall: the old event of the same syscall with its parameters taken by name, or a
//!   generic syscall exit (`GENERIC_X` with the `PPM_SC` id) for syscalls Debian's driver had no
//!   event for. Syscalls without an id in Debian's table (`memfd_create`, …) stay as they are,
//!   and `skip_unknown_to_sysdig` leaves them out.
//!
//! [`WriterOptions::sysdig_compat`] turns on all of the above except trimming and enter synthesis.
//!
//! Invariants of a written file:
//!
//! - every block is padded to 4 bytes and its trailer repeats its total length;
//! - string fields are truncated to the limits libscap's readers enforce (paths 1023 bytes in fd
//!   lists, 1024 in process lists, args/env/cgroups 4096, user and group names 255), as libscap's
//!   own writer does with `strnlen`;
//! - non-large event blocks never exceed the 64 KiB readers accept; a larger event is an error.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use frule_lang::events::{self, Category};

use super::meta::{FdInfo, FdKind, GroupInfo, Interface, InterfaceAddr, MachineInfo, ProcInfo};
use super::meta::{UserInfo, block};
use super::{CaptureState, EventRecord};
use crate::event::{Event, EventError, HEADER_LEN};

/// Debian's (libs e5c53d64) `PPM_EVENT_MAX`: the first event code sysdig 0.29.3 does not know.
pub const SYSDIG_029_EVENT_MAX: u16 = 336;

/// Parameter counts of Debian's event table (libs e5c53d64 `driver/event_table.c`), by code.
const SYSDIG_029_NPARAMS: [u8; SYSDIG_029_EVENT_MAX as usize] = [
    2, 1, 3, 5, 1, 1, 2, 2, 2, 2, 1, 1, 0, 8, 0, 11, //
    0, 0, 3, 1, 1, 2, 2, 2, 2, 1, 0, 3, 2, 2, 3, 2, //
    2, 2, 2, 3, 2, 1, 0, 0, 0, 0, 3, 5, 0, 6, 0, 6, //
    3, 2, 0, 0, 1, 4, 0, 0, 1, 3, 2, 4, 0, 4, 2, 1, //
    3, 1, 0, 2, 0, 2, 1, 1, 0, 2, 0, 2, 1, 1, 1, 1, //
    2, 2, 0, 1, 0, 1, 3, 1, 3, 1, 2, 1, 0, 2, 0, 2, //
    1, 1, 2, 1, 1, 1, 4, 1, 2, 1, 4, 1, 1, 1, 2, 1, //
    3, 2, 3, 2, 1, 3, 2, 2, 2, 3, 3, 2, 1, 1, 3, 1, //
    2, 1, 2, 1, 3, 1, 1, 1, 2, 1, 1, 1, 1, 3, 1, 3, //
    2, 5, 1, 0, 1, 1, 2, 1, 6, 0, 0, 13, 0, 16, 1, 4, //
    6, 4, 6, 4, 2, 4, 4, 1, 2, 3, 3, 1, 0, 14, 0, 3, //
    0, 5, 0, 3, 0, 4, 0, 16, 0, 16, 4, 0, 4, 2, 4, 14, //
    3, 1, 3, 1, 2, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, //
    0, 1, 0, 4, 0, 4, 0, 15, 0, 17, 0, 17, 0, 17, 0, 20, //
    0, 20, 0, 20, 4, 0, 0, 16, 3, 0, 2, 0, 1, 1, 1, 1, //
    2, 1, 2, 1, 2, 0, 0, 5, 1, 5, 1, 8, 4, 1, 3, 2, //
    1, 4, 1, 2, 1, 0, 3, 1, 1, 2, 0, 2, 3, 3, 1, 0, //
    1, 0, 0, 1, 1, 2, 0, 2, 2, 0, 0, 17, 1, 1, 4, 0, //
    1, 17, 3, 0, 1, 20, 2, 1, 1, 1, 1, 1, 0, 2, 0, 4, //
    0, 4, 4, 6, 0, 3, 0, 6, 0, 4, 0, 3, 0, 3, 0, 6, //
    0, 2, 2, 0, 1, 0, 5, 6, 3, 1, 3, 20, 3, 3, 0, 20, //
];

/// libscap's `SCAP_MAX_PATH_SIZE`.
const MAX_PATH: usize = 1024;
/// libscap's `SCAP_MAX_ARGS_SIZE` (also env and cgroups).
const MAX_ARGS: usize = 4096;
/// libscap's `MAX_CREDENTIALS_STR_LEN`, less the NUL its readers need.
const MAX_CREDENTIAL: usize = 255;
/// libscap's `READER_BUF_SIZE`: the largest non-large event block, without the block header.
const NON_LARGE_EVENT_MAX: usize = 1 << 16;
/// `SCAP_FD_UNSUPPORTED`.
const FD_UNSUPPORTED: u8 = 10;
/// The highest fd type sysdig 0.29.3 reads (`SCAP_FD_FILE_V2`).
const FD_SYSDIG_029_MAX: u8 = 16;
/// `PPME_PROCEXIT_E` and `PPME_PROCEXIT_1_E`: a thread's last event.
const PROCEXIT_CODES: [u16; 2] = [186, 310];

/// Which tail of process-list entries to write (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcLayout {
    /// Every field current libs know (`pidns_init_start_ts`, `tty` before `loginuid`, then the
    /// capability sets, exe inode data, `pgid`). Lossless for frule and current libs; sysdig 0.29.3
    /// reads `loginuid` and `exe_writable` wrong.
    #[default]
    Current,
    /// The pre-0.10 tail: `loginuid`, `exe_writable`, the three capability sets. Read identically by
    /// both generations; the newer fields are not written.
    Compat,
}

/// Whether the whole file is gzip-compressed (both generations of readers detect it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Plain blocks.
    #[default]
    None,
    /// One gzip stream at the default level.
    Gzip,
}

/// How a [`ScapWriter`] writes. `Default` writes exactly what it is given (lossless for frule and
/// current libs); [`WriterOptions::sysdig_compat`] makes files sysdig 0.29.3 reads like frule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterOptions {
    /// Compression of the whole file.
    pub compression: Compression,
    /// Process-list layout.
    pub proc_layout: ProcLayout,
    /// Leave out events with codes sysdig 0.29.3 does not know (≥ [`SYSDIG_029_EVENT_MAX`]) and
    /// write fds of types it does not know as unsupported ones.
    pub skip_unknown_to_sysdig: bool,
    /// Rewrite events with codes sysdig 0.29.3 does not know as the Debian-era event of the same
    /// syscall (`dup2`/`dup3` → `dup`, `accept4` → `accept`, `umount2` → `umount`,
    /// `pipe2` → `pipe`, …), or as a generic syscall exit (`chown`, `memfd_create`, …), when every
    /// parameter of the old event is in the new one. Applied before `skip_unknown_to_sysdig`.
    pub downgrade_events: bool,
    /// Cut event parameters to Debian's counts (sysdig ignores extra ones anyway).
    pub trim_params: bool,
    /// Write an enter event before an exit event whose enter was not written (exit-only input).
    pub synthesize_enter: bool,
}

impl WriterOptions {
    /// Options for files that sysdig 0.29.3 and current libs read with the same events and fields:
    /// the compat process-list layout, and events and fd types sysdig does not know left out.
    pub fn sysdig_compat() -> WriterOptions {
        WriterOptions {
            compression: Compression::None,
            proc_layout: ProcLayout::Compat,
            skip_unknown_to_sysdig: true,
            downgrade_events: true,
            trim_params: false,
            synthesize_enter: false,
        }
    }

    /// The same options with gzip compression.
    pub fn gzip(self) -> WriterOptions {
        WriterOptions {
            compression: Compression::Gzip,
            ..self
        }
    }
}

/// Writing a capture failed. What the caller can do: report it; an `Io` error leaves a partial
/// file, the other kinds leave the file as it was before the call (nothing of the rejected item was
/// written), so writing may go on.
#[derive(Debug)]
pub enum WriteError {
    /// Creating, writing or flushing the output failed.
    Io(std::io::Error),
    /// A state block was written after the first event (readers would take it for the start of a
    /// concatenated capture).
    StateAfterEvents {
        /// The block that came too late.
        block: &'static str,
    },
    /// The bytes given to `write_event` are not a well-formed event.
    Event(EventError),
    /// An event is too large for its block type (non-large blocks hold at most 64 KiB).
    EventTooLarge {
        /// The event code.
        event_type: u16,
        /// The event's length.
        len: usize,
    },
    /// A block would exceed the 4 GiB a block length can express.
    BlockTooLarge {
        /// The block.
        block: &'static str,
    },
    /// `finish` was called without any event written: readers reject such a file ("no events in
    /// file"). The file has been written and flushed all the same.
    NoEvents,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Io(e) => write!(f, "error writing capture: {e}"),
            WriteError::StateAfterEvents { block } => write!(
                f,
                "cannot write the {block} after events: state blocks must precede the first event"
            ),
            WriteError::Event(e) => write!(f, "cannot write event: {e}"),
            WriteError::EventTooLarge { event_type, len } => write!(
                f,
                "event of type {event_type} with length {len} is greater than the non-large block limit {NON_LARGE_EVENT_MAX}"
            ),
            WriteError::BlockTooLarge { block } => {
                write!(f, "the {block} is larger than a block can be (4 GiB)")
            }
            WriteError::NoEvents => write!(f, "no events in file: readers will reject the capture"),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Io(e) => Some(e),
            WriteError::Event(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// Where the bytes go: plain or through gzip.
enum Sink<W: Write> {
    Plain(BufWriter<W>),
    Gzip(flate2::write::GzEncoder<BufWriter<W>>),
}

impl<W: Write> Sink<W> {
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(b),
            Sink::Gzip(w) => w.write_all(b),
        }
    }

    fn finish(self) -> std::io::Result<W> {
        let buf = match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w.finish()?,
        };
        buf.into_inner().map_err(|e| e.into_error())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}

/// Counts of what a writer did, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Event blocks written (synthesized enter events included).
    pub events_written: u64,
    /// Events left out because sysdig 0.29.3 does not know their code.
    pub events_skipped: u64,
    /// Enter events synthesized from exit events.
    pub enters_synthesized: u64,
    /// Events whose parameters were cut to Debian's counts.
    pub events_trimmed: u64,
    /// Events rewritten as Debian-era events.
    pub events_downgraded: u64,
}

/// A streaming writer of one capture. Create it, write the state (optional), write events, then
/// [`ScapWriter::finish`].
pub struct ScapWriter<W: Write> {
    sink: Option<Sink<W>>,
    options: WriterOptions,
    in_events: bool,
    stats: WriterStats,
    /// The last event code written per thread (for enter synthesis).
    last_type: HashMap<u64, u16>,
    scratch: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for ScapWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScapWriter")
            .field("options", &self.options)
            .field("in_events", &self.in_events)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl ScapWriter<std::fs::File> {
    /// Creates (or truncates) the file at `path` and writes the section header.
    pub fn create(
        path: impl AsRef<Path>,
        options: WriterOptions,
    ) -> Result<ScapWriter<std::fs::File>, WriteError> {
        let file = std::fs::File::create(path.as_ref())?;
        ScapWriter::new(file, options)
    }
}

impl<W: Write> ScapWriter<W> {
    /// Starts a capture on any byte sink and writes the section header.
    pub fn new(out: W, options: WriterOptions) -> Result<ScapWriter<W>, WriteError> {
        let buf = BufWriter::with_capacity(1 << 16, out);
        let sink = match options.compression {
            Compression::None => Sink::Plain(buf),
            Compression::Gzip => Sink::Gzip(flate2::write::GzEncoder::new(
                buf,
                flate2::Compression::default(),
            )),
        };
        let mut w = ScapWriter {
            sink: Some(sink),
            options,
            in_events: false,
            stats: WriterStats::default(),
            last_type: HashMap::new(),
            scratch: Vec::new(),
        };
        let mut body = Vec::with_capacity(16);
        body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&2u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        w.write_block(block::SHB, &body, "section header")?;
        Ok(w)
    }

    /// What was written so far.
    pub fn stats(&self) -> WriterStats {
        self.stats
    }

    /// The options this writer was created with.
    pub fn options(&self) -> WriterOptions {
        self.options
    }

    fn sink(&mut self) -> std::io::Result<&mut Sink<W>> {
        self.sink
            .as_mut()
            .ok_or_else(|| std::io::Error::other("capture writer already finished"))
    }

    /// Frames `body` as one block and writes it.
    fn write_block(&mut self, t: u32, body: &[u8], what: &'static str) -> Result<(), WriteError> {
        self.write_block_parts(t, &[body], what)
    }

    /// Frames the concatenation of `parts` as one block and writes it without copying the parts
    /// (the sink buffers).
    fn write_block_parts(
        &mut self,
        t: u32,
        parts: &[&[u8]],
        what: &'static str,
    ) -> Result<(), WriteError> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let padded = len.div_ceil(4) * 4;
        let total =
            u32::try_from(8 + padded + 4).map_err(|_| WriteError::BlockTooLarge { block: what })?;
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&t.to_le_bytes());
        head[4..].copy_from_slice(&total.to_le_bytes());
        let mut tail = [0u8; 7];
        let pad = padded - len;
        tail[pad..pad + 4].copy_from_slice(&total.to_le_bytes());
        let sink = self.sink()?;
        sink.write_all(&head)?;
        for p in parts {
            sink.write_all(p)?;
        }
        sink.write_all(&tail[..pad + 4])?;
        Ok(())
    }

    fn check_state(&self, what: &'static str) -> Result<(), WriteError> {
        if self.in_events {
            return Err(WriteError::StateAfterEvents { block: what });
        }
        Ok(())
    }

    /// Writes every state block of `state` in libscap's order (the round trip of a replayed
    /// capture): machine info (if any), interfaces and users (if any), processes, fds.
    pub fn write_state(&mut self, state: &CaptureState) -> Result<(), WriteError> {
        if let Some(mi) = &state.machine {
            self.write_machine_info(mi)?;
        }
        if !state.interfaces.is_empty() {
            self.write_interfaces(&state.interfaces)?;
        }
        if !state.users.is_empty() || !state.groups.is_empty() {
            self.write_users(&state.users, &state.groups)?;
        }
        if !state.processes.is_empty() {
            self.write_processes(&state.processes)?;
        }
        self.write_fds(&state.fds)
    }

    /// Writes the machine info block.
    pub fn write_machine_info(&mut self, mi: &MachineInfo) -> Result<(), WriteError> {
        self.check_state("machine info")?;
        let mut b = Vec::with_capacity(180);
        b.extend_from_slice(&mi.num_cpus.to_le_bytes());
        b.extend_from_slice(&mi.memory_size_bytes.to_le_bytes());
        b.extend_from_slice(&mi.max_pid.to_le_bytes());
        let mut host = [0u8; 128];
        let name = mi.hostname.as_bytes();
        let n = name.len().min(127);
        host[..n].copy_from_slice(&name[..n]);
        b.extend_from_slice(&host);
        b.extend_from_slice(&mi.boot_ts_epoch.to_le_bytes());
        b.extend_from_slice(&mi.flags.to_le_bytes());
        b.extend_from_slice(&[0u8; 16]);
        self.write_block(block::MI, &b, "machine info")
    }

    /// Writes the interface list (`IL_V2`).
    pub fn write_interfaces(&mut self, list: &[Interface]) -> Result<(), WriteError> {
        self.check_state("interface list")?;
        let mut b = Vec::new();
        for i in list {
            let name = truncated(i.name.as_bytes(), MAX_PATH - 1);
            let (ty, addrs): (u16, usize) = match i.addr {
                InterfaceAddr::V4 { .. } => (1, 12),
                InterfaceAddr::V6 { .. } => (2, 48),
            };
            // the entry length does not count itself
            let entrylen = 2 + 2 + addrs + 8 + name.len();
            put_u32(&mut b, entrylen as u32);
            b.extend_from_slice(&ty.to_le_bytes());
            b.extend_from_slice(&(name.len() as u16).to_le_bytes());
            match &i.addr {
                InterfaceAddr::V4 {
                    addr,
                    netmask,
                    bcast,
                } => {
                    put_u32(&mut b, *addr);
                    put_u32(&mut b, *netmask);
                    put_u32(&mut b, *bcast);
                }
                InterfaceAddr::V6 {
                    addr,
                    netmask,
                    bcast,
                } => {
                    b.extend_from_slice(addr);
                    b.extend_from_slice(netmask);
                    b.extend_from_slice(bcast);
                }
            }
            b.extend_from_slice(&i.linkspeed.to_le_bytes());
            b.extend_from_slice(name);
        }
        self.write_block(block::IL_V2, &b, "interface list")
    }

    /// Writes the user and group list (`UL_V2`).
    pub fn write_users(
        &mut self,
        users: &[UserInfo],
        groups: &[GroupInfo],
    ) -> Result<(), WriteError> {
        self.check_state("user list")?;
        let mut b = Vec::new();
        for u in users {
            let start = b.len();
            put_u32(&mut b, 0);
            b.push(0);
            put_u32(&mut b, u.uid);
            put_u32(&mut b, u.gid);
            put_lstr(&mut b, u.name.as_bytes(), MAX_CREDENTIAL);
            put_lstr(&mut b, u.homedir.as_bytes(), MAX_CREDENTIAL);
            put_lstr(&mut b, u.shell.as_bytes(), MAX_CREDENTIAL);
            patch_len(&mut b, start);
        }
        for g in groups {
            let start = b.len();
            put_u32(&mut b, 0);
            b.push(1);
            put_u32(&mut b, g.gid);
            put_lstr(&mut b, g.name.as_bytes(), MAX_CREDENTIAL);
            patch_len(&mut b, start);
        }
        self.write_block(block::UL_V2, &b, "user list")
    }

    /// Writes the process list (`PL_V9`) with the configured [`ProcLayout`].
    pub fn write_processes(&mut self, procs: &[ProcInfo]) -> Result<(), WriteError> {
        self.check_state("process list")?;
        let mut b = Vec::new();
        for p in procs {
            let start = b.len();
            put_u32(&mut b, 0);
            for v in [p.tid, p.pid, p.ptid, p.sid as u64, p.vpgid as u64] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            put_lstr(&mut b, &p.comm, MAX_PATH);
            put_lstr(&mut b, &p.exe, MAX_PATH);
            put_lstr(&mut b, &p.exepath, MAX_PATH);
            put_lstr(&mut b, &p.args, MAX_ARGS);
            put_lstr(&mut b, &p.cwd, MAX_PATH);
            b.extend_from_slice(&p.fdlimit.to_le_bytes());
            for v in [p.flags, p.uid, p.gid, p.vmsize_kb, p.vmrss_kb, p.vmswap_kb] {
                put_u32(&mut b, v);
            }
            b.extend_from_slice(&p.pfmajor.to_le_bytes());
            b.extend_from_slice(&p.pfminor.to_le_bytes());
            put_lstr(&mut b, &p.env, MAX_ARGS);
            b.extend_from_slice(&p.vtid.to_le_bytes());
            b.extend_from_slice(&p.vpid.to_le_bytes());
            put_lstr(&mut b, &p.cgroups, MAX_ARGS);
            put_lstr(&mut b, &p.root, MAX_PATH);
            if self.options.proc_layout == ProcLayout::Current {
                b.extend_from_slice(&p.pidns_init_start_ts.to_le_bytes());
                put_u32(&mut b, p.tty);
            }
            put_u32(&mut b, p.loginuid);
            b.push(u8::from(p.exe_writable));
            for v in [p.cap_inheritable, p.cap_permitted, p.cap_effective] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            if self.options.proc_layout == ProcLayout::Current {
                b.push(u8::from(p.exe_upper_layer));
                for v in [p.exe_ino, p.exe_ino_ctime, p.exe_ino_mtime] {
                    b.extend_from_slice(&v.to_le_bytes());
                }
                b.push(u8::from(p.exe_from_memfd));
                b.push(u8::from(p.exe_lower_layer));
                b.extend_from_slice(&p.pgid.to_le_bytes());
            }
            patch_len(&mut b, start);
        }
        self.write_block(block::PL_V9, &b, "process list")
    }

    /// Writes the fd lists (`FDL_V2`): one block per run of fds of the same thread, in order.
    pub fn write_fds(&mut self, fds: &[FdInfo]) -> Result<(), WriteError> {
        self.check_state("fd list")?;
        for run in fds.chunk_by(|a, b| a.tid == b.tid) {
            let Some(first) = run.first() else { continue };
            let mut b = Vec::new();
            b.extend_from_slice(&first.tid.to_le_bytes());
            for fd in run {
                self.put_fd(&mut b, fd);
            }
            self.write_block(block::FDL_V2, &b, "fd list")?;
        }
        Ok(())
    }

    fn put_fd(&self, b: &mut Vec<u8>, fd: &FdInfo) {
        let compat = self.options.skip_unknown_to_sysdig;
        let start = b.len();
        put_u32(b, 0);
        b.extend_from_slice(&fd.fd.to_le_bytes());
        b.extend_from_slice(&fd.ino.to_le_bytes());
        let name = |b: &mut Vec<u8>, n: &[u8]| put_lstr(b, n, MAX_PATH - 1);
        match &fd.kind {
            FdKind::File {
                open_flags,
                name: n,
                dev,
            } => {
                b.push(16);
                put_u32(b, *open_flags);
                name(b, n);
                if let Some(dev) = dev {
                    put_u32(b, *dev);
                }
            }
            FdKind::Ipv4Socket {
                sip,
                dip,
                sport,
                dport,
                l4proto,
            } => {
                b.push(3);
                put_u32(b, *sip);
                put_u32(b, *dip);
                b.extend_from_slice(&sport.to_le_bytes());
                b.extend_from_slice(&dport.to_le_bytes());
                b.push(*l4proto);
            }
            FdKind::Ipv4Server { ip, port, l4proto } => {
                b.push(5);
                put_u32(b, *ip);
                b.extend_from_slice(&port.to_le_bytes());
                b.push(*l4proto);
            }
            FdKind::Ipv6Socket {
                sip,
                dip,
                sport,
                dport,
                l4proto,
            } => {
                b.push(4);
                b.extend_from_slice(sip);
                b.extend_from_slice(dip);
                b.extend_from_slice(&sport.to_le_bytes());
                b.extend_from_slice(&dport.to_le_bytes());
                b.push(*l4proto);
            }
            FdKind::Ipv6Server { ip, port, l4proto } => {
                b.push(6);
                b.extend_from_slice(ip);
                b.extend_from_slice(&port.to_le_bytes());
                b.push(*l4proto);
            }
            FdKind::Unix {
                source,
                destination,
                name: n,
            } => {
                b.push(8);
                b.extend_from_slice(&source.to_le_bytes());
                b.extend_from_slice(&destination.to_le_bytes());
                name(b, n);
            }
            FdKind::Named { fd_type, name: n } => {
                let t = if compat && *fd_type > FD_SYSDIG_029_MAX {
                    FD_UNSUPPORTED
                } else {
                    *fd_type
                };
                b.push(t);
                name(b, n);
            }
            FdKind::Unknown(t) => {
                if compat && *t > FD_SYSDIG_029_MAX {
                    // the old reader fails the whole file on a type it does not know, and there
                    // is no name to write an unsupported fd with
                    b.truncate(start);
                    return;
                }
                b.push(*t);
            }
        }
        patch_len(b, start);
    }

    /// Writes one `container` metaevent (`PPME_CONTAINER_JSON_2_E`, at time `ts`) per container whose
    /// metadata `containers` knows, so that a capture started while containers run replays with their
    /// `container.*` and `k8s.*` fields; containers whose lookups complete later reach the file as the
    /// events [`crate::container::Containers::take_metaevents`] hands out, written with
    /// [`ScapWriter::write_event`] where they occur in the event stream.
    pub fn write_containers(
        &mut self,
        containers: &crate::container::Containers,
        ts: u64,
    ) -> Result<(), WriteError> {
        for raw in containers.snapshot_metaevents(ts) {
            self.write_event(&raw)?;
        }
        Ok(())
    }

    /// Writes one event given as raw bytes in libscap's layout (header, lengths, parameters), on
    /// CPU 0 without dump flags. Bytes after the header's `len` are ignored.
    pub fn write_event(&mut self, raw: &[u8]) -> Result<(), WriteError> {
        self.write_event_with(raw, 0, 0)
    }

    /// Writes an event as read from a capture, with its CPU and dump flags.
    pub fn write_record(&mut self, rec: &EventRecord<'_>) -> Result<(), WriteError> {
        self.write_event_with(rec.event.as_bytes(), rec.cpu, rec.flags)
    }

    /// Writes one event with its CPU and dump flags (non-zero flags select an `EVF` block).
    pub fn write_event_with(&mut self, raw: &[u8], cpu: u16, flags: u32) -> Result<(), WriteError> {
        let ev = Event::new(raw).map_err(WriteError::Event)?;
        let source = ev;
        let mut code = ev.event_type();
        let mut downgraded = Vec::new();
        let ev = if self.options.downgrade_events
            && code >= SYSDIG_029_EVENT_MAX
            && downgrade(&ev, &mut downgraded)
        {
            self.stats.events_downgraded += 1;
            let ev = Event::new(&downgraded).map_err(WriteError::Event)?;
            code = ev.event_type();
            ev
        } else {
            ev
        };
        if self.options.skip_unknown_to_sysdig && code >= SYSDIG_029_EVENT_MAX {
            self.stats.events_skipped += 1;
            return Ok(());
        }
        let mut bytes = ev.as_bytes();
        let mut trimmed = Vec::new();
        if self.options.trim_params
            && let Some(&old) = SYSDIG_029_NPARAMS.get(usize::from(code))
            && ev.nparams() > u32::from(old)
        {
            build_event(&mut trimmed, &ev, code, (0..usize::from(old)).map(Some));
            bytes = &trimmed;
            self.stats.events_trimmed += 1;
        }
        let ev = Event::new(bytes).map_err(WriteError::Event)?;
        check_size(&ev, flags)?;
        if self.options.synthesize_enter {
            let mut enter = std::mem::take(&mut self.scratch);
            // parameters come from the event as given, before downgrading or trimming
            let made = self.synthesize_enter(code, &source, &mut enter);
            if made {
                let res = self.write_event_block(&enter, cpu, flags);
                self.scratch = enter;
                res?;
                self.stats.enters_synthesized += 1;
            } else {
                self.scratch = enter;
            }
        }
        self.write_event_block(ev.as_bytes(), cpu, flags)?;
        if self.options.synthesize_enter {
            let tid = ev.tid();
            if PROCEXIT_CODES.contains(&code) {
                self.last_type.remove(&tid);
            } else {
                self.last_type.insert(tid, code);
            }
        }
        Ok(())
    }

    /// Builds into `out` the enter event of the exit event `code` (written from `ev`, possibly
    /// downgraded or trimmed since) when it was not written for that thread and all its
    /// parameters can be taken from `ev` by name.
    fn synthesize_enter(&self, code: u16, ev: &Event<'_>, out: &mut Vec<u8>) -> bool {
        if code.is_multiple_of(2) || code >= SYSDIG_029_EVENT_MAX {
            return false;
        }
        let enter_code = code - 1;
        if self.last_type.get(&ev.tid()) == Some(&enter_code) {
            return false;
        }
        let (Some(exit_info), Some(enter_info)) = (ev.info(), events::event(enter_code)) else {
            return false;
        };
        if exit_info.category.0 & Category::SYSCALL == 0 || enter_info.is_unused() {
            return false;
        }
        let Some(&old) = SYSDIG_029_NPARAMS.get(usize::from(enter_code)) else {
            return false;
        };
        let wanted = enter_info.params.get(..usize::from(old)).unwrap_or(&[]);
        if wanted.len() != usize::from(old) {
            return false;
        }
        let mut indices = Vec::with_capacity(wanted.len());
        for p in wanted {
            let idx = exit_info
                .param_index(p.name)
                .or_else(|| exit_info.param_index(new_param_name(p.name)));
            match idx {
                Some(i) if (i as u64) < u64::from(ev.nparams()) => indices.push(Some(i)),
                _ => return false,
            }
        }
        build_event(out, ev, enter_code, indices.into_iter());
        true
    }

    fn write_event_block(&mut self, bytes: &[u8], cpu: u16, flags: u32) -> Result<(), WriteError> {
        let code = bytes
            .get(20..22)
            .map_or(0, |c| u16::from_le_bytes([c[0], c[1]]));
        let large = crate::event::has_large_lengths(code);
        let t = match (flags != 0, large) {
            (false, false) => block::EV_V2,
            (false, true) => block::EV_V2_LARGE,
            (true, false) => block::EVF_V2,
            (true, true) => block::EVF_V2_LARGE,
        };
        let cpu = cpu.to_le_bytes();
        let flag_bytes = flags.to_le_bytes();
        let prefix: &[u8] = if flags != 0 { &flag_bytes } else { &[] };
        self.write_block_parts(t, &[&cpu, prefix, bytes], "event block")?;
        self.in_events = true;
        self.stats.events_written += 1;
        Ok(())
    }

    /// Flushes what is buffered to the output (the file stays open; a gzip stream is not
    /// finished, so a reader may not see the latest events yet).
    pub fn flush(&mut self) -> Result<(), WriteError> {
        self.sink()?.flush()?;
        Ok(())
    }

    /// Finishes the capture (ends the gzip stream, flushes) and returns the output. Errors with
    /// [`WriteError::NoEvents`] if no event was written, after writing the file all the same.
    pub fn finish(mut self) -> Result<W, WriteError> {
        let sink = self.sink.take().ok_or_else(|| {
            WriteError::Io(std::io::Error::other("capture writer already finished"))
        })?;
        let mut out = sink.finish()?;
        out.flush()?;
        if self.stats.events_written == 0 {
            return Err(WriteError::NoEvents);
        }
        Ok(out)
    }
}

/// Debian's `PPM_SC_MAX`: generic events with a higher syscall id mean nothing to sysdig 0.29.3.
const SYSDIG_029_SC_MAX: u16 = 329;
/// `PPM_SC` 298 was `sigreturn` in Debian's table and changed meaning since.
const SC_CHANGED: u16 = 298;

/// The Debian-era event name for a current event name, where the syscall's events were split.
fn old_event_name(name: &str) -> &str {
    match name {
        "dup2" | "dup3" => "dup",
        "umount2" => "umount",
        "pipe2" => "pipe",
        "accept4" => "accept",
        other => other,
    }
}

/// The parameter of a current event that carries an old event's parameter `name`.
fn new_param_name(name: &str) -> &str {
    match name {
        "fd" => "oldfd",
        other => other,
    }
}

/// Builds into `out` the Debian-era form of `ev` (a code ≥ 336): the newest old event of the same
/// syscall and direction whose parameters are all in `ev` (by name), else for exit events a generic
/// syscall exit. False if there is none.
fn downgrade(ev: &Event<'_>, out: &mut Vec<u8>) -> bool {
    let Some(info) = ev.info() else { return false };
    let dir = info.direction();
    let old_name = old_event_name(info.name);
    let candidates = (0..SYSDIG_029_EVENT_MAX).rev().filter_map(events::event);
    for old in candidates.filter(|o| o.name == old_name && o.direction() == dir && !o.is_unused()) {
        let Some(&n) = SYSDIG_029_NPARAMS.get(usize::from(old.code)) else {
            continue;
        };
        let Some(wanted) = old.params.get(..usize::from(n)) else {
            continue;
        };
        let mut indices = Vec::with_capacity(wanted.len());
        for p in wanted {
            let idx = info
                .param_index(p.name)
                .or_else(|| info.param_index(new_param_name(p.name)));
            match idx {
                Some(i) if (i as u64) < u64::from(ev.nparams()) => indices.push(Some(i)),
                _ => break,
            }
        }
        if indices.len() == wanted.len() {
            build_event(out, ev, old.code, indices.into_iter());
            return true;
        }
    }
    if dir == events::Direction::Exit
        && info.category.0 & Category::SYSCALL != 0
        && let Some(sc) = events::sc_code(info.name)
        && sc < SYSDIG_029_SC_MAX
        && sc != SC_CHANGED
    {
        out.clear();
        out.extend_from_slice(&ev.ts().to_le_bytes());
        out.extend_from_slice(&ev.tid().to_le_bytes());
        put_u32(out, (HEADER_LEN + 2 + 2) as u32);
        out.extend_from_slice(&events::ppme::GENERIC_X.to_le_bytes());
        put_u32(out, 1);
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&sc.to_le_bytes());
        return true;
    }
    false
}

/// Rejects events a reader would refuse for their block type.
fn check_size(ev: &Event<'_>, flags: u32) -> Result<(), WriteError> {
    let code = ev.event_type();
    if crate::event::has_large_lengths(code) {
        return Ok(());
    }
    let body = 2 + if flags != 0 { 4 } else { 0 } + ev.as_bytes().len();
    let readlen = body.div_ceil(4) * 4 + 4;
    if readlen > NON_LARGE_EVENT_MAX {
        return Err(WriteError::EventTooLarge {
            event_type: code,
            len: ev.as_bytes().len(),
        });
    }
    Ok(())
}

/// Builds an event of type `code` with the header of `ev` and the parameters of `ev` at `indices`
/// (`None`: an empty parameter).
fn build_event(
    out: &mut Vec<u8>,
    ev: &Event<'_>,
    code: u16,
    indices: impl Iterator<Item = Option<usize>>,
) {
    let large = crate::event::has_large_lengths(code);
    let params: Vec<&[u8]> = indices
        .map(|i| i.and_then(|i| ev.param_bytes(i)).unwrap_or(&[]))
        .collect();
    out.clear();
    out.extend_from_slice(&ev.ts().to_le_bytes());
    out.extend_from_slice(&ev.tid().to_le_bytes());
    put_u32(out, 0);
    out.extend_from_slice(&code.to_le_bytes());
    put_u32(out, params.len() as u32);
    for p in &params {
        if large {
            put_u32(out, p.len() as u32);
        } else {
            out.extend_from_slice(&(p.len().min(usize::from(u16::MAX)) as u16).to_le_bytes());
        }
    }
    for p in &params {
        out.extend_from_slice(p);
    }
    let len = out.len() as u32;
    if let Some(l) = out.get_mut(16..20) {
        l.copy_from_slice(&len.to_le_bytes());
    }
    debug_assert!(out.len() >= HEADER_LEN);
}

fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn truncated(s: &[u8], max: usize) -> &[u8] {
    s.get(..max).unwrap_or(s)
}

/// A u16 length and the bytes, cut to `max`.
fn put_lstr(b: &mut Vec<u8>, s: &[u8], max: usize) {
    let s = truncated(s, max);
    b.extend_from_slice(&(s.len() as u16).to_le_bytes());
    b.extend_from_slice(s);
}

/// Stores at `start` the length of the entry that begins there (counting the length field).
fn patch_len(b: &mut [u8], start: usize) {
    let len = (b.len() - start) as u32;
    if let Some(l) = b.get_mut(start..start + 4) {
        l.copy_from_slice(&len.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::SYSDIG_029_NPARAMS;

    /// Spot checks of Debian's parameter counts against spec capture-and-scap.md §2.3.
    #[test]
    fn debian_param_counts() {
        let n = |c: usize| SYSDIG_029_NPARAMS.get(c).copied();
        assert_eq!(n(2), Some(3)); // open_e
        assert_eq!(n(3), Some(5)); // open_x
        assert_eq!(n(5), Some(1)); // close_x
        assert_eq!(n(223), Some(20)); // clone_x
        assert_eq!(n(292), Some(1)); // execve_e
        assert_eq!(n(293), Some(20)); // execve_x
        assert_eq!(n(306), Some(4)); // openat_e
        assert_eq!(n(307), Some(6)); // openat_x
        assert_eq!(n(324), Some(1)); // container json 2
        assert_eq!(n(335), Some(20)); // clone3_x
    }
}
