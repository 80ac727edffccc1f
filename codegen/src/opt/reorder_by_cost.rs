//! `reorder_by_cost`: cheap operands first inside `and`/`or`.
//!
//! Exactness: Falco's `and`/`or` have no side effects and every operand is a definite boolean (a
//! missing field is decided inside its own predicate, spec B.3), so the answer of `a and b` equals
//! that of `b and a`; only the work done before the short circuit changes. The sort is stable, so
//! operands of equal cost keep the order the rule author wrote.
//!
//! Cost model (abstract units, roughly nanoseconds of the VM):
//!
//! | value | cost |
//! |-------|------|
//! | constant, `cond` | 0 |
//! | load of an event-local numeric field (`evt.*`, not a string) | 1 |
//! | load of an event-local string, or a numeric field from state (`proc.*`, `fd.*`, `user.*`, `container.*` …) | 2 |
//! | load of a state string field | 4 |
//! | transformer | 3 + its arguments |
//! | `exists`, `cmp.eq/ne/lt/…` | 1 + operands |
//! | `contains`, `startswith`, `endswith`, `icontains` | 2 + operands |
//! | `in`, `intersects` (hash set) | 2 + operands |
//! | `pmatch`, `glob`, `iglob`, modifiers | 6 + operands |
//! | `regex` | 12 + operand (each pattern for the modifiers) |
//! | `and`/`or`/`not` | the sum of the operands (an upper bound) |
//!
//! A field read by several predicates is extracted once per event, but the model charges every read:
//! what matters is the relative order of siblings, and charging the extraction keeps checks on fields
//! that are already needed elsewhere from looking free when they are the first to need them.
//!
//! The event type check (`evt.type in (…)`) is both cheap and the most selective check of almost
//! every rule; it costs 1 + 1 + 2 and therefore sorts early on its own.

use super::{Builder, Pass, rewrite};
use crate::abi::ScalarKind;
use crate::ir::{Cmp, Inst, Program, ValueId};

/// The cost-ordering pass; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReorderByCost;

impl Pass for ReorderByCost {
    fn name(&self) -> &'static str {
        "reorder_by_cost"
    }

    fn run(&self, p: &Program) -> Program {
        let mut costs: Vec<u32> = Vec::new();
        rewrite(p, |b, inst| {
            let inst = match inst {
                Inst::And(mut xs) => {
                    xs.sort_by_key(|x| costs.get(x.0 as usize).copied().unwrap_or(u32::MAX));
                    Inst::And(xs)
                }
                Inst::Or(mut xs) => {
                    xs.sort_by_key(|x| costs.get(x.0 as usize).copied().unwrap_or(u32::MAX));
                    Inst::Or(xs)
                }
                other => other,
            };
            let v = b.push(inst);
            // hash-consing may return an earlier value: its cost is known already
            if v.0 as usize == costs.len() {
                let c = cost(b, &costs, v);
                costs.push(c);
            }
            v
        })
    }
}

/// The cost of a field load (see the table in the module docs).
pub fn load_cost(name: &str, kind: ScalarKind) -> u32 {
    let local = name.starts_with("evt.");
    let string = matches!(kind, ScalarKind::Str | ScalarKind::Bytes);
    match (local, string) {
        (true, false) => 1,
        (true, true) | (false, false) => 2,
        (false, true) => 4,
    }
}

fn cost(b: &Builder, costs: &[u32], v: ValueId) -> u32 {
    let Some(inst) = b.inst(v) else { return 0 };
    let operands: u32 = inst
        .operands()
        .iter()
        .map(|o| costs.get(o.0 as usize).copied().unwrap_or(0))
        .fold(0u32, u32::saturating_add);
    let own = match inst {
        Inst::Const(_) | Inst::Bool(_) | Inst::And(_) | Inst::Or(_) | Inst::Not(_) => 0,
        Inst::Load(s) => b
            .program
            .fields
            .get(*s)
            .map_or(4, |d| load_cost(&d.name, d.ty.kind)),
        Inst::Transform(..) => 3,
        Inst::Exists(_) => 1,
        Inst::Cmp(op, ..) => match op {
            Cmp::Eq | Cmp::Ne | Cmp::Lt | Cmp::Le | Cmp::Gt | Cmp::Ge => 1,
            Cmp::Glob | Cmp::IGlob => 6,
            _ => 2,
        },
        Inst::In(..) | Inst::Intersects(..) => 2,
        Inst::PMatch(..) | Inst::Modified(..) => 6,
        Inst::Regex(..) => 12,
        Inst::RegexModified(_, _, rs) => 12u32.saturating_mul(rs.len() as u32),
    };
    own.saturating_add(operands)
}
