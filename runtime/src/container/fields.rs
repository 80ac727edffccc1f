//! Values of the `container.*` and `k8s.*` fields, as Falco's container plugin extracts them.
//!
//! This is the one place that maps a [`Lookup`] to field values, so field extraction only has to pass the
//! thread's [`ContainerId`] and what the cache says about it. Rules followed (from the plugin):
//! - host threads behave as a container named `host`: `container.id`, `container.full_id` and
//!   `container.name` are `host`, `container.type` is `host`, other strings are empty, `container.privileged`
//!   is false;
//! - while the metadata is pending or after a failed lookup only `container.id` has a value (the plugin's
//!   "no info for the container id" case; `container.full_id` is part of the enrichment); every other field
//!   has none (`None`: `<NA>` in outputs, comparisons false);
//! - `k8s.ns.name`, `k8s.pod.name`, `k8s.pod.uid`/`k8s.pod.id` come from kubelet's `io.kubernetes.pod.*`
//!   labels and have no value without them; `container.labels` and `k8s.pod.labels` list `key:value` pairs
//!   joined by `, `, leaving out `io.kubernetes.*` and `annotation.*` labels;
//! - `container.mount[N]` / `container.mount.*[N]` select by index; `container.mount.source[P]` selects the
//!   mount whose *destination* matches the glob P, every other `container.mount*[P]` the mount whose *source*
//!   matches P (libsinsp's convention, which rules like `container.mount.dest[/var/run/docker.sock]` rely on).
//!
//! `container.start_ts` and `container.duration` come from the thread table (the pid namespace's init start
//! time), not from here.

use std::borrow::Cow;

use super::cache::Lookup;
use super::cgroup::{ContainerId, Engine};
use super::docker::{ContainerInfo, Mount};

/// A field value; strings borrow from the cache entry where they can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// A string field.
    Str(Cow<'a, str>),
    /// A boolean field (`container.privileged`, `container.mount.rdwr`).
    Bool(bool),
}

/// Names of the fields [`extract`] serves, for schema checks.
pub const FIELDS: &[&str] = &[
    "container.id",
    "container.full_id",
    "container.name",
    "container.type",
    "container.image",
    "container.image.id",
    "container.image.repository",
    "container.image.tag",
    "container.image.digest",
    "container.privileged",
    "container.mounts",
    "container.mount",
    "container.mount.source",
    "container.mount.dest",
    "container.mount.mode",
    "container.mount.rdwr",
    "container.mount.propagation",
    "container.label",
    "container.labels",
    "k8s.ns.name",
    "k8s.pod.name",
    "k8s.pod.id",
    "k8s.pod.uid",
    "k8s.pod.label",
    "k8s.pod.labels",
];

/// Whose container fields are asked for: a host thread, or a container known by its short id (and, when the
/// cgroup layout or a metaevent said so, its engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A host thread.
    Host,
    /// A container.
    Container {
        /// The 12-digit id (`container.id`).
        short: &'a str,
        /// The engine, for `container.type`.
        engine: Option<Engine>,
    },
}

/// The value of `name` (with its `[arg]`, if any) for a thread in container `id`; `None` when the field has
/// no value or is not a container field.
pub fn extract<'a>(
    name: &str,
    arg: Option<&str>,
    id: &'a ContainerId,
    lookup: Lookup<'a>,
) -> Option<FieldValue<'a>> {
    let subject = match id {
        ContainerId::Host => Subject::Host,
        ContainerId::Container { engine, .. } => Subject::Container {
            short: id.short(),
            engine: Some(*engine),
        },
    };
    extract_subject(name, arg, subject, lookup)
}

/// [`extract`] for a [`Subject`]: what field extraction calls, with the short id the thread table keeps.
pub fn extract_subject<'a>(
    name: &str,
    arg: Option<&str>,
    subject: Subject<'a>,
    lookup: Lookup<'a>,
) -> Option<FieldValue<'a>> {
    let s = |v: &'a str| Some(FieldValue::Str(Cow::Borrowed(v)));
    let (short, engine) = match subject {
        Subject::Host => {
            return match name {
                "container.id" | "container.full_id" => s("host"),
                _ => host_value(name),
            };
        }
        Subject::Container { short, engine } => (short, engine),
    };
    if name == "container.id" {
        return s(short);
    }
    let Lookup::Ready(info) = lookup else {
        // pending or failed: the plugin has no info for the container id, only `container.id` has a value
        return None;
    };
    match name {
        "container.full_id" => s(&info.id),
        "container.name" => s(&info.name),
        "container.type" => s(engine?.as_str()),
        "container.image" => s(&info.image),
        "container.image.id" => s(&info.image_id),
        "container.image.repository" => s(&info.image_repository),
        "container.image.tag" => s(&info.image_tag),
        "container.image.digest" => s(&info.image_digest),
        "container.privileged" => Some(FieldValue::Bool(info.privileged)),
        "container.mounts" => Some(FieldValue::Str(Cow::Owned(info.mounts_string()))),
        "container.mount"
        | "container.mount.source"
        | "container.mount.dest"
        | "container.mount.mode"
        | "container.mount.rdwr"
        | "container.mount.propagation" => {
            let mount = select_mount(info, name, arg?)?;
            Some(match name {
                "container.mount" => FieldValue::Str(Cow::Owned(mount.to_string())),
                "container.mount.source" => FieldValue::Str(Cow::Borrowed(&mount.source)),
                "container.mount.dest" => FieldValue::Str(Cow::Borrowed(&mount.dest)),
                "container.mount.mode" => FieldValue::Str(Cow::Borrowed(&mount.mode)),
                "container.mount.rdwr" => FieldValue::Bool(mount.rw),
                _ => FieldValue::Str(Cow::Borrowed(&mount.propagation)),
            })
        }
        "container.label" => info
            .labels
            .get(arg?)
            .map(|v| FieldValue::Str(Cow::Borrowed(v))),
        "container.labels" => Some(FieldValue::Str(Cow::Owned(join_labels(info.labels.iter())))),
        "k8s.ns.name" => label(info, "io.kubernetes.pod.namespace"),
        "k8s.pod.name" => label(info, "io.kubernetes.pod.name"),
        "k8s.pod.id" | "k8s.pod.uid" => label(info, "io.kubernetes.pod.uid"),
        "k8s.pod.label" => {
            let k8s = info.k8s.as_ref()?;
            k8s.pod_labels
                .get(arg?)
                .map(|v| FieldValue::Str(Cow::Borrowed(v)))
        }
        "k8s.pod.labels" => {
            let k8s = info.k8s.as_ref()?;
            Some(FieldValue::Str(Cow::Owned(join_labels(
                k8s.pod_labels.iter(),
            ))))
        }
        _ => None,
    }
}

fn host_value(name: &str) -> Option<FieldValue<'static>> {
    let s = |v: &'static str| Some(FieldValue::Str(Cow::Borrowed(v)));
    match name {
        "container.name" | "container.type" => s("host"),
        "container.image"
        | "container.image.id"
        | "container.image.repository"
        | "container.image.tag"
        | "container.image.digest"
        | "container.mounts"
        | "container.labels" => s(""),
        "container.privileged" => Some(FieldValue::Bool(false)),
        _ => None,
    }
}

fn label<'a>(info: &'a ContainerInfo, key: &str) -> Option<FieldValue<'a>> {
    info.labels
        .get(key)
        .map(|v| FieldValue::Str(Cow::Borrowed(v)))
}

fn select_mount<'a>(info: &'a ContainerInfo, field: &str, arg: &str) -> Option<&'a Mount> {
    if let Ok(index) = arg.parse::<usize>() {
        return info.mounts.get(index);
    }
    if field == "container.mount.source" {
        info.mount_by_dest(arg)
    } else {
        info.mount_by_source(arg)
    }
}

/// `key:value` pairs joined by `, ` (just `key` for an empty value), without kubelet's own labels.
fn join_labels<'a>(labels: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    let mut out = String::new();
    for (k, v) in labels {
        if k.starts_with("annotation.") || k.starts_with("io.kubernetes.") {
            continue;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(k);
        if !v.is_empty() {
            out.push(':');
            out.push_str(v);
        }
    }
    out
}
