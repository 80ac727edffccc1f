//! Differential evaluation: structured, well-typed conditions over the real field schema and events
//! for them, evaluated by the unoptimized VM (memoizing and plain), the VM on the programs of every
//! optimization level, and the JIT on the unoptimized and the fully optimized program. Any disagreement
//! is a bug in one of them and aborts with the condition, the event and both answers.
//!
//! The input is read with [`arbitrary::Unstructured`]: first one to four rule conditions, generated as
//! Falco condition text (fields of every operator class, boundary and hostile constants, quoted strings
//! with `\xNN` escapes, lists, modifiers, transformers, `val()`), which then go through the real front
//! end (parse, type check) and lowering; conditions the checker refuses are dropped. Then up to four
//! events over the fields the program loads: each field missing or present, with empty, huge or
//! non-UTF-8 strings, boundary integers, NaN and infinities, IPv4 and IPv6 addresses.
//!
//! Invariants: every backend computes the same `matches` list and the same per-rule answer; every
//! optimized program verifies.

use std::net::IpAddr;

use arbitrary::{Result, Unstructured};
use frule_codegen::abi::{MapEvent, OwnedValue, ScalarKind};
use frule_codegen::ir::{self, Program};
use frule_codegen::lower::Lowerer;
use frule_codegen::{jit, opt, verify, vm};
use frule_lang::fields::{ArgKind, FieldType, TypeClass};

/// A schema field usable in generated conditions, with how it is written.
#[derive(Clone, Debug)]
struct Usable {
    text: String,
    ty: FieldType,
    list: bool,
    transformable: bool,
    rhs: bool,
}

fn usable_fields() -> &'static [Usable] {
    static FIELDS: std::sync::OnceLock<Vec<Usable>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut out = Vec::new();
        for id in frule_lang::fields::all() {
            let info = id.info();
            if info.flags.print_only || info.flags.deprecated {
                continue;
            }
            let mut names = Vec::new();
            match info.arg {
                ArgKind::None => names.push(info.name.to_string()),
                ArgKind::IndexAllowed => {
                    names.push(info.name.to_string());
                    names.push(format!("{}[1]", info.name));
                    names.push(format!("{}[3]", info.name));
                }
                ArgKind::KeyAllowed | ArgKind::KeyRequired => {
                    names.push(format!("{}[HOME]", info.name));
                }
                ArgKind::EventArg => {
                    names.push(format!("{}.name", info.name));
                    names.push(format!("{}[0]", info.name));
                }
                _ => {}
            }
            for text in names {
                out.push(Usable {
                    text,
                    ty: info.ty,
                    list: info.flags.list,
                    transformable: !info.flags.no_transformer,
                    rhs: !info.flags.no_rhs,
                });
            }
        }
        out
    })
}

const INTS: [&str; 15] = [
    "0",
    "1",
    "-1",
    "2",
    "42",
    "255",
    "256",
    "65535",
    "2147483647",
    "-2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
];

const STRINGS: [&[u8]; 16] = [
    b"",
    b"bash",
    b"BASH",
    b"/etc/shadow",
    b"/etc/",
    b"/etc",
    b"*sh",
    b"/etc/*",
    b"[a-c]?sh",
    b"\xff\xfe\x00bash",
    b"bash\x00",
    "\u{e9}/\u{fc}".as_bytes(),
    b"YmFzaA==",
    b"/",
    b"a b",
    b"..",
];

const IPS: [&str; 8] = [
    "10.0.0.1",
    "127.0.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "::1",
    "2001:db8::1",
    "::ffff:10.0.0.1",
    "::",
];

const NETS: [&str; 6] = [
    "10.0.0.0/8",
    "0.0.0.0/0",
    "2001:db8::/32",
    "127.0.0.1/32",
    "::/0",
    "192.168.0.0/16",
];

const REGEXES: [&str; 5] = ["ba.*", ".*sh$", "^/etc/[a-z]+", "\\x41", "(a|b)+"];

/// Writes `bytes` as a double-quoted condition string, escaping everything but plain characters.
fn quoted(bytes: &[u8], out: &mut String) {
    out.push('"');
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"/._-*?[]:=, ".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
}

fn string_const(u: &mut Unstructured<'_>, out: &mut String) -> Result<()> {
    match u.int_in_range(0..=7u8)? {
        0 => {
            let len = u.int_in_range(0..=16usize)?;
            let bytes = u.bytes(len)?;
            quoted(bytes, out);
        }
        1 => quoted(&b"x".repeat(u.int_in_range(100..=70_000usize)?), out),
        _ => quoted(u.choose(&STRINGS)?, out),
    }
    Ok(())
}

fn number_const(u: &mut Unstructured<'_>, ty: FieldType, out: &mut String) -> Result<()> {
    if ty == FieldType::Port {
        out.push_str(u.choose(&["0", "22", "80", "443", "65535"])?);
    } else if u.ratio(1u8, 4)? {
        out.push_str(&u.arbitrary::<u32>()?.to_string());
    } else {
        out.push_str(u.choose(&INTS)?);
    }
    Ok(())
}

fn ip_const(u: &mut Unstructured<'_>, out: &mut String, net: bool) -> Result<()> {
    if net {
        out.push_str(u.choose(&NETS)?);
    } else if u.ratio(1u8, 4)? {
        let a: [u8; 4] = u.arbitrary()?;
        out.push_str(&IpAddr::from(a).to_string());
    } else {
        out.push_str(u.choose(&IPS)?);
    }
    Ok(())
}

/// A constant of the class of `ty`.
fn constant(u: &mut Unstructured<'_>, ty: FieldType, out: &mut String) -> Result<()> {
    match ty.class() {
        TypeClass::Numeric => number_const(u, ty, out),
        TypeClass::Bool => {
            out.push_str(if u.arbitrary()? { "true" } else { "false" });
            Ok(())
        }
        TypeClass::Ip => {
            let net = matches!(
                ty,
                FieldType::IpNet | FieldType::Ipv4Net | FieldType::Ipv6Net
            );
            ip_const(u, out, net)
        }
        TypeClass::Buffer => {
            if u.arbitrary()? {
                string_const(u, out)
            } else {
                let len = u.int_in_range(1..=6usize)?;
                for b in u.bytes(len)? {
                    out.push_str(&format!("{b:02x}"));
                }
                Ok(())
            }
        }
        TypeClass::String | TypeClass::Other => string_const(u, out),
    }
}

fn list_const(u: &mut Unstructured<'_>, ty: FieldType, out: &mut String) -> Result<()> {
    out.push('(');
    let n = u.int_in_range(0..=4u8)?;
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        constant(u, ty, out)?;
    }
    out.push(')');
    Ok(())
}

/// One predicate over a random field, with an operator of the field's class.
fn predicate(u: &mut Unstructured<'_>, out: &mut String) -> Result<()> {
    let f = u.choose(usable_fields())?.clone();
    if u.ratio(1u8, 12)? {
        out.push_str(&f.text);
        out.push_str(" exists");
        return Ok(());
    }
    if f.list {
        match u.int_in_range(0..=2u8)? {
            0 => {
                out.push_str(&f.text);
                out.push_str(if u.arbitrary()? {
                    " in "
                } else {
                    " intersects "
                });
                list_const(u, f.ty, out)?;
            }
            1 => {
                out.push_str("len(");
                out.push_str(&f.text);
                out.push_str(") >= ");
                out.push_str(&u.int_in_range(0..=3u8)?.to_string());
            }
            _ => {
                out.push_str(&f.text);
                out.push_str(" exists");
            }
        }
        return Ok(());
    }
    match f.ty.class() {
        TypeClass::Numeric => {
            out.push_str(&f.text);
            if u.ratio(1u8, 5)? {
                out.push_str(" in ");
                return list_const(u, f.ty, out);
            }
            out.push(' ');
            out.push_str(u.choose(&["=", "==", "!=", "<", "<=", ">", ">="])?);
            out.push(' ');
            number_const(u, f.ty, out)
        }
        TypeClass::Bool => {
            out.push_str(&f.text);
            out.push_str(u.choose(&[" = ", " != "])?);
            constant(u, f.ty, out)
        }
        TypeClass::Ip => {
            out.push_str(&f.text);
            match u.int_in_range(0..=2u8)? {
                0 => {
                    out.push_str(" in ");
                    list_const(u, f.ty, out)
                }
                1 => {
                    out.push_str(u.choose(&[" = ", " != "])?);
                    ip_const(u, out, true)
                }
                _ => {
                    out.push_str(u.choose(&[" = ", " != "])?);
                    constant(u, f.ty, out)
                }
            }
        }
        TypeClass::Buffer => {
            out.push_str(&f.text);
            out.push(' ');
            out.push_str(u.choose(&["contains", "bcontains", "bstartswith", "=", "startswith"])?);
            out.push(' ');
            constant(u, f.ty, out)
        }
        TypeClass::String => {
            let transform = f.transformable && u.ratio(1u8, 5)?;
            if transform {
                let t = u.choose(&["tolower", "toupper", "basename", "b64", "len"])?;
                out.push_str(t);
                out.push('(');
                out.push_str(&f.text);
                out.push(')');
                if *t == "len" {
                    out.push_str(" > ");
                    return number_const(u, FieldType::Uint64, out);
                }
            } else {
                out.push_str(&f.text);
            }
            match u.int_in_range(0..=5u8)? {
                0 => {
                    out.push_str(u.choose(&[" in ", " pmatch "])?);
                    list_const(u, f.ty, out)
                }
                1 => {
                    out.push_str(u.choose(&[" = ", " != ", " startswith ", " contains "])?);
                    out.push_str(u.choose(&["oneof ", "anyof ", "allof "])?);
                    list_const(u, f.ty, out)
                }
                2 if f.rhs => {
                    // a field on the right: another string field of the schema
                    let strings: Vec<&Usable> = usable_fields()
                        .iter()
                        .filter(|g| g.ty.is_string() && !g.list && g.rhs)
                        .collect();
                    let g = u.choose(&strings)?;
                    out.push_str(u.choose(&[" = ", " != ", " contains ", " startswith "])?);
                    out.push_str("val(");
                    out.push_str(&g.text);
                    out.push(')');
                    Ok(())
                }
                3 => {
                    out.push_str(" regex ");
                    quoted(u.choose(&REGEXES)?.as_bytes(), out);
                    Ok(())
                }
                _ => {
                    out.push(' ');
                    out.push_str(u.choose(&[
                        "=",
                        "!=",
                        "<",
                        ">=",
                        "contains",
                        "icontains",
                        "startswith",
                        "endswith",
                        "glob",
                        "iglob",
                    ])?);
                    out.push(' ');
                    constant(u, f.ty, out)
                }
            }
        }
        TypeClass::Other => {
            out.push_str(&f.text);
            out.push_str(" exists");
            Ok(())
        }
    }
}

/// A condition: a predicate or a connective over smaller conditions.
fn condition(u: &mut Unstructured<'_>, depth: u32, out: &mut String) -> Result<()> {
    let k = if depth == 0 || u.is_empty() {
        0
    } else {
        u.int_in_range(0..=4u8)?
    };
    match k {
        0 | 1 => predicate(u, out),
        2 => {
            out.push_str("not ");
            out.push('(');
            condition(u, depth - 1, out)?;
            out.push(')');
            Ok(())
        }
        _ => {
            let op = if k == 3 { " and " } else { " or " };
            let n = u.int_in_range(2..=3u8)?;
            out.push('(');
            for i in 0..n {
                if i > 0 {
                    out.push_str(op);
                }
                condition(u, depth - 1, out)?;
            }
            out.push(')');
            Ok(())
        }
    }
}

/// A value of `kind` for an event.
fn value(u: &mut Unstructured<'_>, kind: ScalarKind) -> Result<OwnedValue> {
    const UINTS: [u64; 8] = [0, 1, 42, 255, 1 << 31, 1 << 32, u64::MAX - 1, u64::MAX];
    const SINTS: [i64; 8] = [i64::MIN, -1, 0, 1, 42, 2147483647, i64::MAX - 1, i64::MAX];
    Ok(match kind {
        ScalarKind::Uint => OwnedValue::U64(if u.arbitrary()? {
            *u.choose(&UINTS)?
        } else {
            u.arbitrary()?
        }),
        ScalarKind::Int => OwnedValue::I64(if u.arbitrary()? {
            *u.choose(&SINTS)?
        } else {
            u.arbitrary()?
        }),
        ScalarKind::Double => {
            OwnedValue::F64(*u.choose(&[0.0, -0.0, -1.5, 1e300, f64::NAN, f64::INFINITY, 42.0])?)
        }
        ScalarKind::Bool => OwnedValue::Bool(u.arbitrary()?),
        ScalarKind::Str | ScalarKind::Bytes => {
            OwnedValue::Bytes(match u.int_in_range(0..=5u8)? {
                0 => {
                    let len = u.int_in_range(0..=24usize)?;
                    u.bytes(len)?.to_vec()
                }
                1 => b"x".repeat(u.int_in_range(0..=70_000usize)?),
                _ => u.choose(&STRINGS)?.to_vec(),
            })
        }
        ScalarKind::Ip | ScalarKind::Net => OwnedValue::Ip(match u.int_in_range(0..=2u8)? {
            0 => IpAddr::from(u.arbitrary::<[u8; 4]>()?),
            1 => IpAddr::from(u.arbitrary::<[u8; 16]>()?),
            _ => u.choose(&IPS)?.parse().unwrap_or(IpAddr::from([0u8; 4])),
        }),
    })
}

/// Whether a load site stands for several values (multi-valued scalars push every value they hold:
/// `proc.aname` one per ancestor, `fd.ip` both ends of a connection).
fn multi_valued(d: &ir::FieldDecl) -> bool {
    d.arg.is_none() && d.multi != ir::MultiValue::Single
}

/// An event over the fields `p` loads: each missing or present, lists (and multi-valued scalars) with
/// zero to three items.
fn event(u: &mut Unstructured<'_>, p: &Program) -> Result<MapEvent> {
    let mut ev = MapEvent::new();
    for (_, d) in p.fields.iter() {
        if u.ratio(1u8, 5)? {
            continue;
        }
        let n = if d.ty.list || multi_valued(d) {
            u.int_in_range(0..=3usize)?
        } else {
            1
        };
        let mut values = Vec::with_capacity(n);
        for _ in 0..n {
            values.push(value(u, d.ty.kind)?);
        }
        ev.set_list(d.id, d.arg.clone(), values);
    }
    Ok(ev)
}

/// One backend under comparison.
enum Backend {
    Vm(vm::Program, vm::Machine),
    Jit(jit::Program, jit::Machine),
}

impl Backend {
    fn matches(&mut self, ev: &MapEvent) -> Vec<usize> {
        let mut out = Vec::new();
        match self {
            Backend::Vm(p, m) => p.matches(m, &mut ev.clone(), &mut out),
            Backend::Jit(p, m) => p.matches(m, &mut ev.clone(), &mut out),
        }
        out
    }

    fn eval_rule(&mut self, ev: &MapEvent, i: usize) -> bool {
        match self {
            Backend::Vm(p, m) => p.eval_rule(m, &mut ev.clone(), i),
            Backend::Jit(p, m) => p.eval_rule(m, &mut ev.clone(), i),
        }
    }
}

fn vm_backend(p: &Program, memoize: bool) -> Backend {
    let prog = vm::Program::compile_with(p, vm::CompileOptions { memoize })
        .unwrap_or_else(|e| panic!("vm compile error on a verified program: {e}\n{p}"));
    let m = prog.machine();
    Backend::Vm(prog, m)
}

fn jit_backend(p: &Program) -> Backend {
    let prog = jit::Program::compile(p)
        .unwrap_or_else(|e| panic!("jit compile error on a verified program: {e}\n{p}"));
    let m = prog.machine();
    Backend::Jit(prog, m)
}

/// Lowers the generated conditions; `None` when none of them type-checks and lowers.
fn lower(conditions: &[String]) -> Option<Program> {
    let mut lowerer = Lowerer::new();
    let mut rules = 0;
    for (i, text) in conditions.iter().enumerate() {
        let Ok(expr) = frule_lang::parser::parse_condition(text) else {
            continue;
        };
        if frule_lang::check::check_condition(&expr)
            .iter()
            .any(|issue| issue.severity == frule_lang::check::Severity::Error)
        {
            continue;
        }
        if lowerer.add_rule(&format!("r{i}"), &expr).is_ok() {
            rules += 1;
        }
    }
    (rules > 0).then(|| lowerer.finish())
}

/// The target body.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(n) = u.int_in_range(1..=4u8) else {
        return;
    };
    let mut conditions = Vec::new();
    for _ in 0..n {
        let mut text = String::new();
        if condition(&mut u, 3, &mut text).is_err() {
            break;
        }
        conditions.push(text);
    }
    let Some(p) = lower(&conditions) else {
        return;
    };
    if let Err(e) = verify::verify(&p) {
        panic!("lowered program does not verify: {e}\nconditions: {conditions:?}\n{p}");
    }
    let mut programs = vec![("unoptimized", p.clone())];
    for level in 1..=2u8 {
        let (q, _) = opt::optimize(&p, opt::Options { level, dump: false });
        if let Err(e) = verify::verify(&q) {
            panic!(
                "program optimized at -O{level} does not verify: {e}\nconditions: {conditions:?}\n{p}"
            );
        }
        programs.push((if level == 1 { "-O1" } else { "-O2" }, q));
    }
    let mut backends: Vec<(String, Backend)> = Vec::new();
    backends.push(("vm".into(), vm_backend(&p, true)));
    backends.push(("vm without memo".into(), vm_backend(&p, false)));
    for (name, q) in programs.iter().skip(1) {
        backends.push((format!("vm {name}"), vm_backend(q, true)));
    }
    backends.push(("jit".into(), jit_backend(&p)));
    if let Some((_, q)) = programs.last() {
        backends.push(("jit -O2".into(), jit_backend(q)));
    }
    let rules = p.rules.len();
    let mut events = Vec::new();
    while events.len() < 4 {
        match event(&mut u, &p) {
            Ok(ev) => events.push(ev),
            Err(_) => break,
        }
        if u.is_empty() {
            break;
        }
    }
    if events.is_empty() {
        events.push(MapEvent::new());
    }
    for ev in &events {
        let Some(((ref_name, reference), others)) = backends.split_first_mut() else {
            return;
        };
        let want = reference.matches(ev);
        let answers: Vec<bool> = (0..rules).map(|i| reference.eval_rule(ev, i)).collect();
        for (name, b) in others.iter_mut() {
            let got = b.matches(ev);
            assert!(
                got == want,
                "matches: {ref_name} {want:?}, {name} {got:?}\nconditions: {conditions:?}\nevent: {ev:?}\n{p}"
            );
            for (i, a) in answers.iter().enumerate() {
                let g = b.eval_rule(ev, i);
                assert!(
                    g == *a,
                    "rule {i}: {ref_name} {a}, {name} {g}\nconditions: {conditions:?}\nevent: {ev:?}\n{p}"
                );
            }
        }
    }
}
