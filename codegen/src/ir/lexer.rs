//! Tokens of the textual IR (see [`super::print`] for the form), produced with `logos`.

use logos::Logos;

/// One token. Ids carry their number; strings their unescaped bytes; integers their text (the parser
/// reads them as `i64` or `u64` depending on where they appear).
#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r";[^\n]*", allow_greedy = true))]
pub enum Tok {
    /// `=`
    #[token("=")]
    Eq,
    /// `,`
    #[token(",")]
    Comma,
    /// `:`
    #[token(":")]
    Colon,
    /// `[`
    #[token("[")]
    LBrack,
    /// `]`
    #[token("]")]
    RBrack,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `rule`
    #[token("rule")]
    Rule,
    /// `v<n>`
    #[regex(r"v[0-9]+", |lex| lex.slice()[1..].parse::<u32>().ok(), priority = 10)]
    Val(u32),
    /// `$<n>`
    #[regex(r"\$[0-9]+", |lex| lex.slice()[1..].parse::<u32>().ok())]
    Slot(u32),
    /// `%<n>`
    #[regex(r"%[0-9]+", |lex| lex.slice()[1..].parse::<u32>().ok())]
    Set(u32),
    /// `^<n>`
    #[regex(r"\^[0-9]+", |lex| lex.slice()[1..].parse::<u32>().ok())]
    Re(u32),
    /// A decimal integer, possibly negative.
    #[regex(r"-?[0-9]+", |lex| lex.slice().to_owned())]
    Int(String),
    /// A quoted byte string.
    #[regex(r#""([^"\\]|\\.)*""#, |lex| unescape(lex.slice()))]
    Str(Vec<u8>),
    /// A word: opcodes (`cmp.eq`), keywords inside items (`field`, `set`), type names, `true`/`false`.
    #[regex(r"[A-Za-z_][A-Za-z0-9_.]*", |lex| lex.slice().to_owned())]
    Ident(String),
}

/// Undoes the printer's escapes (`\"`, `\\`, `\n`, `\t`, `\r`, `\xHH`); `None` for any other escape.
fn unescape(quoted: &str) -> Option<Vec<u8>> {
    let inner = quoted.get(1..quoted.len().checked_sub(1)?)?.as_bytes();
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while let Some(&b) = inner.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let e = *inner.get(i + 1)?;
        match e {
            b'"' | b'\\' => out.push(e),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'x' => {
                let hex = std::str::from_utf8(inner.get(i + 2..i + 4)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => return None,
        }
        i += 2;
    }
    Some(out)
}

/// A byte offset where no token could be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    /// Where the bad input starts.
    pub offset: usize,
}

/// The token stream in the shape lalrpop's external lexer interface expects.
pub fn tokens(text: &str) -> impl Iterator<Item = Result<(usize, Tok, usize), LexError>> + '_ {
    Tok::lexer(text).spanned().map(|(t, span)| match t {
        Ok(t) => Ok((span.start, t, span.end)),
        Err(()) => Err(LexError { offset: span.start }),
    })
}
