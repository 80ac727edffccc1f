//! Which syscalls the kernel side turns into events.
//!
//! The kernel program looks the syscall id up in the `interesting_syscalls` array before
//! doing anything else, so a syscall outside the set costs one array lookup. Slot
//! [`PROCEXIT_SLOT`] (past the syscall ids) enables the `procexit` event of
//! `sched_process_exit`, and slot [`NO_OPEN_FILE_PROPS_SLOT`] turns off the lookup of an opened
//! file's dev, ino and created/overlay flags. The set can be changed while the capture runs.
//!
//! Invariant: every syscall listed in [`SUPPORTED`] has a dedicated emitter in
//! `bpf/frule.bpf.c`; any other interesting syscall produces `GENERIC_X` (PPME 1), so
//! [`Interest::from_ppm_events`] reports codes it cannot map to a syscall and a caller
//! adds such syscalls by number ([`Interest::with_syscall`]).

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
    SupportedSyscall {
        name: "mprotect",
        nr: 10,
        exit_event: 329,
        ppm_codes: &[328, 329],
    },
    SupportedSyscall {
        name: "pipe",
        nr: 22,
        exit_event: 61,
        ppm_codes: &[60, 61],
    },
    SupportedSyscall {
        name: "dup",
        nr: 32,
        exit_event: 367,
        ppm_codes: &[124, 125, 366, 367],
    },
    SupportedSyscall {
        name: "dup2",
        nr: 33,
        exit_event: 363,
        ppm_codes: &[124, 125, 362, 363],
    },
    SupportedSyscall {
        name: "kill",
        nr: 62,
        exit_event: 129,
        ppm_codes: &[128, 129],
    },
    SupportedSyscall {
        name: "fcntl",
        nr: 72,
        exit_event: 151,
        ppm_codes: &[150, 151],
    },
    SupportedSyscall {
        name: "chdir",
        nr: 80,
        exit_event: 95,
        ppm_codes: &[94, 95],
    },
    SupportedSyscall {
        name: "fchdir",
        nr: 81,
        exit_event: 97,
        ppm_codes: &[96, 97],
    },
    SupportedSyscall {
        name: "rename",
        nr: 82,
        exit_event: 175,
        ppm_codes: &[174, 175],
    },
    SupportedSyscall {
        name: "mkdir",
        nr: 83,
        exit_event: 277,
        ppm_codes: &[98, 99, 276, 277],
    },
    SupportedSyscall {
        name: "rmdir",
        nr: 84,
        exit_event: 279,
        ppm_codes: &[100, 101, 278, 279],
    },
    SupportedSyscall {
        name: "link",
        nr: 86,
        exit_event: 309,
        ppm_codes: &[104, 105, 308, 309],
    },
    SupportedSyscall {
        name: "unlink",
        nr: 87,
        exit_event: 301,
        ppm_codes: &[108, 109, 300, 301],
    },
    SupportedSyscall {
        name: "symlink",
        nr: 88,
        exit_event: 179,
        ppm_codes: &[178, 179],
    },
    SupportedSyscall {
        name: "chmod",
        nr: 90,
        exit_event: 315,
        ppm_codes: &[314, 315],
    },
    SupportedSyscall {
        name: "fchmod",
        nr: 91,
        exit_event: 317,
        ppm_codes: &[316, 317],
    },
    SupportedSyscall {
        name: "chown",
        nr: 92,
        exit_event: 379,
        ppm_codes: &[378, 379],
    },
    SupportedSyscall {
        name: "fchown",
        nr: 93,
        exit_event: 383,
        ppm_codes: &[382, 383],
    },
    SupportedSyscall {
        name: "lchown",
        nr: 94,
        exit_event: 381,
        ppm_codes: &[380, 381],
    },
    SupportedSyscall {
        name: "setuid",
        nr: 105,
        exit_event: 199,
        ppm_codes: &[198, 199],
    },
    SupportedSyscall {
        name: "setgid",
        nr: 106,
        exit_event: 201,
        ppm_codes: &[200, 201],
    },
    SupportedSyscall {
        name: "setpgid",
        nr: 109,
        exit_event: 295,
        ppm_codes: &[294, 295],
    },
    SupportedSyscall {
        name: "setsid",
        nr: 112,
        exit_event: 275,
        ppm_codes: &[274, 275],
    },
    SupportedSyscall {
        name: "setreuid",
        nr: 113,
        exit_event: 427,
        ppm_codes: &[426, 427],
    },
    SupportedSyscall {
        name: "setregid",
        nr: 114,
        exit_event: 429,
        ppm_codes: &[428, 429],
    },
    SupportedSyscall {
        name: "setresuid",
        nr: 117,
        exit_event: 193,
        ppm_codes: &[192, 193],
    },
    SupportedSyscall {
        name: "setresgid",
        nr: 119,
        exit_event: 195,
        ppm_codes: &[194, 195],
    },
    SupportedSyscall {
        name: "chroot",
        nr: 161,
        exit_event: 267,
        ppm_codes: &[266, 267],
    },
    SupportedSyscall {
        name: "mount",
        nr: 165,
        exit_event: 257,
        ppm_codes: &[256, 257],
    },
    SupportedSyscall {
        name: "umount2",
        nr: 166,
        exit_event: 391,
        ppm_codes: &[258, 259, 390, 391],
    },
    SupportedSyscall {
        name: "mkdirat",
        nr: 258,
        exit_event: 305,
        ppm_codes: &[304, 305],
    },
    SupportedSyscall {
        name: "fchownat",
        nr: 260,
        exit_event: 385,
        ppm_codes: &[384, 385],
    },
    SupportedSyscall {
        name: "unlinkat",
        nr: 263,
        exit_event: 303,
        ppm_codes: &[110, 111, 302, 303],
    },
    SupportedSyscall {
        name: "renameat",
        nr: 264,
        exit_event: 177,
        ppm_codes: &[176, 177],
    },
    SupportedSyscall {
        name: "linkat",
        nr: 265,
        exit_event: 311,
        ppm_codes: &[106, 107, 310, 311],
    },
    SupportedSyscall {
        name: "symlinkat",
        nr: 266,
        exit_event: 181,
        ppm_codes: &[180, 181],
    },
    SupportedSyscall {
        name: "fchmodat",
        nr: 268,
        exit_event: 313,
        ppm_codes: &[312, 313],
    },
    SupportedSyscall {
        name: "unshare",
        nr: 272,
        exit_event: 285,
        ppm_codes: &[284, 285],
    },
    SupportedSyscall {
        name: "dup3",
        nr: 292,
        exit_event: 365,
        ppm_codes: &[124, 125, 364, 365],
    },
    SupportedSyscall {
        name: "pipe2",
        nr: 293,
        exit_event: 393,
        ppm_codes: &[392, 393],
    },
    SupportedSyscall {
        name: "setns",
        nr: 308,
        exit_event: 241,
        ppm_codes: &[240, 241],
    },
    SupportedSyscall {
        name: "renameat2",
        nr: 316,
        exit_event: 319,
        ppm_codes: &[318, 319],
    },
    SupportedSyscall {
        name: "memfd_create",
        nr: 319,
        exit_event: 405,
        ppm_codes: &[404, 405],
    },
    SupportedSyscall {
        name: "bpf",
        nr: 321,
        exit_event: 369,
        ppm_codes: &[296, 297, 368, 369],
    },
    SupportedSyscall {
        name: "userfaultfd",
        nr: 323,
        exit_event: 321,
        ppm_codes: &[320, 321],
    },
    SupportedSyscall {
        name: "sendto",
        nr: 44,
        exit_event: 31,
        ppm_codes: &[30, 31],
    },
    SupportedSyscall {
        name: "recvfrom",
        nr: 45,
        exit_event: 35,
        ppm_codes: &[34, 35],
    },
    SupportedSyscall {
        name: "sendmsg",
        nr: 46,
        exit_event: 49,
        ppm_codes: &[48, 49],
    },
    SupportedSyscall {
        name: "recvmsg",
        nr: 47,
        exit_event: 53,
        ppm_codes: &[52, 53],
    },
    SupportedSyscall {
        name: "socketpair",
        nr: 53,
        exit_event: 43,
        ppm_codes: &[42, 43],
    },
    SupportedSyscall {
        name: "ptrace",
        nr: 101,
        exit_event: 169,
        ppm_codes: &[168, 169],
    },
    SupportedSyscall {
        name: "init_module",
        nr: 175,
        exit_event: 411,
        ppm_codes: &[410, 411],
    },
    SupportedSyscall {
        name: "finit_module",
        nr: 313,
        exit_event: 413,
        ppm_codes: &[412, 413],
    },
    SupportedSyscall {
        name: "read",
        nr: 0,
        exit_event: 7,
        ppm_codes: &[6, 7],
    },
    SupportedSyscall {
        name: "write",
        nr: 1,
        exit_event: 9,
        ppm_codes: &[8, 9],
    },
    SupportedSyscall {
        name: "pread",
        nr: 17,
        exit_event: 113,
        ppm_codes: &[112, 113],
    },
    SupportedSyscall {
        name: "pwrite",
        nr: 18,
        exit_event: 115,
        ppm_codes: &[114, 115],
    },
];

/// The syscalls whose user-memory argument the kernel program copies at entry (open, creat,
/// openat, openat2, connect), as the `tp_btf/sys_enter` program's switch lists them; the
/// classic entry tracepoints are listed in this order too.
pub const ENTRY_COPY_SYSCALLS: [u32; 5] = [2, 85, 257, 437, 42];

/// The array slot that, set, makes open events skip the opened file's dev, ino and
/// created/overlay-layer flags (written as 0): the fd-table walk and the file, inode and super
/// block reads are most of an open event's kernel cost when the fd table has grown past its
/// embedded 64 slots, and no rule may need them.
pub const NO_OPEN_FILE_PROPS_SLOT: u32 = 513;

/// PPME codes of `procexit` (enter and the unused exit).
pub const PROCEXIT_CODES: &[u16] = &[186, 187];

/// The set of syscalls (and `procexit`) to capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interest {
    syscalls: BTreeSet<u32>,
    procexit: bool,
    /// Open events without dev/ino/flags from the file (see [`NO_OPEN_FILE_PROPS_SLOT`]).
    no_open_file_props: bool,
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
            no_open_file_props: false,
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

    /// Adds a syscall by x86_64 number (one without a dedicated event produces `GENERIC_X`).
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

    /// Whether open events carry the opened file's dev, ino and the `O_F_CREATED` and overlay
    /// layer flag bits (the default), or zeros in their place: a caller whose consumers read none
    /// of them (no `fd.dev`, `fd.ino`, `evt.is_open_create`, layer field or open-event argument
    /// field, no recording) saves the kernel most of an open event's cost for a process whose fd
    /// table has grown past 64 slots.
    pub fn with_open_file_props(mut self, on: bool) -> Self {
        self.no_open_file_props = !on;
        self
    }

    /// Whether open events carry the opened file's dev, ino and flag bits.
    pub fn open_file_props(&self) -> bool {
        !self.no_open_file_props
    }

    /// Whether a syscall number is in the set.
    pub fn contains_syscall(&self, nr: u32) -> bool {
        self.syscalls.contains(&nr)
    }

    /// Whether `procexit` is enabled.
    pub fn procexit(&self) -> bool {
        self.procexit
    }

    /// Whether a wanted syscall has its path or sockaddr copied at syscall entry (the TOCTOU
    /// mitigation: open, creat, openat, openat2, connect). Without one the entry hook stays
    /// detached, and no syscall pays for it.
    pub fn needs_entry_copy(&self) -> bool {
        ENTRY_COPY_SYSCALLS
            .iter()
            .any(|nr| self.syscalls.contains(nr))
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
        if let Some(s) = slots.get_mut(NO_OPEN_FILE_PROPS_SLOT as usize) {
            *s = u8::from(self.no_open_file_props);
        }
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppm_codes_map_to_syscalls_and_unknown_codes_are_reported() {
        let (i, unsupported) = Interest::from_ppm_events([307, 293, 186, 9999, 148]);
        assert!(i.contains_syscall(257));
        assert!(i.contains_syscall(59));
        assert!(!i.contains_syscall(2));
        assert!(i.procexit());
        assert_eq!(unsupported, vec![9999, 148]);
        let slots = i.slots();
        assert_eq!(slots.iter().filter(|&&b| b == 1).count(), 3);
        assert_eq!(slots.get(PROCEXIT_SLOT as usize), Some(&1));
    }

    #[test]
    fn open_file_props_are_on_unless_turned_off() {
        let on = Interest::all_supported();
        assert!(on.open_file_props());
        assert_eq!(on.slots().get(NO_OPEN_FILE_PROPS_SLOT as usize), Some(&0));
        let off = on.with_open_file_props(false);
        assert!(!off.open_file_props());
        assert_eq!(off.slots().get(NO_OPEN_FILE_PROPS_SLOT as usize), Some(&1));
        assert!(Interest::none().open_file_props());
    }

    #[test]
    fn only_open_family_and_connect_need_the_entry_hook() {
        let cases: [(&[u32], bool); 5] = [
            (&[], false),
            (&[3, 59, 41], false),
            (&[3, 257], true),
            (&[42], true),
            (&[85, 2, 437], true),
        ];
        for (nrs, want) in cases {
            let i = nrs
                .iter()
                .fold(Interest::none(), |i, &nr| i.with_syscall(nr));
            assert_eq!(i.needs_entry_copy(), want, "{nrs:?}");
        }
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
