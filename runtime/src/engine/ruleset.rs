//! The ruleset: which loaded rules are active, and their compiled, event-type-indexed programs.
//!
//! Falco keeps one ruleset per event source and indexes the rules of each by the event types their
//! condition can match (`evttype_index_ruleset`), so that an event is only evaluated against the rules
//! that could fire on it. We do the same through codegen's pipeline:
//!
//! ```text
//! active rules of a source ──lower──► one IR program ──partition_with_sets (Falco's sets)──► one fused,
//!   optimized program per group of event codes ──backend──► native code (Cranelift) or VM bytecode
//! ```
//!
//! All event codes that select the *same* list of rules (and, when `evt.type` is specialized, share
//! one event name) share one program holding exactly those rules, in load order; the rules in it
//! share extracted fields and common subexpressions. The [`Backend`] decides how the programs run:
//! optimized and compiled to native code ([`Backend::Jit`], the default; a program Cranelift cannot
//! compile runs on the VM and the reason is reported in [`BuildInfo::fallbacks`]), optimized on the
//! VM ([`Backend::Vm`]), or unoptimized on the VM ([`Backend::VmUnoptimized`]: no passes, no
//! `evt.type` specialization — the reference the others are compared with).
//!
//! The partition is made with the event-type sets the loader computed on the AST (Falco's
//! `ppm_code_visitor`), so an event reaches exactly the rules Falco's index gives it. The optimizer's
//! own sets, computed on the IR, must agree; [`BuildInfo::evttype_mismatches`] lists every rule where
//! they do not (none on the upstream rulesets; a test checks it).
//!
//! `evt.type` specialization (optimized backends) relies on the event's `evt.type` being the name of
//! its code. That holds for every code the partition specializes: it leaves out the generic syscall
//! pair (`PPME_GENERIC_E/X`, whose `evt.type` is the syscall name in their `ID` parameter) and the
//! `NA` placeholders; the runtime renders every other code's `evt.type` as its catalog name. Callers
//! of [`Ruleset::evaluate`] with their own field source must keep `evt.type` and the code
//! consistent, as the event given by field values of `frule::Engine::process_fields` does.
//!
//! Selection follows Falco's engine:
//!
//! - a rule's `enabled:` flag from its file is the starting point;
//! - selectors change it in the order they are applied: by exact name, by name substring (`-D`), by
//!   name wildcard (`rules:` selectors of falco.yaml), by tag (`-T` disables, `-t` enables);
//! - the priority threshold (`priority:`) removes less severe rules entirely, whatever the selectors
//!   say (Falco does not even load them);
//! - rules of different sources never share a program.
//!
//! Invariants: `compiled` is `None` whenever the selection, the threshold or the backend changed
//! since the last build (it is rebuilt lazily); in a built ruleset every group's program rule `i` is
//! `group.rules[i]`, and the rules of a group are in load order, which is what makes
//! `rule_matching: first` pick the earliest rule.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use frule_codegen::abi::FieldSource;
use frule_codegen::dispatch::CodeTable;
use frule_codegen::lower::Lowerer;
use frule_codegen::opt::{self, evttype_partition};
use frule_codegen::{ir, jit, verify, vm};
use frule_lang::ast::Expr;
use frule_lang::evttypes::{self, EvtTypeSet};
use frule_lang::loader::{CompiledRule, Priority};

/// How many rules may fire on one event (falco.yaml `rule_matching`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RuleMatching {
    /// The first matching rule, in load order, wins (Falco's default).
    #[default]
    First,
    /// Every matching rule fires.
    All,
}

impl RuleMatching {
    /// Parses the falco.yaml value (`first` or `all`).
    pub fn parse(s: &str) -> Option<RuleMatching> {
        match s {
            "first" => Some(RuleMatching::First),
            "all" => Some(RuleMatching::All),
            _ => None,
        }
    }
}

/// How the compiled conditions run. Every backend gives the same alerts on every event (the engine,
/// regression and `frulec test` suites run on each of them); they differ in speed and build time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The optimized per-event-type programs compiled to native code with Cranelift. A program the
    /// JIT cannot compile (no Cranelift for this host, or built without the `jit` feature) runs on the
    /// VM instead, and [`BuildInfo::fallbacks`] says why.
    #[default]
    Jit,
    /// The same optimized programs on the bytecode VM.
    Vm,
    /// Unoptimized programs (lowered IR, grouped by event type, no passes, no `evt.type`
    /// specialization) on the bytecode VM: the reference semantics.
    VmUnoptimized,
}

impl Backend {
    /// Every backend, for differential runs.
    pub const ALL: &'static [Backend] = &[Backend::Jit, Backend::Vm, Backend::VmUnoptimized];

    /// The backend's short name (`jit`, `vm`, `vm-O0`), as `--backend` and `frule.backend` take it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Jit => "jit",
            Backend::Vm => "vm",
            Backend::VmUnoptimized => "vm-O0",
        }
    }

    /// Parses a short name (see [`Backend::name`]; `vm-o0` is accepted too).
    pub fn parse(s: &str) -> Option<Backend> {
        Backend::ALL
            .iter()
            .copied()
            .find(|b| b.name().eq_ignore_ascii_case(s))
    }

    /// The partition and optimizer settings of the backend.
    fn partition_options(self) -> evttype_partition::PartitionOptions {
        match self {
            Backend::Jit | Backend::Vm => evttype_partition::PartitionOptions::default(),
            Backend::VmUnoptimized => evttype_partition::PartitionOptions {
                opt: opt::Options {
                    level: 0,
                    ..opt::Options::default()
                },
                specialize_evttype: false,
            },
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A loaded rule as the ruleset keeps it.
#[derive(Clone, Debug)]
pub struct RuleEntry {
    /// The rule name.
    pub name: String,
    /// Its priority.
    pub priority: Priority,
    /// Its event source.
    pub source: String,
    /// Its tags, sorted.
    pub tags: BTreeSet<String>,
    /// The event codes its condition can match (the loader's computation, Falco's evttype index).
    pub evttypes: EvtTypeSet,
    /// The macro-resolved condition.
    pub expr: Expr,
    /// Whether it is selected (file flag, then selectors).
    pub enabled: bool,
    /// Why its event types could not be computed (it then never fires).
    pub evttype_error: Option<String>,
}

/// A rule that could not be compiled; it never fires. Only internal limits cause this (the loader has
/// already rejected rules with user errors), so it is reported, not fatal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedRule {
    /// The rule name.
    pub rule: String,
    /// Why it was skipped, lowercase.
    pub reason: String,
}

/// A program the JIT could not compile, which runs on the VM instead (same answers, slower).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitFallback {
    /// The event source of the program.
    pub source: String,
    /// The event name `evt.type` was specialized to in the program, if it was.
    pub evttype: Option<&'static str>,
    /// How many rules the program holds.
    pub rules: usize,
    /// Why the JIT could not compile it, lowercase.
    pub reason: String,
}

/// A rule whose event-type set computed by the optimizer on the IR differs from the loader's (Falco's
/// index, which the dispatch uses). Either side being larger is a bug somewhere: reported, and
/// checked to be absent on the upstream rulesets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvttypeMismatch {
    /// The rule name.
    pub rule: String,
    /// Codes in the loader's set only.
    pub loader_only: Vec<u16>,
    /// Codes in the optimizer's set only.
    pub ir_only: Vec<u16>,
}

/// What the last build did.
#[derive(Clone, Debug, Default)]
pub struct BuildInfo {
    /// The backend built for.
    pub backend: Backend,
    /// Rules compiled (active rules of every source minus the skipped ones).
    pub rules: usize,
    /// Distinct programs holding at least one rule, over every source.
    pub programs: usize,
    /// Of those, how many run as native code.
    pub native: usize,
    /// Programs that run on the VM although the JIT was asked for.
    pub fallbacks: Vec<JitFallback>,
    /// Rules whose optimizer event-type set differs from the loader's.
    pub evttype_mismatches: Vec<EvttypeMismatch>,
    /// Wall time of the build (lowering, optimization, code generation).
    pub elapsed: Duration,
}

/// A group's compiled program.
#[derive(Debug)]
enum Code {
    // Boxed: the bytecode program is several times the size of a (shared) JIT program.
    Vm(Box<vm::Program>),
    Jit(jit::Program),
}

/// A group's per-event state, of the same kind as its [`Code`].
#[derive(Debug)]
enum Scratch {
    Vm(vm::Machine),
    Jit(jit::Machine),
}

#[derive(Debug)]
struct Group {
    /// Global rule indices, in load order; program rule `i` is `rules[i]`.
    rules: Vec<usize>,
    code: Code,
    machine: Scratch,
}

/// The rules (indices into the partitioned program) of a group that failed to compile, and why.
type GroupFailure = (Vec<usize>, String);

#[derive(Debug)]
struct SourceTable {
    /// Per event code: the group to run, `None` when no rule wants the code (checked first, so that
    /// an unwanted event costs one table load).
    table: CodeTable,
    groups: Vec<Group>,
}

#[derive(Debug, Default)]
struct Compiled {
    /// One table per source (a handful): a linear search is cheaper than hashing the name.
    sources: Vec<(String, SourceTable)>,
    skipped: Vec<SkippedRule>,
    info: BuildInfo,
}

/// The rules of one load, their selection and their compiled programs.
#[derive(Debug)]
pub struct Ruleset {
    rules: Vec<RuleEntry>,
    min_priority: Priority,
    backend: Backend,
    compiled: Option<Compiled>,
    scratch: Vec<usize>,
}

impl Ruleset {
    /// A ruleset of the loader's rules (in its evaluation order), each enabled as its file says, for
    /// the default backend. Rules whose event types cannot be computed are kept but never fire (see
    /// [`Ruleset::skipped`]).
    pub fn new(rules: &[CompiledRule]) -> Ruleset {
        let rules = rules
            .iter()
            .map(|r| {
                let (evttypes, evttype_error) = match evttypes::evttypes_of(&r.expr) {
                    Ok(set) => (set, None),
                    Err(e) => (EvtTypeSet::empty(), Some(e)),
                };
                RuleEntry {
                    name: r.name.clone(),
                    priority: r.priority,
                    source: r.source.clone(),
                    tags: r.tags.clone(),
                    evttypes,
                    expr: r.expr.clone(),
                    enabled: r.enabled,
                    evttype_error,
                }
            })
            .collect();
        Ruleset {
            rules,
            min_priority: Priority::Debug,
            backend: Backend::default(),
            compiled: None,
            scratch: Vec::new(),
        }
    }

    /// Every rule, selected or not, in load order.
    pub fn rules(&self) -> &[RuleEntry] {
        &self.rules
    }

    /// The rule at a global index.
    pub fn rule(&self, index: usize) -> Option<&RuleEntry> {
        self.rules.get(index)
    }

    /// Sets the least severe priority that is still loaded (falco.yaml `priority`).
    pub fn set_min_priority(&mut self, p: Priority) {
        self.min_priority = p;
        self.compiled = None;
    }

    /// The least severe priority that is loaded.
    pub fn min_priority(&self) -> Priority {
        self.min_priority
    }

    /// Chooses how the conditions run; the programs are rebuilt (lazily) when it changes.
    pub fn set_backend(&mut self, backend: Backend) {
        if backend != self.backend {
            self.backend = backend;
            self.compiled = None;
        }
    }

    /// The backend the programs are (or will be) built for.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn select(&mut self, enabled: bool, mut pred: impl FnMut(&RuleEntry) -> bool) -> usize {
        let mut n = 0;
        for r in &mut self.rules {
            if pred(r) {
                r.enabled = enabled;
                n += 1;
            }
        }
        self.compiled = None;
        n
    }

    /// Enables or disables every rule; returns how many rules were touched.
    pub fn enable_all(&mut self, enabled: bool) -> usize {
        self.select(enabled, |_| true)
    }

    /// Enables or disables the rule named exactly `name`; returns how many rules were touched.
    pub fn enable_by_name(&mut self, name: &str, enabled: bool) -> usize {
        self.select(enabled, |r| r.name == name)
    }

    /// Enables or disables every rule whose name contains `substring` (Falco's `-D`).
    pub fn enable_by_substring(&mut self, substring: &str, enabled: bool) -> usize {
        self.select(enabled, |r| r.name.contains(substring))
    }

    /// Enables or disables every rule whose name matches the wildcard `pattern` (`*` any text, `?` one
    /// character), as the `rules:` selectors of falco.yaml do.
    pub fn enable_by_wildcard(&mut self, pattern: &str, enabled: bool) -> usize {
        self.select(enabled, |r| {
            wildcard_match(pattern.as_bytes(), r.name.as_bytes())
        })
    }

    /// Enables or disables every rule having at least one of `tags` (`-T` / `-t`). A rule without tags is
    /// never touched.
    pub fn enable_by_tags(&mut self, tags: &[String], enabled: bool) -> usize {
        self.select(enabled, |r| tags.iter().any(|t| r.tags.contains(t)))
    }

    /// Whether the rule at `index` will be evaluated: selected and severe enough.
    pub fn is_active(&self, index: usize) -> bool {
        self.rules
            .get(index)
            .is_some_and(|r| r.enabled && r.priority <= self.min_priority)
    }

    /// How many rules are active.
    pub fn active_count(&self) -> usize {
        (0..self.rules.len()).filter(|&i| self.is_active(i)).count()
    }

    /// Rules that could not be compiled at the last build.
    pub fn skipped(&self) -> &[SkippedRule] {
        self.compiled.as_ref().map_or(&[], |c| &c.skipped)
    }

    /// What the last build did (`None` before the first build and after a change).
    pub fn build_info(&self) -> Option<&BuildInfo> {
        self.compiled.as_ref().map(|c| &c.info)
    }

    /// Compiles the active rules now (otherwise done on the first event after a change).
    pub fn build(&mut self) {
        if self.compiled.is_none() {
            self.compiled = Some(self.compile());
        }
    }

    fn compile(&self) -> Compiled {
        let started = Instant::now();
        let mut out = Compiled::default();
        out.info.backend = self.backend;
        let mut sources: Vec<&str> = self
            .rules
            .iter()
            .enumerate()
            .filter(|(i, _)| self.is_active(*i))
            .map(|(_, r)| r.source.as_str())
            .collect();
        sources.sort_unstable();
        sources.dedup();
        for source in sources {
            let table = self.compile_source(source, &mut out);
            out.sources.push((source.to_string(), table));
        }
        out.info.elapsed = started.elapsed();
        out
    }

    /// Marks rule `i` skipped for `reason`.
    fn skip(&self, out: &mut Compiled, i: usize, reason: impl Into<String>) {
        if let Some(r) = self.rules.get(i) {
            out.skipped.push(SkippedRule {
                rule: r.name.clone(),
                reason: reason.into(),
            });
        }
    }

    /// Lowers `rules` (global indices, load order) into one program; rules that cannot be lowered are
    /// skipped. Returns the program and the rules it holds (program rule `k` is `kept[k]`).
    fn lower(&self, rules: &[usize], out: &mut Compiled) -> (ir::Program, Vec<usize>) {
        let mut lowerer = Lowerer::new();
        let mut kept = Vec::with_capacity(rules.len());
        for &i in rules {
            let Some(r) = self.rules.get(i) else {
                continue;
            };
            match lowerer.add_rule(&r.name, &r.expr) {
                Ok(_) => kept.push(i),
                Err(errs) => {
                    let reason = errs
                        .first()
                        .map_or_else(|| "cannot be lowered".into(), |e| e.message.clone());
                    self.skip(out, i, reason);
                }
            }
        }
        (lowerer.finish(), kept)
    }

    /// The program of the active rules of `source`, partitioned by event type and compiled for the
    /// backend.
    fn compile_source(&self, source: &str, out: &mut Compiled) -> SourceTable {
        let mut active = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            if !self.is_active(i) || r.source != source {
                continue;
            }
            match &r.evttype_error {
                Some(e) => self.skip(out, i, e.clone()),
                None => active.push(i),
            }
        }
        let (mut program, mut kept) = self.lower(&active, out);
        if let Err(e) = verify::verify(&program) {
            // Find the rules whose own program does not verify (an internal limit of lowering), skip
            // them and lower the others again.
            let mut good = Vec::with_capacity(kept.len());
            for &i in &kept {
                let mut alone = Compiled::default();
                let (p, k) = self.lower(&[i], &mut alone);
                match verify::verify(&p) {
                    Ok(()) if !k.is_empty() => good.push(i),
                    Ok(()) => self.skip(out, i, e.to_string()),
                    Err(e) => self.skip(out, i, e.to_string()),
                }
            }
            let mut ignored = Compiled::default();
            (program, kept) = self.lower(&good, &mut ignored);
            if let Err(e) = verify::verify(&program) {
                for &i in &kept {
                    self.skip(out, i, e.to_string());
                }
                (program, kept) = (ir::Program::new(), Vec::new());
            }
        }
        self.check_evttypes(&program, &kept, out);
        let options = self.backend.partition_options();
        loop {
            let sets: Vec<EvtTypeSet> = kept
                .iter()
                .map(|&i| {
                    self.rules
                        .get(i)
                        .map_or(EvtTypeSet::empty(), |r| r.evttypes)
                })
                .collect();
            let part = evttype_partition::partition_with_sets(&program, sets, options);
            match self.compile_groups(source, &part, &kept) {
                Ok((groups, fallbacks)) => {
                    out.info.rules += kept.len();
                    let nonempty = groups.iter().filter(|g| !g.rules.is_empty());
                    out.info.programs += nonempty.clone().count();
                    out.info.native += nonempty
                        .filter(|g| matches!(&g.code, Code::Jit(p) if p.is_native()))
                        .count();
                    out.info.fallbacks.extend(fallbacks);
                    let table = CodeTable::new(&part.by_code, |g| {
                        groups.get(g).is_some_and(|g| !g.rules.is_empty())
                    });
                    return SourceTable { table, groups };
                }
                Err((bad, reason)) => {
                    // A group the VM compiler rejects (an internal limit): drop its rules everywhere
                    // and partition the rest again. Terminates: `bad` is never empty.
                    let bad: BTreeSet<usize> = bad.into_iter().collect();
                    for &k in &bad {
                        if let Some(&i) = kept.get(k) {
                            self.skip(out, i, reason.clone());
                        }
                    }
                    let keep: Vec<usize> = (0..kept.len()).filter(|k| !bad.contains(k)).collect();
                    program = opt::compact_rules(&program, &keep);
                    kept = keep.iter().filter_map(|&k| kept.get(k).copied()).collect();
                }
            }
        }
    }

    /// Compiles every group of a partition for the backend. On failure, returns the rules (indices
    /// into the partitioned program) of the group that failed, never empty, and why.
    fn compile_groups(
        &self,
        source: &str,
        part: &evttype_partition::Partition,
        kept: &[usize],
    ) -> Result<(Vec<Group>, Vec<JitFallback>), GroupFailure> {
        let mut groups = Vec::with_capacity(part.groups.len());
        let mut fallbacks = Vec::new();
        // The JIT compiles all groups at once: identical group programs share one compiled copy.
        let mut native = match self.backend {
            Backend::Jit => {
                let sources: Vec<&ir::Program> = part.groups.iter().map(|g| &g.program).collect();
                jit::Program::compile_all(&sources)
            }
            Backend::Vm | Backend::VmUnoptimized => Vec::new(),
        }
        .into_iter();
        for g in &part.groups {
            let rules: Vec<usize> = g
                .rules
                .iter()
                .filter_map(|&k| kept.get(k).copied())
                .collect();
            let compiled = match self.backend {
                Backend::Jit => native
                    .next()
                    .unwrap_or_else(|| jit::Program::compile_or_vm(&g.program))
                    .map(|p| {
                        if let Some(e) = p.fallback_reason()
                            && !rules.is_empty()
                        {
                            fallbacks.push(JitFallback {
                                source: source.to_string(),
                                evttype: g.evttype,
                                rules: rules.len(),
                                reason: e.message.clone(),
                            });
                        }
                        let machine = Scratch::Jit(p.machine());
                        (Code::Jit(p), machine)
                    }),
                Backend::Vm | Backend::VmUnoptimized => vm::Program::compile(&g.program).map(|p| {
                    let machine = Scratch::Vm(p.machine());
                    (Code::Vm(Box::new(p)), machine)
                }),
            };
            match compiled {
                Ok((code, machine)) => groups.push(Group {
                    rules,
                    code,
                    machine,
                }),
                Err(e) if !g.rules.is_empty() => return Err((g.rules.clone(), e.to_string())),
                Err(e) => {
                    // The empty program cannot fail to compile; if it ever did, no rule is lost by
                    // leaving the codes of this group without a program.
                    let _ = e;
                    let empty = vm::Program::compile(&ir::Program::new())
                        .map_err(|e| (g.rules.clone(), e.to_string()))?;
                    let machine = Scratch::Vm(empty.machine());
                    groups.push(Group {
                        rules,
                        code: Code::Vm(Box::new(empty)),
                        machine,
                    });
                }
            }
        }
        Ok((groups, fallbacks))
    }

    /// Compares the loader's event-type set of every kept rule with the optimizer's on `program`.
    fn check_evttypes(&self, program: &ir::Program, kept: &[usize], out: &mut Compiled) {
        let ir_sets = evttype_partition::rule_evttypes(program);
        for (&i, ir_set) in kept.iter().zip(&ir_sets) {
            let Some(r) = self.rules.get(i) else {
                continue;
            };
            if r.evttypes == *ir_set {
                continue;
            }
            out.info.evttype_mismatches.push(EvttypeMismatch {
                rule: r.name.clone(),
                loader_only: r.evttypes.intersect(&ir_set.complement()).codes().collect(),
                ir_only: ir_set.intersect(&r.evttypes.complement()).codes().collect(),
            });
        }
    }

    /// Evaluates one event of `source` with event code `evttype` against the active rules, and appends
    /// the global indices of the rules that fire, in load order (at most one with
    /// [`RuleMatching::First`]).
    pub fn evaluate(
        &mut self,
        source: &str,
        evttype: u16,
        matching: RuleMatching,
        src: &mut dyn FieldSource,
        out: &mut Vec<usize>,
    ) {
        self.build();
        let Some(compiled) = self.compiled.as_mut() else {
            return;
        };
        let Some((_, table)) = compiled.sources.iter_mut().find(|(s, _)| s == source) else {
            return;
        };
        let Some(g) = table.table.group(evttype) else {
            return;
        };
        let Some(group) = table.groups.get_mut(g) else {
            return;
        };
        self.scratch.clear();
        match (&group.code, &mut group.machine, matching) {
            // Rules after the first match are not evaluated at all.
            (Code::Vm(p), Scratch::Vm(m), RuleMatching::First) => {
                if let Some(i) = p.first_match(m, src)
                    && let Some(&r) = group.rules.get(i)
                {
                    out.push(r);
                }
                return;
            }
            (Code::Vm(p), Scratch::Vm(m), RuleMatching::All) => {
                p.matches(m, src, &mut self.scratch)
            }
            // The native function evaluates every rule of the program in one call; the first
            // answer is read from its results.
            (Code::Jit(p), Scratch::Jit(m), RuleMatching::First) => {
                if let Some(i) = p.first_match(m, src)
                    && let Some(&r) = group.rules.get(i)
                {
                    out.push(r);
                }
                return;
            }
            (Code::Jit(p), Scratch::Jit(m), RuleMatching::All) => {
                p.matches(m, src, &mut self.scratch)
            }
            // A group's machine is made from its own code.
            _ => return,
        }
        let fired = self
            .scratch
            .iter()
            .filter_map(|&i| group.rules.get(i).copied());
        match matching {
            RuleMatching::First => out.extend(fired.take(1)),
            RuleMatching::All => out.extend(fired),
        }
    }

    /// The number of distinct compiled programs holding at least one rule (for `--dry-run` style
    /// reports and tests).
    pub fn program_count(&mut self) -> usize {
        self.build();
        self.compiled.as_ref().map_or(0, |c| c.info.programs)
    }

    /// The event codes some active rule of `source` needs (the capture's event-type filter).
    pub fn evttypes_needed(&self, source: &str) -> EvtTypeSet {
        (0..self.rules.len())
            .filter(|&i| self.is_active(i) && self.rules[i].source == source)
            .fold(EvtTypeSet::empty(), |acc, i| {
                acc.union(&self.rules[i].evttypes)
            })
    }
}

/// Falco's rule-name wildcard match for `rules:` selectors: `*` matches any text, `?` one byte,
/// everything else itself.
pub fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "anything", true),
            ("Read*", "Read sensitive file", true),
            ("*file", "Read sensitive file", true),
            ("*sens?tive*", "Read sensitive file", true),
            ("Read", "Read sensitive file", false),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("", "", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(
                wildcard_match(p.as_bytes(), t.as_bytes()),
                *want,
                "{p} ~ {t}"
            );
        }
    }
}
