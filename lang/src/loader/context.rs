//! Falco's location chains (`rule_loader::context`) and the helpers that turn them into diagnostics.
//!
//! A [`Ctx`] is the chain `rules content` → `rule 'x'` → `value for 'priority'` … with yaml-cpp style 0-based
//! marks, plus the exact span of the innermost node (our primary location). Cloning is cheap enough: chains are
//! at most a handful of entries.

use crate::diagnostic::{Code, ContextItem, Diagnostic};
use crate::source::{FileId, FileSpan};

use super::yaml::Node;

/// A location chain ending at one node.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The file.
    pub file: FileId,
    /// The file's name (used as position name).
    pub file_name: String,
    /// Falco's chain.
    pub items: Vec<ContextItem>,
    /// Exact span of the innermost node.
    pub span: FileSpan,
}

impl Ctx {
    /// The root context of a file: `rules content` at 0:0.
    pub fn root(file: FileId, file_name: &str) -> Self {
        Self {
            file,
            file_name: file_name.to_string(),
            items: vec![ContextItem {
                item_type: "rules content",
                item_name: String::new(),
                position_name: file_name.to_string(),
                line: 0,
                column: 0,
                offset: 0,
            }],
            span: FileSpan::point(file, 0),
        }
    }

    /// A child context for `node`.
    pub fn child(&self, node: &Node, item_type: &'static str, item_name: &str) -> Self {
        let mut items = self.items.clone();
        items.push(ContextItem {
            item_type,
            item_name: item_name.to_string(),
            position_name: self.file_name.clone(),
            line: node.line0,
            column: node.col0,
            offset: node.offset,
        });
        Self {
            file: self.file,
            file_name: self.file_name.clone(),
            items,
            span: node.span(self.file),
        }
    }

    /// A child context at an explicit position (used for YAML parse errors).
    pub fn child_at(&self, item_type: &'static str, line0: u32, col0: u32, offset: u32) -> Self {
        let mut items = self.items.clone();
        items.push(ContextItem {
            item_type,
            item_name: String::new(),
            position_name: self.file_name.clone(),
            line: line0,
            column: col0,
            offset,
        });
        Self {
            file: self.file,
            file_name: self.file_name.clone(),
            items,
            span: FileSpan::point(self.file, offset),
        }
    }

    /// A diagnostic located at this context.
    pub fn diag(&self, code: Code, message: impl Into<String>) -> Diagnostic {
        let mut d = Diagnostic::new(code, message).at(self.span);
        d.context = self.items.clone();
        d
    }
}

/// Falco's name for a condition text in a `condition expression` entry: quoted, cut to 17 characters and
/// `...` when longer than 20, line breaks shown as spaces.
pub fn condition_name(condition: &str) -> String {
    let cut = if condition.len() > 20 {
        let mut end = 17;
        while !condition.is_char_boundary(end) {
            end -= 1;
        }
        format!("\"{}...\"", &condition[..end])
    } else {
        format!("\"{condition}\"")
    };
    cut.replace(['\n', '\r'], " ")
}

/// Appends a `condition expression` entry the way Falco computes it: the parser's 1-based position added
/// to the parent's 0-based mark.
pub fn with_condition_expression(
    ctx: &Ctx,
    condition: &str,
    offset: u32,
    line: u32,
    col: u32,
) -> Vec<ContextItem> {
    let mut items = ctx.items.clone();
    let (pl, pc, po) = items
        .last()
        .map_or((0, 0, 0), |l| (l.line, l.column, l.offset));
    items.push(ContextItem {
        item_type: "condition expression",
        item_name: String::new(),
        position_name: condition_name(condition),
        line: pl + line,
        column: pc + col,
        offset: po + offset,
    });
    items
}
