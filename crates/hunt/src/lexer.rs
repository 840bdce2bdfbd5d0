//! Tokens of the KQL subset, each with its byte offset (positions in
//! errors are computed from it).

use crate::error::{ParseError, Pos};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// A string literal's value (escapes resolved).
    Str(String),
    Long(i64),
    Real(f64),
    /// A timespan literal, in microseconds (`7d`, `90m`, `1.5h`).
    Span(i64),
    /// The raw text inside `datetime(…)` when it is not a string literal.
    DateText(String),
    /// An operator or punctuation (`|`, `==`, `!has`, `project-away`, …).
    Sym(&'static str),
    Eof,
}

impl Tok {
    /// How errors show the token.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(_) => "a string".into(),
            Tok::Long(n) => format!("`{n}`"),
            Tok::Real(n) => format!("`{n}`"),
            Tok::Span(_) => "a timespan".into(),
            Tok::DateText(t) => format!("`{t}`"),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::Eof => "end of query".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub at: usize,
}

/// Operators that begin with `!` and are words.
const BANG_WORDS: [&str; 8] = [
    "!has_cs",
    "!has",
    "!contains_cs",
    "!contains",
    "!startswith",
    "!endswith",
    "!in~",
    "!in",
];

/// Symbols, longest first.
const SYMBOLS: [&str; 23] = [
    "==", "!=", "=~", "!~", "<=", ">=", "=", "<", ">", "(", ")", "[", "]", ",", "|", ";", ".", "+",
    "-", "*", "/", "%", "~",
];

/// Words joined by `-` that are one operator name.
const DASHED: [&str; 4] = ["project-away", "project-rename", "project-keep", "order-by"];

pub fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        if c == b'"' || c == b'\'' {
            let (s, next) = string(src, i + 1, c, true)?;
            out.push(Token {
                tok: Tok::Str(s),
                at: start,
            });
            i = next;
            continue;
        }
        if c == b'@' && matches!(b.get(i + 1), Some(b'"' | b'\'')) {
            let (s, next) = string(src, i + 2, b[i + 1], false)?;
            out.push(Token {
                tok: Tok::Str(s),
                at: start,
            });
            i = next;
            continue;
        }
        if c.is_ascii_digit() {
            let (tok, next) = number(src, i)?;
            out.push(Token { tok, at: start });
            i = next;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            let mut word = &src[i..j];
            for d in DASHED {
                // Compared as bytes: `i + d.len()` may fall inside a multi-byte
                // character of the query (fuzzing found it), never a `str` slice.
                if b.len() - i >= d.len() && b[i..i + d.len()].eq_ignore_ascii_case(d.as_bytes()) {
                    let end = i + d.len();
                    if !b
                        .get(end)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    {
                        word = &src[i..end];
                        j = end;
                    }
                }
            }
            out.push(Token {
                tok: Tok::Ident(word.to_owned()),
                at: start,
            });
            i = j;
            if word == "datetime"
                && let Some((text, next)) = date_text(src, i)
            {
                {
                    out.push(Token {
                        tok: Tok::Sym("("),
                        at: i,
                    });
                    out.push(Token {
                        tok: Tok::DateText(text),
                        at: i + 1,
                    });
                    out.push(Token {
                        tok: Tok::Sym(")"),
                        at: next - 1,
                    });
                    i = next;
                }
            }
            continue;
        }
        if c == b'!' {
            #[allow(clippy::collapsible_if)]
            if let Some(w) = BANG_WORDS.iter().find(|w| {
                let end = i + w.len();
                // Bytes, not a `str` slice: `end` may fall inside a
                // multi-byte character (fuzzing found it).
                b.len() >= end
                    && b[i..end].eq_ignore_ascii_case(w.as_bytes())
                    && !b
                        .get(end)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            }) {
                out.push(Token {
                    tok: Tok::Sym(w),
                    at: start,
                });
                i += w.len();
                continue;
            }
        }
        if let Some(s) = SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
            out.push(Token {
                tok: Tok::Sym(s),
                at: start,
            });
            i += s.len();
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('?');
        return Err(ParseError::new(
            Pos::of(src, i),
            format!("unexpected character `{ch}`"),
            Vec::new(),
        ));
    }
    out.push(Token {
        tok: Tok::Eof,
        at: src.len(),
    });
    Ok(out)
}

/// A string body from `i` (after the opening quote); `escapes` off for
/// verbatim `@"…"` strings, where a doubled quote is one quote.
fn string(
    src: &str,
    mut i: usize,
    quote: u8,
    escapes: bool,
) -> Result<(String, usize), ParseError> {
    let start = i - 1;
    let b = src.as_bytes();
    let mut out = String::new();
    let mut run = i;
    while i < b.len() {
        let c = b[i];
        if c == quote {
            out.push_str(&src[run..i]);
            if !escapes && b.get(i + 1) == Some(&quote) {
                out.push(char::from(quote));
                i += 2;
                run = i;
                continue;
            }
            return Ok((out, i + 1));
        }
        if escapes && c == b'\\' {
            out.push_str(&src[run..i]);
            let Some(&e) = b.get(i + 1) else { break };
            match e {
                b'n' => out.push('\n'),
                b't' => out.push('\t'),
                b'r' => out.push('\r'),
                b'\\' => out.push('\\'),
                b'"' => out.push('"'),
                b'\'' => out.push('\''),
                _ => {
                    return Err(ParseError::new(
                        Pos::of(src, i),
                        format!(
                            "unknown escape `\\{}` in string (use `\\\\` for a backslash, or a verbatim string @\"…\")",
                            char::from(e)
                        ),
                        Vec::new(),
                    ));
                }
            }
            i += 2;
            run = i;
            continue;
        }
        i += 1;
    }
    Err(ParseError::new(
        Pos::of(src, start),
        "string is not closed".into(),
        vec![format!("`{}`", char::from(quote))],
    ))
}

/// Microseconds per timespan unit.
fn unit_micros(unit: &str) -> Option<f64> {
    Some(match unit {
        "d" | "day" | "days" => 86_400e6,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600e6,
        "m" | "min" | "minute" | "minutes" => 60e6,
        "s" | "sec" | "second" | "seconds" => 1e6,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1e3,
        "microsecond" | "microseconds" => 1.0,
        _ => return None,
    })
}

fn number(src: &str, i: usize) -> Result<(Tok, usize), ParseError> {
    let b = src.as_bytes();
    let mut j = i;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    let mut real = false;
    if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        real = true;
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
    }
    let digits = &src[i..j];
    let mut k = j;
    while k < b.len() && b[k].is_ascii_alphabetic() {
        k += 1;
    }
    let bad = |what: String| ParseError::new(Pos::of(src, i), what, Vec::new());
    if k > j {
        let unit = &src[j..k];
        let Some(per) = unit_micros(unit) else {
            return Err(bad(format!(
                "unknown timespan unit `{unit}` (use d, h, m, s or ms)"
            )));
        };
        let n: f64 = digits
            .parse()
            .map_err(|_| bad(format!("bad number `{digits}`")))?;
        let micros = n * per;
        if !micros.is_finite() || micros.abs() > 9.0e18 {
            return Err(bad(format!("timespan `{digits}{unit}` is too large")));
        }
        #[allow(clippy::cast_possible_truncation)]
        return Ok((Tok::Span(micros.round() as i64), k));
    }
    if real {
        let n: f64 = digits
            .parse()
            .map_err(|_| bad(format!("bad number `{digits}`")))?;
        Ok((Tok::Real(n), j))
    } else {
        let n: i64 = digits
            .parse()
            .map_err(|_| bad(format!("number `{digits}` is too large")))?;
        Ok((Tok::Long(n), j))
    }
}

/// `datetime(2026-11-27 10:00)`: the unquoted text up to `)`, when the
/// argument is not a string literal.
fn date_text(src: &str, i: usize) -> Option<(String, usize)> {
    let rest = &src[i..];
    let open = rest.find(|c: char| !c.is_whitespace())?;
    if !rest[open..].starts_with('(') {
        return None;
    }
    let inner_start = i + open + 1;
    let inner = &src[inner_start..];
    let trimmed = inner.trim_start();
    if trimmed.starts_with(['"', '\'', '@']) || trimmed.starts_with(')') {
        return None;
    }
    let close = inner.find(')')?;
    Some((inner[..close].trim().to_owned(), inner_start + close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).expect("lex").into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn operators_with_a_bang_and_dashed_names_are_one_token() {
        assert_eq!(
            toks("T | project-away A | where B !has 'x' and C !in (1)"),
            vec![
                Tok::Ident("T".into()),
                Tok::Sym("|"),
                Tok::Ident("project-away".into()),
                Tok::Ident("A".into()),
                Tok::Sym("|"),
                Tok::Ident("where".into()),
                Tok::Ident("B".into()),
                Tok::Sym("!has"),
                Tok::Str("x".into()),
                Tok::Ident("and".into()),
                Tok::Ident("C".into()),
                Tok::Sym("!in"),
                Tok::Sym("("),
                Tok::Long(1),
                Tok::Sym(")"),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn timespans_are_microseconds() {
        assert_eq!(toks("7d")[0], Tok::Span(7 * 86_400_000_000));
        assert_eq!(toks("1.5h")[0], Tok::Span(5_400_000_000));
        assert_eq!(toks("100ms")[0], Tok::Span(100_000));
    }

    #[test]
    fn strings_resolve_escapes_and_verbatim_strings_do_not() {
        assert_eq!(toks(r#""a\"b\\c""#)[0], Tok::Str(r#"a"b\c"#.into()));
        assert_eq!(toks(r#"@"C:\Windows""#)[0], Tok::Str(r"C:\Windows".into()));
        assert_eq!(toks(r"'it''s'")[0], Tok::Str("it".into()));
    }

    #[test]
    fn an_unquoted_datetime_is_kept_as_text() {
        assert_eq!(
            toks("datetime(2026-11-27 10:00)"),
            vec![
                Tok::Ident("datetime".into()),
                Tok::Sym("("),
                Tok::DateText("2026-11-27 10:00".into()),
                Tok::Sym(")"),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn an_unclosed_string_names_its_start() {
        let e = lex("T | where A == 'abc").expect_err("unclosed");
        assert_eq!(e.to_string(), "string is not closed at 1:16 (expected `'`)");
    }
}
