//! Makes a large capture for replay benchmarks by repeating the events of a capture.
//!
//! ```text
//! cargo run --release --example repeat_capture -- IN.scap OUT.scap COPIES [--keep-procinfo]
//! ```
//!
//! The output has the input's state blocks (machine, interfaces, users, processes, fds) once, then `COPIES`
//! copies of its events, each copy's timestamps shifted by the input's time span plus 1 µs so that time only
//! moves forward (events with timestamp 0, such as old `container` events, keep it). `procinfo` events
//! (periodic process snapshots, which sysdig does not print) are left out unless `--keep-procinfo` is given,
//! as in `spec/perf-anchors.md` §4.1. The file is written in the layout sysdig 0.29.3 reads
//! ([`WriterOptions::sysdig_compat`]), so `frule-monitor --replay` and `sysdig -r` see the same events.
//! `benches/replay.sh` uses it.

use std::process::ExitCode;

use frule::runtime::scap::{ScapReader, ScapWriter, WriterOptions};

/// The `procinfo` metaevent.
const PROCINFO: u16 = 234;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keep_procinfo = args.iter().any(|a| a == "--keep-procinfo");
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let (Some(input), Some(output), Some(copies)) = (pos.first(), pos.get(1), pos.get(2)) else {
        eprintln!("usage: repeat_capture IN.scap OUT.scap COPIES [--keep-procinfo]");
        return ExitCode::from(2);
    };
    let Ok(copies) = copies.parse::<u64>() else {
        eprintln!("repeat_capture: COPIES must be a number, not {copies:?}");
        return ExitCode::from(2);
    };
    match run(input, output, copies, keep_procinfo) {
        Ok((events, written)) => {
            eprintln!(
                "repeat_capture: {events} events per copy x {copies} = {written} events in {output}"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("repeat_capture: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(
    input: &str,
    output: &str,
    copies: u64,
    keep_procinfo: bool,
) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    // First pass: the time span of the events.
    let (mut first, mut last, mut per_copy) = (u64::MAX, 0u64, 0u64);
    let mut reader = ScapReader::open(input)?;
    while let Some(rec) = reader.next_event()? {
        if !keep_procinfo && rec.event.event_type() == PROCINFO {
            continue;
        }
        per_copy += 1;
        let ts = rec.event.ts();
        if ts != 0 {
            first = first.min(ts);
            last = last.max(ts);
        }
    }
    let shift = last.saturating_sub(first.min(last)) + 1_000;
    let mut writer = ScapWriter::create(output, WriterOptions::sysdig_compat())?;
    writer.write_state(ScapReader::open(input)?.state())?;
    let mut buf = Vec::new();
    let mut written = 0;
    for copy in 0..copies {
        let mut reader = ScapReader::open(input)?;
        while let Some(rec) = reader.next_event()? {
            if !keep_procinfo && rec.event.event_type() == PROCINFO {
                continue;
            }
            buf.clear();
            buf.extend_from_slice(rec.event.as_bytes());
            let ts = rec.event.ts();
            if ts != 0 && buf.len() >= 8 {
                let shifted = ts.saturating_add(copy.saturating_mul(shift));
                buf[..8].copy_from_slice(&shifted.to_le_bytes());
            }
            writer.write_event_with(&buf, rec.cpu, rec.flags)?;
            written += 1;
        }
    }
    writer.finish()?;
    Ok((per_copy, written))
}
