//! Name resolution and type checking of conditions, exactly as libsinsp's filter compiler does it.
//!
//! [`check_condition`] takes a macro-resolved condition tree and reports every problem libsinsp's
//! compiler (`sinsp_filter_compiler`) and Falco's warning resolver would find, as [`CheckIssue`] values
//! with Falco's codes — not just the first one, so a rule author fixes everything in one round.
//!
//! What is checked, in libsinsp's terms (spec Part B, A.6, A.7, C.7):
//! - every field resolves against the schema ([`crate::fields::resolve`]), with its argument;
//! - transformers apply to their operand's type (A.6) and fields that refuse transformers are refused;
//! - the operator suits the *transformed* type and list-ness (`flt_is_comparable`, B.1), modifiers
//!   included (A.7);
//! - right-hand fields (`val(...)`, transformers) have the same type and list-ness as the left side and
//!   are allowed on both sides (B.8);
//! - every constant parses with the left side's type ([`parse_constant`], B.2), `evt.type` values are
//!   known event names, regular expressions compile (B.6);
//! - compiler warnings (B.9, B.6), deprecated fields (C.7) and unsafe `<NA>` comparisons (C.10).
//!
//! Messages start with libsinsp's or Falco's own wording (so that scripts and users who know Falco
//! recognise them) and, where it helps, continue after `; ` with what to do or a "did you mean".
//!
//! Invariants:
//! - the checker never panics on any tree the parser can produce;
//! - errors have [`Severity::Error`] and code [`CODE_COMPILE_ERROR`]; everything else is a warning;
//! - `ExprKind::Macro` nodes are skipped: the loader reports undefined macros itself.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ast::{
    CmpOp, Expr, ExprKind, FieldRef, Literal, Modifier, Operand, Span, Transform, TransformArg,
    Transformer, Value,
};
use crate::fields::{self, FieldType, ResolvedField, TypeClass};

/// Falco's code for condition compile errors.
pub const CODE_COMPILE_ERROR: &str = "LOAD_ERR_COMPILE_CONDITION";
/// Falco's code for compiler warnings (B.9).
pub const CODE_COMPILE_WARNING: &str = "LOAD_COMPILE_CONDITION";
/// Falco's code for deprecated items.
pub const CODE_DEPRECATED: &str = "LOAD_DEPRECATED_ITEM";
/// Falco's code for `<NA>` comparisons of `ka.*`/`jevt.*` fields.
pub const CODE_UNSAFE_NA: &str = "LOAD_UNSAFE_NA_CHECK";

/// How bad an issue is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The condition does not compile; Falco refuses the rule.
    Error,
    /// The condition compiles but probably does not do what the author meant.
    Warning,
}

/// One problem found in a condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckIssue {
    /// Error or warning.
    pub severity: Severity,
    /// Falco's code: [`CODE_COMPILE_ERROR`], [`CODE_COMPILE_WARNING`], [`CODE_DEPRECATED`] or
    /// [`CODE_UNSAFE_NA`].
    pub code: &'static str,
    /// What is wrong, and what to do.
    pub message: String,
    /// Where, in the checked condition text.
    pub span: Span,
}

impl CheckIssue {
    fn error(message: String, span: Span) -> CheckIssue {
        CheckIssue {
            severity: Severity::Error,
            code: CODE_COMPILE_ERROR,
            message,
            span,
        }
    }

    fn warning(code: &'static str, message: String, span: Span) -> CheckIssue {
        CheckIssue {
            severity: Severity::Warning,
            code,
            message,
            span,
        }
    }

    /// Whether this is an "unknown field" or "unknown event type" error: the errors Falco turns into a
    /// `LOAD_UNKNOWN_FILTER` warning (and drops the rule) when the rule has `skip-if-unknown-filter: true`.
    /// Falco decides by the message text; so do we.
    pub fn is_unknown_filter(&self) -> bool {
        self.severity == Severity::Error && is_unknown_filter_message(&self.message)
    }
}

/// Falco's `err_is_unknown_type_or_field`: the error texts `skip-if-unknown-filter` forgives.
pub fn is_unknown_filter_message(message: &str) -> bool {
    message.contains("nonexistent field")
        || message.contains("invalid formatting token")
        || message.contains("unknown event type")
        || message.contains("unknown filter:")
}

impl fmt::Display for CheckIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// An IP network: an address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpNet {
    /// The network address as written (host bits are kept; membership tests mask them).
    pub addr: IpAddr,
    /// The prefix length: 0..=32 for IPv4, 1..=128 for IPv6.
    pub prefix: u8,
}

impl IpNet {
    /// Whether `ip` is inside the network (an IPv4 address is never inside an IPv6 network and back).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix.min(32)))
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let p = u32::from(self.prefix.min(128));
                let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// A constant of a condition, parsed for the type of the field it is compared with (spec B.2).
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    /// Signed integer types (`INT*`, `ERRNO`, `FD`, `PID`), already wrapped to the field's width.
    Int(i64),
    /// Unsigned integer types (`UINT*`, flags, modes, times, ports, `UID`, `GID`), wrapped to the width;
    /// a negative literal wraps around as in libsinsp.
    Uint(u64),
    /// `DOUBLE` fields (libsinsp only accepts integer literals for them).
    Double(f64),
    /// `BOOL` fields.
    Bool(bool),
    /// String fields: the bytes to compare with.
    Str(Vec<u8>),
    /// `BYTEBUF` fields, and the hex-decoded operand of `bcontains`/`bstartswith`.
    Bytes(Vec<u8>),
    /// Address fields.
    Ip(IpAddr),
    /// Network fields (`fd.net`, …): CIDR membership.
    Net(IpNet),
}

/// C's `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn not_a_number(text: &str) -> String {
    let mut msg = format!("{text} is not a valid number");
    let t = text.trim();
    if t.starts_with("0x") || t.starts_with("0X") || t.starts_with("-0x") {
        msg.push_str("; numeric fields take decimal numbers only, write the value in decimal");
    } else if t.contains('.') || t.contains('e') || t.contains('E') {
        msg.push_str("; numeric fields take integers only");
    } else if t.is_empty() {
        msg.push_str("; give a decimal number");
    }
    msg
}

/// `sscanf("%d")` into a 64-bit `long` (clamped) — then the caller truncates to its width.
fn scan_signed(text: &str) -> Result<i64, String> {
    let v = fields::scan_decimal(text).ok_or_else(|| not_a_number(text))?;
    Ok(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// `sscanf("%u")` into a 64-bit `unsigned long`: negative values wrap, too large values saturate.
fn scan_unsigned(text: &str) -> Result<u64, String> {
    let v = fields::scan_decimal(text).ok_or_else(|| not_a_number(text))?;
    let magnitude = v.unsigned_abs().min(u128::from(u64::MAX)) as u64;
    Ok(if v < 0 {
        magnitude.wrapping_neg()
    } else {
        magnitude
    })
}

/// Well-known service names for `PORT` values. libsinsp asks the system's services database
/// (`getservbyname`); a fixed table keeps results the same on every machine.
const SERVICES: &[(&str, u16)] = &[
    ("amqp", 5672),
    ("bgp", 179),
    ("bootpc", 68),
    ("bootps", 67),
    ("domain", 53),
    ("echo", 7),
    ("etcd-client", 2379),
    ("etcd-server", 2380),
    ("ftp", 21),
    ("ftp-data", 20),
    ("ftps", 990),
    ("git", 9418),
    ("gopher", 70),
    ("http", 80),
    ("http-alt", 8080),
    ("https", 443),
    ("imap", 143),
    ("imap2", 143),
    ("imaps", 993),
    ("irc", 194),
    ("kerberos", 88),
    ("kubelet", 10250),
    ("ldap", 389),
    ("ldaps", 636),
    ("microsoft-ds", 445),
    ("mongodb", 27017),
    ("ms-sql-s", 1433),
    ("mysql", 3306),
    ("nameserver", 42),
    ("netbios-dgm", 138),
    ("netbios-ns", 137),
    ("netbios-ssn", 139),
    ("nfs", 2049),
    ("nntp", 119),
    ("ntp", 123),
    ("openvpn", 1194),
    ("pop3", 110),
    ("pop3s", 995),
    ("postgresql", 5432),
    ("printer", 515),
    ("rdp", 3389),
    ("redis", 6379),
    ("rsync", 873),
    ("rtsp", 554),
    ("sftp", 115),
    ("smtp", 25),
    ("snmp", 161),
    ("snmp-trap", 162),
    ("socks", 1080),
    ("ssh", 22),
    ("submission", 587),
    ("sunrpc", 111),
    ("syslog", 514),
    ("telnet", 23),
    ("tftp", 69),
    ("time", 37),
    ("whois", 43),
    ("www", 80),
    ("x11", 6000),
    ("zookeeper", 2181),
];

/// A service name (or alias) from the system services database, `/etc/services`, which is what libsinsp's
/// `getservbyname` reads on the machine running Falco. Consulted only for names the fixed table lacks.
fn system_service(name: &str) -> Option<u16> {
    static DB: std::sync::OnceLock<Vec<(String, u16)>> = std::sync::OnceLock::new();
    let db = DB.get_or_init(|| {
        let Ok(text) = std::fs::read_to_string("/etc/services") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(service), Some(port_proto)) = (words.next(), words.next()) else {
                continue;
            };
            let Some(port) = port_proto
                .split('/')
                .next()
                .and_then(|p| p.parse::<u16>().ok())
            else {
                continue;
            };
            out.push((service.to_string(), port));
            out.extend(words.map(|alias| (alias.to_string(), port)));
        }
        out
    });
    db.iter().find(|(n, _)| n == name).map(|(_, p)| *p)
}

fn parse_port(text: &str) -> Result<u16, String> {
    if text.is_empty() {
        return Ok(0);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        // libsinsp uses stoi and then truncates to 16 bits.
        return match text.parse::<i32>() {
            Ok(n) => Ok(n as u16),
            Err(_) => Err(format!("{text} is out of range for a port")),
        };
    }
    SERVICES
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, port)| *port)
        .or_else(|| system_service(text))
        .ok_or_else(|| {
            format!(
                "unrecognized protocol {text}; give a port number or a well-known service name such as 'ssh' or 'https'"
            )
        })
}

fn parse_ipv4_net(text: &str) -> Result<IpNet, String> {
    let Some((ip, mask)) = text.split_once('/') else {
        return Err(format!(
            "unrecognized IP network {text}; write a network in CIDR notation, e.g. 10.0.0.0/8"
        ));
    };
    let addr: Ipv4Addr = ip
        .parse()
        .map_err(|_| format!("unrecognized IP address {text}"))?;
    let prefix = scan_unsigned(mask)? as u8 as u32;
    if prefix > 32 {
        return Err(format!("invalid netmask {mask}"));
    }
    Ok(IpNet {
        addr: IpAddr::V4(addr),
        prefix: prefix as u8,
    })
}

fn parse_ipv6_net(text: &str) -> Result<IpNet, String> {
    let Some((ip, mask)) = text.split_once('/') else {
        return Err(format!("invalid v6 netmask: {text}"));
    };
    let addr: Ipv6Addr = ip
        .parse()
        .map_err(|_| format!("unrecognized IPv6 address {text}"))?;
    let prefix = scan_unsigned(mask)? as u8;
    if prefix == 0 || prefix > 128 {
        return Err(format!("invalid v6 netmask {mask}"));
    }
    Ok(IpNet {
        addr: IpAddr::V6(addr),
        prefix,
    })
}

/// Decodes an even-length string of hex digits (either case), as libsinsp's `unhex`.
fn unhex(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Parses a constant for a field of type `ty` compared with `op` (spec B.2), with libsinsp's messages.
///
/// `evt.type` values are additionally checked against the event names by [`check_condition`], which
/// knows the field; this function only knows the type.
pub fn parse_constant(ty: FieldType, op: CmpOp, lit: &Literal) -> Result<Constant, String> {
    parse_constant_bytes(ty, op, &lit.bytes)
}

/// [`parse_constant`] on raw value bytes.
pub fn parse_constant_bytes(ty: FieldType, op: CmpOp, bytes: &[u8]) -> Result<Constant, String> {
    if matches!(op, CmpOp::BContains | CmpOp::BStartsWith) {
        return unhex(bytes).map(Constant::Bytes).ok_or_else(|| {
            "filter error: bcontains and bstartswith operator support hex strings only; write the bytes as hex digits, e.g. 'bcontains 7f454c46'"
                .to_string()
        });
    }
    if ty == FieldType::ByteBuf {
        return Ok(Constant::Bytes(bytes.to_vec()));
    }
    if bytes.contains(&0) {
        return Err("filter error: filter value cannot contain a NUL byte (\\x00)".to_string());
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.as_ref();
    use FieldType as T;
    Ok(match ty {
        T::Int8 => Constant::Int(i64::from(scan_signed(text)? as i32 as i8)),
        T::Int16 => Constant::Int(i64::from(scan_signed(text)? as i32 as i16)),
        T::Int32 => Constant::Int(i64::from(scan_signed(text)? as i32)),
        T::Int64 | T::Fd | T::Errno | T::Pid => Constant::Int(scan_signed(text)?),
        T::Uint8 | T::Flags8 | T::EnumFlags8 | T::L4Proto => {
            Constant::Uint(u64::from(scan_unsigned(text)? as u8))
        }
        T::Uint16 | T::Flags16 | T::EnumFlags16 => {
            Constant::Uint(u64::from(scan_unsigned(text)? as u16))
        }
        T::Uint32 | T::Flags32 | T::EnumFlags32 | T::Mode | T::Uid | T::Gid => {
            Constant::Uint(u64::from(scan_unsigned(text)? as u32))
        }
        T::Uint64 | T::RelTime | T::AbsTime => Constant::Uint(scan_unsigned(text)?),
        T::Port => Constant::Uint(u64::from(parse_port(text)?)),
        T::Double => Constant::Double(f64::from(scan_signed(text)? as i32)),
        T::Bool => match text {
            "true" => Constant::Bool(true),
            "false" => Constant::Bool(false),
            _ => {
                return Err(format!(
                    "filter error: unrecognized boolean value {text}; use true or false"
                ));
            }
        },
        T::CharBuf | T::FsPath | T::FsRelPath | T::SockFamily => Constant::Str(bytes.to_vec()),
        T::ByteBuf => Constant::Bytes(bytes.to_vec()),
        T::IpAddr => {
            if text.contains('.') {
                return parse_constant_bytes(T::Ipv4Addr, op, bytes);
            }
            return parse_constant_bytes(T::Ipv6Addr, op, bytes);
        }
        T::Ipv4Addr => Constant::Ip(IpAddr::V4(
            text.parse()
                .map_err(|_| format!("unrecognized IPv4 address {text}"))?,
        )),
        T::Ipv6Addr => Constant::Ip(IpAddr::V6(
            text.parse()
                .map_err(|_| format!("unrecognized IPv6 address {text}"))?,
        )),
        T::IpNet => {
            if text.contains('.') {
                Constant::Net(parse_ipv4_net(text)?)
            } else {
                Constant::Net(parse_ipv6_net(text)?)
            }
        }
        T::Ipv4Net => Constant::Net(parse_ipv4_net(text)?),
        T::Ipv6Net => Constant::Net(parse_ipv6_net(text)?),
        T::Pid32 | T::SyscallId | T::SigType => Constant::Int(scan_signed(text)?),
        T::SigSet
        | T::SockAddr
        | T::SockTuple
        | T::FdList
        | T::CharBufArray
        | T::CharBufPairArray
        | T::Dyn => {
            return Err(format!(
                "values of type '{ty}' cannot be compared; only 'exists' applies"
            ));
        }
    })
}

/// The operator as libsinsp's `cmpop_to_str` prints it (`==` prints as `=`).
fn op_display(op: CmpOp) -> &'static str {
    match op {
        CmpOp::EqEq => "=",
        other => other.as_str(),
    }
}

/// The operator as libsinsp's `std::to_string(cmpop)` prints it (`REGEX`, `PMATCH`, …).
fn op_upper(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Exists => "EXISTS",
        CmpOp::Eq | CmpOp::EqEq => "EQ",
        CmpOp::Ne => "NE",
        CmpOp::Lt => "LT",
        CmpOp::Le => "LE",
        CmpOp::Gt => "GT",
        CmpOp::Ge => "GE",
        CmpOp::Contains => "CONTAINS",
        CmpOp::IContains => "ICONTAINS",
        CmpOp::BContains => "BCONTAINS",
        CmpOp::StartsWith => "STARTSWITH",
        CmpOp::BStartsWith => "BSTARTSWITH",
        CmpOp::EndsWith => "ENDSWITH",
        CmpOp::Glob => "GLOB",
        CmpOp::IGlob => "IGLOB",
        CmpOp::PMatch => "PMATCH",
        CmpOp::In => "IN",
        CmpOp::Intersects => "INTERSECTS",
        CmpOp::Regex => "REGEX",
    }
}

/// libsinsp's `flt_is_comparable`: whether `op` (with `modifier`) applies to a value of type `ty`
/// (a list when `list`). The error is libsinsp's text without the `filter error: ` prefix.
pub fn is_comparable(
    op: CmpOp,
    modifier: Option<Modifier>,
    ty: FieldType,
    list: bool,
) -> Result<(), String> {
    use CmpOp as O;
    if op == O::Exists {
        return Ok(());
    }
    let name = op_display(op);
    if list {
        if !ty.supports_list_ops() {
            return Err(format!("list filters are not supported for type '{ty}'"));
        }
        return if matches!(op, O::In | O::Intersects) {
            Ok(())
        } else {
            Err(format!(
                "'{name}' operator not supported list filters; list fields only take 'in', 'intersects' and 'exists'"
            ))
        };
    }
    let ok = match ty.class() {
        TypeClass::Numeric => matches!(
            op,
            O::Eq | O::EqEq | O::Ne | O::Lt | O::Le | O::Gt | O::Ge | O::In | O::Intersects
        ),
        TypeClass::Bool => matches!(op, O::Eq | O::EqEq | O::Ne | O::In | O::Intersects),
        TypeClass::String => !matches!(op, O::BContains | O::BStartsWith),
        TypeClass::Buffer => matches!(
            op,
            O::Eq
                | O::EqEq
                | O::Ne
                | O::Contains
                | O::In
                | O::StartsWith
                | O::EndsWith
                | O::Intersects
                | O::BContains
                | O::BStartsWith
        ),
        TypeClass::Ip => {
            let ok = matches!(op, O::Eq | O::EqEq | O::Ne | O::In | O::Intersects);
            if modifier.is_some() && !ok {
                return Err(format!(
                    "'{name}' with modifier not supported for ip address and network filters"
                ));
            }
            ok
        }
        TypeClass::Other => {
            return Err(format!(
                "'{name}' operator not supported for type '{ty}'; only 'exists' applies"
            ));
        }
    };
    if ok {
        return Ok(());
    }
    Err(match ty.class() {
        TypeClass::Numeric => format!(
            "'{name}' operator not supported for numeric filters; numbers take =, !=, <, <=, >, >=, in, intersects and exists"
        ),
        TypeClass::Bool => format!(
            "'{name}' operator not supported for numeric filters; booleans take =, !=, in, intersects and exists"
        ),
        TypeClass::String => format!(
            "'{name}' operator not supported for string filters; for strings use '{}'",
            if op == O::BContains {
                "contains"
            } else {
                "startswith"
            }
        ),
        TypeClass::Buffer => format!(
            "'{name}' operator not supported for buffer filters; buffers take =, !=, contains, startswith, endswith, bcontains, bstartswith, in, intersects and exists"
        ),
        _ => format!(
            "'{name}' operator not supported for ip address and network filters; addresses and networks take =, !=, in, intersects and exists"
        ),
    })
}

/// What the type checker knows about an operand (a field, a transformer expression, or a constant
/// inside a transformer): libsinsp's "field info" before and after transformers.
#[derive(Clone, Debug, PartialEq)]
pub struct OperandType {
    /// The type after transformers.
    pub ty: FieldType,
    /// Whether the operand yields a list, after transformers.
    pub list: bool,
    /// The type before transformers (what multi-value transformers check their arguments against).
    pub orig_ty: FieldType,
    /// List-ness before transformers.
    pub orig_list: bool,
    /// The name libsinsp uses in messages: the underlying field's, or `NA` for constants and
    /// multi-value transformers.
    pub name: String,
    /// The underlying field cannot be either side of a field comparison.
    pub no_rhs: bool,
    /// The underlying field cannot take transformers.
    pub no_transformer: bool,
    /// The field at the bottom of a chain of single-argument transformers, if any.
    pub base: Option<ResolvedField>,
    /// Whether any transformer applies.
    pub transformed: bool,
}

impl OperandType {
    fn constant(list: bool) -> OperandType {
        OperandType {
            ty: FieldType::CharBuf,
            list,
            orig_ty: FieldType::CharBuf,
            orig_list: list,
            name: "NA".to_string(),
            no_rhs: false,
            no_transformer: false,
            base: None,
            transformed: false,
        }
    }
}

/// The deprecated fields Falco warns about, with its explanation.
fn deprecated_field_desc(name: &str) -> Option<&'static str> {
    match name {
        "evt.dir" => Some(
            "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always evaluates to false. The rule expression can be simplified by removing the condition on 'evt.dir'",
        ),
        "evt.latency" | "evt.latency.s" | "evt.latency.ns" | "evt.latency.human"
        | "evt.wait_latency" => Some("field is not available due to the drop of enter events."),
        _ => None,
    }
}

/// The names Falco lists as deprecated fields (warned in conditions and outputs).
pub const DEPRECATED_FIELDS: [&str; 6] = [
    "evt.dir",
    "evt.latency",
    "evt.latency.s",
    "evt.latency.ns",
    "evt.latency.human",
    "evt.wait_latency",
];

/// Why a field reference could not be used, with its span.
struct Problem {
    message: String,
    span: Span,
}

/// The fields of a left side in the order Falco's `filter_warning_resolver` visits them: pre-order,
/// through transformer arguments but not into transformer lists (`join(",", (a, b))`), which its visitor
/// skips. Deprecation warnings cover these fields; the `<NA>` check looks at the last one.
fn falco_visited_fields<'a>(op: &'a Operand, out: &mut Vec<&'a FieldRef>) {
    match op {
        Operand::Field(f) => out.push(f),
        Operand::Transform(t) => {
            for a in &t.args {
                if let TransformArg::Operand(o) = a {
                    falco_visited_fields(o, out);
                }
            }
        }
    }
}

/// Compiles operands; collects problems rather than stopping at the first.
#[derive(Default)]
struct OperandCompiler {
    problems: Vec<Problem>,
}

impl OperandCompiler {
    fn fail(&mut self, message: String, span: Span) -> Option<OperandType> {
        self.problems.push(Problem { message, span });
        None
    }

    fn field(
        &mut self,
        name: &str,
        arg: Option<&str>,
        span: Span,
        in_output: bool,
    ) -> Option<OperandType> {
        let resolved = match fields::resolve(name, arg) {
            Ok(r) => r,
            Err(msg) => return self.fail(msg, span),
        };
        let info = resolved.info();
        if info.flags.print_only && !in_output {
            let mut msg = match arg {
                Some(a) => format!("filter_check called with nonexistent field {name}[{a}]"),
                None => format!("filter_check called with nonexistent field {name}"),
            };
            msg.push_str(&format!("; '{name}' can only be used in outputs"));
            if name == "container.info" {
                msg.push_str(", use fields such as container.id or container.name in conditions");
            }
            return self.fail(msg, span);
        }
        Some(OperandType {
            ty: resolved.ty(),
            list: info.flags.list,
            orig_ty: resolved.ty(),
            orig_list: info.flags.list,
            name: info.name.to_string(),
            no_rhs: info.flags.no_rhs,
            no_transformer: info.flags.no_transformer,
            base: Some(resolved),
            transformed: false,
        })
    }

    fn operand(&mut self, op: &Operand, in_output: bool) -> Option<OperandType> {
        match op {
            Operand::Field(f) => self.field(&f.name, f.arg.as_deref(), f.span, in_output),
            Operand::Transform(t) => self.transform(t, in_output),
        }
    }

    fn transform_arg(&mut self, arg: &TransformArg, in_output: bool) -> Option<OperandType> {
        match arg {
            TransformArg::Operand(op) => self.operand(op, in_output),
            TransformArg::Literal(_) => Some(OperandType::constant(false)),
            TransformArg::List(items, _) => {
                let mut ok = true;
                for item in items {
                    ok &= self.transform_arg(item, in_output).is_some();
                }
                ok.then(|| OperandType::constant(true))
            }
        }
    }

    fn transform(&mut self, t: &Transform, in_output: bool) -> Option<OperandType> {
        let name = t.transformer.name();
        match t.transformer {
            Transformer::ToLower
            | Transformer::ToUpper
            | Transformer::B64
            | Transformer::Basename
            | Transformer::Len => {
                let [arg] = t.args.as_slice() else {
                    let got = t.args.len();
                    return self.fail(
                        format!("filter error: transformer '{name}' takes exactly one argument, {got} given"),
                        t.span,
                    );
                };
                let inner = self.transform_arg(arg, in_output)?;
                if t.arg.is_some() {
                    return self.fail(
                        format!(
                            "filter error: transformer '{name}' does not support field arguments"
                        ),
                        t.span,
                    );
                }
                if inner.no_transformer {
                    return self.fail(
                        format!(
                            "field '{}' does not support transformers; compare the field directly",
                            inner.name
                        ),
                        t.span,
                    );
                }
                let out = transform_type(t.transformer, inner.ty, inner.list);
                let Some((ty, list)) = out else {
                    return self.fail(
                        format!(
                            "can't add field transformer: type '{}' is not supported by '{name}' transformer applied on {}field '{}'",
                            inner.ty,
                            if inner.list { "list " } else { "" },
                            inner.name
                        ),
                        t.span,
                    );
                };
                Some(OperandType {
                    ty,
                    list,
                    transformed: true,
                    ..inner
                })
            }
            Transformer::Join | Transformer::Concat | Transformer::Getopt => {
                let mut args = Vec::new();
                for a in &t.args {
                    args.push(self.transform_arg(a, in_output));
                }
                let args: Vec<OperandType> = args.into_iter().collect::<Option<_>>()?;
                let orig: Vec<(FieldType, bool)> =
                    args.iter().map(|a| (a.orig_ty, a.orig_list)).collect();
                let result = match t.transformer {
                    Transformer::Join => check_join(&orig),
                    Transformer::Concat => check_concat(&orig),
                    _ => check_getopt(&orig),
                };
                if let Err(msg) = result {
                    return self.fail(msg, t.span);
                }
                let list = match (t.transformer, &t.arg) {
                    (Transformer::Getopt, Some(a)) if a.chars().count() == 1 => false,
                    (Transformer::Getopt, Some(_)) => {
                        return self.fail(
                            "getopt() field argument must be a single option character".to_string(),
                            t.span,
                        );
                    }
                    (Transformer::Getopt, None) => true,
                    (_, Some(_)) => {
                        return self.fail(
                            format!("transformer '{name}' does not support field arguments"),
                            t.span,
                        );
                    }
                    (_, None) => false,
                };
                // libsinsp names the result `NA`, or `INTERNAL` when it is a list (getopt without
                // an option); messages about right-hand fields show that name.
                Some(OperandType {
                    ty: FieldType::CharBuf,
                    list,
                    transformed: true,
                    name: if list { "INTERNAL" } else { "NA" }.to_string(),
                    ..OperandType::constant(false)
                })
            }
        }
    }
}

/// The result type of a single-argument transformer (spec A.6), or `None` if it does not apply.
pub fn transform_type(t: Transformer, ty: FieldType, list: bool) -> Option<(FieldType, bool)> {
    use FieldType as T;
    match t {
        Transformer::ToLower | Transformer::ToUpper | Transformer::Basename => {
            matches!(ty, T::CharBuf | T::FsPath | T::FsRelPath).then_some((ty, list))
        }
        Transformer::B64 => matches!(ty, T::CharBuf | T::ByteBuf).then_some((ty, list)),
        Transformer::Len => {
            if list || matches!(ty, T::CharBuf | T::ByteBuf | T::FsPath | T::FsRelPath) {
                Some((T::Uint64, false))
            } else {
                None
            }
        }
        Transformer::Join | Transformer::Concat | Transformer::Getopt => None,
    }
}

fn check_join(args: &[(FieldType, bool)]) -> Result<(), String> {
    let [(_, sep_list), (_, list)] = args else {
        return Err("join() requires exactly 2 arguments: separator and list".to_string());
    };
    if *sep_list {
        return Err("join() first argument (separator) must be a single value, not a list".into());
    }
    if !*list {
        return Err("join() second argument must be a list".to_string());
    }
    Ok(())
}

fn check_concat(args: &[(FieldType, bool)]) -> Result<(), String> {
    if args.len() < 2 {
        return Err("concat() requires at least 2 arguments".to_string());
    }
    if args
        .iter()
        .any(|(ty, list)| *ty != FieldType::CharBuf || *list)
    {
        return Err("concat() arguments must be strings".to_string());
    }
    Ok(())
}

fn check_getopt(args: &[(FieldType, bool)]) -> Result<(), String> {
    let [(args_ty, args_list), (opt_ty, opt_list)] = args else {
        return Err("getopt() requires exactly 2 arguments: args list and optstring".to_string());
    };
    if !*args_list {
        return Err("getopt() first argument must be a list".to_string());
    }
    if *opt_list {
        return Err("getopt() second argument (optstring) must be a single value".to_string());
    }
    if *args_ty != FieldType::CharBuf || *opt_ty != FieldType::CharBuf {
        return Err("getopt() arguments must be strings".to_string());
    }
    Ok(())
}

/// Type-checks an operand on its own (a field or transformer expression), as the output formatter and
/// the exception `fields` validation do. `in_output` allows output-only fields.
pub fn check_operand(op: &Operand, in_output: bool) -> Result<OperandType, Vec<(String, Span)>> {
    let mut c = OperandCompiler::default();
    match c.operand(op, in_output) {
        Some(t) if c.problems.is_empty() => Ok(t),
        _ => Err(c
            .problems
            .into_iter()
            .map(|p| (p.message, p.span))
            .collect()),
    }
}

/// Checks a macro-resolved condition and reports every issue (spec Part B; see the module docs).
pub fn check_condition(expr: &Expr) -> Vec<CheckIssue> {
    let mut checker = Checker::default();
    checker.expr(expr);
    let mut out = checker.early;
    out.extend(checker.issues);
    out
}

/// [`check_condition`] reusing the results of checks seen before in `cache` (see [`CheckCache`]); the
/// issues are the same as without the cache.
pub fn check_condition_cached(expr: &Expr, cache: &mut CheckCache) -> Vec<CheckIssue> {
    let mut checker = Checker {
        cache: Some(cache),
        ..Checker::default()
    };
    checker.expr(expr);
    let mut out = checker.early;
    out.extend(checker.issues);
    out
}

/// Results of single checks kept across [`check_condition_cached`] calls. The loader checks every rule's
/// macro-resolved condition, and a macro used by many rules brings the same check nodes (same global spans)
/// into each of them: their results are computed once. Entries are found by the check's spans and used only
/// for an equal check node, so a cache never changes a result; it pays off for trees whose spans come from
/// one offset space (one load), where equal spans mean the same check.
#[derive(Default)]
pub struct CheckCache {
    outcomes: std::collections::HashMap<CheckKey, CachedCheck, crate::fxhash::FxBuild>,
    values: ValueCache,
}

/// What checking one constant reports, by what it depends on: the left side's type, the operator, whether
/// the left side is `evt.type` / `evt.around`, and the constant's bytes. Lists substituted into many rules
/// bring the same constants to the same fields again and again.
#[derive(Default)]
struct ValueCache {
    #[allow(clippy::type_complexity, reason = "a private two-level map")]
    by_ctx: std::collections::HashMap<
        ValueCtx,
        std::collections::HashMap<Vec<u8>, std::rc::Rc<[ValueIssue]>, crate::fxhash::FxBuild>,
        crate::fxhash::FxBuild,
    >,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ValueCtx {
    ty: FieldType,
    op: CmpOp,
    evt_type: bool,
    around: bool,
}

/// An issue of one constant; `at_op` when it is located at the operator rather than the constant.
struct ValueIssue {
    issue: CheckIssue,
    at_op: bool,
}

impl std::fmt::Debug for CheckCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckCache({} checks)", self.outcomes.len())
    }
}

/// A check and what it reports.
type CachedCheck = (crate::ast::Check, std::rc::Rc<CheckOutcome>);

/// A check node by its spans.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct CheckKey {
    lhs: Span,
    op: Span,
    rhs: Option<Span>,
}

impl CheckKey {
    fn of(check: &crate::ast::Check) -> Self {
        CheckKey {
            lhs: check.lhs.span(),
            op: check.op_span,
            rhs: check.rhs.as_ref().map(Value::span),
        }
    }
}

/// What one check reports: its deprecated fields (reported once per condition), its unsafe `<NA>`
/// comparison (only the first of a condition is reported) and its errors and warnings.
struct CheckOutcome {
    deprecated: Vec<(String, CheckIssue)>,
    unsafe_na: Option<CheckIssue>,
    issues: Vec<CheckIssue>,
}

impl CheckOutcome {
    fn of(check: &crate::ast::Check, values: Option<&mut ValueCache>) -> Self {
        let mut sub = Checker {
            values,
            ..Checker::default()
        };
        let mut compiler = OperandCompiler::default();
        let lhs = compiler.operand(&check.lhs, false);
        let mut visited = Vec::new();
        falco_visited_fields(&check.lhs, &mut visited);
        let deprecated = visited
            .iter()
            .filter_map(|f| {
                deprecated_field_desc(&f.name).map(|desc| {
                    (
                        f.name.clone(),
                        CheckIssue::warning(
                            CODE_DEPRECATED,
                            format!("{desc}: field '{}'", f.name),
                            f.span,
                        ),
                    )
                })
            })
            .collect();
        sub.unsafe_na(check, visited.last().copied());
        let unsafe_na = sub.early.pop();
        for p in std::mem::take(&mut compiler.problems) {
            sub.error(p.message, p.span);
        }
        sub.check_body(check, lhs);
        CheckOutcome {
            deprecated,
            unsafe_na,
            issues: sub.issues,
        }
    }
}

#[derive(Default)]
struct Checker<'c> {
    /// Falco's warning resolver runs before compilation: its warnings come first.
    early: Vec<CheckIssue>,
    issues: Vec<CheckIssue>,
    deprecated_seen: BTreeSet<String>,
    unsafe_na_seen: bool,
    cache: Option<&'c mut CheckCache>,
    /// Set for the checker that computes a cached check's outcome.
    values: Option<&'c mut ValueCache>,
}

const TRANSFORMER_WORDS: [&str; 9] = [
    "val", "tolower", "toupper", "b64", "basename", "len", "join", "concat", "getopt",
];

impl Checker<'_> {
    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::And(children) | ExprKind::Or(children) => {
                for c in children {
                    self.expr(c);
                }
            }
            ExprKind::Not(child) => self.expr(child),
            ExprKind::Macro(_) => {}
            ExprKind::Check(check) => self.check(check),
        }
    }

    fn error(&mut self, message: String, span: Span) {
        self.issues.push(CheckIssue::error(message, span));
    }

    fn warn(&mut self, message: String, span: Span) {
        self.issues
            .push(CheckIssue::warning(CODE_COMPILE_WARNING, message, span));
    }

    fn check(&mut self, check: &crate::ast::Check) {
        let outcome = match self.cache.as_mut() {
            Some(cache) => {
                let key = CheckKey::of(check);
                match cache.outcomes.get(&key) {
                    // the spans find the entry; the whole node must be equal for the outcome to apply
                    Some((c, o)) if c == check => o.clone(),
                    _ => {
                        let o = std::rc::Rc::new(CheckOutcome::of(check, Some(&mut cache.values)));
                        cache.outcomes.insert(key, (check.clone(), o.clone()));
                        o
                    }
                }
            }
            None => std::rc::Rc::new(CheckOutcome::of(check, None)),
        };
        // The per-condition state: each deprecated field and the first unsafe `<NA>` comparison are
        // reported once per condition.
        for (name, issue) in &outcome.deprecated {
            if !self.deprecated_seen.contains(name) {
                self.deprecated_seen.insert(name.clone());
                self.early.push(issue.clone());
            }
        }
        if !self.unsafe_na_seen
            && let Some(na) = &outcome.unsafe_na
        {
            self.unsafe_na_seen = true;
            self.early.push(na.clone());
        }
        self.issues.extend(outcome.issues.iter().cloned());
    }

    /// Everything about one check that does not depend on the rest of the condition.
    fn check_body(&mut self, check: &crate::ast::Check, lhs: Option<OperandType>) {
        let Some(lhs) = lhs else {
            return;
        };

        if let Err(msg) = is_comparable(check.op, check.modifier, lhs.ty, lhs.list) {
            self.error(format!("filter error: {msg}"), check.op_span);
            return;
        }
        let Some(rhs) = &check.rhs else {
            return;
        };
        match rhs {
            Value::Field(f, span) => {
                let mut c = OperandCompiler::default();
                let r = c.field(&f.name, f.arg.as_deref(), f.span, false);
                for p in c.problems {
                    self.error(p.message, p.span);
                }
                if let Some(r) = r {
                    self.rhs_field(check.op, &lhs, &r, *span);
                }
            }
            Value::Transform(t) => {
                let mut c = OperandCompiler::default();
                let r = c.transform(t, false);
                for p in c.problems {
                    self.error(p.message, p.span);
                }
                if let Some(r) = r {
                    self.rhs_field(check.op, &lhs, &r, t.span);
                }
            }
            // `val(f)[arg]` parses (libsinsp treats val like any transformer) but never compiles
            Value::ValWithArg(_, _, span) => self.error(
                "filter error: transformer 'val' does not support field arguments".to_string(),
                *span,
            ),
            Value::Literal(lit) => self.values(check, &lhs, std::slice::from_ref(lit)),
            Value::List(items, _) => self.values(check, &lhs, items),
            Value::ListRef(name, span) => {
                let lit = Literal {
                    bytes: name.as_bytes().to_vec(),
                    kind: crate::ast::LiteralKind::Bare,
                    span: *span,
                };
                self.values(check, &lhs, std::slice::from_ref(&lit));
            }
        }
    }

    /// Falco's `filter_warning_resolver`: `ka.*`/`jevt.*` fields compared with `<NA>`.
    fn unsafe_na(&mut self, check: &crate::ast::Check, last_field: Option<&FieldRef>) {
        if self.unsafe_na_seen {
            return;
        }
        let Some(f) = last_field else {
            return;
        };
        if !(f.name.starts_with("ka.") || f.name.starts_with("jevt.")) {
            return;
        }
        let equality = check.modifier.is_none()
            && matches!(
                check.op,
                CmpOp::Eq | CmpOp::EqEq | CmpOp::Ne | CmpOp::In | CmpOp::Intersects | CmpOp::PMatch
            );
        if !equality {
            return;
        }
        let has_na = match &check.rhs {
            Some(Value::Literal(l)) => l.bytes == b"<NA>",
            Some(Value::List(items, _)) => items.iter().any(|l| l.bytes == b"<NA>"),
            _ => false,
        };
        if has_na {
            self.unsafe_na_seen = true;
            self.early.push(CheckIssue::warning(
                CODE_UNSAFE_NA,
                format!(
                    "comparing '{}' with <NA> is unsafe: <NA> is how a missing value prints, not a value; use 'exists' / 'not ... exists' instead",
                    f.name
                ),
                f.span,
            ));
        }
    }

    /// libsinsp's `add_filter_value(rhs_chk)` checks (spec B.8).
    fn rhs_field(&mut self, op: CmpOp, lhs: &OperandType, rhs: &OperandType, span: Span) {
        if matches!(op, CmpOp::PMatch | CmpOp::Regex) {
            self.error(
                format!(
                    "operator '{}' doesn't support right-hand side fields; compare with constant values",
                    op_upper(op)
                ),
                span,
            );
            return;
        }
        if matches!(
            lhs.ty,
            FieldType::IpNet | FieldType::Ipv4Net | FieldType::Ipv6Net
        ) {
            self.error(
                "field type 'IPNET' doesn't support right-hand side fields".to_string(),
                span,
            );
            return;
        }
        if lhs.no_rhs {
            self.error(
                format!(
                    "field '{}' doesn't support right-hand side fields",
                    lhs.name
                ),
                span,
            );
            return;
        }
        if rhs.no_rhs {
            self.error(
                format!(
                    "field '{}' can't be used as a right-hand side field",
                    rhs.name
                ),
                span,
            );
            return;
        }
        if lhs.ty != rhs.ty || lhs.list != rhs.list {
            let l = if lhs.list { " (list)" } else { "" };
            let r = if rhs.list { " (list)" } else { "" };
            self.error(
                format!(
                    "field '{}' has type '{}{l}' while the right-hand side field '{}' has incompatible type '{}{r}'",
                    lhs.name, lhs.ty, rhs.name, rhs.ty
                ),
                span,
            );
        }
    }

    fn values(&mut self, check: &crate::ast::Check, lhs: &OperandType, values: &[Literal]) {
        let is_evt_type = lhs.base.as_ref().is_some_and(|b| b.id.name() == "evt.type");
        let is_around = lhs
            .base
            .as_ref()
            .is_some_and(|b| b.id.name() == "evt.around");
        if let Some(cache) = self.values.take() {
            let ctx = ValueCtx {
                ty: lhs.ty,
                op: check.op,
                evt_type: is_evt_type,
                around: is_around,
            };
            for lit in values {
                let known = cache
                    .by_ctx
                    .get(&ctx)
                    .and_then(|m| m.get(lit.bytes.as_slice()))
                    .cloned();
                let issues = match known {
                    Some(i) => i,
                    None => {
                        let mut sub = Checker::default();
                        sub.values(check, lhs, std::slice::from_ref(lit));
                        let issues: std::rc::Rc<[ValueIssue]> = sub
                            .issues
                            .into_iter()
                            .map(|issue| ValueIssue {
                                at_op: issue.span != lit.span && issue.span == check.op_span,
                                issue,
                            })
                            .collect();
                        cache
                            .by_ctx
                            .entry(ctx)
                            .or_default()
                            .insert(lit.bytes.clone(), issues.clone());
                        issues
                    }
                };
                for v in issues.iter() {
                    let mut issue = v.issue.clone();
                    issue.span = if v.at_op { check.op_span } else { lit.span };
                    self.issues.push(issue);
                }
            }
            self.values = Some(cache);
            return;
        }
        for lit in values {
            self.value_warnings(check.op, lit);
            let constant = match parse_constant(lhs.ty, check.op, lit) {
                Ok(c) => c,
                Err(msg) => {
                    self.error(msg, lit.span);
                    continue;
                }
            };
            if is_evt_type && let Constant::Str(bytes) = &constant {
                let name = String::from_utf8_lossy(bytes);
                if !crate::events::is_known_event_name(&name) {
                    let mut msg = format!("unknown event type {name}");
                    if let Some(s) = suggest_event(&name) {
                        msg.push_str(&format!("; did you mean '{s}'?"));
                    }
                    self.error(msg, lit.span);
                }
            }
            if is_around && !matches!(check.op, CmpOp::Eq | CmpOp::EqEq) {
                self.error(
                    "evt.around supports only '=' comparison operator".to_string(),
                    check.op_span,
                );
            }
            if check.op == CmpOp::Regex
                && let Err(msg) = compile_regex(&lit.bytes)
            {
                self.error(msg, lit.span);
            }
        }
    }

    /// libsinsp's `check_value_and_add_warnings` (spec B.9, B.6).
    fn value_warnings(&mut self, op: CmpOp, lit: &Literal) {
        let v = lit.text();
        let nospaces: std::borrow::Cow<'_, str> = if v.bytes().any(is_c_space) {
            v.chars()
                .filter(|c| !c.is_ascii() || !is_c_space(*c as u8))
                .collect::<String>()
                .into()
        } else {
            std::borrow::Cow::Borrowed(v.as_ref())
        };
        if op == CmpOp::Regex
            && let Some(msg) = regex_simplification_warning(&lit.bytes)
        {
            self.warn(msg, lit.span);
        }
        if fields::names_a_field(&nospaces) {
            self.warn(
                format!(
                    "'{v}' may be a valid field misused as a const string value; write val({nospaces}) to compare with the field's value"
                ),
                lit.span,
            );
        }
        for t in TRANSFORMER_WORDS {
            if nospaces.len() >= t.len() + 2
                && nospaces.starts_with(t)
                && nospaces.as_bytes().get(t.len()) == Some(&b'(')
                && nospaces.ends_with(')')
            {
                self.warn(
                    format!(
                        "'{v}' may be a valid field transformer misused as a const string value; remove the quotes to apply the transformer"
                    ),
                    lit.span,
                );
            }
        }
    }
}

fn suggest_event(name: &str) -> Option<&'static str> {
    let limit = if name.len() >= 4 {
        (name.len() / 3).max(2)
    } else {
        1
    };
    // the length difference bounds the distance from below: skipping names that differ by more keeps a
    // long value (a 70 kB string) from costing a quadratic distance per event name
    crate::events::event_names()
        .filter(|e| e.len().abs_diff(name.len()) <= limit)
        .map(|e| (levenshtein(name, e), e))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, e)| (*d, e.len()))
        .map(|(_, e)| e)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The `regex`-crate source for a Falco `regex` pattern: RE2-POSIX-only syntax rejected as RE2 rejects it,
/// braces RE2 takes literally escaped, and anchored at both ends (`^(?:…)$`) for RE2's full match.
/// Backends that build their own `regex::Regex` should build it from this text so they accept and match
/// exactly what the checker accepted.
pub fn regex_source(pattern: &[u8]) -> Result<String, String> {
    let Ok(p) = std::str::from_utf8(pattern) else {
        return Err("invalid regex pattern: invalid UTF-8".to_string());
    };
    posix_syntax_check(p)?;
    Ok(format!("^(?:{})$", literal_braces(p)))
}

/// Compiles a `regex` operand as libsinsp does (RE2, full match). We use the `regex` crate, which has the
/// same linear-time guarantees; the pattern is anchored at both ends.
pub fn compile_regex(pattern: &[u8]) -> Result<regex::Regex, String> {
    let source = regex_source(pattern)?;
    regex::Regex::new(&source).map_err(|e| {
        let text = e.to_string();
        let reason = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("invalid pattern")
            .trim()
            .trim_start_matches("error: ")
            .to_string();
        format!("invalid regex pattern: {reason}")
    })
}

/// RE2 reads a `{` that does not start a well-formed repetition (`{n}`, `{n,}`, `{n,m}`) as a literal
/// brace, and a `}` outside a repetition too; the `regex` crate rejects both. Escape them so the two
/// accept the same patterns.
fn literal_braces(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len() + 4);
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' => {
                let next = p[i + 1..].chars().next().map_or(0, char::len_utf8);
                out.push_str(&p[i..i + 1 + next]);
                i += 1 + next;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                out.push('[');
                i += 1;
                // A `]` right after `[` or `[^` is a literal member.
                if b.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    out.push(']');
                    i += 1;
                }
                continue;
            }
            b'[' if in_class && b.get(i + 1) == Some(&b':') => {
                // A POSIX class name such as [:alpha:] inside a bracket expression.
                if let Some(end) = p[i + 2..].find(":]") {
                    out.push_str(&p[i..i + 2 + end + 2]);
                    i += 2 + end + 2;
                    continue;
                }
            }
            b']' if in_class => in_class = false,
            b'{' if !in_class => {
                let rest = &b[i + 1..];
                let digits = rest.iter().take_while(|d| d.is_ascii_digit()).count();
                let mut j = digits;
                if digits > 0 && rest.get(j) == Some(&b',') {
                    j += 1;
                    j += rest[j..].iter().take_while(|d| d.is_ascii_digit()).count();
                }
                if digits > 0 && rest.get(j) == Some(&b'}') {
                    out.push_str(&p[i..i + j + 2]);
                    i += j + 2;
                    continue;
                }
                out.push_str("\\{");
                i += 1;
                continue;
            }
            b'}' if !in_class => {
                out.push_str("\\}");
                i += 1;
                continue;
            }
            _ => {}
        }
        let len = p[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&p[i..i + len]);
        i += len;
    }
    out
}

/// libsinsp compiles patterns with `RE2::POSIX`: egrep syntax without Perl extensions. RE2 then rejects
/// Perl classes (`\d`, `\s`, `\w`), word boundaries (`\b`), `\A`/`\z`/`\Q`/`\E`/`\C`, Unicode
/// classes (`\pL`) and `(?...)` groups, which the `regex` crate would accept; report them as RE2 does.
fn posix_syntax_check(p: &str) -> Result<(), String> {
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(&e) = chars.peek() {
                    if "dDsSwWbBAzCQEpPGXZ".contains(e) {
                        return Err(format!(
                            "invalid regex pattern: invalid escape sequence: \\{e}; Falco uses POSIX (egrep) syntax, write classes such as [0-9] or [[:space:]] instead"
                        ));
                    }
                    chars.next();
                }
            }
            '(' if chars.peek() == Some(&'?') => {
                return Err(
                    "invalid regex pattern: missing argument to repetition operator: ?; Falco uses POSIX (egrep) syntax, which has no (?...) groups"
                        .to_string(),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

/// libsinsp's `check_warnings_regex_value`: a pattern with no regex metacharacters except a leading `^`,
/// a trailing `$` and leading/trailing `.*`, `.+`, `.?` could be a simpler operator.
fn regex_simplification_warning(v: &[u8]) -> Option<String> {
    const SPECIAL: &[u8] = b".+*?^$()[]{}|\\";
    const OCCURRENCE: &[u8] = b"+*?";
    let len = v.len();
    let mut i = 0;
    while i < len {
        let c = v[i];
        if (i == 0 && c == b'^') || (i == len - 1 && c == b'$') {
            i += 1;
            continue;
        }
        if ((i == 0 && len > 1) || (i + 2 == len))
            && c == b'.'
            && v.get(i + 1).is_some_and(|n| OCCURRENCE.contains(n))
        {
            i += 2;
            continue;
        }
        if SPECIAL.contains(&c) {
            return None;
        }
        i += 1;
    }
    Some(format!(
        "regex check with '{}' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'",
        String::from_utf8_lossy(v)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Check, FieldRef, LiteralKind};

    fn lit(s: &str) -> Literal {
        Literal {
            bytes: s.as_bytes().to_vec(),
            kind: LiteralKind::Bare,
            span: Span::new(0, s.len() as u32),
        }
    }

    fn field(name: &str, arg: Option<&str>) -> Operand {
        Operand::Field(FieldRef {
            name: name.to_string(),
            arg: arg.map(str::to_string),
            span: Span::new(0, name.len() as u32),
        })
    }

    fn cmp(lhs: Operand, op: CmpOp, rhs: Option<Value>) -> Expr {
        Expr {
            kind: ExprKind::Check(Box::new(Check {
                lhs,
                op,
                op_span: Span::new(0, 1),
                modifier: None,
                rhs,
            })),
            span: Span::new(0, 1),
        }
    }

    fn messages(e: &Expr) -> Vec<String> {
        check_condition(e).into_iter().map(|i| i.message).collect()
    }

    #[test]
    fn numbers_follow_sscanf() {
        let p = |ty, s: &str| parse_constant(ty, CmpOp::Eq, &lit(s));
        assert_eq!(
            p(FieldType::Uint32, "-1"),
            Ok(Constant::Uint(u64::from(u32::MAX)))
        );
        assert_eq!(p(FieldType::Int64, "-12"), Ok(Constant::Int(-12)));
        assert_eq!(p(FieldType::Int64, " 7"), Ok(Constant::Int(7)));
        assert!(
            p(FieldType::Int64, "0x10").is_err_and(|e| e.starts_with("0x10 is not a valid number"))
        );
        assert!(p(FieldType::Double, "1.0").is_err());
        assert_eq!(p(FieldType::Port, "ssh"), Ok(Constant::Uint(22)));
        assert!(
            p(FieldType::Port, "nosuchsvc")
                .is_err_and(|e| e.starts_with("unrecognized protocol nosuchsvc"))
        );
    }

    #[test]
    fn networks_and_addresses() {
        let p = |ty, s: &str| parse_constant(ty, CmpOp::Eq, &lit(s));
        assert!(matches!(
            p(FieldType::IpNet, "10.0.0.0/8"),
            Ok(Constant::Net(IpNet { prefix: 8, .. }))
        ));
        assert!(
            p(FieldType::IpNet, "10.0.0.0")
                .is_err_and(|e| e.starts_with("unrecognized IP network"))
        );
        assert!(p(FieldType::IpNet, "10.0.0.0/33").is_err_and(|e| e == "invalid netmask 33"));
        assert!(matches!(
            p(FieldType::IpAddr, "::1"),
            Ok(Constant::Ip(IpAddr::V6(_)))
        ));
        assert!(
            p(FieldType::IpAddr, "1.2.3").is_err_and(|e| e == "unrecognized IPv4 address 1.2.3")
        );
        let net = IpNet {
            addr: "10.0.0.0"
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            prefix: 8,
        };
        assert!(
            net.contains(
                "10.1.2.3"
                    .parse()
                    .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
            )
        );
    }

    #[test]
    fn bcontains_needs_hex() {
        let p = |s: &str| parse_constant(FieldType::ByteBuf, CmpOp::BContains, &lit(s));
        assert_eq!(p("7f45"), Ok(Constant::Bytes(vec![0x7f, 0x45])));
        for bad in ["2", "2g", "g", "123Z", "abc_1"] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hand_built_trees() {
        let e = cmp(
            field("proc.nmae", None),
            CmpOp::Eq,
            Some(Value::Literal(lit("x"))),
        );
        let m = messages(&e);
        assert_eq!(m.len(), 1);
        assert!(m[0].starts_with("filter_check called with nonexistent field proc.nmae"));
        assert!(m[0].contains("did you mean 'proc.name'"));
        assert!(check_condition(&e)[0].is_unknown_filter());

        let e = cmp(
            field("evt.buffer", None),
            CmpOp::IContains,
            Some(Value::Literal(lit("x"))),
        );
        assert_eq!(
            messages(&e),
            vec![
                "filter error: 'icontains' operator not supported for buffer filters; buffers take =, !=, contains, startswith, endswith, bcontains, bstartswith, in, intersects and exists"
            ]
        );

        let e = cmp(
            field("evt.dir", None),
            CmpOp::Eq,
            Some(Value::Literal(lit("<"))),
        );
        let issues = check_condition(&e);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].code, CODE_DEPRECATED);
    }

    /// The cache replays per-condition state (deprecated fields once, the first `<NA>` only) exactly: the
    /// same texts parse to the same spans, so the second round is served from the cache.
    #[test]
    fn cached_checks_report_the_same_issues() {
        let texts = [
            "evt.dir = < and ka.user.name = <NA> and evt.latency > 0 and evt.dir = > and jevt.value = <NA>",
            "proc.name = a and evt.dir = <",
            "proc.nmae = a or fd.num = x or evt.type in (open, nosuch)",
            "evt.latency exists and not evt.dir = < and ka.user.name in (<NA>, b)",
            "evt.type in (open, nosuch, open) and fd.name in (x, proc.name, x) and proc.name regex '[a'",
            "evt.around > 5 and fd.num in (1, x, 1, x) and proc.name = proc.name",
        ];
        let mut cache = CheckCache::default();
        for _ in 0..2 {
            for t in texts {
                let e = crate::parser::parse_condition(t).expect("parses");
                assert_eq!(
                    check_condition_cached(&e, &mut cache),
                    check_condition(&e),
                    "{t}"
                );
            }
        }
    }
}
