//! Arbitrary bytes as a rules file, loaded after the default ruleset so that appends, overrides and macro
//! references have something to refer to: the loader returns diagnostics, never panics, and every
//! diagnostic names a file that was loaded.

#![no_main]

use frule_lang::loader::{self, RulesFile};
use libfuzzer_sys::fuzz_target;

const DEFAULT_RULES: &str = include_str!("../../rules/frule_rules.yaml");

fuzz_target!(|data: &[u8]| {
    let files = [
        RulesFile::new("frule_rules.yaml", DEFAULT_RULES),
        RulesFile::new("fuzz.yaml", data.to_vec()),
    ];
    let _ = loader::load(&files);
});
