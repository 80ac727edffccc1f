//! frule's middle and back end: typed IR, optimizer, bytecode VM and Cranelift JIT.

#![deny(missing_docs)]
