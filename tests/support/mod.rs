//! Helpers shared by the end-to-end tests of `frule-monitor` (`tests/live_monitor.rs`,
//! `tests/containers.rs`, `tests/profile_learn.rs`, `tests/live_reload.rs`, `tests/replay.rs`,
//! `tests/monitor_engine.rs`): find the corpus, run a replay to completion, or start the live binary,
//! wait for its readiness and for the lines it prints, and stop it with a signal.
//!
//! Invariants every test relies on:
//! - no test waits for a live monitor to exit on its own: [`Monitor::stop_with`] signals it first, and only
//!   then waits (bounded) for its exit and the end of its pipes;
//! - every wait is bounded, and a bound only limits a failing run: a wait returns as soon as the awaited
//!   line arrives, so no test depends on timing;
//! - a monitor is killed when its [`Monitor`] is dropped (also when an assertion fails), and a failure
//!   prints everything the monitor said.

#![allow(dead_code, reason = "each including test uses a different subset")]

pub mod docker;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// The corpus directory when it holds Falco's regression captures (`falco-regression/`), read in
/// place from `FRULE_CORPUS` (default `../shared/corpus` beside the workspace); otherwise `None`,
/// after printing why the test skips.
pub fn regression_corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("FRULE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")));
    if dir.join("falco-regression").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: corpus not found at {} (set FRULE_CORPUS)",
            dir.display()
        );
        None
    }
}

/// Runs `frule-monitor` to completion (a replay or an error) with `args`, in UTC and with the
/// regression suite's hostname.
pub fn run_monitor(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_frule-monitor"))
        .args(args)
        .env("TZ", "UTC")
        .env("FALCO_HOSTNAME", "test-falco-hostname")
        .output()
        .unwrap_or_else(|e| panic!("cannot run frule-monitor: {e}"))
}

/// How long the monitor may take to load its rules and the eBPF program (a debug build on a busy host).
pub const START_BOUND: Duration = Duration::from_secs(180);
/// How long an awaited alert may take.
pub const ALERT_BOUND: Duration = Duration::from_secs(90);
/// How long the monitor may take to exit once signalled.
pub const EXIT_BOUND: Duration = Duration::from_secs(90);

/// The rules bundled with frule (`rules/frule_rules.yaml`).
pub fn bundled_rules() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/rules/frule_rules.yaml")
}

/// Why this host cannot run the live monitor (root and kernel BTF for the eBPF capture), if it cannot.
pub fn live_unavailable() -> Option<String> {
    let euid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    if euid != Some(0) {
        return Some(format!("the live capture needs root (euid {euid:?})"));
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some(
            "no kernel BTF (/sys/kernel/btf/vmlinux), the eBPF capture cannot load".into(),
        );
    }
    None
}

/// A fresh directory under the system temp dir for one test (removed first if a previous run left it).
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("frule-live-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// The lines of a stream, read by a thread and handed over a channel (closed at the end of the stream).
pub fn lines_of(stream: impl Read + Send + 'static) -> Receiver<String> {
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

/// Waits until a line satisfies `want`, keeping every line in `seen`; `None` at the bound or when the
/// stream ends.
pub fn wait_for(
    rx: &Receiver<String>,
    seen: &mut Vec<String>,
    bound: Duration,
    want: impl Fn(&str) -> bool,
) -> Option<String> {
    let deadline = Instant::now() + bound;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = want(&line);
                seen.push(line.clone());
                if hit {
                    return Some(line);
                }
            }
            Err(_) => return None,
        }
    }
}

/// What a stopped monitor left behind.
#[derive(Debug)]
pub struct Stopped {
    /// Its exit status.
    pub status: ExitStatus,
    /// Every stderr line, in order.
    pub stderr: Vec<String>,
    /// Every stdout line (the alerts), in order.
    pub stdout: Vec<String>,
}

impl Stopped {
    /// The whole stderr as one text.
    pub fn stderr_text(&self) -> String {
        self.stderr.join("\n")
    }

    /// The stdout lines that are JSON alerts, parsed.
    pub fn alerts(&self) -> Vec<serde_json::Value> {
        json_alerts(&self.stdout)
    }
}

/// The lines that are JSON objects (the alerts of `--json`), parsed.
pub fn json_alerts(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(serde_json::Value::is_object)
        .collect()
}

/// A running live monitor and everything it printed so far.
pub struct Monitor {
    child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
    /// Every stdout line read so far.
    pub out_seen: Vec<String>,
    /// Every stderr line read so far.
    pub err_seen: Vec<String>,
}

impl Monitor {
    /// Starts `frule-monitor ARGS` and waits until it says it is watching; fails the test if it never does.
    pub fn start(args: &[&str]) -> Monitor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_frule-monitor"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("frule-monitor starts");
        let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("frule-monitor's pipes are missing");
        };
        let mut m = Monitor {
            child,
            out: lines_of(out),
            err: lines_of(err),
            out_seen: Vec::new(),
            err_seen: Vec::new(),
        };
        if m.wait_err(START_BOUND, |l| l.starts_with("frule-monitor: watching "))
            .is_none()
        {
            m.fail("frule-monitor never said it was watching");
        }
        m
    }

    /// The first new stdout line satisfying `want`, or `None` at the bound.
    pub fn wait_out(&mut self, bound: Duration, want: impl Fn(&str) -> bool) -> Option<String> {
        wait_for(&self.out, &mut self.out_seen, bound, want)
    }

    /// The first new stderr line satisfying `want`, or `None` at the bound.
    pub fn wait_err(&mut self, bound: Duration, want: impl Fn(&str) -> bool) -> Option<String> {
        wait_for(&self.err, &mut self.err_seen, bound, want)
    }

    /// The first new alert (JSON stdout line) satisfying `want`; fails the test at the bound.
    pub fn expect_alert(
        &mut self,
        what: &str,
        want: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let line = self.wait_out(ALERT_BOUND, |l| {
            serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| want(&v))
        });
        match line.and_then(|l| serde_json::from_str(&l).ok()) {
            Some(v) => v,
            None => self.fail(&format!("no alert: {what}")),
        }
    }

    /// Sends `sig` (a name such as `HUP`, `INT`, `TERM`) to the monitor.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{sig} failed: {status}");
    }

    /// Stops the monitor with SIGTERM; its exit status and whole stderr.
    pub fn stop(self) -> (ExitStatus, String) {
        let s = self.stop_with("TERM");
        let stderr = s.stderr_text();
        (s.status, stderr)
    }

    /// Stops the monitor with SIGTERM; its exit status, whole stderr and every stdout line.
    pub fn stop_with_stdout(self) -> (ExitStatus, String, Vec<String>) {
        let s = self.stop_with("TERM");
        let stderr = s.stderr_text();
        (s.status, stderr, s.stdout)
    }

    /// Signals the monitor with `sig` (`INT` or `TERM`: it prints its summary and exits), waits for its
    /// exit and collects everything it printed. Fails the test when it does not exit within the bound.
    pub fn stop_with(mut self, sig: &str) -> Stopped {
        self.signal(sig);
        let deadline = Instant::now() + EXIT_BOUND;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
                _ => self.fail(&format!("frule-monitor did not stop on SIG{sig}")),
            }
        };
        // The process is gone: its pipes end, so these drains return promptly.
        wait_for(&self.err, &mut self.err_seen, EXIT_BOUND, |_| false);
        wait_for(&self.out, &mut self.out_seen, EXIT_BOUND, |_| false);
        Stopped {
            status,
            stderr: std::mem::take(&mut self.err_seen),
            stdout: std::mem::take(&mut self.out_seen),
        }
    }

    /// Kills the monitor and fails the test with `what` and everything the monitor said.
    pub fn fail(&mut self, what: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let out: Vec<&String> = self.out_seen.iter().rev().take(40).collect();
        panic!(
            "{what}\nlast stdout lines (newest first):\n{}\nstderr:\n{}",
            out.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            self.err_seen.join("\n")
        );
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
