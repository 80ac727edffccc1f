//! The container runtimes a lookup may ask, and in which order.
//!
//! A container id from a cgroup says which engine probably runs the container ([`Engine`], from the cgroup
//! layout: `docker-…`, `cri-containerd-…`, `crio-…`, `libpod-…`, a bare id under a containerd namespace or
//! under `kubepods`). [`Runtimes`] asks that engine's runtime first and falls back to the others, because
//! layouts are ambiguous (a bare id under `kubepods` is containerd's or cri-dockerd's; a bare id under a
//! custom `--cgroup-parent` is anyone's):
//!
//! | cgroup layout says | asked in order |
//! |---|---|
//! | docker | Docker, containerd, podman, CRI-O |
//! | containerd | containerd, Docker, CRI-O, podman |
//! | cri (bare id under `kubepods`) | containerd, CRI-O, Docker, podman |
//! | cri-o | CRI-O, containerd, Docker, podman |
//! | podman | podman, Docker, containerd, CRI-O |
//!
//! Sockets (the first existing path of each runtime is used): Docker `/var/run/docker.sock`; containerd
//! `/run/containerd/containerd.sock`, else the one dockerd starts for itself,
//! `/run/docker/containerd/containerd.sock`; CRI-O `/var/run/crio/crio.sock`; podman
//! `/run/podman/podman.sock` (its Docker-compatible API, read by the Docker client).
//!
//! Invariants:
//! - a runtime whose socket does not exist is skipped without a connection attempt; the first time, one debug
//!   message says so (sockets are checked on every lookup, so a runtime started later is picked up);
//! - a lookup succeeds with the first runtime that knows the container; [`ContainerInfo::engine`] names it,
//!   so `container.type` is the runtime that answered, not the layout's guess;
//! - every failure other than "no such container" of a runtime that was asked is counted by kind in the
//!   cache's metrics (`containerd_timeout`, `podman_connect`, ...), even when a later runtime answered; a
//!   lookup that no runtime answered fails with the most telling error (anything before "not found").

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::cache::{CacheMetrics, MetadataSource};
use super::cgroup::Engine;
use super::crio::CrioClient;
use super::docker::{ContainerInfo, DockerClient, DockerError};

/// A runtime frule can ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// The Docker Engine API.
    Docker,
    /// containerd's gRPC API (needs the `containerd` feature).
    Containerd,
    /// CRI-O's inspect endpoint.
    CriO,
    /// Podman's Docker-compatible API.
    Podman,
}

impl Runtime {
    /// The name used in messages and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "crio",
            Runtime::Podman => "podman",
        }
    }

    /// Every runtime.
    pub const ALL: [Runtime; 4] = [
        Runtime::Docker,
        Runtime::Containerd,
        Runtime::CriO,
        Runtime::Podman,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// The order in which runtimes are asked about a container whose cgroup layout names `engine`.
pub fn order(engine: Option<Engine>) -> [Runtime; 4] {
    use Runtime::*;
    match engine {
        Some(Engine::Docker) | None => [Docker, Containerd, Podman, CriO],
        Some(Engine::Containerd) => [Containerd, Docker, CriO, Podman],
        Some(Engine::Cri) => [Containerd, CriO, Docker, Podman],
        Some(Engine::CriO) => [CriO, Containerd, Docker, Podman],
        Some(Engine::Podman) => [Podman, Docker, Containerd, CriO],
    }
}

/// Where failure and debug messages go.
type Logger = Box<dyn FnMut(&str) + Send>;

/// The runtimes a lookup asks, each with its candidate socket paths. See the module docs.
pub struct Runtimes {
    sockets: [Vec<PathBuf>; 4],
    timeout: Duration,
    absent_logged: [AtomicBool; 4],
    logger: Mutex<Option<Logger>>,
    metrics: Option<Arc<CacheMetrics>>,
}

impl std::fmt::Debug for Runtimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtimes")
            .field("sockets", &self.sockets)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for Runtimes {
    /// Every runtime at its usual socket.
    fn default() -> Self {
        let mut r = Runtimes::none();
        r.sockets = [
            vec![PathBuf::from(super::docker::DEFAULT_SOCKET)],
            vec![
                PathBuf::from("/run/containerd/containerd.sock"),
                PathBuf::from("/run/docker/containerd/containerd.sock"),
            ],
            vec![PathBuf::from(super::crio::DEFAULT_SOCKET)],
            vec![PathBuf::from("/run/podman/podman.sock")],
        ];
        r
    }
}

impl Runtimes {
    /// No runtime at all (every lookup fails with `no_runtime`); add some with [`Runtimes::with_socket`].
    pub fn none() -> Self {
        Runtimes {
            sockets: Default::default(),
            timeout: Duration::from_secs(5),
            absent_logged: Default::default(),
            logger: Mutex::new(None),
            metrics: None,
        }
    }

    /// Asks `runtime` at `socket` (replacing its candidates).
    pub fn with_socket(mut self, runtime: Runtime, socket: impl AsRef<Path>) -> Self {
        self.sockets[runtime.index()] = vec![socket.as_ref().to_path_buf()];
        self
    }

    /// Changes the per-call timeout of every client.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets where debug messages (a runtime's socket is absent) go.
    pub fn with_logger(self, logger: impl FnMut(&str) + Send + 'static) -> Self {
        if let Ok(mut l) = self.logger.lock() {
            *l = Some(Box::new(logger));
        }
        self
    }

    /// The existing socket of `runtime`, if any.
    pub fn socket(&self, runtime: Runtime) -> Option<&Path> {
        self.sockets[runtime.index()]
            .iter()
            .find(|p| p.exists())
            .map(PathBuf::as_path)
    }

    /// A Docker client for the Docker socket, when it exists (for the lifecycle event stream).
    pub fn docker_client(&self) -> Option<DockerClient> {
        self.socket(Runtime::Docker)
            .map(|s| DockerClient::new(s).with_timeout(self.timeout))
    }

    fn log(&self, msg: &str) {
        if let Ok(mut l) = self.logger.lock()
            && let Some(l) = l.as_mut()
        {
            l(msg);
        }
    }

    /// Asks one runtime; `None` when its socket is absent.
    fn ask(&self, runtime: Runtime, id: &str) -> Option<Result<ContainerInfo, DockerError>> {
        let Some(socket) = self.socket(runtime) else {
            if !self.absent_logged[runtime.index()].swap(true, Ordering::Relaxed)
                && !self.sockets[runtime.index()].is_empty()
            {
                let paths: Vec<String> = self.sockets[runtime.index()]
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                self.log(&format!(
                    "container runtime {} not found at {}; not asked",
                    runtime.as_str(),
                    paths.join(" or ")
                ));
            }
            return None;
        };
        Some(match runtime {
            Runtime::Docker => DockerClient::new(socket)
                .with_timeout(self.timeout)
                .inspect(id),
            Runtime::Podman => DockerClient::new(socket)
                .with_timeout(self.timeout)
                .inspect(id)
                .map(|info| ContainerInfo {
                    engine: Some(Engine::Podman),
                    ..info
                })
                .map_err(|e| rewrap("podman", &format!("container {id}"), e)),
            Runtime::CriO => CrioClient::new(socket)
                .with_timeout(self.timeout)
                .inspect(id),
            #[cfg(feature = "containerd")]
            Runtime::Containerd => super::containerd::ContainerdClient::new(socket)
                .with_timeout(self.timeout)
                .inspect(id),
            #[cfg(not(feature = "containerd"))]
            Runtime::Containerd => return None,
        })
    }

    /// Looks `id` up, asking the runtime of `engine` first (see the module docs).
    pub fn inspect(&self, id: &str, engine: Option<Engine>) -> Result<ContainerInfo, DockerError> {
        let mut best: Option<DockerError> = None;
        for runtime in order(engine) {
            let Some(result) = self.ask(runtime, id) else {
                continue;
            };
            let error = match result {
                Ok(info) => {
                    // a failure this runtime recovered from is counted here, as the cache sees success
                    if let Some(b) = &best {
                        self.count(b);
                    }
                    return Ok(info);
                }
                Err(e) => e,
            };
            match &best {
                None => best = Some(error),
                // anything says more than "not found": it becomes the lookup's error
                Some(b)
                    if b.kind().ends_with("not_found") && !error.kind().ends_with("not_found") =>
                {
                    best = Some(error);
                }
                Some(_) => self.count(&error),
            }
        }
        Err(best.unwrap_or_else(|| DockerError::Runtime {
            kind: "no_runtime",
            message: format!(
                "no container runtime socket found for container {} (docker, containerd, cri-o, podman)",
                id.get(..super::cgroup::SHORT_ID_LEN).unwrap_or(id)
            ),
        }))
    }

    /// Counts a failure that will not be the lookup's final error (those the cache counts), unless it only
    /// says "no such container", which a fallback runtime answers for every container it does not run.
    fn count(&self, error: &DockerError) {
        if error.kind().ends_with("not_found") {
            return;
        }
        if let Some(m) = &self.metrics
            && let Ok(mut by) = m.failures_by_kind.lock()
        {
            *by.entry(error.kind()).or_insert(0) += 1;
        }
    }
}

impl MetadataSource for Runtimes {
    fn lookup(&self, full_id: &str) -> Result<ContainerInfo, DockerError> {
        self.inspect(full_id, None)
    }

    fn lookup_hinted(
        &self,
        full_id: &str,
        engine: Option<Engine>,
    ) -> Result<ContainerInfo, DockerError> {
        self.inspect(full_id, engine)
    }

    fn attach_metrics(&mut self, metrics: Arc<CacheMetrics>) {
        self.metrics = Some(metrics);
    }
}

/// A Docker-client error of another runtime served over HTTP/1.1 (podman, CRI-O), relabelled with that
/// runtime's name: `podman_not_found`, `crio_connect`, ...
pub(crate) fn rewrap(runtime: &'static str, what: &str, e: DockerError) -> DockerError {
    let kind = match (runtime, e.kind()) {
        ("podman", "connect") => "podman_connect",
        ("podman", "timeout") => "podman_timeout",
        ("podman", "not_found") => "podman_not_found",
        ("podman", "status") => "podman_status",
        ("podman", "malformed_http") => "podman_malformed_http",
        ("podman", "malformed_json") => "podman_malformed_json",
        ("podman", _) => "podman_io",
        (_, "connect") => "crio_connect",
        (_, "timeout") => "crio_timeout",
        (_, "not_found") => "crio_not_found",
        (_, "status") => "crio_status",
        (_, "malformed_http") => "crio_malformed_http",
        (_, "malformed_json") => "crio_malformed_json",
        _ => "crio_io",
    };
    let message = match &e {
        DockerError::NotFound(_) => format!("{runtime} has no {what}"),
        DockerError::Connect { socket, source } => {
            format!(
                "cannot connect to {runtime} at {}: {source}",
                socket.display()
            )
        }
        other => format!(
            "{runtime}: {}",
            other.to_string().replace("docker", runtime)
        ),
    };
    DockerError::Runtime { kind, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;

    const ID: &str = "4c1f0e2d3b5a69788796a5b4c3d2e1f0a9b8c7d6e5f40312a1b2c3d4e5f60718";

    /// A podman `GET /containers/<id>/json` answer (its Docker-compatible API), trimmed to what matters.
    const PODMAN_INSPECT: &str = r#"{"Id":"4c1f0e2d3b5a69788796a5b4c3d2e1f0a9b8c7d6e5f40312a1b2c3d4e5f60718",
        "Created":"2026-11-29T10:01:02.123456789Z","Path":"sleep","Args":["600"],
        "State":{"Status":"running","Running":true,"Pid":4242,"StartedAt":"2026-11-29T10:01:03.5Z"},
        "Image":"sha256:8135583d97feb82398909c9c97607159e6db2c4ca2c885c0b8f590ee0f9fe90d",
        "Name":"/web","Config":{"Image":"localhost/frule/busybox:1","Labels":{"app":"web"}},
        "HostConfig":{"Privileged":true},
        "Mounts":[{"Type":"bind","Source":"/srv","Destination":"/data","Mode":"","RW":false,"Propagation":"rprivate"}]}"#;
    const PODMAN_IMAGE: &str = r#"{"Id":"sha256:8135583d97feb82398909c9c97607159e6db2c4ca2c885c0b8f590ee0f9fe90d",
        "RepoTags":["localhost/frule/busybox:1"],"RepoDigests":["localhost/frule/busybox@sha256:77aa"]}"#;
    const CRIO_INSPECT: &str = r#"{"name":"k8s_api_api-0_shop_0a1b_0","pid":77,"image":"quay.io/shop/api:2",
        "image_ref":"sha256:9f8e","created_time":1700000000000000000,
        "labels":{"io.kubernetes.container.name":"api","io.kubernetes.pod.name":"api-0",
                  "io.kubernetes.pod.namespace":"shop"},
        "annotations":{},"crio_annotations":{},"sandbox":"ab"}"#;

    /// A fake server's socket path, removed when dropped.
    struct FakeSocket(PathBuf);

    impl AsRef<Path> for FakeSocket {
        fn as_ref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for FakeSocket {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// Serves `routes` (request-target prefix, status line, body) on a fresh unix socket, one request per
    /// connection, until the test process ends.
    fn fake(name: &str, routes: Vec<(String, &'static str, &'static str)>) -> FakeSocket {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let socket = std::env::temp_dir().join(format!(
            "frule-fake-{name}-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket).unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                let target = request.split(' ').nth(1).unwrap_or_default();
                let (status, body) = routes
                    .iter()
                    .find(|(p, _, _)| target.starts_with(p.as_str()))
                    .map(|(_, s, b)| (*s, *b))
                    .unwrap_or(("404 Not Found", r#"{"message":"no such container"}"#));
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeSocket(socket)
    }

    fn podman() -> FakeSocket {
        fake(
            "podman",
            vec![
                (format!("/containers/{ID}/json"), "200 OK", PODMAN_INSPECT),
                ("/images/".to_string(), "200 OK", PODMAN_IMAGE),
            ],
        )
    }

    #[test]
    fn podman_answers_through_the_docker_client() {
        let pod = podman();
        let r = Runtimes::none().with_socket(Runtime::Podman, &pod);
        let info = r.inspect(ID, Some(Engine::Podman)).unwrap();
        assert_eq!(info.engine, Some(Engine::Podman));
        assert_eq!(info.name, "web");
        assert_eq!(info.image_repository, "localhost/frule/busybox");
        assert_eq!(info.image_tag, "1");
        assert_eq!(info.image_digest, "sha256:77aa");
        assert!(info.privileged);
        assert_eq!(info.mounts[0].dest, "/data");
        let e = r
            .inspect(&"0".repeat(64), Some(Engine::Podman))
            .unwrap_err();
        assert_eq!(e.kind(), "podman_not_found");
        assert!(
            e.to_string().starts_with("podman has no container 0000"),
            "{e}"
        );
    }

    #[test]
    fn crio_answers_and_failures_of_a_fallback_are_counted() {
        let pod = podman();
        let crio = fake(
            "crio",
            vec![(format!("/containers/{ID}"), "200 OK", CRIO_INSPECT)],
        );
        let r = Runtimes::none()
            .with_socket(Runtime::CriO, &crio)
            .with_socket(Runtime::Podman, &pod);
        let info = r.inspect(ID, Some(Engine::CriO)).unwrap();
        assert_eq!(info.engine, Some(Engine::CriO));
        assert_eq!(
            info.k8s.as_ref().map(|k| k.pod_name.as_str()),
            Some("api-0")
        );

        // CRI-O failing with a server error: podman (asked later) answers, the failure is counted
        let broken = fake(
            "crio-broken",
            vec![(
                "/containers/".to_string(),
                "500 Internal Server Error",
                r#"{"message":"boom"}"#,
            )],
        );
        let mut r = Runtimes::none()
            .with_socket(Runtime::CriO, &broken)
            .with_socket(Runtime::Podman, &pod);
        let metrics = Arc::new(CacheMetrics::default());
        r.attach_metrics(Arc::clone(&metrics));
        let info = r.lookup_hinted(ID, Some(Engine::CriO)).unwrap();
        assert_eq!(info.engine, Some(Engine::Podman));
        assert_eq!(metrics.failures_of("crio_status"), 1);
        // an id nobody knows: "not found" of every runtime is the error, and is not counted here
        let e = r
            .lookup_hinted(&"1".repeat(64), Some(Engine::Podman))
            .unwrap_err();
        assert_eq!(
            e.kind(),
            "crio_status",
            "anything says more than not found: {e}"
        );
        assert_eq!(metrics.failures_of("podman_not_found"), 0);
    }

    #[test]
    fn the_layouts_runtime_is_asked_first() {
        assert_eq!(order(Some(Engine::CriO))[0], Runtime::CriO);
        assert_eq!(order(Some(Engine::Podman))[0], Runtime::Podman);
        assert_eq!(order(Some(Engine::Cri))[0], Runtime::Containerd);
        for e in [
            None,
            Some(Engine::Docker),
            Some(Engine::Containerd),
            Some(Engine::Cri),
        ] {
            let o = order(e);
            for r in Runtime::ALL {
                assert!(o.contains(&r), "{e:?} never asks {r:?}");
            }
        }
    }

    #[test]
    fn absent_sockets_are_skipped_and_logged_once() {
        let log = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = Arc::clone(&log);
        let r = Runtimes::none()
            .with_socket(Runtime::Containerd, "/nonexistent/frule/containerd.sock")
            .with_socket(Runtime::CriO, "/nonexistent/frule/crio.sock")
            .with_logger(move |m| sink.lock().unwrap().push(m.to_string()));
        for _ in 0..3 {
            let e = r.inspect(&"a".repeat(64), Some(Engine::Cri)).unwrap_err();
            assert_eq!(e.kind(), "no_runtime");
        }
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(
            log[0].starts_with("container runtime containerd not found at /nonexistent"),
            "{log:?}"
        );
    }

    #[test]
    fn errors_of_http_runtimes_carry_their_name() {
        let e = rewrap(
            "podman",
            "container x",
            DockerError::NotFound("/containers/x/json".into()),
        );
        assert_eq!(
            (e.kind(), e.to_string().as_str()),
            ("podman_not_found", "podman has no container x")
        );
        let e = rewrap(
            "crio",
            "container x",
            DockerError::Status {
                code: 500,
                message: "boom".into(),
            },
        );
        assert_eq!(
            (e.kind(), e.to_string().as_str()),
            (
                "crio_status",
                "crio: docker answered 500: boom"
                    .replace("docker", "crio")
                    .as_str()
            )
        );
    }
}
