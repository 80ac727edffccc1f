//! Event parameter names and the types `evt.rawarg.NAME` takes from them.
//!
//! libsinsp resolves `evt.arg.NAME` and `evt.rawarg.NAME` by searching every event's parameters for the
//! *longest* parameter name that is a prefix of `NAME`; the first event (in PPME code order) declaring that
//! name decides the type of `evt.rawarg.NAME`. This module derives that table once from the event catalog
//! ([`crate::events`]): each parameter name once, with the type of its first declaration.

use std::sync::OnceLock;

use super::FieldType;
use crate::events::{self, ParamType};

/// libsinsp's `PT_*` of an event parameter as a field type.
fn field_type(ty: ParamType) -> FieldType {
    use FieldType as F;
    use ParamType as P;
    match ty {
        P::Int8 => F::Int8,
        P::Int16 => F::Int16,
        P::Int32 => F::Int32,
        P::Int64 => F::Int64,
        P::Uint8 => F::Uint8,
        P::Uint16 => F::Uint16,
        P::Uint32 => F::Uint32,
        P::Uint64 => F::Uint64,
        P::Charbuf => F::CharBuf,
        P::Bytebuf => F::ByteBuf,
        P::Errno => F::Errno,
        P::Sockaddr => F::SockAddr,
        P::Socktuple => F::SockTuple,
        P::Fd | P::Fd32 => F::Fd,
        P::Pid => F::Pid,
        P::Pid32 => F::Pid32,
        P::Fdlist => F::FdList,
        P::Fspath => F::FsPath,
        P::SyscallId => F::SyscallId,
        P::Sigtype => F::SigType,
        P::Reltime => F::RelTime,
        P::Abstime => F::AbsTime,
        P::Port => F::Port,
        P::L4proto => F::L4Proto,
        P::Sockfamily => F::SockFamily,
        P::Bool => F::Bool,
        P::Ipv4addr => F::Ipv4Addr,
        P::Dyn | P::None => F::Dyn,
        P::Flags8 => F::Flags8,
        P::Flags16 => F::Flags16,
        P::Flags32 => F::Flags32,
        P::Uid => F::Uid,
        P::Gid => F::Gid,
        P::Double => F::Double,
        P::Sigset => F::SigSet,
        P::CharbufArray => F::CharBufArray,
        P::CharbufPairArray => F::CharBufPairArray,
        P::Ipv4net => F::Ipv4Net,
        P::Ipv6addr => F::Ipv6Addr,
        P::Ipv6net => F::Ipv6Net,
        P::Ipaddr => F::IpAddr,
        P::Ipnet => F::IpNet,
        P::Mode => F::Mode,
        P::Fsrelpath => F::FsRelPath,
        P::Enumflags8 => F::EnumFlags8,
        P::Enumflags16 => F::EnumFlags16,
        P::Enumflags32 => F::EnumFlags32,
    }
}

/// `(parameter name, type of its first declaration)`, each name once, in first-declaration order.
fn params() -> &'static [(&'static str, FieldType)] {
    static PARAMS: OnceLock<Vec<(&'static str, FieldType)>> = OnceLock::new();
    PARAMS.get_or_init(|| {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<(&'static str, FieldType)> = Vec::new();
        for event in events::events() {
            for p in event.params {
                if seen.insert(p.name) {
                    out.push((p.name, field_type(p.ty)));
                }
            }
        }
        out
    })
}

/// The longest parameter name that is a prefix of `text`, with its type (libsinsp's
/// `find_longest_matching_evt_param`).
pub(super) fn longest_param_prefix(text: &str) -> Option<(&'static str, FieldType)> {
    let mut best: Option<(&'static str, FieldType)> = None;
    for &(name, ty) in params() {
        if text.starts_with(name) && best.is_none_or(|(b, _)| b.len() < name.len()) {
            best = Some((name, ty));
        }
    }
    best
}

/// Every parameter name, for "did you mean" suggestions.
pub(super) fn param_names() -> impl Iterator<Item = &'static str> {
    params().iter().map(|(name, _)| *name)
}
