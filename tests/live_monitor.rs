//! End-to-end tests of `frule-monitor`'s live mode: the real binary on the real kernel.
//!
//! Every test needs root and kernel BTF (the eBPF capture); without them it prints why and
//! returns. A test starts the monitor, waits until it says it is watching, makes the host do
//! something, and waits for the monitor's reaction on stdout or stderr. The monitor runs until it
//! is signalled: no test waits for it to exit on its own. Every wait is bounded, and the bounds
//! only limit a failing run (a test proceeds as soon as the awaited line arrives); a failure
//! prints everything the monitor said.
//!
//! - `live_monitor_alerts_on_shadow_read`: `cat /etc/shadow` raises the bundled rules' alert;
//!   SIGTERM stops the monitor with the summary and exit 0.
//! - `embedded_rules_catch_server_child_and_shell_connection`: a shell spawned by a parent named
//!   like a web server raises "Unexpected child of a server process"; bash connecting to a
//!   loopback port raises "System binary opened a network connection".
//! - `webserver_metrics_drop_alert_and_capture_file`: `/healthz`, `/versions` and `/metrics` answer
//!   (the alert shows in the rule counters), simulated drops give Falco's internal drop alert,
//!   and the `--write` capture is read back by `frule-monitor --replay` (same alert) and by
//!   `sysdig -r` (same event count) when sysdig is installed.
//! - `ancestors_and_reload_under_load`: a chain of processes gives the right `proc.aname[1..3]`;
//!   while a thread opens a marker file in a loop, SIGHUP reloads the rules twice and every open
//!   still gives exactly one alert; a broken rules file keeps the old rules (and says why); a
//!   changed file is reloaded when `watch_config_files` is on.
//! - `upstream_rules_run_live`: Falco's stable, incubating and sandbox rules (from the corpus) load
//!   and raise their alert for `cat /etc/shadow`.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use support::{ALERT_BOUND, Monitor, bundled_rules, live_unavailable, temp_dir};

const SHADOW_RULE: &str = "Sensitive file read by an untrusted program";
/// The most marker opens the reload test's load thread makes.
const LOAD_OPENS: u64 = 40_000;

macro_rules! skip_unless_live {
    ($test:expr) => {
        if let Some(reason) = live_unavailable() {
            eprintln!("skipping {}: {reason}", $test);
            return;
        }
    };
}

fn is_shadow_alert(v: &serde_json::Value) -> bool {
    v["rule"] == SHADOW_RULE
        && v["output_fields"]["proc.name"] == "cat"
        && v["output_fields"]["fd.name"] == "/etc/shadow"
}

fn cat_shadow() {
    let cat = Command::new("cat")
        .arg("/etc/shadow")
        .stdout(Stdio::null())
        .status()
        .expect("cat runs");
    assert!(cat.success(), "cat /etc/shadow failed: {cat}");
}

#[test]
fn live_monitor_alerts_on_shadow_read() {
    skip_unless_live!("live_monitor_alerts_on_shadow_read");
    let mut m = Monitor::start(&["-r", bundled_rules(), "--json"]);
    cat_shadow();
    m.expect_alert("cat reading /etc/shadow", is_shadow_alert);
    let (status, stderr) = m.stop();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status}; stderr:\n{stderr}"
    );
    for want in [
        "Syscall event drop monitoring:",
        "Events detected: ",
        "Triggered rules by rule name:",
        &format!("   {SHADOW_RULE}: "),
    ] {
        assert!(
            stderr.contains(want),
            "summary lacks {want:?}; stderr:\n{stderr}"
        );
    }
}

#[test]
fn embedded_rules_catch_server_child_and_shell_connection() {
    skip_unless_live!("embedded_rules_catch_server_child_and_shell_connection");
    let dir = temp_dir("server");
    // a shell under the name of a web server: its children have proc.pname = nginx
    let nginx = dir.join("nginx");
    std::fs::copy("/bin/sh", &nginx).expect("copy /bin/sh");
    let mut m = Monitor::start(&["-r", bundled_rules(), "--json"]);

    // `; true` keeps the shell from exec'ing its last command in place: sh is a real child
    let status = Command::new(&nginx)
        .args(["-c", "sh -c 'exit 0'; true"])
        .status()
        .expect("nginx runs");
    assert!(status.success());
    let v = m.expect_alert("sh spawned by nginx", |v| {
        v["rule"] == "Unexpected child of a server process"
            && v["output_fields"]["proc.name"] == "sh"
            && v["output_fields"]["proc.pname"] == "nginx"
    });
    assert_eq!(v["priority"], "Error");

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    let accept = thread::spawn(move || listener.accept().map(|_| ()));
    let status = Command::new("bash")
        .args(["-c", &format!("echo hello > /dev/tcp/127.0.0.1/{port}")])
        .status()
        .expect("bash runs");
    assert!(status.success(), "bash could not connect: {status}");
    let _ = accept.join();
    let v = m.expect_alert("bash connecting to a loopback port", |v| {
        v["rule"] == "System binary opened a network connection"
            && v["output_fields"]["proc.name"] == "bash"
            && v["output_fields"]["fd.rport"] == port
    });
    let conn = v["output_fields"]["fd.name"].as_str().unwrap_or_default();
    assert!(
        conn.ends_with(&format!("->127.0.0.1:{port}")),
        "fd.name {conn}"
    );
    // loopback is a local interface: the local end is the client's side
    let local: Option<u64> = conn
        .strip_prefix("127.0.0.1:")
        .and_then(|c| c.split("->").next())
        .and_then(|p| p.parse().ok());
    assert_eq!(v["output_fields"]["fd.lport"].as_u64(), local, "{v}");
    let (status, stderr) = m.stop();
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One GET on the monitor's web server: status code and body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to webserver");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").expect("send request");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read reply");
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, body.to_string())
}

/// `sysdig -r FILE`'s event count, or `None` (with the reason printed) without sysdig.
fn sysdig_count(file: &Path) -> Option<usize> {
    let out = Command::new("sysdig")
        .args(["-r"])
        .arg(file)
        .args(["-p", "*%evt.num"])
        .output();
    match out {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).lines().count()),
        Ok(o) => panic!(
            "sysdig cannot read {}: {}",
            file.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            eprintln!("sysdig is not installed ({e}); not comparing with it");
            None
        }
    }
}

#[test]
fn webserver_metrics_drop_alert_and_capture_file() {
    skip_unless_live!("webserver_metrics_drop_alert_and_capture_file");
    let dir = temp_dir("web");
    let scap = dir.join("live.scap");
    let scap_arg = scap.display().to_string();
    let mut m = Monitor::start(&[
        "-r",
        bundled_rules(),
        "--json",
        "--write",
        &scap_arg,
        "-o",
        "webserver.enabled=true",
        "-o",
        "webserver.listen_address=127.0.0.1",
        "-o",
        "webserver.listen_port=0",
        "-o",
        "webserver.prometheus_metrics_enabled=true",
        "-o",
        "metrics.enabled=true",
        "-o",
        "syscall_event_drops.simulate_drops=true",
        "-o",
        "syscall_event_drops.actions=[alert]",
    ]);
    let port: u16 = m
        .err_seen
        .iter()
        .find_map(|l| l.split("listening on 127.0.0.1:").nth(1))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| m.fail("no 'listening on' line with the webserver port"));

    assert_eq!(
        http_get(port, "/healthz"),
        (200, "{\"status\": \"ok\"}".into())
    );
    let (code, versions) = http_get(port, "/versions");
    assert_eq!(code, 200);
    assert!(versions.contains("\"engine_version\""), "{versions}");
    assert_eq!(http_get(port, "/nope").0, 404);

    // simulated drops: Falco's internal alert with its counters
    let drop = m.expect_alert("Falco's internal drop alert", |v| {
        v["rule"] == "Falco internal: syscall event drop"
    });
    assert_eq!(drop["priority"], "Debug");
    assert_eq!(drop["source"], "internal");
    assert_eq!(
        drop["output"],
        "Falco internal: syscall event drop. 1 system calls dropped in last second."
    );
    for key in ["n_evts", "n_drops", "n_drops_buffer_total", "ebpf_enabled"] {
        assert!(drop["output_fields"][key].is_string(), "{key} in {drop}");
    }

    cat_shadow();
    m.expect_alert("cat reading /etc/shadow", is_shadow_alert);
    // the metrics are published once a second: poll until the rule counter shows the alert
    let counter = format!("rule_name=\"{SHADOW_RULE}\"");
    let deadline = Instant::now() + ALERT_BOUND;
    let metrics = loop {
        let (code, body) = http_get(port, "/metrics");
        assert_eq!(code, 200);
        let fired = body.lines().any(|l| {
            l.starts_with("falcosecurity_falco_rules_matches_total{")
                && l.contains(&counter)
                && !l.ends_with(" 0")
        });
        if fired {
            break body;
        }
        if Instant::now() > deadline {
            m.fail(&format!("/metrics never counted the alert:\n{body}"));
        }
        thread::sleep(Duration::from_millis(200));
    };
    for family in [
        "falcosecurity_scap_n_evts_total ",
        "falcosecurity_scap_n_drops_total ",
        "falcosecurity_scap_n_drops_buffer_total{dir=\"exit\",drop=\"file\"} ",
        "falcosecurity_falco_num_evts_total ",
        "falcosecurity_frule_evaluation_seconds_total{",
        "falcosecurity_scap_n_evts_cpu_total{cpu=\"0\"} ",
        "falcosecurity_falco_sha256_rules_files_info{",
    ] {
        assert!(
            metrics.contains(family),
            "/metrics lacks {family}:\n{metrics}"
        );
    }

    let (status, stderr) = m.stop();
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    let written: usize = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Capture file: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'Capture file: N events written' line:\n{stderr}"));
    assert!(written > 0);

    // frule reads the capture back, with the same alert from the recorded /proc state and events
    let replay = Command::new(env!("CARGO_BIN_EXE_frule-monitor"))
        .args(["-r", bundled_rules(), "--json", "--replay", &scap_arg])
        .output()
        .expect("replay runs");
    let stderr = String::from_utf8_lossy(&replay.stderr);
    assert!(replay.status.success(), "replay failed:\n{stderr}");
    assert!(
        stderr.contains(&format!("Captured Events: {written},")),
        "replay read another number of events than {written}:\n{stderr}"
    );
    let stdout = String::from_utf8_lossy(&replay.stdout);
    assert!(
        stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|v| is_shadow_alert(&v)),
        "replay of the capture lacks the shadow alert:\n{stdout}"
    );
    if let Some(n) = sysdig_count(&scap) {
        assert_eq!(n, written, "sysdig -r reads another number of events");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The marker rule file of `ancestors_and_reload_under_load`.
fn marker_rules(marker: &Path, ancestors_marker: &Path) -> String {
    format!(
        r#"- rule: frule test marker open
  desc: every open of the marker file
  condition: evt.type in (open, openat, openat2) and fd.name = "{}"
  output: marker opened (proc=%proc.name)
  priority: WARNING
- rule: frule test ancestors
  desc: the ancestors of the process opening the ancestors marker
  condition: evt.type in (open, openat, openat2) and fd.name = "{}"
  output: ancestors (proc=%proc.name a1=%proc.aname[1] a2=%proc.aname[2] a3=%proc.aname[3])
  priority: WARNING
"#,
        marker.display(),
        ancestors_marker.display()
    )
}

#[test]
fn ancestors_and_reload_under_load() {
    skip_unless_live!("ancestors_and_reload_under_load");
    let dir = temp_dir("reload");
    let marker = dir.join("marker");
    let amarker = dir.join("ancestors-marker");
    std::fs::write(&marker, "m").expect("marker");
    std::fs::write(&amarker, "a").expect("ancestors marker");
    let rules = dir.join("rules.yaml");
    let good = marker_rules(&marker, &amarker);
    std::fs::write(&rules, &good).expect("rules");
    for name in ["frule_a", "frule_b", "frule_c"] {
        std::fs::copy("/bin/sh", dir.join(name)).expect("copy /bin/sh");
    }
    let rules_arg = rules.display().to_string();
    let mut m = Monitor::start(&["-r", &rules_arg, "--json"]);

    // frule_a → frule_b → frule_c → cat: `; true` makes each shell fork its command
    let script = format!(
        "frule_b -c 'frule_c -c \"cat {} > /dev/null; true\"; true'; true",
        amarker.display()
    );
    let path = format!("{}:/usr/bin:/bin", dir.display());
    let status = Command::new(dir.join("frule_a"))
        .args(["-c", &script])
        .env("PATH", &path)
        .status()
        .expect("process chain runs");
    assert!(status.success());
    let v = m.expect_alert("the ancestors rule", |v| {
        v["rule"] == "frule test ancestors"
    });
    let f = &v["output_fields"];
    assert_eq!(
        (
            &f["proc.name"],
            &f["proc.aname[1]"],
            &f["proc.aname[2]"],
            &f["proc.aname[3]"]
        ),
        (
            &serde_json::json!("cat"),
            &serde_json::json!("frule_c"),
            &serde_json::json!("frule_b"),
            &serde_json::json!("frule_a")
        ),
        "{v}"
    );

    // load: a thread opens the marker until told to stop, in bursts so that a debug build of
    // the monitor keeps up (a drop would be counted and reported below, not hidden)
    let stop = Arc::new(AtomicBool::new(false));
    let opened = Arc::new(AtomicU64::new(0));
    let load = {
        let (stop, opened, marker) = (Arc::clone(&stop), Arc::clone(&opened), marker.clone());
        thread::spawn(move || {
            // at most LOAD_OPENS opens, so a starved monitor on a busy host is not buried
            while !stop.load(Ordering::SeqCst) {
                if opened.load(Ordering::SeqCst) < LOAD_OPENS {
                    for _ in 0..100 {
                        if std::fs::File::open(&marker).is_ok() {
                            opened.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                thread::sleep(Duration::from_millis(10));
            }
        })
    };
    // two reloads while the load runs
    for round in 1..=2 {
        m.wait_out(ALERT_BOUND, |l| l.contains("frule test marker open"));
        m.signal("HUP");
        if m.wait_err(ALERT_BOUND, |l| l.contains("Rules reloaded: "))
            .is_none()
        {
            stop.store(true, Ordering::SeqCst);
            m.fail(&format!("reload {round} did not happen"));
        }
    }
    m.wait_out(ALERT_BOUND, |l| l.contains("frule test marker open"));
    stop.store(true, Ordering::SeqCst);
    let _ = load.join();
    let total = opened.load(Ordering::SeqCst);

    // a broken rules file: the old rules stay, and the monitor says why
    std::fs::write(&rules, "- rule: broken\n  condition: (\n").expect("write broken rules");
    m.signal("HUP");
    if m.wait_err(ALERT_BOUND, |l| {
        l.contains("the previous rules stay in use")
    })
    .is_none()
    {
        m.fail("no message about the broken rules file");
    }
    assert!(
        m.err_seen.iter().any(|l| l.contains(&rules_arg)),
        "the failed reload does not name the rules file"
    );
    std::fs::File::open(&marker).expect("open marker");
    let sentinel_total = total + 1;

    // count every marker alert: each open gives exactly one, across both reloads and the
    // failed one
    let is_marker = |l: &str| l.contains("\"frule test marker open\"");
    let mut seen = m.out_seen.iter().filter(|l| is_marker(l)).count() as u64;
    while seen < sentinel_total {
        if m.wait_out(ALERT_BOUND, is_marker).is_none() {
            break;
        }
        seen += 1;
    }

    // watch_config_files (on by default): fixing the file reloads it
    std::fs::write(&rules, &good).expect("restore rules");
    if m.wait_err(ALERT_BOUND, |l| l.contains("Rules reloaded: "))
        .is_none()
    {
        m.fail("the changed rules file was not reloaded");
    }
    let (status, stderr, stdout) = m.stop_with_stdout();
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    let alerts = stdout
        .iter()
        .filter(|l| l.contains("\"frule test marker open\""))
        .count() as u64;
    let drops: u64 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("- events dropped: "))
        .and_then(|l| l.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no drop count in the summary:\n{stderr}"));
    if drops == 0 {
        assert_eq!(
            alerts, sentinel_total,
            "{sentinel_total} opens of the marker gave {alerts} alerts across two reloads"
        );
    } else {
        // the kernel dropped events (a busy host): every alert is still unique, and no open is
        // missing beyond what the kernel reported dropped
        eprintln!("the kernel dropped {drops} events during the reload test");
        assert!(
            alerts <= sentinel_total,
            "{alerts} alerts for {sentinel_total} opens"
        );
        assert!(
            alerts + drops >= sentinel_total,
            "{alerts} alerts + {drops} drops < {sentinel_total} opens"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn corpus() -> PathBuf {
    std::env::var_os("FRULE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")))
}

#[test]
fn upstream_rules_run_live() {
    skip_unless_live!("upstream_rules_run_live");
    let dir = corpus().join("rules/falcosecurity-rules");
    let files = [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ];
    if !files.iter().all(|f| dir.join(f).exists()) {
        eprintln!(
            "skipping upstream_rules_run_live: Falco's rules are not in {}",
            dir.display()
        );
        return;
    }
    let mut args: Vec<String> = Vec::new();
    for f in files {
        args.push("-r".into());
        args.push(dir.join(f).display().to_string());
    }
    args.push("--json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut m = Monitor::start(&args);
    cat_shadow();
    m.expect_alert("Falco's sensitive-file rule for cat /etc/shadow", |v| {
        v["rule"] == "Read sensitive file untrusted"
            && v["output_fields"]["proc.name"] == "cat"
            && v["output_fields"]["fd.name"] == "/etc/shadow"
    });
    let (status, stderr) = m.stop();
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
}
