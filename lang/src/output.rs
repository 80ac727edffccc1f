//! Rule output format strings (`output:`), parsed and checked as libsinsp's event formatter does.
//!
//! A format is literal text with `%` tokens (spec C.11): `%proc.name`, `%proc.aname[2]`, `%evt.arg.flags`,
//! a width `%20proc.name`, or a transformer expression `%toupper(user.name)`. A leading `*` means "print
//! even if some values are missing" (missing values render as `<NA>`). [`parse_output`] turns a format into
//! [`OutputFormat`]: text pieces and resolved field tokens that the runtime renders per event.
//!
//! How a token ends (libsinsp's `set_format`): after `%` and the optional width, the formatter takes the
//! *longest* prefix of the remaining text that parses as a field or transformer expression *and compiles*.
//! So `%proc.namex` is the field `proc.name` followed by the text `x`, and `%evt.arg.flagsfoo` is
//! `evt.arg.flags` followed by `foo`. There is no `%%` escape.
//!
//! Invariants:
//! - concatenating the text pieces and the tokens' `text` (with `%`, width) gives back the format minus
//!   its leading `*`;
//! - every [`OutputToken`] holds a field or transformer expression that passed the type checker;
//! - parsing never panics, whatever the input.
//!
//! The loader also needs two Falco behaviours that are about output *text*, not tokens:
//! [`strip_container_info`] (`%container.info` is removed with a `LOAD_DEPRECATED_ITEM` warning) and
//! [`deprecated_fields_in_output`].

use std::fmt;

use crate::ast::{CmpOp, ExprKind, Operand, Span, Transform};
use crate::check::{self, OperandType};
use crate::fields::{self, FieldType, ResolvedField};

/// A parsed output format.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputFormat {
    /// `false` when the format starts with `*`: render even when some values are missing.
    pub require_all_values: bool,
    /// Literal text and tokens, in order.
    pub pieces: Vec<OutputPiece>,
}

impl OutputFormat {
    /// The tokens, in order.
    pub fn tokens(&self) -> impl Iterator<Item = &OutputToken> {
        self.pieces.iter().filter_map(|p| match p {
            OutputPiece::Token(t) => Some(t),
            OutputPiece::Text(_) => None,
        })
    }
}

/// One piece of an output format.
#[derive(Clone, Debug, PartialEq)]
pub enum OutputPiece {
    /// Literal text, printed as is.
    Text(String),
    /// A value to extract and print.
    Token(OutputToken),
}

/// A `%` token of an output format.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputToken {
    /// What to print.
    pub expr: OutputExpr,
    /// The minimum width (`%20proc.name`); 0 when none was given.
    pub width: u32,
    /// The token as written, without `%` and width: `proc.aname[2]`, `toupper(user.name)`.
    pub text: String,
    /// Where the token is in the format, from the `%` to its last character.
    pub span: Span,
}

/// The value a token prints.
#[derive(Clone, Debug, PartialEq)]
pub enum OutputExpr {
    /// A field, with its argument resolved.
    Field(ResolvedField),
    /// A transformer expression; its fields resolve with [`fields::resolve`] like any other.
    Transform {
        /// The expression as parsed.
        expr: Transform,
        /// The type of the result.
        ty: FieldType,
        /// Whether the result is a list.
        list: bool,
    },
}

/// Why an output format is invalid. Falco reports it as `LOAD_ERR_COMPILE_OUTPUT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputError {
    /// libsinsp's message (`invalid formatting syntax: …`, `unknown filter: …`), with a hint after `; `.
    pub message: String,
    /// Byte offset of the offending `%` (or of the format's end) in the format text.
    pub offset: u32,
}

impl OutputError {
    fn new(message: impl Into<String>, offset: usize) -> OutputError {
        OutputError {
            message: message.into(),
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
        }
    }

    /// Whether this is an unknown-field error, which `skip-if-unknown-filter: true` turns into a
    /// `LOAD_UNKNOWN_FILTER` warning.
    pub fn is_unknown_filter(&self) -> bool {
        check::is_unknown_filter_message(&self.message)
    }
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OutputError {}

/// The placeholder Falco removes from outputs.
pub const CONTAINER_INFO: &str = "%container.info";

/// Falco's `LOAD_DEPRECATED_ITEM` message for `%container.info`.
pub const CONTAINER_INFO_WARNING: &str = "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container plugin will automatically add required fields to the output message.";

/// Removes every `%container.info` from an output, as Falco's loader does before validating it.
/// Returns `None` when there is none (nothing to warn about), else the new text; the caller emits
/// [`CONTAINER_INFO_WARNING`] as `LOAD_DEPRECATED_ITEM`.
pub fn strip_container_info(output: &str) -> Option<String> {
    output
        .contains(CONTAINER_INFO)
        .then(|| output.replace(CONTAINER_INFO, ""))
}

/// Falco's check for deprecated fields in an output: a plain substring search for each of
/// [`check::DEPRECATED_FIELDS`]. Returns `(field, message)` pairs for `LOAD_DEPRECATED_ITEM` warnings.
pub fn deprecated_fields_in_output(output: &str) -> Vec<(&'static str, String)> {
    check::DEPRECATED_FIELDS
        .iter()
        .filter(|f| output.contains(*f))
        .map(|f| {
            (
                *f,
                format!("usage of deprecated field '{f}' has been detected in the rule output"),
            )
        })
        .collect()
}

/// Length of the `FieldName` token at the start of `s` (Identifier then one or more `.Identifier`),
/// or 0 if there is none.
fn field_name_len(s: &[u8]) -> usize {
    let ident = |from: usize| -> usize {
        if !s.get(from).is_some_and(u8::is_ascii_alphabetic) {
            return 0;
        }
        let mut i = from + 1;
        while s
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            i += 1;
        }
        i - from
    };
    let first = ident(0);
    if first == 0 {
        return 0;
    }
    let mut end = first;
    let mut segments = 1;
    while s.get(end) == Some(&b'.') {
        let n = ident(end + 1);
        if n == 0 {
            break;
        }
        end += 1 + n;
        segments += 1;
    }
    if segments >= 2 { end } else { 0 }
}

/// A `[arg]` at the start of `s`: the argument text and the length including brackets.
fn field_arg(s: &str) -> Option<(String, usize)> {
    let rest = s.strip_prefix('[')?;
    let b = rest.as_bytes();
    match b.first()? {
        q @ (b'"' | b'\'') => {
            let close = rest[1..].find(*q as char)? + 1;
            if rest.as_bytes().get(close + 1) != Some(&b']') {
                return None;
            }
            Some((rest[1..close].to_string(), close + 3))
        }
        _ => {
            let end = rest
                .find(|c: char| matches!(c, '[' | ']' | '"' | '\'') || c.is_ascii_whitespace())?;
            if end == 0 || rest.as_bytes().get(end) != Some(&b']') {
                return None;
            }
            Some((rest[..end].to_string(), end + 2))
        }
    }
}

/// The extent of a transformer call at the start of `s`: up to the matching `)`, quotes respected,
/// plus an optional `[...]` suffix. Returns candidate lengths, longest first.
fn transformer_extents(s: &str) -> Vec<usize> {
    let b = s.as_bytes();
    let Some(open) = s.find('(') else {
        return Vec::new();
    };
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = open;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                b'"' | b'\'' => quote = Some(c),
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        let end = i + 1;
                        let mut out = Vec::new();
                        if let Some((_, n)) = field_arg(&s[end..]) {
                            out.push(end + n);
                        }
                        out.push(end);
                        return out;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    Vec::new()
}

/// Parses `text` (exactly) as a transformer expression, using the condition parser on `<text> exists`.
fn parse_transformer(text: &str) -> Option<Transform> {
    let cond = format!("{text} exists");
    let expr = crate::parser::parse_condition(&cond).ok()?;
    let ExprKind::Check(check) = expr.kind else {
        return None;
    };
    if check.op != CmpOp::Exists || check.modifier.is_some() {
        return None;
    }
    match check.lhs {
        Operand::Transform(t) if t.span.start == 0 && t.span.end as usize == text.len() => Some(t),
        _ => None,
    }
}

fn first_problem(problems: Vec<(String, Span)>) -> String {
    problems
        .into_iter()
        .next()
        .map(|(m, _)| m)
        .unwrap_or_else(|| "invalid expression".to_string())
}

/// One token at the start of `rest`: the expression, its length, or the error message.
fn parse_token(rest: &str) -> Result<(OutputExpr, usize), String> {
    let b = rest.as_bytes();
    let word = b.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
    if word > 0 && b.get(word) == Some(&b'(') {
        let name = &rest[..word];
        if crate::ast::Transformer::from_name(name).is_none() {
            return Err(format!(
                "unknown filter: '{name}' is not a field transformer; the transformers are tolower, toupper, b64, basename, len, join, concat and getopt"
            ));
        }
        let mut last_err = format!("invalid transformer expression after '%{name}('");
        for len in transformer_extents(rest) {
            let text = &rest[..len];
            let Some(t) = parse_transformer(text) else {
                continue;
            };
            match check::check_operand(&Operand::Transform(t.clone()), true) {
                Ok(OperandType { ty, list, .. }) => {
                    return Ok((OutputExpr::Transform { expr: t, ty, list }, len));
                }
                Err(problems) => last_err = first_problem(problems),
            }
        }
        return Err(format!("unknown filter: {last_err}"));
    }

    let name_len = field_name_len(b);
    if name_len == 0 {
        // Old libsinsp said `invalid formatting token X`, current libsinsp `unknown filter: unexpected
        // token after '`; keep both recognisable and name the token.
        let token: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
        return Err(format!(
            "unknown filter: invalid formatting token {token}: expected a field such as proc.name or a transformer after '%' (there is no escape for a literal '%')"
        ));
    }
    let name = &rest[..name_len];
    let mut first_err = None;
    // The full field with its argument first.
    if let Some((arg, arg_len)) = field_arg(&rest[name_len..]) {
        match fields::resolve_without_hints(name, Some(&arg)) {
            Ok(f) => return Ok((OutputExpr::Field(f), name_len + arg_len)),
            Err(e) => first_err = Some(e),
        }
    }
    // Then shorter and shorter field names, as libsinsp's shrinking loop finds them.
    let mut len = name_len;
    while len > 0 {
        let candidate = &rest[..len];
        if field_name_len(candidate.as_bytes()) == len {
            match fields::resolve_without_hints(candidate, None) {
                Ok(f) => return Ok((OutputExpr::Field(f), len)),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        len -= 1;
    }
    // Nothing compiled: report the whole field, now with a "did you mean".
    let arg = field_arg(&rest[name_len..]).map(|(a, _)| a);
    let message = match fields::resolve(name, arg.as_deref()) {
        Err(e) => e,
        Ok(_) => first_err
            .unwrap_or_else(|| format!("filter_check called with nonexistent field {name}")),
    };
    Err(format!("unknown filter: {message}"))
}

/// Parses and checks an output format (spec C.11).
pub fn parse_output(fmt: &str) -> Result<OutputFormat, OutputError> {
    if fmt.is_empty() {
        return Err(OutputError::new("empty formatting token", 0));
    }
    let (require_all_values, base) = match fmt.strip_prefix('*') {
        Some(_) => (false, 1),
        None => (true, 0),
    };
    let body = &fmt[base..];
    let bytes = body.as_bytes();
    let mut pieces = Vec::new();
    let mut text_start = 0;
    let mut j = 0;
    while j < bytes.len() {
        if bytes[j] != b'%' {
            j += 1;
            continue;
        }
        let percent = j;
        if text_start != j {
            pieces.push(OutputPiece::Text(body[text_start..j].to_string()));
        }
        if j == bytes.len() - 1 {
            return Err(OutputError::new(
                "invalid formatting syntax: formatting cannot end with a %",
                base + j,
            ));
        }
        let mut width: u32 = 0;
        let mut k = j + 1;
        while k < bytes.len() && bytes[k].is_ascii_digit() {
            width = width
                .saturating_mul(10)
                .saturating_add(u32::from(bytes[k] - b'0'));
            k += 1;
        }
        if k == bytes.len() {
            return Err(OutputError::new(
                "invalid formatting syntax: formatting cannot end with a number",
                base + j,
            ));
        }
        let (expr, len) = parse_token(&body[k..]).map_err(|m| OutputError::new(m, base + j))?;
        let end = k + len;
        pieces.push(OutputPiece::Token(OutputToken {
            expr,
            width,
            text: body[k..end].to_string(),
            span: Span::new((base + percent) as u32, (base + end) as u32),
        }));
        j = end;
        text_start = end;
    }
    if text_start < bytes.len() {
        pieces.push(OutputPiece::Text(body[text_start..].to_string()));
    }
    Ok(OutputFormat {
        require_all_values,
        pieces,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_texts(fmt: &str) -> Vec<String> {
        match parse_output(fmt) {
            Ok(f) => f.tokens().map(|t| t.text.clone()).collect(),
            Err(e) => vec![format!("ERR {e}")],
        }
    }

    #[test]
    fn tokens_take_the_longest_field_that_compiles() {
        assert_eq!(token_texts("a %proc.namex b"), vec!["proc.name"]);
        assert_eq!(token_texts("%evt.arg.flagsfoo"), vec!["evt.arg.flags"]);
        assert_eq!(
            token_texts("%proc.aname[2] %20user.name"),
            vec!["proc.aname[2]", "user.name"]
        );
        assert_eq!(
            token_texts("x=%toupper(user.name)."),
            vec!["toupper(user.name)"]
        );
    }

    #[test]
    fn errors_use_libsinsp_wording() {
        assert_eq!(
            token_texts("abc %"),
            vec!["ERR invalid formatting syntax: formatting cannot end with a %"]
        );
        assert_eq!(
            token_texts("abc %12"),
            vec!["ERR invalid formatting syntax: formatting cannot end with a number"]
        );
        let e = token_texts("%proc.nmae");
        assert!(
            e[0].starts_with(
                "ERR unknown filter: filter_check called with nonexistent field proc.nmae"
            ),
            "{e:?}"
        );
        assert!(e[0].contains("did you mean 'proc.name'"));
    }

    #[test]
    fn round_trip_and_star() {
        let f = parse_output("*%evt.time: %proc.name (%user.name)");
        assert!(
            f.as_ref()
                .is_ok_and(|f| !f.require_all_values && f.pieces.len() == 6),
            "{f:?}"
        );
        assert_eq!(
            strip_container_info("a %container.info b").as_deref(),
            Some("a  b")
        );
        assert_eq!(deprecated_fields_in_output("x %evt.dir").len(), 1);
    }
}
