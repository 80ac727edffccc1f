//! The bytecode VM: the reference semantics of the IR.
//!
//! [`Program::compile`] turns a verified [`ir::Program`] into
//!
//! - a table of **data nodes** — one per distinct field and argument (so each field is extracted at most
//!   once per event, whichever rules use it), one per constant, one per transformer application — each evaluated lazily, on first use in an
//!   event, into a per-event cache ([`Machine`]);
//! - **linear code** per rule: predicate instructions set a boolean accumulator; `and`/`or` become
//!   conditional forward jumps (short circuit, left to right, as Falco evaluates), `not` flips the
//!   accumulator, `ret` ends the rule;
//! - a **branch form** of that code, which the VM runs (the JIT translates the linear code): every
//!   predicate names its successor for each answer, so the accumulator, `not`, the jumps and `ret`
//!   are resolved at compile time and a rule's walk is one dispatch per predicate or memo access;
//! - a **guard plan** for a program of several rules (`PlanItem`): the order in which
//!   [`Program::matches`] and [`Program::first_match`] evaluate them. Rules whose conjunct lists
//!   start with the same shared conditions (a per-event-type group's `open_read`, …) test that prefix
//!   once and are skipped together when it is false, or run without it when it is true; matches are
//!   still reported in rule order. `Program::code` holds each rule's own code (which
//!   [`Program::eval_rule`] runs) followed by the plan's code; the JIT translates both.
//!   Memo checks that the plan's order can only reach with their slot empty are skipped;
//! - **specialized steps** for the commonest predicates on a single-valued field (a string compared
//!   with a constant, a string in a hashed set, a value compared with a constant), which read the
//!   field's value directly instead of going through the generic multi-value checks;
//! - **fixed-offset fields** ([`crate::abi::FixedFields`]): a comparison of `fd.num`,
//!   `evt.is_open_read`, `user.uid`, … with a constant reads the event's block, which the source
//!   fills once per event (before the walk, only when the program compares such a field) — one
//!   bit test and one interval test, no extraction, no cache. Everything else that reads such a
//!   field (`in`, `exists`, transformers) still extracts it; both ways agree by the block's
//!   invariants, and the plain evaluation ([`CompileOptions`] without `memoize`) extracts only;
//! - **memo slots** for conditions used more than once (a macro shared by several rules, a predicate
//!   several rules of a fused program test): the first evaluation in an event stores the answer, later
//!   ones reuse it. Evaluation has no side effects, so this cannot change an answer. A predicate
//!   whose answers both lead to the stores of one slot stores its answer itself (one step fewer),
//!   and stores no reachable memo check reads are dropped.
//!
//! Multi-valued fields (`proc.aname`, `fd.ip`, … without an argument, see [`crate::abi`]): the node holds
//! every value; a predicate holds when it holds for some value, except `!=` on connection endpoints and
//! DNS names, which must hold for every value; `in` needs some value in the set. Transformers see the
//! first value. A DNS-name field may be present with no value (an address no name resolves to).
//!
//! Missing values: a predicate whose operand node is missing sets the accumulator to `false` (spec B.3),
//! and only `not` can turn that into `true`.
//!
//! The first read of a field in an event (`ensure_slow`) tests a plain per-node record (`LoadSlot`:
//! field, argument, extraction checks) rather than the node enum, whose discriminant is packed
//! into its payload; it is the path every string field, and every JIT field helper, goes through.
//!
//! Invariants of compiled code: every jump goes forward to an instruction of the same rule (so every
//! successor in the branch form is a later step, or the end of the rule); every node
//! index an instruction names is in range; a transformer node's arguments are lower-numbered nodes;
//! every rule appears exactly once in the guard plan, below guards that are all conjuncts of it, and
//! a guard's `skip` is a later plan item (or the end).

mod glob;
mod ops;

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};

use ahash::{HashMap, HashSet};

use crate::abi::{
    FieldArg, FieldId, FieldSource, FixedFields, IpNet, MultiValue, ScalarKind, ValueBuf, ValueRef,
};
use crate::ir::{self, Cmp, Constant, Inst, ListRhs, Modifier, TransformOp, Ty, ValueId};

pub use glob::{fnmatch, pmatch_one};
pub use ops::{b64_decode, compare, compare_bytes, icontains};

/// Why an IR program could not be compiled to bytecode. Always a bug upstream (the program was not
/// verified, or the verifier missed something).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot compile the IR: {}", self.message)
    }
}

impl std::error::Error for CompileError {}

#[derive(Clone, Debug)]
pub(crate) enum Node {
    Load(FieldId, Option<FieldArg>),
    Const(ValueBuf),
    Transform(TransformOp, Box<[u32]>),
}

/// The hash index of a set of byte strings, with a prefilter: a 256-bit map of a cheap signature
/// (length, first and last byte) of every item. Most lookups of rule exceptions miss (`proc.name in
/// (…)` on a process that is none of them), and most misses are decided by one bit test instead of
/// hashing the value. The table holds item indices into the set's own [`ValueBuf`] (one byte arena),
/// so building it allocates nothing per item.
#[derive(Clone, Debug)]
struct BytesIndex {
    hasher: ahash::RandomState,
    /// The index of the first of every distinct byte-string item.
    table: hashbrown::HashTable<u32>,
    signatures: [u64; 4],
}

/// Item `i` of `items` when it is a byte string.
fn item_bytes(items: &ValueBuf, i: u32) -> Option<&[u8]> {
    match items.get(i as usize) {
        Some(ValueRef::Bytes(b)) => Some(b),
        _ => None,
    }
}

impl BytesIndex {
    fn signature(v: &[u8]) -> usize {
        let first = v.first().map_or(0, |b| usize::from(*b));
        let last = v.last().map_or(0, |b| usize::from(*b));
        (v.len().wrapping_mul(31) ^ first.wrapping_mul(7) ^ last.rotate_left(3)) & 255
    }

    fn new(items: &ValueBuf) -> BytesIndex {
        // Fixed seeds: the items come from the rules, lookups never insert.
        let hasher = ahash::RandomState::with_seeds(
            0x243f_6a88_85a3_08d3,
            0x1319_8a2e_0370_7344,
            0xa409_3822_299f_31d0,
            0x082e_fa98_ec4e_6c89,
        );
        let mut table = hashbrown::HashTable::with_capacity(items.len());
        let mut signatures = [0u64; 4];
        for i in 0..items.len() as u32 {
            let Some(b) = item_bytes(items, i) else {
                continue;
            };
            let h = hasher.hash_one(b);
            if table
                .find(h, |j: &u32| item_bytes(items, *j) == Some(b))
                .is_none()
            {
                table.insert_unique(h, i, |j: &u32| {
                    item_bytes(items, *j).map_or(0, |x| hasher.hash_one(x))
                });
            }
            let s = Self::signature(b);
            if let Some(word) = signatures.get_mut(s / 64) {
                *word |= 1 << (s % 64);
            }
        }
        BytesIndex {
            hasher,
            table,
            signatures,
        }
    }

    /// Whether `v` is an item of `items` (the buffer the index was built from).
    #[inline(always)]
    fn contains(&self, items: &ValueBuf, v: &[u8]) -> bool {
        let s = Self::signature(v);
        let maybe = self
            .signatures
            .get(s / 64)
            .is_some_and(|w| w & (1 << (s % 64)) != 0);
        maybe
            && self
                .table
                .find(self.hasher.hash_one(v), |j| {
                    item_bytes(items, *j) == Some(v)
                })
                .is_some()
    }
}

#[derive(Clone, Debug)]
enum SetIndex {
    Bytes(BytesIndex),
    Int(HashSet<i64>),
    Uint(HashSet<u64>),
    Ip(HashSet<IpAddr>),
    Net(Vec<IpNet>),
    Linear,
}

#[derive(Clone, Debug)]
struct VmSet {
    kind: ScalarKind,
    /// The items as runtime values (empty for `net` sets, whose items live in `nets`).
    items: ValueBuf,
    nets: Vec<IpNet>,
    index: SetIndex,
    /// `pmatch` patterns split into components (only for `str` sets).
    paths: Vec<Box<[Box<[u8]>]>>,
    /// Aho-Corasick automata over the items, built at compile time when an `anyof.contains`
    /// (`exact`) or `anyof.icontains` (`folded`) check uses the set (what `opt::list_hash` makes of
    /// `f contains a or f contains b …`).
    exact: Option<Arc<aho_corasick::AhoCorasick>>,
    folded: Option<Arc<aho_corasick::AhoCorasick>>,
    /// The first and the last bytes of the byte-string items, as 256-bit maps, and whether some
    /// item is empty: an `anyof.startswith` (`anyof.endswith`) check whose value starts (ends) with
    /// a byte no item starts (ends) with is false without a comparison.
    first_bytes: [u64; 4],
    last_bytes: [u64; 4],
    has_empty: bool,
}

fn byte_map_insert(map: &mut [u64; 4], b: u8) {
    if let Some(w) = map.get_mut(usize::from(b / 64)) {
        *w |= 1 << (b % 64);
    }
}

fn byte_map_has(map: &[u64; 4], b: Option<&u8>) -> bool {
    b.is_some_and(|b| {
        map.get(usize::from(b / 64))
            .is_some_and(|w| w & (1 << (b % 64)) != 0)
    })
}

impl VmSet {
    fn build(decl: &ir::SetDecl) -> VmSet {
        let mut items = ValueBuf::new();
        let mut nets = Vec::new();
        for c in &decl.items {
            match c {
                Constant::Net(n) => nets.push(*n),
                c => push_const(&mut items, c),
            }
        }
        let index = match decl.kind {
            ScalarKind::Str | ScalarKind::Bytes => SetIndex::Bytes(BytesIndex::new(&items)),
            ScalarKind::Int => SetIndex::Int(
                decl.items
                    .iter()
                    .filter_map(|c| {
                        if let Constant::Int(i) = c {
                            Some(*i)
                        } else {
                            None
                        }
                    })
                    .collect(),
            ),
            ScalarKind::Uint => SetIndex::Uint(
                decl.items
                    .iter()
                    .filter_map(|c| {
                        if let Constant::Uint(i) = c {
                            Some(*i)
                        } else {
                            None
                        }
                    })
                    .collect(),
            ),
            ScalarKind::Ip => SetIndex::Ip(
                decl.items
                    .iter()
                    .filter_map(|c| {
                        if let Constant::Ip(i) = c {
                            Some(*i)
                        } else {
                            None
                        }
                    })
                    .collect(),
            ),
            ScalarKind::Net => SetIndex::Net(nets.clone()),
            ScalarKind::Bool | ScalarKind::Double => SetIndex::Linear,
        };
        let (mut first_bytes, mut last_bytes, mut has_empty) = ([0u64; 4], [0u64; 4], false);
        for v in items.iter() {
            if let ValueRef::Bytes(b) = v {
                match (b.first(), b.last()) {
                    (Some(f), Some(l)) => {
                        byte_map_insert(&mut first_bytes, *f);
                        byte_map_insert(&mut last_bytes, *l);
                    }
                    _ => has_empty = true,
                }
            }
        }
        VmSet {
            kind: decl.kind,
            items,
            nets,
            index,
            paths: Vec::new(),
            exact: None,
            folded: None,
            first_bytes,
            last_bytes,
            has_empty,
        }
    }

    /// Whether `v` equals some item (CIDR membership for `net` sets).
    fn contains(&self, v: ValueRef<'_>) -> bool {
        match (&self.index, v) {
            (SetIndex::Bytes(s), ValueRef::Bytes(b)) => s.contains(&self.items, b),
            (SetIndex::Int(s), v) => compare_key_i64(v).is_some_and(|x| s.contains(&x)),
            (SetIndex::Uint(s), v) => compare_key_u64(v).is_some_and(|x| s.contains(&x)),
            (SetIndex::Ip(s), ValueRef::Ip(ip)) => s.contains(&ip),
            (SetIndex::Net(nets), ValueRef::Ip(ip)) => nets.iter().any(|n| n.contains(ip)),
            (SetIndex::Linear, v) => self.items.iter().any(|k| compare(Cmp::Eq, self.kind, v, k)),
            _ => false,
        }
    }

    /// How many items satisfy `v op item` (duplicates counted).
    fn count(&self, op: Cmp, v: ValueRef<'_>) -> usize {
        if self.kind == ScalarKind::Net {
            let ValueRef::Ip(ip) = v else { return 0 };
            return self
                .nets
                .iter()
                .filter(|n| n.contains(ip) == (op == Cmp::Eq))
                .count();
        }
        self.items
            .iter()
            .filter(|k| compare(op, self.kind, v, *k))
            .count()
    }

    /// Splits the items into path components, for a `pmatch` check on the set (only `str` sets
    /// have them; built once, when some instruction needs them).
    fn prepare_paths(&mut self) {
        if self.kind != ScalarKind::Str || !self.paths.is_empty() {
            return;
        }
        self.paths = self
            .items
            .iter()
            .filter_map(|v| match v {
                ValueRef::Bytes(b) => Some(glob_components(b)),
                _ => None,
            })
            .collect();
    }

    /// Builds the automaton an `anyof` check with `op` uses, if `op` has one.
    fn prepare_any(&mut self, op: Cmp) {
        let folded = match op {
            Cmp::Contains | Cmp::BContains if self.exact.is_none() => false,
            Cmp::IContains if self.folded.is_none() => true,
            _ => return,
        };
        let patterns: Vec<&[u8]> = self
            .items
            .iter()
            .filter_map(|v| match v {
                ValueRef::Bytes(b) => Some(b),
                _ => None,
            })
            .collect();
        if patterns.len() != self.items.len() {
            return;
        }
        // A DFA is fastest for the short pattern sets rules use, but its size (and build time) grows
        // with the total pattern length: long patterns get the contiguous NFA instead.
        let total: usize = patterns.iter().map(|p| p.len()).sum();
        let kind = if total > 4096 {
            aho_corasick::AhoCorasickKind::ContiguousNFA
        } else {
            aho_corasick::AhoCorasickKind::DFA
        };
        let ac = automaton(folded, kind, &patterns);
        if folded {
            self.folded = ac;
        } else {
            self.exact = ac;
        }
    }

    /// Whether some item satisfies `v op item` (`anyof`): one automaton pass for `contains` and
    /// `icontains` (same answers as the item-by-item searches: an empty item matches everywhere,
    /// folding is ASCII-only in both), otherwise item by item, stopping at the first hit.
    fn any(&self, op: Cmp, v: ValueRef<'_>) -> bool {
        match (op, v, &self.exact, &self.folded) {
            (Cmp::Contains | Cmp::BContains, ValueRef::Bytes(b), Some(ac), _) => ac.is_match(b),
            (Cmp::IContains, ValueRef::Bytes(b), _, Some(ac)) => ac.is_match(b),
            _ if self.kind == ScalarKind::Net => self.count(op, v) >= 1,
            (Cmp::StartsWith | Cmp::BStartsWith, ValueRef::Bytes(b), ..)
                if !self.has_empty && !byte_map_has(&self.first_bytes, b.first()) =>
            {
                false
            }
            (Cmp::EndsWith, ValueRef::Bytes(b), ..)
                if !self.has_empty && !byte_map_has(&self.last_bytes, b.last()) =>
            {
                false
            }
            _ => self.items.iter().any(|k| compare(op, self.kind, v, k)),
        }
    }

    fn len(&self) -> usize {
        self.items.len() + self.nets.len()
    }
}

/// The automata that compiled programs hold, by pattern list: the per-event-type programs of one
/// ruleset share most of their `contains` lists, and building a DFA costs far more than comparing
/// the patterns. Entries are weak, so an automaton is shared only while some program holds it (a
/// ruleset's groups, a reload while the old ruleset is alive) and nothing outlives its programs.
type AutomatonKey = (bool, aho_corasick::AhoCorasickKind, Vec<Box<[u8]>>);
type AutomatonCache = Vec<(AutomatonKey, Weak<aho_corasick::AhoCorasick>)>;
static AUTOMATA: Mutex<AutomatonCache> = Mutex::new(Vec::new());

/// The Aho-Corasick automaton over `patterns` (ASCII case-folded when `folded`), shared through
/// [`AUTOMATA`] with the programs that hold an identical one (an automaton is immutable, and equal
/// pattern lists and options give equal answers).
fn automaton(
    folded: bool,
    kind: aho_corasick::AhoCorasickKind,
    patterns: &[&[u8]],
) -> Option<Arc<aho_corasick::AhoCorasick>> {
    let same = |k: &AutomatonKey| {
        k.0 == folded
            && k.1 == kind
            && k.2.len() == patterns.len()
            && k.2.iter().zip(patterns).all(|(a, b)| **a == **b)
    };
    // A poisoned lock (a panic elsewhere while holding it) only costs the sharing.
    if let Ok(cache) = AUTOMATA.lock()
        && let Some(ac) = cache
            .iter()
            .filter(|(k, _)| same(k))
            .find_map(|(_, w)| w.upgrade())
    {
        return Some(ac);
    }
    let ac = Arc::new(
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(folded)
            .kind(Some(kind))
            .build(patterns)
            .ok()?,
    );
    if let Ok(mut cache) = AUTOMATA.lock() {
        cache.retain(|(_, w)| w.strong_count() > 0);
        let key = (
            folded,
            kind,
            patterns.iter().map(|p| Box::from(*p)).collect(),
        );
        cache.push((key, Arc::downgrade(&ac)));
    }
    Some(ac)
}

fn compare_key_i64(v: ValueRef<'_>) -> Option<i64> {
    match v {
        ValueRef::I64(x) => Some(x),
        ValueRef::U64(x) => Some(x as i64),
        _ => None,
    }
}

fn compare_key_u64(v: ValueRef<'_>) -> Option<u64> {
    match v {
        ValueRef::U64(x) => Some(x),
        ValueRef::I64(x) => Some(x as u64),
        _ => None,
    }
}

/// A `pmatch` pattern's non-empty components (a trailing `/` is irrelevant, `/` alone has none).
fn glob_components(s: &[u8]) -> Box<[Box<[u8]>]> {
    glob::components(s).map(Box::from).collect()
}

/// Memo slots for the conditions that are used more than once (as operands or rule roots): the shared
/// macros, and the predicates several rules of a fused program test (`evt.is_open_read = true`,
/// `fd.typechar = f`, `not proc.name in (…)`, … which flattening copies into every rule's `and`). A
/// memo hit is one byte load, cheaper than even an inline comparison's cache check.
fn memo_slots(p: &ir::Program) -> Vec<Option<u32>> {
    let mut uses = vec![0u32; p.values.len()];
    for (_, inst) in p.values.iter() {
        for o in inst.operands() {
            if let Some(u) = uses.get_mut(o.0 as usize) {
                *u += 1;
            }
        }
    }
    for r in &p.rules {
        if let Some(u) = uses.get_mut(r.cond.0 as usize) {
            *u += 1;
        }
    }
    let mut next = 0u32;
    p.values
        .iter()
        .map(|(v, inst)| {
            let shared = uses.get(v.0 as usize).is_some_and(|u| *u > 1);
            let memoizable = !matches!(
                inst,
                Inst::Load(_) | Inst::Const(_) | Inst::Transform(..) | Inst::Bool(_)
            );
            (shared && memoizable).then(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

/// A constant string operand prepared for repeated use: a substring searcher for `contains`, the
/// lower-cased form for `icontains` — each built only when an instruction with that operator uses
/// the constant (most constants are compared with `=` or `startswith`, which need neither).
#[derive(Clone, Debug)]
struct Needle {
    bytes: Box<[u8]>,
    lower: Option<Box<[u8]>>,
    finder: Option<memchr::memmem::Finder<'static>>,
}

impl Needle {
    fn new(k: &[u8]) -> Needle {
        Needle {
            bytes: k.into(),
            lower: None,
            finder: None,
        }
    }

    /// Builds what `op` needs.
    fn prepare(&mut self, op: Cmp) {
        match op {
            Cmp::Contains | Cmp::BContains if self.finder.is_none() => {
                self.finder = Some(memchr::memmem::Finder::new(&self.bytes).into_owned());
            }
            Cmp::IContains if self.lower.is_none() => {
                self.lower = Some(self.bytes.to_ascii_lowercase().into());
            }
            _ => {}
        }
    }

    fn compare(&self, op: Cmp, v: &[u8]) -> bool {
        match op {
            // the common operators first, without going through `compare_bytes`
            Cmp::Eq => v == &*self.bytes,
            Cmp::Ne => v != &*self.bytes,
            Cmp::StartsWith | Cmp::BStartsWith => v.starts_with(&self.bytes),
            Cmp::EndsWith => v.ends_with(&self.bytes),
            Cmp::Contains | Cmp::BContains => match &self.finder {
                Some(f) => f.find(v).is_some(),
                None => compare_bytes(op, v, &self.bytes),
            },
            Cmp::IContains => match &self.lower {
                Some(lower) => {
                    lower.is_empty()
                        || v.windows(lower.len())
                            .any(|w| w.eq_ignore_ascii_case(lower))
                }
                None => compare_bytes(op, v, &self.bytes),
            },
            _ => compare_bytes(op, v, &self.bytes),
        }
    }
}

fn push_const(buf: &mut ValueBuf, c: &Constant) {
    match c {
        Constant::Int(x) => buf.push_i64(*x),
        Constant::Uint(x) => buf.push_u64(*x),
        Constant::Double(x) => buf.push_f64(*x),
        Constant::Bool(x) => buf.push_bool(*x),
        Constant::Str(x) | Constant::Bytes(x) => buf.push_bytes(x),
        Constant::Ip(x) => buf.push_ip(*x),
        // Networks have no item form; the verifier allows them only as the right side of a
        // comparison, which compiles to `CmpNet`.
        Constant::Net(n) => buf.push_ip(n.addr),
    }
}

/// One bytecode instruction. Predicates write the accumulator. Visible to the crate so that the JIT
/// can translate the control instructions and call [`Program::predicate`] for the others.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Exists(u32),
    Cmp {
        op: Cmp,
        kind: ScalarKind,
        lhs: u32,
        rhs: u32,
    },
    /// A string/buffer comparison with a constant, whose searcher is built once.
    CmpNeedle {
        op: Cmp,
        lhs: u32,
        needle: u32,
    },
    CmpNet {
        eq: bool,
        lhs: u32,
        net: IpNet,
    },
    Modified {
        m: Modifier,
        op: Cmp,
        lhs: u32,
        set: u32,
    },
    InSet {
        lhs: u32,
        set: u32,
        all: bool,
    },
    InVal {
        kind: ScalarKind,
        lhs: u32,
        rhs: u32,
        all: bool,
    },
    PMatch {
        lhs: u32,
        set: u32,
    },
    Regex {
        lhs: u32,
        re: u32,
    },
    RegexModified {
        m: Modifier,
        lhs: u32,
        res: Box<[u32]>,
    },
    Const(bool),
    /// If the memo slot is known for this event, load it and jump to `if_false` or `if_true` as its
    /// value says (both the end of the memoized code at first, threaded by [`thread_jumps`]).
    MemoGet {
        slot: u32,
        if_false: u32,
        if_true: u32,
    },
    /// Store the accumulator in the memo slot.
    MemoPut(u32),
    Not,
    JumpIfFalse(u32),
    JumpIfTrue(u32),
    Ret,
}

/// A rule's entry point.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    name: String,
    pub(crate) entry: u32,
    /// The rule's first step in the branch form ([`Step`]), or [`RET_FALSE`]/[`RET_TRUE`] when the
    /// rule is decided without evaluating anything.
    step: u32,
}

/// Step targets past every step: control ends the rule with this answer.
const RET_FALSE: u32 = u32::MAX - 1;
const RET_TRUE: u32 = u32::MAX;

/// The branch form of the bytecode, which [`Program::run_rule`] executes: every predicate names the
/// step that follows each of its answers, so the accumulator, `not`, the short-circuit jumps and
/// `ret` disappear (they are decided at compile time, when the answer that reaches them is known).
/// Derived from [`Program::code`] by [`branch_form`], which the JIT still translates instruction by
/// instruction; both forms give the same answer on every event.
///
/// Every predicate step also has a `store`: a memo slot that gets its answer before control moves
/// on ([`NO_STORE`] for none). [`Program::fuse_stores`] sets it where both answers went to a
/// [`Step::Put`] of the same slot (the end of a memoized condition), which saves that step's
/// dispatch; most memoized conditions end in one.
///
/// Invariant: every successor of a step is a later step or [`RET_FALSE`]/[`RET_TRUE`] (jumps in the
/// bytecode go forward), so a rule's walk ends.
#[derive(Clone, Debug)]
enum Step {
    /// Evaluates the predicate; goes to `t` when it holds, to `f` otherwise.
    Pred { op: Op, t: u32, f: u32, store: u32 },
    /// A memo slot: goes to `f` or `t` when the slot is decided for this event, else to `unknown`
    /// (the memoized code, ending in a [`Step::Put`]).
    Memo {
        slot: u32,
        t: u32,
        f: u32,
        unknown: u32,
    },
    /// Stores `val` (1 = false, 2 = true) in the memo slot and goes on to `next`.
    Put { slot: u32, val: u8, next: u32 },
    /// [`Op::CmpNeedle`] on a single-valued node: `lhs op needle` on its value, without the
    /// multi-value dispatch of [`Program::predicate`].
    Needle {
        op: Cmp,
        lhs: u32,
        needle: u32,
        t: u32,
        f: u32,
        store: u32,
    },
    /// [`Op::InSet`] on a single-valued scalar field (present means exactly one item) and a
    /// byte-string set: one hash-index lookup of its value.
    InBytes {
        lhs: u32,
        set: u32,
        t: u32,
        f: u32,
        store: u32,
    },
    /// [`Op::Cmp`] of a fixed-offset numeric field with a numeric constant ([`FixedCmp`]): read
    /// from the event's [`FixedFields`] block, which the source filled once for the event, instead
    /// of extracting the field into the cache.
    Fixed(FixedCmp),
    /// [`Op::Cmp`] of a single-valued node with a constant: one comparison of the two values.
    CmpConst {
        op: Cmp,
        kind: ScalarKind,
        lhs: u32,
        rhs: u32,
        t: u32,
        f: u32,
        store: u32,
    },
}

/// A comparison of fixed-offset field `field` with a constant, as an interval test: the field's
/// bits `x` are *inside* when `x - base <= span` (wrapping), and the comparison holds when that is
/// `holds_inside` (every operator reduces to this, see [`FixedCmp::new`]); a field absent from the
/// block makes it false (spec B.3, as when the extraction fails). Control goes to `t` when it
/// holds, to `f` otherwise, after the memo store `store` (see [`Step`]).
#[derive(Clone, Copy, Debug)]
struct FixedCmp {
    base: u64,
    span: u64,
    t: u32,
    f: u32,
    store: u32,
    field: u8,
    holds_inside: bool,
}

/// No memo store after a predicate step (see [`Step`]): past every slot ([`Program::compile_with`]
/// refuses a program with that many), so the store's bounds check is its only test.
const NO_STORE: u32 = u32::MAX;

/// Stores a predicate's answer in memo slot `store` as [`Step::Put`] would (2 = true, 1 = false);
/// nothing for [`NO_STORE`].
#[inline(always)]
fn store_answer(m: &mut Machine, store: u32, hit: bool) {
    if let Some(x) = m.memo.get_mut(store as usize) {
        *x = 1 + u8::from(hit);
    }
}

impl FixedCmp {
    /// `x op k` on the bits of a field of class `kind` (signed for `int`), going to `t` when it
    /// holds and to `f` otherwise. Every operator is an interval of the order, or its complement:
    /// `= k` is `[k, k]`, `!= k` its complement, `<= k` is `[0, k]`, `> k` its complement, `>= k`
    /// is `[k, max]`, `< k` its complement. A signed order is the unsigned one with the sign bit
    /// flipped on both sides; flipping the top bit is adding 2^63 (mod 2^64), which the interval's
    /// base absorbs: `(x ^ flip) - lo == x - (lo - flip)`.
    fn new(field: u8, op: Cmp, kind: ScalarKind, k: u64, t: u32, f: u32) -> Option<FixedCmp> {
        let flip = if kind == ScalarKind::Int { 1 << 63 } else { 0 };
        let k = k ^ flip;
        let (lo, hi, holds_inside) = match op {
            Cmp::Eq => (k, k, true),
            Cmp::Ne => (k, k, false),
            Cmp::Le => (0, k, true),
            Cmp::Gt => (0, k, false),
            Cmp::Ge => (k, u64::MAX, true),
            Cmp::Lt => (k, u64::MAX, false),
            _ => return None,
        };
        Some(FixedCmp {
            base: lo.wrapping_sub(flip),
            span: hi - lo,
            t,
            f,
            store: NO_STORE,
            field,
            holds_inside,
        })
    }

    /// Whether the comparison holds on the event's block.
    #[inline(always)]
    fn holds(&self, block: &FixedFields) -> bool {
        let i = usize::from(self.field);
        match block.values.get(i) {
            Some(x) if (block.present >> (i % 64)) & 1 != 0 => {
                (x.wrapping_sub(self.base) <= self.span) == self.holds_inside
            }
            _ => false,
        }
    }
}

impl Step {
    /// Where control can go after this step (targets past every step included).
    fn successors(&self) -> impl Iterator<Item = u32> + use<> {
        let (a, b, c) = match self {
            Step::Pred { t, f, .. }
            | Step::Needle { t, f, .. }
            | Step::InBytes { t, f, .. }
            | Step::CmpConst { t, f, .. }
            | Step::Fixed(FixedCmp { t, f, .. }) => (*t, Some(*f), None),
            Step::Memo { t, f, unknown, .. } => (*t, Some(*f), Some(*unknown)),
            Step::Put { next, .. } => (*next, None, None),
        };
        std::iter::once(a).chain(b).chain(c)
    }

    /// A predicate step's successors and memo store, to be rewritten in place (`None` for memo
    /// checks and stores).
    fn branches_mut(&mut self) -> Option<(&mut u32, &mut u32, &mut u32)> {
        match self {
            Step::Pred { t, f, store, .. }
            | Step::Needle { t, f, store, .. }
            | Step::InBytes { t, f, store, .. }
            | Step::CmpConst { t, f, store, .. }
            | Step::Fixed(FixedCmp { t, f, store, .. }) => Some((t, f, store)),
            Step::Memo { .. } | Step::Put { .. } => None,
        }
    }

    /// Replaces every successor `t` by `g(t)`, in the order of [`Step::successors`].
    fn map_successors(&mut self, mut g: impl FnMut(u32) -> u32) {
        match self {
            Step::Pred { t, f, .. }
            | Step::Needle { t, f, .. }
            | Step::InBytes { t, f, .. }
            | Step::CmpConst { t, f, .. }
            | Step::Fixed(FixedCmp { t, f, .. }) => {
                *t = g(*t);
                *f = g(*f);
            }
            Step::Memo { t, f, unknown, .. } => {
                *t = g(*t);
                *f = g(*f);
                *unknown = g(*unknown);
            }
            Step::Put { next, .. } => *next = g(*next),
        }
    }
}

/// Replaces every successor `t` of every step by `g(steps, t)`, in place. `g` follows chains of
/// steps it bypasses (skipped memo checks, dead stores) to their end, and gives the same end when
/// started from a bypassed step whose own successor was already replaced (the chain is only
/// shorter), so the steps rewritten before a lookup do not change its answer.
fn redirect_steps(steps: &mut [Step], g: impl Fn(&[Step], u32) -> u32) {
    for i in 0..steps.len() {
        let Some(st) = steps.get(i) else {
            continue;
        };
        let mut new = [RET_FALSE; 3];
        for (slot, t) in new.iter_mut().zip(st.successors()) {
            *slot = g(steps, t);
        }
        let mut new = new.into_iter();
        if let Some(st) = steps.get_mut(i) {
            st.map_successors(|_| new.next().unwrap_or(RET_FALSE));
        }
    }
}

/// Builds [`Step`]s from accumulator bytecode: a step per predicate and memo check reached, a step
/// per memo store and the answer stored; the jumps, `not` and `ret` between them are followed at
/// compile time with the accumulator known.
struct BranchForm<'a> {
    code: &'a [Op],
    steps: Vec<Step>,
    /// Per instruction: its step (predicates and memo checks in `[0]`; memo stores with the
    /// accumulator false in `[0]`, true in `[1]`), `u32::MAX` while none.
    id_of: Vec<[u32; 2]>,
    /// Steps allocated but not filled yet: (step, instruction, accumulator).
    pending: Vec<(u32, usize, bool)>,
}

impl BranchForm<'_> {
    /// The step reached when control arrives at instruction `pc` with the accumulator `acc`.
    fn target(&mut self, mut pc: usize, mut acc: bool) -> u32 {
        // Bounded by the code length: every instruction followed here moves forward.
        loop {
            match self.code.get(pc) {
                None | Some(Op::Ret) => return if acc { RET_TRUE } else { RET_FALSE },
                Some(Op::JumpIfFalse(t)) => pc = if acc { pc + 1 } else { *t as usize },
                Some(Op::JumpIfTrue(t)) => pc = if acc { *t as usize } else { pc + 1 },
                Some(Op::Not) => {
                    acc = !acc;
                    pc += 1;
                }
                Some(Op::Const(b)) => {
                    acc = *b;
                    pc += 1;
                }
                // A predicate or a memo check overwrites the accumulator before anything reads it
                // (the code of a condition starts with one), so their step does not depend on it.
                Some(Op::MemoPut(_)) => return self.step_at(pc, acc, usize::from(acc)),
                Some(_) => return self.step_at(pc, false, 0),
            }
        }
    }

    fn step_at(&mut self, pc: usize, acc: bool, variant: usize) -> u32 {
        if let Some(id) = self.id_of.get(pc).and_then(|ids| ids.get(variant))
            && *id != u32::MAX
        {
            return *id;
        }
        let id = self.steps.len() as u32;
        // placeholder, filled by `fill`
        self.steps.push(Step::Put {
            slot: 0,
            val: 0,
            next: RET_FALSE,
        });
        if let Some(slot) = self.id_of.get_mut(pc).and_then(|ids| ids.get_mut(variant)) {
            *slot = id;
        }
        self.pending.push((id, pc, acc));
        id
    }

    /// Fills every allocated step (and those their successors allocate).
    fn fill(&mut self) {
        while let Some((id, pc, acc)) = self.pending.pop() {
            let step = match self.code.get(pc) {
                Some(Op::MemoGet {
                    slot,
                    if_false,
                    if_true,
                }) => Step::Memo {
                    slot: *slot,
                    t: self.target(*if_true as usize, true),
                    f: self.target(*if_false as usize, false),
                    unknown: self.target(pc + 1, acc),
                },
                Some(Op::MemoPut(slot)) => Step::Put {
                    slot: *slot,
                    val: if acc { 2 } else { 1 },
                    next: self.target(pc + 1, acc),
                },
                Some(op) => {
                    let op = op.clone();
                    Step::Pred {
                        op,
                        t: self.target(pc + 1, true),
                        f: self.target(pc + 1, false),
                        store: NO_STORE,
                    }
                }
                None => continue,
            };
            if let Some(s) = self.steps.get_mut(id as usize) {
                *s = step;
            }
        }
    }
}

/// The branch form of `code` and the first step of each rule entry in `entries`.
fn branch_form(code: &[Op], entries: &[u32]) -> (Vec<Step>, Vec<u32>) {
    let mut b = BranchForm {
        code,
        steps: Vec::new(),
        id_of: vec![[u32::MAX; 2]; code.len()],
        pending: Vec::new(),
    };
    let firsts = entries
        .iter()
        .map(|e| {
            let s = b.target(*e as usize, false);
            b.fill();
            s
        })
        .collect();
    (b.steps, firsts)
}

/// A compiled program: bytecode for every rule of an [`ir::Program`].
#[derive(Clone, Debug)]
pub struct Program {
    pub(crate) nodes: Vec<Node>,
    pub(crate) node_ty: Vec<Ty>,
    /// Per node: how a multi-valued field's values are compared (`Single` for every other node).
    pub(crate) node_multi: Vec<MultiValue>,
    sets: Vec<VmSet>,
    regexes: Vec<regex::Regex>,
    pub(crate) code: Vec<Op>,
    /// The branch form of `code` (and of the plan's own code) that the VM runs.
    steps: Vec<Step>,
    /// The order in which [`Program::matches`] evaluates the rules, with shared guards; empty when
    /// the rules share no guard (they then run one by one, in rule order).
    pub(crate) plan: Vec<PlanItem>,
    pub(crate) rules: Vec<Rule>,
    /// Constant right sides of string comparisons, with their prepared searchers.
    needles: Vec<Needle>,
    /// Per node: what [`Program::ensure_slow`] extracts for a load node ([`LoadSlot`]).
    loads: Vec<LoadSlot>,
    /// How many memo slots the code uses.
    pub(crate) memos: usize,
    /// The fixed-offset fields [`Step::Fixed`] reads (bit `i` = [`crate::abi::FIXED_FIELD_NAMES`]`[i]`):
    /// the source fills them into [`Machine`]'s block once per event, before the walk, when any is.
    fixed_wanted: u64,
    /// The node statuses at the start of an event: constants present, everything else unknown
    /// (copied over [`Machine`]'s statuses by a reset, so a constant operand never takes the slow
    /// path of [`Program::ensure`]).
    initial_status: Vec<u8>,
}

/// The per-event cache of data nodes, reusable across events and programs of the same shape. Create
/// one with [`Program::machine`] and pass it to [`Program::eval_rule`] / [`Program::matches`] to avoid
/// allocating per event.
#[derive(Clone, Debug, Default)]
pub struct Machine {
    bufs: Vec<ValueBuf>,
    /// Per memo slot: 0 = not evaluated for this event, 1 = false, 2 = true.
    memo: Vec<u8>,
    /// Per node: 0 = not evaluated for this event, 1 = present, 2 = missing.
    status: Vec<u8>,
    /// The event's fixed-offset numeric fields that the program's [`Step::Fixed`] compare.
    fixed: FixedFields,
}

/// What the first read of a node in an event needs when the node is a load: the field, its
/// argument and the extraction checks, in a plain struct the hot path tests with one flag (the
/// [`Node`] enum's discriminant sits in a niche of its payload, which costs a decode per read).
#[derive(Clone, Debug)]
struct LoadSlot {
    field: FieldId,
    arg: Option<FieldArg>,
    /// [`LOAD`] for a load node, with its [`load_flags`]; 0 for every other node.
    flags: u8,
}

/// The node is a load (see [`LoadSlot`]).
const LOAD: u8 = 8;
/// A present extraction may have no item (a list, or DNS names no address resolves to).
const LOAD_ACCEPT_EMPTY: u8 = 1;
/// A present extraction may have several items (a list, or a multi-valued field).
const LOAD_ACCEPT_MANY: u8 = 2;
/// Trailing NULs of extracted items are dropped (`str` fields, see [`ValueBuf::trim_trailing_nuls`]).
const LOAD_TRIM_NULS: u8 = 4;

/// The extraction checks of a load node of type `ty`: a scalar field must yield exactly one item, a
/// multi-valued one at least one (DNS names: any number), a list any number.
fn load_flags(ty: Ty, multi: MultiValue) -> u8 {
    let mut f = 0;
    if ty.list || multi == MultiValue::Names {
        f |= LOAD_ACCEPT_EMPTY;
    }
    if ty.list || multi != MultiValue::Single {
        f |= LOAD_ACCEPT_MANY;
    }
    if ty.kind == ScalarKind::Str {
        f |= LOAD_TRIM_NULS;
    }
    f
}

const UNKNOWN: u8 = 0;
const PRESENT: u8 = 1;
const MISSING: u8 = 2;

struct Compiler<'a> {
    ir: &'a ir::Program,
    prog: Program,
    /// IR value → data node.
    node_of: Vec<Option<u32>>,
    /// IR value → memo slot, for conditions with several users (shared macros across rules).
    memo_of: Vec<Option<u32>>,
    /// Constant → its needle.
    needle_of: HashMap<Vec<u8>, u32>,
}

fn err(message: impl Into<String>) -> CompileError {
    CompileError {
        message: message.into(),
    }
}

impl Compiler<'_> {
    fn node(&self, v: ValueId) -> Result<u32, CompileError> {
        self.node_of
            .get(v.0 as usize)
            .copied()
            .flatten()
            .ok_or_else(|| err(format!("{v} is not a data value")))
    }

    /// Emits `v`, wrapped in a memo check when it is shared: the first evaluation in an event stores
    /// the answer, later ones reuse it (the code of `v` always ends with its answer in the accumulator,
    /// because every short-circuit jump inside it targets its end).
    fn emit(&mut self, v: ValueId) -> Result<(), CompileError> {
        let Some(slot) = self.memo_of.get(v.0 as usize).copied().flatten() else {
            return self.emit_inner(v);
        };
        let at = self.prog.code.len();
        self.prog.code.push(Op::Ret); // placeholder for MemoGet
        self.emit_inner(v)?;
        self.prog.code.push(Op::MemoPut(slot));
        let end = self.prog.code.len() as u32;
        if let Some(op) = self.prog.code.get_mut(at) {
            *op = Op::MemoGet {
                slot,
                if_false: end,
                if_true: end,
            };
        }
        Ok(())
    }

    fn emit_inner(&mut self, v: ValueId) -> Result<(), CompileError> {
        let inst = self
            .ir
            .values
            .get(v)
            .ok_or_else(|| err(format!("{v} is out of range")))?;
        let op = match inst {
            Inst::Load(_) | Inst::Const(_) | Inst::Transform(..) => {
                return Err(err(format!("{v} is a data value used as a condition")));
            }
            Inst::Exists(a) => Op::Exists(self.node(*a)?),
            Inst::Cmp(op, a, b) => {
                let lhs = self.node(*a)?;
                let kind = self
                    .prog
                    .node_ty
                    .get(lhs as usize)
                    .map_or(ScalarKind::Str, |t| t.kind);
                match self.ir.values.get(*b) {
                    Some(Inst::Const(Constant::Net(net))) => Op::CmpNet {
                        eq: *op == Cmp::Eq,
                        lhs,
                        net: *net,
                    },
                    Some(Inst::Const(Constant::Str(k) | Constant::Bytes(k))) => {
                        // one needle per distinct constant
                        let needle = match self.needle_of.get(&k[..]) {
                            Some(i) => *i,
                            None => {
                                let i = self.prog.needles.len() as u32;
                                self.prog.needles.push(Needle::new(k));
                                self.needle_of.insert(k.clone(), i);
                                i
                            }
                        };
                        if let Some(n) = self.prog.needles.get_mut(needle as usize) {
                            n.prepare(*op);
                        }
                        Op::CmpNeedle {
                            op: *op,
                            lhs,
                            needle,
                        }
                    }
                    _ => Op::Cmp {
                        op: *op,
                        kind,
                        lhs,
                        rhs: self.node(*b)?,
                    },
                }
            }
            Inst::Modified(m, op, a, s) => Op::Modified {
                m: *m,
                op: *op,
                lhs: self.node(*a)?,
                set: s.0,
            },
            Inst::In(a, r) | Inst::Intersects(a, r) => {
                let all = matches!(inst, Inst::In(..));
                let lhs = self.node(*a)?;
                match r {
                    ListRhs::Set(s) => Op::InSet { lhs, set: s.0, all },
                    ListRhs::Value(b) => {
                        let kind = self
                            .prog
                            .node_ty
                            .get(lhs as usize)
                            .map_or(ScalarKind::Str, |t| t.kind);
                        Op::InVal {
                            kind,
                            lhs,
                            rhs: self.node(*b)?,
                            all,
                        }
                    }
                }
            }
            Inst::PMatch(a, s) => Op::PMatch {
                lhs: self.node(*a)?,
                set: s.0,
            },
            Inst::Regex(a, r) => Op::Regex {
                lhs: self.node(*a)?,
                re: r.0,
            },
            Inst::RegexModified(m, a, rs) => Op::RegexModified {
                m: *m,
                lhs: self.node(*a)?,
                res: rs.iter().map(|r| r.0).collect(),
            },
            Inst::Bool(b) => Op::Const(*b),
            Inst::Not(a) => {
                self.emit(*a)?;
                Op::Not
            }
            Inst::And(xs) => return self.emit_connective(true, xs),
            Inst::Or(xs) => return self.emit_connective(false, xs),
        };
        self.prog.code.push(op);
        Ok(())
    }

    /// Emits `xs[0] and xs[1] …` (`or` when `!is_and`): short-circuit jumps to the end, left to
    /// right; no operand is `true` for `and` (`false` for `or`).
    fn emit_connective(&mut self, is_and: bool, xs: &[ValueId]) -> Result<(), CompileError> {
        let Some((last, init)) = xs.split_last() else {
            self.prog.code.push(Op::Const(is_and));
            return Ok(());
        };
        let mut patches = Vec::with_capacity(init.len());
        for x in init {
            self.emit(*x)?;
            patches.push(self.prog.code.len());
            self.prog.code.push(Op::Ret); // placeholder, patched below
        }
        self.emit(*last)?;
        let end = self.prog.code.len() as u32;
        for at in patches {
            if let Some(slot) = self.prog.code.get_mut(at) {
                *slot = if is_and {
                    Op::JumpIfFalse(end)
                } else {
                    Op::JumpIfTrue(end)
                };
            }
        }
        Ok(())
    }

    /// A rule's top-level conjuncts: the operands of its root `and`, or the root alone.
    fn conjuncts(&self, root: ValueId) -> Vec<ValueId> {
        match self.ir.values.get(root) {
            Some(Inst::And(xs)) => xs.clone(),
            _ => vec![root],
        }
    }

    /// The guard plan of the rules (see [`PlanItem`]): rules whose conjunct lists share a prefix of
    /// memoized conditions test that prefix once. Builds a trie over the conjunct lists (each list
    /// in its order, so no condition is evaluated earlier than some rule would evaluate it): a node
    /// shared by two rules or more becomes a guard, and a rule below guards is emitted again with
    /// the guarded conjuncts left out (they hold whenever it runs); a rule below none keeps its own
    /// entry. Returns the plan items with the entries of their code; empty when nothing is shared.
    fn plan(&mut self) -> Result<Vec<(PlanKind, u32)>, CompileError> {
        let conj: Vec<Vec<ValueId>> = self
            .ir
            .rules
            .iter()
            .map(|r| self.conjuncts(r.cond))
            .collect();
        let all: Vec<usize> = (0..conj.len()).collect();
        let mut items = Vec::new();
        self.plan_node(&conj, &all, 0, &mut items)?;
        if !items
            .iter()
            .any(|(k, _)| matches!(k, PlanKind::Guard { .. }))
        {
            return Ok(Vec::new());
        }
        Ok(items)
    }

    /// The plan of `rules` (in rule order), which share their first `depth` conjuncts, all of them
    /// guarded already.
    fn plan_node(
        &mut self,
        conj: &[Vec<ValueId>],
        rules: &[usize],
        depth: usize,
        items: &mut Vec<(PlanKind, u32)>,
    ) -> Result<(), CompileError> {
        // rules grouped by their next conjunct (when it is memoized), in order of first appearance
        let mut groups: Vec<(Option<ValueId>, Vec<usize>)> = Vec::new();
        for &r in rules {
            let key = conj
                .get(r)
                .and_then(|c| c.get(depth))
                .copied()
                .filter(|x| self.memo_of.get(x.0 as usize).copied().flatten().is_some());
            match groups.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
                Some((_, g)) => g.push(r),
                None => groups.push((key, vec![r])),
            }
        }
        for (key, group) in groups {
            match key {
                Some(g) if group.len() >= 2 => {
                    let entry = self.prog.code.len() as u32;
                    self.emit(g)?;
                    self.prog.code.push(Op::Ret);
                    let at = items.len();
                    items.push((PlanKind::Guard { skip: 0 }, entry));
                    self.plan_node(conj, &group, depth + 1, items)?;
                    let end = items.len() as u32;
                    if let Some((PlanKind::Guard { skip }, _)) = items.get_mut(at) {
                        *skip = end;
                    }
                }
                _ => {
                    for r in group {
                        let entry = if depth == 0 {
                            self.prog.rules.get(r).map_or(0, |x| x.entry)
                        } else {
                            let entry = self.prog.code.len() as u32;
                            let rest = conj.get(r).and_then(|c| c.get(depth..)).unwrap_or(&[]);
                            self.emit_connective(true, rest)?;
                            self.prog.code.push(Op::Ret);
                            entry
                        };
                        items.push((PlanKind::Rule(r as u32), entry));
                    }
                }
            }
        }
        Ok(())
    }
}

/// What a [`PlanItem`] does, before its code has a step.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PlanKind {
    /// A shared conjunct: when false, go on at item `skip` (past every rule that needs it).
    Guard { skip: u32 },
    /// A rule, with its guarded conjuncts left out: reported when true.
    Rule(u32),
}

/// One step of the order in which [`Program::matches`] evaluates a fused program's rules.
///
/// Rules are pure, so they can be evaluated in any order as long as the matches are reported in
/// rule order. In a per-event-type group many rules start with the same conditions (`open_read` =
/// `evt.is_open_read = true and fd.typechar = f and fd.num >= 0` begins ~20 rules of the `open`
/// group); the plan tests such a shared prefix once, skips every rule below it when it is false,
/// and runs those rules without it when it is true — instead of each rule re-reading the memo slots.
/// Invariants: a guard's `skip` is a later item (or the end), so a plan walk ends; every rule
/// appears exactly once; a rule below guards runs only when all of them held, and its code is its
/// condition without exactly those conjuncts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlanItem {
    pub(crate) kind: PlanKind,
    /// The first step of the item's code.
    step: u32,
    /// The first instruction of the item's linear code in `Program::code` (what the JIT translates).
    pub(crate) entry: u32,
}

/// Where control arriving at `t` with the accumulator equal to `acc` really goes: past every jump
/// that the known accumulator decides (a taken jump keeps the accumulator, an untaken one falls
/// through). Stops at anything else — a predicate, `not`, a memo instruction or `ret` — so the
/// accumulator is still `acc` wherever it stops. Bounded by the code length (jumps go forward).
fn thread(code: &[Op], mut t: u32, acc: bool) -> u32 {
    for _ in 0..code.len() {
        t = match code.get(t as usize) {
            Some(Op::JumpIfFalse(n)) => {
                if acc {
                    t + 1
                } else {
                    *n
                }
            }
            Some(Op::JumpIfTrue(n)) => {
                if acc {
                    *n
                } else {
                    t + 1
                }
            }
            _ => return t,
        };
    }
    t
}

/// Jump threading: every jump (and every memo hit) goes straight to where the chain of short-circuit
/// jumps it lands on would take it. `a and b and c` inside an `or` inside a rule compiles to jumps to
/// jumps; a memoized operand known false skips the whole `and` at once. Exact: a jump only ever lands
/// on a jump whose direction the accumulator it carries decides; jumps stay forward and inside their
/// rule (every rule ends with `ret`, where threading stops).
fn thread_jumps(code: &mut [Op]) {
    for i in 0..code.len() {
        let threaded = match code.get(i) {
            Some(Op::JumpIfFalse(t)) => Op::JumpIfFalse(thread(code, *t, false)),
            Some(Op::JumpIfTrue(t)) => Op::JumpIfTrue(thread(code, *t, true)),
            Some(Op::MemoGet {
                slot,
                if_false,
                if_true,
            }) => Op::MemoGet {
                slot: *slot,
                if_false: thread(code, *if_false, false),
                if_true: thread(code, *if_true, true),
            },
            _ => continue,
        };
        if let Some(op) = code.get_mut(i) {
            *op = threaded;
        }
    }
}

/// Knobs of [`Program::compile_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// Memoize shared compound conditions per event and read fixed-offset numeric fields from the
    /// event's block (on by default; off gives the plain tree-shaped evaluation, every field
    /// through `extract`, which tests compare against).
    pub memoize: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { memoize: true }
    }
}

impl Program {
    /// Compiles a verified IR program with the default options. Fails only on programs the verifier
    /// rejects.
    pub fn compile(p: &ir::Program) -> Result<Program, CompileError> {
        Program::compile_with(p, CompileOptions::default())
    }

    /// Compiles a verified IR program.
    pub fn compile_with(p: &ir::Program, options: CompileOptions) -> Result<Program, CompileError> {
        let mut c = Compiler {
            ir: p,
            prog: Program {
                nodes: Vec::new(),
                node_ty: Vec::new(),
                node_multi: Vec::new(),
                sets: p.sets.iter().map(|(_, s)| VmSet::build(s)).collect(),
                regexes: Vec::new(),
                code: Vec::new(),
                steps: Vec::new(),
                plan: Vec::new(),
                rules: Vec::new(),
                needles: Vec::new(),
                loads: Vec::new(),
                memos: 0,
                fixed_wanted: 0,
                initial_status: Vec::new(),
            },
            node_of: Vec::with_capacity(p.values.len()),
            needle_of: HashMap::default(),
            memo_of: if options.memoize {
                memo_slots(p)
            } else {
                vec![None; p.values.len()]
            },
        };
        c.prog.memos = c.memo_of.iter().flatten().count();
        if c.prog.memos >= NO_STORE as usize {
            return Err(err("too many memo slots"));
        }
        for (_, inst) in p.values.iter() {
            match inst {
                Inst::Modified(Modifier::AnyOf, op, _, s) => {
                    if let Some(set) = c.prog.sets.get_mut(s.0 as usize) {
                        set.prepare_any(*op);
                    }
                }
                Inst::PMatch(_, s) => {
                    if let Some(set) = c.prog.sets.get_mut(s.0 as usize) {
                        set.prepare_paths();
                    }
                }
                _ => {}
            }
        }
        for (id, r) in p.regexes.iter() {
            let re = regex::Regex::new(&crate::verify::anchored(&r.pattern))
                .map_err(|e| err(format!("{id}: invalid regex pattern: {e}")))?;
            c.prog.regexes.push(re);
        }
        let mut load_node: HashMap<(FieldId, Option<FieldArg>), u32> = HashMap::default();
        for (v, inst) in p.values.iter() {
            let node = match inst {
                Inst::Load(s) => {
                    let decl = p
                        .fields
                        .get(*s)
                        .ok_or_else(|| err(format!("{v}: slot {s} out of range")))?;
                    // One node per distinct (field, argument): two load sites of the same field share
                    // one extraction per event.
                    let key = (decl.id, decl.arg.clone());
                    Some(match load_node.get(&key) {
                        Some(n) => *n,
                        None => {
                            let n = c.prog.nodes.len() as u32;
                            c.prog.nodes.push(Node::Load(decl.id, decl.arg.clone()));
                            c.prog.node_ty.push(decl.ty);
                            c.prog.node_multi.push(decl.multi);
                            load_node.insert(key, n);
                            n
                        }
                    })
                }
                Inst::Const(k) => {
                    let mut buf = ValueBuf::new();
                    push_const(&mut buf, k);
                    let n = c.prog.nodes.len() as u32;
                    c.prog.nodes.push(Node::Const(buf));
                    c.prog.node_ty.push(Ty::scalar(k.kind()));
                    c.prog.node_multi.push(MultiValue::Single);
                    Some(n)
                }
                Inst::Transform(op, args) => {
                    let args = args
                        .iter()
                        .map(|a| c.node(*a))
                        .collect::<Result<Box<[u32]>, _>>()?;
                    let Some(crate::ir::ValueType::Data(ty)) = p.type_of(v) else {
                        return Err(err(format!("{v} is ill-typed")));
                    };
                    let n = c.prog.nodes.len() as u32;
                    c.prog.nodes.push(Node::Transform(*op, args));
                    c.prog.node_ty.push(ty);
                    c.prog.node_multi.push(MultiValue::Single);
                    Some(n)
                }
                _ => None,
            };
            c.node_of.push(node);
        }
        c.prog.loads = c
            .prog
            .nodes
            .iter()
            .zip(c.prog.node_ty.iter().zip(&c.prog.node_multi))
            .map(|(node, (ty, multi))| match node {
                Node::Load(field, arg) => LoadSlot {
                    field: *field,
                    arg: arg.clone(),
                    flags: LOAD | load_flags(*ty, *multi),
                },
                _ => LoadSlot {
                    field: FieldId(0),
                    arg: None,
                    flags: 0,
                },
            })
            .collect();
        c.prog.initial_status = c
            .prog
            .nodes
            .iter()
            .map(|n| match n {
                Node::Const(_) => PRESENT,
                _ => UNKNOWN,
            })
            .collect();
        for r in &p.rules {
            let entry = c.prog.code.len() as u32;
            c.emit(r.cond)?;
            c.prog.code.push(Op::Ret);
            c.prog.rules.push(Rule {
                name: r.name.clone(),
                entry,
                step: RET_FALSE,
            });
        }
        // The plan's code (guards, rules without their guarded conjuncts) goes after the rules'; the
        // JIT translates it too (its all-rules entry walks the plan).
        let plan = if p.rules.len() >= 2 {
            c.plan()?
        } else {
            Vec::new()
        };
        thread_jumps(&mut c.prog.code);
        let mut entries: Vec<u32> = c.prog.rules.iter().map(|r| r.entry).collect();
        entries.extend(plan.iter().map(|(_, e)| *e));
        let (steps, firsts) = branch_form(&c.prog.code, &entries);
        c.prog.steps = steps
            .into_iter()
            .map(|st| c.prog.specialize(st, options.memoize))
            .collect();
        let (rule_firsts, plan_firsts) = firsts.split_at(c.prog.rules.len().min(firsts.len()));
        for (r, s) in c.prog.rules.iter_mut().zip(rule_firsts) {
            r.step = *s;
        }
        c.prog.plan = plan
            .iter()
            .zip(plan_firsts)
            .map(|((kind, entry), step)| PlanItem {
                kind: *kind,
                step: *step,
                entry: *entry,
            })
            .collect();
        c.prog.skip_unknown_memos();
        c.prog.drop_dead_stores();
        c.prog.fuse_stores();
        c.prog.fixed_wanted = c.prog.steps.iter().fold(0, |w, st| match st {
            Step::Fixed(x) => w | 1 << (x.field % 64),
            _ => w,
        });
        Ok(c.prog)
    }

    /// Memo checks that can only find their slot empty go straight to the memoized code. Along the
    /// guard plan (the order [`Program::matches`] runs the steps in), a memo check whose slot no
    /// store before it can have written — in an earlier plan item, or earlier in the same walk —
    /// always takes its `unknown` branch: every step leading to it (and the item or rule entry that
    /// is it) goes to that branch directly. The same holds where those steps are run on their own
    /// ([`Program::eval_rule`] starts with every slot empty). Without a plan nothing changes.
    fn skip_unknown_memos(&mut self) {
        if self.plan.is_empty() {
            return;
        }
        let n = self.steps.len();
        let words = self.memos.div_ceil(64);
        let has = |set: &[u64], slot: u32| {
            set.get(slot as usize / 64)
                .is_some_and(|w| w & (1 << (slot % 64)) != 0)
        };
        // per step: whether some context may reach it with its slot written (memo checks only),
        // and whether it was reached at all
        let mut keep = vec![false; n];
        let mut seen = vec![false; n];
        let mut before = vec![0u64; words];
        for item in &self.plan {
            // reverse post-order of the item's steps (a topological order: the steps form a DAG)
            let mut order = Vec::new();
            let mut visited = vec![false; n];
            let mut stack = vec![(item.step, false)];
            while let Some((sid, done)) = stack.pop() {
                let i = sid as usize;
                if done {
                    order.push(sid);
                    continue;
                }
                match visited.get_mut(i) {
                    Some(v) if !*v => *v = true,
                    _ => continue,
                }
                stack.push((sid, true));
                if let Some(st) = self.steps.get(i) {
                    for succ in st.successors() {
                        if visited.get(succ as usize) == Some(&false) {
                            stack.push((succ, false));
                        }
                    }
                }
            }
            order.reverse();
            let mut written: Vec<Option<Vec<u64>>> = vec![None; n];
            if let Some(w) = written.get_mut(item.step as usize) {
                *w = Some(before.clone());
            }
            let mut after = before.clone();
            for sid in order {
                let i = sid as usize;
                let Some(mut cur) = written.get_mut(i).and_then(Option::take) else {
                    continue;
                };
                if let Some(s) = seen.get_mut(i) {
                    *s = true;
                }
                let Some(st) = self.steps.get(i) else {
                    continue;
                };
                match st {
                    Step::Memo { slot, .. } if has(&cur, *slot) => {
                        if let Some(k) = keep.get_mut(i) {
                            *k = true;
                        }
                    }
                    Step::Put { slot, .. } => {
                        if let Some(w) = cur.get_mut(*slot as usize / 64) {
                            *w |= 1 << (slot % 64);
                        }
                    }
                    _ => {}
                }
                for (a, c) in after.iter_mut().zip(&cur) {
                    *a |= *c;
                }
                for succ in st.successors() {
                    if let Some(slot) = written.get_mut(succ as usize) {
                        match slot {
                            Some(w) => w.iter_mut().zip(&cur).for_each(|(a, c)| *a |= *c),
                            None => *slot = Some(cur.clone()),
                        }
                    }
                }
            }
            before = after;
        }
        // where each skipped memo check leads (chains of them followed; every `unknown` is a
        // later step, so this ends)
        let skip = |steps: &[Step], mut sid: u32| -> u32 {
            for _ in 0..=n {
                let i = sid as usize;
                match steps.get(i) {
                    Some(Step::Memo { unknown, .. })
                        if seen.get(i) == Some(&true) && keep.get(i) == Some(&false) =>
                    {
                        sid = *unknown;
                    }
                    _ => return sid,
                }
            }
            sid
        };
        self.redirect(skip);
    }

    /// Memo stores that no memo check can read are dropped: a slot whose checks were all skipped
    /// by [`Program::skip_unknown_memos`] (or that only a guard of the plan tests, whose rules run
    /// without it) is written by the walk but never read, so the store is one dispatch for nothing.
    /// Reads are the memo checks reachable from an entry (every rule's own entry included, which
    /// [`Program::eval_rule`] runs), so no answer can change. Control that went to such a store
    /// goes to its successor (chains followed; every successor is a later step, so this ends).
    fn drop_dead_stores(&mut self) {
        let n = self.steps.len();
        let mut reachable = vec![false; n];
        let mut stack: Vec<u32> = self.rules.iter().map(|r| r.step).collect();
        stack.extend(self.plan.iter().map(|p| p.step));
        let mut read = vec![false; self.memos];
        while let Some(sid) = stack.pop() {
            match reachable.get_mut(sid as usize) {
                Some(r) if !*r => *r = true,
                _ => continue,
            }
            let Some(st) = self.steps.get(sid as usize) else {
                continue;
            };
            if let Step::Memo { slot, .. } = st
                && let Some(r) = read.get_mut(*slot as usize)
            {
                *r = true;
            }
            stack.extend(st.successors());
        }
        let dead = |st: Option<&Step>| match st {
            Some(Step::Put { slot, .. }) => read.get(*slot as usize) != Some(&true),
            _ => false,
        };
        if !self.steps.iter().any(|st| dead(Some(st))) {
            return;
        }
        let past = |steps: &[Step], mut sid: u32| -> u32 {
            for _ in 0..=n {
                match steps.get(sid as usize) {
                    Some(Step::Put { next, .. }) if dead(steps.get(sid as usize)) => sid = *next,
                    _ => return sid,
                }
            }
            sid
        };
        self.redirect(past);
    }

    /// Replaces every entry (plan items, rules) and every successor of every step `t` by
    /// `g(steps, t)`, as [`redirect_steps`] does for the steps (same contract on `g`).
    fn redirect(&mut self, g: impl Fn(&[Step], u32) -> u32) {
        for item in &mut self.plan {
            item.step = g(&self.steps, item.step);
        }
        for r in &mut self.rules {
            r.step = g(&self.steps, r.step);
        }
        redirect_steps(&mut self.steps, g);
    }

    /// Memo stores fused into the predicate before them: a predicate step whose answers both go
    /// to a [`Step::Put`] of one slot (true to the store of `true`, false to that of `false`)
    /// stores its answer itself and goes straight to the stores' successors. The same stores on
    /// the same paths, one dispatch fewer; the [`Step::Put`]s stay for any other predecessor.
    fn fuse_stores(&mut self) {
        for i in 0..self.steps.len() {
            let put = |sid: u32| match self.steps.get(sid as usize) {
                Some(Step::Put { slot, val, next }) => Some((*slot, *val, *next)),
                _ => None,
            };
            let Some(
                Step::Pred { t, f, .. }
                | Step::Needle { t, f, .. }
                | Step::InBytes { t, f, .. }
                | Step::CmpConst { t, f, .. }
                | Step::Fixed(FixedCmp { t, f, .. }),
            ) = self.steps.get(i)
            else {
                continue;
            };
            let (Some((slot, 2, t_next)), Some((slot_f, 1, f_next))) = (put(*t), put(*f)) else {
                continue;
            };
            if slot != slot_f {
                continue;
            }
            if let Some((t, f, store)) = self.steps.get_mut(i).and_then(Step::branches_mut)
                && *store == NO_STORE
            {
                *t = t_next;
                *f = f_next;
                *store = slot;
            }
        }
    }

    /// A fresh per-event cache sized for this program.
    pub fn machine(&self) -> Machine {
        Machine {
            bufs: vec![ValueBuf::new(); self.nodes.len()],
            memo: vec![0; self.memos],
            status: self.initial_status.clone(),
            fixed: FixedFields::EMPTY,
        }
    }

    /// How many rules the program evaluates.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The name of rule `i`.
    pub fn rule_name(&self, i: usize) -> Option<&str> {
        self.rules.get(i).map(|r| r.name.as_str())
    }

    /// Evaluates the first rule's condition against one event (convenience; allocates a [`Machine`]).
    /// `false` when the program has no rule.
    pub fn eval(&self, src: &mut dyn FieldSource) -> bool {
        let mut m = self.machine();
        self.eval_rule(&mut m, src, 0)
    }

    /// Evaluates rule `i` against a new event: clears the cache first.
    pub fn eval_rule(&self, m: &mut Machine, src: &mut dyn FieldSource, i: usize) -> bool {
        self.reset_all(m, src);
        self.run_rule(m, src, i)
    }

    /// Evaluates every rule against one event, in rule order, sharing extracted fields between rules;
    /// appends the indices of the matching rules to `out`.
    pub fn matches(&self, m: &mut Machine, src: &mut dyn FieldSource, out: &mut Vec<usize>) {
        self.reset_all(m, src);
        if self.plan.is_empty() {
            for i in 0..self.rules.len() {
                if self.run_rule(m, src, i) {
                    out.push(i);
                }
            }
            return;
        }
        let start = out.len();
        self.run_plan(m, src, |r| out.push(r));
        // the plan groups rules by their guards: report them in rule order
        if let Some(found) = out.get_mut(start..)
            && !found.is_sorted()
        {
            found.sort_unstable();
        }
    }

    /// Evaluates the rules against one event and returns the first (in rule order) that matches.
    /// Without a guard plan the rules run in rule order and none after the match is evaluated;
    /// with one, rules are evaluated in plan order, skipping those after the best match so far.
    pub fn first_match(&self, m: &mut Machine, src: &mut dyn FieldSource) -> Option<usize> {
        self.reset_all(m, src);
        if self.plan.is_empty() {
            return (0..self.rules.len()).find(|&i| self.run_rule(m, src, i));
        }
        let mut best: Option<usize> = None;
        self.run_plan(m, src, |r| best = Some(best.map_or(r, |b| b.min(r))));
        best
    }

    /// Walks the guard plan, calling `found` with every matching rule (in plan order).
    fn run_plan(&self, m: &mut Machine, src: &mut dyn FieldSource, mut found: impl FnMut(usize)) {
        let mut i = 0;
        // Guards skip forward and every other item moves on by one, so the walk ends.
        while let Some(item) = self.plan.get(i) {
            let holds = self.walk(m, src, item.step);
            i = match item.kind {
                PlanKind::Guard { skip } if !holds => skip as usize,
                PlanKind::Rule(r) if holds => {
                    found(r as usize);
                    i + 1
                }
                _ => i + 1,
            };
        }
    }

    /// Starts a new event for the data nodes only: statuses back to "constants present, everything
    /// else unknown". The memo slots are left alone: the JIT, which calls this for the field cache
    /// its helpers share with the VM, keeps its own memo slots; the VM's entry points use
    /// [`Program::reset_all`].
    pub(crate) fn reset(&self, m: &mut Machine) {
        if m.status.len() != self.nodes.len() || m.memo.len() != self.memos {
            *m = self.machine();
        } else {
            m.status.copy_from_slice(&self.initial_status);
        }
    }

    /// Starts a new event: data nodes, memo slots, and the fixed-offset fields the program
    /// compares (filled by the source, once, as [`FieldSource::fixed_fields`] asks).
    fn reset_all(&self, m: &mut Machine, src: &mut dyn FieldSource) {
        self.reset(m);
        m.memo.fill(0);
        if self.fixed_wanted != 0 {
            m.fixed.present = 0;
            src.fixed_fields(self.fixed_wanted, &mut m.fixed);
        }
    }

    fn run_rule(&self, m: &mut Machine, src: &mut dyn FieldSource, i: usize) -> bool {
        match self.rules.get(i) {
            Some(rule) => self.walk(m, src, rule.step),
            None => false,
        }
    }

    /// `step` in a specialized form ([`Step::Needle`], [`Step::InBytes`], [`Step::CmpConst`]) when
    /// its operand is single-valued, so that the answer is the generic predicate's on every event;
    /// with `fixed`, a comparison of a fixed-offset field with a constant reads the event's block
    /// ([`Step::Fixed`]; the plain evaluation, which tests compare against, reads every field
    /// through `extract`).
    fn specialize(&self, step: Step, fixed: bool) -> Step {
        let Step::Pred { op, t, f, .. } = step else {
            return step;
        };
        let single = |n: u32| {
            self.node_multi
                .get(n as usize)
                .is_some_and(|m| *m == MultiValue::Single)
        };
        // the fast steps read a load's value from the machine directly
        let is_load = |n: u32| matches!(self.nodes.get(n as usize), Some(Node::Load(..)));
        // a load of a scalar field: present means exactly one item (see `load_flags`)
        let one_item = |n: u32| {
            single(n) && is_load(n) && self.node_ty.get(n as usize).is_some_and(|t| !t.list)
        };
        if let (true, Op::Cmp { op, kind, lhs, rhs }) = (fixed, &op)
            && let Some(x) = self.fixed_cmp(*op, *kind, *lhs, *rhs, t, f)
        {
            return Step::Fixed(x);
        }
        match op {
            Op::CmpNeedle { op, lhs, needle } if single(lhs) && is_load(lhs) => Step::Needle {
                op,
                lhs,
                needle,
                t,
                f,
                store: NO_STORE,
            },
            Op::InSet { lhs, set, .. }
                if one_item(lhs)
                    && self
                        .sets
                        .get(set as usize)
                        .is_some_and(|s| matches!(s.index, SetIndex::Bytes(_))) =>
            {
                Step::InBytes {
                    lhs,
                    set,
                    t,
                    f,
                    store: NO_STORE,
                }
            }
            Op::Cmp { op, kind, lhs, rhs }
                if single(lhs)
                    && is_load(lhs)
                    && matches!(self.nodes.get(rhs as usize), Some(Node::Const(_))) =>
            {
                Step::CmpConst {
                    op,
                    kind,
                    lhs,
                    rhs,
                    t,
                    f,
                    store: NO_STORE,
                }
            }
            op => Step::Pred {
                op,
                t,
                f,
                store: NO_STORE,
            },
        }
    }

    /// The fixed-offset index of node `n` when it is a load, without an argument, of a
    /// fixed-offset field whose class is the node's: then the event's block holds exactly what a
    /// comparison of its extracted value accepts (see [`crate::abi::fixed_bits`]).
    pub(crate) fn fixed_of(&self, n: u32) -> Option<usize> {
        let Some(Node::Load(field, None)) = self.nodes.get(n as usize) else {
            return None;
        };
        let ty = self.node_ty.get(n as usize)?;
        let i = crate::abi::fixed_index(*field)?;
        (!ty.list && !self.is_multi(n) && crate::abi::fixed_kind(i) == Some(ty.kind) && i < 64)
            .then_some(i)
    }

    /// `lhs op rhs` as a [`FixedCmp`] when `lhs` is a fixed-offset field and `rhs` a constant
    /// that [`compare`] reads as a number of the field's class: an `int`/`uint` field against an
    /// integer (or boolean) constant, a `bool` field against a boolean. The block holds the
    /// field's item as the same bits `compare` would read, so the answer is the same on every event.
    fn fixed_cmp(
        &self,
        op: Cmp,
        kind: ScalarKind,
        lhs: u32,
        rhs: u32,
        t: u32,
        f: u32,
    ) -> Option<FixedCmp> {
        let i = self.fixed_of(lhs)?;
        if self.node_ty.get(lhs as usize)?.kind != kind {
            return None;
        }
        let Some(Node::Const(c)) = self.nodes.get(rhs as usize) else {
            return None;
        };
        let k = match (kind, c.get(0)?) {
            (ScalarKind::Bool, ValueRef::Bool(b)) => u64::from(b),
            (ScalarKind::Int | ScalarKind::Uint, ValueRef::I64(x)) => x as u64,
            (ScalarKind::Int | ScalarKind::Uint, ValueRef::U64(x)) => x,
            (ScalarKind::Int | ScalarKind::Uint, ValueRef::Bool(b)) => u64::from(b),
            _ => return None,
        };
        FixedCmp::new(u8::try_from(i).ok()?, op, kind, k, t, f)
    }

    /// Runs the branch form from step `s` to the end of its code; its answer.
    #[inline(always)]
    fn walk(&self, m: &mut Machine, src: &mut dyn FieldSource, mut s: u32) -> bool {
        // The value of a load node (the fast steps' operands are loads: see `specialize`).
        fn first(m: &Machine, n: u32) -> Option<ValueRef<'_>> {
            m.bufs.get(n as usize).and_then(|b| b.get(0))
        }
        // The walk ends at a target past every step (`RET_FALSE`/`RET_TRUE`); successors are later
        // steps, so it always does.
        while let Some(step) = self.steps.get(s as usize) {
            s = match step {
                Step::Pred { op, t, f, store } => {
                    let hit = self.predicate(m, src, op);
                    store_answer(m, *store, hit);
                    if hit { *t } else { *f }
                }
                Step::Memo {
                    slot,
                    t,
                    f,
                    unknown,
                } => match m.memo.get(*slot as usize) {
                    Some(1) => *f,
                    Some(2) => *t,
                    _ => *unknown,
                },
                Step::Put { slot, val, next } => {
                    if let Some(x) = m.memo.get_mut(*slot as usize) {
                        *x = *val;
                    }
                    *next
                }
                Step::Fixed(x) => {
                    let hit = x.holds(&m.fixed);
                    store_answer(m, x.store, hit);
                    if hit { x.t } else { x.f }
                }
                // Same answers as `predicate` on the general instruction (see `specialize`): a
                // single-valued node is checked on its first (only) value, `false` when missing.
                Step::Needle {
                    op,
                    lhs,
                    needle,
                    t,
                    f,
                    store,
                } => {
                    let hit = self.ensure(m, src, *lhs)
                        && match (first(m, *lhs), self.needles.get(*needle as usize)) {
                            (Some(ValueRef::Bytes(v)), Some(n)) => n.compare(*op, v),
                            _ => false,
                        };
                    store_answer(m, *store, hit);
                    if hit { *t } else { *f }
                }
                Step::InBytes {
                    lhs,
                    set,
                    t,
                    f,
                    store,
                } => {
                    let hit = self.ensure(m, src, *lhs)
                        && match (self.sets.get(*set as usize), first(m, *lhs)) {
                            (Some(s), Some(ValueRef::Bytes(v))) => match &s.index {
                                SetIndex::Bytes(index) => index.contains(&s.items, v),
                                _ => s.contains(ValueRef::Bytes(v)),
                            },
                            _ => false,
                        };
                    store_answer(m, *store, hit);
                    if hit { *t } else { *f }
                }
                Step::CmpConst {
                    op,
                    kind,
                    lhs,
                    rhs,
                    t,
                    f,
                    store,
                } => {
                    let hit = self.ensure(m, src, *lhs)
                        && match (first(m, *lhs), self.buf(m, *rhs).get(0)) {
                            (Some(a), Some(b)) => compare(*op, *kind, a, b),
                            _ => false,
                        };
                    store_answer(m, *store, hit);
                    if hit { *t } else { *f }
                }
            };
        }
        s == RET_TRUE
    }

    /// Evaluates one predicate instruction (anything but the control instructions, which answer
    /// `false`) against the current event. The JIT calls this for the operators it does not inline.
    pub(crate) fn predicate(&self, m: &mut Machine, src: &mut dyn FieldSource, op: &Op) -> bool {
        match op {
            Op::Ret
            | Op::JumpIfFalse(_)
            | Op::JumpIfTrue(_)
            | Op::Not
            | Op::MemoGet { .. }
            | Op::MemoPut(_) => false,
            Op::Const(b) => *b,
            Op::Exists(n) => self.ensure(m, src, *n),
            Op::Cmp { op, kind, lhs, rhs } => {
                self.ensure(m, src, *lhs)
                    && self.ensure(m, src, *rhs)
                    && match self.buf(m, *rhs).get(0) {
                        Some(b) => self.holds(m, *lhs, *op == Cmp::Ne, |a| compare(*op, *kind, a, b)),
                        None => false,
                    }
            }
            Op::CmpNeedle { op, lhs, needle } => {
                self.ensure(m, src, *lhs)
                    && match self.needles.get(*needle as usize) {
                        Some(n) => self.holds(m, *lhs, *op == Cmp::Ne, |v| {
                            matches!(v, ValueRef::Bytes(v) if n.compare(*op, v))
                        }),
                        None => false,
                    }
            }
            Op::CmpNet { eq, lhs, net } => {
                self.ensure(m, src, *lhs)
                    && self.holds(m, *lhs, !*eq, |v| {
                        matches!(v, ValueRef::Ip(ip) if net.contains(ip) == *eq)
                    })
            }
            Op::Modified {
                m: modifier,
                op,
                lhs,
                set,
            } => {
                self.ensure(m, src, *lhs)
                    && match self.sets.get(*set as usize) {
                        Some(s) if s.len() > 0 && *modifier == Modifier::AnyOf => {
                            self.holds(m, *lhs, false, |v| s.any(*op, v))
                        }
                        Some(s) if s.len() > 0 => self.holds(m, *lhs, false, |v| {
                            let n = s.count(*op, v);
                            match modifier {
                                Modifier::OneOf => n == 1,
                                Modifier::AnyOf => n >= 1,
                                Modifier::AllOf => n == s.len(),
                            }
                        }),
                        _ => false,
                    }
            }
            Op::InSet { lhs, set, all } => {
                self.ensure(m, src, *lhs)
                    && match self.sets.get(*set as usize) {
                        Some(s) => {
                            let b = self.buf(m, *lhs);
                            if let (1, Some(v)) = (b.len(), b.get(0)) {
                                // One item (every scalar field): `all` and `any` agree.
                                return s.contains(v);
                            }
                            // A multi-valued scalar is in the set when some value is (libsinsp's
                            // `CO_IN` on `fd.ip`, `proc.aname`); a list field needs every item.
                            if *all && !self.is_multi(*lhs) {
                                b.iter().all(|v| s.contains(v))
                            } else {
                                b.iter().any(|v| s.contains(v))
                            }
                        }
                        None => false,
                    }
            }
            Op::InVal {
                kind,
                lhs,
                rhs,
                all,
            } => {
                self.ensure(m, src, *lhs) && self.ensure(m, src, *rhs) && {
                    let (a, b) = (self.buf(m, *lhs), self.buf(m, *rhs));
                    let member = |v| b.iter().any(|k| compare(Cmp::Eq, *kind, v, k));
                    if *all && !self.is_multi(*lhs) {
                        a.iter().all(member)
                    } else {
                        a.iter().any(member)
                    }
                }
            }
            Op::PMatch { lhs, set } => {
                self.ensure(m, src, *lhs)
                    && match self.sets.get(*set as usize) {
                        Some(s) => self.holds(m, *lhs, false, |v| {
                            matches!(v, ValueRef::Bytes(v) if s.paths.iter().any(|p| pmatch_one(p, v)))
                        }),
                        None => false,
                    }
            }
            Op::RegexModified {
                m: modifier,
                lhs,
                res,
            } => {
                self.ensure(m, src, *lhs)
                    && !res.is_empty()
                    && self.holds(m, *lhs, false, |v| match v {
                        ValueRef::Bytes(v) => {
                            let text = String::from_utf8_lossy(v);
                            let n = res
                                .iter()
                                .filter(|r| {
                                    self.regexes
                                        .get(**r as usize)
                                        .is_some_and(|re| re.is_match(&text))
                                })
                                .count();
                            match modifier {
                                Modifier::OneOf => n == 1,
                                Modifier::AnyOf => n >= 1,
                                Modifier::AllOf => n == res.len(),
                            }
                        }
                        _ => false,
                    })
            }
            Op::Regex { lhs, re } => {
                self.ensure(m, src, *lhs)
                    && match self.regexes.get(*re as usize) {
                        Some(re) => self.holds(m, *lhs, false, |v| {
                            matches!(v, ValueRef::Bytes(v) if re.is_match(&String::from_utf8_lossy(v)))
                        }),
                        None => false,
                    }
            }
        }
    }

    /// The constant of needle `i` (the JIT compares short constants inline).
    pub(crate) fn needle_bytes(&self, i: u32) -> Option<&[u8]> {
        self.needles.get(i as usize).map(|n| &*n.bytes)
    }

    /// `v op needle i`, as [`Op::CmpNeedle`] checks one value (the JIT's typed string helper).
    pub(crate) fn needle_compare(&self, i: u32, op: Cmp, v: &[u8]) -> bool {
        self.needles
            .get(i as usize)
            .is_some_and(|n| n.compare(op, v))
    }

    /// The item kind of set `set` (the JIT picks a typed helper by it).
    pub(crate) fn set_kind(&self, set: u32) -> Option<ScalarKind> {
        self.sets.get(set as usize).map(|s| s.kind)
    }

    /// Whether set `set` holds the byte string `v`, as [`Op::InSet`] checks one value.
    pub(crate) fn set_contains_bytes(&self, set: u32, v: &[u8]) -> bool {
        self.sets
            .get(set as usize)
            .is_some_and(|s| s.contains(ValueRef::Bytes(v)))
    }

    /// Whether some item of set `set` satisfies `v op item`, as [`Op::Modified`] with `anyof` checks
    /// one value.
    pub(crate) fn set_any_bytes(&self, set: u32, op: Cmp, v: &[u8]) -> bool {
        self.sets
            .get(set as usize)
            .is_some_and(|s| s.len() > 0 && s.any(op, ValueRef::Bytes(v)))
    }

    /// Whether node `n` is a multi-valued field (several values compared one by one).
    pub(crate) fn is_multi(&self, n: u32) -> bool {
        self.node_multi
            .get(n as usize)
            .is_some_and(|m| *m != MultiValue::Single)
    }

    /// Whether the check `f` holds for the present node `n`: for a single value, that value; for a
    /// multi-valued field, some value — except `!=` (`ne`) on connection endpoints, which must hold
    /// for every end (libsinsp's `compare_ip`/`compare_port`/`compare_net`).
    fn holds(&self, m: &Machine, n: u32, ne: bool, f: impl FnMut(ValueRef<'_>) -> bool) -> bool {
        let b = self.buf(m, n);
        match self.node_multi.get(n as usize) {
            Some(MultiValue::Endpoints) if ne => !b.is_empty() && b.iter().all(f),
            Some(MultiValue::Names) if ne => b.iter().all(f),
            Some(MultiValue::Endpoints | MultiValue::Ancestors | MultiValue::Names) => {
                b.iter().any(f)
            }
            _ => b.get(0).is_some_and(f),
        }
    }

    pub(crate) fn buf<'a>(&'a self, m: &'a Machine, n: u32) -> &'a ValueBuf {
        match self.nodes.get(n as usize) {
            Some(Node::Const(b)) => b,
            _ => m.bufs.get(n as usize).unwrap_or(&EMPTY),
        }
    }

    /// Makes node `n` available for this event; `false` when it is missing. The common case, a node
    /// already decided in this event (or a constant), is one byte load; the first use of a field in
    /// an event goes out of line to [`Program::ensure_slow`].
    #[inline(always)]
    pub(crate) fn ensure(&self, m: &mut Machine, src: &mut dyn FieldSource, n: u32) -> bool {
        match m.status.get(n as usize) {
            Some(&PRESENT) => true,
            Some(&UNKNOWN) => self.ensure_slow(m, src, n),
            _ => false,
        }
    }

    /// [`Program::ensure`] for a node not decided yet in this event: extracts or computes it.
    #[inline(never)]
    fn ensure_slow(&self, m: &mut Machine, src: &mut dyn FieldSource, n: u32) -> bool {
        let i = n as usize;
        let ok = match (self.loads.get(i), m.bufs.get_mut(i)) {
            (Some(load), Some(buf)) if load.flags & LOAD != 0 => {
                let flags = load.flags;
                buf.clear();
                // A scalar field must yield exactly one item, a multi-valued one at least one
                // (DNS names: any number); anything else counts as missing (libsinsp treats an
                // empty extraction as a failed check). See `load_flags`.
                let ok = src.extract(load.field, load.arg.as_ref(), buf)
                    && match buf.len() {
                        1 => true,
                        0 => flags & LOAD_ACCEPT_EMPTY != 0,
                        _ => flags & LOAD_ACCEPT_MANY != 0,
                    };
                if ok && flags & LOAD_TRIM_NULS != 0 {
                    buf.trim_trailing_nuls();
                }
                ok
            }
            _ => match self.nodes.get(i) {
                Some(Node::Const(_)) => true,
                Some(Node::Transform(op, args)) => self.transform_slow(m, src, i, *op, args),
                Some(Node::Load(..)) | None => false,
            },
        };
        if let Some(s) = m.status.get_mut(i) {
            *s = if ok { PRESENT } else { MISSING };
        }
        ok
    }
}

impl Program {
    /// The transformer node `i` (`op` of `args`) for this event; `false` when missing. Out of line
    /// and cold so that [`Program::ensure_slow`], which every first read of a field goes through,
    /// stays a small function.
    #[cold]
    #[inline(never)]
    fn transform_slow(
        &self,
        m: &mut Machine,
        src: &mut dyn FieldSource,
        i: usize,
        op: TransformOp,
        args: &[u32],
    ) -> bool {
        if !args.iter().all(|a| self.ensure(m, src, *a)) {
            return false;
        }
        let Some(slot) = m.bufs.get_mut(i) else {
            return false;
        };
        let mut out = std::mem::take(slot);
        out.clear();
        let arg_is_list = args
            .first()
            .and_then(|a| self.node_ty.get(*a as usize))
            .is_some_and(|t| t.list);
        let arg_bufs: Vec<&ValueBuf> = args.iter().map(|a| self.buf(m, *a)).collect();
        let ok = ops::transform(op, &arg_bufs, arg_is_list, &mut out);
        if let Some(slot) = m.bufs.get_mut(i) {
            *slot = out;
        }
        ok
    }
}

static EMPTY: ValueBuf = ValueBuf::EMPTY;
