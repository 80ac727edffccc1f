//! frule: a Falco-compatible runtime-security rule engine.
//!
//! This crate is the embedding API: an [`Engine`] that loads Falco rules files (diagnostics come back as
//! values), evaluates events — raw scap event bytes, whole capture files, or events given as field
//! values — and hands back [`Alert`]s with Falco's rule, priority, tags, time, output text and output
//! fields. The engine keeps the system state (process tree, fd tables, users) that the fields of syscall
//! events need, per engine instance.
//!
//! ```
//! use frule::Engine;
//!
//! let mut engine = Engine::from_yaml(
//!     "rules.yaml",
//!     r#"
//! - rule: shell_spawned
//!   desc: a shell was started
//!   condition: evt.type = execve and proc.name in (bash, sh)
//!   output: "shell spawned (command=%proc.cmdline user=%user.name)"
//!   priority: WARNING
//!   tags: [process]
//! "#,
//! )?;
//!
//! // An event given as field values (as `frulec test` does); unknown fields are errors.
//! let alerts = engine.process_fields(
//!     "execve",
//!     1_700_000_000_000_000_000,
//!     &[("proc.name", "bash"), ("proc.cmdline", "bash -i")],
//! )?;
//! assert_eq!(alerts.len(), 1);
//! assert_eq!(&*alerts[0].rule, "shell_spawned");
//! assert_eq!(alerts[0].output, "shell spawned (command=bash -i user=<NA>)");
//!
//! // Falco's JSON line, as Falcosidekick accepts it.
//! let line = frule::format_alert(&alerts[0], &frule::OutputOptions {
//!     json_output: true,
//!     ..frule::OutputOptions::default()
//! });
//! assert!(line.contains(r#""rule":"shell_spawned""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! To replay a capture, use [`Engine::replay`]; to feed events from your own source, pass their bytes
//! (libscap's event layout) to [`Engine::process_event_bytes`].
//!
//! The pipeline's crates are re-exported for lower-level use:
//!
//! - [`lang`]: rules files and the condition language → checked, located conditions and diagnostics;
//! - [`codegen`]: typed IR, optimizer, bytecode VM and Cranelift JIT;
//! - [`runtime`]: events, captures, system state, field extraction, the engine and outputs.

#![deny(missing_docs)]

use std::fmt;
use std::path::Path;

pub use frule_codegen as codegen;
pub use frule_lang as lang;
pub use frule_runtime as runtime;

pub mod profile;

pub use frule_lang::loader::Priority;
/// How compiled conditions are executed: [`Backend::Jit`] (the default: optimized per-event-type
/// programs compiled to native code with Cranelift, falling back to the VM per program when the JIT
/// cannot compile), [`Backend::Vm`] (the same optimized programs on the bytecode VM) or
/// [`Backend::VmUnoptimized`] (the unoptimized reference). [`Backend::ALL`] lists them all for
/// differential runs: `frulec test` runs each case on each of them.
pub use frule_runtime::engine::Backend;
pub use frule_runtime::engine::{RuleMatching, RuleSelector, Selection, Stats};
pub use frule_runtime::output::{Alert, FieldValue, OutputOptions, format_alert};

use frule_codegen::abi::{MapEvent, OwnedValue, ScalarKind};
use frule_lang::diagnostic::Diagnostic;
use frule_lang::loader::{LoadResult, RulesFile};

/// Rules that did not load: every error and warning, with exact locations.
#[derive(Debug)]
pub struct LoadError {
    /// The whole load result; its diagnostics say what is wrong.
    pub result: Box<LoadResult>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&frule_lang::render::text::render(&self.result))
    }
}

impl std::error::Error for LoadError {}

/// What can go wrong while using an [`Engine`].
#[derive(Debug)]
pub enum Error {
    /// The rules did not load.
    Load(LoadError),
    /// A rules file or capture could not be read.
    Io(std::io::Error),
    /// A capture file is corrupt or truncated.
    Capture(frule_runtime::scap::ScapError),
    /// Event bytes are not a well-formed event.
    Event(frule_runtime::event::EventError),
    /// An event given as field values is invalid (unknown field, unparsable value, unknown type).
    Fields(String),
    /// The rule selection is contradictory (`-t` with `-D`/`-T`).
    Selection(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Load(e) => e.fmt(f),
            Error::Io(e) => e.fmt(f),
            Error::Capture(e) => e.fmt(f),
            Error::Event(e) => e.fmt(f),
            Error::Fields(m) | Error::Selection(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Self {
        Error::Load(e)
    }
}

/// What a replay read and found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Events read from the capture.
    pub events: u64,
    /// Alerts produced.
    pub alerts: u64,
}

/// A Falco rule engine: loaded rules, their compiled programs, the system state and the counters.
#[derive(Debug)]
pub struct Engine {
    inner: frule_runtime::engine::Engine,
    warnings: Vec<Diagnostic>,
    alerts: Vec<Alert>,
}

impl Engine {
    /// Loads rules files given as name and content, in order (later files may append to or override
    /// earlier ones). Fails with every diagnostic when one of them has an error; warnings are kept
    /// (see [`Engine::warnings`]).
    pub fn from_rules(files: &[RulesFile]) -> Result<Engine, LoadError> {
        let result = frule_lang::loader::load(files);
        if !result.is_ok() {
            return Err(LoadError {
                result: Box::new(result),
            });
        }
        Ok(Engine {
            inner: frule_runtime::engine::Engine::new(&result),
            warnings: result.diagnostics,
            alerts: Vec::new(),
        })
    }

    /// Loads one rules file given as text.
    pub fn from_yaml(name: &str, yaml: &str) -> Result<Engine, LoadError> {
        Engine::from_rules(&[RulesFile::new(name, yaml)])
    }

    /// Loads rules files from disk, in order.
    pub fn from_files<P: AsRef<Path>>(paths: &[P]) -> Result<Engine, Error> {
        let mut files = Vec::with_capacity(paths.len());
        for p in paths {
            let p = p.as_ref();
            let content = std::fs::read(p).map_err(|e| {
                Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("cannot read {}: {e}", p.display()),
                ))
            })?;
            files.push(RulesFile::new(p.display().to_string(), content));
        }
        Ok(Engine::from_rules(&files)?)
    }

    /// The warnings of the load (`LOAD_NO_EVTTYPE`, unused lists, …).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Chooses how conditions run ([`Backend::Jit`] by default); the rules are compiled again for it
    /// on the next event.
    pub fn set_backend(&mut self, backend: Backend) {
        self.inner.set_backend(backend);
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.inner.backend()
    }

    /// Sets `rule_matching` (first matching rule wins, or all fire).
    pub fn set_rule_matching(&mut self, m: RuleMatching) {
        self.inner.set_rule_matching(m);
    }

    /// Sets the least severe priority that is loaded (falco.yaml `priority`).
    pub fn set_min_priority(&mut self, p: Priority) {
        self.inner.ruleset_mut().set_min_priority(p);
    }

    /// Enables and disables rules by name substring, tag and wildcard selectors.
    pub fn select(&mut self, selection: &Selection) -> Result<(), Error> {
        selection
            .apply(self.inner.ruleset_mut())
            .map_err(Error::Selection)
    }

    /// The engine of the runtime crate, for everything this facade does not expose.
    pub fn inner(&mut self) -> &mut frule_runtime::engine::Engine {
        &mut self.inner
    }

    /// Falco's counters: events, detections per priority and per rule.
    pub fn stats(&self) -> &Stats {
        self.inner.stats()
    }

    /// The detection summary as Falco prints it at exit.
    pub fn summary(&self) -> String {
        self.inner.summary()
    }

    /// Evaluates one syscall event given as raw bytes in libscap's layout (header, parameter lengths,
    /// parameters), updating the engine's state first. Returns the alerts it raised.
    pub fn process_event_bytes(&mut self, bytes: &[u8]) -> Result<&[Alert], Error> {
        let evt = frule_runtime::event::Event::new(bytes).map_err(Error::Event)?;
        self.alerts.clear();
        self.inner.process(&evt, 0, &mut self.alerts);
        Ok(&self.alerts)
    }

    /// Evaluates an event given as field values (text, parsed per field type: `proc.pid` as a number,
    /// `fd.sip` as an address …) of event type `evt_type` at `ts` (ns since the epoch). Fields not given
    /// are missing (`<NA>`). The engine's state is not involved.
    pub fn process_fields(
        &mut self,
        evt_type: &str,
        ts: u64,
        fields: &[(&str, &str)],
    ) -> Result<Vec<Alert>, Error> {
        let code = frule_lang::events::codes_for_name(evt_type)
            .first()
            .copied()
            .ok_or_else(|| Error::Fields(format!("unknown event type {evt_type:?}")))?;
        let mut ev = MapEvent::new();
        let mut all: Vec<(&str, &str)> = vec![("evt.type", evt_type)];
        all.extend_from_slice(fields);
        for (name, text) in all {
            let (base, arg) = match name.split_once('[') {
                Some((b, rest)) => (b, rest.strip_suffix(']')),
                None => (name, None),
            };
            let r = frule_lang::fields::resolve(base, arg)
                .map_err(|e| Error::Fields(format!("{name}: {e}")))?;
            let bad = || Error::Fields(format!("{name}: invalid value {text:?}"));
            let value = match frule_codegen::lower::scalar_kind(r.ty()) {
                ScalarKind::Int => OwnedValue::I64(text.parse().map_err(|_| bad())?),
                ScalarKind::Uint => OwnedValue::U64(text.parse().map_err(|_| bad())?),
                ScalarKind::Double => OwnedValue::F64(text.parse().map_err(|_| bad())?),
                ScalarKind::Bool => OwnedValue::Bool(text.parse().map_err(|_| bad())?),
                ScalarKind::Ip | ScalarKind::Net => {
                    OwnedValue::Ip(text.parse().map_err(|_| bad())?)
                }
                ScalarKind::Str | ScalarKind::Bytes => OwnedValue::Bytes(text.as_bytes().to_vec()),
            };
            let arg = match r.arg {
                frule_lang::fields::FieldArg::None => None,
                frule_lang::fields::FieldArg::Index(i) => {
                    Some(frule_codegen::abi::FieldArg::Index(i))
                }
                frule_lang::fields::FieldArg::Key(k) => Some(frule_codegen::abi::FieldArg::Key(k)),
            };
            ev.set(r.id, arg, value);
        }
        let mut alerts = Vec::new();
        self.inner.process_fields(
            frule_runtime::engine::SYSCALL_SOURCE,
            code,
            ts,
            &mut ev,
            &mut alerts,
        );
        Ok(alerts)
    }

    /// Replays a capture file (gzip or not): loads its recorded state, evaluates every event and calls
    /// `on_alert` for each alert, in order.
    pub fn replay(
        &mut self,
        capture: impl AsRef<Path>,
        mut on_alert: impl FnMut(&Alert),
    ) -> Result<ReplayStats, Error> {
        let mut reader =
            frule_runtime::scap::ScapReader::open(capture.as_ref()).map_err(Error::Capture)?;
        self.inner.set_capture_state(reader.state());
        let mut stats = ReplayStats::default();
        while let Some(rec) = reader.next_event().map_err(Error::Capture)? {
            stats.events += 1;
            self.alerts.clear();
            self.inner.process(&rec.event, rec.cpu, &mut self.alerts);
            for a in &self.alerts {
                stats.alerts += 1;
                on_alert(a);
            }
        }
        Ok(stats)
    }
}
