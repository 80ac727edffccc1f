//! Event-type resolution: which event codes can a condition possibly match?
//!
//! Falco indexes syscall rules by the event types their condition can match, so that an event is
//! only evaluated against the rules that could fire on it, and warns (`LOAD_NO_EVTTYPE`) when a
//! rule matches too many types. This module computes that set exactly as libsinsp's
//! `filter/ppm_codes.cpp` does on the macro-resolved condition (spec Part D), so frule indexes,
//! warns and fails identically:
//!
//! - `and` intersects, `or` unites; inside an odd number of `not`, `and` unites and `or`
//!   intersects (De Morgan pushes negation to the leaves);
//! - `evt.type`/`syscall.type` (bare field, no argument) with `=`, `==`, `!=`, `in` yields the codes
//!   of the named events ([`events::codes_for_name`]); `!=` and negation complement it;
//! - `evt.type exists` yields every code but is complemented under negation (to none);
//! - checks on bare `evt.num` that its invariant (`evt.num >= 1`) decides are empty or full sets,
//!   complemented under negation;
//! - every other check is neutral: every code, and negation leaves it so;
//! - `evt.type` inside a transformer, or a field/transformer on the right of an `evt.type` check,
//!   is an error (such rules fail to load in Falco).
//!
//! Invariants: a set only ever holds codes below [`events::EVENT_COUNT`]; the universe `U` is all
//! of them (placeholders included, as upstream's `all_event_set()`).

use crate::ast::{Check, CmpOp, Expr, ExprKind, FieldRef, Operand, TransformArg, Value};
use crate::events;

const WORDS: usize = events::EVENT_COUNT.div_ceil(64);

/// Falco warns with `LOAD_NO_EVTTYPE` when a syscall rule's set has more than this many codes.
pub const LOAD_NO_EVTTYPE_THRESHOLD: usize = 100;

/// A set of event codes (a bitset over `0..EVENT_COUNT`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EvtTypeSet {
    bits: [u64; WORDS],
}

impl EvtTypeSet {
    /// No code.
    pub const fn empty() -> Self {
        EvtTypeSet { bits: [0; WORDS] }
    }

    /// Every code `0..EVENT_COUNT`.
    pub fn all() -> Self {
        // every word full, the last one up to EVENT_COUNT (called for every neutral leaf: no loop per code)
        let mut bits = [u64::MAX; WORDS];
        let rest = events::EVENT_COUNT % 64;
        if rest != 0
            && let Some(last) = bits.last_mut()
        {
            *last = (1u64 << rest) - 1;
        }
        EvtTypeSet { bits }
    }

    /// The set of the given codes; codes outside the table are ignored.
    pub fn from_codes(codes: &[u16]) -> Self {
        let mut set = Self::empty();
        for &code in codes {
            set.insert(code);
        }
        set
    }

    fn insert_index(&mut self, index: usize) {
        if index < events::EVENT_COUNT
            && let Some(word) = self.bits.get_mut(index / 64)
        {
            *word |= 1 << (index % 64);
        }
    }

    /// Adds a code (ignored if outside the table).
    pub fn insert(&mut self, code: u16) {
        self.insert_index(usize::from(code));
    }

    /// True if the set holds `code`.
    pub fn contains(&self, code: u16) -> bool {
        let index = usize::from(code);
        self.bits
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// True if no code is in the set (the condition can never match).
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }

    /// True if every code is in the set (the condition does not restrict the event type).
    pub fn is_all(&self) -> bool {
        self.len() == events::EVENT_COUNT
    }

    /// The codes in both sets.
    pub fn intersect(&self, other: &Self) -> Self {
        let mut out = *self;
        for (a, b) in out.bits.iter_mut().zip(other.bits.iter()) {
            *a &= b;
        }
        out
    }

    /// The codes in either set.
    pub fn union(&self, other: &Self) -> Self {
        let mut out = *self;
        for (a, b) in out.bits.iter_mut().zip(other.bits.iter()) {
            *a |= b;
        }
        out
    }

    /// Every code of the table that is not in this set.
    pub fn complement(&self) -> Self {
        let all = Self::all();
        let mut out = *self;
        for (a, b) in out.bits.iter_mut().zip(all.bits.iter()) {
            *a = !*a & b;
        }
        out
    }

    /// The codes in ascending order.
    pub fn codes(&self) -> impl Iterator<Item = u16> + '_ {
        (0..events::EVENT_COUNT)
            .filter_map(|i| u16::try_from(i).ok())
            .filter(|&code| self.contains(code))
    }

    /// The distinct event names of the codes, sorted (as `events::event(code).name`; the generic
    /// pair is `syscall`, placeholders are `NA`).
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self
            .codes()
            .filter_map(events::event)
            .map(|e| e.name)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// True if a syscall rule with this set gets Falco's `LOAD_NO_EVTTYPE` warning ("Rule matches
    /// too many evt.type values"): more than [`LOAD_NO_EVTTYPE_THRESHOLD`] codes. An empty set
    /// (a statically unsatisfiable condition) does not warn.
    pub fn warns_no_evttype(&self) -> bool {
        self.len() > LOAD_NO_EVTTYPE_THRESHOLD
    }
}

impl Default for EvtTypeSet {
    fn default() -> Self {
        Self::empty()
    }
}

impl std::fmt::Debug for EvtTypeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_all() {
            return f.write_str("EvtTypeSet(all)");
        }
        f.debug_set().entries(self.codes()).finish()
    }
}

/// The message when `evt.type` appears inside a transformer of an `evt.type` check.
pub const ERR_TRANSFORMER: &str =
    "event code search does not support `evt.type` checks with transformers";

/// The message when a field or transformer is on the right of an `evt.type` check.
pub const ERR_RHS_FIELD: &str = "right-hand field comparisons on `evt.type`/`syscall.type` checks are not supported by event code search";

/// The event codes a macro-resolved condition can match (spec Part D), or libsinsp's error
/// message for the `evt.type` forms event code search rejects.
pub fn evttypes_of(expr: &Expr) -> Result<EvtTypeSet, String> {
    let mut v = Visitor::default();
    v.expr(expr)?;
    Ok(v.codes)
}

/// The state of libsinsp's `ppm_code_visitor`: the result of the last visited node plus the
/// flags the leaves use to talk to their check.
struct Visitor {
    is_evttype_field: bool,
    is_field_or_transformer: bool,
    inside_negation: bool,
    has_codes: bool,
    codes: EvtTypeSet,
}

impl Default for Visitor {
    fn default() -> Self {
        Visitor {
            is_evttype_field: false,
            is_field_or_transformer: true,
            inside_negation: false,
            has_codes: false,
            codes: EvtTypeSet::empty(),
        }
    }
}

/// What the `evt.num >= 1` invariant says about a check.
enum Invariant {
    Empty,
    All,
    Unknown,
}

impl Visitor {
    /// Complements the set of a type-bearing leaf; neutral leaves stay neutral.
    fn inversion(&mut self) {
        if self.has_codes {
            self.codes = self.codes.complement();
        }
    }

    fn try_inversion(&mut self) {
        if self.inside_negation {
            self.inversion();
        }
    }

    fn expr(&mut self, expr: &Expr) -> Result<(), String> {
        match &expr.kind {
            ExprKind::And(children) => {
                if self.inside_negation {
                    self.disjunction(children)
                } else {
                    self.conjunction(children)
                }
            }
            ExprKind::Or(children) => {
                if self.inside_negation {
                    self.conjunction(children)
                } else {
                    self.disjunction(children)
                }
            }
            ExprKind::Not(child) => {
                self.codes = EvtTypeSet::empty();
                let outer = self.inside_negation;
                self.inside_negation = !outer;
                let r = self.expr(child);
                self.inside_negation = outer;
                self.is_evttype_field = false;
                r
            }
            ExprKind::Macro(_) => {
                // an unresolved identifier: neutral
                self.neutral();
                Ok(())
            }
            ExprKind::Check(check) => self.check(check),
        }
    }

    fn neutral(&mut self) {
        self.has_codes = false;
        self.codes = EvtTypeSet::all();
        self.is_evttype_field = false;
        self.try_inversion();
    }

    fn conjunction(&mut self, children: &[Expr]) -> Result<(), String> {
        let mut types = EvtTypeSet::all();
        for c in children {
            self.expr(c)?;
            types = types.intersect(&self.codes);
        }
        self.codes = types;
        self.is_evttype_field = false;
        Ok(())
    }

    fn disjunction(&mut self, children: &[Expr]) -> Result<(), String> {
        let mut types = EvtTypeSet::empty();
        for c in children {
            self.expr(c)?;
            types = types.union(&self.codes);
        }
        self.codes = types;
        self.is_evttype_field = false;
        Ok(())
    }

    fn check(&mut self, check: &Check) -> Result<(), String> {
        let Some(rhs) = &check.rhs else {
            // unary check: `exists`
            self.operand(&check.lhs)?;
            self.has_codes = self.is_evttype_field && check.op == CmpOp::Exists;
            self.codes = EvtTypeSet::all();
            self.is_evttype_field = false;
            self.try_inversion();
            return Ok(());
        };

        self.has_codes = false;
        let decided = match evt_num_invariant(check, rhs) {
            Invariant::Empty => Some(EvtTypeSet::empty()),
            Invariant::All => Some(EvtTypeSet::all()),
            Invariant::Unknown => None,
        };
        if let Some(codes) = decided {
            self.codes = codes;
            self.has_codes = true;
            self.is_evttype_field = false;
            self.try_inversion();
            return Ok(());
        }

        // a modifier makes the operator text `= oneof` etc., which is no evttype operator
        let evttype_op = check.modifier.is_none()
            && matches!(check.op, CmpOp::Eq | CmpOp::EqEq | CmpOp::Ne | CmpOp::In);
        if evttype_op {
            self.operand(&check.lhs)?;
            if self.is_evttype_field {
                self.is_field_or_transformer = false;
                self.value(rhs)?;
                if self.is_field_or_transformer {
                    return Err(ERR_RHS_FIELD.to_string());
                }
                if check.op == CmpOp::Ne {
                    // the value may already have been complemented by an enclosing negation;
                    // complementing again covers both single and double negation
                    self.inversion();
                }
                self.is_evttype_field = false;
                return Ok(());
            }
        }
        self.codes = EvtTypeSet::all();
        self.is_evttype_field = false;
        self.try_inversion();
        Ok(())
    }

    fn field(&mut self, field: &FieldRef) {
        self.has_codes = false;
        self.is_field_or_transformer = true;
        self.is_evttype_field =
            (field.name == "evt.type" || field.name == "syscall.type") && field.arg.is_none();
        self.codes = EvtTypeSet::all();
        self.try_inversion();
    }

    fn operand(&mut self, operand: &Operand) -> Result<(), String> {
        match operand {
            Operand::Field(field) => {
                self.field(field);
                Ok(())
            }
            Operand::Transform(t) => {
                self.transformer_args(&t.args)?;
                self.is_field_or_transformer = true;
                Ok(())
            }
        }
    }

    /// The arguments of a transformer (or `val()`): `evt.type` among them is an error.
    fn transformer_args(&mut self, args: &[TransformArg]) -> Result<(), String> {
        for arg in args {
            self.transformer_arg(arg)?;
            if self.is_evttype_field {
                return Err(ERR_TRANSFORMER.to_string());
            }
        }
        Ok(())
    }

    fn transformer_arg(&mut self, arg: &TransformArg) -> Result<(), String> {
        match arg {
            TransformArg::Operand(op) => self.operand(op),
            TransformArg::Literal(lit) => {
                self.names(&[lit.bytes.as_slice()]);
                Ok(())
            }
            TransformArg::List(items, _) => {
                for item in items {
                    self.transformer_arg(item)?;
                }
                Ok(())
            }
        }
    }

    fn value(&mut self, value: &Value) -> Result<(), String> {
        match value {
            Value::Literal(lit) => {
                self.names(&[lit.bytes.as_slice()]);
                Ok(())
            }
            Value::List(items, _) => {
                let names: Vec<&[u8]> = items.iter().map(|l| l.bytes.as_slice()).collect();
                self.names(&names);
                Ok(())
            }
            Value::ListRef(ident, _) => {
                self.names(&[ident.as_bytes()]);
                Ok(())
            }
            Value::Field(field, _) | Value::ValWithArg(field, _, _) => {
                // `val(field)` is a transformer over one field
                self.field(field);
                if self.is_evttype_field {
                    return Err(ERR_TRANSFORMER.to_string());
                }
                self.is_field_or_transformer = true;
                Ok(())
            }
            Value::Transform(t) => {
                self.transformer_args(&t.args)?;
                self.is_field_or_transformer = true;
                Ok(())
            }
        }
    }

    /// A value or list leaf: the codes of the named events.
    fn names(&mut self, names: &[&[u8]]) {
        self.has_codes = true;
        let mut set = EvtTypeSet::empty();
        for name in names {
            if let Ok(name) = std::str::from_utf8(name) {
                for &code in events::codes_for_name(name) {
                    set.insert(code);
                }
            }
        }
        self.codes = set;
        self.is_evttype_field = false;
        self.try_inversion();
    }
}

/// libsinsp's `evaluate_field_invariant`: decides checks on bare `evt.num`, which is always ≥ 1.
fn evt_num_invariant(check: &Check, rhs: &Value) -> Invariant {
    let Operand::Field(field) = &check.lhs else {
        return Invariant::Unknown;
    };
    if field.name != "evt.num" || field.arg.is_some() || check.modifier.is_some() {
        return Invariant::Unknown;
    }
    if check.op == CmpOp::In {
        let Value::List(items, _) = rhs else {
            return Invariant::Unknown;
        };
        if items.iter().all(|l| scan_u64(&l.bytes) == Some(0)) {
            return Invariant::Empty; // includes the empty list
        }
        return Invariant::Unknown;
    }
    let n = match rhs {
        Value::Literal(lit) => scan_u64(&lit.bytes),
        Value::ListRef(ident, _) => scan_u64(ident.as_bytes()),
        _ => None,
    };
    let Some(n) = n else {
        return Invariant::Unknown;
    };
    match check.op {
        CmpOp::Eq | CmpOp::EqEq if n == 0 => Invariant::Empty,
        CmpOp::Ne if n == 0 => Invariant::All,
        CmpOp::Lt if n <= 1 => Invariant::Empty,
        CmpOp::Le if n == 0 => Invariant::Empty,
        CmpOp::Gt if n == 0 => Invariant::All,
        CmpOp::Ge if n <= 1 => Invariant::All,
        _ => Invariant::Unknown,
    }
}

/// `sscanf(s, "%" PRIu64 "%c")` succeeding with exactly one conversion, as libsinsp's
/// `tryparseu64` uses it: optional leading white space, an optional sign, decimal digits, and
/// nothing after. A minus sign negates modulo 2^64 and overflow saturates, as `strtoull` does.
fn scan_u64(s: &[u8]) -> Option<u64> {
    let mut i = 0;
    while s
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
    {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = s.get(i..)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for d in digits {
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if overflow {
        return Some(u64::MAX);
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Literal, LiteralKind, Span};

    fn lit(s: &str) -> Literal {
        Literal {
            bytes: s.as_bytes().to_vec(),
            kind: LiteralKind::Bare,
            span: Span::default(),
        }
    }

    fn check(field: &str, op: CmpOp, rhs: Option<Value>) -> Expr {
        Expr {
            kind: ExprKind::Check(Box::new(Check {
                lhs: Operand::Field(FieldRef {
                    name: field.to_string(),
                    arg: None,
                    span: Span::default(),
                }),
                op,
                op_span: Span::default(),
                modifier: None,
                rhs,
            })),
            span: Span::default(),
        }
    }

    fn not(e: Expr) -> Expr {
        Expr {
            kind: ExprKind::Not(Box::new(e)),
            span: Span::default(),
        }
    }

    #[test]
    fn leaves() {
        let openat = check("evt.type", CmpOp::Eq, Some(Value::Literal(lit("openat"))));
        let set = evttypes_of(&openat).expect("openat");
        assert_eq!(set.codes().collect::<Vec<_>>(), [102, 103, 306, 307]);
        assert_eq!(set.names(), ["openat"]);
        let ne = check("evt.type", CmpOp::Ne, Some(Value::Literal(lit("openat"))));
        assert_eq!(evttypes_of(&not(ne)).expect("not !="), set);
        assert_eq!(evttypes_of(&not(openat)).expect("not ="), set.complement());
        let neutral = check("proc.name", CmpOp::Eq, Some(Value::Literal(lit("cat"))));
        assert!(evttypes_of(&not(neutral)).expect("neutral").is_all());
        let exists = check("evt.type", CmpOp::Exists, None);
        assert!(evttypes_of(&not(exists)).expect("exists").is_empty());
    }

    #[test]
    fn scan_u64_like_sscanf() {
        assert_eq!(scan_u64(b"0"), Some(0));
        assert_eq!(scan_u64(b" -0"), Some(0));
        assert_eq!(scan_u64(b"+1"), Some(1));
        assert_eq!(scan_u64(b"-1"), Some(u64::MAX));
        assert_eq!(scan_u64(b"0x0"), None);
        assert_eq!(scan_u64(b"1.5"), None);
        assert_eq!(scan_u64(b"0 "), None);
        assert_eq!(scan_u64(b""), None);
        assert_eq!(scan_u64(b"99999999999999999999999"), Some(u64::MAX));
    }
}
