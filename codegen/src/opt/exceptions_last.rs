//! `exceptions_last`: inside an `and`, negated operands after the others.
//!
//! Falco rules are written "what to detect `and not` the known-good cases": `open_read and
//! sensitive_files and not proc.name in (…) and not user_known_read_sensitive_files_activities …`.
//! `reorder_by_cost` sorts siblings by cost alone, so the exceptions — each a cheap hash lookup — end up
//! between the cheap positive checks and the selective ones (`fd.name in (…)`), and on the benign
//! events that are the common case every exception is evaluated, found true, and the rule still fails
//! on the selective check after them.
//!
//! This pass moves every `not x` operand of an `and` after the non-negated ones, keeping the relative
//! order within both parts (so the cost order `reorder_by_cost` left stays within each part). An
//! exception (`not x` with `x` rarely true) is almost always true, and a true operand of an `and`
//! never short-circuits: evaluating it later can only save work — the `and` may fail on a positive
//! check before reaching it. Only an event that *matches* an exception pays for the positive checks
//! that now run first. `not … exists` is left in place: a missing-field test is as likely false as
//! true.
//!
//! Exactness: `and` has no side effects and its operands are definite booleans (a missing field is
//! decided inside its own predicate, spec B.3), so any order gives the same answer.
//!
//! `or` operands are left alone: a negated operand there is not predictably true or false.

use super::{Pass, rewrite};
use crate::ir::{Inst, Program};

/// The exceptions-last pass; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExceptionsLast;

impl Pass for ExceptionsLast {
    fn name(&self) -> &'static str {
        "exceptions_last"
    }

    fn run(&self, p: &Program) -> Program {
        rewrite(p, |b, inst| {
            let inst = match inst {
                Inst::And(xs) => {
                    let exception = |x: &crate::ir::ValueId| match b.inst(*x) {
                        Some(Inst::Not(y)) => !matches!(b.inst(*y), Some(Inst::Exists(_))),
                        _ => false,
                    };
                    let (mut positive, negated): (Vec<_>, Vec<_>) =
                        xs.into_iter().partition(|x| !exception(x));
                    positive.extend(negated);
                    Inst::And(positive)
                }
                other => other,
            };
            b.push(inst)
        })
    }
}
