//! The fixed part of an event: the 26-byte packed header every scap event starts with.
//!
//! Only the header is decoded here (the capture itself never needs more); parameters are
//! the runtime's business. Parsing never panics: a short slice gives `None`.

/// The scap event header: `ts u64, tid u64, len u32, type u16, nparams u32`, little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader {
    /// Nanoseconds since the epoch.
    pub ts: u64,
    /// Thread id (host pid namespace).
    pub tid: u64,
    /// Total length: header, lengths array and parameters.
    pub len: u32,
    /// PPME event code.
    pub event_type: u16,
    /// Number of parameters (each has a u16 length after the header).
    pub nparams: u32,
}

impl EventHeader {
    /// Size of the header in bytes.
    pub const LEN: usize = 26;

    /// Reads the header at the start of `event`, or `None` when it is too short.
    pub fn parse(event: &[u8]) -> Option<Self> {
        let bytes: &[u8; Self::LEN] = event.get(..Self::LEN)?.try_into().ok()?;
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[o..o + 8]);
            u64::from_le_bytes(b)
        };
        let u32_at = |o: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&bytes[o..o + 4]);
            u32::from_le_bytes(b)
        };
        Some(Self {
            ts: u64_at(0),
            tid: u64_at(8),
            len: u32_at(16),
            event_type: u16::from_le_bytes([bytes[20], bytes[21]]),
            nparams: u32_at(22),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_packed_little_endian_header_and_rejects_short_input() {
        let mut ev = Vec::new();
        ev.extend_from_slice(&7u64.to_le_bytes());
        ev.extend_from_slice(&42u64.to_le_bytes());
        ev.extend_from_slice(&30u32.to_le_bytes());
        ev.extend_from_slice(&307u16.to_le_bytes());
        ev.extend_from_slice(&2u32.to_le_bytes());
        ev.extend_from_slice(&[0, 0, 0, 0]);
        let h = EventHeader::parse(&ev).expect("26+ bytes");
        assert_eq!(
            h,
            EventHeader {
                ts: 7,
                tid: 42,
                len: 30,
                event_type: 307,
                nparams: 2
            }
        );
        assert_eq!(EventHeader::parse(&ev[..25]), None);
    }
}
