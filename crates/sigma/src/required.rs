//! The longest literal that every match of a regular expression contains.
//!
//! Detection checks it before running the expression: on ASCII text, a
//! regex that needs `werfaultsecure` cannot match a value without it. The
//! literal is lowercase ASCII; a value's ASCII-lowercased text must contain
//! it. (Only ASCII text is decided this way: under `(?i)` Unicode case
//! folding lets a few non-ASCII characters match ASCII letters.)

use regex_syntax::hir::{Class, Hir, HirKind};

/// The longest literal every match of `pattern` contains, lowercase, when
/// there is one (a single byte is worth checking too: looking for it costs
/// far less than running the expression).
pub fn required_literal(pattern: &str) -> Option<String> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut best = Vec::new();
    longest(&hir, &mut best);
    if best.is_empty() {
        return None;
    }
    String::from_utf8(best).ok()
}

/// The byte a node matches when it matches exactly one ASCII character
/// (up to ASCII case, and the non-ASCII characters that case folding adds,
/// which ASCII text never holds), lowercase.
fn one_ascii_byte(hir: &Hir) -> Option<u8> {
    match hir.kind() {
        HirKind::Literal(lit) if lit.0.len() == 1 && lit.0[0].is_ascii() => {
            Some(lit.0[0].to_ascii_lowercase())
        }
        HirKind::Class(Class::Unicode(c)) => {
            let mut ascii = c
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .take(8)
                .filter(char::is_ascii)
                .map(|ch| (ch as u8).to_ascii_lowercase());
            let first = ascii.next()?;
            ascii.all(|b| b == first).then_some(first)
        }
        HirKind::Class(Class::Bytes(c)) => {
            let mut ascii = c
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .take(8)
                .filter(u8::is_ascii)
                .map(|b| b.to_ascii_lowercase());
            let first = ascii.next()?;
            ascii.all(|b| b == first).then_some(first)
        }
        _ => None,
    }
}

/// Put in `best` the longest literal found so far that every match of
/// `hir` contains.
fn longest(hir: &Hir, best: &mut Vec<u8>) {
    match hir.kind() {
        HirKind::Literal(lit) => keep(&lit.0.to_ascii_lowercase(), best),
        HirKind::Capture(c) => longest(&c.sub, best),
        HirKind::Repetition(r) if r.min >= 1 => longest(&r.sub, best),
        HirKind::Concat(parts) => {
            // Runs of single-character nodes are literals too.
            let mut run: Vec<u8> = Vec::new();
            for part in parts {
                if let Some(b) = one_ascii_byte(part) {
                    run.push(b);
                    continue;
                }
                if let HirKind::Literal(lit) = part.kind() {
                    run.extend(lit.0.to_ascii_lowercase());
                    continue;
                }
                keep(&run, best);
                run.clear();
                longest(part, best);
            }
            keep(&run, best);
        }
        _ => {}
    }
}

fn keep(candidate: &[u8], best: &mut Vec<u8>) {
    if candidate.len() > best.len() {
        best.clear();
        best.extend_from_slice(candidate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_words_are_required_literals() {
        let re = r#"(?i)\.exe["']?\s+[^"]{0,64}werfaultsecure\.exe["']?\s+\d{2,10}"#;
        assert_eq!(required_literal(re).as_deref(), Some("werfaultsecure.exe"));
    }

    #[test]
    fn alternatives_and_optional_parts_require_nothing() {
        assert_eq!(required_literal("(?i)(abcdef|ghijkl)"), None);
        assert_eq!(required_literal("(abcdef)?x"), Some("x".into()));
        assert_eq!(required_literal("x(abcdef)+"), Some("abcdef".into()));
    }

    #[test]
    fn cased_literals_are_lowercased() {
        assert_eq!(
            required_literal("Invoke-Expression"),
            Some("invoke-expression".into())
        );
    }

    #[test]
    fn absent_literals_give_none_and_short_ones_count() {
        assert_eq!(required_literal(r"\d+\s"), None);
        assert_eq!(required_literal("ab"), Some("ab".into()));
        assert_eq!(
            required_literal(r"\w+`(?:\w+|-|.)`[\w+|\s]"),
            Some("`".into())
        );
    }
}
