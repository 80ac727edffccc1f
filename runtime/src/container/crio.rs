//! CRI-O's inspect endpoint: JSON over HTTP/1.1 on CRI-O's unix socket (`GET /containers/<id>`), the same
//! socket that serves the CRI gRPC API.
//!
//! The answer (CRI-O's `ContainerInfo`) holds `name`, `pid`, `image`, `image_ref`, `created_time`
//! (nanoseconds), `labels`, `annotations`, `crio_annotations`, `log_path`, `root`, `sandbox` and
//! `ip_addresses`. It maps to the fields as follows:
//!
//! | field | from |
//! |---|---|
//! | `container.name` | kubelet's `io.kubernetes.container.name` label, else `name` |
//! | `container.image`, `.repository`, `.tag` | `image` |
//! | `container.image.id` | `image_ref` (or the `io.kubernetes.cri-o.ImageRef` annotation), without `sha256:` |
//! | `container.labels`, `k8s.ns.name`, `k8s.pod.name`, `k8s.pod.uid` | `labels` (kubelet's `io.kubernetes.pod.*`) |
//! | `container.mounts`, `container.mount.*` | the `io.kubernetes.cri-o.Volumes` annotation (`container_path`, `host_path`, `readonly`, `propagation`) |
//!
//! Not available from this endpoint: `container.privileged` (false), `container.image.digest` (empty) and the
//! pod's own labels (`k8s.pod.label[...]`). Every failure is a [`DockerError`] whose kind starts with `crio_`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::cgroup::Engine;
use super::docker::{
    ContainerInfo, DockerClient, DockerError, Mount, k8s_of_labels, split_image_ref,
};
use super::{json_string_map, json_text};

/// Where CRI-O listens by default.
pub const DEFAULT_SOCKET: &str = "/var/run/crio/crio.sock";

/// A CRI-O inspect client bound to one socket (HTTP/1.1 as the Docker client speaks it).
#[derive(Debug, Clone)]
pub struct CrioClient {
    http: DockerClient,
}

impl Default for CrioClient {
    fn default() -> Self {
        CrioClient::new(DEFAULT_SOCKET)
    }
}

impl CrioClient {
    /// A client for CRI-O at `socket`, with a 5-second timeout per read or write.
    pub fn new(socket: impl AsRef<Path>) -> Self {
        CrioClient {
            http: DockerClient::new(socket),
        }
    }

    /// Changes the per-read/per-write timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.with_timeout(timeout);
        self
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        self.http.socket()
    }

    /// Inspects a container by full id.
    pub fn inspect(&self, id: &str) -> Result<ContainerInfo, DockerError> {
        let body = self
            .http
            .get(&format!("/containers/{id}"))
            .map_err(|e| super::runtimes::rewrap("crio", &format!("container {id}"), e))?;
        parse_inspect_json(id, &body)
    }
}

/// Maps a CRI-O inspect answer for container `id` (see the module docs).
pub fn parse_inspect_json(id: &str, body: &[u8]) -> Result<ContainerInfo, DockerError> {
    let malformed = |m: String| DockerError::Runtime {
        kind: "crio_malformed",
        message: format!("malformed json from cri-o: {m}"),
    };
    let v: Value = serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
    if !v.is_object() {
        return Err(malformed("the answer is not an object".into()));
    }
    let text = |k: &str| json_text(&v, k);
    let map = |k: &str| json_string_map(&v, k);
    let labels = map("labels");
    let crio_annotations = map("crio_annotations");
    let image = text("image");
    let (image_repository, image_tag) = if image.starts_with("sha256:") {
        (String::new(), String::new())
    } else {
        split_image_ref(&image)
    };
    let mut image_id = text("image_ref");
    if image_id.is_empty() {
        image_id = crio_annotations
            .get("io.kubernetes.cri-o.ImageRef")
            .cloned()
            .unwrap_or_default();
    }
    let mounts = crio_annotations
        .get("io.kubernetes.cri-o.Volumes")
        .map(|j| volumes(j))
        .unwrap_or_default();
    let name = labels
        .get("io.kubernetes.container.name")
        .cloned()
        .unwrap_or_else(|| text("name"));
    let mut k8s = k8s_of_labels(&labels);
    if let Some(k) = k8s.as_mut() {
        k.pod_labels = BTreeMap::new();
    }
    Ok(ContainerInfo {
        id: id.to_string(),
        name,
        image,
        image_repository,
        image_tag,
        image_id: image_id
            .strip_prefix("sha256:")
            .unwrap_or(&image_id)
            .to_string(),
        mounts,
        created_ts: v.get("created_time").and_then(Value::as_u64).unwrap_or(0),
        k8s,
        labels,
        engine: Some(Engine::CriO),
        ..ContainerInfo::default()
    })
}

/// The mounts listed in CRI-O's `io.kubernetes.cri-o.Volumes` annotation (propagation: 0 private,
/// 1 rslave, 2 rshared, as the CRI enum numbers them).
fn volumes(json: &str) -> Vec<Mount> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|m| {
            let text = |k: &str| json_text(m, k);
            let propagation = match m.get("propagation").and_then(Value::as_u64) {
                Some(1) => "rslave",
                Some(2) => "rshared",
                _ => "rprivate",
            };
            Mount {
                source: text("host_path"),
                dest: text("container_path"),
                mode: String::new(),
                rw: !m.get("readonly").and_then(Value::as_bool).unwrap_or(false),
                propagation: propagation.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_answer_maps_to_fields() {
        let body = br#"{"name":"k8s_api_api-5f7_shop_0a1b_0","pid":4242,
            "image":"quay.io/shop/api:2.1","image_ref":"sha256:9f8e7d",
            "created_time":1700000000123456789,
            "labels":{"io.kubernetes.container.name":"api","io.kubernetes.pod.name":"api-5f7",
                      "io.kubernetes.pod.namespace":"shop","io.kubernetes.pod.uid":"0a1b"},
            "annotations":{"io.kubernetes.container.hash":"1"},
            "crio_annotations":{"io.kubernetes.cri-o.Volumes":
              "[{\"container_path\":\"/data\",\"host_path\":\"/srv/data\",\"readonly\":true,\"propagation\":2}]"},
            "log_path":"/var/log/pods/x","root":"/var/lib/containers/x","sandbox":"ab12",
            "ip_addresses":["10.0.0.7"]}"#;
        let info = parse_inspect_json("c0", body).unwrap();
        assert_eq!(info.name, "api");
        assert_eq!(info.image_repository, "quay.io/shop/api");
        assert_eq!(info.image_tag, "2.1");
        assert_eq!(info.image_id, "9f8e7d");
        assert_eq!(info.created_ts, 1_700_000_000_123_456_789);
        assert_eq!(info.engine, Some(Engine::CriO));
        let k8s = info.k8s.unwrap();
        assert_eq!(
            (
                k8s.ns_name.as_str(),
                k8s.pod_name.as_str(),
                k8s.pod_uid.as_str()
            ),
            ("shop", "api-5f7", "0a1b")
        );
        assert_eq!(info.mounts.len(), 1);
        assert_eq!(info.mounts[0].to_string(), "/srv/data:/data::false:rshared");
    }

    #[test]
    fn malformed_answers_are_errors() {
        for body in [&b"[]"[..], b"{", b""] {
            let e = parse_inspect_json("c0", body).unwrap_err();
            assert_eq!(e.kind(), "crio_malformed", "{body:?}");
        }
    }
}
