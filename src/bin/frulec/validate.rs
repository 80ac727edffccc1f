//! `frulec validate` (being written).

use crate::{Format, Outcome};

/// Arguments of `frulec validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Runs the command.
pub fn run(args: &Args) -> Outcome {
    let _ = args.format;
    eprintln!("frulec validate: not implemented yet");
    Outcome::Error
}
