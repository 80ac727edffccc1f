//! `frulec`: validate Falco rules files, inspect every compilation stage, test rules offline.
//!
//! Exit codes: 0 = ok, 1 = the input is invalid, 2 = usage or I/O error.

mod compile;
mod fields;
mod parse;
mod profile;
mod test;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// frulec — the frule rules compiler: validate, inspect and test Falco rules.
#[derive(Parser, Debug)]
#[command(name = "frulec", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output formats shared by the subcommands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// JSON for machines.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load and check rules files as `falco -V` does, reporting every error and warning.
    Validate(validate::Args),
    /// Parse one condition (syntax only) and print its tree in a normalized form.
    Parse(parse::Args),
    /// List the fields conditions and outputs can use.
    Fields(fields::Args),
    /// Compile rules (or one condition) and show a stage: ast, ir, opt, evttypes, clif, asm.
    Compile(compile::Args),
    /// Run offline rule tests: events (field values or a capture) against expected alerts.
    Test(test::Args),
    /// Learn a whitelisting profile of a workload (containers of an image, or a process tree) from a capture.
    Profile(profile::Args),
}

/// What a subcommand reports back to `main`.
pub enum Outcome {
    /// Everything was fine (exit 0).
    Ok,
    /// The input was invalid (exit 1).
    Invalid,
    /// Usage or I/O error (exit 2).
    Error,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Parse(args) => parse::run(args),
        Command::Fields(args) => fields::run(args),
        Command::Compile(args) => compile::run(args),
        Command::Test(args) => test::run(args),
        Command::Profile(args) => profile::run(args),
    };
    match outcome {
        Outcome::Ok => ExitCode::SUCCESS,
        Outcome::Invalid => ExitCode::from(1),
        Outcome::Error => ExitCode::from(2),
    }
}
