//! How compiled code reads event fields: the contract between the engine and whoever owns the event.
//!
//! Compiled conditions never look inside an event. They ask a [`FieldSource`] for one field at a time
//! (a [`FieldId`] of the schema plus an optional [`FieldArg`]) and get the values written into a reusable
//! [`ValueBuf`]. The runtime implements [`FieldSource`] over decoded syscall events and its state tables;
//! [`MapEvent`] is a plain in-memory implementation for tests and for `frulec test`.
//!
//! Invariants of the contract:
//! - `extract` returns `false` when the field is not available for this event (Falco's failed extraction,
//!   spec B.3); the buffer contents are then ignored. Every check on a missing value is false.
//! - on success a scalar field pushes exactly one item; a list field pushes zero or more items;
//! - a *multi-valued* scalar field (the field's [`MultiValue`] is not `Single` and it has no argument)
//!   pushes every value it stands for: `proc.aname` one item per ancestor, parent first;
//!   `fd.ip`/`fd.port`/`fd.net`/`fd.proto` the client then the server end of a connected socket (one
//!   item for a listening socket); `fd.*ip.name` the names whose addresses include the socket's. Pushing
//!   no item means missing, except for DNS names ([`MultiValue::Names`]), where it means an address
//!   no name resolves to. Compiled code compares such a field
//!   value by value (some value must satisfy the check; for `Endpoints`, `!=` must hold for every
//!   value), and a transformer or output sees the first value;
//! - every pushed item has the representation of the field's [`ScalarKind`]: numbers as `u64`/`i64`/`f64`
//!   already widened to 64 bits, strings and buffers as raw bytes (never re-encoded, invalid UTF-8 kept;
//!   trailing NUL terminators of strings are allowed and ignored, as libsinsp ignores them),
//!   addresses as [`IpAddr`] (also for `ipnet` fields, whose *constants* are networks);
//! - the buffer is cleared by the caller before each `extract`, and reused across events, so steady-state
//!   extraction allocates nothing.
//!
//! # Fixed-offset numeric fields
//!
//! The cheap numeric fields rules compare most (`fd.num`, `evt.rawres`, `evt.is_open_read`,
//! `user.uid`, `proc.vpid`, … — [`FIXED_FIELD_NAMES`]) also have a second way out of a source: a
//! [`FixedFields`] block of plain `u64` values at fixed offsets with a presence bitmask, filled once
//! per event by [`FieldSource::fixed_fields`] for the fields a compiled program asks for. The JIT
//! compares such a field with `load mask; test bit; load value; icmp`, the VM with one step that
//! tests the bit and the value, both without a call and without the per-event cache. The layout is
//! a fixed ABI table (index `i` of [`FIXED_FIELD_NAMES`] is bit `i` of [`FixedFields::present`] and
//! `values[i]`), so code compiled once runs with every source.
//!
//! Invariants of the block (what makes both ways give the same answers):
//! - bit `i` is set exactly when `extract` of field `i` without an argument succeeds with exactly
//!   one item that the field's [`ScalarKind`] compares as a number ([`fixed_bits`]): an `i64`, `u64`
//!   or `bool` item for `int`/`uint` fields, a `bool` item for `bool` fields;
//! - then `values[i]` holds that item's 64 bits (an `i64` as its two's complement, a `bool` as 0/1);
//! - a source that has no faster way inherits the default, which extracts each wanted field through
//!   [`FieldSource::extract`] ([`fill_fixed_by_extract`]), so the block is exact by construction.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

pub use frule_lang::fields::{FieldId, MultiValue};

/// The argument of a field, as in `proc.aname[2]` or `proc.env[HOME]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldArg {
    /// A numeric index (`proc.aname[2]`, `evt.arg[0]`).
    Index(u64),
    /// A key (`proc.env[HOME]`, `evt.arg[fd]`); may be empty (`[""]`).
    Key(String),
}

impl fmt::Display for FieldArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldArg::Index(i) => write!(f, "{i}"),
            FieldArg::Key(k) => f.write_str(k),
        }
    }
}

/// The representation class of one extracted item. Operator semantics (spec B.4) are stated per class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarKind {
    /// Signed integers (`int*`, `errno`, `fd`, `pid`, `reltime`…), widened to `i64`.
    Int,
    /// Unsigned integers (`uint*`, flags, ports, `abstime`, uid/gid…), widened to `u64`.
    Uint,
    /// `double`.
    Double,
    /// `bool`.
    Bool,
    /// Strings (`charbuf`, `fspath`, `fsrelpath`): raw bytes, possibly invalid UTF-8.
    Str,
    /// Raw buffers (`bytebuf`).
    Bytes,
    /// An IPv4 or IPv6 address, compared by equality.
    Ip,
    /// An address compared by CIDR membership against network constants (`ipnet` fields).
    Net,
}

impl ScalarKind {
    /// The name used in the textual IR.
    pub fn name(self) -> &'static str {
        match self {
            ScalarKind::Int => "int",
            ScalarKind::Uint => "uint",
            ScalarKind::Double => "double",
            ScalarKind::Bool => "bool",
            ScalarKind::Str => "str",
            ScalarKind::Bytes => "bytes",
            ScalarKind::Ip => "ip",
            ScalarKind::Net => "net",
        }
    }

    /// The kind named `s` in the textual IR.
    pub fn from_name(s: &str) -> Option<ScalarKind> {
        [
            ScalarKind::Int,
            ScalarKind::Uint,
            ScalarKind::Double,
            ScalarKind::Bool,
            ScalarKind::Str,
            ScalarKind::Bytes,
            ScalarKind::Ip,
            ScalarKind::Net,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }

    /// Strings and buffers: the classes whose items are byte strings.
    pub fn is_bytes_like(self) -> bool {
        matches!(self, ScalarKind::Str | ScalarKind::Bytes)
    }

    /// Integers and doubles.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ScalarKind::Int | ScalarKind::Uint | ScalarKind::Double
        )
    }
}

impl fmt::Display for ScalarKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An IP network in CIDR form (`10.0.0.0/8`, `2001:db8::/32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpNet {
    /// The network address (host bits are ignored when matching).
    pub addr: IpAddr,
    /// The prefix length in bits (at most 32 for IPv4, 128 for IPv6).
    pub prefix: u8,
}

impl IpNet {
    /// Whether `ip` lies in this network. An IPv4 address is never in an IPv6 network and vice versa,
    /// which matches libsinsp (`==` false, `!=` true across families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let p = u32::from(self.prefix.min(32));
                let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                (u32::from(n) & mask) == (u32::from(a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let p = u32::from(self.prefix.min(128));
                let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
                (u128::from(n) & mask) == (u128::from(a) & mask)
            }
            _ => false,
        }
    }

    /// Parses `addr/prefix`; a bare address is a host network (`/32` or `/128`).
    pub fn parse(s: &str) -> Option<IpNet> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpNet { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// One extracted item, borrowed from a [`ValueBuf`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A double.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// A string or buffer.
    Bytes(&'a [u8]),
    /// An address.
    Ip(IpAddr),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Item {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Bytes(u32, u32),
    Ip(IpAddr),
}

/// A reusable buffer receiving the values of one extracted field: one item for scalar fields, any number
/// for list fields. Byte strings live in one shared byte vector so that clearing and refilling the
/// buffer does not allocate once it has grown. The small methods are `#[inline]`: field sources in
/// other crates call them on every extraction, and a call costs as much as the push itself.
#[derive(Clone, Debug, Default)]
pub struct ValueBuf {
    items: Vec<Item>,
    bytes: Vec<u8>,
}

impl ValueBuf {
    /// An empty buffer, usable in constants.
    pub const EMPTY: ValueBuf = ValueBuf {
        items: Vec::new(),
        bytes: Vec::new(),
    };

    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every item, keeping the allocations.
    #[inline]
    pub fn clear(&mut self) {
        self.items.clear();
        self.bytes.clear();
    }

    /// How many items were pushed.
    #[inline]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item was pushed.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Appends a signed integer.
    #[inline]
    pub fn push_i64(&mut self, v: i64) {
        self.items.push(Item::I64(v));
    }

    /// Appends an unsigned integer.
    #[inline]
    pub fn push_u64(&mut self, v: u64) {
        self.items.push(Item::U64(v));
    }

    /// Appends a double.
    #[inline]
    pub fn push_f64(&mut self, v: f64) {
        self.items.push(Item::F64(v));
    }

    /// Appends a boolean.
    #[inline]
    pub fn push_bool(&mut self, v: bool) {
        self.items.push(Item::Bool(v));
    }

    /// Appends a string or buffer (copied into the shared byte storage).
    #[inline]
    pub fn push_bytes(&mut self, v: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(v);
        // Offsets are u32: one event's values stay far below 4 GiB (scap events are at most 64 KiB
        // per parameter); saturate rather than wrap if a source ever exceeds it.
        let s = u32::try_from(start).unwrap_or(u32::MAX);
        let e = u32::try_from(self.bytes.len()).unwrap_or(u32::MAX);
        self.items.push(Item::Bytes(s, e));
    }

    /// Appends an address.
    #[inline]
    pub fn push_ip(&mut self, v: IpAddr) {
        self.items.push(Item::Ip(v));
    }

    /// Appends one item given as a [`ValueRef`].
    #[inline]
    pub fn push(&mut self, v: ValueRef<'_>) {
        match v {
            ValueRef::I64(x) => self.push_i64(x),
            ValueRef::U64(x) => self.push_u64(x),
            ValueRef::F64(x) => self.push_f64(x),
            ValueRef::Bool(x) => self.push_bool(x),
            ValueRef::Bytes(x) => self.push_bytes(x),
            ValueRef::Ip(x) => self.push_ip(x),
        }
    }

    /// The item at `i`, if any.
    #[inline]
    pub fn get(&self, i: usize) -> Option<ValueRef<'_>> {
        Some(match *self.items.get(i)? {
            Item::I64(x) => ValueRef::I64(x),
            Item::U64(x) => ValueRef::U64(x),
            Item::F64(x) => ValueRef::F64(x),
            Item::Bool(x) => ValueRef::Bool(x),
            Item::Bytes(s, e) => {
                ValueRef::Bytes(self.bytes.get(s as usize..e as usize).unwrap_or(&[]))
            }
            Item::Ip(x) => ValueRef::Ip(x),
        })
    }

    /// Drops trailing NUL bytes from every byte-string item. String parameters in scap events carry their
    /// C terminator; libsinsp ignores trailing NULs of string values (`craft_filter_value`), so the VM
    /// applies this to every extracted `str` value.
    pub fn trim_trailing_nuls(&mut self) {
        for item in &mut self.items {
            if let Item::Bytes(s, e) = item {
                while *e > *s && self.bytes.get(*e as usize - 1) == Some(&0) {
                    *e -= 1;
                }
            }
        }
    }

    /// Every item in order.
    pub fn iter(&self) -> impl Iterator<Item = ValueRef<'_>> + '_ {
        (0..self.items.len()).filter_map(|i| self.get(i))
    }
}

/// Where compiled conditions get field values from. Implemented by the runtime over live events.
pub trait FieldSource {
    /// Extracts `field` (with its argument) into `out`, which the caller has cleared. Returns `false` when
    /// the field is not available for this event; a check on it is then false (spec B.3).
    fn extract(&mut self, field: FieldId, arg: Option<&FieldArg>, out: &mut ValueBuf) -> bool;

    /// Fills `block` with the fixed-offset numeric fields whose bits are set in `wanted` (bit `i` =
    /// [`FIXED_FIELD_NAMES`]`[i]`), following the invariants of the module docs: `present` gets a
    /// bit for each wanted field that is present, `values` its value. Called at most once per event
    /// by compiled code (the JIT's or the VM's), before the rules run, and only when the program
    /// compares such a field; `block` arrives with `present == 0`.
    ///
    /// The default extracts each wanted field through [`FieldSource::extract`]. Sources that hold
    /// these values decoded (the runtime's event view) override it to skip the generic path.
    fn fixed_fields(&mut self, wanted: u64, block: &mut FixedFields) {
        let mut scratch = ValueBuf::new();
        fill_fixed_by_extract(self, wanted, block, &mut scratch);
    }
}

/// The fixed-offset numeric fields, by their index in [`FixedFields`] (see the module docs). Every
/// one is a single-valued schema field without an argument whose values are `int`, `uint` or `bool`,
/// and that the upstream rules compare with constants.
pub const FIXED_FIELD_NAMES: [&str; FIXED_FIELDS] = [
    "evt.num",
    "evt.rawres",
    "evt.failed",
    "evt.is_open_read",
    "evt.is_open_write",
    "evt.is_open_exec",
    "evt.is_open_create",
    "fd.num",
    "fd.connected",
    "fd.name_changed",
    "fd.sport",
    "fd.cport",
    "user.uid",
    "user.loginuid",
    "group.gid",
    "proc.pid",
    "proc.vpid",
    "thread.tid",
    "thread.vtid",
    "proc.is_exe_writable",
    "proc.is_exe_upper_layer",
    "proc.is_exe_from_memfd",
    "proc.is_sid_leader",
    "proc.is_vpgid_leader",
];

/// How many fixed-offset fields there are (at most 64: one bit each in [`FixedFields::present`]).
pub const FIXED_FIELDS: usize = 24;

/// One event's fixed-offset numeric fields (see the module docs). `repr(C)`: compiled code loads
/// `present` at offset 0 and `values[i]` at offset `8 + 8 i`.
#[repr(C)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedFields {
    /// Bit `i`: field `i` is present in this event and `values[i]` holds it.
    pub present: u64,
    /// The values' bits (only meaningful where `present` has the bit).
    pub values: [u64; FIXED_FIELDS],
}

impl Default for FixedFields {
    fn default() -> Self {
        FixedFields::EMPTY
    }
}

impl FixedFields {
    /// No field present.
    pub const EMPTY: FixedFields = FixedFields {
        present: 0,
        values: [0; FIXED_FIELDS],
    };

    /// Records field `i` as present with `bits`, or as missing (`None`).
    #[inline]
    pub fn set(&mut self, i: usize, bits: Option<u64>) {
        let bit = 1u64 << (i % 64);
        match (bits, self.values.get_mut(i)) {
            (Some(v), Some(slot)) => {
                *slot = v;
                self.present |= bit;
            }
            _ => self.present &= !bit,
        }
    }

    /// Field `i`'s bits when it is present.
    pub fn get(&self, i: usize) -> Option<u64> {
        if i < 64 && self.present & (1 << i) != 0 {
            self.values.get(i).copied()
        } else {
            None
        }
    }

    /// The byte offset of `values[i]` in the block (the JIT's loads).
    pub fn value_offset(i: usize) -> usize {
        std::mem::offset_of!(FixedFields, values) + 8 * i
    }
}

/// The index of `field` among the fixed-offset fields, if it is one.
pub fn fixed_index(field: FieldId) -> Option<usize> {
    static TABLE: std::sync::OnceLock<HashMap<FieldId, usize>> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| {
            FIXED_FIELD_NAMES
                .iter()
                .enumerate()
                .filter_map(|(i, n)| Some((frule_lang::fields::lookup(n)?, i)))
                .collect()
        })
        .get(&field)
        .copied()
}

/// The schema field of fixed-offset index `i`.
pub fn fixed_field(i: usize) -> Option<FieldId> {
    frule_lang::fields::lookup(FIXED_FIELD_NAMES.get(i)?)
}

/// The representation class of fixed-offset field `i` (`int`, `uint` or `bool`).
pub fn fixed_kind(i: usize) -> Option<ScalarKind> {
    Some(crate::lower::scalar_kind(fixed_field(i)?.info().ty))
}

/// The block value of one extraction of a field of class `kind` (`out` as `extract` left it, `ok`
/// its answer): present only with exactly one item that the class compares as a number, which is
/// what the compiled code's own numeric cache accepts.
pub fn fixed_bits(kind: ScalarKind, ok: bool, out: &ValueBuf) -> Option<u64> {
    if !ok || out.len() != 1 {
        return None;
    }
    match (kind, out.get(0)?) {
        (_, ValueRef::Bool(b)) => Some(u64::from(b)),
        (ScalarKind::Bool, _) => None,
        (_, ValueRef::I64(x)) => Some(x as u64),
        (_, ValueRef::U64(x)) => Some(x),
        _ => None,
    }
}

/// Fills `block` for the `wanted` fields through `extract` (the default of
/// [`FieldSource::fixed_fields`], and the fallback of sources that decode only some fields
/// themselves); `scratch` is any reusable buffer.
pub fn fill_fixed_by_extract<S: FieldSource + ?Sized>(
    src: &mut S,
    wanted: u64,
    block: &mut FixedFields,
    scratch: &mut ValueBuf,
) {
    for (i, field, kind) in wanted_fixed(wanted) {
        scratch.clear();
        let ok = src.extract(field, None, scratch);
        block.set(i, fixed_bits(kind, ok, scratch));
    }
}

/// The fixed-offset fields a `wanted` bitmask names, as (bit index, field, class), lowest bit first;
/// bits that name no field of [`FIXED_FIELD_NAMES`] are skipped.
pub fn wanted_fixed(wanted: u64) -> impl Iterator<Item = (usize, FieldId, ScalarKind)> {
    let mut left = wanted;
    std::iter::from_fn(move || {
        while left != 0 {
            let i = left.trailing_zeros() as usize;
            left &= left - 1;
            if let (Some(field), Some(kind)) = (fixed_field(i), fixed_kind(i)) {
                return Some((i, field, kind));
            }
        }
        None
    })
}

/// An owned field value, as stored in a [`MapEvent`].
#[derive(Clone, Debug, PartialEq)]
pub enum OwnedValue {
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A double.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// A string or buffer.
    Bytes(Vec<u8>),
    /// An address.
    Ip(IpAddr),
}

impl OwnedValue {
    /// Borrows the value.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            OwnedValue::I64(x) => ValueRef::I64(*x),
            OwnedValue::U64(x) => ValueRef::U64(*x),
            OwnedValue::F64(x) => ValueRef::F64(*x),
            OwnedValue::Bool(x) => ValueRef::Bool(*x),
            OwnedValue::Bytes(x) => ValueRef::Bytes(x),
            OwnedValue::Ip(x) => ValueRef::Ip(*x),
        }
    }
}

/// A synthetic event: a map from field (and argument) to its values. Fields absent from the map are
/// missing. A scalar field holds one value; a list field any number (an empty vector is a present,
/// empty list).
#[derive(Clone, Debug, Default)]
pub struct MapEvent {
    fields: HashMap<(FieldId, Option<FieldArg>), Vec<OwnedValue>>,
    extractions: u64,
}

impl MapEvent {
    /// An event without fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a field to one value.
    pub fn set(&mut self, field: FieldId, arg: Option<FieldArg>, value: OwnedValue) -> &mut Self {
        self.fields.insert((field, arg), vec![value]);
        self
    }

    /// Sets a list field to its values.
    pub fn set_list(
        &mut self,
        field: FieldId,
        arg: Option<FieldArg>,
        values: Vec<OwnedValue>,
    ) -> &mut Self {
        self.fields.insert((field, arg), values);
        self
    }

    /// How many times `extract` was called (to test per-event caching).
    pub fn extractions(&self) -> u64 {
        self.extractions
    }
}

impl FieldSource for MapEvent {
    fn extract(&mut self, field: FieldId, arg: Option<&FieldArg>, out: &mut ValueBuf) -> bool {
        self.extractions += 1;
        match self.fields.get(&(field, arg.cloned())) {
            Some(values) => {
                for v in values {
                    out.push(v.as_ref());
                }
                true
            }
            None => false,
        }
    }

    /// The same values as `extract` gives, read from the map directly: filling the block is not
    /// counted in [`MapEvent::extractions`], which counts the cache's work.
    fn fixed_fields(&mut self, wanted: u64, block: &mut FixedFields) {
        let mut scratch = ValueBuf::new();
        for (i, field, kind) in wanted_fixed(wanted) {
            scratch.clear();
            let values = self.fields.get(&(field, None));
            for v in values.into_iter().flatten() {
                scratch.push(v.as_ref());
            }
            block.set(i, fixed_bits(kind, values.is_some(), &scratch));
        }
    }
}
