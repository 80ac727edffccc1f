//! Falco's location chains (`rule_loader::context`) and the helpers that turn them into diagnostics.
//!
//! A [`Ctx`] is the chain `rules content` → `rule 'x'` → `value for 'priority'` … with yaml-cpp style 0-based
//! marks, plus the exact span of the innermost node (our primary location). The reader makes a child context
//! for almost every node it reads and most are never reported, so a chain is a shared linked list: a child
//! costs one small allocation, and the [`ContextItem`]s are only built when a diagnostic is made.

use std::sync::Arc;

use crate::diagnostic::{Code, ContextItem, Diagnostic};
use crate::source::{FileId, FileSpan};

use super::yaml::Node;

/// One entry of a chain and the entries before it.
#[derive(Debug)]
struct Link {
    parent: Option<Arc<Link>>,
    item_type: &'static str,
    item_name: String,
    line: u32,
    column: u32,
    offset: u32,
}

/// A location chain ending at one node.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The file.
    pub file: FileId,
    /// The file's name (the position name of every entry).
    file_name: Arc<str>,
    /// The innermost entry of Falco's chain.
    last: Arc<Link>,
    /// Exact span of the innermost node.
    pub span: FileSpan,
}

impl Ctx {
    /// The root context of a file: `rules content` at 0:0.
    pub fn root(file: FileId, file_name: &str) -> Self {
        Self {
            file,
            file_name: Arc::from(file_name),
            last: Arc::new(Link {
                parent: None,
                item_type: "rules content",
                item_name: String::new(),
                line: 0,
                column: 0,
                offset: 0,
            }),
            span: FileSpan::point(file, 0),
        }
    }

    /// A child context for `node`.
    pub fn child(&self, node: &Node, item_type: &'static str, item_name: &str) -> Self {
        Self {
            file: self.file,
            file_name: self.file_name.clone(),
            last: Arc::new(Link {
                parent: Some(self.last.clone()),
                item_type,
                item_name: item_name.to_string(),
                line: node.line0,
                column: node.col0,
                offset: node.offset,
            }),
            span: node.span(self.file),
        }
    }

    /// A child context at an explicit position (used for YAML parse errors).
    pub fn child_at(&self, item_type: &'static str, line0: u32, col0: u32, offset: u32) -> Self {
        Self {
            file: self.file,
            file_name: self.file_name.clone(),
            last: Arc::new(Link {
                parent: Some(self.last.clone()),
                item_type,
                item_name: String::new(),
                line: line0,
                column: col0,
                offset,
            }),
            span: FileSpan::point(self.file, offset),
        }
    }

    /// Falco's chain, outermost entry first.
    pub fn items(&self) -> Vec<ContextItem> {
        let mut links = Vec::new();
        let mut cur = Some(&self.last);
        while let Some(l) = cur {
            links.push(l);
            cur = l.parent.as_ref();
        }
        links
            .iter()
            .rev()
            .map(|l| ContextItem {
                item_type: l.item_type,
                item_name: l.item_name.clone(),
                position_name: self.file_name.to_string(),
                line: l.line,
                column: l.column,
                offset: l.offset,
            })
            .collect()
    }

    /// Type and name of the innermost entry (e.g. `("macro", "m")`).
    pub fn last_item(&self) -> (&'static str, &str) {
        (self.last.item_type, &self.last.item_name)
    }

    /// A diagnostic located at this context.
    pub fn diag(&self, code: Code, message: impl Into<String>) -> Diagnostic {
        let mut d = Diagnostic::new(code, message).at(self.span);
        d.context = self.items();
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
    let mut items = ctx.items();
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
