//! Text in the shape of `falco -V`, with our exact positions.
//!
//! ```text
//! rules.yaml: Invalid
//! 1 Errors:
//! rules.yaml:3:28: LOAD_ERR_COMPILE_CONDITION (Error compiling condition): unexpected token after 'open', expecting 'or', 'and'
//!     In rule 'some rule': (rules.yaml:1:3)
//!     rule condition: (rules.yaml:3:14)
//! ------
//!   condition: evt.type=open bar
//!                            ^
//! ------
//! ```
//!
//! Differences from Falco's verbose text, on purpose: the first line of an entry is our exact
//! `file:line:col` followed by Falco's `CODE (Description): message` (Falco prints that last); chain
//! positions are 1-based; the chain ends with the macros the problem is inside (`macro 'm': (file:l:c)`);
//! the snippet is the *file* line of the exact position (Falco shows the condition text for condition
//! errors); `help:` and `note:` lines follow the snippet.

use std::fmt::Write;

use super::{file_diagnostics, status};
use crate::diagnostic::Diagnostic;
use crate::loader::LoadResult;
use crate::source::{FileSpan, SourceMap};

/// Longest snippet line shown, in characters.
const SNIPPET_WIDTH: usize = 160;

fn pos(sm: &SourceMap, s: FileSpan) -> String {
    let lc = sm.line_col(s.file, s.start);
    format!("{}:{}:{}", sm.file_name(s.file), lc.line, lc.col)
}

/// The snippet of the line containing `span`, with a caret (or `^^^` under the whole span on that line).
pub fn snippet(sm: &SourceMap, span: FileSpan) -> String {
    let Some(file) = sm.file(span.file) else {
        return String::new();
    };
    let line = file.line_text(span.start).replace('\t', " ");
    let lc = file.line_col(span.start);
    let col0 = (lc.col as usize).saturating_sub(1);
    let chars: Vec<char> = line.chars().collect();
    let end_lc = file.line_col(span.end);
    let width = if end_lc.line == lc.line && span.end > span.start {
        ((end_lc.col as usize).saturating_sub(lc.col as usize)).max(1)
    } else {
        1
    };
    // Keep the caret visible on very long lines.
    let half = SNIPPET_WIDTH / 2;
    let (from, prefix) = if col0 > half {
        (col0 - half, "...")
    } else {
        (0, "")
    };
    let to = (from + SNIPPET_WIDTH).min(chars.len());
    let suffix = if to < chars.len() { "..." } else { "" };
    let shown: String = chars.get(from..to).unwrap_or(&[]).iter().collect();
    let caret_at = prefix.len() + col0 - from;
    let width = width.min(to.saturating_sub(col0).max(1));
    format!(
        "{prefix}{shown}{suffix}\n{}{}\n",
        " ".repeat(caret_at),
        "^".repeat(width)
    )
}

/// One diagnostic.
pub fn render_diagnostic(sm: &SourceMap, d: &Diagnostic) -> String {
    let mut out = String::new();
    let where_ = d.primary.map_or_else(
        || {
            d.file
                .map_or_else(String::new, |f| sm.file_name(f).to_string())
        },
        |p| pos(sm, p),
    );
    let _ = writeln!(
        out,
        "{where_}: {} ({}): {}",
        d.code.as_str(),
        d.code.description(),
        if d.message.is_empty() {
            d.code.description()
        } else {
            &d.message
        }
    );
    // Falco's chain, 1-based, without the root and without the condition expression entry.
    let mut first = true;
    for c in d.context.iter().skip(1) {
        if c.item_type == "condition expression" {
            continue;
        }
        let name = if c.item_name.is_empty() {
            String::new()
        } else {
            format!(" '{}'", c.item_name)
        };
        let _ = writeln!(
            out,
            "    {}{}{name}: ({}:{}:{})",
            if first { "In " } else { "" },
            c.item_type,
            c.position_name,
            c.line + 1,
            c.column + 1
        );
        first = false;
    }
    for l in d.chain.iter().filter(|l| l.message.starts_with("macro ")) {
        let _ = writeln!(
            out,
            "    {}{}: ({})",
            if first { "In " } else { "" },
            l.message,
            pos(sm, l.span)
        );
        first = false;
    }
    if let Some(p) = d.primary {
        out.push_str("------\n");
        out.push_str(&snippet(sm, p));
        out.push_str("------\n");
    }
    if let Some(h) = &d.help {
        let _ = writeln!(out, "help: {h}");
    }
    for l in &d.labels {
        let _ = writeln!(out, "note: {} ({})", l.message, pos(sm, l.span));
    }
    out
}

/// The whole report: per file a status line, then `N Errors:` and `N Warnings:` blocks.
pub fn render(result: &LoadResult) -> String {
    let sm = &result.source_map;
    let mut out = String::new();
    for (id, f) in sm.files() {
        let (errors, warnings) = file_diagnostics(result, id);
        let _ = writeln!(out, "{}: {}", f.name, status(errors.len(), warnings.len()));
        if !errors.is_empty() {
            let _ = writeln!(out, "{} Errors:", errors.len());
            for d in &errors {
                out.push_str(&render_diagnostic(sm, d));
            }
        }
        if !warnings.is_empty() {
            if !errors.is_empty() {
                // Falco separates the two blocks with an empty line.
                out.push('\n');
            }
            let _ = writeln!(out, "{} Warnings:", warnings.len());
            for d in &warnings {
                out.push_str(&render_diagnostic(sm, d));
            }
        }
    }
    out
}
