//! Learning a whitelisting profile from a capture: what one workload did, written as a Falco rules file.
//!
//! A workload is the containers of an image (matched by a wildcard against `container.image.repository` or
//! `container.image`) or a process tree (a process name and everything it started: `proc.name` or any
//! `proc.aname`). [`learn`] replays the capture through the engine itself with *learning rules* — one per
//! kind of behaviour, each with exactly the guard of the profile rule it feeds — and collects their output
//! fields: processes spawned, ports listened on or accepted, peers connected to, files read and written
//! (and by whom), event types used. [`Learned::to_rules_yaml`] writes the profile in the style of
//! `examples/profiles/`: a macro selecting the workload, `*_allowed_*` lists, and six rules that alert on
//! anything else.
//!
//! Invariants:
//! - because the learning rules and the profile rules share their guards and are evaluated by the same
//!   engine, replaying the same capture with the written profile raises no alert: every value a profile rule
//!   tests was learned from an event where its guard held, and the generalizations below only widen the lists;
//!   a value the engine could not extract (`<NA>`) adds an `exists` guard to that rule instead;
//! - file paths are generalized to prefixes (`pmatch`): a file becomes its directory when that directory is at
//!   least two levels deep (`/etc/passwd` stays itself, `/usr/share/nginx/html/index.html` becomes
//!   `/usr/share/nginx/html`), three or more siblings below one directory (two levels deep or more) become that
//!   directory, `/proc/<pid>/…` and `/proc/self/…` become `/proc`, and scratch directories (`/tmp`, `/var/tmp`,
//!   `/dev/shm`, `/run`, `/var/run`) are allowed whole; prefixes covered by another prefix are dropped;
//! - peers are generalized to networks: loopback and private addresses to their whole block (`127.0.0.0/8`,
//!   `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `::1/128`, `fc00::/7`), other addresses stay exact
//!   (`/32`, `/128`);
//! - event names that a recording merges (`dup2` recorded as `dup`, `accept4` as `accept`, …) allow their whole
//!   family, since the live capture names each variant;
//! - the output is deterministic (sorted lists, no times, the capture's file name without its directory).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::path::Path;

use crate::{Alert, Engine, FieldValue, RuleMatching};

/// Which part of a capture is profiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Workload {
    /// The containers whose image repository or image (`repo:tag`) matches this wildcard (`*`, `?`).
    ContainerImage(String),
    /// Processes with this name and all their descendants.
    ProcName(String),
}

/// What can go wrong while learning.
#[derive(Debug)]
pub enum ProfileError {
    /// The capture could not be replayed.
    Replay(crate::Error),
    /// No container of the capture matches the image pattern (the containers seen are listed).
    NoMatch {
        /// The pattern given.
        pattern: String,
        /// The containers of the capture.
        seen: Vec<ContainerSeen>,
    },
    /// The workload did nothing in the capture.
    NoEvents(String),
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileError::Replay(e) => e.fmt(f),
            ProfileError::NoMatch { pattern, seen } => {
                write!(f, "no container image matches {pattern:?}")?;
                if seen.is_empty() {
                    f.write_str(" (the capture has no container)")
                } else {
                    f.write_str("; containers in the capture:")?;
                    for c in seen {
                        write!(f, "\n  {}", c.describe())?;
                    }
                    Ok(())
                }
            }
            ProfileError::NoEvents(what) => write!(f, "{what} did nothing in the capture"),
        }
    }
}

impl std::error::Error for ProfileError {}

/// A container seen in a capture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerSeen {
    /// `container.id`.
    pub id: String,
    /// `container.image` (empty when unknown).
    pub image: String,
    /// `container.image.repository` (empty when unknown).
    pub repository: String,
    /// Events of the container.
    pub events: u64,
}

impl ContainerSeen {
    /// One line: id, image, repository and event count.
    pub fn describe(&self) -> String {
        format!(
            "{} image={} repository={} events={}",
            self.id,
            or_na(&self.image),
            or_na(&self.repository),
            self.events
        )
    }
}

fn or_na(s: &str) -> &str {
    if s.is_empty() { "<NA>" } else { s }
}

/// Everything a workload did in a capture, before it is written as rules.
#[derive(Clone, Debug, Default)]
pub struct Learned {
    /// The workload.
    pub workload: Option<Workload>,
    /// The capture's file name.
    pub capture: String,
    /// Events of the capture / of the workload.
    pub events_total: u64,
    /// Events of the workload.
    pub events_workload: u64,
    /// Image repositories of the selected containers (non-empty ones).
    pub repositories: BTreeSet<String>,
    /// Images of the selected containers whose repository is unknown.
    pub images: BTreeSet<String>,
    /// Process names (spawned, or seen acting).
    pub processes: BTreeSet<String>,
    /// Ports listened on or accepted.
    pub inbound_ports: BTreeSet<u64>,
    /// Server ports connected to.
    pub outbound_ports: BTreeSet<u64>,
    /// Server addresses connected to.
    pub outbound_addresses: BTreeSet<IpAddr>,
    /// Files opened for writing.
    pub written: BTreeSet<String>,
    /// Processes that opened files for writing.
    pub writers: BTreeSet<String>,
    /// Files opened for reading.
    pub read: BTreeSet<String>,
    /// Event types (syscalls) of the workload.
    pub syscalls: BTreeSet<String>,
    /// Rules that saw a value the engine could not extract and need an `exists` guard (by kind).
    pub needs_exists: BTreeSet<&'static str>,
}

/// Events that are not syscalls made by the workload (metadata events, scheduler and fault activity); the
/// same list as the hand-written profiles.
pub const NON_SYSCALL_EVENTS: &[&str] = &[
    "container",
    "procinfo",
    "notification",
    "drop",
    "infra",
    "k8s",
    "mesos",
    "asyncevent",
    "pluginevent",
    "scapevent",
    "cpu_hotplug",
    "useradded",
    "userdeleted",
    "groupadded",
    "groupdeleted",
    "switch",
    "page_fault",
    "signaldeliver",
    "tracer",
];

/// Event names that one syscall family shares in some captures: frule's scap writer (like sysdig 0.29.3's
/// libscap) records `dup2`/`dup3` as `dup`, `accept4` as `accept`, `pipe2` as `pipe` and `umount2` as
/// `umount`, while the live capture and current Falco name each variant. Learning one name of a family allows
/// the family, so a profile learned from a recording raises nothing for the same workload live.
const SYSCALL_FAMILIES: &[&[&str]] = &[
    &["dup", "dup2", "dup3"],
    &["accept", "accept4"],
    &["pipe", "pipe2"],
    &["umount", "umount2"],
];

/// The allowed event types of a profile: the learned ones and the other names of their families
/// (`dup`/`dup2`/`dup3`, `accept`/`accept4`, … — a recording writes some of them under one name), sorted.
pub fn allowed_syscalls(learned: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = learned.clone();
    for name in learned {
        if let Some(family) = SYSCALL_FAMILIES.iter().find(|f| f.contains(&name.as_str())) {
            out.extend(family.iter().map(|s| (*s).to_string()));
        }
    }
    out
}

/// The containers of a capture, in order of id.
pub fn containers(capture: &Path) -> Result<Vec<ContainerSeen>, ProfileError> {
    let rules = r#"
- rule: learn container
  desc: learning pass (frulec profile)
  condition: container.id != host
  output: "%container.id %container.image %container.image.repository"
  priority: DEBUG
  warn_evttypes: false
"#;
    let mut engine = Engine::from_yaml("frulec-profile-containers.yaml", rules)
        .map_err(|e| ProfileError::Replay(e.into()))?;
    let mut by_id: BTreeMap<String, ContainerSeen> = BTreeMap::new();
    engine
        .replay(capture, |a| {
            let id = text(a, "container.id").unwrap_or_default();
            let c = by_id.entry(id.clone()).or_insert_with(|| ContainerSeen {
                id,
                ..ContainerSeen::default()
            });
            c.events += 1;
            // metadata may arrive after the first events (until then it is missing or `incomplete`): keep the
            // first value that is known
            let known = |s: &str| !s.is_empty() && s != "incomplete";
            if !known(&c.image) {
                c.image = text(a, "container.image").unwrap_or_default();
            }
            if !known(&c.repository) {
                c.repository = text(a, "container.image.repository").unwrap_or_default();
            }
        })
        .map_err(ProfileError::Replay)?;
    Ok(by_id.into_values().collect())
}

/// The value of an output field as text; `None` when missing.
fn text(a: &Alert, name: &str) -> Option<String> {
    let (_, v) = a.output_fields.iter().find(|(k, _)| &**k == name)?;
    match v {
        FieldValue::Null => None,
        FieldValue::Str(s) => Some(s.clone()),
        FieldValue::U64(n) => Some(n.to_string()),
        FieldValue::I64(n) => Some(n.to_string()),
        FieldValue::F64(n) => Some(n.to_string()),
        FieldValue::Bool(b) => Some(b.to_string()),
    }
}

/// Guards shared by the learning rules and the profile rules (each after the workload macro).
const SPAWN: &str = "evt.type in (execve, execveat) and evt.rawres >= 0";
const INBOUND: &str = "evt.type in (listen, accept, accept4) and evt.rawres >= 0\n    and (fd.typechar = 4 or fd.typechar = 6)";
const OUTBOUND: &str = "evt.type = connect and (evt.rawres >= 0 or evt.res = EINPROGRESS)\n    and (fd.typechar = 4 or fd.typechar = 6)";
const WRITE: &str = "evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.typechar = f\n    and evt.rawres >= 0";
const READ: &str = "evt.type in (open, openat, openat2) and evt.is_open_read = true and fd.typechar = f\n    and evt.rawres >= 0";

/// Replays `capture` and records what `workload` did.
pub fn learn(capture: &Path, workload: &Workload) -> Result<Learned, ProfileError> {
    let mut learned = Learned {
        workload: Some(workload.clone()),
        capture: capture.file_name().map_or_else(
            || capture.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        ..Learned::default()
    };
    let selector = match workload {
        Workload::ContainerImage(pattern) => {
            let seen = containers(capture)?;
            for c in &seen {
                let matches = |s: &str| {
                    !s.is_empty()
                        && crate::runtime::engine::ruleset::wildcard_match(
                            pattern.as_bytes(),
                            s.as_bytes(),
                        )
                };
                if matches(&c.repository) || matches(&c.image) {
                    if c.repository.is_empty() {
                        learned.images.insert(c.image.clone());
                    } else {
                        learned.repositories.insert(c.repository.clone());
                    }
                }
            }
            if learned.repositories.is_empty() && learned.images.is_empty() {
                return Err(ProfileError::NoMatch {
                    pattern: pattern.clone(),
                    seen,
                });
            }
            format!(
                "- list: learn_repositories\n  items: {}\n- list: learn_images\n  items: {}\n\
                 - macro: learn_workload\n  condition: >\n    container.id != host and \
                 (container.image.repository in (learn_repositories) or container.image in (learn_images))\n",
                flow_list(learned.repositories.iter().map(|s| condition_item(s))),
                flow_list(learned.images.iter().map(|s| condition_item(s))),
            )
        }
        Workload::ProcName(name) => format!(
            "- list: learn_processes\n  items: {}\n- macro: learn_workload\n  condition: \
             (proc.name in (learn_processes) or proc.aname in (learn_processes))\n",
            flow_list(std::iter::once(condition_item(name)))
        ),
    };
    let rule = |name: &str, guard: &str, output: &str| {
        let guard = if guard.is_empty() {
            String::new()
        } else {
            format!(" and {guard}")
        };
        format!(
            "- rule: {name}\n  desc: learning pass (frulec profile)\n  condition: >\n    learn_workload{guard}\n  \
             output: \"{output}\"\n  priority: DEBUG\n  warn_evttypes: false\n"
        )
    };
    let mut rules = selector;
    rules.push_str(&rule("learn any", "", "%evt.type %proc.name"));
    rules.push_str(&rule("learn spawn", SPAWN, "%proc.name"));
    rules.push_str(&rule("learn inbound", INBOUND, "%fd.sport"));
    rules.push_str(&rule("learn outbound", OUTBOUND, "%fd.sport %fd.sip"));
    rules.push_str(&rule("learn write", WRITE, "%proc.name %fd.name"));
    rules.push_str(&rule("learn read", READ, "%fd.name"));
    let mut engine = Engine::from_yaml("frulec-profile-learning.yaml", &rules)
        .map_err(|e| ProfileError::Replay(e.into()))?;
    engine.set_rule_matching(RuleMatching::All);
    let stats = engine
        .replay(capture, |a| learned.record(a))
        .map_err(ProfileError::Replay)?;
    learned.events_total = stats.events;
    if learned.events_workload == 0 {
        let what = match workload {
            Workload::ContainerImage(p) => format!("the containers of image {p:?}"),
            Workload::ProcName(n) => format!("process {n:?} and its descendants"),
        };
        return Err(ProfileError::NoEvents(what));
    }
    Ok(learned)
}

impl Learned {
    fn record(&mut self, a: &Alert) {
        fn need(
            set: &mut BTreeSet<&'static str>,
            kind: &'static str,
            v: Option<String>,
        ) -> Option<String> {
            if v.is_none() {
                set.insert(kind);
            }
            v
        }
        match &*a.rule {
            "learn any" => {
                self.events_workload += 1;
                if let Some(t) = text(a, "evt.type")
                    && !NON_SYSCALL_EVENTS.contains(&t.as_str())
                {
                    self.syscalls.insert(t);
                }
                if let Some(p) = text(a, "proc.name") {
                    self.processes.insert(p);
                }
            }
            "learn spawn" => {
                if let Some(p) = need(&mut self.needs_exists, "process", text(a, "proc.name")) {
                    self.processes.insert(p);
                }
            }
            "learn inbound" => {
                if let Some(p) = need(&mut self.needs_exists, "inbound", text(a, "fd.sport"))
                    .and_then(|p| p.parse().ok())
                {
                    self.inbound_ports.insert(p);
                }
            }
            "learn outbound" => {
                let port = text(a, "fd.sport").and_then(|p| p.parse().ok());
                let ip = text(a, "fd.sip").and_then(|p| p.parse().ok());
                match (port, ip) {
                    (Some(port), Some(ip)) => {
                        self.outbound_ports.insert(port);
                        self.outbound_addresses.insert(ip);
                    }
                    _ => {
                        self.needs_exists.insert("outbound");
                    }
                }
            }
            "learn write" => {
                let proc = text(a, "proc.name");
                let file = text(a, "fd.name");
                match (proc, file) {
                    (Some(p), Some(f)) => {
                        self.writers.insert(p);
                        self.written.insert(f);
                    }
                    _ => {
                        self.needs_exists.insert("write");
                    }
                }
            }
            "learn read" => {
                if let Some(f) = need(&mut self.needs_exists, "read", text(a, "fd.name")) {
                    self.read.insert(f);
                }
            }
            _ => {}
        }
    }

    /// The profile as a Falco rules file; `name` prefixes every list, macro and rule (`[a-z0-9_]`, see
    /// [`profile_name`]).
    pub fn to_rules_yaml(&self, name: &str) -> String {
        let mut y = String::new();
        let (what, title) = match &self.workload {
            Some(Workload::ContainerImage(p)) => (
                format!("the containers of image {p}"),
                format!("{name} container"),
            ),
            Some(Workload::ProcName(n)) => (
                format!("process {n} and its descendants"),
                format!("{name} process tree"),
            ),
            None => ("the workload".to_string(), name.to_string()),
        };
        let _ = writeln!(
            y,
            "# Whitelisting profile of {what},\n# learned by `frulec profile` from {} ({} of its {} events).",
            self.capture, self.events_workload, self.events_total
        );
        y.push_str(
            "#\n# Everything the workload did while the capture was recorded is allowed below; anything else raises an\n\
             # alert: a process outside the allowed processes, a listening or accepting socket on another port, a\n\
             # connection outside the allowed ports x networks, a file written outside the write prefixes (or by\n\
             # another process), a file read outside the read prefixes, a syscall outside the allowed syscalls.\n\
             # Review the lists: a capture only shows what happened while it was recorded. Adapt the profile by\n\
             # appending to a list from a file loaded after this one (`- list: ...` / `append: true`).\n\n",
        );
        let w = format!("{name}_workload");
        match &self.workload {
            Some(Workload::ProcName(n)) => {
                list(
                    &mut y,
                    &format!("{name}_process_names"),
                    [condition_item(n)],
                );
                let _ = writeln!(
                    y,
                    "- macro: {w}\n  condition: >\n    (proc.name in ({name}_process_names) or proc.aname in ({name}_process_names))\n"
                );
            }
            _ => {
                list(
                    &mut y,
                    &format!("{name}_image_repositories"),
                    self.repositories.iter().map(|s| condition_item(s)),
                );
                y.push_str("# images whose repository was not known in the capture\n");
                list(
                    &mut y,
                    &format!("{name}_images"),
                    self.images.iter().map(|s| condition_item(s)),
                );
                let _ = writeln!(
                    y,
                    "- macro: {w}\n  condition: >\n    container.id != host\n    and (container.image.repository in ({name}_image_repositories)\n         or container.image in ({name}_images))\n"
                );
            }
        }
        let guard = |kind: &str, field: &str| {
            if self.needs_exists.contains(kind) {
                format!("\n    and {field} exists")
            } else {
                String::new()
            }
        };
        let tags = |kind: &str| format!("[profile, learned, {name}, {kind}]");

        // processes
        list(
            &mut y,
            &format!("{name}_allowed_processes"),
            self.processes.iter().map(|s| condition_item(s)),
        );
        let _ = writeln!(
            y,
            "- rule: Unexpected process spawned in {title}\n  desc: A process outside the learned profile was started in the {title}.\n  \
             condition: >\n    {SPAWN}\n    and {w}{}\n    and not proc.name in ({name}_allowed_processes)\n  \
             output: >\n    Unexpected process spawned in {title} (proc.name=%proc.name proc.cmdline=%proc.cmdline\n    \
             proc.pname=%proc.pname user.name=%user.name container.id=%container.id image=%container.image)\n  \
             priority: WARNING\n  tags: {}\n",
            guard("process", "proc.name"),
            tags("process")
        );
        // inbound
        inline_list(
            &mut y,
            &format!("{name}_allowed_inbound_ports"),
            self.inbound_ports.iter().map(u64::to_string),
        );
        let _ = writeln!(
            y,
            "- rule: Unexpected inbound port in {title}\n  desc: >\n    The {title} listened on or accepted a TCP/IP connection on a port outside the learned profile.\n  \
             condition: >\n    {INBOUND}\n    and {w}{}\n    and not fd.sport in ({name}_allowed_inbound_ports)\n  \
             output: >\n    Unexpected inbound port in {title} (evt.type=%evt.type connection=%fd.name fd.sport=%fd.sport\n    \
             proc.name=%proc.name proc.cmdline=%proc.cmdline container.id=%container.id image=%container.image)\n  \
             priority: NOTICE\n  tags: {}\n",
            guard("inbound", "fd.sport"),
            tags("network")
        );
        // outbound
        inline_list(
            &mut y,
            &format!("{name}_allowed_outbound_ports"),
            self.outbound_ports.iter().map(u64::to_string),
        );
        let nets: BTreeSet<String> = self.outbound_addresses.iter().map(network_of).collect();
        inline_list(
            &mut y,
            &format!("{name}_allowed_outbound_networks"),
            nets.iter().map(|n| format!("\"{n}\"")),
        );
        let out_guard = if self.needs_exists.contains("outbound") {
            "\n    and fd.sport exists and fd.sip exists"
        } else {
            ""
        };
        let _ = writeln!(
            y,
            "- rule: Unexpected outbound connection from {title}\n  desc: >\n    The {title} connected to a destination outside the learned profile (port and network both\n    have to be allowed).\n  \
             condition: >\n    {OUTBOUND}\n    and {w}{out_guard}\n    and not (fd.sport in ({name}_allowed_outbound_ports)\n             and fd.snet in ({name}_allowed_outbound_networks))\n  \
             output: >\n    Unexpected outbound connection from {title} (connection=%fd.name fd.sip=%fd.sip fd.sport=%fd.sport\n    \
             proc.name=%proc.name proc.cmdline=%proc.cmdline container.id=%container.id image=%container.image)\n  \
             priority: WARNING\n  tags: {}\n",
            tags("network")
        );
        // writes
        list(
            &mut y,
            &format!("{name}_allowed_write_prefixes"),
            generalize(&self.written).iter().map(|s| condition_item(s)),
        );
        list(
            &mut y,
            &format!("{name}_allowed_writers"),
            self.writers.iter().map(|s| condition_item(s)),
        );
        let write_guard = if self.needs_exists.contains("write") {
            "\n    and proc.name exists and fd.name exists"
        } else {
            ""
        };
        let _ = writeln!(
            y,
            "- rule: Unexpected file write in {title}\n  desc: >\n    A file was opened for writing in the {title} outside the learned prefixes, or by a process the\n    profile does not allow to write.\n  \
             condition: >\n    {WRITE}\n    and {w}{write_guard}\n    and not (proc.name in ({name}_allowed_writers) and fd.name pmatch ({name}_allowed_write_prefixes))\n  \
             output: >\n    Unexpected file write in {title} (file=%fd.name proc.name=%proc.name proc.cmdline=%proc.cmdline\n    \
             container.id=%container.id image=%container.image)\n  \
             priority: WARNING\n  tags: {}\n",
            tags("filesystem")
        );
        // reads
        list(
            &mut y,
            &format!("{name}_allowed_read_prefixes"),
            generalize(&self.read).iter().map(|s| condition_item(s)),
        );
        let _ = writeln!(
            y,
            "- rule: Unexpected file read in {title}\n  desc: A file outside the learned prefixes was opened for reading in the {title}.\n  \
             condition: >\n    {READ}\n    and {w}{}\n    and not fd.name pmatch ({name}_allowed_read_prefixes)\n  \
             output: >\n    Unexpected file read in {title} (file=%fd.name proc.name=%proc.name proc.cmdline=%proc.cmdline\n    \
             container.id=%container.id image=%container.image)\n  \
             priority: NOTICE\n  tags: {}\n",
            guard("read", "fd.name"),
            tags("filesystem")
        );
        // syscalls
        list(
            &mut y,
            &format!("{name}_allowed_syscalls"),
            allowed_syscalls(&self.syscalls),
        );
        y.push_str("# Events that are not syscalls made by the workload (metadata, scheduler and fault activity).\n");
        inline_list(
            &mut y,
            &format!("{name}_non_syscall_events"),
            NON_SYSCALL_EVENTS.iter().map(|s| s.to_string()),
        );
        y.push_str(
            "# Every event type can be unexpected here, so this rule deliberately has no positive evt.type check.\n",
        );
        let _ = write!(
            y,
            "- rule: Unexpected syscall in {title}\n  desc: The {title} made a syscall outside the learned profile.\n  \
             condition: >\n    {w}\n    and not evt.type in ({name}_allowed_syscalls)\n    and not evt.type in ({name}_non_syscall_events)\n  \
             output: >\n    Unexpected syscall in {title} (evt.type=%evt.type proc.name=%proc.name proc.cmdline=%proc.cmdline\n    \
             container.id=%container.id image=%container.image)\n  \
             priority: NOTICE\n  warn_evttypes: false\n  tags: {}\n",
            tags("syscall")
        );
        y
    }
}

/// A name for lists, macros and rules from a pattern or process name: the last path component without tag
/// and wildcards, lowercase, other characters as `_` (`docker.io/library/nginx:1.27` → `nginx`).
pub fn profile_name(selector: &str) -> String {
    let last = selector.rsplit('/').next().unwrap_or(selector);
    let last = last.split(':').next().unwrap_or(last);
    let mut s: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_').to_string();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("workload_{s}").trim_end_matches('_').to_string()
    } else {
        s
    }
}

/// A list item as the condition language reads it after substitution: plain when it is one token, else a
/// quoted string; returned as a YAML scalar.
fn condition_item(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./+@-".contains(c))
        && !s.starts_with(['-', '.']);
    if plain {
        return s.to_string();
    }
    let mut quoted = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    // YAML single-quoted scalar holding the condition's double-quoted string
    format!("'{}'", quoted.replace('\'', "''"))
}

fn list(y: &mut String, name: &str, items: impl IntoIterator<Item = String>) {
    let items: Vec<String> = items.into_iter().collect();
    if items.is_empty() {
        let _ = writeln!(y, "- list: {name}\n  items: []\n");
        return;
    }
    let _ = writeln!(y, "- list: {name}\n  items:");
    for i in items {
        let _ = writeln!(y, "    - {i}");
    }
    y.push('\n');
}

/// A flow-style list, wrapped before 110 columns.
fn inline_list(y: &mut String, name: &str, items: impl IntoIterator<Item = String>) {
    let _ = write!(y, "- list: {name}\n  items: [");
    let mut col = 10;
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            y.push(',');
            if col + item.len() + 2 > 108 {
                y.push_str("\n         ");
                col = 9;
            } else {
                y.push(' ');
                col += 1;
            }
            col += 1;
        }
        y.push_str(&item);
        col += item.len();
    }
    y.push_str("]\n\n");
}

fn flow_list(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(", "))
}

/// The network an address is allowed through: a private or loopback block, or the address itself.
fn network_of(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            match o {
                [127, ..] => "127.0.0.0/8".into(),
                [10, ..] => "10.0.0.0/8".into(),
                [172, b, ..] if (16..32).contains(&b) => "172.16.0.0/12".into(),
                [192, 168, ..] => "192.168.0.0/16".into(),
                _ => format!("{v4}/32"),
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() {
                "::1/128".into()
            } else if (v6.segments()[0] & 0xfe00) == 0xfc00 {
                "fc00::/7".into()
            } else if let Some(v4) = v6.to_ipv4_mapped() {
                network_of(&IpAddr::V4(v4))
            } else {
                format!("{v6}/128")
            }
        }
    }
}

/// Directories allowed whole as soon as the workload uses them.
const SCRATCH: &[&str] = &["/tmp", "/var/tmp", "/dev/shm", "/run", "/var/run"];

fn depth(path: &str) -> usize {
    path.split('/').filter(|c| !c.is_empty()).count()
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Whether `prefix` covers `path` as `pmatch` does (whole path components).
fn covers(prefix: &str, path: &str) -> bool {
    prefix == "/"
        || path == prefix
        || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

/// Generalizes file paths to `pmatch` prefixes (see the module documentation).
pub fn generalize(paths: &BTreeSet<String>) -> BTreeSet<String> {
    let mut cands: BTreeSet<String> = BTreeSet::new();
    for p in paths {
        if !p.starts_with('/') {
            // not an absolute path (an unresolved name): allowed as itself
            cands.insert(p.clone());
            continue;
        }
        if let Some(s) = SCRATCH.iter().find(|s| covers(s, p)) {
            cands.insert((*s).to_string());
            continue;
        }
        let mut comps = p.split('/').filter(|c| !c.is_empty());
        if comps.next() == Some("proc")
            && comps.next().is_some_and(|c| {
                c == "self" || c == "thread-self" || c.bytes().all(|b| b.is_ascii_digit())
            })
        {
            cands.insert("/proc".into());
            continue;
        }
        let dir = parent(p);
        cands.insert(if depth(dir) >= 2 {
            dir.to_string()
        } else {
            p.clone()
        });
    }
    // three or more siblings below a directory at least two levels deep become that directory
    loop {
        let mut by_parent: BTreeMap<String, usize> = BTreeMap::new();
        for c in &cands {
            let d = parent(c);
            if depth(d) >= 2 {
                *by_parent.entry(d.to_string()).or_default() += 1;
            }
        }
        let Some((dir, _)) = by_parent.into_iter().find(|(_, n)| *n >= 3) else {
            break;
        };
        cands.retain(|c| !covers(&dir, c));
        cands.insert(dir);
    }
    let all: Vec<String> = cands.iter().cloned().collect();
    cands.retain(|c| !all.iter().any(|o| o != c && covers(o, c)));
    cands
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn paths_generalize_to_prefixes() {
        let got = generalize(&set(&[
            "/etc/passwd",
            "/etc/nginx/nginx.conf",
            "/etc/nginx/conf.d/default.conf",
            "/usr/share/nginx/html/index.html",
            "/proc/1234/stat",
            "/proc/self/fd/3",
            "/tmp/abc",
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/lib/x86_64-linux-gnu/libm.so.6",
            "/usr/lib/a/x",
            "/usr/lib/b/y",
            "/usr/lib/c/z",
        ]));
        assert_eq!(
            got,
            set(&[
                "/etc/nginx",
                "/etc/passwd",
                "/lib/x86_64-linux-gnu",
                "/proc",
                "/tmp",
                "/usr/lib",
                "/usr/share/nginx/html",
            ])
        );
    }

    #[test]
    fn syscall_families_are_allowed_together() {
        assert_eq!(
            allowed_syscalls(&set(&["dup", "read", "accept4"])),
            set(&["accept", "accept4", "dup", "dup2", "dup3", "read"])
        );
        assert_eq!(allowed_syscalls(&set(&["openat"])), set(&["openat"]));
    }

    #[test]
    fn prefixes_cover_whole_components() {
        assert!(covers("/etc/nginx", "/etc/nginx/x"));
        assert!(covers("/etc/nginx", "/etc/nginx"));
        assert!(!covers("/etc/nginx", "/etc/nginx2"));
    }

    #[test]
    fn addresses_generalize_to_networks() {
        let n = |s: &str| network_of(&s.parse().expect("address"));
        assert_eq!(n("10.1.2.3"), "10.0.0.0/8");
        assert_eq!(n("172.31.0.1"), "172.16.0.0/12");
        assert_eq!(n("172.32.0.1"), "172.32.0.1/32");
        assert_eq!(n("8.8.8.8"), "8.8.8.8/32");
        assert_eq!(n("::1"), "::1/128");
        assert_eq!(n("2001:db8::3"), "2001:db8::3/128");
    }

    #[test]
    fn names_and_items() {
        assert_eq!(profile_name("docker.io/library/nginx:1.27"), "nginx");
        assert_eq!(profile_name("*haproxy*"), "haproxy");
        assert_eq!(profile_name("test_ipv6_clien"), "test_ipv6_clien");
        assert_eq!(profile_name("9p"), "workload_9p");
        assert_eq!(condition_item("nginx"), "nginx");
        assert_eq!(condition_item("(sd-pam)"), r#"'"(sd-pam)"'"#);
        assert_eq!(condition_item("it's"), r#"'"it''s"'"#);
    }
}
