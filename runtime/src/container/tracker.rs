//! The container side of event processing: which container each event belongs to, what is known about it, and
//! the `container` metaevents that carry that knowledge through the event stream and into capture files.
//!
//! The [`crate::state::State`] owns one [`Containers`] and calls [`Containers::observe`] at the end of
//! `State::update`, after the thread table applied the event; field extraction then reads `container.*` and
//! `k8s.*` through [`Containers::push_field`]. The engine hands it out with `Engine::containers_mut`.
//!
//! How metadata arrives, as in Falco with its container plugin:
//! - **live**: the first event of a thread in a container the cache has not seen queues an asynchronous lookup
//!   ([`super::cache`]); the event, and every event until the lookup completes, has only `container.id` (and
//!   `container.start_ts`/`container.duration`, which come from the thread table). When the lookup completes,
//!   [`Containers::take_metaevents`] hands out one `container` metaevent (`PPME_CONTAINER_JSON_2_E`) for it:
//!   the monitor feeds it to the engine — so `evt.type = container` rules (`container_started`) see the
//!   container with its metadata — and writes it to the capture file being recorded, if any;
//! - **replay**: the cache is offline; the `container` metaevents of the capture fill it at the point of the
//!   event stream where they were recorded, so a capture recorded live replays with the same container fields
//!   on every event. A capture without them leaves containers pending (fields `<NA>`), as in Falco.
//!
//! While a `container` metaevent is being processed its container fields describe the container it carries
//! (the plugin's `m_last_container`), not the event's thread, which is none.
//!
//! Invariants: [`Containers::observe`] never blocks (a hash lookup when the thread's container changes from
//! the previous event's, nothing else); a container is looked up at most once until the daemon reports it
//! started again or it is destroyed; finished lookups change field values only in
//! [`Containers::take_metaevents`], which also returns the metaevents that record the change.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use frule_codegen::abi::{FieldArg, FieldId, ValueBuf};
use frule_lang::fields::FieldType;

use super::cache::{CacheMetrics, ContainerCache, Lookup};
use super::cgroup::{ContainerId, Engine, container_id_of_entries};
use super::docker::{ContainerInfo, DockerClient};
use super::fields::{FieldValue, Subject, extract_subject};
use crate::event::{Event, HEADER_LEN};
use crate::state::ThreadInfo;

/// `PPME_CONTAINER_E`: the legacy metaevent (`id`, `type`, `name`, `image`).
pub const CONTAINER_E: u16 = 228;
/// `PPME_CONTAINER_JSON_E`: the JSON metaevent with `u16` parameter lengths.
pub const CONTAINER_JSON_E: u16 = 272;
/// `PPME_CONTAINER_JSON_2_E`: the JSON metaevent with `u32` parameter lengths, what frule writes.
pub const CONTAINER_JSON_2_E: u16 = 324;

/// The tid of a `container` metaevent: libsinsp writes -1, as the event belongs to no thread.
const METAEVENT_TID: u64 = u64::MAX;

/// True for the fields [`Containers::push_field`] serves: those of [`super::fields::FIELDS`] and the two
/// that come from the thread table, `container.start_ts` and `container.duration`.
pub fn serves(name: &str) -> bool {
    super::fields::FIELDS.contains(&name)
        || matches!(name, "container.start_ts" | "container.duration")
}

/// Container state for the event loop. See the module docs.
#[derive(Debug)]
pub struct Containers {
    cache: ContainerCache,
    engines: HashMap<String, Engine>,
    /// Short id of the container of the last observed thread, to skip the cache for runs of its events.
    last_seen: String,
    /// The container the `container` metaevent being processed describes.
    event_container: Option<String>,
    /// Timestamp of the last observed event (metaevents made between events take it).
    last_ts: u64,
    malformed_metaevents: u64,
}

impl Default for Containers {
    fn default() -> Self {
        Containers::offline()
    }
}

impl Containers {
    /// Containers known only from `container` metaevents (replay, tests): nothing is ever looked up.
    pub fn offline() -> Containers {
        Containers::with_cache(ContainerCache::offline())
    }

    /// Containers looked up through `cache` (a daemon-backed [`ContainerCache::new`], or a fake in tests).
    pub fn with_cache(cache: ContainerCache) -> Containers {
        Containers {
            cache,
            engines: HashMap::new(),
            last_seen: String::new(),
            event_container: None,
            last_ts: 0,
            malformed_metaevents: 0,
        }
    }

    /// Live lookups from the Docker daemon behind `client`, following its lifecycle events (start prefetches,
    /// destroy forgets); each failed lookup is handed to `logger` with its reason.
    pub fn docker(client: DockerClient, logger: impl FnMut(&str) + Send + 'static) -> Containers {
        let mut cache = ContainerCache::new(client.clone()).with_logger(logger);
        cache.track_lifecycle(client);
        Containers::with_cache(cache)
    }

    /// Live lookups from every container runtime of `runtimes` whose socket exists — the one the cgroup layout
    /// names first ([`super::runtimes`]) — following Docker's lifecycle events when its socket exists. Failed
    /// lookups, and once per runtime an absent socket, are handed to `logger`.
    pub fn runtimes(
        runtimes: super::Runtimes,
        logger: impl FnMut(&str) + Send + 'static,
    ) -> Containers {
        let logger = Arc::new(std::sync::Mutex::new(logger));
        let for_runtimes = Arc::clone(&logger);
        let runtimes = runtimes.with_logger(move |m| {
            if let Ok(mut l) = for_runtimes.lock() {
                l(m);
            }
        });
        let docker = runtimes.docker_client();
        let mut cache = ContainerCache::new(runtimes).with_logger(move |m| {
            if let Ok(mut l) = logger.lock() {
                l(m);
            }
        });
        if let Some(client) = docker {
            cache.track_lifecycle(client);
        }
        Containers::with_cache(cache)
    }

    /// The cache's counters (lookups queued, succeeded, failed by reason; lifecycle events), shared with
    /// whoever reports metrics.
    pub fn metrics(&self) -> &Arc<CacheMetrics> {
        self.cache.metrics()
    }

    /// `container` metaevents that were malformed and skipped.
    pub fn malformed_metaevents(&self) -> u64 {
        self.malformed_metaevents
    }

    /// The cache.
    pub fn cache(&self) -> &ContainerCache {
        &self.cache
    }

    /// The cache, to insert or forget entries.
    pub fn cache_mut(&mut self) -> &mut ContainerCache {
        &mut self.cache
    }

    /// The engine of a container by short id, when known.
    pub fn engine_of(&self, short: &str) -> Option<Engine> {
        self.engines.get(short).copied()
    }

    /// Takes note of one event, after the thread table applied it (`thread` is the event's thread): reads
    /// `container` metaevents into the cache, and queues a lookup for a container seen for the first time.
    /// Never blocks.
    pub fn observe(&mut self, evt: &Event<'_>, thread: Option<&ThreadInfo>) {
        self.last_ts = evt.ts();
        match evt.event_type() {
            CONTAINER_E | CONTAINER_JSON_E | CONTAINER_JSON_2_E => {
                self.event_container = self.read_metaevent(evt);
                return;
            }
            _ => self.event_container = None,
        }
        let Some(t) = thread else {
            return;
        };
        let Some(id) = t.container_id.as_deref() else {
            return;
        };
        if id == "host" || id == self.last_seen {
            return;
        }
        self.last_seen.clear();
        self.last_seen.push_str(id);
        if self.cache.contains(id) {
            return;
        }
        let cid = container_id_of_entries(t.cgroups.iter().map(Vec::as_slice));
        if let ContainerId::Container { engine, .. } = &cid {
            self.engines.insert(id.to_string(), *engine);
            // queue only: answers are applied in `take_metaevents`, together with their metaevent
            self.cache.request(&cid);
        }
    }

    /// Applies finished lookups and lifecycle events (never blocks), and returns one `container` metaevent (raw
    /// bytes, `PPME_CONTAINER_JSON_2_E`) per container whose metadata arrived, stamped with the last observed
    /// event's time. Finished lookups are applied here only, so the metaevent marks the point of the event
    /// stream from which the container's fields have values: write each to the capture being recorded and
    /// feed it to the engine before the next captured event, and a replay sees the same values.
    pub fn take_metaevents(&mut self) -> Vec<Vec<u8>> {
        self.cache.poll();
        let ids = self.cache.take_newly_ready();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(info) = self.cache.peek(&id).info() {
                // the runtime that answered wins over the cgroup layout's guess
                if let Some(e) = info.engine {
                    self.engines.insert(id.clone(), e);
                }
                out.push(metaevent_bytes(info, self.engine_of(&id), self.last_ts));
            }
        }
        out
    }

    /// One `container` metaevent per container whose metadata is known, for the start of a capture file.
    pub fn snapshot_metaevents(&self, ts: u64) -> Vec<Vec<u8>> {
        let mut infos: Vec<&ContainerInfo> = self.cache.ready().collect();
        infos.sort_by(|a, b| a.id.cmp(&b.id));
        infos
            .into_iter()
            .map(|info| {
                let engine = info.engine.or_else(|| self.engine_of(info.short_id()));
                metaevent_bytes(info, engine, ts)
            })
            .collect()
    }

    /// One line for the monitor's exit summary: lookups and their outcome, failures by reason, lifecycle
    /// events seen.
    pub fn summary(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let m = self.metrics();
        let mut failures: Vec<(&str, u64)> = m
            .failures_by_kind
            .lock()
            .map(|f| f.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default();
        failures.sort_unstable();
        let by_kind: Vec<String> = failures.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let mut line = format!(
            "Container metadata: {} lookups, {} succeeded, {} failed",
            m.lookups_queued.load(Relaxed),
            m.lookups_ok.load(Relaxed),
            m.lookups_failed.load(Relaxed),
        );
        if !by_kind.is_empty() {
            line.push_str(&format!(" ({})", by_kind.join(", ")));
        }
        line.push_str(&format!(
            ", containers started: {}, destroyed: {}",
            m.starts_seen.load(Relaxed),
            m.destroys_seen.load(Relaxed)
        ));
        line
    }

    /// Appends the container counters to a Prometheus text exposition (`/metrics`): lookups by result,
    /// failures by reason, lifecycle events, malformed metaevents.
    pub fn write_prometheus(&self, out: &mut String) {
        use std::sync::atomic::Ordering::Relaxed;
        let m = self.metrics();
        family(
            out,
            "falcosecurity_frule_container_lookups_total",
            "container metadata lookups by result",
        );
        let _ = writeln!(
            out,
            "falcosecurity_frule_container_lookups_total{{result=\"queued\"}} {}",
            m.lookups_queued.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "falcosecurity_frule_container_lookups_total{{result=\"ok\"}} {}",
            m.lookups_ok.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "falcosecurity_frule_container_lookups_total{{result=\"failed\"}} {}",
            m.lookups_failed.load(Relaxed)
        );
        let mut failures: Vec<(&str, u64)> = m
            .failures_by_kind
            .lock()
            .map(|f| f.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default();
        failures.sort_unstable();
        family(
            out,
            "falcosecurity_frule_container_lookup_failures_total",
            "failed container metadata lookups by reason",
        );
        for (reason, n) in failures {
            let _ = writeln!(
                out,
                "falcosecurity_frule_container_lookup_failures_total{{reason=\"{reason}\"}} {n}"
            );
        }
        for (name, v, help) in [
            (
                "falcosecurity_frule_container_starts_total",
                m.starts_seen.load(Relaxed),
                "container start events from the runtime",
            ),
            (
                "falcosecurity_frule_container_destroys_total",
                m.destroys_seen.load(Relaxed),
                "container destroy events from the runtime",
            ),
            (
                "falcosecurity_frule_container_malformed_metaevents_total",
                self.malformed_metaevents,
                "container metaevents that did not decode",
            ),
        ] {
            family(out, name, help);
            let _ = writeln!(out, "{name} {v}");
        }
    }

    fn read_metaevent(&mut self, evt: &Event<'_>) -> Option<String> {
        let parsed = if evt.event_type() == CONTAINER_E {
            legacy_metaevent(evt)
        } else {
            evt.param_bytes(0)
                .and_then(|p| super::from_metaevent_json(p).ok())
        };
        let Some((info, engine)) = parsed else {
            self.malformed_metaevents += 1;
            self.cache.log("malformed container metaevent skipped");
            return None;
        };
        let short = info.short_id().to_string();
        if let Some(e) = engine {
            self.engines.insert(short.clone(), e);
        }
        self.cache.insert(info);
        Some(short)
    }

    /// Who the current event's container fields describe: the metaevent's container, or the thread's.
    fn subject<'a>(&'a self, thread: Option<&'a ThreadInfo>) -> Option<(Subject<'a>, Lookup<'a>)> {
        let short = match &self.event_container {
            Some(id) => id.as_str(),
            // a thread without known cgroups counts as a host thread, as `container.id` always did
            None => thread?.container_id.as_deref().unwrap_or("host"),
        };
        if short == "host" {
            return Some((Subject::Host, Lookup::Host));
        }
        let subject = Subject::Container {
            short,
            engine: self.engine_of(short),
        };
        Some((subject, self.cache.peek(short)))
    }

    /// Extracts a `container.*` or `k8s.*` field for the current event (whose thread is `thread`, at time
    /// `ts`) into `out`, with the representation of the field's schema type. False when it has no value.
    pub fn push_field(
        &self,
        thread: Option<&ThreadInfo>,
        ts: u64,
        field: FieldId,
        arg: Option<&FieldArg>,
        out: &mut ValueBuf,
    ) -> bool {
        let name = field.name();
        if matches!(name, "container.start_ts" | "container.duration") {
            // from the thread table, with or without metadata (the plugin reads pidns_init_start_ts)
            let start = match (&self.event_container, thread) {
                (None, Some(t)) => t.pidns_init_start_ts,
                _ => 0,
            };
            if start == 0 {
                return false;
            }
            if name == "container.start_ts" {
                out.push_u64(start);
            } else {
                out.push_i64(ts.wrapping_sub(start) as i64);
            }
            return true;
        }
        let Some((subject, lookup)) = self.subject(thread) else {
            return false;
        };
        let index_text;
        let arg = match arg {
            Some(FieldArg::Key(k)) => Some(k.as_str()),
            Some(FieldArg::Index(i)) => {
                index_text = i.to_string();
                Some(index_text.as_str())
            }
            None => None,
        };
        match extract_subject(name, arg, subject, lookup) {
            None => false,
            Some(FieldValue::Str(s)) => {
                out.push_bytes(s.as_bytes());
                true
            }
            Some(FieldValue::Bool(b)) => {
                if field.info().ty == FieldType::Bool {
                    out.push_bool(b);
                } else {
                    // `container.mount.rdwr` is a string field in the plugin
                    out.push_bytes(if b { b"true" } else { b"false" });
                }
                true
            }
        }
    }
}

/// The `# HELP` and `# TYPE` lines of a counter family.
fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
}

/// A `PPME_CONTAINER_JSON_2_E` event (tid -1) carrying the metadata of one container, as libsinsp writes them
/// into captures. `engine` defaults to Docker's type number when unknown.
pub fn metaevent_bytes(info: &ContainerInfo, engine: Option<Engine>, ts: u64) -> Vec<u8> {
    let mut json = super::to_metaevent_json(info, engine.unwrap_or(Engine::Docker)).into_bytes();
    json.push(0);
    let len = HEADER_LEN + 4 + json.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&ts.to_le_bytes());
    out.extend_from_slice(&METAEVENT_TID.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&CONTAINER_JSON_2_E.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out
}

/// The legacy `container` event: id, type number, name, image (repository and tag split from the image).
fn legacy_metaevent(evt: &Event<'_>) -> Option<(ContainerInfo, Option<Engine>)> {
    let text = |i: usize| -> Option<String> {
        let b = evt.param_bytes(i)?;
        let b = b.strip_suffix(b"\0").unwrap_or(b);
        Some(String::from_utf8_lossy(b).into_owned())
    };
    let id = text(0).filter(|id| !id.is_empty())?;
    let ty = evt
        .param_bytes(1)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes);
    let image = text(3).unwrap_or_default();
    let (image_repository, image_tag) = super::docker::split_image_ref(&image);
    let info = ContainerInfo {
        id,
        name: text(2).unwrap_or_default(),
        image,
        image_repository,
        image_tag,
        ..ContainerInfo::default()
    };
    Some((
        info,
        ty.and_then(|t| super::engine_of_type_number(u64::from(t))),
    ))
}
