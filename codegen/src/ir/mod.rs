//! The typed IR of rule conditions.
//!
//! A [`Program`] holds the conditions of one or more rules as a single DAG of typed values, so that a
//! subexpression shared by several rules (a macro such as `spawned_process`) can be one value with
//! several users — the shape cross-rule fusion and per-event-type programs need later.
//!
//! # Values
//!
//! Every [`ValueId`] names one instruction ([`Inst`]) and has a [`ValueType`]:
//!
//! - **data** values ([`ValueType::Data`]): field loads, constants and transformer applications. A data
//!   value is *optional*: a load is missing when the event lacks the field, and a transformer applied to a
//!   missing value (or a failing `b64` decode) is missing too. Constants are never missing.
//! - **conditions** ([`ValueType::Cond`]): predicates and the connectives `and`/`or`/`not`. A condition is
//!   always a definite boolean. Every predicate maps a missing operand to `false` (spec B.3), and `not`
//!   negates that definite answer — so `not (f = x)` is `true` on an event without `f`, while `f != x` is
//!   `false`. The two are different instructions ([`Inst::Not`] of [`Cmp::Eq`] versus [`Cmp::Ne`]) and a
//!   pass may only rewrite one into the other when the operand can never be missing.
//!
//! # Side tables
//!
//! Field loads name a [`FieldSlot`] (schema field + argument + type), list operators a [`SetId`]
//! (a constant set), `regex` a [`RegexId`]. All ids are `u32` newtypes indexing typed vectors
//! ([`EntityVec`]), Cranelift-entity style.
//!
//! # Invariants (checked by [`crate::verify`])
//!
//! - every operand of value `v` is a value defined before `v` (ids are a topological order, hence the
//!   graph is acyclic) and every slot, set and regex id is in range;
//! - operand types agree with the operator, per the table in [`crate::verify`];
//! - every rule root is a condition.

pub(crate) mod lexer;
mod parse;
pub mod print;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

pub use crate::abi::{FieldArg, FieldId, IpNet, MultiValue, ScalarKind};
pub use parse::{ParseError, parse};

/// A `u32` id usable as an index into an [`EntityVec`].
pub trait EntityId: Copy + Eq {
    /// The id for index `i`.
    fn new(i: u32) -> Self;
    /// The index of this id.
    fn index(self) -> usize;
}

macro_rules! entity {
    ($(#[$m:meta])* $name:ident, $prefix:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl EntityId for $name {
            fn new(i: u32) -> Self {
                $name(i)
            }
            fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

entity!(
    /// A value of the DAG (`v3` in the textual form).
    ValueId,
    "v"
);
entity!(
    /// A field load site: schema field, argument and type (`$0`).
    FieldSlot,
    "$"
);
entity!(
    /// A constant set used by `in`, `intersects`, `pmatch` and the modifiers (`%0`).
    SetId,
    "%"
);
entity!(
    /// A regular expression used by `regex` (`^0`).
    RegexId,
    "^"
);

/// A vector indexed by a typed id (Cranelift's `PrimaryMap`).
///
/// The storage is shared copy-on-write: every optimizer pass rebuilds a program whose field slots,
/// sets and regexes are those of its input, so cloning a table must not copy the (large) constant
/// sets each time. Cloning is a reference-count increment; the first [`EntityVec::push`] into a
/// shared table copies it once.
#[derive(Debug)]
pub struct EntityVec<K, V> {
    items: Arc<Vec<V>>,
    _k: PhantomData<K>,
}

impl<K, V> Clone for EntityVec<K, V> {
    fn clone(&self) -> Self {
        Self {
            items: Arc::clone(&self.items),
            _k: PhantomData,
        }
    }
}

impl<K, V: PartialEq> PartialEq for EntityVec<K, V> {
    /// Shared storage is equal without looking at the items.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.items, &other.items) || self.items == other.items
    }
}

impl<K: EntityId, V> Default for EntityVec<K, V> {
    fn default() -> Self {
        Self {
            items: Arc::new(Vec::new()),
            _k: PhantomData,
        }
    }
}

impl<K: EntityId, V: Clone> EntityVec<K, V> {
    /// Appends `v` and returns its id.
    pub fn push(&mut self, v: V) -> K {
        let items = Arc::make_mut(&mut self.items);
        let k = K::new(u32::try_from(items.len()).unwrap_or(u32::MAX));
        items.push(v);
        k
    }

    /// Makes room for `n` more items (copying a shared table now rather than at the next push).
    pub fn reserve(&mut self, n: usize) {
        Arc::make_mut(&mut self.items).reserve(n);
    }

    /// A table holding `items` (ids `0..items.len()`).
    pub fn from_vec(items: Vec<V>) -> Self {
        Self {
            items: Arc::new(items),
            _k: PhantomData,
        }
    }

    /// The items when this table is their only owner, or the table back when it shares them.
    pub fn try_into_vec(self) -> Result<Vec<V>, Self> {
        Arc::try_unwrap(self.items).map_err(|items| Self {
            items,
            _k: PhantomData,
        })
    }

    /// The items, moved out when this table is their only owner (copied otherwise).
    pub fn into_vec(self) -> Vec<V> {
        Arc::unwrap_or_clone(self.items)
    }
}

impl<K: EntityId, V> EntityVec<K, V> {
    /// The item with id `k`, if in range.
    pub fn get(&self, k: K) -> Option<&V> {
        self.items.get(k.index())
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every id with its item, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (K, &V)> + '_ {
        self.items
            .iter()
            .enumerate()
            .map(|(i, v)| (K::new(i as u32), v))
    }

    /// Every id in order.
    pub fn keys(&self) -> impl Iterator<Item = K> + use<K, V> {
        (0..self.items.len() as u32).map(K::new)
    }

    /// The items in id order.
    pub fn as_slice(&self) -> &[V] {
        &self.items
    }

    /// Whether both tables share one storage (then they are equal).
    pub fn shares_storage(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.items, &other.items)
    }
}

impl<K: EntityId, V> std::ops::Index<K> for EntityVec<K, V> {
    type Output = V;
    /// Panics when `k` is out of range: only verified programs are indexed, so that is a bug.
    fn index(&self, k: K) -> &V {
        &self.items[k.index()]
    }
}

/// The type of a data value: a scalar kind, possibly a list (list fields, `getopt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ty {
    /// The kind of each item.
    pub kind: ScalarKind,
    /// Whether the value holds any number of items rather than exactly one.
    pub list: bool,
}

impl Ty {
    /// A scalar of `kind`.
    pub const fn scalar(kind: ScalarKind) -> Ty {
        Ty { kind, list: false }
    }

    /// A list of `kind`.
    pub const fn list(kind: ScalarKind) -> Ty {
        Ty { kind, list: true }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.kind, if self.list { "[]" } else { "" })
    }
}

/// The type of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// An optional data value of this type.
    Data(Ty),
    /// A definite boolean condition.
    Cond,
}

/// A field load site.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldDecl {
    /// The schema field.
    pub id: FieldId,
    /// The field's name, for printing and messages.
    pub name: String,
    /// The `[arg]`, if any.
    pub arg: Option<FieldArg>,
    /// The extracted type (before transformers).
    pub ty: Ty,
    /// Whether the (scalar) field stands for several values and how they are compared; `Single` for
    /// every field with an argument (`proc.aname[2]` is one ancestor). Printed after the type
    /// (`: str ancestors`, `: ip endpoints`).
    pub multi: MultiValue,
}

impl Default for FieldDecl {
    /// A placeholder (what compaction gives an out-of-range slot of an unverified program).
    fn default() -> Self {
        FieldDecl {
            id: FieldId(0),
            name: String::new(),
            arg: None,
            ty: Ty::scalar(ScalarKind::Bytes),
            multi: MultiValue::Single,
        }
    }
}

/// A typed constant, already parsed per field type (spec B.2).
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    Uint(u64),
    /// A double.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// A string (raw bytes).
    Str(Vec<u8>),
    /// A buffer (raw bytes, e.g. hex-decoded for `bcontains`).
    Bytes(Vec<u8>),
    /// An address.
    Ip(std::net::IpAddr),
    /// A network, for `ipnet` fields.
    Net(IpNet),
}

impl std::hash::Hash for Constant {
    /// Doubles hash by their bits (consistent with [`Constant::identical`]).
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self).hash(h);
        match self {
            Constant::Int(x) => x.hash(h),
            Constant::Uint(x) => x.hash(h),
            Constant::Double(x) => x.to_bits().hash(h),
            Constant::Bool(x) => x.hash(h),
            Constant::Str(x) | Constant::Bytes(x) => x.hash(h),
            Constant::Ip(x) => x.hash(h),
            Constant::Net(x) => x.hash(h),
        }
    }
}

impl Constant {
    /// Whether two constants are the same value, doubles compared by their bits (so that `NaN` is
    /// identical to itself and `0.0` differs from `-0.0`): the equality hash-consing needs.
    pub fn identical(&self, other: &Constant) -> bool {
        match (self, other) {
            (Constant::Double(a), Constant::Double(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a == b,
        }
    }

    /// The kind of the constant.
    pub fn kind(&self) -> ScalarKind {
        match self {
            Constant::Int(_) => ScalarKind::Int,
            Constant::Uint(_) => ScalarKind::Uint,
            Constant::Double(_) => ScalarKind::Double,
            Constant::Bool(_) => ScalarKind::Bool,
            Constant::Str(_) => ScalarKind::Str,
            Constant::Bytes(_) => ScalarKind::Bytes,
            Constant::Ip(_) => ScalarKind::Ip,
            Constant::Net(_) => ScalarKind::Net,
        }
    }
}

/// A constant set (the right side of `in`/`intersects`/`pmatch` or of a modifier). Items keep their
/// order and duplicates: modifiers count matches per item (spec A.7).
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct SetDecl {
    /// The kind every item has.
    pub kind: ScalarKind,
    /// The items in source order.
    pub items: Vec<Constant>,
}

impl Default for SetDecl {
    /// An empty `str` set (what compaction gives an out-of-range set of an unverified program).
    fn default() -> Self {
        SetDecl {
            kind: ScalarKind::Str,
            items: Vec::new(),
        }
    }
}

/// A `regex` pattern (RE2 syntax, full match).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegexDecl {
    /// The pattern as written, without anchoring.
    pub pattern: String,
}

/// Scalar comparison operators (spec B.4, B.5). `in`/`intersects`/`pmatch`/`regex` have instructions of
/// their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `=` / `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `contains`
    Contains,
    /// `icontains` (ASCII case folding)
    IContains,
    /// `bcontains` (buffers; constant hex-decoded at load time)
    BContains,
    /// `startswith`
    StartsWith,
    /// `bstartswith`
    BStartsWith,
    /// `endswith`
    EndsWith,
    /// `glob` (fnmatch without flags)
    Glob,
    /// `iglob` (fnmatch with ASCII case folding)
    IGlob,
}

impl Cmp {
    /// Every operator.
    pub const ALL: [Cmp; 14] = [
        Cmp::Eq,
        Cmp::Ne,
        Cmp::Lt,
        Cmp::Le,
        Cmp::Gt,
        Cmp::Ge,
        Cmp::Contains,
        Cmp::IContains,
        Cmp::BContains,
        Cmp::StartsWith,
        Cmp::BStartsWith,
        Cmp::EndsWith,
        Cmp::Glob,
        Cmp::IGlob,
    ];

    /// The name in the textual IR.
    pub fn name(self) -> &'static str {
        match self {
            Cmp::Eq => "eq",
            Cmp::Ne => "ne",
            Cmp::Lt => "lt",
            Cmp::Le => "le",
            Cmp::Gt => "gt",
            Cmp::Ge => "ge",
            Cmp::Contains => "contains",
            Cmp::IContains => "icontains",
            Cmp::BContains => "bcontains",
            Cmp::StartsWith => "startswith",
            Cmp::BStartsWith => "bstartswith",
            Cmp::EndsWith => "endswith",
            Cmp::Glob => "glob",
            Cmp::IGlob => "iglob",
        }
    }

    /// The operator named `s`.
    pub fn from_name(s: &str) -> Option<Cmp> {
        Cmp::ALL.into_iter().find(|c| c.name() == s)
    }

    /// Whether the operator applies to items of `kind` (spec B.1, on the transformed type).
    pub fn applies_to(self, kind: ScalarKind) -> bool {
        use Cmp::*;
        match kind {
            ScalarKind::Int | ScalarKind::Uint | ScalarKind::Double => {
                matches!(self, Eq | Ne | Lt | Le | Gt | Ge)
            }
            ScalarKind::Bool | ScalarKind::Ip | ScalarKind::Net => matches!(self, Eq | Ne),
            ScalarKind::Str => !matches!(self, BContains | BStartsWith),
            ScalarKind::Bytes => {
                matches!(
                    self,
                    Eq | Ne | Contains | StartsWith | EndsWith | BContains | BStartsWith
                )
            }
        }
    }
}

/// `oneof` / `anyof` / `allof` (spec A.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// Exactly one item satisfies the comparison.
    OneOf,
    /// At least one does.
    AnyOf,
    /// All do (and there is at least one item).
    AllOf,
}

impl Modifier {
    /// The name in the textual IR.
    pub fn name(self) -> &'static str {
        match self {
            Modifier::OneOf => "oneof",
            Modifier::AnyOf => "anyof",
            Modifier::AllOf => "allof",
        }
    }

    /// The modifier named `s`.
    pub fn from_name(s: &str) -> Option<Modifier> {
        [Modifier::OneOf, Modifier::AnyOf, Modifier::AllOf]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

/// Transformers (spec A.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransformOp {
    /// ASCII lower-casing of a string.
    ToLower,
    /// ASCII upper-casing of a string.
    ToUpper,
    /// Base64 decoding (padding optional); missing when the input is not valid base64.
    B64,
    /// The text after the last `/`.
    Basename,
    /// Byte length of a string or buffer, or item count of a list; an `uint`.
    Len,
    /// `concat(a, b, ...)`: concatenation of at least two strings.
    Concat,
    /// `join(sep, a, b, ...)`: the string forms of every item of `a, b, ...` joined by `sep`.
    Join,
    /// `getopt(args, optstring)`: the options of an argv list, a `str[]`; with a third, one-character
    /// argument `getopt(args, optstring, "t")` (Falco's `getopt(args, optstring)[t]`) the value of
    /// option `t`, a scalar `str`, missing when the option is absent (see `vm::ops`).
    Getopt,
}

impl TransformOp {
    /// Every transformer.
    pub const ALL: [TransformOp; 8] = [
        TransformOp::ToLower,
        TransformOp::ToUpper,
        TransformOp::B64,
        TransformOp::Basename,
        TransformOp::Len,
        TransformOp::Concat,
        TransformOp::Join,
        TransformOp::Getopt,
    ];

    /// The name (as in conditions).
    pub fn name(self) -> &'static str {
        match self {
            TransformOp::ToLower => "tolower",
            TransformOp::ToUpper => "toupper",
            TransformOp::B64 => "b64",
            TransformOp::Basename => "basename",
            TransformOp::Len => "len",
            TransformOp::Concat => "concat",
            TransformOp::Join => "join",
            TransformOp::Getopt => "getopt",
        }
    }

    /// The transformer named `s`.
    pub fn from_name(s: &str) -> Option<TransformOp> {
        TransformOp::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// The right side of `in` / `intersects`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListRhs {
    /// A constant set.
    Set(SetId),
    /// Another data value of the same event (`val(f)` or a transformer): its items form the set.
    Value(ValueId),
}

/// One instruction of the DAG. `Hash` is consistent with [`Interner`]'s equality (doubles by their
/// bits), which is what hash-consing uses.
#[derive(Clone, Debug, PartialEq, Hash)]
pub enum Inst {
    /// Data: the value(s) of a field; missing when the event lacks it.
    Load(FieldSlot),
    /// Data: a constant, never missing.
    Const(Constant),
    /// Data: a transformer applied to its arguments; missing when any argument is.
    Transform(TransformOp, Vec<ValueId>),
    /// Condition: the operand is present.
    Exists(ValueId),
    /// Condition: `lhs op rhs` on scalars of the same kind; false when either side is missing.
    Cmp(Cmp, ValueId, ValueId),
    /// Condition: `lhs op modifier (set)`, counting the set's items that satisfy `lhs op item`; false
    /// when `lhs` is missing or the set is empty.
    Modified(Modifier, Cmp, ValueId, SetId),
    /// Condition: scalar `lhs` is in the set; for a list `lhs`, every item is (vacuously true for an
    /// empty list). False when either side is missing.
    In(ValueId, ListRhs),
    /// Condition: scalar `lhs` is in the set; for a list `lhs`, some item is.
    Intersects(ValueId, ListRhs),
    /// Condition: path-prefix match against the set's patterns (spec B.7).
    PMatch(ValueId, SetId),
    /// Condition: full match of the regex (invalid UTF-8 replaced by U+FFFD first, spec B.6).
    Regex(ValueId, RegexId),
    /// Condition: `lhs regex <modifier> (p1, p2, ...)`, counting the patterns that fully match (spec
    /// A.7); false when `lhs` is missing or there is no pattern.
    RegexModified(Modifier, ValueId, Vec<RegexId>),
    /// Condition: all operands true, evaluated left to right with short circuit (at least one operand).
    And(Vec<ValueId>),
    /// Condition: some operand true, left to right with short circuit (at least one operand).
    Or(Vec<ValueId>),
    /// Condition: the negation of a (definite) condition.
    Not(ValueId),
    /// Condition: a constant answer (what folding leaves behind).
    Bool(bool),
}

impl Inst {
    /// Every value this instruction reads, in order.
    pub fn operands(&self) -> Vec<ValueId> {
        match self {
            Inst::Load(_) | Inst::Const(_) | Inst::Bool(_) => vec![],
            Inst::Transform(_, args) | Inst::And(args) | Inst::Or(args) => args.clone(),
            Inst::Exists(v) | Inst::Not(v) => vec![*v],
            Inst::Cmp(_, a, b) => vec![*a, *b],
            Inst::Modified(_, _, a, _)
            | Inst::PMatch(a, _)
            | Inst::Regex(a, _)
            | Inst::RegexModified(_, a, _) => vec![*a],
            Inst::In(a, r) | Inst::Intersects(a, r) => match r {
                ListRhs::Set(_) => vec![*a],
                ListRhs::Value(b) => vec![*a, *b],
            },
        }
    }
    /// Calls `f` on every value this instruction reads, in order ([`Inst::operands`] without the
    /// allocation, for the passes' liveness scans).
    pub fn for_each_operand(&self, mut f: impl FnMut(ValueId)) {
        match self {
            Inst::Load(_) | Inst::Const(_) | Inst::Bool(_) => {}
            Inst::Transform(_, args) | Inst::And(args) | Inst::Or(args) => {
                args.iter().for_each(|a| f(*a))
            }
            Inst::Exists(v) | Inst::Not(v) => f(*v),
            Inst::Cmp(_, a, b) => {
                f(*a);
                f(*b);
            }
            Inst::Modified(_, _, a, _)
            | Inst::PMatch(a, _)
            | Inst::Regex(a, _)
            | Inst::RegexModified(_, a, _) => f(*a),
            Inst::In(a, r) | Inst::Intersects(a, r) => {
                f(*a);
                if let ListRhs::Value(b) = r {
                    f(*b);
                }
            }
        }
    }
}

/// Hash-consing tables: each distinct instruction, set and field load site gets one id, looked up
/// in constant time (hashes of the structures, equality with doubles by bits). Lowering and every
/// optimizer pass build programs through one, so identical subexpressions are one value.
///
/// The tables hold ids only: keys are compared against the program's own values, sets and field
/// slots, so nothing is cloned into the index. An interner is therefore tied to the one program it
/// is always called with. Sets and field slots already in that program (the side tables a pass
/// starts from) are indexed on the first lookup of their kind, first id winning among duplicates;
/// values are indexed only as they are interned.
#[derive(Debug, Default)]
pub struct Interner {
    hasher: ahash::RandomState,
    insts: hashbrown::HashTable<ValueId>,
    sets: hashbrown::HashTable<SetId>,
    /// How many of the program's sets are in `sets`.
    sets_seen: usize,
    fields: hashbrown::HashTable<FieldSlot>,
    /// How many of the program's field slots are in `fields`.
    fields_seen: usize,
}

/// Instruction equality for hash-consing: constants compare with [`Constant::identical`].
fn same_inst(a: &Inst, b: &Inst) -> bool {
    match (a, b) {
        (Inst::Const(a), Inst::Const(b)) => a.identical(b),
        (a, b) => a == b,
    }
}

/// Set equality for hash-consing: same kind and items, each [`Constant::identical`].
fn same_set(a: &SetDecl, b: &SetDecl) -> bool {
    a.kind == b.kind
        && a.items.len() == b.items.len()
        && a.items.iter().zip(&b.items).all(|(x, y)| x.identical(y))
}

impl Interner {
    /// An interner for `p` and programs built from its side tables (see the type docs: the sets and
    /// field slots of the program it is used with are indexed lazily, so this costs nothing).
    pub fn with_tables(_p: &Program) -> Interner {
        Interner::default()
    }

    /// An interner with room for `n` instructions (what a pass rebuilding an `n`-value program
    /// needs, so the table does not grow and rehash on the way).
    pub fn with_capacity(n: usize) -> Interner {
        Interner {
            insts: hashbrown::HashTable::with_capacity(n),
            ..Interner::default()
        }
    }

    /// Appends `inst` to `p`, or returns the value of an identical instruction appended before.
    pub fn inst(&mut self, p: &mut Program, inst: Inst) -> ValueId {
        let hash = self.hasher.hash_one(&inst);
        let values = p.values.as_slice();
        if let Some(v) = self.insts.find(hash, |v| {
            values.get(v.index()).is_some_and(|x| same_inst(x, &inst))
        }) {
            return *v;
        }
        let v = p.push(inst);
        let (hasher, values) = (&self.hasher, p.values.as_slice());
        self.insts.insert_unique(hash, v, |v| {
            values.get(v.index()).map_or(0, |x| hasher.hash_one(x))
        });
        v
    }

    /// Indexes the sets of `p` not seen yet (the first of identical sets wins).
    fn catch_up_sets(&mut self, p: &Program) {
        let sets = p.sets.as_slice();
        while let Some(d) = sets.get(self.sets_seen) {
            let k = SetId::new(self.sets_seen as u32);
            let hash = self.hasher.hash_one(d);
            if self
                .sets
                .find(hash, |s| {
                    sets.get(s.index()).is_some_and(|x| same_set(x, d))
                })
                .is_none()
            {
                let hasher = &self.hasher;
                self.sets.insert_unique(hash, k, |s| {
                    sets.get(s.index()).map_or(0, |x| hasher.hash_one(x))
                });
            }
            self.sets_seen += 1;
        }
    }

    /// Adds `decl` to `p`, or returns an identical set added before.
    pub fn set(&mut self, p: &mut Program, decl: SetDecl) -> SetId {
        self.catch_up_sets(p);
        let hash = self.hasher.hash_one(&decl);
        let sets = p.sets.as_slice();
        if let Some(s) = self.sets.find(hash, |s| {
            sets.get(s.index()).is_some_and(|x| same_set(x, &decl))
        }) {
            return *s;
        }
        p.set(decl);
        self.catch_up_sets(p);
        SetId::new((p.sets.len() - 1) as u32)
    }

    /// Indexes the field slots of `p` not seen yet (the first of identical slots wins).
    fn catch_up_fields(&mut self, p: &Program) {
        let fields = p.fields.as_slice();
        while let Some(d) = fields.get(self.fields_seen) {
            let k = FieldSlot::new(self.fields_seen as u32);
            let hash = self.hasher.hash_one(d);
            if self
                .fields
                .find(hash, |s| fields.get(s.index()) == Some(d))
                .is_none()
            {
                let hasher = &self.hasher;
                self.fields.insert_unique(hash, k, |s| {
                    fields.get(s.index()).map_or(0, |x| hasher.hash_one(x))
                });
            }
            self.fields_seen += 1;
        }
    }

    /// Adds a field load site to `p`, or returns an identical one added before.
    pub fn field(&mut self, p: &mut Program, decl: FieldDecl) -> FieldSlot {
        self.catch_up_fields(p);
        let hash = self.hasher.hash_one(&decl);
        let fields = p.fields.as_slice();
        if let Some(s) = self
            .fields
            .find(hash, |s| fields.get(s.index()) == Some(&decl))
        {
            return *s;
        }
        let s = p.fields.push(decl);
        self.catch_up_fields(p);
        s
    }
}

/// A rule's entry into the DAG.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleRoot {
    /// The rule's name (or a label for a bare condition).
    pub name: String,
    /// Its condition.
    pub cond: ValueId,
}

/// The conditions of a set of rules as one DAG.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    /// Field load sites.
    pub fields: EntityVec<FieldSlot, FieldDecl>,
    /// Constant sets.
    pub sets: EntityVec<SetId, SetDecl>,
    /// Regular expressions.
    pub regexes: EntityVec<RegexId, RegexDecl>,
    /// The instructions, in a topological order (operands first).
    pub values: EntityVec<ValueId, Inst>,
    /// The rules in rule-file order.
    pub rules: Vec<RuleRoot>,
}

impl Program {
    /// An empty program.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field load site, reusing an identical one.
    pub fn field(&mut self, decl: FieldDecl) -> FieldSlot {
        if let Some((k, _)) = self.fields.iter().find(|(_, d)| **d == decl) {
            return k;
        }
        self.fields.push(decl)
    }

    /// Adds a constant set.
    pub fn set(&mut self, decl: SetDecl) -> SetId {
        self.sets.push(decl)
    }

    /// Adds a regular expression.
    pub fn regex(&mut self, pattern: impl Into<String>) -> RegexId {
        self.regexes.push(RegexDecl {
            pattern: pattern.into(),
        })
    }

    /// Appends an instruction and returns its value.
    pub fn push(&mut self, inst: Inst) -> ValueId {
        self.values.push(inst)
    }

    /// Adds a rule whose condition is `cond`.
    pub fn add_rule(&mut self, name: impl Into<String>, cond: ValueId) {
        self.rules.push(RuleRoot {
            name: name.into(),
            cond,
        });
    }

    /// The type of `v`, or `None` when `v` or one of its operands is ill-typed or out of range (the
    /// verifier reports why).
    pub fn type_of(&self, v: ValueId) -> Option<ValueType> {
        match self.values.get(v)? {
            Inst::Load(s) => Some(ValueType::Data(self.fields.get(*s)?.ty)),
            Inst::Const(c) => Some(ValueType::Data(Ty::scalar(c.kind()))),
            Inst::Transform(op, args) => {
                let first = match args.first() {
                    Some(a) if a.0 < v.0 => self.type_of(*a)?,
                    _ => return None,
                };
                match op {
                    TransformOp::Len => Some(ValueType::Data(Ty::scalar(ScalarKind::Uint))),
                    TransformOp::Concat | TransformOp::Join => {
                        Some(ValueType::Data(Ty::scalar(ScalarKind::Str)))
                    }
                    TransformOp::Getopt if args.len() == 2 => {
                        Some(ValueType::Data(Ty::list(ScalarKind::Str)))
                    }
                    TransformOp::Getopt => Some(ValueType::Data(Ty::scalar(ScalarKind::Str))),
                    _ => Some(first),
                }
            }
            _ => Some(ValueType::Cond),
        }
    }

    /// The textual form (see [`mod@print`]).
    pub fn to_text(&self) -> String {
        print::print(self)
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}
