//! `frule-monitor`: watch a live host with frule's eBPF capture, or replay a capture file, and print
//! Falco-compatible alerts.
//!
//! Live (no `--replay`, as root): `frule-monitor [-r RULES...] [--json] ...` captures the syscalls the
//! enabled rules need (plus those state tracking needs) with frule's eBPF capture, seeds the process
//! and fd tables from `/proc`, prints `frule-monitor: watching N syscalls with M rules` on stderr when
//! ready, and writes alerts until SIGINT/SIGTERM, then prints the summary (with the capture's drops)
//! and exits 0. A capture that cannot start (not root, no BTF, no BPF, attach failure) exits 2 with
//! the reason. See `src/monitor/live.rs`. Also in live mode:
//! - `--write FILE.scap` records the initial `/proc` state (process, fd, user and interface lists)
//!   and every evaluated event, with its CPU, in a capture that `--replay` and `sysdig -r` read;
//! - SIGHUP (and, with `watch_config_files`, on by default, a change of a rules file) reloads the
//!   rules: they are compiled on a side thread and swapped in between two batches of events, the
//!   process table and the ring buffers stay; a broken rules file keeps the running rules and the
//!   load errors are printed;
//! - `syscall_event_drops` as in Falco: once a second, when the kernel dropped more than
//!   `threshold` of the events, the actions (`log`, `alert` = the internal "Falco internal: syscall
//!   event drop" alert, `exit` = exit code 1) run, at most as often as the token bucket allows;
//! - `webserver.enabled` starts the web server (`listen_address`, `listen_port`): `/healthz`,
//!   `/versions`, and `/metrics` (Prometheus) with `webserver.prometheus_metrics_enabled` and
//!   `metrics.enabled`;
//! - the rings follow `engine.<kind>.buf_size_preset` and `engine.modern_ebpf.cpus_for_each_buffer`,
//!   the entry-time copies `frule.entry_hook` (see `live::capture_settings`); the start-up line
//!   `frule-monitor: N ring buffers of S, ...; entry hook: H` says what is in use.
//!
//! `engine.kind` (`runtime/src/config`): `modern_ebpf`, `ebpf` and `kmod` (with a warning: frule has
//! no kernel module) watch the host; `replay` replays `engine.replay.capture_file` as `--replay`
//! does, and `--replay` wins over it; `nodriver`, `gvisor` and unknown kinds exit 1.
//!
//! Replay: `frule-monitor -r RULES... --replay CAPTURE [--json] [-c CONFIG] [-o KEY=VALUE]... [-D NAME]
//! [-T TAG] [-t TAG] [--backend jit|vm|vm-O0]` evaluates every event of the capture (enter and exit
//! events alike) and writes the alerts to the configured outputs (stdout by default; one JSON object
//! per line with `--json` or `json_output`). At the end it prints Falco's summary on stderr: elapsed
//! time and events read, the syscall event drop block, `Events detected: N`, the counts by severity
//! and by rule name.
//!
//! Backend (replay and live alike): `--backend`, else `frule.backend` of the configuration, else `jit`
//! — optimized per-event-type programs compiled to native code, each falling back to the VM (with a
//! warning on stderr saying why) when Cranelift cannot compile it; `vm` runs the same optimized
//! programs on the bytecode VM, `vm-O0` the unoptimized reference. `-v` prints the build figures.
//!
//! Exit codes: 0 on success; 1 on invalid rules (their diagnostics are printed on stderr as `frulec
//! validate` prints them, as JSON with `--json`/`json_output`), an invalid configuration, an invalid selection (`-t` with `-D`/`-T`) or a stop by the drop `exit` action; 2 on an
//! unreadable rules file, configuration or capture, or a live capture that cannot start.
//!
//! Rules: `-r` files or directories (directories contribute their `.yml`/`.yaml` files in
//! alphabetical order); else `rules_files` of the configuration when `-c` is given; else
//! `/etc/falco/falco_rules.yaml` when it exists; else frule's bundled `rules/frule_rules.yaml`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use frule_lang::loader::{self, RulesFile};
use frule_lang::render;
use frule_runtime::config::Config;
use frule_runtime::engine::{Backend, Engine, RuleSelector, Selection};
use frule_runtime::scap::ScapReader;

#[path = "../monitor/live.rs"]
mod live;
#[path = "../monitor/web.rs"]
mod web;

/// The rules bundled into the binary, used when no rules are given and Falco's are not installed.
const BUNDLED_RULES: &str = include_str!("../../rules/frule_rules.yaml");
const BUNDLED_RULES_NAME: &str = "rules/frule_rules.yaml (bundled)";
const FALCO_RULES: &str = "/etc/falco/falco_rules.yaml";
const FALCO_CONFIG: &str = "/etc/falco/falco.yaml";

/// Command line of `frule-monitor`.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "frule-monitor",
    version,
    about = "Watch a host (or replay a capture) with Falco rules and print Falco-compatible alerts"
)]
struct Cli {
    /// Rules file or directory; repeatable, loaded in order (overrides `rules_files`).
    #[arg(short = 'r', value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Replay this capture file (.scap, gzip or not) instead of watching the host.
    #[arg(long, value_name = "CAPTURE")]
    replay: Option<PathBuf>,
    /// Alerts as JSON, one object per line (same as `-o json_output=true`).
    #[arg(long)]
    json: bool,
    /// Configuration file (falco.yaml format); default /etc/falco/falco.yaml when it exists.
    #[arg(short = 'c', value_name = "CONFIG")]
    config: Option<PathBuf>,
    /// Override a configuration key (`-o priority=warning`, `-o file_output.enabled=true`).
    #[arg(short = 'o', long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,
    /// Disable the rules whose name contains NAME (Falco's `-D`).
    #[arg(short = 'D', value_name = "NAME")]
    disable: Vec<String>,
    /// Disable the rules having TAG (Falco's `-T`).
    #[arg(short = 'T', value_name = "TAG")]
    disable_tag: Vec<String>,
    /// Run only the rules having TAG (Falco's `-t`).
    #[arg(short = 't', value_name = "TAG")]
    tag: Vec<String>,
    /// Print load warnings and configuration remarks.
    #[arg(short = 'v')]
    verbose: bool,
    /// How rule conditions run: `jit` (optimized, native code; the default), `vm` (optimized
    /// bytecode) or `vm-O0` (unoptimized bytecode, the reference). Overrides `frule.backend`.
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    backend: Option<Backend>,
    /// Live mode: also record the captured events, after the initial /proc state, into this
    /// .scap file (readable by `frule-monitor --replay` and by `sysdig -r`).
    #[arg(short = 'w', long = "write", value_name = "FILE.scap")]
    write: Option<PathBuf>,
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    Backend::parse(s).ok_or_else(|| format!("unknown backend {s:?} (expected jit, vm or vm-O0)"))
}

enum Failure {
    /// Invalid rules, configuration or selection: exit 1.
    Invalid(String),
    /// Unreadable input: exit 2.
    Unreadable(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(m)) => {
            if m.ends_with('\n') {
                eprint!("{m}");
            } else if !m.is_empty() {
                eprintln!("{m}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Unreadable(m)) => {
            eprintln!("{m}");
            ExitCode::from(2)
        }
    }
}

/// The configuration file in use: `-c`, else Falco's when it exists.
fn config_path(cli: &Cli) -> Option<PathBuf> {
    match &cli.config {
        Some(p) => Some(p.clone()),
        None => Path::new(FALCO_CONFIG)
            .exists()
            .then(|| PathBuf::from(FALCO_CONFIG)),
    }
}

fn load_config(cli: &Cli) -> Result<Config, Failure> {
    let mut overrides = cli.options.clone();
    if cli.json {
        overrides.push("json_output=true".into());
    }
    let config = match &config_path(cli) {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Failure::Unreadable(format!(
                    "Error: cannot read configuration {}: {e}",
                    p.display()
                ))
            })?;
            Config::from_yaml(&p.display().to_string(), &text, &overrides)
        }
        None => Config::with_overrides(&overrides),
    };
    config.map_err(|e| Failure::Invalid(format!("Error: {e}")))
}

/// Expands files and directories (their `.yml`/`.yaml` files, alphabetically) into rules files.
fn read_rules(paths: &[PathBuf], skip_missing: bool) -> Result<Vec<RulesFile>, Failure> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| {
                    Failure::Unreadable(format!("Error: cannot read {}: {e}", p.display()))
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            entries.sort();
            for f in entries {
                let content = std::fs::read(&f).map_err(|e| {
                    Failure::Unreadable(format!("Error: cannot read {}: {e}", f.display()))
                })?;
                files.push(RulesFile::new(f.display().to_string(), content));
            }
        } else {
            match std::fs::read(p) {
                Ok(content) => files.push(RulesFile::new(p.display().to_string(), content)),
                Err(e) if skip_missing && e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Failure::Unreadable(format!(
                        "Error: cannot read rules file {}: {e}",
                        p.display()
                    )));
                }
            }
        }
    }
    Ok(files)
}

fn rules_files(cli: &Cli, config: &Config) -> Result<Vec<RulesFile>, Failure> {
    if !cli.rules.is_empty() {
        return read_rules(&cli.rules, false);
    }
    if cli.config.is_some() || Path::new(FALCO_CONFIG).exists() {
        let paths: Vec<PathBuf> = config.rules_files.iter().map(PathBuf::from).collect();
        return read_rules(&paths, true);
    }
    if Path::new(FALCO_RULES).exists() {
        return read_rules(&[PathBuf::from(FALCO_RULES)], false);
    }
    Ok(vec![RulesFile::new(BUNDLED_RULES_NAME, BUNDLED_RULES)])
}

/// Loads the rules (as `frulec validate` would report them) and builds the engine with the
/// selection of the command line and the configuration. Returns the engine and each rules file
/// with its SHA-256.
fn build_engine(cli: &Cli, config: &Config) -> Result<(Engine, Vec<(String, String)>), Failure> {
    let files = rules_files(cli, config)?;
    let loaded = loader::load(&files);
    if !loaded.is_ok() {
        // As `frulec validate` prints them: text, or Falco's `falco_load_results` with json_output.
        let report = if config.json_output {
            serde_json::to_string_pretty(&render::json::render(&loaded))
                .unwrap_or_else(|e| format!("cannot serialize the load results: {e}"))
        } else {
            render::text::render(&loaded)
        };
        return Err(Failure::Invalid(report));
    }
    if cli.verbose && !loaded.diagnostics.is_empty() {
        eprint!("{}", render::text::render(&loaded));
    }
    let mut engine = Engine::new(&loaded);
    engine.ruleset_mut().set_min_priority(config.priority);
    engine.set_rule_matching(config.rule_matching);
    let selection = Selection {
        disabled_substrings: cli.disable.clone(),
        disabled_tags: cli.disable_tag.clone(),
        enabled_tags: cli.tag.clone(),
        selectors: config.rules.iter().map(RuleSelector::clone).collect(),
    };
    selection
        .apply(engine.ruleset_mut())
        .map_err(|m| Failure::Invalid(format!("Error: {m}")))?;
    engine.set_backend(cli.backend.unwrap_or(config.backend));
    engine.ruleset_mut().build();
    // Resolve the names of `fd.*ip.name` checks now (a reload builds here too, off the event loop),
    // so that no event waits for them.
    engine.start_dns();
    for s in engine.ruleset().skipped() {
        eprintln!("Warning: rule '{}' is skipped: {}", s.rule, s.reason);
    }
    if let Some(info) = engine.ruleset().build_info() {
        // One line per reason: without Cranelift for this host every program falls back alike.
        let mut reasons = std::collections::BTreeMap::<&str, usize>::new();
        for f in &info.fallbacks {
            *reasons.entry(f.reason.as_str()).or_default() += 1;
        }
        for (reason, n) in reasons {
            eprintln!(
                "Warning: {n} of {} rule programs run on the vm instead of native code: {reason}",
                info.programs
            );
        }
        if cli.verbose {
            eprintln!(
                "Rules compiled for the {} backend: {} rules, {} programs ({} native) in {:.3}s",
                info.backend,
                info.rules,
                info.programs,
                info.native,
                info.elapsed.as_secs_f64()
            );
        }
    }
    let hashes = files
        .iter()
        .map(|f| (f.name.clone(), live::sha256_hex(&f.content)))
        .collect();
    Ok((engine, hashes))
}

/// The rules files and directories a live monitor watches (`watch_config_files`): the ones the
/// rules were read from.
fn watched_paths(cli: &Cli, config: &Config) -> Vec<PathBuf> {
    if !cli.rules.is_empty() {
        return cli.rules.clone();
    }
    if cli.config.is_some() || Path::new(FALCO_CONFIG).exists() {
        return config.rules_files.iter().map(PathBuf::from).collect();
    }
    if Path::new(FALCO_RULES).exists() {
        return vec![PathBuf::from(FALCO_RULES)];
    }
    Vec::new()
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let config = load_config(cli)?;
    if cli.verbose {
        for w in &config.warnings {
            eprintln!("Warning: {w}");
        }
    }
    // `--replay` wins over `engine.kind: replay` (as a command line option wins over the file)
    let replay_file = cli
        .replay
        .clone()
        .or_else(|| config.engine.replay_file().map(PathBuf::from));
    let (mut engine, hashes) = build_engine(cli, &config)?;

    let Some(capture) = &replay_file else {
        // the notices are about the live capture (`engine.kind: kmod`, `drop_failed_exit`)
        for n in &config.notices {
            eprintln!("Warning: {n}");
        }
        let (capture_settings, warnings) =
            live::capture_settings(&config, live::HostCpus::current())
                .map_err(|e| Failure::Invalid(format!("Error: {e}")))?;
        for w in warnings {
            eprintln!("Warning: {w}");
        }
        let mut outputs = config
            .outputs()
            .map_err(|e| Failure::Invalid(format!("Error: {e}")))?;
        let web = config.webserver.enabled.then(|| web::WebOptions {
            address: config.webserver.listen_address.clone(),
            port: config.webserver.listen_port,
            healthz: config.webserver.k8s_healthz_endpoint.clone(),
            metrics: config.webserver.prometheus_metrics_enabled && config.metrics_enabled,
            versions: serde_json::json!({
                "engine_version": env!("CARGO_PKG_VERSION"),
                "falco_version": format!("frule-monitor {}", env!("CARGO_PKG_VERSION")),
            })
            .to_string(),
        });
        let (reload_cli, start_config) = (cli.clone(), config.clone());
        let mut watch = if config.watch_config_files {
            watched_paths(cli, &config)
        } else {
            Vec::new()
        };
        if config.watch_config_files
            && let Some(p) = config_path(cli)
        {
            watch.push(p);
        }
        let options = live::LiveOptions {
            capture: capture_settings,
            write: cli.write.clone(),
            drops: config.syscall_event_drops.clone(),
            web,
            metrics: config.metrics_enabled,
            watch,
            // As Falco's restart on SIGHUP: the configuration is read again, and its rule-related
            // keys apply to the new rules; the others need a restart and are named.
            reload: std::sync::Arc::new(move || {
                let text = |f: Failure| match f {
                    Failure::Invalid(m) | Failure::Unreadable(m) => m,
                };
                let config = load_config(&reload_cli).map_err(text)?;
                let keys = start_config.changes_needing_restart(&config);
                let (engine, hashes) = build_engine(&reload_cli, &config).map_err(text)?;
                let notes = keys
                    .into_iter()
                    .map(|k| {
                        format!("configuration key {k} changed: it applies after a restart of frule-monitor")
                    })
                    .collect();
                Ok(live::Reloaded {
                    engine,
                    rules_files: hashes,
                    notes,
                })
            }),
            rules_files: hashes,
        };
        return match live::run(&mut engine, &mut outputs, options) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Failure::Invalid(String::new())),
            Err(m) => Err(Failure::Unreadable(m)),
        };
    };
    if cli.write.is_some() {
        return Err(Failure::Invalid(
            "Error: --write records a live capture; it cannot be combined with --replay or engine.kind replay".into(),
        ));
    }
    replay(&mut engine, &config, capture)
}

fn replay(engine: &mut Engine, config: &Config, capture: &Path) -> Result<(), Failure> {
    let mut outputs = config
        .outputs()
        .map_err(|e| Failure::Invalid(format!("Error: {e}")))?;
    let mut reader = ScapReader::open(capture).map_err(|e| {
        Failure::Unreadable(format!("Error: cannot read {}: {e}", capture.display()))
    })?;
    engine.set_capture_state(reader.state());
    let started = Instant::now();
    let mut alerts = Vec::new();
    let mut events: u64 = 0;
    let mut failure = None;
    loop {
        match reader.next_event() {
            Ok(Some(rec)) => {
                events += 1;
                alerts.clear();
                engine.process(&rec.event, rec.cpu, &mut alerts);
                for a in &alerts {
                    outputs.send(a);
                }
            }
            Ok(None) => break,
            Err(e) => {
                failure = Some(format!("Error: cannot read {}: {e}", capture.display()));
                break;
            }
        }
    }
    outputs.close();
    for e in outputs.take_errors() {
        eprintln!("Error: {e}");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let eps = if elapsed > 0.0 {
        events as f64 / elapsed
    } else {
        0.0
    };
    eprintln!("Elapsed time: {elapsed:.3}, Captured Events: {events}, {eps:.2} eps");
    eprintln!("Syscall event drop monitoring:");
    eprintln!("   - event drop detected: 0 occurrences");
    eprintln!("   - num times actions taken: 0");
    eprint!("{}", engine.summary());
    match failure {
        Some(m) => Err(Failure::Unreadable(m)),
        None => Ok(()),
    }
}
