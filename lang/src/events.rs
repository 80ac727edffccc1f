//! The event catalog: libscap's PPME event table and PPM_SC syscall names, as data.
//!
//! Falco rules name events (`evt.type = openat`), events in captures and from the driver carry a
//! numeric code, and every parameter of an event is decoded by its position and type. All three
//! need the same table, which is the one of current falcosecurity/libs (`driver/event_table.c`,
//! `driver/ppm_events_public.h`): [`EVENT_COUNT`] codes, each with a name, a category, flags and a
//! parameter list. The data lives in the generated submodule `table` (produced by
//! `lang/tools/gen_events.py` from a libs checkout; the commit is [`LIBS_COMMIT`]), this file holds
//! the types and the lookups.
//!
//! Invariants of the table (checked by the unit tests below):
//!
//! - `EVENTS[code].code == code` for every code `0..EVENT_COUNT`; codes are stable across libs
//!   versions (new events are appended), so old captures decode with this table.
//! - Even codes are enter events, odd codes exit events ([`Direction`]).
//! - Every placeholder slot (a code without a real event) is named `NA` with category
//!   [`Category::UNKNOWN`] and flag [`EventFlags::UNUSED`].
//! - Several codes share a name: old versions of a syscall's events keep the name
//!   (`openat` is codes 102, 103, 306 and 307). A name lookup always yields all of them.
//! - Events flagged [`EventFlags::LARGE_PAYLOAD`] store their parameter lengths as `u32`, all others
//!   as `u16`.

mod table;

pub use table::{EVENT_COUNT, LIBS_COMMIT, SC_COUNT, flags, ppme};

/// Whether an event marks the start (enter) or the end (exit) of a syscall or other activity.
///
/// libscap encodes it in the code's parity, so it is computed rather than stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Even codes: the syscall was entered (`>` in sysdig output).
    Enter,
    /// Odd codes: the syscall returned (`<` in sysdig output).
    Exit,
}

impl Direction {
    /// The direction of an event code.
    pub const fn of(code: u16) -> Direction {
        if code.is_multiple_of(2) {
            Direction::Enter
        } else {
            Direction::Exit
        }
    }

    /// The character sysdig and Falco print for it (`evt.dir`).
    pub const fn as_char(self) -> char {
        match self {
            Direction::Enter => '>',
            Direction::Exit => '<',
        }
    }
}

/// An event's `ppm_event_category`: one class in the low bits (file, net, process, …) and one
/// source kind in the high bits (syscall, tracepoint, plugin, meta-event, iterator).
///
/// Kept as the raw bit pattern so that values compare equal to libscap's; the associated
/// constants are the upstream `EC_*` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Category(pub u32);

#[expect(
    missing_docs,
    reason = "the constants are libscap's EC_* values under their own names"
)]
impl Category {
    pub const UNKNOWN: u32 = 0;
    pub const OTHER: u32 = 1;
    pub const FILE: u32 = 2;
    pub const NET: u32 = 3;
    pub const IPC: u32 = 4;
    pub const MEMORY: u32 = 5;
    pub const PROCESS: u32 = 6;
    pub const SLEEP: u32 = 7;
    pub const SYSTEM: u32 = 8;
    pub const SIGNAL: u32 = 9;
    pub const USER: u32 = 10;
    pub const TIME: u32 = 11;
    pub const PROCESSING: u32 = 12;
    pub const IO_READ: u32 = 32;
    pub const IO_WRITE: u32 = 33;
    pub const IO_OTHER: u32 = 34;
    pub const WAIT: u32 = 1 << 6;
    pub const SCHEDULER: u32 = 1 << 7;
    pub const INTERNAL: u32 = 1 << 8;
    pub const SYSCALL: u32 = 1 << 9;
    pub const TRACEPOINT: u32 = 1 << 10;
    pub const PLUGIN: u32 = 1 << 11;
    pub const METAEVENT: u32 = 1 << 12;
    pub const ITER: u32 = 1 << 13;
}

impl Category {
    const KIND_MASK: u32 = Category::INTERNAL
        | Category::SYSCALL
        | Category::TRACEPOINT
        | Category::PLUGIN
        | Category::METAEVENT
        | Category::ITER;

    /// The class part (`EC_FILE`, `EC_NET`, `EC_IO_READ`, …) without the source-kind bits.
    pub const fn class(self) -> u32 {
        self.0 & !Self::KIND_MASK
    }

    /// The class name as `evt.category` renders it (`file`, `net`, `IO_read`, …).
    pub const fn class_name(self) -> &'static str {
        match self.class() {
            Category::OTHER => "other",
            Category::FILE => "file",
            Category::NET => "net",
            Category::IPC => "IPC",
            Category::MEMORY => "memory",
            Category::PROCESS => "process",
            Category::SLEEP => "sleep",
            Category::SYSTEM => "system",
            Category::SIGNAL => "signal",
            Category::USER => "user",
            Category::TIME => "time",
            Category::PROCESSING => "processing",
            Category::IO_READ => "IO_read",
            Category::IO_WRITE => "IO_write",
            Category::IO_OTHER => "IO_other",
            Category::WAIT => "wait",
            Category::SCHEDULER => "scheduler",
            _ => "unknown",
        }
    }

    /// True for events produced by a syscall (the events syscall-source rules are indexed by).
    pub const fn is_syscall(self) -> bool {
        self.0 & Category::SYSCALL != 0
    }

    /// True for tracepoint events (scheduler switch, page faults, signal delivery, procexit).
    pub const fn is_tracepoint(self) -> bool {
        self.0 & Category::TRACEPOINT != 0
    }

    /// True for meta-events (container, async, drop notifications, …).
    pub const fn is_metaevent(self) -> bool {
        self.0 & Category::METAEVENT != 0
    }

    /// True for plugin events.
    pub const fn is_plugin(self) -> bool {
        self.0 & Category::PLUGIN != 0
    }

    /// True for kernel-iterator events (the initial process and fd scan of the modern probe).
    pub const fn is_iter(self) -> bool {
        self.0 & Category::ITER != 0
    }

    /// True for placeholder slots (`EC_UNKNOWN`, named `NA`).
    pub const fn is_unknown(self) -> bool {
        self.0 == Category::UNKNOWN
    }
}

/// An event's `ppm_event_flags` bit set, kept raw; the associated constants are the upstream
/// `EF_*` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventFlags(pub u32);

#[expect(
    missing_docs,
    reason = "the constants are libscap's EF_* values under their own names"
)]
impl EventFlags {
    pub const NONE: u32 = 0;
    pub const CREATES_FD: u32 = 1 << 0;
    pub const DESTROYS_FD: u32 = 1 << 1;
    pub const USES_FD: u32 = 1 << 2;
    pub const READS_FROM_FD: u32 = 1 << 3;
    pub const WRITES_TO_FD: u32 = 1 << 4;
    pub const MODIFIES_STATE: u32 = 1 << 5;
    pub const UNUSED: u32 = 1 << 6;
    pub const WAITS: u32 = 1 << 7;
    pub const SKIPPARSERESET: u32 = 1 << 8;
    pub const OLD_VERSION: u32 = 1 << 9;
    pub const LARGE_PAYLOAD: u32 = 1 << 11;
    pub const CONVERTER_MANAGED: u32 = 1 << 12;
}

impl EventFlags {
    /// True if every bit of `flags` (one or more `EventFlags::*` constants) is set.
    pub const fn contains(self, flags: u32) -> bool {
        self.0 & flags == flags
    }
}

/// The type of an event parameter (`ppm_param_type`); the discriminant is the upstream `PT_*`
/// number. It fixes both the encoding in the event and how the value is rendered and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[expect(
    missing_docs,
    reason = "the variants are libscap's PT_* types under their own names"
)]
pub enum ParamType {
    None = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    Uint8 = 5,
    Uint16 = 6,
    Uint32 = 7,
    Uint64 = 8,
    /// NUL-terminated printable string; the length includes the NUL.
    Charbuf = 9,
    /// Raw bytes (for `args`, `env`, `cgroups`: NUL-terminated strings concatenated).
    Bytebuf = 10,
    /// Syscall return value, `i64`; negative values are `-errno`.
    Errno = 11,
    /// u8 family, then the address (see the spec §2.2).
    Sockaddr = 12,
    /// u8 family, then source and destination address and port.
    Socktuple = 13,
    /// A file descriptor, `i64`.
    Fd = 14,
    /// A pid or tid, `i64`.
    Pid = 15,
    /// u16 count, then count × (u64 fd, u16 flags).
    Fdlist = 16,
    /// NUL-terminated absolute or cwd-relative path.
    Fspath = 17,
    /// A u16 `PPM_SC_*` code (see [`sc_name`]).
    SyscallId = 18,
    /// A u8 signal number.
    Sigtype = 19,
    /// Relative time in ns, u64.
    Reltime = 20,
    /// Absolute time in ns since the epoch, u64.
    Abstime = 21,
    Port = 22,
    L4proto = 23,
    Sockfamily = 24,
    /// 4 bytes.
    Bool = 25,
    Ipv4addr = 26,
    /// u8 selector into the parameter's [`DynTable`], then a value of the selected type.
    Dyn = 27,
    Flags8 = 28,
    Flags16 = 29,
    Flags32 = 30,
    /// u32; `u32::MAX` means "no value".
    Uid = 31,
    /// u32; `u32::MAX` means "no value".
    Gid = 32,
    Double = 33,
    /// Lower 32 bits of a `sigset_t`.
    Sigset = 34,
    CharbufArray = 35,
    CharbufPairArray = 36,
    Ipv4net = 37,
    Ipv6addr = 38,
    Ipv6net = 39,
    Ipaddr = 40,
    Ipnet = 41,
    /// u32 file mode bits.
    Mode = 42,
    /// NUL-terminated path relative to the dirfd named by [`ParamAux::DirFd`].
    Fsrelpath = 43,
    Enumflags8 = 44,
    Enumflags16 = 45,
    Enumflags32 = 46,
    Fd32 = 47,
    Pid32 = 48,
}

impl ParamType {
    /// The encoded size of fixed-size types; `None` for variable-length ones (strings, buffers,
    /// addresses, dyn values, lists) and for types that never appear in driver events.
    pub const fn fixed_len(self) -> Option<usize> {
        use ParamType as T;
        match self {
            T::Int8
            | T::Uint8
            | T::Flags8
            | T::Enumflags8
            | T::Sigtype
            | T::L4proto
            | T::Sockfamily => Some(1),
            T::Int16 | T::Uint16 | T::Flags16 | T::Enumflags16 | T::Port | T::SyscallId => Some(2),
            T::Int32
            | T::Uint32
            | T::Flags32
            | T::Enumflags32
            | T::Uid
            | T::Gid
            | T::Mode
            | T::Bool
            | T::Sigset
            | T::Ipv4addr
            | T::Fd32
            | T::Pid32 => Some(4),
            T::Int64
            | T::Uint64
            | T::Errno
            | T::Fd
            | T::Pid
            | T::Reltime
            | T::Abstime
            | T::Double => Some(8),
            T::Ipv6addr => Some(16),
            _ => None,
        }
    }

    /// True for the NUL-terminated string types.
    pub const fn is_string(self) -> bool {
        matches!(
            self,
            ParamType::Charbuf | ParamType::Fspath | ParamType::Fsrelpath
        )
    }
}

/// How a numeric parameter is rendered (`ppm_print_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PrintFormat {
    /// Not applicable (strings, buffers, addresses).
    Na = 0,
    /// Decimal.
    Dec = 1,
    /// Hexadecimal.
    Hex = 2,
    /// Decimal padded to 10 digits (fractional part of a ns timestamp).
    PaddedDec = 3,
    /// An identifier.
    Id = 4,
    /// A direction.
    Dir = 5,
    /// Octal (file modes).
    Oct = 6,
}

/// Names for the values of a flags or enum-flags parameter (`ppm_name_value[]`), in upstream
/// order; rendering `O_RDWR|O_CREAT` walks it.
#[derive(Debug)]
pub struct FlagTable {
    /// The upstream table name, e.g. `file_flags`.
    pub name: &'static str,
    /// `(name, PPM value)` pairs. Values are libscap's PPM encoding, not the kernel's.
    pub values: &'static [(&'static str, u32)],
}

impl FlagTable {
    /// The name of an exact value (for enum-like tables such as `fcntl_commands`).
    pub fn name_of(&self, value: u32) -> Option<&'static str> {
        self.values
            .iter()
            .find(|(_, v)| *v == value)
            .map(|(name, _)| *name)
    }

    /// The value of a name (`O_CREAT` → `PPM_O_CREAT`).
    pub fn value_of(&self, name: &str) -> Option<u32> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| *value)
    }

    /// Renders a flags value as libsinsp does for `PT_FLAGS*` (`O_CREAT|O_RDWR`): table order,
    /// each matching entry's bits removed before the next (so `O_RDWR` hides `O_WRONLY`), a zero
    /// entry only for a zero value, stopping at an entry equal to the whole value. Bits no entry
    /// names are not shown; an empty string means nothing matched.
    pub fn render_flags(&self, value: u32) -> String {
        let mut out = String::new();
        let mut rest = value;
        for &(name, v) in self.values {
            let matched = (v == 0 && value == 0) || (v != 0 && rest & v == v && rest != 0);
            if matched {
                rest &= !v;
                push_flag(&mut out, name);
                if v == value {
                    break;
                }
            }
        }
        out
    }

    /// Renders an enum value as libsinsp does for `PT_ENUMFLAGS*`: every entry equal to the value,
    /// joined with `|` (tables may have aliases, e.g. `AF_LOCAL|AF_UNIX`).
    pub fn render_enum(&self, value: u32) -> String {
        let mut out = String::new();
        for &(name, v) in self.values {
            if v == value {
                push_flag(&mut out, name);
            }
        }
        out
    }

    /// Renders a `PT_MODE` value as libsinsp does: like [`FlagTable::render_flags`], but the walk
    /// stops at the first entry equal to the whole value, which is then appended.
    pub fn render_mode(&self, value: u32) -> String {
        let mut out = String::new();
        let mut rest = value;
        for &(name, v) in self.values {
            if v == value {
                push_flag(&mut out, name);
                break;
            }
            if (v == 0 && value == 0) || (v != 0 && rest & v == v && rest != 0) {
                push_flag(&mut out, name);
                rest &= !v;
            }
        }
        out
    }
}

fn push_flag(out: &mut String, name: &str) {
    if !out.is_empty() {
        out.push('|');
    }
    out.push_str(name);
}

/// The possible types of a `PT_DYN` parameter, indexed by the selector byte stored before its value.
#[derive(Debug)]
pub struct DynTable {
    /// The upstream table name, e.g. `ptrace_dynamic_param`.
    pub name: &'static str,
    /// `(type, format)` per selector value.
    pub types: &'static [(ParamType, PrintFormat)],
}

/// Extra information attached to some parameters (`ppm_param_info.info`).
#[derive(Debug, Clone, Copy)]
pub enum ParamAux {
    /// Nothing attached.
    None,
    /// The value table of a flags/enum-flags/mode parameter.
    Flags(&'static FlagTable),
    /// For an `Fsrelpath` parameter: the index of the dirfd parameter it is relative to.
    DirFd(u8),
    /// For a `Dyn` parameter: its selector table.
    Dyn(&'static DynTable),
}

/// One parameter of an event: its name (as in `evt.arg.NAME`), type and print format.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    /// Parameter name, e.g. `fd`, `name`, `flags`.
    pub name: &'static str,
    /// Encoding and semantic type.
    pub ty: ParamType,
    /// Rendering of numbers.
    pub fmt: PrintFormat,
    /// Flag table, dirfd reference or dyn table, when the type needs one.
    pub aux: ParamAux,
}

impl ParamInfo {
    /// The flag table of a flags, enum-flags or mode parameter.
    pub fn flag_table(&self) -> Option<&'static FlagTable> {
        match self.aux {
            ParamAux::Flags(table) => Some(table),
            _ => None,
        }
    }
}

/// One entry of the event table (`ppm_event_info`).
#[derive(Debug)]
pub struct EventInfo {
    /// The event code (`ppm_event_code`), equal to the entry's index.
    pub code: u16,
    /// The event name as `evt.type` shows it; placeholders are `NA`.
    pub name: &'static str,
    /// Class and source kind.
    pub category: Category,
    /// `EF_*` flags.
    pub flags: EventFlags,
    /// The parameters current libs emit, in order. Older captures may carry fewer (or, for
    /// events later extended, the same prefix): decode by position, never assume the count.
    pub params: &'static [ParamInfo],
}

impl EventInfo {
    /// Enter or exit, from the code's parity.
    pub const fn direction(&self) -> Direction {
        Direction::of(self.code)
    }

    /// `EF_OLD_VERSION`: kept only to read old captures; current drivers no longer emit it.
    pub const fn is_old_version(&self) -> bool {
        self.flags.contains(EventFlags::OLD_VERSION)
    }

    /// `EF_LARGE_PAYLOAD`: parameter lengths are `u32` instead of `u16`.
    pub const fn is_large_payload(&self) -> bool {
        self.flags.contains(EventFlags::LARGE_PAYLOAD)
    }

    /// `EF_UNUSED`: a placeholder or an event nothing emits.
    pub const fn is_unused(&self) -> bool {
        self.flags.contains(EventFlags::UNUSED)
    }

    /// `EF_MODIFIES_STATE`: must reach the state engine even when no rule wants it.
    pub const fn modifies_state(&self) -> bool {
        self.flags.contains(EventFlags::MODIFIES_STATE)
    }

    /// The index of the parameter with this name.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }
}

/// The codes of the generic syscall events (`PPME_GENERIC_E`/`_X`): syscalls without a
/// dedicated event, whose first parameter is the `PPM_SC_*` code. A syscall name that is not
/// an event name (e.g. `chdir` is, `getpid` is not) resolves to these.
pub const GENERIC_CODES: [u16; 2] = [ppme::GENERIC_E, ppme::GENERIC_X];

/// The entry of an event code, or `None` for codes beyond this table (newer drivers, corrupt
/// input).
pub fn event(code: u16) -> Option<&'static EventInfo> {
    table::EVENTS.get(usize::from(code))
}

/// The whole table, indexed by code.
pub fn events() -> &'static [EventInfo] {
    &table::EVENTS
}

/// The lower-case `PPM_SC_*` name of a syscall code (`open`, `getpid`, …); `None` for codes
/// out of range and for the gaps of the numbering.
pub fn sc_name(code: u16) -> Option<&'static str> {
    table::SC_NAMES
        .get(usize::from(code))
        .copied()
        .filter(|name| !name.is_empty())
}

/// The syscall code of a lower-case syscall name.
pub fn sc_code(name: &str) -> Option<u16> {
    table::SC_BY_NAME
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .and_then(|i| table::SC_BY_NAME.get(i))
        .map(|(_, code)| *code)
}

/// The 2018–2019 spelling of the `unknown` syscall name (libscap's dummy entry, PPM_SC 0). Rules of that era
/// (the falco-extras application profiles) write `evt.type in ("<unknown>", ...)`; current libsinsp rejects
/// the spelling as an unknown event type. frule deliberately accepts it as an alias of `unknown`, so those
/// files still load — the one place where frule accepts a condition current Falco rejects.
pub const LEGACY_UNKNOWN_NAME: &str = "<unknown>";

/// `<unknown>` → `unknown` (see [`LEGACY_UNKNOWN_NAME`]); every other name unchanged.
fn canonical_event_name(name: &str) -> &str {
    if name == LEGACY_UNKNOWN_NAME {
        "unknown"
    } else {
        name
    }
}

/// True if `name` is accepted as an `evt.type` value: an event name of any code (including
/// `syscall` and `NA`) or a syscall name (including `unknown`, and its legacy spelling `<unknown>`),
/// exactly as libsinsp's "unknown event type" check accepts them. Plugin async-event names are not
/// known here.
pub fn is_known_event_name(name: &str) -> bool {
    let name = canonical_event_name(name);
    table::EVENTS.iter().any(|e| e.name == name) || table::SC_NAMES.contains(&name)
}

/// All event codes an `evt.type` value covers, as libsinsp's `names_to_event_set` computes
/// them: the codes of every event with that name (codes 0 and 1, named `syscall`, excluded);
/// otherwise, for a syscall name, the two generic codes; otherwise nothing. Sorted ascending.
pub fn codes_for_name(name: &str) -> &'static [u16] {
    let name = canonical_event_name(name);
    if let Ok(i) = table::EVENT_NAME_CODES.binary_search_by(|(n, _)| (*n).cmp(name))
        && let Some((_, codes)) = table::EVENT_NAME_CODES.get(i)
    {
        return codes;
    }
    if table::SC_NAMES.contains(&name) {
        return &GENERIC_CODES;
    }
    &[]
}

/// The syscall codes (`PPM_SC_*`) an event code can be produced by (libscap's
/// `g_events_to_sc_map`): what a capture must enable to see the event. The generic pair maps to
/// every syscall without events of its own; metaevents and placeholders map to nothing.
pub fn sc_codes_of_event(code: u16) -> &'static [u16] {
    table::EVENT_SC
        .get(usize::from(code))
        .copied()
        .unwrap_or(&[])
}

/// One entry of the native syscall table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeSyscall {
    /// The kernel's syscall number (x86_64).
    pub nr: u16,
    /// Its `PPM_SC_*` code.
    pub sc: u16,
    /// The enter event the drivers emit for it (the generic pair for syscalls without events).
    pub enter: u16,
    /// The exit event.
    pub exit: u16,
    /// `UF_*` flags: 1 used, 2 never drop, 4 always drop, 16 atomic.
    pub flags: u32,
}

/// The x86_64 syscall table entry of a native syscall number (from `driver/syscall_table.c`).
pub fn x86_64_syscall(nr: u16) -> Option<NativeSyscall> {
    let i = table::X86_64_SYSCALLS
        .binary_search_by_key(&nr, |e| e.0)
        .ok()?;
    table::X86_64_SYSCALLS
        .get(i)
        .map(|&(nr, sc, enter, exit, flags)| NativeSyscall {
            nr,
            sc,
            enter,
            exit,
            flags,
        })
}

/// Every x86_64 syscall the drivers know, by ascending number.
pub fn x86_64_syscalls() -> impl Iterator<Item = NativeSyscall> {
    table::X86_64_SYSCALLS
        .iter()
        .map(|&(nr, sc, enter, exit, flags)| NativeSyscall {
            nr,
            sc,
            enter,
            exit,
            flags,
        })
}

/// The distinct event names in ascending order (codes 2.. only, as [`codes_for_name`] sees them).
pub fn event_names() -> impl Iterator<Item = &'static str> {
    table::EVENT_NAME_CODES.iter().map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_indices_and_placeholders_are_marked() {
        assert_eq!(events().len(), EVENT_COUNT);
        for (i, e) in events().iter().enumerate() {
            assert_eq!(usize::from(e.code), i);
            if e.category.is_unknown() {
                assert_eq!(e.name, "NA", "code {i}");
                assert!(e.is_unused(), "code {i}");
            }
        }
    }

    #[test]
    fn known_facts_of_the_table() {
        // from the spec's table of core events (capture-and-scap.md §2.3)
        let open_x = event(ppme::SYSCALL_OPEN_X).expect("open_x");
        assert_eq!(open_x.name, "open");
        assert_eq!(open_x.direction(), Direction::Exit);
        let names: Vec<_> = open_x.params.iter().map(|p| p.name).collect();
        assert_eq!(names, ["fd", "name", "flags", "mode", "dev", "ino"]);
        assert_eq!(
            open_x.params[2].flag_table().map(|t| t.name),
            Some("file_flags")
        );
        assert_eq!(flags::FILE_FLAGS.value_of("O_CREAT"), Some(4));
        assert_eq!(flags::FILE_FLAGS.value_of("O_RDWR"), Some(3));
        assert_eq!(ppme::SYSCALL_OPENAT_2_E, 306);
        assert_eq!(ppme::SYSCALL_EXECVE_19_X, 293);
        assert!(event(ppme::CONTAINER_JSON_2_E).is_some_and(EventInfo::is_large_payload));
        assert!(event(ppme::SYSCALL_CLOSE_E).is_some_and(EventInfo::is_old_version));
        assert!(event(EVENT_COUNT as u16).is_none());
        assert_eq!(sc_name(0), Some("unknown"));
        assert_eq!(sc_code("openat"), Some(197));
        assert_eq!(sc_name(382), None); // commented out upstream (PPM_SC_X(NA_1, 382))
    }

    #[test]
    fn syscall_tables() {
        let openat = sc_code("openat").unwrap_or(0);
        assert_eq!(sc_codes_of_event(ppme::SYSCALL_OPENAT_2_X), [openat]);
        assert!(sc_codes_of_event(ppme::GENERIC_E).contains(&sc_code("getpid").unwrap_or(0)));
        assert!(sc_codes_of_event(ppme::PROCINFO_E).is_empty());
        // x86_64: openat is 257, getpid 39
        let e = x86_64_syscall(257).expect("openat");
        assert_eq!((e.sc, e.enter, e.exit), (openat, 306, 307));
        let g = x86_64_syscall(39).expect("getpid");
        assert_eq!((g.enter, g.exit), (0, 1));
        assert!(x86_64_syscalls().count() > 300);
    }

    #[test]
    fn flag_rendering() {
        let creat_rdwr = flags::FILE_FLAGS.value_of("O_CREAT").unwrap_or(0) | 3;
        assert_eq!(flags::FILE_FLAGS.render_flags(creat_rdwr), "O_CREAT|O_RDWR");
        assert_eq!(flags::FILE_FLAGS.render_flags(1), "O_RDONLY");
        assert_eq!(flags::FILE_FLAGS.render_flags(0), "O_NONE");
        assert_eq!(flags::SOCKET_FAMILIES.render_enum(1), "AF_LOCAL|AF_UNIX");
        assert_eq!(flags::SOCKET_FAMILIES.render_enum(2), "AF_INET");
    }

    #[test]
    fn name_lookup() {
        assert_eq!(codes_for_name("openat"), [102, 103, 306, 307]);
        assert_eq!(codes_for_name("open"), [2, 3]);
        assert_eq!(codes_for_name("getpid"), GENERIC_CODES);
        assert_eq!(codes_for_name("syscall"), [] as [u16; 0]);
        assert_eq!(codes_for_name("nosuchcall"), [] as [u16; 0]);
        assert!(is_known_event_name("syscall"));
        assert!(is_known_event_name("getpid"));
        assert!(is_known_event_name("openat"));
        assert!(is_known_event_name("NA"));
        assert!(!is_known_event_name("nosuchcall"));
        assert!(is_known_event_name(LEGACY_UNKNOWN_NAME));
        assert_eq!(
            codes_for_name(LEGACY_UNKNOWN_NAME),
            codes_for_name("unknown")
        );
        assert!(!is_known_event_name("OPEN"));
    }
}
