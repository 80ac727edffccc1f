//! End-to-end test of `frule-monitor`'s live mode: the real binary on the real kernel.
//!
//! Needs root and kernel BTF (the eBPF capture); without them it prints why and returns. The
//! monitor runs with the bundled rules and `--json`; once it says it is watching, the test reads
//! `/etc/shadow` with `cat` and expects Falco's "Sensitive file read by an untrusted program"
//! alert for it, then stops the monitor with SIGTERM and checks the summary and exit code 0.
//! Every wait is bounded: when an expected line does not come, the test fails with everything it
//! saw.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

const RULE: &str = "Sensitive file read by an untrusted program";
/// Upper bounds only: the test proceeds as soon as the awaited line arrives.
const START_BOUND: Duration = Duration::from_secs(120);
const ALERT_BOUND: Duration = Duration::from_secs(60);
const EXIT_BOUND: Duration = Duration::from_secs(60);

fn lines_of(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits until a line satisfies `want`, keeping every line in `seen`; false at the bound or
/// when the stream ends.
fn wait_for(
    rx: &Receiver<String>,
    seen: &mut Vec<String>,
    bound: Duration,
    want: impl Fn(&str) -> bool,
) -> bool {
    let deadline = Instant::now() + bound;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = want(&line);
                seen.push(line);
                if hit {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
}

fn is_shadow_alert(line: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
        return false;
    };
    v["rule"] == RULE
        && v["output_fields"]["proc.name"] == "cat"
        && v["output_fields"]["fd.name"] == "/etc/shadow"
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn live_monitor_alerts_on_shadow_read() {
    let euid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    if euid != Some(0) {
        eprintln!("skipping: the live capture needs root (euid {euid:?})");
        return;
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!(
            "skipping: no kernel BTF (/sys/kernel/btf/vmlinux), the eBPF capture cannot load"
        );
        return;
    }
    if !Path::new("/etc/shadow").exists() {
        eprintln!("skipping: no /etc/shadow to read");
        return;
    }
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/frule_rules.yaml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_frule-monitor"))
        .args(["-r", rules, "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("frule-monitor starts");
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        stop(&mut child);
        panic!("frule-monitor's pipes are missing");
    };
    let out = lines_of(out);
    let err = lines_of(err);
    let mut out_seen = Vec::new();
    let mut err_seen = Vec::new();

    if !wait_for(&err, &mut err_seen, START_BOUND, |l| {
        l.starts_with("frule-monitor: watching ")
    }) {
        stop(&mut child);
        panic!(
            "frule-monitor never said it was watching; stderr:\n{}",
            err_seen.join("\n")
        );
    }

    let cat = Command::new("cat")
        .arg("/etc/shadow")
        .stdout(Stdio::null())
        .status()
        .expect("cat runs");
    assert!(cat.success(), "cat /etc/shadow failed: {cat}");

    if !wait_for(&out, &mut out_seen, ALERT_BOUND, is_shadow_alert) {
        stop(&mut child);
        panic!(
            "no '{RULE}' alert for cat reading /etc/shadow; stdout:\n{}\nstderr:\n{}",
            out_seen.join("\n"),
            err_seen.join("\n")
        );
    }

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(term.success(), "kill -TERM failed: {term}");
    let deadline = Instant::now() + EXIT_BOUND;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            _ => {
                stop(&mut child);
                panic!(
                    "frule-monitor did not stop on SIGTERM; stderr:\n{}",
                    err_seen.join("\n")
                );
            }
        }
    };
    // The process is gone: its stderr ends, so this drains it without a time bound mattering.
    wait_for(&err, &mut err_seen, EXIT_BOUND, |_| false);
    let stderr = err_seen.join("\n");
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status}; stderr:\n{stderr}"
    );
    for want in [
        "Syscall event drop monitoring:",
        "Events detected: ",
        "Triggered rules by rule name:",
        &format!("   {RULE}: "),
    ] {
        assert!(
            stderr.contains(want),
            "summary lacks {want:?}; stderr:\n{stderr}"
        );
    }
}
