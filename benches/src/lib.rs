//! Shared helpers for frule's criterion benchmarks.
//!
//! Benchmarks read real rules files from the corpus beside the repository (`FRULE_CORPUS`, default
//! `../shared/corpus`); they never copy it.

use std::path::PathBuf;

/// The corpus directory: `FRULE_CORPUS`, or `../shared/corpus` next to the workspace root.
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("FRULE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus")),
    }
}

/// The three upstream maturity files in load order (stable, incubating, sandbox), read into memory, or
/// `None` (with the reason) when the corpus is absent.
pub fn upstream_rules() -> Result<Vec<(String, Vec<u8>)>, String> {
    let dir = corpus_dir().join("rules/falcosecurity-rules");
    [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ]
    .iter()
    .map(|name| {
        let path = dir.join(name);
        std::fs::read(&path)
            .map(|bytes| (path.display().to_string(), bytes))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    })
    .collect()
}
