//! A generic YAML node tree in which every node knows where it is.
//!
//! The rules-file decoder needs what yaml-cpp gives Falco: every scalar as its *text* (a scalar's type is
//! decided by the key that reads it, so `items: [1, 0x10]` keeps the text `0x10` and `enabled: yes` is a
//! boolean only because `enabled` asks for one), null as a distinct value, and the position of every node.
//! serde-saphyr deserializes any YAML into our recursive [`Node`] via `deserialize_any` with every child
//! wrapped in `serde_saphyr::Spanned`, which gives line, column and byte offset/length. Scalars that
//! serde-saphyr types as numbers, booleans or null are turned back into their source text from the span;
//! strings keep the decoded value. The scalar *style* (plain, quoted, block) is read from the raw source at
//! the span (see [`scalar_text`]), which is all we need to map condition bytes back to file bytes.
//!
//! Most rules files are read by a faster reader of the YAML subset they use (`loader::fastyaml`), which
//! produces the same tree or declines; serde-saphyr reads the rest.
//!
//! Resource limits: serde-saphyr's [`serde_saphyr::Budget`] is enabled (nesting depth, node count, aliases,
//! total scalar bytes), and inputs over [`MAX_INPUT_BYTES`] are rejected before parsing. Our recursion over
//! the tree is therefore bounded by the depth budget.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::source::{FileId, FileSpan, MappedText};

/// Inputs larger than this are rejected (a located `LOAD_ERR_YAML_PARSE`) without being parsed. The whole
/// upstream ruleset is about 300 KiB; a span-carrying tree costs roughly 80 bytes of memory per input byte, so
/// 16 MiB keeps a hostile or mistaken input (a log file, a dump) within about 1.5 GiB and a few seconds.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// Maximal nesting depth of YAML collections. Rules files need about 6.
pub const MAX_DEPTH: usize = 128;

/// A YAML node and its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// What the node is.
    pub kind: Kind,
    /// Byte offset of the node's first character (for block scalars: of the first content character).
    pub offset: u32,
    /// Byte length as reported by the parser.
    pub len: u32,
    /// Where the node's text is: equal to `offset`, except for an alias (`*a`), whose text is at its
    /// anchor's definition.
    pub text_offset: u32,
    /// 0-based line (a yaml-cpp mark).
    pub line0: u32,
    /// 0-based column.
    pub col0: u32,
}

/// The kinds of node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `~`, `null`, or nothing.
    Null,
    /// Any scalar, as text.
    Scalar(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping (the last one if repeated, as yaml-cpp does for lookups).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_scalar() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// True for null.
    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// The node's span in `file`.
    pub fn span(&self, file: FileId) -> FileSpan {
        FileSpan::new(file, self.offset, self.offset + self.len)
    }
}

/// Raw tree as deserialized by serde-saphyr, before scalar texts are restored.
enum Raw {
    Null,
    Text(String),
    /// A number or boolean: the text is taken from the source.
    Typed,
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Raw, E> {
        Ok(Raw::Typed)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Raw, E> {
        Ok(Raw::Typed)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Raw, E> {
        Ok(Raw::Typed)
    }
    fn visit_i128<E>(self, _: i128) -> Result<Raw, E> {
        Ok(Raw::Typed)
    }
    fn visit_u128<E>(self, _: u128) -> Result<Raw, E> {
        Ok(Raw::Typed)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::Typed)
    }
    fn visit_char<E>(self, v: char) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Text(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Raw, E> {
        Ok(Raw::Text(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = a.next_element()? {
            v.push(x);
        }
        Ok(Raw::Seq(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
        let mut v = Vec::new();
        while let Some(entry) = a.next_entry()? {
            v.push(entry);
        }
        Ok(Raw::Map(v))
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

/// A YAML syntax error or budget breach.
#[derive(Clone, Debug)]
pub struct YamlError {
    /// The parser's message.
    pub message: String,
    /// Byte offset, when known.
    pub offset: Option<u32>,
    /// 0-based line and column, when known.
    pub line_col0: Option<(u32, u32)>,
}

fn budget() -> serde_saphyr::Budget {
    let mut b = serde_saphyr::Budget::default();
    b.max_depth = MAX_DEPTH;
    b.max_events = 20_000_000;
    b.max_nodes = 10_000_000;
    b.max_total_scalar_bytes = MAX_INPUT_BYTES * 2;
    b.max_aliases = 100_000;
    // Alias expansion ("billion laughs"): rules files hardly use anchors, so a small replay budget is plenty.
    b.max_recorded_anchor_events = 100_000;
    b
}

/// Parses all documents of `src`. Empty documents are dropped (they load as nothing, as in Falco).
pub fn parse(src: &str) -> Result<Vec<Node>, YamlError> {
    if src.len() > MAX_INPUT_BYTES {
        return Err(YamlError {
            message: format!(
                "rules content of {} bytes exceeds the limit of {MAX_INPUT_BYTES} bytes",
                src.len()
            ),
            offset: Some(0),
            line_col0: Some((0, 0)),
        });
    }
    // Rules files as people write them take the fast path; everything else (and every error) is
    // serde-saphyr's.
    if let Some(docs) = super::fastyaml::parse(src) {
        return Ok(docs);
    }
    parse_with_serde_saphyr(src)
}

/// The fast path alone: `Some` only where it accepts `src`. Not API — a hook for the differential fuzz
/// target `yaml_fastpath` (`fuzz/src/yaml_fastpath.rs`), which checks the fast path's invariant (its tree
/// equals [`parse_with_serde_saphyr`]'s whenever it answers) on arbitrary input.
#[doc(hidden)]
pub fn parse_fast_path_only(src: &str) -> Option<Vec<Node>> {
    super::fastyaml::parse(src)
}

/// [`parse`] without the fast path (the reference the fast path is tested against). Public but hidden
/// only for the `yaml_fastpath` fuzz target; [`parse`] is the API.
#[doc(hidden)]
pub fn parse_with_serde_saphyr(src: &str) -> Result<Vec<Node>, YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget());
    let docs: Vec<Spanned<Raw>> =
        serde_saphyr::from_multiple_with_options(src, options).map_err(|e| {
            let loc = e.location();
            YamlError {
                message: first_line(&e.to_string()),
                offset: loc.and_then(|l| l.span().byte_offset()).map(|o| o as u32),
                line_col0: loc.map(|l| {
                    (
                        (l.line() as u32).saturating_sub(1),
                        (l.column() as u32).saturating_sub(1),
                    )
                }),
            }
        })?;
    Ok(docs.into_iter().map(|d| convert(src, d)).collect())
}

/// The first line of serde-saphyr's message, without its own `error: line N column M: ` prefix (we report
/// the position separately).
fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    let stripped = line
        .strip_prefix("error: line ")
        .and_then(|rest| rest.split_once(": "))
        .map_or(
            line,
            |(pos, msg)| if pos.contains("column") { msg } else { line },
        );
    stripped.to_string()
}

fn convert(src: &str, s: Spanned<Raw>) -> Node {
    let loc = s.referenced;
    let span = loc.span();
    let offset = span.byte_offset().unwrap_or(0) as u32;
    let len = span.byte_len().unwrap_or(0) as u32;
    let def = s.defined.span();
    let text_offset = def.byte_offset().map_or(offset, |o| o as u32);
    let text_len = def.byte_len().map_or(len, |l| l as u32);
    let kind = match s.value {
        Raw::Null => Kind::Null,
        Raw::Text(t) => Kind::Scalar(t),
        Raw::Typed => Kind::Scalar(
            src.get(text_offset as usize..(text_offset + text_len) as usize)
                .unwrap_or("")
                .to_string(),
        ),
        Raw::Seq(v) => Kind::Seq(v.into_iter().map(|x| convert(src, x)).collect()),
        Raw::Map(v) => Kind::Map(
            v.into_iter()
                .map(|(k, x)| (convert(src, k), convert(src, x)))
                .collect(),
        ),
    };
    Node {
        kind,
        offset,
        len,
        text_offset,
        line0: (loc.line() as u32).saturating_sub(1),
        col0: (loc.column() as u32).saturating_sub(1),
    }
}

/// The text of a scalar node with a map from every byte to its byte in the file.
///
/// The map is built by walking the decoded value and the raw source side by side from the node's offset:
/// characters that are equal are paired; source characters that a YAML style removes (quotes, escape
/// backslashes, indentation, folded line breaks) are skipped. Every non-blank character of the value is
/// therefore mapped exactly for plain, single- and double-quoted, literal (`|`) and folded (`>`) scalars; an
/// escape that produces a different character (`\n`, `\t`, `\x41` in double quotes) maps to its backslash.
pub fn scalar_text(src: &str, file: FileId, node: &Node) -> MappedText {
    let Some(value) = node.as_scalar() else {
        return MappedText::new();
    };
    let mut out = MappedText::with_capacity(value.len());
    let raw = src.get(node.text_offset as usize..).unwrap_or("");
    let mut si = 0usize;
    let raw_bytes = raw.as_bytes();
    let mut buf = [0u8; 4];
    let mut vi = 0usize;
    while vi < value.len() {
        // Fast path: a run of characters equal in value and source pairs each with the source character at
        // the same position (what the per-character loop below does when nothing is skipped), so the whole
        // run is pushed at once.
        let run = common_prefix_len(&value[vi..], &raw[si.min(raw.len())..]);
        if run > 0 {
            out.push_file(&value[vi..vi + run], file, node.text_offset + si as u32);
            vi += run;
            si += run;
            continue;
        }
        let Some(c) = value[vi..].chars().next() else {
            break;
        };
        vi += c.len_utf8();
        let cs: &str = c.encode_utf8(&mut buf);
        let mut mapped = None;
        let mut steps = 0;
        while si < raw.len() && steps < 4096 {
            if raw[si..].starts_with(cs) {
                mapped = Some(si);
                si += cs.len();
                break;
            }
            let b = raw_bytes.get(si).copied().unwrap_or(0);
            let skippable = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'\\');
            if !skippable {
                // The rest of an escape sequence (`\u00e9`, `\x41`, `\t`): resynchronise on the character a
                // few bytes ahead if it is there, else pair it with the current position.
                let ahead = raw
                    .get(si..(si + 10).min(raw.len()))
                    .and_then(|w| w.find(cs));
                match ahead {
                    Some(j) => {
                        mapped = Some(si + j);
                        si += j + cs.len();
                    }
                    None => {
                        mapped = Some(si);
                        si += raw[si..].chars().next().map_or(1, char::len_utf8);
                    }
                }
                break;
            }
            si += 1;
            steps += 1;
        }
        let at = mapped.unwrap_or(si.min(raw.len()));
        out.push_file(cs, file, node.text_offset + at as u32);
    }
    out
}

/// Length in bytes of the longest common prefix of `a` and `b` that ends on a character boundary of `a`
/// (both start on character boundaries, so it is one of `b` too).
fn common_prefix_len(a: &str, b: &str) -> usize {
    let mut n = a
        .as_bytes()
        .iter()
        .zip(b.as_bytes())
        .take_while(|(x, y)| x == y)
        .count();
    while !a.is_char_boundary(n) {
        n -= 1;
    }
    n
}
