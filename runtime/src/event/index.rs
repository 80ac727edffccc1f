//! Parameter positions by name, resolved once per event type.
//!
//! The state and the extractor read a handful of parameters by name (`fd`, `name`, `flags`,
//! `tuple`, …) on most events. The catalog stores parameters as a list, so a lookup by name is a
//! string search over it; on the replay hot path that search showed in profiles. [`P`] names
//! the parameters the runtime reads, and a table built once maps (event code, [`P`]) to the
//! parameter's index, so [`Event::param_of`] costs one table load plus the position walk of
//! [`Event::param`].
//!
//! Invariant: `index_of(code, p)` equals `events::event(code)?.param_index(P_NAMES[p])`, for
//! every code of the catalog (checked by a test).

use std::sync::OnceLock;

use frule_lang::events;

use super::{Event, Param};

macro_rules! param_names {
    ($($id:ident = $name:literal),* $(,)?) => {
        /// A parameter name the runtime reads on the hot path (see the module docs).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        #[allow(non_camel_case_types, reason = "one variant per catalog parameter name, spelled as it")]
        pub enum P {
            $(
                #[doc = concat!("The `", $name, "` parameter.")]
                $id,
            )*
        }

        /// The catalog name of each [`P`], in declaration order.
        const P_NAMES: &[&str] = &[$($name),*];
    };
}

param_names! {
    fd = "fd",
    name = "name",
    flags = "flags",
    dirfd = "dirfd",
    dev = "dev",
    ino = "ino",
    path = "path",
    tuple = "tuple",
    addr = "addr",
    domain = "domain",
    type_ = "type",
    proto = "proto",
    oldfd = "oldfd",
    cmd = "cmd",
    fd1 = "fd1",
    fd2 = "fd2",
    uid = "uid",
    gid = "gid",
    euid = "euid",
    egid = "egid",
    reaper_tid = "reaper_tid",
    mode = "mode",
    tid = "tid",
    pid = "pid",
    ptid = "ptid",
    vtid = "vtid",
    vpid = "vpid",
    comm = "comm",
    exe = "exe",
    args = "args",
    cwd = "cwd",
    cgroups = "cgroups",
    fdlimit = "fdlimit",
    pidns_init_start_ts = "pidns_init_start_ts",
    filename = "filename",
    pathname = "pathname",
    env = "env",
    tty = "tty",
    vpgid = "vpgid",
    pgid = "pgid",
    loginuid = "loginuid",
    cap_inheritable = "cap_inheritable",
    cap_permitted = "cap_permitted",
    cap_effective = "cap_effective",
    exe_ino = "exe_ino",
    exe_ino_ctime = "exe_ino_ctime",
    exe_ino_mtime = "exe_ino_mtime",
    trusted_exepath = "trusted_exepath",
}

/// No such parameter in the event type.
const NONE: u8 = u8::MAX;

/// One row per event code: the index of each [`P`], or [`NONE`].
type Row = [u8; P_NAMES.len()];

fn table() -> &'static [Row] {
    static TABLE: OnceLock<Vec<Row>> = OnceLock::new();
    TABLE.get_or_init(|| {
        events::events()
            .iter()
            .map(|info| {
                let mut row = [NONE; P_NAMES.len()];
                for (slot, name) in row.iter_mut().zip(P_NAMES) {
                    *slot = info
                        .param_index(name)
                        .and_then(|i| u8::try_from(i).ok())
                        .filter(|&i| i != NONE)
                        .unwrap_or(NONE);
                }
                row
            })
            .collect()
    })
}

/// The index of parameter `p` in events of type `code`, if the catalog has it.
#[inline]
pub fn index_of(code: u16, p: P) -> Option<usize> {
    let i = *table().get(usize::from(code))?.get(p as usize)?;
    (i != NONE).then_some(usize::from(i))
}

impl<'a> Event<'a> {
    /// The parameter the catalog names `p`, if present in this event: [`Event::param_by_name`]
    /// without the name search.
    #[inline]
    pub fn param_of(&self, p: P) -> Option<Param<'a>> {
        self.param(index_of(self.event_type(), p)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_agrees_with_the_catalog() {
        for info in events::events() {
            for (k, name) in P_NAMES.iter().enumerate() {
                let p: P = nth(k);
                assert_eq!(
                    index_of(info.code, p),
                    info.param_index(name),
                    "{} {}",
                    info.name,
                    name
                );
            }
        }
    }

    /// The `k`-th variant of [`P`] (found by position in a list, no transmute).
    fn nth(k: usize) -> P {
        ALL.get(k).copied().expect("one variant per name")
    }

    const ALL: &[P] = &[
        P::fd,
        P::name,
        P::flags,
        P::dirfd,
        P::dev,
        P::ino,
        P::path,
        P::tuple,
        P::addr,
        P::domain,
        P::type_,
        P::proto,
        P::oldfd,
        P::cmd,
        P::fd1,
        P::fd2,
        P::uid,
        P::gid,
        P::euid,
        P::egid,
        P::reaper_tid,
        P::mode,
        P::tid,
        P::pid,
        P::ptid,
        P::vtid,
        P::vpid,
        P::comm,
        P::exe,
        P::args,
        P::cwd,
        P::cgroups,
        P::fdlimit,
        P::pidns_init_start_ts,
        P::filename,
        P::pathname,
        P::env,
        P::tty,
        P::vpgid,
        P::pgid,
        P::loginuid,
        P::cap_inheritable,
        P::cap_permitted,
        P::cap_effective,
        P::exe_ino,
        P::exe_ino_ctime,
        P::exe_ino_mtime,
        P::trusted_exepath,
    ];

    #[test]
    fn all_lists_every_variant() {
        assert_eq!(ALL.len(), P_NAMES.len());
        for (k, p) in ALL.iter().enumerate() {
            assert_eq!(*p as usize, k);
        }
    }
}
