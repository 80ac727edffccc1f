//! Rules files, raw YAML or structured (lists, macros, rules, exceptions, append, override), loaded
//! after the default ruleset and lowered: see `src/load_rules.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frule_fuzz::load_rules::run(data));
