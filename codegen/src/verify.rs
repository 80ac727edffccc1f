//! The IR verifier. A failure is always a bug in whoever produced the program (lowering, a pass, or a
//! hand-written test program), never a user error: lowering reports user errors as diagnostics first.
//!
//! Checklist — every property below is checked, and `tests/data/ir/verify_*.frir` has a case for each:
//!
//! 1. **Ids in range**: every field slot, set and regex an instruction names exists; every rule's
//!    condition is a value of the program.
//! 2. **Defined before use**: every operand of `vN` is some `vM` with `M < N`. Ids are therefore a
//!    topological order and the DAG is acyclic.
//! 3. **Value categories**: transformer arguments and predicate operands are data values; `and`/`or`/`not`
//!    operands and rule roots are conditions; `and`/`or` have at least one operand (constants are
//!    `cond true`/`cond false`, so that every program has a textual form).
//! 4. **Operator typing** (spec B.1, on the transformed type):
//!    - `cmp.*`: both sides scalar, same kind, and the operator applies to the kind ([`crate::ir::Cmp::applies_to`]);
//!      a `net` left side must be compared with a `net` constant (networks never come from fields, B.8);
//!    - modifiers: scalar left side, the set's kind equals it, and the operator applies to the kind;
//!    - `in`/`intersects`: the set's (or the right value's) kind equals the left side's; no field on the
//!      right of a `net` left side;
//!    - `pmatch`, `regex` and `<modifier>.regex`: scalar `str` left side; `pmatch` takes a `str` set;
//!    - transformers: `tolower`/`toupper`/`basename` take one scalar `str`; `b64` one scalar `str` or
//!      `bytes`; `len` one scalar `str`/`bytes` or any list; `concat` at least two scalar `str`;
//!      `join` a scalar `str` separator and at least one more data value; `getopt` a `str[]` argv, a
//!      scalar `str` optstring and optionally a scalar `str` selector.
//! 5. **Constants**: every set item has the set's kind; `net` constants appear only as the right side of
//!    `cmp.eq`/`cmp.ne` (they have no runtime item representation).
//! 6. **Field slots agree**: two slots naming the same field and argument have the same type and
//!    multi-valued mode (the VM extracts them once); a multi-valued slot is a scalar (not a list).
//! 7. **Regexes compile** with the `regex` crate once anchored as `^(?:…)$`.

use std::fmt;

use crate::ir::{
    Constant, Inst, ListRhs, Program, ScalarKind, TransformOp, Ty, ValueId, ValueType,
};

/// One violated invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierError {
    /// Where: `v3`, `%1`, `^0`, `rule "x"`.
    pub location: String,
    /// What is wrong, lowercase.
    pub message: String,
}

/// Every violated invariant of a program (Cranelift's `VerifierErrors`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifierErrors(pub Vec<VerifierError>);

impl fmt::Display for VerifierErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", e.location, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifierErrors {}

/// The anchored form of a `regex` pattern: RE2's full match (spec B.6).
pub fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// Checks every invariant of the checklist; returns all violations.
pub fn verify(p: &Program) -> Result<(), VerifierErrors> {
    let mut errs = Vec::new();
    let mut err =
        |location: String, message: String| errs.push(VerifierError { location, message });

    for (slot, d) in p.fields.iter() {
        if let Some((first, _)) = p
            .fields
            .iter()
            .find(|(_, e)| e.id == d.id && e.arg == d.arg && (e.ty != d.ty || e.multi != d.multi))
            && first.0 < slot.0
        {
            err(
                slot.to_string(),
                format!("same field and argument as {first} with another type"),
            );
        }
        if d.ty.list && d.multi != crate::ir::MultiValue::Single {
            err(
                slot.to_string(),
                "a list field cannot be multi-valued".to_string(),
            );
        }
    }
    for (id, s) in p.sets.iter() {
        for (i, c) in s.items.iter().enumerate() {
            if c.kind() != s.kind {
                err(
                    id.to_string(),
                    format!(
                        "item {i} is a '{}' constant in a '{}' set",
                        c.kind(),
                        s.kind
                    ),
                );
            }
        }
    }
    for (id, r) in p.regexes.iter() {
        if let Err(e) = regex::Regex::new(&anchored(&r.pattern)) {
            err(
                id.to_string(),
                format!("invalid regex pattern: {}", regex_reason(&e)),
            );
        }
    }

    // Types of the values seen so far; `None` when ill-typed (already reported).
    let mut types: Vec<Option<ValueType>> = Vec::with_capacity(p.values.len());
    for (v, inst) in p.values.iter() {
        let loc = v.to_string();
        let operand =
            |o: ValueId, types: &Vec<Option<ValueType>>, err: &mut dyn FnMut(String, String)| {
                if o.0 >= v.0 {
                    err(
                        loc.clone(),
                        format!("operand {o} is not defined before {v}"),
                    );
                    return None;
                }
                types.get(o.index_usize()).copied().flatten()
            };
        let data = |t: Option<ValueType>| match t {
            Some(ValueType::Data(ty)) => Some(ty),
            _ => None,
        };
        let mut ty: Option<ValueType> = Some(ValueType::Cond);
        match inst {
            Inst::Load(s) => match p.fields.get(*s) {
                Some(d) => ty = Some(ValueType::Data(d.ty)),
                None => {
                    err(loc.clone(), format!("field slot {s} is out of range"));
                    ty = None;
                }
            },
            Inst::Const(c) => ty = Some(ValueType::Data(Ty::scalar(c.kind()))),
            Inst::Transform(op, args) => {
                let ts: Vec<Option<ValueType>> =
                    args.iter().map(|a| operand(*a, &types, &mut err)).collect();
                if ts.iter().any(Option::is_none) {
                    ty = None;
                } else if ts.is_empty() {
                    err(
                        loc.clone(),
                        format!("'{}' takes at least one argument", op.name()),
                    );
                    ty = None;
                } else {
                    let tys: Vec<Ty> = ts.iter().filter_map(|t| data(*t)).collect();
                    if tys.len() != ts.len() {
                        err(
                            loc.clone(),
                            format!("'{}' takes data values, not conditions", op.name()),
                        );
                        ty = None;
                    } else {
                        ty = transform_type(*op, &tys).map(ValueType::Data).or_else(|| {
                            let shown: Vec<String> = tys.iter().map(Ty::to_string).collect();
                            err(
                                loc.clone(),
                                format!("'{}' does not apply to ({})", op.name(), shown.join(", ")),
                            );
                            None
                        });
                    }
                }
            }
            Inst::Exists(a) => {
                if let Some(t) = operand(*a, &types, &mut err)
                    && data(Some(t)).is_none()
                {
                    err(loc.clone(), "'exists' takes a data value".into());
                }
            }
            Inst::Cmp(op, a, b) => {
                let (ta, tb) = (operand(*a, &types, &mut err), operand(*b, &types, &mut err));
                if let (Some(ta), Some(tb)) = (ta, tb) {
                    match (data(Some(ta)), data(Some(tb))) {
                        (Some(x), Some(y)) => {
                            if x.list || y.list {
                                err(
                                    loc.clone(),
                                    format!("'cmp.{}' takes scalars, found {x} and {y}", op.name()),
                                );
                            } else if x.kind != y.kind {
                                err(
                                    loc.clone(),
                                    format!("'cmp.{}' compares {x} with {y}", op.name()),
                                );
                            } else if !op.applies_to(x.kind) {
                                err(
                                    loc.clone(),
                                    format!("'{}' operator not supported for {x}", op.name()),
                                );
                            } else if x.kind == ScalarKind::Net
                                && !matches!(p.values.get(*b), Some(Inst::Const(Constant::Net(_))))
                            {
                                err(
                                    loc.clone(),
                                    "a net value must be compared with a net constant".into(),
                                );
                            }
                        }
                        _ => err(
                            loc.clone(),
                            format!("'cmp.{}' takes data values", op.name()),
                        ),
                    }
                }
            }
            Inst::Modified(m, op, a, s) => {
                let ta = operand(*a, &types, &mut err);
                match p.sets.get(*s) {
                    None => err(loc.clone(), format!("set {s} is out of range")),
                    Some(set) => {
                        if let Some(ta) = ta {
                            match data(Some(ta)) {
                                Some(x) if x.list => err(
                                    loc.clone(),
                                    format!(
                                        "'{}.{}' takes a scalar, found {x}",
                                        m.name(),
                                        op.name()
                                    ),
                                ),
                                Some(x) if x.kind != set.kind => err(
                                    loc.clone(),
                                    format!("{x} value compared with a '{}' set", set.kind),
                                ),
                                Some(x) if !op.applies_to(x.kind) => err(
                                    loc.clone(),
                                    format!("'{}' operator not supported for {x}", op.name()),
                                ),
                                Some(_) => {}
                                None => err(loc.clone(), "modifiers take a data value".into()),
                            }
                        }
                    }
                }
            }
            Inst::In(a, r) | Inst::Intersects(a, r) => {
                let name = if matches!(inst, Inst::In(..)) {
                    "in"
                } else {
                    "intersects"
                };
                let ta = operand(*a, &types, &mut err);
                let rkind = match r {
                    ListRhs::Set(s) => match p.sets.get(*s) {
                        Some(set) => Some(set.kind),
                        None => {
                            err(loc.clone(), format!("set {s} is out of range"));
                            None
                        }
                    },
                    ListRhs::Value(b) => match operand(*b, &types, &mut err) {
                        Some(t) => match data(Some(t)) {
                            Some(y) => Some(y.kind),
                            None => {
                                err(
                                    loc.clone(),
                                    format!("'{name}' takes a data value on the right"),
                                );
                                None
                            }
                        },
                        None => None,
                    },
                };
                if let (Some(ta), Some(rk)) = (ta, rkind) {
                    match data(Some(ta)) {
                        Some(x) if x.kind != rk => err(
                            loc.clone(),
                            format!("'{name}' compares {x} with '{rk}' items"),
                        ),
                        Some(x) if x.kind == ScalarKind::Net && matches!(r, ListRhs::Value(_)) => {
                            err(
                                loc.clone(),
                                "a net value cannot be compared with a field".into(),
                            )
                        }
                        Some(_) => {}
                        None => err(loc.clone(), format!("'{name}' takes a data value")),
                    }
                }
            }
            Inst::PMatch(a, s) => {
                let ta = operand(*a, &types, &mut err);
                match p.sets.get(*s) {
                    None => err(loc.clone(), format!("set {s} is out of range")),
                    Some(set) if set.kind != ScalarKind::Str => err(
                        loc.clone(),
                        format!("'pmatch' takes a 'str' set, found '{}'", set.kind),
                    ),
                    Some(_) => {}
                }
                if let Some(ta) = ta
                    && data(Some(ta)) != Some(Ty::scalar(ScalarKind::Str))
                {
                    err(loc.clone(), "'pmatch' takes a scalar str".into());
                }
            }
            Inst::Regex(a, r) => {
                let ta = operand(*a, &types, &mut err);
                if p.regexes.get(*r).is_none() {
                    err(loc.clone(), format!("regex {r} is out of range"));
                }
                if let Some(ta) = ta
                    && data(Some(ta)) != Some(Ty::scalar(ScalarKind::Str))
                {
                    err(loc.clone(), "'regex' takes a scalar str".into());
                }
            }
            Inst::RegexModified(m, a, rs) => {
                let ta = operand(*a, &types, &mut err);
                for r in rs {
                    if p.regexes.get(*r).is_none() {
                        err(loc.clone(), format!("regex {r} is out of range"));
                    }
                }
                if let Some(ta) = ta
                    && data(Some(ta)) != Some(Ty::scalar(ScalarKind::Str))
                {
                    err(
                        loc.clone(),
                        format!("'{}.regex' takes a scalar str", m.name()),
                    );
                }
            }
            Inst::And(args) | Inst::Or(args) => {
                if args.is_empty() {
                    err(
                        loc.clone(),
                        "a connective needs at least one operand (use 'cond' for constants)".into(),
                    );
                }
                for a in args {
                    if let Some(t) = operand(*a, &types, &mut err)
                        && t != ValueType::Cond
                    {
                        err(
                            loc.clone(),
                            format!("operand {a} of a connective is not a condition"),
                        );
                    }
                }
            }
            Inst::Not(a) => {
                if let Some(t) = operand(*a, &types, &mut err)
                    && t != ValueType::Cond
                {
                    err(
                        loc.clone(),
                        format!("operand {a} of 'not' is not a condition"),
                    );
                }
            }
            Inst::Bool(_) => {}
        }
        types.push(ty);
    }

    // Net constants only as the right side of a comparison.
    for (v, inst) in p.values.iter() {
        let ops = inst.operands();
        for (i, o) in ops.iter().enumerate() {
            if matches!(p.values.get(*o), Some(Inst::Const(Constant::Net(_))))
                && !(matches!(inst, Inst::Cmp(..)) && i == 1)
            {
                err(
                    v.to_string(),
                    format!("net constant {o} used outside the right side of a comparison"),
                );
            }
        }
    }

    for r in &p.rules {
        let loc = format!("rule {:?}", r.name);
        match types.get(r.cond.index_usize()) {
            None => err(loc, format!("condition {} is out of range", r.cond)),
            Some(Some(ValueType::Data(_))) => {
                err(loc, format!("{} is a data value, not a condition", r.cond))
            }
            Some(_) => {}
        }
    }

    if errs.is_empty() {
        Ok(())
    } else {
        Err(VerifierErrors(errs))
    }
}

/// The one-line reason of a regex error (the crate's message spans several lines with a caret).
pub fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().last().unwrap_or_default().trim();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

/// The result type of a transformer applied to arguments of these types, if it applies.
fn transform_type(op: TransformOp, args: &[Ty]) -> Option<Ty> {
    let str_ = Ty::scalar(ScalarKind::Str);
    match (op, args) {
        (TransformOp::ToLower | TransformOp::ToUpper | TransformOp::Basename, [a])
            if *a == str_ =>
        {
            Some(str_)
        }
        (TransformOp::B64, [a]) if !a.list && a.kind.is_bytes_like() => Some(*a),
        (TransformOp::Len, [a]) if a.list || a.kind.is_bytes_like() => {
            Some(Ty::scalar(ScalarKind::Uint))
        }
        (TransformOp::Concat, args) if args.len() >= 2 && args.iter().all(|a| *a == str_) => {
            Some(str_)
        }
        (TransformOp::Join, [sep, rest @ ..]) if *sep == str_ && !rest.is_empty() => Some(str_),
        (TransformOp::Getopt, [argv, opts])
            if *argv == Ty::list(ScalarKind::Str) && *opts == str_ =>
        {
            Some(Ty::list(ScalarKind::Str))
        }
        (TransformOp::Getopt, [argv, opts, sel])
            if *argv == Ty::list(ScalarKind::Str) && *opts == str_ && *sel == str_ =>
        {
            Some(str_)
        }
        _ => None,
    }
}

impl ValueId {
    fn index_usize(self) -> usize {
        self.0 as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Cmp, FieldDecl, FieldId, SetDecl};

    #[test]
    fn cmp_applies_matches_spec_b1() {
        // `bcontains` on a string is rejected by current libs (B.1).
        assert!(!Cmp::BContains.applies_to(ScalarKind::Str));
        assert!(Cmp::BContains.applies_to(ScalarKind::Bytes));
        assert!(!Cmp::IContains.applies_to(ScalarKind::Bytes));
        assert!(!Cmp::Lt.applies_to(ScalarKind::Ip));
    }

    #[test]
    fn built_program_verifies() {
        let mut p = Program::new();
        let s = p.field(FieldDecl {
            id: FieldId(1),
            name: "proc.name".into(),
            arg: None,
            ty: Ty::scalar(ScalarKind::Str),
            multi: crate::ir::MultiValue::Single,
        });
        let set = p.set(SetDecl {
            kind: ScalarKind::Str,
            items: vec![Constant::Str(b"a".to_vec())],
        });
        let v = p.push(Inst::Load(s));
        let c = p.push(Inst::In(v, ListRhs::Set(set)));
        p.add_rule("r", c);
        assert_eq!(verify(&p), Ok(()));
    }

    #[test]
    fn empty_connective_and_wrong_set_item_are_caught() {
        // Neither can be written in the textual form, so they are tested here.
        let mut p = Program::new();
        let s = p.set(SetDecl {
            kind: ScalarKind::Str,
            items: vec![Constant::Uint(1)],
        });
        let e = p.push(Inst::And(vec![]));
        p.add_rule("r", e);
        let errs = verify(&p).expect_err("two violations").0;
        let msgs: Vec<String> = errs
            .iter()
            .map(|e| format!("{}: {}", e.location, e.message))
            .collect();
        assert_eq!(
            msgs,
            vec![
                format!("{s}: item 0 is a 'uint' constant in a 'str' set"),
                format!("{e}: a connective needs at least one operand (use 'cond' for constants)"),
            ]
        );
    }
}
