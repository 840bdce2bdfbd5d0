//! One walk over a rule's detection for every static analysis of the form
//! "what must hold in any match": the prefilter needles and the required
//! EventIDs. A fact is a set of alternatives (`Some`) or unknown (`None`).
//! `or` unites alternatives and `None` wins; `and` may keep any one side,
//! since each is necessary, and the analysis chooses how to combine them.

use std::collections::{BTreeSet, HashMap};

use rsigma_parser::{
    ConditionExpr, Detection, DetectionItem, Quantifier, SelectorPattern, SigmaRule, SigmaValue,
};

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

/// The fact of a whole rule: any of its conditions may match.
pub(crate) fn rule<A: Analysis>(a: &A, rule: &SigmaRule) -> Fact<A::Item> {
    let named = &rule.detection.named;
    if rule.detection.conditions.is_empty() {
        return None;
    }
    any_of(
        rule.detection
            .conditions
            .iter()
            .map(|c| condition(a, c, named)),
    )
    .filter(|set| !set.is_empty())
}

fn condition<A: Analysis>(
    a: &A,
    expr: &ConditionExpr,
    named: &HashMap<String, Detection>,
) -> Fact<A::Item> {
    match expr {
        ConditionExpr::And(parts) => a.and(parts.iter().map(|p| condition(a, p, named)).collect()),
        ConditionExpr::Or(parts) => any_of(parts.iter().map(|p| condition(a, p, named))),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Identifier(name) => named.get(name).and_then(|d| detection(a, d)),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let selected = |skip_private: bool| {
                named.iter().filter(move |(name, _)| {
                    let hit = match pattern {
                        SelectorPattern::Them => true,
                        SelectorPattern::Pattern(p) => glob(p, name),
                    };
                    hit && !(skip_private && name.starts_with('_'))
                })
            };
            match quantifier {
                Quantifier::All => a.and(selected(true).map(|(_, d)| detection(a, d)).collect()),
                Quantifier::Any | Quantifier::Count(_) => {
                    let mut facts = selected(false).map(|(_, d)| detection(a, d)).peekable();
                    // Selecting nothing guarantees nothing.
                    facts.peek()?;
                    any_of(facts)
                }
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

/// `*` matches any run of characters; everything else literally.
pub(crate) fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_selector_patterns() {
        assert!(glob("sel*", "selection"));
        assert!(glob("*_x", "a_x"));
        assert!(glob("a*b*c", "a-b-c"));
        assert!(!glob("sel*", "filter"));
        assert!(!glob("a*b", "a-c"));
    }
}
