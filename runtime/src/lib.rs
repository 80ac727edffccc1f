//! frule's runtime: events, scap files, system state, field extraction, the engine and its outputs.

#![deny(missing_docs)]

pub mod config;
pub mod container;
pub mod dns;
pub mod engine;
pub mod event;
pub mod fields;
pub mod output;
pub mod scap;
pub mod state;
