//! Container metadata from a real containerd: containers started with `ctr` in namespaces of their own
//! (`frule-test`, `frule-test-live`), from an image imported from a local tarball (the static busybox; nothing is pulled).
//!
//! - `runtime_resolves_ctr_containers`: the cgroup of the container's process names it (containerd's
//!   `/<namespace>/<id>` layout); the asynchronous cache, asking containerd, resolves `container.id`,
//!   `container.name`, `container.image` (repository, tag, digest, id), `container.type`, `k8s.ns.name` and
//!   `k8s.pod.name` (from the kubelet labels given to `ctr run`), and `container.privileged` for a default and
//!   a `--privileged` container; prints the lookup latency.
//! - `runtime_resolves_podman_containers`: a podman container (image imported from a rootfs tarball, the API
//!   service on a socket of the test's own) found from its `libpod_parent/libpod-<id>` cgroup and described
//!   through podman's Docker-compatible API: `container.type` podman, name, repository, tag, digest, k8s labels.
//!   Skips when podman is not installed.
//! - `live_monitor_names_ctr_containers`: `frule-monitor` live, with its default runtime set, reports the
//!   `container` event and a `cat` inside the container with the same fields.
//!
//! The containerd used is the system one at `/run/containerd/containerd.sock` when it answers, else the one
//! dockerd runs for itself (`/run/docker/containerd/containerd.sock`, dockerd started as the Docker tests
//! start it). Both tests skip with a printed reason without root, `ctr`, dockerd or busybox-static. Every
//! container, the image and the namespace are removed at the end, also when an assertion fails.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use frule_runtime::container::cgroup::{self, ContainerId, Engine};
use frule_runtime::container::docker::ContainerInfo;
use frule_runtime::container::fields::{FieldValue, Subject, extract_subject};
use frule_runtime::container::runtimes::Runtime;
use frule_runtime::container::{ContainerCache, Lookup, Runtimes};
use serde_json::Value;

use support::docker::{self as real_docker, sh, write_busybox_image_archive};
use support::{Monitor, bundled_rules, live_unavailable};

const IMAGE: &str = "frule.test/busybox:ctr";
const SYSTEM_SOCKET: &str = "/run/containerd/containerd.sock";
const DOCKERD_SOCKET: &str = "/run/docker/containerd/containerd.sock";

/// The socket of a containerd that answers, or why there is none here.
fn containerd_socket() -> Result<PathBuf, String> {
    if let Some(why) = real_docker::docker_unavailable() {
        return Err(why);
    }
    if sh("command -v ctr").is_err() {
        return Err("`ctr` is not installed (apt-get install -y containerd)".into());
    }
    let answers =
        |s: &str| Path::new(s).exists() && sh(&format!("ctr --address {s} version")).is_ok();
    if answers(SYSTEM_SOCKET) {
        return Ok(PathBuf::from(SYSTEM_SOCKET));
    }
    real_docker::ensure_dockerd()?;
    // dockerd has its containerd up once it answers; the socket is there by then
    for _ in 0..60 {
        if answers(DOCKERD_SOCKET) {
            return Ok(PathBuf::from(DOCKERD_SOCKET));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err(format!(
        "no containerd answers at {SYSTEM_SOCKET} or {DOCKERD_SOCKET}"
    ))
}

/// `ctr` in the test namespace; removes what the test created when dropped.
struct Ctr {
    socket: PathBuf,
    /// The containerd namespace, one per test (tests run in parallel; each removes its own at the end).
    ns: &'static str,
    containers: Vec<String>,
    archive: PathBuf,
}

impl Ctr {
    fn new(socket: PathBuf, ns: &'static str) -> Ctr {
        Ctr {
            socket,
            ns,
            containers: Vec::new(),
            archive: std::env::temp_dir()
                .join(format!("frule-ctr-image-{}-{ns}.tar", std::process::id())),
        }
    }

    fn run(&self, args: &str) -> Result<String, String> {
        sh(&format!(
            "ctr --address {} -n {} {args}",
            self.socket.display(),
            self.ns
        ))
    }

    fn import_image(&self) -> Result<(), String> {
        write_busybox_image_archive(&self.archive, IMAGE, &["sh", "sleep", "cat"])?;
        self.run(&format!("images import {}", self.archive.display()))
            .map(|_| ())
    }

    /// Starts `sleep 600` in a new container with a 64-digit id; its id and pid.
    fn start(&mut self, extra: &str) -> Result<(String, u32), String> {
        let id = sh("head -c 32 /dev/urandom | sha256sum | cut -c1-64")?;
        self.containers.push(id.clone());
        self.run(&format!("run -d {extra} {IMAGE} {id} sleep 600"))?;
        let tasks = self.run("tasks ls")?;
        let pid = tasks
            .lines()
            .find_map(|l| {
                let mut f = l.split_whitespace();
                (f.next() == Some(id.as_str())).then(|| f.next()?.parse().ok())?
            })
            .ok_or_else(|| format!("no task for {id} in:\n{tasks}"))?;
        Ok((id, pid))
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        for id in &self.containers {
            let _ = self.run(&format!("tasks kill -s SIGKILL {id}"));
            // the task is gone once its exit is reaped; delete retries until then
            for _ in 0..50 {
                if self.run(&format!("tasks delete {id}")).is_ok()
                    || self
                        .run("tasks ls -q")
                        .is_ok_and(|t| !t.contains(id.as_str()))
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.run(&format!("containers delete {id}"));
        }
        let _ = self.run(&format!("images rm {IMAGE}"));
        let _ = std::fs::remove_file(&self.archive);
        // the namespace is removable once containerd's garbage collector dropped the image's content
        for _ in 0..50 {
            if sh(&format!(
                "ctr --address {} namespaces rm {}",
                self.socket.display(),
                self.ns
            ))
            .is_ok()
            {
                break;
            }
            if let Ok(blobs) = self.run("content ls -q") {
                for digest in blobs.split_whitespace() {
                    let _ = self.run(&format!("content rm {digest}"));
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        // runc leaves the namespace's parent cgroups behind (empty); rmdir removes only empty ones
        let _ = sh(&format!(
            "rmdir /sys/fs/cgroup/*/{ns} /sys/fs/cgroup/{ns} 2>/dev/null; true",
            ns = self.ns
        ));
    }
}

fn text(v: Option<FieldValue<'_>>) -> String {
    match v {
        Some(FieldValue::Str(s)) => s.into_owned(),
        Some(FieldValue::Bool(b)) => b.to_string(),
        None => "<NA>".into(),
    }
}

/// Resolves `cid` as the event loop does: through the asynchronous cache, asking `runtime` on `socket`
/// first and Docker after it (where dockerd runs), and waits for the answer. Returns the metadata and a
/// reader of the container's field values (`<NA>` for none).
fn resolve(
    runtime: Runtime,
    socket: &Path,
    cid: &ContainerId,
) -> (
    ContainerInfo,
    impl FnMut(&str, Option<&str>) -> String + use<>,
) {
    let runtimes = Runtimes::none().with_socket(runtime, socket).with_socket(
        Runtime::Docker,
        frule_runtime::container::docker::DEFAULT_SOCKET,
    );
    let mut cache = ContainerCache::new(runtimes);
    assert_eq!(cache.get(cid), Lookup::Pending);
    assert!(
        cache.wait_idle(Duration::from_secs(60)),
        "the lookup never finished"
    );
    let info = match cache.get(cid) {
        Lookup::Ready(info) => info.clone(),
        other => panic!("lookup of {cid:?}: {other:?}"),
    };
    let engine = info.engine;
    let cid = cid.clone();
    let field = move |name: &str, arg: Option<&str>| {
        let subject = Subject::Container {
            short: cid.short(),
            engine,
        };
        text(extract_subject(name, arg, subject, cache.get(&cid)))
    };
    (info, field)
}

#[test]
fn runtime_resolves_ctr_containers() {
    let socket = match containerd_socket() {
        Ok(s) => s,
        Err(why) => {
            eprintln!("skipping: {why}");
            return;
        }
    };
    let mut ctr = Ctr::new(socket.clone(), "frule-test");
    if let Err(why) = ctr.import_image() {
        eprintln!("skipping: ctr cannot import the local busybox image: {why}");
        return;
    }
    let tag = std::process::id();
    let labels = format!(
        "--label io.kubernetes.pod.name=frule-pod-{tag} --label io.kubernetes.pod.namespace=frule-ns \
         --label io.kubernetes.container.name=web --label tier=front"
    );
    let (id, pid) = match ctr.start(&labels) {
        Ok(x) => x,
        Err(why) => {
            eprintln!("skipping: ctr cannot start a container here: {why}");
            return;
        }
    };

    // the cgroup names the container and containerd's layout
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("the task's cgroup");
    let cid = cgroup::container_id_of_proc_cgroup(&cg);
    assert_eq!(
        cid,
        ContainerId::Container {
            full: id.clone(),
            engine: Engine::Containerd
        },
        "{cg}"
    );

    // the asynchronous cache, asking containerd (Docker too where it runs: containerd is asked first)
    let (info, mut field) = resolve(Runtime::Containerd, &socket, &cid);
    let short = &id[..12];
    for (name, want) in [
        ("container.id", short),
        ("container.full_id", id.as_str()),
        ("container.name", "web"),
        ("container.type", "containerd"),
        ("container.image", IMAGE),
        ("container.image.repository", "frule.test/busybox"),
        ("container.image.tag", "ctr"),
        ("container.privileged", "false"),
        ("container.label", "front"),
        ("k8s.ns.name", "frule-ns"),
        ("k8s.pod.name", &format!("frule-pod-{tag}")),
    ] {
        let arg = (name == "container.label").then_some("tier");
        assert_eq!(field(name, arg), want, "{name}");
    }
    let digest = field("container.image.digest", None);
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "digest {digest}"
    );
    let image_id = field("container.image.id", None);
    assert!(
        image_id.len() == 64 && image_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "image id {image_id}"
    );
    assert!(
        info.mounts.iter().any(|m| m.dest == "/proc"),
        "mounts {:?}",
        info.mounts
    );
    assert!(info.created_ts > 0);

    // lookup latency: a whole lookup (connect, namespaces, container, image, content) on this machine
    let direct = Runtimes::none().with_socket(Runtime::Containerd, &socket);
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        direct
            .inspect(&id, Some(Engine::Containerd))
            .expect("a repeated lookup");
        times.push(t.elapsed());
    }
    times.sort();
    let t = Instant::now();
    let missing = direct.inspect(&"0".repeat(64), Some(Engine::Containerd));
    let missing_time = t.elapsed();
    assert_eq!(
        missing.map(|_| ()).unwrap_err().kind(),
        "containerd_not_found"
    );
    eprintln!(
        "containerd lookup latency: median {:?} (min {:?}, max {:?}); unknown id {:?}",
        times[2], times[0], times[4], missing_time
    );

    // a privileged container
    match ctr.start("--privileged") {
        Err(why) => {
            eprintln!("privileged part left out: ctr cannot start a privileged container: {why}")
        }
        Ok((pid_id, _)) => {
            let info = direct
                .inspect(&pid_id, Some(Engine::Containerd))
                .expect("the privileged container");
            assert!(info.privileged, "a --privileged container");
            assert_eq!(
                info.name, pid_id,
                "without kubelet's labels the name is the id"
            );
            assert!(info.k8s.is_none());
        }
    }
}

const STARTED_RULE: &str = "frule ctr container started";
const CAT_RULE: &str = "frule ctr cat in container";

fn test_rules(tag: u32) -> String {
    format!(
        r#"
- rule: {STARTED_RULE}
  desc: the metadata of a ctr test container arrived
  condition: evt.type = container and k8s.pod.name = "frule-ctr-pod-{tag}"
  output: >
    ctr container (id=%container.id name=%container.name type=%container.type image=%container.image
    repo=%container.image.repository tag=%container.image.tag ns=%k8s.ns.name pod=%k8s.pod.name)
  priority: NOTICE
- rule: {CAT_RULE}
  desc: cat runs inside the ctr test container
  condition: >
    evt.type in (execve, execveat) and evt.dir = < and container.id != host and proc.name = cat
    and k8s.pod.name = "frule-ctr-pod-{tag}"
  output: >
    cat in ctr container (id=%container.id name=%container.name repo=%container.image.repository
    ns=%k8s.ns.name pod=%k8s.pod.name)
  priority: NOTICE
"#
    )
}

fn out_field(v: &Value, key: &str) -> String {
    v["output_fields"][key]
        .as_str()
        .unwrap_or("<missing>")
        .to_string()
}

#[test]
fn live_monitor_names_ctr_containers() {
    if let Some(why) = live_unavailable() {
        eprintln!("skipping: {why}");
        return;
    }
    let socket = match containerd_socket() {
        Ok(s) => s,
        Err(why) => {
            eprintln!("skipping: {why}");
            return;
        }
    };
    let mut ctr = Ctr::new(socket, "frule-test-live");
    if let Err(why) = ctr.import_image() {
        eprintln!("skipping: ctr cannot import the local busybox image: {why}");
        return;
    }
    let tag = std::process::id();
    let dir = support::temp_dir("containerd");
    let rules = dir.join("ctr_rules.yaml");
    std::fs::write(&rules, test_rules(tag)).expect("write the test rules");
    let rules_arg = rules.display().to_string();
    let mut m = Monitor::start(&[
        "-r",
        bundled_rules(),
        "-r",
        &rules_arg,
        "--json",
        "-o",
        "json_include_output_property=true",
    ]);
    let labels = format!(
        "--label io.kubernetes.pod.name=frule-ctr-pod-{tag} --label io.kubernetes.pod.namespace=frule-ns \
         --label io.kubernetes.container.name=app"
    );
    let (id, _) = match ctr.start(&labels) {
        Ok(x) => x,
        Err(why) => {
            eprintln!("skipping: ctr cannot start a container here: {why}");
            return;
        }
    };
    let short = id[..12].to_string();
    let started = m.expect_alert(STARTED_RULE, |v| v["rule"] == STARTED_RULE);
    for (key, want) in [
        ("container.id", short.as_str()),
        ("container.name", "app"),
        ("container.type", "containerd"),
        ("container.image", IMAGE),
        ("container.image.repository", "frule.test/busybox"),
        ("container.image.tag", "ctr"),
        ("k8s.ns.name", "frule-ns"),
        ("k8s.pod.name", &format!("frule-ctr-pod-{tag}")),
    ] {
        assert_eq!(out_field(&started, key), want, "{key} in {started}");
    }
    // a process in the container after its metadata arrived carries the same fields
    let _ = ctr.run(&format!(
        "tasks exec --exec-id frule-cat-{tag} {id} cat /frule-ctr-{tag}"
    ));
    let cat = m.expect_alert(CAT_RULE, |v| v["rule"] == CAT_RULE);
    assert_eq!(out_field(&cat, "container.id"), short);
    assert_eq!(out_field(&cat, "container.name"), "app");
    assert_eq!(
        out_field(&cat, "container.image.repository"),
        "frule.test/busybox"
    );
    let stopped = m.stop_with("INT");
    let summary = stopped.stderr_text();
    assert!(
        summary.contains("Container metadata:"),
        "no container summary in:\n{summary}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A podman container with kubelet's labels and the API service on a socket of the test's own; removed
/// (container, image, service, socket) when dropped.
struct Podman {
    dir: PathBuf,
    service: Option<std::process::Child>,
    name: String,
    image: &'static str,
}

impl Podman {
    fn socket(&self) -> PathBuf {
        self.dir.join("podman.sock")
    }

    fn cmd(&self, args: &str) -> Result<String, String> {
        sh(&format!("podman --cgroup-manager cgroupfs {args}"))
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.cmd(&format!("rm -f {}", self.name));
        let _ = self.cmd(&format!("rmi -f {}", self.image));
        if let Some(mut s) = self.service.take() {
            let _ = s.kill();
            let _ = s.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn runtime_resolves_podman_containers() {
    if let Some(why) = real_docker::docker_unavailable() {
        eprintln!("skipping: {why}");
        return;
    }
    if sh("command -v podman").is_err() {
        eprintln!("skipping: podman is not installed (apt-get install -y podman)");
        return;
    }
    let tag = std::process::id();
    let mut pod = Podman {
        dir: std::env::temp_dir().join(format!("frule-podman-{tag}")),
        service: None,
        name: format!("frule-podman-{tag}"),
        image: "frule.test/podbox:1",
    };
    let d = pod.dir.display().to_string();
    if let Err(why) = sh(&format!(
        "rm -rf {d} && mkdir -p {d}/root/bin {d}/root/tmp {d}/root/proc {d}/root/sys {d}/root/dev \
         && cp /bin/busybox {d}/root/bin/ && ln -s busybox {d}/root/bin/sh && ln -s busybox {d}/root/bin/sleep \
         && tar -C {d}/root -cf {d}/rootfs.tar ."
    ))
    .and_then(|_| {
        pod.cmd(&format!(
            "import --change 'CMD [\"/bin/sh\"]' {d}/rootfs.tar {}",
            pod.image
        ))
    }) {
        eprintln!("skipping: podman cannot import the local busybox rootfs: {why}");
        return;
    }
    let socket = pod.socket();
    match std::process::Command::new("podman")
        .args([
            "--cgroup-manager",
            "cgroupfs",
            "system",
            "service",
            "--time=0",
        ])
        .arg(format!("unix://{}", socket.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(child) => pod.service = Some(child),
        Err(why) => {
            eprintln!("skipping: cannot start podman's API service: {why}");
            return;
        }
    }
    // the sandbox may cap RLIMIT_NOFILE and RLIMIT_NPROC below podman's defaults for containers (runc
    // then fails with "error setting rlimits"): ask for small limits, which lowering always allows
    let ulimits = " --ulimit nofile=1024:1024 --ulimit nproc=1024:1024";
    let run = pod.cmd(&format!(
        "run -d --network none{ulimits} --name {} \
         --label io.kubernetes.pod.name=frule-podman-pod --label io.kubernetes.pod.namespace=frule-ns \
         {} sleep 600",
        pod.name, pod.image
    ));
    let id = match run {
        Ok(id) => id,
        Err(why) => {
            eprintln!("skipping: podman cannot start a container here: {why}");
            return;
        }
    };
    let pid = pod
        .cmd(&format!("inspect -f '{{{{.State.Pid}}}}' {}", pod.name))
        .expect("the container's pid");
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("its cgroup");
    let cid = cgroup::container_id_of_proc_cgroup(&cg);
    assert_eq!(
        cid,
        ContainerId::Container {
            full: id.clone(),
            engine: Engine::Podman
        },
        "{cg}"
    );
    // the service answers once its socket exists
    for _ in 0..100 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, mut field) = resolve(Runtime::Podman, &socket, &cid);
    for (name, want) in [
        ("container.id", &id[..12]),
        ("container.name", pod.name.as_str()),
        ("container.type", "podman"),
        ("container.image.repository", "frule.test/podbox"),
        ("container.image.tag", "1"),
        ("container.privileged", "false"),
        ("k8s.ns.name", "frule-ns"),
        ("k8s.pod.name", "frule-podman-pod"),
    ] {
        assert_eq!(field(name, None), want, "{name}");
    }
    assert!(field("container.image.digest", None).starts_with("sha256:"));
}
