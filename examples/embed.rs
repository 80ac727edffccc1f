//! Embedding frule: load rules, replay a capture (or evaluate synthetic events), print Falco's alerts.
//!
//! ```text
//! cargo run --example embed -- RULES.yaml [CAPTURE.scap]
//! ```
//!
//! With a capture, every alert is printed as Falco's JSON line and the summary follows on stderr.
//! Without one, a synthetic `execve` of `bash` is evaluated, to show the field-value API.

use std::process::ExitCode;

use frule::{Engine, OutputOptions, format_alert};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(rules) = args.first() else {
        eprintln!("usage: embed RULES.yaml [CAPTURE.scap]");
        return ExitCode::from(2);
    };
    let mut engine = match Engine::from_files(&[rules]) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let opts = OutputOptions {
        json_output: true,
        ..OutputOptions::default()
    };
    match args.get(1) {
        Some(capture) => match engine.replay(capture, |a| println!("{}", format_alert(a, &opts))) {
            Ok(stats) => {
                eprintln!("{} events, {} alerts", stats.events, stats.alerts);
                eprint!("{}", engine.summary());
            }
            Err(e) => {
                eprintln!("{capture}: {e}");
                return ExitCode::from(2);
            }
        },
        None => {
            let fields = [("proc.name", "bash"), ("proc.cmdline", "bash -i")];
            match engine.process_fields("execve", 0, &fields) {
                Ok(alerts) => {
                    for a in &alerts {
                        println!("{}", format_alert(a, &opts));
                    }
                }
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    ExitCode::SUCCESS
}
