//! One walk over a rule's detection for every static analysis of the form
//! "what must hold in any match": the prefilter needles and the required
//! EventIDs. A fact is a set of alternatives (`Some`) or unknown (`None`).
//! `or` unites alternatives and `None` wins; `and` may keep any one side,
//! since each is necessary, and the analysis chooses how to combine them.

use std::collections::{BTreeSet, HashMap};

use rsigma_parser::{ConditionExpr, Detection, DetectionItem, Quantifier, SigmaRule, SigmaValue};

/// A set of alternatives, one of which holds in every match.
pub(crate) type Fact<T> = Option<BTreeSet<T>>;

/// What an analysis says about the leaves and about `and`.
pub(crate) trait Analysis {
    type Item: Ord + Clone;
    /// What one detection item (`field|modifiers: values`) guarantees.
    fn item(&self, it: &DetectionItem) -> Fact<Self::Item>;
    /// What a keyword list guarantees.
    fn keywords(&self, values: &[SigmaValue]) -> Fact<Self::Item>;
    /// Combine facts that all hold.
    fn and(&self, parts: Vec<Fact<Self::Item>>) -> Fact<Self::Item>;
}

pub(crate) fn or<T: Ord>(a: Fact<T>, b: Fact<T>) -> Fact<T> {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        _ => None,
    }
}

fn any_of<T: Ord>(facts: impl Iterator<Item = Fact<T>>) -> Fact<T> {
    facts.fold(Some(BTreeSet::new()), or)
}

/// What the analysis must know about the rule beyond its text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// A filter rule was applied to this rule (adding detections the text
    /// does not show).
    pub filtered: bool,
}

/// The fact of a whole rule: any of its conditions may match.
pub(crate) fn rule<A: Analysis>(a: &A, rule: &SigmaRule, ctx: Context) -> Fact<A::Item> {
    let named = &rule.detection.named;
    if rule.detection.conditions.is_empty() {
        return None;
    }
    any_of(
        rule.detection
            .conditions
            .iter()
            .map(|c| condition(a, c, named, ctx)),
    )
    .filter(|set| !set.is_empty())
}

fn condition<A: Analysis>(
    a: &A,
    expr: &ConditionExpr,
    named: &HashMap<String, Detection>,
    ctx: Context,
) -> Fact<A::Item> {
    match expr {
        ConditionExpr::And(parts) => {
            a.and(parts.iter().map(|p| condition(a, p, named, ctx)).collect())
        }
        ConditionExpr::Or(parts) => any_of(parts.iter().map(|p| condition(a, p, named, ctx))),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Identifier(name) => named.get(name).and_then(|d| detection(a, d)),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            // A filter adds `__filter_*` detections to the compiled rule that
            // a pattern may select too: nothing is certain then.
            if ctx.filtered {
                return None;
            }
            // Select exactly as the evaluator does.
            let mut selected = named
                .iter()
                .filter(|(name, _)| pattern.matches_detection_name(name))
                .map(|(_, d)| detection(a, d))
                .peekable();
            // Selecting nothing guarantees nothing (`all of` nothing is true).
            selected.peek()?;
            match quantifier {
                Quantifier::All => a.and(selected.collect()),
                // `0 of` is always true.
                Quantifier::Count(0) => None,
                Quantifier::Any | Quantifier::Count(_) => any_of(selected),
            }
        }
    }
}

fn detection<A: Analysis>(a: &A, d: &Detection) -> Fact<A::Item> {
    match d {
        Detection::AllOf(items) => a.and(items.iter().map(|it| a.item(it)).collect()),
        Detection::AnyOf(ds) => any_of(ds.iter().map(|d| detection(a, d))),
        Detection::Keywords(values) => a.keywords(values),
        Detection::And(ds) => a.and(ds.iter().map(|d| detection(a, d)).collect()),
        Detection::ArrayMatch { .. } | Detection::Conditional { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::needles::{Needles, of_rule};

    fn needles(detection: &str, filtered: bool) -> Needles {
        let yaml = format!("title: t\nlogsource: {{product: windows}}\ndetection:\n{detection}\n");
        let c = rsigma_parser::parse_sigma_yaml(&yaml).expect("parses");
        of_rule(&c.rules[0], Context { filtered })
    }

    #[test]
    fn zero_of_is_always_true_and_gives_no_needle() {
        let d = "  sel_a:\n    Image|endswith: '\\a.exe'\n  condition: 0 of sel*";
        assert_eq!(needles(d, false), Needles::Any);
    }

    #[test]
    fn selectors_pick_detections_as_the_evaluator_does() {
        // rsigma splits at the first star only: `*sel*` selects nothing, and
        // `all of` nothing is true.
        let d = "  sel_a:\n    Image|endswith: '\\a.exe'\n  condition: all of *sel*";
        assert_eq!(needles(d, false), Needles::Any);
        // `ab*ba` selects `aba` (prefix and suffix may overlap).
        let d = "  aba:\n    Image|endswith: '\\one.exe'\n  ab_x_ba:\n    Image|endswith: '\\two.exe'\n  condition: 1 of ab*ba";
        let Needles::OneOf(n) = needles(d, false) else {
            panic!("needles")
        };
        assert_eq!(n.len(), 2, "{n:?}");
    }

    #[test]
    fn a_filtered_rule_has_no_needles_from_pattern_selectors() {
        let d = "  sel:\n    Image|endswith: '\\a.exe'\n  condition: 1 of *";
        assert!(matches!(needles(d, false), Needles::OneOf(_)));
        assert_eq!(needles(d, true), Needles::Any);
    }
}
