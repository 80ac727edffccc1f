//! `const_fold`: decides what constants decide.
//!
//! - a predicate whose data operands are all constants (never missing) becomes `cond true/false`,
//!   computed with the VM's own operator helpers so the answer is the VM's: `cmp.*` of two constants,
//!   `in`/`intersects` of a scalar constant and a constant set, `exists` of a constant (true);
//! - `not cond b` → `cond !b`;
//! - in `and`, a `cond false` child makes the whole `false` and `cond true` children drop out; in
//!   `or` dually. Exact because connectives have no side effects and every child is a definite
//!   boolean (spec B.3: missing fields are already decided inside each predicate). An `and` left
//!   without children is `true`, an `or` `false`.
//!
//! `net` comparisons are left alone (their right side has no item form).

use super::{Builder, Pass, rewrite};
use crate::abi::{ScalarKind, ValueRef};
use crate::ir::{Constant, Inst, ListRhs, Program, SetDecl};
use crate::vm;

/// The constant-folding pass; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConstFold;

impl Pass for ConstFold {
    fn name(&self) -> &'static str {
        "const_fold"
    }

    fn run(&self, p: &Program) -> Program {
        rewrite(p, fold)
    }
}

/// The item form of a constant (none for networks).
pub(crate) fn item(c: &Constant) -> Option<ValueRef<'_>> {
    Some(match c {
        Constant::Int(x) => ValueRef::I64(*x),
        Constant::Uint(x) => ValueRef::U64(*x),
        Constant::Double(x) => ValueRef::F64(*x),
        Constant::Bool(x) => ValueRef::Bool(*x),
        Constant::Str(x) | Constant::Bytes(x) => ValueRef::Bytes(x),
        Constant::Ip(x) => ValueRef::Ip(*x),
        Constant::Net(_) => return None,
    })
}

fn constant(b: &Builder, v: crate::ir::ValueId) -> Option<&Constant> {
    match b.inst(v)? {
        Inst::Const(c) => Some(c),
        _ => None,
    }
}

fn in_set(set: &SetDecl, c: &Constant) -> Option<bool> {
    let v = item(c)?;
    Some(set.items.iter().any(|k| match (k, v) {
        (Constant::Net(n), ValueRef::Ip(ip)) => n.contains(ip),
        (k, v) => item(k).is_some_and(|k| vm::compare(crate::ir::Cmp::Eq, set.kind, v, k)),
    }))
}

/// The answer of a predicate whose data operands are constants (`exists`, `cmp.*`, `in` and
/// `intersects` of a constant set), if they decide it.
pub(crate) fn decided(b: &Builder, inst: &Inst) -> Option<bool> {
    match inst {
        Inst::Exists(a) if constant(b, *a).is_some() => Some(true),
        Inst::Cmp(op, x, y) => {
            let (cx, cy) = (constant(b, *x)?, constant(b, *y)?);
            if cx.kind() == ScalarKind::Net {
                return None;
            }
            Some(vm::compare(*op, cx.kind(), item(cx)?, item(cy)?))
        }
        Inst::In(x, ListRhs::Set(s)) | Inst::Intersects(x, ListRhs::Set(s)) => {
            in_set(b.program.sets.get(*s)?, constant(b, *x)?)
        }
        _ => None,
    }
}

/// Folds `inst` (its operands already rewritten) into a constant when its operands allow it.
pub(crate) fn fold(b: &mut Builder, inst: Inst) -> crate::ir::ValueId {
    if let Some(r) = decided(b, &inst) {
        return b.bool(r);
    }
    match &inst {
        Inst::Not(x) => {
            if let Some(Inst::Bool(v)) = b.inst(*x) {
                let r = !*v;
                return b.bool(r);
            }
        }
        Inst::And(xs) | Inst::Or(xs) => {
            let is_and = matches!(inst, Inst::And(_));
            let mut kept = Vec::with_capacity(xs.len());
            for x in xs {
                match b.inst(*x) {
                    // the absorbing constant decides the connective
                    Some(Inst::Bool(v)) if *v != is_and => return b.bool(!is_and),
                    // the neutral constant drops out
                    Some(Inst::Bool(_)) => {}
                    _ => kept.push(*x),
                }
            }
            if kept.is_empty() {
                return b.bool(is_and);
            }
            return b.push(if is_and {
                Inst::And(kept)
            } else {
                Inst::Or(kept)
            });
        }
        _ => {}
    }
    b.push(inst)
}
