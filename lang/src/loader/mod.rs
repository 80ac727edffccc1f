//! The rules-file loader: rules files in, lists/macros/rules with resolved conditions and diagnostics out.
//!
//! ```text
//! bytes ──yaml──► node tree with spans ──reader──► collector (define/append/override/enable)
//!       ──compile──► lists (nested lists expanded) · macros (parsed, resolved) · rules (exceptions
//!                    expanded, lists substituted, parsed, macros inlined, checked, evttypes computed)
//! ```
//!
//! Behaviour follows Falco's engine (`rule_loader_reader.cpp`, `rule_loader_collector.cpp`,
//! `rule_loader_compiler.cpp`) message for message. Differences, all on the side of reporting more:
//!
//! - Falco stops reading a file at its first error and stops compiling at the first compile error. We skip
//!   only the failing item (or the failing rule/macro at compile time) and go on, so every independent
//!   problem in every file is reported in one run. Items that failed are remembered so that a later
//!   `append`/`override` of them does not produce a second, cascaded error.
//! - Falco compiles after each file and so reports compile problems under the file being loaded; we compile
//!   once after all files and report each problem under the file its primary location is in.
//! - Every diagnostic carries our exact location (also inside conditions, through block scalars, list
//!   substitution and exception expansion) in addition to Falco's location chain, plus the chain of macros
//!   the problem is inside.
//! - Messages are Falco's words. Advice our checker adds after `; ` (and our "did you mean" for macros and
//!   keys) goes to [`Diagnostic::help`] instead, so scripts matching Falco's messages keep working.
//!
//! Limits (each a located `LOAD_ERR_YAML_PARSE`, never a panic): inputs over [`yaml::MAX_INPUT_BYTES`],
//! YAML nesting deeper than [`yaml::MAX_DEPTH`], alias expansion beyond serde-saphyr's replay budget; invalid
//! UTF-8 and NUL bytes are reported at the offending byte.
//!
//! # Example
//!
//! ```
//! use frule_lang::loader::{RulesFile, load};
//!
//! let rules = "- macro: opened\n  condition: evt.type = open\n\
//!              - rule: open by cat\n  desc: d\n  condition: opened and proc.nmae = cat\n  output: o\n  priority: INFO\n";
//! let result = load(&[RulesFile::new("rules.yaml", rules)]);
//! assert!(!result.is_ok());
//! let d = &result.diagnostics[0];
//! assert_eq!(d.code.as_str(), "LOAD_ERR_COMPILE_CONDITION");
//! assert_eq!(d.message, "filter_check called with nonexistent field proc.nmae");
//! // the exact character in the file, 1-based
//! let at = d.primary.map(|p| result.source_map.line_col(p.file, p.start));
//! assert_eq!(at.map(|lc| lc.to_string()), Some("5:25".to_string()));
//! ```
//!
//! Plugins: we load none. `required_plugin_versions` entries are checked against the plugins built into
//! frule — only `container` (see [`BUILTIN_PLUGINS`]), whose `container.*` fields frule provides natively.
//! A requirement that no built-in plugin satisfies is an error, as it is for `falco -V` without that plugin.
//!
//! Event sources: only `syscall` is known; rules of other sources get Falco's `LOAD_UNKNOWN_SOURCE` warning
//! and are skipped.

pub mod compile;
pub mod context;
mod fastyaml;
pub mod reader;
pub mod yaml;

use std::collections::BTreeSet;
use std::fmt;

use crate::ast::Expr;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::source::{FileId, FileSpan, SourceMap};

/// The engine version we claim: Falco's engine version whose language we implement.
pub const ENGINE_VERSION: Version = Version {
    major: 0,
    minor: 63,
    patch: 0,
};

/// Plugins built into frule, with the version we satisfy requirements with.
pub const BUILTIN_PLUGINS: &[(&str, Version)] = &[(
    "container",
    Version {
        major: 0,
        minor: 6,
        patch: 0,
    },
)];

/// Event sources we know. Rules of other sources are skipped with a warning.
pub const KNOWN_SOURCES: &[&str] = &["syscall"];

/// A semantic version `major.minor.patch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
}

impl Version {
    /// Parses `x.y.z` (digits only).
    pub fn parse(s: &str) -> Option<Version> {
        let mut it = s.split('.');
        let mut num = || -> Option<u64> {
            let p = it.next()?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = Version {
            major: num()?,
            minor: num()?,
            patch: num()?,
        };
        if it.next().is_some() {
            return None;
        }
        Some(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Rule priorities, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// `emergency`
    Emergency,
    /// `alert`
    Alert,
    /// `critical`
    Critical,
    /// `error`
    Error,
    /// `warning`
    Warning,
    /// `notice`
    Notice,
    /// `informational` or `info`
    Informational,
    /// `debug`
    Debug,
}

impl Priority {
    /// Falco's `parse_priority`: case-insensitive, `info` accepted for informational.
    pub fn parse(s: &str) -> Option<Priority> {
        Some(match s.to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// As Falco prints it in alerts (`Warning`, `Informational`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rules file to load: a name for messages and its raw bytes (invalid UTF-8 is a diagnostic, not a
/// panic).
#[derive(Clone, Debug)]
pub struct RulesFile {
    /// Usually the path.
    pub name: String,
    /// The content.
    pub content: Vec<u8>,
}

impl RulesFile {
    /// A file from a name and content.
    pub fn new(name: impl Into<String>, content: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            content: content.into(),
        }
    }
}

/// A list after nested list references were expanded (one level, as Falco does).
#[derive(Clone, Debug)]
pub struct CompiledList {
    /// Name.
    pub name: String,
    /// Items.
    pub items: Vec<String>,
    /// Where its latest definition is.
    pub location: FileSpan,
}

/// A macro with its resolved condition.
#[derive(Clone, Debug)]
pub struct CompiledMacro {
    /// Name.
    pub name: String,
    /// The condition with the macros it uses inlined; `None` when it failed to parse or resolve.
    pub expr: Option<Expr>,
    /// Where its latest definition is.
    pub location: FileSpan,
}

/// A rule ready for lowering.
#[derive(Clone, Debug)]
pub struct CompiledRule {
    /// Name.
    pub name: String,
    /// The condition text that was parsed (after exception expansion; before list substitution).
    pub condition: String,
    /// The condition with lists substituted and macros inlined. Spans are global offsets: resolve them with
    /// [`SourceMap::resolve`].
    pub expr: Expr,
    /// The output format (trimmed, `%container.info` removed).
    pub output: String,
    /// Description.
    pub desc: String,
    /// Priority.
    pub priority: Priority,
    /// Event source.
    pub source: String,
    /// Tags.
    pub tags: BTreeSet<String>,
    /// Whether the rule is enabled.
    pub enabled: bool,
    /// `warn_evttypes`.
    pub warn_evttypes: bool,
    /// `skip-if-unknown-filter`.
    pub skip_if_unknown_filter: bool,
    /// `capture`.
    pub capture: bool,
    /// `capture_duration`.
    pub capture_duration: u64,
    /// The rule item's location.
    pub location: FileSpan,
    /// The condition scalar's location.
    pub condition_location: FileSpan,
}

/// Everything a load produced.
#[derive(Debug)]
pub struct LoadResult {
    /// Files and parsed texts; resolves every span in here.
    pub source_map: SourceMap,
    /// Lists in first-definition order.
    pub lists: Vec<CompiledList>,
    /// Macros in first-definition order.
    pub macros: Vec<CompiledMacro>,
    /// Rules in Falco's evaluation order (first-definition order). Rules that failed are absent.
    pub rules: Vec<CompiledRule>,
    /// Every error and warning, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// The highest `required_engine_version` of the files.
    pub required_engine_version: Option<Version>,
}

impl LoadResult {
    /// True when there is no error.
    pub fn is_ok(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics reported under `file`.
    pub fn diagnostics_for(&self, file: FileId) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(move |d| d.file.unwrap_or(FileId(0)) == file)
    }

    /// True when no error is reported under `file`.
    pub fn file_ok(&self, file: FileId) -> bool {
        !self
            .diagnostics_for(file)
            .any(|d| d.severity == Severity::Error)
    }
}

/// Loads rules files in order into one ruleset (later files may append to / override earlier ones).
pub fn load(files: &[RulesFile]) -> LoadResult {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    load_on(files, cores)
}

/// [`load`], parsing the files' YAML on up to `cores` threads.
fn load_on(files: &[RulesFile], cores: usize) -> LoadResult {
    let mut sm = SourceMap::new();
    let mut diags = Vec::new();
    let mut col = reader::Collector::default();
    let mut parsed = parse_yaml(files, cores).into_iter();
    for f in files {
        let pre = parsed.next().flatten();
        let (text, bad) = match std::str::from_utf8(&f.content) {
            Ok(s) => (s.to_string(), None),
            Err(e) => (
                String::from_utf8_lossy(&f.content).into_owned(),
                Some(e.valid_up_to()),
            ),
        };
        let id = sm.add_file(f.name.clone(), text);
        let root = context::Ctx::root(id, &f.name);
        if let Some(at) = bad {
            let lc = sm.line_col(id, at as u32);
            let ctx = root.child_at("value for", lc.line - 1, lc.col - 1, at as u32);
            diags.push(ctx.diag(
                Code::YamlParse,
                "invalid UTF-8 byte sequence in rules content",
            ));
            continue;
        }
        if let Some(nul) = f.content.iter().position(|&b| b == 0) {
            let lc = sm.line_col(id, nul as u32);
            let ctx = root.child_at("value for", lc.line - 1, lc.col - 1, nul as u32);
            diags.push(ctx.diag(Code::YamlParse, "NUL byte in rules content"));
            continue;
        }
        let src = sm.file(id).map(|f| f.text.clone()).unwrap_or_default();
        let mut r = reader::Reader {
            col: &mut col,
            diags: &mut diags,
            src: &src,
            file: id,
            sources: KNOWN_SOURCES,
        };
        match pre {
            Some(docs) => r.read_parsed(&f.name, docs),
            None => r.read(&f.name),
        }
    }
    check_plugin_requirements(&col, &mut diags);
    let compiled = compile::compile(&col, &mut sm, &mut diags);
    // A problem is reported under the file its exact location is in (e.g. the file of an `append` whose text
    // does not parse), which is also the file Falco would be loading when it found it.
    for d in &mut diags {
        if let Some(p) = d.primary {
            d.file = Some(p.file);
        }
    }
    LoadResult {
        source_map: sm,
        lists: compiled.lists,
        macros: compiled.macros,
        rules: compiled.rules,
        diagnostics: diags,
        required_engine_version: col.required_engine_version,
    }
}

/// Below this many bytes of rules in all, the files' YAML is parsed on the calling thread, in
/// [`load`]'s loop: a thread's start costs more than parsing a small file.
const PARALLEL_YAML_BYTES: usize = 64 * 1024;

/// The YAML of the files that will be read (valid UTF-8 without NUL bytes), parsed before
/// [`load`]'s loop when there are several large files and `cores` is more than one: each file on a
/// thread of its own, the largest on the calling thread. `None` for a file left to the loop (also
/// for all of them when parsing in parallel does not pay). Parsing is a pure function of the text,
/// and [`load`] consumes the results in file order exactly where it would have parsed, so the
/// result, diagnostics included, is the same either way.
fn parse_yaml(
    files: &[RulesFile],
    cores: usize,
) -> Vec<Option<Result<Vec<yaml::Node>, yaml::YamlError>>> {
    let mut out: Vec<Option<Result<Vec<yaml::Node>, yaml::YamlError>>> =
        files.iter().map(|_| None).collect();
    let texts: Vec<(usize, &str)> = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let s = std::str::from_utf8(&f.content).ok()?;
            (!f.content.contains(&0)).then_some((i, s))
        })
        .collect();
    let total: usize = texts.iter().map(|(_, s)| s.len()).sum();
    if texts.len() < 2 || total < PARALLEL_YAML_BYTES || cores < 2 {
        return out;
    }
    // The largest file on this thread; the others on at most `cores - 1` helpers, each a share
    // of about equal size (files in decreasing size, each to the lightest share).
    let mut order = texts;
    order.sort_by_key(|(_, s)| std::cmp::Reverse(s.len()));
    let Some((&(first, first_text), rest)) = order.split_first() else {
        return out;
    };
    let mut shares: Vec<(usize, Vec<(usize, &str)>)> = (0..(cores - 1).min(rest.len()))
        .map(|_| (0, Vec::new()))
        .collect();
    for &(i, s) in rest {
        if let Some(share) = shares.iter_mut().min_by_key(|(bytes, _)| *bytes) {
            share.0 += s.len();
            share.1.push((i, s));
        }
    }
    std::thread::scope(|scope| {
        let helpers: Vec<_> = shares
            .into_iter()
            // A thread the OS refuses (a thread limit) is skipped like one that panicked: its
            // files are parsed by the loop.
            .filter_map(|(_, share)| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || {
                        share
                            .into_iter()
                            .map(|(i, s)| (i, yaml::parse(s)))
                            .collect::<Vec<_>>()
                    })
                    .ok()
            })
            .collect();
        if let Some(slot) = out.get_mut(first) {
            *slot = Some(yaml::parse(first_text));
        }
        for h in helpers {
            // A helper that panicked leaves its files to the loop (which parses them again).
            if let Ok(done) = h.join() {
                for (i, r) in done {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = Some(r);
                    }
                }
            }
        }
    });
    out
}

fn check_plugin_requirements(col: &reader::Collector, diags: &mut Vec<Diagnostic>) {
    for req in &col.required_plugin_versions {
        let satisfied = req.alternatives.iter().any(|(name, v)| {
            let Some(required) = Version::parse(v) else {
                return false;
            };
            BUILTIN_PLUGINS
                .iter()
                .any(|(n, have)| n == name && have.major == required.major && *have >= required)
        });
        if !satisfied {
            let list = req
                .alternatives
                .iter()
                .map(|(n, v)| format!("{n} (>= {v})"))
                .collect::<Vec<_>>()
                .join(", ");
            diags.push(req.ctx.diag(
                Code::Validate,
                format!("Plugin requirement not satisfied, must load one of: {list}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large files with YAML errors, invalid UTF-8 and NUL bytes among good ones: parsing the
    /// YAML on several threads gives the same result, diagnostics and their order included, as
    /// on one.
    #[test]
    fn parallel_yaml_parse_changes_nothing() {
        let big = |name: &str, extra: &str| {
            let mut text = String::new();
            for i in 0..600 {
                text.push_str(&format!(
                    "- macro: {name}_m{i}\n  condition: proc.name = {name}{i}\n\n"
                ));
            }
            text.push_str(extra);
            RulesFile::new(name.to_string(), text.into_bytes())
        };
        let files = vec![
            big(
                "a",
                "- rule: r\n  desc: d\n  condition: a_m1 and\n  output: o\n  priority: INFO\n",
            ),
            big("b", "- macro: [\n"),
            RulesFile::new("c".to_string(), b"- list: l\n  items: [\xff]\n".to_vec()),
            big(
                "d",
                "- list: x\n  items: [a, b]\n- rule: s\n  desc: d\n  condition: d_m3 and proc.name in (x)\n  output: o\n  priority: INFO\n",
            ),
            RulesFile::new("e".to_string(), b"- list: z\n  items: [\0]\n".to_vec()),
            big("f", ""),
        ];
        let total: usize = files.iter().map(|f| f.content.len()).sum();
        assert!(
            total >= PARALLEL_YAML_BYTES,
            "{total} bytes: the parallel path runs"
        );
        let one = format!("{:?}", load_on(&files, 1));
        for cores in [2, 3, 8] {
            assert_eq!(
                format!("{:?}", load_on(&files, cores)),
                one,
                "{cores} cores"
            );
        }
        assert!(
            one.contains("YamlParse"),
            "a YAML error is among the diagnostics"
        );
    }
}
