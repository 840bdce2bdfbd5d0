//! The EventIDs a rule can match at all, when its detection pins them down
//! (`EventID: 4624` in every way the rule can match). Detection routes such
//! a rule only to events with those ids instead of its whole channel.
//!
//! Conservative like [`crate::needles`]: anything unprovable means "any id".

use std::collections::BTreeSet;

use rsigma_parser::{DetectionItem, SigmaRule, SigmaValue, StringPart};

use crate::analysis::{self, Analysis, Context, Fact};

struct EventIdAnalysis;

impl Analysis for EventIdAnalysis {
    type Item = u32;

    fn item(&self, it: &DetectionItem) -> Fact<u32> {
        item(it)
    }

    fn keywords(&self, _: &[SigmaValue]) -> Fact<u32> {
        None
    }

    /// Every constraint must hold: their intersection.
    fn and(&self, parts: Vec<Fact<u32>>) -> Fact<u32> {
        parts
            .into_iter()
            .flatten()
            .reduce(|a, b| a.intersection(&b).copied().collect())
    }
}

/// The EventIDs the rule can match, if it pins them down.
pub fn required(rule: &SigmaRule, ctx: Context) -> Option<Vec<u32>> {
    analysis::rule(&EventIdAnalysis, rule, ctx).map(|s| s.into_iter().collect())
}

/// `EventID: N` or `EventID: [N, M]` with no modifier.
fn item(it: &DetectionItem) -> Fact<u32> {
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
        required(&c.rules[0], Context::default())
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
