//! The field schema: every field a syscall-source condition or output may name.
//!
//! This table is the single source of truth for field names, types, arguments and descriptions. The type
//! checker, `frulec fields`, the IR lowering and the runtime's extractors all read it; nothing else lists
//! fields. Types and flags mirror libsinsp's (`PT_*` types, `EPF_*` flags) so that Falco's type rules
//! (spec B.1) apply unchanged.
//!
//! Invariants (checked by `lang/tests/fields.rs`):
//! - every name in [`FIELDS`] is unique;
//! - [`FIELDS`] is grouped by [`FieldClass`], in the order of `FieldClass::ALL` (the order `falco --list`
//!   prints libsinsp's classes, then the container plugin's);
//! - a [`FieldId`] is an index into [`FIELDS`] and never changes meaning within one build.
//!
//! Field arguments come in three spellings, all handled by [`resolve`]:
//! - brackets: `proc.aname[2]`, `proc.env[HOME]`, `evt.arg[0]`, `container.mount.dest[/var/run/*]`;
//! - a dotted suffix: `evt.arg.flags`, `evt.rawarg.res`, `thread.cgroup.cpuacct`, `evt.abspath.src`,
//!   `evt.type.is.open` — the parser hands these over as one dotted name;
//! - none: most fields.

mod params;
mod table;

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

pub use table::FIELDS;

/// The value type of a field, as libsinsp names it (`PT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `int8`
    Int8,
    /// `int16`
    Int16,
    /// `int32`
    Int32,
    /// `int64`
    Int64,
    /// `uint8`
    Uint8,
    /// `uint16`
    Uint16,
    /// `uint32`
    Uint32,
    /// `uint64`
    Uint64,
    /// `errno`: a signed 64-bit result code.
    Errno,
    /// `fd`: a signed 64-bit file descriptor.
    Fd,
    /// `pid`: a signed 64-bit process id.
    Pid,
    /// `pid32`: a signed 32-bit process id (some event parameters).
    Pid32,
    /// `syscallid`
    SyscallId,
    /// `sigtype`
    SigType,
    /// `reltime`: nanoseconds, relative.
    RelTime,
    /// `abstime`: nanoseconds since the epoch.
    AbsTime,
    /// `port`: a 16-bit port (service names accepted as values).
    Port,
    /// `l4proto`
    L4Proto,
    /// `sockfamily`
    SockFamily,
    /// `flags8`
    Flags8,
    /// `flags16`
    Flags16,
    /// `flags32`
    Flags32,
    /// `enumflags8`
    EnumFlags8,
    /// `enumflags16`
    EnumFlags16,
    /// `enumflags32`
    EnumFlags32,
    /// `mode`
    Mode,
    /// `uid`
    Uid,
    /// `gid`
    Gid,
    /// `double`
    Double,
    /// `bool`
    Bool,
    /// `charbuf`: a string.
    CharBuf,
    /// `fspath`: an absolute file system path (a string).
    FsPath,
    /// `fsrelpath`: a path relative to a directory fd (a string).
    FsRelPath,
    /// `bytebuf`: raw bytes.
    ByteBuf,
    /// `ipaddr`: an IPv4 or IPv6 address.
    IpAddr,
    /// `ipv4addr`
    Ipv4Addr,
    /// `ipv6addr`
    Ipv6Addr,
    /// `ipnet`: an IPv4 or IPv6 network.
    IpNet,
    /// `ipv4net`
    Ipv4Net,
    /// `ipv6net`
    Ipv6Net,
    /// `sigset`
    SigSet,
    /// `sockaddr` (event parameters only).
    SockAddr,
    /// `socktuple` (event parameters only).
    SockTuple,
    /// `fdlist` (event parameters only).
    FdList,
    /// `charbufarray` (event parameters only).
    CharBufArray,
    /// `charbuf_pair_array` (event parameters only).
    CharBufPairArray,
    /// `dynamic`: the type depends on another parameter (event parameters only).
    Dyn,
}

/// The broad classes the operator rules of spec B.1 are stated in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeClass {
    /// Integers, flags, times, ports, doubles …
    Numeric,
    /// `bool`
    Bool,
    /// `charbuf`, `fspath`, `fsrelpath`
    String,
    /// `bytebuf`
    Buffer,
    /// addresses and networks
    Ip,
    /// anything else (only `exists` applies)
    Other,
}

impl FieldType {
    /// libsinsp's name for the type (as `falco --list` prints it).
    pub fn name(self) -> &'static str {
        use FieldType::*;
        match self {
            Int8 => "INT8",
            Int16 => "INT16",
            Int32 => "INT32",
            Int64 => "INT64",
            Uint8 => "UINT8",
            Uint16 => "UINT16",
            Uint32 => "UINT32",
            Uint64 => "UINT64",
            Errno => "ERRNO",
            Fd => "FD",
            Pid => "PID",
            Pid32 => "PID32",
            SyscallId => "SYSCALLID",
            SigType => "SIGTYPE",
            RelTime => "RELTIME",
            AbsTime => "ABSTIME",
            Port => "PORT",
            L4Proto => "L4PROTO",
            SockFamily => "SOCKFAMILY",
            Flags8 => "FLAGS8",
            Flags16 => "FLAGS16",
            Flags32 => "FLAGS32",
            EnumFlags8 => "ENUMFLAGS8",
            EnumFlags16 => "ENUMFLAGS16",
            EnumFlags32 => "ENUMFLAGS32",
            Mode => "MODE",
            Uid => "UID",
            Gid => "GID",
            Double => "DOUBLE",
            Bool => "BOOL",
            CharBuf => "CHARBUF",
            FsPath => "FSPATH",
            FsRelPath => "FSRELPATH",
            ByteBuf => "BYTEBUF",
            IpAddr => "IPADDR",
            Ipv4Addr => "IPV4ADDR",
            Ipv6Addr => "IPV6ADDR",
            IpNet => "IPNET",
            Ipv4Net => "IPV4NET",
            Ipv6Net => "IPV6NET",
            SigSet => "SIGSET",
            SockAddr => "SOCKADDR",
            SockTuple => "SOCKTUPLE",
            FdList => "FDLIST",
            CharBufArray => "CHARBUFARRAY",
            CharBufPairArray => "CHARBUF_PAIR_ARRAY",
            Dyn => "DYNAMIC",
        }
    }

    /// Which operator class (spec B.1) the type belongs to. This is libsinsp's `flt_is_comparable` switch:
    /// `UID`, `GID`, `L4PROTO`, `SOCKFAMILY` and `PID32` are not in its numeric list, so only `exists`
    /// applies to them (they only occur as `evt.rawarg.*` types).
    pub fn class(self) -> TypeClass {
        use FieldType::*;
        match self {
            Int8 | Int16 | Int32 | Int64 | Uint8 | Uint16 | Uint32 | Uint64 | Errno | Fd | Pid
            | SyscallId | SigType | RelTime | AbsTime | Port | Flags8 | Flags16 | Flags32
            | EnumFlags8 | EnumFlags16 | EnumFlags32 | Mode | Double => TypeClass::Numeric,
            Bool => TypeClass::Bool,
            CharBuf | FsPath | FsRelPath => TypeClass::String,
            ByteBuf => TypeClass::Buffer,
            IpAddr | Ipv4Addr | Ipv6Addr | IpNet | Ipv4Net | Ipv6Net => TypeClass::Ip,
            Uid | Gid | Pid32 | L4Proto | SockFamily | SigSet | SockAddr | SockTuple | FdList
            | CharBufArray | CharBufPairArray | Dyn => TypeClass::Other,
        }
    }

    /// Whether a list-valued field of this type supports `in`/`intersects` (libsinsp's list switch).
    pub fn supports_list_ops(self) -> bool {
        use FieldType::*;
        matches!(
            self,
            CharBuf | Uint64 | RelTime | AbsTime | Bool | IpAddr | IpNet
        )
    }

    /// Whether the type is a string for the purpose of transformers and string operators.
    pub fn is_string(self) -> bool {
        self.class() == TypeClass::String
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The field classes, in the order `falco --list` prints them (libsinsp's classes, then the container
/// plugin's). Two classes are both called `evt`, as in Falco: the generic one and the syscall one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldClass {
    /// `evt` fields available for every event type.
    Evt,
    /// `evt` fields of syscall events (arguments, result, direction …).
    EvtSyscall,
    /// `process`: the process and thread that generated the event.
    Process,
    /// `user`: the user of the thread.
    User,
    /// `group`: the group of the thread.
    Group,
    /// `fd`: the file descriptor the event works on.
    Fd,
    /// `fs.path`: file system paths of path-based syscalls.
    FsPath,
    /// `fdlist`: the descriptors of poll events.
    FdList,
    /// `container`: container metadata (container plugin).
    Container,
    /// `k8s`: Kubernetes pod metadata (container plugin).
    K8s,
}

impl FieldClass {
    /// Every class, in listing order.
    pub const ALL: [FieldClass; 10] = [
        FieldClass::Evt,
        FieldClass::EvtSyscall,
        FieldClass::Process,
        FieldClass::User,
        FieldClass::Group,
        FieldClass::Fd,
        FieldClass::FsPath,
        FieldClass::FdList,
        FieldClass::Container,
        FieldClass::K8s,
    ];

    /// The class name as `falco --list` prints it.
    pub fn name(self) -> &'static str {
        match self {
            FieldClass::Evt | FieldClass::EvtSyscall => "evt",
            FieldClass::Process => "process",
            FieldClass::User => "user",
            FieldClass::Group => "group",
            FieldClass::Fd => "fd",
            FieldClass::FsPath => "fs.path",
            FieldClass::FdList => "fdlist",
            FieldClass::Container => "container",
            FieldClass::K8s => "k8s",
        }
    }

    /// A short qualifier telling the two `evt` classes apart, if any.
    pub fn shortdesc(self) -> Option<&'static str> {
        match self {
            FieldClass::Evt => Some("All event types"),
            FieldClass::EvtSyscall => Some("Syscall events only"),
            _ => None,
        }
    }

    /// What the class is about.
    pub fn desc(self) -> &'static str {
        match self {
            FieldClass::Evt => "fields every event has, whatever its source",
            FieldClass::EvtSyscall => {
                "fields of syscall events; each syscall argument is reachable as evt.arg.NAME"
            }
            FieldClass::Process => "the process and thread that made the syscall",
            FieldClass::User => "the user the thread runs as",
            FieldClass::Group => "the group the thread runs as",
            FieldClass::Fd => "the file descriptor a syscall works on (file, socket, pipe …)",
            FieldClass::FsPath => {
                "file system paths of syscalls that take paths rather than descriptors"
            }
            FieldClass::FdList => "the descriptors of poll events",
            FieldClass::Container => {
                "container metadata (provided by the container plugin in current Falco)"
            }
            FieldClass::K8s => {
                "Kubernetes pod metadata read from the container runtime (container plugin)"
            }
        }
    }
}

impl fmt::Display for FieldClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether and how a field takes an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// No argument allowed.
    None,
    /// A numeric index is required in brackets (`evt.around[T]`).
    IndexRequired,
    /// A numeric index is allowed (`proc.aname` and `proc.aname[2]`, `fd.types[0]`).
    IndexAllowed,
    /// A key (any text) is required in brackets (`container.label[app]`).
    KeyRequired,
    /// A key is allowed; an all-digit key is an index (`proc.env`, `proc.env[HOME]`).
    KeyAllowed,
    /// A numeric index or a key is required (`container.mount.dest[0]`, `container.mount.dest[/etc]`).
    IndexOrKeyRequired,
    /// `evt.arg`: a parameter named after a dot (`evt.arg.flags`) or a position in brackets (`evt.arg[1]`).
    EventArg,
    /// `evt.rawarg`: a parameter named after a dot only (`evt.rawarg.res`); its type is the parameter's.
    EventRawArg,
    /// A key written after a dot (`thread.cgroup.cpuacct`, `evt.abspath.src`, `evt.type.is.open`); for
    /// `evt.abspath` the suffix is optional.
    DottedKey,
}

impl ArgKind {
    /// Whether the field accepts an argument at all.
    pub fn takes_arg(self) -> bool {
        self != ArgKind::None
    }

    /// Whether the field is unusable without an argument.
    pub fn requires_arg(self) -> bool {
        matches!(
            self,
            ArgKind::IndexRequired
                | ArgKind::KeyRequired
                | ArgKind::IndexOrKeyRequired
                | ArgKind::EventArg
                | ArgKind::EventRawArg
        )
    }

    /// Whether an argument may be a numeric index (for `frulec fields`).
    pub fn accepts_index(self) -> bool {
        matches!(
            self,
            ArgKind::IndexRequired
                | ArgKind::IndexAllowed
                | ArgKind::KeyAllowed
                | ArgKind::IndexOrKeyRequired
                | ArgKind::EventArg
        )
    }

    /// Whether an argument may be a key (for `frulec fields`).
    pub fn accepts_key(self) -> bool {
        matches!(
            self,
            ArgKind::KeyRequired
                | ArgKind::KeyAllowed
                | ArgKind::IndexOrKeyRequired
                | ArgKind::EventArg
                | ArgKind::EventRawArg
                | ArgKind::DottedKey
        )
    }
}

/// Per-field properties beyond the type (libsinsp's `EPF_*` flags that matter to the compiler).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldFlags {
    /// The field yields several values (`EPF_IS_LIST`); only `in`, `intersects` and `exists` apply.
    pub list: bool,
    /// Deprecated (`EPF_DEPRECATED`); using it gives `LOAD_DEPRECATED_ITEM`.
    pub deprecated: bool,
    /// May not be either side of a field comparison (`EPF_NO_RHS`).
    pub no_rhs: bool,
    /// May not be wrapped in a transformer (`EPF_NO_TRANSFORMER`).
    pub no_transformer: bool,
    /// Only usable in outputs, not in conditions (`EPF_PRINT_ONLY`).
    pub print_only: bool,
    /// Only usable in conditions, not in outputs (`EPF_FILTER_ONLY`).
    pub filter_only: bool,
    /// Hidden from listings (`EPF_TABLE_ONLY`): valid, but meant for sysdig's tables, not for rules.
    pub hidden: bool,
    /// A scalar field that, without an argument, has several values compared specially (libsinsp's
    /// `compare_full_aname`, `compare_ip`, …); see [`MultiValue`].
    pub multi: MultiValue,
}

/// How libsinsp compares a scalar field that stands for several values at once. The type stays
/// scalar (every scalar operator applies); only the comparison differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MultiValue {
    /// One value (every field but the ones below).
    #[default]
    Single,
    /// Without an argument, one value per ancestor (parent first): the check is true when it holds
    /// for *some* ancestor, for every operator (`proc.aname`, `proc.apid`, `proc.aexe`, …).
    Ancestors,
    /// Both ends of a connection (client, server; one value for a listening socket): the check is true
    /// when it holds for some end, except `!=`, which must hold for every end (`fd.ip`, `fd.port`,
    /// `fd.net`, `fd.proto`).
    Endpoints,
    /// The domain names, among those the rules mention, whose addresses include the socket's address
    /// (`fd.cip.name`, `fd.sip.name`, `fd.lip.name`, `fd.rip.name`; libsinsp's DNS manager). A socket
    /// address that no such name resolves to is present with no name: every check on it is false
    /// except `!=`, which must hold for every name and so holds (libsinsp's `compare_domain`).
    Names,
}

/// One field of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    /// The field's name, e.g. `proc.name`.
    pub name: &'static str,
    /// The field class it belongs to, as `falco --list` groups fields.
    pub class: FieldClass,
    /// The value type (for `evt.rawarg` the placeholder [`FieldType::Dyn`]; see [`ResolvedField::ty`]).
    pub ty: FieldType,
    /// Whether it takes an argument, and which kind.
    pub arg: ArgKind,
    /// Properties beyond the type.
    pub flags: FieldFlags,
    /// What the field is, for `frulec fields` and for hover help.
    pub desc: &'static str,
}

impl FieldInfo {
    /// A field of `class` with no argument and no flags (used by the table).
    pub(crate) const fn new(
        name: &'static str,
        class: FieldClass,
        ty: FieldType,
        desc: &'static str,
    ) -> FieldInfo {
        FieldInfo {
            name,
            class,
            ty,
            arg: ArgKind::None,
            flags: FieldFlags {
                list: false,
                deprecated: false,
                no_rhs: false,
                no_transformer: false,
                print_only: false,
                filter_only: false,
                hidden: false,
                multi: MultiValue::Single,
            },
            desc,
        }
    }

    const fn with_arg(mut self, arg: ArgKind) -> FieldInfo {
        self.arg = arg;
        self
    }

    const fn list(mut self) -> FieldInfo {
        self.flags.list = true;
        self
    }

    const fn deprecated(mut self) -> FieldInfo {
        self.flags.deprecated = true;
        self
    }

    const fn no_rhs(mut self) -> FieldInfo {
        self.flags.no_rhs = true;
        self
    }

    const fn no_transformer(mut self) -> FieldInfo {
        self.flags.no_transformer = true;
        self
    }

    const fn print_only(mut self) -> FieldInfo {
        self.flags.print_only = true;
        self
    }

    const fn filter_only(mut self) -> FieldInfo {
        self.flags.filter_only = true;
        self
    }

    const fn hidden(mut self) -> FieldInfo {
        self.flags.hidden = true;
        self
    }

    const fn multi(mut self, m: MultiValue) -> FieldInfo {
        self.flags.multi = m;
        self
    }
}

/// Identifies a field of [`FIELDS`] by its index, Cranelift-entity style.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

impl FieldId {
    /// The field this id names.
    ///
    /// Ids only come from [`lookup`]/[`resolve`] or from iterating [`FIELDS`], so the index is in range.
    pub fn info(self) -> &'static FieldInfo {
        &FIELDS[self.0 as usize]
    }

    /// The field's name.
    pub fn name(self) -> &'static str {
        self.info().name
    }
}

/// The argument of a resolved field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldArg {
    /// No argument (`proc.aname` means "any ancestor").
    None,
    /// A numeric argument: an ancestor level, a parameter position, an fd number, a mount index …
    Index(u64),
    /// A textual argument: an environment variable, a label, a parameter name, a cgroup subsystem,
    /// a mount path glob, `src`/`dst` of `evt.abspath`, an event name of `evt.type.is`.
    Key(String),
}

/// A field reference with its argument checked against the schema.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedField {
    /// Which field.
    pub id: FieldId,
    /// Its argument, normalized.
    pub arg: FieldArg,
}

impl ResolvedField {
    /// The field's schema entry.
    pub fn info(&self) -> &'static FieldInfo {
        self.id.info()
    }

    /// The value type of this use of the field: the schema type, except for `evt.rawarg.NAME`, whose type
    /// is the type of the event parameter `NAME`.
    pub fn ty(&self) -> FieldType {
        let info = self.info();
        if info.arg == ArgKind::EventRawArg
            && let FieldArg::Key(name) = &self.arg
            && let Some((_, ty)) = params::longest_param_prefix(name)
        {
            return ty;
        }
        info.ty
    }

    /// Whether the field yields a list of values.
    pub fn is_list(&self) -> bool {
        self.info().flags.list
    }

    /// The field as written canonically: `proc.aname[2]`, `evt.arg.flags`, `proc.env[HOME]`.
    pub fn display_name(&self) -> String {
        let info = self.info();
        match (&self.arg, info.arg) {
            (FieldArg::None, _) => info.name.to_string(),
            (FieldArg::Index(i), ArgKind::EventArg) => format!("{}[{i}]", info.name),
            (FieldArg::Key(k), ArgKind::EventArg | ArgKind::EventRawArg | ArgKind::DottedKey) => {
                format!("{}.{k}", info.name)
            }
            (FieldArg::Index(i), _) => format!("{}[{i}]", info.name),
            (FieldArg::Key(k), _) => format!("{}[{k}]", info.name),
        }
    }
}

impl fmt::Display for ResolvedField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name())
    }
}

type Index = HashMap<&'static str, FieldId, crate::fxhash::FxBuild>;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        FIELDS
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name, FieldId(i as u32)))
            .collect()
    })
}

/// The field with exactly this name (no argument, no dotted suffix).
pub fn lookup(name: &str) -> Option<FieldId> {
    index().get(name).copied()
}

/// Every field id, in table order.
pub fn all() -> impl Iterator<Item = FieldId> {
    (0..FIELDS.len() as u32).map(FieldId)
}

fn nonexistent(name: &str, arg: Option<&str>) -> String {
    match arg {
        Some(a) => format!("filter_check called with nonexistent field {name}[{a}]"),
        None => format!("filter_check called with nonexistent field {name}"),
    }
}

/// libsinsp's `sscanf("%d%c")`-style integer parse: optional leading blanks, an optional sign, decimal
/// digits, nothing after. Returns the value as i128 so callers can wrap or range-check.
pub(crate) fn scan_decimal(text: &str) -> Option<i128> {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Saturate absurdly long numbers instead of failing, as strtoull does.
    let mut value: i128 = 0;
    for b in digits.bytes() {
        value = value
            .saturating_mul(10)
            .saturating_add(i128::from(b - b'0'));
    }
    Some(if neg { -value } else { value })
}

/// Resolves a field reference as written in a condition or output: `name` is the dotted name (possibly
/// with a dotted argument such as `evt.arg.flags`), `arg` the bracketed argument if any.
///
/// Errors use libsinsp's wording (`filter_check called with nonexistent field X`, `unknown event argument
/// X`, `X is not a valid number`, …) with a hint appended where one helps.
pub fn resolve(name: &str, arg: Option<&str>) -> Result<ResolvedField, String> {
    resolve_impl(name, arg, true)
}

/// The fields whose argument may follow a dot (`evt.arg.flags`).
fn dotted_arg_fields() -> &'static [FieldId] {
    static DOTTED: OnceLock<Vec<FieldId>> = OnceLock::new();
    DOTTED.get_or_init(|| {
        all()
            .filter(|id| {
                matches!(
                    id.info().arg,
                    ArgKind::EventArg | ArgKind::EventRawArg | ArgKind::DottedKey
                )
            })
            .collect()
    })
}

/// [`resolve`] without "did you mean" hints in the messages: for callers that try many candidates (the
/// output formatter's longest-prefix search, the misused-field warning), where hints would cost an
/// edit-distance scan per attempt.
pub fn resolve_without_hints(name: &str, arg: Option<&str>) -> Result<ResolvedField, String> {
    resolve_impl(name, arg, false)
}

/// [`resolve`], with "did you mean" hints computed only when `hints` (they cost an edit-distance scan).
fn resolve_impl(name: &str, arg: Option<&str>, hints: bool) -> Result<ResolvedField, String> {
    if let Some(id) = lookup(name) {
        return resolve_arg(id, name, arg);
    }
    // Dotted arguments: the longest field name that is a proper prefix followed by '.'.
    let mut best: Option<FieldId> = None;
    for &id in dotted_arg_fields() {
        let info = id.info();
        if name.len() > info.name.len()
            && name.starts_with(info.name)
            && name.as_bytes().get(info.name.len()) == Some(&b'.')
            && best.is_none_or(|b| b.info().name.len() < info.name.len())
        {
            best = Some(id);
        }
    }
    let Some(id) = best else {
        return Err(if hints {
            unknown_field_message(name, arg)
        } else {
            nonexistent(name, arg)
        });
    };
    let info = id.info();
    let suffix = &name[info.name.len() + 1..];
    if arg.is_some() {
        // libsinsp parses `evt.arg.flags[1]` as `evt.arg.flags` and then finds text left over.
        return Err(nonexistent(name, arg));
    }
    match info.arg {
        ArgKind::EventArg | ArgKind::EventRawArg => match params::longest_param_prefix(suffix) {
            None => {
                let mut msg = format!("unknown event argument {suffix}");
                if hints && let Some(s) = suggest_from(suffix, params::param_names()) {
                    msg.push_str(&format!("; did you mean '{}.{s}'?", info.name));
                }
                Err(msg)
            }
            Some((param, _)) if param.len() == suffix.len() => Ok(ResolvedField {
                id,
                arg: FieldArg::Key(param.to_string()),
            }),
            Some(_) => Err(nonexistent(name, None)),
        },
        _ => resolve_dotted_key(id, name, suffix),
    }
}

fn resolve_dotted_key(id: FieldId, name: &str, suffix: &str) -> Result<ResolvedField, String> {
    let ok = match id.name() {
        "thread.cgroup" => {
            !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_')
        }
        "evt.abspath" => suffix == "src" || suffix == "dst",
        "evt.type.is" => {
            scan_decimal(suffix).is_some_and(|n| (0..=i128::from(u32::MAX)).contains(&n))
                || crate::events::is_known_event_name(suffix)
        }
        _ => true,
    };
    if ok {
        Ok(ResolvedField {
            id,
            arg: FieldArg::Key(suffix.to_string()),
        })
    } else {
        Err(nonexistent(name, None))
    }
}

fn resolve_arg(id: FieldId, name: &str, arg: Option<&str>) -> Result<ResolvedField, String> {
    let info = id.info();
    let make = |arg: FieldArg| Ok(ResolvedField { id, arg });
    match (info.arg, arg) {
        (ArgKind::None, None) => make(FieldArg::None),
        (ArgKind::None, Some(a)) => Err(format!(
            "{}; '{name}' does not take an argument",
            nonexistent(name, Some(a))
        )),
        (ArgKind::IndexAllowed, None) | (ArgKind::KeyAllowed, None) => make(FieldArg::None),
        (ArgKind::IndexAllowed, Some(a)) => match scan_decimal(a) {
            Some(n) if n >= 0 => make(FieldArg::Index(u64::try_from(n).unwrap_or(u64::MAX))),
            _ if name == "fd.types" => Err(format!("{a} is not a valid number")),
            _ => Err(format!(
                "{}; the argument of '{name}' must be a non-negative number (an ancestor level or index)",
                nonexistent(name, Some(a))
            )),
        },
        (ArgKind::KeyAllowed, Some(a)) => {
            if !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) {
                make(FieldArg::Index(
                    scan_decimal(a)
                        .and_then(|n| u64::try_from(n).ok())
                        .unwrap_or(u64::MAX),
                ))
            } else {
                make(FieldArg::Key(a.to_string()))
            }
        }
        (ArgKind::IndexRequired, None) => Err(format!(
            "filter syntax error: {name}; write it with an argument, e.g. '{name}[N]'"
        )),
        (ArgKind::IndexRequired, Some(a)) => match scan_decimal(a) {
            Some(n) => make(FieldArg::Index(n.clamp(0, i128::from(u64::MAX)) as u64)),
            None => Err(format!("{a} is not a valid number")),
        },
        (ArgKind::KeyRequired | ArgKind::IndexOrKeyRequired, None) => Err(format!(
            "filter '{name}': {name} requires an argument but none provided; write '{name}[...]'"
        )),
        (ArgKind::KeyRequired, Some(a)) => make(FieldArg::Key(a.to_string())),
        (ArgKind::IndexOrKeyRequired, Some(a)) => {
            let is_index = !a.is_empty()
                && a.bytes().all(|b| b.is_ascii_digit())
                && !(a.len() > 1 && a.starts_with('0'));
            match (is_index, a.parse::<u64>()) {
                (true, Ok(n)) => make(FieldArg::Index(n)),
                _ => make(FieldArg::Key(a.to_string())),
            }
        }
        (ArgKind::EventArg, Some(a)) => match scan_decimal(a) {
            Some(n) if (0..=i128::from(i32::MAX)).contains(&n) => make(FieldArg::Index(n as u64)),
            Some(_) => Err(format!(
                "{a} is not a valid number; evt.arg[N] takes a parameter position from 0"
            )),
            None => Err(format!(
                "{a} is not a valid number; use evt.arg[N] for a position or evt.arg.NAME for a parameter name"
            )),
        },
        (ArgKind::EventArg, None) => Err(format!(
            "filter syntax error: {name}; name the parameter, e.g. 'evt.arg.fd' or 'evt.arg[0]'"
        )),
        (ArgKind::EventRawArg, Some(_)) => Err(
            "evt.arg fields must be expressed explicitly; write the parameter name, e.g. 'evt.rawarg.res'"
                .to_string(),
        ),
        (ArgKind::EventRawArg, None) => Err(format!(
            "filter syntax error: {name}; name the parameter, e.g. 'evt.rawarg.res'"
        )),
        (ArgKind::DottedKey, Some(a)) => Err(format!("filter syntax error: {name}[{a}]")),
        (ArgKind::DottedKey, None) if name == "evt.abspath" => make(FieldArg::None),
        (ArgKind::DottedKey, None) => Err(format!(
            "filter syntax error: {name}; write the argument after a dot, e.g. '{name}.NAME'"
        )),
    }
}

fn unknown_field_message(name: &str, arg: Option<&str>) -> String {
    let mut msg = nonexistent(name, arg);
    if let Some(s) = suggest(name) {
        msg.push_str(&format!("; did you mean '{s}'?"));
    }
    msg
}

/// Edit distance (Levenshtein) over bytes; small strings only.
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Whether two strings' lengths alone put them more than `limit` edits apart (the edit distance is at
/// least the length difference): such pairs are skipped without computing the distance, which keeps a
/// long misspelled name from costing `len x` every field name's length (a fuzzing finding: a 4 KiB
/// `%proc.aaa…` output field took seconds).
fn too_far(a: &str, b: &str, limit: usize) -> bool {
    a.len().abs_diff(b.len()) > limit
}

fn suggest_from<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.len() / 3).max(2);
    candidates
        .filter(|c| !too_far(name, c, limit))
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// "Did you mean" for a misspelled field name: the closest field by edit distance, also when only the
/// class prefix is wrong (`process.name` → `proc.name`, `evt.typ` → `evt.type`). `None` when nothing is
/// close enough to be a plausible typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    // Only things written like a field name get a suggestion (not quoted text or punctuation).
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    {
        return None;
    }
    let visible = || FIELDS.iter().filter(|f| !f.flags.hidden).map(|f| f.name);
    // A truncated name (`container.image.repo`) most likely means the shortest field it starts.
    if name.contains('.')
        && let Some(s) = visible()
            .filter(|f| f.starts_with(name))
            .min_by_key(|f| f.len())
    {
        return Some(s);
    }
    // Plain typos: within the same class prefix, or at most two edits overall.
    let head_of = |n: &str| n.split('.').next().unwrap_or("").to_string();
    let head = head_of(name);
    let same_class = visible().filter(|f| head_of(f) == head);
    if let Some(s) = suggest_from(name, same_class) {
        return Some(s);
    }
    if let Some((_, s)) = visible()
        .filter(|f| !too_far(name, f, 2))
        .map(|f| (distance(name, f), f))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, f)| (*d, f.len()))
    {
        return Some(s);
    }
    // Dotted-prefix aware: same tail after the class prefix, with the prefix itself a near miss or a
    // common alias (process/thread/event/file/container …).
    let (head, tail) = name.split_once('.')?;
    let alias = match head {
        "process" | "proccess" | "procs" => Some("proc"),
        "event" | "evnt" => Some("evt"),
        "file" | "files" => Some("fd"),
        "usr" | "users" => Some("user"),
        "grp" | "groups" => Some("group"),
        "kubernetes" | "k8" => Some("k8s"),
        "cont" | "containers" => Some("container"),
        _ => None,
    };
    let mut best: Option<(usize, &'static str)> = None;
    for f in visible() {
        let Some((fhead, ftail)) = f.split_once('.') else {
            continue;
        };
        let head_ok =
            alias == Some(fhead) || (!too_far(head, fhead, 2) && distance(head, fhead) <= 2);
        let limit = (tail.len() / 3).max(1);
        if !head_ok || too_far(tail, ftail, limit) {
            continue;
        }
        let d = distance(tail, ftail);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, f));
        }
    }
    best.map(|(_, f)| f)
}

/// Whether `name` (spaces already removed) names a field, with or without an argument — used for the
/// "may be a valid field misused as a const string value" warning.
pub fn names_a_field(text: &str) -> bool {
    let (name, arg) = match text.find('[') {
        Some(open) if text.ends_with(']') => (&text[..open], Some(&text[open + 1..text.len() - 1])),
        Some(_) => return false,
        None => (text, None),
    };
    if name.is_empty() || !name.contains('.') {
        return false;
    }
    resolve_impl(name, arg, false).is_ok()
}
