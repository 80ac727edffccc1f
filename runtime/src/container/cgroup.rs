//! Container ids from cgroup paths.
//!
//! The kernel puts every process of a container into cgroups whose path names the container. The layouts
//! recognised here are the ones Falco's container plugin knows for runc-based engines:
//!
//! | engine | cgroup v1/v2, cgroupfs driver | systemd driver |
//! |---|---|---|
//! | Docker | `/docker/<id>` | `/system.slice/docker-<id>.scope` |
//! | containerd (CRI) | `/kubepods/<qos>/pod<uid>/<id>` | `/kubepods.slice/…/cri-containerd-<id>.scope`, `…:cri-containerd:<id>` |
//! | CRI-O | `/kubepods/…/crio-<id>` | `/kubepods.slice/…/crio-<id>.scope` |
//! | Podman | `/libpod_parent/libpod-<id>` | `/machine.slice/libpod-<id>.scope[/container]` |
//! | nerdctl | | `/system.slice/nerdctl-<id>.scope` |
//! | containerd (`ctr`, any client) | `/<namespace>/<id>` (`/default/<id>`, `/k8s.io/<id>`, ...) | |
//!
//! Invariants:
//! - an id is exactly 64 hex digits (what runc-based engines generate); anything else is not a container, so a
//!   `*.scope` of some unrelated service never yields an id;
//! - within one path the deepest component that names a container wins (nested containers report the inner one);
//! - within a thread's list of cgroups the first entry that names a container wins (all controllers agree on
//!   a normal system);
//! - a thread with cgroups of which none names a container is on the `host`, as Falco shows it.
//!
//! A bare id right under one top-level component other than `docker` is taken for containerd's layout (its
//! namespace above the id); deeper bare ids outside Kubernetes (ECS's `/ecs/<task>/<id>`, custom
//! `--cgroup-parent`s) stay Docker's. The engine is only the first runtime asked: lookups fall back to the
//! others ([`super::runtimes`]).
//!
//! Not recognised, unlike Falco's container plugin: containerd containers started with arbitrary (non-hex)
//! ids through `ctr` (the plugin takes any name up to 64 characters right under a top-level cgroup, which also
//! turns host cgroups such as `/user-sessions/1234` into containers); nor LXC, libvirt-lxc and BPM. Inside a cgroup namespace (`/` as the only path) nothing can
//! be recognised either; the thread looks like a host thread.

use std::fmt;

/// Length of the container id Falco shows in `container.id` (the id truncated to 12 hex digits).
pub const SHORT_ID_LEN: usize = 12;

/// Length of a full container id as runc-based engines generate it.
pub const FULL_ID_LEN: usize = 64;

/// The container engine a cgroup layout belongs to; it picks the API that can describe the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Docker Engine (`docker-<id>.scope`, `/docker/<id>`); also bare ids outside Kubernetes.
    Docker,
    /// containerd through its CRI plugin or nerdctl.
    Containerd,
    /// CRI-O.
    CriO,
    /// Podman (libpod).
    Podman,
    /// A bare id under `kubepods`: a CRI runtime whose kind the path does not tell (containerd, or Docker
    /// through cri-dockerd with the cgroupfs driver).
    Cri,
}

impl Engine {
    /// The name Falco's `container.type` shows for this engine.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Containerd => "containerd",
            Engine::CriO => "cri-o",
            Engine::Podman => "podman",
            Engine::Cri => "cri",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a thread runs: on the host or in a container with a full id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ContainerId {
    /// Not in a container (Falco's `container.id` = `host`).
    Host,
    /// In the container with this id.
    Container {
        /// The full 64-hex-digit id, as the engine APIs want it.
        full: String,
        /// The engine the cgroup layout belongs to.
        engine: Engine,
    },
}

impl ContainerId {
    /// The value of `container.id`: `host`, or the first 12 digits of the id.
    pub fn short(&self) -> &str {
        match self {
            ContainerId::Host => "host",
            ContainerId::Container { full, .. } => full.get(..SHORT_ID_LEN).unwrap_or(full),
        }
    }

    /// The full id (`container.full_id`), `host` for host threads.
    pub fn full(&self) -> &str {
        match self {
            ContainerId::Host => "host",
            ContainerId::Container { full, .. } => full,
        }
    }

    /// True for host threads.
    pub fn is_host(&self) -> bool {
        matches!(self, ContainerId::Host)
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short())
    }
}

/// The container of a thread from the `cgroups` parameter of clone/execve events: NUL-separated (or
/// NUL-terminated) `subsys=path` strings.
pub fn container_id(cgroups: &[u8]) -> ContainerId {
    container_id_of_entries(cgroups.split(|&b| b == 0))
}

/// The container of a thread from already split `subsys=path` entries (a bare path is accepted too).
pub fn container_id_of_entries<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> ContainerId {
    for entry in entries {
        // the path starts at the first '/'; `subsys=` (event parameter) or `N:subsys:` (/proc) precede it
        let Some(start) = entry.iter().position(|&b| b == b'/') else {
            continue;
        };
        if let Some((full, engine)) = id_of_path(&entry[start..]) {
            return ContainerId::Container { full, engine };
        }
    }
    ContainerId::Host
}

/// The container of a process from the text of `/proc/PID/cgroup` (`hierarchy:controllers:path` lines).
pub fn container_id_of_proc_cgroup(text: &str) -> ContainerId {
    container_id_of_entries(text.lines().map(str::as_bytes))
}

/// The full id and engine named by one cgroup path, if any.
pub fn id_of_path(path: &[u8]) -> Option<(String, Engine)> {
    // walk the components from the deepest one, without allocating
    let mut end = path.len();
    loop {
        let head = path.get(..end)?;
        let start = head.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        let comp = head.get(start..).unwrap_or_default();
        let parent = head.get(..start.saturating_sub(1)).unwrap_or_default();
        if !comp.is_empty()
            && let Some(found) = id_of_component(comp, parent)
        {
            return Some(found);
        }
        if start == 0 {
            return None;
        }
        end = start - 1;
    }
}

/// Prefixes (and the suffixes allowed after the id) of the systemd/cgroupfs unit names engines create.
const NAMED_LAYOUTS: &[(&[u8], Engine)] = &[
    (b"docker-", Engine::Docker),
    (b"cri-containerd-", Engine::Containerd),
    (b"nerdctl-", Engine::Containerd),
    (b"crio-", Engine::CriO),
    (b"libpod-payload-", Engine::Podman),
    (b"libpod-", Engine::Podman),
];

/// `parent` is the path above `comp` (without the separating `/`).
fn id_of_component(comp: &[u8], parent: &[u8]) -> Option<(String, Engine)> {
    // containerd without `SystemdCgroup = true`: `<slice>:cri-containerd:<id>`
    if let Some(pos) = find(comp, b":cri-containerd:") {
        let id = comp
            .get(pos + b":cri-containerd:".len()..)
            .unwrap_or_default();
        return is_full_id(id).then(|| (hex(id), Engine::Containerd));
    }
    for (prefix, engine) in NAMED_LAYOUTS {
        if let Some(rest) = comp.strip_prefix(*prefix) {
            let id = rest.strip_suffix(b".scope").unwrap_or(rest);
            if is_full_id(id) {
                return Some((hex(id), *engine));
            }
        }
    }
    if is_full_id(comp) {
        let parent_name = parent.rsplit(|&b| b == b'/').next().unwrap_or_default();
        let engine = if find(parent, b"/kubepods").is_some() || parent.starts_with(b"kubepods") {
            Engine::Cri
        } else if parent_name.starts_with(b"libpod") {
            Engine::Podman
        } else if is_containerd_namespace(parent) {
            Engine::Containerd
        } else {
            Engine::Docker
        };
        return Some((hex(comp), engine));
    }
    None
}

/// `/<name>` where the name could be a containerd namespace (letters, digits, `.`, `_`, `-`) and is neither
/// Docker's cgroupfs parent nor a systemd unit.
fn is_containerd_namespace(parent: &[u8]) -> bool {
    let Some(name) = parent.strip_prefix(b"/") else {
        return false;
    };
    !name.is_empty()
        && name != b"docker"
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && ![&b".slice"[..], b".scope", b".service"]
            .iter()
            .any(|s| name.ends_with(s))
}

fn is_full_id(s: &[u8]) -> bool {
    s.len() == FULL_ID_LEN && s.iter().all(u8::is_ascii_hexdigit)
}

fn hex(s: &[u8]) -> String {
    // only called on ASCII hex digits; engines use lowercase ids in their APIs
    String::from_utf8_lossy(s).to_ascii_lowercase()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
