//! Typed decoding of one parameter by its catalog type (spec capture-and-scap.md §2.2).
//!
//! Decoding never fails: a value whose length does not fit its type (a corrupt or truncated event,
//! an empty parameter a driver left out) decodes to [`ParamValue::Empty`] or [`ParamValue::Raw`].

use frule_lang::events::{ParamAux, ParamInfo, ParamType};

/// libscap's socket families (`PPM_AF_*`) as stored in sockaddr and socktuple parameters.
const PPM_AF_UNIX: u8 = 1;
const PPM_AF_INET: u8 = 2;
const PPM_AF_INET6: u8 = 10;

/// A decoded parameter value, borrowing strings and buffers from the event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue<'a> {
    /// A zero-length parameter (the driver had no value).
    Empty,
    /// Signed integers: `int8..int64`, fd, pid, errno (sign-extended).
    Int(i64),
    /// Unsigned integers, flags, modes, uids/gids, times, ports, syscall ids.
    Uint(u64),
    /// A floating-point value.
    Double(f64),
    /// A NUL-terminated string type (charbuf, fspath, fsrelpath), without the NUL.
    Str(&'a [u8]),
    /// A byte buffer (data, args, env, cgroups).
    Bytes(&'a [u8]),
    /// A socket address.
    SockAddr(SockAddr<'a>),
    /// A connection tuple.
    SockTuple(SockTuple<'a>),
    /// A `PT_DYN` value: the selector and the value decoded by the selected type.
    Dyn(u8, &'a [u8], Option<ParamType>),
    /// Bytes that do not fit the declared type, or of an undescribed parameter.
    Raw(&'a [u8]),
}

/// A `PT_SOCKADDR` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockAddr<'a> {
    /// IPv4 address and port.
    Inet([u8; 4], u16),
    /// IPv6 address and port.
    Inet6([u8; 16], u16),
    /// A unix socket path (without NUL).
    Unix(&'a [u8]),
    /// Another family, with its remaining bytes.
    Other(u8, &'a [u8]),
}

/// A `PT_SOCKTUPLE` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockTuple<'a> {
    /// IPv4 source address/port, destination address/port.
    Inet([u8; 4], u16, [u8; 4], u16),
    /// IPv6 source address/port, destination address/port.
    Inet6([u8; 16], u16, [u8; 16], u16),
    /// Unix socket: source and destination kernel pointers, then the path (without NUL).
    Unix(u64, u64, &'a [u8]),
    /// Another family, with its remaining bytes.
    Other(u8, &'a [u8]),
}

fn le(b: &[u8]) -> Option<u64> {
    match b.len() {
        1 => Some(u64::from(b[0])),
        2 => Some(u64::from(u16::from_le_bytes([b[0], b[1]]))),
        4 => Some(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
        8 => b.try_into().ok().map(u64::from_le_bytes),
        _ => None,
    }
}

fn sign_extend(v: u64, width: usize) -> i64 {
    match width {
        1 => i64::from(v as u8 as i8),
        2 => i64::from(v as u16 as i16),
        4 => i64::from(v as u32 as i32),
        _ => v as i64,
    }
}

fn strip_nul(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    b.get(..end).unwrap_or(b)
}

fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at + N)?.try_into().ok()
}

fn port(b: &[u8], at: usize) -> Option<u16> {
    array::<2>(b, at).map(u16::from_le_bytes)
}

impl<'a> ParamValue<'a> {
    /// Decodes `raw` as type `ty` (of parameter `info`, whose auxiliary table selects dyn types).
    pub fn decode(ty: ParamType, info: &ParamInfo, raw: &'a [u8]) -> ParamValue<'a> {
        use ParamType as T;
        if raw.is_empty() {
            return ParamValue::Empty;
        }
        match ty {
            T::Int8
            | T::Int16
            | T::Int32
            | T::Int64
            | T::Fd
            | T::Pid
            | T::Errno
            | T::Fd32
            | T::Pid32 => match le(raw) {
                Some(v) => ParamValue::Int(sign_extend(v, raw.len())),
                None => ParamValue::Raw(raw),
            },
            T::Uint8
            | T::Uint16
            | T::Uint32
            | T::Uint64
            | T::Flags8
            | T::Flags16
            | T::Flags32
            | T::Enumflags8
            | T::Enumflags16
            | T::Enumflags32
            | T::Mode
            | T::Uid
            | T::Gid
            | T::Reltime
            | T::Abstime
            | T::Port
            | T::L4proto
            | T::Sockfamily
            | T::Bool
            | T::SyscallId
            | T::Sigtype
            | T::Sigset => match le(raw) {
                Some(v) => ParamValue::Uint(v),
                None => ParamValue::Raw(raw),
            },
            T::Double => match raw.try_into().ok().map(f64::from_le_bytes) {
                Some(v) => ParamValue::Double(v),
                None => ParamValue::Raw(raw),
            },
            T::Charbuf | T::Fspath | T::Fsrelpath => ParamValue::Str(strip_nul(raw)),
            T::Bytebuf | T::CharbufArray | T::CharbufPairArray => ParamValue::Bytes(raw),
            T::Sockaddr => decode_sockaddr(raw).map_or(ParamValue::Raw(raw), ParamValue::SockAddr),
            T::Socktuple => {
                decode_socktuple(raw).map_or(ParamValue::Raw(raw), ParamValue::SockTuple)
            }
            T::Dyn => {
                let Some((&selector, rest)) = raw.split_first() else {
                    return ParamValue::Raw(raw);
                };
                let dyn_ty = match info.aux {
                    ParamAux::Dyn(table) => {
                        table.types.get(usize::from(selector)).map(|(ty, _)| *ty)
                    }
                    _ => None,
                };
                ParamValue::Dyn(selector, rest, dyn_ty)
            }
            _ => ParamValue::Raw(raw),
        }
    }
}

fn decode_sockaddr(raw: &[u8]) -> Option<SockAddr<'_>> {
    let (&family, rest) = raw.split_first()?;
    Some(match family {
        PPM_AF_INET => SockAddr::Inet(array::<4>(rest, 0)?, port(rest, 4)?),
        PPM_AF_INET6 => SockAddr::Inet6(array::<16>(rest, 0)?, port(rest, 16)?),
        PPM_AF_UNIX => SockAddr::Unix(strip_nul(rest)),
        _ => SockAddr::Other(family, rest),
    })
}

fn decode_socktuple(raw: &[u8]) -> Option<SockTuple<'_>> {
    let (&family, rest) = raw.split_first()?;
    Some(match family {
        PPM_AF_INET => SockTuple::Inet(
            array::<4>(rest, 0)?,
            port(rest, 4)?,
            array::<4>(rest, 6)?,
            port(rest, 10)?,
        ),
        PPM_AF_INET6 => SockTuple::Inet6(
            array::<16>(rest, 0)?,
            port(rest, 16)?,
            array::<16>(rest, 18)?,
            port(rest, 34)?,
        ),
        PPM_AF_UNIX => SockTuple::Unix(
            u64::from_le_bytes(array::<8>(rest, 0)?),
            u64::from_le_bytes(array::<8>(rest, 8)?),
            strip_nul(rest.get(16..)?),
        ),
        _ => SockTuple::Other(family, rest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets() {
        let mut v4 = vec![PPM_AF_INET, 127, 0, 0, 1];
        v4.extend_from_slice(&80u16.to_le_bytes());
        assert_eq!(
            decode_sockaddr(&v4),
            Some(SockAddr::Inet([127, 0, 0, 1], 80))
        );
        assert_eq!(decode_sockaddr(&v4[..3]), None);
        let mut t = vec![PPM_AF_INET, 10, 0, 0, 1];
        t.extend_from_slice(&40000u16.to_le_bytes());
        t.extend_from_slice(&[1, 1, 1, 1]);
        t.extend_from_slice(&443u16.to_le_bytes());
        assert_eq!(
            decode_socktuple(&t),
            Some(SockTuple::Inet([10, 0, 0, 1], 40000, [1, 1, 1, 1], 443))
        );
        assert_eq!(
            decode_sockaddr(&[PPM_AF_UNIX, b'/', b'x', 0]),
            Some(SockAddr::Unix(b"/x"))
        );
    }
}
