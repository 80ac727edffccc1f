//! The Falco rules language front end: from rules files to checked, located conditions.
//!
//! `frule-lang` reads Falco rules files — lists, macros, rules, exceptions, `append`/`override` — and the
//! tcpdump-like condition language, exactly as the Falco engine and libsinsp accept them, and turns them into
//! syntax trees whose every node is located in its file. It never prints: everything it finds wrong is a
//! [`diagnostic::Diagnostic`] value with Falco's code (`LOAD_ERR_COMPILE_CONDITION`, `LOAD_NO_EVTTYPE`, …), a
//! `file:line:col` and the chain rule → condition → macro.
//!
//! Pipeline:
//!
//! ```text
//! rules files ──loader──► items (lists, macros, rules after append/override/exceptions)
//!                 │
//!                 ├─ list substitution (textual, as Falco does it) ──► condition text
//!                 ├─ lexer + parser ──► ast::Expr with byte spans
//!                 └─ macro resolution + check (fields, operators, values) ──► checked rules
//! ```
//!
//! What this crate is not for: optimizing or evaluating conditions (`frule-codegen`), or events
//! (`frule-runtime`).

#![deny(missing_docs)]

pub mod ast;
pub mod check;
pub mod diagnostic;
pub mod events;
pub mod evttypes;
pub mod fields;
mod fxhash;
pub mod lexer;
pub mod loader;
pub mod output;
pub mod parser;
pub mod print;
pub mod render;
pub mod source;
