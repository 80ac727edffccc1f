//! A zero-copy view of one event in libscap's layout.
//!
//! Every event frule handles — read from a `.scap` file, or handed over by the capture — is a byte
//! string in the layout of libscap's `ppm_evt_hdr`, followed by the lengths of its parameters and the
//! parameters themselves (spec capture-and-scap.md §2.2, §3.4):
//!
//! ```text
//! ts u64 | tid u64 | len u32 | type u16 | nparams u32 | len[0..nparams] (u16, or u32 for large-payload types) | params
//! ```
//!
//! All integers are little-endian. [`Event::new`] checks the framing once; afterwards every accessor
//! is infallible and allocation-free, and typed access goes through the event catalog
//! ([`frule_lang::events`]).
//!
//! Invariants of a constructed [`Event`]:
//!
//! - `HEADER_LEN <= len <= bytes.len()`, and the view covers exactly `len` bytes;
//! - the length array fits, and the sum of the parameter lengths fits in `len`; bytes after the last
//!   parameter (if any) are ignored, as libscap ignores them;
//! - the event type may be beyond the catalog (a newer driver): then [`Event::info`] is `None` and
//!   parameters are still reachable by index with `u16` lengths.

mod index;
mod value;

pub use index::{P, index_of};
pub use value::{ParamValue, SockAddr, SockTuple};

use frule_lang::events::{self, Direction, EventInfo, ParamInfo};

/// Size of the event header (`ppm_evt_hdr`): ts, tid, len, type, nparams.
pub const HEADER_LEN: usize = 26;

/// Why a byte string is not a well-formed event; the messages follow libscap's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// Fewer bytes than the header.
    ShortHeader {
        /// Bytes available.
        available: usize,
    },
    /// The header's `len` is smaller than the header.
    LenTooSmall {
        /// The header's `len`.
        len: u32,
    },
    /// The header's `len` is larger than the bytes available.
    LenTooLarge {
        /// The header's `len`.
        len: u32,
        /// Bytes available.
        available: usize,
    },
    /// The length array does not fit in `len`.
    NparamsTooLarge {
        /// The header's `nparams`.
        nparams: u32,
        /// The header's `len`.
        len: u32,
    },
    /// A parameter runs past `len`.
    ParamTooLong {
        /// Index of the parameter.
        index: u32,
        /// Its length.
        param_len: u32,
        /// The header's `len`.
        len: u32,
    },
}

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventError::ShortHeader { available } => write!(
                f,
                "invalid event: {available} bytes available, the event header needs {HEADER_LEN}"
            ),
            EventError::LenTooSmall { len } => write!(
                f,
                "invalid event: len {len} is smaller than the event header size {HEADER_LEN}"
            ),
            EventError::LenTooLarge { len, available } => write!(
                f,
                "invalid event: len {len} is larger than the {available} bytes available in the block"
            ),
            EventError::NparamsTooLarge { nparams, len } => write!(
                f,
                "invalid event: nparams {nparams} does not fit in event len {len}"
            ),
            EventError::ParamTooLong {
                index,
                param_len,
                len,
            } => write!(
                f,
                "invalid event: param {index} len {param_len} exceeds event len {len}"
            ),
        }
    }
}

impl std::error::Error for EventError {}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(s))
}

/// True if parameter lengths of this event type are `u32` (`EF_LARGE_PAYLOAD`).
pub fn has_large_lengths(event_type: u16) -> bool {
    events::event(event_type).is_some_and(EventInfo::is_large_payload)
}

/// One event, borrowed from the buffer it was read into.
#[derive(Clone, Copy)]
pub struct Event<'a> {
    /// Exactly `len` bytes.
    bytes: &'a [u8],
    /// Width of one entry of the length array: 2 or 4.
    len_size: usize,
    /// The header's nparams.
    nparams: u32,
}

impl<'a> Event<'a> {
    /// Checks the framing of the event at the start of `bytes` (which may continue past it).
    pub fn new(bytes: &'a [u8]) -> Result<Event<'a>, EventError> {
        if bytes.len() < HEADER_LEN {
            return Err(EventError::ShortHeader {
                available: bytes.len(),
            });
        }
        let len = u32_at(bytes, 16).unwrap_or(0);
        let event_type = u16_at(bytes, 20).unwrap_or(0);
        let nparams = u32_at(bytes, 22).unwrap_or(0);
        let len_usize = len as usize;
        if len_usize < HEADER_LEN {
            return Err(EventError::LenTooSmall { len });
        }
        let Some(bytes) = bytes.get(..len_usize) else {
            return Err(EventError::LenTooLarge {
                len,
                available: bytes.len(),
            });
        };
        let len_size = if has_large_lengths(event_type) { 4 } else { 2 };
        let params_start = (nparams as u64) * (len_size as u64) + HEADER_LEN as u64;
        if params_start > u64::from(len) {
            return Err(EventError::NparamsTooLarge { nparams, len });
        }
        // the common case in one pass without per-parameter checks; the failing parameter is
        // searched for only when the lengths overflow the event
        let lens = bytes
            .get(HEADER_LEN..params_start as usize)
            .unwrap_or_default();
        let total: u64 = if len_size == 4 {
            lens.chunks_exact(4)
                .map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .sum()
        } else {
            lens.chunks_exact(2)
                .map(|c| u64::from(u16::from_le_bytes([c[0], c[1]])))
                .sum()
        };
        if params_start + total > u64::from(len) {
            let mut end = params_start;
            for i in 0..nparams {
                let at = HEADER_LEN + (i as usize) * len_size;
                let plen = if len_size == 4 {
                    u32_at(bytes, at).unwrap_or(u32::MAX)
                } else {
                    u32::from(u16_at(bytes, at).unwrap_or(u16::MAX))
                };
                end += u64::from(plen);
                if end > u64::from(len) {
                    return Err(EventError::ParamTooLong {
                        index: i,
                        param_len: plen,
                        len,
                    });
                }
            }
        }
        Ok(Event {
            bytes,
            len_size,
            nparams,
        })
    }

    /// The event's bytes (`len` of them).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Timestamp in nanoseconds since the epoch.
    pub fn ts(&self) -> u64 {
        u64_at(self.bytes, 0).unwrap_or(0)
    }

    /// The thread id the event belongs to.
    pub fn tid(&self) -> u64 {
        u64_at(self.bytes, 8).unwrap_or(0)
    }

    /// The header's `len`: header, lengths and parameters.
    pub fn len(&self) -> u32 {
        u32_at(self.bytes, 16).unwrap_or(0)
    }

    /// Always false: a valid event has at least its header (clippy wants `is_empty` beside `len`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The event code (PPME numbering).
    pub fn event_type(&self) -> u16 {
        u16_at(self.bytes, 20).unwrap_or(0)
    }

    /// The number of parameters this event carries (may differ from the catalog's count: older
    /// captures have fewer, newer drivers may have more).
    pub fn nparams(&self) -> u32 {
        self.nparams
    }

    /// The catalog entry of the event's type; `None` for types beyond the catalog.
    pub fn info(&self) -> Option<&'static EventInfo> {
        events::event(self.event_type())
    }

    /// The event name (`evt.type`), `unknown` for types beyond the catalog. Generic syscall
    /// events are named `syscall` here; their syscall name is in their `ID` parameter.
    pub fn name(&self) -> &'static str {
        self.info().map_or("unknown", |i| i.name)
    }

    /// The value of `evt.type`: the event name, except for generic syscall events, which libsinsp
    /// names by their syscall (`ID` parameter: `getpid`, `unknown`, …).
    pub fn type_name(&self) -> &'static str {
        let code = self.event_type();
        if events::GENERIC_CODES.contains(&code) {
            let id = self.param(0).and_then(|p| p.as_u64()).unwrap_or(0);
            return u16::try_from(id)
                .ok()
                .and_then(events::sc_name)
                .unwrap_or("unknown");
        }
        self.name()
    }

    /// Enter or exit.
    pub fn direction(&self) -> Direction {
        Direction::of(self.event_type())
    }

    /// The length of parameter `index`, or `None` past `nparams`.
    pub fn param_len(&self, index: usize) -> Option<usize> {
        if index >= self.nparams as usize {
            return None;
        }
        let at = HEADER_LEN + index * self.len_size;
        if self.len_size == 4 {
            u32_at(self.bytes, at).map(|l| l as usize)
        } else {
            u16_at(self.bytes, at).map(usize::from)
        }
    }

    /// The raw bytes of parameter `index`, or `None` past `nparams`.
    pub fn param_bytes(&self, index: usize) -> Option<&'a [u8]> {
        let mut offset = HEADER_LEN + self.nparams as usize * self.len_size;
        for i in 0..index {
            offset += self.param_len(i)?;
        }
        let len = self.param_len(index)?;
        self.bytes.get(offset..offset + len)
    }

    /// Parameter `index` with its catalog description (if the catalog knows the event and has at
    /// least `index + 1` parameters).
    pub fn param(&self, index: usize) -> Option<Param<'a>> {
        let raw = self.param_bytes(index)?;
        let info = self.info().and_then(|i| i.params.get(index));
        Some(Param { info, raw })
    }

    /// The parameter named `name` in the catalog (`fd`, `name`, `flags`, …), if present in this
    /// event.
    pub fn param_by_name(&self, name: &str) -> Option<Param<'a>> {
        let index = self.info()?.param_index(name)?;
        self.param(index)
    }

    /// All parameters in order.
    pub fn params(&self) -> impl Iterator<Item = Param<'a>> + '_ {
        let mut offset = HEADER_LEN + self.nparams as usize * self.len_size;
        let info = self.info();
        (0..self.nparams as usize).map_while(move |i| {
            let len = self.param_len(i)?;
            let raw = self.bytes.get(offset..offset + len)?;
            offset += len;
            Some(Param {
                info: info.and_then(|e| e.params.get(i)),
                raw,
            })
        })
    }
}

impl std::fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("ts", &self.ts())
            .field("tid", &self.tid())
            .field("type", &self.event_type())
            .field("name", &self.name())
            .field("nparams", &self.nparams)
            .finish()
    }
}

/// One parameter: its bytes and, when known, its catalog description.
#[derive(Debug, Clone, Copy)]
pub struct Param<'a> {
    /// The catalog's description; `None` for unknown events or extra parameters.
    pub info: Option<&'static ParamInfo>,
    /// The encoded value.
    pub raw: &'a [u8],
}

impl<'a> Param<'a> {
    /// The value decoded by its catalog type ([`ParamValue::Raw`] when the type is unknown).
    pub fn value(&self) -> ParamValue<'a> {
        match self.info {
            Some(info) => ParamValue::decode(info.ty, info, self.raw),
            None => ParamValue::Raw(self.raw),
        }
    }

    /// The value as an unsigned integer of its encoded width (1, 2, 4 or 8 bytes).
    pub fn as_u64(&self) -> Option<u64> {
        match self.raw.len() {
            1 => Some(u64::from(self.raw[0])),
            2 => u16_at(self.raw, 0).map(u64::from),
            4 => u32_at(self.raw, 0).map(u64::from),
            8 => u64_at(self.raw, 0),
            _ => None,
        }
    }

    /// The value as a signed integer of its encoded width, sign-extended.
    pub fn as_i64(&self) -> Option<i64> {
        match self.raw.len() {
            1 => Some(i64::from(self.raw[0] as i8)),
            2 => u16_at(self.raw, 0).map(|v| i64::from(v as i16)),
            4 => u32_at(self.raw, 0).map(|v| i64::from(v as i32)),
            8 => u64_at(self.raw, 0).map(|v| v as i64),
            _ => None,
        }
    }

    /// A string parameter without its terminating NUL (and anything after it).
    pub fn as_str_bytes(&self) -> &'a [u8] {
        let end = self
            .raw
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.raw.len());
        &self.raw[..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frule_lang::events::ppme;

    /// Builds an event in the scap layout (u16 lengths).
    pub(crate) fn build(ts: u64, tid: u64, ty: u16, params: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::new();
        let len = HEADER_LEN + 2 * params.len() + params.iter().map(|p| p.len()).sum::<usize>();
        v.extend_from_slice(&ts.to_le_bytes());
        v.extend_from_slice(&tid.to_le_bytes());
        v.extend_from_slice(&(len as u32).to_le_bytes());
        v.extend_from_slice(&ty.to_le_bytes());
        v.extend_from_slice(&(params.len() as u32).to_le_bytes());
        for p in params {
            v.extend_from_slice(&(p.len() as u16).to_le_bytes());
        }
        for p in params {
            v.extend_from_slice(p);
        }
        v
    }

    #[test]
    fn typed_access() {
        let fd = 3i64.to_le_bytes();
        let flags = 4u32.to_le_bytes();
        let bytes = build(
            7,
            42,
            ppme::SYSCALL_OPEN_X,
            &[&fd, b"/etc/shadow\0", &flags, &0u32.to_le_bytes()],
        );
        let e = Event::new(&bytes).expect("valid");
        assert_eq!((e.ts(), e.tid(), e.name()), (7, 42, "open"));
        assert_eq!(e.direction(), Direction::Exit);
        assert_eq!(e.nparams(), 4);
        assert_eq!(e.param_by_name("fd").and_then(|p| p.as_i64()), Some(3));
        assert_eq!(
            e.param_by_name("name").map(|p| p.as_str_bytes()),
            Some(&b"/etc/shadow"[..])
        );
        assert_eq!(e.params().count(), 4);
        assert!(
            e.param_by_name("ino").is_none(),
            "older event: fewer params"
        );
    }

    #[test]
    fn framing_errors() {
        let bytes = build(1, 1, ppme::SYSCALL_CLOSE_X, &[&0i64.to_le_bytes()]);
        assert!(Event::new(&bytes[..10]).is_err());
        assert!(matches!(
            Event::new(&bytes[..bytes.len() - 1]),
            Err(EventError::LenTooLarge { .. })
        ));
        let mut bad = bytes.clone();
        bad[26] = 200; // param length past the end
        assert!(matches!(
            Event::new(&bad),
            Err(EventError::ParamTooLong { .. })
        ));
        let mut bad = bytes.clone();
        bad[22..26].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            Event::new(&bad),
            Err(EventError::NparamsTooLarge { .. })
        ));
    }
}
