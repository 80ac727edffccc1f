//! Per-event-type dispatch: a [`Partition`] compiled for the VM.
//!
//! An event is evaluated only against the fused program of its event code's group: one table lookup,
//! then the group's rules in rule-file order sharing every extracted field and memoized subexpression.
//! A code no rule wants maps to the empty group and costs the lookup alone. Answers are reported as
//! indices into the *whole* program's rules, so callers never see groups.
//!
//! Contract: when the partition was built with `specialize_evttype` (the default), the event's
//! `evt.type` must be the name of its code (see [`crate::opt::evttype_partition`]).

use crate::abi::FieldSource;
use crate::ir;
use crate::opt::evttype_partition::{Partition, PartitionOptions, partition};
use crate::vm;

/// Compiled per-event-type programs.
#[derive(Clone, Debug)]
pub struct Dispatch {
    /// The partition the programs come from (IR, rule maps, sets).
    pub partition: Partition,
    programs: Vec<vm::Program>,
}

/// Per-group VM caches for [`Dispatch`], reusable across events.
#[derive(Clone, Debug, Default)]
pub struct Machines {
    machines: Vec<vm::Machine>,
}

impl Dispatch {
    /// Partitions, optimizes and compiles `p` (which must verify).
    pub fn build(p: &ir::Program, options: PartitionOptions) -> Result<Dispatch, vm::CompileError> {
        let partition = partition(p, options);
        let programs = partition
            .groups
            .iter()
            .map(|g| vm::Program::compile(&g.program))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Dispatch {
            partition,
            programs,
        })
    }

    /// Fresh caches for every group.
    pub fn machines(&self) -> Machines {
        Machines {
            machines: self.programs.iter().map(vm::Program::machine).collect(),
        }
    }

    /// How many distinct fused programs there are (the empty one included).
    pub fn group_count(&self) -> usize {
        self.programs.len()
    }

    fn group(&self, code: u16) -> Option<(usize, &vm::Program)> {
        let g = *self.partition.by_code.get(usize::from(code))? as usize;
        Some((g, self.programs.get(g)?))
    }

    /// Appends the indices (into the whole program's rules, ascending) of every rule matching an event
    /// of `code`.
    pub fn matches(
        &self,
        m: &mut Machines,
        code: u16,
        src: &mut dyn FieldSource,
        out: &mut Vec<usize>,
    ) {
        let Some((g, prog)) = self.group(code) else {
            return;
        };
        if prog.rule_count() == 0 {
            return;
        }
        if m.machines.len() != self.programs.len() {
            *m = self.machines();
        }
        let (Some(machine), Some(group)) = (m.machines.get_mut(g), self.partition.groups.get(g))
        else {
            return;
        };
        let start = out.len();
        prog.matches(machine, src, out);
        for i in out.iter_mut().skip(start) {
            *i = group.rules.get(*i).copied().unwrap_or(usize::MAX);
        }
    }

    /// The first rule (in rule-file order) matching an event of `code`, as an index into the whole
    /// program's rules.
    pub fn first_match(
        &self,
        m: &mut Machines,
        code: u16,
        src: &mut dyn FieldSource,
    ) -> Option<usize> {
        let (g, prog) = self.group(code)?;
        if prog.rule_count() == 0 {
            return None;
        }
        if m.machines.len() != self.programs.len() {
            *m = self.machines();
        }
        let machine = m.machines.get_mut(g)?;
        let local = prog.first_match(machine, src)?;
        self.partition.groups.get(g)?.rules.get(local).copied()
    }
}
