//! Reading rules files: YAML documents → items → the collector (define / append / override / enable).
//!
//! This follows Falco's `rule_loader_reader.cpp` and `rule_loader_collector.cpp` key by key, in the same order,
//! so that the *first* problem Falco reports for an item is also the one we report, with the same message.
//!
//! One deliberate difference: Falco stops reading a file at its first error. We stop reading only the item
//! that failed and continue with the next item (a YAML syntax error still ends the file, since nothing after
//! it can be trusted). To avoid cascades, an item that failed is remembered by kind and name, and a later
//! `append`/`override`/`enabled` for that name does not report "no … by that name already exists".

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, FileSpan, MappedText};

use super::context::Ctx;
use super::yaml::{self, Kind, Node};
use super::{ENGINE_VERSION, Priority, Version};

/// A decoded scalar: its text and the map of its bytes to the file.
#[derive(Clone, Debug)]
pub struct Scalar {
    /// The text.
    pub text: MappedText,
    /// The node's span.
    pub span: FileSpan,
}

impl Scalar {
    /// The text as a string.
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }
}

/// A field, comp or value of an exception: a scalar or a (possibly nested) list.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    /// True when written as a YAML sequence.
    pub is_list: bool,
    /// The scalar (when not a list).
    pub item: Option<Scalar>,
    /// The elements (when a list).
    pub items: Vec<Entry>,
    /// Where it is.
    pub span: Option<FileSpan>,
}

impl Entry {
    /// Falco's `is_valid`: a non-empty list or a non-empty scalar.
    pub fn is_valid(&self) -> bool {
        if self.is_list {
            !self.items.is_empty()
        } else {
            self.item.as_ref().is_some_and(|s| !s.as_str().is_empty())
        }
    }

    /// The scalar text ("" when absent).
    pub fn text(&self) -> &str {
        self.item.as_ref().map_or("", Scalar::as_str)
    }
}

/// One `exceptions` entry.
#[derive(Clone, Debug)]
pub struct ExceptionInfo {
    /// Its name.
    pub name: String,
    /// `fields`.
    pub fields: Entry,
    /// `comps`.
    pub comps: Entry,
    /// `values`.
    pub values: Vec<Entry>,
    /// Location chain of the exception.
    pub ctx: Ctx,
}

/// A list as collected.
#[derive(Clone, Debug)]
pub struct ListInfo {
    /// Name.
    pub name: String,
    /// Raw items (after appends).
    pub items: Vec<Scalar>,
    /// Position of the first definition.
    pub index: u32,
    /// Id of the latest define/append.
    pub visibility: u32,
    /// Context of the latest definition.
    pub ctx: Ctx,
}

/// A macro as collected.
#[derive(Clone, Debug)]
pub struct MacroInfo {
    /// Name.
    pub name: String,
    /// Condition text after appends.
    pub cond: MappedText,
    /// Context of the condition scalar.
    pub cond_ctx: Ctx,
    /// Position of the first definition.
    pub index: u32,
    /// Id of the latest define/append.
    pub visibility: u32,
    /// Context of the latest definition.
    pub ctx: Ctx,
}

/// A rule as collected.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    /// Name.
    pub name: String,
    /// Condition text after appends.
    pub cond: MappedText,
    /// Context of the condition scalar.
    pub cond_ctx: Ctx,
    /// Output (trimmed).
    pub output: MappedText,
    /// Context of the output scalar.
    pub output_ctx: Ctx,
    /// Description.
    pub desc: String,
    /// Priority.
    pub priority: Priority,
    /// Event source.
    pub source: String,
    /// Tags.
    pub tags: BTreeSet<String>,
    /// Exceptions in definition order.
    pub exceptions: Vec<ExceptionInfo>,
    /// `enabled`.
    pub enabled: bool,
    /// `capture`.
    pub capture: bool,
    /// `capture_duration`.
    pub capture_duration: u64,
    /// `warn_evttypes`.
    pub warn_evttypes: bool,
    /// `skip-if-unknown-filter`.
    pub skip_if_unknown_filter: bool,
    /// True when `source` is not a known source (the rule is skipped).
    pub unknown_source: bool,
    /// Position of the first definition.
    pub index: u32,
    /// Id of the latest define/append/replace.
    pub visibility: u32,
    /// Context of the latest definition.
    pub ctx: Ctx,
}

/// Items by name in first-definition order (Falco's `indexed_vector`).
#[derive(Clone, Debug)]
pub struct Indexed<T> {
    items: Vec<T>,
    by_name: HashMap<String, usize, crate::fxhash::FxBuild>,
}

impl<T> Default for Indexed<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            by_name: HashMap::default(),
        }
    }
}

impl<T> Indexed<T> {
    /// The item called `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.by_name.get(name).and_then(|&i| self.items.get(i))
    }
    fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        let i = *self.by_name.get(name)?;
        self.items.get_mut(i)
    }
    /// Inserts or replaces in place.
    fn define(&mut self, name: &str, item: T) {
        if let Some(slot) = self.get_mut(name) {
            *slot = item;
        } else {
            self.by_name.insert(name.to_string(), self.items.len());
            self.items.push(item);
        }
    }
    /// All items in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }
    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A plugin version requirement (one `required_plugin_versions` entry with its alternatives).
#[derive(Clone, Debug)]
pub struct PluginRequirement {
    /// `(name, version)` of the entry and its alternatives.
    pub alternatives: Vec<(String, String)>,
    /// Context of the entry.
    pub ctx: Ctx,
}

/// Everything read so far, across files.
#[derive(Debug, Default)]
pub struct Collector {
    /// Lists.
    pub lists: Indexed<ListInfo>,
    /// Macros.
    pub macros: Indexed<MacroInfo>,
    /// Rules.
    pub rules: Indexed<RuleInfo>,
    /// The highest `required_engine_version` seen.
    pub required_engine_version: Option<Version>,
    /// `required_plugin_versions` entries.
    pub required_plugin_versions: Vec<PluginRequirement>,
    cur_index: u32,
    failed: HashSet<(&'static str, String), crate::fxhash::FxBuild>,
}

type R<T> = Result<T, Box<Diagnostic>>;

fn fail<T>(ctx: &Ctx, code: Code, msg: impl Into<String>) -> R<T> {
    Err(Box::new(ctx.diag(code, msg)))
}

const WARNING_APPEND: &str = "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const WARNING_ENABLED: &str = "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').";
const ERROR_OVERRIDE_APPEND: &str = "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const ERROR_NO_PREVIOUS_MACRO: &str =
    "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists";
const ERROR_NO_PREVIOUS_LIST: &str =
    "List uses 'append' or 'override.items: append' but no list by that name already exists";
const ERROR_NO_PREVIOUS_RULE_APPEND: &str =
    "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists";
const ERROR_NO_PREVIOUS_RULE_REPLACE: &str =
    "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists";

/// Falco's `RGX_IDENTIFIER`, `([a-zA-Z]+[a-zA-Z0-9_]*)`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Falco's `RGX_BARESTR`, `([^()"'[:space:]=,]+)`.
pub fn is_barestr(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            !matches!(c, '(' | ')' | '"' | '\'' | '=' | ',')
                && !matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
        })
}

/// yaml-cpp's boolean decoding.
fn decode_bool(s: &str) -> Option<bool> {
    const T: [&str; 4] = ["y", "yes", "true", "on"];
    const F: [&str; 4] = ["n", "no", "false", "off"];
    let variants = |w: &str| -> [String; 3] {
        let mut cap = w.to_string();
        if let Some(f) = cap.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        [w.to_string(), w.to_ascii_uppercase(), cap]
    };
    if T.iter().any(|w| variants(w).iter().any(|v| v == s)) {
        Some(true)
    } else if F.iter().any(|w| variants(w).iter().any(|v| v == s)) {
        Some(false)
    } else {
        None
    }
}

fn decode_u64(s: &str) -> Option<u64> {
    let t = s.strip_prefix('+').unwrap_or(s);
    if let Some(h) = t.strip_prefix("0x") {
        return u64::from_str_radix(h, 16).ok();
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// One file being read.
pub struct Reader<'a> {
    /// The collector.
    pub col: &'a mut Collector,
    /// Diagnostics found.
    pub diags: &'a mut Vec<Diagnostic>,
    /// The file's text.
    pub src: &'a str,
    /// The file id.
    pub file: FileId,
    /// Known event sources.
    pub sources: &'a [&'a str],
}

impl Reader<'_> {
    fn warn(&mut self, ctx: &Ctx, code: Code, msg: impl Into<String>) {
        self.diags.push(ctx.diag(code, msg));
    }

    fn scalar(&self, node: &Node) -> Scalar {
        Scalar {
            text: yaml::scalar_text(self.src, self.file, node),
            span: node.span(self.file),
        }
    }

    /// `decode_val` for a string: required/optional, empty allowed or not.
    fn val<'n>(
        &self,
        item: &'n Node,
        key: &str,
        ctx: &Ctx,
        optional: bool,
        can_be_empty: bool,
    ) -> R<Option<&'n Node>> {
        let Some(val) = item.get(key) else {
            if optional {
                return Ok(None);
            }
            return fail(
                ctx,
                Code::YamlValidate,
                format!("Item has no mapping for key '{key}'"),
            );
        };
        if val.is_null() {
            if optional && can_be_empty {
                return Ok(None);
            }
            // Falco's chain stops at the item; our exact location is the empty value.
            let d = ctx
                .diag(
                    Code::YamlValidate,
                    format!("Mapping for key '{key}' is empty"),
                )
                .at(val.span(self.file));
            return Err(Box::new(d));
        }
        let valctx = ctx.child(val, "value for", key);
        match &val.kind {
            Kind::Scalar(s) => {
                if s.is_empty() && !can_be_empty {
                    return fail(&valctx, Code::YamlValidate, "Value must be non-empty");
                }
                Ok(Some(val))
            }
            _ => fail(&valctx, Code::YamlValidate, "Value is not a scalar value"),
        }
    }

    fn string(&self, item: &Node, key: &str, ctx: &Ctx) -> R<Scalar> {
        let node = self.val(item, key, ctx, false, false)?;
        match node {
            Some(n) => Ok(self.scalar(n)),
            None => fail(
                ctx,
                Code::YamlValidate,
                format!("Item has no mapping for key '{key}'"),
            ),
        }
    }

    fn opt_string(
        &self,
        item: &Node,
        key: &str,
        ctx: &Ctx,
        can_be_empty: bool,
    ) -> R<Option<Scalar>> {
        Ok(self
            .val(item, key, ctx, true, can_be_empty)?
            .map(|n| self.scalar(n)))
    }

    fn typed<T>(
        &self,
        item: &Node,
        key: &str,
        ctx: &Ctx,
        optional: bool,
        decode: impl Fn(&str) -> Option<T>,
    ) -> R<Option<T>> {
        let Some(node) = self.val(item, key, ctx, optional, false)? else {
            return Ok(None);
        };
        let text = node.as_scalar().unwrap_or("");
        match decode(text) {
            Some(v) => Ok(Some(v)),
            None => fail(
                &ctx.child(node, "value for", key),
                Code::YamlValidate,
                "Can't decode YAML scalar value",
            ),
        }
    }

    fn bool_val(&self, item: &Node, key: &str, ctx: &Ctx, optional: bool) -> R<Option<bool>> {
        self.typed(item, key, ctx, optional, decode_bool)
    }

    /// `decode_seq` for `items` and `tags`.
    fn seq(&self, item: &Node, key: &str, ctx: &Ctx, optional: bool) -> R<Option<Vec<Scalar>>> {
        let Some(val) = item.get(key) else {
            if optional {
                return Ok(None);
            }
            return fail(
                ctx,
                Code::YamlValidate,
                format!("Item has no mapping for key '{key}'"),
            );
        };
        let valctx = ctx.child(val, "value for", key);
        let Kind::Seq(elems) = &val.kind else {
            return fail(&valctx, Code::YamlValidate, "Value is not a sequence");
        };
        let mut out = Vec::new();
        for e in elems {
            let ictx = valctx.child(e, "list item", "");
            match &e.kind {
                Kind::Scalar(_) => out.push(self.scalar(e)),
                _ => return fail(&ictx, Code::YamlValidate, "sequence value is not scalar"),
            }
        }
        Ok(Some(out))
    }

    /// Reads one file's content.
    pub fn read(&mut self, name: &str) {
        self.read_parsed(name, yaml::parse(self.src));
    }

    /// [`Reader::read`] of a file whose YAML was already parsed (`parsed` is `yaml::parse` of
    /// `self.src`), so that the loader can parse several files at once.
    pub fn read_parsed(&mut self, name: &str, parsed: Result<Vec<yaml::Node>, yaml::YamlError>) {
        let root = Ctx::root(self.file, name);
        let docs = match parsed {
            Ok(d) => d,
            Err(e) => {
                let (l, c) = e.line_col0.unwrap_or((0, 0));
                let offset = e
                    .offset
                    .unwrap_or_else(|| line_col_to_offset(self.src, l, c));
                let ctx = root.child_at("value for", l, c, offset);
                let msg = if e.message.is_empty() {
                    "unknown YAML parsing error".to_string()
                } else {
                    e.message
                };
                self.diags.push(ctx.diag(Code::YamlParse, msg));
                return;
            }
        };
        for doc in &docs {
            match &doc.kind {
                Kind::Null => {}
                Kind::Scalar(_) => {
                    self.diags
                        .push(root.diag(Code::YamlValidate, "Rules content is not yaml"));
                    return;
                }
                Kind::Map(_) => {
                    self.diags.push(
                        root.diag(
                            Code::YamlValidate,
                            "Rules content is not yaml array of objects",
                        )
                        .at(doc.span(self.file))
                        .with_help("a rules file is a sequence of items, each starting with `- ` (`- rule: ...`, `- macro: ...`, `- list: ...`)"),
                    );
                    return;
                }
                Kind::Seq(items) => {
                    for item in items {
                        if item.is_null() {
                            continue;
                        }
                        if let Err(d) = self.read_item(item, &root) {
                            self.diags.push(*d);
                        }
                    }
                }
            }
        }
    }

    fn unknown_keys(&mut self, item: &Node, expected: &[&str], ctx: &Ctx) {
        if let Kind::Map(entries) = &item.kind {
            for (k, _) in entries {
                let key = k.as_scalar().unwrap_or("");
                if !expected.contains(&key) {
                    let d = ctx
                        .diag(
                            Code::UnknownKey,
                            format!("Unknown key '{key}'. The key will be ignored."),
                        )
                        .at(k.span(self.file));
                    let d = match suggest_key(key, expected) {
                        Some(s) => d.with_help(format!("did you mean '{s}'?")),
                        None => d,
                    };
                    self.diags.push(d);
                }
            }
        }
    }

    fn read_item(&mut self, item: &Node, parent: &Ctx) -> R<()> {
        {
            let tmp = parent.child(item, "rules content item", "");
            if !matches!(item.kind, Kind::Map(_)) {
                return fail(
                    &tmp,
                    Code::YamlValidate,
                    "Unexpected element type. Each element should be a yaml associative array.",
                );
            }
        }
        if item.get("required_engine_version").is_some() {
            self.read_engine_version(item, parent)
        } else if item.get("required_plugin_versions").is_some() {
            self.read_plugin_versions(item, parent)
        } else if item.get("list").is_some() {
            self.read_named(item, parent, "list", Self::read_list_inner)
        } else if item.get("macro").is_some() {
            self.read_named(item, parent, "macro", Self::read_macro_inner)
        } else if item.get("rule").is_some() {
            self.read_named(item, parent, "rule", Self::read_rule_inner)
        } else {
            let ctx = parent.child(item, "rules content item", "");
            self.warn(&ctx, Code::UnknownItem, "Unknown top level item");
            Ok(())
        }
    }

    fn read_engine_version(&mut self, item: &Node, parent: &Ctx) -> R<()> {
        let ctx = parent.child(item, "required_engine_version", "");
        let node = self
            .val(item, "required_engine_version", &ctx, false, false)?
            .and_then(Node::as_scalar)
            .unwrap_or("");
        let version = match node.parse::<u32>() {
            Ok(n) => Version {
                major: 0,
                minor: u64::from(n),
                patch: 0,
            },
            Err(_) => match Version::parse(node) {
                Some(v) => v,
                None => {
                    return fail(
                        &ctx,
                        Code::YamlValidate,
                        format!(
                            "Unable to parse engine version '{node}' as a semver string. Expected \"x.y.z\" semver format."
                        ),
                    );
                }
            },
        };
        if !(ENGINE_VERSION.major == version.major && ENGINE_VERSION >= version) {
            return fail(
                &ctx,
                Code::Validate,
                format!(
                    "Rules require engine version {version}, but engine version is {ENGINE_VERSION}"
                ),
            );
        }
        if self.col.required_engine_version.is_none_or(|v| v < version) {
            self.col.required_engine_version = Some(version);
        }
        self.unknown_keys(item, &["required_engine_version"], &ctx);
        Ok(())
    }

    fn read_plugin_versions(&mut self, item: &Node, parent: &Ctx) -> R<()> {
        let Some(reqs) = item.get("required_plugin_versions") else {
            return Ok(());
        };
        let ctx = parent.child(reqs, "required plugin versions", "");
        let Kind::Seq(entries) = &reqs.kind else {
            return fail(
                &ctx,
                Code::YamlValidate,
                "Value of required_plugin_versions must be a sequence",
            );
        };
        for plugin in entries {
            let tmp = ctx.child(plugin, "required plugin versions entry", "");
            if !matches!(plugin.kind, Kind::Map(_)) {
                return fail(&tmp, Code::YamlValidate, "Plugin version must be a mapping");
            }
            let name = self.string(plugin, "name", &tmp)?.as_str().to_string();
            let pctx = ctx.child(plugin, "required plugin versions entry", &name);
            let version = self.string(plugin, "version", &pctx)?.as_str().to_string();
            let mut alternatives = vec![(name, version)];
            if let Some(alts) = plugin.get("alternatives") {
                let Kind::Seq(alts) = &alts.kind else {
                    return fail(
                        &pctx,
                        Code::YamlValidate,
                        "Value of plugin version alternatives must be a sequence",
                    );
                };
                for req in alts {
                    let tmp = pctx.child(req, "required plugin versions alternative", "");
                    if !matches!(req.kind, Kind::Map(_)) {
                        return fail(
                            &tmp,
                            Code::YamlValidate,
                            "Plugin version alternative must be a mapping",
                        );
                    }
                    let n = self.string(req, "name", &tmp)?.as_str().to_string();
                    let tmp = pctx.child(req, "required plugin versions alternative", &n);
                    let v = self.string(req, "version", &tmp)?.as_str().to_string();
                    alternatives.push((n, v));
                }
            }
            let mut seen = HashSet::new();
            for (n, v) in &alternatives {
                if Version::parse(v).is_none() {
                    return fail(
                        &pctx,
                        Code::Validate,
                        format!("Invalid required version '{v}' for plugin '{n}'"),
                    );
                }
                if !seen.insert(n.clone()) {
                    return fail(
                        &pctx,
                        Code::Validate,
                        format!(
                            "Defined multiple alternative version requirements for plugin '{n}'"
                        ),
                    );
                }
            }
            self.col.required_plugin_versions.push(PluginRequirement {
                alternatives,
                ctx: pctx,
            });
        }
        let rpv = parent.child(item, "required plugin versions", "");
        self.unknown_keys(item, &["required_plugin_versions"], &rpv);
        Ok(())
    }

    /// `decode_overrides`: returns (append keys, replace keys).
    fn overrides(
        &self,
        item: &Node,
        can_append: &[&str],
        can_replace: &[&str],
        ctx: &Ctx,
    ) -> R<(Vec<String>, Vec<String>)> {
        let mut app = Vec::new();
        let mut rep = Vec::new();
        let Some(val) = item.get("override") else {
            return Ok((app, rep));
        };
        let octx = ctx.child(item, "overrides", "");
        let Kind::Map(entries) = &val.kind else {
            if val.is_null() {
                return Ok((app, rep));
            }
            return fail(
                &octx.child(val, "overrides", ""),
                Code::YamlValidate,
                "Value is not a map",
            );
        };
        for (k, v) in entries {
            let key = k.as_scalar().unwrap_or("").to_string();
            let op = v.as_scalar().unwrap_or("");
            let ca = can_append.contains(&key.as_str());
            let cr = can_replace.contains(&key.as_str());
            let keyctx = octx.child(k, "overrides", &key);
            match op {
                "append" => {
                    if !ca {
                        return fail(
                            &keyctx,
                            Code::Validate,
                            format!("Key '{key}' cannot be appended to, use 'replace' instead"),
                        );
                    }
                    app.push(key);
                }
                "replace" => {
                    if !cr {
                        return fail(
                            &keyctx,
                            Code::Validate,
                            format!("Key '{key}' cannot be replaced"),
                        );
                    }
                    rep.push(key);
                }
                _ => {
                    let mut msg = format!(
                        "Invalid override operation for key '{key}': '{op}'. Allowed values are: "
                    );
                    if ca {
                        msg.push_str("append ");
                    }
                    if cr {
                        msg.push_str("replace ");
                    }
                    return fail(&octx.child(v, "value for", &key), Code::Validate, msg);
                }
            }
        }
        Ok((app, rep))
    }

    /// Reads a named item (`list`, `macro` or `rule`): its name first, so that every diagnostic of the item
    /// carries it, then the rest with `inner`; an item that fails is remembered so that later references to
    /// it do not cascade into more errors.
    fn read_named(
        &mut self,
        item: &Node,
        parent: &Ctx,
        kind: &'static str,
        inner: fn(&mut Self, &Node, &str, &Ctx) -> R<()>,
    ) -> R<()> {
        let tmp = parent.child(item, kind, "");
        let name = self.string(item, kind, &tmp)?.as_str().to_string();
        let ctx = parent.child(item, kind, &name);
        let result = inner(self, item, &name, &ctx);
        if result.is_err() {
            self.col.failed.insert((kind, name));
        }
        result
    }

    fn read_list_inner(&mut self, item: &Node, name: &str, ctx: &Ctx) -> R<()> {
        if !is_barestr(name) {
            self.warn(
                ctx,
                Code::InvalidListName,
                "List has an invalid name. List names should match a regular expression: ([^()\"'[:space:]=,]+)",
            );
        }
        let items = self.seq(item, "items", ctx, false)?.unwrap_or_default();
        let mut append = self.bool_val(item, "append", ctx, true)?.unwrap_or(false);
        if append {
            self.warn(ctx, Code::DeprecatedItem, WARNING_APPEND);
        }
        let (oa, or) = self.overrides(item, &["items"], &["items"], ctx)?;
        if append && !(oa.is_empty() && or.is_empty()) {
            return fail(ctx, Code::Validate, ERROR_OVERRIDE_APPEND);
        }
        append |= oa.iter().any(|k| k == "items");
        let id = self.col.cur_index;
        self.col.cur_index += 1;
        if append {
            match self.col.lists.get_mut(name) {
                Some(prev) => {
                    prev.items.extend(items);
                    prev.visibility = id;
                }
                None => {
                    if !self.col.failed.contains(&("list", name.to_string())) {
                        return fail(ctx, Code::Validate, ERROR_NO_PREVIOUS_LIST);
                    }
                }
            }
        } else {
            let index = self.col.lists.get(name).map_or(id, |p| p.index);
            self.col.lists.define(
                name,
                ListInfo {
                    name: name.to_string(),
                    items,
                    index,
                    visibility: id,
                    ctx: ctx.clone(),
                },
            );
        }
        self.unknown_keys(item, &["list", "items", "append", "override"], ctx);
        Ok(())
    }

    fn read_macro_inner(&mut self, item: &Node, name: &str, ctx: &Ctx) -> R<()> {
        if !is_identifier(name) {
            self.warn(
                ctx,
                Code::InvalidMacroName,
                "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)",
            );
        }
        let cond = self.string(item, "condition", ctx)?;
        let cond_node = item.get("condition").unwrap_or(item);
        let cond_ctx = ctx.child(cond_node, "macro condition", "");
        let mut append = self.bool_val(item, "append", ctx, true)?.unwrap_or(false);
        if append {
            self.warn(ctx, Code::DeprecatedItem, WARNING_APPEND);
        }
        let (oa, or) = self.overrides(item, &["condition"], &["condition"], ctx)?;
        if append && !(oa.is_empty() && or.is_empty()) {
            return fail(ctx, Code::Validate, ERROR_OVERRIDE_APPEND);
        }
        append |= oa.iter().any(|k| k == "condition");
        let id = self.col.cur_index;
        self.col.cur_index += 1;
        if append {
            match self.col.macros.get_mut(name) {
                Some(prev) => {
                    let at = FileSpan::point(cond.span.file, cond.span.start);
                    prev.cond.push_glue(" ", at);
                    prev.cond.push_mapped(&cond.text);
                    prev.visibility = id;
                }
                None => {
                    if !self.col.failed.contains(&("macro", name.to_string())) {
                        return fail(ctx, Code::Validate, ERROR_NO_PREVIOUS_MACRO);
                    }
                }
            }
        } else {
            let index = self.col.macros.get(name).map_or(id, |p| p.index);
            self.col.macros.define(
                name,
                MacroInfo {
                    name: name.to_string(),
                    cond: cond.text,
                    cond_ctx,
                    index,
                    visibility: id,
                    ctx: ctx.clone(),
                },
            );
        }
        self.unknown_keys(item, &["macro", "condition", "append", "override"], ctx);
        Ok(())
    }

    fn exceptions(
        &mut self,
        item: &Node,
        ctx: &Ctx,
        append: bool,
    ) -> R<Option<Vec<ExceptionInfo>>> {
        let Some(exs) = item.get("exceptions") else {
            return Ok(None);
        };
        if exs.is_null() {
            return Ok(Some(Vec::new()));
        }
        let exes_ctx = ctx.child(exs, "exceptions", "");
        let Kind::Seq(list) = &exs.kind else {
            return fail(
                &exes_ctx,
                Code::YamlValidate,
                "Rule exceptions must be a sequence",
            );
        };
        let mut out: Vec<ExceptionInfo> = Vec::new();
        for ex in list {
            let tmp = exes_ctx.child(ex, "exception", "");
            if !matches!(ex.kind, Kind::Map(_)) {
                return fail(&tmp, Code::YamlValidate, "Rule exception must be a mapping");
            }
            let name = self.string(ex, "name", &tmp)?.as_str().to_string();
            let ex_ctx = ctx.child(ex, "exception", &name);
            if out.iter().any(|e| e.name == name) {
                self.warn(
                    &ex_ctx,
                    Code::ExceptionNameNotUnique,
                    format!("Multiple definitions of exception '{name}' in the same rule"),
                );
            }
            let fields = self.exception_entry(ex, Some("fields"), &ex_ctx, append)?;
            let comps = self.exception_entry(ex, Some("comps"), &ex_ctx, true)?;
            let mut values = Vec::new();
            if let Some(exvals) = ex.get("values") {
                let vals_ctx = ex_ctx.child(exvals, "exception values", "");
                match &exvals.kind {
                    Kind::Seq(vals) => {
                        for v in vals {
                            let vctx = vals_ctx.child(v, "exception value", "");
                            values.push(self.exception_entry_node(v, "", &vctx)?);
                        }
                    }
                    Kind::Null => {}
                    _ => {
                        return fail(
                            &vals_ctx,
                            Code::YamlValidate,
                            "Rule exception values must be a sequence",
                        );
                    }
                }
            } else if append {
                self.warn(
                    &ex_ctx,
                    Code::AppendNoValues,
                    "Overriding/appending exception with no values",
                );
            }
            out.push(ExceptionInfo {
                name,
                fields,
                comps,
                values,
                ctx: ex_ctx,
            });
        }
        Ok(Some(out))
    }

    fn exception_entry(&self, ex: &Node, key: Option<&str>, ctx: &Ctx, optional: bool) -> R<Entry> {
        let key_s = key.unwrap_or("");
        let val = match key {
            Some(k) => ex.get(k),
            None => Some(ex),
        };
        let Some(val) = val else {
            if optional {
                return Ok(Entry::default());
            }
            return fail(
                ctx,
                Code::YamlValidate,
                format!("Item has no mapping for key '{key_s}'"),
            );
        };
        let valctx = ctx.child(val, "value for", key_s);
        self.exception_entry_node(val, key_s, &valctx)
    }

    fn exception_entry_node(&self, val: &Node, _key: &str, valctx: &Ctx) -> R<Entry> {
        let mut out = Entry {
            span: Some(val.span(self.file)),
            ..Entry::default()
        };
        match &val.kind {
            Kind::Scalar(s) => {
                if s.is_empty() {
                    return fail(valctx, Code::YamlValidate, "Value must be non-empty");
                }
                out.item = Some(self.scalar(val));
            }
            Kind::Seq(vs) => {
                out.is_list = true;
                for v in vs {
                    let lctx = valctx.child(v, "exception", "");
                    let inner = lctx.child(v, "value for", "");
                    out.items.push(self.exception_entry_node(v, "", &inner)?);
                }
            }
            _ => {}
        }
        Ok(out)
    }

    fn check_exception(&self, source_known: bool, ex: &mut ExceptionInfo) -> R<()> {
        check_exception(source_known, ex)
    }

    fn read_rule_inner(&mut self, item: &Node, name: &str, ctx: &Ctx) -> R<()> {
        let source = self
            .opt_string(item, "source", ctx, true)?
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        let has_append_flag = self.bool_val(item, "append", ctx, true)?.unwrap_or(false);
        if has_append_flag {
            self.warn(ctx, Code::DeprecatedItem, WARNING_APPEND);
        }
        const CAN_APPEND: [&str; 5] = ["condition", "output", "desc", "tags", "exceptions"];
        const CAN_REPLACE: [&str; 11] = [
            "condition",
            "output",
            "desc",
            "priority",
            "capture",
            "capture_duration",
            "tags",
            "exceptions",
            "enabled",
            "warn_evttypes",
            "skip-if-unknown-filter",
        ];
        let (oa, or) = self.overrides(item, &CAN_APPEND, &CAN_REPLACE, ctx)?;
        let has_overrides = !oa.is_empty() || !or.is_empty();
        if has_append_flag && has_overrides {
            return fail(ctx, Code::Validate, ERROR_OVERRIDE_APPEND);
        }
        if has_overrides {
            // expected_keys = (appendable ∪ replaceable) ∩ defined, in Falco's (sorted set) order
            let mut expected: BTreeSet<&str> = CAN_APPEND
                .iter()
                .chain(CAN_REPLACE.iter())
                .copied()
                .filter(|k| item.get(k).is_some())
                .collect();
            let mut check = |set: &[String], kind: &str, key: &'static str| -> R<bool> {
                if !set.iter().any(|k| k == key) {
                    return Ok(false);
                }
                if !expected.remove(key) {
                    return fail(
                        ctx,
                        Code::Validate,
                        format!(
                            "An {kind} override for '{key}' was specified but '{key}' is not defined"
                        ),
                    );
                }
                Ok(true)
            };
            let mut upd_a = Update::default();
            if !oa.is_empty() {
                if check(&oa, "append", "condition")? {
                    upd_a.cond = Some(self.string(item, "condition", ctx)?);
                }
                if check(&oa, "append", "exceptions")? {
                    upd_a.exceptions = self.exceptions(item, ctx, true)?;
                }
                if check(&oa, "append", "output")? {
                    upd_a.output = Some(self.string(item, "output", ctx)?);
                }
                if check(&oa, "append", "desc")? {
                    upd_a.desc = Some(self.string(item, "desc", ctx)?.as_str().to_string());
                }
                if check(&oa, "append", "tags")? {
                    upd_a.tags = self.seq(item, "tags", ctx, true)?;
                }
            }
            let mut upd_r = Update::default();
            if !or.is_empty() {
                if check(&or, "replace", "condition")? {
                    upd_r.cond = Some(self.string(item, "condition", ctx)?);
                }
                if check(&or, "replace", "exceptions")? {
                    upd_r.exceptions = self.exceptions(item, ctx, false)?;
                }
                if check(&or, "replace", "output")? {
                    upd_r.output = Some(self.string(item, "output", ctx)?);
                }
                if check(&or, "replace", "desc")? {
                    upd_r.desc = Some(self.string(item, "desc", ctx)?.as_str().to_string());
                }
                if check(&or, "replace", "tags")? {
                    upd_r.tags = self.seq(item, "tags", ctx, true)?;
                }
                if check(&or, "replace", "priority")? {
                    let p = self.string(item, "priority", ctx)?;
                    let prictx =
                        ctx.child(item.get("priority").unwrap_or(item), "rule priority", "");
                    upd_r.priority = Some(Priority::parse(p.as_str()).ok_or_else(|| {
                        Box::new(prictx.diag(Code::YamlValidate, "Invalid priority"))
                    })?);
                }
                if check(&or, "replace", "capture")? {
                    upd_r.capture = self.bool_val(item, "capture", ctx, false)?;
                }
                if check(&or, "replace", "capture_duration")? {
                    upd_r.capture_duration =
                        self.typed(item, "capture_duration", ctx, false, decode_u64)?;
                }
                if check(&or, "replace", "enabled")? {
                    upd_r.enabled = self.bool_val(item, "enabled", ctx, false)?;
                }
                if check(&or, "replace", "warn_evttypes")? {
                    upd_r.warn_evttypes = self.bool_val(item, "warn_evttypes", ctx, false)?;
                }
                if check(&or, "replace", "skip-if-unknown-filter")? {
                    upd_r.skip_if_unknown_filter =
                        self.bool_val(item, "skip-if-unknown-filter", ctx, false)?;
                }
            }
            if !oa.is_empty() {
                upd_a.cond_ctx = item
                    .get("condition")
                    .map(|n| ctx.child(n, "rule condition", ""));
                upd_a.output_ctx = item.get("output").map(|n| ctx.child(n, "rule output", ""));
                self.rule_append(name, &source, upd_a, ctx)?;
            }
            if !or.is_empty() {
                upd_r.cond_ctx = item
                    .get("condition")
                    .map(|n| ctx.child(n, "rule condition", ""));
                upd_r.output_ctx = item.get("output").map(|n| ctx.child(n, "rule output", ""));
                self.rule_replace(name, &source, upd_r, ctx)?;
            }
            if let Some(key) = expected.iter().next() {
                let keyctx = ctx.child(item.get(key).unwrap_or(item), "overrides", key);
                return fail(
                    &keyctx,
                    Code::Validate,
                    format!(
                        "Unexpected key '{key}': no corresponding entry under 'override' is defined."
                    ),
                );
            }
        } else if has_append_flag {
            let mut upd = Update::default();
            if let Some(n) = item.get("condition") {
                upd.cond_ctx = Some(ctx.child(n, "rule condition", ""));
                upd.cond = Some(self.string(item, "condition", ctx)?);
            }
            if item.get("exceptions").is_some() {
                upd.exceptions = self.exceptions(item, ctx, true)?;
            }
            self.rule_append(name, &source, upd, ctx)?;
        } else if ["condition", "output", "desc", "priority"]
            .iter()
            .all(|k| item.get(k).is_none())
        {
            let enabled = self.bool_val(item, "enabled", ctx, false)?.unwrap_or(true);
            self.warn(ctx, Code::DeprecatedItem, WARNING_ENABLED);
            match self.col.rules.get_mut(name) {
                Some(prev) => prev.enabled = enabled,
                None => {
                    if !self.col.failed.contains(&("rule", name.to_string())) {
                        return fail(
                            ctx,
                            Code::Validate,
                            "Rule has 'enabled' key but no rule by that name already exists",
                        );
                    }
                }
            }
        } else {
            let cond = self.string(item, "condition", ctx)?;
            let cond_ctx = ctx.child(item.get("condition").unwrap_or(item), "rule condition", "");
            let output = self.string(item, "output", ctx)?;
            let output_ctx = ctx.child(item.get("output").unwrap_or(item), "rule output", "");
            let desc = self.string(item, "desc", ctx)?.as_str().to_string();
            let priority_s = self.string(item, "priority", ctx)?;
            let prictx = ctx.child(item.get("priority").unwrap_or(item), "rule priority", "");
            let Some(priority) = Priority::parse(priority_s.as_str()) else {
                return fail(&prictx, Code::YamlValidate, "Invalid priority");
            };
            let source = self
                .opt_string(item, "source", ctx, false)?
                .map_or_else(|| "syscall".to_string(), |s| s.as_str().to_string());
            let enabled = self.bool_val(item, "enabled", ctx, true)?.unwrap_or(true);
            let capture = self.bool_val(item, "capture", ctx, true)?.unwrap_or(false);
            let capture_duration = self
                .typed(item, "capture_duration", ctx, true, decode_u64)?
                .unwrap_or(0);
            let warn_evttypes = self
                .bool_val(item, "warn_evttypes", ctx, true)?
                .unwrap_or(true);
            let skip = self
                .bool_val(item, "skip-if-unknown-filter", ctx, true)?
                .unwrap_or(false);
            let tags = self
                .seq(item, "tags", ctx, true)?
                .unwrap_or_default()
                .iter()
                .map(|s| s.as_str().to_string())
                .collect();
            let mut exceptions = self.exceptions(item, ctx, false)?.unwrap_or_default();
            // collector.define
            if let Some(prev) = self.col.rules.get(name)
                && prev.source != source
            {
                return fail(
                    ctx,
                    Code::Validate,
                    "Rule has been re-defined with a different source",
                );
            }
            let known = self.sources.contains(&source.as_str());
            if !known {
                self.warn(
                    ctx,
                    Code::UnknownSource,
                    format!("Unknown source {source}, skipping"),
                );
            }
            for ex in &mut exceptions {
                if !ex.fields.is_valid() {
                    return fail(
                        &ex.ctx,
                        Code::Validate,
                        "Rule exception item must have fields property with a list of fields",
                    );
                }
                self.check_exception(known, ex)?;
            }
            let id = self.col.cur_index;
            self.col.cur_index += 1;
            let index = self.col.rules.get(name).map_or(id, |p| p.index);
            let output = trim_mapped(&output.text);
            self.col.rules.define(
                name,
                RuleInfo {
                    name: name.to_string(),
                    cond: cond.text,
                    cond_ctx,
                    output,
                    output_ctx,
                    desc,
                    priority,
                    source,
                    tags,
                    exceptions,
                    enabled,
                    capture,
                    capture_duration,
                    warn_evttypes,
                    skip_if_unknown_filter: skip,
                    unknown_source: !known,
                    index,
                    visibility: id,
                    ctx: ctx.clone(),
                },
            );
        }
        self.unknown_keys(
            item,
            &[
                "rule",
                "condition",
                "output",
                "desc",
                "priority",
                "source",
                "enabled",
                "capture",
                "capture_duration",
                "warn_evttypes",
                "skip-if-unknown-filter",
                "tags",
                "exceptions",
                "override",
                "append",
            ],
            ctx,
        );
        Ok(())
    }

    fn find_prev_rule(&self, name: &str, source: &str, ctx: &Ctx) -> R<Option<usize>> {
        let Some(&i) = self.col.rules.by_name.get(name) else {
            return Ok(None);
        };
        if let Some(prev) = self.col.rules.items.get(i)
            && !prev.source.is_empty()
            && !source.is_empty()
            && prev.source != source
        {
            return fail(
                ctx,
                Code::Validate,
                "Rule has been re-defined with a different source",
            );
        }
        Ok(Some(i))
    }

    fn rule_append(&mut self, name: &str, source: &str, upd: Update, ctx: &Ctx) -> R<()> {
        let Some(i) = self.find_prev_rule(name, source, ctx)? else {
            if self.col.failed.contains(&("rule", name.to_string())) {
                return Ok(());
            }
            return fail(ctx, Code::Validate, ERROR_NO_PREVIOUS_RULE_APPEND);
        };
        if !upd.has_any_value() {
            return fail(
                ctx,
                Code::Validate,
                "Appended rule must have exceptions or condition property",
            );
        }
        let id = self.col.cur_index;
        self.col.cur_index += 1;
        let Some(prev) = self.col.rules.items.get_mut(i) else {
            return Ok(());
        };
        let known = !prev.unknown_source;
        if let Some(c) = &upd.cond
            && !c.as_str().is_empty()
        {
            prev.cond
                .push_glue(" ", FileSpan::point(c.span.file, c.span.start));
            prev.cond.push_mapped(&c.text);
        }
        if let Some(o) = &upd.output
            && !o.as_str().is_empty()
        {
            prev.output
                .push_glue(" ", FileSpan::point(o.span.file, o.span.start));
            prev.output.push_mapped(&o.text);
        }
        if let Some(d) = &upd.desc
            && !d.is_empty()
        {
            prev.desc.push(' ');
            prev.desc.push_str(d);
        }
        if let Some(tags) = &upd.tags {
            prev.tags
                .extend(tags.iter().map(|t| t.as_str().to_string()));
        }
        if let Some(exs) = upd.exceptions {
            for mut ex in exs {
                if let Some(pe) = prev.exceptions.iter_mut().find(|e| e.name == ex.name) {
                    if ex.fields.is_valid() {
                        return fail(
                            &ex.ctx,
                            Code::Validate,
                            "Can not append exception fields to existing exception, only values",
                        );
                    }
                    if ex.comps.is_valid() {
                        return fail(
                            &ex.ctx,
                            Code::Validate,
                            "Can not append exception comps to existing exception, only values",
                        );
                    }
                    pe.values.extend(ex.values);
                } else {
                    if !ex.fields.is_valid() {
                        return fail(
                            &ex.ctx,
                            Code::Validate,
                            "Rule exception must have fields property with a list of fields",
                        );
                    }
                    if ex.values.is_empty() {
                        return fail(
                            &ex.ctx,
                            Code::Validate,
                            "Rule exception must have values property with a list of values",
                        );
                    }
                    check_exception(known, &mut ex)?;
                    prev.exceptions.push(ex);
                }
            }
        }
        prev.visibility = id;
        Ok(())
    }

    fn rule_replace(&mut self, name: &str, source: &str, upd: Update, ctx: &Ctx) -> R<()> {
        let Some(i) = self.find_prev_rule(name, source, ctx)? else {
            if self.col.failed.contains(&("rule", name.to_string())) {
                return Ok(());
            }
            return fail(ctx, Code::Validate, ERROR_NO_PREVIOUS_RULE_REPLACE);
        };
        if !upd.has_any_value() {
            return fail(
                ctx,
                Code::Validate,
                "The rule must have at least one field that can be replaced",
            );
        }
        let id = self.col.cur_index;
        self.col.cur_index += 1;
        let Some(prev) = self.col.rules.items.get_mut(i) else {
            return Ok(());
        };
        if let Some(c) = upd.cond {
            prev.cond = c.text;
            if let Some(cc) = upd.cond_ctx {
                prev.cond_ctx = cc;
            }
        }
        if let Some(o) = upd.output {
            prev.output = trim_mapped(&o.text);
            if let Some(oc) = upd.output_ctx {
                prev.output_ctx = oc;
            }
        }
        if let Some(d) = upd.desc {
            prev.desc = d;
        }
        if let Some(t) = upd.tags {
            prev.tags = t.iter().map(|t| t.as_str().to_string()).collect();
        }
        if let Some(e) = upd.exceptions {
            prev.exceptions = e;
        }
        if let Some(p) = upd.priority {
            prev.priority = p;
        }
        if let Some(v) = upd.capture {
            prev.capture = v;
        }
        if let Some(v) = upd.capture_duration {
            prev.capture_duration = v;
        }
        if let Some(v) = upd.enabled {
            prev.enabled = v;
        }
        if let Some(v) = upd.warn_evttypes {
            prev.warn_evttypes = v;
        }
        if let Some(v) = upd.skip_if_unknown_filter {
            prev.skip_if_unknown_filter = v;
        }
        prev.visibility = id;
        Ok(())
    }
}

#[derive(Default)]
struct Update {
    cond: Option<Scalar>,
    cond_ctx: Option<Ctx>,
    output: Option<Scalar>,
    output_ctx: Option<Ctx>,
    desc: Option<String>,
    tags: Option<Vec<Scalar>>,
    exceptions: Option<Vec<ExceptionInfo>>,
    priority: Option<Priority>,
    capture: Option<bool>,
    capture_duration: Option<u64>,
    enabled: Option<bool>,
    warn_evttypes: Option<bool>,
    skip_if_unknown_filter: Option<bool>,
}

impl Update {
    fn has_any_value(&self) -> bool {
        self.cond.is_some()
            || self.output.is_some()
            || self.desc.is_some()
            || self.tags.is_some()
            || self.exceptions.is_some()
            || self.priority.is_some()
            || self.capture.is_some()
            || self.capture_duration.is_some()
            || self.enabled.is_some()
            || self.warn_evttypes.is_some()
            || self.skip_if_unknown_filter.is_some()
    }
}

/// Trims blanks at both ends of a mapped text (Falco trims rule outputs).
fn trim_mapped(t: &MappedText) -> MappedText {
    let s = t.as_str();
    let start = s.len() - s.trim_start().len();
    let end = s.trim_end().len();
    let mut out = MappedText::new();
    if start < end {
        out.push_slice(t, start, end);
    }
    out
}

/// libsinsp's operator list plus the `<op> oneof|anyof|allof` forms (Falco's `is_operator_defined` and
/// `is_str_operator_with_modifier`).
pub fn is_supported_comp(op: &str) -> bool {
    if crate::ast::CmpOp::from_str_exact(op).is_some() {
        return true;
    }
    is_str_operator_with_modifier(op)
}

/// `<string operator> <modifier>`, e.g. `startswith oneof`.
pub fn is_str_operator_with_modifier(op: &str) -> bool {
    let mut parts = op.split_whitespace();
    let (Some(o), Some(m), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some(o) = crate::ast::CmpOp::from_str_exact(o) else {
        return false;
    };
    o.takes_modifier() && matches!(m, "oneof" | "anyof" | "allof")
}

fn normalize_comp(e: &mut Entry) {
    if let Some(s) = &e.item {
        let text = s.as_str();
        let start = text.len() - text.trim_start_matches([' ', '\t', '\r', '\n']).len();
        let end = text.trim_end_matches([' ', '\t', '\r', '\n']).len();
        let mut t = MappedText::new();
        if start < end {
            t.push_slice(&s.text, start, end);
        }
        e.item = Some(Scalar {
            text: t,
            span: s.span,
        });
    }
}

fn comp_entry(text: &str, at: FileSpan) -> Entry {
    let mut t = MappedText::new();
    t.push_glue(text, at);
    Entry {
        is_list: false,
        item: Some(Scalar { text: t, span: at }),
        items: Vec::new(),
        span: Some(at),
    }
}

/// Falco's `validate_exception_info` (field validity is checked later, with the field schema).
fn check_exception(source_known: bool, ex: &mut ExceptionInfo) -> R<()> {
    let at = ex.ctx.span;
    let check_field = |f: &Entry| -> R<()> {
        if source_known && !is_valid_lhs_field(f.text()) {
            return fail(
                &ex.ctx,
                Code::Validate,
                format!("'{}' is not a supported filter field", f.text()),
            );
        }
        Ok(())
    };
    if ex.fields.is_list {
        if !ex.comps.is_valid() {
            ex.comps.is_list = true;
            ex.comps.items = ex
                .fields
                .items
                .iter()
                .map(|_| comp_entry("=", at))
                .collect();
        }
        if ex.fields.items.len() != ex.comps.items.len() {
            return fail(
                &ex.ctx,
                Code::Validate,
                "Fields and comps lists must have equal length",
            );
        }
        for c in &mut ex.comps.items {
            normalize_comp(c);
            if !is_supported_comp(c.text()) {
                return fail(
                    &ex.ctx,
                    Code::Validate,
                    format!("'{}' is not a supported comparison operator", c.text()),
                );
            }
        }
        for f in &ex.fields.items {
            check_field(f)?;
        }
    } else {
        if !ex.comps.is_valid() {
            ex.comps = comp_entry("in", at);
        }
        if ex.comps.is_list {
            return fail(
                &ex.ctx,
                Code::Validate,
                "Fields and comps must both be strings",
            );
        }
        normalize_comp(&mut ex.comps);
        let c = ex.comps.text();
        if c != "in" && c != "pmatch" && c != "intersects" && !is_str_operator_with_modifier(c) {
            return fail(
                &ex.ctx,
                Code::Validate,
                "When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier operator (e.g. startswith oneof)",
            );
        }
        check_field(&ex.fields)?;
    }
    Ok(())
}

/// Falco's `is_valid_lhs_field`: the field (or transformer expression) compiles in `<field> exists`.
fn is_valid_lhs_field(field: &str) -> bool {
    match crate::parser::parse_condition(&format!("{field} exists")) {
        Ok(e) => {
            matches!(e.kind, crate::ast::ExprKind::Check(_))
                && !crate::check::check_condition(&e)
                    .iter()
                    .any(|i| i.severity == crate::check::Severity::Error)
        }
        Err(_) => false,
    }
}

fn line_col_to_offset(src: &str, line0: u32, col0: u32) -> u32 {
    let mut off = 0usize;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i as u32 == line0 {
            let col: usize = l.chars().take(col0 as usize).map(char::len_utf8).sum();
            return (off + col) as u32;
        }
        off += l.len();
    }
    src.len() as u32
}

/// The closest expected key within edit distance 2, for "did you mean" help.
fn suggest_key<'a>(key: &str, expected: &[&'a str]) -> Option<&'a str> {
    expected
        .iter()
        .map(|e| (edit_distance(key, e), *e))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, e)| e)
}

/// Levenshtein distance (small inputs only).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}
