//! Output format strings (`%proc.name`, `%toupper(user.name)`, widths, `*`): parsing never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = frule_lang::output::parse_output(text);
    let _ = frule_lang::output::strip_container_info(text);
});
