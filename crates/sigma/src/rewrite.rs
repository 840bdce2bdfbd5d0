//! Fixes Vigil applies to parsed rules before compiling them.
//!
//! `windash`: the Sigma specification expands a dash or slash that starts a
//! word (`-accepteula`, `/accepteula`) into each of `-`, `/`, `–`, `—`, `―`.
//! `rsigma-eval` 0.23 expands only `-`, and every dash, so Vigil expands the
//! values itself and drops the modifier (except together with `all`, where
//! the expansion cannot be written as a flat list).

use rsigma_parser::{Detection, Modifier, SigmaRule, SigmaString, SigmaValue, StringPart};

const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Apply every rewrite to `rule`.
pub fn rule(rule: &mut SigmaRule) {
    for det in rule.detection.named.values_mut() {
        windash(det);
    }
}

fn windash(det: &mut Detection) {
    match det {
        Detection::AllOf(items) => {
            for it in items {
                let m = &mut it.field.modifiers;
                if !m.contains(&Modifier::WindAsh) || m.contains(&Modifier::All) {
                    continue;
                }
                m.retain(|x| *x != Modifier::WindAsh);
                let values = std::mem::take(&mut it.values);
                for v in values {
                    match v {
                        SigmaValue::String(s) => it
                            .values
                            .extend(expand(&s).into_iter().map(SigmaValue::String)),
                        other => it.values.push(other),
                    }
                }
            }
        }
        Detection::AnyOf(ds) | Detection::And(ds) => ds.iter_mut().for_each(windash),
        Detection::ArrayMatch { body, .. } => windash(body),
        Detection::Conditional { named, .. } => named.values_mut().for_each(windash),
        Detection::Keywords(_) => {}
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The variants of one value: every word-starting `-` or `/` replaced by the
/// same one of the five dashes (so five variants, or one if none occurs).
pub fn expand(s: &SigmaString) -> Vec<SigmaString> {
    let starts_word = |text: &str, i: usize, c: char| -> bool {
        if c != '-' && c != '/' {
            return false;
        }
        let prev_is_word = text[..i].chars().next_back().is_some_and(is_word);
        let next_is_word = text[i + c.len_utf8()..].chars().next().is_some_and(is_word);
        !prev_is_word && next_is_word
    };
    let any = s.parts.iter().any(|p| match p {
        StringPart::Plain(t) => t.char_indices().any(|(i, c)| starts_word(t, i, c)),
        StringPart::Special(_) => false,
    });
    if !any {
        return vec![s.clone()];
    }
    DASHES
        .iter()
        .map(|dash| {
            let parts = s
                .parts
                .iter()
                .map(|p| match p {
                    StringPart::Plain(t) => StringPart::Plain(
                        t.char_indices()
                            .map(|(i, c)| if starts_word(t, i, c) { *dash } else { c })
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
    fn word_starting_dashes_and_slashes_expand_to_five_variants() {
        let v: Vec<String> = expand(&SigmaString::new(" /accepteula -ma"))
            .iter()
            .map(plain)
            .collect();
        assert_eq!(
            v,
            vec![
                " -accepteula -ma",
                " /accepteula /ma",
                " \u{2013}accepteula \u{2013}ma",
                " \u{2014}accepteula \u{2014}ma",
                " \u{2015}accepteula \u{2015}ma",
            ]
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
        let mut r = rsigma_parser::parse_sigma_yaml(yaml)
            .expect("parses")
            .rules
            .remove(0);
        rule(&mut r);
        let Detection::AllOf(items) = &r.detection.named["sel"] else {
            panic!("selection shape")
        };
        assert_eq!(items[0].field.modifiers, vec![Modifier::Contains]);
        assert_eq!(items[0].values.len(), 5);
    }
}
