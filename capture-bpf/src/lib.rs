//! frule's eBPF capture: the kernel program, its loader and the ring-buffer reader.
//!
//! This crate depends on no other frule crate: it hands out raw events in the scap event layout.

#![deny(missing_docs)]
