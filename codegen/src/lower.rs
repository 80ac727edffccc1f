//! Lowering: macro-resolved, checked conditions (`frule_lang::ast::Expr`) → the IR.
//!
//! Input contract: the condition has no macro references left and `frule_lang::check::check_condition`
//! reported no error for it. Lowering still never panics on other input: whatever it cannot lower comes
//! back as [`LowerError`]s with the span of the offending node.
//!
//! What happens here:
//! - fields resolve with `frule_lang::fields::resolve` into load sites ([`ir::FieldDecl`]); the IR
//!   kind of a field follows the representation `frule_lang::check::parse_constant` gives its constants
//!   (signed → `int`, unsigned/flags/times/ports → `uint`, strings → `str`, …; types that only support
//!   `exists` load as `bytes`);
//! - constants parse with `parse_constant` for the *transformed* left type (spec A.6, B.2);
//! - list right sides become constant sets (items in order, duplicates kept — modifiers count them);
//!   an identifier right side is the one-item list of its text (spec B.7);
//! - `val(f)` and right-hand transformers become data values of the same event (B.8);
//! - **hash-consing**: identical instructions get one value, also across rules lowered into the same
//!   program, so a macro used by many rules is one subexpression (what fusion builds on).
//!
//! `getopt(args, optstring)[t]` lowers to a `getopt` transformer whose optional third argument is the
//! selector `t` as a string constant.

use frule_lang::ast::{
    self, CmpOp, Expr, ExprKind, FieldRef, Literal, Operand, Span, Transform, TransformArg,
    Transformer, Value,
};
use frule_lang::check::{self, parse_constant};
use frule_lang::fields::{self, FieldType};

use crate::abi::{FieldArg, IpNet, MultiValue, ScalarKind};
use crate::ir::{
    self, Cmp, Constant, FieldDecl, Inst, ListRhs, Modifier, SetDecl, TransformOp, Ty, ValueId,
};

/// Why a condition could not be lowered, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowerError {
    /// What is wrong, lowercase.
    pub message: String,
    /// The node it is about.
    pub span: Span,
}

/// Lowers conditions into one [`ir::Program`], sharing identical subexpressions between them.
#[derive(Debug, Default)]
pub struct Lowerer {
    program: ir::Program,
    interner: ir::Interner,
    errors: Vec<LowerError>,
}

/// The IR kind of values of a schema type (matching what `parse_constant` produces for it).
pub fn scalar_kind(ty: FieldType) -> ScalarKind {
    use FieldType as T;
    match ty {
        T::Int8
        | T::Int16
        | T::Int32
        | T::Int64
        | T::Fd
        | T::Errno
        | T::Pid
        | T::Pid32
        | T::SyscallId
        | T::SigType => ScalarKind::Int,
        T::Uint8
        | T::Uint16
        | T::Uint32
        | T::Uint64
        | T::Flags8
        | T::Flags16
        | T::Flags32
        | T::EnumFlags8
        | T::EnumFlags16
        | T::EnumFlags32
        | T::L4Proto
        | T::Mode
        | T::Uid
        | T::Gid
        | T::RelTime
        | T::AbsTime
        | T::Port => ScalarKind::Uint,
        T::Double => ScalarKind::Double,
        T::Bool => ScalarKind::Bool,
        T::CharBuf | T::FsPath | T::FsRelPath | T::SockFamily => ScalarKind::Str,
        T::IpAddr | T::Ipv4Addr | T::Ipv6Addr => ScalarKind::Ip,
        T::IpNet | T::Ipv4Net | T::Ipv6Net => ScalarKind::Net,
        T::ByteBuf
        | T::SigSet
        | T::SockAddr
        | T::SockTuple
        | T::FdList
        | T::CharBufArray
        | T::CharBufPairArray
        | T::Dyn => ScalarKind::Bytes,
    }
}

fn constant(c: check::Constant) -> Constant {
    match c {
        check::Constant::Int(x) => Constant::Int(x),
        check::Constant::Uint(x) => Constant::Uint(x),
        check::Constant::Double(x) => Constant::Double(x),
        check::Constant::Bool(x) => Constant::Bool(x),
        check::Constant::Str(x) => Constant::Str(x),
        check::Constant::Bytes(x) => Constant::Bytes(x),
        check::Constant::Ip(x) => Constant::Ip(x),
        check::Constant::Net(n) => Constant::Net(IpNet {
            addr: n.addr,
            prefix: n.prefix,
        }),
    }
}

fn cmp_of(op: CmpOp) -> Option<Cmp> {
    Some(match op {
        CmpOp::Eq | CmpOp::EqEq => Cmp::Eq,
        CmpOp::Ne => Cmp::Ne,
        CmpOp::Lt => Cmp::Lt,
        CmpOp::Le => Cmp::Le,
        CmpOp::Gt => Cmp::Gt,
        CmpOp::Ge => Cmp::Ge,
        CmpOp::Contains => Cmp::Contains,
        CmpOp::IContains => Cmp::IContains,
        CmpOp::BContains => Cmp::BContains,
        CmpOp::StartsWith => Cmp::StartsWith,
        CmpOp::BStartsWith => Cmp::BStartsWith,
        CmpOp::EndsWith => Cmp::EndsWith,
        CmpOp::Glob => Cmp::Glob,
        CmpOp::IGlob => Cmp::IGlob,
        CmpOp::Exists | CmpOp::PMatch | CmpOp::In | CmpOp::Intersects | CmpOp::Regex => {
            return None;
        }
    })
}

fn modifier_of(m: ast::Modifier) -> Modifier {
    match m {
        ast::Modifier::OneOf => Modifier::OneOf,
        ast::Modifier::AnyOf => Modifier::AnyOf,
        ast::Modifier::AllOf => Modifier::AllOf,
    }
}

/// A lowered data operand with its schema type after transformers.
#[derive(Clone, Copy)]
struct Typed {
    value: ValueId,
    ty: FieldType,
    list: bool,
}

impl Lowerer {
    /// A lowerer with an empty program.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lowers one rule's condition and adds the rule; on failure nothing is added for the rule (values
    /// already interned stay, unused).
    pub fn add_rule(&mut self, name: &str, expr: &Expr) -> Result<ValueId, Vec<LowerError>> {
        let v = self.condition(expr)?;
        self.program.add_rule(name, v);
        Ok(v)
    }

    /// Lowers a condition without adding a rule.
    pub fn condition(&mut self, expr: &Expr) -> Result<ValueId, Vec<LowerError>> {
        self.errors.clear();
        match self.expr(expr) {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => {
                let mut errs = std::mem::take(&mut self.errors);
                if errs.is_empty() {
                    errs.push(LowerError {
                        message: "condition could not be lowered".into(),
                        span: expr.span,
                    });
                }
                Err(errs)
            }
        }
    }

    /// The program built so far.
    pub fn program(&self) -> &ir::Program {
        &self.program
    }

    /// Ends lowering and returns the program.
    pub fn finish(self) -> ir::Program {
        self.program
    }

    fn fail<T>(&mut self, message: impl Into<String>, span: Span) -> Option<T> {
        self.errors.push(LowerError {
            message: message.into(),
            span,
        });
        None
    }

    /// Appends `inst`, or returns the value of an identical earlier instruction.
    fn inst(&mut self, inst: Inst) -> ValueId {
        self.interner.inst(&mut self.program, inst)
    }

    /// Adds a set, or returns an identical earlier one (so identical `in` checks share a value).
    fn intern_set(&mut self, decl: SetDecl) -> ir::SetId {
        self.interner.set(&mut self.program, decl)
    }

    fn expr(&mut self, e: &Expr) -> Option<ValueId> {
        match &e.kind {
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                let mut vs = Vec::with_capacity(xs.len());
                for x in xs {
                    vs.push(self.expr(x));
                }
                let vs: Option<Vec<ValueId>> = vs.into_iter().collect();
                let vs = vs?;
                if vs.is_empty() {
                    return self.fail("empty connective", e.span);
                }
                Some(self.inst(if matches!(e.kind, ExprKind::And(_)) {
                    Inst::And(vs)
                } else {
                    Inst::Or(vs)
                }))
            }
            ExprKind::Not(x) => {
                let v = self.expr(x)?;
                Some(self.inst(Inst::Not(v)))
            }
            ExprKind::Macro(name) => self.fail(
                format!("undefined macro '{name}' left in the condition"),
                e.span,
            ),
            ExprKind::Check(c) => self.check(c),
        }
    }

    fn field(&mut self, f: &FieldRef) -> Option<Typed> {
        let r = match fields::resolve(&f.name, f.arg.as_deref()) {
            Ok(r) => r,
            Err(m) => return self.fail(m, f.span),
        };
        let info = r.info();
        let arg = match r.arg {
            fields::FieldArg::None => None,
            fields::FieldArg::Index(i) => Some(FieldArg::Index(i)),
            fields::FieldArg::Key(k) => Some(FieldArg::Key(k)),
        };
        let list = info.flags.list;
        // `proc.aname[2]` is one ancestor; only the argument-less form stands for several values.
        let multi = if arg.is_none() && !list {
            info.flags.multi
        } else {
            MultiValue::Single
        };
        let slot = self.interner.field(
            &mut self.program,
            FieldDecl {
                id: r.id,
                name: f.name.clone(),
                arg,
                ty: Ty {
                    kind: scalar_kind(info.ty),
                    list,
                },
                multi,
            },
        );
        Some(Typed {
            value: self.inst(Inst::Load(slot)),
            ty: info.ty,
            list,
        })
    }

    fn operand(&mut self, op: &Operand) -> Option<Typed> {
        match op {
            Operand::Field(f) => self.field(f),
            Operand::Transform(t) => self.transform(t),
        }
    }

    fn str_const(&mut self, lit: &Literal) -> Typed {
        let value = self.inst(Inst::Const(Constant::Str(lit.bytes.clone())));
        Typed {
            value,
            ty: FieldType::CharBuf,
            list: false,
        }
    }

    fn transform_arg(&mut self, a: &TransformArg) -> Option<Vec<Typed>> {
        match a {
            TransformArg::Operand(o) => Some(vec![self.operand(o)?]),
            TransformArg::Literal(l) => Some(vec![self.str_const(l)]),
            TransformArg::List(items, _) => {
                let mut out = Vec::new();
                for i in items {
                    out.extend(self.transform_arg(i)?);
                }
                Some(out)
            }
        }
    }

    fn transform(&mut self, t: &Transform) -> Option<Typed> {
        if t.arg.is_some() && t.transformer != Transformer::Getopt {
            return self.fail(
                format!(
                    "transformer '{}' does not support field arguments",
                    t.transformer
                ),
                t.span,
            );
        }
        let single = |t: Transformer| match t {
            Transformer::ToLower => Some(TransformOp::ToLower),
            Transformer::ToUpper => Some(TransformOp::ToUpper),
            Transformer::B64 => Some(TransformOp::B64),
            Transformer::Basename => Some(TransformOp::Basename),
            Transformer::Len => Some(TransformOp::Len),
            _ => None,
        };
        if let Some(op) = single(t.transformer) {
            let [TransformArg::Operand(inner)] = t.args.as_slice() else {
                return self.fail(
                    format!("'{}' takes exactly one field or transformer", t.transformer),
                    t.span,
                );
            };
            let a = self.operand(inner)?;
            let Some((ty, list)) = check::transform_type(t.transformer, a.ty, a.list) else {
                return self.fail(
                    format!(
                        "type '{}' is not supported by '{}' transformer",
                        a.ty, t.transformer
                    ),
                    t.span,
                );
            };
            let value = self.inst(Inst::Transform(op, vec![a.value]));
            return Some(Typed { value, ty, list });
        }
        let mut args = Vec::new();
        for a in &t.args {
            args.extend(self.transform_arg(a)?);
        }
        if t.transformer == Transformer::Getopt {
            // `getopt(args, optstring)[t]`: the selector becomes a third, constant argument.
            let list = t.arg.is_none();
            if let Some(sel) = &t.arg {
                let v = self.inst(Inst::Const(Constant::Str(sel.as_bytes().to_vec())));
                args.push(Typed {
                    value: v,
                    ty: FieldType::CharBuf,
                    list: false,
                });
            }
            let value = self.inst(Inst::Transform(
                TransformOp::Getopt,
                args.iter().map(|a| a.value).collect(),
            ));
            return Some(Typed {
                value,
                ty: FieldType::CharBuf,
                list,
            });
        }
        let op = match t.transformer {
            Transformer::Concat => TransformOp::Concat,
            Transformer::Join => TransformOp::Join,
            other => {
                return self.fail(
                    format!("transformer '{other}' is not supported by the IR yet"),
                    t.span,
                );
            }
        };
        let value = self.inst(Inst::Transform(op, args.iter().map(|a| a.value).collect()));
        Some(Typed {
            value,
            ty: FieldType::CharBuf,
            list: false,
        })
    }

    /// The right side as a data value (`val(f)` or a transformer), if it is one.
    fn rhs_value(&mut self, v: &Value) -> Option<Option<Typed>> {
        match v {
            Value::Field(f, _) => Some(Some(self.field(f)?)),
            Value::Transform(t) => Some(Some(self.transform(t)?)),
            Value::ValWithArg(_, _, s) => {
                self.fail("transformer 'val' does not support field arguments", *s)
            }
            _ => Some(None),
        }
    }

    fn set(&mut self, lhs: &Typed, op: CmpOp, v: &Value) -> Option<ir::SetId> {
        let items: Vec<(&[u8], Span)> = match v {
            Value::List(items, _) => items.iter().map(|l| (l.bytes.as_slice(), l.span)).collect(),
            Value::ListRef(name, s) => vec![(name.as_bytes(), *s)],
            Value::Literal(l) => vec![(l.bytes.as_slice(), l.span)],
            other => return self.fail("expected a list of constants", other.span()),
        };
        let mut out = Vec::with_capacity(items.len());
        for (bytes, span) in items {
            match check::parse_constant_bytes(lhs.ty, op, bytes) {
                Ok(c) => out.push(constant(c)),
                Err(m) => return self.fail(m, span),
            }
        }
        let kind = out
            .first()
            .map_or_else(|| scalar_kind(lhs.ty), Constant::kind);
        Some(self.intern_set(SetDecl { kind, items: out }))
    }

    fn check(&mut self, c: &ast::Check) -> Option<ValueId> {
        let lhs = self.operand(&c.lhs)?;
        let Some(rhs) = &c.rhs else {
            return if c.op == CmpOp::Exists {
                Some(self.inst(Inst::Exists(lhs.value)))
            } else {
                self.fail(format!("'{}' needs a right-hand side", c.op), c.op_span)
            };
        };
        let rhs_value = self.rhs_value(rhs)?;
        let inst = match (c.op, c.modifier) {
            (CmpOp::In | CmpOp::Intersects, _) => {
                let r = match rhs_value {
                    Some(r) => ListRhs::Value(r.value),
                    None => ListRhs::Set(self.set(&lhs, c.op, rhs)?),
                };
                if c.op == CmpOp::In {
                    Inst::In(lhs.value, r)
                } else {
                    Inst::Intersects(lhs.value, r)
                }
            }
            (CmpOp::PMatch, _) => {
                if rhs_value.is_some() {
                    return self.fail(
                        "operator 'PMATCH' doesn't support right-hand side fields",
                        rhs.span(),
                    );
                }
                Inst::PMatch(lhs.value, self.set(&lhs, c.op, rhs)?)
            }
            (CmpOp::Regex, Some(m)) => {
                let items: Vec<(&[u8], Span)> = match rhs {
                    Value::List(items, _) => {
                        items.iter().map(|l| (l.bytes.as_slice(), l.span)).collect()
                    }
                    Value::ListRef(name, s) => vec![(name.as_bytes(), *s)],
                    other => return self.fail("expected a list of patterns", other.span()),
                };
                let mut res = Vec::with_capacity(items.len());
                for (bytes, span) in items {
                    let Ok(pattern) = String::from_utf8(bytes.to_vec()) else {
                        return self.fail("invalid regex pattern: invalid UTF-8", span);
                    };
                    res.push(self.program.regex(pattern));
                }
                Inst::RegexModified(modifier_of(m), lhs.value, res)
            }
            (CmpOp::Regex, None) => {
                let Value::Literal(l) = rhs else {
                    return self.fail(
                        "operator 'REGEX' doesn't support right-hand side fields",
                        rhs.span(),
                    );
                };
                let Ok(pattern) = String::from_utf8(l.bytes.clone()) else {
                    return self.fail("invalid regex pattern: invalid UTF-8", l.span);
                };
                let r = self.program.regex(pattern);
                Inst::Regex(lhs.value, r)
            }
            (op, Some(m)) => {
                let Some(cmp) = cmp_of(op) else {
                    return self.fail(format!("'{op}' cannot take a modifier"), c.op_span);
                };
                Inst::Modified(modifier_of(m), cmp, lhs.value, self.set(&lhs, op, rhs)?)
            }
            (op, None) => {
                let Some(cmp) = cmp_of(op) else {
                    return self.fail(format!("unsupported operator '{op}'"), c.op_span);
                };
                let r = match (rhs_value, rhs) {
                    (Some(r), _) => r.value,
                    (None, Value::Literal(l)) => match parse_constant(lhs.ty, op, l) {
                        Ok(k) => self.inst(Inst::Const(constant(k))),
                        Err(m) => return self.fail(m, l.span),
                    },
                    (None, other) => {
                        return self.fail(format!("'{op}' takes a single value"), other.span());
                    }
                };
                Inst::Cmp(cmp, lhs.value, r)
            }
        };
        Some(self.inst(inst))
    }
}
