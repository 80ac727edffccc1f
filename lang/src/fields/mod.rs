//! The field schema: every field a syscall-source condition or output may name.
//!
//! This table is the single source of truth for field names, types, arguments and descriptions. The type
//! checker, `frulec fields`, the IR lowering and the runtime's extractors all read it; nothing else lists
//! fields. Types and flags mirror libsinsp's (`PT_*` types, `EPF_*` flags) so that Falco's type rules
//! (spec B.1) apply unchanged.

mod table;

use std::fmt;

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
        }
    }

    /// Which operator class (spec B.1) the type belongs to.
    pub fn class(self) -> TypeClass {
        use FieldType::*;
        match self {
            Int8 | Int16 | Int32 | Int64 | Uint8 | Uint16 | Uint32 | Uint64 | Errno | Fd | Pid
            | SyscallId | SigType | RelTime | AbsTime | Port | Flags8 | Flags16 | Flags32
            | EnumFlags8 | EnumFlags16 | EnumFlags32 | Mode | Double | Uid | Gid => TypeClass::Numeric,
            Bool => TypeClass::Bool,
            CharBuf | FsPath | FsRelPath => TypeClass::String,
            ByteBuf => TypeClass::Buffer,
            IpAddr | Ipv4Addr | Ipv6Addr | IpNet | Ipv4Net | Ipv6Net => TypeClass::Ip,
            L4Proto | SockFamily | SigSet => TypeClass::Other,
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether and how a field takes a `[arg]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// No argument allowed.
    None,
    /// A numeric index is required (`evt.arg[0]`-style fields that only take numbers).
    IndexRequired,
    /// A numeric index is allowed (`proc.aname` and `proc.aname[2]`).
    IndexAllowed,
    /// A key (any text) is required (`proc.env[HOME]` style).
    KeyRequired,
    /// A key is allowed.
    KeyAllowed,
    /// A numeric index or a name is required (`evt.arg[0]`, `evt.arg[fd]`).
    IndexOrKeyRequired,
    /// The argument is written after a dot (`evt.arg.flags`, `evt.rawarg.res`): the field is a prefix and
    /// any `.name` suffix is the argument.
    DottedKey,
}

/// Per-field properties beyond the type (libsinsp's `EPF_*` flags that matter to the compiler).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldFlags {
    /// The field yields several values (`EPF_IS_LIST`); only `in`, `intersects` and `exists` apply.
    pub list: bool,
    /// Deprecated (`EPF_DEPRECATED`); using it gives `LOAD_DEPRECATED_ITEM`.
    pub deprecated: bool,
    /// May not be the right side of a field comparison (`EPF_NO_RHS`).
    pub no_rhs: bool,
    /// May not be wrapped in a transformer (`EPF_NO_TRANSFORMER`).
    pub no_transformer: bool,
    /// Only usable in outputs, not in conditions (`EPF_PRINT_ONLY`).
    pub print_only: bool,
    /// Only usable in conditions, not in outputs (`EPF_FILTER_ONLY`).
    pub filter_only: bool,
}

/// One field of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    /// The field's name, e.g. `proc.name`.
    pub name: &'static str,
    /// The field class it belongs to, e.g. `process`, as `falco --list` groups fields.
    pub class: &'static str,
    /// The value type.
    pub ty: FieldType,
    /// Whether it takes an argument, and which kind.
    pub arg: ArgKind,
    /// Properties beyond the type.
    pub flags: FieldFlags,
    /// What the field is, for `frulec fields` and for hover help.
    pub desc: &'static str,
}

/// Identifies a field of [`FIELDS`] by its index, Cranelift-entity style.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

impl FieldId {
    /// The field this id names.
    pub fn info(self) -> &'static FieldInfo {
        &FIELDS[self.0 as usize]
    }
}
