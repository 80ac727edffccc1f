//! The textual form of the IR, printed.
//!
//! One item per line, declarations first, then values in id order, then rules:
//!
//! ```text
//! $0 = field 12 "proc.name" : str
//! $1 = field 40 "proc.aname" [2] : str
//! $2 = field 40 "proc.aname" : str ancestors
//! %0 = set str {"bash", "sh"}
//! ^0 = regex "syscal.*"
//! v0 = load $0  ; str
//! v1 = const.str "bash"
//! v2 = cmp.eq v0, v1
//! v3 = in v0, %0
//! v4 = oneof.eq v0, %0
//! v5 = anyof.regex v0, ^0, ^1
//! v5 = and v2, v3
//! v6 = not v5
//! rule "Terminal shell" = v6
//! ```
//!
//! Strings are byte strings: printable ASCII is written as is, `"` and `\` are escaped, every other byte
//! is `\xHH`, so invalid UTF-8 round-trips. `;` starts a comment; the printer uses comments only to show
//! the type of data values, and the parser ignores them. Printing then parsing yields an equal
//! [`Program`], and printing that again yields the same text.

use std::fmt::Write;

use super::{Constant, FieldArg, Inst, ListRhs, Program, ValueType};

/// The textual name of a multi-valued mode (`None` for single-valued fields, which print nothing).
pub fn multi_name(m: super::MultiValue) -> Option<&'static str> {
    match m {
        super::MultiValue::Single => None,
        super::MultiValue::Ancestors => Some("ancestors"),
        super::MultiValue::Endpoints => Some("endpoints"),
        super::MultiValue::Names => Some("names"),
    }
}

/// Prints `program` in the textual form.
pub fn print(program: &Program) -> String {
    let mut out = String::new();
    for (slot, d) in program.fields.iter() {
        let _ = write!(out, "{slot} = field {} ", d.id.0);
        write_str(&mut out, d.name.as_bytes());
        match &d.arg {
            Some(FieldArg::Index(i)) => {
                let _ = write!(out, " [{i}]");
            }
            Some(FieldArg::Key(k)) => {
                out.push_str(" [");
                write_str(&mut out, k.as_bytes());
                out.push(']');
            }
            None => {}
        }
        let _ = write!(out, " : {}", d.ty);
        if let Some(m) = multi_name(d.multi) {
            let _ = write!(out, " {m}");
        }
        out.push('\n');
    }
    for (id, s) in program.sets.iter() {
        let _ = write!(out, "{id} = set {} {{", s.kind);
        for (i, c) in s.items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_atom(&mut out, c);
        }
        out.push_str("}\n");
    }
    for (id, r) in program.regexes.iter() {
        let _ = write!(out, "{id} = regex ");
        write_str(&mut out, r.pattern.as_bytes());
        out.push('\n');
    }
    for (v, inst) in program.values.iter() {
        let _ = write!(out, "{v} = ");
        write_inst(&mut out, inst);
        if let (Inst::Load(_) | Inst::Transform(..), Some(ValueType::Data(ty))) =
            (inst, program.type_of(v))
        {
            let _ = write!(out, "  ; {ty}");
        }
        out.push('\n');
    }
    for r in &program.rules {
        out.push_str("rule ");
        write_str(&mut out, r.name.as_bytes());
        let _ = writeln!(out, " = {}", r.cond);
    }
    out
}

fn write_list(out: &mut String, vs: &[super::ValueId]) {
    for (i, v) in vs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{v}");
    }
}

fn write_rhs(out: &mut String, r: &ListRhs) {
    let _ = match r {
        ListRhs::Set(s) => write!(out, "{s}"),
        ListRhs::Value(v) => write!(out, "{v}"),
    };
}

fn write_inst(out: &mut String, inst: &Inst) {
    match inst {
        Inst::Load(s) => {
            let _ = write!(out, "load {s}");
        }
        Inst::Const(c) => {
            let _ = write!(out, "const.{} ", c.kind());
            write_atom(out, c);
        }
        Inst::Transform(op, args) => {
            let _ = write!(out, "{} ", op.name());
            write_list(out, args);
        }
        Inst::Exists(v) => {
            let _ = write!(out, "exists {v}");
        }
        Inst::Cmp(op, a, b) => {
            let _ = write!(out, "cmp.{} {a}, {b}", op.name());
        }
        Inst::Modified(m, op, a, s) => {
            let _ = write!(out, "{}.{} {a}, {s}", m.name(), op.name());
        }
        Inst::In(a, r) => {
            let _ = write!(out, "in {a}, ");
            write_rhs(out, r);
        }
        Inst::Intersects(a, r) => {
            let _ = write!(out, "intersects {a}, ");
            write_rhs(out, r);
        }
        Inst::PMatch(a, s) => {
            let _ = write!(out, "pmatch {a}, {s}");
        }
        Inst::Regex(a, r) => {
            let _ = write!(out, "regex {a}, {r}");
        }
        Inst::RegexModified(m, a, rs) => {
            let _ = write!(out, "{}.regex {a}", m.name());
            for r in rs {
                let _ = write!(out, ", {r}");
            }
        }
        Inst::And(vs) => {
            out.push_str("and ");
            write_list(out, vs);
        }
        Inst::Or(vs) => {
            out.push_str("or ");
            write_list(out, vs);
        }
        Inst::Not(v) => {
            let _ = write!(out, "not {v}");
        }
        Inst::Bool(b) => {
            let _ = write!(out, "cond {b}");
        }
    }
}

/// A constant as a set item or const operand: integers bare, booleans as words, the rest quoted.
fn write_atom(out: &mut String, c: &Constant) {
    match c {
        Constant::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Constant::Uint(u) => {
            let _ = write!(out, "{u}");
        }
        Constant::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Constant::Double(d) => write_str(out, format!("{d:?}").as_bytes()),
        Constant::Str(s) | Constant::Bytes(s) => write_str(out, s),
        Constant::Ip(ip) => write_str(out, ip.to_string().as_bytes()),
        Constant::Net(n) => write_str(out, n.to_string().as_bytes()),
    }
}

/// Writes a quoted byte string with the escapes the lexer understands.
pub(crate) fn write_str(out: &mut String, s: &[u8]) {
    out.push('"');
    for &b in s {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}
