//! `frulec profile`: learn a whitelisting profile of one workload from a capture (see [`frule::profile`]).
//!
//! `--list` prints the containers of the capture (to choose `--container-image`). Otherwise the profile is
//! written to `-o FILE` (or stdout) and checked with the loader before it is written: a profile that would
//! not validate is an internal error (exit 2), never a silently broken file.
//! Exit codes: 0 = written, 1 = the selection matches nothing in the capture, 2 = unreadable capture, usage or
//! internal error.

use std::path::PathBuf;

use frule::lang::loader::{self, RulesFile};
use frule::profile::{self, ProfileError, Workload};

use crate::Outcome;

/// Arguments of `frulec profile`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("workload").args(["container_image", "proc_name", "list"]).required(true)))]
pub struct Args {
    /// The capture to learn from (.scap, gzip or not): recorded by `frule-monitor --write`, sysdig or Falco.
    #[arg(long = "from", value_name = "CAPTURE")]
    pub from: PathBuf,
    /// Profile the containers whose image repository (or `repo:tag`) matches this wildcard (`*`, `?`).
    #[arg(long, value_name = "PATTERN")]
    pub container_image: Option<String>,
    /// Profile the processes with this name and everything they started.
    #[arg(long, value_name = "NAME")]
    pub proc_name: Option<String>,
    /// List the containers of the capture instead of learning.
    #[arg(long)]
    pub list: bool,
    /// The prefix of the profile's list, macro and rule names (default: from the pattern or process name).
    #[arg(long)]
    pub name: Option<String>,
    /// Write the profile to this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: &Args) -> Outcome {
    if args.list {
        return match profile::containers(&args.from) {
            Ok(cs) => {
                if cs.is_empty() {
                    println!("no container in {}", args.from.display());
                }
                for c in cs {
                    println!("{}", c.describe());
                }
                Outcome::Ok
            }
            Err(e) => fail(&e),
        };
    }
    let (workload, selector) = match (&args.container_image, &args.proc_name) {
        (Some(p), None) => (Workload::ContainerImage(p.clone()), p),
        (None, Some(n)) => (Workload::ProcName(n.clone()), n),
        _ => {
            eprintln!("frulec profile: give --container-image or --proc-name");
            return Outcome::Error;
        }
    };
    let name = match &args.name {
        Some(n) => {
            let clean = profile::profile_name(n);
            if &clean != n {
                eprintln!(
                    "frulec profile: --name must be lowercase letters, digits and `_` (e.g. {clean})"
                );
                return Outcome::Error;
            }
            clean
        }
        None => profile::profile_name(selector),
    };
    let learned = match profile::learn(&args.from, &workload) {
        Ok(l) => l,
        Err(e) => return fail(&e),
    };
    let yaml = learned.to_rules_yaml(&name);
    let file_name = args
        .output
        .as_ref()
        .map_or_else(|| "<stdout>".to_string(), |p| p.display().to_string());
    let check = loader::load(&[RulesFile::new(file_name.clone(), yaml.as_bytes())]);
    if !check.is_ok() {
        eprintln!("frulec profile: internal error, the learned profile does not validate:");
        eprint!("{}", frule::lang::render::text::render(&check));
        return Outcome::Error;
    }
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &yaml) {
                eprintln!("frulec profile: cannot write {}: {e}", path.display());
                return Outcome::Error;
            }
            eprintln!(
                "frulec profile: {} of {} events; {} processes, {} inbound ports, {} peers, {} files written, {} read, {} syscalls → {}",
                learned.events_workload,
                learned.events_total,
                learned.processes.len(),
                learned.inbound_ports.len(),
                learned.outbound_addresses.len(),
                learned.written.len(),
                learned.read.len(),
                learned.syscalls.len(),
                path.display()
            );
        }
        None => print!("{yaml}"),
    }
    Outcome::Ok
}

fn fail(e: &ProfileError) -> Outcome {
    eprintln!("frulec profile: {e}");
    match e {
        ProfileError::Replay(_) => Outcome::Error,
        ProfileError::NoMatch { .. } | ProfileError::NoEvents(_) => Outcome::Invalid,
    }
}
