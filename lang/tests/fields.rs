//! Invariants of the field schema, and coverage of the fields real rulesets use.
//!
//! The coverage test reads `shared/spec/corpus-fields.md` in place (the table of every field the rules
//! corpus uses, §1, and the argument forms seen) and requires each to resolve. It prints a reason and
//! passes when the spec file is absent (e.g. in a checkout without `shared/`).

use std::path::PathBuf;

use frule_lang::fields::{
    self, ArgKind, FIELDS, FieldArg, FieldClass, FieldType, lookup, resolve, suggest,
};

fn spec_path() -> PathBuf {
    match std::env::var_os("FRULE_SPEC") {
        Some(p) => PathBuf::from(p).join("corpus-fields.md"),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/spec/corpus-fields.md"
        )),
    }
}

#[test]
fn names_are_unique() {
    let mut names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
    names.sort_unstable();
    let dups: Vec<_> = names.windows(2).filter(|w| w[0] == w[1]).collect();
    assert!(dups.is_empty(), "duplicate field names: {dups:?}");
}

#[test]
fn table_is_grouped_by_class_in_listing_order() {
    let order = |c: FieldClass| FieldClass::ALL.iter().position(|x| *x == c);
    for pair in FIELDS.windows(2) {
        assert!(
            order(pair[0].class) <= order(pair[1].class),
            "{} ({:?}) comes before {} ({:?})",
            pair[0].name,
            pair[0].class,
            pair[1].name,
            pair[1].class
        );
    }
    for class in FieldClass::ALL {
        assert!(
            FIELDS.iter().any(|f| f.class == class),
            "class {class:?} has no fields"
        );
    }
}

#[test]
fn every_field_resolves_to_itself() {
    for (i, f) in FIELDS.iter().enumerate() {
        assert_eq!(
            lookup(f.name).map(|id| id.0 as usize),
            Some(i),
            "{}",
            f.name
        );
        assert!(!f.desc.is_empty(), "{} has no description", f.name);
        assert!(
            !f.desc.ends_with('.') || f.desc.ends_with("events."),
            "{}: trailing period",
            f.name
        );
        if !f.arg.requires_arg() && f.arg != ArgKind::DottedKey {
            assert!(resolve(f.name, None).is_ok(), "{}", f.name);
        }
    }
}

#[test]
fn argument_forms() {
    let arg = |name: &str, a: Option<&str>| resolve(name, a).map(|r| r.arg);
    assert_eq!(arg("proc.aname", Some("2")), Ok(FieldArg::Index(2)));
    assert_eq!(arg("proc.aname", None), Ok(FieldArg::None));
    assert_eq!(arg("evt.arg", Some("0")), Ok(FieldArg::Index(0)));
    assert_eq!(
        arg("evt.arg.flags", None),
        Ok(FieldArg::Key("flags".into()))
    );
    assert_eq!(arg("evt.rawarg.res", None), Ok(FieldArg::Key("res".into())));
    assert_eq!(
        arg("proc.env", Some("HOME")),
        Ok(FieldArg::Key("HOME".into()))
    );
    assert_eq!(arg("proc.env", Some("3")), Ok(FieldArg::Index(3)));
    assert_eq!(
        arg("container.mount.dest", Some("0")),
        Ok(FieldArg::Index(0))
    );
    assert_eq!(
        arg("container.mount.dest", Some("01")),
        Ok(FieldArg::Key("01".into()))
    );
    assert_eq!(
        arg("thread.cgroup.cpuacct", None),
        Ok(FieldArg::Key("cpuacct".into()))
    );
    assert!(resolve("evt.rawarg.res", None).is_ok_and(|r| r.ty() == FieldType::Errno));
    assert!(resolve("evt.rawarg.fd", None).is_ok_and(|r| r.ty() == FieldType::Fd));
    assert_eq!(
        resolve("proc.nobody", None),
        Err("filter_check called with nonexistent field proc.nobody".into())
    );
    assert_eq!(
        resolve("evt.arg.nosuch", None),
        Err("unknown event argument nosuch".into())
    );
    assert_eq!(
        resolve("proc.aname", Some("2")).map(|r| r.display_name()),
        Ok("proc.aname[2]".into())
    );
    assert_eq!(
        resolve("evt.arg.flags", None).map(|r| r.to_string()),
        Ok("evt.arg.flags".into())
    );
}

#[test]
fn suggestions() {
    assert_eq!(suggest("proc.nmae"), Some("proc.name"));
    assert_eq!(suggest("process.name"), Some("proc.name"));
    assert_eq!(suggest("evt.typ"), Some("evt.type"));
    assert_eq!(suggest("usr.name"), Some("user.name"));
    assert_eq!(suggest("fd.nmae"), Some("fd.name"));
    assert_eq!(
        suggest("container.image.repo"),
        Some("container.image.repository")
    );
    assert_eq!(suggest("totally.unrelated.thing"), None);
    assert_eq!(suggest("'proc.name'?"), None);
}

#[test]
fn falco_deprecated_fields_are_flagged() {
    for name in frule_lang::check::DEPRECATED_FIELDS {
        let id = lookup(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(id.info().flags.deprecated, "{name}");
    }
}

/// The backquoted names in column 2 of the §1 table, and the `name[arg]` forms of its argument line.
fn corpus_fields(text: &str) -> (Vec<String>, Vec<(String, String)>) {
    let mut names = Vec::new();
    let mut forms = Vec::new();
    for line in text.lines() {
        if line.starts_with("## 2.") {
            break;
        }
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols.len() > 3 && cols[1].parse::<u32>().is_ok() {
            names.push(cols[2].trim_matches('`').to_string());
        }
        if line.starts_with("Argument forms") {
            let seen = line.split_once("seen:").map_or(line, |(_, rest)| rest);
            for piece in seen.split('`').skip(1).step_by(2) {
                let piece = piece.trim_start_matches("(output) ");
                if let Some((name, rest)) = piece.split_once('[') {
                    forms.push((name.to_string(), rest.trim_end_matches(']').to_string()));
                }
            }
        }
    }
    (names, forms)
}

#[test]
fn every_corpus_field_resolves() {
    let path = spec_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("skipped: {} is not readable", path.display());
        return;
    };
    let (names, forms) = corpus_fields(&text);
    assert!(
        names.len() >= 90,
        "only {} fields parsed from {}",
        names.len(),
        path.display()
    );
    assert!(!forms.is_empty(), "no argument forms parsed");
    let mut failures = Vec::new();
    for name in &names {
        // A field that needs an argument is used with one in the corpus; give it a typical one.
        let res = match lookup(name).map(|id| id.info().arg) {
            Some(ArgKind::EventArg) | Some(ArgKind::IndexRequired) => resolve(name, Some("1")),
            Some(ArgKind::IndexOrKeyRequired) | Some(ArgKind::KeyRequired) => {
                resolve(name, Some("/"))
            }
            _ => resolve(name, None),
        };
        if let Err(e) = res {
            failures.push(format!("{name}: {e}"));
        }
    }
    for (name, arg) in &forms {
        if let Err(e) = resolve(name, Some(arg)) {
            failures.push(format!("{name}[{arg}]: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "corpus fields that do not resolve:\n{}",
        failures.join("\n")
    );
    println!(
        "{} corpus fields and {} argument forms resolve; the schema has {} fields",
        names.len(),
        forms.len(),
        fields::all().count()
    );
}
