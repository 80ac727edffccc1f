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
    let mut unreadable = false;
    for path in &args.files {
        match std::fs::read(path) {
            Ok(content) => files.push(RulesFile::new(path.display().to_string(), content)),
            Err(e) => {
                eprintln!("frulec validate: cannot read {}: {e}", path.display());
                unreadable = true;
            }
        }
    }
    let result = loader::load(&files);
    match args.format {
        Format::Text => print!("{}", render::text::render(&result)),
        Format::Json => {
            let doc = render::json::render(&result);
            match serde_json::to_string_pretty(&doc) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("frulec validate: cannot serialize the results: {e}");
                    return Outcome::Error;
                }
            }
        }
    }
    if unreadable {
        Outcome::Error
    } else if result.is_ok() {
        Outcome::Ok
    } else {
        Outcome::Invalid
    }
}
