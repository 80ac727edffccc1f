//! The syntax tree of a Falco condition.
//!
//! The tree is purely syntactic, exactly like libsinsp's filter AST: the parser does not know which field
//! names exist, which identifiers are macros or which values are valid for a field. Name resolution and type
//! checking happen later ([`crate::check`]).
//!
//! Invariants the parser guarantees:
//! - `and`/`or` chains of the same connective are one n-ary node with at least two children; parentheses
//!   around a single operand produce no node;
//! - consecutive `not` prefixes are folded (an even count yields no node);
//! - every node carries a [`Span`] of byte offsets into the parsed text (the condition *after* list
//!   substitution and exception expansion); the start follows libsinsp's position rules (spec A.1) so that
//!   printed positions agree with Falco's.
//! - literal values are bytes, not `String`s: `\xHH` escapes can produce invalid UTF-8 and Falco matches such
//!   values byte for byte.

use std::fmt;

/// A half-open byte range `start..end` into the text the parser was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end`.
    pub const fn new(start: u32, end: u32) -> Self {
        Self { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A boolean expression: the whole condition, or any operand of `and`/`or`/`not`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is. For `and`/`or`/`not` this starts where libsinsp's production starts (spec A.1).
    pub span: Span,
}

/// The kinds of boolean expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `a and b and ...` — at least two children, evaluated left to right, stopping at the first false.
    And(Vec<Expr>),
    /// `a or b or ...` — at least two children, evaluated left to right, stopping at the first true.
    Or(Vec<Expr>),
    /// `not a`.
    Not(Box<Expr>),
    /// A bare identifier: a macro reference, resolved by the loader.
    Macro(String),
    /// A comparison of a field (or transformer) with a value, or an `exists` test.
    Check(Box<Check>),
}

/// `<lhs> <op> [<modifier>] <rhs>`, or `<lhs> exists`.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// The left side: a field or a transformer expression.
    pub lhs: Operand,
    /// The comparison operator.
    pub op: CmpOp,
    /// The span of the operator word or symbol itself (without the modifier and without the blank a word
    /// operator requires after it).
    pub op_span: Span,
    /// `oneof`/`anyof`/`allof`, if present (only after a string operator).
    pub modifier: Option<Modifier>,
    /// The right side; `None` exactly when `op` is [`CmpOp::Exists`].
    pub rhs: Option<Value>,
}

/// The left side of a check, or an argument of a transformer.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A field, such as `proc.name` or `proc.aname[2]`.
    Field(FieldRef),
    /// A transformer applied to operands, such as `tolower(proc.name)`.
    Transform(Transform),
}

impl Operand {
    /// Where the operand is.
    pub fn span(&self) -> Span {
        match self {
            Operand::Field(f) => f.span,
            Operand::Transform(t) => t.span,
        }
    }
}

/// A field name with its optional argument.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRef {
    /// The dotted name, e.g. `proc.aname`.
    pub name: String,
    /// The argument between `[` and `]`, unescaped; `Some("")` for `[""]`, which differs from no argument.
    /// A quoted argument whose escapes produce invalid UTF-8 is stored lossily (U+FFFD): field arguments are
    /// names, indexes or option letters, never matched byte for byte.
    pub arg: Option<String>,
    /// From the first character of the name to the closing `]` (or the end of the name).
    pub span: Span,
}

/// The transformers of the condition language (spec A.6). `val()` is not one of them: it is a value form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transformer {
    /// `tolower(x)`: ASCII lower-casing.
    ToLower,
    /// `toupper(x)`: ASCII upper-casing.
    ToUpper,
    /// `b64(x)`: base64 *decoding*.
    B64,
    /// `basename(x)`: the text after the last `/`.
    Basename,
    /// `len(x)`: length in bytes, or element count of a list field.
    Len,
    /// `join(sep, (a, b, ...))`.
    Join,
    /// `concat(a, b, ...)`.
    Concat,
    /// `getopt(args, optstring)[opt]`.
    Getopt,
}

impl Transformer {
    /// Every transformer, in the order the spec lists them.
    pub const ALL: [Transformer; 8] = [
        Transformer::ToLower,
        Transformer::ToUpper,
        Transformer::B64,
        Transformer::Basename,
        Transformer::Len,
        Transformer::Join,
        Transformer::Concat,
        Transformer::Getopt,
    ];

    /// The name as written in conditions.
    pub fn name(self) -> &'static str {
        match self {
            Transformer::ToLower => "tolower",
            Transformer::ToUpper => "toupper",
            Transformer::B64 => "b64",
            Transformer::Basename => "basename",
            Transformer::Len => "len",
            Transformer::Join => "join",
            Transformer::Concat => "concat",
            Transformer::Getopt => "getopt",
        }
    }

    /// The transformer with this name.
    pub fn from_name(name: &str) -> Option<Transformer> {
        Transformer::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for Transformer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A transformer call: `name(arg, ...)` with an optional `[arg]` suffix (used by `getopt(...)[t]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Transform {
    /// Which transformer.
    pub transformer: Transformer,
    /// The arguments in order.
    pub args: Vec<TransformArg>,
    /// The `[..]` suffix, unescaped, if present.
    pub arg: Option<String>,
    /// From the first character of the name to the closing `)` or `]`.
    pub span: Span,
}

/// One argument of a transformer call.
#[derive(Clone, Debug, PartialEq)]
pub enum TransformArg {
    /// A field or a nested transformer.
    Operand(Operand),
    /// A quoted string or a number (numbers are kept as their text).
    Literal(Literal),
    /// A parenthesised transformer list `(a, b, ...)` (for `join`); may be empty.
    List(Vec<TransformArg>, Span),
}

/// A constant value as written: quoted or bare string, or number, already unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Literal {
    /// The value's bytes after unescaping (quoted strings) or verbatim (bare strings, numbers).
    pub bytes: Vec<u8>,
    /// How it was written.
    pub kind: LiteralKind,
    /// Where it was written, including quotes. Inside a transformer call the start is libsinsp's position
    /// for the argument (right after the comma for later arguments, the list's start for transformer-list
    /// items), because Falco locates compile errors there.
    pub span: Span,
}

impl Literal {
    /// The value as text, with invalid UTF-8 replaced (for messages and names, never for matching).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }
}

/// How a literal was written. It matters for messages and for printing, never for matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LiteralKind {
    /// `"..."` or `'...'`.
    Quoted,
    /// An unquoted run of value characters.
    Bare,
    /// A decimal or hexadecimal number (only where the grammar asks for one: after `<`, `<=`, `>`, `>=`
    /// and inside transformer arguments).
    Number,
}

/// The right side of a check.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A single constant.
    Literal(Literal),
    /// A list literal `(a, b, ...)`; the span covers the parentheses.
    List(Vec<Literal>, Span),
    /// An identifier after a list operator or a modifier (`in my_list` without parentheses): kept as the
    /// identifier text. Falco substitutes list names textually before parsing, so this only survives when
    /// no list of that name exists.
    ListRef(String, Span),
    /// `val(field)`: compare with another field of the same event. The span covers `val(` to `)`.
    Field(FieldRef, Span),
    /// `val(field)[arg]`: the parser accepts an argument suffix on `val()` like on any transformer, and
    /// libsinsp's compiler then always rejects it (`transformer 'val' does not support field arguments`).
    /// Kept as its own node so the checker can report exactly that; the span covers `val(` to `]`.
    ValWithArg(FieldRef, String, Span),
    /// A transformer expression on the right side.
    Transform(Transform),
}

impl Value {
    /// Where the value is.
    pub fn span(&self) -> Span {
        match self {
            Value::Literal(l) => l.span,
            Value::List(_, s) | Value::ListRef(_, s) | Value::Field(_, s) => *s,
            Value::ValWithArg(_, _, s) => *s,
            Value::Transform(t) => t.span,
        }
    }
}

/// Comparison operators (spec A.5, B).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `exists`
    Exists,
    /// `=`
    Eq,
    /// `==` (a synonym of `=`; kept apart so the tree prints as written)
    EqEq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `contains`
    Contains,
    /// `icontains`
    IContains,
    /// `bcontains`
    BContains,
    /// `startswith`
    StartsWith,
    /// `bstartswith`
    BStartsWith,
    /// `endswith`
    EndsWith,
    /// `glob`
    Glob,
    /// `iglob`
    IGlob,
    /// `pmatch`
    PMatch,
    /// `in`
    In,
    /// `intersects`
    Intersects,
    /// `regex`
    Regex,
}

impl CmpOp {
    /// Every operator, in the order of libsinsp's "expected a valid check operator" message.
    pub const ALL: [CmpOp; 20] = [
        CmpOp::Exists,
        CmpOp::Le,
        CmpOp::Lt,
        CmpOp::Ge,
        CmpOp::Gt,
        CmpOp::EqEq,
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Glob,
        CmpOp::IGlob,
        CmpOp::Contains,
        CmpOp::IContains,
        CmpOp::BContains,
        CmpOp::StartsWith,
        CmpOp::BStartsWith,
        CmpOp::EndsWith,
        CmpOp::Regex,
        CmpOp::Intersects,
        CmpOp::In,
        CmpOp::PMatch,
    ];

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Exists => "exists",
            CmpOp::Eq => "=",
            CmpOp::EqEq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Contains => "contains",
            CmpOp::IContains => "icontains",
            CmpOp::BContains => "bcontains",
            CmpOp::StartsWith => "startswith",
            CmpOp::BStartsWith => "bstartswith",
            CmpOp::EndsWith => "endswith",
            CmpOp::Glob => "glob",
            CmpOp::IGlob => "iglob",
            CmpOp::PMatch => "pmatch",
            CmpOp::In => "in",
            CmpOp::Intersects => "intersects",
            CmpOp::Regex => "regex",
        }
    }

    /// The operator written as `s`.
    pub fn from_str_exact(s: &str) -> Option<CmpOp> {
        CmpOp::ALL.into_iter().find(|op| op.as_str() == s)
    }

    /// `in`, `intersects` and `pmatch` take a list on the right.
    pub fn takes_list(self) -> bool {
        matches!(self, CmpOp::In | CmpOp::Intersects | CmpOp::PMatch)
    }

    /// `<`, `<=`, `>`, `>=` take a number (or a field) on the right.
    pub fn is_ordering(self) -> bool {
        matches!(self, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge)
    }

    /// The operators that may carry an `oneof`/`anyof`/`allof` modifier.
    pub fn takes_modifier(self) -> bool {
        !self.takes_list() && !self.is_ordering() && self != CmpOp::Exists
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Comparison modifiers (spec A.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// Exactly one element satisfies the comparison.
    OneOf,
    /// At least one element satisfies it.
    AnyOf,
    /// Every element satisfies it.
    AllOf,
}

impl Modifier {
    /// The modifier as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Modifier::OneOf => "oneof",
            Modifier::AnyOf => "anyof",
            Modifier::AllOf => "allof",
        }
    }
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
