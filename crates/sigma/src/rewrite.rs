//! Fixes Vigil applies to parsed rules before compiling them.
//!
//! `base64offset`: the value is encoded at each of the three byte offsets
//! and only the characters that do not depend on the neighbouring bytes are
//! kept, at the start and at the end. `rsigma-eval` 0.23 keeps the end
//! characters, which depend on what follows, and so misses real encodings;
//! Vigil writes the three trimmed variants as plain `contains` values.
//!
//! `windash`: the Sigma specification expands a dash or slash that starts a
//! word (`-accepteula`, `/accepteula`) into each of `-`, `/`, `–`, `—`, `―`.
//! `rsigma-eval` 0.23 expands only `-`, and every dash, so Vigil expands the
//! values itself and drops the modifier (except together with `all`, where
//! the expansion cannot be written as a flat list).

use rsigma_parser::{
    ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType, Detection, Modifier,
    SigmaRule, SigmaString, SigmaValue, SpecialChar, StringPart,
};

const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Apply every rewrite to `rule`.
pub fn rule(rule: &mut SigmaRule) {
    for det in rule.detection.named.values_mut() {
        visit(det, &mut |d| {
            windash(d);
            base64offset(d);
            keywords_all(d);
        });
    }
}

/// Call `f` on every node of a detection, children first.
fn visit(det: &mut Detection, f: &mut dyn FnMut(&mut Detection)) {
    match det {
        Detection::AnyOf(ds) | Detection::And(ds) => ds.iter_mut().for_each(|d| visit(d, f)),
        Detection::ArrayMatch { body, .. } => visit(body, f),
        Detection::Conditional { named, .. } => named.values_mut().for_each(|d| visit(d, f)),
        Detection::AllOf(_) | Detection::Keywords(_) => {}
    }
    f(det);
}

/// `keywords: {'|all': [a, b]}`: every keyword must occur somewhere in the
/// event. `rsigma-eval` 0.23 compiles that form as exact matches one value
/// must all equal, so it never matches; Vigil writes it as one keyword
/// search per value, all of which must hold.
fn keywords_all(det: &mut Detection) {
    let Detection::AllOf(items) = det else {
        return;
    };
    let is_keyword_all = |it: &rsigma_parser::DetectionItem| {
        it.field.name.is_none() && it.field.modifiers == [Modifier::All]
    };
    if !items.iter().any(is_keyword_all) {
        return;
    }
    let (kw, rest): (Vec<_>, Vec<_>) = std::mem::take(items).into_iter().partition(is_keyword_all);
    let mut parts = Vec::new();
    if !rest.is_empty() {
        parts.push(Detection::AllOf(rest));
    }
    for it in kw {
        parts.extend(it.values.into_iter().map(|v| Detection::Keywords(vec![v])));
    }
    *det = Detection::And(parts);
}

/// A `temporal` or `temporal_ordered` correlation without a condition needs
/// every one of its rules (Sigma specification); `rsigma-parser` 0.23 gives
/// it `gte: 1`, which fires on the first rule alone.
pub fn correlation(c: &mut CorrelationRule, had_condition: bool) {
    let temporal = matches!(
        c.correlation_type,
        CorrelationType::Temporal | CorrelationType::TemporalOrdered
    );
    if temporal && !had_condition {
        c.condition = CorrelationCondition::Threshold {
            predicates: vec![(ConditionOperator::Gte, c.rules.len() as u64)],
            field: None,
            percentile: None,
        };
    }
}

fn base64offset(det: &mut Detection) {
    let Detection::AllOf(items) = det else {
        return;
    };
    for it in items {
        let m = &it.field.modifiers;
        if !m.contains(&Modifier::Base64Offset)
            || !m.iter().all(|x| {
                matches!(
                    x,
                    Modifier::Base64Offset
                        | Modifier::Contains
                        | Modifier::Wide
                        | Modifier::Utf16
                        | Modifier::Utf16be
                )
            })
        {
            continue;
        }
        let encoding = if m.contains(&Modifier::Wide) {
            Some(Modifier::Wide)
        } else if m.contains(&Modifier::Utf16be) {
            Some(Modifier::Utf16be)
        } else if m.contains(&Modifier::Utf16) {
            Some(Modifier::Utf16)
        } else {
            None
        };
        // Only values this rewrite can express: otherwise the item keeps
        // rsigma's own expansion.
        let mut values = Vec::new();
        let mut expressible = true;
        for v in &it.values {
            match v {
                SigmaValue::String(s) => match plain_text(s) {
                    Some(text) => {
                        for variant in base64_offsets(&encode(&text, encoding)) {
                            values.push(SigmaValue::String(SigmaString {
                                parts: vec![StringPart::Plain(variant)],
                                original: s.original.clone(),
                            }));
                        }
                    }
                    None => expressible = false,
                },
                _ => expressible = false,
            }
        }
        if !expressible {
            continue;
        }
        it.values = values;
        it.field.modifiers = vec![Modifier::Contains];
    }
}

/// The text of a value without wildcards.
fn plain_text(s: &SigmaString) -> Option<String> {
    let mut out = String::new();
    for p in &s.parts {
        match p {
            StringPart::Plain(t) => out.push_str(t),
            StringPart::Special(_) => return None,
        }
    }
    Some(out)
}

/// The bytes a value stands for under `wide`, `utf16be` or `utf16`.
fn encode(text: &str, encoding: Option<Modifier>) -> Vec<u8> {
    let mut b = Vec::new();
    match encoding {
        None => b.extend_from_slice(text.as_bytes()),
        Some(Modifier::Utf16be) => text
            .encode_utf16()
            .for_each(|u| b.extend_from_slice(&u.to_be_bytes())),
        Some(m) => {
            if m == Modifier::Utf16 {
                b.extend_from_slice(&[0xFF, 0xFE]);
            }
            text.encode_utf16()
                .for_each(|u| b.extend_from_slice(&u.to_le_bytes()));
        }
    }
    b
}

/// The three offset encodings of `bytes`, trimmed of the characters that
/// depend on neighbouring bytes (as the Sigma specification's reference
/// implementation does).
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    use base64::Engine as _;
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(bytes);
            let e = base64::engine::general_purpose::STANDARD.encode(&padded);
            let end = e.len() - END_TRIM[(bytes.len() + i) % 3];
            e.get(START[i]..end).unwrap_or_default().to_owned()
        })
        .collect()
}

fn windash(det: &mut Detection) {
    let Detection::AllOf(items) = det else {
        return;
    };
    let mut out = Vec::with_capacity(items.len());
    for mut it in std::mem::take(items) {
        if !it.field.modifiers.contains(&Modifier::WindAsh) {
            out.push(it);
            continue;
        }
        let too_many = it.values.iter().any(|v| match v {
            SigmaValue::String(s) => variants(switches(s)).is_none(),
            _ => false,
        });
        if too_many {
            let mut stripped = it.clone();
            stripped.field.modifiers.retain(|x| *x != Modifier::WindAsh);
            match as_regexes(&stripped) {
                // Every combination as one pattern per value.
                Some(regexes) => {
                    it = stripped;
                    it.field.modifiers.retain(|m| *m == Modifier::All);
                    it.field.modifiers.insert(0, Modifier::Re);
                    it.values = regexes;
                }
                // Not expressible (an encoding too): rsigma's own windash.
                None => {
                    out.push(it);
                    continue;
                }
            }
        } else {
            it.field.modifiers.retain(|x| *x != Modifier::WindAsh);
        }
        let all = it.field.modifiers.contains(&Modifier::All);
        if all {
            // `all` of the values, each in any of its spellings: one item per
            // value, the items joined by the selection's AND.
            it.field.modifiers.retain(|x| *x != Modifier::All);
            for v in std::mem::take(&mut it.values) {
                let mut one = it.clone();
                one.values = if too_many { vec![v] } else { expand_value(v) };
                out.push(one);
            }
        } else if !too_many {
            let values = std::mem::take(&mut it.values);
            it.values = values.into_iter().flat_map(expand_value).collect();
            out.push(it);
        } else {
            out.push(it);
        }
    }
    *items = out;
}

/// The values of a `windash` item as regular expressions with a dash class
/// at every switch, when its other modifiers allow (`contains`,
/// `startswith`, `endswith`, `cased`, `all`).
fn as_regexes(it: &rsigma_parser::DetectionItem) -> Option<Vec<SigmaValue>> {
    let m = &it.field.modifiers;
    let allowed = m.iter().all(|x| {
        matches!(
            x,
            Modifier::Contains
                | Modifier::StartsWith
                | Modifier::EndsWith
                | Modifier::Cased
                | Modifier::All
        )
    });
    if !allowed {
        return None;
    }
    let (start, end) = match (
        m.contains(&Modifier::Contains),
        m.contains(&Modifier::StartsWith),
        m.contains(&Modifier::EndsWith),
    ) {
        (true, _, _) => ("", ""),
        (_, true, _) => ("^", ""),
        (_, _, true) => ("", "$"),
        _ => ("^", "$"),
    };
    let flags = if m.contains(&Modifier::Cased) {
        "(?s)"
    } else {
        "(?is)"
    };
    it.values
        .iter()
        .map(|v| {
            let SigmaValue::String(s) = v else {
                return None;
            };
            let mut re = format!("{flags}{start}");
            for p in &s.parts {
                match p {
                    StringPart::Plain(t) => {
                        for (i, c) in t.char_indices() {
                            if starts_word(t, i, c) {
                                re.push_str("[-/\u{2013}\u{2014}\u{2015}]");
                            } else {
                                re.push_str(&regex_syntax::escape(c.encode_utf8(&mut [0; 4])));
                            }
                        }
                    }
                    StringPart::Special(SpecialChar::WildcardMulti) => re.push_str(".*"),
                    StringPart::Special(SpecialChar::WildcardSingle) => re.push('.'),
                }
            }
            re.push_str(end);
            Some(SigmaValue::String(SigmaString {
                parts: vec![StringPart::Plain(re.clone())],
                original: re,
            }))
        })
        .collect()
}

/// How many word-starting dashes or slashes a value has.
fn switches(s: &SigmaString) -> usize {
    s.parts
        .iter()
        .map(|p| match p {
            StringPart::Plain(t) => t
                .char_indices()
                .filter(|(i, c)| starts_word(t, *i, *c))
                .count(),
            StringPart::Special(_) => 0,
        })
        .sum()
}

/// The number of spellings of a value with `n` switches, if not too many.
fn variants(n: usize) -> Option<usize> {
    u32::try_from(n)
        .ok()
        .and_then(|n| DASHES.len().checked_pow(n))
        .filter(|v| *v <= MAX_VARIANTS)
}

/// Whether the `-` or `/` at byte `i` of `text` starts a word.
fn starts_word(text: &str, i: usize, c: char) -> bool {
    if c != '-' && c != '/' {
        return false;
    }
    let prev_is_word = text[..i].chars().next_back().is_some_and(is_word);
    let next_is_word = text[i + c.len_utf8()..].chars().next().is_some_and(is_word);
    !prev_is_word && next_is_word
}

fn expand_value(v: SigmaValue) -> Vec<SigmaValue> {
    match v {
        SigmaValue::String(s) => expand(&s).into_iter().map(SigmaValue::String).collect(),
        other => vec![other],
    }
}

/// At most this many spellings of one value are listed; past it the value
/// becomes a regular expression with a dash class at each switch.
const MAX_VARIANTS: usize = 625;

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The spellings of one value: every word-starting `-` or `/` in any of
/// the five dashes, in every combination (as the specification's reference
/// implementation expands it).
pub fn expand(s: &SigmaString) -> Vec<SigmaString> {
    let n = switches(s);
    if n == 0 {
        return vec![s.clone()];
    }
    // Each variant is a number in base 5: digit k picks the dash of switch k.
    // Past the limit (callers turn such values into patterns), each switch
    // gets the same dash.
    let (count, same_dash) = match variants(n) {
        Some(v) => (v, false),
        None => (DASHES.len(), true),
    };
    (0..count)
        .map(|variant| {
            let mut k = 0u32;
            let mut pick = || {
                let digit = if same_dash {
                    variant
                } else {
                    variant / DASHES.len().pow(k) % DASHES.len()
                };
                k += 1;
                DASHES[digit]
            };
            let parts = s
                .parts
                .iter()
                .map(|p| match p {
                    StringPart::Plain(t) => StringPart::Plain(
                        t.char_indices()
                            .map(|(i, c)| if starts_word(t, i, c) { pick() } else { c })
                            .collect(),
                    ),
                    special => special.clone(),
                })
                .collect();
            SigmaString {
                parts,
                original: s.original.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first rule of `yaml`, after every rewrite.
    fn rewritten(yaml: &str) -> SigmaRule {
        let mut r = rsigma_parser::parse_sigma_yaml(yaml)
            .expect("parses")
            .rules
            .remove(0);
        rule(&mut r);
        r
    }

    /// The items of the selection `sel`.
    fn selection(r: &SigmaRule) -> &[rsigma_parser::DetectionItem] {
        match &r.detection.named["sel"] {
            Detection::AllOf(items) => items,
            other => panic!("selection shape: {other:?}"),
        }
    }

    fn plain(s: &SigmaString) -> String {
        s.parts
            .iter()
            .map(|p| match p {
                StringPart::Plain(t) => t.clone(),
                StringPart::Special(_) => "*".into(),
            })
            .collect()
    }

    #[test]
    fn base64_offsets_keep_only_the_stable_characters() {
        // The reference implementation's answers for "http://".
        assert_eq!(
            base64_offsets(b"http://"),
            vec!["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"]
        );
    }

    #[test]
    fn every_combination_of_dashes_is_a_variant() {
        let v: Vec<String> = expand(&SigmaString::new(" /accepteula -ma"))
            .iter()
            .map(plain)
            .collect();
        assert_eq!(v.len(), 25);
        assert_eq!(v[0], " -accepteula -ma");
        assert!(v.contains(&" /accepteula -ma".to_owned()));
        assert!(v.contains(&" -accepteula /ma".to_owned()));
        assert!(v.contains(&" \u{2014}accepteula \u{2015}ma".to_owned()));
        let one: Vec<String> = expand(&SigmaString::new("-enc"))
            .iter()
            .map(plain)
            .collect();
        assert_eq!(
            one,
            vec!["-enc", "/enc", "\u{2013}enc", "\u{2014}enc", "\u{2015}enc"]
        );
    }

    #[test]
    fn windash_with_all_becomes_one_item_per_value() {
        let yaml = "title: t\nlogsource: {product: windows}\ndetection:\n  sel:\n    CommandLine|contains|all|windash: [' -a', ' -b']\n  condition: sel\n";
        let r = rewritten(yaml);
        let items = selection(&r);
        assert_eq!(items.len(), 2);
        assert!(
            items
                .iter()
                .all(|i| i.values.len() == 5 && i.field.modifiers == vec![Modifier::Contains])
        );
    }

    #[test]
    fn values_with_too_many_switches_become_one_pattern() {
        let yaml = "title: t\nlogsource: {product: windows}\ndetection:\n  sel:\n    CommandLine|contains|windash: ' -a -b -c -d -e*x'\n  condition: sel\n";
        let r = rewritten(yaml);
        let items = selection(&r);
        assert_eq!(items[0].field.modifiers, vec![Modifier::Re]);
        let SigmaValue::String(s) = &items[0].values[0] else {
            panic!("a string")
        };
        let dash = "[-/\u{2013}\u{2014}\u{2015}]";
        assert_eq!(
            s.original,
            format!("(?is) {dash}a {dash}b {dash}c {dash}d {dash}e.*x")
        );
    }

    #[test]
    fn dashes_inside_words_are_left_alone() {
        let v = expand(&SigmaString::new("Invoke-Mimikatz"));
        assert_eq!(v.len(), 1);
        assert_eq!(plain(&v[0]), "Invoke-Mimikatz");
    }

    #[test]
    fn the_modifier_is_replaced_by_the_expanded_values() {
        let yaml = "title: t\nlogsource: {product: windows}\ndetection:\n  sel:\n    CommandLine|contains|windash: ' /accepteula'\n  condition: sel\n";
        let r = rewritten(yaml);
        let items = selection(&r);
        assert_eq!(items[0].field.modifiers, vec![Modifier::Contains]);
        assert_eq!(items[0].values.len(), 5);
    }
}
