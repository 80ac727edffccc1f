//! Container metadata: which container a thread runs in, and what the container runtime says about it.
//!
//! - [`cgroup`]: the container id from a thread's cgroup paths (docker, containerd/CRI, CRI-O, podman; cgroup
//!   v1 and v2; systemd and cgroupfs drivers), `host` otherwise.
//! - [`docker`]: a Docker Engine API client over `/var/run/docker.sock` and the mapping of its answers to
//!   the `container.*` and `k8s.*` fields; podman's Docker-compatible API is served by the same client.
//! - `containerd` (feature `containerd`, on by default): containerd's gRPC API on
//!   `/run/containerd/containerd.sock`, every namespace (`k8s.io` for CRI, `moby`, `default`, ...).
//! - [`crio`]: CRI-O's JSON inspect endpoint on `/var/run/crio/crio.sock`.
//! - [`runtimes`]: the set of runtimes a lookup asks, the one the cgroup layout names first.
//! - [`cache`]: asynchronous cached lookups, so the event loop never waits for the daemon.
//! - [`fields`]: the values of `container.*` and `k8s.*` fields from what the cache knows.
//! - [`tracker`]: the engine's view — which container an event belongs to, lookups on first sight,
//!   `container` metaevents read from and made for the event stream.
//! - this module: the `container` metaevent payload (PPME_CONTAINER_JSON_E / _2_E), so captures carry the
//!   metadata and replay needs no daemon.

pub mod cache;
pub mod cgroup;
#[cfg(feature = "containerd")]
pub mod containerd;
pub mod crio;
pub mod docker;
pub mod fields;
#[cfg(feature = "containerd")]
mod grpc;
pub mod runtimes;
pub mod tracker;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

pub use cache::{ContainerCache, Lookup};
pub use cgroup::{ContainerId, Engine};
pub use docker::{ContainerInfo, DockerClient, DockerError, K8sInfo, Mount};
pub use runtimes::Runtimes;
pub use tracker::Containers;

/// libsinsp's `container_type` number for an engine (`type` in the metaevent JSON).
pub fn container_type_number(engine: Engine) -> u64 {
    match engine {
        Engine::Docker => 0,
        Engine::Cri => 6,
        Engine::Containerd => 7,
        Engine::CriO => 8,
        Engine::Podman => 11,
    }
}

pub(crate) fn engine_of_type_number(n: u64) -> Option<Engine> {
    Some(match n {
        0 => Engine::Docker,
        6 => Engine::Cri,
        7 => Engine::Containerd,
        8 => Engine::CriO,
        11 => Engine::Podman,
        _ => return None,
    })
}

/// The JSON payload of a `container` metaevent, in the layout libsinsp writes and reads
/// (`{"container": {"id", "full_id", "type", "name", "image", "imagerepo", "imagetag", "imagedigest",
/// "imageid", "privileged", "Mounts", "labels", "created_time", "lookup_state"}}`), plus `start_ts`
/// (nanoseconds), which libsinsp ignores.
pub fn to_metaevent_json(info: &ContainerInfo, engine: Engine) -> String {
    let mounts: Vec<Value> = info
        .mounts
        .iter()
        .map(|m| {
            json!({"Source": m.source, "Destination": m.dest, "Mode": m.mode, "RW": m.rw,
                   "Propagation": m.propagation})
        })
        .collect();
    let pod_labels: Map<String, Value> = info
        .k8s
        .iter()
        .flat_map(|k| k.pod_labels.iter())
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({"container": {
        "id": info.short_id(),
        "full_id": info.id,
        "type": container_type_number(engine),
        "name": info.name,
        "image": info.image,
        "imagerepo": info.image_repository,
        "imagetag": info.image_tag,
        "imagedigest": info.image_digest,
        "imageid": info.image_id,
        "privileged": info.privileged,
        "Mounts": mounts,
        "labels": info.labels,
        "pod_sandbox_labels": pod_labels,
        "created_time": info.created_ts / 1_000_000_000,
        "start_ts": info.start_ts,
        "lookup_state": 1,
    }})
    .to_string()
}

/// `v[key]` as a string; empty when absent or not a string (runtimes leave out what they do not know,
/// and an absent string field renders like an empty one).
pub(crate) fn json_text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `v[key]` as a map of its string values (labels, annotations); entries whose value is not a string
/// are skipped, and an absent or non-object key gives an empty map.
pub(crate) fn json_string_map(v: &Value, key: &str) -> BTreeMap<String, String> {
    v.get(key)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a `container` metaevent payload (written by libsinsp, Falco or frule). Returns the metadata and
/// the engine when the type is one frule knows.
pub fn from_metaevent_json(payload: &[u8]) -> Result<(ContainerInfo, Option<Engine>), DockerError> {
    // libsinsp NUL-terminates the string parameter
    let payload = payload.strip_suffix(b"\0").unwrap_or(payload);
    let v: Value =
        serde_json::from_slice(payload).map_err(|e| DockerError::MalformedJson(e.to_string()))?;
    let c = v
        .get("container")
        .filter(|c| c.is_object())
        .ok_or_else(|| {
            DockerError::MalformedJson("metaevent without a `container` object".into())
        })?;
    let s = |k: &str| json_text(c, k);
    let string_map = |k: &str| json_string_map(c, k);
    let mut id = s("full_id");
    if id.is_empty() {
        id = s("id");
    }
    if id.is_empty() {
        return Err(DockerError::MalformedJson(
            "container metaevent without an id".into(),
        ));
    }
    let mounts = c
        .get("Mounts")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|m| Mount {
                    source: json_text(m, "Source"),
                    dest: json_text(m, "Destination"),
                    mode: json_text(m, "Mode"),
                    rw: m.get("RW").and_then(Value::as_bool).unwrap_or(false),
                    propagation: json_text(m, "Propagation"),
                })
                .collect()
        })
        .unwrap_or_default();
    let labels = string_map("labels");
    let mut k8s = docker::k8s_of_labels(&labels);
    let sandbox_labels = string_map("pod_sandbox_labels");
    if let Some(k) = k8s.as_mut()
        && !sandbox_labels.is_empty()
    {
        k.pod_labels = sandbox_labels;
    }
    let info = ContainerInfo {
        id,
        name: s("name"),
        image: s("image"),
        image_repository: s("imagerepo"),
        image_tag: s("imagetag"),
        image_digest: s("imagedigest"),
        image_id: s("imageid"),
        privileged: c
            .get("privileged")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        mounts,
        labels,
        created_ts: c
            .get("created_time")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000),
        start_ts: c.get("start_ts").and_then(Value::as_u64).unwrap_or(0),
        k8s,
        engine: None,
    };
    let engine = c
        .get("type")
        .and_then(Value::as_u64)
        .and_then(engine_of_type_number);
    Ok((ContainerInfo { engine, ..info }, engine))
}
