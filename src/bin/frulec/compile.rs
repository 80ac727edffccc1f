//! `frulec compile`: run the compilation pipeline on rules files (or one condition) and show a stage.
//!
//! `frulec compile [-r FILE]... [--condition 'COND'] [--rule NAME] [--emit ast|ir|opt|evttypes|clif|asm]
//! [--backend vm|jit] [--format text|json] [-O LEVEL]`
//!
//! Files load in order into one ruleset, as `frulec validate` loads them; `--condition` compiles one
//! condition against their macros and lists (or none) instead of their rules, `--rule` picks one rule.
//! Stages: `ast` (the macro-expanded condition, Falco's canonical form), `ir` (lowered, one shared
//! program), `opt` (what each optimizer pass did: values before/after and the program after it),
//! `evttypes` (each rule's event types as Falco's resolver computes them: text `NAME: all` or
//! `NAME: a b c`, JSON one `{"rule", "all", "evttypes"}` object per line), `clif`/`asm` (the JIT's
//! code). Without `--emit`, the rules are compiled to the backend, partitioned by event type, and a
//! summary is printed.
//!
//! Exit codes: 0 ok; 1 the input is invalid (load errors, shown as `frulec validate` shows them, an
//! unknown `--rule`, a condition that cannot be lowered); 2 usage or I/O error (unreadable file, a stage
//! this build lacks).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use clap::ValueEnum;
use frule_codegen::dispatch::Dispatch;
use frule_codegen::ir;
use frule_codegen::lower::Lowerer;
use frule_codegen::opt::{self, evttype_partition::PartitionOptions};
use frule_lang::ast::Expr;
use frule_lang::loader::{self, RulesFile};
use frule_lang::render;
use serde_json::json;

use crate::{Format, Outcome};

/// The name the `--condition` rule gets inside the synthetic rules file.
const CONDITION_RULE: &str = "frulec compile --condition";

/// The stage to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// The macro-expanded condition.
    Ast,
    /// The lowered IR.
    Ir,
    /// The IR after each optimizer pass.
    Opt,
    /// The event types of each rule.
    Evttypes,
    /// Cranelift IR from the JIT.
    Clif,
    /// Machine code from the JIT.
    Asm,
}

/// The backend to compile for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The bytecode VM.
    #[default]
    Vm,
    /// The Cranelift JIT.
    Jit,
}

/// Arguments of `frulec compile`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A rules file; repeat to load several, in order.
    #[arg(short = 'r', long = "rules-file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Compile this condition (against the files' macros and lists) instead of the files' rules.
    #[arg(long, value_name = "COND")]
    pub condition: Option<String>,
    /// Only this rule of the files.
    #[arg(long, value_name = "NAME", conflicts_with = "condition")]
    pub rule: Option<String>,
    /// The stage to print (default: compile and print a summary).
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
    /// The backend.
    #[arg(long, value_enum, default_value_t = Backend::Vm)]
    pub backend: Backend,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Optimization level (0: none, 1: clean-ups, 2: also list hashing and cost ordering).
    #[arg(short = 'O', long = "opt-level", default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub level: u8,
}

/// A rule selected for compilation: its name (`None` for `--condition`) and expanded condition.
struct Selected<'a> {
    name: Option<&'a str>,
    expr: &'a Expr,
}

/// The synthetic rules file holding the `--condition` as a rule (so that it is expanded and checked
/// exactly like a rule's condition).
fn condition_file(cond: &str) -> RulesFile {
    let mut yaml = format!(
        "- rule: {CONDITION_RULE}\n  desc: x\n  output: x\n  priority: INFO\n  condition: |-\n"
    );
    for line in cond.lines() {
        yaml.push_str("    ");
        yaml.push_str(line);
        yaml.push('\n');
    }
    RulesFile::new("<condition>", yaml)
}

/// Runs the command.
pub fn run(args: &Args) -> Outcome {
    if args.files.is_empty() && args.condition.is_none() {
        eprintln!("frulec compile: nothing to compile: give rules files with -r or a --condition");
        return Outcome::Error;
    }
    if let Some(c) = &args.condition
        && c.trim().is_empty()
    {
        eprintln!("frulec compile: filter input string is empty");
        return Outcome::Error;
    }
    let mut files = Vec::new();
    for path in &args.files {
        match std::fs::read(path) {
            Ok(content) => files.push(RulesFile::new(path.display().to_string(), content)),
            Err(e) => {
                eprintln!("frulec compile: cannot read {}: {e}", path.display());
                return Outcome::Error;
            }
        }
    }
    if let Some(c) = &args.condition {
        files.push(condition_file(c));
    }
    let loaded = loader::load(&files);
    if !loaded.is_ok() {
        eprint!("{}", render::text::render(&loaded));
        return Outcome::Invalid;
    }
    let selected: Vec<Selected<'_>> = if args.condition.is_some() {
        loaded
            .rules
            .iter()
            .filter(|r| r.name == CONDITION_RULE)
            .map(|r| Selected {
                name: None,
                expr: &r.expr,
            })
            .collect()
    } else if let Some(name) = &args.rule {
        let found: Vec<Selected<'_>> = loaded
            .rules
            .iter()
            .filter(|r| &r.name == name)
            .map(|r| Selected {
                name: Some(r.name.as_str()),
                expr: &r.expr,
            })
            .collect();
        if found.is_empty() {
            eprintln!("frulec compile: no rule named '{name}' in the loaded files");
            return Outcome::Invalid;
        }
        found
    } else {
        loaded
            .rules
            .iter()
            .filter(|r| r.enabled)
            .map(|r| Selected {
                name: Some(r.name.as_str()),
                expr: &r.expr,
            })
            .collect()
    };
    let mut out = String::new();
    let outcome = match args.emit {
        Some(Emit::Ast) => emit_ast(&mut out, args, &selected),
        Some(Emit::Evttypes) => emit_evttypes(&mut out, args, &selected),
        Some(Emit::Ir) => {
            lower(&selected).map_or(Outcome::Invalid, |p| emit_ir(&mut out, args, &p))
        }
        Some(Emit::Opt) => {
            lower(&selected).map_or(Outcome::Invalid, |p| emit_opt(&mut out, args, &p))
        }
        Some(e @ (Emit::Clif | Emit::Asm)) => lower(&selected).map_or(Outcome::Invalid, |p| {
            let (p, _) = opt::optimize(
                &p,
                opt::Options {
                    level: args.level,
                    dump: false,
                },
            );
            emit_native(&mut out, e, &p)
        }),
        None => lower(&selected).map_or(Outcome::Invalid, |p| summary(&mut out, args, &p)),
    };
    // one write at the end: a closed pipe (`| head`) is an I/O error, not a panic
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Ok(()) => outcome,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => outcome,
        Err(e) => {
            eprintln!("frulec compile: cannot write the output: {e}");
            Outcome::Error
        }
    }
}

fn label(name: Option<&str>) -> &str {
    name.unwrap_or("condition")
}

/// Lowers the selected rules into one program; reports lowering errors (exit 1).
fn lower(selected: &[Selected<'_>]) -> Option<ir::Program> {
    let mut l = Lowerer::new();
    let mut ok = true;
    for s in selected {
        if let Err(es) = l.add_rule(label(s.name), s.expr) {
            ok = false;
            for e in es {
                eprintln!(
                    "frulec compile: {}: cannot lower the condition: {}",
                    label(s.name),
                    e.message
                );
            }
        }
    }
    ok.then(|| l.finish())
}

fn emit_ast(out: &mut String, args: &Args, selected: &[Selected<'_>]) -> Outcome {
    for s in selected {
        let text =
            String::from_utf8_lossy(&frule_lang::print::condition_to_bytes(s.expr)).into_owned();
        match args.format {
            Format::Text => match s.name {
                Some(n) => _ = writeln!(out, "{n}: {text}"),
                None => _ = writeln!(out, "{text}"),
            },
            Format::Json => _ = writeln!(out, "{}", json!({"rule": s.name, "condition": text})),
        }
    }
    Outcome::Ok
}

fn emit_evttypes(out: &mut String, args: &Args, selected: &[Selected<'_>]) -> Outcome {
    let mut outcome = Outcome::Ok;
    for s in selected {
        match frule_lang::evttypes::evttypes_of(s.expr) {
            Ok(set) => {
                let all = set.is_all();
                let names = set.names();
                match args.format {
                    Format::Text => {
                        let list = if all {
                            "all".to_owned()
                        } else if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(" ")
                        };
                        let _ = writeln!(out, "{}: {list}", label(s.name));
                    }
                    Format::Json => {
                        let _ = writeln!(
                            out,
                            "{}",
                            json!({"rule": s.name, "all": all, "evttypes": names})
                        );
                    }
                }
            }
            Err(e) => {
                eprintln!("frulec compile: {}: {e}", label(s.name));
                outcome = Outcome::Invalid;
            }
        }
    }
    outcome
}

fn emit_ir(out: &mut String, args: &Args, p: &ir::Program) -> Outcome {
    let text = p.to_text();
    match args.format {
        Format::Text => _ = write!(out, "{text}"),
        Format::Json => _ = writeln!(out, "{}", json!({"ir": text})),
    }
    Outcome::Ok
}

fn emit_opt(out: &mut String, args: &Args, p: &ir::Program) -> Outcome {
    let (_, stats) = opt::optimize(
        p,
        opt::Options {
            level: args.level,
            dump: true,
        },
    );
    match args.format {
        Format::Text => {
            let _ = writeln!(out, "; input: {} values", p.values.len());
            let _ = write!(out, "{}", p.to_text());
            for s in &stats {
                let _ = writeln!(
                    out,
                    "\n; pass {}: {} -> {} values{}",
                    s.name,
                    s.values_before,
                    s.values_after,
                    if s.changed { "" } else { " (unchanged)" }
                );
                if s.changed {
                    let _ = write!(out, "{}", s.dump.as_deref().unwrap_or_default());
                }
            }
        }
        Format::Json => {
            let passes: Vec<_> = stats
                .iter()
                .map(|s| {
                    json!({
                        "pass": s.name,
                        "values_before": s.values_before,
                        "values_after": s.values_after,
                        "changed": s.changed,
                        "ir": s.dump,
                    })
                })
                .collect();
            let _ = writeln!(
                out,
                "{}",
                json!({"level": args.level, "input": p.to_text(), "passes": passes})
            );
        }
    }
    Outcome::Ok
}

fn emit_native(out: &mut String, e: Emit, p: &ir::Program) -> Outcome {
    let text = if e == Emit::Clif {
        Ok(frule_codegen::jit::emit_clif(p))
    } else {
        frule_codegen::jit::emit_asm(p)
    };
    match text {
        Ok(t) => {
            let _ = write!(out, "{t}");
            if !t.ends_with('\n') {
                let _ = writeln!(out);
            }
            Outcome::Ok
        }
        Err(err) => {
            eprintln!(
                "frulec compile: --emit {}: {err}",
                if e == Emit::Clif { "clif" } else { "asm" }
            );
            Outcome::Error
        }
    }
}

fn summary(out: &mut String, args: &Args, p: &ir::Program) -> Outcome {
    let start = Instant::now();
    let (o, _) = opt::optimize(
        p,
        opt::Options {
            level: args.level,
            dump: false,
        },
    );
    let native = match args.backend {
        Backend::Vm => {
            if let Err(e) = frule_codegen::vm::Program::compile(&o) {
                eprintln!("frulec compile: {e}");
                return Outcome::Error;
            }
            None
        }
        Backend::Jit => match frule_codegen::jit::Program::compile_or_vm(&o) {
            Ok(j) => Some(j.is_native()),
            Err(e) => {
                eprintln!("frulec compile: {e}");
                return Outcome::Error;
            }
        },
    };
    let dispatch = match Dispatch::build(
        p,
        PartitionOptions {
            opt: opt::Options {
                level: args.level,
                dump: false,
            },
            specialize_evttype: true,
        },
    ) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("frulec compile: {e}");
            return Outcome::Error;
        }
    };
    let elapsed = start.elapsed();
    let wanted = dispatch
        .partition
        .by_code
        .iter()
        .filter(|g| **g != 0)
        .count();
    let backend = match (args.backend, native) {
        (Backend::Jit, Some(true)) => "jit",
        (Backend::Jit, _) => "jit (fell back to the vm)",
        (Backend::Vm, _) => "vm",
    };
    match args.format {
        Format::Text => {
            let _ = writeln!(out, "rules: {}", p.rules.len());
            let _ = writeln!(
                out,
                "ir values: {} lowered, {} optimized (-O{})",
                p.values.len(),
                o.values.len(),
                args.level
            );
            let _ = writeln!(
                out,
                "field slots: {}, sets: {}, regexes: {}",
                o.fields.len(),
                o.sets.len(),
                o.regexes.len()
            );
            let _ = writeln!(
                out,
                "event-type programs: {} (event codes with candidate rules: {wanted})",
                dispatch.group_count()
            );
            let _ = writeln!(out, "backend: {backend}");
            let _ = writeln!(out, "compile time: {:.1} ms", elapsed.as_secs_f64() * 1e3);
        }
        Format::Json => {
            _ = writeln!(
                out,
                "{}",
                json!({
                    "rules": p.rules.len(),
                    "values_lowered": p.values.len(),
                    "values_optimized": o.values.len(),
                    "level": args.level,
                    "field_slots": o.fields.len(),
                    "sets": o.sets.len(),
                    "regexes": o.regexes.len(),
                    "evttype_programs": dispatch.group_count(),
                    "evttype_codes_with_rules": wanted,
                    "backend": backend,
                    "compile_ms": elapsed.as_secs_f64() * 1e3,
                })
            )
        }
    }
    Outcome::Ok
}
