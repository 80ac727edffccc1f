//! Reading `.scap` capture files (sysdig, Falco, frule): state blocks, then events.
//!
//! A capture is a pcapng-like sequence of blocks (spec capture-and-scap.md §3):
//!
//! ```text
//! u32 block_type | u32 block_total_length | body | padding to 4 bytes | u32 block_total_length
//! ```
//!
//! starting with a section header (SHB), then state blocks (machine info, interfaces, users,
//! processes, fds; versions 1.0–1.2 of the format and every block version libscap reads), then event
//! blocks. The whole stream may be gzip-compressed; that is recognised by its magic bytes, not by the
//! file name (most real `.scap` files are gzip).
//!
//! [`ScapReader::new`] reads up to the first event block and keeps the state in memory;
//! [`ScapReader::next_event`] then returns one event at a time as a zero-copy [`Event`] over the
//! reader's block buffer, valid until the next call.
//!
//! Behaviour follows libscap's savefile reader (`engine/savefile/scap_savefile.c`), so that
//! frule reads exactly the files Falco reads:
//!
//! - unknown state blocks are skipped by their length; state-block trailers must repeat the length;
//! - SHB options (pcapng comments) are skipped by the SHB length;
//! - events of a type beyond the catalog (a newer driver) are skipped;
//! - old event blocks without `nparams` are converted: their parameter count is the largest count,
//!   starting from the catalog's, whose lengths add up exactly to the event length;
//! - a section header after the events is a concatenated capture: its state blocks replace the
//!   current ones and reading goes on;
//! - a file without event blocks is an error ("no events in file").
//!
//! Robustness invariants: no input makes the reader panic; memory grows only with data actually
//! present in the stream (a block claiming 4 GiB in a short file fails as truncated after reading what
//! is there), and no block may exceed [`MAX_BLOCK_LEN`]; every error carries the byte offset in the
//! decompressed stream.

mod error;
mod meta;
mod writer;

pub use error::{ScapError, ScapErrorKind};
pub use meta::{
    FdInfo, FdKind, GroupInfo, Interface, InterfaceAddr, MachineInfo, ProcInfo, UserInfo, block,
};
pub use writer::{
    Compression, ProcLayout, SYSDIG_029_EVENT_MAX, ScapWriter, WriteError, WriterOptions,
    WriterStats,
};

use std::io::{BufReader, Read};
use std::path::Path;

use frule_lang::events::{self, ppme};

use crate::event::{Event, HEADER_LEN};

/// Largest block this reader accepts (libscap has no limit for large event blocks; this bounds
/// memory on corrupt input).
pub const MAX_BLOCK_LEN: u32 = 1 << 30;

/// libscap's `READER_BUF_SIZE`: the largest non-large event block (header excluded).
const NON_LARGE_EVENT_MAX: u32 = 1 << 16;

/// Length of a block header (type and total length).
const BLOCK_HEADER_LEN: u32 = 8;

/// `SHB_MAGIC`.
const SHB_MAGIC: u32 = 0x1A2B3C4D;

/// The newest major format version readable (`CURRENT_MAJOR_VERSION`).
const CURRENT_MAJOR: u16 = 1;

/// Size of the old event header (without `nparams`).
const HEADER_LEN_V1: usize = HEADER_LEN - 4;

/// The section header of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionHeader {
    /// Major format version (always 1).
    pub major: u16,
    /// Minor format version (0, 1 or 2 in known files).
    pub minor: u16,
    /// Section length (-1: unspecified).
    pub section_length: i64,
    /// Bytes of options (pcapng comments) that were skipped.
    pub options_len: u32,
}

/// The state recorded at the start of a capture (of its last section, for concatenated files).
#[derive(Debug, Clone, Default)]
pub struct CaptureState {
    /// Machine info, if recorded.
    pub machine: Option<MachineInfo>,
    /// Network interfaces.
    pub interfaces: Vec<Interface>,
    /// Users.
    pub users: Vec<UserInfo>,
    /// Groups.
    pub groups: Vec<GroupInfo>,
    /// Threads, in file order.
    pub processes: Vec<ProcInfo>,
    /// Fds of the threads, in file order.
    pub fds: Vec<FdInfo>,
}

/// One event as read from a capture.
#[derive(Debug, Clone, Copy)]
pub struct EventRecord<'a> {
    /// The CPU the event was captured on.
    pub cpu: u16,
    /// Dump flags of EVF blocks (1 = state only, 2 = tracer); 0 otherwise.
    pub flags: u32,
    /// Stream offset of the event's block.
    pub offset: u64,
    /// The event.
    pub event: Event<'a>,
}

/// A streaming reader of one capture file.
pub struct ScapReader {
    src: Box<dyn Read + Send>,
    /// Bytes consumed from the decompressed stream.
    offset: u64,
    compressed: bool,
    section: SectionHeader,
    state: CaptureState,
    /// A block header read ahead (the first event block, or the SHB of a concatenated capture).
    pending: Option<(u32, u32, u64)>,
    /// Read-ahead of the (decompressed) stream: `inbuf[pos..end]` is not consumed yet. Event blocks
    /// that fit are borrowed from here without a copy.
    inbuf: Box<[u8]>,
    pos: usize,
    end: usize,
    buf: Vec<u8>,
    conv: Vec<u8>,
    events: u64,
    skipped: u64,
}

/// Size of the read-ahead buffer: several non-large event blocks, so that one `read` serves many events.
const INBUF_LEN: usize = 1 << 20;

impl std::fmt::Debug for ScapReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScapReader")
            .field("offset", &self.offset)
            .field("compressed", &self.compressed)
            .field("section", &self.section)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// The result of reading a block header.
enum Header {
    Eof,
    Block(u32, u32, u64),
}

impl ScapReader {
    /// Opens a capture file (plain or gzip) and reads its state blocks.
    pub fn open(path: impl AsRef<Path>) -> Result<ScapReader, ScapError> {
        let file = std::fs::File::open(path.as_ref())
            .map_err(|e| ScapError::new(0, ScapErrorKind::Io(e)))?;
        ScapReader::new(file)
    }

    /// Reads a capture from any byte source (plain or gzip) up to its first event.
    pub fn new(src: impl Read + Send + 'static) -> Result<ScapReader, ScapError> {
        let mut src = BufReader::with_capacity(1 << 16, src);
        let mut magic = [0u8; 2];
        let n =
            read_full(&mut src, &mut magic).map_err(|e| ScapError::new(0, ScapErrorKind::Io(e)))?;
        let head = std::io::Cursor::new(magic[..n].to_vec()).chain(src);
        let compressed = n == 2 && magic == [0x1f, 0x8b];
        let src: Box<dyn Read + Send> = if compressed {
            Box::new(BufReader::with_capacity(
                1 << 16,
                flate2::read::MultiGzDecoder::new(head),
            ))
        } else {
            Box::new(head)
        };
        let mut reader = ScapReader {
            src,
            offset: 0,
            compressed,
            section: SectionHeader {
                major: 0,
                minor: 0,
                section_length: 0,
                options_len: 0,
            },
            state: CaptureState::default(),
            pending: None,
            inbuf: vec![0u8; INBUF_LEN].into_boxed_slice(),
            pos: 0,
            end: 0,
            buf: Vec::new(),
            conv: Vec::new(),
            events: 0,
            skipped: 0,
        };
        match reader.read_header()? {
            Header::Block(block::SHB, len, at) => reader.read_section(len, at)?,
            Header::Block(..) => return Err(ScapError::new(0, ScapErrorKind::NotScap)),
            Header::Eof => {
                return Err(ScapError::truncated(0, "block header", 8, 0));
            }
        }
        Ok(reader)
    }

    /// True if the stream was gzip-compressed.
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// The section header (of the current section).
    pub fn section_header(&self) -> &SectionHeader {
        &self.section
    }

    /// The state blocks read so far.
    pub fn state(&self) -> &CaptureState {
        &self.state
    }

    /// Events returned so far.
    pub fn events_read(&self) -> u64 {
        self.events
    }

    /// Events skipped because their type is beyond the catalog.
    pub fn events_skipped(&self) -> u64 {
        self.skipped
    }

    /// Copies up to `out.len()` bytes from the read-ahead buffer, refilling it from the source;
    /// fewer only at the end of the stream.
    fn read_buffered(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            if self.pos == self.end {
                self.pos = 0;
                self.end = 0;
                let got = read_some(&mut self.src, &mut self.inbuf)?;
                if got == 0 {
                    break;
                }
                self.end = got;
            }
            let k = (self.end - self.pos).min(out.len() - n);
            let (Some(dst), Some(src)) = (
                out.get_mut(n..n + k),
                self.inbuf.get(self.pos..self.pos + k),
            ) else {
                break;
            };
            dst.copy_from_slice(src);
            n += k;
            self.pos += k;
        }
        Ok(n)
    }

    /// Makes at least `need` (at most [`INBUF_LEN`]) bytes available in `inbuf[pos..end]`; false if
    /// the stream ends first (what is there stays for the copying path).
    fn ensure(&mut self, need: usize) -> std::io::Result<bool> {
        if self.end - self.pos >= need {
            return Ok(true);
        }
        if need > INBUF_LEN {
            return Ok(false);
        }
        self.inbuf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        while self.end < need {
            let got = read_some(
                &mut self.src,
                self.inbuf.get_mut(self.end..).unwrap_or(&mut []),
            )?;
            if got == 0 {
                return Ok(false);
            }
            self.end += got;
        }
        Ok(true)
    }

    /// Reads exactly `buf.len()` bytes, or reports what was missing.
    fn read_exact(&mut self, buf: &mut [u8], what: &'static str) -> Result<(), ScapError> {
        let at = self.offset;
        let n = self
            .read_buffered(buf)
            .map_err(|e| ScapError::new(at, ScapErrorKind::Io(e)))?;
        self.offset += n as u64;
        if n < buf.len() {
            return Err(ScapError::truncated(at, what, buf.len() as u64, n as u64));
        }
        Ok(())
    }

    fn read_u32(&mut self, what: &'static str) -> Result<u32, ScapError> {
        let mut b = [0u8; 4];
        self.read_exact(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a block header, or notices a clean end of file.
    fn read_header(&mut self) -> Result<Header, ScapError> {
        if let Some((t, len, at)) = self.pending.take() {
            return Ok(Header::Block(t, len, at));
        }
        let at = self.offset;
        let mut b = [0u8; 8];
        // the common case: the header is in the read-ahead buffer (no copy loop)
        if let Some(h) = self.inbuf.get(self.pos..self.pos + 8)
            && self.pos + 8 <= self.end
        {
            b.copy_from_slice(h);
            self.pos += 8;
            self.offset += 8;
            return Self::block_header(b, at);
        }
        let n = self
            .read_buffered(&mut b)
            .map_err(|e| ScapError::new(at, ScapErrorKind::Io(e)))?;
        self.offset += n as u64;
        if n == 0 {
            return Ok(Header::Eof);
        }
        if n < 8 {
            return Err(ScapError::truncated(at, "block header", 8, n as u64));
        }
        Self::block_header(b, at)
    }

    /// Decodes a block header read at stream offset `at`.
    #[inline]
    fn block_header(b: [u8; 8], at: u64) -> Result<Header, ScapError> {
        let t = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let len = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        if len > MAX_BLOCK_LEN {
            return Err(ScapError::new(
                at,
                ScapErrorKind::BadBlockLength {
                    block_type: t,
                    length: len,
                    reason: "larger than the reader's limit",
                },
            ));
        }
        Ok(Header::Block(t, len, at))
    }

    /// Reads `len` bytes into `self.buf`, growing it only as data arrives.
    fn read_body(&mut self, len: u32, what: &'static str) -> Result<(), ScapError> {
        const CHUNK: usize = 1 << 16;
        let at = self.offset;
        self.buf.clear();
        // grow by at most one chunk beyond the data actually read, whatever `len` claims
        let mut remaining = len as usize;
        while remaining > 0 {
            let chunk = remaining.min(CHUNK);
            let old = self.buf.len();
            self.buf.resize(old + chunk, 0);
            let mut tmp = std::mem::take(&mut self.buf);
            let got = self.read_buffered(tmp.get_mut(old..).unwrap_or(&mut []));
            self.buf = tmp;
            let got = got.map_err(|e| ScapError::new(at, ScapErrorKind::Io(e)))?;
            self.buf.truncate(old + got);
            if got < chunk {
                break;
            }
            remaining -= chunk;
        }
        let n = self.buf.len();
        self.offset += n as u64;
        if n < len as usize {
            return Err(ScapError::truncated(at, what, u64::from(len), n as u64));
        }
        Ok(())
    }

    /// Reads the rest of a section header block, then the state blocks up to the first event block.
    fn read_section(&mut self, len: u32, at: u64) -> Result<(), ScapError> {
        const MIN_SHB: u32 = BLOCK_HEADER_LEN + 16 + 4;
        let mut sh = [0u8; 16];
        self.read_exact(&mut sh, "section header")?;
        if len < MIN_SHB {
            return Err(ScapError::new(
                at,
                ScapErrorKind::BadBlockLength {
                    block_type: block::SHB,
                    length: len,
                    reason: "shorter than a section header",
                },
            ));
        }
        let options_len = len - MIN_SHB;
        self.read_body(options_len, "section header options")?;
        let _trailer = self.read_u32("block trailer")?; // libscap does not check the SHB trailer
        let magic = u32::from_le_bytes([sh[0], sh[1], sh[2], sh[3]]);
        if magic != SHB_MAGIC {
            return Err(ScapError::new(at, ScapErrorKind::InvalidMagic(magic)));
        }
        let major = u16::from_le_bytes([sh[4], sh[5]]);
        let minor = u16::from_le_bytes([sh[6], sh[7]]);
        if major > CURRENT_MAJOR {
            return Err(ScapError::new(
                at,
                ScapErrorKind::VersionMismatch { major, minor },
            ));
        }
        let mut section_length = [0u8; 8];
        section_length.copy_from_slice(&sh[8..16]);
        self.section = SectionHeader {
            major,
            minor,
            section_length: i64::from_le_bytes(section_length),
            options_len,
        };
        self.state = CaptureState::default();
        self.read_state_blocks()
    }

    fn read_state_blocks(&mut self) -> Result<(), ScapError> {
        loop {
            let (t, len, at) = match self.read_header()? {
                Header::Eof => return Err(ScapError::new(self.offset, ScapErrorKind::NoEvents)),
                Header::Block(t, len, at) => (t, len, at),
            };
            if block::is_event(t) {
                self.pending = Some((t, len, at));
                return Ok(());
            }
            if len < BLOCK_HEADER_LEN + 4 {
                return Err(ScapError::new(
                    at,
                    ScapErrorKind::BadBlockLength {
                        block_type: t,
                        length: len,
                        reason: "shorter than a block header and trailer",
                    },
                ));
            }
            let body_at = self.offset;
            self.read_body(len - BLOCK_HEADER_LEN - 4, "block body")?;
            let body = std::mem::take(&mut self.buf);
            let parsed = self.parse_state_block(t, &body, body_at);
            self.buf = body;
            parsed?;
            let trailer = self.read_u32("block trailer")?;
            if trailer != len {
                return Err(ScapError::new(
                    at,
                    ScapErrorKind::TrailerMismatch {
                        header: len,
                        trailer,
                    },
                ));
            }
        }
    }

    fn parse_state_block(&mut self, t: u32, body: &[u8], at: u64) -> Result<(), ScapError> {
        match t {
            block::MI | block::MI_INT => {
                self.state.machine = Some(meta::parse_machine_info(body, at)?);
            }
            block::IL | block::IL_INT | block::IL_V2 => {
                // a later interface list replaces the earlier one, as in libscap
                self.state.interfaces = meta::parse_interfaces(body, t, at)?;
            }
            block::UL | block::UL_INT | block::UL_V2 => {
                let (users, groups) = meta::parse_users(body, t, at)?;
                self.state.users = users;
                self.state.groups = groups;
            }
            t if meta::is_proclist(t) => {
                let procs = meta::parse_processes(body, t, at)?;
                self.state.processes.extend(procs);
            }
            t if meta::is_fdlist(t) => {
                let fds = meta::parse_fds(body, t, at)?;
                self.state.fds.extend(fds);
            }
            _ => {} // unknown block: skipped
        }
        Ok(())
    }

    /// The next event, or `None` at the end of the capture. The event borrows the reader's buffer.
    pub fn next_event(&mut self) -> Result<Option<EventRecord<'_>>, ScapError> {
        loop {
            let (t, len, at) = match self.read_header()? {
                Header::Eof => return Ok(None),
                Header::Block(t, len, at) => (t, len, at),
            };
            if t == block::SHB {
                // a concatenated capture: a new section with its own state
                self.read_section(len, at)?;
                continue;
            }
            if !block::is_event(t) {
                return Err(ScapError::new(at, ScapErrorKind::UnexpectedBlock(t)));
            }
            let v2 = block::is_event_v2(t);
            let hdr_len = if v2 { HEADER_LEN } else { HEADER_LEN_V1 } as u32;
            if len < BLOCK_HEADER_LEN + hdr_len + 4 {
                return Err(ScapError::new(
                    at,
                    ScapErrorKind::BadBlockLength {
                        block_type: t,
                        length: len,
                        reason: "block length too short for an event",
                    },
                ));
            }
            let readlen = len - BLOCK_HEADER_LEN;
            if !block::is_large(t) && readlen > NON_LARGE_EVENT_MAX {
                return Err(ScapError::new(
                    at,
                    ScapErrorKind::BadBlockLength {
                        block_type: t,
                        length: len,
                        reason: "event block greater than the non-large read buffer size 65536",
                    },
                ));
            }
            let body_at = self.offset;
            let in_place = self
                .ensure(readlen as usize)
                .map_err(|e| ScapError::new(body_at, ScapErrorKind::Io(e)))?;
            let start = self.pos;
            if in_place {
                self.pos += readlen as usize;
                self.offset += u64::from(readlen);
            } else {
                self.read_body(readlen, "event block")?;
            }
            let body: &[u8] = if in_place {
                self.inbuf.get(start..self.pos).unwrap_or(&[])
            } else {
                &self.buf
            };
            let body_len = (readlen - 4) as usize; // without the trailer, which libscap ignores
            let cpu = u16::from_le_bytes(le_array(body, 0));
            let (flags, evt_off) = if block::has_flags(t) {
                (u32::from_le_bytes(le_array(body, 2)), 6usize)
            } else {
                (0, 2usize)
            };
            let avail = body_len.saturating_sub(evt_off);
            if avail < hdr_len as usize {
                return Err(ScapError::corrupt(
                    at,
                    format!(
                        "event header exceeds block payload: block length {len}, event offset {evt_off}, available {avail}, header size {hdr_len}"
                    ),
                ));
            }
            let event_type = u16::from_le_bytes(le_array(body, evt_off + 20));
            if usize::from(event_type) >= events::EVENT_COUNT {
                self.skipped += 1;
                continue;
            }
            // borrowed again: the returned event must not hold a borrow taken before `continue`
            let body: &[u8] = if in_place {
                self.inbuf.get(start..self.pos).unwrap_or(&[])
            } else {
                &self.buf
            };
            let event_at = body_at + evt_off as u64;
            let bytes: &[u8] = if v2 {
                body.get(evt_off..evt_off + avail).unwrap_or(&[])
            } else {
                convert_v1(
                    body.get(evt_off..evt_off + avail).unwrap_or(&[]),
                    &mut self.conv,
                )
                .map_err(|m| ScapError::corrupt(event_at, m))?;
                &self.conv
            };
            let event =
                Event::new(bytes).map_err(|e| ScapError::new(event_at, ScapErrorKind::Event(e)))?;
            self.events += 1;
            return Ok(Some(EventRecord {
                cpu,
                flags,
                offset: at,
                event,
            }));
        }
    }
}

/// `N` bytes at `at`, zero-filled where the buffer is shorter (callers check lengths first).
fn le_array<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(at..at + N) {
        out.copy_from_slice(s);
    }
    out
}

/// One `read` that retries on interruption; 0 only at the end of the stream (or for an empty `buf`).
fn read_some(src: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match src.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            r => return r,
        }
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(src: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Converts an event of an old block (header without `nparams`, u16 lengths) to the current layout
/// in `out`, as libscap does: insert `nparams`, and find it as the largest count (starting from the
/// catalog's) whose lengths add up exactly to the event length.
fn convert_v1(src: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let len_v1 = u32::from_le_bytes(le_array(src, 16)) as usize;
    let event_type = u16::from_le_bytes(le_array(src, 20));
    if len_v1 < HEADER_LEN_V1 || len_v1 > src.len() {
        return Err(format!(
            "invalid event: len {len_v1} does not fit the {} bytes available in the block",
            src.len()
        ));
    }
    let mut len = len_v1 + 4;
    // old captures store a wrong length for these two events
    if event_type == ppme::NOTIFICATION_E || event_type == ppme::INFRASTRUCTURE_EVENT_E {
        len = len.saturating_sub(3);
    }
    out.clear();
    out.extend_from_slice(src.get(..HEADER_LEN_V1).unwrap_or(&[]));
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(src.get(HEADER_LEN_V1..len_v1).unwrap_or(&[]));
    if let Some(l) = out.get_mut(16..20) {
        l.copy_from_slice(&(len as u32).to_le_bytes());
    }
    let table_n = events::event(event_type).map_or(0, |e| e.params.len());
    let lens_at = HEADER_LEN;
    for n in (0..=table_n).rev() {
        let mut valptr = lens_at + n * 2;
        if valptr > len {
            continue;
        }
        for i in 0..n {
            valptr += usize::from(u16::from_le_bytes(le_array(out, lens_at + i * 2)));
        }
        if valptr < len {
            return Err(
                "cannot convert v1 event block to v2 (corrupted trace file - can't calculate nparams)"
                    .to_string(),
            );
        }
        if valptr == len {
            if let Some(np) = out.get_mut(22..26) {
                np.copy_from_slice(&(n as u32).to_le_bytes());
            }
            return Ok(());
        }
    }
    Err(
        "cannot convert v1 event block to v2 (corrupted trace file - can't calculate nparams) (2)"
            .to_string(),
    )
}
