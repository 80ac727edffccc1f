//! Per-event-type dispatch: a [`Partition`] compiled for the VM ([`Dispatch`]) or the JIT
//! ([`JitDispatch`]), both one generic [`EvtTypeDispatch`] over the backend ([`GroupCode`]).
//!
//! An event is evaluated only against the fused program of its event code's group: one table lookup,
//! then the group's rules in rule-file order sharing every extracted field and memoized subexpression.
//! Answers are reported as indices into the *whole* program's rules, so callers never see groups.
//!
//! # The unwanted-event fast path
//!
//! Most events of a live stream (`futex`, `switch`, `epoll_pwait`, …) are of a type no rule wants.
//! Their whole cost is one bounds-checked load from a [`CodeTable`] (`Option<NonZeroU32>` per code,
//! `None` for "no rule"), done first and inlined into the caller: no dynamic call, no allocation, no
//! look at the machines. Only a wanted code goes on to the (out-of-line) group evaluation.
//!
//! Invariant: a [`CodeTable`] maps a code to `Some(g)` only when group `g` exists and has at least one
//! rule; every other code (beyond the table, in the empty group, in a group whose program has no
//! rule) is `None`.
//!
//! Contract: when the partition was built with `specialize_evttype` (the default), the event's
//! `evt.type` must be the name of its code (see [`crate::opt::evttype_partition`]).

use std::num::NonZeroU32;

use crate::abi::FieldSource;
use crate::opt::evttype_partition::{Partition, PartitionOptions, partition};
use crate::{ir, jit, vm};

/// Per event code, the group to run, or `None` when no rule wants the code: the first and, for an
/// unwanted event, the only step of a dispatch (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct CodeTable {
    slots: Box<[Option<NonZeroU32>]>,
}

impl CodeTable {
    /// The table of a partition's `by_code`, keeping only the groups for which `has_rules` says
    /// that they hold a rule (group 0, the empty group, never does).
    pub fn new(by_code: &[u32], has_rules: impl Fn(usize) -> bool) -> CodeTable {
        CodeTable {
            slots: by_code
                .iter()
                .map(|&g| NonZeroU32::new(g).filter(|g| has_rules(g.get() as usize)))
                .collect(),
        }
    }

    /// The group of an event of `code`, `None` when no rule wants it (one bounds-checked load).
    #[inline(always)]
    pub fn group(&self, code: u16) -> Option<usize> {
        match self.slots.get(usize::from(code)) {
            Some(Some(g)) => Some(g.get() as usize),
            _ => None,
        }
    }

    /// Whether some rule wants events of `code`.
    #[inline]
    pub fn wants(&self, code: u16) -> bool {
        self.group(code).is_some()
    }
}

/// What [`EvtTypeDispatch`] needs from a backend: compile one group's program, make its per-event
/// state, and evaluate it. Implemented by the VM ([`vm::Program`]) and the JIT ([`jit::Program`]);
/// the dispatch itself (table, group lookup, rule remapping) is the same code for both, and each
/// backend's methods are called directly (monomorphized, no dynamic call).
pub trait GroupCode: Sized {
    /// The per-event state of one group's program.
    type Machine: Clone + std::fmt::Debug;

    /// Compiles a group's (verified) program.
    fn compile_group(p: &ir::Program) -> Result<Self, vm::CompileError>;

    /// Compiles every group's program, in order (a backend may share work between them).
    fn compile_groups(ps: &[&ir::Program]) -> Vec<Result<Self, vm::CompileError>> {
        ps.iter().map(|p| Self::compile_group(p)).collect()
    }

    /// Fresh per-event state for this program.
    fn new_machine(&self) -> Self::Machine;

    /// How many rules the program holds.
    fn rule_count(&self) -> usize;

    /// Appends the (group-local) indices of every matching rule, ascending.
    fn all_matches(&self, m: &mut Self::Machine, src: &mut dyn FieldSource, out: &mut Vec<usize>);

    /// The (group-local) index of the first matching rule.
    fn first_match(&self, m: &mut Self::Machine, src: &mut dyn FieldSource) -> Option<usize>;
}

impl GroupCode for vm::Program {
    type Machine = vm::Machine;

    fn compile_group(p: &ir::Program) -> Result<Self, vm::CompileError> {
        vm::Program::compile(p)
    }

    fn new_machine(&self) -> vm::Machine {
        self.machine()
    }

    fn rule_count(&self) -> usize {
        vm::Program::rule_count(self)
    }

    #[inline]
    fn all_matches(&self, m: &mut vm::Machine, src: &mut dyn FieldSource, out: &mut Vec<usize>) {
        self.matches(m, src, out);
    }

    /// Rules after the first match are not evaluated.
    #[inline]
    fn first_match(&self, m: &mut vm::Machine, src: &mut dyn FieldSource) -> Option<usize> {
        vm::Program::first_match(self, m, src)
    }
}

impl GroupCode for jit::Program {
    type Machine = jit::Machine;

    /// Native code, or the VM where Cranelift cannot compile (see [`jit::Program::compile_or_vm`]).
    fn compile_group(p: &ir::Program) -> Result<Self, vm::CompileError> {
        jit::Program::compile_or_vm(p)
    }

    /// Identical group programs (`open`/`openat`/`openat2`, …) are compiled once and share their
    /// code (see [`jit::Program::compile_all`]).
    fn compile_groups(ps: &[&ir::Program]) -> Vec<Result<Self, vm::CompileError>> {
        jit::Program::compile_all(ps)
    }

    fn new_machine(&self) -> jit::Machine {
        self.machine()
    }

    fn rule_count(&self) -> usize {
        jit::Program::rule_count(self)
    }

    #[inline]
    fn all_matches(&self, m: &mut jit::Machine, src: &mut dyn FieldSource, out: &mut Vec<usize>) {
        self.matches(m, src, out);
    }

    /// The native function evaluates every rule of the group in one call; the first answer is kept.
    #[inline]
    fn first_match(&self, m: &mut jit::Machine, src: &mut dyn FieldSource) -> Option<usize> {
        jit::Program::first_match(self, m, src)
    }
}

/// Compiled per-event-type programs of one backend: a [`Partition`], its [`CodeTable`] and one
/// compiled program per group. Use it as [`Dispatch`] (VM) or [`JitDispatch`] (JIT).
#[derive(Debug)]
pub struct EvtTypeDispatch<P> {
    /// The partition the programs come from (IR, rule maps, sets).
    pub partition: Partition,
    table: CodeTable,
    programs: Vec<P>,
}

/// Compiled per-event-type programs for the VM.
pub type Dispatch = EvtTypeDispatch<vm::Program>;

/// Compiled per-event-type programs for the JIT: the same partition and [`CodeTable`] as
/// [`Dispatch`], each group compiled to native code (or, where Cranelift cannot, run by the VM; see
/// [`jit::Program::compile_or_vm`]).
pub type JitDispatch = EvtTypeDispatch<jit::Program>;

/// Per-group per-event state of an [`EvtTypeDispatch`], reusable across events.
#[derive(Clone, Debug)]
pub struct GroupMachines<M> {
    machines: Vec<M>,
}

impl<M> Default for GroupMachines<M> {
    fn default() -> Self {
        GroupMachines {
            machines: Vec::new(),
        }
    }
}

/// Per-group VM caches for [`Dispatch`].
pub type Machines = GroupMachines<vm::Machine>;

/// Per-group JIT state for [`JitDispatch`].
pub type JitMachines = GroupMachines<jit::Machine>;

impl<P: GroupCode> EvtTypeDispatch<P> {
    /// Partitions, optimizes and compiles `p` (which must verify), group by group.
    pub fn build(p: &ir::Program, options: PartitionOptions) -> Result<Self, vm::CompileError> {
        let partition = partition(p, options);
        let sources: Vec<&ir::Program> = partition.groups.iter().map(|g| &g.program).collect();
        let programs = P::compile_groups(&sources)
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let table = CodeTable::new(&partition.by_code, |g| {
            programs.get(g).is_some_and(|p| p.rule_count() > 0)
        });
        Ok(EvtTypeDispatch {
            partition,
            table,
            programs,
        })
    }

    /// Fresh per-event state for every group.
    pub fn machines(&self) -> GroupMachines<P::Machine> {
        GroupMachines {
            machines: self.programs.iter().map(P::new_machine).collect(),
        }
    }

    /// How many distinct fused programs there are (the empty one included).
    pub fn group_count(&self) -> usize {
        self.programs.len()
    }

    /// The compiled programs, one per group (group 0 is the empty one).
    pub fn programs(&self) -> &[P] {
        &self.programs
    }

    /// The dispatch table (which codes some rule wants).
    pub fn table(&self) -> &CodeTable {
        &self.table
    }

    /// Appends the indices (into the whole program's rules, ascending) of every rule matching an event
    /// of `code`.
    #[inline]
    pub fn matches(
        &self,
        m: &mut GroupMachines<P::Machine>,
        code: u16,
        src: &mut dyn FieldSource,
        out: &mut Vec<usize>,
    ) {
        if let Some(g) = self.table.group(code) {
            self.matches_group(m, g, src, out);
        }
    }

    #[inline(never)]
    fn matches_group(
        &self,
        m: &mut GroupMachines<P::Machine>,
        g: usize,
        src: &mut dyn FieldSource,
        out: &mut Vec<usize>,
    ) {
        if m.machines.len() != self.programs.len() {
            *m = self.machines();
        }
        let (Some(prog), Some(machine), Some(group)) = (
            self.programs.get(g),
            m.machines.get_mut(g),
            self.partition.groups.get(g),
        ) else {
            return;
        };
        let start = out.len();
        prog.all_matches(machine, src, out);
        remap(&group.rules, out, start);
    }

    /// The first rule (in rule-file order) matching an event of `code`, as an index into the whole
    /// program's rules.
    #[inline]
    pub fn first_match(
        &self,
        m: &mut GroupMachines<P::Machine>,
        code: u16,
        src: &mut dyn FieldSource,
    ) -> Option<usize> {
        let g = self.table.group(code)?;
        self.first_match_group(m, g, src)
    }

    #[inline(never)]
    fn first_match_group(
        &self,
        m: &mut GroupMachines<P::Machine>,
        g: usize,
        src: &mut dyn FieldSource,
    ) -> Option<usize> {
        if m.machines.len() != self.programs.len() {
            *m = self.machines();
        }
        let prog = self.programs.get(g)?;
        let machine = m.machines.get_mut(g)?;
        let local = prog.first_match(machine, src)?;
        self.partition.groups.get(g)?.rules.get(local).copied()
    }
}

/// Rewrites the group-local rule indices `out[start..]` to whole-program indices.
fn remap(rules: &[usize], out: &mut [usize], start: usize) {
    for i in out.iter_mut().skip(start) {
        *i = rules.get(*i).copied().unwrap_or(usize::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{FieldId, MapEvent, OwnedValue};
    use frule_lang::events;

    const RULES: &str = r#"
        $0 = field 28 "evt.type" : str
        $1 = field 7 "proc.name" : str
        %0 = set str {"open", "openat"}
        v0 = load $0
        v1 = in v0, %0
        v2 = load $1
        v3 = const.str "bash"
        v4 = cmp.eq v2, v3
        v5 = and v1, v4
        v6 = const.str "execve"
        v7 = cmp.eq v0, v6
        rule "open by bash" = v5
        rule "exec" = v7
    "#;

    fn event(evttype: &str, proc_name: &str) -> MapEvent {
        let mut ev = MapEvent::new();
        ev.set(FieldId(28), None, OwnedValue::Bytes(evttype.into()));
        ev.set(FieldId(7), None, OwnedValue::Bytes(proc_name.into()));
        ev
    }

    /// Unwanted codes (and codes beyond the table) map to no group; wanted ones to a group with
    /// rules; the VM and JIT dispatches share the table and agree on the answers, starting from
    /// default (empty) machines.
    #[test]
    fn table_and_backends_agree() {
        let p = ir::parse(RULES).expect("the test program parses");
        let d = Dispatch::build(&p, PartitionOptions::default()).expect("builds for the vm");
        let j = JitDispatch::build(&p, PartitionOptions::default()).expect("builds for the jit");
        let (mut dm, mut jm) = (Machines::default(), JitMachines::default());
        let mut seen = [false; 2];
        for code in 0..=u16::try_from(events::EVENT_COUNT).unwrap_or(u16::MAX) {
            let name = events::event(code).map_or("NA", |e| e.name);
            let wanted = matches!(name, "open" | "openat" | "execve");
            assert_eq!(d.table().wants(code), wanted, "code {code} ({name})");
            assert_eq!(j.table().wants(code), wanted, "code {code} ({name})");
            if let Some(g) = d.table().group(code) {
                assert!(
                    d.partition
                        .groups
                        .get(g)
                        .is_some_and(|g| !g.rules.is_empty())
                );
            }
            let (mut vo, mut jo) = (Vec::new(), Vec::new());
            d.matches(&mut dm, code, &mut event(name, "bash"), &mut vo);
            j.matches(&mut jm, code, &mut event(name, "bash"), &mut jo);
            assert_eq!(vo, jo, "code {code} ({name})");
            let first = d.first_match(&mut dm, code, &mut event(name, "bash"));
            assert_eq!(first, vo.first().copied(), "code {code} ({name})");
            let first = j.first_match(&mut jm, code, &mut event(name, "bash"));
            assert_eq!(first, vo.first().copied(), "code {code} ({name})");
            let expected: &[usize] = match name {
                "open" | "openat" => &[0],
                "execve" => &[1],
                _ => &[],
            };
            assert_eq!(vo, expected, "code {code} ({name})");
            for &r in expected {
                if let Some(s) = seen.get_mut(r) {
                    *s = true;
                }
            }
        }
        assert_eq!(seen, [true, true], "both rules fire for some code");
        assert!(!d.table().wants(u16::MAX));
    }
}
