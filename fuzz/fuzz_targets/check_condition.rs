//! Arbitrary conditions through the parser and the type checker: every issue is located inside the
//! condition, nothing panics.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expr) = frule_lang::parser::parse_condition(text) else {
        return;
    };
    for issue in frule_lang::check::check_condition(&expr) {
        assert!(issue.span.start as usize <= text.len(), "issue located past the end");
    }
    let _ = frule_lang::evttypes::evttypes_of(&expr);
});
