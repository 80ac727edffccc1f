//! Arbitrary bytes as a condition: the parser must return a tree or a located error, never panic, and a
//! tree it returns must print to a form that parses again to the same printed form.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frule_fuzz::text::parse_condition(data));
