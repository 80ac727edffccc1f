//! Text forms of values and parameters, as libsinsp prints them (`sinsp_evt::get_param_as_str`,
//! `sinsp_filter_check::rawval_to_string`).
//!
//! A parameter has a plain form (`3`, `4097`, `-2`) and, for some types, a resolved form
//! (`<f>/etc/passwd` for an fd, `O_RDONLY|O_CLOEXEC` for flags, `ENOENT` for an error, the comm
//! for a pid). `evt.arg.NAME` shows the resolved form when there is one; `evt.args` shows
//! `name=plain(resolved)` for every parameter, each followed by a space.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::IpAddr;

use frule_codegen::abi::ValueRef;
use frule_lang::events::{Category, Direction, ParamAux, ParamType, PrintFormat};
use frule_lang::fields::FieldType;

use super::names::{civil_from_days, errno_name};
use crate::event::{Event, Param, ParamValue, SockAddr, SockTuple};
use crate::state::{State, concat_path};

/// The time formats of `evt.time*` / `evt.datetime*`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TimeFmt {
    Time,
    TimeS,
    Datetime,
    DatetimeS,
    Iso8601,
}

/// The machine's time zone, looked up once (libsinsp formats with `localtime`).
fn local_zone() -> &'static jiff::tz::TimeZone {
    static TZ: std::sync::OnceLock<jiff::tz::TimeZone> = std::sync::OnceLock::new();
    TZ.get_or_init(jiff::tz::TimeZone::system)
}

/// Seconds east of UTC of the local zone at `secs` since the epoch.
fn local_offset(secs: i64) -> i64 {
    jiff::Timestamp::from_second(secs)
        .map(|t| i64::from(local_zone().to_offset(t).seconds()))
        .unwrap_or(0)
}

/// Renders a timestamp as libsinsp does: `evt.time*` and `evt.datetime*` in local time
/// (`localtime`), `evt.time.iso8601` in UTC with a `+0000` offset (`gmtime` and `%z`).
pub(crate) fn time_text(fmt: TimeFmt, ts: u64, out: &mut Vec<u8>) {
    let utc_secs = (ts / 1_000_000_000) as i64;
    let secs = match fmt {
        TimeFmt::Iso8601 => utc_secs,
        _ => utc_secs + local_offset(utc_secs),
    };
    let ns = ts % 1_000_000_000;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, (sod / 60) % 60, sod % 60);
    let mut t = String::new();
    let _ = match fmt {
        TimeFmt::Time => write!(t, "{h:02}:{mi:02}:{s:02}.{ns:09}"),
        TimeFmt::TimeS => write!(t, "{h:02}:{mi:02}:{s:02}"),
        TimeFmt::Datetime => write!(t, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ns:09}"),
        TimeFmt::DatetimeS => write!(t, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
        TimeFmt::Iso8601 => write!(
            t,
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ns:09}+0000"
        ),
    };
    out.extend_from_slice(t.as_bytes());
}

/// `evt.category`'s text.
pub(crate) fn category_name(c: Category) -> &'static str {
    c.class_name()
}

/// libsinsp's `sinsp_evt::extract_typechar` for events whose fd is not in the table.
pub(crate) fn event_typechar(evt: &Event<'_>) -> u8 {
    // libsinsp's `sinsp_evt::extract_typechar`, by syscall (either direction): a guess from the
    // event type alone, `4` for every socket-creating call whatever its domain. `open` and
    // `open_by_handle_at` are not in its list (sysdig 0.29.3 had `open` and no `openat2`).
    match evt.name() {
        "openat" | "openat2" | "creat" => b'f',
        "socket" | "accept" | "accept4" => b'4',
        "pipe" | "pipe2" => b'p',
        "eventfd" | "eventfd2" => b'e',
        "signalfd" | "signalfd4" => b's',
        "inotify_init" | "inotify_init1" => b'i',
        "timerfd_create" => b't',
        _ => b'o',
    }
}

/// The field type of an event parameter type (for `evt.rawarg` rendering).
pub(crate) fn field_type_of_param(t: ParamType) -> FieldType {
    use ParamType as P;
    match t {
        P::Int8
        | P::Int16
        | P::Int32
        | P::Int64
        | P::Errno
        | P::Fd
        | P::Fd32
        | P::Pid
        | P::Pid32
        | P::Reltime => FieldType::Int64,
        P::Charbuf | P::Fspath | P::Fsrelpath => FieldType::CharBuf,
        P::Bytebuf => FieldType::ByteBuf,
        P::Double => FieldType::Double,
        P::Ipv4addr | P::Ipv6addr | P::Ipaddr => FieldType::IpAddr,
        _ => FieldType::Uint64,
    }
}

fn push_printable(b: &[u8], out: &mut Vec<u8>) {
    for &c in b {
        out.push(if (0x20..0x7f).contains(&c) { c } else { b'.' });
    }
}

fn ip_port(ip: IpAddr, port: u16, out: &mut Vec<u8>) {
    let _ = write!(out, "{ip}:{port}");
}

/// The plain and resolved forms of one parameter.
fn param_forms(
    state: &State,
    evt: &Event<'_>,
    p: &Param<'_>,
    plain: &mut Vec<u8>,
    res: &mut Vec<u8>,
) {
    let Some(info) = p.info else {
        push_printable(p.raw, plain);
        return;
    };
    let tid = evt.tid() as i64;
    // numbers are written straight into the output (no temporary strings)
    let num = |v: u64, out: &mut Vec<u8>| {
        let _ = match info.fmt {
            PrintFormat::Hex => write!(out, "{v:X}"),
            PrintFormat::Oct if v != 0 => write!(out, "0{v:o}"),
            _ => write!(out, "{v}"),
        };
    };
    match (info.ty, p.value()) {
        (ParamType::Sockaddr | ParamType::Socktuple, ParamValue::Empty) => {
            plain.extend_from_slice(b"NULL")
        }
        (_, ParamValue::Empty) => {}
        (ParamType::Fd | ParamType::Fd32, ParamValue::Int(fd)) => {
            let _ = write!(plain, "{fd}");
            if fd < 0 {
                if let Some(n) = errno_name(fd) {
                    res.extend_from_slice(n.as_bytes());
                }
            } else if let Some(f) = state.fd(tid, fd) {
                res.push(b'<');
                res.push(f.ty.typechar());
                if f.ty.is_ip()
                    && let Some(c) = f.l4proto_shown().letter()
                {
                    res.push(c);
                }
                res.push(b'>');
                res.extend_from_slice(&f.name);
            }
        }
        (ParamType::Errno, ParamValue::Int(v)) => {
            if v >= 0 && matches!(info.fmt, PrintFormat::Hex) {
                num(v as u64, plain);
            } else {
                let _ = write!(plain, "{v}");
            }
            if v < 0
                && let Some(n) = errno_name(v)
            {
                res.extend_from_slice(n.as_bytes());
            }
        }
        (ParamType::Pid | ParamType::Pid32, ParamValue::Int(v)) => {
            let _ = write!(plain, "{v}");
            if let Some(t) = state.thread(v) {
                res.extend_from_slice(&t.comm);
            }
        }
        (
            ParamType::Flags8
            | ParamType::Flags16
            | ParamType::Flags32
            | ParamType::Enumflags8
            | ParamType::Enumflags16
            | ParamType::Enumflags32,
            ParamValue::Uint(v),
        ) => {
            let _ = write!(plain, "{v}");
            if let Some(t) = info.flag_table() {
                let enumf = matches!(
                    info.ty,
                    ParamType::Enumflags8 | ParamType::Enumflags16 | ParamType::Enumflags32
                );
                let s = if enumf {
                    t.render_enum(v as u32)
                } else {
                    t.render_flags(v as u32)
                };
                res.extend_from_slice(s.as_bytes());
            }
        }
        (ParamType::Mode, ParamValue::Uint(v)) => {
            num(v, plain);
            if let Some(t) = info.flag_table() {
                res.extend_from_slice(t.render_mode(v as u32).as_bytes());
            }
        }
        (ParamType::SyscallId, ParamValue::Uint(v)) => {
            let _ = write!(plain, "{v}");
            match u16::try_from(v).ok().and_then(frule_lang::events::sc_name) {
                Some("unknown") | None => res.extend_from_slice(b"<unknown>"),
                Some(n) => res.extend_from_slice(n.as_bytes()),
            }
        }
        (_, ParamValue::Int(v)) => {
            if matches!(info.fmt, PrintFormat::Hex) {
                num(v as u64, plain)
            } else {
                let _ = write!(plain, "{v}");
            }
        }
        (_, ParamValue::Uint(v)) => num(v, plain),
        (_, ParamValue::Double(v)) => plain.extend_from_slice(format!("{v:.6}").as_bytes()),
        (ParamType::Fsrelpath, ParamValue::Str(s)) => {
            plain.extend_from_slice(s);
            if s.first() != Some(&b'/') && !s.is_empty() {
                let dirfd = match info.aux {
                    ParamAux::DirFd(i) => evt.param(usize::from(i)).and_then(|d| d.as_i64()),
                    _ => None,
                };
                if let Some(dirfd) = dirfd {
                    let dir = state.dirfd_path(tid, s, dirfd);
                    if !dir.is_empty() {
                        res.extend_from_slice(&concat_path(&dir, s));
                    }
                }
            }
        }
        (_, ParamValue::Str(s)) => plain.extend_from_slice(s),
        (_, ParamValue::Bytes(b)) => {
            // libsinsp truncates buffers to its output length (80 bytes) and marks the cut
            if b.len() > MAX_BUF_OUTPUT {
                push_printable(&b[..MAX_BUF_OUTPUT - 3], plain);
                plain.extend_from_slice(b"...");
            } else {
                push_printable(b, plain);
            }
        }
        (_, ParamValue::SockAddr(a)) => match a {
            SockAddr::Inet(ip, port) => ip_port(IpAddr::from(ip), port, plain),
            SockAddr::Inet6(ip, port) => ip_port(IpAddr::from(ip), port, plain),
            SockAddr::Unix(path) => plain.extend_from_slice(path),
            SockAddr::Other(..) => {}
        },
        (_, ParamValue::SockTuple(t)) => match t {
            SockTuple::Inet(s, sp, d, dp) => {
                ip_port(IpAddr::from(s), sp, plain);
                plain.extend_from_slice(b"->");
                ip_port(IpAddr::from(d), dp, plain);
            }
            SockTuple::Inet6(s, sp, d, dp) => {
                ip_port(IpAddr::from(s), sp, plain);
                plain.extend_from_slice(b"->");
                ip_port(IpAddr::from(d), dp, plain);
            }
            SockTuple::Unix(s, d, path) => {
                plain.extend_from_slice(format!("{s:x}->{d:x} ").as_bytes());
                plain.extend_from_slice(path);
            }
            SockTuple::Other(..) => {}
        },
        (ParamType::Fdlist, ParamValue::Raw(raw)) => fdlist_text(state, tid, raw, plain),
        (_, ParamValue::Dyn(_, raw, _)) | (_, ParamValue::Raw(raw)) => push_printable(raw, plain),
    }
    let _ = Direction::Exit;
}

/// One parameter as `evt.arg.NAME` shows it (`resolved_only`: the resolved form when there is
/// one), or its plain form.
pub(crate) fn param_text(
    state: &State,
    evt: &Event<'_>,
    p: &Param<'_>,
    resolved: bool,
    out: &mut Vec<u8>,
) {
    // the plain form goes straight to `out`; the resolved one replaces it when wanted
    let start = out.len();
    let mut res = Vec::new();
    param_forms(state, evt, p, out, &mut res);
    if resolved && !res.is_empty() {
        out.truncate(start);
        out.extend_from_slice(&res);
    }
}

/// How many bytes of a buffer parameter are printed (sysdig's `max_evt_output_len`), the last three
/// replaced by `...` when the buffer is longer.
const MAX_BUF_OUTPUT: usize = 80;

/// A `PT_FDLIST` (poll's fds): `fd:<typechar>events` pairs separated by spaces (the type letter
/// when the fd is known).
fn fdlist_text(state: &State, tid: i64, b: &[u8], out: &mut Vec<u8>) {
    let n = b.get(..2).map_or(0, |x| u16::from_le_bytes([x[0], x[1]]));
    let mut pos = 2;
    for j in 0..n {
        let (Some(fd), Some(fl)) = (b.get(pos..pos + 8), b.get(pos + 8..pos + 10)) else {
            break;
        };
        let fd = u64::from_le_bytes(fd.try_into().unwrap_or([0; 8]));
        let fl = u16::from_le_bytes([fl[0], fl[1]]);
        if j > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(format!("{fd}:").as_bytes());
        if let Some(f) = i64::try_from(fd).ok().and_then(|fd| state.fd(tid, fd)) {
            out.push(f.ty.typechar());
        }
        out.extend_from_slice(format!("{fl:x}").as_bytes());
        pos += 10;
    }
}

/// `evt.args`: `name=plain(resolved) ` for every parameter (none for generic syscall events, whose
/// only parameters are the syscall ids).
pub(crate) fn args_text(state: &State, evt: &Event<'_>, out: &mut Vec<u8>) {
    if frule_lang::events::GENERIC_CODES.contains(&evt.event_type()) {
        return;
    }
    for p in evt.params() {
        let name = p.info.map_or("?", |i| i.name);
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        let mut plain = Vec::new();
        let mut res = Vec::new();
        param_forms(state, evt, &p, &mut plain, &mut res);
        out.extend_from_slice(&plain);
        if !res.is_empty() {
            out.push(b'(');
            out.extend_from_slice(&res);
            out.push(b')');
        }
        out.push(b' ');
    }
}

/// One extracted value as libsinsp's `rawval_to_string` prints it.
pub(crate) fn value_text(ty: FieldType, v: ValueRef<'_>, out: &mut String) {
    match v {
        ValueRef::I64(x) => {
            let _ = write!(out, "{x}");
        }
        ValueRef::U64(x) => {
            let _ = write!(out, "{x}");
        }
        ValueRef::F64(x) => {
            let _ = write!(out, "{x:.2}");
        }
        ValueRef::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        ValueRef::Bytes(b) => {
            if ty == FieldType::ByteBuf {
                for &c in b {
                    out.push(if (0x20..0x7f).contains(&c) {
                        c as char
                    } else {
                        '.'
                    });
                }
            } else {
                out.push_str(&String::from_utf8_lossy(b));
            }
        }
        ValueRef::Ip(ip) => {
            let _ = write!(out, "{ip}");
        }
    }
}
