//! The engine: loaded rules → compiled, indexed ruleset → alerts, with Falco's counters.
//!
//! ```text
//! LoadResult ──Engine::new──► Ruleset (selection, priority threshold, programs per event-type group)
//!                              │
//! event (evttype, ts, fields) ─┴─process──► matching rules ──render output──► Alert ──► output::Outputs
//! ```
//!
//! The engine never reads events itself: it evaluates through a [`FieldRender`] (the runtime's
//! extractor over an event and its state, or a [`frule_codegen::abi::MapEvent`] in tests), so the same
//! engine serves replay, live capture and `frulec test`.
//!
//! Counters follow Falco's `stats_manager`: events detected, per priority, per rule; [`Engine::summary`]
//! prints them as Falco does at exit.

pub mod ruleset;

use std::sync::Arc;

use frule_lang::loader::{LoadResult, Priority};

pub use ruleset::{RuleEntry, RuleMatching, Ruleset, SkippedRule, wildcard_match};

use crate::output::{Alert, FieldRender, OutputTemplate};

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
}

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
        Engine {
            ruleset: Ruleset::new(&load.rules),
            meta,
            matching: RuleMatching::First,
            stats: Stats {
                by_rule: vec![0; n],
                ..Stats::default()
            },
            hits: Vec::new(),
        }
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
        self.stats.events += 1;
        self.hits.clear();
        let mut hits = std::mem::take(&mut self.hits);
        {
            let fs: &mut dyn FieldRender = src;
            self.ruleset
                .evaluate(source, evttype, self.matching, as_source(fs), &mut hits);
        }
        for &i in &hits {
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
        let n = hits.len();
        self.hits = hits;
        n
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

fn as_source(r: &mut dyn FieldRender) -> &mut dyn frule_codegen::abi::FieldSource {
    r
}
