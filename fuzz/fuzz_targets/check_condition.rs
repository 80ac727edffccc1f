//! Arbitrary conditions through the parser and the type checker: every issue is located inside the
//! condition, nothing panics.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frule_fuzz::text::check_condition(data));
