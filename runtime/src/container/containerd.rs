//! A containerd API client: container metadata from containerd's gRPC services on its unix socket.
//!
//! containerd keeps containers in namespaces: `k8s.io` (its CRI plugin, i.e. kubelet's pods), `moby` (Docker),
//! `default` (`ctr`), and whatever else a client picks (`ctr -n NS`, nerdctl, BuildKit). A cgroup path does
//! not reliably name the namespace, so a lookup lists the namespaces and asks each for the id, the usual ones
//! first. From the answers:
//!
//! | field | from |
//! |---|---|
//! | `container.image`, `.repository`, `.tag` | `Container.image` (the image name the container was created from) |
//! | `container.image.digest` | the image's target descriptor (`Images/Get`) |
//! | `container.image.id` | the config digest of the image's manifest (`Content/Read`), for the host's platform |
//! | `container.labels`, `container.label[...]` | `Container.labels` |
//! | `container.name` | kubelet's `io.kubernetes.container.name` label, else CRI's `io.kubernetes.cri.container-name` annotation, else nerdctl's `nerdctl/name` label, else the id (what `ctr` users name containers by) |
//! | `k8s.ns.name`, `k8s.pod.name`, `k8s.pod.uid` | kubelet's `io.kubernetes.pod.*` labels (CRI copies them onto the container) |
//! | `k8s.pod.label[...]` | the labels of the pod sandbox container (CRI's `io.kubernetes.cri.sandbox-id` annotation), without kubelet's and containerd's own |
//! | `container.privileged` | the OCI spec: `CAP_SYS_ADMIN` in the bounding set and no masked paths — what both `ctr run --privileged` and CRI's privileged mode produce (`WithPrivileged` grants every capability and clears `maskedPaths`), and what no default or `--cap-add`-only container has |
//! | `container.mounts`, `container.mount.*` | the OCI spec's `mounts`: read-only when the options hold `ro`, propagation from `[r]shared`/`[r]slave`/`[r]private` |
//! | created time | `Container.created_at` (containerd keeps no start time; `container.start_ts` comes from the thread table) |
//!
//! Invariants: each lookup uses one HTTP/2 connection and a current-thread runtime on the calling thread
//! (the cache's lookup worker), bounded by the client's timeout per call; every failure is a [`DockerError`]
//! whose [`DockerError::kind`] starts with `containerd_`; nothing here panics on what containerd sends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::docker::{ContainerInfo, DockerError, K8sInfo, Mount, k8s_of_labels, split_image_ref};
use super::grpc::{self, Channel, GrpcError, Wire};
use super::json_text;

/// Where containerd listens by default.
pub const DEFAULT_SOCKET: &str = "/run/containerd/containerd.sock";

/// The namespaces asked first, in this order; the others follow in name order.
const USUAL_NAMESPACES: &[&str] = &["k8s.io", "moby", "default"];

/// The sandbox annotation CRI puts on every container of a pod.
const SANDBOX_ID_ANNOTATION: &str = "io.kubernetes.cri.sandbox-id";

/// A containerd client bound to one socket. Cheap to clone; every lookup opens its own connection.
#[derive(Debug, Clone)]
pub struct ContainerdClient {
    socket: PathBuf,
    timeout: Duration,
}

impl Default for ContainerdClient {
    fn default() -> Self {
        ContainerdClient::new(DEFAULT_SOCKET)
    }
}

/// The raw answer of `Containers/Get`, the fields the mapping reads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RawContainer {
    /// The container id.
    pub id: String,
    /// Container labels.
    pub labels: BTreeMap<String, String>,
    /// The image name.
    pub image: String,
    /// The OCI runtime spec (JSON) when the `Any` holds one.
    pub spec: Option<Vec<u8>>,
    /// Creation time, nanoseconds since the epoch.
    pub created_ns: u64,
    /// The sandbox id (containerd 1.7+ fills it for sandboxed containers).
    pub sandbox: String,
}

fn grpc_error(e: GrpcError, what: &str) -> DockerError {
    let (kind, message) = match &e {
        GrpcError::Connect(_) => (
            "containerd_connect",
            format!("cannot connect to containerd: {e}"),
        ),
        GrpcError::Timeout => (
            "containerd_timeout",
            format!("containerd did not answer in time ({what})"),
        ),
        GrpcError::Status { code, .. } if *code == grpc::NOT_FOUND => {
            ("containerd_not_found", format!("containerd has no {what}"))
        }
        GrpcError::Status { .. } | GrpcError::Transport(_) => (
            "containerd_error",
            format!("containerd failed on {what}: {e}"),
        ),
        GrpcError::Malformed(_) => (
            "containerd_malformed",
            format!("containerd answer to {what}: {e}"),
        ),
    };
    DockerError::Runtime { kind, message }
}

impl ContainerdClient {
    /// A client for containerd at `socket`, with a 5-second timeout per call.
    pub fn new(socket: impl AsRef<Path>) -> Self {
        ContainerdClient {
            socket: socket.as_ref().to_path_buf(),
            timeout: Duration::from_secs(5),
        }
    }

    /// Changes the per-call timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn channel(&self) -> Result<Channel, DockerError> {
        Channel::connect(&self.socket, self.timeout).map_err(|e| match e {
            GrpcError::Connect(source) => DockerError::Runtime {
                kind: "containerd_connect",
                message: format!(
                    "cannot connect to containerd at {}: {source}",
                    self.socket.display()
                ),
            },
            other => grpc_error(other, "the connection"),
        })
    }

    /// The namespaces, the usual ones first.
    pub fn namespaces(&self) -> Result<Vec<String>, DockerError> {
        let mut ch = self.channel()?;
        namespaces(&mut ch)
    }

    /// Looks a container up by id in every namespace and maps it to the `container.*`/`k8s.*` values.
    pub fn inspect(&self, id: &str) -> Result<ContainerInfo, DockerError> {
        let mut ch = self.channel()?;
        for ns in namespaces(&mut ch)? {
            match get_container(&mut ch, &ns, id) {
                Ok(raw) => return Ok(self.describe(&mut ch, &ns, raw)),
                Err(DockerError::Runtime {
                    kind: "containerd_not_found",
                    ..
                }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(DockerError::Runtime {
            kind: "containerd_not_found",
            message: format!("containerd has no container {id} in any namespace"),
        })
    }

    /// The metadata of a container found in `ns`; the image and sandbox lookups are best effort, as the
    /// image inspect is for Docker.
    fn describe(&self, ch: &mut Channel, ns: &str, raw: RawContainer) -> ContainerInfo {
        let mut info = container_info(&raw);
        if let Ok((digest, media_type)) = get_image_target(ch, ns, &raw.image) {
            if let Ok(config) = config_digest(ch, ns, &digest, &media_type) {
                info.image_id = config
                    .strip_prefix("sha256:")
                    .unwrap_or(&config)
                    .to_string();
            }
            info.image_digest = digest;
        }
        let sandbox = match spec_annotation(raw.spec.as_deref(), SANDBOX_ID_ANNOTATION) {
            Some(s) => s,
            None => raw.sandbox.clone(),
        };
        if !sandbox.is_empty()
            && sandbox != raw.id
            && let Some(k8s) = info.k8s.as_mut()
            && let Ok(sb) = get_container(ch, ns, &sandbox)
        {
            k8s.pod_labels = pod_labels(&sb.labels);
        }
        info
    }
}

fn ns_header(ns: &str) -> [(&str, &str); 1] {
    [("containerd-namespace", ns)]
}

fn namespaces(ch: &mut Channel) -> Result<Vec<String>, DockerError> {
    let answer = ch
        .call(
            "/containerd.services.namespaces.v1.Namespaces/List",
            &[],
            &[],
        )
        .map_err(|e| grpc_error(e, "the namespace list"))?;
    let mut names = parse_namespaces(&answer).map_err(|e| grpc_error(e, "the namespace list"))?;
    names.sort_by_key(|n| {
        (
            USUAL_NAMESPACES
                .iter()
                .position(|u| u == n)
                .unwrap_or(USUAL_NAMESPACES.len()),
            n.clone(),
        )
    });
    Ok(names)
}

/// The names in a `ListNamespacesResponse`.
pub fn parse_namespaces(answer: &[u8]) -> Result<Vec<String>, GrpcError> {
    let mut names = Vec::new();
    let mut f = grpc::fields(answer);
    while let Some((n, v)) = f.next_field()? {
        if n == 1 {
            let mut ns = grpc::fields(v.bytes());
            while let Some((n, v)) = ns.next_field()? {
                if n == 1 {
                    names.push(v.string());
                }
            }
        }
    }
    Ok(names)
}

fn get_container(ch: &mut Channel, ns: &str, id: &str) -> Result<RawContainer, DockerError> {
    let mut req = Vec::new();
    grpc::put_bytes(&mut req, 1, id.as_bytes());
    let what = format!("container {id}");
    let answer = ch
        .call(
            "/containerd.services.containers.v1.Containers/Get",
            &ns_header(ns),
            &req,
        )
        .map_err(|e| grpc_error(e, &what))?;
    parse_get_container(&answer).map_err(|e| grpc_error(e, &what))
}

/// The container in a `GetContainerResponse`.
pub fn parse_get_container(answer: &[u8]) -> Result<RawContainer, GrpcError> {
    let mut raw = RawContainer::default();
    let mut f = grpc::fields(answer);
    while let Some((n, v)) = f.next_field()? {
        if n != 1 {
            continue;
        }
        let mut c = grpc::fields(v.bytes());
        while let Some((n, v)) = c.next_field()? {
            match n {
                1 => raw.id = v.string(),
                2 => {
                    let (k, val) = grpc::map_entry(v.bytes())?;
                    raw.labels.insert(k, val);
                }
                3 => raw.image = v.string(),
                5 => raw.spec = Some(any_value(v)?),
                8 => raw.created_ns = grpc::timestamp_ns(v.bytes())?,
                11 => raw.sandbox = v.string(),
                _ => {}
            }
        }
    }
    if raw.id.is_empty() {
        return Err(GrpcError::Malformed("container without an id".into()));
    }
    Ok(raw)
}

/// The `value` of a `google.protobuf.Any` (the spec is JSON whatever its type URL's version).
fn any_value(v: Wire<'_>) -> Result<Vec<u8>, GrpcError> {
    let mut value = Vec::new();
    let mut f = grpc::fields(v.bytes());
    while let Some((n, v)) = f.next_field()? {
        if n == 2 {
            value = v.bytes().to_vec();
        }
    }
    Ok(value)
}

/// The digest and media type of an image's target descriptor.
fn get_image_target(
    ch: &mut Channel,
    ns: &str,
    name: &str,
) -> Result<(String, String), DockerError> {
    let mut req = Vec::new();
    grpc::put_bytes(&mut req, 1, name.as_bytes());
    let what = format!("image {name}");
    let answer = ch
        .call(
            "/containerd.services.images.v1.Images/Get",
            &ns_header(ns),
            &req,
        )
        .map_err(|e| grpc_error(e, &what))?;
    parse_image_target(&answer).map_err(|e| grpc_error(e, &what))
}

/// `(digest, media type)` of the target of the image in a `GetImageResponse`.
pub fn parse_image_target(answer: &[u8]) -> Result<(String, String), GrpcError> {
    let mut digest = String::new();
    let mut media_type = String::new();
    let mut f = grpc::fields(answer);
    while let Some((n, v)) = f.next_field()? {
        if n != 1 {
            continue;
        }
        let mut image = grpc::fields(v.bytes());
        while let Some((n, v)) = image.next_field()? {
            if n != 3 {
                continue;
            }
            let mut d = grpc::fields(v.bytes());
            while let Some((n, v)) = d.next_field()? {
                match n {
                    1 => media_type = v.string(),
                    2 => digest = v.string(),
                    _ => {}
                }
            }
        }
    }
    if digest.is_empty() {
        return Err(GrpcError::Malformed("image without a target digest".into()));
    }
    Ok((digest, media_type))
}

/// A blob of the content store (`Content/Read`, a server-streaming call whose messages carry `data`).
fn read_content(ch: &mut Channel, ns: &str, digest: &str) -> Result<Vec<u8>, DockerError> {
    let mut req = Vec::new();
    grpc::put_bytes(&mut req, 1, digest.as_bytes());
    let what = format!("content {digest}");
    let answer = ch
        .call_streaming(
            "/containerd.services.content.v1.Content/Read",
            &ns_header(ns),
            &req,
        )
        .map_err(|e| grpc_error(e, &what))?;
    let mut data = Vec::new();
    for message in answer {
        let mut f = grpc::fields(&message);
        while let Some((n, v)) = f.next_field().map_err(|e| grpc_error(e, &what))? {
            if n == 2 {
                data.extend_from_slice(v.bytes());
            }
        }
    }
    Ok(data)
}

/// The image config digest (Docker's image id) behind a manifest or an index, for linux/amd64 or the host's
/// architecture when the index lists several.
fn config_digest(
    ch: &mut Channel,
    ns: &str,
    digest: &str,
    media_type: &str,
) -> Result<String, DockerError> {
    let mut digest = digest.to_string();
    let mut media_type = media_type.to_string();
    // an index points at manifests; one level is what registries produce
    for _ in 0..2 {
        let blob = read_content(ch, ns, &digest)?;
        let v: Value = serde_json::from_slice(&blob).map_err(|e| DockerError::Runtime {
            kind: "containerd_malformed",
            message: format!("containerd blob {digest} is not json: {e}"),
        })?;
        if let Some(config) = v.pointer("/config/digest").and_then(Value::as_str) {
            return Ok(config.to_string());
        }
        let manifests = v.get("manifests").and_then(Value::as_array);
        let Some(pick) = manifests.and_then(|m| pick_manifest(m)) else {
            break;
        };
        digest = pick
            .get("digest")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        media_type = pick
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
    }
    Err(DockerError::Runtime {
        kind: "containerd_malformed",
        message: format!("no image config behind {digest} ({media_type})"),
    })
}

fn pick_manifest(manifests: &[Value]) -> Option<&Value> {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    manifests
        .iter()
        .find(|m| {
            m.pointer("/platform/os").and_then(Value::as_str) == Some("linux")
                && m.pointer("/platform/architecture").and_then(Value::as_str) == Some(arch)
        })
        .or_else(|| manifests.first())
}

/// The `container.*`/`k8s.*` values of a container as containerd describes it (see the module docs); image
/// digest/id and pod labels need further calls and are filled by the client.
pub fn container_info(raw: &RawContainer) -> ContainerInfo {
    let spec: Option<Value> = raw
        .spec
        .as_deref()
        .and_then(|s| serde_json::from_slice(s).ok());
    let annotation = |key: &str| -> Option<String> {
        spec.as_ref()?
            .pointer("/annotations")?
            .get(key)?
            .as_str()
            .map(str::to_string)
    };
    let name = raw
        .labels
        .get("io.kubernetes.container.name")
        .cloned()
        .or_else(|| annotation("io.kubernetes.cri.container-name"))
        .or_else(|| raw.labels.get("nerdctl/name").cloned())
        .unwrap_or_else(|| raw.id.clone());
    let (image_repository, image_tag) = if raw.image.starts_with("sha256:") {
        (String::new(), String::new())
    } else {
        split_image_ref(&raw.image)
    };
    let mut k8s = k8s_of_labels(&raw.labels);
    if k8s.is_none()
        && let Some(ns_name) = annotation("io.kubernetes.cri.sandbox-namespace")
    {
        k8s = Some(K8sInfo {
            ns_name,
            pod_name: annotation("io.kubernetes.cri.sandbox-name").unwrap_or_default(),
            pod_uid: annotation("io.kubernetes.cri.sandbox-uid").unwrap_or_default(),
            pod_labels: BTreeMap::new(),
        });
    }
    if let Some(k) = k8s.as_mut() {
        // kubelet's labels on a CRI container are its bookkeeping, not the pod's labels
        k.pod_labels = BTreeMap::new();
    }
    ContainerInfo {
        id: raw.id.clone(),
        name,
        image: raw.image.clone(),
        image_repository,
        image_tag,
        privileged: spec.as_ref().is_some_and(is_privileged),
        mounts: spec.as_ref().map(mounts_of_spec).unwrap_or_default(),
        labels: raw.labels.clone(),
        created_ts: raw.created_ns,
        k8s,
        engine: Some(super::Engine::Containerd),
        ..ContainerInfo::default()
    }
}

fn spec_annotation(spec: Option<&[u8]>, key: &str) -> Option<String> {
    let v: Value = serde_json::from_slice(spec?).ok()?;
    v.pointer("/annotations")?
        .get(key)?
        .as_str()
        .map(str::to_string)
}

/// The pod's labels from its sandbox container's labels: kubelet's and containerd's own keys left out.
fn pod_labels(sandbox_labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    sandbox_labels
        .iter()
        .filter(|(k, _)| {
            !k.starts_with("io.kubernetes.")
                && !k.starts_with("io.cri-containerd.")
                && !k.starts_with("annotation.")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Privileged as `WithPrivileged` leaves the spec: `CAP_SYS_ADMIN` in the bounding set and no masked paths.
pub fn is_privileged(spec: &Value) -> bool {
    let sys_admin = spec
        .pointer("/process/capabilities/bounding")
        .and_then(Value::as_array)
        .is_some_and(|caps| caps.iter().any(|c| c.as_str() == Some("CAP_SYS_ADMIN")));
    let masked = spec
        .pointer("/linux/maskedPaths")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty());
    sys_admin && !masked
}

/// The mounts of an OCI spec, in its order.
pub fn mounts_of_spec(spec: &Value) -> Vec<Mount> {
    let Some(mounts) = spec.get("mounts").and_then(Value::as_array) else {
        return Vec::new();
    };
    mounts
        .iter()
        .map(|m| {
            let text = |k: &str| json_text(m, k);
            let options: Vec<&str> = m
                .get("options")
                .and_then(Value::as_array)
                .map(|o| o.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let propagation = options
                .iter()
                .rev()
                .find(|o| {
                    matches!(
                        **o,
                        "rprivate" | "private" | "rshared" | "shared" | "rslave" | "slave"
                    )
                })
                .map(|o| (*o).to_string())
                .unwrap_or_default();
            Mount {
                source: text("source"),
                dest: text("destination"),
                mode: String::new(),
                rw: !options.contains(&"ro"),
                propagation,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::grpc::{put_bytes, put_varint};

    fn entry(k: &str, v: &str) -> Vec<u8> {
        let mut e = Vec::new();
        put_bytes(&mut e, 1, k.as_bytes());
        put_bytes(&mut e, 2, v.as_bytes());
        e
    }

    /// A `GetContainerResponse` as containerd encodes it, with fields the client ignores in between.
    fn get_container_answer(spec: &str) -> Vec<u8> {
        let mut c = Vec::new();
        put_bytes(&mut c, 1, b"c0ffee");
        put_bytes(&mut c, 2, &entry("io.kubernetes.pod.name", "web-0"));
        put_bytes(&mut c, 2, &entry("io.kubernetes.pod.namespace", "shop"));
        put_bytes(&mut c, 2, &entry("io.kubernetes.container.name", "nginx"));
        put_bytes(&mut c, 2, &entry("tier", "front"));
        put_bytes(&mut c, 3, b"registry.local:5000/library/nginx:1.27");
        let mut runtime = Vec::new();
        put_bytes(&mut runtime, 1, b"io.containerd.runc.v2");
        put_bytes(&mut c, 4, &runtime);
        let mut any = Vec::new();
        put_bytes(
            &mut any,
            1,
            b"types.containerd.io/opencontainers/runtime-spec/1/Spec",
        );
        put_bytes(&mut any, 2, spec.as_bytes());
        put_bytes(&mut c, 5, &any);
        put_bytes(&mut c, 6, b"overlayfs");
        let mut ts = Vec::new();
        put_varint(&mut ts, 1 << 3);
        put_varint(&mut ts, 1_700_000_000);
        put_bytes(&mut c, 8, &ts);
        put_bytes(&mut c, 99, b"a field from the future");
        let mut answer = Vec::new();
        put_bytes(&mut answer, 1, &c);
        answer
    }

    const PRIVILEGED_SPEC: &str = r#"{"process":{"capabilities":{"bounding":["CAP_CHOWN","CAP_SYS_ADMIN"]}},
        "linux":{"maskedPaths":[]},
        "mounts":[{"destination":"/proc","type":"proc","source":"proc","options":["nosuid"]},
                  {"destination":"/etc/hosts","type":"bind","source":"/var/lib/x/hosts","options":["rbind","rprivate","ro"]}]}"#;

    #[test]
    fn get_container_answer_maps_to_fields() {
        let raw = parse_get_container(&get_container_answer(PRIVILEGED_SPEC)).unwrap();
        assert_eq!(raw.id, "c0ffee");
        assert_eq!(raw.created_ns, 1_700_000_000_000_000_000);
        let info = container_info(&raw);
        assert_eq!(info.name, "nginx");
        assert_eq!(info.image, "registry.local:5000/library/nginx:1.27");
        assert_eq!(info.image_repository, "registry.local:5000/library/nginx");
        assert_eq!(info.image_tag, "1.27");
        assert!(info.privileged);
        let k8s = info.k8s.as_ref().unwrap();
        assert_eq!(
            (k8s.ns_name.as_str(), k8s.pod_name.as_str()),
            ("shop", "web-0")
        );
        assert_eq!(info.labels.get("tier").map(String::as_str), Some("front"));
        assert_eq!(info.mounts.len(), 2);
        assert_eq!(
            info.mounts[1].to_string(),
            "/var/lib/x/hosts:/etc/hosts::false:rprivate"
        );
        assert!(info.mounts[0].rw);
    }

    #[test]
    fn default_specs_are_not_privileged() {
        for spec in [
            // docker/ctr default: no CAP_SYS_ADMIN, masked paths
            r#"{"process":{"capabilities":{"bounding":["CAP_CHOWN"]}},"linux":{"maskedPaths":["/proc/kcore"]}}"#,
            // --cap-add SYS_ADMIN alone keeps the masked paths
            r#"{"process":{"capabilities":{"bounding":["CAP_SYS_ADMIN"]}},"linux":{"maskedPaths":["/proc/kcore"]}}"#,
            r#"{}"#,
        ] {
            let v: Value = serde_json::from_str(spec).unwrap();
            assert!(!is_privileged(&v), "{spec}");
        }
    }

    #[test]
    fn name_falls_back_to_the_id_and_cri_annotations_give_the_pod() {
        let raw = RawContainer {
            id: "abc".into(),
            image: "sha256:0123".into(),
            spec: Some(
                br#"{"annotations":{"io.kubernetes.cri.sandbox-namespace":"kube-system",
                    "io.kubernetes.cri.sandbox-name":"etcd-node1"}}"#
                    .to_vec(),
            ),
            ..RawContainer::default()
        };
        let info = container_info(&raw);
        assert_eq!(info.name, "abc");
        assert_eq!(info.image_repository, "");
        let k8s = info.k8s.unwrap();
        assert_eq!(
            (k8s.ns_name.as_str(), k8s.pod_name.as_str()),
            ("kube-system", "etcd-node1")
        );
    }

    #[test]
    fn namespaces_and_image_targets_parse() {
        let mut answer = Vec::new();
        for n in ["default", "k8s.io"] {
            let mut ns = Vec::new();
            put_bytes(&mut ns, 1, n.as_bytes());
            put_bytes(&mut ns, 2, &entry("x", "y"));
            put_bytes(&mut answer, 1, &ns);
        }
        assert_eq!(
            parse_namespaces(&answer).unwrap(),
            vec!["default", "k8s.io"]
        );
        let mut d = Vec::new();
        put_bytes(&mut d, 1, b"application/vnd.oci.image.index.v1+json");
        put_bytes(&mut d, 2, b"sha256:feed");
        let mut image = Vec::new();
        put_bytes(&mut image, 1, b"docker.io/library/busybox:latest");
        put_bytes(&mut image, 3, &d);
        let mut answer = Vec::new();
        put_bytes(&mut answer, 1, &image);
        assert_eq!(
            parse_image_target(&answer).unwrap(),
            (
                "sha256:feed".to_string(),
                "application/vnd.oci.image.index.v1+json".to_string()
            )
        );
        assert!(parse_image_target(&[]).is_err());
        assert!(parse_get_container(&[]).is_err());
    }
}
