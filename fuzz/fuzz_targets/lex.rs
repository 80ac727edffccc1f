//! Arbitrary text through every token matcher of the condition lexer, at every offset: a matcher returns
//! a length within the input, on a character boundary, and never panics.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frule_fuzz::text::lex(data));
