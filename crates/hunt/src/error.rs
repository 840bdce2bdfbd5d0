//! Errors that name what is wrong and where: a syntax error carries the
//! line and column and what was expected; a planning error names the table
//! or column with the closest known names.

use std::fmt;

/// A 1-based line and column (in characters) of the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    /// Byte offset in the query text.
    pub offset: usize,
}

impl Pos {
    /// The position of byte `offset` in `src`.
    pub fn of(src: &str, offset: usize) -> Pos {
        let offset = offset.min(src.len());
        let before = src.get(..offset).unwrap_or(src);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            offset,
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The query text is not KQL this subset reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub pos: Pos,
    pub message: String,
    /// What would have been accepted here, as shown to people (`` `by` ``).
    pub expected: Vec<String>,
}

impl ParseError {
    pub fn new(pos: Pos, message: String, expected: Vec<String>) -> Self {
        ParseError {
            pos,
            message,
            expected,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.message, self.pos)?;
        if !self.expected.is_empty() && !self.message.starts_with("expected") {
            write!(f, " (expected {})", or_list(&self.expected))?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// `a`, `a or b`, `a, b or c`.
pub fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Anything that stops a query: syntax, names, types or unsupported
/// constructs. Every variant carries the position it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HuntError {
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// A name, type or construct problem found while planning.
    #[error("{message} at {pos}")]
    Plan { pos: Pos, message: String },
}

impl HuntError {
    pub fn plan(pos: Pos, message: impl Into<String>) -> Self {
        HuntError::Plan {
            pos,
            message: message.into(),
        }
    }

    pub fn pos(&self) -> Pos {
        match self {
            HuntError::Parse(p) => p.pos,
            HuntError::Plan { pos, .. } => *pos,
        }
    }

    /// The message without the position.
    pub fn message(&self) -> String {
        match self {
            HuntError::Parse(p) => {
                let full = p.to_string();
                full.replacen(&format!(" at {}", p.pos), "", 1)
            }
            HuntError::Plan { message, .. } => message.clone(),
        }
    }
}

/// Edit distance (Levenshtein, case-insensitive) for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The known names closest to `wanted` (at most three, close enough to be
/// a likely typo, or names that contain it).
pub fn suggest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let lower = wanted.to_lowercase();
    let mut scored: Vec<(usize, &str)> = known
        .into_iter()
        .filter_map(|k| {
            let d = distance(wanted, k);
            let limit = (wanted.chars().count() / 3).max(2);
            let contains = lower.len() >= 4 && k.to_lowercase().contains(&lower);
            (d <= limit || contains).then_some((if contains { d.min(limit) } else { d }, k))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    // Only the closest: a list of near misses hides the likely one.
    let best = scored.first().map_or(0, |s| s.0);
    scored
        .into_iter()
        .filter(|s| s.0 == best)
        .take(3)
        .map(|(_, k)| format!("`{k}`"))
        .collect()
}

/// ` (did you mean `X` or `Y`?)`, or nothing.
pub fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", or_list(suggestions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let src = "T\n| where é == 1";
        let p = Pos::of(src, src.find("==").expect("op"));
        assert_eq!((p.line, p.column), (2, 11));
    }

    #[test]
    fn a_typo_suggests_the_closest_names() {
        let s = suggest("DeviceNme", ["DeviceName", "DeviceId", "FileName"]);
        assert_eq!(s, vec!["`DeviceName`".to_owned()]);
        assert!(suggest("Zzzzzz", ["DeviceName"]).is_empty());
    }
}
