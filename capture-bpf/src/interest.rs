//! Which syscalls the kernel side turns into events.
//!
//! The kernel program looks the syscall id up in the `interesting_syscalls` array before
//! doing anything else, so a syscall outside the set costs one array lookup. Slot
//! [`PROCEXIT_SLOT`] (past the syscall ids) enables the `procexit` event of
//! `sched_process_exit`. The set can be changed while the capture runs.
//!
//! Invariant: every syscall listed in [`SUPPORTED`] has an emitter in `bpf/frule.bpf.c`;
//! an interesting syscall without one produces nothing (there is no generic event yet).

use std::collections::BTreeSet;

/// Size of the syscall-id part of the interesting-syscalls array (x86_64 ids are below it).
pub const SYSCALL_TABLE_SIZE: u32 = 512;
/// The array slot that enables `procexit` (PPME 186).
pub const PROCEXIT_SLOT: u32 = 512;
/// Total number of slots in the kernel's interesting-syscalls array.
pub(crate) const INTERESTING_SIZE: u32 = 520;

/// A syscall the kernel program can emit, with the PPME codes that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportedSyscall {
    /// The syscall's name, as Falco's `evt.type` spells it.
    pub name: &'static str,
    /// x86_64 syscall number.
    pub nr: u32,
    /// The exit event the kernel emits (PPME code).
    pub exit_event: u16,
    /// Every PPME code (enter, exit, older versions) that rules may name for this syscall.
    pub ppm_codes: &'static [u16],
}

/// The syscalls the kernel program emits events for (x86_64 numbering).
pub const SUPPORTED: &[SupportedSyscall] = &[
    SupportedSyscall {
        name: "open",
        nr: 2,
        exit_event: 3,
        ppm_codes: &[2, 3],
    },
    SupportedSyscall {
        name: "close",
        nr: 3,
        exit_event: 5,
        ppm_codes: &[4, 5],
    },
    SupportedSyscall {
        name: "socket",
        nr: 41,
        exit_event: 19,
        ppm_codes: &[18, 19],
    },
    SupportedSyscall {
        name: "connect",
        nr: 42,
        exit_event: 23,
        ppm_codes: &[22, 23],
    },
    SupportedSyscall {
        name: "accept",
        nr: 43,
        exit_event: 247,
        ppm_codes: &[26, 27, 246, 247],
    },
    SupportedSyscall {
        name: "bind",
        nr: 49,
        exit_event: 21,
        ppm_codes: &[20, 21],
    },
    SupportedSyscall {
        name: "listen",
        nr: 50,
        exit_event: 25,
        ppm_codes: &[24, 25],
    },
    SupportedSyscall {
        name: "clone",
        nr: 56,
        exit_event: 223,
        ppm_codes: &[14, 15, 156, 157, 216, 217, 222, 223],
    },
    SupportedSyscall {
        name: "fork",
        nr: 57,
        exit_event: 225,
        ppm_codes: &[182, 183, 218, 219, 224, 225],
    },
    SupportedSyscall {
        name: "vfork",
        nr: 58,
        exit_event: 227,
        ppm_codes: &[184, 185, 220, 221, 226, 227],
    },
    SupportedSyscall {
        name: "execve",
        nr: 59,
        exit_event: 293,
        ppm_codes: &[
            12, 13, 154, 155, 172, 173, 214, 215, 230, 231, 282, 283, 288, 289, 292, 293,
        ],
    },
    SupportedSyscall {
        name: "creat",
        nr: 85,
        exit_event: 59,
        ppm_codes: &[58, 59],
    },
    SupportedSyscall {
        name: "openat",
        nr: 257,
        exit_event: 307,
        ppm_codes: &[102, 103, 306, 307],
    },
    SupportedSyscall {
        name: "accept4",
        nr: 288,
        exit_event: 389,
        ppm_codes: &[56, 57, 248, 249, 388, 389],
    },
    SupportedSyscall {
        name: "execveat",
        nr: 322,
        exit_event: 331,
        ppm_codes: &[330, 331],
    },
    SupportedSyscall {
        name: "clone3",
        nr: 435,
        exit_event: 335,
        ppm_codes: &[334, 335],
    },
    SupportedSyscall {
        name: "openat2",
        nr: 437,
        exit_event: 327,
        ppm_codes: &[326, 327],
    },
];

/// PPME codes of `procexit` (enter and the unused exit).
pub const PROCEXIT_CODES: &[u16] = &[186, 187];

/// The set of syscalls (and `procexit`) to capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interest {
    syscalls: BTreeSet<u32>,
    procexit: bool,
}

impl Interest {
    /// Nothing: no event is produced until syscalls are added.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every syscall the kernel program supports, plus `procexit`.
    pub fn all_supported() -> Self {
        Self {
            syscalls: SUPPORTED.iter().map(|s| s.nr).collect(),
            procexit: true,
        }
    }

    /// The syscalls that produce the given PPME event codes, plus `procexit` when named.
    ///
    /// Returns the set and the codes the kernel program cannot produce (so a caller can
    /// report, as Falco does, that a rule needs an event the capture does not give).
    pub fn from_ppm_events(codes: impl IntoIterator<Item = u16>) -> (Self, Vec<u16>) {
        let mut interest = Self::none();
        let mut unsupported = Vec::new();
        for code in codes {
            if PROCEXIT_CODES.contains(&code) {
                interest.procexit = true;
                continue;
            }
            let mut found = false;
            for s in SUPPORTED.iter().filter(|s| s.ppm_codes.contains(&code)) {
                interest.syscalls.insert(s.nr);
                found = true;
            }
            if !found {
                unsupported.push(code);
            }
        }
        (interest, unsupported)
    }

    /// Adds a syscall by x86_64 number (ids without an emitter produce nothing).
    pub fn with_syscall(mut self, nr: u32) -> Self {
        if nr < SYSCALL_TABLE_SIZE {
            self.syscalls.insert(nr);
        }
        self
    }

    /// Enables or disables `procexit`.
    pub fn with_procexit(mut self, on: bool) -> Self {
        self.procexit = on;
        self
    }

    /// Whether a syscall number is in the set.
    pub fn contains_syscall(&self, nr: u32) -> bool {
        self.syscalls.contains(&nr)
    }

    /// Whether `procexit` is enabled.
    pub fn procexit(&self) -> bool {
        self.procexit
    }

    /// The content of the kernel array: one byte per slot.
    pub(crate) fn slots(&self) -> Vec<u8> {
        let mut slots = vec![0u8; INTERESTING_SIZE as usize];
        for &nr in &self.syscalls {
            if let Some(s) = slots.get_mut(nr as usize) {
                *s = 1;
            }
        }
        if let Some(s) = slots.get_mut(PROCEXIT_SLOT as usize) {
            *s = u8::from(self.procexit);
        }
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppm_codes_map_to_syscalls_and_unknown_codes_are_reported() {
        let (i, unsupported) = Interest::from_ppm_events([307, 293, 186, 9999, 6]);
        assert!(i.contains_syscall(257));
        assert!(i.contains_syscall(59));
        assert!(!i.contains_syscall(2));
        assert!(i.procexit());
        assert_eq!(unsupported, vec![9999, 6]);
        let slots = i.slots();
        assert_eq!(slots.iter().filter(|&&b| b == 1).count(), 3);
        assert_eq!(slots.get(PROCEXIT_SLOT as usize), Some(&1));
    }

    #[test]
    fn every_supported_exit_event_is_odd_and_listed_in_its_codes() {
        for s in SUPPORTED {
            assert_eq!(s.exit_event % 2, 1, "{}", s.name);
            assert!(s.ppm_codes.contains(&s.exit_event), "{}", s.name);
            assert!(s.nr < SYSCALL_TABLE_SIZE, "{}", s.name);
        }
    }
}
