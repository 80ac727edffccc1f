//! The bodies of frule's fuzz targets, shared by the libFuzzer binaries (`fuzz_targets/*.rs`, nightly)
//! and by the regression replay test (`tests/fuzz_regressions.rs` in the root package, stable), so a
//! stored crash input goes through exactly the code path that found it.
//!
//! Each body takes the raw fuzzer input and panics (aborts the fuzzer) only on a real finding: a panic
//! inside frule, a broken invariant, or a disagreement between evaluators. Inputs the body cannot use
//! (not UTF-8, a condition that does not type-check) return early.
//!
//! This file is also compiled as a module of the regression test (`#[path]`), so its submodules name
//! their files explicitly and it uses no nightly feature and no libFuzzer API.

#![deny(missing_docs)]

#[path = "container_answers.rs"]
pub mod container_answers;
#[path = "eval_differential.rs"]
pub mod eval_differential;
#[path = "load_rules.rs"]
pub mod load_rules;
#[path = "scap_reader.rs"]
pub mod scap_reader;
#[path = "text.rs"]
pub mod text;
#[path = "yaml_fastpath.rs"]
pub mod yaml_fastpath;

/// A target body: takes one fuzzer input, panics on a finding.
pub type Body = fn(&[u8]);

/// The targets, by name: the name of the fuzz binary and of its `fuzz/regressions/<name>/` directory.
pub const TARGETS: [(&str, Body); 9] = [
    ("lex", text::lex),
    ("parse_condition", text::parse_condition),
    ("check_condition", text::check_condition),
    ("format_output", text::format_output),
    ("load_rules", load_rules::run),
    ("scap_reader", scap_reader::run),
    ("eval_differential", eval_differential::run),
    ("yaml_fastpath", yaml_fastpath::run),
    ("container_answers", container_answers::run),
];
