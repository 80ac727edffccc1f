//! Well-typed conditions and events: the VM, the optimized VM and the JIT must agree; see
//! `src/eval_differential.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frule_fuzz::eval_differential::run(data));
