//! Cranelift code generation: VM bytecode → one native function per program.
//!
//! The native function has the signature `fn(ctx: *mut Ctx, only: i64, out: *mut u8) -> i8`:
//! with `only < 0` it evaluates every rule in rule order and stores each answer in `out[rule]`; with
//! `only = i` it evaluates rule `i` alone and returns its answer. [`Ctx`] is the trampoline the
//! helpers receive: raw pointers to the per-event caches, the VM program (for the predicate
//! evaluator) and the field source.
//!
//! Invariants the generated code relies on (established by [`Native::run`] and the VM compiler):
//! - `numstat` and `nums` have one entry per numeric slot (each data node compared inline gets a dense
//!   slot, so that clearing them per event costs little), `memo` one per memo slot, `out` one per rule,
//!   and every slot and rule index the code uses is in range (memo slots and rules come from the VM's
//!   compiled program, whose indices are in range by construction; numeric slots are assigned here);
//! - the caches were cleared for this event before the call;
//! - the pointers stay valid and unaliased by Rust references for the duration of the call (helpers
//!   create short-lived references from them, one at a time).

use std::collections::{BTreeMap, HashMap};
use std::mem::ManuallyDrop;
use std::sync::OnceLock;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, BlockArg, FuncRef, InstBuilder, JumpTableData, MemFlagsData, Signature, Value, types,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module};

use super::{JitError, Machine};
use crate::abi::{FieldSource, ScalarKind, ValueRef};
use crate::ir::Cmp;
use crate::vm::{self, Node, Op};

/// What to keep besides the code.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Emit {
    /// The Cranelift IR text of the function, before optimization.
    pub clif: bool,
    /// Cranelift's disassembly of the final machine code.
    pub asm: bool,
}

/// A compiled program and, on request, its texts.
pub(super) struct Output {
    pub native: Native,
    pub clif: Option<String>,
    pub asm: Option<String>,
}

/// The trampoline context of one call. `repr(C)` because the generated code loads the first fields
/// at fixed offsets.
#[repr(C)]
struct Ctx<'a> {
    /// Per numeric slot: 0 = not extracted yet this event, 1 = present with a numeric value in `nums`,
    /// 2 = missing (or not a number).
    numstat: *mut u8,
    /// Per numeric slot: the value's bits (`i64` stored as its two's complement).
    nums: *mut u64,
    /// Per memo slot: 0 = unknown, 1 = false, 2 = true.
    memo: *mut u8,
    /// Reserved for the fixed-offset numeric fields (see the module docs of `jit`); null today.
    fixed: *const u64,
    vm: *const vm::Program,
    machine: *mut vm::Machine,
    src: *mut (dyn FieldSource + 'a),
}

type EntryFn = unsafe extern "C" fn(*mut Ctx<'_>, i64, *mut u8) -> i8;

/// The code of one program. Owns the Cranelift module; dropping it frees the code.
pub(super) struct Native {
    module: ManuallyDrop<JITModule>,
    entry: Option<EntryFn>,
    /// How many numeric cache slots the code uses.
    num_slots: usize,
}

// SAFETY: after `finalize_definitions` the module's memory is only read (executed) through `entry`;
// the generated code has no global state and touches only what the per-call `Ctx` points to, which
// belongs to the caller's `Machine` (one per thread). The module itself is only used again in `drop`,
// which takes `&mut self`, so sharing `&Native` between threads or moving it is sound.
unsafe impl Send for Native {}
// SAFETY: see `Send` above: `&Native` only gives access to immutable code.
unsafe impl Sync for Native {}

impl Drop for Native {
    fn drop(&mut self) {
        // SAFETY: `self.module` is never used again after this take, and no code from it can be
        // running: `run` borrows `self`, so no call is in progress while `drop` has `&mut self`, and the
        // entry pointer is never handed out.
        let module = unsafe { ManuallyDrop::take(&mut self.module) };
        // SAFETY: frees the code and data of this module; nothing refers to them any more (see above).
        unsafe { module.free_memory() };
    }
}

impl Native {
    /// How many numeric cache slots the code uses (the size of `Machine::nums` and `numstat`).
    pub(super) fn num_slots(&self) -> usize {
        self.num_slots
    }

    /// Runs the native code on one event whose caches were reset; returns rule `only`'s answer, or
    /// fills `m.results` for every rule when `only` is `None`.
    pub(super) fn run(
        &self,
        vm: &vm::Program,
        m: &mut Machine,
        src: &mut dyn FieldSource,
        only: Option<usize>,
    ) -> bool {
        let Some(entry) = self.entry else {
            return false;
        };
        let slots = self.num_slots;
        if m.numstat.len() != slots
            || m.nums.len() != slots
            || m.memo.len() != vm.memos
            || m.results.len() != vm.rule_count()
            || only.is_some_and(|i| i >= vm.rule_count())
        {
            // Callers reset the machine first; a mismatched one would break the code's invariants.
            return false;
        }
        let mut ctx = Ctx {
            numstat: m.numstat.as_mut_ptr(),
            nums: m.nums.as_mut_ptr(),
            memo: m.memo.as_mut_ptr(),
            fixed: std::ptr::null(),
            vm,
            machine: &mut m.vm,
            src,
        };
        let only = only.map_or(-1, |i| i as i64);
        // SAFETY: `entry` was compiled by `compile` from `vm` (the caller passes the program it was
        // compiled from), so every index it uses is within the sizes checked above; every pointer in
        // `ctx` and `results` points into live, exclusively borrowed memory for the whole call.
        let r = unsafe { entry(&mut ctx, only, m.results.as_mut_ptr()) };
        r != 0
    }
}

/// Evaluates the VM predicate instruction at `pc`. Called by the native code.
///
/// # Safety
/// `ctx` must be the live context of the current call (see the module invariants).
unsafe extern "C" fn frule_jit_predicate(ctx: *mut Ctx<'_>, pc: u64) -> u32 {
    // SAFETY: the native code passes the `ctx` it received from `Native::run`, which is valid for the
    // call; no other reference to it or to what it points to is alive while a helper runs.
    let c = unsafe { &mut *ctx };
    // SAFETY: as above; `vm`, `machine` and `src` are distinct objects.
    let (vm, m, src) = unsafe { (&*c.vm, &mut *c.machine, &mut *c.src) };
    match vm.code.get(pc as usize) {
        Some(op) => u32::from(vm.predicate(m, src, op)),
        None => 0,
    }
}

/// Extracts data node `node` (through the VM's cache) and stores its numeric value in numeric slot
/// `slot` for the inline comparisons; returns the new status (1 = present, 2 = missing or not a
/// number). Called by the native code the first time a node is compared in an event.
///
/// # Safety
/// `ctx` must be the live context of the current call, `node` a node of its program and `slot` below
/// the code's slot count.
unsafe extern "C" fn frule_jit_number(ctx: *mut Ctx<'_>, node: u64, slot: u64) -> u32 {
    // SAFETY: as in `frule_jit_predicate`.
    let c = unsafe { &mut *ctx };
    // SAFETY: as in `frule_jit_predicate`.
    let (vm, m, src) = unsafe { (&*c.vm, &mut *c.machine, &mut *c.src) };
    let n = node as u32;
    let value = if vm.ensure(m, src, n) {
        let boolean = vm
            .node_ty
            .get(n as usize)
            .is_some_and(|t| t.kind == ScalarKind::Bool);
        match vm.buf(m, n).get(0) {
            Some(ValueRef::Bool(b)) => Some(u64::from(b)),
            Some(_) if boolean => None,
            Some(v) => number_bits(v),
            None => None,
        }
    } else {
        None
    };
    let i = slot as usize;
    let status = match value {
        Some(bits) => {
            // SAFETY: the code passes slots below its slot count, the length of `nums` (checked by
            // `run`).
            unsafe { *c.nums.add(i) = bits };
            1
        }
        None => 2,
    };
    // SAFETY: as above, `numstat` has the same length as `nums`.
    unsafe { *c.numstat.add(i) = status };
    u32::from(status)
}

/// The 64 bits an `int`/`uint` comparison sees for an item: the VM's `compare` converts signed,
/// unsigned and boolean items by a plain cast to the field's width and sign, which on 64 bits is the
/// same bit pattern either way; other items make the comparison false.
fn number_bits(v: ValueRef<'_>) -> Option<u64> {
    match v {
        ValueRef::I64(x) => Some(x as u64),
        ValueRef::U64(x) => Some(x),
        ValueRef::Bool(b) => Some(u64::from(b)),
        _ => None,
    }
}

fn err(message: impl Into<String>) -> JitError {
    JitError {
        message: message.into(),
    }
}

const PREDICATE: &str = "frule_jit_predicate";
const NUMBER: &str = "frule_jit_number";

/// The host ISA with frule's Cranelift settings, built once per process (looking up the host's
/// features and building the flags costs more than compiling a small program).
///
/// `opt_level` is `none` and the register allocator the single-pass one: the generated code is
/// branches, byte loads and stores and calls into the predicate helpers, which Cranelift's mid-end
/// optimizations (e-graph rewriting, GVN, LICM) and the backtracking allocator barely improve (few
/// values live across the calls), while they dominated the compile time of the large per-event-type
/// functions.
fn host_isa() -> Result<cranelift_codegen::isa::OwnedTargetIsa, JitError> {
    static ISA: OnceLock<Result<cranelift_codegen::isa::OwnedTargetIsa, JitError>> =
        OnceLock::new();
    ISA.get_or_init(|| {
        let mut flags = settings::builder();
        for (k, v) in [
            ("opt_level", "none"),
            ("regalloc_algorithm", "single_pass"),
            // Cranelift's IR verifier checks this module's output; debug builds (and so the tests)
            // keep it, release builds skip its cost.
            (
                "enable_verifier",
                if cfg!(debug_assertions) {
                    "true"
                } else {
                    "false"
                },
            ),
            ("use_colocated_libcalls", "false"),
            ("is_pic", "false"),
        ] {
            flags
                .set(k, v)
                .map_err(|e| err(format!("cranelift setting {k}: {e}")))?;
        }
        cranelift_native::builder()
            .map_err(|e| err(format!("cranelift does not support this host: {e}")))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| err(format!("cranelift does not support this host: {e}")))
    })
    .clone()
}

/// Compiles a VM program to native code.
pub(super) fn compile(vm: &vm::Program, emit: Emit) -> Result<Output, JitError> {
    let isa = host_isa()?;
    let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    let predicate: unsafe extern "C" fn(*mut Ctx<'_>, u64) -> u32 = frule_jit_predicate;
    let number: unsafe extern "C" fn(*mut Ctx<'_>, u64, u64) -> u32 = frule_jit_number;
    jb.symbol(PREDICATE, predicate as *const u8);
    jb.symbol(NUMBER, number as *const u8);
    // From here on the module is owned by `native`, so every early return frees it.
    let mut native = Native {
        module: ManuallyDrop::new(JITModule::new(jb)),
        entry: None,
        num_slots: 0,
    };
    let module = &mut *native.module;
    let ptr = module.target_config().pointer_type();

    let mut helper_sig = module.make_signature();
    helper_sig.params.push(AbiParam::new(ptr));
    helper_sig.params.push(AbiParam::new(types::I64));
    helper_sig.returns.push(AbiParam::new(types::I32));
    let pred_id = module
        .declare_function(PREDICATE, Linkage::Import, &helper_sig)
        .map_err(|e| err(e.to_string()))?;
    let mut number_sig = helper_sig.clone();
    number_sig.params.push(AbiParam::new(types::I64));
    let num_id = module
        .declare_function(NUMBER, Linkage::Import, &number_sig)
        .map_err(|e| err(e.to_string()))?;

    let mut sig: Signature = module.make_signature();
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I8));
    let fid = module
        .declare_function("frule_rules", Linkage::Local, &sig)
        .map_err(|e| err(e.to_string()))?;

    let mut ctx = module.make_context();
    ctx.func.signature = sig;
    ctx.set_disasm(emit.asm);
    let mut fbc = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let pred = module.declare_func_in_func(pred_id, b.func);
        let num = module.declare_func_in_func(num_id, b.func);
        let mut t = Translator {
            vm,
            pred,
            num,
            ptr,
            slots: HashMap::new(),
        };
        t.function(&mut b)?;
        native.num_slots = t.slots.len();
        b.seal_all_blocks();
        b.finalize(module.isa().frontend_config());
    }
    let clif = emit.clif.then(|| ctx.func.display().to_string());
    module
        .define_function(fid, &mut ctx)
        .map_err(|e| err(format!("cranelift rejected the code: {e:?}")))?;
    let asm = ctx.compiled_code().and_then(|c| c.vcode.clone());
    module.clear_context(&mut ctx);
    module
        .finalize_definitions()
        .map_err(|e| err(format!("cannot finalize the code: {e}")))?;
    let code = module.get_finalized_function(fid);
    // SAFETY: `code` is the finalized entry of `frule_rules`, whose Cranelift signature
    // (pointer, i64, pointer) -> i8 in the host's default calling convention is the C ABI of `EntryFn`.
    native.entry = Some(unsafe { std::mem::transmute::<*const u8, EntryFn>(code) });
    Ok(Output { native, clif, asm })
}

struct Translator<'a> {
    vm: &'a vm::Program,
    pred: FuncRef,
    num: FuncRef,
    ptr: types::Type,
    /// Data node → numeric slot, for the nodes compared inline.
    slots: HashMap<u32, u32>,
}

/// The base addresses loaded once at function entry.
struct Bases {
    ctx: Value,
    numstat: Value,
    nums: Value,
    memo: Value,
}

fn flags() -> MemFlagsData {
    // The context and the caches are always valid, aligned memory (see the module invariants).
    MemFlagsData::trusted()
}

impl Translator<'_> {
    fn function(&mut self, b: &mut FunctionBuilder<'_>) -> Result<(), JitError> {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let [ctx, only, out] = params[..] else {
            return Err(err("unexpected entry parameters"));
        };
        let off = |o: usize| i32::try_from(o).unwrap_or(0);
        let bases = Bases {
            ctx,
            numstat: b.ins().load(
                self.ptr,
                flags(),
                ctx,
                off(std::mem::offset_of!(Ctx<'_>, numstat)),
            ),
            nums: b.ins().load(
                self.ptr,
                flags(),
                ctx,
                off(std::mem::offset_of!(Ctx<'_>, nums)),
            ),
            memo: b.ins().load(
                self.ptr,
                flags(),
                ctx,
                off(std::mem::offset_of!(Ctx<'_>, memo)),
            ),
        };
        let ret = b.create_block();
        let result = b.append_block_param(ret, types::I8);
        let rules = &self.vm.rules;
        if rules.is_empty() {
            let zero = b.ins().iconst(types::I8, 0);
            b.ins().jump(ret, &[BlockArg::Value(zero)]);
        } else {
            let blocks: Vec<_> = rules.iter().map(|_| b.create_block()).collect();
            let single = b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, only, 0);
            let dispatch = b.create_block();
            b.ins().brif(single, dispatch, &[], blocks[0], &[]);
            b.switch_to_block(dispatch);
            let zero = b.ins().iconst(types::I8, 0);
            let default = b.func.dfg.block_call(ret, &[BlockArg::Value(zero)]);
            let table: Vec<_> = blocks
                .iter()
                .map(|blk| b.func.dfg.block_call(*blk, &[]))
                .collect();
            let jt = b.create_jump_table(JumpTableData::new(default, &table));
            let index = b.ins().ireduce(types::I32, only);
            b.ins().br_table(index, jt);
            for (r, rule) in rules.iter().enumerate() {
                b.switch_to_block(blocks[r]);
                let start = rule.entry as usize;
                let end = rules
                    .get(r + 1)
                    .map_or(self.vm.code.len(), |n| n.entry as usize);
                let acc = self.rule(b, &bases, start, end)?;
                let at = i32::try_from(r).map_err(|_| err("too many rules"))?;
                b.ins().store(flags(), acc, out, at);
                match blocks.get(r + 1) {
                    Some(next) => {
                        b.ins()
                            .brif(single, ret, &[BlockArg::Value(acc)], *next, &[]);
                    }
                    None => {
                        b.ins().jump(ret, &[BlockArg::Value(acc)]);
                    }
                }
            }
        }
        b.switch_to_block(ret);
        b.ins().return_(&[result]);
        Ok(())
    }

    /// Translates the bytecode of one rule, `code[start..end]` (ending with its `Ret`), leaving the
    /// builder in a block where the returned value is the rule's answer.
    fn rule(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        bases: &Bases,
        start: usize,
        end: usize,
    ) -> Result<Value, JitError> {
        let code = self
            .vm
            .code
            .get(start..end)
            .ok_or_else(|| err("rule code out of range"))?;
        let mut targets: BTreeMap<usize, cranelift_codegen::ir::Block> = BTreeMap::new();
        for op in code {
            let ts = match op {
                Op::JumpIfFalse(t) | Op::JumpIfTrue(t) => [*t as usize, *t as usize],
                Op::MemoGet {
                    if_false, if_true, ..
                } => [*if_false as usize, *if_true as usize],
                _ => continue,
            };
            for t in ts {
                if !(start..end).contains(&t) {
                    return Err(err(format!("jump to {t} leaves the rule")));
                }
                targets.entry(t).or_insert_with(|| b.create_block());
            }
        }
        let acc: Variable = b.declare_var(types::I8);
        let zero = b.ins().iconst(types::I8, 0);
        b.def_var(acc, zero);
        let target = |t: &u32| {
            targets
                .get(&(*t as usize))
                .copied()
                .ok_or_else(|| err("missing jump target"))
        };
        for (pc, op) in (start..end).zip(code) {
            if let Some(blk) = targets.get(&pc) {
                b.ins().jump(*blk, &[]);
                b.switch_to_block(*blk);
            }
            match op {
                Op::Ret => break,
                Op::JumpIfFalse(t) | Op::JumpIfTrue(t) => {
                    let a = b.use_var(acc);
                    let next = b.create_block();
                    let t = target(t)?;
                    if matches!(op, Op::JumpIfFalse(_)) {
                        b.ins().brif(a, next, &[], t, &[]);
                    } else {
                        b.ins().brif(a, t, &[], next, &[]);
                    }
                    b.switch_to_block(next);
                }
                Op::Not => {
                    let a = b.use_var(acc);
                    let v = b.ins().bxor_imm_u(a, 1);
                    b.def_var(acc, v);
                }
                Op::MemoGet {
                    slot,
                    if_false,
                    if_true,
                } => {
                    let v = b
                        .ins()
                        .load(types::I8, flags(), bases.memo, memo_offset(*slot)?);
                    let hit = b.create_block();
                    let cont = b.create_block();
                    b.ins().brif(v, hit, &[], cont, &[]);
                    b.switch_to_block(hit);
                    let known = b.ins().icmp_imm_u(IntCC::Equal, v, 2);
                    b.def_var(acc, known);
                    let (f, t) = (target(if_false)?, target(if_true)?);
                    if f == t {
                        b.ins().jump(t, &[]);
                    } else {
                        b.ins().brif(known, t, &[], f, &[]);
                    }
                    b.switch_to_block(cont);
                }
                Op::MemoPut(slot) => {
                    let a = b.use_var(acc);
                    let v = b.ins().iadd_imm_u(a, 1);
                    b.ins().store(flags(), v, bases.memo, memo_offset(*slot)?);
                }
                Op::Cmp { op, kind, lhs, rhs } => {
                    let v = match self.inline_number(*op, *kind, *lhs, *rhs) {
                        Some((cc, k)) => self.number_cmp(b, bases, *lhs, cc, k)?,
                        None => self.call_predicate(b, bases, pc),
                    };
                    b.def_var(acc, v);
                }
                Op::Exists(_)
                | Op::CmpNeedle { .. }
                | Op::CmpNet { .. }
                | Op::Modified { .. }
                | Op::InSet { .. }
                | Op::InVal { .. }
                | Op::PMatch { .. }
                | Op::Regex { .. }
                | Op::RegexModified { .. }
                | Op::Const(_) => {
                    let v = match op {
                        Op::Const(c) => b.ins().iconst(types::I8, i64::from(*c)),
                        _ => self.call_predicate(b, bases, pc),
                    };
                    b.def_var(acc, v);
                }
            }
        }
        Ok(b.use_var(acc))
    }

    /// When `lhs op rhs` is an `int`/`uint` ordering comparison of a node with a numeric constant:
    /// the condition code and the constant's bits.
    fn inline_number(&self, op: Cmp, kind: ScalarKind, lhs: u32, rhs: u32) -> Option<(IntCC, u64)> {
        let signed = match kind {
            ScalarKind::Int => true,
            ScalarKind::Uint => false,
            // Booleans compare as 0/1 (only `=`/`!=` apply to them); `frule_jit_number` caches a
            // boolean node's value only when the item is a boolean, as the VM's `compare` requires.
            ScalarKind::Bool if matches!(op, Cmp::Eq | Cmp::Ne) => false,
            _ => return None,
        };
        if self.vm.node_ty.get(lhs as usize)?.kind != kind {
            return None;
        }
        // A multi-valued field compares value by value: the predicate helper does that.
        if self.vm.is_multi(lhs) {
            return None;
        }
        let Some(Node::Const(buf)) = self.vm.nodes.get(rhs as usize) else {
            return None;
        };
        let k = number_bits(buf.get(0)?)?;
        let cc = match (op, signed) {
            (Cmp::Eq, _) => IntCC::Equal,
            (Cmp::Ne, _) => IntCC::NotEqual,
            (Cmp::Lt, true) => IntCC::SignedLessThan,
            (Cmp::Le, true) => IntCC::SignedLessThanOrEqual,
            (Cmp::Gt, true) => IntCC::SignedGreaterThan,
            (Cmp::Ge, true) => IntCC::SignedGreaterThanOrEqual,
            (Cmp::Lt, false) => IntCC::UnsignedLessThan,
            (Cmp::Le, false) => IntCC::UnsignedLessThanOrEqual,
            (Cmp::Gt, false) => IntCC::UnsignedGreaterThan,
            (Cmp::Ge, false) => IntCC::UnsignedGreaterThanOrEqual,
            _ => return None,
        };
        Some((cc, k))
    }

    /// With `s` the node's numeric slot: `status = numstat[s]; if status == 0 { status =
    /// number(ctx, node, s) }; status == 1 && nums[s] cc k`.
    fn number_cmp(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        bases: &Bases,
        node: u32,
        cc: IntCC,
        k: u64,
    ) -> Result<Value, JitError> {
        let next = self.slots.len() as u32;
        let slot = *self.slots.entry(node).or_insert(next);
        let stat_off = i32::try_from(slot).map_err(|_| err("too many numeric slots"))?;
        let num_off =
            i32::try_from(u64::from(slot) * 8).map_err(|_| err("too many numeric slots"))?;
        let st = b.ins().load(types::I8, flags(), bases.numstat, stat_off);
        let extract = b.create_block();
        let have = b.create_block();
        let status = b.append_block_param(have, types::I8);
        b.ins().brif(st, have, &[BlockArg::Value(st)], extract, &[]);
        b.switch_to_block(extract);
        let idx = b.ins().iconst(types::I64, i64::from(node));
        let sl = b.ins().iconst(types::I64, i64::from(slot));
        let call = b.ins().call(self.num, &[bases.ctx, idx, sl]);
        let r = b.inst_results(call)[0];
        let r8 = b.ins().ireduce(types::I8, r);
        b.ins().jump(have, &[BlockArg::Value(r8)]);
        b.switch_to_block(have);
        let present = b.ins().icmp_imm_u(IntCC::Equal, status, 1);
        // The load is always in bounds; its value only matters when the status says present.
        let x = b.ins().load(types::I64, flags(), bases.nums, num_off);
        let c = b.ins().icmp_imm_u(cc, x, k as i64);
        Ok(b.ins().band(present, c))
    }

    fn call_predicate(&self, b: &mut FunctionBuilder<'_>, bases: &Bases, pc: usize) -> Value {
        let idx = b.ins().iconst(types::I64, pc as i64);
        let call = b.ins().call(self.pred, &[bases.ctx, idx]);
        let r = b.inst_results(call)[0];
        b.ins().ireduce(types::I8, r)
    }
}

fn memo_offset(slot: u32) -> Result<i32, JitError> {
    i32::try_from(slot).map_err(|_| err("memo slot index too large"))
}
