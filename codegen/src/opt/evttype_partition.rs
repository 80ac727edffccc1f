//! `evttype_partition`: each rule's event-type set computed on the IR, and the split of a program
//! into one fused program per event type.
//!
//! # Event types on the IR
//!
//! [`rule_evttypes`] reproduces `frule_lang::evttypes::evttypes_of` (libsinsp's `ppm_code_visitor`,
//! spec Part D) on the lowered DAG, so the partition and Falco's indexing agree (the corpus test
//! compares both on every upstream rule): `and` intersects and `or` unites, swapped under an odd
//! number of `not`; a check `evt.type`/`syscall.type` (no argument) `=`, `!=` or `in` constant(s)
//! yields the codes of the named events (complemented for `!=` and under negation); `evt.type exists`
//! is every code (none under negation); checks on `evt.num` decided by its invariant `evt.num >= 1` are
//! the empty or full set (complemented under negation); every other check is every code, negated or
//! not. The error cases of the AST resolver (`evt.type` inside transformers, fields on the right of an
//! `evt.type` check) never reach lowering because such rules fail to load; on the IR they are
//! neutral. `LOAD_NO_EVTTYPE` stays with the AST resolver. A `cond false` (left by folding) is the
//! empty set and `cond true` the full set, both complemented under negation — sound, and only
//! smaller than the AST answer when a rule can never match there.
//!
//! # Fusion
//!
//! [`partition`] groups the event codes by their candidate rules (every rule whose set holds the
//! code, in rule-file order) and builds one [`Group`] per distinct group: a program holding exactly
//! those rules, sharing their subexpressions (one value per macro body, memoized by the VM per event).
//! The whole program is optimized with the pass pipeline *once*, before the split; each group is then
//! cut out of it, specialized and folded (`const_fold` and `simplify`) in a single rewrite of the
//! values its rules reach ([`super::rewrite_rules`]), which keeps compile time linear in the number
//! of groups. Codes no rule wants share one group with an
//! empty program.
//!
//! With [`PartitionOptions::specialize_evttype`], a group whose codes all have the same event name
//! `N` (not the generic `syscall` pair, not the `NA` placeholders) also replaces loads of `evt.type`
//! by the constant `N`, so `const_fold` decides every `evt.type` check of the group at compile time.
//! This relies on the runtime contract that an event of code `c` has `evt.type` equal to the name of
//! `c` — true for every non-generic event in libsinsp; callers that feed arbitrary events to a group
//! (tests comparing with the whole program must set `evt.type` to the code's name) must turn it off.

use std::collections::HashMap;

use frule_lang::events;
use frule_lang::evttypes::EvtTypeSet;

use super::{Options, compact_rules, optimize, rewrite_rules};
use crate::ir::{Cmp, Constant, Inst, ListRhs, Program, ValueId};

/// The event-type set of every rule of `p`, in rule order.
pub fn rule_evttypes(p: &Program) -> Vec<EvtTypeSet> {
    let mut r = Resolver {
        p,
        memo: HashMap::new(),
    };
    p.rules.iter().map(|rule| r.set(rule.cond, false)).collect()
}

/// The event-type set of one condition value of `p`.
pub fn evttypes_of_value(p: &Program, v: ValueId) -> EvtTypeSet {
    Resolver {
        p,
        memo: HashMap::new(),
    }
    .set(v, false)
}

struct Resolver<'a> {
    p: &'a Program,
    memo: HashMap<(u32, bool), EvtTypeSet>,
}

/// What a leaf says: `Some(codes)` for type-bearing leaves (complemented under negation), `None` for
/// neutral ones (every code, negated or not).
type Leaf = Option<EvtTypeSet>;

impl Resolver<'_> {
    fn set(&mut self, v: ValueId, neg: bool) -> EvtTypeSet {
        if let Some(s) = self.memo.get(&(v.0, neg)) {
            return *s;
        }
        let s = match self.p.values.get(v) {
            Some(Inst::And(xs)) | Some(Inst::Or(xs)) => {
                let intersect = matches!(self.p.values.get(v), Some(Inst::And(_))) != neg;
                let mut acc = if intersect {
                    EvtTypeSet::all()
                } else {
                    EvtTypeSet::empty()
                };
                for x in xs {
                    let s = self.set(*x, neg);
                    acc = if intersect {
                        acc.intersect(&s)
                    } else {
                        acc.union(&s)
                    };
                }
                acc
            }
            Some(Inst::Not(x)) => self.set(*x, !neg),
            Some(inst) => match self.leaf(inst) {
                Some(codes) if neg => codes.complement(),
                Some(codes) => codes,
                None => EvtTypeSet::all(),
            },
            None => EvtTypeSet::all(),
        };
        self.memo.insert((v.0, neg), s);
        s
    }

    /// The bare field a value loads, if it is a load without argument.
    fn bare_field(&self, v: ValueId) -> Option<&str> {
        match self.p.values.get(v)? {
            Inst::Load(s) => {
                let d = self.p.fields.get(*s)?;
                d.arg.is_none().then_some(d.name.as_str())
            }
            _ => None,
        }
    }

    fn is_evttype(&self, v: ValueId) -> bool {
        matches!(self.bare_field(v), Some("evt.type" | "syscall.type"))
    }

    fn constant(&self, v: ValueId) -> Option<&Constant> {
        match self.p.values.get(v)? {
            Inst::Const(c) => Some(c),
            _ => None,
        }
    }

    fn leaf(&self, inst: &Inst) -> Leaf {
        match inst {
            Inst::Bool(b) => Some(if *b {
                EvtTypeSet::all()
            } else {
                EvtTypeSet::empty()
            }),
            Inst::Exists(x) if self.is_evttype(*x) => Some(EvtTypeSet::all()),
            Inst::Cmp(op @ (Cmp::Eq | Cmp::Ne), x, c) if self.is_evttype(*x) => {
                let codes = names(std::slice::from_ref(self.constant(*c)?));
                // `!=` is the complement of `=`; the caller complements again under negation
                Some(if *op == Cmp::Ne {
                    codes.complement()
                } else {
                    codes
                })
            }
            Inst::In(x, ListRhs::Set(s)) if self.is_evttype(*x) => {
                Some(names(&self.p.sets.get(*s)?.items))
            }
            Inst::Cmp(op, x, c) if self.bare_field(*x) == Some("evt.num") => {
                let n = match self.constant(*c)? {
                    Constant::Uint(n) => *n,
                    Constant::Int(n) => *n as u64,
                    _ => return None,
                };
                let empty = Some(EvtTypeSet::empty());
                let all = Some(EvtTypeSet::all());
                match op {
                    Cmp::Eq if n == 0 => empty,
                    Cmp::Ne if n == 0 => all,
                    Cmp::Lt if n <= 1 => empty,
                    Cmp::Le if n == 0 => empty,
                    Cmp::Gt if n == 0 => all,
                    Cmp::Ge if n <= 1 => all,
                    _ => None,
                }
            }
            Inst::In(x, ListRhs::Set(s)) if self.bare_field(*x) == Some("evt.num") => {
                let items = &self.p.sets.get(*s)?.items;
                items
                    .iter()
                    .all(|c| matches!(c, Constant::Uint(0) | Constant::Int(0)))
                    .then(EvtTypeSet::empty)
            }
            _ => None,
        }
    }
}

/// The codes of the named events (`events::codes_for_name`).
fn names(items: &[Constant]) -> EvtTypeSet {
    let mut set = EvtTypeSet::empty();
    for c in items {
        if let Constant::Str(b) = c
            && let Ok(name) = std::str::from_utf8(b)
        {
            for &code in events::codes_for_name(name) {
                set.insert(code);
            }
        }
    }
    set
}

/// Knobs of [`partition`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionOptions {
    /// The pass pipeline run on each group's program.
    pub opt: Options,
    /// Replace `evt.type` loads by the group's event name where all its codes share one (see the
    /// module docs for the contract this relies on).
    pub specialize_evttype: bool,
}

impl Default for PartitionOptions {
    fn default() -> Self {
        PartitionOptions {
            opt: Options::default(),
            specialize_evttype: true,
        }
    }
}

/// One fused program: the candidate rules of some event codes.
#[derive(Clone, Debug)]
pub struct Group {
    /// The rules of the program, as indices into the partitioned program's rules (rule-file order);
    /// rule `i` of [`Group::program`] is rule `rules[i]` of the whole program.
    pub rules: Vec<usize>,
    /// The event name `evt.type` was specialized to, if it was.
    pub evttype: Option<&'static str>,
    /// The optimized program of those rules.
    pub program: Program,
}

/// A program split by event type.
#[derive(Clone, Debug)]
pub struct Partition {
    /// Every rule's event-type set, in rule order.
    pub sets: Vec<EvtTypeSet>,
    /// The distinct groups; the first is the empty one (no rule).
    pub groups: Vec<Group>,
    /// The group of every event code `0..EVENT_COUNT`.
    pub by_code: Vec<u32>,
}

/// Splits `p` into one fused program per group of event codes (see the module docs).
pub fn partition(p: &Program, options: PartitionOptions) -> Partition {
    partition_with_sets(p, rule_evttypes(p), options)
}

/// [`partition`] with the event-type set of every rule given by the caller (one per rule of `p`, in
/// rule order; a missing set is the empty one): the runtime engine passes the sets of Falco's
/// evttype index computed by the loader, so that its dispatch is that index exactly.
pub fn partition_with_sets(
    p: &Program,
    mut sets: Vec<EvtTypeSet>,
    options: PartitionOptions,
) -> Partition {
    sets.resize(p.rules.len(), EvtTypeSet::empty());
    // Optimize once; the passes keep the rules and their order.
    let (optimized, _) = optimize(p, options.opt);
    let p = &optimized;
    let mut index: HashMap<(Option<&'static str>, Vec<usize>), u32> = HashMap::new();
    let mut groups = vec![Group {
        rules: Vec::new(),
        evttype: None,
        program: Program::new(),
    }];
    index.insert((None, Vec::new()), 0);
    let mut by_code = Vec::with_capacity(events::EVENT_COUNT);
    for code in 0..events::EVENT_COUNT {
        let code16 = u16::try_from(code).unwrap_or(u16::MAX);
        let rules: Vec<usize> = sets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.contains(code16))
            .map(|(i, _)| i)
            .collect();
        let name = events::event(code16)
            .map(|e| e.name)
            .filter(|n| options.specialize_evttype && *n != "syscall" && *n != "NA");
        let name = if rules.is_empty() { None } else { name };
        let key = (name, rules);
        let g = match index.get(&key) {
            Some(g) => *g,
            None => {
                // cut out, specialized and folded in one rewrite of the group's values
                let program = match name {
                    Some(n) if options.opt.level > 0 => specialize_and_fold(p, &key.1, n, true),
                    Some(n) => specialize_and_fold(p, &key.1, n, false),
                    None => compact_rules(p, &key.1),
                };
                let g = groups.len() as u32;
                groups.push(Group {
                    rules: key.1.clone(),
                    evttype: name,
                    program,
                });
                index.insert(key, g);
                g
            }
        };
        by_code.push(g);
    }
    Partition {
        sets,
        groups,
        by_code,
    }
}

/// `p` with every load of bare `evt.type` replaced by the constant `name`.
pub fn specialize(p: &Program, name: &str) -> Program {
    specialize_and_fold(p, &(0..p.rules.len()).collect::<Vec<_>>(), name, false)
}

/// [`specialize`] of the program of rules `keep` (as [`compact_rules`] cuts it out); with `fold`,
/// every value is also folded and simplified in the same rewrite — what `const_fold` followed by
/// `simplify` would give, in one pass: a predicate its constants decide becomes `cond true/false`,
/// anything else goes through `simplify`, which also does `const_fold`'s work on `and`/`or`/`not`
/// (absorbing and neutral constants), and a predicate is never changed by a later `simplify` of its
/// parents (those only drop, flatten or replace condition operands).
fn specialize_and_fold(p: &Program, keep: &[usize], name: &str, fold: bool) -> Program {
    rewrite_rules(p, keep, |b, inst| {
        if let Inst::Load(s) = &inst
            && b.program
                .fields
                .get(*s)
                .is_some_and(|d| d.name == "evt.type" && d.arg.is_none() && !d.ty.list)
        {
            return b.push(Inst::Const(Constant::Str(name.as_bytes().to_vec())));
        }
        if fold {
            match super::const_fold::decided(b, &inst) {
                Some(r) => b.bool(r),
                None => super::simplify::simplify(b, inst),
            }
        } else {
            b.push(inst)
        }
    })
}
