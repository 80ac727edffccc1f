//! frule: a Falco-compatible runtime-security rule engine.
//!
//! This crate is the embedding API. It re-exports the pipeline's crates:
//!
//! - [`lang`]: rules files and the condition language → checked, located conditions and diagnostics;
//! - [`codegen`]: typed IR, optimizer, bytecode VM and Cranelift JIT;
//! - [`runtime`]: events, captures, system state, field extraction, the engine and outputs.

pub use frule_codegen as codegen;
pub use frule_lang as lang;
pub use frule_runtime as runtime;
