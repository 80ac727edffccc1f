//! Operator semantics tables: `tests/data/ops/*.yaml`.
//!
//! Each case names a field type, an operator, the field's value (absent = the field is missing for the
//! event) and the right side, and the expected answer. The harness builds a one-rule IR program for the
//! case, checks that it verifies and round-trips through the textual form, compiles it to bytecode and
//! evaluates it on a [`MapEvent`]. Every failing case is reported, not just the first.
//!
//! Value syntax: scalars are YAML scalars; strings may contain `\xHH` escapes for arbitrary bytes (write
//! them in single quotes so YAML leaves the backslash alone); `{repeat: S, count: N, prefix: P, suffix: Q}`
//! builds a long string; a YAML sequence is a list value (for list fields and for sets).
//!
//! Case keys: `name`, `type` (`str`, `uint`, `ip`, `str[]`, …), `op` (`eq`…`iglob`, `in`, `intersects`,
//! `pmatch`, `regex`, `exists`, `oneof.eq`…), optional `transform` (applied to the field: `tolower`,
//! `toupper`, `b64`, `basename`, `len`, `getopt`), `transform_args` (its further string arguments:
//! `getopt`'s optstring and optional selector), `value`, `rhs` (constant or list), `rhs_field` (compare with a
//! second field holding this value; `rhs_field_missing: true` for a missing one), `negate` (wrap in
//! `not`), `multi` (`ancestors` / `endpoints`: a multi-valued scalar field whose `value` is the list of
//! its values, as `proc.aname` or `fd.ip` without an argument), `expect`.

use std::fmt;
use std::path::Path;

use frule_codegen::abi::{FieldArg, FieldId, IpNet, MapEvent, OwnedValue, ScalarKind};
use frule_codegen::ir::{
    Cmp, Constant, FieldDecl, Inst, ListRhs, Modifier, MultiValue, Program, SetDecl, TransformOp,
    Ty, ValueId,
};
use frule_codegen::{verify, vm};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// A scalar read as text whatever its YAML type.
#[derive(Clone, Debug)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor).map(Text)
    }
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A case value: scalar, list, or a generated long string.
#[derive(Clone, Debug)]
enum Val {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Val {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Val;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar, a sequence or a repeat map")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Val, E> {
                Ok(Val::One(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val, E> {
                Ok(Val::One(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val, E> {
                Ok(Val::One(v.to_string()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Val, E> {
                Ok(Val::One(v.to_string()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Val, E> {
                Ok(Val::One(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val, E> {
                Ok(Val::One(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Val, E> {
                Ok(Val::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Val, A::Error> {
                let mut out = Vec::new();
                while let Some(Text(t)) = a.next_element()? {
                    out.push(t);
                }
                Ok(Val::Many(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Val, A::Error> {
                let (mut repeat, mut count, mut prefix, mut suffix) =
                    (String::new(), 0usize, String::new(), String::new());
                while let Some(k) = a.next_key::<String>()? {
                    let Text(v) = a.next_value()?;
                    match k.as_str() {
                        "repeat" => repeat = v,
                        "count" => count = v.parse().map_err(de::Error::custom)?,
                        "prefix" => prefix = v,
                        "suffix" => suffix = v,
                        other => return Err(de::Error::custom(format!("unknown key {other}"))),
                    }
                }
                Ok(Val::One(format!(
                    "{prefix}{}{suffix}",
                    repeat.repeat(count)
                )))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Case {
    pub(crate) name: String,
    #[serde(rename = "type")]
    ty: String,
    op: String,
    #[serde(default)]
    transform: Option<String>,
    /// Further string-constant arguments of the transformer (`getopt`'s optstring and selector).
    #[serde(default)]
    transform_args: Vec<String>,
    #[serde(default)]
    value: Option<Val>,
    #[serde(default)]
    rhs: Option<Val>,
    #[serde(default)]
    rhs_field: Option<Val>,
    #[serde(default)]
    rhs_field_missing: bool,
    #[serde(default)]
    negate: bool,
    /// `ancestors` or `endpoints`: the scalar field is multi-valued and `value` lists its values.
    #[serde(default)]
    multi: Option<String>,
    pub(crate) expect: bool,
}

/// `\xHH` escapes to bytes; everything else verbatim.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && b.get(i + 1) == Some(&b'x')
            && let Some(h) = b
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn constant(kind: ScalarKind, s: &str) -> Result<Constant, String> {
    let bad = |e: &dyn fmt::Display| format!("bad {kind} constant {s:?}: {e}");
    Ok(match kind {
        ScalarKind::Int => Constant::Int(s.parse().map_err(|e| bad(&e))?),
        ScalarKind::Uint => Constant::Uint(s.parse().map_err(|e| bad(&e))?),
        ScalarKind::Double => Constant::Double(s.parse().map_err(|e| bad(&e))?),
        ScalarKind::Bool => Constant::Bool(s.parse().map_err(|e| bad(&e))?),
        ScalarKind::Str => Constant::Str(unescape(s)),
        ScalarKind::Bytes => Constant::Bytes(unescape(s)),
        ScalarKind::Ip => Constant::Ip(s.parse().map_err(|e| bad(&e))?),
        ScalarKind::Net => Constant::Net(IpNet::parse(s).ok_or_else(|| bad(&"not a network"))?),
    })
}

/// The runtime value of a field of `kind` (a `net` field extracts an address).
fn owned(kind: ScalarKind, s: &str) -> Result<OwnedValue, String> {
    Ok(
        match constant(
            if kind == ScalarKind::Net {
                ScalarKind::Ip
            } else {
                kind
            },
            s,
        )? {
            Constant::Int(x) => OwnedValue::I64(x),
            Constant::Uint(x) => OwnedValue::U64(x),
            Constant::Double(x) => OwnedValue::F64(x),
            Constant::Bool(x) => OwnedValue::Bool(x),
            Constant::Str(x) | Constant::Bytes(x) => OwnedValue::Bytes(x),
            Constant::Ip(x) => OwnedValue::Ip(x),
            Constant::Net(n) => OwnedValue::Ip(n.addr),
        },
    )
}

fn parse_ty(s: &str) -> Result<Ty, String> {
    let (name, list) = match s.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (s, false),
    };
    let kind = ScalarKind::from_name(name).ok_or_else(|| format!("unknown type {s}"))?;
    Ok(Ty { kind, list })
}

const LHS: FieldId = FieldId(1);
const RHS: FieldId = FieldId(2);

fn set_field(ev: &mut MapEvent, id: FieldId, ty: Ty, multi: bool, v: &Val) -> Result<(), String> {
    match (v, ty.list || multi) {
        (Val::One(s), false) => {
            ev.set(id, None, owned(ty.kind, s)?);
        }
        (Val::Many(items), true) => {
            let vs = items
                .iter()
                .map(|s| owned(ty.kind, s))
                .collect::<Result<_, _>>()?;
            ev.set_list(id, None, vs);
        }
        _ => return Err("value shape does not match the field type (list vs scalar)".into()),
    }
    Ok(())
}

/// Builds the program and the event for a case.
pub(crate) fn build(case: &Case) -> Result<(Program, MapEvent), String> {
    let ty = parse_ty(&case.ty)?;
    let multi = match case.multi.as_deref() {
        None => MultiValue::Single,
        Some("ancestors") => MultiValue::Ancestors,
        Some("endpoints") => MultiValue::Endpoints,
        Some("names") => MultiValue::Names,
        Some(other) => return Err(format!("unknown multi mode {other}")),
    };
    let mut p = Program::new();
    let slot = p.field(FieldDecl {
        id: LHS,
        name: "test.lhs".into(),
        arg: None,
        ty,
        multi,
    });
    let mut lhs = p.push(Inst::Load(slot));
    let mut kind = ty.kind;
    if let Some(t) = &case.transform {
        let op = TransformOp::from_name(t).ok_or_else(|| format!("unknown transform {t}"))?;
        let mut args = vec![lhs];
        for a in &case.transform_args {
            args.push(p.push(Inst::Const(Constant::Str(unescape(a)))));
        }
        lhs = p.push(Inst::Transform(op, args));
        if op == TransformOp::Len {
            kind = ScalarKind::Uint;
        }
    }
    let mut ev = MapEvent::new();
    if let Some(v) = &case.value {
        set_field(&mut ev, LHS, ty, multi != MultiValue::Single, v)?;
    }
    // The right side: a second field, a constant, or a set.
    let rhs_value = |p: &mut Program, ev: &mut MapEvent| -> Result<Option<ValueId>, String> {
        if case.rhs_field.is_none() && !case.rhs_field_missing {
            return Ok(None);
        }
        let rty = Ty {
            kind,
            list: matches!(case.rhs_field, Some(Val::Many(_))),
        };
        let s = p.field(FieldDecl {
            id: RHS,
            name: "test.rhs".into(),
            arg: Some(FieldArg::Index(0)),
            ty: rty,
            multi: MultiValue::Single,
        });
        if let Some(v) = &case.rhs_field {
            // The MapEvent key includes the argument.
            match v {
                Val::One(x) => {
                    ev.set(RHS, Some(FieldArg::Index(0)), owned(kind, x)?);
                }
                Val::Many(xs) => {
                    let vs = xs
                        .iter()
                        .map(|x| owned(kind, x))
                        .collect::<Result<_, _>>()?;
                    ev.set_list(RHS, Some(FieldArg::Index(0)), vs);
                }
            }
        }
        Ok(Some(p.push(Inst::Load(s))))
    };
    let set_of = |p: &mut Program| -> Result<frule_codegen::ir::SetId, String> {
        let items = match &case.rhs {
            Some(Val::Many(xs)) => xs
                .iter()
                .map(|x| constant(kind, x))
                .collect::<Result<_, _>>()?,
            Some(Val::One(x)) => vec![constant(kind, x)?],
            None => return Err("rhs missing".into()),
        };
        Ok(p.set(SetDecl { kind, items }))
    };
    let op = case.op.as_str();
    let mut cond = if op == "exists" {
        p.push(Inst::Exists(lhs))
    } else if op == "in" || op == "intersects" {
        let r = match rhs_value(&mut p, &mut ev)? {
            Some(v) => ListRhs::Value(v),
            None => ListRhs::Set(set_of(&mut p)?),
        };
        p.push(if op == "in" {
            Inst::In(lhs, r)
        } else {
            Inst::Intersects(lhs, r)
        })
    } else if op == "pmatch" {
        let s = set_of(&mut p)?;
        p.push(Inst::PMatch(lhs, s))
    } else if op == "regex" {
        let Some(Val::One(pat)) = &case.rhs else {
            return Err("regex needs one pattern".into());
        };
        let r = p.regex(pat.clone());
        p.push(Inst::Regex(lhs, r))
    } else if let Some((m, "regex")) = op.split_once('.') {
        let m = Modifier::from_name(m).ok_or_else(|| format!("unknown modifier {m}"))?;
        let pats = match &case.rhs {
            Some(Val::Many(xs)) => xs.clone(),
            Some(Val::One(x)) => vec![x.clone()],
            None => return Err("regex modifiers need patterns".into()),
        };
        let res = pats.into_iter().map(|x| p.regex(x)).collect();
        p.push(Inst::RegexModified(m, lhs, res))
    } else if let Some((m, c)) = op.split_once('.') {
        let m = Modifier::from_name(m).ok_or_else(|| format!("unknown modifier {m}"))?;
        let c = Cmp::from_name(c).ok_or_else(|| format!("unknown operator {c}"))?;
        let s = set_of(&mut p)?;
        p.push(Inst::Modified(m, c, lhs, s))
    } else {
        let c = Cmp::from_name(op).ok_or_else(|| format!("unknown operator {op}"))?;
        let r = match rhs_value(&mut p, &mut ev)? {
            Some(v) => v,
            None => match &case.rhs {
                Some(Val::One(x)) => p.push(Inst::Const(constant(kind, x)?)),
                _ => return Err("comparison needs one constant".into()),
            },
        };
        p.push(Inst::Cmp(c, lhs, r))
    };
    if case.negate {
        cond = p.push(Inst::Not(cond));
    }
    p.add_rule(case.name.clone(), cond);
    Ok((p, ev))
}

fn run_case(case: &Case) -> Result<(), String> {
    let (p, mut ev) = build(case)?;
    verify::verify(&p).map_err(|e| format!("verifier: {e}\n{p}"))?;
    let text = p.to_text();
    let reparsed = frule_codegen::ir::parse(&text).map_err(|e| format!("reparse: {e}\n{text}"))?;
    if reparsed.to_text() != text {
        return Err(format!(
            "round trip changed the text:\n{text}\n---\n{}",
            reparsed.to_text()
        ));
    }
    let prog = vm::Program::compile(&p).map_err(|e| e.to_string())?;
    let got = prog.eval(&mut ev);
    if got != case.expect {
        return Err(format!("expected {}, got {got}\n{text}", case.expect));
    }
    Ok(())
}

#[test]
fn operator_tables() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ops");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/ops exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let (mut total, mut failures) = (0usize, Vec::new());
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable case file");
        let cases: Vec<Case> = match serde_saphyr::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: {e}", f.display()));
                continue;
            }
        };
        for case in &cases {
            total += 1;
            if let Err(e) = run_case(case) {
                failures.push(format!(
                    "{} / {}: {e}",
                    f.file_name().unwrap_or_default().to_string_lossy(),
                    case.name
                ));
            }
        }
    }
    println!("{total} operator cases in {} files", files.len());
    assert!(total > 0, "no operator cases found");
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
