//! Data-driven tests of event-type resolution (`frule_lang::evttypes`, spec Part D).
//!
//! Every `tests/data/evttypes/*.yaml` file is a list of cases: a condition and the set of event
//! codes libsinsp's `ppm_event_codes` computes for it (as event names, `all`, `empty`,
//! `{all_except: [...]}`), or the error it raises, or another condition with the same set; plus,
//! optionally, whether a syscall rule with it gets Falco's LOAD_NO_EVTTYPE warning. All cases run and
//! every failure is reported together.

use std::path::Path;

use frule_lang::ast::Expr;
use frule_lang::events;
use frule_lang::evttypes::{EvtTypeSet, evttypes_of};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Case {
    name: Option<String>,
    condition: String,
    expect: Option<Expect>,
    same_as: Option<String>,
    warns: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Expect {
    /// `all`, `empty`, `ok` (any set), `error` (any error)
    Word(String),
    Names(Vec<String>),
    AllExcept {
        all_except: Vec<String>,
    },
    Error {
        error: String,
    },
}

fn names_set(names: &[String]) -> Result<EvtTypeSet, String> {
    let mut set = EvtTypeSet::empty();
    for name in names {
        let codes = events::codes_for_name(name);
        if codes.is_empty() {
            return Err(format!("test data names unknown event `{name}`"));
        }
        for &code in codes {
            set.insert(code);
        }
    }
    Ok(set)
}

fn describe(set: &EvtTypeSet) -> String {
    if set.is_all() {
        "all".to_string()
    } else if set.is_empty() {
        "empty".to_string()
    } else if set.len() > events::EVENT_COUNT / 2 {
        format!("all_except {:?}", set.complement().names())
    } else {
        format!("{:?}", set.names())
    }
}

fn run_case(case: &Case) -> Result<(), String> {
    let expr = parse(&case.condition)?;
    let got = evttypes_of(&expr);
    if let Some(other) = &case.same_as {
        let want = evttypes_of(&parse(other)?);
        if got != want {
            return Err(format!("got {got:?}, but `{other}` gives {want:?}"));
        }
        return Ok(());
    }
    let want = match &case.expect {
        None => return Err("case has neither expect nor same_as".to_string()),
        Some(Expect::Error { error }) => {
            return match got {
                Err(e) if &e == error => Ok(()),
                other => Err(format!("want error {error:?}, got {other:?}")),
            };
        }
        Some(Expect::Word(w)) if w == "error" => {
            return match got {
                Err(_) => Ok(()),
                Ok(set) => Err(format!("want an error, got {}", describe(&set))),
            };
        }
        Some(Expect::Word(w)) if w == "ok" => {
            return got
                .map(|_| ())
                .map_err(|e| format!("want no error, got {e:?}"));
        }
        Some(Expect::Word(w)) if w == "all" => EvtTypeSet::all(),
        Some(Expect::Word(w)) if w == "empty" => EvtTypeSet::empty(),
        Some(Expect::Word(w)) => return Err(format!("unknown expectation `{w}`")),
        Some(Expect::Names(names)) => names_set(names)?,
        Some(Expect::AllExcept { all_except }) => names_set(all_except)?.complement(),
    };
    let got = got.map_err(|e| format!("unexpected error {e:?}"))?;
    if got != want {
        return Err(format!("got {}, want {}", describe(&got), describe(&want)));
    }
    if let Some(warns) = case.warns
        && got.warns_no_evttype() != warns
    {
        return Err(format!(
            "LOAD_NO_EVTTYPE: got {}, want {warns} ({} codes)",
            got.warns_no_evttype(),
            got.len()
        ));
    }
    Ok(())
}

#[test]
fn evttypes_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/evttypes");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/evttypes exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable case file");
        let cases: Vec<Case> = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: bad case file: {e}", file.display()));
        for case in &cases {
            count += 1;
            if let Err(msg) = run_case(case) {
                let name = case.name.as_deref().unwrap_or(&case.condition);
                failures.push(format!(
                    "{}: {name}: `{}`: {msg}",
                    file.display(),
                    case.condition
                ));
            }
        }
    }
    assert!(count > 200, "only {count} cases found");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Parses a condition with the real parser (the same the loader uses).
fn parse(text: &str) -> Result<Expr, String> {
    frule_lang::parser::parse_condition(text).map_err(|e| format!("parse error: {e}"))
}
