//! The canonical printed form of a condition: what Falco shows as `condition_compiled`.
//!
//! It is libsinsp's `ast::as_string`, reproduced byte for byte:
//!
//! - `and`/`or` nodes print as `(a and b and c)` — always parenthesised, children joined by ` and `/` or `;
//! - `not x` prints as `not ` followed by the child;
//! - checks print as `lhs op rhs` (`lhs exists`); a modifier joins the operator with one space (`== oneof`);
//! - list literals print as `(a, b)`, transformer arguments and transformer lists are joined by `,` without
//!   spaces (`getopt(proc.args,nt:)[t]`);
//! - a value is printed verbatim unless it contains backspace, form feed, newline, CR, tab, space, `=`,
//!   backslash, `"`, `'` or NUL: then it is double-quoted, with `\b \f \n \r \t \\ \"` escaped and space, `=`,
//!   `'` and NUL emitted raw. An empty value prints as nothing. Parentheses and commas are not a reason to
//!   quote, so the printed form does not always parse again (a list item `(x)` prints as `(x)`).
//!
//! Values are bytes, so the exact form is [`condition_to_bytes`]; [`condition_to_string`] replaces invalid
//! UTF-8 (only possible through `\xHH` escapes) with U+FFFD. Recursion follows the tree, whose depth the
//! parser bounds.

use crate::ast::{Check, Expr, ExprKind, FieldRef, Operand, Transform, TransformArg, Value};

/// The canonical form of a condition, as Falco prints it (invalid UTF-8 in values replaced by U+FFFD).
pub fn condition_to_string(expr: &Expr) -> String {
    String::from_utf8_lossy(&condition_to_bytes(expr)).into_owned()
}

/// The canonical form of a condition, byte for byte as libsinsp prints it.
pub fn condition_to_bytes(expr: &Expr) -> Vec<u8> {
    let mut out = Vec::new();
    print_expr(expr, &mut out);
    out
}

/// libsinsp's `escape_str`: a value as the canonical form shows it.
pub fn escape_value(value: &[u8], out: &mut Vec<u8>) {
    let needs_quotes = value.iter().any(|b| {
        matches!(
            b,
            0x08 | 0x0c | b'\n' | b'\r' | b'\t' | b' ' | b'=' | b'\\' | b'"' | b'\'' | 0
        )
    });
    if !needs_quotes {
        out.extend_from_slice(value);
        return;
    }
    out.push(b'"');
    for &b in value {
        match b {
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

fn print_expr(expr: &Expr, out: &mut Vec<u8>) {
    match &expr.kind {
        ExprKind::And(children) => print_connective(children, b" and ", out),
        ExprKind::Or(children) => print_connective(children, b" or ", out),
        ExprKind::Not(child) => {
            out.extend_from_slice(b"not ");
            print_expr(child, out);
        }
        ExprKind::Macro(name) => out.extend_from_slice(name.as_bytes()),
        ExprKind::Check(check) => print_check(check, out),
    }
}

fn print_connective(children: &[Expr], op: &[u8], out: &mut Vec<u8>) {
    out.push(b'(');
    for (i, c) in children.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(op);
        }
        print_expr(c, out);
    }
    out.push(b')');
}

fn print_check(check: &Check, out: &mut Vec<u8>) {
    print_operand(&check.lhs, out);
    out.push(b' ');
    out.extend_from_slice(check.op.as_str().as_bytes());
    if let Some(m) = check.modifier {
        out.push(b' ');
        out.extend_from_slice(m.as_str().as_bytes());
    }
    if let Some(rhs) = &check.rhs {
        out.push(b' ');
        print_value(rhs, out);
    }
}

fn print_operand(operand: &Operand, out: &mut Vec<u8>) {
    match operand {
        Operand::Field(f) => print_field(f, out),
        Operand::Transform(t) => print_transform(t, out),
    }
}

fn print_field(field: &FieldRef, out: &mut Vec<u8>) {
    out.extend_from_slice(field.name.as_bytes());
    print_arg(field.arg.as_deref(), out);
}

/// The `[arg]` suffix: `[""]` for an empty argument, otherwise the escaped value.
fn print_arg(arg: Option<&str>, out: &mut Vec<u8>) {
    match arg {
        None => {}
        Some("") => out.extend_from_slice(b"[\"\"]"),
        Some(a) => {
            out.push(b'[');
            escape_value(a.as_bytes(), out);
            out.push(b']');
        }
    }
}

fn print_transform(t: &Transform, out: &mut Vec<u8>) {
    out.extend_from_slice(t.transformer.name().as_bytes());
    out.push(b'(');
    print_transform_args(&t.args, out);
    out.push(b')');
    print_arg(t.arg.as_deref(), out);
}

fn print_transform_args(args: &[TransformArg], out: &mut Vec<u8>) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match a {
            TransformArg::Operand(o) => print_operand(o, out),
            TransformArg::Literal(l) => escape_value(&l.bytes, out),
            TransformArg::List(items, _) => {
                out.push(b'(');
                print_transform_args(items, out);
                out.push(b')');
            }
        }
    }
}

fn print_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Literal(l) => escape_value(&l.bytes, out),
        Value::List(items, _) => {
            out.push(b'(');
            for (i, l) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                escape_value(&l.bytes, out);
            }
            out.push(b')');
        }
        Value::ListRef(name, _) => escape_value(name.as_bytes(), out),
        Value::Field(f, _) => {
            out.extend_from_slice(b"val(");
            print_field(f, out);
            out.push(b')');
        }
        Value::ValWithArg(f, arg, _) => {
            out.extend_from_slice(b"val(");
            print_field(f, out);
            out.push(b')');
            print_arg(Some(arg), out);
        }
        Value::Transform(t) => print_transform(t, out),
    }
}
