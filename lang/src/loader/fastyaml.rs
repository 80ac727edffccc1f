//! A fast reader for the YAML that rules files are written in, producing exactly the [`Node`] tree that the
//! serde-saphyr path of [`super::yaml::parse`] produces — or nothing.
//!
//! Rules files use a small part of YAML: a block sequence of block mappings with plain keys; values that are
//! plain, quoted, folded (`>`) or literal (`|`) scalars, flow sequences of scalars, or nested block
//! collections; comments. This reader handles that part directly on the bytes, about ten times faster than
//! going through serde-saphyr's event stream and `Spanned` wrappers, and gives up (returns `None`) on
//! anything else: anchors, aliases, tags, flow mappings, directives and document markers, tabs, carriage
//! returns, control characters, escapes it does not know, scalars serde-saphyr might type as special numbers,
//! duplicate keys, every syntax error, and deep nesting. The caller then parses with serde-saphyr, so
//! messages, positions and resource limits of everything unusual stay serde-saphyr's.
//!
//! Invariant: when this returns `Some`, the tree equals serde-saphyr's node for node — kind, scalar text,
//! `offset`, `len`, `text_offset`, `line0`, `col0` (the positions follow serde-saphyr's conventions: a
//! block collection is located at its first `-` or key with length 0, a flow sequence at its `[` with length
//! 1, an empty value at its key's `:`, a block scalar from its first content character to the start of the
//! next token). The unit tests compare both paths on every YAML file of the corpus.

use super::yaml::{Kind, Node};

/// Deeper nesting than this goes to serde-saphyr (whose depth budget then applies).
const MAX_FAST_DEPTH: usize = 48;

/// Parses `src` if it is in the supported subset; `None` means "use serde-saphyr".
pub(crate) fn parse(src: &str) -> Option<Vec<Node>> {
    if !printable(src) {
        return None;
    }
    let mut p = P {
        s: src.as_bytes(),
        src,
        pos: 0,
        line_starts: line_starts(src),
    };
    p.skip_blank_lines();
    if p.pos >= p.s.len() {
        return Some(Vec::new());
    }
    if p.col_of(p.pos) != 0 || !p.is_seq_entry(p.pos) {
        return None;
    }
    let root = p.block_seq(0, 0, false)?;
    p.skip_blank_lines();
    if p.pos < p.s.len() {
        return None;
    }
    Some(vec![root])
}

/// True when every character is one the fast path may see: no control characters but line feeds, no tabs,
/// no carriage returns, no byte order mark, nothing YAML calls non-printable.
fn printable(src: &str) -> bool {
    if src.is_ascii() {
        // in blocks without early exit, which the compiler turns into vector code
        return src.as_bytes().chunks(64).all(|c| {
            c.iter().fold(true, |ok, &b| {
                ok & ((b == b'\n') | (0x20..0x7f).contains(&b))
            })
        });
    }
    src.chars().all(|c| {
        c == '\n'
            || (' '..='\u{7e}').contains(&c)
            || ('\u{a0}'..='\u{d7ff}').contains(&c)
            || ('\u{e000}'..='\u{fffd}').contains(&c) && c != '\u{feff}'
            || c >= '\u{10000}'
    })
}

fn line_starts(src: &str) -> Vec<u32> {
    let mut v = Vec::with_capacity(src.len() / 24 + 1);
    v.push(0);
    v.extend(src.match_indices('\n').map(|(i, _)| i as u32 + 1));
    v
}

struct P<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    line_starts: Vec<u32>,
}

fn is_space_or_end(b: Option<u8>) -> bool {
    matches!(b, None | Some(b' ') | Some(b'\n'))
}

impl P<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        self.s.get(i).copied()
    }

    fn line_of(&self, off: usize) -> usize {
        match self.line_starts.binary_search(&(off as u32)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    fn line_start(&self, off: usize) -> usize {
        self.line_starts
            .get(self.line_of(off))
            .map_or(0, |&s| s as usize)
    }

    /// Column in characters.
    fn col_of(&self, off: usize) -> usize {
        let start = self.line_start(off);
        let seg = self.s.get(start..off).unwrap_or(&[]);
        if seg.is_ascii() {
            seg.len()
        } else {
            self.src
                .get(start..off)
                .map_or(seg.len(), |t| t.chars().count())
        }
    }

    fn node(&self, kind: Kind, offset: usize, len: usize) -> Node {
        let line = self.line_of(offset);
        let start = self.line_starts.get(line).map_or(0, |&s| s as usize);
        let seg = self.s.get(start..offset).unwrap_or(&[]);
        let col = if seg.is_ascii() {
            seg.len()
        } else {
            self.src
                .get(start..offset)
                .map_or(seg.len(), |t| t.chars().count())
        };
        Node {
            kind,
            offset: offset as u32,
            len: len as u32,
            text_offset: offset as u32,
            line0: line as u32,
            col0: col as u32,
        }
    }

    /// From `pos`, skips spaces, a comment, and then whole lines that are blank or comments; stops at the
    /// first character of the next token (or the end).
    fn skip_blank_lines(&mut self) {
        loop {
            while self.at(self.pos) == Some(b' ') {
                self.pos += 1;
            }
            match self.at(self.pos) {
                Some(b'#') => {
                    // A comment needs a blank before it or the start of a line.
                    let ok =
                        self.pos == 0 || matches!(self.at(self.pos - 1), Some(b' ') | Some(b'\n'));
                    if !ok {
                        return;
                    }
                    while !matches!(self.at(self.pos), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                Some(b'\n') => self.pos += 1,
                _ => return,
            }
        }
    }

    /// The rest of the line after `pos` is blanks and maybe a comment.
    fn rest_of_line_is_empty(&self, mut i: usize) -> bool {
        let start = i;
        while self.at(i) == Some(b' ') {
            i += 1;
        }
        match self.at(i) {
            None | Some(b'\n') => true,
            Some(b'#') => i > start || i == 0 || matches!(self.at(i - 1), Some(b' ' | b'\n')),
            _ => false,
        }
    }

    fn is_seq_entry(&self, i: usize) -> bool {
        self.at(i) == Some(b'-') && is_space_or_end(self.at(i + 1))
    }

    /// A block sequence whose `-` entries are at column `col`, starting at `pos`. An *indentless* sequence
    /// (a mapping value whose `-` are at the mapping's own column) has no start token of its own, so it is
    /// located at the first token after its first `-`.
    fn block_seq(&mut self, col: usize, depth: usize, indentless: bool) -> Option<Node> {
        if depth > MAX_FAST_DEPTH {
            return None;
        }
        let mut start = self.pos;
        let mut items = Vec::new();
        loop {
            // at '-'
            self.pos += 1;
            while self.at(self.pos) == Some(b' ') {
                self.pos += 1;
            }
            if indentless && items.is_empty() {
                start = self.pos;
            }
            if self.rest_of_line_is_empty(self.pos) {
                if indentless {
                    return None;
                }
                // The entry's content starts on a later line (or the entry is empty: not handled here).
                self.skip_blank_lines();
                if self.pos >= self.s.len() || self.col_of(self.pos) <= col {
                    return None;
                }
                let c = self.col_of(self.pos);
                items.push(self.block_node_on_own_line(c, depth + 1)?);
            } else {
                let c = self.col_of(self.pos);
                if self.is_seq_entry(self.pos) {
                    items.push(self.block_seq(c, depth + 1, false)?);
                } else if self.is_key(self.pos) {
                    items.push(self.block_map(c, depth + 1)?);
                } else {
                    // A scalar or flow entry on the `-` line.
                    items.push(self.inline_value(col, depth + 1, None)?);
                    self.end_of_value_line()?;
                }
            }
            self.skip_blank_lines();
            if self.pos >= self.s.len() {
                break;
            }
            let c = self.col_of(self.pos);
            if c < col {
                break;
            }
            if c > col || !self.is_seq_entry(self.pos) {
                return None;
            }
        }
        Some(self.node(Kind::Seq(items), start, 0))
    }

    /// A node that starts a line at column `c` (inside a parent collection with smaller indentation).
    fn block_node_on_own_line(&mut self, c: usize, depth: usize) -> Option<Node> {
        if self.is_seq_entry(self.pos) {
            self.block_seq(c, depth, false)
        } else if self.is_key(self.pos) {
            self.block_map(c, depth)
        } else {
            None
        }
    }

    /// A plain key of the kind rules files use (`rule`, `skip-if-unknown-filter`, …) followed by `:` and a
    /// blank; keys that YAML might read as anything but a string are left to serde-saphyr.
    fn key_len(&self, i: usize) -> Option<usize> {
        let mut j = i;
        match self.at(j) {
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => j += 1,
            _ => return None,
        }
        while let Some(b) = self.at(j) {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
                j += 1;
            } else {
                break;
            }
        }
        if self.at(j) != Some(b':') || !is_space_or_end(self.at(j + 1)) {
            return None;
        }
        let word = self.src.get(i..j)?;
        if is_special_word(word) {
            return None;
        }
        Some(j - i)
    }

    fn is_key(&self, i: usize) -> bool {
        self.key_len(i).is_some()
    }

    /// A block mapping whose keys are at column `col`, starting at `pos` (on a key).
    fn block_map(&mut self, col: usize, depth: usize) -> Option<Node> {
        if depth > MAX_FAST_DEPTH {
            return None;
        }
        let start = self.pos;
        let mut entries: Vec<(Node, Node)> = Vec::new();
        loop {
            let klen = self.key_len(self.pos)?;
            let kstart = self.pos;
            let key_text = self.src.get(kstart..kstart + klen)?;
            if entries.iter().any(|(k, _)| k.as_scalar() == Some(key_text)) {
                return None;
            }
            let key = self.node(Kind::Scalar(key_text.to_string()), kstart, klen);
            let colon = kstart + klen;
            self.pos = colon + 1;
            while self.at(self.pos) == Some(b' ') {
                self.pos += 1;
            }
            let value = if self.rest_of_line_is_empty(self.pos) {
                self.skip_blank_lines();
                let c = if self.pos < self.s.len() {
                    self.col_of(self.pos)
                } else {
                    0
                };
                if self.pos < self.s.len() && c > col {
                    if self.is_seq_entry(self.pos) || self.is_key(self.pos) {
                        self.block_node_on_own_line(c, depth + 1)?
                    } else {
                        // A scalar or flow sequence on its own line.
                        let v = self.inline_value(col, depth + 1, None)?;
                        self.end_of_value_line()?;
                        v
                    }
                } else if self.pos < self.s.len() && c == col && self.is_seq_entry(self.pos) {
                    self.block_seq(c, depth + 1, true)?
                } else {
                    // An empty value: null at the `:`.
                    self.node(Kind::Null, colon, 0)
                }
            } else {
                let block_scalar = matches!(self.at(self.pos), Some(b'>' | b'|'));
                let v = self.inline_value(col, depth + 1, Some(col))?;
                // A block scalar ends where the next token starts; anything else ends on its line.
                if !block_scalar {
                    self.end_of_value_line()?;
                }
                v
            };
            entries.push((key, value));
            self.skip_blank_lines();
            if self.pos >= self.s.len() {
                break;
            }
            let c = self.col_of(self.pos);
            if c < col {
                break;
            }
            if c > col || !self.is_key(self.pos) {
                return None;
            }
        }
        Some(self.node(Kind::Map(entries), start, 0))
    }

    /// After a value that ended on its line: only blanks and a comment may follow.
    fn end_of_value_line(&mut self) -> Option<()> {
        if self.rest_of_line_is_empty(self.pos) {
            Some(())
        } else {
            None
        }
    }

    /// A value that starts on the current line at `pos`: a scalar, a flow sequence, or a block scalar.
    /// `indent` is the indentation of the enclosing block collection; `map_col` is set for mapping values
    /// (block scalars are only handled there).
    fn inline_value(
        &mut self,
        indent: usize,
        depth: usize,
        map_col: Option<usize>,
    ) -> Option<Node> {
        match self.at(self.pos)? {
            b'[' => self.flow_seq(indent, depth),
            b'"' => self.double_quoted(indent),
            b'\'' => self.single_quoted(indent),
            b'>' | b'|' => self.block_scalar(map_col?),
            b'{' | b']' | b'}' | b',' | b'#' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?'
            | b':' => None,
            b'-' if is_space_or_end(self.at(self.pos + 1)) => None,
            _ => self.plain_block(indent),
        }
    }

    /// A plain scalar in block context, possibly continued on more-indented lines.
    fn plain_block(&mut self, indent: usize) -> Option<Node> {
        let start = self.pos;
        // Set once the scalar continues on another line: the folded value so far.
        let mut folded: Option<String> = None;
        let mut i = self.pos;
        loop {
            // One line of content: up to ": ", " #" or the line end; trailing blanks excluded.
            let line_begin = i;
            let mut end = i;
            while let Some(b) = self.at(i) {
                match b {
                    b'\n' => break,
                    b':' if is_space_or_end(self.at(i + 1)) => return None,
                    b'#' if i > line_begin && self.at(i - 1) == Some(b' ') => break,
                    b' ' => {}
                    _ => end = i + 1,
                }
                i += 1;
            }
            if let Some(f) = folded.as_mut() {
                f.push_str(self.src.get(line_begin..end)?);
            }
            self.pos = end;
            if self.at(i) == Some(b'#') {
                // A comment ends the scalar.
                break;
            }
            // Continuation: the next non-blank line, if more indented than the collection and not a comment.
            let mut j = i;
            let mut breaks = 0usize;
            while self.at(j) == Some(b'\n') {
                j += 1;
                breaks += 1;
                while self.at(j) == Some(b' ') {
                    j += 1;
                }
            }
            let cont = breaks > 0
                && j < self.s.len()
                && self.col_of(j) > indent
                && self.at(j) != Some(b'#');
            if !cont {
                break;
            }
            // Folding: one line break becomes a space, each empty line a line feed.
            let f = match folded.as_mut() {
                Some(f) => f,
                None => folded.insert(self.src.get(start..end)?.to_string()),
            };
            if breaks == 1 {
                f.push(' ');
            } else {
                for _ in 1..breaks {
                    f.push('\n');
                }
            }
            i = j;
        }
        let end = self.pos;
        let kind = match folded {
            Some(f) => Kind::Scalar(f),
            None => {
                let raw = self.src.get(start..end)?;
                match raw {
                    "~" | "null" | "Null" | "NULL" => Kind::Null,
                    _ if plain_is_safe(raw) => Kind::Scalar(raw.to_string()),
                    _ => return None,
                }
            }
        };
        Some(self.node(kind, start, end - start))
    }

    /// `"..."`, possibly over several lines.
    fn double_quoted(&mut self, indent: usize) -> Option<Node> {
        let start = self.pos;
        let mut out = String::new();
        let mut hard = 0usize;
        let mut i = start + 1;
        loop {
            let b = self.at(i)?;
            match b {
                b'"' => break,
                b'\\' => {
                    let e = self.at(i + 1)?;
                    i += 2;
                    match e {
                        b'\\' => out.push('\\'),
                        b'"' => out.push('"'),
                        b'/' => out.push('/'),
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'0' => out.push('\0'),
                        b' ' => out.push(' '),
                        b'x' | b'u' | b'U' => {
                            let n = match e {
                                b'x' => 2,
                                b'u' => 4,
                                _ => 8,
                            };
                            let hex = self.src.get(i..i + n)?;
                            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                                return None;
                            }
                            let v = u32::from_str_radix(hex, 16).ok()?;
                            out.push(char::from_u32(v)?);
                            i += n;
                        }
                        _ => return None,
                    }
                    hard = out.len();
                }
                b'\n' => {
                    i = self.fold_quoted_break(&mut out, hard, i, indent)?;
                    hard = out.len();
                }
                _ => {
                    let ch = self.src.get(i..)?.chars().next()?;
                    out.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        self.pos = i + 1;
        Some(self.node(Kind::Scalar(out), start, self.pos - start))
    }

    /// `'...'`, possibly over several lines.
    fn single_quoted(&mut self, indent: usize) -> Option<Node> {
        let start = self.pos;
        let mut out = String::new();
        let mut i = start + 1;
        loop {
            let b = self.at(i)?;
            match b {
                b'\'' if self.at(i + 1) == Some(b'\'') => {
                    out.push('\'');
                    i += 2;
                }
                b'\'' => break,
                b'\n' => {
                    i = self.fold_quoted_break(&mut out, 0, i, indent)?;
                }
                _ => {
                    let ch = self.src.get(i..)?.chars().next()?;
                    out.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        self.pos = i + 1;
        Some(self.node(Kind::Scalar(out), start, self.pos - start))
    }

    /// A line break inside a quoted scalar at `i`: trailing blanks of the line are dropped, a single break
    /// becomes a space, each further empty line a line feed, and the next line's indentation is skipped.
    /// Continuation lines less indented than the enclosing collection are left to serde-saphyr.
    fn fold_quoted_break(
        &self,
        out: &mut String,
        hard: usize,
        mut i: usize,
        indent: usize,
    ) -> Option<usize> {
        while out.len() > hard && out.ends_with(' ') {
            out.pop();
        }
        let mut breaks = 0usize;
        while self.at(i) == Some(b'\n') {
            breaks += 1;
            i += 1;
            while self.at(i) == Some(b' ') {
                i += 1;
            }
        }
        if i >= self.s.len() || self.col_of(i) < indent.max(1) {
            return None;
        }
        // A document marker at the start of a line would end the document: leave it to serde-saphyr.
        if breaks == 1 {
            out.push(' ');
        } else {
            for _ in 1..breaks {
                out.push('\n');
            }
        }
        Some(i)
    }

    /// `[a, "b", c]`, possibly over several lines, with scalars only.
    fn flow_seq(&mut self, indent: usize, depth: usize) -> Option<Node> {
        if depth > MAX_FAST_DEPTH {
            return None;
        }
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_flow_blanks(indent)?;
            match self.at(self.pos)? {
                b']' => {
                    self.pos += 1;
                    break;
                }
                b'"' => items.push(self.double_quoted(indent)?),
                b'\'' => items.push(self.single_quoted(indent)?),
                b'[' | b'{' | b'}' | b',' | b'#' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`'
                | b'?' | b':' | b'|' | b'>' => return None,
                b'-' if is_space_or_end(self.at(self.pos + 1)) => return None,
                _ => items.push(self.plain_flow()?),
            }
            self.skip_flow_blanks(indent)?;
            match self.at(self.pos)? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    break;
                }
                _ => return None,
            }
        }
        Some(self.node(Kind::Seq(items), start, 1))
    }

    /// Blanks, line breaks and comments inside a flow sequence (lines in the first column are left to
    /// serde-saphyr).
    fn skip_flow_blanks(&mut self, indent: usize) -> Option<()> {
        loop {
            while self.at(self.pos) == Some(b' ') {
                self.pos += 1;
            }
            match self.at(self.pos) {
                Some(b'\n') => {
                    self.pos += 1;
                    while self.at(self.pos) == Some(b' ') {
                        self.pos += 1;
                    }
                    // serde-saphyr accepts flow lines at any indentation but the first column.
                    let _ = indent;
                    if !matches!(self.at(self.pos), Some(b'\n') | Some(b'#'))
                        && (self.pos >= self.s.len() || self.col_of(self.pos) == 0)
                    {
                        return None;
                    }
                }
                Some(b'#')
                    if self.pos > 0 && matches!(self.at(self.pos - 1), Some(b' ' | b'\n')) =>
                {
                    while !matches!(self.at(self.pos), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                None => return None,
                _ => return Some(()),
            }
        }
    }

    /// A plain scalar inside a flow sequence, on one line.
    fn plain_flow(&mut self) -> Option<Node> {
        let start = self.pos;
        let mut i = start;
        let mut end = start;
        while let Some(b) = self.at(i) {
            match b {
                b'\n' | b',' | b']' | b'[' | b'{' | b'}' => break,
                b':' if matches!(self.at(i + 1), None | Some(b' ' | b'\n' | b',' | b']')) => {
                    return None;
                }
                b'#' if i > start && self.at(i - 1) == Some(b' ') => break,
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
        if matches!(self.at(i), Some(b'[' | b'{' | b'}')) {
            return None;
        }
        if self.at(i) == Some(b'\n') {
            // A plain scalar may continue on the next line; only accept when the next token ends the entry.
            let mut j = i;
            loop {
                while matches!(self.at(j), Some(b' ' | b'\n')) {
                    j += 1;
                }
                if self.at(j) == Some(b'#') {
                    while !matches!(self.at(j), None | Some(b'\n')) {
                        j += 1;
                    }
                    continue;
                }
                break;
            }
            if !matches!(self.at(j), Some(b',' | b']')) {
                return None;
            }
        }
        self.pos = end;
        let raw = self.src.get(start..end)?;
        let kind = match raw {
            "~" | "null" | "Null" | "NULL" => Kind::Null,
            _ if plain_is_safe(raw) => Kind::Scalar(raw.to_string()),
            _ => return None,
        };
        Some(self.node(kind, start, end - start))
    }

    /// `>` or `|` with an optional chomping indicator, as a mapping value of a mapping at `map_col`.
    fn block_scalar(&mut self, map_col: usize) -> Option<Node> {
        let folded = self.at(self.pos) == Some(b'>');
        let mut i = self.pos + 1;
        let chomp = match self.at(i) {
            Some(b'-') => {
                i += 1;
                -1
            }
            Some(b'+') => {
                i += 1;
                1
            }
            _ => 0,
        };
        if !self.rest_of_line_is_empty(i) {
            return None;
        }
        while !matches!(self.at(i), None | Some(b'\n')) {
            i += 1;
        }
        if self.at(i) != Some(b'\n') {
            return None;
        }
        i += 1;
        // The first content line fixes the indentation; leading empty lines are left to serde-saphyr.
        let mut k = i;
        while self.at(k) == Some(b' ') {
            k += 1;
        }
        if matches!(self.at(k), None | Some(b'\n')) {
            return None;
        }
        let indent = k - i;
        if indent <= map_col {
            return None;
        }
        let start = k;
        let mut out = String::new();
        let mut leading_break = false;
        let mut trailing_breaks = 0usize;
        let mut leading_blank = false;
        let mut p = k;
        let end;
        loop {
            // at a content line, column == indent
            let trailing_blank = self.at(p) == Some(b' ');
            if folded && leading_break && !leading_blank && !trailing_blank {
                if trailing_breaks == 0 {
                    out.push(' ');
                }
            } else if leading_break {
                out.push('\n');
            }
            for _ in 0..trailing_breaks {
                out.push('\n');
            }
            trailing_breaks = 0;
            leading_blank = trailing_blank;
            let ls = p;
            while !matches!(self.at(p), None | Some(b'\n')) {
                p += 1;
            }
            out.push_str(self.src.get(ls..p)?);
            if p >= self.s.len() {
                // No line break at the end of the input: serde-saphyr's chomping differs there.
                return None;
            }
            // the break
            p += 1;
            leading_break = true;
            // following empty lines and indentation
            loop {
                let mut col = 0usize;
                while col < indent && self.at(p) == Some(b' ') {
                    p += 1;
                    col += 1;
                }
                if self.at(p) == Some(b'\n') {
                    trailing_breaks += 1;
                    p += 1;
                    continue;
                }
                break;
            }
            if p >= self.s.len() || p - self.line_start(p) < indent {
                end = p;
                break;
            }
        }
        if chomp != -1 && leading_break {
            out.push('\n');
        }
        if chomp == 1 {
            for _ in 0..trailing_breaks {
                out.push('\n');
            }
        }
        self.pos = end;
        // The next token must start a line (the scanner stopped at its first non-blank character).
        let node = self.node(Kind::Scalar(out), start, end - start);
        Some(node)
    }
}

/// Words YAML reads as booleans or null: such keys are left to serde-saphyr.
fn is_special_word(w: &str) -> bool {
    w.len() <= 5
        && ["y", "n", "yes", "no", "true", "false", "on", "off", "null"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(w))
}

/// Whether serde-saphyr reads this plain scalar as a string or as a number/boolean whose source text we
/// keep — never as something it might reject (`.inf`, `nan` or `1e999` under its float policy, integers too
/// large for their base, digit groups with `_`).
fn plain_is_safe(raw: &str) -> bool {
    // Only digits, signs, dots and the words inf/infinity/nan start a number.
    if !raw.bytes().next().is_some_and(|b| {
        matches!(
            b,
            b'0'..=b'9' | b'+' | b'-' | b'.' | b'i' | b'I' | b'n' | b'N'
        )
    }) {
        return true;
    }
    let unsigned = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    let word = unsigned.strip_prefix('.').unwrap_or(unsigned);
    if matches!(
        word.to_ascii_lowercase().as_str(),
        "inf" | "infinity" | "nan"
    ) {
        return false;
    }
    if let Ok(v) = raw.parse::<f64>() {
        return v.is_finite();
    }
    let b = unsigned.as_bytes();
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1], b'x' | b'X' | b'o' | b'O' | b'b' | b'B') {
        let radix = match b[1] {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            _ => 2,
        };
        let digits = &unsigned[2..];
        return !digits.is_empty()
            && digits.len() <= 15
            && digits.chars().all(|c| c.is_digit(radix));
    }
    !(raw.contains('_')
        && raw
            .bytes()
            .all(|c| matches!(c, b'0'..=b'9' | b'_' | b'+' | b'-' | b'.' | b'e' | b'E')))
}

#[cfg(test)]
mod tests {
    use super::super::yaml::{Kind, Node, parse_with_serde_saphyr};

    /// Where the fast path answers, it must answer exactly what serde-saphyr answers.
    fn same(src: &str) -> bool {
        let Some(fast) = super::parse(src) else {
            return false;
        };
        match parse_with_serde_saphyr(src) {
            Ok(slow) => {
                if let Some(d) = first_difference(&fast, &slow) {
                    let short: String = src.chars().take(300).collect();
                    panic!("fast and serde-saphyr trees differ: {d}\nin:\n{short}");
                }
            }
            Err(e) => panic!("fast path accepted what serde-saphyr rejects ({e:?}):\n{src}"),
        }
        true
    }

    fn first_difference(a: &[Node], b: &[Node]) -> Option<String> {
        if a.len() != b.len() {
            return Some(format!("{} nodes vs {}", a.len(), b.len()));
        }
        a.iter().zip(b).find_map(|(x, y)| node_difference(x, y))
    }

    fn node_difference(a: &Node, b: &Node) -> Option<String> {
        let head = |n: &Node| (n.offset, n.len, n.text_offset, n.line0, n.col0);
        let here = || {
            let show = |n: &Node| match &n.kind {
                Kind::Scalar(s) => format!("Scalar({s:?}) {:?}", head(n)),
                Kind::Null => format!("Null {:?}", head(n)),
                Kind::Seq(v) => format!("Seq[{}] {:?}", v.len(), head(n)),
                Kind::Map(v) => format!("Map[{}] {:?}", v.len(), head(n)),
            };
            Some(format!("fast {} vs serde-saphyr {}", show(a), show(b)))
        };
        if head(a) != head(b) {
            return here();
        }
        match (&a.kind, &b.kind) {
            (Kind::Seq(x), Kind::Seq(y)) => {
                first_difference(x, y).or_else(|| (x.len() != y.len()).then(here).flatten())
            }
            (Kind::Map(x), Kind::Map(y)) => {
                if x.len() != y.len() {
                    return here();
                }
                x.iter().zip(y).find_map(|((k1, v1), (k2, v2))| {
                    node_difference(k1, k2).or_else(|| node_difference(v1, v2))
                })
            }
            (x, y) if x == y => None,
            _ => here(),
        }
    }

    #[test]
    fn constructs_rules_files_use() {
        let cases = [
            "",
            "# only a comment\n\n",
            "- list: a\n  items: [x, \"y z\", 'it''s', 10.0.0.0/8, 0.31.0, 80, -1]\n",
            "- list: a\n  items: []\n- list: b\n  items:\n  - p\n  - q   # c\n",
            "- list: b\n  items: [\n    a,   # one\n    \"b\",\n\n    c,\n    ]\n",
            "- macro: m\n  condition: a and\n    b = c\n\n    and d   \n  x: ~\n  v: null\n  z:\n",
            "- rule: r\n  desc: >\n    folded\n    text\n\n\n    more\n  condition: >\n    a and\n      b\n    and c\n# comment\n  output: \"a \\\"b\\\" \\t c \\u00e9\"\n  priority: WARNING\n",
            "- rule: r\n  lit: |-\n    abc\n     def\n  keep: |+\n    x\n\n  e: plain # comment\n  f: \"multi\n    line\"\n  g: 'one\n\n    two'\n",
            "- rule: r\n  exceptions:\n    - name: e\n      fields: [proc.name, fd.name]\n      values:\n        - [a, \"/b c\"]\n        - [x, y]\n- required_engine_version: 0.31.0\n",
            "- - a\n  - b\n- x: 1\n  w: [a,\n   b, ]\n",
            "- a: b\n  c: d",
            "- a: >\n    x\n    y\n",
            "- a: é ü\n  b: \"é\"\n  c: [ü, x]\n",
        ];
        for c in cases {
            assert!(same(c), "the fast path declined:\n{c}");
        }
    }

    #[test]
    fn declines_what_it_does_not_handle() {
        let cases = [
            "- a: &x b\n  c: *x\n",
            "- {a: b}\n",
            "---\n- a: b\n",
            "- a: b\n  a: c\n",
            "- a: .inf\n",
            "- a: !!str b\n",
            "- a:\tb\n",
            "- a: b\r\n",
            "a: b\n",
            "- a: >\n    x\n    y",
            "- a: b: c\n",
        ];
        for c in cases {
            assert!(super::parse(c).is_none(), "the fast path accepted:\n{c}");
        }
    }

    /// Every YAML file of the corpus: where the fast path answers, the trees are equal; the upstream
    /// rules files all take the fast path.
    #[test]
    fn corpus_files_agree_with_serde_saphyr() {
        let root = std::env::var_os("FRULE_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus").into());
        if !root.exists() {
            eprintln!("corpus not available at {}; skipping", root.display());
            return;
        }
        let mut stack = vec![root.clone()];
        let (mut fast, mut total) = (0, 0);
        let mut declined = Vec::new();
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml")
                    && let Ok(text) = std::fs::read_to_string(&p)
                {
                    total += 1;
                    if same(&text) {
                        fast += 1;
                    } else {
                        declined.push(p.display().to_string());
                    }
                }
            }
        }
        eprintln!("fast path: {fast} of {total} corpus YAML files; declined: {declined:#?}");
        for name in [
            "falco_rules.yaml",
            "falco-incubating_rules.yaml",
            "falco-sandbox_rules.yaml",
        ] {
            let p = root.join("rules/falcosecurity-rules").join(name);
            if let Ok(text) = std::fs::read_to_string(&p) {
                assert!(super::parse(&text).is_some(), "{} declined", p.display());
            }
        }
    }
}
