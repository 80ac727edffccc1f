//! frule's middle and back end: typed IR, optimizer, bytecode VM and Cranelift JIT.
//!
//! Pipeline (this crate's part of it):
//!
//! ```text
//! checked lang::ast::Expr ──lower──► ir::Program ──verify──► opt passes ──► evttype partition + fusion
//!                                         ▲  │                                       │
//!                               ir::parse │  │ ir::print                   vm::Program / jit::Program
//!                                                                                    │
//!                                                                          dispatch ──► matches
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
//! - [`opt`]: the optimizer passes, one per file, run by a pass manager with `-O` levels; the
//!   `evttype_partition` pass splits the rules by event type and fuses each group into one program.
//! - [`dispatch`]: per-event-type programs, evaluated for the first match or all matches.
//! - [`jit`]: the Cranelift backend (feature `jit`, on by default), with the same contract as the VM and a
//!   fallback to it where native code cannot be produced.
//!
//! Scalar fields with several values (`proc.aname` without an index: every ancestor; `fd.ip`,
//! `fd.port`, `fd.net`, `fd.proto`: both ends of the connection) are compared value by value as
//! libsinsp does; the field slot carries the mode ([`abi::MultiValue`]).
//!
//! # Design
//!
//! **One DAG per program, not one tree per rule.** An [`ir::Program`] holds any number of rules whose
//! conditions share values. Lowering hash-conses instructions, so the 93 upstream rules (stable,
//! incubating, sandbox) become one program of about 2,500 values over 87 field slots, where each macro
//! body (`spawned_process`, `open_write`, …) exists once. This is the shape the later stages need:
//! - *optimizer passes* (`opt/`, one per file) rewrite a `Program` into a `Program`; the verifier runs
//!   after each one in tests, and the textual form makes input → output file tests possible;
//! - *event-type partitioning* builds one `Program` per event type holding only its candidate rules
//!   (rule order kept), so an event no rule wants costs one table lookup;
//! - *fusion* is already half there: shared subexpressions are single values, and the VM memoizes shared
//!   compound conditions per event; a fused program evaluates each of them at most once.
//!
//! **Missing fields are in the types.** Data values are optional, conditions are definite booleans, and
//! every predicate maps "missing" to `false` (spec B.3). `not (f = x)` and `f != x` are different
//! instructions; a pass may only exchange them for operands that cannot be missing.
//!
//! **Typed ids in typed vectors** ([`ir::EntityVec`]): values, field slots, sets and regexes are `u32`
//! newtypes. Operands always name earlier values, so id order is a topological order: passes and
//! backends walk the vector once, forward.
//!
//! **Two backends, one semantics.** The [`vm`] is the reference: bytecode with short-circuit jumps, a
//! per-event cache of extracted fields (one extraction per field and argument per event, whichever rules
//! ask), and helpers for the expensive operators (hash sets, fnmatch, `pmatch`, regex). The JIT will
//! compile the same programs through Cranelift, calling the same helpers and reading fields through the
//! same [`abi`]; tests compare both on every case of the operator tables and on generated events.
//!
//! **Tests are data.** `tests/data/ops/*.yaml` state operator semantics row by row (spec A.6, A.7,
//! B.3–B.8); `tests/data/ir/*.frir` hold round-trip, verifier, parse-error and multi-rule run tests in the
//! textual IR; `tests/data/lower/*.yaml` go from Falco conditions to answers; the corpus test lowers the
//! upstream rules files and compares memoized with plain evaluation on generated events.
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
pub mod dispatch;
pub mod ir;
pub mod jit;
pub mod lower;
pub mod opt;
pub mod verify;
pub mod vm;
