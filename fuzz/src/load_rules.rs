//! Rules files through the loader, after a small base ruleset (`load_rules_base.yaml`: the part of frule's
//! default rules the generator names) so that appends, overrides and macro or list references have
//! something to refer to. Two input forms:
//!
//! - raw bytes as the second file's YAML (any input whose first byte is not a control character);
//! - a structured rules file (first byte a control character other than tab, newline or carriage
//!   return): the rest is read with [`arbitrary::Unstructured`] into lists, macros and rules (with
//!   exceptions, `append`, `override`, `enabled`, tags, priorities, `required_engine_version`) that
//!   refer to each other and to the default ruleset by name, written as YAML.
//!
//! Invariants: the loader returns diagnostics, never panics; every diagnostic names one of the two
//! files; the loaded rules lower into one program that verifies and compiles for the VM.

use arbitrary::{Result, Unstructured};
use frule_codegen::lower::Lowerer;
use frule_codegen::{verify, vm};
use frule_lang::loader::{self, RulesFile};

/// Loaded before every input; see the file's header for why it is not the whole default ruleset.
pub const BASE_RULES: &str = include_str!("load_rules_base.yaml");

const LISTS: [&str; 5] = [
    "shell_binaries",
    "sensitive_file_names",
    "l_fuzz",
    "l_other",
    "bin_directories",
];
const MACROS: [&str; 5] = [
    "spawned_process",
    "open_read",
    "m_fuzz",
    "m_other",
    "container",
];
const RULES: [&str; 4] = [
    "Shell spawned in a container",
    "Write below etc",
    "r fuzz",
    "r other",
];
const ITEMS: [&str; 8] = [
    "bash",
    "/etc/shadow",
    "\"a b\"",
    "l_fuzz",
    "shell_binaries",
    "''",
    "\"(x)\"",
    "/usr/bin",
];
const PREDICATES: [&str; 14] = [
    "proc.name = bash",
    "fd.name startswith /etc",
    "evt.type = open",
    "evt.type in (open, openat, execve)",
    "proc.pname exists",
    "fd.sip = 10.0.0.1",
    "proc.aname[2] = sshd",
    "evt.dir = <",
    "user.uid = 0",
    "fd.typechar = f",
    "proc.cmdline contains \"-c\"",
    "container.id != host",
    "fd.num >= 3",
    "tolower(proc.name) = bash",
];
const FIELDS: [&str; 6] = [
    "proc.name",
    "fd.name",
    "proc.pname",
    "fd.directory",
    "user.name",
    "proc.aname[2]",
];
const COMPS: [&str; 8] = [
    "=",
    "in",
    "startswith",
    "pmatch",
    "!=",
    "contains",
    "endswith",
    "glob",
];
const PRIORITIES: [&str; 9] = [
    "EMERGENCY",
    "alert",
    "Critical",
    "ERROR",
    "warning",
    "NOTICE",
    "informational",
    "debug",
    "bogus",
];

fn condition(u: &mut Unstructured<'_>, depth: u32, out: &mut String) -> Result<()> {
    let k = if depth == 0 {
        u.int_in_range(0..=2u8)?
    } else {
        u.int_in_range(0..=5u8)?
    };
    match k {
        0 => out.push_str(u.choose(&PREDICATES)?),
        1 => out.push_str(u.choose(&MACROS)?),
        2 => {
            out.push_str(u.choose(&FIELDS)?);
            out.push_str(u.choose(&[" in (", " pmatch (", " intersects ("])?);
            out.push_str(u.choose(&LISTS)?);
            out.push(')');
        }
        3 => {
            out.push_str("not ");
            condition(u, depth - 1, out)?;
        }
        _ => {
            out.push('(');
            condition(u, depth - 1, out)?;
            out.push_str(if k == 4 { " and " } else { " or " });
            condition(u, depth - 1, out)?;
            out.push(')');
        }
    }
    Ok(())
}

/// A scalar as a YAML block scalar (safe for any condition text on one line).
fn block(key: &str, text: &str, indent: &str, out: &mut String) {
    out.push_str(&format!("{indent}{key}: >-\n{indent}  {text}\n"));
}

fn flow_list(u: &mut Unstructured<'_>, pool: &[&str], out: &mut String) -> Result<()> {
    out.push('[');
    let n = u.int_in_range(0..=3u8)?;
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(u.choose(pool)?);
    }
    out.push(']');
    Ok(())
}

fn append_or_override(u: &mut Unstructured<'_>, keys: &[&str], out: &mut String) -> Result<()> {
    match u.int_in_range(0..=3u8)? {
        0 => out.push_str("  append: true\n"),
        1 => {
            out.push_str("  override:\n");
            for key in keys {
                if u.arbitrary()? {
                    out.push_str(&format!(
                        "    {key}: {}\n",
                        u.choose(&["append", "replace", "bogus"])?
                    ));
                }
            }
        }
        2 => out.push_str("  append: false\n"),
        _ => {}
    }
    Ok(())
}

fn exceptions(u: &mut Unstructured<'_>, out: &mut String) -> Result<()> {
    out.push_str("  exceptions:\n");
    for e in 0..u.int_in_range(1..=2u8)? {
        out.push_str(&format!("    - name: e{e}\n"));
        if u.arbitrary()? {
            // a single field: values are a flat list
            out.push_str(&format!("      fields: {}\n", u.choose(&FIELDS)?));
            if u.arbitrary()? {
                out.push_str(&format!("      comp: {}\n", u.choose(&COMPS)?));
            }
            out.push_str("      values: ");
            flow_list(u, &ITEMS, out)?;
            out.push('\n');
        } else {
            let n = u.int_in_range(1..=3usize)?;
            out.push_str("      fields: [");
            for i in 0..n {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(u.choose(&FIELDS)?);
            }
            out.push_str("]\n");
            if u.arbitrary()? {
                out.push_str("      comps: [");
                for i in 0..n {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(u.choose(&COMPS)?);
                }
                out.push_str("]\n");
            }
            out.push_str("      values:\n");
            for _ in 0..u.int_in_range(0..=2u8)? {
                out.push_str("        - [");
                // sometimes one value too few or too many
                let m = (n + u.int_in_range(0..=2usize)?).saturating_sub(1).max(1);
                for i in 0..m {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if u.ratio(1u8, 4)? {
                        flow_list(u, &ITEMS, out)?;
                    } else {
                        out.push_str(u.choose(&ITEMS)?);
                    }
                }
                out.push_str("]\n");
            }
        }
    }
    Ok(())
}

fn item(u: &mut Unstructured<'_>, out: &mut String) -> Result<()> {
    match u.int_in_range(0..=6u8)? {
        0 => {
            out.push_str(&format!("- list: {}\n  items: ", u.choose(&LISTS)?));
            flow_list(u, &ITEMS, out)?;
            out.push('\n');
            append_or_override(u, &["items"], out)?;
        }
        1 | 2 => {
            out.push_str(&format!("- macro: {}\n", u.choose(&MACROS)?));
            let mut c = String::new();
            condition(u, 3, &mut c)?;
            block("condition", &c, "  ", out);
            append_or_override(u, &["condition"], out)?;
        }
        3..=5 => {
            out.push_str(&format!("- rule: {}\n", u.choose(&RULES)?));
            let full = u.ratio(3u8, 4)?;
            if full || u.arbitrary()? {
                let mut c = String::new();
                condition(u, 3, &mut c)?;
                block("condition", &c, "  ", out);
            }
            if full {
                out.push_str("  desc: a generated rule\n");
                let output = u.choose(&[
                    "%proc.name %fd.name",
                    "shell (user=%user.name cmd=%proc.cmdline %container.info)",
                    "%toupper(proc.name) %proc.aname[2] %evt.arg.flags",
                    "",
                ])?;
                out.push_str(&format!("  output: \"{output}\"\n"));
                out.push_str(&format!("  priority: {}\n", u.choose(&PRIORITIES)?));
            }
            if u.arbitrary()? {
                out.push_str(&format!("  enabled: {}\n", u.arbitrary::<bool>()?));
            }
            if u.arbitrary()? {
                out.push_str("  tags: ");
                flow_list(u, &["shell", "mitre_execution", "T1059", "container"], out)?;
                out.push('\n');
            }
            if u.ratio(1u8, 8)? {
                out.push_str(&format!(
                    "  source: {}\n",
                    u.choose(&["syscall", "k8s_audit", "aws_cloudtrail"])?
                ));
            }
            if u.arbitrary()? {
                exceptions(u, out)?;
            }
            append_or_override(
                u,
                &[
                    "condition",
                    "output",
                    "desc",
                    "priority",
                    "tags",
                    "exceptions",
                    "enabled",
                ],
                out,
            )?;
        }
        _ => {
            let v = u.choose(&["0.10.0", "0.50.0", "9999", "1", "bogus"])?;
            out.push_str(&format!("- required_engine_version: {v}\n"));
        }
    }
    Ok(())
}

/// A rules file written from the structured input.
pub fn structured_file(data: &[u8]) -> String {
    let mut u = Unstructured::new(data);
    let mut out = String::new();
    for _ in 0..16 {
        if u.is_empty() || item(&mut u, &mut out).is_err() {
            break;
        }
    }
    out
}

/// The target body.
pub fn run(data: &[u8]) {
    let content = match data.split_first() {
        Some((&b, rest)) if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') => {
            structured_file(rest).into_bytes()
        }
        _ => data.to_vec(),
    };
    let files = [
        RulesFile::new("base_rules.yaml", BASE_RULES),
        RulesFile::new("fuzz.yaml", content),
    ];
    let load = loader::load(&files);
    for d in &load.diagnostics {
        if let Some(f) = d.file {
            assert!(
                (f.0 as usize) < files.len(),
                "diagnostic names file {} of {}",
                f.0,
                files.len()
            );
        }
    }
    let mut lowerer = Lowerer::new();
    for rule in &load.rules {
        let _ = lowerer.add_rule(&rule.name, &rule.expr);
    }
    let p = lowerer.finish();
    if let Err(e) = verify::verify(&p) {
        panic!("loaded rules lower to a program that does not verify: {e}\n{p}");
    }
    if let Err(e) = vm::Program::compile(&p) {
        panic!("loaded rules do not compile for the vm: {e}\n{p}");
    }
}
