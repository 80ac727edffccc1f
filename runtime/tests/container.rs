//! Container metadata: cgroup → container id cases, the Docker API client against a fake daemon (a unix
//! listener in the test), the asynchronous cache, the `container` metaevent payload, the profiles in
//! `examples/profiles/`, and — as root with `dockerd` installed — the client against a real daemon.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frule_runtime::container::cache::MetadataSource;
use frule_runtime::container::docker::{self, glob_match, split_image_ref};
use frule_runtime::container::{
    ContainerCache, ContainerId, ContainerInfo, DockerClient, DockerError, Engine, Lookup, cgroup,
    from_metaevent_json, to_metaevent_json,
};
use serde_json::Value;

/// Helpers for tests against a real Docker daemon (shared with the root package's `tests/containers.rs`).
mod real_docker;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/container");

// ---------------------------------------------------------------------------------------------------------
// cgroups

#[test]
fn cgroup_cases() {
    let path = format!("{DATA}/cgroups.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases = cases.as_array().expect("a list of cases");
    assert!(cases.len() >= 25, "the case file lost cases");
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let entries: Vec<&str> = case["cgroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        // the event parameter form: NUL-terminated entries
        let mut param = Vec::new();
        for e in &entries {
            param.extend_from_slice(e.as_bytes());
            param.push(0);
        }
        let got = cgroup::container_id(&param);
        let want_short = case["short_id"].as_str().unwrap();
        let mut problems = Vec::new();
        if got.short() != want_short {
            problems.push(format!("short id {} != {want_short}", got.short()));
        }
        match (&got, case.get("full_id").and_then(Value::as_str)) {
            (ContainerId::Container { full, engine }, Some(want_full)) => {
                if full != want_full {
                    problems.push(format!("full id {full} != {want_full}"));
                }
                let want_engine = case["engine"].as_str().unwrap();
                if engine.as_str() != want_engine {
                    problems.push(format!("engine {engine} != {want_engine}"));
                }
            }
            (ContainerId::Host, None) => {}
            (other, want) => problems.push(format!("got {other:?}, want {want:?}")),
        }
        // the /proc/PID/cgroup text form must agree with the event form
        let proc_text = entries.join("\n");
        if cgroup::container_id_of_proc_cgroup(&proc_text) != got {
            problems.push("the /proc text form disagrees".into());
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: {}", problems.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cgroup cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn own_process_cgroup_does_not_panic() {
    // whatever this machine is, reading our own cgroup gives a well-formed answer
    if let Ok(text) = std::fs::read_to_string("/proc/self/cgroup") {
        let id = cgroup::container_id_of_proc_cgroup(&text);
        assert!(id.short() == "host" || id.short().len() == 12);
    }
}

// ---------------------------------------------------------------------------------------------------------
// a fake docker daemon

static SOCKETS: AtomicUsize = AtomicUsize::new(0);

/// A unix socket in a fresh temporary directory.
fn socket_path() -> PathBuf {
    let n = SOCKETS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("frule-container-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("docker.sock")
}

/// What the fake daemon answers for a request target.
#[derive(Clone)]
enum Reply {
    /// Raw bytes written back, then the connection is closed.
    Raw(Vec<u8>),
    /// Keeps the connection open without answering, until the client goes away.
    Hang,
    /// Writes these bytes, then keeps the connection open (a stream with nothing more to say).
    Stream(Vec<u8>),
}

fn http(status: &str, body: &str) -> Reply {
    Reply::Raw(format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes())
}

fn chunked(status: &str, chunks: &[&str]) -> Reply {
    let mut s = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    for c in chunks {
        s.push_str(&format!("{:x}\r\n{c}\r\n", c.len()));
    }
    s.push_str("0\r\n\r\n");
    Reply::Raw(s.into_bytes())
}

/// Serves `routes` (request-target prefix → reply; the first matching prefix wins, 404 otherwise) until the
/// returned guard is dropped. Records every request target.
struct FakeDaemon {
    socket: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeDaemon {
    fn start(routes: Vec<(&str, Reply)>) -> Self {
        let socket = socket_path();
        let listener = UnixListener::bind(&socket).unwrap();
        let routes: Vec<(String, Reply)> = routes
            .into_iter()
            .map(|(p, r)| (p.to_string(), r))
            .collect();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                let routes = routes.clone();
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).is_err() {
                        return;
                    }
                    loop {
                        let mut line = String::new();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => {}
                        }
                    }
                    let target = request_line
                        .split(' ')
                        .nth(1)
                        .unwrap_or_default()
                        .to_string();
                    seen.lock().unwrap().push(target.clone());
                    let reply = routes
                        .iter()
                        .find(|(p, _)| target.starts_with(p.as_str()))
                        .map(|(_, r)| r.clone())
                        .unwrap_or_else(|| {
                            http("404 Not Found", r#"{"message":"page not found"}"#)
                        });
                    match reply {
                        Reply::Raw(bytes) => {
                            let _ = conn.write_all(&bytes);
                        }
                        Reply::Hang => {
                            let mut sink = Vec::new();
                            let _ = reader.read_to_end(&mut sink);
                        }
                        Reply::Stream(bytes) => {
                            let _ = conn.write_all(&bytes);
                            let mut sink = Vec::new();
                            let _ = reader.read_to_end(&mut sink);
                        }
                    }
                });
            }
        });
        FakeDaemon { socket, requests }
    }

    fn client(&self) -> DockerClient {
        DockerClient::new(&self.socket).with_timeout(Duration::from_secs(5))
    }
}

const FULL_ID: &str = "3f4d9d6a5b1c2e8f7a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f";

fn load_json(name: &str) -> String {
    let path = format!("{DATA}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---------------------------------------------------------------------------------------------------------
// docker client

#[test]
fn inspect_maps_fields_like_falco() {
    let daemon = FakeDaemon::start(vec![
        (
            "/containers/",
            http("200 OK", &load_json("inspect_k8s_privileged.json")),
        ),
        ("/images/", http("200 OK", &load_json("image_nginx.json"))),
    ]);
    let info = daemon.client().inspect(FULL_ID).expect("inspect");
    assert_eq!(info.id, FULL_ID);
    assert_eq!(info.short_id(), "3f4d9d6a5b1c");
    assert_eq!(info.name, "k8s_web_web-7d9c_shop_1b2c3d4e_0");
    assert_eq!(info.image, "nginx:1.27");
    assert_eq!(info.image_repository, "nginx");
    assert_eq!(info.image_tag, "1.27");
    assert_eq!(
        info.image_digest,
        "sha256:aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb8888"
    );
    assert_eq!(
        info.image_id,
        "1e5f3c5b981a9fd6b2cd0c1b5e3c1c5d1f2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f"
    );
    assert!(info.privileged);
    assert_eq!(info.mounts.len(), 2);
    assert_eq!(
        info.mounts_string(),
        "/var/run/docker.sock:/var/run/docker.sock::true:rprivate,\
         /var/lib/docker/volumes/data/_data:/data:z:false:"
    );
    assert_eq!(
        info.mount_by_source("/var/run/docker.sock")
            .map(|m| m.dest.as_str()),
        Some("/var/run/docker.sock")
    );
    assert_eq!(
        info.mount_by_dest("/dat*").map(|m| m.source.as_str()),
        Some("/var/lib/docker/volumes/data/_data")
    );
    assert!(info.mount_by_dest("/proc*").is_none());
    let k8s = info.k8s.as_ref().expect("kubelet labels");
    assert_eq!(k8s.ns_name, "shop");
    assert_eq!(k8s.pod_name, "web-7d9c");
    assert_eq!(k8s.pod_uid, "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f90a");
    assert_eq!(info.k8s_pod_labels_string(), "app:web, tier:frontend");
    assert_eq!(
        info.labels
            .get("io.kubernetes.container.name")
            .map(String::as_str),
        Some("web")
    );
    // 2026-11-29T01:02:03.5Z
    assert_eq!(info.start_ts, 1_795_914_123_500_000_000);
    assert_eq!(info.created_ts, 1_795_914_122_000_000_000);
    let requests = daemon.requests.lock().unwrap().clone();
    assert_eq!(requests[0], format!("/containers/{FULL_ID}/json"));
    assert!(
        requests[1].starts_with("/images/sha256:1e5f3c5b981a"),
        "{requests:?}"
    );
}

#[test]
fn inspect_without_image_details_falls_back_to_config_image() {
    // chunked container answer, and the image inspect fails: repository and tag come from Config.Image
    let body = load_json("inspect_plain.json");
    let (a, b) = body.split_at(body.len() / 2);
    let daemon = FakeDaemon::start(vec![
        ("/containers/", chunked("200 OK", &[a, b])),
        (
            "/images/",
            http("500 Internal Server Error", r#"{"message":"boom"}"#),
        ),
    ]);
    let info = daemon.client().inspect(FULL_ID).expect("inspect");
    assert_eq!(info.name, "registry");
    assert_eq!(info.image, "localhost:5000/team/app:2.1");
    assert_eq!(info.image_repository, "localhost:5000/team/app");
    assert_eq!(info.image_tag, "2.1");
    assert_eq!(info.image_digest, "");
    assert!(!info.privileged);
    assert!(info.mounts.is_empty());
    assert!(info.k8s.is_none());
    assert_eq!(info.start_ts, 0, "docker's zero time means not started");
}

#[test]
fn image_references_split_like_docker() {
    let cases = [
        ("nginx", ("nginx", "")),
        ("nginx:1.27", ("nginx", "1.27")),
        ("localhost:5000/app", ("localhost:5000/app", "")),
        (
            "localhost:5000/team/app:2.1",
            ("localhost:5000/team/app", "2.1"),
        ),
        (
            "docker.io/library/redis:7@sha256:abcd",
            ("docker.io/library/redis", "7"),
        ),
        (
            "quay.io/coreos/etcd@sha256:abcd",
            ("quay.io/coreos/etcd", ""),
        ),
    ];
    for (reference, (repo, tag)) in cases {
        assert_eq!(
            split_image_ref(reference),
            (repo.to_string(), tag.to_string()),
            "{reference}"
        );
    }
}

#[test]
fn globs_match_like_libsinsp() {
    assert!(glob_match(b"/proc*", b"/proc"));
    assert!(glob_match(b"/proc*", b"/proc/sys"));
    assert!(glob_match(b"/var/run/docker.sock", b"/var/run/docker.sock"));
    assert!(!glob_match(
        b"/var/run/docker.sock",
        b"/var/run/docker.sock2"
    ));
    assert!(glob_match(b"/ro?t*", b"/root/.ssh"));
    assert!(!glob_match(b"/root*", b"/"));
    assert!(glob_match(b"/", b"/"));
}

/// One failure case: what the daemon answers and which error kind the client must report.
fn expect_error(reply: Reply, kind: &str) {
    let daemon = FakeDaemon::start(vec![("/containers/", reply)]);
    let client = daemon.client().with_timeout(Duration::from_millis(300));
    match client.inspect(FULL_ID) {
        Ok(info) => panic!("expected a {kind} error, got {info:?}"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "{e}");
            let msg = e.to_string();
            assert!(
                !msg.ends_with('.') && msg.chars().next().is_some_and(|c| !c.is_uppercase()),
                "{msg}"
            );
        }
    }
}

#[test]
fn http_and_json_problems_are_errors() {
    expect_error(
        http("404 Not Found", r#"{"message":"No such container: x"}"#),
        "not_found",
    );
    expect_error(
        http(
            "500 Internal Server Error",
            r#"{"message":"daemon is sad"}"#,
        ),
        "status",
    );
    expect_error(
        Reply::Raw(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec()),
        "malformed_http",
    );
    expect_error(
        Reply::Raw(b"HTTP/1.1 abc OK\r\n\r\n".to_vec()),
        "malformed_http",
    );
    expect_error(
        Reply::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Id\":".to_vec()),
        "malformed_http",
    );
    expect_error(
        Reply::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\n".to_vec()),
        "malformed_http",
    );
    expect_error(
        Reply::Raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n".to_vec()),
        "malformed_http",
    );
    expect_error(
        Reply::Raw(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n".to_vec()),
        "malformed_http",
    );
    expect_error(Reply::Raw(Vec::new()), "malformed_http");
    expect_error(http("200 OK", "{not json"), "malformed_json");
    expect_error(http("200 OK", "[1, 2]"), "malformed_json");
    expect_error(http("200 OK", r#"{"Name":"/x"}"#), "malformed_json");
    expect_error(
        http(
            "200 OK",
            &format!(r#"{{"Id":"{FULL_ID}","HostConfig":{{"Privileged":"yes"}}}}"#),
        ),
        "malformed_json",
    );
    expect_error(
        http("200 OK", &format!(r#"{{"Id":"{FULL_ID}","Mounts":{{}}}}"#)),
        "malformed_json",
    );
    expect_error(
        http("200 OK", &format!(r#"{{"Id":"{FULL_ID}","Config":[]}}"#)),
        "malformed_json",
    );
    expect_error(Reply::Hang, "timeout");
}

#[test]
fn missing_socket_is_a_connect_error() {
    let client = DockerClient::new("/nonexistent/frule/docker.sock");
    assert!(!client.is_available());
    let err = client.inspect(FULL_ID).unwrap_err();
    assert_eq!(err.kind(), "connect");
    assert!(
        err.to_string()
            .starts_with("cannot connect to docker at /nonexistent/frule/docker.sock"),
        "{err}"
    );
}

#[test]
fn lifecycle_events_are_read_from_a_chunked_stream() {
    let start = format!(
        r#"{{"Type":"container","Action":"start","Actor":{{"ID":"{FULL_ID}"}},"timeNano":17}}"#
    );
    let destroy = format!(r#"{{"status":"destroy","id":"{FULL_ID}","time":3}}"#);
    let two_in_one = format!("{start}\n{destroy}\n");
    let split = format!("{start}\n");
    let (a, b) = split.split_at(20);
    let daemon = FakeDaemon::start(vec![(
        "/events",
        chunked("200 OK", &[&two_in_one, a, b, "\n"]),
    )]);
    let mut stream = daemon.client().events().expect("events");
    let got: Vec<_> = std::iter::from_fn(|| stream.next_event().expect("event")).collect();
    let actions: Vec<(&str, u64)> = got.iter().map(|e| (e.action.as_str(), e.time_ns)).collect();
    assert_eq!(
        actions,
        [("start", 17), ("destroy", 3_000_000_000), ("start", 17)]
    );
    assert!(got.iter().all(|e| e.id == FULL_ID));
    let target = daemon.requests.lock().unwrap()[0].clone();
    assert!(
        target.starts_with("/events?filters=%7B%22type%22"),
        "{target}"
    );
    assert!(docker::parse_lifecycle_event(b"{}").is_err());
}

// ---------------------------------------------------------------------------------------------------------
// cache

/// A metadata source the test releases by hand, so no assertion depends on timing.
struct Gated {
    gate: Mutex<mpsc::Receiver<Result<ContainerInfo, DockerError>>>,
    calls: Arc<AtomicUsize>,
}

impl MetadataSource for Gated {
    fn lookup(&self, _full_id: &str) -> Result<ContainerInfo, DockerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.gate
            .lock()
            .unwrap()
            .recv()
            .unwrap_or_else(|_| Err(DockerError::NotFound("gate closed".into())))
    }
}

fn gated() -> (
    ContainerCache,
    mpsc::Sender<Result<ContainerInfo, DockerError>>,
    Arc<AtomicUsize>,
) {
    let (tx, rx) = mpsc::channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = ContainerCache::new(Gated {
        gate: Mutex::new(rx),
        calls: Arc::clone(&calls),
    });
    (cache, tx, calls)
}

fn in_container(full: &str) -> ContainerId {
    ContainerId::Container {
        full: full.to_string(),
        engine: Engine::Docker,
    }
}

#[test]
fn lookups_are_asynchronous_and_cached() {
    let (mut cache, release, calls) = gated();
    let id = in_container(FULL_ID);
    assert_eq!(cache.get(&ContainerId::Host), Lookup::Host);
    // the worker is blocked on the gate: the event loop still gets an answer at once, many times
    for _ in 0..1000 {
        assert_eq!(cache.get(&id), Lookup::Pending);
    }
    let info = ContainerInfo {
        id: FULL_ID.into(),
        name: "web".into(),
        ..ContainerInfo::default()
    };
    release.send(Ok(info)).unwrap();
    // `get` alone (no explicit poll) picks the answer up once the worker has sent it
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while cache.get(&id) == Lookup::Pending && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(cache.get(&id).info().map(|i| i.name.as_str()), Some("web"));
    assert_eq!(
        cache.peek("3f4d9d6a5b1c").info().map(|i| i.name.as_str()),
        Some("web")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one lookup per container");
    let m = cache.metrics();
    assert_eq!(m.lookups_queued.load(Ordering::Relaxed), 1);
    assert_eq!(m.lookups_ok.load(Ordering::Relaxed), 1);
    assert_eq!(cache.ready().count(), 1);
}

#[test]
fn failed_lookups_are_counted_logged_and_not_hammered() {
    let (cache, release, calls) = gated();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&log);
    let mut cache = cache.with_logger(move |m| sink.lock().unwrap().push(m.to_string()));
    let id = in_container(FULL_ID);
    assert_eq!(cache.get(&id), Lookup::Pending);
    release
        .send(Err(DockerError::NotFound(format!("container {FULL_ID}"))))
        .unwrap();
    assert!(cache.wait_idle(Duration::from_secs(10)));
    match cache.get(&id) {
        Lookup::Failed(reason) => {
            assert!(reason.starts_with("docker has no container"), "{reason}")
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    for _ in 0..100 {
        assert!(matches!(cache.get(&id), Lookup::Failed(_)));
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a failed lookup is not retried per event"
    );
    assert_eq!(cache.metrics().lookups_failed.load(Ordering::Relaxed), 1);
    assert_eq!(cache.metrics().failures_of("not_found"), 1);
    let logged = log.lock().unwrap().clone();
    assert_eq!(logged.len(), 1);
    assert!(
        logged[0].starts_with("container lookup failed for 3f4d9d6a5b1c: docker has no container"),
        "{logged:?}"
    );
    // forgetting it allows a new lookup
    cache.forget(FULL_ID);
    assert_eq!(cache.get(&id), Lookup::Pending);
    release
        .send(Ok(ContainerInfo {
            id: FULL_ID.into(),
            ..ContainerInfo::default()
        }))
        .unwrap();
    assert!(cache.wait_idle(Duration::from_secs(10)));
    assert!(cache.get(&id).info().is_some());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn offline_cache_uses_metaevents_only() {
    let mut cache = ContainerCache::offline();
    let id = in_container(FULL_ID);
    assert_eq!(cache.get(&id), Lookup::Pending);
    cache.insert(ContainerInfo {
        id: FULL_ID.into(),
        name: "from-capture".into(),
        ..ContainerInfo::default()
    });
    assert_eq!(
        cache.get(&id).info().map(|i| i.name.as_str()),
        Some("from-capture")
    );
    assert_eq!(cache.metrics().lookups_queued.load(Ordering::Relaxed), 0);
}

#[test]
fn docker_backed_cache_against_fake_daemon() {
    let daemon = FakeDaemon::start(vec![
        (
            "/containers/",
            http("200 OK", &load_json("inspect_k8s_privileged.json")),
        ),
        ("/images/", http("200 OK", &load_json("image_nginx.json"))),
    ]);
    let mut cache = ContainerCache::new(daemon.client());
    let id = cgroup::container_id(format!("cpu=/docker/{FULL_ID}\0").as_bytes());
    assert_eq!(cache.get(&id), Lookup::Pending);
    assert!(cache.wait_idle(Duration::from_secs(10)));
    let info = cache.get(&id).info().cloned().expect("metadata");
    assert_eq!(info.image_repository, "nginx");
    assert_eq!(info.k8s.map(|k| k.pod_name), Some("web-7d9c".into()));
}

#[test]
fn lifecycle_start_prefetches_metadata() {
    let start = format!(
        r#"{{"Type":"container","Action":"start","Actor":{{"ID":"{FULL_ID}"}},"timeNano":17}}"#
    );
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let stream = format!("{head}{:x}\r\n{start}\n\r\n", start.len() + 1);
    let daemon = FakeDaemon::start(vec![
        ("/events", Reply::Stream(stream.into_bytes())),
        (
            "/containers/",
            http("200 OK", &load_json("inspect_k8s_privileged.json")),
        ),
        ("/images/", http("200 OK", &load_json("image_nginx.json"))),
    ]);
    let mut cache = ContainerCache::new(daemon.client());
    cache.track_lifecycle(daemon.client());
    // no event of the container has been seen, yet its metadata arrives: the `start` queued the lookup
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while cache.peek(FULL_ID).info().is_none() && std::time::Instant::now() < deadline {
        cache.poll();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        cache.peek(FULL_ID).info().map(|i| i.name.as_str()),
        Some("k8s_web_web-7d9c_shop_1b2c3d4e_0")
    );
    assert!(cache.metrics().starts_seen.load(Ordering::Relaxed) >= 1);
    assert_eq!(
        cache.metrics().lookups_queued.load(Ordering::Relaxed),
        1,
        "a ready container is not looked up again"
    );
}

#[test]
fn field_values_follow_falco() {
    use frule_runtime::container::fields::{FieldValue, extract};
    let mut info =
        docker::parse_container_json(load_json("inspect_k8s_privileged.json").as_bytes()).unwrap();
    docker::apply_image_json(&mut info, load_json("image_nginx.json").as_bytes()).unwrap();
    let path = format!("{DATA}/fields.yaml");
    let cases: Value = serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let container = in_container(FULL_ID);
    let mut failures = Vec::new();
    for case in cases.as_array().unwrap() {
        let field = case["field"].as_str().unwrap();
        let arg = case.get("arg").and_then(Value::as_str);
        let state = case["state"].as_str().unwrap();
        let (id, lookup) = match state {
            "ready" => (&container, Lookup::Ready(&info)),
            "pending" => (&container, Lookup::Pending),
            "failed" => (&container, Lookup::Failed("docker has no container")),
            _ => (&ContainerId::Host, Lookup::Host),
        };
        let got = match extract(field, arg, id, lookup) {
            None => Value::Null,
            Some(FieldValue::Str(s)) => Value::String(s.into_owned()),
            Some(FieldValue::Bool(b)) => Value::Bool(b),
        };
        if got != case["value"] {
            failures.push(format!(
                "{state} {field}[{arg:?}]: got {got}, want {}",
                case["value"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------------------
// metaevent payload

#[test]
fn metaevent_json_round_trips() {
    let mut info =
        docker::parse_container_json(load_json("inspect_k8s_privileged.json").as_bytes()).unwrap();
    docker::apply_image_json(&mut info, load_json("image_nginx.json").as_bytes()).unwrap();
    let payload = to_metaevent_json(&info, Engine::Docker);
    let v: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(v["container"]["id"], "3f4d9d6a5b1c");
    assert_eq!(v["container"]["type"], 0);
    assert_eq!(v["container"]["imagerepo"], "nginx");
    assert_eq!(
        v["container"]["Mounts"][0]["Destination"],
        "/var/run/docker.sock"
    );
    let mut with_nul = payload.into_bytes();
    with_nul.push(0);
    let (back, engine) = from_metaevent_json(&with_nul).unwrap();
    assert_eq!(engine, Some(Engine::Docker));
    // created_time travels in whole seconds, as libsinsp writes it
    let mut expected = info.clone();
    expected.created_ts = info.created_ts / 1_000_000_000 * 1_000_000_000;
    assert_eq!(back, expected);
}

#[test]
fn libsinsp_metaevent_is_read() {
    let (info, engine) =
        from_metaevent_json(load_json("metaevent_libsinsp.json").as_bytes()).unwrap();
    assert_eq!(engine, Some(Engine::Containerd));
    assert_eq!(info.short_id(), "aa1bb2cc3dd4");
    assert_eq!(info.image_repository, "docker.io/library/redis");
    assert_eq!(info.k8s.as_ref().map(|k| k.ns_name.as_str()), Some("cache"));
    assert_eq!(info.k8s_pod_labels_string(), "app:redis");
    assert!(from_metaevent_json(b"{\"container\": 3}").is_err());
    assert!(from_metaevent_json(b"not json").is_err());
}

// ---------------------------------------------------------------------------------------------------------
// profiles

#[test]
fn every_profile_loads_without_errors_or_warnings() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/profiles"));
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    names.sort();
    let expected = [
        "allowed_images",
        "apache",
        "consul",
        "elasticsearch",
        "etcd",
        "fluentd",
        "haproxy",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "mongodb",
        "nginx",
        "php-fpm",
        "postgresql",
        "redis",
        "traefik",
    ];
    let stems: Vec<String> = names
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for e in expected {
        assert!(
            stems.iter().any(|s| s == e),
            "examples/profiles/{e}.yaml is missing"
        );
    }
    let mut all = Vec::new();
    for path in &names {
        let file = frule_lang::loader::RulesFile::new(
            path.display().to_string(),
            std::fs::read(path).unwrap(),
        );
        let result = frule_lang::loader::load(std::slice::from_ref(&file));
        let diags: Vec<String> = result
            .diagnostics
            .iter()
            .map(|d| format!("{:?}: {}", d.code, d.message))
            .collect();
        assert!(diags.is_empty(), "{}: {diags:#?}", path.display());
        assert!(!result.rules.is_empty(), "{}: no rules", path.display());
        if path.file_stem().is_some_and(|s| s != "allowed_images") {
            assert_eq!(
                result.rules.len(),
                6,
                "{}: the six profile rules",
                path.display()
            );
        }
        all.push(file);
    }
    // all profiles together: names are prefixed per image, so nothing collides
    let together = frule_lang::loader::load(&all);
    assert!(
        together.diagnostics.is_empty(),
        "{:#?}",
        together
            .diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
    assert_eq!(together.rules.len(), 15 * 6 + 1);
}

// ---------------------------------------------------------------------------------------------------------
// a real docker daemon

use real_docker::{docker_unavailable, ensure_dockerd, import_busybox_image, sh};

#[test]
fn real_docker_inspect() {
    if let Some(why) = docker_unavailable() {
        eprintln!("skipping real_docker_inspect: {why}");
        return;
    }
    if let Err(why) = ensure_dockerd() {
        eprintln!("skipping real_docker_inspect: {why}");
        return;
    }
    let tag = "frule-test/busybox:1";
    import_busybox_image(tag).expect("import the busybox image");
    let name = format!("frule-test-{}", std::process::id());
    let _ = sh(&format!("docker rm -f {name} {name}-run >/dev/null 2>&1"));
    let host_dir = std::env::temp_dir().join(format!("frule-test-mount-{}", std::process::id()));
    std::fs::create_dir_all(&host_dir).unwrap();
    // Created, not started: inspect describes a created container completely, and a sandbox without all
    // capabilities (like a CI container) cannot start a `--privileged` one.
    let full_id = sh(&format!(
        "docker create --name {name} --privileged --network none \
         --label io.kubernetes.pod.namespace=payments --label io.kubernetes.pod.name=api-5f7 \
         --label io.kubernetes.pod.uid=0a1b2c3d-0000-1111-2222-333344445555 --label app=api \
         -v {}:/data:ro {tag} sleep 300",
        host_dir.display()
    ))
    .expect("docker create");
    let result = std::panic::catch_unwind(|| {
        let info = DockerClient::default()
            .inspect(&full_id)
            .expect("inspect a real container");
        assert_eq!(info.id, full_id);
        assert_eq!(info.name, name);
        assert_eq!(info.image, tag);
        assert_eq!(info.image_repository, "frule-test/busybox");
        assert_eq!(info.image_tag, "1");
        assert!(!info.image_id.is_empty());
        assert!(info.privileged);
        assert_eq!(info.mounts.len(), 1, "{:?}", info.mounts);
        assert_eq!(info.mounts[0].dest, "/data");
        assert_eq!(Path::new(&info.mounts[0].source), host_dir.as_path());
        assert!(!info.mounts[0].rw);
        let k8s = info.k8s.clone().expect("kubelet labels");
        assert_eq!(k8s.ns_name, "payments");
        assert_eq!(k8s.pod_name, "api-5f7");
        assert_eq!(
            k8s.pod_labels,
            BTreeMap::from([("app".to_string(), "api".to_string())])
        );
        // an unknown id fails with `not_found`
        let err = DockerClient::default()
            .inspect(&"0".repeat(64))
            .unwrap_err();
        assert_eq!(err.kind(), "not_found");

        // a running container: its cgroup names it, and the asynchronous cache finds it
        let run = sh(&format!(
            "docker run -d --name {name}-run --network none {tag} sleep 300"
        ));
        let Ok(run_id) = run else {
            eprintln!(
                "real_docker_inspect: cannot start a container here, cgroup part skipped: {run:?}"
            );
            return;
        };
        let pid = sh(&format!(
            "docker inspect -f '{{{{.State.Pid}}}}' {name}-run"
        ))
        .expect("pid");
        let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .expect("cgroup of the container");
        let id = cgroup::container_id_of_proc_cgroup(&cg);
        assert_eq!(id.full(), run_id, "cgroup text: {cg}");
        let mut cache = ContainerCache::new(DockerClient::default());
        assert_eq!(cache.get(&id), Lookup::Pending);
        assert!(cache.wait_idle(Duration::from_secs(30)));
        let running = cache
            .get(&id)
            .info()
            .cloned()
            .expect("metadata of the running container");
        assert_eq!(running.name, format!("{name}-run"));
        assert!(running.start_ts > 0);
        assert!(!running.privileged);
    });
    let _ = sh(&format!("docker rm -f {name} {name}-run >/dev/null 2>&1"));
    let _ = std::fs::remove_dir_all(&host_dir);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

// ---------------------------------------------------------------------------------------------------------
// the engine: container fields of events, `container` metaevents, captures recorded live and replayed

const ENGINE_RULES: &str = r#"
- rule: privileged container
  desc: d
  condition: evt.type = container and container.privileged = true
  output: "privileged name=%container.name repo=%container.image.repository ns=%k8s.ns.name"
  priority: WARNING
- rule: close in container
  desc: d
  condition: evt.type = close and evt.dir = < and container.id != host
  output: "close id=%container.id name=%container.name repo=%container.image.repository tag=%container.image.tag ns=%k8s.ns.name pod=%k8s.pod.name mount=%container.mount.dest[/var/run/docker.sock] start=%container.start_ts"
  priority: NOTICE
"#;

fn rules_engine() -> frule_runtime::engine::Engine {
    let loaded = frule_lang::loader::load(&[frule_lang::loader::RulesFile::new(
        "rules.yaml",
        ENGINE_RULES,
    )]);
    assert!(loaded.is_ok(), "{:?}", loaded.diagnostics);
    let mut engine = frule_runtime::engine::Engine::new(&loaded);
    engine.ruleset_mut().build();
    engine
}

/// One nginx process (tid 200) in container [`FULL_ID`], as a capture's process list records it.
fn container_process_state() -> frule_runtime::scap::CaptureState {
    frule_runtime::scap::CaptureState {
        processes: vec![frule_runtime::scap::ProcInfo {
            tid: 200,
            pid: 200,
            ptid: 1,
            comm: b"nginx".to_vec(),
            exe: b"nginx".to_vec(),
            exepath: b"/usr/sbin/nginx".to_vec(),
            cgroups: format!("cpu=/docker/{FULL_ID}\0").into_bytes(),
            vtid: 1,
            vpid: 1,
            pidns_init_start_ts: 5_000,
            ..frule_runtime::scap::ProcInfo::default()
        }],
        ..frule_runtime::scap::CaptureState::default()
    }
}

/// A `close` exit event (`res` = 0) of thread `tid` at time `ts`.
fn close_exit(ts: u64, tid: u64) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&ts.to_le_bytes());
    v.extend_from_slice(&tid.to_le_bytes());
    v.extend_from_slice(&(26u32 + 2 + 8).to_le_bytes());
    v.extend_from_slice(&5u16.to_le_bytes()); // PPME_SYSCALL_CLOSE_X
    v.extend_from_slice(&1u32.to_le_bytes());
    v.extend_from_slice(&8u16.to_le_bytes());
    v.extend_from_slice(&0i64.to_le_bytes());
    v
}

fn outputs_of(engine: &mut frule_runtime::engine::Engine, raw: &[u8]) -> Vec<String> {
    let evt = frule_runtime::event::Event::new(raw).expect("well-formed event");
    let mut alerts = Vec::new();
    engine.process(&evt, 0, &mut alerts);
    alerts.into_iter().map(|a| a.output).collect()
}

fn privileged_k8s_info() -> ContainerInfo {
    let mut info =
        docker::parse_container_json(load_json("inspect_k8s_privileged.json").as_bytes()).unwrap();
    docker::apply_image_json(&mut info, load_json("image_nginx.json").as_bytes()).unwrap();
    info
}

/// Live: the first event of a container has only `container.id`; the lookup's completion becomes a
/// `container` event (the privileged rule fires on it); later events carry the metadata. The same events
/// written to a capture replay with the same alerts, with no daemon.
#[test]
fn engine_sees_metadata_after_the_lookup_and_replays_it_from_the_capture() {
    use frule_runtime::container::Containers;
    use frule_runtime::scap::{ScapReader, ScapWriter, WriterOptions};

    let cap = container_process_state();
    let mut live = rules_engine();
    live.set_capture_state(&cap);
    let (cache, release, calls) = gated();
    *live.containers_mut() = Containers::with_cache(cache);

    let mut recorded: Vec<Vec<u8>> = Vec::new();
    let mut live_outputs = Vec::new();
    let mut step = |engine: &mut frule_runtime::engine::Engine, raw: Vec<u8>| {
        live_outputs.extend(outputs_of(engine, &raw));
        recorded.push(raw);
    };

    step(&mut live, close_exit(10_000, 200));
    // the lookup is pending: no metaevent to hand out yet
    assert!(live.containers_mut().take_metaevents().is_empty());
    release.send(Ok(privileged_k8s_info())).unwrap();
    assert!(
        live.containers_mut()
            .cache_mut()
            .wait_idle(Duration::from_secs(30)),
        "the lookup finished"
    );
    let metaevents = live.containers_mut().take_metaevents();
    assert_eq!(
        metaevents.len(),
        1,
        "one container event per completed lookup"
    );
    for m in metaevents {
        step(&mut live, m);
    }
    step(&mut live, close_exit(20_000, 200));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one lookup for the container"
    );

    let expected = [
        "close id=3f4d9d6a5b1c name=<NA> repo=<NA> tag=<NA> ns=<NA> pod=<NA> mount=<NA> start=5000"
            .to_string(),
        "privileged name=k8s_web_web-7d9c_shop_1b2c3d4e_0 repo=nginx ns=shop".to_string(),
        "close id=3f4d9d6a5b1c name=k8s_web_web-7d9c_shop_1b2c3d4e_0 repo=nginx tag=1.27 ns=shop \
         pod=web-7d9c mount=/var/run/docker.sock start=5000"
            .to_string(),
    ];
    // `start` prints as an absolute time; compare everything before it, then the time's presence
    let strip = |s: &String| s.split(" start=").next().unwrap_or("").to_string();
    assert_eq!(
        live_outputs.iter().map(strip).collect::<Vec<_>>(),
        expected.iter().map(strip).collect::<Vec<_>>()
    );
    for close in [&live_outputs[0], &live_outputs[2]] {
        assert!(!close.ends_with("start=<NA>"), "{close}");
    }

    // record, then replay offline: the same alerts in the same order (the current process-list layout keeps
    // `pidns_init_start_ts`, which `container.start_ts` reads; the sysdig-compatible one drops it)
    let mut w = ScapWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    w.write_state(&cap).unwrap();
    for raw in &recorded {
        w.write_event(raw).unwrap();
    }
    let bytes = w.finish().unwrap();
    let mut reader = ScapReader::new(std::io::Cursor::new(bytes)).unwrap();
    let mut replay = rules_engine();
    replay.set_capture_state(reader.state());
    let mut replay_outputs = Vec::new();
    while let Some(rec) = reader.next_event().unwrap() {
        let mut alerts = Vec::new();
        replay.process(&rec.event, rec.cpu, &mut alerts);
        replay_outputs.extend(alerts.into_iter().map(|a| a.output));
    }
    assert_eq!(replay_outputs, live_outputs);
}

/// A capture started while containers run begins with their metaevents; a legacy `container` event
/// (`PPME_CONTAINER_E`) is read too.
#[test]
fn capture_snapshot_and_legacy_metaevents_fill_the_cache() {
    use frule_runtime::container::Containers;
    use frule_runtime::scap::{ScapReader, ScapWriter, WriterOptions};

    let mut known = Containers::offline();
    known.cache_mut().insert(privileged_k8s_info());
    let mut w = ScapWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    w.write_state(&container_process_state()).unwrap();
    w.write_containers(&known, 1_000).unwrap();
    // legacy event: id, type (u32 docker = 0), name, image
    let legacy_id = "aabbccddeeff";
    let params: [&[u8]; 4] = [
        b"aabbccddeeff\0",
        &0u32.to_le_bytes(),
        b"legacy\0",
        b"registry.local/team/app:2.1\0",
    ];
    let mut ev = Vec::new();
    let len = 26 + 2 * params.len() + params.iter().map(|p| p.len()).sum::<usize>();
    ev.extend_from_slice(&2_000u64.to_le_bytes());
    ev.extend_from_slice(&u64::MAX.to_le_bytes());
    ev.extend_from_slice(&(len as u32).to_le_bytes());
    ev.extend_from_slice(&228u16.to_le_bytes());
    ev.extend_from_slice(&4u32.to_le_bytes());
    for p in &params {
        ev.extend_from_slice(&(p.len() as u16).to_le_bytes());
    }
    for p in &params {
        ev.extend_from_slice(p);
    }
    w.write_event(&ev).unwrap();
    w.write_event(&close_exit(3_000, 200)).unwrap();
    let bytes = w.finish().unwrap();

    let mut reader = ScapReader::new(std::io::Cursor::new(bytes)).unwrap();
    let mut engine = rules_engine();
    engine.set_capture_state(reader.state());
    let mut outputs = Vec::new();
    while let Some(rec) = reader.next_event().unwrap() {
        let mut alerts = Vec::new();
        engine.process(&rec.event, rec.cpu, &mut alerts);
        outputs.extend(alerts.into_iter().map(|a| a.output));
    }
    assert_eq!(outputs.len(), 2, "{outputs:?}");
    assert!(outputs[0].starts_with("privileged name=k8s_web_web-7d9c_shop_1b2c3d4e_0"));
    assert!(
        outputs[1]
            .starts_with("close id=3f4d9d6a5b1c name=k8s_web_web-7d9c_shop_1b2c3d4e_0 repo=nginx"),
        "{}",
        outputs[1]
    );
    let c = engine.containers_mut();
    let legacy = c
        .cache()
        .peek(legacy_id)
        .info()
        .cloned()
        .expect("legacy container");
    assert_eq!(legacy.name, "legacy");
    assert_eq!(legacy.image_repository, "registry.local/team/app");
    assert_eq!(legacy.image_tag, "2.1");
    assert_eq!(c.engine_of(legacy_id), Some(Engine::Docker));
    assert_eq!(c.malformed_metaevents(), 0);
}

/// A failed lookup leaves the fields missing, is counted by reason and reported in the summary.
#[test]
fn failed_lookup_is_counted_and_fields_stay_missing() {
    use frule_runtime::container::Containers;

    let mut engine = rules_engine();
    engine.set_capture_state(&container_process_state());
    let (cache, release, _calls) = gated();
    let logged = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&logged);
    *engine.containers_mut() =
        Containers::with_cache(cache.with_logger(move |m| sink.lock().unwrap().push(m.into())));
    assert_eq!(outputs_of(&mut engine, &close_exit(10, 200)).len(), 1);
    release
        .send(Err(DockerError::NotFound(format!("container {FULL_ID}"))))
        .unwrap();
    assert!(
        engine
            .containers_mut()
            .cache_mut()
            .wait_idle(Duration::from_secs(30))
    );
    assert!(engine.containers_mut().take_metaevents().is_empty());
    let out = outputs_of(&mut engine, &close_exit(20, 200));
    assert_eq!(out.len(), 1);
    assert!(
        out[0].starts_with("close id=3f4d9d6a5b1c name=<NA> repo=<NA>"),
        "{}",
        out[0]
    );
    let c = engine.containers_mut();
    assert_eq!(c.metrics().lookups_failed.load(Ordering::Relaxed), 1);
    assert_eq!(c.metrics().failures_of("not_found"), 1);
    assert!(
        c.summary().contains("1 failed (not_found: 1)"),
        "{}",
        c.summary()
    );
    let logged = logged.lock().unwrap();
    assert!(
        logged
            .iter()
            .any(|m| m.starts_with("container lookup failed for 3f4d9d6a5b1c")),
        "{logged:?}"
    );
}

/// Container fields of the corpus captures that carry `container` metaevents, replayed offline, against
/// Debian's sysdig 0.29.3 (`tests/data/container/replay/`; the command is in each file's header).
#[test]
fn replayed_container_fields_match_sysdig() {
    use frule_runtime::fields::Extractor;
    use frule_runtime::scap::ScapReader;
    use frule_runtime::state::State;

    let corpus = std::env::var_os("FRULE_CORPUS").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus")),
        PathBuf::from,
    );
    if !corpus.join("scap").is_dir() {
        eprintln!("skipping: corpus not found at {}", corpus.display());
        return;
    }
    let dir = Path::new(DATA).join("replay");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let header = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .unwrap_or_else(|| panic!("{}: no `{key}` line", f.display()))
                .to_string()
        };
        let capture = header("# capture: ");
        let format = header("# format: ");
        let fields: Vec<_> = format
            .split('|')
            .map(|t| {
                frule_lang::fields::lookup(t.trim_start_matches('%'))
                    .unwrap_or_else(|| panic!("unknown field {t}"))
            })
            .collect();
        let expected: BTreeMap<u64, &str> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| (l.split('|').next().unwrap().parse().unwrap(), l))
            .collect();
        let mut reader = ScapReader::open(corpus.join("scap").join(&capture)).unwrap();
        let mut state = State::from_capture(reader.state());
        while let Some(rec) = reader.next_event().unwrap() {
            state.update(&rec.event);
            let num = state.context().num;
            let Some(want) = expected.get(&num) else {
                continue;
            };
            let mut x = Extractor::new(&state, rec.event);
            let mut line = String::new();
            for (i, id) in fields.iter().enumerate() {
                if i > 0 {
                    line.push('|');
                }
                x.render_field(*id, None, &mut line);
            }
            checked += 1;
            if line != *want {
                failures.push(format!(
                    "{capture} event {num}:\n  sysdig: {want}\n  frule:  {line}"
                ));
            }
        }
    }
    eprintln!("{checked} sysdig lines checked");
    assert!(
        checked >= 60,
        "only {checked} lines were found in the captures"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const SENSITIVE_MOUNT_RULE: &str = "Container with a sensitive host mount started";

/// The bundled ruleset's "Privileged container started" (and, for a container with the Docker socket
/// mounted, the sensitive-mount rule) fires on the `container` event of the container, with the metadata in
/// its output (the live end-to-end test cannot start privileged containers in every sandbox; this covers the
/// rule on the same event the monitor makes).
#[test]
fn bundled_privileged_rule_fires_on_the_container_event() {
    use frule_runtime::container::tracker::metaevent_bytes;

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules/frule_rules.yaml");
    let text = std::fs::read_to_string(path).expect("bundled rules");
    let loaded = frule_lang::loader::load(&[frule_lang::loader::RulesFile::new(path, text)]);
    assert!(loaded.is_ok(), "{:?}", loaded.diagnostics);
    let mut engine = frule_runtime::engine::Engine::new(&loaded);
    engine.ruleset_mut().build();
    engine.set_capture_state(&container_process_state());

    let mut info = privileged_k8s_info();
    let fired = |engine: &mut frule_runtime::engine::Engine, info: &ContainerInfo| {
        let raw = metaevent_bytes(info, Some(Engine::Docker), 1_000);
        let evt = frule_runtime::event::Event::new(&raw).expect("well-formed metaevent");
        let mut alerts = Vec::new();
        engine.process(&evt, 0, &mut alerts);
        alerts
            .into_iter()
            .map(|a| (a.rule.to_string(), a.output))
            .collect::<Vec<_>>()
    };
    let alerts = fired(&mut engine, &info);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].0, "Privileged container started");
    assert!(
        alerts[0].1.contains(
            "container_id=3f4d9d6a5b1c container_name=k8s_web_web-7d9c_shop_1b2c3d4e_0 image=nginx"
        ),
        "{}",
        alerts[0].1
    );
    // not privileged, the Docker socket mounted: the sensitive-mount rule
    info.privileged = false;
    let alerts = fired(&mut engine, &info);
    assert_eq!(
        alerts.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        [SENSITIVE_MOUNT_RULE]
    );
    assert!(
        alerts[0].1.contains("/var/run/docker.sock"),
        "{}",
        alerts[0].1
    );
    // neither: no alert
    info.mounts.clear();
    assert_eq!(fired(&mut engine, &info), Vec::new());
}
