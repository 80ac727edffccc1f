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
pub mod inline;
pub mod list_hash;
pub mod reorder_by_cost;
pub mod simplify;

use std::collections::HashMap;

use crate::ir::{self, EntityId, FieldSlot, Inst, ListRhs, Program, RegexId, SetId, ValueId};

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
        Builder {
            program: Program {
                fields: p.fields.clone(),
                sets: p.sets.clone(),
                regexes: p.regexes.clone(),
                values: Default::default(),
                rules: Vec::new(),
            },
            interner: ir::Interner::with_tables(p),
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
pub fn rewrite(p: &Program, mut f: impl FnMut(&mut Builder, Inst) -> ValueId) -> Program {
    let mut b = Builder::with_tables(p);
    let mut map: Vec<ValueId> = Vec::with_capacity(p.values.len());
    for (_, inst) in p.values.iter() {
        let mapped = map_operands(inst, |o| map.get(o.index()).copied().unwrap_or(o));
        let v = f(&mut b, mapped);
        map.push(v);
    }
    for r in &p.rules {
        let cond = map.get(r.cond.index()).copied().unwrap_or(r.cond);
        b.program.add_rule(r.name.clone(), cond);
    }
    compact(&b.program)
}

/// `p` with only the values, sets, regexes and field slots the rules reach, renumbered densely in the
/// same relative order.
pub fn compact(p: &Program) -> Program {
    compact_rules(p, &(0..p.rules.len()).collect::<Vec<_>>())
}

/// The program of rules `keep` (indices into `p.rules`, kept in the order given) with only what they
/// reach, renumbered densely.
pub fn compact_rules(p: &Program, keep: &[usize]) -> Program {
    let n = p.values.len();
    let mut live = vec![false; n];
    for &i in keep {
        if let Some(r) = p.rules.get(i)
            && let Some(l) = live.get_mut(r.cond.index())
        {
            *l = true;
        }
    }
    for (v, inst) in p.values.iter().collect::<Vec<_>>().into_iter().rev() {
        if live.get(v.index()).copied().unwrap_or(false) {
            for o in inst.operands() {
                if let Some(l) = live.get_mut(o.index()) {
                    *l = true;
                }
            }
        }
    }
    let mut out = Program::new();
    let mut field_map: HashMap<u32, FieldSlot> = HashMap::new();
    let mut set_map: HashMap<u32, SetId> = HashMap::new();
    let mut regex_map: HashMap<u32, RegexId> = HashMap::new();
    let mut value_map: Vec<ValueId> = Vec::with_capacity(n);
    for (v, inst) in p.values.iter() {
        if !live.get(v.index()).copied().unwrap_or(false) {
            value_map.push(v);
            continue;
        }
        let mut inst = map_operands(inst, |o| value_map.get(o.index()).copied().unwrap_or(o));
        match &mut inst {
            Inst::Load(slot) => {
                let s = *slot;
                *slot = *field_map
                    .entry(s.0)
                    .or_insert_with(|| p.fields.get(s).map_or(s, |d| out.fields.push(d.clone())));
            }
            Inst::Modified(_, _, _, s)
            | Inst::PMatch(_, s)
            | Inst::In(_, ListRhs::Set(s))
            | Inst::Intersects(_, ListRhs::Set(s)) => {
                let old = *s;
                *s = *set_map.entry(old.0).or_insert_with(|| {
                    out.sets
                        .push(p.sets.get(old).cloned().unwrap_or(ir::SetDecl {
                            kind: ir::ScalarKind::Str,
                            items: vec![],
                        }))
                });
            }
            Inst::Regex(_, r) => *r = map_regex(p, &mut out, &mut regex_map, *r),
            Inst::RegexModified(_, _, rs) => {
                for r in rs.iter_mut() {
                    *r = map_regex(p, &mut out, &mut regex_map, *r);
                }
            }
            _ => {}
        }
        value_map.push(out.push(inst));
    }
    for &i in keep {
        if let Some(r) = p.rules.get(i) {
            let cond = value_map.get(r.cond.index()).copied().unwrap_or(r.cond);
            out.add_rule(r.name.clone(), cond);
        }
    }
    out
}

fn map_regex(
    p: &Program,
    out: &mut Program,
    map: &mut HashMap<u32, RegexId>,
    r: RegexId,
) -> RegexId {
    *map.entry(r.0).or_insert_with(|| {
        out.regexes
            .push(p.regexes.get(r).cloned().unwrap_or(ir::RegexDecl {
                pattern: String::new(),
            }))
    })
}
