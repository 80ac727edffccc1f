//! `list_hash`: many literals against one value become one set operation.
//!
//! What lowering and the VM already do: every `in`/`intersects` list is a constant set, and the VM
//! indexes each set once at compile time (a hash set per kind, CIDR list for networks); `pmatch`
//! patterns are split into components once; every `regex` is compiled once (anchored, `^(?:…)$`);
//! constant `contains` operands get a prepared substring searcher. What is left for this pass is the
//! shape Falco rules are *written* in — chains of single-literal checks on the same value inside one
//! `or`, e.g. `proc.name = a or proc.name in (b, c)` or `fd.name startswith /etc or fd.name startswith
//! /usr/lib …`:
//!
//! - `x = c1 or x = c2 or x in (c3, c4) …` (scalar `x` of kind `str`, `bytes`, `int` or `uint`) →
//!   `in x, {c1, c2, c3, c4}`: one hash lookup. Exact: each check is false when `x` is missing, and
//!   so is `in`; on a present `x` both say "equals some item".
//! - `x contains c1 or x contains c2 …` (likewise `icontains`, `startswith`, `endswith`) →
//!   `anyof.contains x, {c1, c2}`: the `anyof` modifier is exactly "some item satisfies the
//!   comparison, false when `x` is missing" (spec A.7). The VM runs such a check as one Aho-Corasick
//!   automaton (contains, icontains) or one hashed lookup per distinct literal length (startswith,
//!   endswith).
//!
//! The merged check takes the place of the first check of its group; the other operands keep their
//! order. Groups of one are left alone.

use std::collections::HashMap;

use super::{Builder, Pass, rewrite};
use crate::abi::ScalarKind;
use crate::ir::{Cmp, Constant, Inst, ListRhs, Modifier, Program, SetDecl, ValueId, ValueType};

/// The list-hashing pass; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListHash;

impl Pass for ListHash {
    fn name(&self) -> &'static str {
        "list_hash"
    }

    fn run(&self, p: &Program) -> Program {
        rewrite(p, merge)
    }
}

/// How an `or` operand can join a group: the group key and the literals it brings.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    /// Equality / membership on a scalar value.
    Member(ValueId),
    /// An `anyof`-able string operator on a scalar value.
    Any(Cmp, ValueId),
}

fn scalar_kind(b: &Builder, v: ValueId) -> Option<ScalarKind> {
    match b.program.type_of(v)? {
        ValueType::Data(t) if !t.list => Some(t.kind),
        _ => None,
    }
}

fn classify(b: &Builder, v: ValueId) -> Option<(Key, Vec<Constant>)> {
    match b.inst(v)? {
        Inst::Cmp(op, x, c) => {
            let Some(Inst::Const(k)) = b.inst(*c) else {
                return None;
            };
            let kind = scalar_kind(b, *x)?;
            let member_kind = matches!(
                kind,
                ScalarKind::Str | ScalarKind::Bytes | ScalarKind::Int | ScalarKind::Uint
            );
            match op {
                Cmp::Eq if member_kind && k.kind() == kind => {
                    Some((Key::Member(*x), vec![k.clone()]))
                }
                Cmp::Contains | Cmp::IContains | Cmp::StartsWith | Cmp::EndsWith
                    if kind == ScalarKind::Str && k.kind() == kind =>
                {
                    Some((Key::Any(*op, *x), vec![k.clone()]))
                }
                _ => None,
            }
        }
        Inst::In(x, ListRhs::Set(s)) => {
            let kind = scalar_kind(b, *x)?;
            let set = b.program.sets.get(*s)?;
            let member_kind = matches!(
                kind,
                ScalarKind::Str | ScalarKind::Bytes | ScalarKind::Int | ScalarKind::Uint
            );
            (member_kind && set.kind == kind).then(|| (Key::Member(*x), set.items.clone()))
        }
        Inst::Modified(Modifier::AnyOf, op, x, s)
            if matches!(
                op,
                Cmp::Contains | Cmp::IContains | Cmp::StartsWith | Cmp::EndsWith
            ) =>
        {
            let set = b.program.sets.get(*s)?;
            (scalar_kind(b, *x) == Some(ScalarKind::Str) && set.kind == ScalarKind::Str)
                .then(|| (Key::Any(*op, *x), set.items.clone()))
        }
        _ => None,
    }
}

fn merge(b: &mut Builder, inst: Inst) -> ValueId {
    let Inst::Or(xs) = &inst else {
        return b.push(inst);
    };
    let classes: Vec<Option<(Key, Vec<Constant>)>> = xs.iter().map(|x| classify(b, *x)).collect();
    let mut count: HashMap<Key, usize> = HashMap::new();
    for (k, _) in classes.iter().flatten() {
        *count.entry(*k).or_default() += 1;
    }
    if count.values().all(|n| *n < 2) {
        return b.push(inst);
    }
    // Items per group, in operand order.
    let mut items: HashMap<Key, Vec<Constant>> = HashMap::new();
    for (k, cs) in classes.iter().flatten() {
        if count.get(k).copied().unwrap_or(0) >= 2 {
            items.entry(*k).or_default().extend(cs.iter().cloned());
        }
    }
    let mut out = Vec::with_capacity(xs.len());
    for (x, class) in xs.iter().zip(&classes) {
        match class {
            Some((k, _)) if count.get(k).copied().unwrap_or(0) >= 2 => {
                let Some(cs) = items.remove(k) else {
                    continue; // the group was emitted at its first member
                };
                let kind = cs.first().map_or(ScalarKind::Str, Constant::kind);
                let set = b.intern_set(SetDecl { kind, items: cs });
                out.push(b.push(match k {
                    Key::Member(v) => Inst::In(*v, ListRhs::Set(set)),
                    Key::Any(op, v) => Inst::Modified(Modifier::AnyOf, *op, *v, set),
                }));
            }
            _ => out.push(*x),
        }
    }
    if let [only] = out.as_slice() {
        return *only;
    }
    b.push(Inst::Or(out))
}
