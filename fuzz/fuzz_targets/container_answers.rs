//! Container runtimes' answers (containerd protobuf, CRI-O and Docker JSON) through the runtime's
//! parsers: see `src/container_answers.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frule_fuzz::container_answers::run(data));
