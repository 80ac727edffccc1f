//! frule's middle and back end: typed IR, optimizer, bytecode VM and Cranelift JIT.
//!
//! Pipeline (this crate's part of it):
//!
//! ```text
//! checked lang::ast::Expr ──lower──► ir::Program ──verify──► (opt passes) ──► vm::Program ──eval──► matches
//!                                         ▲  │
//!                               ir::parse │  │ ir::print      textual form for tests and --emit ir
//! ```
//!
//! - [`ir`]: the typed IR — a DAG of data values (field loads, constants, transformers) and conditions
//!   (predicates, `and`/`or`/`not`) shared by every rule of a program; missing fields are explicit in its
//!   type system (data values are optional, conditions are definite).
//! - [`verify`]: the IR invariants as a checklist; every pass and every parsed text is checked.
//! - [`abi`]: the [`abi::FieldSource`] trait through which compiled code reads event fields, and
//!   [`abi::MapEvent`], an in-memory event for tests.
//! - [`lower`]: checked, macro-resolved conditions → IR, hash-consing identical subexpressions across
//!   rules.
//! - [`vm`]: the reference backend — IR compiled to linear bytecode with short-circuit jumps, evaluated
//!   with a per-event cache of extracted fields.
//!
//! Not here yet: optimizer passes, event-type resolution, cross-rule fusion and the Cranelift JIT; the
//! `getopt` transformer.
//!
//! ```
//! use frule_codegen::abi::{FieldId, MapEvent, OwnedValue};
//! use frule_codegen::{ir, verify, vm};
//!
//! let program = ir::parse(r#"
//!     $0 = field 7 "proc.name" : str
//!     %0 = set str {"bash", "sh"}
//!     v0 = load $0
//!     v1 = in v0, %0
//!     rule "shell" = v1
//! "#)?;
//! verify::verify(&program).map_err(|e| e.to_string())?;
//! let vm = vm::Program::compile(&program)?;
//! let mut event = MapEvent::new();
//! event.set(FieldId(7), None, OwnedValue::Bytes(b"bash".to_vec()));
//! assert!(vm.eval(&mut event));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

pub mod abi;
pub mod ir;
pub mod lower;
pub mod verify;
pub mod vm;
