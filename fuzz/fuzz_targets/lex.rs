//! Arbitrary text through every token matcher of the condition lexer, at every offset: a matcher returns
//! a length within the input, on a character boundary, and never panics.

#![no_main]

use frule_lang::lexer;
use libfuzzer_sys::fuzz_target;

type Matcher = fn(&str) -> usize;

const MATCHERS: [Matcher; 7] = [
    lexer::not_blank,
    lexer::identifier,
    lexer::field_name,
    lexer::field_arg_bare_str,
    lexer::hex_number,
    lexer::number,
    lexer::bare_str,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (start, _) in text.char_indices().take(64) {
        let rest = &text[start..];
        for matcher in MATCHERS {
            let n = matcher(rest);
            assert!(n <= rest.len(), "token longer than the input");
            assert!(rest.is_char_boundary(n), "token ends inside a character");
        }
    }
});
