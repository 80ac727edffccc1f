//! Capture files through the reader, the state, the engine and every field extractor: see
//! `src/scap_reader.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frule_fuzz::scap_reader::run(data));
