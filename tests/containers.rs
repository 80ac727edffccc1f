//! End-to-end container metadata with a real Docker daemon: `frule-monitor` live (as root, eBPF capture)
//! with `--json`, the bundled rules plus a test rules file whose outputs print the container fields.
//!
//! Scenario, every step waiting for a line rather than for time:
//! 1. start the monitor (recording a capture with `--write`) and wait until it watches;
//! 2. `docker run` a container with kubelet's labels; its metadata lookup completes asynchronously and
//!    becomes a `container` event: the test rule on `evt.type = container` reports it with the container's
//!    id, name, image repository, `k8s.ns.name` and `k8s.pod.name`;
//! 3. `docker exec <c> sh -c …` raises the bundled "Shell spawned in a container" alert and `docker exec <c>
//!    cat …` the test rule on `cat`, both with the same fields;
//! 4. a `--privileged` container raises the bundled "Privileged container started" alert; where the sandbox's
//!    capability bounding set is narrower than what docker 20.10 gives a privileged container, it is started
//!    through the `frule-bounded-caps` runtime the tests register (`support::docker::run_privileged`), and
//!    where that is impossible the step prints why and is left out;
//! 5. SIGINT; the summary reports the container lookups; replaying the recorded capture gives the same
//!    container alerts with the same fields, with no daemon involved.
//!
//! Skips with a printed reason without root, without kernel BTF (the eBPF capture), or when Docker cannot
//! run containers here. Nothing is pulled from a registry: the image is imported from a local tarball.

mod support;

use std::process::Command;

use serde_json::Value;

use support::docker::{
    Cleanup, docker_unavailable, ensure_dockerd, import_busybox_image, run_privileged, sh,
};
use support::{ALERT_BOUND, Monitor, Stopped, bundled_rules, live_unavailable};

const IMAGE: &str = "frule-test/busybox:1";
const SHELL_RULE: &str = "Shell spawned in a container";
const PRIVILEGED_RULE: &str = "Privileged container started";
const STARTED_RULE: &str = "frule e2e container started";
const EXEC_RULE: &str = "frule e2e cat in container";

const TEST_RULES: &str = r#"
- rule: frule e2e container started
  desc: the metadata of a test container arrived
  condition: evt.type = container and container.name startswith "frule-e2e-"
  output: >
    container started (id=%container.id name=%container.name image=%container.image
    repo=%container.image.repository tag=%container.image.tag privileged=%container.privileged
    ns=%k8s.ns.name pod=%k8s.pod.name)
  priority: NOTICE
- rule: frule e2e cat in container
  desc: cat runs inside a test container
  condition: >
    evt.type in (execve, execveat) and evt.dir = < and container.id != host and proc.name = cat
    and proc.args contains frule-e2e
  output: >
    cat in container (id=%container.id name=%container.name repo=%container.image.repository
    ns=%k8s.ns.name pod=%k8s.pod.name cmdline=%proc.cmdline)
  priority: NOTICE
"#;

/// An alert line of `rule` whose `container.name` is `name`.
fn is_alert(line: &str, rule: &str, name: &str) -> bool {
    serde_json::from_str::<Value>(line)
        .is_ok_and(|v| v["rule"] == rule && v["output_fields"]["container.name"] == name)
}

fn field(line: &str, key: &str) -> Value {
    serde_json::from_str::<Value>(line)
        .map(|v| v["output_fields"][key].clone())
        .unwrap_or(Value::Null)
}

/// `(rule, output)` of every alert line about a test container, in order.
fn container_alerts(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| {
            v["output_fields"]["container.name"]
                .as_str()
                .is_some_and(|n| n.starts_with("frule-e2e-"))
        })
        .map(|v| {
            (
                v["rule"].as_str().unwrap_or_default().to_string(),
                v["output"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn live_container_metadata_reaches_alerts_and_replays() {
    if let Some(why) = live_unavailable().or_else(docker_unavailable) {
        eprintln!("skipping: {why}");
        return;
    }
    if let Err(why) = ensure_dockerd() {
        eprintln!("skipping: {why}");
        return;
    }
    if let Err(why) = import_busybox_image(IMAGE) {
        eprintln!("skipping: cannot import the local busybox image: {why}");
        return;
    }
    let tag = std::process::id();
    let dir = std::env::temp_dir().join(format!("frule-e2e-containers-{tag}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut cleanup = Cleanup {
        containers: Vec::new(),
        dir: Some(dir.clone()),
    };
    let rules = dir.join("container_rules.yaml");
    std::fs::write(&rules, TEST_RULES).expect("write the test rules");
    let capture = dir.join("live.scap");
    let capture_arg = capture.display().to_string();
    let rules_arg = rules.display().to_string();
    let rules_args = ["-r", bundled_rules(), "-r", &rules_arg];

    // 1. the monitor, recording a capture
    let mut args = rules_args.to_vec();
    args.extend(["--json", "-o", "json_include_output_property=true"]);
    args.extend(["--write", &capture_arg]);
    let mut m = Monitor::start(&args);

    // 2. a container with kubelet's labels: its `container` event carries the metadata
    let name = format!("frule-e2e-{tag}");
    cleanup.containers.push(name.clone());
    let run = sh(&format!(
        "docker run -d --name {name} --network none \
         --label io.kubernetes.pod.namespace=frule-ns --label io.kubernetes.pod.name=frule-pod-{tag} \
         {IMAGE} sleep 600"
    ));
    let full_id = match run {
        Ok(id) => id,
        Err(why) => {
            eprintln!("skipping: docker cannot start a container here: {why}");
            return;
        }
    };
    let short_id = full_id.get(..12).expect("a 64-digit id").to_string();
    let started = m
        .wait_out(ALERT_BOUND, |l| is_alert(l, STARTED_RULE, &name))
        .unwrap_or_else(|| m.fail(&format!("no '{STARTED_RULE}' alert for {name}")));
    assert_eq!(field(&started, "container.id"), short_id.as_str());
    assert_eq!(field(&started, "container.image"), IMAGE);
    assert_eq!(
        field(&started, "container.image.repository"),
        "frule-test/busybox"
    );
    assert_eq!(field(&started, "container.image.tag"), "1");
    assert_eq!(field(&started, "k8s.ns.name"), "frule-ns");
    assert_eq!(
        field(&started, "k8s.pod.name"),
        format!("frule-pod-{tag}").as_str()
    );

    // 3. docker exec: the bundled shell rule and the test rule on cat, both with the metadata
    // busybox's sh runs `cat` as a builtin applet, without an execve: exec it directly as well
    sh(&format!(
        "docker exec {name} sh -c 'echo frule-e2e >/dev/null'"
    ))
    .expect("docker exec sh");
    // the file does not exist: cat fails, and its execve is all the test needs
    let _ = sh(&format!("docker exec {name} cat /frule-e2e-{tag}"));
    let shell = m
        .wait_out(ALERT_BOUND, |l| is_alert(l, SHELL_RULE, &name))
        .unwrap_or_else(|| m.fail(&format!("no '{SHELL_RULE}' alert for {name}")));
    assert_eq!(field(&shell, "container.id"), short_id.as_str());
    assert_eq!(
        field(&shell, "container.image.repository"),
        "frule-test/busybox"
    );
    assert_eq!(field(&shell, "proc.name"), "sh");
    // the cat alert may have come before the shell alert: look at what was read already, then wait
    let cat = m
        .out_seen
        .iter()
        .find(|l| is_alert(l, EXEC_RULE, &name))
        .cloned()
        .or_else(|| m.wait_out(ALERT_BOUND, |l| is_alert(l, EXEC_RULE, &name)))
        .unwrap_or_else(|| m.fail(&format!("no '{EXEC_RULE}' alert for {name}")));
    assert_eq!(field(&cat, "container.id"), short_id.as_str());
    assert_eq!(
        field(&cat, "container.image.repository"),
        "frule-test/busybox"
    );
    assert_eq!(field(&cat, "k8s.ns.name"), "frule-ns");
    assert_eq!(
        field(&cat, "k8s.pod.name"),
        format!("frule-pod-{tag}").as_str()
    );

    // 4. a privileged container (through the bounded-caps runtime where the sandbox needs it)
    let privileged = format!("frule-e2e-priv-{tag}");
    cleanup.containers.push(privileged.clone());
    match run_privileged(&format!(
        "--name {privileged} --network none {IMAGE} sleep 600"
    )) {
        Err(why) => eprintln!("privileged step left out: {why}"),
        Ok((_, note)) => {
            if let Some(note) = note {
                eprintln!("privileged container: {note}");
            }
            let alert = m
                .wait_out(ALERT_BOUND, |l| is_alert(l, PRIVILEGED_RULE, &privileged))
                .unwrap_or_else(|| {
                    m.fail(&format!("no '{PRIVILEGED_RULE}' alert for {privileged}"))
                });
            assert_eq!(
                field(&alert, "container.image.repository"),
                "frule-test/busybox"
            );
        }
    }

    // 5. SIGINT, the summary, then the replay of the recorded capture
    let stopped: Stopped = m.stop_with("INT");
    let stderr = stopped.stderr_text();
    assert!(
        stopped.status.success(),
        "exit {:?}; stderr:\n{stderr}",
        stopped.status
    );
    let summary = stopped
        .stderr
        .iter()
        .find(|l| l.starts_with("Container metadata: "))
        .unwrap_or_else(|| panic!("no container summary at exit; stderr:\n{stderr}"));
    assert!(summary.contains(" succeeded"), "{summary}");

    let live_alerts = container_alerts(&stopped.stdout);
    assert!(!live_alerts.is_empty());
    let replay = Command::new(env!("CARGO_BIN_EXE_frule-monitor"))
        .args(rules_args)
        .args(["--json", "-o", "json_include_output_property=true"])
        .arg("--replay")
        .arg(&capture)
        .output()
        .expect("frule-monitor --replay runs");
    assert!(
        replay.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let replay_lines: Vec<String> = String::from_utf8_lossy(&replay.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let replay_alerts = container_alerts(&replay_lines);
    for a in &live_alerts {
        assert!(
            replay_alerts.contains(a),
            "live alert {a:?} is not in the replay of the capture; replay alerts:\n{replay_alerts:#?}"
        );
    }
}
