//! Snapshot tests of rendered diagnostics (`frulec validate` text and `falco_load_results` JSON).
//! Update with `INSTA_UPDATE=always cargo test -p frule-lang --test render` and review the diff.

use frule_lang::loader::{RulesFile, load};
use frule_lang::render;

fn text(files: &[(&str, &str)]) -> String {
    let files: Vec<RulesFile> = files
        .iter()
        .map(|(n, c)| RulesFile::new(*n, c.as_bytes()))
        .collect();
    render::text::render(&load(&files))
}

#[test]
fn parse_error_in_folded_macro_condition() {
    insta::assert_snapshot!(text(&[(
        "rules.yaml",
        "- macro: opened\n  condition: >\n    evt.type = open and\n    proc.name = cat bar\n- rule: r\n  desc: d\n  condition: opened\n  output: o\n  priority: INFO\n",
    )]));
}

#[test]
fn unknown_field_inside_macro_with_suggestion() {
    insta::assert_snapshot!(text(&[(
        "rules.yaml",
        "- macro: is_cat\n  condition: proc.nmae = cat\n- rule: Open by cat\n  desc: d\n  condition: evt.type = open and is_cat\n  output: o\n  priority: WARNING\n",
    )]));
}

#[test]
fn error_in_list_item() {
    insta::assert_snapshot!(text(&[(
        "rules.yaml",
        "- list: evts\n  items: [open, opne]\n- rule: r\n  desc: d\n  condition: evt.type in (evts)\n  output: o\n  priority: INFO\n",
    )]));
}

#[test]
fn structure_errors_and_warnings_in_two_files() {
    insta::assert_snapshot!(text(&[
        (
            "base.yaml",
            "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n  tgas: [a]\n"
        ),
        (
            "local.yaml",
            "- rule: r\n  condition: and proc.name = x\n  override:\n    condition: prepend\n- list: l\n"
        ),
    ]));
}

#[test]
fn json_shape() {
    let r = load(&[RulesFile::new(
        "rules.yaml",
        "- rule: r\n  desc: d\n  condition: evt.type = open and proc.nmae = x\n  output: o\n  priority: INFO\n",
    )]);
    let json = serde_json::to_string_pretty(&render::json::render(&r)).unwrap_or_default();
    insta::assert_snapshot!(json);
}

#[test]
fn chain_through_nested_macros() {
    insta::assert_snapshot!(text(&[(
        "rules.yaml",
        "- macro: inner\n  condition: >\n    proc.name = bash and\n    fd.nmae = /etc/shadow\n- macro: outer\n  condition: evt.type = open and inner\n- rule: Read shadow\n  desc: d\n  condition: outer and not user.name = root\n  output: o\n  priority: WARNING\n",
    )]));
}
