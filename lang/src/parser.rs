//! The condition parser: Falco condition text to [`Expr`], accepting exactly what libsinsp accepts.
//!
//! # Why a hand-written recursive descent and not a parser generator
//!
//! libsinsp's filter parser (`userspace/libsinsp/filter/parser.cpp`) is a hand-written recursive-descent
//! parser that lexes *at the cursor*, asking for a different token class depending on where it is. Its
//! accepted language has quirks that follow from that structure and that real rules depend on:
//!
//! - keywords are prefixes, not words: `test.op existsand macro` is `exists` followed by `and`, but `a andb`
//!   is an error (`expected blank or '(' after 'and'`), and `macro and and_macro` is fine;
//! - `or(` takes only a parenthesised group as its operand, so `a or(b) and c` is rejected while
//!   `a and(b) or c` is accepted; `not(` likewise, and `not` needs a trailing `[:space:]` otherwise;
//! - what a "string" is depends on the operator: after `=` a bare string may contain `<`, `!`, `[` or `\`,
//!   in a field argument it may contain `(` and `=`, after `<` only a number is allowed;
//! - `oneof`/`anyof`/`allof` are modifiers only when a blank, then a list or identifier follows and the next
//!   word is not `and`/`or`/`not` — otherwise they are plain values;
//! - error positions are the cursor position at the moment of failure, after whatever backtracking libsinsp
//!   does, and messages quote the most recently lexed token.
//!
//! A separate lexer producing one token stream (logos) feeding an LR grammar (lalrpop) cannot express these
//! context-dependent token boundaries without re-creating the same cursor logic, and any mismatch would make
//! us accept or reject conditions that Falco does not. So this module mirrors libsinsp's productions one for
//! one, in the same order, with the same error texts and the same recursion-depth accounting, while the
//! regular token classes themselves are logos DFAs in [`crate::lexer`].
//!
//! # Invariants
//!
//! - Total: every `&str` input yields `Ok` or a located [`ParseError`]; no input panics or overflows the stack.
//!   Recursion is bounded by the depth limit (libsinsp's `depth_guard`: every production counts one level,
//!   the limit is reached when the counter *reaches* `max_depth`, at most [`MAX_SUPPORTED_DEPTH`]), so the
//!   tree depth, and with it the recursion of `Drop` and of the printer, is bounded too; the parser grows its
//!   own stack (`stacker`) so even the deepest legal input is safe on a small thread stack.
//! - Positions follow libsinsp's `pos_info` (spec A.1): `idx` is a byte offset, `line`/`col` are 1-based,
//!   both `\n` and `\r` start a new line and columns count bytes. [`Span::start`] of each node is the
//!   position libsinsp gives that node; [`Span::end`] is the end of the last token of the construct.
//!   That includes libsinsp's oddities inside transformer calls, because Falco locates compile errors at
//!   the position of the node being compiled: an argument after the first starts right after its comma
//!   (before any blank), and every item of a transformer list starts where the list argument starts.
//! - Messages are libsinsp's, word for word: input bytes they quote are decoded lossily (U+FFFD for
//!   invalid UTF-8 from `\xHH` escapes), and a quoted NUL ends the message, as libsinsp's C-string messages
//!   end there. The only message libsinsp cannot produce is the one for inputs of 4 GiB or more, whose
//!   offsets do not fit the `u32` spans.
//! - Checked: the case files under `tests/data/parser/` and several hundred thousand generated conditions
//!   were run through libsinsp's own parser (built from upstream sources outside this repository) with no
//!   difference in acceptance, printed form, node positions, message or error position.

use std::fmt;

use crate::ast::{
    Check, CmpOp, Expr, ExprKind, FieldRef, Literal, LiteralKind, Modifier, Operand, Span,
    Transform, TransformArg, Transformer, Value,
};
use crate::lexer;

/// Falco's recursion limit for rule and macro conditions (libsinsp's own default is 100).
pub const DEFAULT_MAX_DEPTH: u32 = 1000;

/// The largest depth limit honoured; larger requests are lowered to it.
///
/// The parser itself grows its stack as needed, but the trees it returns are dropped, printed and visited
/// recursively by everyone else; this cap keeps them at most about 2 500 levels deep.
pub const MAX_SUPPORTED_DEPTH: u32 = 10_000;

/// Grow the stack when less than this is left...
const STACK_RED_ZONE: usize = 64 * 1024;
/// ...by a segment of this size.
const STACK_SEGMENT: usize = 1024 * 1024;

/// A condition that does not parse, located where libsinsp's cursor was when it gave up.
///
/// `message` is libsinsp's text (e.g. `unexpected token after 'open', expecting 'or', 'and'`); Falco shows
/// it after `LOAD_ERR_COMPILE_CONDITION (Error compiling condition): `. Add `offset` to the condition's
/// location in its file to point at the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong, in libsinsp's words.
    pub message: String,
    /// Byte offset into the condition text.
    pub offset: u32,
    /// 1-based line (`\n` and `\r` each start a new line).
    pub line: u32,
    /// 1-based column, counted in bytes.
    pub col: u32,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses a condition with Falco's depth limit ([`DEFAULT_MAX_DEPTH`]), requiring the whole text to be
/// consumed.
pub fn parse_condition(text: &str) -> Result<Expr, ParseError> {
    parse_condition_with_depth(text, DEFAULT_MAX_DEPTH)
}

/// Parses a condition with a custom recursion limit (`exceeded max depth limit of N`).
///
/// Each nesting level of parentheses costs five levels, so a limit of 1000 allows 199 nested groups. Limits
/// above [`MAX_SUPPORTED_DEPTH`] are lowered to it.
pub fn parse_condition_with_depth(text: &str, max_depth: u32) -> Result<Expr, ParseError> {
    if text.is_empty() {
        return Err(ParseError {
            message: "filter input string is empty".into(),
            offset: 0,
            line: 1,
            col: 1,
        });
    }
    if u32::try_from(text.len()).is_err() {
        return Err(ParseError {
            message: "filter input string is too long".into(),
            offset: 0,
            line: 1,
            col: 1,
        });
    }
    let mut p = Parser::new(text, max_depth.min(MAX_SUPPORTED_DEPTH));
    let res = p.parse_or();
    let expr = res.map_err(|e| e.into_parse_error())?;
    if p.depth > 0 {
        return Err(p
            .error("parser fatal error: recursion is unbalanced")
            .into_parse_error());
    }
    if p.pos.idx as usize != text.len() {
        let msg = format!(
            "unexpected token after '{}', expecting 'or', 'and'",
            String::from_utf8_lossy(&p.last)
        );
        return Err(p.error(msg).into_parse_error());
    }
    Ok(expr)
}

/// libsinsp's default recursion limit, which the output formatter keeps.
pub const LIBSINSP_MAX_DEPTH: u32 = 100;

/// Parses a field (`proc.aname[2]`) or a transformer expression (`toupper(user.name)`) at the start of
/// `text`, as the output formatter does for each `%` token, and returns it with the number of bytes consumed.
///
/// Text after the operand is left alone (the caller treats it as literal output text). The formatter tries
/// ever shorter prefixes of the token until one parses *and* compiles against the field schema; that loop
/// belongs to the caller. The message of a failure is libsinsp's, including its missing closing quote
/// (`unexpected token after '<token>`).
pub fn parse_field_or_transformer(text: &str) -> Result<(Operand, u32), ParseError> {
    if u32::try_from(text.len()).is_err() {
        return Err(ParseError {
            message: "filter input string is too long".into(),
            offset: 0,
            line: 1,
            col: 1,
        });
    }
    let mut p = Parser::new(text, LIBSINSP_MAX_DEPTH);
    let operand = p
        .parse_field_or_transformer()
        .map_err(Fail::into_parse_error)?;
    Ok((operand, p.pos.idx))
}

/// Maps byte offsets of one text to libsinsp's 1-based line and column (`\n` and `\r` both end a line;
/// columns count bytes), in `O(log lines)` per query.
#[derive(Clone, Debug)]
pub struct LineIndex {
    /// Offset of the first byte of every line after the first.
    line_starts: Vec<u32>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        let line_starts = text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n' || b == b'\r')
            .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX))
            .collect();
        LineIndex { line_starts }
    }

    /// The 1-based `(line, col)` of byte `offset`.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let before = self.line_starts.partition_point(|&s| s <= offset);
        let start = if before == 0 {
            0
        } else {
            self.line_starts.get(before - 1).copied().unwrap_or(0)
        };
        (
            u32::try_from(before).unwrap_or(u32::MAX).saturating_add(1),
            offset - start + 1,
        )
    }
}

/// libsinsp's `pos_info`: where the cursor is.
#[derive(Clone, Copy, Debug)]
struct Pos {
    idx: u32,
    line: u32,
    col: u32,
}

/// The cursor state backtracking restores (the last token is saved separately where it matters).
#[derive(Clone, Copy)]
struct Mark {
    pos: Pos,
    tok_end: u32,
}

/// A failure inside the parser, before it becomes a [`ParseError`].
struct Fail {
    message: String,
    pos: Pos,
}

impl Fail {
    fn into_parse_error(mut self) -> ParseError {
        // libsinsp's messages travel as C strings (`what()`), so a NUL byte quoted from the input ends them
        if let Some(nul) = self.message.find('\0') {
            self.message.truncate(nul);
        }
        ParseError {
            message: self.message,
            offset: self.pos.idx,
            line: self.pos.line,
            col: self.pos.col,
        }
    }
}

type PResult<T> = Result<T, Fail>;

/// `'val', 'tolower', ...` as libsinsp lists its transformers in messages.
const TRANSFORMERS_WITH_VAL: &str =
    "'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'";

/// The transformer names as libsinsp matches them: together with `(`, in this order.
const TRANSFORMER_TOKENS: [(&str, Transformer); 8] = [
    ("tolower(", Transformer::ToLower),
    ("toupper(", Transformer::ToUpper),
    ("b64(", Transformer::B64),
    ("basename(", Transformer::Basename),
    ("len(", Transformer::Len),
    ("join(", Transformer::Join),
    ("concat(", Transformer::Concat),
    ("getopt(", Transformer::Getopt),
];

/// String operators in libsinsp's matching order; `true` = the word must be followed by a blank.
const STR_OPS: [(&str, CmpOp, bool); 12] = [
    ("==", CmpOp::EqEq, false),
    ("=", CmpOp::Eq, false),
    ("!=", CmpOp::Ne, false),
    ("glob", CmpOp::Glob, true),
    ("iglob", CmpOp::IGlob, true),
    ("contains", CmpOp::Contains, true),
    ("icontains", CmpOp::IContains, true),
    ("bcontains", CmpOp::BContains, true),
    ("startswith", CmpOp::StartsWith, true),
    ("bstartswith", CmpOp::BStartsWith, true),
    ("endswith", CmpOp::EndsWith, true),
    ("regex", CmpOp::Regex, true),
];

const NUM_OPS: [(&str, CmpOp, bool); 4] = [
    ("<=", CmpOp::Le, false),
    ("<", CmpOp::Lt, false),
    (">=", CmpOp::Ge, false),
    (">", CmpOp::Gt, false),
];

const LIST_OPS: [(&str, CmpOp, bool); 3] = [
    ("intersects", CmpOp::Intersects, false),
    ("in", CmpOp::In, false),
    ("pmatch", CmpOp::PMatch, false),
];

const MODIFIERS: [(&str, Modifier, bool); 3] = [
    ("oneof", Modifier::OneOf, true),
    ("anyof", Modifier::AnyOf, true),
    ("allof", Modifier::AllOf, true),
];

/// The parser state: libsinsp's `m_pos`, `m_last_token` and `m_depth`, plus the end of the last token for
/// node spans.
struct Parser<'a> {
    text: &'a str,
    pos: Pos,
    /// Byte offset just past the last non-blank token consumed (the end of the node being built).
    tok_end: u32,
    /// libsinsp's `m_last_token`: the last lexed token, after unescaping for quoted strings.
    last: Vec<u8>,
    depth: u32,
    max_depth: u32,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, max_depth: u32) -> Self {
        Parser {
            text,
            pos: Pos {
                idx: 0,
                line: 1,
                col: 1,
            },
            tok_end: 0,
            last: Vec::new(),
            depth: 0,
            max_depth,
        }
    }

    // ----- cursor helpers -------------------------------------------------------------------------------

    fn rest_bytes(&self) -> &'a [u8] {
        self.text
            .as_bytes()
            .get(self.pos.idx as usize..)
            .unwrap_or(&[])
    }

    fn rest_str(&self) -> &'a str {
        self.text.get(self.pos.idx as usize..).unwrap_or("")
    }

    /// The byte under the cursor, NUL at the end (libsinsp reads a C string, so a NUL byte in the input
    /// behaves like the end of it for every character test).
    fn peek(&self) -> u8 {
        self.rest_bytes().first().copied().unwrap_or(0)
    }

    /// Moves the cursor over `n` bytes, counting lines as libsinsp's `update_pos` does.
    fn advance(&mut self, n: usize) {
        let bytes = self.rest_bytes();
        for &b in bytes.iter().take(n) {
            self.pos.col += 1;
            if b == b'\r' || b == b'\n' {
                self.pos.col = 1;
                self.pos.line += 1;
            }
            self.pos.idx += 1;
        }
    }

    /// Consumes a token of `n` bytes and makes it the last token.
    fn take(&mut self, n: usize) {
        let bytes = self.rest_bytes();
        self.last.clear();
        self.last.extend_from_slice(bytes.get(..n).unwrap_or(bytes));
        self.advance(n);
        self.tok_end = self.pos.idx;
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            tok_end: self.tok_end,
        }
    }

    fn reset(&mut self, m: Mark) {
        self.pos = m.pos;
        self.tok_end = m.tok_end;
    }

    fn error(&self, message: impl Into<String>) -> Fail {
        Fail {
            message: message.into(),
            pos: self.pos,
        }
    }

    /// Runs one production under libsinsp's depth guard: the counter goes up before the limit is checked and
    /// is not decremented when the check fails (as a C++ constructor that throws runs no destructor), but is
    /// decremented when the production itself fails (stack unwinding).
    fn guarded<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.depth += 1;
        if self.depth >= self.max_depth {
            return Err(self.error(format!("exceeded max depth limit of {}", self.max_depth)));
        }
        // a production costs up to ~1.5 KiB of stack in debug builds: grow the stack instead of overflowing
        // when the caller's thread is small (test threads have 2 MiB, and callers may already be deep)
        let r = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || f(self));
        self.depth -= 1;
        r
    }

    // ----- lexing -----------------------------------------------------------------------------------------

    /// Skips blanks; the only lexing function that leaves the last token alone.
    fn lex_blank(&mut self) -> bool {
        let n = self
            .rest_bytes()
            .iter()
            .take_while(|&&b| lexer::is_blank(b))
            .count();
        self.advance(n);
        n > 0
    }

    fn lex_str(&mut self, s: &str) -> bool {
        if self.rest_bytes().starts_with(s.as_bytes()) {
            self.take(s.len());
            true
        } else {
            false
        }
    }

    fn lex_class(&mut self, class: fn(&str) -> usize) -> bool {
        let n = class(self.rest_str());
        if n > 0 {
            self.take(n);
            true
        } else {
            false
        }
    }

    /// Matches the first operator of `ops` at the cursor. A word operator that needs a blank does not match
    /// when none follows (libsinsp matches the word, fails to skip a blank and backtracks: same result).
    fn lex_operator<T: Copy>(&mut self, ops: &[(&str, T, bool)]) -> Option<(T, Span)> {
        for &(text, op, needs_blank) in ops {
            let rest = self.rest_bytes();
            if !rest.starts_with(text.as_bytes()) {
                continue;
            }
            if needs_blank && !rest.get(text.len()).is_some_and(|&b| lexer::is_blank(b)) {
                continue;
            }
            let start = self.pos.idx;
            self.take(text.len());
            let span = Span::new(start, self.pos.idx);
            if needs_blank {
                self.lex_blank();
            }
            return Some((op, span));
        }
        None
    }

    fn lex_transformer_type(&mut self) -> Option<Transformer> {
        for (text, t) in TRANSFORMER_TOKENS {
            if self.lex_str(text) {
                return Some(t);
            }
        }
        None
    }

    /// A quoted string, unescaped into the last token. On an unterminated string the cursor is restored and
    /// `false` returned; an invalid escape is an error located after the closing quote.
    fn lex_quoted_str(&mut self) -> PResult<bool> {
        let delimiter = self.peek();
        if delimiter != b'"' && delimiter != b'\'' {
            return Ok(false);
        }
        let start = self.pos;
        let bytes = self.rest_bytes();
        let mut prev = b'\\';
        let mut end = None;
        for (i, &c) in bytes.iter().enumerate() {
            if c == 0 {
                break;
            }
            if c == delimiter && prev != b'\\' {
                end = Some(i + 1);
                break;
            }
            prev = c;
        }
        let Some(end) = end else {
            // libsinsp leaves the partial token behind; it is never shown on this path
            self.last.clear();
            self.last.extend(bytes.iter().take_while(|&&b| b != 0));
            self.pos = start;
            return Ok(false);
        };
        let raw = bytes.get(..end).unwrap_or(bytes);
        self.last.clear();
        self.last.extend_from_slice(raw);
        self.advance(end);
        self.tok_end = self.pos.idx;
        match unescape(raw) {
            Ok(v) => {
                self.last = v;
                Ok(true)
            }
            Err(msg) => Err(self.error(msg)),
        }
    }

    /// libsinsp's `list_value_follows`: a `(` or an identifier is next.
    fn list_value_follows(&self) -> bool {
        self.peek() == b'(' || lexer::identifier(self.rest_str()) > 0
    }

    /// libsinsp's `bool_keyword_follows`: `and`, `or` or `not` followed by a non-alphanumeric or the end.
    fn bool_keyword_follows(&self) -> bool {
        let rest = self.rest_bytes();
        let rest = rest
            .iter()
            .position(|&b| b == 0)
            .map_or(rest, |n| rest.get(..n).unwrap_or(rest));
        ["and", "or", "not"].iter().any(|kw| {
            rest.starts_with(kw.as_bytes())
                && rest
                    .get(kw.len())
                    .is_none_or(|b| !b.is_ascii_alphanumeric())
        })
    }

    fn literal(&self, start: u32, kind: LiteralKind) -> Literal {
        Literal {
            bytes: self.last.clone(),
            kind,
            span: Span::new(start, self.tok_end),
        }
    }

    fn last_string(&self) -> String {
        String::from_utf8_lossy(&self.last).into_owned()
    }

    // ----- productions (same names, order and depth accounting as libsinsp) ---------------------------

    /// A field or transformer on its own (the output formatter's entry point).
    fn parse_field_or_transformer(&mut self) -> PResult<Operand> {
        self.guarded(|p| {
            let start = p.pos.idx;
            if p.lex_class(lexer::field_name) {
                let name = p.last_string();
                return Ok(Operand::Field(p.parse_field_remainder(name, start)?));
            }
            if let Some(t) = p.lex_transformer_type() {
                p.lex_blank();
                return Ok(Operand::Transform(
                    p.parse_field_or_transformer_remainder(t, start)?,
                ));
            }
            // sic: libsinsp's message has no closing quote here
            Err(p.error(format!("unexpected token after '{}", p.last_string())))
        })
    }

    fn parse_or(&mut self) -> PResult<Expr> {
        self.guarded(|p| {
            let start = p.pos.idx;
            let mut children = Vec::new();
            p.lex_blank();
            children.push(p.parse_and()?);
            p.lex_blank();
            while p.lex_str("or") {
                let child = if !p.lex_blank() {
                    if p.lex_str("(") {
                        p.parse_embedded_remainder()?
                    } else {
                        return Err(p.error("expected blank or '(' after 'or'"));
                    }
                } else {
                    p.parse_and()?
                };
                children.push(child);
                p.lex_blank();
            }
            Ok(connective(children, start, p.tok_end, ExprKind::Or))
        })
    }

    fn parse_and(&mut self) -> PResult<Expr> {
        self.guarded(|p| {
            let start = p.pos.idx;
            let mut children = Vec::new();
            p.lex_blank();
            children.push(p.parse_not()?);
            p.lex_blank();
            while p.lex_str("and") {
                let child = if !p.lex_blank() {
                    if p.lex_str("(") {
                        p.parse_embedded_remainder()?
                    } else {
                        return Err(p.error("expected blank or '(' after 'and'"));
                    }
                } else {
                    p.parse_not()?
                };
                children.push(child);
                p.lex_blank();
            }
            Ok(connective(children, start, p.tok_end, ExprKind::And))
        })
    }

    fn parse_not(&mut self) -> PResult<Expr> {
        self.guarded(|p| {
            let start = p.pos.idx;
            let mut is_not = false;
            p.lex_blank();
            while p.lex_class(lexer::not_blank) {
                is_not = !is_not;
            }
            let child = if p.lex_str("not(") {
                is_not = !is_not;
                p.parse_embedded_remainder()?
            } else {
                p.parse_check()?
            };
            Ok(if is_not {
                Expr {
                    kind: ExprKind::Not(Box::new(child)),
                    span: Span::new(start, p.tok_end),
                }
            } else {
                child
            })
        })
    }

    /// The rest of a parenthesised group, after its `(`.
    fn parse_embedded_remainder(&mut self) -> PResult<Expr> {
        self.guarded(|p| {
            p.lex_blank();
            let child = p.parse_or()?;
            p.lex_blank();
            if !p.lex_str(")") {
                return Err(p.error("expected a ')' token"));
            }
            Ok(child)
        })
    }

    fn parse_check(&mut self) -> PResult<Expr> {
        self.guarded(|p| {
            let start = p.pos.idx;
            p.lex_blank();
            if p.lex_str("(") {
                return p.parse_embedded_remainder();
            }
            if p.lex_class(lexer::field_name) {
                let name = p.last_string();
                let left = p.parse_field_remainder(name, start)?;
                return p.parse_condition(Operand::Field(left), start);
            }
            if let Some(t) = p.lex_transformer_type() {
                p.lex_blank();
                let left = p.parse_field_or_transformer_remainder(t, start)?;
                return p.parse_condition(Operand::Transform(left), start);
            }
            if p.lex_class(lexer::identifier) {
                let name = p.last_string();
                return Ok(Expr {
                    kind: ExprKind::Macro(name),
                    span: Span::new(start, p.tok_end),
                });
            }
            Err(p.error("expected a '(' token, a field check, or an identifier"))
        })
    }

    fn parse_field_remainder(&mut self, name: String, start: u32) -> PResult<FieldRef> {
        self.guarded(|p| {
            let arg = p.parse_optional_field_arg()?;
            Ok(FieldRef {
                name,
                arg,
                span: Span::new(start, p.tok_end),
            })
        })
    }

    fn parse_optional_field_arg(&mut self) -> PResult<Option<String>> {
        if !self.lex_str("[") {
            return Ok(None);
        }
        if !self.lex_quoted_str()? && !self.lex_class(lexer::field_arg_bare_str) {
            return Err(
                self.error("expected a valid field argument: a quoted string or a bare string")
            );
        }
        let arg = self.last_string();
        if !self.lex_str("]") {
            return Err(self.error("expected a ']' token"));
        }
        Ok(Some(arg))
    }

    /// The arguments and closing `)` of a transformer call, after `name(`.
    fn parse_field_or_transformer_remainder(
        &mut self,
        transformer: Transformer,
        start: u32,
    ) -> PResult<Transform> {
        self.guarded(|p| {
            p.lex_blank();
            let mut args = Vec::new();
            loop {
                let arg_start = p.pos.idx;
                args.push(p.parse_field_transformer_arg(arg_start)?);
                p.lex_blank();
                if !p.lex_str(",") {
                    break;
                }
            }
            p.lex_blank();
            if !p.lex_str(")") {
                return Err(p.error("expected a ')' token closing the transformer"));
            }
            let arg = p.parse_optional_field_arg()?;
            Ok(Transform {
                transformer,
                args,
                arg,
                span: Span::new(start, p.tok_end),
            })
        })
    }

    /// One transformer argument; `start` is libsinsp's position for it: after the blanks for the first
    /// argument, right after the comma for the others.
    fn parse_field_transformer_arg(&mut self, start: u32) -> PResult<TransformArg> {
        self.guarded(|p| {
            p.lex_blank();
            if p.lex_class(lexer::hex_number) || p.lex_class(lexer::number) {
                return Ok(TransformArg::Literal(p.literal(start, LiteralKind::Number)));
            }
            if p.lex_quoted_str()? {
                return Ok(TransformArg::Literal(p.literal(start, LiteralKind::Quoted)));
            }
            if p.lex_str("(") {
                return p.parse_transformer_list(start);
            }
            if let Some(t) = p.lex_transformer_type() {
                let t = p.parse_field_or_transformer_remainder(t, start)?;
                return Ok(TransformArg::Operand(Operand::Transform(t)));
            }
            if p.lex_class(lexer::field_name) {
                let name = p.last_string();
                let f = p.parse_field_remainder(name, start)?;
                return Ok(TransformArg::Operand(Operand::Field(f)));
            }
            Err(p.error(
                "expected field transformer argument: field, transformer, quoted string, number, or transformer list",
            ))
        })
    }

    /// A transformer list, after its `(` (not a depth-counted production in libsinsp).
    fn parse_transformer_list(&mut self, start: u32) -> PResult<TransformArg> {
        let mut items = Vec::new();
        self.lex_blank();
        if self.lex_str(")") {
            return Ok(TransformArg::List(items, Span::new(start, self.tok_end)));
        }
        items.push(self.parse_transformer_list_arg(start)?);
        self.lex_blank();
        while self.lex_str(",") {
            self.lex_blank();
            items.push(self.parse_transformer_list_arg(start)?);
            self.lex_blank();
        }
        if !self.lex_str(")") {
            return Err(self.error("expected ')'"));
        }
        Ok(TransformArg::List(items, Span::new(start, self.tok_end)))
    }

    /// One item of a transformer list; libsinsp gives every item the list's position `start`.
    fn parse_transformer_list_arg(&mut self, start: u32) -> PResult<TransformArg> {
        if self.lex_class(lexer::field_name) {
            let name = self.last_string();
            let f = self.parse_field_remainder(name, start)?;
            return Ok(TransformArg::Operand(Operand::Field(f)));
        }
        if let Some(t) = self.lex_transformer_type() {
            self.lex_blank();
            let t = self.parse_field_or_transformer_remainder(t, start)?;
            return Ok(TransformArg::Operand(Operand::Transform(t)));
        }
        if self.lex_quoted_str()? {
            return Ok(TransformArg::Literal(
                self.literal(start, LiteralKind::Quoted),
            ));
        }
        if self.lex_class(lexer::hex_number) || self.lex_class(lexer::number) {
            return Ok(TransformArg::Literal(
                self.literal(start, LiteralKind::Number),
            ));
        }
        Err(self.error(
            "expected transformer list argument: field, transformer, quoted string, or number",
        ))
    }

    /// The operator and right side of a check whose left side is parsed.
    fn parse_condition(&mut self, lhs: Operand, start: u32) -> PResult<Expr> {
        self.guarded(|p| {
            p.lex_blank();
            if let Some((op, op_span)) = p.lex_operator(&[("exists", CmpOp::Exists, false)]) {
                let check = Check {
                    lhs,
                    op,
                    op_span,
                    modifier: None,
                    rhs: None,
                };
                return Ok(Expr {
                    kind: ExprKind::Check(Box::new(check)),
                    span: Span::new(start, p.tok_end),
                });
            }
            p.lex_blank();
            let (op, op_span, modifier, rhs);
            if let Some((o, s)) = p.lex_operator(&NUM_OPS) {
                (op, op_span, modifier) = (o, s, None);
                rhs = p.parse_num_value_or_transformer()?;
            } else if let Some((o, s)) = p.lex_operator(&STR_OPS) {
                (op, op_span) = (o, s);
                // word operators consumed their blank already; symbol operators need one before a modifier
                let is_word = o
                    .as_str()
                    .as_bytes()
                    .first()
                    .is_some_and(u8::is_ascii_alphabetic);
                let had_blank = is_word || p.lex_blank();
                let saved = p.mark();
                let saved_last = p.last.clone();
                let m = if had_blank {
                    p.lex_operator(&MODIFIERS)
                } else {
                    None
                };
                match m {
                    Some((m, _)) if p.list_value_follows() && !p.bool_keyword_follows() => {
                        modifier = Some(m);
                        rhs = p.parse_list_value()?;
                    }
                    _ => {
                        p.reset(saved);
                        p.last = saved_last;
                        modifier = None;
                        rhs = p.parse_str_value_or_transformer(false)?;
                    }
                }
            } else if let Some((o, s)) = p.lex_operator(&LIST_OPS) {
                (op, op_span, modifier) = (o, s, None);
                rhs = p.parse_list_value_or_transformer()?;
            } else {
                let all: Vec<String> = CmpOp::ALL.iter().map(|op| format!("'{op}'")).collect();
                return Err(p.error(format!(
                    "expected a valid check operator: one of {}",
                    all.join(", ")
                )));
            }
            let check = Check {
                lhs,
                op,
                op_span,
                modifier,
                rhs: Some(rhs),
            };
            Ok(Expr {
                kind: ExprKind::Check(Box::new(check)),
                span: Span::new(start, p.tok_end),
            })
        })
    }

    fn parse_num_value_or_transformer(&mut self) -> PResult<Value> {
        self.guarded(|p| {
            p.lex_blank();
            let start = p.pos.idx;
            if let Some(v) = p.try_parse_transformer_or_val()? {
                return Ok(v);
            }
            if p.lex_class(lexer::hex_number) || p.lex_class(lexer::number) {
                return Ok(Value::Literal(p.literal(start, LiteralKind::Number)));
            }
            Err(p.error(format!(
                "expected a number value or a field with a valid transformer: {TRANSFORMERS_WITH_VAL}"
            )))
        })
    }

    fn parse_str_value_or_transformer(&mut self, no_transformer: bool) -> PResult<Value> {
        self.guarded(|p| {
            p.lex_blank();
            let start = p.pos.idx;
            if !no_transformer && let Some(v) = p.try_parse_transformer_or_val()? {
                return Ok(v);
            }
            if p.lex_quoted_str()? {
                return Ok(Value::Literal(p.literal(start, LiteralKind::Quoted)));
            }
            if p.lex_class(lexer::bare_str) {
                return Ok(Value::Literal(p.literal(start, LiteralKind::Bare)));
            }
            if no_transformer {
                return Err(p.error("expected a string value"));
            }
            Err(p.error(format!(
                "expected a string value or a field with a valid transformer: {TRANSFORMERS_WITH_VAL}"
            )))
        })
    }

    /// A list literal `( ... )` if one starts at the cursor (not a depth-counted production).
    fn try_parse_list_expr(&mut self) -> PResult<Option<Value>> {
        let start = self.pos.idx;
        if !self.lex_str("(") {
            return Ok(None);
        }
        let mut items = Vec::new();
        self.lex_blank();
        // libsinsp catches *any* failure of the first element and then expects `)`: this is how `()` parses,
        // and why a failure inside the first element (a bad escape, the depth limit) can still yield `()`
        if let Ok(Value::Literal(first)) = self.parse_str_value_or_transformer(true) {
            items.push(first);
            self.lex_blank();
            while self.lex_str(",") {
                if let Value::Literal(l) = self.parse_str_value_or_transformer(true)? {
                    items.push(l);
                }
                self.lex_blank();
            }
        }
        if !self.lex_str(")") {
            return Err(self.error("expected a ')' token"));
        }
        Ok(Some(Value::List(items, Span::new(start, self.tok_end))))
    }

    fn parse_list_value(&mut self) -> PResult<Value> {
        self.guarded(|p| {
            p.lex_blank();
            let start = p.pos.idx;
            if let Some(l) = p.try_parse_list_expr()? {
                return Ok(l);
            }
            if p.lex_class(lexer::identifier) {
                return Ok(Value::ListRef(p.last_string(), Span::new(start, p.tok_end)));
            }
            Err(p.error("expected a list or an identifier"))
        })
    }

    fn parse_list_value_or_transformer(&mut self) -> PResult<Value> {
        self.guarded(|p| {
            p.lex_blank();
            let start = p.pos.idx;
            if let Some(l) = p.try_parse_list_expr()? {
                return Ok(l);
            }
            if let Some(v) = p.try_parse_transformer_or_val()? {
                return Ok(v);
            }
            if p.lex_class(lexer::identifier) {
                return Ok(Value::ListRef(p.last_string(), Span::new(start, p.tok_end)));
            }
            Err(p.error(format!(
                "expected a list, an identifier, or a field with a valid transformer: {TRANSFORMERS_WITH_VAL}"
            )))
        })
    }

    /// `val(field)` or a transformer call, if one starts at the cursor.
    fn try_parse_transformer_or_val(&mut self) -> PResult<Option<Value>> {
        self.guarded(|p| {
            p.lex_blank();
            let start = p.pos.idx;
            if p.lex_str("val(") {
                p.lex_blank();
                let field_start = p.pos.idx;
                if !p.lex_class(lexer::field_name) {
                    return Err(p.error("expected a field within 'val' transformer"));
                }
                let name = p.last_string();
                let field = p.parse_field_remainder(name, field_start)?;
                p.lex_blank();
                if !p.lex_str(")") {
                    return Err(p.error("expected a ')' token closing the transformer"));
                }
                let arg = p.parse_optional_field_arg()?;
                let span = Span::new(start, p.tok_end);
                return Ok(Some(match arg {
                    None => Value::Field(field, span),
                    Some(arg) => Value::ValWithArg(field, arg, span),
                }));
            }
            if let Some(t) = p.lex_transformer_type() {
                p.lex_blank();
                return Ok(Some(Value::Transform(
                    p.parse_field_or_transformer_remainder(t, start)?,
                )));
            }
            Ok(None)
        })
    }
}

/// An `and`/`or` node for two or more children, or the single child itself.
fn connective(
    mut children: Vec<Expr>,
    start: u32,
    end: u32,
    kind: fn(Vec<Expr>) -> ExprKind,
) -> Expr {
    if children.len() == 1
        && let Some(only) = children.pop()
    {
        return only;
    }
    Expr {
        kind: kind(children),
        span: Span::new(start, end),
    }
}

/// Decodes a quoted string token (with its quotes) as libsinsp's `unescape_str` does.
///
/// Accepted escapes: `\b \f \n \r \t \\ \/`, `\"` in `"`-strings, `\'` in `'`-strings, `\xHH`, and the legacy
/// backslash-space, which yields a single backslash (the space is dropped).
pub fn unescape(token: &[u8]) -> Result<Vec<u8>, String> {
    let quote = token.first().copied().unwrap_or(b'"');
    let content = token.get(1..token.len().saturating_sub(1)).unwrap_or(&[]);
    let mut out = Vec::with_capacity(content.len());
    let mut i = 0;
    while let Some(&c) = content.get(i) {
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = content.get(i) else {
            // a lone trailing backslash cannot be scanned as a closed string; keep it verbatim
            out.push(c);
            break;
        };
        i += 1;
        match e {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b' ' | b'\\' => out.push(b'\\'),
            b'/' => out.push(b'/'),
            b'"' if quote == b'"' => out.push(b'"'),
            b'"' => return Err("invalid \\\" escape in '-quoted string".into()),
            b'\'' if quote == b'\'' => out.push(b'\''),
            b'\'' => return Err("invalid \\' escape in \"-quoted string".into()),
            b'x' => {
                let (Some(&hi), Some(&lo)) = (content.get(i), content.get(i + 1)) else {
                    return Err("truncated hex char escape sequence".into());
                };
                match (hex_digit(hi), hex_digit(lo)) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => {
                        return Err(format!(
                            "invalid hex char escape sequence: {}",
                            String::from_utf8_lossy(&[hi, lo])
                        ));
                    }
                }
                i += 2;
            }
            _ => {
                // libsinsp names the single byte after the backslash (lossily decoded here)
                return Err(format!(
                    "unsupported string escape sequence: \\{}",
                    String::from_utf8_lossy(&[e])
                ));
            }
        }
    }
    Ok(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The output formatter's entry point: the operand, then how much of the text it used.
    #[test]
    fn field_or_transformer_prefixes() {
        let ok = |text: &str, used: u32| {
            let (_, n) = parse_field_or_transformer(text)
                .unwrap_or_else(|e| panic!("{text}: {}", e.message));
            assert_eq!(n, used, "{text}");
        };
        ok("proc.name", 9);
        ok("proc.name and more", 9);
        ok("proc.aname[2]) x", 13);
        ok("toupper(user.name)", 18);
        ok("toupper( user.name )[x] y", 23);
        ok("getopt(proc.args, \"t:\")[t]", 26);
        ok("proc.name.", 9);
        let err = |text: &str, message: &str| {
            let e = parse_field_or_transformer(text)
                .err()
                .unwrap_or_else(|| panic!("{text} parsed"));
            assert_eq!(e.message, message, "{text}");
        };
        err("", "unexpected token after '");
        err("name", "unexpected token after '");
        err("val(proc.name)", "unexpected token after '");
        err(
            "toupper(user.name",
            "expected a ')' token closing the transformer",
        );
        err("proc.aname[2", "expected a ']' token");
    }
}
