//! The loader's fast YAML reader against serde-saphyr (equal trees whenever the fast path accepts):
//! see `src/yaml_fastpath.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frule_fuzz::yaml_fastpath::run(data));
