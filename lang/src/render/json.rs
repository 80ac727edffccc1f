//! Falco's `falco_load_results` JSON (`rule_loader::result::as_json`).
//!
//! Shape per file: `{"name", "successful", "errors": [...], "warnings": [...]}`; each entry is
//! `{"code", "codedesc", "message", "context": {"locations": [{"item_type", "item_name",
//! "position": {"name", "line", "column", "offset"}}], "snippet"}}` with Falco's 0-based marks. One key is ours
//! and extra: `"frule"` with our exact 1-based `file`/`line`/`column`/`end_line`/`end_column`, and when there
//! are any, `help`, `macros` (the macros the problem is inside, outermost first) and `notes` (e.g. where a
//! substituted list is defined), so tools that know Falco's shape keep working and tools that want exact
//! positions can have them.

use serde_json::{Value, json};

use super::{falco_snippet, file_diagnostics};
use crate::diagnostic::Diagnostic;
use crate::loader::LoadResult;
use crate::source::SourceMap;

/// Falco's snippet width.
const SNIPPET_WIDTH: usize = 160;

fn entry(sm: &SourceMap, d: &Diagnostic) -> Value {
    let locations: Vec<Value> = d
        .context
        .iter()
        .map(|c| {
            json!({
                "item_type": c.item_type,
                "item_name": c.item_name,
                "position": {
                    "name": c.position_name,
                    "line": c.line,
                    "column": c.column,
                    "offset": c.offset,
                }
            })
        })
        .collect();
    let snippet = match (d.context.last(), &d.alt_content) {
        (Some(last), Some(alt)) if last.item_type == "condition expression" => falco_snippet(
            alt,
            last.offset
                .saturating_sub(d.context.iter().rev().nth(1).map_or(0, |p| p.offset))
                as usize,
            SNIPPET_WIDTH,
        ),
        (Some(last), _) => {
            let content = d
                .file
                .and_then(|f| sm.file(f))
                .map_or("", |f| f.text.as_str());
            falco_snippet(content, last.offset as usize, SNIPPET_WIDTH)
        }
        (None, _) => "<No context available>\n".to_string(),
    };
    let mut v = json!({
        "context": { "locations": locations, "snippet": snippet },
        "code": d.code.as_str(),
        "codedesc": d.code.description(),
        "message": d.message,
    });
    if let Some(p) = d.primary {
        let lc = sm.line_col(p.file, p.start);
        let end = sm.line_col(p.file, p.end);
        let mut ours = json!({
            "file": sm.file_name(p.file),
            "line": lc.line,
            "column": lc.col,
            "end_line": end.line,
            "end_column": end.col,
        });
        if let Some(h) = &d.help {
            ours["help"] = json!(h);
        }
        let located = |l: &crate::diagnostic::Label| {
            let lc = sm.line_col(l.span.file, l.span.start);
            json!({"message": l.message, "file": sm.file_name(l.span.file), "line": lc.line, "column": lc.col})
        };
        if !d.chain.is_empty() {
            ours["macros"] = json!(d.chain.iter().map(located).collect::<Vec<_>>());
        }
        if !d.labels.is_empty() {
            ours["notes"] = json!(d.labels.iter().map(located).collect::<Vec<_>>());
        }
        v["frule"] = ours;
    }
    v
}

/// The `falco_load_results` document for a load.
pub fn render(result: &LoadResult) -> Value {
    let sm = &result.source_map;
    let files: Vec<Value> = sm
        .files()
        .map(|(id, f)| {
            let (errors, warnings) = file_diagnostics(result, id);
            json!({
                "name": f.name,
                "successful": errors.is_empty(),
                "errors": errors.iter().map(|d| entry(sm, d)).collect::<Vec<_>>(),
                "warnings": warnings.iter().map(|d| entry(sm, d)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "falco_load_results": files })
}
