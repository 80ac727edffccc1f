//! Asynchronous, cached container metadata lookups.
//!
//! The event loop must never wait for a container runtime: a daemon that is slow, hung or absent would stall
//! every rule. So the loop only ever talks to a [`ContainerCache`] it owns, whose [`ContainerCache::get`] looks
//! into a local map and, for a container it has not seen, queues a lookup for a worker thread and answers
//! [`Lookup::Pending`] at once. Finished lookups come back over a channel and are applied, without blocking,
//! at the next `get`/[`ContainerCache::poll`].
//!
//! What an event sees while its container is pending or failed is what Falco's container plugin gives it:
//! `container.id` (from the cgroup) and `container.start_ts`/`container.duration` (from the thread table) have
//! values; every other `container.*` and `k8s.*` field has none — it prints as `<NA>` in outputs, and a
//! comparison on it is false (so `container.image.repository in (...)` does not match and
//! `not container.image.repository in (...)` does). Falco logs "the plugin has no info for the container id"
//! at debug level then; we count every failed lookup by reason in [`CacheMetrics`] and hand a message to the
//! logger.
//!
//! Invariants:
//! - one lookup per container id at a time: a pending id is never queued again;
//! - a failed lookup is not retried on every event (that would hammer a broken daemon at the event rate); it is
//!   retried when the daemon reports the container's `start` again or after [`ContainerCache::forget`];
//! - `destroy` lifecycle events drop the container from the cache, so the map tracks live containers.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::cgroup::{ContainerId, Engine, SHORT_ID_LEN};
use super::docker::{ContainerInfo, DockerClient, DockerError};

/// Where container metadata comes from; [`super::Runtimes`] (or one Docker client) in production, a fake in
/// tests.
pub trait MetadataSource: Send + Sync + 'static {
    /// Looks one container up by full id.
    fn lookup(&self, full_id: &str) -> Result<ContainerInfo, DockerError>;

    /// Looks one container up by full id, knowing which engine its cgroup layout names (`None` when nothing
    /// did, e.g. a lifecycle event). Sources that ask several runtimes ask that one first.
    fn lookup_hinted(
        &self,
        full_id: &str,
        engine: Option<Engine>,
    ) -> Result<ContainerInfo, DockerError> {
        let _ = engine;
        self.lookup(full_id)
    }

    /// Hands the source the cache's counters before the lookup thread starts, so a source that tries
    /// several runtimes can count the failures a fallback recovered from.
    fn attach_metrics(&mut self, metrics: Arc<CacheMetrics>) {
        let _ = metrics;
    }
}

impl MetadataSource for DockerClient {
    fn lookup(&self, full_id: &str) -> Result<ContainerInfo, DockerError> {
        self.inspect(full_id)
    }
}

/// What the cache knows about a container right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// A host thread: no container fields apply.
    Host,
    /// The lookup is queued or running; metadata fields have no value yet.
    Pending,
    /// The metadata.
    Ready(&'a ContainerInfo),
    /// The lookup failed for this reason; metadata fields have no value.
    Failed(&'a str),
}

impl<'a> Lookup<'a> {
    /// The metadata, if known.
    pub fn info(self) -> Option<&'a ContainerInfo> {
        match self {
            Lookup::Ready(i) => Some(i),
            _ => None,
        }
    }
}

/// Counters of the cache, readable from any thread (the metrics output reads them).
#[derive(Debug, Default)]
pub struct CacheMetrics {
    /// Lookups queued.
    pub lookups_queued: AtomicU64,
    /// Lookups that succeeded.
    pub lookups_ok: AtomicU64,
    /// Lookups that failed, for any reason.
    pub lookups_failed: AtomicU64,
    /// Failures by [`DockerError::kind`].
    pub failures_by_kind: Mutex<HashMap<&'static str, u64>>,
    /// Container `start` events seen on the lifecycle stream.
    pub starts_seen: AtomicU64,
    /// Container `destroy` events seen on the lifecycle stream.
    pub destroys_seen: AtomicU64,
    /// Times the lifecycle stream had to be (re)opened after an error.
    pub event_stream_errors: AtomicU64,
}

impl CacheMetrics {
    /// Failures of one kind so far.
    pub fn failures_of(&self, kind: &str) -> u64 {
        self.failures_by_kind
            .lock()
            .map(|m| m.get(kind).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

/// FNV-1a over the short id: the keys are 12 hex digits chosen by the container engine, so a keyed hash buys
/// nothing here and SipHash would dominate the cost of `get` on the event path.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

enum Slot {
    Pending,
    Ready(Arc<ContainerInfo>),
    Failed(String),
}

/// A message from the worker threads to the cache.
enum Outcome {
    Found(Box<ContainerInfo>),
    Failed { full_id: String, error: DockerError },
    Started(String),
    Destroyed(String),
}

/// Where failure messages go.
type Logger = Box<dyn FnMut(&str) + Send>;

/// Container metadata for the event loop, filled asynchronously. See the module docs.
pub struct ContainerCache {
    known: HashMap<String, Slot, BuildHasherDefault<IdHasher>>,
    requests: Option<Sender<(String, Option<Engine>)>>,
    results: Receiver<Outcome>,
    results_tx: Sender<Outcome>,
    /// Messages the workers sent; compared with `received` so `get` skips the channel when nothing is new.
    sent: Arc<AtomicU64>,
    received: u64,
    metrics: Arc<CacheMetrics>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    logger: Option<Logger>,
    /// Short ids whose lookup finished with metadata since the last [`ContainerCache::take_newly_ready`].
    newly_ready: Vec<String>,
}

impl std::fmt::Debug for ContainerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerCache")
            .field("known", &self.known.len())
            .finish_non_exhaustive()
    }
}

fn short(id: &str) -> &str {
    id.get(..SHORT_ID_LEN).unwrap_or(id)
}

impl ContainerCache {
    /// A cache whose lookups a worker thread does with `source`.
    pub fn new(mut source: impl MetadataSource) -> Self {
        let (results_tx, results) = mpsc::channel();
        let (req_tx, req_rx) = mpsc::channel::<(String, Option<Engine>)>();
        let metrics = Arc::new(CacheMetrics::default());
        source.attach_metrics(Arc::clone(&metrics));
        let tx = results_tx.clone();
        let sent = Arc::new(AtomicU64::new(0));
        let sent_by_worker = Arc::clone(&sent);
        let m = Arc::clone(&metrics);
        let worker = std::thread::Builder::new()
            .name("frule-container-lookup".into())
            .spawn(move || {
                // ends when the cache (the only request sender) is dropped
                for (full_id, engine) in req_rx {
                    let outcome = match source.lookup_hinted(&full_id, engine) {
                        Ok(info) => {
                            m.lookups_ok.fetch_add(1, Ordering::Relaxed);
                            Outcome::Found(Box::new(info))
                        }
                        Err(error) => {
                            m.lookups_failed.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut by) = m.failures_by_kind.lock() {
                                *by.entry(error.kind()).or_insert(0) += 1;
                            }
                            Outcome::Failed { full_id, error }
                        }
                    };
                    if tx.send(outcome).is_err() {
                        break;
                    }
                    sent_by_worker.fetch_add(1, Ordering::Release);
                }
            });
        let mut cache = ContainerCache {
            known: HashMap::default(),
            requests: None,
            results,
            results_tx,
            sent,
            received: 0,
            metrics,
            stop: Arc::new(AtomicBool::new(false)),
            workers: Vec::new(),
            logger: None,
            newly_ready: Vec::new(),
        };
        match worker {
            Ok(handle) => {
                cache.requests = Some(req_tx);
                cache.workers.push(handle);
            }
            Err(e) => cache.log(&format!("cannot start the container lookup thread: {e}")),
        }
        cache
    }

    /// A cache without any metadata source: every container stays pending unless metadata is inserted from a
    /// capture's `container` metaevents. Used for replay.
    pub fn offline() -> Self {
        let (results_tx, results) = mpsc::channel();
        ContainerCache {
            known: HashMap::default(),
            requests: None,
            results,
            results_tx,
            sent: Arc::new(AtomicU64::new(0)),
            received: 0,
            metrics: Arc::new(CacheMetrics::default()),
            stop: Arc::new(AtomicBool::new(false)),
            workers: Vec::new(),
            logger: None,
            newly_ready: Vec::new(),
        }
    }

    /// Sets where failure messages go (for example stderr at debug level).
    pub fn with_logger(mut self, logger: impl FnMut(&str) + Send + 'static) -> Self {
        self.logger = Some(Box::new(logger));
        self
    }

    /// Also follows the Docker lifecycle event stream: `start` prefetches a container's metadata before its
    /// first event needs it (and retries a failed lookup), `destroy` drops it from the cache.
    pub fn track_lifecycle(&mut self, client: DockerClient) {
        let tx = self.results_tx.clone();
        let sent = Arc::clone(&self.sent);
        let stop = Arc::clone(&self.stop);
        let metrics = Arc::clone(&self.metrics);
        let spawned = std::thread::Builder::new()
            .name("frule-container-events".into())
            .spawn(move || {
                let client = client.with_timeout(Duration::from_millis(500));
                while !stop.load(Ordering::Relaxed) {
                    let mut stream = match client.events() {
                        Ok(s) => s,
                        Err(_) => {
                            metrics.event_stream_errors.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_secs(1));
                            continue;
                        }
                    };
                    while !stop.load(Ordering::Relaxed) {
                        match stream.next_event() {
                            Ok(Some(ev)) => {
                                let msg = match ev.action.as_str() {
                                    "start" => {
                                        metrics.starts_seen.fetch_add(1, Ordering::Relaxed);
                                        Outcome::Started(ev.id)
                                    }
                                    "destroy" => {
                                        metrics.destroys_seen.fetch_add(1, Ordering::Relaxed);
                                        Outcome::Destroyed(ev.id)
                                    }
                                    _ => continue,
                                };
                                if tx.send(msg).is_err() {
                                    return;
                                }
                                sent.fetch_add(1, Ordering::Release);
                            }
                            // an idle stream times out; reopen it (a partial read may have been lost)
                            Ok(None) | Err(_) => break,
                        }
                    }
                }
            });
        match spawned {
            Ok(h) => self.workers.push(h),
            Err(e) => self.log(&format!("cannot start the container events thread: {e}")),
        }
    }

    /// The counters.
    pub fn metrics(&self) -> &Arc<CacheMetrics> {
        &self.metrics
    }

    /// Short ids of the containers whose lookup finished with metadata since the last call, in the order they
    /// finished. The live monitor turns each into a `container` event (rules on `evt.type = container`, and
    /// the capture file, see them at that point of the event stream).
    pub fn take_newly_ready(&mut self) -> Vec<String> {
        std::mem::take(&mut self.newly_ready)
    }

    /// True when the cache has an entry (pending, ready or failed) for this short or full id.
    pub fn contains(&self, id: &str) -> bool {
        self.known.contains_key(short(id))
    }

    pub(crate) fn log(&mut self, msg: &str) {
        if let Some(l) = self.logger.as_mut() {
            l(msg);
        }
    }

    fn queue(&mut self, full_id: &str, engine: Option<Engine>) {
        let key = short(full_id).to_string();
        let sent = match &self.requests {
            Some(tx) => tx.send((full_id.to_string(), engine)).is_ok(),
            None => false,
        };
        if sent {
            self.metrics.lookups_queued.fetch_add(1, Ordering::Relaxed);
            self.known.insert(key, Slot::Pending);
        } else if self.workers.is_empty() {
            self.known.insert(key, Slot::Pending);
        } else {
            self.known
                .insert(key, Slot::Failed("container lookup thread is gone".into()));
        }
    }

    /// Applies finished lookups and lifecycle events; never blocks.
    pub fn poll(&mut self) {
        loop {
            let next = self.results.try_recv();
            if next.is_ok() {
                self.received += 1;
            }
            match next {
                // an answer for a container destroyed or forgotten meanwhile is dropped
                Ok(Outcome::Found(info)) => {
                    if let Some(slot @ Slot::Pending) = self.known.get_mut(short(&info.id)) {
                        self.newly_ready.push(short(&info.id).to_string());
                        *slot = Slot::Ready(Arc::from(info));
                    }
                }
                Ok(Outcome::Failed { full_id, error }) => {
                    let msg = format!("container lookup failed for {}: {error}", short(&full_id));
                    self.log(&msg);
                    if let Some(slot @ Slot::Pending) = self.known.get_mut(short(&full_id)) {
                        *slot = Slot::Failed(error.to_string());
                    }
                }
                Ok(Outcome::Started(full_id)) => {
                    if !matches!(
                        self.known.get(short(&full_id)),
                        Some(Slot::Pending | Slot::Ready(_))
                    ) {
                        self.queue(&full_id, Some(Engine::Docker));
                    }
                }
                Ok(Outcome::Destroyed(full_id)) => {
                    self.known.remove(short(&full_id));
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
    }

    /// What is known about the container of a thread; queues a lookup for a container seen for the first time.
    /// Never blocks.
    pub fn get(&mut self, id: &ContainerId) -> Lookup<'_> {
        if self.results_pending() {
            self.poll();
        }
        let ContainerId::Container { full, engine } = id else {
            return Lookup::Host;
        };
        if !self.known.contains_key(short(full)) {
            self.queue(full, Some(*engine));
        }
        match self.known.get(short(full)) {
            Some(Slot::Ready(info)) => Lookup::Ready(info),
            Some(Slot::Failed(reason)) => Lookup::Failed(reason),
            Some(Slot::Pending) | None => Lookup::Pending,
        }
    }

    /// True when the workers may have sent something since the last poll (one relaxed atomic load).
    fn results_pending(&self) -> bool {
        self.sent.load(Ordering::Acquire) != self.received
    }

    /// Queues a lookup for a container the cache has no entry for, without applying finished lookups: what the
    /// event stream sees changes only at [`ContainerCache::poll`], which the event loop controls. Never blocks.
    pub fn request(&mut self, id: &ContainerId) {
        if let ContainerId::Container { full, engine } = id
            && !self.known.contains_key(short(full))
        {
            self.queue(full, Some(*engine));
        }
    }

    /// What is known about a container by its short or full id, without queueing anything.
    pub fn peek(&self, id: &str) -> Lookup<'_> {
        match self.known.get(short(id)) {
            Some(Slot::Ready(info)) => Lookup::Ready(info),
            Some(Slot::Failed(reason)) => Lookup::Failed(reason),
            Some(Slot::Pending) => Lookup::Pending,
            None if id == "host" => Lookup::Host,
            None => Lookup::Pending,
        }
    }

    /// Records metadata known otherwise (a capture's `container` metaevent).
    pub fn insert(&mut self, info: ContainerInfo) {
        self.known
            .insert(short(&info.id).to_string(), Slot::Ready(Arc::new(info)));
    }

    /// Forgets a container, so its next `get` looks it up again.
    pub fn forget(&mut self, id: &str) {
        self.known.remove(short(id));
    }

    /// Every container whose metadata is known, for writing `container` metaevents at the start of a capture.
    pub fn ready(&self) -> impl Iterator<Item = &ContainerInfo> {
        self.known.values().filter_map(|s| match s {
            Slot::Ready(i) => Some(i.as_ref()),
            _ => None,
        })
    }

    /// Waits (up to `timeout`) until no lookup is pending. Only for tests and tools, never the event loop.
    pub fn wait_idle(&mut self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            self.poll();
            if !self.known.values().any(|s| matches!(s, Slot::Pending)) {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for ContainerCache {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // closing the request channel ends the lookup worker after its current lookup; the events thread sees
        // `stop` within its read timeout. Neither is joined: a hung daemon must not hang the caller's shutdown.
        self.requests = None;
        self.workers.clear();
    }
}
