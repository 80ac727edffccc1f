//! Rendering diagnostics for people (text in the shape of `falco -V`) and for machines (Falco's
//! `falco_load_results` JSON).
//!
//! Both renderers work per file, like Falco: every file gets a status (`Ok`, `Ok, with warnings`,
//! `Invalid`) and the errors and warnings reported under it ([`crate::diagnostic::Diagnostic::file`]).
//! Rendering never fails and never panics: a span outside its file is clamped.

pub mod json;
pub mod text;

use crate::diagnostic::{Diagnostic, Severity};
use crate::loader::LoadResult;
use crate::source::FileId;

/// The diagnostics of one file, errors first (each group in the order found).
pub fn file_diagnostics(result: &LoadResult, file: FileId) -> (Vec<&Diagnostic>, Vec<&Diagnostic>) {
    let all: Vec<&Diagnostic> = result.diagnostics_for(file).collect();
    let errors = all
        .iter()
        .copied()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    let warnings = all
        .iter()
        .copied()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    (errors, warnings)
}

/// Falco's status word for a file.
pub fn status(errors: usize, warnings: usize) -> &'static str {
    if errors > 0 {
        "Invalid"
    } else if warnings > 0 {
        "Ok, with warnings"
    } else {
        "Ok"
    }
}

/// Falco's `context::snippet`: the line around byte `pos` of `content`, at most `width` characters wide
/// (cut with `...`), followed by a caret line.
pub fn falco_snippet(content: &str, pos: usize, width: usize) -> String {
    let b = content.as_bytes();
    if b.is_empty() {
        return "<No context available>\n".to_string();
    }
    let mut pos = pos;
    while pos > 0 && (pos >= b.len() || b.get(pos) == Some(&b'\n')) {
        pos -= 1;
    }
    let half = width / 2;
    let mut from = pos;
    while from > 0 && b.get(from) != Some(&b'\n') && (pos - from) < half {
        from -= 1;
    }
    let mut to = pos;
    while to + 1 < b.len() && b.get(to) != Some(&b'\n') && (to - pos) < half {
        to += 1;
    }
    if b.get(from) == Some(&b'\n') {
        from += 1;
    }
    if b.get(to) == Some(&b'\n') && to > 0 {
        to -= 1;
    }
    if to < from {
        return "<No context available>\n".to_string();
    }
    let mut ret = String::from_utf8_lossy(b.get(from..=to).unwrap_or(&[])).into_owned();
    if ret.is_empty() {
        return "<No context available>\n".to_string();
    }
    if pos - from >= half && ret.len() >= 3 && ret.is_char_boundary(3) {
        ret.replace_range(0..3, "...");
    }
    if to - pos >= half && ret.len() >= 3 && ret.is_char_boundary(ret.len() - 3) {
        let n = ret.len();
        ret.replace_range(n - 3..n, "...");
    }
    ret.push('\n');
    if pos - from < ret.len() {
        ret.push_str(&" ".repeat(pos - from));
        ret.push_str("^\n");
    }
    ret
}
