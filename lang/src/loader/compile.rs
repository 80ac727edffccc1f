//! Compiling collected items: list expansion, exception expansion, list substitution, parsing, macro
//! resolution, checks and warnings (Falco's `rule_loader_compiler.cpp`).
//!
//! Order of work, as in Falco: lists (one level of list-of-list expansion), then every macro condition
//! (substituted and parsed even when unused, then resolved against the macros visible to it), then every rule
//! in evaluation order (exceptions expanded into the condition text, output validated, condition substituted,
//! parsed, resolved against all macros, checked, event types computed), and finally unused macro/list
//! warnings.
//!
//! Unlike Falco, which stops at the first compile error, every macro and rule is compiled and every error is
//! reported; a macro that failed is simply not inlined (rules using it are then skipped without a second
//! error).
//!
//! Positions: each parsed text is registered in the [`SourceMap`] as an expansion, and every span of the
//! parsed tree is shifted into the global offset space, so the macro-resolved trees keep exact positions of
//! nodes that came from macros.

use std::collections::HashMap;

use crate::fxhash::FxBuild;

use crate::ast::{Expr, ExprKind, Operand, TransformArg, Value};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::source::{FileSpan, Insertion, MappedText, Owner, SourceMap};

use super::context::{Ctx, with_condition_expression};
use super::reader::{Collector, Entry, ExceptionInfo, Scalar};
use super::{CompiledList, CompiledMacro, CompiledRule};

/// Falco's `%container.info` placeholder, stripped from outputs.
const CONTAINER_INFO: &str = "%container.info";

/// Fields that are deprecated (Falco 0.42).
pub const DEPRECATED_FIELDS: [&str; 6] = [
    "evt.dir",
    "evt.latency",
    "evt.latency.s",
    "evt.latency.ns",
    "evt.latency.human",
    "evt.wait_latency",
];

/// The output of compilation.
pub struct Compiled {
    /// Lists with nested references expanded.
    pub lists: Vec<CompiledList>,
    /// Macros with resolved conditions.
    pub macros: Vec<CompiledMacro>,
    /// Rules in evaluation order.
    pub rules: Vec<CompiledRule>,
}

struct ListState {
    name: String,
    items: Vec<Scalar>,
    /// The items as substitution inserts them: `a, b, "c d"`.
    joined: String,
    defined: FileSpan,
    used: bool,
}

/// The lists and, for the substitution prefilter of [`parse_text`], which lists a token can fire.
struct Lists {
    states: Vec<ListState>,
    /// Lists whose name has no delimiter character, by name.
    plain_by_name: HashMap<String, usize, FxBuild>,
    /// Lists whose name has a delimiter character: always tried.
    non_plain: Vec<usize>,
    /// For each list, the plain lists named by a token of its items.
    item_candidates: Vec<Vec<usize>>,
}

impl Lists {
    fn new(states: Vec<ListState>) -> Self {
        let mut plain_by_name: HashMap<String, usize, FxBuild> = HashMap::default();
        let mut non_plain = Vec::new();
        for (i, l) in states.iter().enumerate() {
            if l.name.bytes().any(|b| LIST_DELIMS.contains(&b)) {
                non_plain.push(i);
            } else {
                plain_by_name.entry(l.name.clone()).or_insert(i);
            }
        }
        let item_candidates = states
            .iter()
            .map(|l| {
                let mut v: Vec<usize> = l
                    .items
                    .iter()
                    .flat_map(|item| tokens_of(item.as_str()))
                    .filter_map(|t| plain_by_name.get(t).copied())
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect();
        Self {
            states,
            plain_by_name,
            non_plain,
            item_candidates,
        }
    }
}

struct MacroState {
    name: String,
    parsed: Option<Expr>,
    resolved: Option<Expr>,
    failed: bool,
    used: bool,
    index: u32,
    defined: FileSpan,
}

/// Compiles everything collected.
pub fn compile(col: &Collector, sm: &mut SourceMap, diags: &mut Vec<Diagnostic>) -> Compiled {
    let mut lists = Lists::new(compile_lists(col));
    let mut macros: Vec<MacroState> = Vec::new();
    for m in col.macros.iter() {
        let parsed = parse_text(
            &m.cond,
            &mut lists,
            &m.cond_ctx,
            Owner::Macro(m.name.clone()),
            sm,
            diags,
        );
        let parsed = parsed.map(|(e, _)| e);
        macros.push(MacroState {
            name: m.name.clone(),
            failed: parsed.is_none(),
            parsed,
            resolved: None,
            used: false,
            index: m.index,
            defined: m.ctx.span,
        });
    }
    // Macro names are unique (one item per name); the index replaces a scan of all macros per reference.
    let mut by_name: HashMap<String, usize, FxBuild> = HashMap::default();
    for (i, m) in macros.iter().enumerate() {
        by_name.entry(m.name.clone()).or_insert(i);
    }
    // Resolve macros in order, each against the macros first defined before its latest definition.
    for (i, m) in col.macros.iter().enumerate() {
        // Only an unresolved macro needs its parsed tree (see `Resolver::inline`): this one is being resolved.
        let Some(ast) = macros.get_mut(i).and_then(|s| s.parsed.take()) else {
            continue;
        };
        let mut r = Resolver {
            macros: &mut macros,
            by_name: &by_name,
            visibility: m.visibility,
            stack: vec![m.name.clone()],
            error: None,
            blocked: false,
        };
        let resolved = r.resolve(ast);
        let error = r.error.take();
        let blocked = r.blocked;
        if let Some((msg, span, help)) = error {
            let mut d = resolution_error(sm, &m.ctx, &m.cond_ctx, &msg, span);
            d.help = help;
            diags.push(d);
        }
        if let Some(s) = macros.get_mut(i) {
            if error_or_blocked(&s.name, blocked, &resolved) {
                s.failed = true;
            }
            s.resolved = resolved;
        }
    }

    let mut rules = Vec::new();
    // All rule trees share one global offset space: checks from a macro have the same spans in every rule.
    let mut check_cache = crate::check::CheckCache::default();
    for r in col.rules.iter() {
        if r.unknown_source {
            continue;
        }
        let cond_at = FileSpan::point(r.cond_ctx.span.file, r.cond_ctx.span.start);
        let condition = if r.exceptions.is_empty() {
            r.cond.clone()
        } else {
            match build_exceptions(&r.cond, &r.exceptions, cond_at) {
                Ok(c) => c,
                Err(d) => {
                    diags.push(*d);
                    continue;
                }
            }
        };
        // Output: %container.info is stripped with a warning, then the format is validated.
        let mut output = r.output.as_str().to_string();
        if output.contains(CONTAINER_INFO) {
            diags.push(r.ctx.diag(
                Code::DeprecatedItem,
                "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container plugin will automatically add required fields to the output message.",
            ));
            output = output.replace(CONTAINER_INFO, "");
        }
        if let Err((msg, off)) = validate_output(&output) {
            let (message, help) = split_hint(&msg);
            let mut d = r.output_ctx.diag(Code::CompileOutput, message);
            d.help = help;
            if !r.output.as_str().contains(CONTAINER_INFO)
                && let Some(m) = r.output.map(off)
            {
                d.primary = Some(m.span);
            }
            if r.skip_if_unknown_filter && is_unknown_type_or_field(&msg) {
                d.code = Code::UnknownFilter;
                d.severity = Code::UnknownFilter.severity();
                diags.push(d);
                continue;
            }
            diags.push(d);
            continue;
        }
        for f in DEPRECATED_FIELDS {
            if output.contains(f) {
                diags.push(r.output_ctx.diag(
                    Code::DeprecatedItem,
                    format!("usage of deprecated field '{f}' has been detected in the rule output"),
                ));
            }
        }
        // Condition.
        let Some(ast) = parse_text(
            &condition,
            &mut lists,
            &r.cond_ctx,
            Owner::Rule(r.name.clone()),
            sm,
            diags,
        ) else {
            continue;
        };
        let (ast, rule_base) = ast;
        let mut res = Resolver {
            macros: &mut macros,
            by_name: &by_name,
            visibility: u32::MAX,
            stack: Vec::new(),
            error: None,
            blocked: false,
        };
        let resolved = res.resolve(ast);
        let error = res.error.take();
        let blocked = res.blocked;
        if let Some((msg, span, help)) = error {
            let mut d = resolution_error(sm, &r.ctx, &r.cond_ctx, &msg, span);
            d.help = help;
            diags.push(d);
            continue;
        }
        let Some(resolved) = resolved else { continue };
        if blocked {
            // A macro it uses failed and was reported already.
            continue;
        }
        let mut failed = false;
        let mut skipped = false;
        for issue in crate::check::check_condition_cached(&resolved, &mut check_cache) {
            let unknown = issue.is_unknown_filter();
            let code = Code::from_str_exact(issue.code).unwrap_or(Code::CompileCondition);
            let (message, help) = split_hint(&issue.message);
            let mut d = located(
                sm,
                rule_base,
                &r.cond_ctx,
                &r.ctx,
                code,
                message,
                issue.span.start,
                issue.span.end,
                &resolved,
            );
            d.help = help;
            if d.is_error() {
                if unknown && r.skip_if_unknown_filter {
                    d.code = Code::UnknownFilter;
                    d.severity = Code::UnknownFilter.severity();
                    diags.push(d);
                    skipped = true;
                    break;
                }
                failed = true;
            }
            diags.push(d);
        }
        if failed || skipped {
            continue;
        }
        if r.source == "syscall" {
            match crate::evttypes::evttypes_of(&resolved) {
                Ok(set) => {
                    if set.len() > 100 && r.warn_evttypes {
                        diags.push(
                            r.ctx
                                .diag(
                                    Code::NoEvttype,
                                    "Rule matches too many evt.type values. This has a significant performance penalty.",
                                )
                                .with_help(format!(
                                    "the condition matches {} event codes; restrict it with a positive evt.type check (e.g. `evt.type in (open, openat)`), or set `warn_evttypes: false` if that is intended",
                                    set.len()
                                )),
                        );
                    }
                }
                Err(msg) => {
                    diags.push(r.cond_ctx.diag(Code::CompileCondition, msg));
                    continue;
                }
            }
        }
        rules.push(CompiledRule {
            name: r.name.clone(),
            condition: condition.as_str().to_string(),
            expr: resolved,
            output,
            desc: r.desc.clone(),
            priority: r.priority,
            source: r.source.clone(),
            tags: r.tags.clone(),
            enabled: r.enabled,
            warn_evttypes: r.warn_evttypes,
            skip_if_unknown_filter: r.skip_if_unknown_filter,
            capture: r.capture,
            capture_duration: r.capture_duration,
            location: r.ctx.span,
            condition_location: r.cond_ctx.span,
        });
    }

    // Unused macros and lists.
    for (m, s) in col.macros.iter().zip(&macros) {
        if !s.used && !s.failed {
            diags.push(m.ctx.diag(
                Code::UnusedMacro,
                "Macro not referred to by any other rule/macro",
            ));
        }
    }
    for (l, s) in col.lists.iter().zip(&lists.states) {
        if !s.used {
            diags.push(l.ctx.diag(
                Code::UnusedList,
                "List not referred to by any other rule/macro",
            ));
        }
    }

    Compiled {
        lists: lists
            .states
            .iter()
            .map(|l| CompiledList {
                name: l.name.clone(),
                items: l.items.iter().map(|s| s.as_str().to_string()).collect(),
                location: l.defined,
            })
            .collect(),
        macros: macros
            .into_iter()
            .map(|m| CompiledMacro {
                name: m.name,
                expr: m.resolved,
                location: m.defined,
            })
            .collect(),
        rules,
    }
}

fn error_or_blocked(_name: &str, blocked: bool, resolved: &Option<Expr>) -> bool {
    blocked || resolved.is_none()
}

fn compile_lists(col: &Collector) -> Vec<ListState> {
    let mut out: Vec<ListState> = Vec::new();
    let mut used_names = Vec::new();
    for l in col.lists.iter() {
        let mut items = Vec::new();
        for item in &l.items {
            match col.lists.get(item.as_str()) {
                Some(r) if r.index < l.visibility => {
                    used_names.push(r.name.clone());
                    items.extend(r.items.iter().cloned());
                }
                _ => items.push(item.clone()),
            }
        }
        let mut joined = String::new();
        for item in &items {
            if !joined.is_empty() {
                joined.push_str(", ");
            }
            let (needs, t) = quote_item(item.as_str());
            if needs {
                joined.push('"');
                joined.push_str(t);
                joined.push('"');
            } else {
                joined.push_str(t);
            }
        }
        out.push(ListState {
            name: l.name.clone(),
            items,
            joined,
            defined: l.ctx.span,
            used: false,
        });
    }
    for n in used_names {
        if let Some(l) = out.iter_mut().find(|l| l.name == n) {
            l.used = true;
        }
    }
    out
}

fn quote_item(s: &str) -> (bool, &str) {
    let needs = s.contains(' ') && !s.starts_with('"') && !s.starts_with('\'');
    (needs, s)
}

fn push_quoted(out: &mut MappedText, item: &MappedText, at: FileSpan) {
    let (needs, _) = quote_item(item.as_str());
    if needs {
        out.push_glue("\"", at);
    }
    out.push_mapped(item);
    if needs {
        out.push_glue("\"", at);
    }
}

fn is_operator_for_list(op: &str) -> bool {
    matches!(op, "in" | "intersects" | "pmatch") || super::reader::is_str_operator_with_modifier(op)
}

/// Falco's `build_rule_exception_infos`.
fn build_exceptions(
    cond: &MappedText,
    exceptions: &[ExceptionInfo],
    at: FileSpan,
) -> Result<MappedText, Box<Diagnostic>> {
    let mut out = MappedText::new();
    out.push_glue("(", at);
    out.push_mapped(cond);
    out.push_glue(")", at);
    for ex in exceptions {
        let eat = ex.ctx.span;
        let mut icond = MappedText::new();
        if !ex.fields.is_list {
            let field = ex.fields.item.as_ref();
            for val in &ex.values {
                if val.is_list {
                    return Err(Box::new(ex.ctx.diag(
                        Code::Validate,
                        "Expected values array to contain a list of strings",
                    )));
                }
                if icond.is_empty() {
                    icond.push_glue("(", eat);
                    if let Some(f) = field {
                        icond.push_mapped(&f.text);
                    }
                    icond.push_glue(" ", eat);
                    push_entry_text(&mut icond, &ex.comps, eat);
                    icond.push_glue(" (", eat);
                } else {
                    icond.push_glue(", ", eat);
                }
                if let Some(v) = &val.item {
                    push_quoted(&mut icond, &v.text, eat);
                }
            }
            if !icond.is_empty() {
                icond.push_glue("))", eat);
            }
        } else {
            icond.push_glue("(", eat);
            let mut first_tuple = true;
            for values in &ex.values {
                if ex.fields.items.len() != values.items.len() {
                    return Err(Box::new(ex.ctx.diag(
                        Code::Validate,
                        "Fields and values lists must have equal length",
                    )));
                }
                if !first_tuple {
                    icond.push_glue(" or ", eat);
                }
                first_tuple = false;
                icond.push_glue("(", eat);
                for (k, (field, value)) in ex.fields.items.iter().zip(&values.items).enumerate() {
                    if k > 0 {
                        icond.push_glue(" and ", eat);
                    }
                    let comp = ex.comps.items.get(k);
                    icond.push_glue(" ", eat);
                    push_entry_text(&mut icond, field, eat);
                    icond.push_glue(" ", eat);
                    if let Some(c) = comp {
                        push_entry_text(&mut icond, c, eat);
                    }
                    icond.push_glue(" ", eat);
                    let vat = value.span.unwrap_or(eat);
                    if value.is_list {
                        icond.push_glue("(", vat);
                        for (j, v) in value.items.iter().enumerate() {
                            if j > 0 {
                                icond.push_glue(", ", vat);
                            }
                            if let Some(s) = &v.item {
                                push_quoted(&mut icond, &s.text, vat);
                            }
                        }
                        icond.push_glue(")", vat);
                    } else if let Some(s) = &value.item {
                        if comp.is_some_and(|c| is_operator_for_list(c.text())) {
                            let paren = !s.as_str().starts_with('(');
                            if paren {
                                icond.push_glue("(", vat);
                            }
                            icond.push_mapped(&s.text);
                            if paren {
                                icond.push_glue(")", vat);
                            }
                        } else {
                            push_quoted(&mut icond, &s.text, vat);
                        }
                    }
                }
                icond.push_glue(")", eat);
            }
            icond.push_glue(")", eat);
            if icond.as_str() == "()" {
                icond = MappedText::new();
            }
        }
        if !icond.is_empty() {
            out.push_glue(" and not ", eat);
            out.push_mapped(&icond);
        }
    }
    Ok(out)
}

fn push_entry_text(out: &mut MappedText, e: &Entry, at: FileSpan) {
    match &e.item {
        Some(s) => out.push_mapped(&s.text),
        None => out.push_glue("", at),
    }
}

/// The characters that delimit a list name in a condition (Falco's `resolve_list`).
const LIST_DELIMS: &[u8] = b" \t\n\r(),=";

/// The maximal runs of non-delimiter characters of a text.
fn tokens_of(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_ascii() && LIST_DELIMS.contains(&(c as u8)))
        .filter(|t| !t.is_empty())
}

/// Falco's `resolve_list`: textual substitution of one list's items for its name. Returns whether it fired.
fn substitute_list(cnd: &mut MappedText, list: &ListState) -> bool {
    const BLANKS: &[u8] = b" \t\n\r";
    const DELIMS: &[u8] = LIST_DELIMS;
    let name = list.name.as_str();
    if name.is_empty() {
        return false;
    }
    let mut used = false;
    let mut search_from = 0usize;
    loop {
        let text = cnd.as_str();
        let Some(found) = text.get(search_from..).and_then(|t| t.find(name)) else {
            break;
        };
        let mut start = search_from + found;
        let bytes = text.as_bytes();
        let mut end = start + name.len();
        let before_ok = start == 0 || bytes.get(start - 1).is_some_and(|b| DELIMS.contains(b));
        let after_ok = end >= bytes.len() || bytes.get(end).is_some_and(|b| DELIMS.contains(b));
        if before_ok && after_ok {
            let ref_span = cnd
                .map_span(start as u32, end as u32)
                .map_or(FileSpan::point(crate::source::FileId(0), 0), |m| m.span);
            while start > 0 && bytes.get(start - 1).is_some_and(|b| BLANKS.contains(b)) {
                start -= 1;
            }
            while end < bytes.len() && bytes.get(end).is_some_and(|b| BLANKS.contains(b)) {
                end += 1;
            }
            let note = Insertion::List {
                name: list.name.clone(),
                defined: Some(list.defined),
            };
            let mut sub = MappedText::new();
            // The items are one inserted piece: every byte of it maps to the reference.
            sub.push_inserted(&list.joined, ref_span, note.clone());
            if sub.is_empty() {
                if start > 0 && bytes.get(start - 1) == Some(&b',') {
                    start -= 1;
                } else if end < bytes.len() && bytes.get(end) == Some(&b',') {
                    end += 1;
                }
            }
            let mut new = MappedText::new();
            if start > 0 {
                new.push_slice(cnd, 0, start);
                new.push_inserted(" ", ref_span, note.clone());
            }
            new.push_mapped(&sub);
            new.push_inserted(" ", ref_span, note);
            new.push_slice(cnd, end, cnd.len());
            let sub_len = sub.len();
            *cnd = new;
            start += sub_len + 1;
            used = true;
        }
        search_from = start + 1;
        while search_from < cnd.len() && !cnd.as_str().is_char_boundary(search_from) {
            search_from += 1;
        }
        if search_from > cnd.len() {
            break;
        }
    }
    used
}

/// Substitutes lists, parses, registers the text and shifts spans into the global space.
fn parse_text(
    text: &MappedText,
    lists: &mut Lists,
    cond_ctx: &Ctx,
    owner: Owner,
    sm: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Expr, u32)> {
    let mut cnd = text.clone();
    // Prefilter: a list name without delimiter characters can only be substituted where it is a whole token
    // of the text. Substitution inserts items between spaces, so the text's tokens plus the items' tokens of
    // every list substituted so far are a superset of the text's tokens at any step. Lists are tried in
    // definition order, as Falco does: the candidates are the non-plain lists, the lists named by a token of
    // the text, and (after a substitution) the later lists named by a token of the items it inserted.
    let mut candidates: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = lists
        .non_plain
        .iter()
        .copied()
        .chain(tokens_of(text.as_str()).filter_map(|t| lists.plain_by_name.get(t).copied()))
        .map(std::cmp::Reverse)
        .collect();
    let mut used = Vec::new();
    let mut last = None;
    while let Some(std::cmp::Reverse(i)) = candidates.pop() {
        if last.is_some_and(|l| l >= i) {
            continue;
        }
        last = Some(i);
        let Some(l) = lists.states.get(i) else {
            continue;
        };
        if substitute_list(&mut cnd, l) {
            used.push(i);
            if let Some(more) = lists.item_candidates.get(i) {
                candidates.extend(
                    more.iter()
                        .filter(|&&k| k > i)
                        .map(|&k| std::cmp::Reverse(k)),
                );
            }
        }
    }
    for i in used {
        if let Some(l) = lists.states.get_mut(i) {
            l.used = true;
        }
    }
    let source = cnd.as_str().to_string();
    match crate::parser::parse_condition(&source) {
        Ok(mut e) => {
            let base = sm.add_expansion(cnd, owner);
            shift_expr(&mut e, base);
            Some((e, base))
        }
        Err(err) => {
            let mut d = Diagnostic::new(Code::CompileCondition, err.message.clone());
            d.context = with_condition_expression(cond_ctx, &source, err.offset, err.line, err.col);
            d.alt_content = Some(source.clone());
            d.file = Some(cond_ctx.file);
            if let Some(m) = cnd.map(err.offset) {
                d.primary = Some(m.span);
                if let Some(Insertion::List {
                    name,
                    defined: Some(def),
                }) = m.inserted
                {
                    d.labels.push(Label {
                        span: def,
                        message: format!("list '{name}' is defined here"),
                    });
                }
            } else {
                d.primary = Some(cond_ctx.span);
            }
            diags.push(d);
            None
        }
    }
}

struct Resolver<'a> {
    macros: &'a mut Vec<MacroState>,
    /// The position in `macros` of the first macro of each name.
    by_name: &'a HashMap<String, usize, FxBuild>,
    visibility: u32,
    stack: Vec<String>,
    error: Option<(String, crate::ast::Span, Option<String>)>,
    blocked: bool,
}

impl Resolver<'_> {
    /// "did you mean" for an undefined macro: the closest visible macro name within two edits, or a macro
    /// of that name that exists but is defined too late to be visible here.
    fn suggest_macro(&self, name: &str) -> Option<String> {
        if self.macros.iter().any(|m| m.name == name) {
            return Some(format!(
                "macro '{name}' is defined, but after this item; a macro can only use macros defined before it"
            ));
        }
        self.macros
            .iter()
            .filter(|m| m.index < self.visibility)
            .map(|m| (super::reader::edit_distance(name, &m.name), &m.name))
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| format!("did you mean '{n}'?"))
    }

    fn resolve(&mut self, e: Expr) -> Option<Expr> {
        let Expr { kind, span } = e;
        let kind = match kind {
            ExprKind::And(v) => ExprKind::And(
                v.into_iter()
                    .map(|x| self.resolve(x))
                    .collect::<Option<_>>()?,
            ),
            ExprKind::Or(v) => ExprKind::Or(
                v.into_iter()
                    .map(|x| self.resolve(x))
                    .collect::<Option<_>>()?,
            ),
            ExprKind::Not(x) => ExprKind::Not(Box::new(self.resolve(*x)?)),
            ExprKind::Macro(name) => return self.inline(name, span),
            k @ ExprKind::Check(_) => k,
        };
        Some(Expr { kind, span })
    }

    fn inline(&mut self, name: String, span: crate::ast::Span) -> Option<Expr> {
        let idx = self.by_name.get(&name).copied().and_then(|i| {
            let m = self.macros.get(i)?;
            if m.index < self.visibility {
                Some(i)
            } else {
                // A later macro of the same name (never produced by the collector) may still be visible.
                self.macros
                    .iter()
                    .skip(i + 1)
                    .position(|m| m.name == name && m.index < self.visibility)
                    .map(|j| i + 1 + j)
            }
        });
        let Some(idx) = idx else {
            if self.error.is_none() {
                let help = self.suggest_macro(&name);
                self.error = Some((
                    format!("Undefined macro '{name}' used in filter."),
                    span,
                    help,
                ));
            }
            return None;
        };
        if self.stack.contains(&name) {
            if self.error.is_none() {
                self.error = Some((format!("reference loop in macro '{name}'"), span, None));
            }
            return None;
        }
        let m = self.macros.get_mut(idx)?;
        m.used = true;
        if m.failed {
            self.blocked = true;
            return Some(Expr {
                kind: ExprKind::Macro(name),
                span,
            });
        }
        if let Some(r) = &m.resolved {
            // Already resolved: mark the macros it inlined as used too (they were when it was resolved).
            return Some(r.clone());
        }
        let parsed = m.parsed.clone()?;
        self.stack.push(name);
        let out = self.resolve(parsed);
        self.stack.pop();
        out
    }
}

fn resolution_error(
    sm: &SourceMap,
    item_ctx: &Ctx,
    cond_ctx: &Ctx,
    msg: &str,
    span: crate::ast::Span,
) -> Diagnostic {
    let mut d = Diagnostic::new(Code::Validate, msg);
    d.file = Some(item_ctx.file);
    let exp = sm.expansion(span.start);
    let (text, local) = exp.map_or((String::new(), 0), |e| {
        (e.text.as_str().to_string(), span.start - e.base)
    });
    let (l, c) = line_col_in(&text, local);
    d.context = with_condition_expression(item_ctx, &text, local, l, c);
    d.alt_content = Some(text);
    d.primary = sm
        .resolve(span.start, span.end)
        .map(|m| m.span)
        .or(Some(cond_ctx.span));
    if let Some(e) = exp
        && let Owner::Macro(name) = &e.owner
        && !matches!(item_ctx.last_item(), ("macro", n) if n == name)
    {
        d.chain.push(Label {
            span: d.primary.unwrap_or(cond_ctx.span),
            message: format!("macro '{name}'"),
        });
    }
    d
}

/// 1-based line and column of a byte offset in a text (as the parser reports them).
fn line_col_in(text: &str, offset: u32) -> (u32, u32) {
    let before = text.get(..offset as usize).unwrap_or(text);
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    (line, col)
}

/// A diagnostic for a problem at a global span of a resolved rule tree, with the chain of macros leading to
/// it.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site; grouping would only rename the arguments"
)]
fn located(
    sm: &SourceMap,
    rule_base: u32,
    cond_ctx: &Ctx,
    rule_ctx: &Ctx,
    code: Code,
    msg: &str,
    start: u32,
    end: u32,
    root: &Expr,
) -> Diagnostic {
    let mut d = Diagnostic::new(code, msg);
    d.file = Some(rule_ctx.file);
    // Falco's `condition expression` entry names the rule's condition text. When the problem is inside a
    // macro, its position is not in that text, so (as Falco's warning resolver does) it points at the start.
    let exp = sm.expansion(start);
    let rule_exp = sm.expansion(rule_base);
    let text = rule_exp.map_or_else(String::new, |e| e.text.as_str().to_string());
    let local = match (exp, rule_exp) {
        (Some(a), Some(b)) if a.base == b.base => start - a.base,
        _ => 0,
    };
    let (l, c) = line_col_in(&text, local);
    d.context = with_condition_expression(cond_ctx, &text, local, l, c);
    d.alt_content = Some(text);
    let mapped = sm.resolve(start, end);
    d.primary = mapped.as_ref().map(|m| m.span).or(Some(cond_ctx.span));
    if let Some(Insertion::List {
        name,
        defined: Some(def),
    }) = mapped.and_then(|m| m.inserted)
    {
        d.labels.push(Label {
            span: def,
            message: format!("list '{name}' is defined here"),
        });
    }
    // The macros on the path from the root to the node.
    let mut path = Vec::new();
    if let Some(Owner::Macro(name)) = sm.expansion(root.span.start).map(|e| e.owner.clone()) {
        // The whole condition is one macro.
        let span = sm
            .resolve(root.span.start, root.span.end)
            .map_or(cond_ctx.span, |m| m.span);
        path.push((name, span));
    }
    macro_path(sm, root, start, &mut path);
    for (name, span) in path {
        d.chain.push(Label {
            span,
            message: format!("macro '{name}'"),
        });
    }
    d
}

fn macro_path(sm: &SourceMap, root: &Expr, target: u32, out: &mut Vec<(String, FileSpan)>) {
    let owner_of = |s: u32| sm.expansion(s).map(|e| e.owner.clone());
    let mut prev = None;
    let mut cur = root;
    loop {
        let o = owner_of(cur.span.start);
        if prev.is_some()
            && o != prev
            && let Some(Owner::Macro(name)) = &o
        {
            let span = sm
                .resolve(cur.span.start, cur.span.end)
                .map_or(FileSpan::point(crate::source::FileId(0), 0), |m| m.span);
            out.push((name.clone(), span));
        }
        prev = o;
        let children: &[Expr] = match &cur.kind {
            ExprKind::And(v) | ExprKind::Or(v) => v,
            ExprKind::Not(x) => std::slice::from_ref(x.as_ref()),
            _ => return,
        };
        let Some(next) = children.iter().find(|c| contains_global(sm, c, target)) else {
            return;
        };
        cur = next;
    }
}

fn contains_global(sm: &SourceMap, e: &Expr, target: u32) -> bool {
    let same = match (sm.expansion(e.span.start), sm.expansion(target)) {
        (Some(a), Some(b)) => a.base == b.base,
        _ => false,
    };
    if same && e.span.start <= target && target <= e.span.end {
        return true;
    }
    match &e.kind {
        ExprKind::And(v) | ExprKind::Or(v) => v.iter().any(|c| contains_global(sm, c, target)),
        ExprKind::Not(x) => contains_global(sm, x, target),
        ExprKind::Check(c) => {
            c.op_span.start <= target && target <= c.op_span.end
                || c.lhs.span().start <= target && target <= c.lhs.span().end
                || c.rhs
                    .as_ref()
                    .is_some_and(|v| v.span().start <= target && target <= v.span().end)
        }
        ExprKind::Macro(_) => false,
    }
}

fn is_unknown_type_or_field(err: &str) -> bool {
    err.contains("nonexistent field")
        || err.contains("invalid formatting token")
        || err.contains("unknown event type")
        || err.contains("unknown filter:")
}

/// Splits our checker's `<Falco's message>; <what to do>` into Falco's message and a help line, so that
/// messages stay exactly Falco's (scripts match on them) and the advice is shown as help.
fn split_hint(msg: &str) -> (&str, Option<String>) {
    match msg.split_once("; ") {
        Some((m, h)) if !h.is_empty() => (m, Some(h.to_string())),
        _ => (msg, None),
    }
}

/// Validates an output format; on failure returns the message and the byte offset of the problem.
fn validate_output(output: &str) -> Result<(), (String, u32)> {
    crate::output::parse_output(output)
        .map(|_| ())
        .map_err(|e| (e.message, e.offset))
}

/// Adds `base` to every span in the tree.
pub fn shift_expr(e: &mut Expr, base: u32) {
    shift(&mut e.span, base);
    match &mut e.kind {
        ExprKind::And(v) | ExprKind::Or(v) => v.iter_mut().for_each(|c| shift_expr(c, base)),
        ExprKind::Not(x) => shift_expr(x, base),
        ExprKind::Macro(_) => {}
        ExprKind::Check(c) => {
            shift(&mut c.op_span, base);
            shift_operand(&mut c.lhs, base);
            if let Some(v) = &mut c.rhs {
                match v {
                    Value::Literal(l) => shift(&mut l.span, base),
                    Value::List(items, s) => {
                        shift(s, base);
                        items.iter_mut().for_each(|l| shift(&mut l.span, base));
                    }
                    Value::ListRef(_, s) => shift(s, base),
                    Value::Field(f, s) => {
                        shift(s, base);
                        shift(&mut f.span, base);
                    }
                    Value::ValWithArg(f, _, s) => {
                        shift(s, base);
                        shift(&mut f.span, base);
                    }
                    Value::Transform(t) => shift_transform(t, base),
                }
            }
        }
    }
}

fn shift(s: &mut crate::ast::Span, base: u32) {
    s.start = s.start.saturating_add(base);
    s.end = s.end.saturating_add(base);
}

fn shift_operand(o: &mut Operand, base: u32) {
    match o {
        Operand::Field(f) => shift(&mut f.span, base),
        Operand::Transform(t) => shift_transform(t, base),
    }
}

fn shift_transform(t: &mut crate::ast::Transform, base: u32) {
    shift(&mut t.span, base);
    t.args.iter_mut().for_each(|a| shift_arg(a, base));
}

fn shift_arg(a: &mut TransformArg, base: u32) {
    match a {
        TransformArg::Operand(o) => shift_operand(o, base),
        TransformArg::Literal(l) => shift(&mut l.span, base),
        TransformArg::List(v, s) => {
            shift(s, base);
            v.iter_mut().for_each(|x| shift_arg(x, base));
        }
    }
}
