//! Learning a profile end to end, with a real Docker daemon and the live monitor (as root, eBPF capture):
//! a server in a container is recorded under load, `frulec profile` learns its profile, the same load with
//! the profile loaded raises nothing, and deviations raise the profile's rules.
//!
//! 1. **record**: `frule-monitor --write learn.scap`; a container of an image imported from a local tarball
//!    (busybox-static, nothing is pulled) runs `httpd -f -p 8080 -h /www` with pages bind-mounted read-only;
//!    once its metadata arrived (a `container` event), the load runs: GETs of the pages from the host, and
//!    exec probes as Kubernetes runs them — `wget` of the server over loopback and `touch` of a heartbeat
//!    file under `/data/probe`; SIGINT stops the monitor;
//! 2. **learn**: `frulec profile --from learn.scap --container-image 'frule-test/httpd*' -o profile.yaml`;
//!    `frulec validate` says `Ok`, and the lists hold what the workload did (httpd, wget and touch but no
//!    shell, port 8080, loopback peers, `/data/probe` but not `/data` for writes);
//! 3. **detect**: `frule-monitor -r profile.yaml`, with the container still running; the same load (with new
//!    heartbeat names, which the learned prefix covers), then the deviations: a shell spawned with `docker
//!    exec … sh -c …`, a write outside the learned prefixes, a new outbound connection (to a listener on
//!    the host), a read of a page the load never asked for. Each raises its rule with the deviation's
//!    fields, and after SIGINT every alert of the profile is accounted for by a deviation: the load itself
//!    raised none.
//!
//! Each step waits for a line of the monitor (or for the server to answer), never for a fixed time. Skips with
//! a printed reason without root, kernel BTF, docker, or a bridge network for containers.

mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use support::docker::{Cleanup, docker_unavailable, ensure_dockerd, import_busybox_image_with, sh};
use support::{Monitor, json_alerts, live_unavailable};

const IMAGE: &str = "frule-test/httpd:1";
const REPOSITORY: &str = "frule-test/httpd";
/// The busybox applets linked into the image (`sh` only for the deviation).
const APPLETS: &[&str] = &["sh", "httpd", "wget", "touch", "cat", "echo", "sleep", "ls"];
const PAGES: &[&str] = &["index.html", "a.html", "b.html"];
const PORT: u16 = 8080;
/// Rounds of the load (each: every page, one wget probe, one heartbeat).
const ROUNDS: u32 = 3;
/// How long the server may take to answer its first request.
const READY_BOUND: Duration = Duration::from_secs(60);

const KNOWN_RULE: &str = "frule learn container known";
const SPAWN_RULE: &str = "Unexpected process spawned in httpd container";
const WRITE_RULE: &str = "Unexpected file write in httpd container";
const OUTBOUND_RULE: &str = "Unexpected outbound connection from httpd container";
const READ_RULE: &str = "Unexpected file read in httpd container";

/// A rule that reports the `container` event of the test container: its metadata is known from then on.
fn marker_rules(name: &str) -> String {
    format!(
        "- rule: {KNOWN_RULE}\n  desc: the metadata of the test container arrived\n  \
         condition: evt.type = container and container.name = \"{name}\"\n  \
         output: container known (name=%container.name repo=%container.image.repository)\n  \
         priority: NOTICE\n"
    )
}

/// One HTTP/1.0 GET: the status code, or why there is none.
fn http_get(ip: Ipv4Addr, path: &str) -> Result<u16, String> {
    let mut s = TcpStream::connect((ip, PORT)).map_err(|e| format!("connect {ip}:{PORT}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {ip}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)
        .map_err(|e| format!("GET /{path}: {e}"))?;
    reply
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("GET /{path}: no status line in {reply:?}"))
}

/// Waits (bounded) until the server answers a GET.
fn wait_until_serving(ip: Ipv4Addr) -> Result<(), String> {
    let deadline = Instant::now() + READY_BOUND;
    loop {
        match http_get(ip, "index.html") {
            Ok(200) => return Ok(()),
            Ok(code) => return Err(format!("the server answered {code}")),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The normal load: every page from the host, then the exec probes (`wget` of the server over loopback,
/// `touch` of a heartbeat file), `ROUNDS` times; heartbeats are numbered from `first_beat`.
fn run_load(name: &str, ip: Ipv4Addr, first_beat: u32) {
    for round in 0..ROUNDS {
        for page in PAGES {
            assert_eq!(http_get(ip, page), Ok(200), "GET /{page}");
        }
        sh(&format!(
            "docker exec {name} wget -q -O /dev/null http://127.0.0.1:{PORT}/index.html"
        ))
        .expect("wget probe");
        sh(&format!(
            "docker exec {name} touch /data/probe/beat-{}",
            first_beat + round
        ))
        .expect("heartbeat probe");
    }
}

/// The items of list `name` in a learned profile (block or flow style), without YAML quoting.
fn list_items(profile: &str, name: &str) -> Vec<String> {
    let head = format!("- list: {name}\n  items:");
    let Some(start) = profile.find(&head) else {
        return Vec::new();
    };
    let rest = &profile[start + head.len()..];
    let unquote = |s: &str| s.trim().trim_matches('\'').trim_matches('"').to_string();
    if let Some(flow) = rest.strip_prefix(" [") {
        let end = flow.find(']').unwrap_or(flow.len());
        return flow[..end]
            .split(',')
            .map(unquote)
            .filter(|s| !s.is_empty())
            .collect();
    }
    rest.lines()
        .skip(1)
        .map_while(|l| l.strip_prefix("    - "))
        .map(unquote)
        .collect()
}

fn frulec(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_frulec"))
        .args(args)
        .output()
        .expect("frulec runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    &v["output_fields"][key]
}

#[test]
fn learned_profile_is_quiet_for_the_load_and_alerts_on_deviations() {
    if let Some(why) = live_unavailable().or_else(docker_unavailable) {
        eprintln!("skipping: {why}");
        return;
    }
    if let Err(why) = ensure_dockerd() {
        eprintln!("skipping: {why}");
        return;
    }
    if let Err(why) = import_busybox_image_with(IMAGE, APPLETS) {
        eprintln!("skipping: cannot import the local busybox image: {why}");
        return;
    }
    let pid = std::process::id();
    let dir = support::temp_dir("profile-learn");
    let mut cleanup = Cleanup {
        containers: Vec::new(),
        dir: Some(dir.clone()),
    };
    let www = dir.join("www");
    std::fs::create_dir_all(&www).expect("www dir");
    for page in PAGES {
        std::fs::write(www.join(page), format!("page {page}\n")).expect("page");
    }
    let name = format!("frule-learn-{pid}");
    let marker = dir.join("marker.yaml");
    std::fs::write(&marker, marker_rules(&name)).expect("marker rules");
    let marker_arg = marker.display().to_string();
    let capture = dir.join("learn.scap");
    let capture_arg = capture.display().to_string();
    let profile = dir.join("profile.yaml");
    let profile_arg = profile.display().to_string();

    // 1. record the server under load
    let mut m = Monitor::start(&["-r", &marker_arg, "--json", "--write", &capture_arg]);
    cleanup.containers.push(name.clone());
    if let Err(why) = sh(&format!(
        "docker run -d --name {name} -v {}:/www:ro --mount type=tmpfs,dst=/data/probe \
         {IMAGE} httpd -f -p {PORT} -h /www",
        www.display()
    )) {
        eprintln!("skipping: docker cannot start a container here: {why}");
        return;
    }
    let ip: Ipv4Addr = match sh(&format!(
        "docker inspect -f '{{{{.NetworkSettings.IPAddress}}}}' {name}"
    ))
    .ok()
    .and_then(|s| s.parse().ok())
    {
        Some(ip) => ip,
        None => {
            eprintln!("skipping: the container has no address on docker's bridge network");
            return;
        }
    };
    m.expect_alert("the container's metadata while recording", |v| {
        v["rule"] == KNOWN_RULE
    });
    if let Err(why) = wait_until_serving(ip) {
        m.fail(&format!("httpd in the container does not answer: {why}"));
    }
    run_load(&name, ip, 1);
    let recorded = m.stop_with("INT");
    assert!(
        recorded.status.success(),
        "recording: exit {:?}\n{}",
        recorded.status,
        recorded.stderr_text()
    );

    // 2. learn the profile and validate it
    let out = frulec(&[
        "profile",
        "--from",
        &capture_arg,
        "--container-image",
        "frule-test/httpd*",
        "-o",
        &profile_arg,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "frulec profile: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let learned = std::fs::read_to_string(&profile).expect("the learned profile");
    let out = frulec(&["validate", &profile_arg]);
    assert_eq!(
        (out.status.code(), text(&out.stdout).trim()),
        (Some(0), format!("{profile_arg}: Ok").as_str()),
        "frulec validate of the learned profile:\n{learned}"
    );
    let items = |list: &str| list_items(&learned, list);
    assert_eq!(items("httpd_image_repositories"), [REPOSITORY], "{learned}");
    let processes = items("httpd_allowed_processes");
    for p in ["httpd", "wget", "touch"] {
        assert!(
            processes.iter().any(|x| x == p),
            "{p} not learned:\n{learned}"
        );
    }
    assert!(
        !processes.iter().any(|x| x == "sh"),
        "the load spawned no shell:\n{learned}"
    );
    assert_eq!(items("httpd_allowed_inbound_ports"), ["8080"], "{learned}");
    assert_eq!(items("httpd_allowed_outbound_ports"), ["8080"], "{learned}");
    assert_eq!(
        items("httpd_allowed_outbound_networks"),
        ["127.0.0.0/8"],
        "{learned}"
    );
    let writes = items("httpd_allowed_write_prefixes");
    assert!(
        writes.iter().any(|w| w == "/data/probe"),
        "the heartbeats generalize to their directory:\n{learned}"
    );
    assert!(
        !writes.iter().any(|w| w == "/data" || w == "/"),
        "write prefixes too broad:\n{learned}"
    );
    let reads = items("httpd_allowed_read_prefixes");
    for page in PAGES {
        let path = format!("/www/{page}");
        assert!(reads.contains(&path), "{path} not learned:\n{learned}");
    }
    assert!(
        !reads.iter().any(|r| r == "/www" || r == "/"),
        "read prefixes too broad:\n{learned}"
    );

    // 3. the same load with the profile loaded: nothing; then the deviations
    let mut m = Monitor::start(&["-r", &profile_arg, "-r", &marker_arg, "--json"]);
    // the monitor meets the running container at its first event and looks it up
    assert_eq!(http_get(ip, "index.html"), Ok(200));
    m.expect_alert("the container's metadata while detecting", |v| {
        v["rule"] == KNOWN_RULE
    });
    run_load(&name, ip, 101);

    let tag = format!("frule-deviation-{pid}");
    // a shell
    sh(&format!("docker exec {name} sh -c 'echo {tag}'")).expect("docker exec sh");
    let v = m.expect_alert("a shell spawned in the container", |v| {
        v["rule"] == SPAWN_RULE
            && field(v, "proc.name") == "sh"
            && field(v, "proc.cmdline")
                .as_str()
                .is_some_and(|c| c.contains(&tag))
    });
    assert_eq!(
        field(&v, "container.image"),
        IMAGE,
        "the alert names the image: {v}"
    );
    // a write outside the learned prefixes, by a process allowed to write
    let outside = format!("/data/{tag}");
    sh(&format!("docker exec {name} touch {outside}")).expect("docker exec touch");
    m.expect_alert("a write outside the learned prefixes", |v| {
        v["rule"] == WRITE_RULE && field(v, "fd.name") == outside.as_str()
    });
    // a new outbound connection: to a listener on the host, through the bridge's gateway
    let gateway: Ipv4Addr = sh(&format!(
        "docker inspect -f '{{{{.NetworkSettings.Gateway}}}}' {name}"
    ))
    .ok()
    .and_then(|s| s.parse().ok())
    .unwrap_or_else(|| m.fail("the container has no gateway address"));
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("bind a host port");
    let port = listener.local_addr().expect("local addr").port();
    let server = thread::spawn(move || {
        let (mut c, _) = listener.accept()?;
        let mut buf = [0u8; 1024];
        let _ = c.read(&mut buf)?;
        c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    });
    sh(&format!(
        "docker exec {name} wget -q -O /dev/null http://{gateway}:{port}/{tag}"
    ))
    .expect("docker exec wget to the host");
    let _ = server.join();
    m.expect_alert("a new outbound connection", |v| {
        v["rule"] == OUTBOUND_RULE
            && field(v, "fd.sip") == gateway.to_string().as_str()
            && field(v, "fd.sport") == port
            && field(v, "proc.name") == "wget"
    });
    // a read outside the learned prefixes: a page the load never asked for
    let page = format!("{tag}.html");
    std::fs::write(www.join(&page), "not in the profile\n").expect("extra page");
    assert_eq!(http_get(ip, &page), Ok(200));
    m.expect_alert("a read of a page outside the profile", |v| {
        v["rule"] == READ_RULE
            && field(v, "fd.name") == format!("/www/{page}").as_str()
            && field(v, "proc.name") == "httpd"
    });

    let detected = m.stop_with("INT");
    assert!(
        detected.status.success(),
        "detection: exit {:?}\n{}",
        detected.status,
        detected.stderr_text()
    );
    // every alert of the profile comes from a deviation: the load raised none
    let unexplained: Vec<Value> = json_alerts(&detected.stdout)
        .into_iter()
        .filter(|v| v["rule"] != KNOWN_RULE)
        .filter(|v| {
            !["proc.cmdline", "fd.name"]
                .iter()
                .any(|k| field(v, k).as_str().is_some_and(|s| s.contains(&tag)))
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "the learned profile alerted on the load it was learned from:\n{unexplained:#?}\nprofile:\n{learned}"
    );
    // the write deviation was a write alert only: touch itself is an allowed process
    assert!(
        !json_alerts(&detected.stdout)
            .iter()
            .any(|v| { v["rule"] == SPAWN_RULE && field(v, "proc.name") == "touch" }),
        "touch was learned, its spawn must not alert"
    );
    drop(cleanup);
}
