//! VM behaviour that the tables cannot show: per-event caching of extracted fields, short circuit, and
//! reuse of one machine across events.

use frule_codegen::abi::{FieldId, MapEvent, OwnedValue};
use frule_codegen::{ir, verify, vm};

fn compile(text: &str) -> vm::Program {
    let p = ir::parse(text).expect("test program parses");
    verify::verify(&p).expect("test program verifies");
    vm::Program::compile(&p).expect("test program compiles")
}

const SHARED: &str = r#"
$0 = field 1 "proc.name" : str
$1 = field 1 "proc.name" : str
v0 = load $0
v1 = load $1
v2 = const.str "bash"
v3 = cmp.eq v0, v2
v4 = cmp.ne v1, v2
v5 = tolower v0
v6 = cmp.eq v5, v2
v7 = or v3, v4, v6
rule "a" = v3
rule "b" = v4
rule "c" = v6
rule "d" = v7
"#;

#[test]
fn each_field_is_extracted_once_per_event() {
    let prog = compile(SHARED);
    let mut m = prog.machine();
    let mut ev = MapEvent::new();
    ev.set(FieldId(1), None, OwnedValue::Bytes(b"BASH".to_vec()));
    let mut out = Vec::new();
    prog.matches(&mut m, &mut ev, &mut out);
    assert_eq!(out, vec![1, 2, 3]);
    // Two load sites of the same field, four rules, one transformer: one extraction.
    assert_eq!(ev.extractions(), 1);
    // A missing field is also remembered for the rest of the event.
    let mut empty = MapEvent::new();
    out.clear();
    prog.matches(&mut m, &mut empty, &mut out);
    assert!(out.is_empty());
    assert_eq!(empty.extractions(), 1);
}

#[test]
fn and_stops_at_the_first_false() {
    let prog = compile(
        r#"
$0 = field 1 "a" : uint
$1 = field 2 "b" : uint
v0 = load $0
v1 = load $1
v2 = exists v0
v3 = exists v1
v4 = and v2, v3
v5 = or v3, v2
rule "and" = v4
rule "or" = v5
"#,
    );
    let mut m = prog.machine();
    let mut ev = MapEvent::new();
    ev.set(FieldId(2), None, OwnedValue::U64(1));
    assert!(!prog.eval_rule(&mut m, &mut ev, 0));
    assert_eq!(
        ev.extractions(),
        1,
        "field b must not be read once a is missing"
    );
    let mut ev = MapEvent::new();
    ev.set(FieldId(2), None, OwnedValue::U64(1));
    assert!(prog.eval_rule(&mut m, &mut ev, 1));
    assert_eq!(
        ev.extractions(),
        1,
        "field a must not be read once b is present"
    );
}

#[test]
fn cache_is_cleared_between_events() {
    let prog = compile(SHARED);
    let mut m = prog.machine();
    for (name, expect) in [(&b"bash"[..], true), (b"zsh", false), (b"bash", true)] {
        let mut ev = MapEvent::new();
        ev.set(FieldId(1), None, OwnedValue::Bytes(name.to_vec()));
        assert_eq!(prog.eval_rule(&mut m, &mut ev, 0), expect);
    }
}

#[test]
fn a_program_without_rules_matches_nothing() {
    let prog = compile("$0 = field 1 \"a\" : uint\n");
    assert!(!prog.eval(&mut MapEvent::new()));
    assert_eq!(prog.rule_count(), 0);
}
