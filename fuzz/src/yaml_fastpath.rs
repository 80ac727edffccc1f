//! The loader's fast YAML reader against serde-saphyr: arbitrary YAML-ish bytes (seeded from the corpus'
//! rules files, mutated with a YAML dictionary) go through the fast path alone; whenever it accepts, its
//! tree must equal serde-saphyr's node for node — kind, scalar text, `offset`, `len`, `text_offset`,
//! `line0`, `col0` — and serde-saphyr must accept the input too. Declining is always allowed.
//!
//! Both readers are reached through `frule_lang::loader::yaml`'s hidden hooks
//! (`parse_fast_path_only`, `parse_with_serde_saphyr`), the same pair `fastyaml`'s unit tests compare.
//! Inputs over the loader's size limit are skipped: the loader rejects them before either reader runs.

use frule_lang::loader::yaml::{self, Kind, Node};

/// The first difference between two node lists, as text; `None` when they are equal.
fn first_difference(path: &str, a: &[Node], b: &[Node]) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!("{path}: {} nodes vs {}", a.len(), b.len()));
    }
    a.iter()
        .zip(b)
        .enumerate()
        .find_map(|(i, (x, y))| node_difference(&format!("{path}[{i}]"), x, y))
}

fn node_difference(path: &str, a: &Node, b: &Node) -> Option<String> {
    let head = |n: &Node| (n.offset, n.len, n.text_offset, n.line0, n.col0);
    let show = |n: &Node| match &n.kind {
        Kind::Scalar(s) => format!("Scalar({s:?}) {:?}", head(n)),
        Kind::Null => format!("Null {:?}", head(n)),
        Kind::Seq(v) => format!("Seq[{}] {:?}", v.len(), head(n)),
        Kind::Map(v) => format!("Map[{}] {:?}", v.len(), head(n)),
    };
    let here = || {
        Some(format!(
            "{path}: fast {} vs serde-saphyr {} (head = offset, len, text_offset, line0, col0)",
            show(a),
            show(b)
        ))
    };
    if head(a) != head(b) {
        return here();
    }
    match (&a.kind, &b.kind) {
        (Kind::Seq(x), Kind::Seq(y)) => first_difference(path, x, y),
        (Kind::Map(x), Kind::Map(y)) => {
            if x.len() != y.len() {
                return here();
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, ((k1, v1), (k2, v2)))| {
                    node_difference(&format!("{path}.key{i}"), k1, k2)
                        .or_else(|| node_difference(&format!("{path}.value{i}"), v1, v2))
                })
        }
        (x, y) if x == y => None,
        _ => here(),
    }
}

/// The target body.
pub fn run(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if src.len() > yaml::MAX_INPUT_BYTES {
        return;
    }
    let Some(fast) = yaml::parse_fast_path_only(src) else {
        return;
    };
    let short: String = src.chars().take(400).collect();
    match yaml::parse_with_serde_saphyr(src) {
        Ok(slow) => {
            if let Some(d) = first_difference("doc", &fast, &slow) {
                panic!("fast and serde-saphyr trees differ: {d}\nin:\n{short}");
            }
            assert!(fast == slow, "trees differ outside the compared fields");
        }
        Err(e) => panic!(
            "fast path accepted what serde-saphyr rejects: {} at {:?}\nin:\n{short}",
            e.message, e.line_col0
        ),
    }
}
