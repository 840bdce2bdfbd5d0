//! The EventIDs a rule can match at all, when its detection pins them down
//! (`EventID: 4624` in every way the rule can match). Detection routes such
//! a rule only to events with those ids instead of its whole channel.
//!
//! Conservative like [`crate::needles`]: anything unprovable means "any id".

use std::collections::{BTreeSet, HashMap};

use rsigma_parser::{
    ConditionExpr, Detection, DetectionItem, Quantifier, SelectorPattern, SigmaRule, SigmaValue,
    StringPart,
};

use crate::needles::glob;

/// `None`: the rule may match any EventID.
type Ids = Option<BTreeSet<u32>>;

/// The EventIDs the rule can match, if it pins them down.
pub fn required(rule: &SigmaRule) -> Option<Vec<u32>> {
    let named = &rule.detection.named;
    let mut all: Ids = Some(BTreeSet::new());
    if rule.detection.conditions.is_empty() {
        return None;
    }
    for c in &rule.detection.conditions {
        all = or(all, condition(c, named));
    }
    all.filter(|s| !s.is_empty())
        .map(|s| s.into_iter().collect())
}

fn or(a: Ids, b: Ids) -> Ids {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        _ => None,
    }
}

/// Every constraint must hold: their intersection.
fn and(parts: impl IntoIterator<Item = Ids>) -> Ids {
    parts
        .into_iter()
        .flatten()
        .reduce(|a, b| a.intersection(&b).copied().collect())
}

fn condition(expr: &ConditionExpr, named: &HashMap<String, Detection>) -> Ids {
    match expr {
        ConditionExpr::And(parts) => and(parts.iter().map(|p| condition(p, named))),
        ConditionExpr::Or(parts) => parts
            .iter()
            .map(|p| condition(p, named))
            .fold(Some(BTreeSet::new()), or),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Identifier(name) => named.get(name).and_then(detection),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let selected = named.iter().filter(|(name, _)| match pattern {
                SelectorPattern::Them => true,
                SelectorPattern::Pattern(p) => glob(p, name),
            });
            match quantifier {
                Quantifier::All => and(selected
                    .filter(|(name, _)| !name.starts_with('_'))
                    .map(|(_, d)| detection(d))),
                Quantifier::Any | Quantifier::Count(_) => {
                    let mut any = false;
                    let mut acc: Ids = Some(BTreeSet::new());
                    for (_, d) in selected {
                        any = true;
                        acc = or(acc, detection(d));
                    }
                    if any { acc } else { None }
                }
            }
        }
    }
}

fn detection(d: &Detection) -> Ids {
    match d {
        Detection::AllOf(items) => and(items.iter().map(item)),
        Detection::AnyOf(ds) => ds.iter().map(detection).fold(Some(BTreeSet::new()), or),
        Detection::And(ds) => and(ds.iter().map(detection)),
        Detection::Keywords(_) | Detection::ArrayMatch { .. } | Detection::Conditional { .. } => {
            None
        }
    }
}

/// `EventID: N` or `EventID: [N, M]` with no modifier.
fn item(it: &DetectionItem) -> Ids {
    let name = it.field.name.as_deref()?;
    if !name.eq_ignore_ascii_case("EventID") || !it.field.modifiers.is_empty() {
        return None;
    }
    let mut ids = BTreeSet::new();
    for v in &it.values {
        let id = match v {
            SigmaValue::Integer(n) => u32::try_from(*n).ok()?,
            SigmaValue::String(s) => match s.parts.as_slice() {
                [StringPart::Plain(t)] => t.parse().ok()?,
                _ => return None,
            },
            _ => return None,
        };
        ids.insert(id);
    }
    if ids.is_empty() { None } else { Some(ids) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(detection: &str) -> Option<Vec<u32>> {
        let yaml = format!(
            "title: t\nlogsource: {{product: windows, service: security}}\ndetection:\n{detection}\n"
        );
        let c = rsigma_parser::parse_sigma_yaml(&yaml).expect("parses");
        required(&c.rules[0])
    }

    #[test]
    fn event_ids_in_every_branch_pin_the_rule() {
        assert_eq!(
            ids("  sel:\n    EventID: 4624\n    LogonType: 10\n  condition: sel"),
            Some(vec![4624])
        );
        assert_eq!(
            ids("  a:\n    EventID: [4624, '4625']\n  b:\n    EventID: 4648\n  condition: a or b"),
            Some(vec![4624, 4625, 4648])
        );
        assert_eq!(
            ids("  a:\n    EventID: [4624, 4625]\n  b:\n    EventID: 4625\n  condition: a and b"),
            Some(vec![4625])
        );
    }

    #[test]
    fn a_branch_without_an_event_id_frees_the_rule() {
        assert_eq!(
            ids("  a:\n    EventID: 4624\n  b:\n    User: x\n  condition: a or b"),
            None
        );
        assert_eq!(ids("  a:\n    EventID: 4624\n  condition: not a"), None);
        assert_eq!(ids("  a:\n    EventID|gt: 4624\n  condition: a"), None);
        assert_eq!(ids("  a:\n    User: x\n  condition: a"), None);
    }
}
