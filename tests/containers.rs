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
//! 4. a `--privileged` container raises the bundled "Privileged container started" alert (this step prints
//!    why and is left out where the sandbox cannot start privileged containers);
//! 5. SIGINT; the summary reports the container lookups; replaying the recorded capture gives the same
//!    container alerts with the same fields, with no daemon involved.
//!
//! Skips with a printed reason without root, without kernel BTF (the eBPF capture), or when Docker cannot
//! run containers here. Nothing is pulled from a registry: the image is imported from a local tarball.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "../runtime/tests/real_docker/mod.rs"]
mod real_docker;

use real_docker::{docker_unavailable, ensure_dockerd, import_busybox_image, sh};

/// Upper bounds only: each wait ends as soon as the awaited line arrives.
const START_BOUND: Duration = Duration::from_secs(120);
const ALERT_BOUND: Duration = Duration::from_secs(90);
const EXIT_BOUND: Duration = Duration::from_secs(60);

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

/// Waits until a line satisfies `want`, keeping every line in `seen`; `None` at the bound or when the
/// stream ends.
fn wait_for(
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

/// The kernel BTF the eBPF capture needs, or why the test cannot run.
fn live_unavailable() -> Option<String> {
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some(
            "no kernel BTF (/sys/kernel/btf/vmlinux), the eBPF capture cannot load".into(),
        );
    }
    docker_unavailable()
}

/// Everything the test started, removed on drop (also when an assertion fails).
struct Cleanup {
    containers: Vec<String>,
    monitor: Option<Child>,
    dir: PathBuf,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(child) = self.monitor.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for c in &self.containers {
            let _ = sh(&format!("docker rm -f {c} >/dev/null 2>&1"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sigint(child: &Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a pid we spawned and a valid signal number has no memory effects.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }
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
    if let Some(why) = live_unavailable() {
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
        monitor: None,
        dir: dir.clone(),
    };
    let rules = dir.join("container_rules.yaml");
    std::fs::write(&rules, TEST_RULES).expect("write the test rules");
    let capture = dir.join("live.scap");
    let bundled = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/frule_rules.yaml");
    let rules_args = ["-r", bundled, "-r", rules.to_str().expect("utf-8 path")];

    let mut child = Command::new(env!("CARGO_BIN_EXE_frule-monitor"))
        .args(rules_args)
        .args(["--json", "-o", "json_include_output_property=true"])
        .arg("--write")
        .arg(&capture)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("frule-monitor starts");
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        panic!("frule-monitor's pipes are missing");
    };
    cleanup.monitor = Some(child);
    let out = lines_of(out);
    let err = lines_of(err);
    let mut out_seen = Vec::new();
    let mut err_seen = Vec::new();
    if wait_for(&err, &mut err_seen, START_BOUND, |l| {
        l.starts_with("frule-monitor: watching ")
    })
    .is_none()
    {
        panic!(
            "frule-monitor never said it was watching; stderr:\n{}",
            err_seen.join("\n")
        );
    }

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
    let started = wait_for(&out, &mut out_seen, ALERT_BOUND, |l| {
        is_alert(l, STARTED_RULE, &name)
    })
    .unwrap_or_else(|| {
        panic!(
            "no '{STARTED_RULE}' alert for {name}; stdout:\n{}\nstderr so far:\n{}",
            out_seen.join("\n"),
            err_seen.join("\n")
        )
    });
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
    let shell = wait_for(&out, &mut out_seen, ALERT_BOUND, |l| {
        is_alert(l, SHELL_RULE, &name)
    })
    .unwrap_or_else(|| {
        panic!(
            "no '{SHELL_RULE}' alert for {name}; stdout:\n{}",
            out_seen.join("\n")
        )
    });
    assert_eq!(field(&shell, "container.id"), short_id.as_str());
    assert_eq!(
        field(&shell, "container.image.repository"),
        "frule-test/busybox"
    );
    assert_eq!(field(&shell, "proc.name"), "sh");
    let cat = wait_for(&out, &mut out_seen, ALERT_BOUND, |l| {
        is_alert(l, EXEC_RULE, &name)
    })
    .unwrap_or_else(|| {
        panic!(
            "no '{EXEC_RULE}' alert for {name}; stdout:\n{}",
            out_seen.join("\n")
        )
    });
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

    // 4. a privileged container, where the sandbox lets docker start one
    let privileged = format!("frule-e2e-priv-{tag}");
    cleanup.containers.push(privileged.clone());
    match sh(&format!(
        "docker run -d --privileged --name {privileged} --network none {IMAGE} sleep 600"
    )) {
        Err(why) => eprintln!(
            "privileged step left out: docker cannot start a --privileged container here: {why}"
        ),
        Ok(_) => {
            let alert = wait_for(&out, &mut out_seen, ALERT_BOUND, |l| {
                is_alert(l, PRIVILEGED_RULE, &privileged)
            })
            .unwrap_or_else(|| {
                panic!(
                    "no '{PRIVILEGED_RULE}' alert for {privileged}; stdout:\n{}",
                    out_seen.join("\n")
                )
            });
            assert_eq!(
                field(&alert, "container.image.repository"),
                "frule-test/busybox"
            );
        }
    }

    // 5. SIGINT, the summary, then the replay of the recorded capture
    let Some(child) = cleanup.monitor.as_mut() else {
        unreachable!("the monitor was stored above");
    };
    sigint(child);
    let summary = wait_for(&err, &mut err_seen, EXIT_BOUND, |l| {
        l.starts_with("Container metadata: ")
    });
    // drain both streams until the monitor closes them
    while wait_for(&out, &mut out_seen, EXIT_BOUND, |_| false).is_some() {}
    while wait_for(&err, &mut err_seen, EXIT_BOUND, |_| false).is_some() {}
    let status = child.wait().expect("monitor exit status");
    cleanup.monitor = None;
    let summary = summary.unwrap_or_else(|| {
        panic!(
            "no container summary at exit; stderr:\n{}",
            err_seen.join("\n")
        )
    });
    assert!(
        status.success(),
        "exit {status:?}; stderr:\n{}",
        err_seen.join("\n")
    );
    assert!(summary.contains(" succeeded"), "{summary}");

    let live_alerts = container_alerts(&out_seen);
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
