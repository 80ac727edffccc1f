//! `glob`, `iglob` and `pmatch` matching (spec B.5, B.7).
//!
//! [`fnmatch`] is POSIX `fnmatch(pattern, value, 0)` — *no* flags, as libsinsp calls it:
//! - `*` matches any byte sequence, including `/` (no `FNM_PATHNAME`) and leading dots (no `FNM_PERIOD`);
//! - `?` matches exactly one byte (also an invalid UTF-8 byte);
//! - `[...]` is a class with ranges (`a-z`), `[!...]`/`[^...]` negation, `]` literal when first, named
//!   classes (`[:alpha:]`…), backslash escapes inside; a `[` without a closing `]` is a literal `[`;
//! - `\c` matches `c` literally; a trailing lone `\` never matches (glibc);
//! - the whole value must match (anchored at both ends).
//!
//! With `fold` (for `iglob`), ASCII letters compare case-insensitively, in literals and classes alike.
//! Matching is byte-wise, as in the C locale.

/// Whether `value` matches the fnmatch `pattern` (flags 0; `fold` adds ASCII case folding).
pub fn fnmatch(pattern: &[u8], value: &[u8], fold: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if fold {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut i) = (0usize, 0usize);
    // The position after the last `*` and the value position it is currently assumed to cover up to.
    let mut star: Option<(usize, usize)> = None;
    loop {
        let mut matched = false;
        if let Some(&pc) = pattern.get(p) {
            match pc {
                b'*' => {
                    p += 1;
                    star = Some((p, i));
                    continue;
                }
                b'?' => {
                    if i < value.len() {
                        p += 1;
                        i += 1;
                        matched = true;
                    }
                }
                b'[' => {
                    if let Some(&c) = value.get(i) {
                        match class(pattern, p, c, fold) {
                            Some((true, next)) => {
                                p = next;
                                i += 1;
                                matched = true;
                            }
                            Some((false, _)) => {}
                            None => {
                                if c == b'[' {
                                    p += 1;
                                    i += 1;
                                    matched = true;
                                }
                            }
                        }
                    }
                }
                b'\\' => {
                    if let (Some(&lit), Some(&c)) = (pattern.get(p + 1), value.get(i))
                        && eq(lit, c)
                    {
                        p += 2;
                        i += 1;
                        matched = true;
                    }
                }
                lit => {
                    if let Some(&c) = value.get(i)
                        && eq(lit, c)
                    {
                        p += 1;
                        i += 1;
                        matched = true;
                    }
                }
            }
        } else if i == value.len() {
            return true;
        }
        if matched {
            continue;
        }
        // Mismatch: let the last `*` swallow one more byte, if there is one.
        match star {
            Some((sp, si)) if si < value.len() => {
                star = Some((sp, si + 1));
                p = sp;
                i = si + 1;
            }
            _ => return false,
        }
    }
}

/// Matches `c` against the class starting at `pattern[open] == '['`. Returns whether it matched and the
/// index after the closing `]`, or `None` when the class is not closed (then `[` is a literal).
fn class(pattern: &[u8], open: usize, c: u8, fold: bool) -> Option<(bool, usize)> {
    let mut q = open + 1;
    let negate = matches!(pattern.get(q), Some(b'!' | b'^'));
    if negate {
        q += 1;
    }
    let in_range = |lo: u8, hi: u8| {
        let hit = |x: u8| lo <= x && x <= hi;
        hit(c) || (fold && (hit(c.to_ascii_lowercase()) || hit(c.to_ascii_uppercase())))
    };
    let mut matched = false;
    let mut first = true;
    loop {
        let pc = *pattern.get(q)?;
        if pc == b']' && !first {
            return Some((matched != negate, q + 1));
        }
        first = false;
        if pc == b'['
            && pattern.get(q + 1) == Some(&b':')
            && let Some(len) = pattern
                .get(q + 2..)
                .and_then(|rest| rest.windows(2).position(|w| w == b":]"))
        {
            let name = pattern.get(q + 2..q + 2 + len).unwrap_or(&[]);
            if named_class(name, c, fold) {
                matched = true;
            }
            q += 2 + len + 2;
            continue;
        }
        let mut lo = pc;
        if pc == b'\\' {
            q += 1;
            lo = *pattern.get(q)?;
        }
        q += 1;
        if pattern.get(q) == Some(&b'-') && pattern.get(q + 1).is_some_and(|&h| h != b']') {
            let mut hi = *pattern.get(q + 1)?;
            q += 2;
            if hi == b'\\' {
                hi = *pattern.get(q)?;
                q += 1;
            }
            if in_range(lo, hi) {
                matched = true;
            }
        } else if in_range(lo, lo) {
            matched = true;
        }
    }
}

fn named_class(name: &[u8], c: u8, fold: bool) -> bool {
    match name {
        b"alpha" => c.is_ascii_alphabetic(),
        b"digit" => c.is_ascii_digit(),
        b"alnum" => c.is_ascii_alphanumeric(),
        b"upper" => c.is_ascii_uppercase() || (fold && c.is_ascii_lowercase()),
        b"lower" => c.is_ascii_lowercase() || (fold && c.is_ascii_uppercase()),
        b"space" => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b"blank" => matches!(c, b' ' | b'\t'),
        b"punct" => c.is_ascii_punctuation(),
        b"xdigit" => c.is_ascii_hexdigit(),
        b"cntrl" => c.is_ascii_control(),
        b"print" => (0x20..0x7f).contains(&c),
        b"graph" => c.is_ascii_graphic(),
        _ => false,
    }
}

/// Splits a path into its non-empty `/`-separated components.
pub fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    path.split(|b| *b == b'/').filter(|c| !c.is_empty())
}

/// `pmatch` for one pattern given as components: the pattern's components (each an fnmatch pattern)
/// match a prefix of the subject's components. An empty pattern (`/`) matches every subject.
pub fn pmatch_one(pattern: &[Box<[u8]>], subject: &[u8]) -> bool {
    let mut subj = components(subject);
    pattern
        .iter()
        .all(|p| subj.next().is_some_and(|c| fnmatch(p, c, false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_basics() {
        assert!(fnmatch(b"/var/*", b"/var/run/file.txt", false));
        assert!(fnmatch(b"*.txt", b"a.txt", false));
        assert!(!fnmatch(b"*.txt", b"a.txt2", false));
        assert!(fnmatch(b"a?c", b"abc", false));
        assert!(fnmatch(b"[!a]bc", b"xbc", false));
        assert!(!fnmatch(b"[!a]bc", b"abc", false));
        assert!(fnmatch(b"\\*", b"*", false));
        assert!(!fnmatch(b"\\*", b"a", false));
        assert!(fnmatch(b"[]]", b"]", false));
        assert!(fnmatch(b"[a", b"[a", false));
        assert!(fnmatch(b"ABC", b"abc", true));
        assert!(fnmatch(b"[A-C]x", b"bx", true));
        assert!(!fnmatch(b"abc\\", b"abc\\", false));
        assert!(fnmatch(b"*a*a*a*a*b", b"aaaaaaaaaaaaaaaaaaaaaaab", false));
    }
}
