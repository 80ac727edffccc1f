//! Errors of the capture, as values.
//!
//! Every variant says what the user can do about it: run as root, boot a kernel with BTF,
//! pick another attach mode. None of them is a bug in frule except [`CaptureError::Object`],
//! which means the embedded eBPF object and this loader disagree.

use std::io;

use aya::EbpfError;
use aya::maps::MapError;
use aya::programs::ProgramError;

/// Why the live capture could not start or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The process lacks the privileges to load tracing programs.
    #[error(
        "live capture needs root (or CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN); effective uid is {euid}"
    )]
    NotRoot {
        /// The effective uid of this process.
        euid: u32,
    },
    /// The kernel exposes no BTF, which CO-RE relocation and `tp_btf` need.
    #[error(
        "the kernel has no BTF ({path} is missing): boot a kernel built with CONFIG_DEBUG_INFO_BTF=y"
    )]
    BtfMissing {
        /// The path that was looked for.
        path: &'static str,
    },
    /// The kernel refused BPF itself (no `bpf()` syscall, or it is disabled).
    #[error("eBPF is not available on this kernel: {0}")]
    BpfUnavailable(#[source] io::Error),
    /// Loading the object (maps, relocations) failed.
    #[error("cannot load the eBPF object: {0}")]
    Load(#[source] Box<EbpfError>),
    /// The embedded object lacks a program or map this loader expects.
    #[error("the embedded eBPF object has no {kind} named {name}")]
    Object {
        /// "program" or "map".
        kind: &'static str,
        /// The missing name.
        name: &'static str,
    },
    /// The verifier rejected a program, or attaching it failed.
    #[error("cannot load or attach eBPF program {program} ({hook}): {source}")]
    Attach {
        /// The program name in the object.
        program: &'static str,
        /// The kernel hook it attaches to.
        hook: &'static str,
        /// What aya reported (the verifier log is inside for load failures).
        #[source]
        source: Box<ProgramError>,
    },
    /// Creating or updating a map failed.
    #[error("eBPF map {map}: {source}")]
    Map {
        /// The map name.
        map: &'static str,
        /// What aya reported.
        #[source]
        source: Box<MapError>,
    },
    /// An option is out of range; the message says which and why.
    #[error("invalid capture option: {0}")]
    InvalidOption(String),
    /// A system query (CPU count, clocks) failed.
    #[error("{what}: {source}")]
    System {
        /// What was being queried.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl CaptureError {
    pub(crate) fn map(map: &'static str, source: MapError) -> Self {
        Self::Map {
            map,
            source: Box::new(source),
        }
    }
}
