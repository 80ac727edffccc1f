//! The ruleset: which loaded rules are active, and their compiled, event-type-indexed programs.
//!
//! Falco keeps one ruleset per event source and indexes the rules of each by the event types their
//! condition can match (`evttype_index_ruleset`), so that an event is only evaluated against the rules
//! that could fire on it. We do the same, one step further: all event types that select the *same*
//! list of rules share one compiled [`vm::Program`] holding exactly those rules, in load order. An
//! event then runs one program, and the rules in it share extracted fields and common
//! subexpressions.
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
//! Invariants: `compiled` is `None` whenever a selection changed since the last build (it is rebuilt
//! lazily); in a built ruleset every group's program rule `i` is `group.rules[i]`, and the rules of
//! a group are in load order, which is what makes `rule_matching: first` pick the earliest rule.

use std::collections::{BTreeSet, HashMap};

use frule_codegen::lower::Lowerer;
use frule_codegen::vm::{self, Machine};
use frule_codegen::{abi::FieldSource, verify};
use frule_lang::ast::Expr;
use frule_lang::events::EVENT_COUNT;
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
    /// The event codes its condition can match.
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

#[derive(Debug)]
struct Group {
    /// Global rule indices, in load order; program rule `i` is `rules[i]`.
    rules: Vec<usize>,
    program: vm::Program,
    machine: Machine,
}

#[derive(Debug)]
struct SourceTable {
    /// Per event code: the group to run, if any.
    dispatch: Vec<Option<u32>>,
    groups: Vec<Group>,
}

#[derive(Debug, Default)]
struct Compiled {
    sources: HashMap<String, SourceTable>,
    skipped: Vec<SkippedRule>,
}

/// The rules of one load, their selection and their compiled programs.
#[derive(Debug)]
pub struct Ruleset {
    rules: Vec<RuleEntry>,
    min_priority: Priority,
    compiled: Option<Compiled>,
    scratch: Vec<usize>,
}

impl Ruleset {
    /// A ruleset of the loader's rules (in its evaluation order), each enabled as its file says.
    /// Rules whose event types cannot be computed are kept but never fire (see [`Ruleset::skipped`]).
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

    /// Whether the rule at `index` will be evaluated: selected, severe enough, and compiled.
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

    /// Compiles the active rules now (otherwise done on the first event after a change).
    pub fn build(&mut self) {
        if self.compiled.is_none() {
            self.compiled = Some(self.compile());
        }
    }

    fn compile(&self) -> Compiled {
        let mut out = Compiled::default();
        let mut sources: Vec<&str> = self
            .rules
            .iter()
            .enumerate()
            .filter(|(i, _)| self.is_active(*i))
            .map(|(_, r)| r.source.as_str())
            .collect();
        sources.sort_unstable();
        sources.dedup();
        // Rules that fail to compile are found per group (a rule is in several); remember them so
        // each is reported once.
        let mut failed: BTreeSet<usize> = BTreeSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            if let Some(e) = &r.evttype_error
                && self.is_active(i)
            {
                failed.insert(i);
                out.skipped.push(SkippedRule {
                    rule: r.name.clone(),
                    reason: e.clone(),
                });
            }
        }
        for source in sources {
            let active: Vec<usize> = (0..self.rules.len())
                .filter(|&i| self.is_active(i) && self.rules[i].source == source)
                .collect();
            let mut dispatch = vec![None; EVENT_COUNT];
            let mut by_subset: HashMap<Vec<usize>, u32> = HashMap::new();
            let mut subsets: Vec<Vec<usize>> = Vec::new();
            for (code, slot) in dispatch.iter_mut().enumerate() {
                let Ok(code16) = u16::try_from(code) else {
                    break;
                };
                let subset: Vec<usize> = active
                    .iter()
                    .copied()
                    .filter(|&i| self.rules[i].evttypes.contains(code16))
                    .collect();
                if subset.is_empty() {
                    continue;
                }
                let g = *by_subset.entry(subset.clone()).or_insert_with(|| {
                    subsets.push(subset);
                    (subsets.len() - 1) as u32
                });
                *slot = Some(g);
            }
            let mut groups = Vec::with_capacity(subsets.len());
            for subset in subsets {
                let mut lowerer = Lowerer::new();
                let mut kept = Vec::with_capacity(subset.len());
                for i in subset {
                    let r = &self.rules[i];
                    match lowerer.add_rule(&r.name, &r.expr) {
                        Ok(_) => kept.push(i),
                        Err(errs) => {
                            if failed.insert(i) {
                                let reason = errs.first().map_or_else(
                                    || "cannot be lowered".into(),
                                    |e| e.message.clone(),
                                );
                                out.skipped.push(SkippedRule {
                                    rule: r.name.clone(),
                                    reason,
                                });
                            }
                        }
                    }
                }
                let ir = lowerer.finish();
                let program = match verify::verify(&ir)
                    .map_err(|e| e.to_string())
                    .and_then(|()| vm::Program::compile(&ir).map_err(|e| e.to_string()))
                {
                    Ok(p) => p,
                    Err(reason) => {
                        for &i in &kept {
                            if failed.insert(i) {
                                out.skipped.push(SkippedRule {
                                    rule: self.rules[i].name.clone(),
                                    reason: reason.clone(),
                                });
                            }
                        }
                        kept.clear();
                        // An empty program: nothing in this group can fire.
                        match vm::Program::compile(&frule_codegen::ir::Program::new()) {
                            Ok(p) => p,
                            Err(_) => continue,
                        }
                    }
                };
                let machine = program.machine();
                groups.push(Group {
                    rules: kept,
                    program,
                    machine,
                });
            }
            out.sources
                .insert(source.to_string(), SourceTable { dispatch, groups });
        }
        out
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
        let Some(table) = compiled.sources.get_mut(source) else {
            return;
        };
        let Some(Some(g)) = table.dispatch.get(usize::from(evttype)) else {
            return;
        };
        let Some(group) = table.groups.get_mut(*g as usize) else {
            return;
        };
        match matching {
            // Rules after the first match are not evaluated at all.
            RuleMatching::First => {
                if let Some(i) = group.program.first_match(&mut group.machine, src)
                    && let Some(&r) = group.rules.get(i)
                {
                    out.push(r);
                }
            }
            RuleMatching::All => {
                self.scratch.clear();
                group
                    .program
                    .matches(&mut group.machine, src, &mut self.scratch);
                out.extend(
                    self.scratch
                        .iter()
                        .filter_map(|&i| group.rules.get(i).copied()),
                );
            }
        }
    }

    /// The number of distinct compiled programs (for `--dry-run` style reports and tests).
    pub fn program_count(&mut self) -> usize {
        self.build();
        self.compiled
            .as_ref()
            .map_or(0, |c| c.sources.values().map(|t| t.groups.len()).sum())
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
