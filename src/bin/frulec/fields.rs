//! `frulec fields`: list the fields conditions and outputs can use, from the schema in
//! `frule_lang::fields` (the single source of truth), grouped by class like `falco --list`.

use std::io::Write;

use frule_lang::fields::{ArgKind, FIELDS, FieldClass, FieldInfo};
use serde_json::json;

use crate::{Format, Outcome};

/// Arguments of `frulec fields`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print only the field names, one per line.
    #[arg(long)]
    names: bool,
    /// Also list fields libsinsp hides from `falco --list` (table-only fields).
    #[arg(long)]
    all: bool,
    /// Only list fields whose name contains this text (e.g. `proc.` or `ip`).
    filter: Option<String>,
}

const RIGHT_BLOCK: usize = 30;
const WIDTH: usize = 120;

/// How the field is written with its argument, for the listing.
fn arg_syntax(f: &FieldInfo) -> Option<String> {
    let n = f.name;
    Some(match f.arg {
        ArgKind::None => return None,
        ArgKind::IndexRequired => format!("{n}[N] required"),
        ArgKind::IndexAllowed => format!("{n} or {n}[N]"),
        ArgKind::KeyRequired => format!("{n}[KEY] required"),
        ArgKind::KeyAllowed => format!("{n} or {n}[KEY]"),
        ArgKind::IndexOrKeyRequired => format!("{n}[N] or {n}[KEY] required"),
        ArgKind::EventArg => format!("{n}.NAME or {n}[N] required"),
        ArgKind::EventRawArg => format!("{n}.NAME required"),
        ArgKind::DottedKey if n == "evt.abspath" => format!("{n}, {n}.src or {n}.dst"),
        ArgKind::DottedKey => format!("{n}.NAME required"),
    })
}

fn tags(f: &FieldInfo) -> Vec<&'static str> {
    let mut t = Vec::new();
    if f.flags.list {
        t.push("LIST");
    }
    if f.flags.deprecated {
        t.push("DEPRECATED");
    }
    if f.flags.filter_only {
        t.push("FILTER_ONLY");
    }
    if f.flags.print_only {
        t.push("PRINT_ONLY");
    }
    if f.flags.no_rhs {
        t.push("NO_RHS");
    }
    if f.flags.no_transformer {
        t.push("NO_TRANSFORMER");
    }
    t
}

/// Word-wraps `text` into the right block, as `falco --list` does.
fn wrap(text: &str, out: &mut String) {
    let mut len = 0;
    for word in text.split_whitespace() {
        let wordlen = word.len() + 1;
        if len + wordlen > WIDTH - RIGHT_BLOCK && len > 0 {
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('\n');
            out.push_str(&" ".repeat(RIGHT_BLOCK));
            len = 0;
        }
        len += wordlen;
        out.push_str(word);
        out.push(' ');
    }
    while out.ends_with(' ') {
        out.pop();
    }
}

fn text_listing(fields: &[&FieldInfo]) -> String {
    let mut out = String::new();
    for class in FieldClass::ALL {
        let members: Vec<&&FieldInfo> = fields.iter().filter(|f| f.class == class).collect();
        if members.is_empty() {
            continue;
        }
        out.push_str("-------------------------------\n");
        let title = match class.shortdesc() {
            Some(s) => format!("{} ({s})", class.name()),
            None => class.name().to_string(),
        };
        out.push_str(&format!("{:<RIGHT_BLOCK$}{title}\n", "Field Class:"));
        out.push_str(&format!("{:<RIGHT_BLOCK$}", "Description:"));
        wrap(class.desc(), &mut out);
        out.push_str("\n\n");
        for f in members {
            if f.name.len() >= RIGHT_BLOCK {
                out.push_str(f.name);
                out.push('\n');
                out.push_str(&" ".repeat(RIGHT_BLOCK));
            } else {
                out.push_str(&format!("{:<RIGHT_BLOCK$}", f.name));
            }
            let mut desc = format!("(Type: {}) ", f.ty);
            let t = tags(f);
            if !t.is_empty() {
                desc.push_str(&format!("({}) ", t.join(",")));
            }
            desc.push_str(f.desc);
            if let Some(syntax) = arg_syntax(f) {
                desc.push_str(&format!(" [argument: {syntax}]"));
            }
            wrap(&desc, &mut out);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn json_listing(fields: &[&FieldInfo]) -> String {
    let items: Vec<serde_json::Value> = fields
        .iter()
        .map(|f| {
            let arg = if f.arg.takes_arg() {
                json!({
                    "required": f.arg.requires_arg(),
                    "index": f.arg.accepts_index(),
                    "key": f.arg.accepts_key(),
                    "syntax": arg_syntax(f),
                })
            } else {
                serde_json::Value::Null
            };
            json!({
                "name": f.name,
                "class": f.class.name(),
                "type": f.ty.name(),
                "arg": arg,
                "list": f.flags.list,
                "deprecated": f.flags.deprecated,
                "desc": f.desc,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_string());
    s.push('\n');
    s
}

/// Runs the command.
pub fn run(args: &Args) -> Outcome {
    let fields: Vec<&FieldInfo> = FIELDS
        .iter()
        .filter(|f| args.all || !f.flags.hidden)
        .filter(|f| args.filter.as_deref().is_none_or(|p| f.name.contains(p)))
        .collect();
    let text = if args.names {
        match args.format {
            Format::Json => {
                let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                format!(
                    "{}\n",
                    serde_json::to_string_pretty(&names).unwrap_or_default()
                )
            }
            Format::Text => fields.iter().map(|f| format!("{}\n", f.name)).collect(),
        }
    } else {
        match args.format {
            Format::Text => text_listing(&fields),
            Format::Json => json_listing(&fields),
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()) {
        Ok(()) => Outcome::Ok,
        // A closed pipe (`frulec fields | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Outcome::Ok,
        Err(e) => {
            eprintln!("frulec fields: {e}");
            Outcome::Error
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visible() -> Vec<&'static FieldInfo> {
        FIELDS.iter().filter(|f| !f.flags.hidden).collect()
    }

    #[test]
    fn json_lists_every_visible_field_with_its_keys() {
        let fields = visible();
        let parsed: serde_json::Value =
            serde_json::from_str(&json_listing(&fields)).unwrap_or(serde_json::Value::Null);
        let items = parsed.as_array().map(Vec::as_slice).unwrap_or_default();
        assert_eq!(items.len(), fields.len());
        for (item, f) in items.iter().zip(&fields) {
            assert_eq!(item["name"], f.name);
            assert_eq!(item["type"], f.ty.name());
            assert_eq!(item["class"], f.class.name());
            for key in ["arg", "list", "deprecated", "desc"] {
                assert!(item.get(key).is_some(), "{} lacks {key}", f.name);
            }
            assert_eq!(item["arg"].is_null(), !f.arg.takes_arg(), "{}", f.name);
        }
    }

    #[test]
    fn text_groups_by_class_and_notes_arguments() {
        let text = text_listing(&visible());
        assert_eq!(text.matches("Field Class:").count(), FieldClass::ALL.len());
        assert!(text.contains("Field Class:                  evt (Syscall events only)"));
        assert!(text.contains("[argument: proc.aname or proc.aname[N]]"));
        assert!(text.lines().all(|l| !l.ends_with(' ')), "trailing blanks");
        for f in visible() {
            assert!(
                text.lines()
                    .any(|l| l.split_whitespace().next() == Some(f.name)),
                "{} not listed",
                f.name
            );
        }
    }
}
