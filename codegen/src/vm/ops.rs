//! Operator and transformer semantics on extracted items (spec A.6, B.4): the helpers the VM's
//! instructions (and later the JIT's calls) use.

use std::net::IpAddr;

use memchr::memmem;

use crate::abi::{ScalarKind, ValueBuf, ValueRef};
use crate::ir::{Cmp, TransformOp};

use super::glob::fnmatch;

fn as_i64(v: ValueRef<'_>) -> Option<i64> {
    match v {
        ValueRef::I64(x) => Some(x),
        // Casting both sides to the field's width and sign, as libsinsp does.
        ValueRef::U64(x) => Some(x as i64),
        ValueRef::Bool(b) => Some(i64::from(b)),
        _ => None,
    }
}

fn as_u64(v: ValueRef<'_>) -> Option<u64> {
    match v {
        ValueRef::U64(x) => Some(x),
        ValueRef::I64(x) => Some(x as u64),
        ValueRef::Bool(b) => Some(u64::from(b)),
        _ => None,
    }
}

fn as_f64(v: ValueRef<'_>) -> Option<f64> {
    match v {
        ValueRef::F64(x) => Some(x),
        ValueRef::I64(x) => Some(x as f64),
        ValueRef::U64(x) => Some(x as f64),
        _ => None,
    }
}

fn ordering<T: PartialOrd>(op: Cmp, a: T, b: T) -> bool {
    match op {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
        _ => false,
    }
}

/// ASCII case-insensitive substring search (`icontains`).
pub fn icontains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// `a op b` for two items of `kind` (the left side's kind). Operators that do not apply are false;
/// the verifier rejects them before this is reached.
pub fn compare(op: Cmp, kind: ScalarKind, a: ValueRef<'_>, b: ValueRef<'_>) -> bool {
    match kind {
        ScalarKind::Int => as_i64(a)
            .zip(as_i64(b))
            .is_some_and(|(x, y)| ordering(op, x, y)),
        ScalarKind::Uint => as_u64(a)
            .zip(as_u64(b))
            .is_some_and(|(x, y)| ordering(op, x, y)),
        ScalarKind::Double => as_f64(a)
            .zip(as_f64(b))
            .is_some_and(|(x, y)| ordering(op, x, y)),
        ScalarKind::Bool => match (a, b) {
            (ValueRef::Bool(x), ValueRef::Bool(y)) => ordering(op, x, y),
            _ => false,
        },
        ScalarKind::Str | ScalarKind::Bytes => match (a, b) {
            (ValueRef::Bytes(x), ValueRef::Bytes(y)) => compare_bytes(op, x, y),
            _ => false,
        },
        ScalarKind::Ip | ScalarKind::Net => match (a, b) {
            // Addresses of different families are simply unequal (spec B.4).
            (ValueRef::Ip(x), ValueRef::Ip(y)) => match op {
                Cmp::Eq => x == y,
                Cmp::Ne => x != y,
                _ => false,
            },
            _ => false,
        },
    }
}

/// String and buffer operators; `pattern` is the right side.
pub fn compare_bytes(op: Cmp, v: &[u8], pattern: &[u8]) -> bool {
    match op {
        Cmp::Eq | Cmp::Ne | Cmp::Lt | Cmp::Le | Cmp::Gt | Cmp::Ge => ordering(op, v, pattern),
        Cmp::Contains | Cmp::BContains => memmem::find(v, pattern).is_some(),
        Cmp::IContains => icontains(v, pattern),
        Cmp::StartsWith | Cmp::BStartsWith => v.starts_with(pattern),
        Cmp::EndsWith => v.ends_with(pattern),
        Cmp::Glob => fnmatch(pattern, v, false),
        Cmp::IGlob => fnmatch(pattern, v, true),
    }
}

/// Decodes standard base64 with optional padding; `None` when the input is not base64.
pub fn b64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let trimmed = match input {
        [rest @ .., b'=', b'='] | [rest @ .., b'='] => rest,
        _ => input,
    };
    if trimmed.len() % 4 == 1 {
        return None;
    }
    // With padding, the total length must be a multiple of 4.
    if trimmed.len() != input.len() && !input.len().is_multiple_of(4) {
        return None;
    }
    let sextet = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(trimmed.len() / 4 * 3 + 2);
    for chunk in trimmed.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | sextet(c)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
            2 => out.push((acc >> 4) as u8),
            _ => return None,
        }
    }
    Some(out)
}

fn push_string_form(out: &mut Vec<u8>, v: ValueRef<'_>) {
    use std::io::Write;
    let _ = match v {
        ValueRef::I64(x) => write!(out, "{x}"),
        ValueRef::U64(x) => write!(out, "{x}"),
        ValueRef::F64(x) => write!(out, "{x}"),
        ValueRef::Bool(b) => write!(out, "{b}"),
        ValueRef::Bytes(b) => {
            out.extend_from_slice(b);
            Ok(())
        }
        ValueRef::Ip(IpAddr::V4(a)) => write!(out, "{a}"),
        ValueRef::Ip(IpAddr::V6(a)) => write!(out, "{a}"),
    };
}

/// Applies a transformer to present arguments (`arg_is_list` tells scalars from lists for `len`),
/// writing into the cleared `out`. Returns `false` when the result is missing (failed `b64`).
pub fn transform(
    op: TransformOp,
    args: &[&ValueBuf],
    arg_is_list: bool,
    out: &mut ValueBuf,
) -> bool {
    let first_bytes = || match args.first().and_then(|b| b.get(0)) {
        Some(ValueRef::Bytes(b)) => Some(b),
        _ => None,
    };
    match op {
        TransformOp::ToLower | TransformOp::ToUpper => {
            let Some(b) = first_bytes() else { return false };
            let mut v = b.to_vec();
            if op == TransformOp::ToLower {
                v.make_ascii_lowercase();
            } else {
                v.make_ascii_uppercase();
            }
            out.push_bytes(&v);
            true
        }
        TransformOp::B64 => match first_bytes().and_then(b64_decode) {
            Some(v) => {
                out.push_bytes(&v);
                true
            }
            None => false,
        },
        TransformOp::Basename => {
            let Some(b) = first_bytes() else { return false };
            let base = match b.iter().rposition(|c| *c == b'/') {
                Some(i) => b.get(i + 1..).unwrap_or(&[]),
                None => b,
            };
            out.push_bytes(base);
            true
        }
        TransformOp::Len => {
            let Some(a) = args.first() else { return false };
            if arg_is_list {
                out.push_u64(a.len() as u64);
            } else {
                match a.get(0) {
                    Some(ValueRef::Bytes(b)) => out.push_u64(b.len() as u64),
                    _ => return false,
                }
            }
            true
        }
        TransformOp::Concat => {
            let mut v = Vec::new();
            for a in args {
                match a.get(0) {
                    Some(ValueRef::Bytes(b)) => v.extend_from_slice(b),
                    _ => return false,
                }
            }
            out.push_bytes(&v);
            true
        }
        TransformOp::Join => {
            let Some(sep) = first_bytes() else {
                return false;
            };
            let mut v = Vec::new();
            let mut first = true;
            for a in args.iter().skip(1) {
                for item in a.iter() {
                    if !first {
                        v.extend_from_slice(sep);
                    }
                    first = false;
                    push_string_form(&mut v, item);
                }
            }
            out.push_bytes(&v);
            true
        }
        TransformOp::Getopt => {
            let (Some(argv), Some(ValueRef::Bytes(optstring))) =
                (args.first(), args.get(1).and_then(|b| b.get(0)))
            else {
                return false;
            };
            let selector = match args.get(2) {
                None => None,
                Some(b) => match b.get(0) {
                    Some(ValueRef::Bytes([c])) => Some(*c),
                    _ => return false,
                },
            };
            getopt(argv, optstring, selector, out)
        }
    }
}

/// libsinsp's `getopt(args, optstring)[opt]` (POSIX getopt(3) rules over an argv list, short options
/// only). Without a selector it pushes, in order, each recognised option character (followed by its
/// value when the optstring gives it one), `?` for an unknown option character, and an empty string
/// for an option whose value is missing. With a selector it pushes only the value (or, for an option
/// without value, the character) of the *last* occurrence of that option, and is missing when the
/// option does not occur. Scanning stops at `--`, at the first non-option word (or a bare `-`), and
/// skips long options (`--exec`).
fn getopt(argv: &ValueBuf, optstring: &[u8], selector: Option<u8>, out: &mut ValueBuf) -> bool {
    let mut valid = [false; 256];
    let mut with_arg = [false; 256];
    let spec = optstring.strip_prefix(b":").unwrap_or(optstring);
    let mut i = 0;
    while let Some(&c) = spec.get(i) {
        if c != b':' {
            valid[usize::from(c)] = true;
            if spec.get(i + 1) == Some(&b':') {
                with_arg[usize::from(c)] = true;
                i += 1;
            }
        }
        i += 1;
    }
    let word = |k: usize| match argv.get(k) {
        Some(ValueRef::Bytes(b)) => Some(b),
        _ => None,
    };
    let mut selected: Option<&[u8]> = None;
    let mut k = 0;
    while let Some(w) = word(k) {
        if w == b"--" {
            break;
        }
        if w.len() > 2 && w.starts_with(b"--") {
            k += 1;
            continue;
        }
        if w.len() < 2 || w[0] != b'-' {
            break;
        }
        for (j, &c) in w.iter().enumerate().skip(1) {
            if c == b':' || !valid[usize::from(c)] {
                if selector.is_none() {
                    out.push_bytes(b"?");
                }
                continue;
            }
            let matched = selector.is_none_or(|s| s == c);
            let name = &w[j..=j];
            if !with_arg[usize::from(c)] {
                if matched {
                    match selector {
                        Some(_) => selected = Some(name),
                        None => out.push_bytes(name),
                    }
                }
                continue;
            }
            // The value is the rest of this word, or else the next word (consumed).
            let value = if j + 1 < w.len() {
                Some(&w[j + 1..])
            } else if let Some(next) = word(k + 1) {
                k += 1;
                Some(next)
            } else {
                None
            };
            if matched {
                match (selector, value) {
                    (Some(_), v) => selected = Some(v.unwrap_or(b"")),
                    (None, Some(v)) => {
                        out.push_bytes(name);
                        out.push_bytes(v);
                    }
                    (None, None) => out.push_bytes(b""),
                }
            }
            break;
        }
        k += 1;
    }
    match (selector, selected) {
        (Some(_), Some(v)) => {
            out.push_bytes(v);
            true
        }
        (Some(_), None) => false,
        (None, _) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getopt_stream() {
        let mut argv = ValueBuf::new();
        for w in ["-n", "-x", "-t", "foo", "bar"] {
            argv.push_bytes(w.as_bytes());
        }
        let mut out = ValueBuf::new();
        assert!(getopt(&argv, b"nt:", None, &mut out));
        let got: Vec<_> = out.iter().collect();
        let want = [&b"n"[..], b"?", b"t", b"foo"].map(ValueRef::Bytes);
        assert_eq!(got, want);
        let mut out = ValueBuf::new();
        assert!(getopt(&argv, b"nt:", Some(b'n'), &mut out));
        assert_eq!(out.get(0), Some(ValueRef::Bytes(b"n")));
    }

    #[test]
    fn b64() {
        assert_eq!(b64_decode(b"aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(b64_decode(b"aGVsbG8"), Some(b"hello".to_vec()));
        assert_eq!(b64_decode(b""), Some(vec![]));
        assert_eq!(b64_decode(b"a"), None);
        assert_eq!(b64_decode(b"a$==="), None);
    }
}
