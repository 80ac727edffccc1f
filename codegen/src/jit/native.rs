//! Cranelift code generation: VM bytecode → one native function per program.
//!
//! The native function has the signature `fn(ctx: *mut Ctx, only: i64, out: *mut u8) -> i8`:
//! with `only < 0` it evaluates every rule (in rule order, or walking the VM's guard plan when the
//! program has one: shared guards tested once, the rules below a failed guard skipped), stores each
//! answer in `out[rule]` and returns whether some rule matched; with `only = i` it evaluates rule `i`
//! alone and returns its answer. A program with a guard plan has the all-rules walk only (its rules'
//! own code is not compiled a second time) and ignores `only`: `jit::Program::eval_rule` asks the VM
//! for such programs. [`Ctx`] is the trampoline the helpers receive: raw pointers to the per-event
//! caches, the VM program (for the predicate evaluator) and the field source.
//!
//! Invariants the generated code relies on (established by [`Native::run`] and the VM compiler):
//! - `numstat`, `nums` and `lens` have one entry per slot (each data node compared inline as a number
//!   or through a string slot gets a dense slot, so that clearing the statuses per event costs
//!   little), `memo` one per memo slot, `out` one per rule, and every slot and rule index the code
//!   uses is in range (memo slots and rules come from the VM's compiled program, whose indices are in
//!   range by construction; slots are assigned here);
//! - a string slot with status 1 holds the address and length of bytes that stay valid for the rest
//!   of the call (a present node's buffer in the VM's cache is not touched again until the next
//!   reset), so the inline comparisons read them after checking the length;
//! - the caches were cleared for this event before the call;
//! - `fixed` points to the event's [`FixedFields`] block, filled by the field source for every
//!   fixed-offset field the code compares (`Native::fixed_wanted`), whenever the code compares one
//!   (it is null, and never read, for code that compares none);
//! - the pointers stay valid and unaliased by Rust references for the duration of the call (helpers
//!   create short-lived references from them, one at a time).

use std::collections::{BTreeMap, HashMap};
use std::mem::ManuallyDrop;
use std::sync::OnceLock;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, FuncRef, InstBuilder, JumpTableData, MemFlagsData, Signature,
    StackSlot, StackSlotData, StackSlotKind, Value, types,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module};

use super::{JitError, Machine};
use crate::abi::{FieldSource, FixedFields, ScalarKind, ValueRef};
use crate::ir::{Cmp, Modifier};
use crate::vm::{self, Node, Op, PlanKind};

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
    /// Per string slot (slots share one index space with the numeric ones): the byte length of the
    /// value whose address is in `nums`.
    lens: *mut u64,
    /// The event's fixed-offset numeric fields (see [`crate::abi`]), or null when the code compares
    /// none of them.
    fixed: *const FixedFields,
    vm: *const vm::Program,
    machine: *mut vm::Machine,
    src: *mut (dyn FieldSource + 'a),
}

type EntryFn = unsafe extern "C" fn(*mut Ctx<'_>, i64, *mut u8) -> i8;

/// The code of one program. Owns the Cranelift module; dropping it frees the code.
pub(super) struct Native {
    module: ManuallyDrop<JITModule>,
    entry: Option<EntryFn>,
    /// How many numeric and string cache slots the code uses.
    num_slots: usize,
    /// The fixed-offset fields the code compares (bit `i` = [`crate::abi::FIXED_FIELD_NAMES`]`[i]`),
    /// which the field source fills once per event before the call.
    fixed_wanted: u64,
    /// The long constants the code compares with (by address; boxed, so moving `Native` keeps
    /// them in place).
    #[allow(
        dead_code,
        reason = "only read by the native code, through raw addresses"
    )]
    consts: Vec<Box<[u8]>>,
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
    /// fills `m.results` for every rule when `only` is `None` and returns whether some rule matched.
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
            || m.lens.len() != slots
            || m.memo.len() != vm.memos
            || m.results.len() != vm.rule_count()
            || only.is_some_and(|i| i >= vm.rule_count())
        {
            // Callers reset the machine first; a mismatched one would break the code's invariants.
            return false;
        }
        let fixed: *const FixedFields = if self.fixed_wanted != 0 {
            m.fixed.present = 0;
            src.fixed_fields(self.fixed_wanted, &mut m.fixed);
            &*m.fixed
        } else {
            std::ptr::null()
        };
        let mut ctx = Ctx {
            numstat: m.numstat.as_mut_ptr(),
            nums: m.nums.as_mut_ptr(),
            memo: m.memo.as_mut_ptr(),
            lens: m.lens.as_mut_ptr(),
            fixed,
            vm,
            machine: &mut m.vm,
            src,
        };
        let only = only.map_or(-1, |i| i as i64);
        // SAFETY: `entry` was compiled by `compile` from `vm` (the caller passes the program it was
        // compiled from), so every index it uses is within the sizes checked above; every pointer in
        // `ctx` and `results` points into live, exclusively borrowed memory for the whole call
        // (`m.fixed` is only read by the code, and filled for every field it compares).
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

/// Extracts data node `node` (through the VM's cache) and stores the address and length of its first
/// item in string slot `slot` (`nums` and `lens`) when that item is a byte string; returns the new
/// status (1 = present as a byte string, 2 = missing, empty or another kind of item). Called by the
/// native code the first time a string node is compared in an event.
///
/// The address stays valid for the rest of the call: a present node's buffer in the VM's cache (or a
/// constant's, in the program) is not touched again until the next reset.
///
/// # Safety
/// As [`frule_jit_number`].
unsafe extern "C" fn frule_jit_string(ctx: *mut Ctx<'_>, node: u64, slot: u64) -> u32 {
    // SAFETY: as in `frule_jit_predicate`.
    let c = unsafe { &mut *ctx };
    // SAFETY: as in `frule_jit_predicate`.
    let (vm, m, src) = unsafe { (&*c.vm, &mut *c.machine, &mut *c.src) };
    let n = node as u32;
    let item = if vm.ensure(m, src, n) {
        match vm.buf(m, n).get(0) {
            Some(ValueRef::Bytes(b)) => Some((b.as_ptr() as u64, b.len() as u64)),
            _ => None,
        }
    } else {
        None
    };
    let i = slot as usize;
    let status = match item {
        Some((ptr, len)) => {
            // SAFETY: the code passes slots below its slot count, the length of `nums` and `lens`
            // (checked by `run`).
            unsafe {
                *c.nums.add(i) = ptr;
                *c.lens.add(i) = len;
            }
            1
        }
        None => 2,
    };
    // SAFETY: as above.
    unsafe { *c.numstat.add(i) = status };
    u32::from(status)
}

/// The code of `op` in helper calls: its index in [`Cmp::ALL`] (decoded with the same table).
fn cmp_code(op: Cmp) -> i64 {
    Cmp::ALL.iter().position(|c| *c == op).unwrap_or(0) as i64
}

/// Rebuilds a byte slice from an address and a length the native code took from a string slot (or
/// from the program's constants).
///
/// # Safety
/// `ptr`/`len` must describe live bytes (a string slot filled in this call, or a constant).
unsafe fn bytes<'a>(ptr: *const u8, len: u64) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts(ptr, len as usize) }
}

/// `v op needle` for one string value (`contains`, `icontains`, `glob`, …: the operators not
/// compared inline).
///
/// # Safety
/// `ctx` as in [`frule_jit_predicate`]; `ptr`/`len` from a string slot of this call.
unsafe extern "C" fn frule_jit_needle(
    ctx: *mut Ctx<'_>,
    needle: u64,
    op: u64,
    ptr: *const u8,
    len: u64,
) -> u32 {
    // SAFETY: the context is valid for the call; only the program is read.
    let vm = unsafe { &*(*ctx).vm };
    let op = Cmp::ALL.get(op as usize).copied().unwrap_or(Cmp::Eq);
    // SAFETY: the caller's contract.
    let v = unsafe { bytes(ptr, len) };
    u32::from(vm.needle_compare(needle as u32, op, v))
}

/// Whether the string value is an item of a byte-string set (`in`, one value).
///
/// # Safety
/// As [`frule_jit_needle`].
unsafe extern "C" fn frule_jit_in_bytes(
    ctx: *mut Ctx<'_>,
    set: u64,
    ptr: *const u8,
    len: u64,
) -> u32 {
    // SAFETY: as in `frule_jit_needle`.
    let vm = unsafe { &*(*ctx).vm };
    // SAFETY: as in `frule_jit_needle`.
    let v = unsafe { bytes(ptr, len) };
    u32::from(vm.set_contains_bytes(set as u32, v))
}

/// Whether some item of a byte-string set satisfies `v op item` (`anyof`, one value).
///
/// # Safety
/// As [`frule_jit_needle`].
unsafe extern "C" fn frule_jit_any_bytes(
    ctx: *mut Ctx<'_>,
    set: u64,
    op: u64,
    ptr: *const u8,
    len: u64,
) -> u32 {
    // SAFETY: as in `frule_jit_needle`.
    let vm = unsafe { &*(*ctx).vm };
    let op = Cmp::ALL.get(op as usize).copied().unwrap_or(Cmp::Eq);
    // SAFETY: as in `frule_jit_needle`.
    let v = unsafe { bytes(ptr, len) };
    u32::from(vm.set_any_bytes(set as u32, op, v))
}

/// Whether `len` bytes at `a` and at `b` are equal (the constants too long to compare inline).
///
/// # Safety
/// Both ranges must be live bytes (a string slot of this call and a constant the code owns).
unsafe extern "C" fn frule_jit_bytes_eq(a: *const u8, b: *const u8, len: u64) -> u32 {
    // SAFETY: the caller's contract.
    let (x, y) = unsafe { (bytes(a, len), bytes(b, len)) };
    u32::from(x == y)
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

/// The helpers the native code calls, by symbol name, with their addresses and parameter counts
/// (every parameter is pointer-sized, every result an `i32`).
fn helpers() -> [(&'static str, *const u8, usize); 7] {
    let predicate: unsafe extern "C" fn(*mut Ctx<'_>, u64) -> u32 = frule_jit_predicate;
    let number: unsafe extern "C" fn(*mut Ctx<'_>, u64, u64) -> u32 = frule_jit_number;
    let string: unsafe extern "C" fn(*mut Ctx<'_>, u64, u64) -> u32 = frule_jit_string;
    let needle: unsafe extern "C" fn(*mut Ctx<'_>, u64, u64, *const u8, u64) -> u32 =
        frule_jit_needle;
    let in_bytes: unsafe extern "C" fn(*mut Ctx<'_>, u64, *const u8, u64) -> u32 =
        frule_jit_in_bytes;
    let any_bytes: unsafe extern "C" fn(*mut Ctx<'_>, u64, u64, *const u8, u64) -> u32 =
        frule_jit_any_bytes;
    let bytes_eq: unsafe extern "C" fn(*const u8, *const u8, u64) -> u32 = frule_jit_bytes_eq;
    [
        ("frule_jit_predicate", predicate as *const u8, 2),
        ("frule_jit_number", number as *const u8, 3),
        ("frule_jit_string", string as *const u8, 3),
        ("frule_jit_needle", needle as *const u8, 5),
        ("frule_jit_in_bytes", in_bytes as *const u8, 4),
        ("frule_jit_any_bytes", any_bytes as *const u8, 5),
        ("frule_jit_bytes_eq", bytes_eq as *const u8, 3),
    ]
}

/// Indices into [`helpers`].
const PREDICATE: usize = 0;
const NUMBER: usize = 1;
const STRING: usize = 2;
const NEEDLE: usize = 3;
const IN_BYTES: usize = 4;
const ANY_BYTES: usize = 5;
const BYTES_EQ: usize = 6;

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

/// Cranelift's per-function working memory (the function, its analyses, the register allocator's
/// state, the SSA builder's tables), kept between the programs one thread compiles so that each
/// compile reuses the allocations of the previous one instead of growing fresh ones (Cranelift's
/// advice for `Context`). Holds nothing of a finished program: each compile clears it.
#[derive(Default)]
pub(super) struct Scratch {
    ctx: Option<cranelift_codegen::Context>,
    fbc: FunctionBuilderContext,
}

/// Compiles a VM program to native code.
pub(super) fn compile(vm: &vm::Program, emit: Emit) -> Result<Output, JitError> {
    compile_with(vm, emit, &mut Scratch::default())
}

/// [`compile`] reusing the working memory in `scratch`. After a failure the scratch space is
/// replaced by a fresh one (a translation that stopped half-way leaves a half-built function in it).
pub(super) fn compile_with(
    vm: &vm::Program,
    emit: Emit,
    scratch: &mut Scratch,
) -> Result<Output, JitError> {
    let out = compile_in(vm, emit, scratch);
    if out.is_err() {
        *scratch = Scratch::default();
    }
    out
}

fn compile_in(vm: &vm::Program, emit: Emit, scratch: &mut Scratch) -> Result<Output, JitError> {
    let isa = host_isa()?;
    let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    let helpers = helpers();
    for (name, addr, _) in helpers {
        jb.symbol(name, addr);
    }
    // From here on the module is owned by `native`, so every early return frees it.
    let mut native = Native {
        module: ManuallyDrop::new(JITModule::new(jb)),
        entry: None,
        num_slots: 0,
        fixed_wanted: 0,
        consts: Vec::new(),
    };
    let module = &mut *native.module;
    let ptr = module.target_config().pointer_type();

    let mut helper_ids = Vec::with_capacity(helpers.len());
    for (name, _, params) in helpers {
        let mut sig = module.make_signature();
        for _ in 0..params {
            sig.params.push(AbiParam::new(types::I64));
        }
        sig.returns.push(AbiParam::new(types::I32));
        helper_ids.push(
            module
                .declare_function(name, Linkage::Import, &sig)
                .map_err(|e| err(e.to_string()))?,
        );
    }

    let mut sig: Signature = module.make_signature();
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I8));
    let fid = module
        .declare_function("frule_rules", Linkage::Local, &sig)
        .map_err(|e| err(e.to_string()))?;

    let ctx = scratch.ctx.get_or_insert_with(|| module.make_context());
    // A reused context was cleared by the module (`clear_context`) after its last function.
    ctx.func.signature = sig;
    ctx.set_disasm(emit.asm);
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut scratch.fbc);
        let funcs = helper_ids
            .iter()
            .map(|id| module.declare_func_in_func(*id, b.func))
            .collect();
        let mut t = Translator {
            vm,
            funcs,
            ptr,
            slots: HashMap::new(),
            str_slots: HashMap::new(),
            consts: Vec::new(),
            fixed_wanted: 0,
        };
        t.function(&mut b)?;
        native.num_slots = t.slots.len() + t.str_slots.len();
        native.fixed_wanted = t.fixed_wanted;
        native.consts = t.consts;
        b.seal_all_blocks();
        b.finalize(module.isa().frontend_config());
    }
    let clif = emit.clif.then(|| ctx.func.display().to_string());
    module
        .define_function(fid, ctx)
        .map_err(|e| err(format!("cranelift rejected the code: {e:?}")))?;
    let asm = ctx.compiled_code().and_then(|c| c.vcode.clone());
    module.clear_context(ctx);
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
    /// The helpers, in the order of [`helpers`].
    funcs: Vec<FuncRef>,
    ptr: types::Type,
    /// Data node → numeric slot, for the nodes compared inline as numbers.
    slots: HashMap<u32, u32>,
    /// Data node → string slot (same index space as `slots`), for the nodes compared by the typed
    /// string code.
    str_slots: HashMap<u32, u32>,
    /// Constants too long to compare inline, owned by the code that points to them.
    consts: Vec<Box<[u8]>>,
    /// The fixed-offset fields compared so far (bit `i` = fixed index `i`).
    fixed_wanted: u64,
}

/// The base addresses loaded once at function entry.
struct Bases {
    ctx: Value,
    numstat: Value,
    nums: Value,
    memo: Value,
    lens: Value,
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
            lens: b.ins().load(
                self.ptr,
                flags(),
                ctx,
                off(std::mem::offset_of!(Ctx<'_>, lens)),
            ),
        };
        let ret = b.create_block();
        let result = b.append_block_param(ret, types::I8);
        let rules = &self.vm.rules;
        if rules.is_empty() {
            let zero = b.ins().iconst(types::I8, 0);
            b.ins().jump(ret, &[BlockArg::Value(zero)]);
        } else if !self.vm.plan.is_empty() {
            // With a guard plan the function holds the plan walk only, whatever `only` says: the
            // rules' own code would double the function (and its compile time) for the single-rule
            // mode, which `jit::Program::eval_rule` answers with the VM for such programs.
            let any =
                b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 1, 0));
            let none = b.ins().iconst(types::I8, 0);
            b.ins().stack_store(self.ptr, none, any, 0);
            let all_done = b.create_block();
            self.plan(b, &bases, out, any, all_done)?;
            b.switch_to_block(all_done);
            let seen = b.ins().stack_load(self.ptr, types::I8, any, 0);
            b.ins().jump(ret, &[BlockArg::Value(seen)]);
        } else {
            let blocks: Vec<_> = rules.iter().map(|_| b.create_block()).collect();
            // In the all-rules mode the function answers whether some rule matched (a stack byte
            // set by every rule that matches), so that the caller scans the answers only then
            // (most events match nothing).
            let any =
                b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 1, 0));
            let none = b.ins().iconst(types::I8, 0);
            b.ins().stack_store(self.ptr, none, any, 0);
            let single = b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, only, 0);
            let dispatch = b.create_block();
            // Without a guard plan the all-rules mode runs the rules one after the other.
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
            let all_done = b.create_block();
            for (r, rule) in rules.iter().enumerate() {
                b.switch_to_block(blocks[r]);
                let start = rule.entry as usize;
                let end = self.code_end(start);
                let (yes, no) = (b.create_block(), b.create_block());
                self.rule(b, &bases, start, end, yes, no)?;
                let at = i32::try_from(r).map_err(|_| err("too many rules"))?;
                let next = blocks.get(r + 1).copied().unwrap_or(all_done);
                for (blk, answer) in [(yes, 1), (no, 0)] {
                    b.switch_to_block(blk);
                    let v = b.ins().iconst(types::I8, answer);
                    b.ins().store(flags(), v, out, at);
                    if answer == 1 {
                        b.ins().stack_store(self.ptr, v, any, 0);
                    }
                    b.ins().brif(single, ret, &[BlockArg::Value(v)], next, &[]);
                }
            }
            b.switch_to_block(all_done);
            let seen = b.ins().stack_load(self.ptr, types::I8, any, 0);
            b.ins().jump(ret, &[BlockArg::Value(seen)]);
        }
        b.switch_to_block(ret);
        b.ins().return_(&[result]);
        Ok(())
    }

    /// The all-rules mode of a program with a guard plan, from the current block to `done`: clears
    /// `out` (a rule the walk skips is never stored), then translates the plan items in order. A
    /// guard's code goes on to the next item when it holds and to its `skip` item (or `done`) when
    /// it does not; a rule item's code stores `out[r] = 1` and sets `any` when it holds, and goes
    /// on to the next item either way. Guards skip forward only (the plan's invariant, checked
    /// here), so every block is reached from earlier items only.
    fn plan(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        bases: &Bases,
        out: Value,
        any: StackSlot,
        done: Block,
    ) -> Result<(), JitError> {
        let plan = &self.vm.plan;
        // `out` is a byte array with no alignment: wide stores without the `aligned` flag.
        let unaligned = MemFlagsData::new().with_notrap();
        for (at, width) in chunks(self.vm.rules.len()) {
            let ty = match width {
                1 => types::I8,
                2 => types::I16,
                4 => types::I32,
                _ => types::I64,
            };
            let zero = b.ins().iconst(ty, 0);
            let at = i32::try_from(at).map_err(|_| err("too many rules"))?;
            b.ins().store(unaligned, zero, out, at);
        }
        let items: Vec<Block> = plan.iter().map(|_| b.create_block()).collect();
        let first = items.first().copied().unwrap_or(done);
        b.ins().jump(first, &[]);
        for (i, item) in plan.iter().enumerate() {
            let blk = items
                .get(i)
                .copied()
                .ok_or_else(|| err("plan item out of range"))?;
            b.switch_to_block(blk);
            let start = item.entry as usize;
            let end = self.code_end(start);
            let next = items.get(i + 1).copied().unwrap_or(done);
            match item.kind {
                PlanKind::Guard { skip } => {
                    let skip = skip as usize;
                    if skip <= i {
                        return Err(err(format!("plan item {i} skips back to {skip}")));
                    }
                    let skip = items.get(skip).copied().unwrap_or(done);
                    self.rule(b, bases, start, end, next, skip)?;
                }
                PlanKind::Rule(r) => {
                    if r as usize >= self.vm.rules.len() {
                        return Err(err(format!("plan rule {r} out of range")));
                    }
                    let at = i32::try_from(r).map_err(|_| err("too many rules"))?;
                    let yes = b.create_block();
                    self.rule(b, bases, start, end, yes, next)?;
                    b.switch_to_block(yes);
                    let one = b.ins().iconst(types::I8, 1);
                    b.ins().store(flags(), one, out, at);
                    b.ins().stack_store(self.ptr, one, any, 0);
                    b.ins().jump(next, &[]);
                }
            }
        }
        Ok(())
    }

    /// Where the code section (a rule's or a plan item's) starting at `start` ends: the next
    /// section's start, or the end of the code. A bound for [`Translator::resolve`], which stops at
    /// the section's `ret` anyway.
    fn code_end(&self, start: usize) -> usize {
        let starts = self
            .vm
            .rules
            .iter()
            .map(|r| r.entry)
            .chain(self.vm.plan.iter().map(|p| p.entry));
        starts
            .map(|e| e as usize)
            .filter(|e| *e > start)
            .min()
            .unwrap_or(self.vm.code.len())
    }

    /// Translates the bytecode of one rule, `code[start..end]` (ending with its `Ret`), as branches
    /// ending in `yes` (the rule matches) or `no`.
    ///
    /// The accumulator of the bytecode never exists at run time: control reaching an instruction is
    /// followed at compile time through the jumps, `not` and constants it passes with the
    /// accumulator known ([`Translator::resolve`]), so each predicate branches straight to where
    /// each of its answers leads, a memo store stores a constant, and `ret` is `yes` or `no`. A
    /// block is emitted per (instruction, accumulator) reached, in instruction order (every jump
    /// goes forward, so all of a block's predecessors come before it).
    fn rule(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        bases: &Bases,
        start: usize,
        end: usize,
        yes: Block,
        no: Block,
    ) -> Result<(), JitError> {
        let mut blocks = RuleBlocks {
            yes,
            no,
            pending: BTreeMap::new(),
            emitted: HashMap::new(),
        };
        let first = self.resolve(start, end, start, false)?;
        let blk = blocks.of(first, b);
        b.ins().jump(blk, &[]);
        while let Some(((pc, acc), blk)) = blocks.pending.pop_first() {
            blocks.emitted.insert((pc, acc), blk);
            b.switch_to_block(blk);
            let op = self
                .vm
                .code
                .get(pc)
                .ok_or_else(|| err("rule code out of range"))?;
            match op {
                Op::MemoGet {
                    slot,
                    if_false,
                    if_true,
                } => {
                    let v = b
                        .ins()
                        .load(types::I8, flags(), bases.memo, memo_offset(*slot)?);
                    let unknown = self.resolve(start, end, pc + 1, false)?;
                    let t = self.resolve(start, end, *if_true as usize, true)?;
                    let f = self.resolve(start, end, *if_false as usize, false)?;
                    let unknown = blocks.of(unknown, b);
                    let (t, f) = (blocks.of(t, b), blocks.of(f, b));
                    let known = b.create_block();
                    b.ins().brif(v, known, &[], unknown, &[]);
                    b.switch_to_block(known);
                    if t == f {
                        b.ins().jump(t, &[]);
                    } else {
                        let is_true = b.ins().icmp_imm_u(IntCC::Equal, v, 2);
                        b.ins().brif(is_true, t, &[], f, &[]);
                    }
                }
                Op::MemoPut(slot) => {
                    let v = b.ins().iconst(types::I8, if acc { 2 } else { 1 });
                    b.ins().store(flags(), v, bases.memo, memo_offset(*slot)?);
                    let next = self.resolve(start, end, pc + 1, acc)?;
                    let next = blocks.of(next, b);
                    b.ins().jump(next, &[]);
                }
                Op::Ret | Op::JumpIfFalse(_) | Op::JumpIfTrue(_) | Op::Not | Op::Const(_) => {
                    return Err(err("control instruction reached as a block"));
                }
                _ => {
                    let t = self.resolve(start, end, pc + 1, true)?;
                    let f = self.resolve(start, end, pc + 1, false)?;
                    let (t, f) = (blocks.of(t, b), blocks.of(f, b));
                    self.predicate(b, bases, pc, op, t, f)?;
                }
            }
        }
        Ok(())
    }

    /// Where control arriving at instruction `pc` with the accumulator `acc` really goes: past every
    /// jump the known accumulator decides, every `not` and constant, to `ret` with the answer, to a
    /// memo store with the value it stores, or to a predicate or memo check (which overwrite the
    /// accumulator, so it does not matter there). Fails on a jump that does not go forward inside
    /// the rule (the bytecode's invariant), which also bounds the walk.
    fn resolve(
        &self,
        start: usize,
        end: usize,
        mut pc: usize,
        mut acc: bool,
    ) -> Result<Target, JitError> {
        loop {
            if !(start..end).contains(&pc) {
                return Err(err(format!("jump to {pc} leaves the rule")));
            }
            let forward = |t: u32| {
                let t = t as usize;
                if t > pc {
                    Ok(t)
                } else {
                    Err(err(format!("jump from {pc} to {t} goes back")))
                }
            };
            match self.vm.code.get(pc) {
                None | Some(Op::Ret) => return Ok(Target::End(acc)),
                Some(Op::JumpIfFalse(t)) => pc = if acc { pc + 1 } else { forward(*t)? },
                Some(Op::JumpIfTrue(t)) => pc = if acc { forward(*t)? } else { pc + 1 },
                Some(Op::Not) => {
                    acc = !acc;
                    pc += 1;
                }
                Some(Op::Const(c)) => {
                    acc = *c;
                    pc += 1;
                }
                Some(Op::MemoPut(_)) => return Ok(Target::At(pc, acc)),
                Some(_) => return Ok(Target::At(pc, false)),
            }
        }
    }

    /// Predicate instruction `op` (at `pc`) as branches: to `t` when it holds, to `f` when it does
    /// not (a missing operand included, spec B.3). No answer is materialized where the operator is
    /// compiled inline: every exit of the field fetch and of the comparison branches straight to
    /// `t` or `f`, so no block parameter (which the single-pass allocator moves through the stack)
    /// carries it.
    fn predicate(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        bases: &Bases,
        pc: usize,
        op: &Op,
        t: Block,
        f: Block,
    ) -> Result<(), JitError> {
        let v = match op {
            Op::Cmp { op, kind, lhs, rhs } => match self.inline_number(*op, *kind, *lhs, *rhs) {
                Some((cc, k)) => match self.fixed_of(*lhs) {
                    Some(i) => self.fixed_cmp(b, bases, i, cc, k)?,
                    None => {
                        let word = self.slot_present(b, bases, *lhs, false, f)?;
                        let x = b.ins().load(types::I64, flags(), bases.nums, word);
                        b.ins().icmp_imm_u(cc, x, k as i64)
                    }
                },
                None => self.call_predicate(b, bases, pc),
            },
            Op::CmpNeedle { op, lhs, needle } if self.string_node(*lhs) => {
                return self.needle_cmp(b, bases, *op, *lhs, *needle, t, f);
            }
            Op::InSet { lhs, set, .. }
                if self.string_node(*lhs)
                    && !self.vm.node_ty.get(*lhs as usize).is_some_and(|t| t.list)
                    && self.bytes_set(*set) =>
            {
                let (ptr, len) = self.string_operand(b, bases, *lhs, f)?;
                let set = b.ins().iconst(types::I64, i64::from(*set));
                self.call(b, IN_BYTES, &[bases.ctx, set, ptr, len])
            }
            Op::Modified {
                m: Modifier::AnyOf,
                op,
                lhs,
                set,
            } if self.string_node(*lhs) && self.bytes_set(*set) => {
                let code = cmp_code(*op);
                let (ptr, len) = self.string_operand(b, bases, *lhs, f)?;
                let set = b.ins().iconst(types::I64, i64::from(*set));
                let code = b.ins().iconst(types::I64, code);
                self.call(b, ANY_BYTES, &[bases.ctx, set, code, ptr, len])
            }
            Op::Exists(_)
            | Op::CmpNeedle { .. }
            | Op::CmpNet { .. }
            | Op::Modified { .. }
            | Op::InSet { .. }
            | Op::InVal { .. }
            | Op::PMatch { .. }
            | Op::Regex { .. }
            | Op::RegexModified { .. } => self.call_predicate(b, bases, pc),
            Op::Const(c) => {
                b.ins().jump(if *c { t } else { f }, &[]);
                return Ok(());
            }
            Op::Ret
            | Op::JumpIfFalse(_)
            | Op::JumpIfTrue(_)
            | Op::Not
            | Op::MemoGet { .. }
            | Op::MemoPut(_) => return Err(err("control instruction translated as a predicate")),
        };
        b.ins().brif(v, t, &[], f, &[]);
        Ok(())
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

    /// The fixed-offset index of node `n` when it is a load, without an argument, of a fixed-offset
    /// field whose class is the node's (so that the block holds exactly what the numeric cache
    /// would: see [`crate::abi::fixed_bits`]); the VM's own test, which its fixed steps use too.
    fn fixed_of(&self, n: u32) -> Option<usize> {
        self.vm.fixed_of(n)
    }

    /// `present & bit(i) != 0 && values[i] cc k` on the event's fixed-offset block: two loads from
    /// the block (whose address is in the context) and no call.
    fn fixed_cmp(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        bases: &Bases,
        i: usize,
        cc: IntCC,
        k: u64,
    ) -> Result<Value, JitError> {
        let off = |o: usize| i32::try_from(o).map_err(|_| err("fixed-offset field out of range"));
        self.fixed_wanted |= 1 << i;
        let block = b.ins().load(
            self.ptr,
            flags(),
            bases.ctx,
            off(std::mem::offset_of!(Ctx<'_>, fixed))?,
        );
        let present = b.ins().load(
            types::I64,
            flags(),
            block,
            off(std::mem::offset_of!(FixedFields, present))?,
        );
        let bit = b.ins().band_imm_u(present, 1i64 << i);
        let has = b.ins().icmp_imm_u(IntCC::NotEqual, bit, 0);
        let x = b.ins().load(
            types::I64,
            flags(),
            block,
            off(FixedFields::value_offset(i))?,
        );
        let c = b.ins().icmp_imm_u(cc, x, k as i64);
        Ok(b.ins().band(has, c))
    }

    /// Fetches `node` through its numeric (or, with `string`, string) slot: jumps to `missing` when
    /// it is absent this event, and leaves the builder in a block where it is present, returning
    /// the byte offset of the slot's words in `nums` (and `lens`). The hot case, a node already
    /// extracted in this event, is one byte load and one branch: `status = numstat[s]; if status
    /// == 1 { present } else if status != 0 { missing } else if helper(ctx, node, s) == 1 { present }
    /// else { missing }`. Numeric and string slots share one numbering, so a node has at most one
    /// slot of each kind and the status bytes never overlap.
    fn slot_present(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        bases: &Bases,
        node: u32,
        string: bool,
        missing: Block,
    ) -> Result<i32, JitError> {
        let next = (self.slots.len() + self.str_slots.len()) as u32;
        let (slots, helper, too_many) = if string {
            (&mut self.str_slots, STRING, "too many string slots")
        } else {
            (&mut self.slots, NUMBER, "too many numeric slots")
        };
        let slot = *slots.entry(node).or_insert(next);
        let stat_off = i32::try_from(slot).map_err(|_| err(too_many))?;
        let word_off = i32::try_from(u64::from(slot) * 8).map_err(|_| err(too_many))?;
        let st = b.ins().load(types::I8, flags(), bases.numstat, stat_off);
        let present = b.create_block();
        let unknown = b.create_block();
        let extract = b.create_block();
        let have = b.ins().icmp_imm_u(IntCC::Equal, st, 1);
        b.ins().brif(have, present, &[], unknown, &[]);
        b.switch_to_block(unknown);
        b.ins().brif(st, missing, &[], extract, &[]);
        b.switch_to_block(extract);
        let idx = b.ins().iconst(types::I64, i64::from(node));
        let sl = b.ins().iconst(types::I64, i64::from(slot));
        let r8 = self.call(b, helper, &[bases.ctx, idx, sl]);
        let got = b.ins().icmp_imm_u(IntCC::Equal, r8, 1);
        b.ins().brif(got, present, &[], missing, &[]);
        b.switch_to_block(present);
        Ok(word_off)
    }

    fn call_predicate(&self, b: &mut FunctionBuilder<'_>, bases: &Bases, pc: usize) -> Value {
        let idx = b.ins().iconst(types::I64, pc as i64);
        self.call(b, PREDICATE, &[bases.ctx, idx])
    }

    /// Calls helper `h` (an index into [`helpers`]); its `i32` answer as an `i8` boolean.
    fn call(&self, b: &mut FunctionBuilder<'_>, h: usize, args: &[Value]) -> Value {
        let call = b.ins().call(self.funcs[h], args);
        let r = b.inst_results(call)[0];
        b.ins().ireduce(types::I8, r)
    }

    /// Whether node `n` can go through a string slot: a single-valued `str`/`bytes` node (a
    /// multi-valued one is compared value by value by the predicate helper).
    fn string_node(&self, n: u32) -> bool {
        self.vm
            .node_ty
            .get(n as usize)
            .is_some_and(|t| t.kind.is_bytes_like())
            && !self.vm.is_multi(n)
    }

    /// Whether set `s` holds byte strings (so that a non-string value is in none of its checks).
    fn bytes_set(&self, s: u32) -> bool {
        self.vm.set_kind(s).is_some_and(ScalarKind::is_bytes_like)
    }

    /// The address and length of string node `node`'s value, fetched through its string slot; jumps
    /// to `missing` when it is not present as a byte string (a check on a missing field is false,
    /// spec B.3) and leaves the builder where it is.
    fn string_operand(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        bases: &Bases,
        node: u32,
        missing: Block,
    ) -> Result<(Value, Value), JitError> {
        let word_off = self.slot_present(b, bases, node, true, missing)?;
        let ptr = b.ins().load(types::I64, flags(), bases.nums, word_off);
        let len = b.ins().load(types::I64, flags(), bases.lens, word_off);
        Ok((ptr, len))
    }

    /// `lhs op needle` for a single-valued string node, as branches to `t`/`f`: `=`, `!=`,
    /// `startswith` and `endswith` compare lengths and bytes inline (short constants as a few word
    /// loads, long ones through `frule_jit_bytes_eq`); the other operators call `frule_jit_needle`
    /// with the value.
    #[allow(
        clippy::too_many_arguments,
        reason = "the operands of one comparison and its two targets"
    )]
    fn needle_cmp(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        bases: &Bases,
        op: Cmp,
        lhs: u32,
        needle: u32,
        t: Block,
        f: Block,
    ) -> Result<(), JitError> {
        let k: Box<[u8]> = self
            .vm
            .needle_bytes(needle)
            .ok_or_else(|| err("needle out of range"))?
            .into();
        let klen = k.len() as i64;
        let (ptr, len) = self.string_operand(b, bases, lhs, f)?;
        match op {
            Cmp::Eq | Cmp::Ne | Cmp::StartsWith | Cmp::BStartsWith | Cmp::EndsWith => {
                let cc = match op {
                    Cmp::Eq | Cmp::Ne => IntCC::Equal,
                    _ => IntCC::UnsignedGreaterThanOrEqual,
                };
                // `!=` holds for a present value of another length.
                let (same, differ) = if op == Cmp::Ne { (f, t) } else { (t, f) };
                let fits = b.ins().icmp_imm_u(cc, len, klen);
                let bytes = b.create_block();
                b.ins().brif(fits, bytes, &[], differ, &[]);
                b.switch_to_block(bytes);
                let base = if op == Cmp::EndsWith && klen > 0 {
                    let start = b.ins().iadd(ptr, len);
                    b.ins().iadd_imm_s(start, -klen)
                } else {
                    ptr
                };
                let eq = self.bytes_equal(b, base, k);
                b.ins().brif(eq, same, &[], differ, &[]);
            }
            _ => {
                let n = b.ins().iconst(types::I64, i64::from(needle));
                let code = b.ins().iconst(types::I64, cmp_code(op));
                let v = self.call(b, NEEDLE, &[bases.ctx, n, code, ptr, len]);
                b.ins().brif(v, t, &[], f, &[]);
            }
        }
        Ok(())
    }

    /// Whether the `k.len()` bytes at `base` equal `k`: up to [`INLINE_BYTES`] bytes as word loads
    /// compared with immediates (overlapping where the length is not a sum of word sizes), longer
    /// constants through `frule_jit_bytes_eq` with the address of a copy the code owns. The caller
    /// has checked that the bytes are in bounds.
    fn bytes_equal(&mut self, b: &mut FunctionBuilder<'_>, base: Value, k: Box<[u8]>) -> Value {
        if k.len() > INLINE_BYTES {
            let addr = b.ins().iconst(types::I64, k.as_ptr() as i64);
            let len = b.ins().iconst(types::I64, k.len() as i64);
            self.consts.push(k);
            return self.call(b, BYTES_EQ, &[base, addr, len]);
        }
        let mut acc: Option<Value> = None;
        for (at, width) in chunks(k.len()) {
            let Some(piece) = k.get(at..at + width) else {
                continue;
            };
            let ty = match width {
                1 => types::I8,
                2 => types::I16,
                4 => types::I32,
                _ => types::I64,
            };
            // In bounds (checked by the caller) but of any alignment.
            let x = b
                .ins()
                .load(ty, MemFlagsData::new().with_notrap(), base, at as i32);
            let c = b.ins().iconst(ty, chunk_bits(piece) as i64);
            let eq = b.ins().icmp(IntCC::Equal, x, c);
            acc = Some(match acc {
                Some(a) => b.ins().band(a, eq),
                None => eq,
            });
        }
        acc.unwrap_or_else(|| b.ins().iconst(types::I8, 1))
    }
}

/// The longest constant compared inline by [`Translator::bytes_equal`].
const INLINE_BYTES: usize = 24;

/// The (offset, width) word loads covering `n` bytes: 8-byte words (the last one overlapping its
/// predecessor when `n` is not a multiple of 8), or for fewer than 8 bytes one or two loads of 1, 2
/// or 4 bytes (overlapping for 3, 5, 6 and 7).
fn chunks(n: usize) -> Vec<(usize, usize)> {
    match n {
        0 => Vec::new(),
        1 | 2 | 4 => vec![(0, n)],
        3 => vec![(0, 2), (1, 2)],
        5..=7 => vec![(0, 4), (n - 4, 4)],
        _ => {
            let mut out: Vec<(usize, usize)> = (0..n / 8).map(|i| (i * 8, 8)).collect();
            if !n.is_multiple_of(8) {
                out.push((n - 8, 8));
            }
            out
        }
    }
}

/// The value a native-endian load of `piece` (1, 2, 4 or 8 bytes) yields, zero-extended.
fn chunk_bits(piece: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    if cfg!(target_endian = "little") {
        for (w, p) in word.iter_mut().zip(piece) {
            *w = *p;
        }
        u64::from_le_bytes(word)
    } else {
        for (w, p) in word.iter_mut().rev().zip(piece.iter().rev()) {
            *w = *p;
        }
        u64::from_be_bytes(word)
    }
}

/// The blocks of one rule's translation, by (instruction, accumulator).
struct RuleBlocks {
    yes: Block,
    no: Block,
    /// Created (as jump targets) but not filled yet; filled in instruction order.
    pending: BTreeMap<(usize, bool), Block>,
    emitted: HashMap<(usize, bool), Block>,
}

impl RuleBlocks {
    /// The block of a target, created on first use.
    fn of(&mut self, t: Target, b: &mut FunctionBuilder<'_>) -> Block {
        match t {
            Target::End(true) => self.yes,
            Target::End(false) => self.no,
            Target::At(pc, acc) => match self.emitted.get(&(pc, acc)) {
                Some(blk) => *blk,
                None => *self
                    .pending
                    .entry((pc, acc))
                    .or_insert_with(|| b.create_block()),
            },
        }
    }
}

/// Where control goes in a rule: the end with an answer, or instruction `pc` reached with the
/// accumulator `acc` (always `false` for predicates and memo checks, which do not read it).
#[derive(Clone, Copy, Debug)]
enum Target {
    End(bool),
    At(usize, bool),
}

fn memo_offset(slot: u32) -> Result<i32, JitError> {
    i32::try_from(slot).map_err(|_| err("memo slot index too large"))
}
