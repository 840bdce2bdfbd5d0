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
/// far less than running the expression). It holds for ASCII text only.
pub fn required_literal(pattern: &str) -> Option<String> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    required(&hir, false)
}

/// As [`required_literal`], for every text once the prefilter has folded
/// the Kelvin sign and the long s to `k` and `s`: each character the
/// literal stands for is an ASCII letter in either case, or one of those
/// two. The prefilter's needles use it.
pub(crate) fn required_needle(hir: &Hir) -> Option<String> {
    required(hir, true)
}

fn required(hir: &Hir, strict: bool) -> Option<String> {
    let mut best = Vec::new();
    longest(hir, strict, &mut best);
    if best.is_empty() {
        return None;
    }
    String::from_utf8(best).ok()
}

/// The byte a node matches when it matches exactly one ASCII character up
/// to ASCII case, lowercase. Not `strict`: other, non-ASCII members of a
/// class are ignored (ASCII text never holds them). `strict`: the only
/// other members allowed are the Kelvin sign for `k` and the long s for
/// `s`, which the prefilter folds.
fn one_ascii_byte(hir: &Hir, strict: bool) -> Option<u8> {
    let folded = |ch: char| match ch {
        '\u{212A}' => Some(b'k'),
        '\u{017F}' => Some(b's'),
        _ => None,
    };
    let mut members: Vec<u8> = Vec::new();
    match hir.kind() {
        HirKind::Literal(lit) if lit.0.len() == 1 && lit.0[0].is_ascii() => {
            return Some(lit.0[0].to_ascii_lowercase());
        }
        HirKind::Class(Class::Unicode(c)) => {
            for ch in c.iter().flat_map(|r| r.start()..=r.end()).take(8) {
                if ch.is_ascii() {
                    members.push((ch as u8).to_ascii_lowercase());
                } else if strict {
                    members.push(folded(ch)?);
                }
            }
            if strict
                && c.iter()
                    .map(|r| r.end() as u32 - r.start() as u32 + 1)
                    .sum::<u32>()
                    > 8
            {
                return None;
            }
        }
        HirKind::Class(Class::Bytes(c)) => {
            for b in c.iter().flat_map(|r| r.start()..=r.end()).take(8) {
                if b.is_ascii() {
                    members.push(b.to_ascii_lowercase());
                } else if strict {
                    return None;
                }
            }
            if strict
                && c.iter()
                    .map(|r| u32::from(r.end() - r.start()) + 1)
                    .sum::<u32>()
                    > 8
            {
                return None;
            }
        }
        _ => return None,
    }
    let first = *members.first()?;
    members.iter().all(|&b| b == first).then_some(first)
}

/// Put in `best` the longest literal found so far that every match of
/// `hir` contains.
fn longest(hir: &Hir, strict: bool, best: &mut Vec<u8>) {
    match hir.kind() {
        HirKind::Literal(lit) => {
            let mut run = Vec::new();
            literal(&lit.0, strict, &mut run, best);
            keep(&run, best);
        }
        HirKind::Capture(c) => longest(&c.sub, strict, best),
        HirKind::Repetition(r) if r.min >= 1 => longest(&r.sub, strict, best),
        HirKind::Concat(parts) => {
            // Runs of single-character nodes are literals too.
            let mut run: Vec<u8> = Vec::new();
            for part in parts {
                if let Some(b) = one_ascii_byte(part, strict) {
                    run.push(b);
                    continue;
                }
                if let HirKind::Literal(lit) = part.kind() {
                    literal(&lit.0, strict, &mut run, best);
                    continue;
                }
                keep(&run, best);
                run.clear();
                longest(part, strict, best);
            }
            keep(&run, best);
        }
        _ => {}
    }
}

/// Extend `run` with a literal's bytes, lowercase. `strict`: a non-ASCII
/// byte ends the run (the needle is ASCII).
fn literal(bytes: &[u8], strict: bool, run: &mut Vec<u8>, best: &mut Vec<u8>) {
    for &b in bytes {
        if strict && !b.is_ascii() {
            keep(run, best);
            run.clear();
        } else {
            run.push(b.to_ascii_lowercase());
        }
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
    fn needles_stop_at_characters_the_prefilter_does_not_fold() {
        let hir = |p: &str| regex_syntax::Parser::new().parse(p).expect("parses");
        assert_eq!(
            required_needle(&hir("(?i)werfaultsecure")),
            Some("werfaultsecure".into())
        );
        assert_eq!(
            required_needle(&hir("abc[d\u{100}]efgh")),
            Some("efgh".into())
        );
        assert_eq!(required_needle(&hir("ab\u{e9}cdefg")), Some("cdefg".into()));
        assert_eq!(
            required_literal("abc[d\u{100}]efgh"),
            Some("abcdefgh".into())
        );
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
