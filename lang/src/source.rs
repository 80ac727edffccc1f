//! Source files and the texts derived from them, with exact maps back to file bytes.
//!
//! Everything a diagnostic points at is a byte in a rules file. Two kinds of text exist:
//!
//! - **files** ([`SourceFile`]): the rules files as loaded, addressed by [`FileId`] and byte offset;
//! - **mapped texts** ([`MappedText`]): text built from files — a YAML scalar after unquoting and folding, a
//!   condition after `append`, exception expansion and list substitution — where every byte knows the file
//!   byte it came from.
//!
//! Conditions are parsed from mapped texts. Each parsed condition is registered in the [`SourceMap`] as an
//! *expansion* with a base offset in one global offset space, so that the spans of a macro-resolved tree
//! (which mixes nodes from a rule and from several macros) can be traced back to the right text, the right
//! item and the right file byte (the way rustc's `BytePos` works).
//!
//! Invariants:
//! - file offsets are byte offsets into [`SourceFile::text`]; lines and columns are derived only on demand
//!   (1-based lines, 1-based columns counted in characters);
//! - a [`MappedText`]'s segments are sorted by text offset, the first starts at 0, and every byte of the text
//!   is covered by exactly one segment;
//! - expansions occupy disjoint, increasing ranges of the global offset space.

use std::fmt;

/// Identifies a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileSpan {
    /// The file.
    pub file: FileId,
    /// First byte.
    pub start: u32,
    /// One past the last byte (equal to `start` for a point).
    pub end: u32,
}

impl FileSpan {
    /// A span of `len` bytes at `start`.
    pub fn new(file: FileId, start: u32, end: u32) -> Self {
        Self {
            file,
            start,
            end: end.max(start),
        }
    }

    /// A zero-length span at `offset`.
    pub fn point(file: FileId, offset: u32) -> Self {
        Self::new(file, offset, offset)
    }
}

/// One loaded rules file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The name the file was given (usually its path), used in messages.
    pub name: String,
    /// The content. Files that are not valid UTF-8 are stored lossily converted: positions up to the first
    /// invalid byte are exact, and loading them fails with a diagnostic anyway.
    pub text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    fn new(name: String, text: String) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 24 + 1);
        line_starts.push(0);
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        Self {
            name,
            text,
            line_starts,
        }
    }

    /// 0-based line index and byte offset of that line's start, for a byte offset.
    pub fn line_index(&self, offset: u32) -> (usize, u32) {
        let idx = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        (idx, self.line_starts.get(idx).copied().unwrap_or(0))
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.text.len() as u32);
        let (idx, start) = self.line_index(offset);
        let col = self
            .text
            .get(start as usize..offset as usize)
            .map_or((offset - start) as usize, |s| s.chars().count());
        LineCol {
            line: idx as u32 + 1,
            col: col as u32 + 1,
        }
    }

    /// The text of the line (without its line break) containing `offset`.
    pub fn line_text(&self, offset: u32) -> &str {
        let offset = offset.min(self.text.len() as u32);
        let (_, start) = self.line_index(offset);
        let rest = self.text.get(start as usize..).unwrap_or("");
        let line = rest.split('\n').next().unwrap_or("");
        line.strip_suffix('\r').unwrap_or(line)
    }
}

/// A human position: 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Where a piece of a [`MappedText`] comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Byte `i` of the segment is byte `offset + i` of `file`.
    File {
        /// The file.
        file: FileId,
        /// Offset of the segment's first byte in the file.
        offset: u32,
    },
    /// Text that is not in any file (glue added by `append`, exception expansion or list substitution);
    /// every byte maps to `at`, and `note` says where the text was inserted from.
    Inserted {
        /// The span the text stands for (e.g. the list reference it replaced).
        at: FileSpan,
        /// What produced the text.
        note: Insertion,
    },
}

/// What inserted a piece of text that is not in any file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Insertion {
    /// Glue added when concatenating (`append`) or expanding exceptions.
    Glue,
    /// Items of a list substituted for its name; the span is the list's definition.
    List {
        /// The list's name.
        name: String,
        /// Where the list is defined (the `list:` name scalar).
        defined: Option<FileSpan>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Segment {
    at: u32,
    origin: Origin,
}

/// Text with, for each byte, the file byte it came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappedText {
    text: String,
    segments: Vec<Segment>,
}

/// The file location of one byte of a [`MappedText`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// The file byte (or the span of the inserted text's anchor).
    pub span: FileSpan,
    /// Set when the byte was inserted rather than written in a file.
    pub inserted: Option<Insertion>,
}

impl MappedText {
    /// An empty text.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty text with room for `bytes` bytes in one segment.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            segments: Vec::with_capacity(1),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// True when the text is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    fn push_segment(&mut self, origin: Origin) {
        let at = self.text.len() as u32;
        if let Some(last) = self.segments.last_mut() {
            // A contiguous continuation of the previous file segment needs no new segment.
            if let (
                Origin::File { file, offset },
                Origin::File {
                    file: f2,
                    offset: o2,
                },
            ) = (&last.origin, &origin)
                && file == f2
                && offset + (at - last.at) == *o2
            {
                return;
            }
            if last.at == at {
                last.origin = origin;
                return;
            }
        }
        self.segments.push(Segment { at, origin });
    }

    /// Appends text copied verbatim from `file` at `offset`.
    pub fn push_file(&mut self, s: &str, file: FileId, offset: u32) {
        if s.is_empty() {
            return;
        }
        self.push_segment(Origin::File { file, offset });
        self.text.push_str(s);
    }

    /// Appends text that is in no file, anchored at `at`.
    pub fn push_inserted(&mut self, s: &str, at: FileSpan, note: Insertion) {
        if s.is_empty() {
            return;
        }
        self.push_segment(Origin::Inserted { at, note });
        self.text.push_str(s);
    }

    /// Appends glue text (spaces, parentheses, operators) anchored at `at`.
    pub fn push_glue(&mut self, s: &str, at: FileSpan) {
        self.push_inserted(s, at, Insertion::Glue);
    }

    /// Appends the bytes `range` of another mapped text, keeping their origins.
    pub fn push_slice(&mut self, other: &MappedText, start: usize, end: usize) {
        let end = end.min(other.text.len());
        if start >= end {
            return;
        }
        let Some(slice) = other.text.get(start..end) else {
            return;
        };
        let first = other.segment_index(start as u32);
        for (i, seg) in other.segments.iter().enumerate().skip(first) {
            let seg_start = (seg.at as usize).max(start);
            let seg_end = other
                .segments
                .get(i + 1)
                .map_or(other.text.len(), |s| s.at as usize)
                .min(end);
            if seg_start >= end {
                break;
            }
            if seg_start >= seg_end {
                continue;
            }
            let origin = match &seg.origin {
                Origin::File { file, offset } => Origin::File {
                    file: *file,
                    offset: offset + (seg_start as u32 - seg.at),
                },
                o => o.clone(),
            };
            self.push_segment(origin);
            let piece = &slice[seg_start - start..seg_end - start];
            self.text.push_str(piece);
        }
    }

    /// Appends all of another mapped text.
    pub fn push_mapped(&mut self, other: &MappedText) {
        self.push_slice(other, 0, other.len());
    }

    fn segment_index(&self, offset: u32) -> usize {
        match self.segments.binary_search_by(|s| s.at.cmp(&offset)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// The file location of text byte `offset` (offsets at or past the end map to just after the last byte).
    pub fn map(&self, offset: u32) -> Option<Mapped> {
        if self.segments.is_empty() {
            return None;
        }
        let past_end = offset as usize >= self.text.len();
        let offset = if past_end {
            (self.text.len() as u32).saturating_sub(1)
        } else {
            offset
        };
        let seg = self.segments.get(self.segment_index(offset))?;
        Some(match &seg.origin {
            Origin::File { file, offset: o } => {
                let at = o + (offset - seg.at) + u32::from(past_end && !self.text.is_empty());
                Mapped {
                    span: FileSpan::point(*file, at),
                    inserted: None,
                }
            }
            Origin::Inserted { at, note } => Mapped {
                span: *at,
                inserted: Some(note.clone()),
            },
        })
    }

    /// The file span covering text bytes `start..end` when both ends map into the same file; otherwise the
    /// location of `start`.
    pub fn map_span(&self, start: u32, end: u32) -> Option<Mapped> {
        let first = self.map(start)?;
        if end <= start + 1 || first.inserted.is_some() {
            return Some(first);
        }
        match self.map(end - 1) {
            Some(last)
                if last.inserted.is_none()
                    && last.span.file == first.span.file
                    && last.span.start >= first.span.start =>
            {
                Some(Mapped {
                    span: FileSpan::new(first.span.file, first.span.start, last.span.start + 1),
                    inserted: None,
                })
            }
            _ => Some(first),
        }
    }
}

/// A parsed text registered in the global offset space (see the module docs).
#[derive(Clone, Debug)]
pub struct Expansion {
    /// First global offset of this text.
    pub base: u32,
    /// The text and its map.
    pub text: MappedText,
    /// Who owns the text, e.g. `rule 'x'` or `macro 'y'` (an index into the loader's items).
    pub owner: Owner,
}

/// The item whose condition an [`Expansion`] is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    /// A rule's condition.
    Rule(String),
    /// A macro's condition.
    Macro(String),
    /// Anything else (e.g. an exception field compiled as `<field> exists`).
    Other(String),
}

/// All files and parsed texts of one load.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    expansions: Vec<Expansion>,
    next_base: u32,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add_file(&mut self, name: impl Into<String>, text: String) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile::new(name.into(), text));
        id
    }

    /// The file with this id.
    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// All files in load order.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// Name of a file (`"?"` for an unknown id).
    pub fn file_name(&self, id: FileId) -> &str {
        self.file(id).map_or("?", |f| f.name.as_str())
    }

    /// 1-based line/column of a file offset.
    pub fn line_col(&self, id: FileId, offset: u32) -> LineCol {
        self.file(id)
            .map_or(LineCol { line: 1, col: 1 }, |f| f.line_col(offset))
    }

    /// Registers a parsed text and returns its base in the global offset space. Add the base to the parser's
    /// offsets to make them global.
    pub fn add_expansion(&mut self, text: MappedText, owner: Owner) -> u32 {
        let base = self.next_base;
        // One spare byte so that an end-of-text offset still falls inside this expansion.
        self.next_base = self
            .next_base
            .saturating_add(text.len() as u32)
            .saturating_add(1);
        self.expansions.push(Expansion { base, text, owner });
        base
    }

    /// The expansion containing a global offset.
    pub fn expansion(&self, global: u32) -> Option<&Expansion> {
        let i = match self.expansions.binary_search_by(|e| e.base.cmp(&global)) {
            Ok(i) => i,
            Err(i) => i.checked_sub(1)?,
        };
        self.expansions.get(i)
    }

    /// The file location of a global span.
    pub fn resolve(&self, start: u32, end: u32) -> Option<Mapped> {
        let e = self.expansion(start)?;
        e.text.map_span(start - e.base, end.saturating_sub(e.base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_keep_origins() {
        let f = FileId(0);
        let mut a = MappedText::new();
        a.push_file("abc", f, 10);
        a.push_glue(" ", FileSpan::point(f, 13));
        a.push_file("def", f, 20);
        let mut b = MappedText::new();
        b.push_slice(&a, 1, 6);
        assert_eq!(b.as_str(), "bc de");
        assert_eq!(b.map(0).map(|m| m.span.start), Some(11));
        assert_eq!(b.map(3).map(|m| m.span.start), Some(20));
        assert!(b.map(2).is_some_and(|m| m.inserted.is_some()));
    }

    #[test]
    fn line_col_counts_characters() {
        let mut sm = SourceMap::new();
        let f = sm.add_file("x", "ab\né z\n".to_string());
        assert_eq!(sm.line_col(f, 0), LineCol { line: 1, col: 1 });
        assert_eq!(sm.line_col(f, 6), LineCol { line: 2, col: 3 });
    }
}
