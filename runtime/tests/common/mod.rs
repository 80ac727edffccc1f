//! Helpers shared by the runtime's integration tests: where the corpus is, its captures, and reading
//! the YAML case files.
//!
//! The corpus is read in place from `FRULE_CORPUS` (default `../shared/corpus` beside the workspace); a
//! test that needs it and does not find it prints why and passes.

#![allow(dead_code, reason = "each test file uses a subset")]

use std::path::{Path, PathBuf};

/// The corpus directory, whether or not it exists.
pub fn corpus_root() -> PathBuf {
    std::env::var_os("FRULE_CORPUS").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus")),
        PathBuf::from,
    )
}

/// The corpus directory when it holds `part` (`scap`, `rules`, `falco-regression`); otherwise `None`,
/// after printing why the test skips.
pub fn corpus_with(part: &str) -> Option<PathBuf> {
    let dir = corpus_root();
    if dir.join(part).is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: corpus not found at {} (no {part}/; set FRULE_CORPUS)",
            dir.display()
        );
        None
    }
}

/// Every `.scap` file under `dir`, sorted.
pub fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "scap") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The strings of a YAML case's list value (missing, or not a list: none).
pub fn strings(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
