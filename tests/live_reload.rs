//! End-to-end test of the live monitor's reload of its configuration file: SIGHUP reads the
//! `-c` file again, as Falco does on SIGHUP, and applies its rule-related keys to the new rules.
//!
//! Needs root and kernel BTF (the eBPF capture); without them it prints why and returns. Every
//! wait is bounded only to limit a failing run: the test proceeds as soon as the awaited line
//! arrives, and no assertion depends on timing. Ordering is what the test relies on: a thread
//! opens marker file `low` and then marker file `high`; the monitor evaluates events in time
//! order, so once the alert for `high` has arrived, an alert for `low` would have arrived before
//! it.
//!
//! - `sighup_rereads_the_configuration`: with `priority: debug` both markers alert; the
//!   configuration is rewritten with `priority: error` and `json_include_tags_property: false`,
//!   SIGHUP reloads: the warning-priority rule is no longer loaded (only `high` alerts), and the
//!   monitor names the output key that needs a restart.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// Upper bounds only.
const START_BOUND: Duration = Duration::from_secs(180);
const LINE_BOUND: Duration = Duration::from_secs(90);

fn skip_reason() -> Option<String> {
    let euid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    if euid != Some(0) {
        return Some(format!("the live capture needs root (euid {euid:?})"));
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("no kernel BTF (/sys/kernel/btf/vmlinux)".into());
    }
    None
}

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

struct Monitor {
    child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
    seen: Vec<String>,
}

impl Monitor {
    fn start(args: &[&str]) -> Monitor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_frule-monitor"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("frule-monitor starts");
        let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            panic!("frule-monitor's pipes are missing");
        };
        let mut m = Monitor {
            child,
            out: lines_of(out),
            err: lines_of(err),
            seen: Vec::new(),
        };
        m.expect_err(START_BOUND, "frule-monitor: watching ");
        m
    }

    fn wait(
        &mut self,
        stderr: bool,
        bound: Duration,
        want: &dyn Fn(&str) -> bool,
    ) -> Option<String> {
        let deadline = Instant::now() + bound;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let rx = if stderr { &self.err } else { &self.out };
            let line = rx.recv_timeout(left).ok()?;
            self.seen
                .push(format!("{}{line}", if stderr { "E " } else { "O " }));
            if want(&line) {
                return Some(line);
            }
        }
    }

    fn expect_err(&mut self, bound: Duration, needle: &str) -> String {
        match self.wait(true, bound, &|l| l.contains(needle)) {
            Some(l) => l,
            None => self.fail(&format!("no stderr line containing {needle:?}")),
        }
    }

    /// The rule names of the alerts up to and including the first one of `last_rule`.
    fn alerts_until(&mut self, last_rule: &str) -> Vec<String> {
        let mut rules = Vec::new();
        loop {
            let Some(line) = self.wait(false, LINE_BOUND, &|_| true) else {
                self.fail(&format!("no alert of {last_rule:?}"));
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let rule = v["rule"].as_str().unwrap_or_default().to_string();
            let done = rule == last_rule;
            rules.push(rule);
            if done {
                return rules;
            }
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{sig} failed");
    }

    fn fail(&mut self, what: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("{what}\nmonitor output:\n{}", self.seen.join("\n"));
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const LOW_RULE: &str = "Reload test low marker";
const HIGH_RULE: &str = "Reload test high marker";

fn config(rules: &Path, priority: &str, tags: bool) -> String {
    format!(
        "rules_files:\n  - {}\npriority: {priority}\njson_output: true\njson_include_tags_property: {tags}\nwatch_config_files: false\nstdout_output:\n  enabled: true\n",
        rules.display()
    )
}

fn open_markers(dir: &Path) {
    for name in ["low.marker", "high.marker"] {
        drop(std::fs::File::open(dir.join(name)));
    }
}

#[test]
fn sighup_rereads_the_configuration() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipping sighup_rereads_the_configuration: {reason}");
        return;
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("frule-live-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for name in ["low.marker", "high.marker"] {
        std::fs::write(dir.join(name), "x").expect("marker file");
    }
    let rules = dir.join("rules.yaml");
    let rule = |name: &str, file: &str, priority: &str| {
        format!(
            "- rule: {name}\n  desc: reload test\n  condition: evt.type in (open, openat, openat2) and fd.name = {}\n  output: \"{file} opened by %proc.name\"\n  priority: {priority}\n",
            dir.join(file).display()
        )
    };
    std::fs::write(
        &rules,
        rule(LOW_RULE, "low.marker", "WARNING") + &rule(HIGH_RULE, "high.marker", "ERROR"),
    )
    .expect("rules file");
    let conf = dir.join("falco.yaml");
    std::fs::write(&conf, config(&rules, "debug", true)).expect("config file");

    let conf_arg = conf.display().to_string();
    let mut m = Monitor::start(&["-c", &conf_arg]);
    open_markers(&dir);
    let before = m.alerts_until(HIGH_RULE);
    if !before.iter().any(|r| r == LOW_RULE) {
        m.fail(&format!(
            "with priority debug, {LOW_RULE:?} should alert: {before:?}"
        ));
    }

    std::fs::write(&conf, config(&rules, "error", false)).expect("config file");
    m.signal("HUP");
    m.expect_err(LINE_BOUND, "configuration key json_output changed");
    m.expect_err(LINE_BOUND, "Rules reloaded");
    open_markers(&dir);
    let after = m.alerts_until(HIGH_RULE);
    if after.iter().any(|r| r == LOW_RULE) {
        m.fail(&format!(
            "with priority error, {LOW_RULE:?} is not loaded: {after:?}"
        ));
    }
    m.signal("TERM");
    let _ = std::fs::remove_dir_all(&dir);
}
