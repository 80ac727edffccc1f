//! `frulec parse`: parse one condition exactly as libsinsp does and show its tree.
//!
//! Syntax only: every dotted name is a field, every bare identifier a macro (or, after a list operator, a list
//! name); nothing is resolved against a ruleset or the field schema. The text output is the canonical form
//! Falco prints as `condition_compiled` (optionally followed by an indented tree with positions); the JSON
//! output is the structured tree with node kinds, operators, fields, values and `span`/`line`/`col` of every
//! node. A condition that does not parse is reported as `<line>:<col>: <message>` with the condition line and a
//! caret (exit 1); an empty condition is a usage error (exit 2).

use std::io::Write;

use frule_lang::ast::{
    Expr, ExprKind, FieldRef, Literal, LiteralKind, Operand, Span, Transform, TransformArg, Value,
};
use frule_lang::parser::{DEFAULT_MAX_DEPTH, LineIndex, ParseError, parse_condition_with_depth};
use frule_lang::print::condition_to_bytes;
use serde_json::{Map, Value as Json, json};

use crate::{Format, Outcome};

/// Arguments of `frulec parse`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The condition to parse, e.g. 'evt.type = open and proc.name in (cat, vi)'.
    condition: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// With the text format, also print the tree, one node per line with its position.
    #[arg(long)]
    tree: bool,
    /// Recursion limit of the parser (Falco uses 1000 for rule and macro conditions, libsinsp defaults to 100).
    #[arg(long, default_value_t = DEFAULT_MAX_DEPTH)]
    max_depth: u32,
}

/// Runs the command.
pub fn run(args: &Args) -> Outcome {
    if args.condition.is_empty() {
        eprintln!("frulec parse: filter input string is empty");
        return Outcome::Error;
    }
    let index = LineIndex::new(&args.condition);
    match parse_condition_with_depth(&args.condition, args.max_depth) {
        Ok(expr) => {
            let printed = condition_to_bytes(&expr);
            let written = match args.format {
                Format::Text => {
                    let mut out = printed;
                    out.push(b'\n');
                    if args.tree {
                        out.extend_from_slice(tree_text(&expr, &index).as_bytes());
                    }
                    std::io::stdout().write_all(&out)
                }
                Format::Json => {
                    let doc = json!({
                        "condition": args.condition,
                        "normalized": String::from_utf8_lossy(&printed),
                        "tree": Tree { index: &index }.expr(&expr),
                    });
                    writeln!(std::io::stdout(), "{doc:#}")
                }
            };
            match written {
                Ok(()) => Outcome::Ok,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Outcome::Ok,
                Err(e) => {
                    eprintln!("frulec parse: {e}");
                    Outcome::Error
                }
            }
        }
        Err(err) => {
            match args.format {
                Format::Text => eprint!("{}", error_text(&args.condition, &err)),
                Format::Json => {
                    let doc = json!({
                        "condition": args.condition,
                        "error": {
                            "message": err.message,
                            "offset": err.offset,
                            "line": err.line,
                            "col": err.col,
                        },
                    });
                    println!("{doc:#}");
                }
            }
            Outcome::Invalid
        }
    }
}

/// `<line>:<col>: <message>`, the offending line of the condition and a caret under the error position.
fn error_text(condition: &str, err: &ParseError) -> String {
    let offset = (err.offset as usize).min(condition.len());
    let start = condition
        .get(..offset)
        .and_then(|s| s.rfind(['\n', '\r']))
        .map_or(0, |i| i + 1);
    let end = condition
        .get(offset..)
        .and_then(|s| s.find(['\n', '\r']))
        .map_or(condition.len(), |i| offset + i);
    let line = condition.get(start..end).unwrap_or("");
    // keep tabs so the caret lines up; every other character takes one column
    let caret: String = condition
        .get(start..offset)
        .unwrap_or("")
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!(
        "{}:{}: {}\n{line}\n{caret}^\n",
        err.line, err.col, err.message
    )
}

/// One line per node, indented by depth: `kind details  line:col start..end`.
fn tree_text(expr: &Expr, index: &LineIndex) -> String {
    let mut out = String::new();
    let mut add = |depth: usize, label: String, span: Span| {
        let (line, col) = index.line_col(span.start);
        out.push_str(&format!(
            "{}{label}  {line}:{col} {}..{}\n",
            "  ".repeat(depth),
            span.start,
            span.end
        ));
    };
    walk_text(expr, 0, &mut add);
    out
}

fn walk_text(expr: &Expr, depth: usize, add: &mut impl FnMut(usize, String, Span)) {
    match &expr.kind {
        ExprKind::And(children) | ExprKind::Or(children) => {
            let kind = if matches!(expr.kind, ExprKind::And(_)) {
                "and"
            } else {
                "or"
            };
            add(depth, kind.to_string(), expr.span);
            children.iter().for_each(|c| walk_text(c, depth + 1, add));
        }
        ExprKind::Not(child) => {
            add(depth, "not".to_string(), expr.span);
            walk_text(child, depth + 1, add);
        }
        ExprKind::Macro(name) => add(depth, format!("macro {name}"), expr.span),
        ExprKind::Check(check) => {
            let op = match check.modifier {
                Some(m) => format!("{} {m}", check.op),
                None => check.op.to_string(),
            };
            add(depth, format!("check {op}"), expr.span);
            operand_text(&check.lhs, depth + 1, add);
            match &check.rhs {
                None => {}
                Some(Value::Literal(l)) => add(depth + 1, literal_label(l), l.span),
                Some(Value::List(items, span)) => {
                    add(depth + 1, "list".to_string(), *span);
                    items
                        .iter()
                        .for_each(|l| add(depth + 2, literal_label(l), l.span));
                }
                Some(Value::ListRef(name, span)) => {
                    add(depth + 1, format!("list_ref {name}"), *span)
                }
                Some(Value::Field(f, span)) => {
                    add(depth + 1, "val".to_string(), *span);
                    add(depth + 2, field_label(f), f.span);
                }
                Some(Value::ValWithArg(f, arg, span)) => {
                    add(depth + 1, format!("val [{arg}]"), *span);
                    add(depth + 2, field_label(f), f.span);
                }
                Some(Value::Transform(t)) => transform_text(t, depth + 1, add),
            }
        }
    }
}

fn operand_text(op: &Operand, depth: usize, add: &mut impl FnMut(usize, String, Span)) {
    match op {
        Operand::Field(f) => add(depth, field_label(f), f.span),
        Operand::Transform(t) => transform_text(t, depth, add),
    }
}

fn transform_text(t: &Transform, depth: usize, add: &mut impl FnMut(usize, String, Span)) {
    let arg = t
        .arg
        .as_ref()
        .map(|a| format!(" [{a}]"))
        .unwrap_or_default();
    add(depth, format!("transformer {}{arg}", t.transformer), t.span);
    args_text(&t.args, depth + 1, add);
}

fn args_text(args: &[TransformArg], depth: usize, add: &mut impl FnMut(usize, String, Span)) {
    for a in args {
        match a {
            TransformArg::Operand(o) => operand_text(o, depth, add),
            TransformArg::Literal(l) => add(depth, literal_label(l), l.span),
            TransformArg::List(items, span) => {
                add(depth, "transformer_list".to_string(), *span);
                args_text(items, depth + 1, add);
            }
        }
    }
}

fn field_label(f: &FieldRef) -> String {
    match &f.arg {
        Some(arg) => format!("field {}[{arg:?}]", f.name),
        None => format!("field {}", f.name),
    }
}

fn literal_label(l: &Literal) -> String {
    format!("value {} {:?}", kind_name(l.kind), l.text())
}

fn kind_name(kind: LiteralKind) -> &'static str {
    match kind {
        LiteralKind::Quoted => "quoted",
        LiteralKind::Bare => "bare",
        LiteralKind::Number => "number",
    }
}

/// Builds the JSON tree; every node carries its `span` and the 1-based `line`/`col` of its start.
struct Tree<'a> {
    index: &'a LineIndex,
}

impl Tree<'_> {
    fn node(&self, kind: &str, span: Span, fields: Json) -> Json {
        let (line, col) = self.index.line_col(span.start);
        let mut map = Map::new();
        map.insert("kind".into(), json!(kind));
        if let Json::Object(extra) = fields {
            map.extend(extra);
        }
        map.insert(
            "span".into(),
            json!({ "start": span.start, "end": span.end }),
        );
        map.insert("line".into(), json!(line));
        map.insert("col".into(), json!(col));
        Json::Object(map)
    }

    fn expr(&self, expr: &Expr) -> Json {
        match &expr.kind {
            ExprKind::And(c) => {
                let children: Vec<Json> = c.iter().map(|c| self.expr(c)).collect();
                self.node("and", expr.span, json!({ "children": children }))
            }
            ExprKind::Or(c) => {
                let children: Vec<Json> = c.iter().map(|c| self.expr(c)).collect();
                self.node("or", expr.span, json!({ "children": children }))
            }
            ExprKind::Not(c) => self.node("not", expr.span, json!({ "child": self.expr(c) })),
            ExprKind::Macro(name) => self.node("macro", expr.span, json!({ "name": name })),
            ExprKind::Check(check) => {
                let rhs = check.rhs.as_ref().map(|v| self.value(v));
                self.node(
                    "check",
                    expr.span,
                    json!({
                        "op": check.op.as_str(),
                        "modifier": check.modifier.map(|m| m.as_str()),
                        "op_span": { "start": check.op_span.start, "end": check.op_span.end },
                        "lhs": self.operand(&check.lhs),
                        "rhs": rhs,
                    }),
                )
            }
        }
    }

    fn operand(&self, op: &Operand) -> Json {
        match op {
            Operand::Field(f) => self.field(f),
            Operand::Transform(t) => self.transform(t),
        }
    }

    fn field(&self, f: &FieldRef) -> Json {
        self.node("field", f.span, json!({ "name": f.name, "arg": f.arg }))
    }

    fn transform(&self, t: &Transform) -> Json {
        let args: Vec<Json> = t.args.iter().map(|a| self.arg(a)).collect();
        self.node(
            "transformer",
            t.span,
            json!({ "name": t.transformer.name(), "args": args, "arg": t.arg }),
        )
    }

    fn arg(&self, a: &TransformArg) -> Json {
        match a {
            TransformArg::Operand(o) => self.operand(o),
            TransformArg::Literal(l) => self.literal(l),
            TransformArg::List(items, span) => {
                let items: Vec<Json> = items.iter().map(|a| self.arg(a)).collect();
                self.node("transformer_list", *span, json!({ "items": items }))
            }
        }
    }

    fn literal(&self, l: &Literal) -> Json {
        let mut fields = json!({ "literal": kind_name(l.kind), "value": l.text() });
        if std::str::from_utf8(&l.bytes).is_err()
            && let Json::Object(m) = &mut fields
        {
            // the exact bytes, for values whose \xHH escapes are not UTF-8
            m.insert("bytes".into(), json!(l.bytes));
        }
        self.node("value", l.span, fields)
    }

    fn value(&self, v: &Value) -> Json {
        match v {
            Value::Literal(l) => self.literal(l),
            Value::List(items, span) => {
                let items: Vec<Json> = items.iter().map(|l| self.literal(l)).collect();
                self.node("list", *span, json!({ "items": items }))
            }
            Value::ListRef(name, span) => self.node("list_ref", *span, json!({ "name": name })),
            Value::Field(f, span) => {
                self.node("val", *span, json!({ "field": self.field(f), "arg": null }))
            }
            Value::ValWithArg(f, arg, span) => {
                self.node("val", *span, json!({ "field": self.field(f), "arg": arg }))
            }
            Value::Transform(t) => self.transform(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(condition: &str) -> String {
        let e =
            parse_condition_with_depth(condition, DEFAULT_MAX_DEPTH).expect_err("should not parse");
        error_text(condition, &e)
    }

    #[test]
    fn error_shows_line_and_caret() {
        assert_eq!(
            err("evt.type=open bar"),
            "1:15: unexpected token after 'open', expecting 'or', 'and'\nevt.type=open bar\n              ^\n"
        );
        // the caret keeps tabs so it lines up under the offending line, on the right line
        assert_eq!(
            err("a and\n\tb c"),
            "2:4: unexpected token after 'b', expecting 'or', 'and'\n\tb c\n\t  ^\n"
        );
        // an error at the very end points just past the text
        assert_eq!(
            err("a and"),
            "1:6: expected blank or '(' after 'and'\na and\n     ^\n"
        );
        // CR ends a line too
        assert_eq!(
            err("a\rb"),
            "2:1: unexpected token after 'a', expecting 'or', 'and'\nb\n^\n"
        );
    }

    #[test]
    fn tree_lists_every_node_with_its_position() {
        let text = "proc.name in (a, 'b') and not x";
        let expr = parse_condition_with_depth(text, DEFAULT_MAX_DEPTH).expect("parses");
        let tree = tree_text(&expr, &LineIndex::new(text));
        assert_eq!(
            tree,
            "and  1:1 0..31\n  check in  1:1 0..21\n    field proc.name  1:1 0..9\n    list  1:14 13..21\n      \
             value bare \"a\"  1:15 14..15\n      value quoted \"b\"  1:18 17..20\n  not  1:27 26..31\n    \
             macro x  1:31 30..31\n"
        );
    }

    #[test]
    fn json_nodes_carry_kind_span_line_col() {
        let text = "a.b = val(c.d)\nor getopt(x.y, \"\\xff\")[t] == oneof my_list";
        let expr = parse_condition_with_depth(text, DEFAULT_MAX_DEPTH).expect("parses");
        let json = Tree {
            index: &LineIndex::new(text),
        }
        .expr(&expr);
        assert_eq!(json["kind"], "or");
        let first = &json["children"][0];
        assert_eq!(
            (first["kind"].as_str(), first["op"].as_str()),
            (Some("check"), Some("="))
        );
        assert_eq!(first["rhs"]["kind"], "val");
        assert_eq!(first["rhs"]["field"]["name"], "c.d");
        let second = &json["children"][1];
        assert_eq!(
            (second["line"].as_u64(), second["col"].as_u64()),
            (Some(2), Some(4))
        );
        assert_eq!(second["modifier"], "oneof");
        assert_eq!(second["lhs"]["name"], "getopt");
        assert_eq!(second["lhs"]["arg"], "t");
        assert_eq!(second["lhs"]["args"][1]["bytes"], json!([255]));
        assert_eq!(second["rhs"]["kind"], "list_ref");
        assert_eq!(second["rhs"]["span"], json!({ "start": 50, "end": 57 }));
    }
}
