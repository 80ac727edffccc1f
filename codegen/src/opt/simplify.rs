//! `simplify`: boolean clean-ups that never change an answer.
//!
//! Conditions are definite booleans and connectives have no side effects (spec B.3: a missing field
//! makes *its predicate* false, nothing propagates), so the laws of Boolean algebra hold exactly:
//!
//! - `not not x` → `x` (double negation is exact on conditions; it is *not* applied across a
//!   predicate — `not f = x` stays distinct from `f != x`);
//! - nested `and` inside `and` (and `or` inside `or`) are flattened, keeping left-to-right order;
//! - duplicate operands are dropped (the first occurrence stays);
//! - `x and not x` → `false`, `x or not x` → `true`;
//! - a one-operand `and`/`or` is its operand;
//! - constants this pass creates are folded at once (`not cond b`, constant `and`/`or` children, as
//!   in `const_fold`);
//! - predicates over an empty constant set that are false whatever the field holds: `in` with a
//!   *scalar* left side, `intersects`, `pmatch`, the modifiers and `regex <modifier> ()`. `in` with a
//!   *list* left side is vacuously true for an empty list, so it depends on the field's presence and
//!   stays.

use super::{Builder, Pass, rewrite};
use crate::ir::{Inst, ListRhs, Program, ValueId, ValueType};

/// The boolean simplification pass; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Simplify;

impl Pass for Simplify {
    fn name(&self) -> &'static str {
        "simplify"
    }

    fn run(&self, p: &Program) -> Program {
        rewrite(p, simplify)
    }
}

fn empty_set(b: &Builder, s: crate::ir::SetId) -> bool {
    b.program.sets.get(s).is_some_and(|d| d.items.is_empty())
}

fn is_list(b: &Builder, v: ValueId) -> bool {
    matches!(b.program.type_of(v), Some(ValueType::Data(t)) if t.list)
}

pub(crate) fn simplify(b: &mut Builder, inst: Inst) -> ValueId {
    match &inst {
        Inst::Not(x) => match b.inst(*x) {
            Some(Inst::Not(y)) => return *y,
            Some(Inst::Bool(v)) => {
                let r = !*v;
                return b.bool(r);
            }
            _ => {}
        },
        Inst::In(x, ListRhs::Set(s)) if empty_set(b, *s) && !is_list(b, *x) => {
            return b.bool(false);
        }
        Inst::Intersects(_, ListRhs::Set(s)) | Inst::PMatch(_, s) | Inst::Modified(_, _, _, s)
            if empty_set(b, *s) =>
        {
            return b.bool(false);
        }
        Inst::RegexModified(_, _, rs) if rs.is_empty() => return b.bool(false),
        Inst::And(xs) | Inst::Or(xs) => {
            let is_and = matches!(inst, Inst::And(_));
            let mut flat: Vec<ValueId> = Vec::with_capacity(xs.len());
            for x in xs {
                match b.inst(*x) {
                    Some(Inst::And(ys)) if is_and => flat.extend(ys.iter().copied()),
                    Some(Inst::Or(ys)) if !is_and => flat.extend(ys.iter().copied()),
                    _ => flat.push(*x),
                }
            }
            let mut kept: Vec<ValueId> = Vec::with_capacity(flat.len());
            for x in flat {
                match b.inst(x) {
                    // what simplification itself leaves behind is folded right away
                    Some(Inst::Bool(v)) if *v != is_and => return b.bool(!is_and),
                    Some(Inst::Bool(_)) => {}
                    _ if kept.contains(&x) => {}
                    _ => kept.push(x),
                }
            }
            if kept.is_empty() {
                return b.bool(is_and);
            }
            let complementary = kept
                .iter()
                .any(|x| matches!(b.inst(*x), Some(Inst::Not(y)) if kept.contains(y)));
            if complementary {
                return b.bool(!is_and);
            }
            if let [only] = kept.as_slice() {
                return *only;
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
