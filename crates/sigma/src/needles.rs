//! The literals one of which must occur in an event for a rule to match.
//!
//! Detection searches an event's values for every rule's literals and
//! evaluates only the rules whose literals occurred in the field they were
//! written for (plus the rules that have none). That is sound only if every
//! match of the rule contains one of its needles in that field, so the
//! analysis is conservative: whatever it cannot prove (negations, numbers,
//! `null`, comparisons, `cidr`, `exists`, `fieldref`, wildcards-only values,
//! regexes without finite prefix or suffix literals) makes the
//! sub-expression `Any`, and `Any` spreads upwards through `or` but is
//! dropped by `and` when a sibling has needles. Literals come from plain
//! values (their longest run of ASCII and of symbols without case), from
//! regex prefix or suffix literals,
//! and from the stable middle of base64 encodings.
//!
//! Needles are lowercase ASCII (and symbols that have no case) and are
//! matched ASCII-case-insensitively, so `cased` values stay sound too. A
//! value without such a run of [`MIN_RUN`] bytes but with a character
//! that stays non-ASCII when lowercased (Cyrillic or Greek letters) gives a
//! non-ASCII needle instead: a match needs some non-ASCII character in
//! the field, since lowercasing ASCII text never gives one.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsigma_parser::{DetectionItem, Modifier, SigmaRule, SigmaValue, StringPart};

use crate::analysis::{self, Analysis, Context, Fact, or};

/// What the prefilter knows about a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needles {
    /// No literal is certain: evaluate the rule on every routed event.
    Any,
    /// At least one of these occurs in every match.
    OneOf(Vec<Needle>),
}

/// A literal that occurs in a match, and where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Needle {
    /// Lowercase ASCII and caseless symbols; empty for a non-ASCII needle.
    pub literal: String,
    /// The field whose value holds it; `None` for keywords (any field).
    pub field: Option<String>,
    /// Not a literal: some non-ASCII character occurs in the field.
    pub non_ascii: bool,
}

impl Needle {
    fn literal(literal: String) -> Needle {
        Needle {
            literal,
            field: None,
            non_ascii: false,
        }
    }
}

/// Base64 needles shorter than this are not kept (their stable middle is
/// too short to say anything).
const MIN_STABLE: usize = 3;

/// A value whose longest [`stable_run`] is shorter than this gives a
/// non-ASCII needle when it has a character that lowercases to one.
const MIN_RUN: usize = 3;

type Need = Fact<Needle>;

/// The analysis; `and` prefers the sides with no `excluded` needle (the
/// needles of the sets found before), so that a run after the first finds
/// another set where the rule's detection has one.
struct NeedleAnalysis<'a> {
    excluded: &'a BTreeSet<Needle>,
}

impl Analysis for NeedleAnalysis<'_> {
    type Item = Needle;

    fn item(&self, it: &DetectionItem) -> Need {
        item(it)
    }

    fn keywords(&self, values: &[SigmaValue]) -> Need {
        values
            .iter()
            .map(|v| literals(v, &Transform::default()))
            .fold(Some(BTreeSet::new()), or)
    }

    /// The [`best`] of needs that must all hold.
    fn and(&self, parts: Vec<Need>) -> Need {
        best(parts, self.excluded)
    }
}

/// The needles of a rule (after any rewrite).
pub fn of_rule(rule: &SigmaRule, ctx: Context) -> Needles {
    let none = BTreeSet::new();
    match analysis::rule(&NeedleAnalysis { excluded: &none }, rule, ctx) {
        Some(set) => Needles::OneOf(set.into_iter().collect()),
        None => Needles::Any,
    }
}

/// Up to `max` further needle sets of a rule whose needles are `first`:
/// each also has a needle in every match. Each comes from the analysis run
/// again preferring, at every `and`, a side without the needles of the
/// sets before it; a set that says no more than one before it (it holds
/// all of that one's needles) ends the search. A rule `all of selection_*`
/// whose first needles are a common image name (`\cmd.exe`) gets the
/// literals of its command line too, and the prefilter admits it only when
/// both occur.
pub fn more_of_rule(
    rule: &SigmaRule,
    ctx: Context,
    first: &Needles,
    max: usize,
) -> Vec<Vec<Needle>> {
    let Needles::OneOf(first) = first else {
        return Vec::new();
    };
    let mut sets: Vec<BTreeSet<Needle>> = vec![first.iter().cloned().collect()];
    let mut excluded: BTreeSet<Needle> = sets[0].clone();
    while sets.len() <= max {
        let analysis = NeedleAnalysis {
            excluded: &excluded,
        };
        let Some(set) = analysis::rule(&analysis, rule, ctx) else {
            break;
        };
        let redundant = sets.iter().any(|s| s.is_subset(&set));
        if redundant || !selective(&set) || strength(&set) < MIN_FURTHER_STRENGTH {
            break;
        }
        excluded.extend(set.iter().cloned());
        sets.push(set);
    }
    sets.into_iter()
        .skip(1)
        .map(|set| set.into_iter().collect())
        .collect()
}

/// The best of needs that all hold: one without an `excluded` needle,
/// then the one whose shortest literal is longest (up to 16 bytes), then
/// the one with fewer literals.
fn best(needs: impl IntoIterator<Item = Need>, excluded: &BTreeSet<Needle>) -> Need {
    needs
        .into_iter()
        .flatten()
        .filter(|set| !set.is_empty())
        .max_by_key(|set| {
            (
                set.is_disjoint(excluded),
                strength(set),
                usize::MAX - set.len(),
            )
        })
}

/// Literals that occur in most Windows events of the kind whose fields
/// hold them (booleans, integrity levels, the executable and library
/// extensions, the system folders): finding one says next to nothing.
const COMMON: [&str; 16] = [
    "true",
    "false",
    "high",
    "medium",
    "low",
    "system",
    ".exe",
    ".dll",
    "c:\\",
    "c:\\windows\\",
    "\\windows\\",
    ":\\windows\\",
    "\\system32\\",
    "c:\\windows\\system32\\",
    "\\system32",
    "c:\\windows\\system32",
];

/// How much finding a needle of the set says: the length of its shortest
/// literal (up to 16), 1 for a [`COMMON`] literal, 8 for a non-ASCII
/// needle.
fn strength(set: &BTreeSet<Needle>) -> usize {
    set.iter()
        .map(|n| {
            if n.non_ascii {
                // Values with a non-ASCII character are uncommon.
                8
            } else if COMMON.contains(&n.literal.as_str()) {
                1
            } else if n.literal.len() < 4 && n.literal.bytes().any(|b| RARE.contains(&b)) {
                4
            } else {
                n.literal.len().min(16)
            }
        })
        .min()
        .unwrap_or(0)
}

/// Characters rare in Windows event values: a short literal with one
/// (`<` in a command line) says as much as four ordinary bytes.
const RARE: &[u8] = b"<>|^`";

/// Further sets weaker than this are not kept: the literals of one to
/// three bytes and the [`COMMON`] ones occur in most events that hold
/// the first set's, and each occurrence costs the prefilter work.
const MIN_FURTHER_STRENGTH: usize = 4;

fn item(it: &DetectionItem) -> Need {
    if it.field.has_modifier(Modifier::Re) {
        return regex_item(it);
    }
    let mut transform = Transform::default();
    for m in &it.field.modifiers {
        match m {
            Modifier::Contains
            | Modifier::StartsWith
            | Modifier::EndsWith
            | Modifier::All
            | Modifier::Cased => {}
            Modifier::Base64 => transform.base64 = true,
            Modifier::Base64Offset => transform.base64offset = true,
            Modifier::Wide => transform.utf16 = Some(Utf16::Le),
            Modifier::Utf16be => transform.utf16 = Some(Utf16::Be),
            Modifier::Utf16 => transform.utf16 = Some(Utf16::Bom),
            _ => return None,
        }
    }
    if it.values.is_empty() {
        return None;
    }
    let field = it.field.name.clone();
    let lits = it.values.iter().map(|v| {
        literals(v, &transform).map(|set| {
            set.into_iter()
                .map(|n| Needle {
                    field: field.clone(),
                    ..n
                })
                .collect()
        })
    });
    if it.field.has_modifier(Modifier::All) {
        best(lits, &BTreeSet::new())
    } else {
        lits.fold(Some(BTreeSet::new()), or)
    }
}

/// `field|re: pattern`: every match starts with one of the pattern's prefix
/// literals, or ends with one of its suffix literals, when those sets are
/// finite, and contains its required literal (see `required`), when it has
/// one. The best of the three gives the needles.
fn regex_item(it: &DetectionItem) -> Need {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let only_flags = it.field.modifiers.iter().all(|m| {
        matches!(
            m,
            Modifier::Re | Modifier::IgnoreCase | Modifier::Multiline | Modifier::DotAll
        )
    });
    if !only_flags || it.values.is_empty() {
        return None;
    }
    let field = it.field.name.clone();
    let mut all: Need = Some(BTreeSet::new());
    for v in &it.values {
        let SigmaValue::String(s) = v else {
            return None;
        };
        let hir = regex_syntax::Parser::new().parse(&s.original).ok()?;
        // A literal every match contains, anywhere, is a third choice
        // (first, so that the prefix or suffix wins a tie).
        let required = crate::required::required_needle(&hir).map(|literal| {
            BTreeSet::from([Needle {
                field: field.clone(),
                ..Needle::literal(literal)
            }])
        });
        let best = required
            .into_iter()
            .chain(
                [ExtractKind::Prefix, ExtractKind::Suffix]
                    .into_iter()
                    .filter_map(|kind| {
                        let seq = Extractor::new().kind(kind).extract(&hir);
                        let mut set = BTreeSet::new();
                        for lit in seq.literals()? {
                            let run = lit
                                .as_bytes()
                                .split(|b| !b.is_ascii())
                                .max_by_key(|r| r.len())
                                .filter(|r| !r.is_empty())?;
                            set.insert(Needle {
                                field: field.clone(),
                                ..Needle::literal(String::from_utf8_lossy(run).to_ascii_lowercase())
                            });
                        }
                        Some(set)
                    }),
            )
            .max_by_key(|set| set.iter().map(|n| n.literal.len()).min().unwrap_or(0));
        all = or(all, best);
    }
    all
}

#[derive(Debug, Clone, Copy)]
enum Utf16 {
    Le,
    Be,
    Bom,
}

/// Value transformations a needle must go through too.
#[derive(Debug, Default)]
struct Transform {
    base64: bool,
    base64offset: bool,
    utf16: Option<Utf16>,
}

/// The needles one value gives: alternatives, one of which occurs in any
/// text the value matches.
fn literals(v: &SigmaValue, t: &Transform) -> Need {
    let SigmaValue::String(s) = v else {
        return None;
    };
    if !t.base64 && !t.base64offset {
        // A wide string alone is text with NULs between characters: no needle.
        if t.utf16.is_some() {
            return None;
        }
        let run = stable_run(s);
        if run.as_ref().is_none_or(|r| r.len() < MIN_RUN) && lowers_to_non_ascii(s) {
            return Some(BTreeSet::from([Needle {
                non_ascii: true,
                ..Needle::literal(String::new())
            }]));
        }
        return run.map(|literal| BTreeSet::from([Needle::literal(literal)]));
    }
    // Encodings need the whole value: wildcards make it unknowable.
    let mut text = String::new();
    for p in &s.parts {
        match p {
            StringPart::Plain(t) => text.push_str(t),
            StringPart::Special(_) => return None,
        }
    }
    let bytes = match t.utf16 {
        None => text.into_bytes(),
        Some(kind) => {
            let mut b = Vec::new();
            if let Utf16::Bom = kind {
                b.extend_from_slice(&[0xFF, 0xFE]);
            }
            for unit in text.encode_utf16() {
                match kind {
                    Utf16::Be => b.extend_from_slice(&unit.to_be_bytes()),
                    Utf16::Le | Utf16::Bom => b.extend_from_slice(&unit.to_le_bytes()),
                }
            }
            b
        }
    };
    let encoded: Vec<String> = if t.base64 {
        vec![STANDARD.encode(&bytes)]
    } else {
        (0..3)
            .map(|offset| {
                let mut padded = vec![0u8; offset];
                padded.extend_from_slice(&bytes);
                let e = STANDARD.encode(&padded);
                // Characters that depend on the neighbouring bytes are dropped.
                let start = (offset * 4).div_ceil(3);
                e.get(start..).unwrap_or_default().to_owned()
            })
            .collect()
    };
    let mut set = BTreeSet::new();
    for e in encoded {
        // The last characters depend on what follows: keep only the stable middle.
        let stable = e.trim_end_matches('=');
        let stable = &stable[..stable.len().saturating_sub(3)];
        if stable.len() < MIN_STABLE {
            return None;
        }
        set.insert(Needle::literal(stable.to_ascii_lowercase()));
    }
    Some(set)
}

/// Whether `c` is a non-ASCII symbol or space that Unicode case rules
/// leave alone: it lowercases and uppercases to itself and no other
/// character lowercases to it (punctuation, spaces, arrows, box drawing,
/// Braille, emoji; not letters, marks or digits). Such a character is
/// the same in a value and in its lowercase form, so a needle may keep it
/// (the Braille blank of `'⠀⠀⠀.exe'`).
fn caseless(c: char) -> bool {
    let symbols = matches!(
        u32::from(c),
        0x00A0..=0x00BF | 0x2000..=0x2BFF | 0x3000..=0x303F | 0x1F000..=0x1FAFF
    );
    symbols
        && !c.is_alphanumeric()
        && c.to_lowercase().eq(std::iter::once(c))
        && c.to_uppercase().eq(std::iter::once(c))
}

/// Whether some plain character of the value lowercases to a non-ASCII
/// one (the Kelvin sign, say, lowercases to `k`: it does not count).
fn lowers_to_non_ascii(s: &rsigma_parser::SigmaString) -> bool {
    s.parts.iter().any(|p| match p {
        StringPart::Plain(t) => t.chars().any(|c| c.to_lowercase().any(|l| !l.is_ascii())),
        StringPart::Special(_) => false,
    })
}

/// The longest run of ASCII text and [`caseless`] characters without
/// wildcards in a string value, lowercased. Any part of a literal is as
/// necessary as the whole.
fn stable_run(s: &rsigma_parser::SigmaString) -> Option<String> {
    let best = s
        .parts
        .iter()
        .filter_map(|p| match p {
            StringPart::Plain(t) => Some(t.as_str()),
            StringPart::Special(_) => None,
        })
        .flat_map(|t| t.split(|c: char| !c.is_ascii() && !caseless(c)))
        .max_by_key(|t| t.len())?;
    if best.is_empty() {
        return None;
    }
    Some(best.to_ascii_lowercase())
}

/// Every needle is a non-empty literal or a non-ASCII one.
fn selective<'a>(needles: impl IntoIterator<Item = &'a Needle>) -> bool {
    needles
        .into_iter()
        .all(|l| l.non_ascii || !l.literal.is_empty())
}

impl Needles {
    /// Whether the prefilter can skip this rule on events lacking all
    /// needles (every needle is a non-empty literal or a non-ASCII one).
    pub fn is_selective(&self) -> bool {
        matches!(self, Needles::OneOf(n) if selective(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needles(yaml: &str) -> Needles {
        let c = rsigma_parser::parse_sigma_yaml(yaml).expect("parses");
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        of_rule(&c.rules[0], Context::default())
    }

    fn rule(detection: &str) -> String {
        format!("title: t\nlogsource: {{product: windows}}\ndetection:\n{detection}\n")
    }

    /// The literals of a rule's needles, sorted, for comparison.
    fn one_of(lits: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = lits.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        v
    }

    fn literals_of(n: &Needles) -> Vec<String> {
        match n {
            Needles::Any => vec!["<any>".into()],
            Needles::OneOf(v) => {
                let mut l: Vec<String> = v
                    .iter()
                    .map(|n| {
                        if n.non_ascii {
                            "<non-ascii>".into()
                        } else {
                            n.literal.clone()
                        }
                    })
                    .collect();
                l.sort();
                l.dedup();
                l
            }
        }
    }

    #[test]
    fn a_selection_picks_its_most_selective_field() {
        let n = needles(&rule(
            "  sel:\n    Image|endswith: '\\rundll32.exe'\n    CommandLine|contains: ['a', 'b']\n  condition: sel",
        ));
        assert_eq!(literals_of(&n), one_of(&["\\rundll32.exe"]));
    }

    #[test]
    fn alternatives_are_united_and_wildcards_split_literals() {
        let n = needles(&rule(
            "  a:\n    CommandLine|contains: 'Invoke-Mimikatz'\n  b:\n    Image: '*\\procdump*.exe'\n  condition: a or b",
        ));
        assert_eq!(literals_of(&n), one_of(&["\\procdump", "invoke-mimikatz"]));
    }

    #[test]
    fn negations_regexes_and_numbers_give_no_needle() {
        for det in [
            "  a:\n    Image|re: 'a|b*'\n  condition: a",
            "  a:\n    Image: 'x.exe'\n  condition: not a",
            "  a:\n    EventID: 4688\n  condition: a",
            "  a:\n    Image: null\n  condition: a",
            "  a:\n    Image|base64offset|contains: 'ht'\n  condition: a",
            "  a:\n    Image|wide|contains: 'http'\n  condition: a",
        ] {
            assert_eq!(needles(&rule(det)), Needles::Any, "{det}");
        }
    }

    #[test]
    fn and_keeps_the_known_side_of_a_negation() {
        let n = needles(&rule(
            "  sel:\n    Image|endswith: '\\whoami.exe'\n  filter:\n    User: 'SYSTEM'\n  condition: sel and not filter",
        ));
        assert_eq!(literals_of(&n), one_of(&["\\whoami.exe"]));
    }

    #[test]
    fn selectors_follow_their_quantifier() {
        let n = needles(&rule(
            "  sel_a:\n    CommandLine|contains: 'alpha'\n  sel_b:\n    CommandLine|contains: 'bravo1'\n  condition: 1 of sel_*",
        ));
        assert_eq!(literals_of(&n), one_of(&["alpha", "bravo1"]));
        let n = needles(&rule(
            "  sel_a:\n    CommandLine|contains: 'alpha'\n  sel_b:\n    CommandLine|contains: 'bravo1'\n  condition: all of sel_*",
        ));
        assert_eq!(literals_of(&n), one_of(&["bravo1"]));
    }

    #[test]
    fn keywords_are_needles_and_all_picks_one_value() {
        let n = needles(&rule(
            "  keywords:\n    - 'Mimikatz'\n    - 'sekurlsa'\n  condition: keywords",
        ));
        assert_eq!(literals_of(&n), one_of(&["mimikatz", "sekurlsa"]));
        let n = needles(&rule(
            "  sel:\n    CommandLine|contains|all: [' -w ', 'hidden-window']\n  condition: sel",
        ));
        assert_eq!(literals_of(&n), one_of(&["hidden-window"]));
    }

    #[test]
    fn non_ascii_text_leaves_its_longest_run_without_letters_that_have_case() {
        // Punctuation and spaces outside ASCII have no case: they stay.
        let n = needles(&rule(
            "  sel:\n    Description: 'GnuPG’s OpenPGP tool'\n  condition: sel",
        ));
        assert_eq!(literals_of(&n), one_of(&["gnupg’s openpgp tool"]));
        let n = needles(&rule(
            "  sel:\n    Image|endswith: '⠀⠀⠀⠀⠀⠀.exe'\n  condition: sel",
        ));
        assert_eq!(literals_of(&n), one_of(&["⠀⠀⠀⠀⠀⠀.exe"]));
        let n = needles(&rule(
            "  sel:\n    CommandLine|contains: 'Ärger'\n  condition: sel",
        ));
        assert_eq!(literals_of(&n), one_of(&["rger"]));
    }

    #[test]
    fn text_without_an_ascii_run_needs_a_non_ascii_character_in_its_field() {
        // Cyrillic and Greek letters beside a dash: letters have case.
        for value in ["'\u{430}-'", "'\u{3A9}-'"] {
            let n = needles(&rule(&format!(
                "  sel:\n    CommandLine|contains: {value}\n  condition: sel"
            )));
            assert_eq!(literals_of(&n), one_of(&["<non-ascii>"]), "{value}");
            assert!(n.is_selective());
        }
        // An emoji and a right-to-left override have none: they are
        // literals themselves.
        for value in ["\u{1F608}", "\u{202E}"] {
            let n = needles(&rule(&format!(
                "  sel:\n    CommandLine|contains: '{value}'\n  condition: sel"
            )));
            assert_eq!(literals_of(&n), one_of(&[value]), "{value}");
        }
        // The Kelvin sign lowercases to `k`: an ASCII value may match it.
        let n = needles(&rule(
            "  sel:\n    CommandLine|contains: 'K'\n  condition: sel",
        ));
        assert_eq!(n, Needles::Any);
    }

    /// A rule's needles and its further needle sets (up to three), as
    /// sorted literals.
    fn sets_of(detection: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let c = rsigma_parser::parse_sigma_yaml(&rule(detection)).expect("parses");
        let first = of_rule(&c.rules[0], Context::default());
        let mut more: Vec<Vec<String>> = more_of_rule(&c.rules[0], Context::default(), &first, 3)
            .into_iter()
            .map(|set| literals_of(&Needles::OneOf(set)))
            .collect();
        more.sort();
        (literals_of(&first), more)
    }

    #[test]
    fn further_needle_sets_come_from_the_other_sides_of_an_and() {
        let (first, more) = sets_of(
            "  selection_img:\n    - Image|endswith: '\\cmd.exe'\n    - OriginalFileName: 'Cmd.Exe'\n  selection_del:\n    CommandLine|contains: ['del ', 'erase ']\n  selection_ext:\n    CommandLine|contains: ['.au3', '.cpl']\n  condition: all of selection_*",
        );
        assert_eq!(first, one_of(&["\\cmd.exe", "cmd.exe"]));
        assert_eq!(
            more,
            [one_of(&[".au3", ".cpl"]), one_of(&["del ", "erase "])]
        );
        // An `or` of items alone has no other side: nothing further.
        let (_, more) = sets_of(
            "  a:\n    Image|endswith: '\\a.exe'\n  b:\n    CommandLine|contains: 'xyz'\n  condition: a or b",
        );
        assert!(more.is_empty());
    }

    #[test]
    fn an_or_whose_branch_has_no_other_side_keeps_that_branch_in_further_sets() {
        // A path traversal rule: `\programdata\` in the image is the
        // first choice of selection_1; the further set takes its command
        // line, with selection_2's literal again.
        let (first, more) = sets_of(
            "  selection_1:\n    Image|contains: '\\ProgramData\\'\n    CommandLine|contains: ['\\..\\Windows\\', '\\..\\..\\']\n  selection_2:\n    CommandLine|contains: '.exe\\..\\'\n  condition: 1 of selection_*",
        );
        assert_eq!(first, one_of(&[".exe\\..\\", "\\programdata\\"]));
        assert_eq!(
            more,
            [one_of(&[".exe\\..\\", "\\..\\..\\", "\\..\\windows\\"])]
        );
    }

    #[test]
    fn literals_found_in_most_events_are_neither_preferred_nor_further_sets() {
        // `\windows\` is longer than `\..\..\` but occurs in most
        // images: the command line is the first choice, and the image is
        // not worth a further set.
        let (first, more) = sets_of(
            "  selection_1:\n    Image|contains: '\\Windows\\'\n    CommandLine|contains: ['\\..\\Windows\\', '\\..\\..\\']\n  selection_2:\n    CommandLine|contains: '.exe\\..\\'\n  condition: 1 of selection_*",
        );
        assert_eq!(
            first,
            one_of(&[".exe\\..\\", "\\..\\..\\", "\\..\\windows\\"])
        );
        assert!(more.is_empty(), "{more:?}");
        // Network rules: `Initiated: 'true'` beside an image.
        let (first, more) = sets_of(
            "  sel:\n    Initiated: 'true'\n    Image|endswith: '\\certutil.exe'\n  condition: sel",
        );
        assert_eq!(first, one_of(&["\\certutil.exe"]));
        assert!(more.is_empty(), "{more:?}");
        // A set of short literals is no further set either.
        let (first, more) = sets_of(
            "  sel:\n    Image|endswith: '\\net.exe'\n    CommandLine|contains: ' /c'\n  condition: sel",
        );
        assert_eq!(first, one_of(&["\\net.exe"]));
        assert!(more.is_empty(), "{more:?}");
    }

    #[test]
    fn encoded_values_give_their_stable_encoded_middle() {
        // "IEX (New" at byte offsets 0, 1 and 2, base64-encoded, without the
        // characters that depend on neighbouring bytes.
        let n = needles(&rule(
            "  sel:\n    CommandLine|base64offset|contains: 'IEX (New'\n  condition: sel",
        ));
        assert_eq!(
            literals_of(&n),
            one_of(&["jrvggke5", "lfwcaot", "suvyicho"])
        );
        let n = needles(&rule(
            "  sel:\n    CommandLine|wide|base64offset|contains: 'IEX (New'\n  condition: sel",
        ));
        assert_eq!(
            literals_of(&n),
            one_of(&[
                "jaeuawaagacgatgbla",
                "karqbyacaakaboagua",
                "sqbfafgaiaaoae4azqb"
            ])
        );
        let n = needles(&rule(
            "  sel:\n    CommandLine|base64: 'IEX (New'\n  condition: sel",
        ));
        assert_eq!(literals_of(&n), one_of(&["suvyicho"]));
    }

    #[test]
    fn needles_remember_their_field_and_keywords_have_none() {
        let n = needles(&rule(
            "  a:\n    Image|endswith: '\\cmd.exe'\n  b:\n    - 'mimikatz'\n  condition: a or b",
        ));
        let Needles::OneOf(v) = n else {
            panic!("needles expected")
        };
        let fields: Vec<(&str, Option<&str>)> = v
            .iter()
            .map(|n| (n.literal.as_str(), n.field.as_deref()))
            .collect();
        assert_eq!(
            fields,
            vec![("\\cmd.exe", Some("Image")), ("mimikatz", None)]
        );
    }

    #[test]
    fn regexes_give_the_literal_every_match_contains() {
        let n = needles(&rule("  a:\n    Image|re: '.*cmd\\.exe.*'\n  condition: a"));
        assert_eq!(literals_of(&n), one_of(&["cmd.exe"]));
        let n = needles(&rule(
            "  a:\n    CommandLine|re: '(?i)\\.exe\\s+.{0,64}werfaultsecure\\.exe'\n  condition: a",
        ));
        assert_eq!(literals_of(&n), one_of(&["werfaultsecure.exe"]));
    }

    #[test]
    fn regexes_give_their_prefix_or_suffix_literals() {
        let n = needles(&rule(
            "  a:\n    Image|re: '(?i)echo.*clip'\n  condition: a",
        ));
        assert_eq!(
            literals_of(&n),
            one_of(&["clip"]),
            "the suffix, as long as the prefix"
        );
        let n = needles(&rule(
            "  a:\n    CommandLine|re: '(Copy-Item|cpi) .{2,128} -Destination'\n  condition: a",
        ));
        assert_eq!(
            literals_of(&n),
            one_of(&[" -destination"]),
            "the longer suffix wins"
        );
        let n = needles(&rule(
            "  a:\n    Image|re: '.*\\\\wsass\\.exe'\n  condition: a",
        ));
        assert_eq!(literals_of(&n), one_of(&["\\wsass.exe"]));
    }
}
