//! The Cranelift JIT against the VM (the reference): every case the VM's tables and run files state,
//! randomly generated programs and events, and the upstream rules on generated events must give the same
//! answers through both backends.
//!
//! - `operator_tables_through_the_jit`: the cases of `tests/data/ops/*.yaml`, built by the VM harness
//!   (`ops.rs`), evaluated by the JIT and compared with each case's expected answer;
//! - `run_files_through_the_jit`: the `; test run` files of `tests/data/ir/`;
//! - `random_programs_agree`: proptest generates well-typed multi-rule programs (numeric, string, set,
//!   regex, glob, address, transformer predicates, shared connectives) and events (missing fields, empty
//!   and huge strings, invalid UTF-8, boundary integers, IPv4/IPv6);
//! - `corpus_rules_agree`: the upstream Falco rules (stable, incubating, sandbox) as one program on
//!   generated events whose values come from the program's own constants.
//!
//! Every comparison checks both entry points: all rules at once (`matches`) and each rule alone
//! (`eval_rule`), and that the JIT reads each field at most as often as the VM.

#[allow(
    dead_code,
    reason = "shared with another test binary that uses the rest"
)]
#[path = "ir.rs"]
mod ir_files;
#[allow(
    dead_code,
    reason = "shared with another test binary that uses the rest"
)]
#[path = "ops.rs"]
mod ops_tables;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use frule_codegen::abi::{FieldArg, FieldId, IpNet, MapEvent, OwnedValue, ScalarKind};
use frule_codegen::ir::{
    self, Cmp, Constant, FieldDecl, Inst, ListRhs, Modifier, MultiValue, Program, SetDecl,
    TransformOp, Ty, ValueId,
};
use frule_codegen::lower::Lowerer;
use frule_codegen::{abi, jit, verify, vm};
use proptest::prelude::*;

/// Compiles `p` to native code; the tests require the JIT (no silent fallback).
fn native(p: &Program) -> Result<jit::Program, String> {
    let prog = jit::Program::compile(p).map_err(|e| e.to_string())?;
    if !prog.is_native() {
        return Err("compiled program is not native".into());
    }
    Ok(prog)
}

/// Evaluates `p` with the VM and the JIT on `ev`; `Err` describes the first disagreement.
fn agree(
    p: &Program,
    vmp: &vm::Program,
    vmm: &mut vm::Machine,
    jp: &jit::Program,
    jm: &mut jit::Machine,
    ev: &MapEvent,
) -> Result<Vec<usize>, String> {
    let (mut e1, mut e2) = (ev.clone(), ev.clone());
    let (mut want, mut got) = (Vec::new(), Vec::new());
    vmp.matches(vmm, &mut e1, &mut want);
    jp.matches(jm, &mut e2, &mut got);
    if want != got {
        return Err(format!(
            "matches: vm {want:?}, jit {got:?}\nevent: {ev:?}\n{p}"
        ));
    }
    if e2.extractions() > e1.extractions() {
        return Err(format!(
            "the jit extracted {} times, the vm {}\n{p}",
            e2.extractions(),
            e1.extractions()
        ));
    }
    for i in 0..p.rules.len() {
        let a = vmp.eval_rule(vmm, &mut ev.clone(), i);
        let b = jp.eval_rule(jm, &mut ev.clone(), i);
        if a != b {
            return Err(format!("rule {i}: vm {a}, jit {b}\nevent: {ev:?}\n{p}"));
        }
    }
    Ok(want)
}

#[test]
fn operator_tables_through_the_jit() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ops");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/ops exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let (mut total, mut failures) = (0usize, Vec::new());
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable case file");
        let cases: Vec<ops_tables::Case> =
            serde_saphyr::from_str(&text).expect("case file parses (the VM test reports why)");
        for case in &cases {
            total += 1;
            let res = ops_tables::build(case).and_then(|(p, ev)| {
                let jp = native(&p)?;
                let got = jp.eval(&mut ev.clone());
                if got != case.expect {
                    return Err(format!("expected {}, jit gave {got}\n{p}", case.expect));
                }
                let vmp = vm::Program::compile(&p).map_err(|e| e.to_string())?;
                agree(&p, &vmp, &mut vmp.machine(), &jp, &mut jp.machine(), &ev).map(|_| ())
            });
            if let Err(e) = res {
                failures.push(format!(
                    "{} / {}: {e}",
                    f.file_name().unwrap_or_default().to_string_lossy(),
                    case.name
                ));
            }
        }
    }
    println!("{total} operator cases through the jit");
    assert!(
        total > 100,
        "expected the operator tables, found {total} cases"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn run_files_through_the_jit() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ir");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/ir exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "frir"))
        .collect();
    files.sort();
    let (mut ran, mut failures) = (0usize, Vec::new());
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable run file");
        if text.lines().next().map(str::trim) != Some("; test run") {
            continue;
        }
        ran += 1;
        let res = (|| -> Result<(), String> {
            let p = ir::parse(&ir_files::body_of(&text)).map_err(|e| e.to_string())?;
            verify::verify(&p).map_err(|e| e.to_string())?;
            let jp = native(&p)?;
            let mut m = jp.machine();
            for spec in text.lines().filter_map(|l| l.strip_prefix(ir_files::EVENT)) {
                let (mut ev, expect) = ir_files::parse_event(spec)?;
                let mut got = Vec::new();
                jp.matches(&mut m, &mut ev, &mut got);
                if got != expect {
                    return Err(format!("event {spec:?}: expected {expect:?}, jit {got:?}"));
                }
            }
            Ok(())
        })();
        if let Err(e) = res {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    println!("{ran} run files through the jit");
    assert!(ran > 0, "no run files found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn per_event_cache_and_reuse_across_events() {
    let p = ir::parse(
        r#"
$0 = field 1 "proc.name" : str
$1 = field 2 "proc.pid" : int
v0 = load $0
v1 = load $1
v2 = const.str "bash"
v3 = cmp.eq v0, v2
v4 = const.int 100
v5 = cmp.gt v1, v4
v6 = cmp.lt v1, v4
v7 = and v3, v5
v8 = or v7, v6
v9 = not v7
rule "a" = v7
rule "b" = v8
rule "c" = v9
rule "d" = v5
"#,
    )
    .expect("parses");
    verify::verify(&p).expect("verifies");
    let jp = native(&p).expect("compiles");
    let mut m = jp.machine();
    let mut out = Vec::new();
    let mut ev = MapEvent::new();
    ev.set(FieldId(1), None, OwnedValue::Bytes(b"bash".to_vec()));
    ev.set(FieldId(2), None, OwnedValue::I64(1000));
    jp.matches(&mut m, &mut ev, &mut out);
    assert_eq!(out, vec![0, 1, 3]);
    assert_eq!(ev.extractions(), 2, "one extraction per field and event");
    // The caches are cleared between events: a missing pid now.
    let mut ev = MapEvent::new();
    ev.set(FieldId(1), None, OwnedValue::Bytes(b"bash".to_vec()));
    out.clear();
    jp.matches(&mut m, &mut ev, &mut out);
    assert_eq!(out, vec![2]);
    // Short circuit: `a` on an event without proc.name never reads proc.pid.
    let mut ev = MapEvent::new();
    ev.set(FieldId(2), None, OwnedValue::I64(1000));
    assert!(!jp.eval_rule(&mut m, &mut ev, 0));
    assert_eq!(ev.extractions(), 1);
    assert!(!jp.eval_rule(&mut m, &mut ev, 99), "no such rule");
}

#[test]
fn programs_are_send_sync_and_without_rules_match_nothing() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<jit::Program>();
    let p = ir::parse("$0 = field 1 \"a\" : uint\n").expect("parses");
    let jp = native(&p).expect("compiles");
    let mut out = Vec::new();
    jp.matches(&mut jp.machine(), &mut MapEvent::new(), &mut out);
    assert!(out.is_empty());
    assert!(!jp.eval(&mut MapEvent::new()));
    // Used from another thread while the main thread holds it too.
    let jp = std::sync::Arc::new(jp);
    let other = std::sync::Arc::clone(&jp);
    let n = std::thread::spawn(move || other.rule_count())
        .join()
        .expect("thread ran");
    assert_eq!(n, 0);
}

#[test]
fn emitted_texts_show_the_function() {
    let p = ir::parse(
        r#"
$0 = field 1 "proc.pid" : int
v0 = load $0
v1 = const.int 7
v2 = cmp.eq v0, v1
v3 = exists v0
v4 = and v3, v2
rule "r" = v4
"#,
    )
    .expect("parses");
    let clif = jit::emit_clif(&p);
    assert!(clif.starts_with("function "), "{clif}");
    assert!(clif.contains("brif"), "short circuit is a branch:\n{clif}");
    assert!(
        clif.contains("load.i64") && clif.contains("icmp eq"),
        "inline numeric compare:\n{clif}"
    );
    assert!(
        clif.contains("call fn0") && clif.contains("call fn1"),
        "helper calls (predicate, number):\n{clif}"
    );
    let asm = jit::emit_asm(&p).expect("disassembly");
    assert!(!asm.trim().is_empty());
}

/// The fixed-offset numeric fields (`abi::FIXED_FIELD_NAMES`): each is compared through the event's
/// block, by the JIT (inline) and by the optimized VM (its fixed steps), under every operator its
/// class compares, against the plain VM (which extracts every field), on events where it is present
/// (boundary values and the constants), absent, or extracted as something the comparison rejects (a
/// double, a string, two items, a number for a `bool` field, a `bool` for a number field). Neither
/// block reader may extract any of them through the cache: their `extract` counts stay 0.
#[test]
fn fixed_offset_fields_agree_with_the_vm() {
    use std::fmt::Write as _;
    let mut text = String::new();
    let mut v = 0usize;
    let mut kinds = Vec::new();
    for (i, name) in abi::FIXED_FIELD_NAMES.iter().enumerate() {
        let (Some(id), Some(kind)) = (abi::fixed_field(i), abi::fixed_kind(i)) else {
            panic!("fixed field {name} is not an int, uint or bool schema field");
        };
        assert_eq!(abi::fixed_index(id), Some(i));
        kinds.push((id, kind));
        let _ = writeln!(text, "${i} = field {} \"{name}\" : {kind}", id.0);
        let load = v;
        let _ = writeln!(text, "v{load} = load ${i}");
        v += 1;
        // the extremes of each class too: the VM turns every operator into an interval of the
        // class's order, whose ends they are
        let (consts, ops): (&[&str], &[&str]) = match kind {
            ScalarKind::Int => (
                &[
                    "-9223372036854775808",
                    "-1",
                    "0",
                    "1",
                    "9223372036854775807",
                ],
                &["eq", "ne", "lt", "le", "gt", "ge"],
            ),
            ScalarKind::Uint => (
                &["0", "1", "99", "18446744073709551615"],
                &["eq", "ne", "lt", "le", "gt", "ge"],
            ),
            _ => (&["true", "false"], &["eq", "ne"]),
        };
        for k in consts {
            let c = v;
            let _ = writeln!(text, "v{c} = const.{kind} {k}");
            v += 1;
            for op in ops {
                let _ = writeln!(text, "v{v} = cmp.{op} v{load}, v{c}");
                let _ = writeln!(text, "rule \"{name} {op} {k}\" = v{v}");
                v += 1;
            }
        }
    }
    let p = ir::parse(&text).expect("the fixed-field program parses");
    verify::verify(&p).expect("verifies");
    let jp = native(&p).expect("compiles to native code");
    let vmp = vm::Program::compile(&p).expect("compiles");
    let plain =
        vm::Program::compile_with(&p, vm::CompileOptions { memoize: false }).expect("compiles");
    let (mut vmm, mut jm, mut pm) = (vmp.machine(), jp.machine(), plain.machine());
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut matched = 0usize;
    for _ in 0..400 {
        let mut ev = MapEvent::new();
        for (id, kind) in &kinds {
            let good = match kind {
                ScalarKind::Int => OwnedValue::I64([i64::MIN, -1, 0, 1, 2, i64::MAX][rng.below(6)]),
                ScalarKind::Uint => OwnedValue::U64([0, 1, 2, 99, 100, u64::MAX][rng.below(6)]),
                _ => OwnedValue::Bool(rng.below(2) == 0),
            };
            match rng.below(10) {
                0 => {}
                1 => {
                    ev.set(*id, None, OwnedValue::F64(1.0));
                }
                2 => {
                    ev.set(*id, None, OwnedValue::Bytes(b"1".to_vec()));
                }
                3 => {
                    ev.set_list(*id, None, vec![good.clone(), good]);
                }
                4 => {
                    let other = match kind {
                        ScalarKind::Bool => OwnedValue::I64(1),
                        _ => OwnedValue::Bool(true),
                    };
                    ev.set(*id, None, other);
                }
                _ => {
                    ev.set(*id, None, good);
                }
            }
        }
        let (mut jit_ev, mut vm_ev, mut plain_ev) = (ev.clone(), ev.clone(), ev.clone());
        let (mut out, mut vm_out, mut want) = (Vec::new(), Vec::new(), Vec::new());
        jp.matches(&mut jm, &mut jit_ev, &mut out);
        vmp.matches(&mut vmm, &mut vm_ev, &mut vm_out);
        plain.matches(&mut pm, &mut plain_ev, &mut want);
        assert_eq!(
            (jit_ev.extractions(), vm_ev.extractions()),
            (0, 0),
            "fixed-offset fields are read from the block, not extracted (jit, vm)"
        );
        assert!(plain_ev.extractions() > 0, "the plain vm extracts them");
        assert_eq!(vm_out, want, "optimized vm against the plain vm on {ev:?}");
        assert_eq!(
            vmp.first_match(&mut vmm, &mut ev.clone()),
            want.first().copied(),
            "optimized vm, first match"
        );
        assert_eq!(out, want, "jit against the plain vm on {ev:?}");
        for i in 0..p.rules.len() {
            let want = plain.eval_rule(&mut pm, &mut ev.clone(), i);
            assert_eq!(
                vmp.eval_rule(&mut vmm, &mut ev.clone(), i),
                want,
                "vm rule {i}"
            );
        }
        match agree(&p, &vmp, &mut vmm, &jp, &mut jm, &ev) {
            Ok(m) => matched += m.len(),
            Err(e) => panic!("{}", e.lines().next().unwrap_or("")),
        }
    }
    assert!(matched > 0, "some comparisons should hold");
}

// ---------------------------------------------------------------------------------------------------
// Random programs.

/// The schema of generated programs: field id, type.
/// The generated schema: id, kind, list, multi-valued mode. Fields 11–14 are the multi-valued twins
/// of fields 1, 3, 5 and 8 (`fd.port`, `proc.aname`, `fd.ip`, `fd.net`), which [`Gen::load`] sometimes
/// substitutes for them.
const FIELDS: [(u32, ScalarKind, bool, MultiValue); 14] = [
    (1, ScalarKind::Uint, false, MultiValue::Single),
    (2, ScalarKind::Int, false, MultiValue::Single),
    (3, ScalarKind::Str, false, MultiValue::Single),
    (4, ScalarKind::Str, false, MultiValue::Single),
    (5, ScalarKind::Ip, false, MultiValue::Single),
    (6, ScalarKind::Bool, false, MultiValue::Single),
    (7, ScalarKind::Str, true, MultiValue::Single),
    (8, ScalarKind::Net, false, MultiValue::Single),
    (9, ScalarKind::Double, false, MultiValue::Single),
    (10, ScalarKind::Bytes, false, MultiValue::Single),
    (11, ScalarKind::Uint, false, MultiValue::Endpoints),
    (12, ScalarKind::Str, false, MultiValue::Ancestors),
    (13, ScalarKind::Ip, false, MultiValue::Endpoints),
    (14, ScalarKind::Net, false, MultiValue::Endpoints),
];

const UINTS: [u64; 7] = [0, 1, 42, 1 << 31, 1 << 63, u64::MAX - 1, u64::MAX];
const INTS: [i64; 7] = [i64::MIN, -1, 0, 1, 42, i64::MAX - 1, i64::MAX];

fn strings() -> Vec<Vec<u8>> {
    vec![
        b"".to_vec(),
        b"bash".to_vec(),
        b"BASH".to_vec(),
        b"/etc/shadow".to_vec(),
        b"/etc/".to_vec(),
        b"*sh".to_vec(),
        b"/etc/*".to_vec(),
        b"[a-c]?sh".to_vec(),
        b"\xff\xfe\x00bash".to_vec(),
        b"bash\x00".to_vec(),
        "é/ü".as_bytes().to_vec(),
        b"YmFzaA==".to_vec(),
        b"x".repeat(70_000),
    ]
}

fn ips() -> Vec<IpAddr> {
    [
        "10.0.0.1",
        "127.0.0.1",
        "0.0.0.0",
        "::1",
        "2001:db8::1",
        "::ffff:10.0.0.1",
    ]
    .iter()
    .filter_map(|s| s.parse().ok())
    .collect()
}

const NETS: [&str; 4] = ["10.0.0.0/8", "0.0.0.0/0", "2001:db8::/32", "127.0.0.1"];
const REGEXES: [&str; 4] = ["ba.*", ".*sh", "/etc/[a-z]+", "\u{fffd}.*"];
const CMP_STR: [Cmp; 12] = [
    Cmp::Eq,
    Cmp::Ne,
    Cmp::Lt,
    Cmp::Le,
    Cmp::Gt,
    Cmp::Ge,
    Cmp::Contains,
    Cmp::IContains,
    Cmp::StartsWith,
    Cmp::EndsWith,
    Cmp::Glob,
    Cmp::IGlob,
];
const CMP_NUM: [Cmp; 6] = [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge];

struct Gen<'a> {
    p: Program,
    picks: &'a [u32],
    at: std::cell::Cell<usize>,
    loads: Vec<ValueId>,
    conds: Vec<ValueId>,
}

impl Gen<'_> {
    fn pick(&self, n: usize) -> usize {
        let at = self.at.get();
        let v = self.picks.get(at).copied().unwrap_or(0) as usize;
        self.at.set(at + 1);
        v % n.max(1)
    }

    fn load(&self, f: usize) -> ValueId {
        let twin = match f {
            0 => Some(10),
            2 => Some(11),
            4 => Some(12),
            7 => Some(13),
            _ => None,
        };
        match twin {
            Some(t) if self.pick(3) == 0 => self.loads[t],
            _ => self.loads[f],
        }
    }

    fn konst(&mut self, c: Constant) -> ValueId {
        self.p.push(Inst::Const(c))
    }

    fn str_const(&self) -> Vec<u8> {
        let s = strings();
        s[self.pick(s.len())].clone()
    }

    /// One random well-typed predicate.
    fn predicate(&mut self) -> ValueId {
        match self.pick(14) {
            0 => {
                let op = CMP_NUM[self.pick(6)];
                let k = self.konst(Constant::Uint(UINTS[self.pick(UINTS.len())]));
                let l = self.load(0);
                self.p.push(Inst::Cmp(op, l, k))
            }
            1 => {
                let op = CMP_NUM[self.pick(6)];
                let k = self.konst(Constant::Int(INTS[self.pick(INTS.len())]));
                let l = self.load(1);
                self.p.push(Inst::Cmp(op, l, k))
            }
            2 => {
                let op = CMP_STR[self.pick(CMP_STR.len())];
                let s = self.str_const();
                let k = self.konst(Constant::Str(s));
                let l = self.load(2 + self.pick(2));
                self.p.push(Inst::Cmp(op, l, k))
            }
            3 => {
                let op = CMP_STR[self.pick(CMP_STR.len())];
                let (a, b) = (self.load(2), self.load(3));
                self.p.push(Inst::Cmp(op, a, b))
            }
            4 => {
                let f = self.pick(FIELDS.len());
                let l = self.load(f);
                self.p.push(Inst::Exists(l))
            }
            5 => {
                let n = self.pick(4);
                let items = (0..n).map(|_| Constant::Str(self.str_const())).collect();
                let s = self.p.set(SetDecl {
                    kind: ScalarKind::Str,
                    items,
                });
                let l = self.load(if self.pick(2) == 0 { 2 } else { 6 });
                if self.pick(2) == 0 {
                    self.p.push(Inst::In(l, ListRhs::Set(s)))
                } else {
                    self.p.push(Inst::Intersects(l, ListRhs::Set(s)))
                }
            }
            6 => {
                let n = self.pick(3);
                let items = (0..n).map(|_| Constant::Str(self.str_const())).collect();
                let s = self.p.set(SetDecl {
                    kind: ScalarKind::Str,
                    items,
                });
                let l = self.load(2 + self.pick(2));
                self.p.push(Inst::PMatch(l, s))
            }
            7 => {
                let r = self.p.regex(REGEXES[self.pick(REGEXES.len())]);
                let l = self.load(2 + self.pick(2));
                if self.pick(2) == 0 {
                    self.p.push(Inst::Regex(l, r))
                } else {
                    let r2 = self.p.regex(REGEXES[self.pick(REGEXES.len())]);
                    let m = [Modifier::OneOf, Modifier::AnyOf, Modifier::AllOf][self.pick(3)];
                    self.p.push(Inst::RegexModified(m, l, vec![r, r2]))
                }
            }
            8 => {
                let ip = ips();
                let k = self.konst(Constant::Ip(ip[self.pick(ip.len())]));
                let op = [Cmp::Eq, Cmp::Ne][self.pick(2)];
                let l = self.load(4);
                self.p.push(Inst::Cmp(op, l, k))
            }
            9 => {
                let net = IpNet::parse(NETS[self.pick(NETS.len())]).unwrap_or(IpNet {
                    addr: [0, 0, 0, 0].into(),
                    prefix: 0,
                });
                let k = self.konst(Constant::Net(net));
                let op = [Cmp::Eq, Cmp::Ne][self.pick(2)];
                let l = self.load(7);
                self.p.push(Inst::Cmp(op, l, k))
            }
            10 => {
                let m = [Modifier::OneOf, Modifier::AnyOf, Modifier::AllOf][self.pick(3)];
                let op = [Cmp::Eq, Cmp::StartsWith, Cmp::Contains, Cmp::Glob][self.pick(4)];
                let n = self.pick(3);
                let items = (0..n).map(|_| Constant::Str(self.str_const())).collect();
                let s = self.p.set(SetDecl {
                    kind: ScalarKind::Str,
                    items,
                });
                let l = self.load(2);
                self.p.push(Inst::Modified(m, op, l, s))
            }
            11 => {
                let l = self.load(2 + self.pick(2));
                match self.pick(3) {
                    0 => {
                        let t = self.p.push(Inst::Transform(TransformOp::Len, vec![l]));
                        let k = self.konst(Constant::Uint(UINTS[self.pick(3)] + 4));
                        let op = CMP_NUM[self.pick(6)];
                        self.p.push(Inst::Cmp(op, t, k))
                    }
                    1 => {
                        let op = [
                            TransformOp::ToLower,
                            TransformOp::Basename,
                            TransformOp::B64,
                        ][self.pick(3)];
                        let t = self.p.push(Inst::Transform(op, vec![l]));
                        let s = self.str_const();
                        let k = self.konst(Constant::Str(s));
                        self.p.push(Inst::Cmp(Cmp::Eq, t, k))
                    }
                    _ => {
                        let list = self.load(6);
                        let t = self.p.push(Inst::Transform(TransformOp::Len, vec![list]));
                        let k = self.konst(Constant::Uint(self.pick(3) as u64));
                        self.p.push(Inst::Cmp(Cmp::Ge, t, k))
                    }
                }
            }
            12 => {
                let k = self.konst(Constant::Bool(self.pick(2) == 0));
                let l = self.load(5);
                self.p.push(Inst::Cmp(CMP_NUM[self.pick(2)], l, k))
            }
            _ => {
                if self.pick(2) == 0 {
                    let k = self.konst(Constant::Double([0.0, -1.5, 1e300][self.pick(3)]));
                    let l = self.load(8);
                    self.p.push(Inst::Cmp(CMP_NUM[self.pick(6)], l, k))
                } else {
                    let op =
                        [Cmp::Contains, Cmp::BContains, Cmp::BStartsWith, Cmp::Eq][self.pick(4)];
                    let s = self.str_const();
                    let k = self.konst(Constant::Bytes(s));
                    let l = self.load(9);
                    self.p.push(Inst::Cmp(op, l, k))
                }
            }
        }
    }

    /// A condition: a new predicate, a reused earlier condition (sharing, hence memo slots), or a
    /// connective over smaller ones.
    fn cond(&mut self, depth: u32) -> ValueId {
        let c = match self.pick(if depth == 0 { 2 } else { 6 }) {
            0 => self.predicate(),
            1 if !self.conds.is_empty() => {
                let i = self.pick(self.conds.len());
                self.conds[i]
            }
            1 => self.predicate(),
            2 => {
                let a = self.cond(depth - 1);
                self.p.push(Inst::Not(a))
            }
            k => {
                let n = 1 + self.pick(3);
                let xs = (0..n).map(|_| self.cond(depth - 1)).collect();
                if k == 3 {
                    self.p.push(Inst::And(xs))
                } else if k == 4 {
                    self.p.push(Inst::Or(xs))
                } else {
                    self.p.push(Inst::Bool(self.pick(2) == 0))
                }
            }
        };
        self.conds.push(c);
        c
    }
}

fn generate(picks: &[u32], rules: usize) -> Program {
    let mut g = Gen {
        p: Program::new(),
        picks,
        at: std::cell::Cell::new(0),
        loads: Vec::new(),
        conds: Vec::new(),
    };
    for (id, kind, list, multi) in FIELDS {
        let slot = g.p.field(FieldDecl {
            id: FieldId(id),
            name: format!("f{id}"),
            arg: if id == 4 {
                Some(FieldArg::Key("k".into()))
            } else {
                None
            },
            ty: Ty { kind, list },
            multi,
        });
        let v = g.p.push(Inst::Load(slot));
        g.loads.push(v);
    }
    for r in 0..rules {
        let c = g.cond(3);
        g.p.add_rule(format!("r{r}"), c);
    }
    g.p
}

fn value_strategy(kind: ScalarKind) -> BoxedStrategy<OwnedValue> {
    match kind {
        ScalarKind::Uint => prop_oneof![proptest::sample::select(UINTS.to_vec()), any::<u64>()]
            .prop_map(OwnedValue::U64)
            .boxed(),
        ScalarKind::Int => prop_oneof![proptest::sample::select(INTS.to_vec()), any::<i64>()]
            .prop_map(OwnedValue::I64)
            .boxed(),
        ScalarKind::Double => prop_oneof![
            Just(0.0),
            Just(-1.5),
            Just(f64::NAN),
            Just(f64::INFINITY),
            any::<f64>()
        ]
        .prop_map(OwnedValue::F64)
        .boxed(),
        ScalarKind::Bool => any::<bool>().prop_map(OwnedValue::Bool).boxed(),
        ScalarKind::Str | ScalarKind::Bytes => prop_oneof![
            proptest::sample::select(strings()),
            proptest::collection::vec(any::<u8>(), 0..12),
            "[a-zA-Z/*.]{0,10}".prop_map(|s| s.into_bytes()),
        ]
        .prop_map(OwnedValue::Bytes)
        .boxed(),
        ScalarKind::Ip | ScalarKind::Net => prop_oneof![
            proptest::sample::select(ips()),
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
        .prop_map(OwnedValue::Ip)
        .boxed(),
    }
}

/// An event over the generated schema: each field missing or present (lists of 0–3 items).
fn event_strategy() -> impl Strategy<Value = MapEvent> {
    let per_field: Vec<_> = FIELDS
        .iter()
        .map(|&(id, kind, list, multi)| {
            let values = if list || multi != MultiValue::Single {
                proptest::collection::vec(value_strategy(kind), 0..4).boxed()
            } else {
                value_strategy(kind).prop_map(|v| vec![v]).boxed()
            };
            proptest::option::weighted(0.8, values).prop_map(move |v| (id, v))
        })
        .collect();
    per_field.prop_map(|fields| {
        let mut ev = MapEvent::new();
        for (id, v) in fields {
            let arg = (id == 4).then(|| FieldArg::Key("k".into()));
            if let Some(v) = v {
                ev.set_list(FieldId(id), arg, v);
            }
        }
        ev
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_programs_agree(
        picks in proptest::collection::vec(any::<u32>(), 64..400),
        rules in 1usize..6,
        events in proptest::collection::vec(event_strategy(), 1..6),
    ) {
        let p = generate(&picks, rules);
        if let Err(e) = verify::verify(&p) {
            panic!("generated program does not verify: {e}\n{p}");
        }
        let jp = native(&p).map_err(TestCaseError::fail)?;
        for memoize in [true, false] {
            let vmp = vm::Program::compile_with(&p, vm::CompileOptions { memoize })
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let (mut vmm, mut jm) = (vmp.machine(), jp.machine());
            for ev in &events {
                agree(&p, &vmp, &mut vmm, &jp, &mut jm, ev).map_err(TestCaseError::fail)?;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// The upstream ruleset.

fn corpus() -> PathBuf {
    std::env::var_os("FRULE_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    )
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// An event for the fields of `p`: each missing with probability 1/16, else drawn from the program's
/// constants of the field's kind (so that predicates hit) or an edge value.
fn corpus_event(p: &Program, pool: &[Vec<&Constant>], rng: &mut XorShift) -> MapEvent {
    let mut ev = MapEvent::new();
    for ((_, d), candidates) in p.fields.iter().zip(pool) {
        if rng.below(16) == 0 {
            continue;
        }
        let pick = |rng: &mut XorShift| -> OwnedValue {
            match candidates.get(rng.below(candidates.len() + 2)) {
                Some(Constant::Int(x)) => OwnedValue::I64(*x),
                Some(Constant::Uint(x)) => OwnedValue::U64(*x),
                Some(Constant::Double(x)) => OwnedValue::F64(*x),
                Some(Constant::Bool(x)) => OwnedValue::Bool(*x),
                Some(Constant::Str(x) | Constant::Bytes(x)) => {
                    let mut v = x.clone();
                    // Sometimes a prefix or an extension of the constant, to reach partial matches.
                    match rng.below(16) {
                        0 => v.truncate(v.len() / 2),
                        1 => v.extend_from_slice(b"/x\xff"),
                        _ => {}
                    }
                    OwnedValue::Bytes(v)
                }
                Some(Constant::Ip(x)) => OwnedValue::Ip(*x),
                Some(Constant::Net(n)) => OwnedValue::Ip(n.addr),
                None => match d.ty.kind {
                    ScalarKind::Int => OwnedValue::I64([i64::MIN, -1, 0][rng.below(3)]),
                    ScalarKind::Uint => OwnedValue::U64([0, u64::MAX][rng.below(2)]),
                    ScalarKind::Double => OwnedValue::F64(0.0),
                    ScalarKind::Bool => OwnedValue::Bool(rng.below(2) == 0),
                    ScalarKind::Str | ScalarKind::Bytes => {
                        OwnedValue::Bytes([&b""[..], b"/tmp/x", b"\xff\xfe"][rng.below(3)].to_vec())
                    }
                    ScalarKind::Ip | ScalarKind::Net => OwnedValue::Ip(ips()[rng.below(6)]),
                },
            }
        };
        if d.ty.list {
            let n = rng.below(4);
            let vs = (0..n).map(|_| pick(rng)).collect();
            ev.set_list(d.id, d.arg.clone(), vs);
        } else {
            let v = pick(rng);
            ev.set(d.id, d.arg.clone(), v);
        }
    }
    ev
}

#[test]
fn corpus_rules_agree() {
    let dir = corpus().join("rules/falcosecurity-rules");
    if !dir.is_dir() {
        println!(
            "skipping: corpus not found at {} (set FRULE_CORPUS)",
            dir.display()
        );
        return;
    }
    let files: Vec<frule_lang::loader::RulesFile> = [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
    ]
    .iter()
    .map(|n| {
        let p = dir.join(n);
        frule_lang::loader::RulesFile {
            name: p.display().to_string(),
            content: std::fs::read(&p).expect("readable rules file"),
        }
    })
    .collect();
    let loaded = frule_lang::loader::load(&files);
    let mut l = Lowerer::new();
    for r in &loaded.rules {
        l.add_rule(&r.name, &r.expr).expect("upstream rules lower");
    }
    let p = l.finish();
    verify::verify(&p).expect("the corpus program verifies");
    assert!(p.rules.len() > 50, "expected the upstream rulesets");
    let t = std::time::Instant::now();
    let jp = native(&p).expect("the corpus program compiles to native code");
    println!(
        "{} rules, {} IR values: native code in {:.1} ms",
        p.rules.len(),
        p.values.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let vmp = vm::Program::compile(&p).expect("compiles");
    let mut pool: Vec<&Constant> = p.sets.iter().flat_map(|(_, s)| s.items.iter()).collect();
    pool.extend(p.values.iter().filter_map(|(_, i)| match i {
        Inst::Const(c) => Some(c),
        _ => None,
    }));
    let pool: Vec<Vec<&Constant>> = p
        .fields
        .iter()
        .map(|(_, d)| {
            pool.iter()
                .copied()
                .filter(|c| {
                    c.kind() == d.ty.kind
                        || (d.ty.kind == ScalarKind::Net && c.kind() == ScalarKind::Ip)
                })
                .collect()
        })
        .collect();
    let (mut vmm, mut jm) = (vmp.machine(), jp.machine());
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut matched = 0usize;
    let events = 1500;
    for _ in 0..events {
        let ev = corpus_event(&p, &pool, &mut rng);
        match agree(&p, &vmp, &mut vmm, &jp, &mut jm, &ev) {
            Ok(m) => matched += m.len(),
            Err(e) => panic!(
                "vm and jit disagree on the corpus program: {}",
                e.lines().next().unwrap_or("")
            ),
        }
    }
    println!("{matched} rule matches over {events} generated events, vm and jit agree");
    assert!(matched > 0, "generated events should match some rules");
}
