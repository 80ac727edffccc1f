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
//! clones (which share the bytecode and the native code) to the groups that are equal to it. Cranelift
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
//! # Fixed-offset numeric fields (planned path)
//!
//! The context passed to the native function has a slot reserved for a pointer to a per-event struct of
//! plain `u64` fields with a presence bitmask (`fixed`, null today). When the runtime can offer such a
//! layout (`evt.num`, `proc.pid`, `fd.num`, `user.uid`, … decoded once per event), the translation of an
//! inline numeric comparison on such a field becomes `load bitmask; test bit; load fixed+offset; icmp`
//! with no helper call and no cache; the other fields keep going through the cache. The layout would
//! come with the program's compile options (field id → offset), so code compiled for one layout is
//! only ever run with it.
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
        let vm = vm::Program::compile(p)?;
        // The bytecode is borrowed by the code generator and kept either way: no copy of it (its
        // sets and regexes) for the fallback.
        Ok(match Self::native_code(&vm) {
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
    /// that of the distinct programs.
    pub fn compile_all(ps: &[&ir::Program]) -> Vec<Result<Program, vm::CompileError>> {
        let mut out: Vec<Result<Program, vm::CompileError>> = Vec::with_capacity(ps.len());
        for (i, p) in ps.iter().enumerate() {
            let earlier = ps.iter().take(i).position(|q| {
                q.values.len() == p.values.len() && q.rules.len() == p.rules.len() && *q == *p
            });
            let compiled = match earlier.and_then(|j| out.get(j)) {
                Some(done) => done.clone(),
                None => Program::compile_or_vm(p),
            };
            out.push(compiled);
        }
        out
    }

    #[cfg(feature = "jit")]
    fn native_from_vm(vm: vm::Program) -> Result<Program, JitError> {
        let native = Self::native_code(&vm)?;
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
    fn native_code(vm: &vm::Program) -> Result<native::Native, JitError> {
        Ok(native::compile(vm, native::Emit::default())?.native)
    }

    #[cfg(not(feature = "jit"))]
    fn native_code(_vm: &vm::Program) -> Result<std::convert::Infallible, JitError> {
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
    /// rule.
    pub fn eval_rule(&self, m: &mut Machine, src: &mut dyn FieldSource, i: usize) -> bool {
        #[cfg(feature = "jit")]
        if let Some(native) = &self.native {
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
