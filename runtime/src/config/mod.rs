//! falco.yaml-style configuration: the keys that shape rule selection and alert output, with Falco's
//! defaults, `-o key=value` overrides and located errors.
//!
//! ```text
//! falco.yaml text ──YAML──► value tree ──-o overrides (Falco's path grammar)──► typed Config
//! ```
//!
//! Keys read (falco-ux.md §a2): `rules_files` (and the legacy `rules_file`), `priority`,
//! `rule_matching`, `json_output`, `json_include_{output,output_fields,tags,message}_property`,
//! `time_format_iso_8601`, `buffered_outputs`, `stdout_output`, `file_output`, `program_output`,
//! `http_output`, `rules` (enable/disable selectors), and for the live monitor `watch_config_files`,
//! `webserver` (`enabled`, `listen_address`, `listen_port`, `k8s_healthz_endpoint`,
//! `prometheus_metrics_enabled`), `metrics.enabled`, `syscall_event_drops` and `engine` ([`EngineConfig`]:
//! `kind`, and of the selected kind's section only, as Falco reads it, `buf_size_preset`,
//! `cpus_for_each_buffer`, `drop_failed_exit`; `replay.capture_file`); frule's own settings live under
//! `frule:` (`frule.backend`: `jit`, `vm` or `vm-O0`; `frule.entry_hook`: `auto`, `sys_enter` or
//! `syscall_tracepoints`). Other keys Falco knows are accepted and ignored; keys Falco does not know,
//! and those Falco 0.38 removed, produce a warning (as Falco 0.44's schema validation does), never an
//! error.
//!
//! This crate does not depend on the capture: `engine` is carried as plain values (a preset index, a
//! CPU count, each [`Located`] so that the monitor's checks against the host still name the key), and
//! the monitor maps them to the capture's options.
//!
//! Override paths (`-o`): dot-separated keys, `[N]` list indexes, and since Falco 0.44 the escapes
//! `\.`, `\[`, `\\` for literal characters in key names. Missing intermediate maps are created; a list
//! index may append one past the end. The value is read as a YAML scalar or flow collection
//! (`-o json_output=true` is a boolean, `-o 'rules_files=[a.yaml, b.yaml]'` a list).
//!
//! Invariant: every user mistake is a [`ConfigError`] naming the file (or `-o`) and the key path.

use std::fmt;

use frule_lang::loader::Priority;
use serde_json::{Map, Value};

use crate::engine::{Backend, RuleMatching, RuleSelector};
use crate::output::{self, OutputOptions, Outputs};

/// Falco's default `rules_files`.
pub const DEFAULT_RULES_FILES: &[&str] = &[
    "/etc/falco/falco_rules.yaml",
    "/etc/falco/falco_rules.local.yaml",
    "/etc/falco/rules.d",
];

/// Top-level keys of Falco's falco.yaml that frule accepts without acting on them.
const KNOWN_IGNORED: &[&str] = &[
    "config_files",
    "load_plugins",
    "plugins",
    "plugins_hostinfo",
    "outputs_queue",
    "output_timeout",
    "append_output",
    "static_fields",
    "syslog_output",
    "grpc",
    "grpc_output",
    "log_stderr",
    "log_syslog",
    "log_level",
    "libs_logger",
    "syscall_event_timeouts",
    "base_syscalls",
    "falco_libs",
    "capture",
    "container_engines",
    "outputs",
    "container",
    "buffer_format_base64",
    "http_output_keep_alive",
];

/// Top-level keys Falco read until 0.38 (falco commit 99781f79 removed them), with the key that
/// replaced each: Falco ignores them now, frule warns so that the setting is not silently lost.
const REMOVED_IN_FALCO_0_38: &[(&str, &str)] = &[
    (
        "syscall_buf_size_preset",
        "engine.modern_ebpf.buf_size_preset",
    ),
    (
        "syscall_drop_failed_exit",
        "engine.modern_ebpf.drop_failed_exit",
    ),
    (
        "modern_bpf",
        "engine.modern_ebpf.cpus_for_each_buffer (was modern_bpf.cpus_for_each_syscall_buffer)",
    ),
];

/// The ring buffer size of each `buf_size_preset` index, as in Falco's
/// `configure_syscall_buffer_size.cpp`: index 0 is reserved, 1 is 1 MiB, each next index doubles,
/// up to 10 = 512 MiB. Falco's default (and libscap's fixed size before presets) is index 4, 8 MiB.
pub const BUF_SIZE_PRESETS: [usize; 11] = [
    0,
    1 << 20,
    1 << 21,
    1 << 22,
    1 << 23,
    1 << 24,
    1 << 25,
    1 << 26,
    1 << 27,
    1 << 28,
    1 << 29,
];

/// The bytes of one ring buffer for a `buf_size_preset` index: `None` for the reserved index 0
/// and for anything past 10, which Falco refuses ("the 'buf_size_preset' value must be between
/// '1' and '10'").
pub fn buf_size_preset_bytes(index: i64) -> Option<usize> {
    match usize::try_from(index) {
        Ok(i @ 1..) => BUF_SIZE_PRESETS.get(i).copied(),
        _ => None,
    }
}

/// A configuration problem, located by source (file name or `-o`) and key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file name, or `-o` for an override.
    pub source: String,
    /// The key path (`file_output.filename`); empty for the whole document.
    pub key: String,
    /// What is wrong, lowercase.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.source, self.message)
        } else {
            write!(f, "{}: {}: {}", self.source, self.key, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// A value read from the configuration together with where it was read, so that a check only
/// the monitor can make (against the page size, the online CPUs) still names the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// The file name, or `-o` for defaults with overrides only.
    pub source: String,
    /// The full key path (`engine.modern_ebpf.buf_size_preset`).
    pub key: String,
}

impl<T> Located<T> {
    /// A [`ConfigError`] about this value.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            source: self.source.clone(),
            key: self.key.clone(),
            message: message.into(),
        }
    }

    /// A located remark about this value, in the form of [`Config::warnings`].
    pub fn remark(&self, message: &str) -> String {
        format!("{}: {}: {message}", self.source, self.key)
    }
}

/// `engine.kind`: where the events come from.
///
/// frule has one driver, its own eBPF capture; the kinds whose driver frule lacks but whose
/// events it can produce run that capture. `nodriver` (plugins only: frule has none, so there
/// would be no events) and `gvisor` (dropped by Falco 0.44) are configuration errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// `modern_ebpf` (Falco's default, and frule's when `engine.kind` is unset): frule's eBPF
    /// capture, sized by `engine.modern_ebpf.{buf_size_preset,cpus_for_each_buffer}`.
    ModernEbpf,
    /// `ebpf`, Falco's legacy probe (removed in Falco 0.44): frule's eBPF capture with one ring
    /// per CPU, as the legacy probe had, sized by `engine.ebpf.buf_size_preset`.
    Ebpf,
    /// `kmod`: frule has no kernel module, so its eBPF capture runs instead (a notice says so),
    /// with one ring per CPU, as the module had, sized by `engine.kmod.buf_size_preset`.
    Kmod,
    /// `replay`: evaluate the events of `engine.replay.capture_file`, as `--replay` does (which
    /// wins when both are given).
    Replay {
        /// `engine.replay.capture_file` (never empty).
        capture_file: String,
    },
}

impl EngineKind {
    /// The kind as written in falco.yaml.
    pub fn name(&self) -> &'static str {
        match self {
            EngineKind::ModernEbpf => "modern_ebpf",
            EngineKind::Ebpf => "ebpf",
            EngineKind::Kmod => "kmod",
            EngineKind::Replay { .. } => "replay",
        }
    }
}

/// `frule.entry_hook`: which programs copy open-family paths and connect sockaddrs at syscall
/// entry (the live capture's TOCTOU mitigation). The capture crate's `EntryHook` has the measured
/// trade-off: the raw `sys_enter` hook runs for every syscall of the host, the classic
/// `syscalls:sys_enter_*` tracepoints only for open/openat/openat2/creat/connect but cost more
/// per call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EntryHook {
    /// `auto`: the classic tracepoints when tracefs offers them, else `sys_enter`.
    #[default]
    Auto,
    /// `sys_enter`: one BTF `sys_enter` program (cheaper for a host that does little but open
    /// files).
    SysEnter,
    /// `syscall_tracepoints`: the classic per-syscall tracepoints (need tracefs; cheaper for a
    /// host whose syscalls are mostly reads, writes and polls, and what Falco's modern probe uses).
    SyscallTracepoints,
}

impl EntryHook {
    /// Parses the value of `frule.entry_hook`.
    pub fn parse(s: &str) -> Option<EntryHook> {
        match s {
            "auto" => Some(EntryHook::Auto),
            "sys_enter" => Some(EntryHook::SysEnter),
            "syscall_tracepoints" => Some(EntryHook::SyscallTracepoints),
            _ => None,
        }
    }
}

/// `engine`: the kind of engine and the live capture's ring buffers.
///
/// Only the section of the selected kind is read (`engine.modern_ebpf` for `modern_ebpf`,
/// `engine.kmod` for `kmod`, …), as Falco does: the other sections of Falco's stock falco.yaml
/// are accepted unread. An unset key leaves frule's own default, which differs from Falco's on
/// purpose for the CPUs per ring (frule: one ring per CPU; Falco: `cpus_for_each_buffer: 2`,
/// which Falco's stock falco.yaml also writes out, so a Falco user's file keeps Falco's sharing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// `engine.kind` (`modern_ebpf` when unset).
    pub kind: EngineKind,
    /// `engine.<kind>.buf_size_preset`, checked to be 1..=10 ([`buf_size_preset_bytes`] gives
    /// the bytes); unset: frule's default, 8 MiB (preset 4). Whether the size suits the page
    /// size (a multiple of it, more than two pages) is the monitor's check.
    pub buf_size_preset: Option<Located<u16>>,
    /// `engine.modern_ebpf.cpus_for_each_buffer`: how many CPUs share one ring buffer, `0` for a
    /// single ring shared by all CPUs (libpman's meaning); more than the online CPUs means one
    /// ring for all of them, with a warning (Falco's `configure_syscall_buffer_num`). Unset:
    /// frule's default, one ring per CPU. `ebpf` and `kmod` always have one ring per CPU.
    pub cpus_for_each_buffer: Option<Located<u16>>,
    /// `engine.<kind>.drop_failed_exit`: accepted; frule's capture does not drop failed
    /// syscalls in the kernel (a failed `open` of a sensitive file is what some rules look for),
    /// so `true` gives a notice and changes nothing.
    pub drop_failed_exit: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            kind: EngineKind::ModernEbpf,
            buf_size_preset: None,
            cpus_for_each_buffer: None,
            drop_failed_exit: false,
        }
    }
}

impl EngineConfig {
    /// `engine.replay.capture_file` when `engine.kind` is `replay`.
    pub fn replay_file(&self) -> Option<&str> {
        match &self.kind {
            EngineKind::Replay { capture_file } => Some(capture_file),
            _ => None,
        }
    }

    /// The bytes of each ring buffer, when `buf_size_preset` is set.
    pub fn buffer_bytes(&self) -> Option<usize> {
        self.buf_size_preset
            .as_ref()
            .and_then(|p| buf_size_preset_bytes(i64::from(p.value)))
    }
}

/// `file_output`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileOutput {
    /// `enabled`.
    pub enabled: bool,
    /// `keep_alive`.
    pub keep_alive: bool,
    /// `filename`.
    pub filename: String,
}

/// `program_output`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramOutput {
    /// `enabled`.
    pub enabled: bool,
    /// `keep_alive`.
    pub keep_alive: bool,
    /// `program`.
    pub program: String,
}

/// `http_output`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpOutput {
    /// `enabled`.
    pub enabled: bool,
    /// `url`.
    pub url: String,
    /// `user_agent`.
    pub user_agent: String,
}

/// `webserver`: the embedded HTTP server of the live monitor (`/healthz`, `/versions`, `/metrics`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webserver {
    /// `enabled` (off unless configured: frule has no default falco.yaml turning it on).
    pub enabled: bool,
    /// `listen_address`.
    pub listen_address: String,
    /// `listen_port` (0 picks a free port, printed at start).
    pub listen_port: u16,
    /// `k8s_healthz_endpoint`.
    pub k8s_healthz_endpoint: String,
    /// `prometheus_metrics_enabled`: serve `/metrics` (with `metrics.enabled`, as Falco requires).
    pub prometheus_metrics_enabled: bool,
}

/// One of `syscall_event_drops.actions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropAction {
    /// `ignore`: nothing.
    Ignore,
    /// `log`: an error line on stderr.
    Log,
    /// `alert`: the internal alert `Falco internal: syscall event drop`.
    Alert,
    /// `exit`: stop the monitor with exit code 1.
    Exit,
}

/// `syscall_event_drops`: what to do when the kernel drops events.
#[derive(Clone, Debug, PartialEq)]
pub struct SyscallEventDrops {
    /// `threshold`: the fraction of events dropped in a second above which actions run.
    pub threshold: f64,
    /// `actions`, in order.
    pub actions: Vec<DropAction>,
    /// `rate`: tokens per second of the token bucket that limits actions.
    pub rate: f64,
    /// `max_burst`: the bucket's capacity (it starts full).
    pub max_burst: f64,
    /// `simulate_drops`: pretend every second dropped events (to test the actions).
    pub simulate_drops: bool,
}

impl Default for SyscallEventDrops {
    fn default() -> Self {
        SyscallEventDrops {
            threshold: 0.1,
            actions: vec![DropAction::Log, DropAction::Alert],
            rate: 0.03333,
            max_burst: 1.0,
            simulate_drops: false,
        }
    }
}

/// The configuration frule acts on, with Falco's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `rules_files`.
    pub rules_files: Vec<String>,
    /// `priority`: the least severe priority loaded.
    pub priority: Priority,
    /// `rule_matching`.
    pub rule_matching: RuleMatching,
    /// `json_output`.
    pub json_output: bool,
    /// `json_include_output_property`.
    pub json_include_output_property: bool,
    /// `json_include_output_fields_property`.
    pub json_include_output_fields_property: bool,
    /// `json_include_tags_property`.
    pub json_include_tags_property: bool,
    /// `json_include_message_property`.
    pub json_include_message_property: bool,
    /// `time_format_iso_8601`.
    pub time_format_iso_8601: bool,
    /// `buffered_outputs`.
    pub buffered_outputs: bool,
    /// `stdout_output.enabled`.
    pub stdout_output: bool,
    /// `file_output`.
    pub file_output: FileOutput,
    /// `program_output`.
    pub program_output: ProgramOutput,
    /// `http_output`.
    pub http_output: HttpOutput,
    /// `rules:` selectors.
    pub rules: Vec<RuleSelector>,
    /// `watch_config_files`: reload the rules when a rules file changes (live monitor).
    pub watch_config_files: bool,
    /// `webserver`.
    pub webserver: Webserver,
    /// `metrics.enabled`.
    pub metrics_enabled: bool,
    /// `syscall_event_drops`.
    pub syscall_event_drops: SyscallEventDrops,
    /// `frule.backend`: how rule conditions run (frule's key; Falco has none).
    pub backend: Backend,
    /// `engine`: live capture or replay, and the live capture's ring buffers.
    pub engine: EngineConfig,
    /// `frule.entry_hook`: which programs make the live capture's syscall-entry copies.
    pub entry_hook: EntryHook,
    /// Unknown keys and other non-fatal remarks, one message each (the monitor prints them
    /// with `-v`).
    pub warnings: Vec<String>,
    /// Settings frule reads but cannot honour as Falco would (`engine.kind: kmod`,
    /// `drop_failed_exit: true`), one message each: the monitor always prints them.
    pub notices: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rules_files: DEFAULT_RULES_FILES.iter().map(|s| s.to_string()).collect(),
            priority: Priority::Debug,
            rule_matching: RuleMatching::First,
            json_output: false,
            json_include_output_property: true,
            json_include_output_fields_property: true,
            json_include_tags_property: true,
            json_include_message_property: false,
            time_format_iso_8601: false,
            buffered_outputs: false,
            stdout_output: true,
            file_output: FileOutput {
                enabled: false,
                keep_alive: false,
                filename: "./events.txt".into(),
            },
            program_output: ProgramOutput {
                enabled: false,
                keep_alive: false,
                program:
                    "jq '{text: .output}' | curl -d @- -X POST https://hooks.slack.com/services/XXX"
                        .into(),
            },
            http_output: HttpOutput {
                enabled: false,
                url: String::new(),
                user_agent: "falcosecurity/falco".into(),
            },
            rules: Vec::new(),
            watch_config_files: true,
            webserver: Webserver {
                enabled: false,
                listen_address: "0.0.0.0".into(),
                listen_port: 8765,
                k8s_healthz_endpoint: "/healthz".into(),
                prometheus_metrics_enabled: false,
            },
            metrics_enabled: false,
            syscall_event_drops: SyscallEventDrops::default(),
            backend: Backend::default(),
            engine: EngineConfig::default(),
            entry_hook: EntryHook::default(),
            warnings: Vec::new(),
            notices: Vec::new(),
        }
    }
}

/// One step of an override path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// Parses an override key path with Falco's grammar: `a.b[2].c`, escapes `\.`, `\[`, `\\`.
pub fn parse_path(path: &str) -> Result<Vec<PathStep>, String> {
    let mut steps = Vec::new();
    let mut key = String::new();
    let mut key_open = false;
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('.' | '[' | '\\' | ']')) => {
                    key.push(e);
                    key_open = true;
                }
                _ => return Err(format!("invalid escape in key {path:?}")),
            },
            '.' => {
                if !key_open {
                    return Err(format!("empty key in {path:?}"));
                }
                steps.push(PathStep::Key(std::mem::take(&mut key)));
                key_open = false;
            }
            '[' => {
                if key_open {
                    steps.push(PathStep::Key(std::mem::take(&mut key)));
                    key_open = false;
                } else if !matches!(steps.last(), Some(PathStep::Index(_))) {
                    return Err(format!("list index without a key in {path:?}"));
                }
                let mut digits = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(d) if d.is_ascii_digit() => digits.push(d),
                        _ => return Err(format!("invalid list index in {path:?}")),
                    }
                }
                let i = digits
                    .parse::<usize>()
                    .map_err(|_| format!("invalid list index in {path:?}"))?;
                steps.push(PathStep::Index(i));
                if chars.peek() == Some(&'.') {
                    chars.next();
                    if chars.peek().is_none() {
                        return Err(format!("empty key in {path:?}"));
                    }
                }
            }
            c => {
                key.push(c);
                key_open = true;
            }
        }
    }
    if key_open {
        steps.push(PathStep::Key(key));
    }
    if steps.is_empty() {
        return Err("empty key".into());
    }
    Ok(steps)
}

fn set_path(root: &mut Value, steps: &[PathStep], value: Value) -> Result<(), String> {
    let Some((first, rest)) = steps.split_first() else {
        *root = value;
        return Ok(());
    };
    match first {
        PathStep::Key(k) => {
            if !root.is_object() {
                *root = Value::Object(Map::new());
            }
            let Value::Object(m) = root else {
                return Err("not a map".into());
            };
            let child = m.entry(k.clone()).or_insert(Value::Null);
            set_path(child, rest, value)
        }
        PathStep::Index(i) => {
            if !root.is_array() {
                *root = Value::Array(Vec::new());
            }
            let Value::Array(a) = root else {
                return Err("not a list".into());
            };
            if *i > a.len() {
                return Err(format!(
                    "list index {i} is beyond the end of the list ({} items)",
                    a.len()
                ));
            }
            if *i == a.len() {
                a.push(Value::Null);
            }
            match a.get_mut(*i) {
                Some(child) => set_path(child, rest, value),
                None => Err(format!("list index {i} out of range")),
            }
        }
    }
}

fn parse_yaml(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
}

/// Applies one `-o key=value` override to a configuration tree.
pub fn apply_override(root: &mut Value, option: &str) -> Result<(), ConfigError> {
    let err = |key: &str, message: String| ConfigError {
        source: "-o".into(),
        key: key.into(),
        message,
    };
    let Some((key, raw)) = option.split_once('=') else {
        return Err(err(option, "expected key=value".into()));
    };
    let steps = parse_path(key).map_err(|m| err(key, m))?;
    let value = if raw.is_empty() {
        Value::String(String::new())
    } else {
        parse_yaml(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
    };
    set_path(root, &steps, value).map_err(|m| err(key, m))
}

struct Reader<'a> {
    source: &'a str,
}

impl Reader<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            source: self.source.to_string(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn bool(&self, key: &str, v: &Value) -> Result<bool, ConfigError> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => Ok(true),
                "false" | "no" | "off" => Ok(false),
                _ => Err(self.err(key, format!("expected a boolean, found {s:?}"))),
            },
            other => Err(self.err(key, format!("expected a boolean, found {other}"))),
        }
    }

    fn string(&self, key: &str, v: &Value) -> Result<String, ConfigError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(self.err(key, format!("expected a string, found {other}"))),
        }
    }

    fn number(&self, key: &str, v: &Value) -> Result<f64, ConfigError> {
        let n = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match n {
            Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
            _ => Err(self.err(key, format!("expected a non-negative number, found {v}"))),
        }
    }

    fn fraction(&self, key: &str, v: &Value) -> Result<f64, ConfigError> {
        let x = self.number(key, v)?;
        if x > 1.0 {
            return Err(self.err(key, format!("expected a number between 0 and 1, found {x}")));
        }
        Ok(x)
    }

    fn port(&self, key: &str, v: &Value) -> Result<u16, ConfigError> {
        let x = self.number(key, v)?;
        if x.fract() != 0.0 || x > f64::from(u16::MAX) {
            return Err(self.err(key, format!("expected a port number, found {v}")));
        }
        Ok(x as u16)
    }

    /// A whole number in `min..=max`; `what` says what it counts in the message.
    fn integer(
        &self,
        key: &str,
        v: &Value,
        (min, max): (i64, i64),
        what: &str,
    ) -> Result<i64, ConfigError> {
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match n {
            Some(x) if (min..=max).contains(&x) => Ok(x),
            _ => Err(self.err(
                key,
                format!("expected {what} between {min} and {max}, found {v}"),
            )),
        }
    }

    fn located<T>(&self, key: &str, value: T) -> Located<T> {
        Located {
            value,
            source: self.source.to_string(),
            key: key.to_string(),
        }
    }

    fn strings(&self, key: &str, v: &Value) -> Result<Vec<String>, ConfigError> {
        match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| self.string(&format!("{key}[{i}]"), x))
                .collect(),
            Value::Null => Ok(Vec::new()),
            other => Ok(vec![self.string(key, other)?]),
        }
    }

    fn map<'v>(
        &self,
        key: &str,
        v: &'v Value,
    ) -> Result<Option<&'v Map<String, Value>>, ConfigError> {
        match v {
            Value::Object(m) => Ok(Some(m)),
            Value::Null => Ok(None),
            other => Err(self.err(key, format!("expected a map, found {other}"))),
        }
    }
}

impl Config {
    /// The configuration of a falco.yaml text (`source` names it in errors) with `-o` overrides
    /// applied on top.
    pub fn from_yaml(
        source: &str,
        text: &str,
        overrides: &[String],
    ) -> Result<Config, ConfigError> {
        let mut root = parse_yaml(text).map_err(|m| ConfigError {
            source: source.into(),
            key: String::new(),
            message: format!("invalid YAML: {m}"),
        })?;
        if root.is_null() {
            root = Value::Object(Map::new());
        }
        if !root.is_object() {
            return Err(ConfigError {
                source: source.into(),
                key: String::new(),
                message: "the configuration is not a YAML map".into(),
            });
        }
        for o in overrides {
            apply_override(&mut root, o)?;
        }
        Config::from_value(source, &root)
    }

    /// Falco's defaults with `-o` overrides (no configuration file).
    pub fn with_overrides(overrides: &[String]) -> Result<Config, ConfigError> {
        Config::from_yaml("-o", "", overrides)
    }

    fn from_value(source: &str, root: &Value) -> Result<Config, ConfigError> {
        let r = Reader { source };
        let mut c = Config::default();
        let Some(map) = r.map("", root)? else {
            return Ok(c);
        };
        for (key, v) in map {
            let k = key.as_str();
            match k {
                "rules_files" | "rules_file" => c.rules_files = r.strings(k, v)?,
                "priority" => {
                    let s = r.string(k, v)?;
                    c.priority = Priority::parse(&s).ok_or_else(|| {
                        r.err(k, format!("unknown priority {s:?} (expected emergency, alert, critical, error, warning, notice, info, informational or debug)"))
                    })?;
                }
                "rule_matching" => {
                    let s = r.string(k, v)?;
                    c.rule_matching = RuleMatching::parse(&s).ok_or_else(|| {
                        r.err(
                            k,
                            format!("unknown rule matching strategy {s:?} (expected first or all)"),
                        )
                    })?;
                }
                "json_output" => c.json_output = r.bool(k, v)?,
                "json_include_output_property" => c.json_include_output_property = r.bool(k, v)?,
                "json_include_output_fields_property" => {
                    c.json_include_output_fields_property = r.bool(k, v)?;
                }
                "json_include_tags_property" => c.json_include_tags_property = r.bool(k, v)?,
                "json_include_message_property" => {
                    c.json_include_message_property = r.bool(k, v)?;
                }
                "time_format_iso_8601" => c.time_format_iso_8601 = r.bool(k, v)?,
                "buffered_outputs" => c.buffered_outputs = r.bool(k, v)?,
                "stdout_output" => {
                    if let Some(m) = r.map(k, v)? {
                        for (sk, sv) in m {
                            let path = format!("{k}.{sk}");
                            match sk.as_str() {
                                "enabled" => c.stdout_output = r.bool(&path, sv)?,
                                _ => c.warnings.push(format!("{source}: {path}: unknown key")),
                            }
                        }
                    }
                }
                "file_output" => {
                    if let Some(m) = r.map(k, v)? {
                        for (sk, sv) in m {
                            let path = format!("{k}.{sk}");
                            match sk.as_str() {
                                "enabled" => c.file_output.enabled = r.bool(&path, sv)?,
                                "keep_alive" => c.file_output.keep_alive = r.bool(&path, sv)?,
                                "filename" => c.file_output.filename = r.string(&path, sv)?,
                                _ => c.warnings.push(format!("{source}: {path}: unknown key")),
                            }
                        }
                    }
                }
                "program_output" => {
                    if let Some(m) = r.map(k, v)? {
                        for (sk, sv) in m {
                            let path = format!("{k}.{sk}");
                            match sk.as_str() {
                                "enabled" => c.program_output.enabled = r.bool(&path, sv)?,
                                "keep_alive" => c.program_output.keep_alive = r.bool(&path, sv)?,
                                "program" => c.program_output.program = r.string(&path, sv)?,
                                _ => c.warnings.push(format!("{source}: {path}: unknown key")),
                            }
                        }
                    }
                }
                "http_output" => {
                    if let Some(m) = r.map(k, v)? {
                        for (sk, sv) in m {
                            let path = format!("{k}.{sk}");
                            match sk.as_str() {
                                "enabled" => c.http_output.enabled = r.bool(&path, sv)?,
                                "url" => c.http_output.url = r.string(&path, sv)?,
                                "user_agent" => c.http_output.user_agent = r.string(&path, sv)?,
                                // TLS, mTLS, compression and keep-alive settings: accepted, not used
                                // by the plain-HTTP channel.
                                "insecure"
                                | "ca_cert"
                                | "ca_bundle"
                                | "ca_path"
                                | "mtls"
                                | "client_cert"
                                | "client_key"
                                | "echo"
                                | "compress_uploads"
                                | "keep_alive"
                                | "max_consecutive_timeouts" => {}
                                _ => c.warnings.push(format!("{source}: {path}: unknown key")),
                            }
                        }
                    }
                }
                "watch_config_files" => c.watch_config_files = r.bool(k, v)?,
                "webserver" => {
                    if let Some(m) = r.map(k, v)? {
                        for (sk, sv) in m {
                            let path = format!("{k}.{sk}");
                            let w = &mut c.webserver;
                            match sk.as_str() {
                                "enabled" => w.enabled = r.bool(&path, sv)?,
                                "listen_address" => w.listen_address = r.string(&path, sv)?,
                                "listen_port" => w.listen_port = r.port(&path, sv)?,
                                "k8s_healthz_endpoint" => {
                                    w.k8s_healthz_endpoint = r.string(&path, sv)?;
                                }
                                "prometheus_metrics_enabled" => {
                                    w.prometheus_metrics_enabled = r.bool(&path, sv)?;
                                }
                                // TLS and thread count: accepted, the server is plain HTTP on
                                // one thread.
                                "threadiness" | "ssl_enabled" | "ssl_certificate" => {}
                                _ => c.warnings.push(format!("{source}: {path}: unknown key")),
                            }
                        }
                    }
                }
                "metrics" => {
                    if let Some(m) = r.map(k, v)? {
                        for (sk, sv) in m {
                            if sk == "enabled" {
                                c.metrics_enabled = r.bool(&format!("{k}.{sk}"), sv)?;
                            }
                        }
                    }
                }
                "syscall_event_drops" => {
                    if let Some(m) = r.map(k, v)? {
                        for (sk, sv) in m {
                            let path = format!("{k}.{sk}");
                            let d = &mut c.syscall_event_drops;
                            match sk.as_str() {
                                "threshold" => d.threshold = r.fraction(&path, sv)?,
                                "rate" => d.rate = r.number(&path, sv)?,
                                "max_burst" => d.max_burst = r.number(&path, sv)?,
                                "simulate_drops" => d.simulate_drops = r.bool(&path, sv)?,
                                "actions" => {
                                    d.actions = Vec::new();
                                    for (i, a) in r.strings(&path, sv)?.iter().enumerate() {
                                        d.actions.push(match a.as_str() {
                                            "ignore" => DropAction::Ignore,
                                            "log" => DropAction::Log,
                                            "alert" => DropAction::Alert,
                                            "exit" => DropAction::Exit,
                                            other => {
                                                return Err(r.err(
                                                    &format!("{path}[{i}]"),
                                                    format!("unknown action {other:?} (expected ignore, log, alert or exit)"),
                                                ));
                                            }
                                        });
                                    }
                                }
                                _ => c.warnings.push(format!("{source}: {path}: unknown key")),
                            }
                        }
                    }
                }
                "frule" => {
                    if let Some(m) = r.map(k, v)? {
                        for (sk, sv) in m {
                            let path = format!("{k}.{sk}");
                            match sk.as_str() {
                                "backend" => {
                                    let s = r.string(&path, sv)?;
                                    c.backend = Backend::parse(&s).ok_or_else(|| {
                                        r.err(
                                            &path,
                                            format!(
                                                "unknown backend {s:?} (expected jit, vm or vm-O0)"
                                            ),
                                        )
                                    })?;
                                }
                                "entry_hook" => {
                                    let s = r.string(&path, sv)?;
                                    c.entry_hook = EntryHook::parse(&s).ok_or_else(|| {
                                        r.err(
                                            &path,
                                            format!(
                                                "unknown entry hook {s:?} (expected auto, sys_enter or syscall_tracepoints)"
                                            ),
                                        )
                                    })?;
                                }
                                _ => c.warnings.push(format!("{source}: {path}: unknown key")),
                            }
                        }
                    }
                }
                "rules" => c.rules = read_selectors(&r, v)?,
                "engine" => read_engine(&r, v, &mut c)?,
                _ if REMOVED_IN_FALCO_0_38.iter().any(|(old, _)| *old == k) => {
                    let new = REMOVED_IN_FALCO_0_38
                        .iter()
                        .find_map(|(old, new)| (*old == k).then_some(*new))
                        .unwrap_or_default();
                    c.warnings.push(format!(
                        "{source}: {k}: removed in Falco 0.38 and ignored; use {new}"
                    ));
                }
                _ if KNOWN_IGNORED.contains(&k) => {}
                _ => c.warnings.push(format!("{source}: {k}: unknown key")),
            }
        }
        if c.http_output.enabled && c.http_output.url.is_empty() {
            return Err(r.err("http_output.url", "http_output is enabled but has no url"));
        }
        Ok(c)
    }

    /// The keys whose value differs in `newer` but which a rules reload does not apply.
    ///
    /// Falco restarts entirely on SIGHUP or a changed configuration file, losing its process
    /// table and the events in between. The live monitor reloads in place instead: it re-reads
    /// the configuration and rebuilds the rules with the rule-related keys (`rules_files`,
    /// `priority`, `rule_matching`, `rules`, `frule.backend`), keeping the state and the ring
    /// buffers. The keys listed here (outputs, web server, metrics, drop actions, watching, and
    /// the capture's `engine` keys and `frule.entry_hook`, which shape ring buffers and programs
    /// made at start) stay as they were at start; the monitor names them so the user knows a
    /// restart is needed. Engine keys are named by their full path
    /// (`engine.modern_ebpf.buf_size_preset`).
    pub fn changes_needing_restart(&self, newer: &Config) -> Vec<String> {
        let mut keys = Vec::new();
        let (a, b) = (self, newer);
        let mut check = |same: bool, key: &str| {
            if !same {
                keys.push(key.to_string());
            }
        };
        check(
            a.json_output == b.json_output
                && a.json_include_output_property == b.json_include_output_property
                && a.json_include_output_fields_property == b.json_include_output_fields_property
                && a.json_include_tags_property == b.json_include_tags_property
                && a.json_include_message_property == b.json_include_message_property
                && a.time_format_iso_8601 == b.time_format_iso_8601,
            "json_output",
        );
        check(a.buffered_outputs == b.buffered_outputs, "buffered_outputs");
        check(a.stdout_output == b.stdout_output, "stdout_output");
        check(a.file_output == b.file_output, "file_output");
        check(a.program_output == b.program_output, "program_output");
        check(a.http_output == b.http_output, "http_output");
        check(a.webserver == b.webserver, "webserver");
        check(a.metrics_enabled == b.metrics_enabled, "metrics");
        check(
            a.syscall_event_drops == b.syscall_event_drops,
            "syscall_event_drops",
        );
        check(
            a.watch_config_files == b.watch_config_files,
            "watch_config_files",
        );
        let (ea, eb) = (&a.engine, &b.engine);
        check(ea.kind == eb.kind, "engine.kind");
        check(
            ea.drop_failed_exit == eb.drop_failed_exit,
            &format!("engine.{}.drop_failed_exit", eb.kind.name()),
        );
        check(a.entry_hook == b.entry_hook, "frule.entry_hook");
        // a value set on one side only is named by the key it was read from
        for (x, y) in [
            (&ea.buf_size_preset, &eb.buf_size_preset),
            (&ea.cpus_for_each_buffer, &eb.cpus_for_each_buffer),
        ] {
            if x.as_ref().map(|l| l.value) != y.as_ref().map(|l| l.value)
                && let Some(l) = y.as_ref().or(x.as_ref())
            {
                keys.push(l.key.clone());
            }
        }
        keys
    }

    /// The formatting options of this configuration.
    pub fn output_options(&self) -> OutputOptions {
        OutputOptions {
            json_output: self.json_output,
            json_include_output_property: self.json_include_output_property,
            json_include_output_fields_property: self.json_include_output_fields_property,
            json_include_tags_property: self.json_include_tags_property,
            json_include_message_property: self.json_include_message_property,
            time_format_iso_8601: self.time_format_iso_8601,
            hostname: output::hostname(),
        }
    }

    /// The enabled output channels. Fails on a channel that cannot work (an `https://` URL).
    pub fn outputs(&self) -> Result<Outputs, ConfigError> {
        let mut outs = Outputs::new(self.output_options());
        if self.stdout_output {
            outs.add(Box::new(output::stdout::StdoutChannel::new(
                self.buffered_outputs,
            )));
        }
        if self.file_output.enabled {
            outs.add(Box::new(output::file::FileChannel::new(
                &self.file_output.filename,
                self.file_output.keep_alive,
                self.buffered_outputs,
            )));
        }
        if self.program_output.enabled {
            outs.add(Box::new(output::program::ProgramChannel::new(
                &self.program_output.program,
                self.program_output.keep_alive,
                self.buffered_outputs,
            )));
        }
        if self.http_output.enabled {
            let ch = output::http::HttpChannel::new(
                &self.http_output.url,
                &self.http_output.user_agent,
                self.json_output,
            )
            .map_err(|m| ConfigError {
                source: "config".into(),
                key: "http_output.url".into(),
                message: m,
            })?;
            outs.add(Box::new(ch));
        }
        Ok(outs)
    }
}

/// Reads `engine` (see [`EngineConfig`]): the kind, then only the section of that kind.
fn read_engine(r: &Reader<'_>, v: &Value, c: &mut Config) -> Result<(), ConfigError> {
    let Some(m) = r.map("engine", v)? else {
        return Ok(());
    };
    for k in m.keys() {
        if !matches!(
            k.as_str(),
            "kind" | "kmod" | "ebpf" | "modern_ebpf" | "replay" | "gvisor"
        ) {
            c.warnings
                .push(format!("{}: engine.{k}: unknown key", r.source));
        }
    }
    let kind = match m.get("kind") {
        None | Some(Value::Null) => "modern_ebpf".to_string(),
        Some(k) => r.string("engine.kind", k)?,
    };
    let section = |name: &str| -> Result<Option<&Map<String, Value>>, ConfigError> {
        match m.get(name) {
            Some(s) => r.map(&format!("engine.{name}"), s),
            None => Ok(None),
        }
    };
    let e = &mut c.engine;
    let (name, keys): (&str, &[&str]) = match kind.as_str() {
        "modern_ebpf" => {
            e.kind = EngineKind::ModernEbpf;
            (
                "modern_ebpf",
                &[
                    "buf_size_preset",
                    "cpus_for_each_buffer",
                    "drop_failed_exit",
                    "disable_iterators",
                ],
            )
        }
        "ebpf" => {
            e.kind = EngineKind::Ebpf;
            ("ebpf", &["buf_size_preset", "drop_failed_exit", "probe"])
        }
        "kmod" => {
            e.kind = EngineKind::Kmod;
            c.notices.push(format!(
                "{}: engine.kind: frule has no kernel module; it captures with its own eBPF program, with one ring buffer per CPU as the kernel module has",
                r.source
            ));
            ("kmod", &["buf_size_preset", "drop_failed_exit"])
        }
        "replay" => {
            let file = match section("replay")?.and_then(|s| s.get("capture_file")) {
                Some(f) if !f.is_null() => r.string("engine.replay.capture_file", f)?,
                _ => String::new(),
            };
            if file.is_empty() {
                return Err(r.err(
                    "engine.replay.capture_file",
                    "engine.kind is replay but no capture file is given",
                ));
            }
            if let Some(s) = section("replay")? {
                for k in s.keys().filter(|k| *k != "capture_file") {
                    c.warnings
                        .push(format!("{}: engine.replay.{k}: unknown key", r.source));
                }
            }
            e.kind = EngineKind::Replay { capture_file: file };
            return Ok(());
        }
        "nodriver" => {
            return Err(r.err(
                "engine.kind",
                "the nodriver engine produces events only from plugins, and frule has none (use modern_ebpf for frule's eBPF capture, or replay)",
            ));
        }
        "gvisor" => {
            return Err(r.err(
                "engine.kind",
                "the gvisor engine is not supported (Falco 0.44 dropped it too; use modern_ebpf or replay)",
            ));
        }
        other => {
            return Err(r.err(
                "engine.kind",
                format!(
                    "unknown engine kind {other:?} (expected modern_ebpf, ebpf, kmod or replay)"
                ),
            ));
        }
    };
    let Some(s) = section(name)? else {
        return Ok(());
    };
    for (sk, sv) in s {
        let path = format!("engine.{name}.{sk}");
        match sk.as_str() {
            _ if !keys.contains(&sk.as_str()) => {
                c.warnings
                    .push(format!("{}: {path}: unknown key", r.source));
            }
            "buf_size_preset" => {
                let max = i64::try_from(BUF_SIZE_PRESETS.len() - 1).unwrap_or(10);
                let i = r.integer(&path, sv, (1, max), "a preset index")?;
                e.buf_size_preset = Some(r.located(&path, u16::try_from(i).unwrap_or(0)));
            }
            "cpus_for_each_buffer" => {
                let n = r.integer(&path, sv, (0, i64::from(u16::MAX)), "a number of CPUs")?;
                e.cpus_for_each_buffer = Some(r.located(&path, u16::try_from(n).unwrap_or(0)));
            }
            "drop_failed_exit" => {
                e.drop_failed_exit = r.bool(&path, sv)?;
                if e.drop_failed_exit {
                    c.notices.push(format!(
                        "{}: {path}: frule's capture keeps failed syscalls (rules look for failed opens too); the setting has no effect",
                        r.source
                    ));
                }
            }
            // frule reads /proc for the initial state (as Falco does with the iterators off),
            // and has no legacy probe object to load
            "disable_iterators" => {
                r.bool(&path, sv)?;
            }
            _ => {
                r.string(&path, sv)?;
            }
        }
    }
    Ok(())
}

fn read_selectors(r: &Reader<'_>, v: &Value) -> Result<Vec<RuleSelector>, ConfigError> {
    let Value::Array(items) = v else {
        if v.is_null() {
            return Ok(Vec::new());
        }
        return Err(r.err("rules", "expected a list of enable/disable selectors"));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("rules[{i}]");
        let Some(m) = r.map(&path, item)? else {
            return Err(r.err(&path, "expected a map with enable or disable"));
        };
        for (action, body) in m {
            let enable = match action.as_str() {
                "enable" => true,
                "disable" => false,
                other => {
                    return Err(r.err(
                        &path,
                        format!("unknown selector {other:?} (expected enable or disable)"),
                    ));
                }
            };
            let spath = format!("{path}.{action}");
            let Some(b) = r.map(&spath, body)? else {
                return Err(r.err(&spath, "expected a map with rule or tag"));
            };
            let mut sel = RuleSelector {
                enable,
                rule: None,
                tag: None,
            };
            for (k, v) in b {
                let kp = format!("{spath}.{k}");
                match k.as_str() {
                    "rule" => sel.rule = Some(r.string(&kp, v)?),
                    "tag" => sel.tag = Some(r.string(&kp, v)?),
                    _ => return Err(r.err(&kp, "unknown key (expected rule or tag)")),
                }
            }
            if sel.rule.is_none() && sel.tag.is_none() {
                return Err(r.err(&spath, "a selector needs rule or tag"));
            }
            out.push(sel);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reload applies the rule-related keys and names every other changed key.
    #[test]
    fn reload_names_the_keys_needing_a_restart() {
        let cases: [(&[&str], &[&str]); 5] = [
            (&[], &[]),
            (
                &[
                    "priority=error",
                    "rule_matching=all",
                    "rules_files[0]=/x.yaml",
                    "frule.backend=vm",
                ],
                &[],
            ),
            (&["json_output=true"], &["json_output"]),
            (
                &["webserver.enabled=true", "metrics.enabled=true"],
                &["webserver", "metrics"],
            ),
            (
                &[
                    "file_output.enabled=true",
                    "syscall_event_drops.threshold=0.5",
                    "watch_config_files=false",
                ],
                &["file_output", "syscall_event_drops", "watch_config_files"],
            ),
        ];
        let base = Config::with_overrides(&[]).expect("defaults");
        for (overrides, want) in cases {
            let o: Vec<String> = overrides.iter().map(|s| (*s).to_string()).collect();
            let newer = Config::with_overrides(&o).expect("valid overrides");
            assert_eq!(base.changes_needing_restart(&newer), want, "{overrides:?}");
        }
    }

    /// Falco's preset table: index 0 reserved, 1 MiB doubling up to 512 MiB at 10, nothing past.
    #[test]
    fn buf_size_presets() {
        let mib = 1usize << 20;
        let want = [
            (-1, None),
            (0, None),
            (1, Some(mib)),
            (2, Some(2 * mib)),
            (3, Some(4 * mib)),
            (4, Some(8 * mib)),
            (5, Some(16 * mib)),
            (6, Some(32 * mib)),
            (7, Some(64 * mib)),
            (8, Some(128 * mib)),
            (9, Some(256 * mib)),
            (10, Some(512 * mib)),
            (11, None),
            (i64::MAX, None),
        ];
        for (index, bytes) in want {
            assert_eq!(buf_size_preset_bytes(index), bytes, "preset {index}");
        }
        // the default preset is the capture's default size
        assert_eq!(buf_size_preset_bytes(4), Some(8 << 20));
    }

    /// Engine keys and `frule.entry_hook` shape the capture made at start: a reload names them
    /// by the key that changed.
    #[test]
    fn reload_names_changed_engine_keys() {
        let cases: [(&[&str], &[&str], &[&str]); 6] = [
            (
                &["engine.modern_ebpf.buf_size_preset=4"],
                &["engine.modern_ebpf.buf_size_preset=4"],
                &[],
            ),
            (
                &[],
                &["engine.modern_ebpf.buf_size_preset=5"],
                &["engine.modern_ebpf.buf_size_preset"],
            ),
            (
                &["engine.modern_ebpf.cpus_for_each_buffer=2"],
                &[],
                &["engine.modern_ebpf.cpus_for_each_buffer"],
            ),
            (
                &[],
                &["engine.kind=kmod", "engine.kmod.buf_size_preset=6"],
                &["engine.kind", "engine.kmod.buf_size_preset"],
            ),
            (
                &[],
                &["engine.kind=replay", "engine.replay.capture_file=x.scap"],
                &["engine.kind"],
            ),
            (
                &["frule.entry_hook=auto"],
                &[
                    "frule.entry_hook=sys_enter",
                    "engine.modern_ebpf.drop_failed_exit=true",
                ],
                &["engine.modern_ebpf.drop_failed_exit", "frule.entry_hook"],
            ),
        ];
        let config = |o: &[&str]| {
            let o: Vec<String> = o.iter().map(|s| (*s).to_string()).collect();
            Config::with_overrides(&o).unwrap_or_else(|e| panic!("{o:?}: {e}"))
        };
        for (before, after, want) in cases {
            assert_eq!(
                config(before).changes_needing_restart(&config(after)),
                want,
                "{before:?} -> {after:?}"
            );
        }
    }

    #[test]
    fn paths() {
        let k = |s: &str| PathStep::Key(s.into());
        assert_eq!(parse_path("a.b"), Ok(vec![k("a"), k("b")]));
        assert_eq!(
            parse_path("rules_files[1]"),
            Ok(vec![k("rules_files"), PathStep::Index(1)])
        );
        assert_eq!(
            parse_path("plugins[0].open_params"),
            Ok(vec![k("plugins"), PathStep::Index(0), k("open_params")])
        );
        assert_eq!(parse_path(r"a\.b.c"), Ok(vec![k("a.b"), k("c")]));
        assert_eq!(parse_path(r"a\[x\\"), Ok(vec![k(r"a[x\")]));
        assert!(parse_path("").is_err());
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("a[x]").is_err());
        assert!(parse_path("[0]").is_err());
    }

    #[test]
    fn overrides_and_errors() {
        let c = Config::from_yaml(
            "falco.yaml",
            "json_output: false\nfile_output:\n  enabled: true\n  filename: /tmp/x\nfoo: 1\n",
            &[
                "json_output=true".into(),
                "priority=WARNING".into(),
                "rules_files[0]=a.yaml".into(),
                "rule_matching=all".into(),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(c.json_output);
        assert_eq!(c.priority, Priority::Warning);
        assert_eq!(c.rules_files, vec!["a.yaml".to_string()]);
        assert_eq!(c.rule_matching, RuleMatching::All);
        assert!(c.file_output.enabled);
        assert_eq!(c.warnings, vec!["falco.yaml: foo: unknown key".to_string()]);

        let e = Config::from_yaml("falco.yaml", "priority: loud\n", &[])
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.starts_with("falco.yaml: priority: unknown priority \"loud\"")),
            "{e:?}"
        );
        let e = Config::with_overrides(&["json_output=maybe".into()]).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("-o: json_output: expected a boolean, found \"maybe\"".into())
        );
        let e = Config::with_overrides(&["rules_files[3]=x".into()]).err();
        assert!(e.is_some());
    }

    #[test]
    fn live_monitor_keys() {
        let c = Config::from_yaml(
            "f",
            "watch_config_files: false\nwebserver:\n  enabled: true\n  listen_port: 9000\n  prometheus_metrics_enabled: true\nmetrics:\n  enabled: true\n  interval: 1h\nsyscall_event_drops:\n  threshold: 0\n  actions: [alert]\n  rate: 1\n  max_burst: 2\n",
            &["webserver.listen_address=127.0.0.1".into()],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.watch_config_files);
        assert!(c.webserver.enabled && c.webserver.prometheus_metrics_enabled && c.metrics_enabled);
        assert_eq!(c.webserver.listen_port, 9000);
        assert_eq!(c.webserver.listen_address, "127.0.0.1");
        assert_eq!(c.webserver.k8s_healthz_endpoint, "/healthz");
        let d = &c.syscall_event_drops;
        assert_eq!((d.threshold, d.rate, d.max_burst), (0.0, 1.0, 2.0));
        assert_eq!(d.actions, vec![DropAction::Alert]);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let defaults = Config::default();
        assert!(!defaults.webserver.enabled && defaults.watch_config_files);
        assert_eq!(
            defaults.syscall_event_drops.actions,
            vec![DropAction::Log, DropAction::Alert]
        );
        for (bad, key) in [
            (
                "syscall_event_drops.actions=[shout]",
                "syscall_event_drops.actions[0]",
            ),
            (
                "syscall_event_drops.threshold=2",
                "syscall_event_drops.threshold",
            ),
            ("webserver.listen_port=70000", "webserver.listen_port"),
        ] {
            let e = Config::with_overrides(&[bad.into()]).err();
            assert_eq!(e.map(|e| e.key), Some(key.to_string()), "{bad}");
        }
    }

    #[test]
    fn selectors() {
        let c = Config::from_yaml(
            "f",
            "rules:\n  - disable:\n      rule: \"*\"\n  - enable:\n      tag: network\n",
            &[],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.rules.len(), 2);
        assert!(!c.rules[0].enable);
        assert_eq!(c.rules[1].tag.as_deref(), Some("network"));
    }
}
