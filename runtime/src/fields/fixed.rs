//! The fixed-offset numeric fields ([`frule_codegen::abi::FixedFields`]) of the current event.
//!
//! The JIT asks for the fixed-offset fields its code compares once per event, before the rules run.
//! The extractor computes each one directly from the event, the thread and the fd entry it has at
//! hand, without the generic path (a [`ValueBuf`] per field, the field dispatch).
//!
//! Invariant: [`Extractor::fixed_number`] gives, for every fixed-offset field, exactly the value
//! `extract` pushes for it without an argument, or `None` where `extract` fails — the same
//! conditions (no thread, not an fd event, no fd entry, no exit result) in the same order. The test
//! below replays every corpus capture and compares the two ways field by field.

use std::sync::OnceLock;

use frule_codegen::abi::{self, FIXED_FIELDS, FixedFields, ValueBuf};

use super::{Extractor, K, kind};
use crate::state::{FdType, Role};

/// The extractor's kind of every fixed-offset field, by fixed index.
fn kinds() -> &'static [K; FIXED_FIELDS] {
    static KINDS: OnceLock<[K; FIXED_FIELDS]> = OnceLock::new();
    KINDS.get_or_init(|| std::array::from_fn(|i| abi::fixed_field(i).map_or(K::Unsupported, kind)))
}

impl Extractor<'_> {
    /// The bits of fixed-offset field `k` in this event (`None`: missing); `Err(())` for a kind
    /// this function does not decode (then the generic path is used).
    pub(super) fn fixed_number(&self, k: K) -> Result<Option<u64>, ()> {
        let b = |v: bool| Some(u64::from(v));
        Ok(match k {
            K::EvtNum => Some(self.state.context().num),
            K::EvtRawres => self.res().map(|r| r as u64),
            K::EvtFailed => b(self.res().is_some_and(|r| r < 0)),
            K::EvtIsOpenRead | K::EvtIsOpenWrite | K::EvtIsOpenExec | K::EvtIsOpenCreate => {
                b(self.is_open(k))
            }
            K::FdNum => (self.fd_event() && self.thread().is_some())
                .then(|| self.state.context().lastevent_fd as u64),
            K::FdConnected => self.fdinfo(None).and_then(|f| b(f.connected)),
            K::FdNameChanged => self
                .fdinfo(None)
                .and_then(|_| b(self.state.context().name_changed)),
            K::FdSport | K::FdCport => self.fdinfo(None).and_then(|f| {
                let conn = matches!(f.ty, FdType::Ipv4Sock | FdType::Ipv6Sock);
                let serv = matches!(f.ty, FdType::Ipv4ServSock | FdType::Ipv6ServSock);
                let connected = conn && f.role != Role::None;
                match k {
                    K::FdSport if serv => Some(u64::from(f.sock.sport)),
                    K::FdSport => connected.then_some(u64::from(f.sock.dport)),
                    _ => connected.then_some(u64::from(f.sock.sport)),
                }
            }),
            K::ThreadTid => Some(self.evt.tid()),
            _ => {
                let Some(t) = self.thread() else {
                    return match k {
                        K::UserUid
                        | K::UserLoginuid
                        | K::GroupGid
                        | K::ProcPid
                        | K::ProcVpid
                        | K::ThreadVtid
                        | K::ProcIsExeWritable
                        | K::ProcIsExeUpper
                        | K::ProcIsExeMemfd
                        | K::ProcIsSidLeader
                        | K::ProcIsVpgidLeader => Ok(None),
                        _ => Err(()),
                    };
                };
                let xid = |v: i64| (-1..=i64::from(u32::MAX)).contains(&v);
                match k {
                    K::UserUid => Some(u64::from(t.uid)),
                    K::UserLoginuid => Some(if t.loginuid < u32::MAX {
                        u64::from(t.loginuid)
                    } else {
                        -1i64 as u64
                    }),
                    K::GroupGid => Some(u64::from(t.gid)),
                    K::ProcPid => xid(t.pid).then_some(t.pid as u64),
                    K::ProcVpid => (t.vpid != -1).then_some(t.vpid as u64),
                    K::ThreadVtid => (t.vtid != -1).then_some(t.vtid as u64),
                    K::ProcIsExeWritable => b(t.exe_writable),
                    K::ProcIsExeUpper => b(t.exe_upper_layer),
                    K::ProcIsExeMemfd => b(t.exe_from_memfd),
                    K::ProcIsSidLeader => b(t.sid == t.vpid),
                    K::ProcIsVpgidLeader => b(t.vpgid == t.vpid),
                    _ => return Err(()),
                }
            }
        })
    }

    /// [`frule_codegen::abi::FieldSource::fixed_fields`] for the extractor.
    pub(super) fn fill_fixed(&mut self, wanted: u64, block: &mut FixedFields) {
        let kinds = kinds();
        let mut left = wanted;
        let mut rest = 0u64;
        while left != 0 {
            let i = left.trailing_zeros() as usize;
            left &= left - 1;
            match kinds.get(i).map(|k| self.fixed_number(*k)) {
                Some(Ok(v)) => block.set(i, v),
                _ => rest |= 1 << i,
            }
        }
        if rest != 0 {
            abi::fill_fixed_by_extract(self, rest, block, &mut ValueBuf::new());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use frule_codegen::abi::{self, FIXED_FIELDS, FieldSource, FixedFields, ValueBuf};

    use super::super::Extractor;
    use crate::scap::ScapReader;
    use crate::state::State;

    fn captures() -> Vec<PathBuf> {
        let root = std::env::var_os("FRULE_CORPUS").map_or_else(
            || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus")),
            PathBuf::from,
        );
        let mut out = Vec::new();
        let mut stack = vec![root.join("scap")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "scap") {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    /// Every event of every corpus capture: the block the extractor fills holds exactly what
    /// `extract` gives for each fixed-offset field (present with the same value, or missing).
    #[test]
    fn fixed_block_equals_extraction_on_the_corpus() {
        let files = captures();
        if files.is_empty() {
            eprintln!("skipping: no corpus captures (set FRULE_CORPUS)");
            return;
        }
        let all = u64::MAX >> (64 - FIXED_FIELDS);
        let (mut events, mut present) = (0usize, [0usize; FIXED_FIELDS]);
        let mut buf = ValueBuf::new();
        for path in files {
            let Ok(mut reader) = ScapReader::open(&path) else {
                continue;
            };
            let mut state = State::from_capture(reader.state());
            while let Ok(Some(rec)) = reader.next_event() {
                state.update(&rec.event);
                let mut x = Extractor::new(&state, rec.event);
                let mut block = FixedFields::EMPTY;
                x.fixed_fields(all, &mut block);
                for (i, seen) in present.iter_mut().enumerate() {
                    let (Some(field), Some(kind)) = (abi::fixed_field(i), abi::fixed_kind(i))
                    else {
                        panic!("fixed field {i} is not in the schema");
                    };
                    buf.clear();
                    let ok = x.extract(field, None, &mut buf);
                    let want = abi::fixed_bits(kind, ok, &buf);
                    assert_eq!(
                        block.get(i),
                        want,
                        "{} in {} at event {}",
                        abi::FIXED_FIELD_NAMES[i],
                        path.display(),
                        state.context().num
                    );
                    *seen += usize::from(want.is_some());
                }
                events += 1;
            }
        }
        assert!(events > 1000, "the corpus captures have events");
        // Both cases occur for the fields the corpus exercises most.
        for name in ["fd.num", "evt.rawres", "user.uid", "proc.vpid", "fd.sport"] {
            let i = abi::FIXED_FIELD_NAMES
                .iter()
                .position(|n| *n == name)
                .unwrap_or(0);
            assert!(
                present[i] > 0 && present[i] < events,
                "{name} present in {} of {events} events",
                present[i]
            );
        }
    }
}
