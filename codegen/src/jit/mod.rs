//! The Cranelift JIT backend: a whole [`ir::Program`] (every rule) becomes one native function.
//!
//! # How a program becomes code
//!
//! The JIT does not re-derive the semantics of the IR: it compiles the program to the VM's bytecode
//! first ([`vm::Program::compile`], the reference) and translates that linear code to Cranelift IR, one
//! function per program:
//!
//! - **control is branches, resolved at compile time**: the bytecode's accumulator never exists at
//!   run time. Control reaching an instruction is followed through the short-circuit jumps, `not`
//!   and constants with the accumulator known, so every predicate is a `brif` straight to where each
//!   of its answers leads, a memo store stores a constant byte, and `ret` is a jump to the rule's
//!   "matched" or "not matched" block, which stores the answer and falls through to the next rule
//!   (all rules, in rule order) or returns (one rule, reached through a `br_table` on the rule index).
//!   A memo check of a shared macro is one byte load and a three-way branch;
//! - **numeric comparisons with a constant are inline**: `int`/`uint` fields (and `bool` fields under
//!   `=`/`!=`, as 0/1) are extracted once per event into a scalar cache (`nums[slot]` plus a status
//!   byte); the code loads the status, calls the extraction helper only the first time in an event,
//!   then loads the cached `u64` and compares it with an immediate (`icmp` signed or unsigned as the
//!   field's type says);
//! - **string predicates are typed**: a single-valued `str`/`bytes` field gets a string slot (the
//!   address and length of its value, filled by `frule_jit_string` the first time in an event, in the
//!   same status/slot arrays). `=`, `!=`, `startswith` and `endswith` with a constant compare the
//!   length and then the bytes inline (constants up to 24 bytes as a few word loads compared with
//!   immediates, longer ones through a `memcmp`-like helper with the address of a copy the code owns);
//!   `in` on a byte-string set, `anyof` operators on one, and `contains`/`icontains`/`glob`/… with a
//!   constant are one call to a typed helper that receives the set or constant index and the value —
//!   no decoding of the VM instruction at run time;
//! - **every other predicate calls the VM**: addresses, networks, multi-valued fields, regexes,
//!   `pmatch`, `exists`, list fields and comparisons of two fields are one `extern "C"` call,
//!   `frule_jit_predicate(ctx, pc)`, that evaluates the VM's own instruction at `pc`
//!   ([`vm::Program`]'s predicate evaluator). Field reads inside it, and in the slot helpers, go through
//!   the VM's per-event cache, so each field and argument is extracted at most once per event,
//!   exactly as in the VM, through the [`crate::abi::FieldSource`] held by the trampoline context.
//!
//! In the all-rules mode the function also answers whether any rule matched, so the caller scans the
//! per-rule answers only when one did (most events match nothing).
//!
//! Consequences: every instruction the VM supports is supported (a new predicate instruction is a
//! helper call without any change here); a new *control* instruction is a compile error in this module
//! (the translation matches exhaustively), never a silent difference. The string slot helpers answer
//! "missing" for anything but one byte string, and are used only where the VM's check is false for
//! such a value too (single-valued nodes, byte-string sets), so both backends agree on every event.
//!
//! # Compile time: groups compiled once
//!
//! The engine compiles one program per event-type group. After event-type specialization many groups
//! fold to the same program (`open`/`openat`/`openat2`, `execve`/`execveat`, the `rename*` and
//! `unlink*` families, …): [`Program::compile_all`] compiles each distinct program once and hands
//! clones (which share the bytecode and the native code) to the groups that are equal to it, and
//! spreads the distinct programs over up to [`compile_threads`] scoped threads (largest first; each
//! program is compiled by one thread, alone, so the result does not depend on the thread count; one
//! thread, the caller's, on a one-core host). Cranelift
//! runs at `opt_level=none` with the single-pass register allocator and one cached host ISA: the
//! backtracking allocator gives ≈ 10 % fewer instructions per event but costs ≈ 4× the compile time.
//!
//! # Falling back to the VM
//!
//! [`Program::compile`] fails with a [`JitError`] when Cranelift cannot target the host (unsupported
//! ISA), when the crate is built without the `jit` feature, or when Cranelift rejects the function.
//! [`Program::compile_or_vm`] never fails for a verified program: it returns a program that evaluates
//! with the VM and says why ([`Program::fallback_reason`]). Both kinds answer through the same
//! [`Program::matches`] / [`Program::eval_rule`] API.
//!
//! # Memory and threads
//!
//! A [`Program`] owns its code (a Cranelift `JITModule`); dropping it frees the code. The code is
//! immutable after finalization and reads only the per-call context, so a `Program` is `Send + Sync`
//! like the VM's; the per-event state lives in a [`Machine`], one per thread.
//!
//! # Fixed-offset numeric fields
//!
//! The cheap numeric fields rules compare most (`evt.rawres`, `fd.num`, `evt.is_open_read`,
//! `user.uid`, `proc.vpid`, …: [`crate::abi::FIXED_FIELD_NAMES`]) bypass the cache: an inline
//! comparison of such a field (a load without an argument, of the field's own class) is `load
//! mask; test bit; load value; icmp` on the event's [`crate::abi::FixedFields`] block, with no
//! helper call. The layout is a fixed ABI table, so code compiled once runs with every source; the
//! source fills the block once per event, before the call, for the fields the code compares
//! ([`crate::abi::FieldSource::fixed_fields`]; the default extracts them, the runtime decodes them
//! directly). Other uses of those fields (sets, `exists`, outputs) keep going through the cache.
//!
//! ```
//! use frule_codegen::abi::{FieldId, MapEvent, OwnedValue};
//! use frule_codegen::{ir, jit};
//!
//! let p = ir::parse(r#"
//!     $0 = field 7 "proc.pid" : int
//!     v0 = load $0
//!     v1 = const.int 1
//!     v2 = cmp.gt v0, v1
//!     rule "not init" = v2
//! "#)?;
//! let prog = jit::Program::compile_or_vm(&p)?;
//! let mut m = prog.machine();
//! let mut ev = MapEvent::new();
//! ev.set(FieldId(7), None, OwnedValue::I64(42));
//! let mut out = Vec::new();
//! prog.matches(&mut m, &mut ev, &mut out);
//! assert_eq!(out, vec![0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "jit")]
mod native;

use std::fmt;
use std::sync::Arc;

use crate::abi::FieldSource;
use crate::{ir, vm};

/// Cranelift's working memory, reused across the programs one thread compiles.
#[cfg(feature = "jit")]
type Scratch = native::Scratch;

/// Nothing to reuse without the JIT.
#[cfg(not(feature = "jit"))]
#[derive(Default)]
struct Scratch;

/// Why a program could not be compiled to native code. The caller can always fall back to the VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitError {
    /// What went wrong, in lowercase without a trailing period.
    pub message: String,
}

impl fmt::Display for JitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot compile to native code: {}", self.message)
    }
}

impl std::error::Error for JitError {}

impl From<vm::CompileError> for JitError {
    fn from(e: vm::CompileError) -> Self {
        JitError {
            message: e.to_string(),
        }
    }
}

/// A program compiled to native code, or (after a fallback) evaluated by the VM.
///
/// Cloning is cheap and shares the code: [`Program::compile_all`] hands the same compiled program to
/// every group whose IR is identical.
#[derive(Clone)]
pub struct Program {
    vm: Arc<vm::Program>,
    #[cfg(feature = "jit")]
    native: Option<Arc<native::Native>>,
    fallback: Option<JitError>,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("jit::Program")
            .field("rules", &self.vm.rule_count())
            .field("native", &self.is_native())
            .field("fallback", &self.fallback)
            .finish()
    }
}

/// The per-event state of a [`Program`]: the VM's field cache, the memo slots of shared conditions,
/// the scalar cache of the inline comparisons and the per-rule answers. Reusable across events;
/// create one per thread with [`Program::machine`].
#[derive(Clone, Debug, Default)]
#[cfg_attr(
    not(feature = "jit"),
    allow(
        dead_code,
        reason = "the native caches are unused without the jit feature"
    )
)]
pub struct Machine {
    vm: vm::Machine,
    memo: Vec<u8>,
    nums: Vec<u64>,
    lens: Vec<u64>,
    numstat: Vec<u8>,
    results: Vec<u8>,
    /// The event's fixed-offset numeric fields, filled by the field source before each native call
    /// (kept here so that no call clears the whole block; boxed to keep the machine small).
    fixed: Box<crate::abi::FixedFields>,
}

impl Program {
    /// Compiles a verified program to native code; fails when Cranelift is unavailable for this host
    /// or rejects the code (see [`Program::compile_or_vm`] for the fallback).
    pub fn compile(p: &ir::Program) -> Result<Program, JitError> {
        let vm = vm::Program::compile(p)?;
        Self::native_from_vm(vm)
    }

    /// Compiles a verified program to native code, or, when that is impossible, prepares it for the VM
    /// and records why ([`Program::fallback_reason`]). Fails only when the VM cannot compile it either
    /// (a program the verifier rejects).
    pub fn compile_or_vm(p: &ir::Program) -> Result<Program, vm::CompileError> {
        Self::compile_or_vm_in(p, &mut Scratch::default())
    }

    /// [`Program::compile_or_vm`] with Cranelift's working memory kept in `scratch` between the
    /// programs one thread compiles.
    fn compile_or_vm_in(
        p: &ir::Program,
        scratch: &mut Scratch,
    ) -> Result<Program, vm::CompileError> {
        let vm = vm::Program::compile(p)?;
        // The bytecode is borrowed by the code generator and kept either way: no copy of it (its
        // sets and regexes) for the fallback.
        Ok(match Self::native_code(&vm, scratch) {
            #[cfg(feature = "jit")]
            Ok(native) => Program {
                vm: Arc::new(vm),
                native: Some(Arc::new(native)),
                fallback: None,
            },
            #[cfg(not(feature = "jit"))]
            Ok(never) => match never {},
            Err(e) => Program {
                vm: Arc::new(vm),
                #[cfg(feature = "jit")]
                native: None,
                fallback: Some(e),
            },
        })
    }

    /// [`Program::compile_or_vm`] for several programs at once (the groups of a partition), in
    /// order. Programs equal to an earlier one (the groups of `open`, `openat` and `openat2` fold to
    /// the same code) are compiled once and share it ([`Program`] clones are cheap), so the cost is
    /// that of the distinct programs. The distinct programs are compiled in parallel on up to
    /// [`compile_threads`] threads (see [`Program::compile_all_on`]).
    pub fn compile_all(ps: &[&ir::Program]) -> Vec<Result<Program, vm::CompileError>> {
        Self::compile_all_on(ps, compile_threads())
    }

    /// [`Program::compile_all`] on at most `threads` threads (the calling thread included; `0` and
    /// `1` compile on the calling thread only). The answer does not depend on `threads`: each
    /// distinct program is compiled by exactly one thread, independently of the others, and the
    /// results are handed out in the order of `ps`.
    ///
    /// Scheduling: the distinct programs are taken largest first (by instruction count) from a
    /// shared counter, so the largest group (`open`'s, usually) starts at once and the small ones
    /// fill the other threads; the wall time is about that of the largest group or of the total
    /// divided by the thread count, whichever is larger.
    pub fn compile_all_on(
        ps: &[&ir::Program],
        threads: usize,
    ) -> Vec<Result<Program, vm::CompileError>> {
        // `first[i]`: the index of the first program equal to `ps[i]` (itself when it is new).
        let mut first: Vec<usize> = Vec::with_capacity(ps.len());
        let mut distinct: Vec<usize> = Vec::new();
        for (i, p) in ps.iter().enumerate() {
            let earlier = distinct.iter().copied().find(|&j| {
                ps.get(j).is_some_and(|q| {
                    q.values.len() == p.values.len() && q.rules.len() == p.rules.len() && *q == *p
                })
            });
            match earlier {
                Some(j) => first.push(j),
                None => {
                    first.push(i);
                    distinct.push(i);
                }
            }
        }
        // Largest first (ties in input order, so the order is deterministic).
        distinct.sort_by_key(|&i| std::cmp::Reverse(ps.get(i).map_or(0, |p| p.values.len())));
        let threads = threads.clamp(1, distinct.len().max(1));
        let mut done: Vec<Option<Result<Program, vm::CompileError>>> = vec![None; ps.len()];
        if threads == 1 {
            let mut scratch = Scratch::default();
            for &i in &distinct {
                if let (Some(slot), Some(p)) = (done.get_mut(i), ps.get(i)) {
                    *slot = Some(Program::compile_or_vm_in(p, &mut scratch));
                }
            }
        } else {
            let next = std::sync::atomic::AtomicUsize::new(0);
            let work = || {
                let mut mine = Vec::new();
                let mut scratch = Scratch::default();
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = distinct.get(k) else {
                        return mine;
                    };
                    if let Some(p) = ps.get(i) {
                        mine.push((i, Program::compile_or_vm_in(p, &mut scratch)));
                    }
                }
            };
            std::thread::scope(|scope| {
                // A thread the OS refuses (a thread limit) is simply not there: this thread and
                // the others take its share.
                let helpers: Vec<_> = (1..threads)
                    .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok())
                    .collect();
                let mut all = work();
                for h in helpers {
                    // A helper thread that panicked (a bug in Cranelift or here) leaves its
                    // programs undone; they are compiled below on this thread.
                    if let Ok(theirs) = h.join() {
                        all.extend(theirs);
                    }
                }
                for (i, r) in all {
                    if let Some(slot) = done.get_mut(i) {
                        *slot = Some(r);
                    }
                }
            });
        }
        let mut out: Vec<Result<Program, vm::CompileError>> = Vec::with_capacity(ps.len());
        for (i, p) in ps.iter().enumerate() {
            let j = first.get(i).copied().unwrap_or(i);
            let r = match done.get(j) {
                Some(Some(r)) => r.clone(),
                _ => {
                    let r = Program::compile_or_vm(p);
                    if let Some(slot) = done.get_mut(j) {
                        *slot = Some(r.clone());
                    }
                    r
                }
            };
            out.push(r);
        }
        out
    }

    #[cfg(feature = "jit")]
    fn native_from_vm(vm: vm::Program) -> Result<Program, JitError> {
        let native = Self::native_code(&vm, &mut Scratch::default())?;
        Ok(Program {
            vm: Arc::new(vm),
            native: Some(Arc::new(native)),
            fallback: None,
        })
    }

    #[cfg(not(feature = "jit"))]
    fn native_from_vm(_vm: vm::Program) -> Result<Program, JitError> {
        Err(unavailable())
    }

    #[cfg(feature = "jit")]
    fn native_code(vm: &vm::Program, scratch: &mut Scratch) -> Result<native::Native, JitError> {
        Ok(native::compile_with(vm, native::Emit::default(), scratch)?.native)
    }

    #[cfg(not(feature = "jit"))]
    fn native_code(
        _vm: &vm::Program,
        _scratch: &mut Scratch,
    ) -> Result<std::convert::Infallible, JitError> {
        Err(unavailable())
    }

    /// Whether rules run as native code (`false` after a fallback to the VM).
    pub fn is_native(&self) -> bool {
        #[cfg(feature = "jit")]
        {
            self.native.is_some()
        }
        #[cfg(not(feature = "jit"))]
        {
            false
        }
    }

    /// Why the program runs on the VM instead of native code, if it does.
    pub fn fallback_reason(&self) -> Option<&JitError> {
        self.fallback.as_ref()
    }

    /// The bytecode the native code was translated from (also what runs after a fallback).
    pub fn vm(&self) -> &vm::Program {
        &self.vm
    }

    /// How many rules the program evaluates.
    pub fn rule_count(&self) -> usize {
        self.vm.rule_count()
    }

    /// The name of rule `i`.
    pub fn rule_name(&self, i: usize) -> Option<&str> {
        self.vm.rule_name(i)
    }

    /// How many numeric cache slots the native code uses (one per node compared inline).
    fn num_slots(&self) -> usize {
        #[cfg(feature = "jit")]
        if let Some(n) = &self.native {
            return n.num_slots();
        }
        0
    }

    /// A fresh per-event state sized for this program.
    pub fn machine(&self) -> Machine {
        let nodes = self.num_slots();
        Machine {
            vm: self.vm.machine(),
            memo: vec![0; self.vm.memos],
            nums: vec![0; nodes],
            lens: vec![0; nodes],
            numstat: vec![0; nodes],
            results: vec![0; self.vm.rule_count()],
            fixed: Box::new(crate::abi::FixedFields::EMPTY),
        }
    }

    /// Clears the per-event state (resizing it when it was made for another program).
    #[cfg_attr(
        not(feature = "jit"),
        allow(dead_code, reason = "only the native code needs it")
    )]
    fn reset(&self, m: &mut Machine) {
        let nodes = self.num_slots();
        if m.memo.len() != self.vm.memos
            || m.numstat.len() != nodes
            || m.nums.len() != nodes
            || m.lens.len() != nodes
            || m.results.len() != self.vm.rule_count()
        {
            *m = self.machine();
        } else {
            m.memo.fill(0);
            m.numstat.fill(0);
        }
        self.vm.reset(&mut m.vm);
    }

    /// Evaluates every rule against one event, in rule order, sharing extracted fields between rules;
    /// appends the indices of the matching rules to `out` (the contract of [`vm::Program::matches`]).
    pub fn matches(&self, m: &mut Machine, src: &mut dyn FieldSource, out: &mut Vec<usize>) {
        if self.vm.rule_count() == 0 {
            // Nothing can match (the per-event-type program of an event no rule wants): no reset, no
            // call.
            return;
        }
        #[cfg(feature = "jit")]
        if let Some(native) = &self.native {
            self.reset(m);
            if !native.run(&self.vm, m, src, None) {
                return;
            }
            out.extend(
                m.results
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| **r != 0)
                    .map(|(i, _)| i),
            );
            return;
        }
        self.vm.matches(&mut m.vm, src, out);
    }

    /// The first rule (in rule order) matching one event. The native function evaluates every rule
    /// in one call (no early stop); the VM fallback stops at the first match.
    pub fn first_match(&self, m: &mut Machine, src: &mut dyn FieldSource) -> Option<usize> {
        if self.vm.rule_count() == 0 {
            return None;
        }
        #[cfg(feature = "jit")]
        if let Some(native) = &self.native {
            self.reset(m);
            if !native.run(&self.vm, m, src, None) {
                return None;
            }
            return m.results.iter().position(|r| *r != 0);
        }
        self.vm.first_match(&mut m.vm, src)
    }

    /// Evaluates rule `i` against a new event (clears the cache first); `false` when there is no such
    /// rule. A program with a guard plan answers through the VM: its native function holds only the
    /// all-rules walk (the engine's path), so that the rules' code is not compiled twice.
    pub fn eval_rule(&self, m: &mut Machine, src: &mut dyn FieldSource, i: usize) -> bool {
        #[cfg(feature = "jit")]
        if let Some(native) = &self.native
            && self.vm.plan.is_empty()
        {
            if i >= self.vm.rule_count() {
                return false;
            }
            self.reset(m);
            return native.run(&self.vm, m, src, Some(i));
        }
        self.vm.eval_rule(&mut m.vm, src, i)
    }

    /// Evaluates the first rule against one event (convenience; allocates a [`Machine`]).
    pub fn eval(&self, src: &mut dyn FieldSource) -> bool {
        let mut m = self.machine();
        self.eval_rule(&mut m, src, 0)
    }
}

#[cfg(not(feature = "jit"))]
fn unavailable() -> JitError {
    JitError {
        message: "frule-codegen was built without the `jit` feature".into(),
    }
}

/// How many threads [`Program::compile_all`] uses: the parallelism the process may use
/// ([`std::thread::available_parallelism`], which honours CPU affinity and cgroup quotas), at most
/// [`MAX_COMPILE_THREADS`], or exactly `FRULE_COMPILE_THREADS` when that is set to a positive
/// number (`1` compiles on the calling thread only). One when nothing can be found out, so a
/// one-core host never starts a thread.
///
/// Compiling is a start-up and reload cost: spreading it over the cores shortens the time until
/// the rules run (or until a reload takes effect) without changing the total CPU time much.
pub fn compile_threads() -> usize {
    if let Some(n) = std::env::var("FRULE_COMPILE_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return n.min(MAX_COMPILE_THREADS);
    }
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_COMPILE_THREADS)
}

/// The most threads [`Program::compile_all`] starts: beyond a few, the largest group (compiled by
/// one thread) sets the wall time, and more threads only cost their start-up.
pub const MAX_COMPILE_THREADS: usize = 8;

/// The Cranelift IR of the native function a program becomes (for `frulec compile --emit clif`). When
/// the program cannot be compiled to native code, the text is a single `;` comment saying why.
pub fn emit_clif(p: &ir::Program) -> String {
    #[cfg(feature = "jit")]
    {
        let out = vm::Program::compile(p)
            .map_err(JitError::from)
            .and_then(|vm| {
                native::compile(
                    &vm,
                    native::Emit {
                        clif: true,
                        asm: false,
                    },
                )
            });
        match out {
            Ok(out) => out.clif.unwrap_or_default(),
            Err(e) => format!("; {e}\n"),
        }
    }
    #[cfg(not(feature = "jit"))]
    {
        let _ = p;
        format!("; {}\n", unavailable())
    }
}

/// The machine code of the native function a program becomes, as Cranelift's disassembly of its
/// final code (for `frulec compile --emit asm`).
pub fn emit_asm(p: &ir::Program) -> Result<String, JitError> {
    #[cfg(feature = "jit")]
    {
        let vm = vm::Program::compile(p)?;
        let out = native::compile(
            &vm,
            native::Emit {
                clif: false,
                asm: true,
            },
        )?;
        out.asm.ok_or_else(|| JitError {
            message: "cranelift produced no disassembly".into(),
        })
    }
    #[cfg(not(feature = "jit"))]
    {
        let _ = p;
        Err(unavailable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{FieldId, MapEvent, OwnedValue};

    /// A program of `rules` rules `proc.name = "<name><k>"` for k in 0..rules.
    fn program(name: &str, rules: usize) -> ir::Program {
        let mut text = String::from("$0 = field 7 \"proc.name\" : str\nv0 = load $0\n");
        for k in 0..rules {
            text.push_str(&format!(
                "v{} = const.str \"{name}{k}\"\nv{} = cmp.eq v0, v{}\nrule \"r{k}\" = v{}\n",
                2 * k + 1,
                2 * k + 2,
                2 * k + 1,
                2 * k + 2
            ));
        }
        ir::parse(&text).unwrap_or_else(|e| panic!("test program parses: {e:?}"))
    }

    fn answers(p: &Program, name: &str) -> Vec<usize> {
        let mut m = p.machine();
        let mut ev = MapEvent::new();
        ev.set(FieldId(7), None, OwnedValue::Bytes(name.into()));
        let mut out = Vec::new();
        p.matches(&mut m, &mut ev, &mut out);
        out
    }

    /// Whatever the thread count, `compile_all_on` answers in input order, each program as
    /// `compile_or_vm` compiles it alone, and equal programs share one compiled copy.
    #[test]
    fn compile_all_is_the_same_on_any_thread_count() {
        let ps = [
            program("a", 3),
            program("b", 7),
            program("a", 3),
            ir::Program::new(),
            program("c", 1),
            program("b", 7),
            program("d", 12),
        ];
        let refs: Vec<&ir::Program> = ps.iter().collect();
        let probes = ["a0", "a2", "b6", "c0", "d11", "d3", "x"];
        let alone: Vec<Vec<Vec<usize>>> = ps
            .iter()
            .map(|p| {
                let c = Program::compile_or_vm(p).unwrap_or_else(|e| panic!("compiles: {e}"));
                probes.iter().map(|n| answers(&c, n)).collect()
            })
            .collect();
        for threads in [0, 1, 2, 3, 16] {
            let all = Program::compile_all_on(&refs, threads);
            assert_eq!(all.len(), ps.len(), "{threads} threads");
            for (i, (r, p)) in all.iter().zip(&ps).enumerate() {
                let c = r
                    .as_ref()
                    .unwrap_or_else(|e| panic!("{threads} threads, program {i}: {e}"));
                assert_eq!(
                    c.rule_count(),
                    p.rules.len(),
                    "{threads} threads, program {i}"
                );
                assert_eq!(c.is_native(), cfg!(feature = "jit"), "program {i}");
                let got: Vec<Vec<usize>> = probes.iter().map(|n| answers(c, n)).collect();
                assert_eq!(got, alone[i], "{threads} threads, program {i}");
            }
            for (dup, orig) in [(2, 0), (5, 1)] {
                let (Some(Ok(d)), Some(Ok(o))) = (all.get(dup), all.get(orig)) else {
                    panic!("{threads} threads: programs {dup} and {orig} compile");
                };
                assert!(
                    Arc::ptr_eq(&d.vm, &o.vm),
                    "{threads} threads: {dup} shares {orig}"
                );
            }
        }
    }

    /// The thread count is at least one and at most the cap.
    #[test]
    fn compile_threads_is_bounded() {
        let n = compile_threads();
        assert!((1..=MAX_COMPILE_THREADS).contains(&n), "{n}");
    }
}
