//! `frulec validate`: load rules files as `falco -V` does and report every error and warning.
//!
//! Files are loaded in the order given into one ruleset (later files may append to or override earlier
//! ones, as with several `-V` options). Output is per file: `FILE: Ok` / `Ok, with warnings` / `Invalid`,
//! then the errors and warnings with exact positions (text), or Falco's `falco_load_results` (JSON).
//! Exit codes: 0 when every file is valid (warnings allowed), 1 when one is invalid, 2 when a file cannot be
//! read (the message names the file and the reason; the readable files are still validated and reported).

use std::path::PathBuf;

use frule_lang::loader::{self, RulesFile};
use frule_lang::render;

use crate::{Format, Outcome};

/// Arguments of `frulec validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Rules files, loaded in this order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs the command.
pub fn run(args: &Args) -> Outcome {
    let mut files = Vec::new();
    // Files that cannot be read are reported like Falco's LOAD_ERR_FILE_READ (after the readable files).
    let mut unreadable = Vec::new();
    for path in &args.files {
        match std::fs::read(path) {
            Ok(content) => files.push(RulesFile::new(path.display().to_string(), content)),
            Err(e) => {
                eprintln!("frulec validate: cannot read {}: {e}", path.display());
                unreadable.push((path.display().to_string(), e.to_string()));
            }
        }
    }
    let result = loader::load(&files);
    match args.format {
        Format::Text => {
            print!("{}", render::text::render(&result));
            for (name, err) in &unreadable {
                println!("{name}: Invalid\n1 Errors:");
                println!(
                    "{name}: LOAD_ERR_FILE_READ (File read error): could not read file: {err}"
                );
            }
        }
        Format::Json => {
            let mut doc = render::json::render(&result);
            if let Some(list) = doc
                .get_mut("falco_load_results")
                .and_then(|v| v.as_array_mut())
            {
                for (name, err) in &unreadable {
                    list.push(file_read_error(name, err));
                }
            }
            match serde_json::to_string_pretty(&doc) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("frulec validate: cannot serialize the results: {e}");
                    return Outcome::Error;
                }
            }
        }
    }
    if !unreadable.is_empty() {
        Outcome::Error
    } else if result.is_ok() {
        Outcome::Ok
    } else {
        Outcome::Invalid
    }
}

/// A `falco_load_results` entry for a file that could not be read.
fn file_read_error(name: &str, err: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "successful": false,
        "errors": [{
            "code": "LOAD_ERR_FILE_READ",
            "codedesc": "File read error",
            "message": format!("could not read file: {err}"),
            "context": {
                "locations": [{
                    "item_type": "rules content",
                    "item_name": "",
                    "position": {"name": name, "line": 0, "column": 0, "offset": 0}
                }],
                "snippet": "<No context available>\n"
            }
        }],
        "warnings": []
    })
}
