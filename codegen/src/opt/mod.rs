//! The optimizer: IR → IR passes, one per file, and the pass manager that runs them.
//!
//! Every pass maps a verified [`ir::Program`] to a verified program whose rules give the same answer
//! on every event (tests check both: the verifier after each pass, and the VM on the `; event:` lines
//! of `tests/data/opt/*.frir` plus generated events). Falco's `and`/`or`/`not` have no side effects and
//! conditions are definite booleans (missing fields are decided per predicate, spec B.3), which is what
//! makes flattening, reordering, deduplication and double-negation removal exact; predicates are only
//! rewritten where the missing-field answer stays the same.
//!
//! Passes (in `-O2` order):
//!
//! | pass | file | what it does |
//! |------|------|--------------|
//! | `inline` | [`inline`] | nothing left to do: lowering shares macro bodies, the loader substitutes lists; checks it |
//! | `const_fold` | [`const_fold`] | predicates on constants, `not` of a constant, constant `and`/`or` children |
//! | `simplify` | [`simplify`] | flattening, duplicate operands, `not not x`, `x and not x`, empty sets |
//! | `list_hash` | [`list_hash`] | `f = a or f = b …` → one hashed `in`; `f contains a or f contains b …` → one `anyof` automaton |
//! | `reorder_by_cost` | [`reorder_by_cost`] | cheap operands first inside `and`/`or` |
//! | `exceptions_last` | [`exceptions_last`] | negated operands (a rule's exceptions) last inside `and` |
//!
//! [`evttype_partition`] is not a program → program pass: it splits a program into one program per
//! event type (cross-rule fusion), and [`crate::dispatch`] runs the result.
//!
//! Every rewrite goes through [`rewrite`]: values are rebuilt in id order into a fresh program with
//! hash-consing (identical instructions become one value — global common-subexpression elimination
//! for free) and then [`compact`]ed (unreachable values, sets, regexes and field slots dropped, ids
//! renumbered densely). Ids stay a topological order because every value is pushed after its operands.

pub mod const_fold;
pub mod evttype_partition;
pub mod exceptions_last;
pub mod inline;
pub mod list_hash;
pub mod reorder_by_cost;
pub mod simplify;

use crate::ir::{self, EntityId, Inst, ListRhs, Program, SetId, ValueId};

/// One IR → IR pass.
pub trait Pass {
    /// The pass's name (as in `--emit opt` and the file tests).
    fn name(&self) -> &'static str;
    /// Rewrites `p` into an equivalent program.
    fn run(&self, p: &Program) -> Program;
}

/// The pass named `name`, if there is one.
pub fn pass_by_name(name: &str) -> Option<Box<dyn Pass>> {
    Some(match name {
        "inline" => Box::new(inline::Inline),
        "const_fold" => Box::new(const_fold::ConstFold),
        "simplify" => Box::new(simplify::Simplify),
        "list_hash" => Box::new(list_hash::ListHash),
        "reorder_by_cost" => Box::new(reorder_by_cost::ReorderByCost),
        "exceptions_last" => Box::new(exceptions_last::ExceptionsLast),
        _ => return None,
    })
}

/// The passes of an optimization level: `0` none, `1` the local clean-ups, `2` (and above) also list
/// hashing and cost ordering, followed by a last clean-up.
pub fn pipeline(level: u8) -> Vec<Box<dyn Pass>> {
    let names: &[&str] = match level {
        0 => &[],
        1 => &["inline", "const_fold", "simplify"],
        _ => &[
            "inline",
            "const_fold",
            "simplify",
            "list_hash",
            "simplify",
            "reorder_by_cost",
            "exceptions_last",
        ],
    };
    names.iter().filter_map(|n| pass_by_name(n)).collect()
}

/// What one pass did.
#[derive(Clone, Debug, PartialEq)]
pub struct PassStat {
    /// The pass's name.
    pub name: &'static str,
    /// Values before the pass.
    pub values_before: usize,
    /// Values after it.
    pub values_after: usize,
    /// Whether the printed program changed.
    pub changed: bool,
    /// The program after the pass, printed, when dumps were asked for.
    pub dump: Option<String>,
}

/// Knobs of [`optimize`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// The optimization level (`-O`): 0, 1 or 2.
    pub level: u8,
    /// Keep the printed program after each pass in the stats.
    pub dump: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            level: 2,
            dump: false,
        }
    }
}

/// Runs the passes of `options.level` on `p`, returning the optimized program and per-pass stats.
pub fn optimize(p: &Program, options: Options) -> (Program, Vec<PassStat>) {
    run_passes(p, &pipeline(options.level), options.dump)
}

/// Runs `passes` in order.
pub fn run_passes(p: &Program, passes: &[Box<dyn Pass>], dump: bool) -> (Program, Vec<PassStat>) {
    let mut cur = p.clone();
    let mut stats = Vec::with_capacity(passes.len());
    for pass in passes {
        let next = pass.run(&cur);
        let changed = next != cur;
        stats.push(PassStat {
            name: pass.name(),
            values_before: cur.values.len(),
            values_after: next.values.len(),
            changed,
            dump: dump.then(|| next.to_text()),
        });
        cur = next;
    }
    (cur, stats)
}

/// A program under construction with hash-consed values; side tables are those of the source program
/// (ids unchanged) plus whatever a pass adds.
#[derive(Debug)]
pub struct Builder {
    /// The program built so far.
    pub program: Program,
    interner: ir::Interner,
}

impl Builder {
    /// A builder with `p`'s field slots, sets and regexes and no values or rules.
    pub fn with_tables(p: &Program) -> Builder {
        Builder::with_capacity(p, p.values.len())
    }

    /// [`Builder::with_tables`] with room for `n` values.
    fn with_capacity(p: &Program, n: usize) -> Builder {
        let mut values = ir::EntityVec::default();
        values.reserve(n);
        Builder {
            program: Program {
                fields: p.fields.clone(),
                sets: p.sets.clone(),
                regexes: p.regexes.clone(),
                values,
                rules: Vec::new(),
            },
            interner: ir::Interner::with_capacity(n),
        }
    }

    /// Appends `inst` or returns an identical earlier value.
    pub fn push(&mut self, inst: Inst) -> ValueId {
        self.interner.inst(&mut self.program, inst)
    }

    /// The instruction of a value already built.
    pub fn inst(&self, v: ValueId) -> Option<&Inst> {
        self.program.values.get(v)
    }

    /// Adds a constant set, or returns an identical one already in the program.
    pub fn intern_set(&mut self, decl: ir::SetDecl) -> SetId {
        self.interner.set(&mut self.program, decl)
    }

    /// A constant condition.
    pub fn bool(&mut self, b: bool) -> ValueId {
        self.push(Inst::Bool(b))
    }
}

/// `inst` with every operand replaced by `f(operand)`.
pub fn map_operands(inst: &Inst, mut f: impl FnMut(ValueId) -> ValueId) -> Inst {
    match inst {
        Inst::Load(_) | Inst::Const(_) | Inst::Bool(_) => inst.clone(),
        Inst::Transform(op, args) => Inst::Transform(*op, args.iter().map(|a| f(*a)).collect()),
        Inst::Exists(v) => Inst::Exists(f(*v)),
        Inst::Cmp(op, a, b) => Inst::Cmp(*op, f(*a), f(*b)),
        Inst::Modified(m, op, a, s) => Inst::Modified(*m, *op, f(*a), *s),
        Inst::In(a, r) => Inst::In(f(*a), map_rhs(*r, &mut f)),
        Inst::Intersects(a, r) => Inst::Intersects(f(*a), map_rhs(*r, &mut f)),
        Inst::PMatch(a, s) => Inst::PMatch(f(*a), *s),
        Inst::Regex(a, r) => Inst::Regex(f(*a), *r),
        Inst::RegexModified(m, a, rs) => Inst::RegexModified(*m, f(*a), rs.clone()),
        Inst::And(xs) => Inst::And(xs.iter().map(|x| f(*x)).collect()),
        Inst::Or(xs) => Inst::Or(xs.iter().map(|x| f(*x)).collect()),
        Inst::Not(v) => Inst::Not(f(*v)),
    }
}

fn map_rhs(r: ListRhs, f: &mut impl FnMut(ValueId) -> ValueId) -> ListRhs {
    match r {
        ListRhs::Set(s) => ListRhs::Set(s),
        ListRhs::Value(v) => ListRhs::Value(f(v)),
    }
}

/// Rebuilds `p` value by value: `f` gets the builder and the value's instruction with operands
/// already mapped to the new program, and returns the new value standing for it (a fresh push, or
/// any value built earlier). Rules follow their roots; the result is [`compact`]ed.
pub fn rewrite(p: &Program, f: impl FnMut(&mut Builder, Inst) -> ValueId) -> Program {
    rewrite_rules(p, &(0..p.rules.len()).collect::<Vec<_>>(), f)
}

/// [`rewrite`] of the program of rules `keep` (indices into `p.rules`, in the order given): only the
/// values those rules reach are rebuilt. The same as `rewrite(&compact_rules(p, keep), f)` — values
/// are visited in the same relative order — without building the intermediate program.
pub fn rewrite_rules(
    p: &Program,
    keep: &[usize],
    mut f: impl FnMut(&mut Builder, Inst) -> ValueId,
) -> Program {
    let live = live_values(p, keep);
    let mut b = Builder::with_capacity(p, live.iter().filter(|l| **l).count());
    let mut map: Vec<ValueId> = Vec::with_capacity(p.values.len());
    for (v, inst) in p.values.iter() {
        if !live.get(v.index()).copied().unwrap_or(false) {
            map.push(v);
            continue;
        }
        let mapped = map_operands(inst, |o| map.get(o.index()).copied().unwrap_or(o));
        let v = f(&mut b, mapped);
        map.push(v);
    }
    for &i in keep {
        if let Some(r) = p.rules.get(i) {
            let cond = map.get(r.cond.index()).copied().unwrap_or(r.cond);
            b.program.add_rule(r.name.clone(), cond);
        }
    }
    let all: Vec<usize> = (0..b.program.rules.len()).collect();
    compact_owned(b.program, &all)
}

/// `p` with only the values, sets, regexes and field slots the rules reach, renumbered densely in the
/// same relative order.
pub fn compact(p: &Program) -> Program {
    compact_rules(p, &(0..p.rules.len()).collect::<Vec<_>>())
}

/// The program of rules `keep` (indices into `p.rules`, kept in the order given) with only what they
/// reach, renumbered densely.
pub fn compact_rules(p: &Program, keep: &[usize]) -> Program {
    compact_owned(p.clone(), keep)
}

/// Which values of `p` the rules `keep` reach.
fn live_values(p: &Program, keep: &[usize]) -> Vec<bool> {
    let values = p.values.as_slice();
    let mut live = vec![false; values.len()];
    for &i in keep {
        if let Some(r) = p.rules.get(i)
            && let Some(l) = live.get_mut(r.cond.index())
        {
            *l = true;
        }
    }
    for (v, inst) in values.iter().enumerate().rev() {
        if live.get(v).copied().unwrap_or(false) {
            inst.for_each_operand(|o| {
                if let Some(l) = live.get_mut(o.index()) {
                    *l = true;
                }
            });
        }
    }
    live
}

/// How the ids of one side table are renumbered: old id → new id, in order of first use.
struct TableMap {
    /// The new id of every old id in range, `u32::MAX` while unused.
    new_of: Vec<u32>,
    /// The old ids in new-id order (ids out of range included: they become default entries).
    order: Vec<u32>,
}

impl TableMap {
    fn new(len: usize) -> TableMap {
        TableMap {
            new_of: vec![u32::MAX; len],
            order: Vec::new(),
        }
    }

    /// Records a use of `old`.
    fn use_id(&mut self, old: u32) {
        match self.new_of.get_mut(old as usize) {
            Some(n) if *n == u32::MAX => {
                *n = self.order.len() as u32;
                self.order.push(old);
            }
            Some(_) => {}
            None => {
                if !self.order.contains(&old) {
                    self.order.push(old);
                }
            }
        }
    }

    fn get(&self, old: u32) -> u32 {
        match self.new_of.get(old as usize) {
            Some(n) => *n,
            None => self
                .order
                .iter()
                .position(|o| *o == old)
                .map_or(old, |i| i as u32),
        }
    }

    /// Whether every id is used, in order (the table can be kept as it is).
    fn is_identity(&self) -> bool {
        self.order.len() == self.new_of.len()
            && self.order.iter().enumerate().all(|(i, o)| *o as usize == i)
    }

    /// The renumbered table: `old` itself when nothing moves (shared storage), else the used items
    /// in first-use order (`default` for ids out of range), moved out of `old` when it is their only
    /// owner and cloned otherwise.
    fn table<K: EntityId, V: Clone + Default>(
        &self,
        old: ir::EntityVec<K, V>,
    ) -> ir::EntityVec<K, V> {
        if self.is_identity() {
            return old;
        }
        let items = match old.try_into_vec() {
            Ok(mut items) => self
                .order
                .iter()
                .map(|o| {
                    items
                        .get_mut(*o as usize)
                        .map(std::mem::take)
                        .unwrap_or_default()
                })
                .collect(),
            Err(shared) => {
                let items = shared.as_slice();
                self.order
                    .iter()
                    .map(|o| items.get(*o as usize).cloned().unwrap_or_default())
                    .collect()
            }
        };
        ir::EntityVec::from_vec(items)
    }
}

/// [`compact_rules`] consuming `p`: instructions are moved rather than cloned, and side tables
/// that keep every item in place are shared with `p`'s.
fn compact_owned(p: Program, keep: &[usize]) -> Program {
    let live = live_values(&p, keep);
    let mut fields = TableMap::new(p.fields.len());
    let mut sets = TableMap::new(p.sets.len());
    let mut regexes = TableMap::new(p.regexes.len());
    for (inst, _) in p.values.as_slice().iter().zip(&live).filter(|(_, l)| **l) {
        match inst {
            Inst::Load(slot) => fields.use_id(slot.0),
            Inst::Modified(_, _, _, s)
            | Inst::PMatch(_, s)
            | Inst::In(_, ListRhs::Set(s))
            | Inst::Intersects(_, ListRhs::Set(s)) => sets.use_id(s.0),
            Inst::Regex(_, r) => regexes.use_id(r.0),
            Inst::RegexModified(_, _, rs) => rs.iter().for_each(|r| regexes.use_id(r.0)),
            _ => {}
        }
    }
    let all_live = live.iter().all(|l| *l);
    let tables_kept = fields.is_identity() && sets.is_identity() && regexes.is_identity();
    let n = p.values.len();
    let Program {
        fields: old_fields,
        sets: old_sets,
        regexes: old_regexes,
        values,
        rules,
    } = p;
    let mut out = Program {
        fields: fields.table(old_fields),
        sets: sets.table(old_sets),
        regexes: regexes.table(old_regexes),
        values: Default::default(),
        rules: Vec::new(),
    };
    if all_live && tables_kept {
        // nothing to drop or renumber
        out.values = values;
    } else {
        let mut value_map: Vec<ValueId> = Vec::with_capacity(n);
        let mut kept: Vec<Inst> = Vec::with_capacity(n);
        for (i, mut inst) in values.into_vec().into_iter().enumerate() {
            if !live.get(i).copied().unwrap_or(false) {
                value_map.push(ValueId(i as u32));
                continue;
            }
            map_operands_in_place(&mut inst, |o| {
                value_map.get(o.index()).copied().unwrap_or(o)
            });
            match &mut inst {
                Inst::Load(slot) => slot.0 = fields.get(slot.0),
                Inst::Modified(_, _, _, s)
                | Inst::PMatch(_, s)
                | Inst::In(_, ListRhs::Set(s))
                | Inst::Intersects(_, ListRhs::Set(s)) => s.0 = sets.get(s.0),
                Inst::Regex(_, r) => r.0 = regexes.get(r.0),
                Inst::RegexModified(_, _, rs) => rs.iter_mut().for_each(|r| r.0 = regexes.get(r.0)),
                _ => {}
            }
            value_map.push(ValueId(kept.len() as u32));
            kept.push(inst);
        }
        out.values = ir::EntityVec::from_vec(kept);
        for &i in keep {
            if let Some(r) = rules.get(i) {
                let cond = value_map.get(r.cond.index()).copied().unwrap_or(r.cond);
                out.add_rule(r.name.clone(), cond);
            }
        }
        return out;
    }
    for &i in keep {
        if let Some(r) = rules.get(i) {
            out.add_rule(r.name.clone(), r.cond);
        }
    }
    out
}

/// Replaces every operand of `inst` by `f(operand)`, in place.
fn map_operands_in_place(inst: &mut Inst, mut f: impl FnMut(ValueId) -> ValueId) {
    match inst {
        Inst::Load(_) | Inst::Const(_) | Inst::Bool(_) => {}
        Inst::Transform(_, args) | Inst::And(args) | Inst::Or(args) => {
            args.iter_mut().for_each(|a| *a = f(*a))
        }
        Inst::Exists(v) | Inst::Not(v) => *v = f(*v),
        Inst::Cmp(_, a, b) => {
            *a = f(*a);
            *b = f(*b);
        }
        Inst::Modified(_, _, a, _)
        | Inst::PMatch(a, _)
        | Inst::Regex(a, _)
        | Inst::RegexModified(_, a, _) => *a = f(*a),
        Inst::In(a, r) | Inst::Intersects(a, r) => {
            *a = f(*a);
            if let ListRhs::Value(b) = r {
                *b = f(*b);
            }
        }
    }
}
