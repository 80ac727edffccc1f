//! The text targets: the condition lexer, parser and type checker, and output format strings.

use frule_lang::lexer;

type Matcher = fn(&str) -> usize;

const MATCHERS: [Matcher; 7] = [
    lexer::not_blank,
    lexer::identifier,
    lexer::field_name,
    lexer::field_arg_bare_str,
    lexer::hex_number,
    lexer::number,
    lexer::bare_str,
];

/// Arbitrary text through every token matcher of the condition lexer, at every offset: a matcher
/// returns a length within the input, on a character boundary, and never panics.
pub fn lex(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (start, _) in text.char_indices().take(64) {
        let rest = text.get(start..).unwrap_or_default();
        for matcher in MATCHERS {
            let n = matcher(rest);
            assert!(n <= rest.len(), "token longer than the input");
            assert!(rest.is_char_boundary(n), "token ends inside a character");
        }
    }
}

/// Arbitrary bytes as a condition: the parser returns a tree or a located error, never panics; a tree
/// prints (Falco's `condition_compiled` form, not always re-parseable: spec A.3).
pub fn parse_condition(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match frule_lang::parser::parse_condition(text) {
        Ok(expr) => {
            let _ = frule_lang::print::condition_to_string(&expr);
        }
        Err(err) => {
            assert!(
                err.offset as usize <= text.len(),
                "error offset past the end of the input"
            );
        }
    }
}

/// Arbitrary conditions through the parser and the type checker: every issue is located inside the
/// condition, nothing panics.
pub fn check_condition(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expr) = frule_lang::parser::parse_condition(text) else {
        return;
    };
    for issue in frule_lang::check::check_condition(&expr) {
        assert!(
            issue.span.start as usize <= text.len(),
            "issue located past the end"
        );
    }
    let _ = frule_lang::evttypes::evttypes_of(&expr);
}

/// Output format strings (`%proc.name`, `%toupper(user.name)`, widths, `*`): parsing never panics.
pub fn format_output(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = frule_lang::output::parse_output(text);
    let _ = frule_lang::output::strip_container_info(text);
}
