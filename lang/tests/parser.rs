//! Data-driven conformance suite of the condition parser and printer.
//!
//! Every `tests/data/parser/*.yaml` file is a list of cases; each case is one test named `<file>/<name>`.
//! A case gives an `input` condition and what libsinsp does with it:
//!
//! - `print`: the condition parses and prints (canonical form, `condition_compiled`) as given;
//! - `accept: true`: it parses (when the printed form is not the point);
//! - `error`: it is rejected with exactly this message; `at: "idx line col"` pins where;
//! - `reject: true`: it is rejected (upstream only asserts that, and the message is pinned elsewhere).
//!
//! Optional checks on accepted cases: `positions` (libsinsp's `pos_visitor` string: node kind followed by
//! `idx line col`, pre-order), `spans` (`kind start..end`, pre-order, space separated), `values` (every
//! literal's bytes, printable ASCII as is, `\\` and `\xHH` otherwise), `eof` (`idx line col` of the end of
//! input), `variants: true` (also accepted with surrounding blanks and with spaces turned into newlines,
//! then tabs — upstream's `test_accept`), `max_depth`. The printed form must parse again and print
//! identically, unless the case says `roundtrip: false` — then it must not (folded `not`s, empty values, NULs).
//!
//! Programmatic cases at the bottom cover inputs YAML cannot hold conveniently: 100 000 `(`, megabyte
//! conditions, and every control character in every position of a set of templates.

use std::path::{Path, PathBuf};

use frule_lang::ast::{Expr, ExprKind, Operand, Span, TransformArg, Value};
use frule_lang::parser::{
    LineIndex, MAX_SUPPORTED_DEPTH, ParseError, parse_condition, parse_condition_with_depth,
};
use frule_lang::print::{condition_to_bytes, condition_to_string};
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    input: String,
    #[serde(default)]
    print: Option<String>,
    #[serde(default)]
    accept: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    reject: bool,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    positions: Option<String>,
    #[serde(default)]
    spans: Option<String>,
    #[serde(default)]
    values: Option<Vec<String>>,
    #[serde(default)]
    eof: Option<String>,
    #[serde(default)]
    variants: bool,
    #[serde(default = "yes")]
    roundtrip: bool,
    #[serde(default)]
    max_depth: Option<u32>,
}

fn yes() -> bool {
    true
}

fn parse(input: &str, max_depth: Option<u32>) -> Result<Expr, ParseError> {
    match max_depth {
        Some(d) => parse_condition_with_depth(input, d),
        None => parse_condition(input),
    }
}

fn run_case(case: &Case) -> Result<(), Failed> {
    let expects_ok = case.print.is_some() || case.accept;
    let expects_err = case.error.is_some() || case.reject;
    if expects_ok == expects_err {
        return Err("case must say exactly one of print/accept or error/reject".into());
    }
    let res = parse(&case.input, case.max_depth);
    if expects_err {
        let err = match res {
            Ok(e) => {
                return Err(format!("accepted, printed as {:?}", condition_to_string(&e)).into());
            }
            Err(err) => err,
        };
        check_error_position(&case.input, &err)?;
        if let Some(want) = &case.error
            && &err.message != want
        {
            return Err(format!("message\n  got:  {}\n  want: {}", err.message, want).into());
        }
        if let Some(at) = &case.at {
            let got = format!("{} {} {}", err.offset, err.line, err.col);
            if &got != at {
                return Err(
                    format!("error position: got {got}, want {at} ({})", err.message).into(),
                );
            }
        }
        return Ok(());
    }
    let expr = res.map_err(|e| {
        format!(
            "rejected at {} {} {}: {}",
            e.offset, e.line, e.col, e.message
        )
    })?;
    let printed = condition_to_string(&expr);
    if let Some(want) = &case.print
        && &printed != want
    {
        return Err(format!("printed form\n  got:  {printed}\n  want: {want}").into());
    }
    let nodes = walk(&expr);
    let index = LineIndex::new(&case.input);
    if let Some(want) = &case.positions {
        let got: String = nodes
            .iter()
            .map(|(kind, span)| {
                let (line, col) = index.line_col(span.start);
                format!("{kind}{} {line} {col}", span.start)
            })
            .collect();
        if &got != want {
            return Err(format!("positions\n  got:  {got}\n  want: {want}").into());
        }
    }
    if let Some(want) = &case.spans {
        let got: Vec<String> = nodes
            .iter()
            .map(|(k, s)| format!("{k} {}..{}", s.start, s.end))
            .collect();
        let got = got.join(" ");
        if &got != want {
            return Err(format!("spans\n  got:  {got}\n  want: {want}").into());
        }
    }
    for (kind, span) in &nodes {
        if span.start > span.end || span.end as usize > case.input.len() {
            return Err(format!("{kind} has a bad span {span:?}").into());
        }
    }
    if let Some(want) = &case.values {
        let got = values(&expr);
        if &got != want {
            return Err(format!("values\n  got:  {got:?}\n  want: {want:?}").into());
        }
    }
    if let Some(want) = &case.eof {
        let len = u32::try_from(case.input.len()).map_err(|_| "input too long")?;
        let (line, col) = index.line_col(len);
        let got = format!("{len} {line} {col}");
        if &got != want {
            return Err(format!("end of input: got {got}, want {want}").into());
        }
    }
    if case.variants {
        let spaced = format!(" {} ", case.input);
        let newlines = spaced.replace(' ', "\n");
        let tabs = newlines.replace('\n', "\t");
        for v in [spaced, newlines, tabs] {
            if let Err(e) = parse(&v, case.max_depth) {
                return Err(format!("variant {v:?} rejected: {}", e.message).into());
            }
        }
    }
    let bytes = condition_to_bytes(&expr);
    let reproduces = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|s| parse(s, case.max_depth).ok())
        .is_some_and(|again| condition_to_bytes(&again) == bytes);
    if reproduces != case.roundtrip {
        return Err(if case.roundtrip {
            format!("printed form {printed:?} does not parse back to itself")
        } else {
            "roundtrip: false, but the printed form parses back to itself".to_string()
        }
        .into());
    }
    Ok(())
}

/// An error must be located inside the input, with line and column agreeing with its offset.
fn check_error_position(input: &str, err: &ParseError) -> Result<(), Failed> {
    if err.offset as usize > input.len() {
        return Err(format!("error offset {} beyond the input", err.offset).into());
    }
    let (line, col) = LineIndex::new(input).line_col(err.offset);
    if (line, col) != (err.line, err.col) {
        return Err(format!(
            "error at {} has line/col {}:{}, expected {line}:{col}",
            err.offset, err.line, err.col
        )
        .into());
    }
    Ok(())
}

/// Pre-order list of `(kind, span)` with libsinsp's node-kind names.
fn walk(expr: &Expr) -> Vec<(&'static str, Span)> {
    let mut out = Vec::new();
    walk_expr(expr, &mut out);
    out
}

fn walk_expr(expr: &Expr, out: &mut Vec<(&'static str, Span)>) {
    match &expr.kind {
        ExprKind::And(c) | ExprKind::Or(c) => {
            out.push((
                if matches!(expr.kind, ExprKind::And(_)) {
                    "and"
                } else {
                    "or"
                },
                expr.span,
            ));
            c.iter().for_each(|c| walk_expr(c, out));
        }
        ExprKind::Not(c) => {
            out.push(("not", expr.span));
            walk_expr(c, out);
        }
        ExprKind::Macro(_) => out.push(("identifier", expr.span)),
        ExprKind::Check(check) => {
            out.push((
                if check.rhs.is_some() {
                    "binary"
                } else {
                    "unary"
                },
                expr.span,
            ));
            walk_operand(&check.lhs, out);
            match &check.rhs {
                None => {}
                Some(Value::Literal(l)) => out.push(("value", l.span)),
                Some(Value::ListRef(_, s)) => out.push(("value", *s)),
                Some(Value::List(_, s)) => out.push(("list", *s)),
                Some(Value::Field(f, s)) | Some(Value::ValWithArg(f, _, s)) => {
                    out.push(("transformer", *s));
                    out.push(("field", f.span));
                }
                Some(Value::Transform(t)) => walk_operand(&Operand::Transform(t.clone()), out),
            }
        }
    }
}

fn walk_operand(op: &Operand, out: &mut Vec<(&'static str, Span)>) {
    match op {
        Operand::Field(f) => out.push(("field", f.span)),
        Operand::Transform(t) => {
            out.push(("transformer", t.span));
            t.args.iter().for_each(|a| walk_arg(a, out));
        }
    }
}

fn walk_arg(arg: &TransformArg, out: &mut Vec<(&'static str, Span)>) {
    match arg {
        TransformArg::Operand(o) => walk_operand(o, out),
        TransformArg::Literal(l) => out.push(("value", l.span)),
        TransformArg::List(items, s) => {
            out.push(("transformer_list", *s));
            items.iter().for_each(|a| walk_arg(a, out));
        }
    }
}

/// Every literal value in pre-order, rendered readably.
fn values(expr: &Expr) -> Vec<String> {
    fn render(b: &[u8]) -> String {
        b.iter()
            .map(|&c| match c {
                b'\\' => "\\\\".to_string(),
                0x20..=0x7e => (c as char).to_string(),
                _ => format!("\\x{c:02x}"),
            })
            .collect()
    }
    fn args(a: &[TransformArg], out: &mut Vec<String>) {
        for a in a {
            match a {
                TransformArg::Literal(l) => out.push(render(&l.bytes)),
                TransformArg::List(items, _) => args(items, out),
                TransformArg::Operand(Operand::Transform(t)) => args(&t.args, out),
                TransformArg::Operand(Operand::Field(_)) => {}
            }
        }
    }
    fn go(e: &Expr, out: &mut Vec<String>) {
        match &e.kind {
            ExprKind::And(c) | ExprKind::Or(c) => c.iter().for_each(|c| go(c, out)),
            ExprKind::Not(c) => go(c, out),
            ExprKind::Macro(_) => {}
            ExprKind::Check(check) => {
                if let Operand::Transform(t) = &check.lhs {
                    args(&t.args, out);
                }
                match &check.rhs {
                    Some(Value::Literal(l)) => out.push(render(&l.bytes)),
                    Some(Value::List(items, _)) => {
                        items.iter().for_each(|l| out.push(render(&l.bytes)))
                    }
                    Some(Value::ListRef(n, _)) => out.push(render(n.as_bytes())),
                    Some(Value::Transform(t)) => args(&t.args, out),
                    _ => {}
                }
            }
        }
    }
    let mut out = Vec::new();
    go(expr, &mut out);
    out
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parser")
}

fn load_trials() -> Result<Vec<Trial>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .map_err(|e| format!("reading {}: {e}", data_dir().display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut trials = Vec::new();
    for path in files {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let cases: Vec<Case> =
            serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut seen = std::collections::HashSet::new();
        for case in cases {
            if !seen.insert(case.name.clone()) {
                return Err(format!(
                    "{}: duplicate case name {:?}",
                    path.display(),
                    case.name
                ));
            }
            let name = format!("{stem}/{}", case.name);
            trials.push(Trial::test(name, move || run_case(&case)));
        }
    }
    Ok(trials)
}

// ----- programmatic cases -------------------------------------------------------------------------------

/// 100 000 `(`: the clean depth error, never a stack overflow. With Falco's limit the guard trips inside the
/// 200th group: each group costs five productions (or, and, not, check, group remainder).
fn deep_parens() -> Result<(), Failed> {
    let input = "(".repeat(100_000);
    let err = parse_condition(&input).err().ok_or("accepted")?;
    if err.message != "exceeded max depth limit of 1000"
        || (err.offset, err.line, err.col) != (200, 1, 201)
    {
        return Err(format!("got {err:?}").into());
    }
    let err = parse_condition_with_depth(&input, 100)
        .err()
        .ok_or("accepted")?;
    if err.message != "exceeded max depth limit of 100" {
        return Err(format!("got {err:?}").into());
    }
    Ok(())
}

/// The deepest legal nesting of groups and of `not(`: parses, prints and drops without trouble, and one
/// level more is the depth error.
fn deepest_legal_trees() -> Result<(), Failed> {
    for (open, close, inner) in [
        ("(", ")", "a"),
        ("not(", ")", "a"),
        ("(", ")", "b64(a.b) = x"),
    ] {
        let nested = |k: usize| format!("{}{inner}{}", open.repeat(k), close.repeat(k));
        let mut deepest = 0;
        for k in 1..400 {
            if parse_condition(&nested(k)).is_err() {
                break;
            }
            deepest = k;
        }
        if !(150..=250).contains(&deepest) {
            return Err(format!("{open}: deepest legal nesting {deepest}").into());
        }
        let expr = parse_condition(&nested(deepest)).map_err(|e| e.message)?;
        let printed = condition_to_string(&expr);
        if printed.is_empty() {
            return Err("empty print".into());
        }
        drop(expr);
        let err = parse_condition(&nested(deepest + 1))
            .err()
            .ok_or("one more level accepted")?;
        if err.message != "exceeded max depth limit of 1000" {
            return Err(format!("{open}: got {err:?}").into());
        }
    }
    Ok(())
}

/// Random conditions glued from the language's token fragments (a fixed-seed xorshift generator, so the run is
/// reproducible): every one parses or fails with a located error; accepted trees have in-bounds spans.
fn random_token_soup() -> Result<(), Failed> {
    const FRAGMENTS: &[&str] = &[
        "a",
        "proc.name",
        "evt.arg[0]",
        "evt.arg[",
        "]",
        "(",
        ")",
        " ",
        "\t",
        "\n",
        "\r",
        "\x08",
        "\x0c",
        "and",
        "or",
        "not",
        "not(",
        "and(",
        "or(",
        "=",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "exists",
        "in",
        "intersects",
        "pmatch",
        "contains ",
        "startswith ",
        "glob ",
        "regex ",
        "oneof ",
        "anyof ",
        "allof",
        ",",
        "'",
        "\"",
        "\\",
        "\\x4",
        "\\xff",
        "'a b'",
        "\"x\\\"y\"",
        "1",
        "-1.5e+3",
        "0x1f",
        "1e10",
        "val(",
        "tolower(",
        "b64(",
        "join(",
        "getopt(",
        "concat(",
        "[t]",
        "*.log",
        "/etc/",
        "\0",
        "é",
        "日本",
        ".",
        "_",
        "#",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut accepted, mut rejected) = (0u32, 0u32);
    for _ in 0..20_000 {
        let len = 1 + next() % 12;
        let mut text = String::new();
        for _ in 0..len {
            let i = usize::try_from(next() % FRAGMENTS.len() as u64).unwrap_or(0);
            text.push_str(FRAGMENTS.get(i).copied().unwrap_or(" "));
        }
        match parse_condition(&text) {
            Ok(expr) => {
                for (kind, span) in walk(&expr) {
                    if span.start > span.end || span.end as usize > text.len() {
                        return Err(format!("{text:?}: {kind} has a bad span {span:?}").into());
                    }
                }
                let _ = condition_to_bytes(&expr);
                accepted += 1;
            }
            Err(err) => {
                check_error_position(&text, &err).map_err(|f| format!("{text:?}: {f:?}"))?;
                rejected += 1;
            }
        }
    }
    if accepted < 100 || rejected < 100 {
        return Err(format!("implausible mix: {accepted} accepted, {rejected} rejected").into());
    }
    Ok(())
}

/// Depth limits above the supported maximum are lowered to it; trees near that maximum still parse, print and
/// drop on a test thread's stack, and the error for more is clean.
fn supported_depth_cap() -> Result<(), Failed> {
    let nested = |k: usize| format!("{}a{}", "not(".repeat(k), ")".repeat(k));
    // every `not(` is its own production, so nothing folds: a chain of 2 000 `not` nodes
    let expr = parse_condition_with_depth(&nested(2000), u32::MAX).map_err(|e| e.message)?;
    let printed = condition_to_string(&expr);
    if printed != format!("{}a", "not ".repeat(2000)) {
        return Err("2000 not( should print as 2000 nots".into());
    }
    drop(expr);
    let err = parse_condition_with_depth(&"(".repeat(100_000), u32::MAX)
        .err()
        .ok_or("accepted")?;
    if err.message != format!("exceeded max depth limit of {MAX_SUPPORTED_DEPTH}") {
        return Err(format!("got {err:?}").into());
    }
    Ok(())
}

/// Megabyte-sized conditions: a long `or` chain, a long list and a long bare string.
fn megabyte_conditions() -> Result<(), Failed> {
    let mut chain = String::new();
    let mut i = 0;
    while chain.len() < 1 << 20 {
        if i > 0 {
            chain.push_str(" or ");
        }
        chain.push_str(&format!("proc.name = x{i}"));
        i += 1;
    }
    let expr = parse_condition(&chain).map_err(|e| e.message)?;
    match &expr.kind {
        ExprKind::Or(c) if c.len() == i => {}
        _ => return Err("expected one n-ary or".into()),
    }
    let printed = condition_to_string(&expr);
    if printed.len() != chain.len() + 2 {
        return Err("printed chain has an unexpected length".into());
    }
    let items: Vec<String> = (0..100_000).map(|i| format!("/usr/bin/item{i}")).collect();
    let list = format!("proc.exepath in ({})", items.join(", "));
    let expr = parse_condition(&list).map_err(|e| e.message)?;
    if condition_to_string(&expr) != list {
        return Err("list does not print back".into());
    }
    let bare = format!("fd.name = {}", "a".repeat(1 << 20));
    parse_condition(&bare).map_err(|e| e.message)?;
    let unterminated = format!("fd.name = \"{}", "a".repeat(1 << 20));
    let err = parse_condition(&unterminated)
        .err()
        .ok_or("unterminated string accepted")?;
    if err.offset != 10 {
        return Err(format!("unterminated string located at {}", err.offset).into());
    }
    Ok(())
}

/// Every ASCII control character and DEL, at every position of a set of templates: a result or a located
/// error, never a panic.
fn control_characters() -> Result<(), Failed> {
    let templates = [
        "proc.name = cat and not fd.name in (a, 'b') or evt.arg[x] exists",
        "tolower(proc.name) == oneof (a, b) and join(\",\", (fd.name, 'x')) = val(fd.name)",
        "proc.name = \"a\\x41 b\" and test.num > -1.5e+3",
    ];
    let mut accepted = 0;
    let mut rejected = 0;
    for t in templates {
        for at in 0..=t.len() {
            for c in (0u8..0x20).chain([0x7f]) {
                let mut s = t.as_bytes().to_vec();
                s.insert(at, c);
                let Ok(s) = String::from_utf8(s) else {
                    continue;
                };
                match parse_condition(&s) {
                    Ok(e) => {
                        let _ = condition_to_bytes(&e);
                        accepted += 1;
                    }
                    Err(err) => {
                        check_error_position(&s, &err).map_err(|f| format!("{s:?}: {f:?}"))?;
                        rejected += 1;
                    }
                }
            }
        }
    }
    if accepted == 0 || rejected == 0 {
        return Err(format!("implausible: {accepted} accepted, {rejected} rejected").into());
    }
    Ok(())
}

/// Where the shared test data lives (`FRULE_CORPUS`, default `<workspace>/../shared/corpus`).
fn corpus_dir() -> PathBuf {
    std::env::var_os("FRULE_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    )
}

/// One item of a rules file, as far as conditions are concerned.
#[derive(Deserialize)]
struct RulesItem {
    #[serde(default, rename = "macro")]
    macro_name: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    append: Option<bool>,
    #[serde(default, rename = "override")]
    override_keys: Option<serde::de::IgnoredAny>,
}

fn rules_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rules_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// Every macro and rule condition of the real rules files in the corpus parses on its own (appends and
/// overrides are fragments and are skipped; list names inside `in (...)` parse as plain values).
fn corpus_conditions() -> Result<(), Failed> {
    let root = corpus_dir().join("rules");
    if !root.is_dir() {
        println!(
            "skipped: no corpus at {} (set FRULE_CORPUS)",
            root.display()
        );
        return Ok(());
    }
    let mut files = Vec::new();
    rules_files(&root, &mut files);
    files.sort();
    let (mut parsed, mut failures) = (0, Vec::new());
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let Ok(items) = serde_saphyr::from_str::<Vec<RulesItem>>(&text) else {
            continue;
        };
        for item in items {
            let (Some(cond), None, None | Some(false)) =
                (&item.condition, &item.override_keys, item.append)
            else {
                continue;
            };
            let name = item.rule.or(item.macro_name).unwrap_or_default();
            match parse_condition(cond) {
                Ok(_) => parsed += 1,
                Err(e) => failures.push(format!(
                    "{}: {name}: {} at {}:{}",
                    f.display(),
                    e.message,
                    e.line,
                    e.col
                )),
            }
        }
    }
    if !failures.is_empty() {
        return Err(failures.join("\n").into());
    }
    println!("{parsed} conditions from {} files parsed", files.len());
    if parsed < 500 {
        return Err(format!("only {parsed} conditions found in {}", root.display()).into());
    }
    Ok(())
}

/// The upstream rulesets expanded into single sysdig filters (`shared/bench`, what libsinsp 0.29 compiles)
/// parse. Their printed forms are not re-parsed: an empty value such as `proc.args = ''` prints as nothing,
/// exactly as in libsinsp, so `condition_compiled` is not always valid input.
fn bench_filters() -> Result<(), Failed> {
    let dir = corpus_dir().join("../bench");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect(),
        Err(_) => {
            println!("skipped: no bench filters at {}", dir.display());
            return Ok(());
        }
    };
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let expr = parse_condition(text.trim_end())
            .map_err(|e| format!("{}: {} at {}", f.display(), e.message, e.offset))?;
        if !matches!(expr.kind, ExprKind::Or(_)) || condition_to_string(&expr).is_empty() {
            return Err(format!("{}: expected an or of rules", f.display()).into());
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = match load_trials() {
        Ok(t) => t,
        Err(e) => vec![Trial::test("load case files", move || {
            Err(e.clone().into())
        })],
    };
    trials.push(Trial::test("generated/deep_parens", deep_parens));
    trials.push(Trial::test(
        "generated/deepest_legal_trees",
        deepest_legal_trees,
    ));
    trials.push(Trial::test(
        "generated/megabyte_conditions",
        megabyte_conditions,
    ));
    trials.push(Trial::test(
        "generated/control_characters",
        control_characters,
    ));
    trials.push(Trial::test(
        "generated/supported_depth_cap",
        supported_depth_cap,
    ));
    trials.push(Trial::test(
        "generated/random_token_soup",
        random_token_soup,
    ));
    trials.push(Trial::test("corpus/rules_conditions", corpus_conditions));
    trials.push(Trial::test("corpus/bench_filters", bench_filters));
    libtest_mimic::run(&args, trials).exit();
}
