//! The file-test driver shared by the `.frir` suites (`tests/ir.rs`, `tests/opt.rs`): every `.frir` file of
//! a data directory is run, and all failures are reported together with their file names.

use std::path::{Path, PathBuf};

/// The `.frir` files of `tests/data/<dir>`, sorted.
pub fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "frir"))
        .collect();
    files.sort();
    files
}

/// Runs `run` on every file of `tests/data/<dir>` and fails with every error if any file fails (or if there
/// is no file at all).
pub fn run_all(dir: &str, what: &str, run: impl Fn(&Path) -> Result<(), String>) {
    let files = files(dir);
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = run(f) {
            failures.push(format!(
                "{}: {e}",
                f.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    println!("{} {what}", files.len());
    assert!(!files.is_empty(), "no {what} found");
    assert!(
        failures.is_empty(),
        "{} of {} files failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
