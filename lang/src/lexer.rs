//! Token classes of the condition language, matched at a cursor.
//!
//! libsinsp does not tokenize a condition up front: its recursive-descent parser asks "does a token of class
//! X start here?" at the current cursor, and which classes it asks for depends on where it is in the grammar
//! (after `=` a bare string may contain `<`, `!` or `[`; in a field argument it may contain `(` and `=`; a
//! keyword such as `and` is a prefix test, not a word). A single global token stream cannot reproduce that, so
//! this module offers one matcher per token class (spec A.2), each returning the length of the longest match
//! anchored at the start of the given text, or 0 when the class does not match there.
//!
//! The regular classes are [`logos`] DFAs (one tiny lexer enum per class, run on the remaining input and
//! asked for its first token). Logos picks the longest match, as RE2 does in the POSIX mode libsinsp uses, so
//! `1e10` matches the number `1` and `a.b.` matches the field name `a.b`.
//!
//! Invariants:
//! - a match never starts anywhere but at the first byte of the text;
//! - every returned length ends on a `char` boundary of the text;
//! - the whitespace class is the ASCII POSIX `[:space:]` (space, `\t`, `\n`, `\v`, `\f`, `\r`), exactly what RE2
//!   uses; NUL and non-ASCII characters are ordinary characters for the negated classes.

use logos::Logos;

/// The ASCII bytes the condition parser's blank-skipper consumes: space, tab, backspace (!), CR and LF.
///
/// Form feed and vertical tab are *not* blanks here, although they are `[:space:]` for the token classes.
pub fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x08 | b'\r' | b'\n')
}

/// Runs the lexer of token class `T` at the start of `text` and returns the length of its first token if it
/// starts at offset 0.
fn first_match<'s, T>(text: &'s str) -> usize
where
    T: Logos<'s, Source = str>,
    T::Extras: Default,
{
    let mut lexer = T::lexer(text);
    match lexer.next() {
        Some(Ok(_)) if lexer.span().start == 0 => lexer.span().end,
        _ => 0,
    }
}

/// `not` followed by one or more `[:space:]` characters (libsinsp `RGX_NOTBLANK`).
#[derive(Logos)]
enum NotBlank {
    #[regex(r"not[\t\n\x0B\x0C\r ]+")]
    Match,
}

/// An identifier: letters, then letters, digits and `_` (`RGX_IDENTIFIER`).
#[derive(Logos)]
enum Identifier {
    #[regex(r"[a-zA-Z]+[a-zA-Z0-9_]*")]
    Match,
}

/// A field name: an identifier followed by one or more `.identifier` segments (`RGX_FIELDNAME`).
#[derive(Logos)]
enum FieldName {
    #[regex(r"[a-zA-Z]+[a-zA-Z0-9_]*(\.[a-zA-Z]+[a-zA-Z0-9_]*)+")]
    Match,
}

/// A bare field argument: anything but `[`, `]`, quotes and `[:space:]` (`RGX_FIELDARGBARESTR`).
#[derive(Logos)]
enum FieldArgBareStr {
    #[regex(r#"[^\]\["'\t\n\x0B\x0C\r ]+"#)]
    Match,
}

/// A hexadecimal number: `0x`/`0X` and hex digits (`RGX_HEXNUM`).
#[derive(Logos)]
enum HexNumber {
    #[regex(r"0[xX][0-9a-fA-F]+")]
    Match,
}

/// A decimal number with optional sign, fraction and *signed* exponent (`RGX_NUMBER`).
#[derive(Logos)]
enum Number {
    #[regex(r"[+\-]?[0-9]+\.?[0-9]*([eE][+\-][0-9]+)?")]
    Match,
}

/// A bare string value: anything but parentheses, quotes, `[:space:]`, `=` and `,` (`RGX_BARESTR`).
#[derive(Logos)]
enum BareStr {
    #[regex(r#"[^()"'\t\n\x0B\x0C\r =,]+"#)]
    Match,
}

/// Length of `not` plus the `[:space:]` run after it, or 0.
pub fn not_blank(text: &str) -> usize {
    first_match::<NotBlank>(text)
}

/// Length of the identifier at the start of `text`, or 0.
pub fn identifier(text: &str) -> usize {
    first_match::<Identifier>(text)
}

/// Length of the dotted field name at the start of `text`, or 0.
pub fn field_name(text: &str) -> usize {
    first_match::<FieldName>(text)
}

/// Length of the bare field argument at the start of `text`, or 0.
pub fn field_arg_bare_str(text: &str) -> usize {
    first_match::<FieldArgBareStr>(text)
}

/// Length of the hexadecimal number at the start of `text`, or 0.
pub fn hex_number(text: &str) -> usize {
    first_match::<HexNumber>(text)
}

/// Length of the decimal number at the start of `text`, or 0.
pub fn number(text: &str) -> usize {
    first_match::<Number>(text)
}

/// Length of the bare string at the start of `text`, or 0.
pub fn bare_str(text: &str) -> usize {
    first_match::<BareStr>(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Matcher = fn(&str) -> usize;

    #[test]
    fn longest_anchored_matches() {
        let cases: &[(Matcher, &str, usize)] = &[
            (number, "1e10", 1),
            (number, "1e+10", 5),
            (number, "-0.1222e+10 x", 11),
            (number, "1.", 2),
            (number, "1.5e+", 3),
            (number, "+", 0),
            (number, "a1", 0),
            (hex_number, "0x1fg", 4),
            (hex_number, "0x", 0),
            (field_name, "a.b.", 3),
            (field_name, "a.1b", 0),
            (field_name, "proc.aname[2]", 10),
            (field_name, "abc", 0),
            (identifier, "not_macro x", 9),
            (identifier, "_a", 0),
            (not_blank, "not\x0b x", 5),
            (not_blank, "notb", 0),
            (not_blank, "not", 0),
            (bare_str, "a,b", 1),
            (bare_str, "0a!@#456:/\\.;!$%^&*[]{}|)", 24),
            (bare_str, "é=", 2),
            (bare_str, "a\0b c", 3),
            (field_arg_bare_str, "0a(){}] = x", 6),
        ];
        for (i, (f, text, want)) in cases.iter().enumerate() {
            assert_eq!(f(text), *want, "case {i}: {text:?}");
        }
    }
}
