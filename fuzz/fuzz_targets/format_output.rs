//! Output format strings (`%proc.name`, `%toupper(user.name)`, widths, `*`): parsing never panics.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frule_fuzz::text::format_output(data));
