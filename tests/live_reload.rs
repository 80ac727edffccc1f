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

mod support;

use std::path::Path;

use support::{ALERT_BOUND, Monitor, live_unavailable, temp_dir};

/// The rule names of the alerts up to and including the first one of `last_rule`.
fn alerts_until(m: &mut Monitor, last_rule: &str) -> Vec<String> {
    let from = m.out_seen.len();
    let rule_of = |line: &str| {
        serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v["rule"].as_str().map(str::to_owned))
    };
    if m.wait_out(ALERT_BOUND, |l| rule_of(l).is_some_and(|r| r == last_rule))
        .is_none()
    {
        m.fail(&format!("no alert of {last_rule:?}"));
    }
    m.out_seen[from..]
        .iter()
        .filter_map(|l| rule_of(l))
        .collect()
}

/// Waits for a stderr line containing `needle`; fails the test at the bound.
fn expect_err(m: &mut Monitor, needle: &str) {
    if m.wait_err(ALERT_BOUND, |l| l.contains(needle)).is_none() {
        m.fail(&format!("no stderr line containing {needle:?}"));
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
    if let Some(reason) = live_unavailable() {
        eprintln!("skipping sighup_rereads_the_configuration: {reason}");
        return;
    }
    let dir = temp_dir("reload-config");
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
    let before = alerts_until(&mut m, HIGH_RULE);
    if !before.iter().any(|r| r == LOW_RULE) {
        m.fail(&format!(
            "with priority debug, {LOW_RULE:?} should alert: {before:?}"
        ));
    }

    std::fs::write(&conf, config(&rules, "error", false)).expect("config file");
    m.signal("HUP");
    expect_err(&mut m, "configuration key json_output changed");
    expect_err(&mut m, "Rules reloaded");
    open_markers(&dir);
    let after = alerts_until(&mut m, HIGH_RULE);
    if after.iter().any(|r| r == LOW_RULE) {
        m.fail(&format!(
            "with priority error, {LOW_RULE:?} is not loaded: {after:?}"
        ));
    }
    let stopped = m.stop_with("TERM");
    assert!(stopped.status.success(), "{}", stopped.stderr_text());
    let _ = std::fs::remove_dir_all(&dir);
}
