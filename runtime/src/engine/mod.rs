//! The engine: loaded rules → compiled, indexed ruleset → alerts, with Falco's counters.
//!
//! ```text
//! LoadResult ──Engine::new──► Ruleset (selection, priority threshold, backend,
//!                              │       optimized programs per event-type group: native code or VM)
//! event (evttype, ts, fields) ─┴─process──► matching rules ──render output──► Alert ──► output::Outputs
//! ```
//!
//! Syscall events go through [`Engine::process`]: the engine's [`State`] (threads, fds, users) is
//! updated with the event first — as libsinsp parses an event before Falco evaluates it — and the rules
//! of the event's type are then evaluated through an [`Extractor`] over the event and that state.
//! Every event is evaluated, enter and exit alike, as Falco did with captures holding both.
//! [`Engine::process_fields`] evaluates through any [`FieldRender`] (a
//! [`frule_codegen::abi::MapEvent`] in tests and `frulec test`), leaving the state alone.
//!
//! Counters follow Falco's `stats_manager`: events detected, per priority, per rule; [`Engine::summary`]
//! prints them as Falco does at exit.

pub mod ruleset;

use std::sync::Arc;

use frule_codegen::abi::FieldArg as CodegenArg;
use frule_lang::ast::{
    Check, CmpOp, Expr, ExprKind, FieldRef, Literal, Operand, Transform, TransformArg,
    Value as RhsValue,
};
use frule_lang::fields::FieldArg as ResolvedArg;
use frule_lang::loader::{LoadResult, Priority};

pub use ruleset::{
    Backend, BuildInfo, EvttypeMismatch, JitFallback, RuleEntry, RuleMatching, Ruleset,
    SkippedRule, wildcard_match,
};

use crate::dns::{DnsNames, DnsView, names_in_conditions};
use crate::event::Event;
use crate::fields::Extractor;
use crate::output::{Alert, FieldRender, OutputTemplate};
use crate::scap::CaptureState;
use crate::state::State;

/// The event source of syscall events.
pub const SYSCALL_SOURCE: &str = "syscall";

impl FieldRender for Extractor<'_> {
    fn render_field(
        &mut self,
        field: frule_codegen::abi::FieldId,
        arg: Option<&frule_codegen::abi::FieldArg>,
        out: &mut String,
    ) -> bool {
        Extractor::render_field(self, field, arg, out)
    }
}

/// Falco's message when `-t` is combined with `-D`/`-T`.
pub const ERR_ENABLED_AND_DISABLED: &str =
    "You can not specify both disabled (-D/-T) and enabled (-t) rules";

/// Which rules to run, from the command line (`-D`, `-T`, `-t`) and falco.yaml `rules:` selectors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// `-D NAME`: disable rules whose name contains it.
    pub disabled_substrings: Vec<String>,
    /// `-T TAG`: disable rules having the tag.
    pub disabled_tags: Vec<String>,
    /// `-t TAG`: run only rules having one of the tags.
    pub enabled_tags: Vec<String>,
    /// falco.yaml `rules:` selectors, in order.
    pub selectors: Vec<RuleSelector>,
}

/// One `rules:` selector of falco.yaml: `- enable: {rule: "x*"}` / `- disable: {tag: t}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSelector {
    /// `enable` or `disable`.
    pub enable: bool,
    /// A rule-name wildcard, or …
    pub rule: Option<String>,
    /// … a tag.
    pub tag: Option<String>,
}

impl Selection {
    /// Applies the selection in Falco's order: config selectors, then `-D`, `-T`, `-t` (which first
    /// disables everything). Fails, as Falco does, when `-t` is combined with `-D`/`-T`.
    pub fn apply(&self, rules: &mut Ruleset) -> Result<(), String> {
        if !self.enabled_tags.is_empty()
            && (!self.disabled_substrings.is_empty() || !self.disabled_tags.is_empty())
        {
            return Err(ERR_ENABLED_AND_DISABLED.to_string());
        }
        for s in &self.selectors {
            if let Some(r) = &s.rule {
                rules.enable_by_wildcard(r, s.enable);
            }
            if let Some(t) = &s.tag {
                rules.enable_by_tags(std::slice::from_ref(t), s.enable);
            }
        }
        for d in &self.disabled_substrings {
            rules.enable_by_substring(d, false);
        }
        if !self.disabled_tags.is_empty() {
            rules.enable_by_tags(&self.disabled_tags, false);
        }
        if !self.enabled_tags.is_empty() {
            rules.enable_all(false);
            rules.enable_by_tags(&self.enabled_tags, true);
        }
        Ok(())
    }
}

/// Falco's detection counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events processed.
    pub events: u64,
    /// Alerts produced.
    pub detected: u64,
    /// Alerts per priority, most severe first (index = `Priority as usize`).
    pub by_priority: [u64; 8],
    /// Alerts per rule, by global rule index.
    pub by_rule: Vec<u64>,
}

#[derive(Debug)]
struct RuleMeta {
    name: Arc<str>,
    source: Arc<str>,
    tags: Arc<[String]>,
    template: Option<OutputTemplate>,
}

/// Rules compiled for evaluation, with their output templates and counters.
#[derive(Debug)]
pub struct Engine {
    ruleset: Ruleset,
    meta: Vec<RuleMeta>,
    matching: RuleMatching,
    stats: Stats,
    hits: Vec<usize>,
    state: State,
    dns: Dns,
}

/// The DNS names of `fd.*ip.name` checks (see [`crate::dns`]).
#[derive(Debug, Default)]
struct Dns {
    /// Per rule with such checks, its index and the names it compares with.
    by_rule: Vec<(usize, Vec<String>)>,
    /// The resolver, started at the first event for the rules active then.
    names: Option<DnsNames>,
    view: DnsView,
}

/// How long the first event waits for the first answers of the resolver. libsinsp waits for each
/// name's resolution on the event loop, unbounded; a name server that does not answer must not stall
/// frule longer than this.
pub const DNS_FIRST_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

const PRIORITIES: [Priority; 8] = [
    Priority::Emergency,
    Priority::Alert,
    Priority::Critical,
    Priority::Error,
    Priority::Warning,
    Priority::Notice,
    Priority::Informational,
    Priority::Debug,
];

impl Engine {
    /// An engine over the rules of a load (rules that failed to load are not in it). Every rule starts
    /// as its file says; nothing is compiled until the first event or [`Ruleset::build`].
    pub fn new(load: &LoadResult) -> Engine {
        let meta = load
            .rules
            .iter()
            .map(|r| RuleMeta {
                name: Arc::from(r.name.as_str()),
                source: Arc::from(r.source.as_str()),
                tags: r.tags.iter().cloned().collect::<Vec<_>>().into(),
                template: OutputTemplate::parse(&r.output),
            })
            .collect::<Vec<_>>();
        let n = meta.len();
        let by_rule = load
            .rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let names = names_in_conditions([&r.expr]);
                (!names.is_empty()).then(|| (i, names.into_iter().collect()))
            })
            .collect();
        Engine {
            ruleset: Ruleset::new(&load.rules),
            meta,
            matching: RuleMatching::First,
            stats: Stats {
                by_rule: vec![0; n],
                ..Stats::default()
            },
            hits: Vec::new(),
            state: State::default(),
            dns: Dns {
                by_rule,
                ..Dns::default()
            },
        }
    }

    /// Starts resolving the names that the active rules' `fd.*ip.name` checks compare with, and
    /// waits for the first answers at most [`DNS_FIRST_WAIT`]. Done by the first event; a monitor
    /// calls it before it starts reading events so that no event waits.
    pub fn start_dns(&mut self) {
        if self.dns.names.is_some() {
            return;
        }
        let names: std::collections::BTreeSet<String> = self
            .dns
            .by_rule
            .iter()
            .filter(|(i, _)| self.ruleset.is_active(*i))
            .flat_map(|(_, n)| n.iter().cloned())
            .collect();
        let dns = DnsNames::start(names, DNS_FIRST_WAIT);
        self.dns.view = dns.view();
        self.dns.names = Some(dns);
    }

    /// Replaces the system state with the one recorded at the start of a capture (its process, fd,
    /// user and group lists).
    pub fn set_capture_state(&mut self, cap: &CaptureState) {
        self.state = State::from_capture(cap);
    }

    /// Takes the rules of `next` (a freshly loaded engine) and keeps everything this engine learned:
    /// its state (threads, fds, users) and its counters, those of a rule carried over by rule name.
    /// This is the hot reload of a live monitor: no event is evaluated half with the old rules and
    /// half with the new ones, and the process table survives.
    pub fn replace_rules(&mut self, mut next: Engine) {
        std::mem::swap(&mut self.state, &mut next.state);
        let mut by_name: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        for (m, n) in self.meta.iter().zip(&self.stats.by_rule) {
            *by_name.entry(&m.name).or_default() += *n;
        }
        let by_rule = next
            .meta
            .iter()
            .map(|m| by_name.remove(&*m.name).unwrap_or(0))
            .collect();
        next.stats = Stats {
            events: self.stats.events,
            detected: self.stats.detected,
            by_priority: self.stats.by_priority,
            by_rule,
        };
        *self = next;
    }

    /// The system state the engine keeps.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The container metadata of the state, to switch it to live lookups
    /// ([`crate::container::Containers::docker`]) or to take the `container` metaevents of completed lookups.
    pub fn containers_mut(&mut self) -> &mut crate::container::Containers {
        self.state.containers_mut()
    }

    /// Processes one syscall event captured on `cpu`: updates the state with it, then evaluates the
    /// rules of its event type and appends an [`Alert`] per fired rule. Returns how many fired.
    pub fn process(&mut self, evt: &Event<'_>, cpu: u16, alerts: &mut Vec<Alert>) -> usize {
        self.state.update(evt);
        if self.dns.names.is_none() {
            self.start_dns();
        }
        self.dns.view.refresh();
        let mut ex = Extractor::new(&self.state, *evt)
            .with_cpu(cpu)
            .with_dns(self.dns.view.table());
        let mut parts = Parts {
            ruleset: &mut self.ruleset,
            meta: &self.meta,
            matching: self.matching,
            stats: &mut self.stats,
            hits: &mut self.hits,
        };
        parts.run(SYSCALL_SOURCE, evt.event_type(), evt.ts(), &mut ex, alerts)
    }

    /// The ruleset (selection and priority threshold).
    pub fn ruleset(&self) -> &Ruleset {
        &self.ruleset
    }

    /// The ruleset, to change the selection.
    pub fn ruleset_mut(&mut self) -> &mut Ruleset {
        &mut self.ruleset
    }

    /// Sets `rule_matching`.
    pub fn set_rule_matching(&mut self, m: RuleMatching) {
        self.matching = m;
    }

    /// The current `rule_matching`.
    pub fn rule_matching(&self) -> RuleMatching {
        self.matching
    }

    /// Chooses how conditions run ([`Backend::Jit`] by default); the programs are rebuilt on the next
    /// event or [`Ruleset::build`].
    pub fn set_backend(&mut self, backend: Backend) {
        self.ruleset.set_backend(backend);
    }

    /// The backend conditions run on.
    pub fn backend(&self) -> Backend {
        self.ruleset.backend()
    }

    /// Evaluates one event of `source` (event code `evttype`, timestamp `ts` in ns) whose fields
    /// `src` provides, and appends an [`Alert`] per fired rule to `alerts`. Returns how many fired.
    pub fn process_fields(
        &mut self,
        source: &str,
        evttype: u16,
        ts: u64,
        src: &mut dyn FieldRender,
        alerts: &mut Vec<Alert>,
    ) -> usize {
        let mut parts = Parts {
            ruleset: &mut self.ruleset,
            meta: &self.meta,
            matching: self.matching,
            stats: &mut self.stats,
            hits: &mut self.hits,
        };
        parts.run(source, evttype, ts, src, alerts)
    }

    /// Whether an active rule of the syscall source reads what a live capture takes from the file
    /// an open event opened: its dev and inode number and the `O_F_CREATED` and overlay-layer flag
    /// bits of its `flags`. Conditions (macros and exceptions resolved) and output formats count:
    /// - `fd.dev*`, `fd.ino`, `fd.is_upper_layer`, `fd.is_lower_layer`, `evt.is_open_create` in
    ///   any rule (the fd table keeps them for the fd's later events);
    /// - in a rule that can match an open-family event, `evt.args`, the `dev` and `ino`
    ///   arguments (`evt.arg.dev`, `evt.rawarg.ino`, …), an argument by position, and the `flags`
    ///   argument, except in a `contains`/`icontains` test of flag names none of which is a
    ///   file-derived one (`evt.arg.flags contains O_TRUNC` reads the same either way).
    ///
    /// When none does, the capture may skip the lookup, which is most of an open event's kernel
    /// cost for a process whose fd table has grown past its embedded 64 slots.
    pub fn reads_open_file_props(&self) -> bool {
        // open, openat, openat2 and creat, enter and exit
        const OPEN_EVENTS: &[u16] = &[2, 3, 306, 307, 326, 327, 58, 59];
        self.ruleset.rules().iter().enumerate().any(|(i, r)| {
            if !self.ruleset.is_active(i) || r.source != SYSCALL_SOURCE {
                return false;
            }
            let opens = OPEN_EVENTS.iter().any(|&c| r.evttypes.contains(c));
            let mut uses = Vec::new();
            condition_field_uses(&r.expr, &mut uses);
            if let Some(t) = self.meta.get(i).and_then(|m| m.template.as_ref()) {
                uses.extend(t.field_refs().map(|(id, arg)| FieldUse {
                    name: id.name(),
                    arg: match arg {
                        Some(CodegenArg::Key(k)) => ResolvedArg::Key(k.clone()),
                        Some(CodegenArg::Index(n)) => ResolvedArg::Index(*n),
                        None => ResolvedArg::None,
                    },
                    flag_names_only: false,
                }));
            }
            uses.iter().any(|u| u.reads_open_file_props(opens))
        })
    }

    /// The counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// How many alerts rule `name` produced (0 for an unknown rule).
    pub fn count_of(&self, name: &str) -> u64 {
        self.meta
            .iter()
            .zip(&self.stats.by_rule)
            .filter(|(m, _)| &*m.name == name)
            .map(|(_, c)| *c)
            .sum()
    }

    /// The detection summary as Falco prints it at exit (`Events detected: N`, `Rule counts by
    /// severity:`, `Triggered rules by rule name:`), each line ending in a newline.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "Events detected: {}\nRule counts by severity:\n",
            self.stats.detected
        );
        for (p, n) in PRIORITIES.iter().zip(self.stats.by_priority) {
            if n > 0 {
                let name = match p {
                    Priority::Informational => "INFO".to_string(),
                    other => other.as_str().to_ascii_uppercase(),
                };
                out.push_str(&format!("   {name}: {n}\n"));
            }
        }
        out.push_str("Triggered rules by rule name:\n");
        for (m, n) in self.meta.iter().zip(&self.stats.by_rule) {
            if *n > 0 {
                out.push_str(&format!("   {}: {n}\n", m.name));
            }
        }
        out
    }
}

/// The engine minus its state, borrowed for one evaluation (so the extractor can borrow the state).
struct Parts<'a> {
    ruleset: &'a mut Ruleset,
    meta: &'a [RuleMeta],
    matching: RuleMatching,
    stats: &'a mut Stats,
    hits: &'a mut Vec<usize>,
}

impl Parts<'_> {
    fn run(
        &mut self,
        source: &str,
        evttype: u16,
        ts: u64,
        src: &mut dyn FieldRender,
        alerts: &mut Vec<Alert>,
    ) -> usize {
        self.stats.events += 1;
        self.hits.clear();
        self.ruleset
            .evaluate(source, evttype, self.matching, as_source(src), self.hits);
        for &i in self.hits.iter() {
            let (Some(meta), Some(rule)) = (self.meta.get(i), self.ruleset.rule(i)) else {
                continue;
            };
            let mut output = String::new();
            let mut output_fields = Vec::new();
            if let Some(t) = &meta.template {
                t.render(src, &mut output);
                output_fields = t.fields(src);
            }
            self.stats.detected += 1;
            if let Some(c) = self.stats.by_priority.get_mut(rule.priority as usize) {
                *c += 1;
            }
            if let Some(c) = self.stats.by_rule.get_mut(i) {
                *c += 1;
            }
            alerts.push(Alert {
                rule: meta.name.clone(),
                priority: rule.priority,
                source: meta.source.clone(),
                tags: meta.tags.clone(),
                time: ts,
                output,
                output_fields,
            });
        }
        self.hits.len()
    }
}

fn as_source(r: &mut dyn FieldRender) -> &mut dyn frule_codegen::abi::FieldSource {
    r
}

/// One field read by a rule, for [`Engine::reads_open_file_props`].
struct FieldUse {
    name: &'static str,
    arg: ResolvedArg,
    /// A `contains`/`icontains` test whose values name no file-derived flag.
    flag_names_only: bool,
}

impl FieldUse {
    fn reads_open_file_props(&self, in_open_rule: bool) -> bool {
        const FILE_FIELDS: &[&str] = &[
            "fd.dev",
            "fd.dev.major",
            "fd.dev.minor",
            "fd.ino",
            "fd.is_upper_layer",
            "fd.is_lower_layer",
            "evt.is_open_create",
        ];
        if FILE_FIELDS.contains(&self.name) {
            return true;
        }
        if !in_open_rule {
            return false;
        }
        match self.name {
            "evt.args" => true,
            "evt.arg" | "evt.rawarg" => match &self.arg {
                ResolvedArg::Key(k) => match k.as_str() {
                    "dev" | "ino" => true,
                    "flags" => !self.flag_names_only,
                    _ => false,
                },
                _ => true,
            },
            _ => false,
        }
    }
}

/// The fields a condition reads, on either side of its checks and inside transformers.
fn condition_field_uses(e: &Expr, out: &mut Vec<FieldUse>) {
    match &e.kind {
        ExprKind::And(v) | ExprKind::Or(v) => v.iter().for_each(|c| condition_field_uses(c, out)),
        ExprKind::Not(c) => condition_field_uses(c, out),
        ExprKind::Macro(_) => {}
        ExprKind::Check(c) => {
            let at = out.len();
            operand_field_uses(&c.lhs, out);
            if let (Operand::Field(_), Some(u)) = (&c.lhs, out.get_mut(at)) {
                u.flag_names_only = names_no_file_flag(c);
            }
            match &c.rhs {
                Some(RhsValue::Field(f, _)) | Some(RhsValue::ValWithArg(f, _, _)) => {
                    field_use(f, out)
                }
                Some(RhsValue::Transform(t)) => transform_field_uses(t, out),
                _ => {}
            }
        }
    }
}

/// Whether `c` is a `contains`/`icontains` test (any modifier) of literals none of which names
/// a flag the capture takes from the opened file (`O_F_CREATED`, the `FD_*_LAYER` bits).
fn names_no_file_flag(c: &Check) -> bool {
    if !matches!(c.op, CmpOp::Contains | CmpOp::IContains) {
        return false;
    }
    let file_flag = |l: &Literal| {
        let text = String::from_utf8_lossy(&l.bytes).to_ascii_uppercase();
        text.contains("O_F_") || text.contains("LAYER")
    };
    match &c.rhs {
        Some(RhsValue::Literal(l)) => !file_flag(l),
        Some(RhsValue::List(v, _)) => !v.iter().any(file_flag),
        _ => false,
    }
}

fn operand_field_uses(o: &Operand, out: &mut Vec<FieldUse>) {
    match o {
        Operand::Field(f) => field_use(f, out),
        Operand::Transform(t) => transform_field_uses(t, out),
    }
}

fn transform_field_uses(t: &Transform, out: &mut Vec<FieldUse>) {
    fn arg(a: &TransformArg, out: &mut Vec<FieldUse>) {
        match a {
            TransformArg::Operand(o) => operand_field_uses(o, out),
            TransformArg::List(v, _) => v.iter().for_each(|a| arg(a, out)),
            TransformArg::Literal(_) => {}
        }
    }
    t.args.iter().for_each(|a| arg(a, out));
}

fn field_use(f: &FieldRef, out: &mut Vec<FieldUse>) {
    if let Ok(r) = frule_lang::fields::resolve_without_hints(&f.name, f.arg.as_deref()) {
        out.push(FieldUse {
            name: r.id.name(),
            arg: r.arg,
            flag_names_only: false,
        });
    }
}
