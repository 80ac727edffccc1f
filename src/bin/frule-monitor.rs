//! `frule-monitor`: watch a live host with frule's eBPF capture, or replay a capture file, and print
//! Falco-compatible alerts.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "frule-monitor: live capture and replay are not implemented yet; \
         use `frulec validate` to check rules files"
    );
    ExitCode::from(2)
}
