//! Loading rule packs: files and directories of Sigma YAML, each file parsed
//! on its own so that every problem names its file, and a bad rule never
//! stops the others from loading.

use std::fmt;
use std::path::{Path, PathBuf};

use rsigma_eval::{CompiledRule, Engine, compile_rule};
use rsigma_parser::{CorrelationRule, FilterRule, FilterRuleTarget, SigmaRule, parse_sigma_yaml};

use rayon::prelude::*;

use crate::{Needles, RuleInfo, needles, rewrite};

/// How many further needle sets a rule keeps.
const MORE_NEEDLES: usize = 2;

/// A detection rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    pub info: RuleInfo,
    pub compiled: CompiledRule,
    pub needles: Needles,
    /// Further needle sets: every match also holds a needle of each (see
    /// [`needles::more_of_rule`]).
    pub more_needles: Vec<Vec<needles::Needle>>,
    /// The EventIDs the rule can match, when its detection pins them down.
    pub event_ids: Option<Vec<u32>>,
    /// The parsed rule after Vigil's rewrites (for correlation engines).
    pub parsed: SigmaRule,
}

/// What kind of problem a diagnostic reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticKind {
    /// The file or rule is invalid and was not loaded.
    Invalid,
    /// The rule is valid but will not run here (e.g. its logsource has no
    /// mapping); set by the detection layer.
    Skipped,
}

/// A problem with one file or rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    pub path: PathBuf,
    /// The rule's id or title, when known.
    pub rule: Option<String>,
    pub reason: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            DiagnosticKind::Invalid => "invalid",
            DiagnosticKind::Skipped => "skipped",
        };
        write!(f, "{}: ", self.path.display())?;
        if let Some(r) = &self.rule {
            write!(f, "rule {r}: ")?;
        }
        write!(f, "{kind}: {}", self.reason)
    }
}

/// Every rule loaded from a set of paths.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<LoadedRule>,
    pub correlations: Vec<(CorrelationRule, PathBuf)>,
    pub filters: Vec<(FilterRule, PathBuf)>,
    pub diagnostics: Vec<Diagnostic>,
    /// Rule files read.
    pub files: usize,
}

/// Load every `*.yml` / `*.yaml` under `paths` (files or directories,
/// recursively, in sorted order).
pub fn load(paths: &[PathBuf]) -> RuleSet {
    let mut files = Vec::new();
    let mut set = RuleSet::default();
    for p in paths {
        collect(p, &mut files, &mut set.diagnostics);
    }
    files.sort();
    files.dedup();
    // Files are read and parsed in parallel, then gathered in file order,
    // so that rules and diagnostics come out as a sequential load gives
    // them.
    let per_file: Vec<(Vec<(SigmaRule, PathBuf)>, RuleSet)> = files
        .par_iter()
        .map(|file| {
            let mut parsed = Vec::new();
            let mut part = RuleSet::default();
            match std::fs::read_to_string(file) {
                Ok(text) => parse_into(&text, file, &mut parsed, &mut part),
                Err(e) => part
                    .diagnostics
                    .push(invalid(file, None, format!("cannot read: {e}"))),
            }
            (parsed, part)
        })
        .collect();
    let mut parsed = Vec::new();
    for (rules, part) in per_file {
        parsed.extend(rules);
        set.correlations.extend(part.correlations);
        set.filters.extend(part.filters);
        set.diagnostics.extend(part.diagnostics);
    }
    set.files = files.len();
    compile(parsed, &mut set);
    set
}

/// Load rules from one YAML text (one or more documents), named `name` in
/// diagnostics.
pub fn load_str(yaml: &str, name: &str) -> RuleSet {
    let mut set = RuleSet::default();
    let mut parsed = Vec::new();
    parse_into(yaml, Path::new(name), &mut parsed, &mut set);
    set.files = 1;
    compile(parsed, &mut set);
    set
}

fn invalid(path: &Path, rule: Option<String>, reason: String) -> Diagnostic {
    Diagnostic {
        kind: DiagnosticKind::Invalid,
        path: path.to_owned(),
        rule,
        reason,
    }
}

fn collect(path: &Path, files: &mut Vec<PathBuf>, diags: &mut Vec<Diagnostic>) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return diags.push(invalid(path, None, format!("cannot read: {e}"))),
    };
    if meta.is_file() {
        files.push(path.to_owned());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => return diags.push(invalid(path, None, format!("cannot list: {e}"))),
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        // Directories behind symbolic links are not followed (no loops).
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect(&p, files, diags);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        {
            files.push(p);
        }
    }
}

fn parse_into(text: &str, file: &Path, parsed: &mut Vec<(SigmaRule, PathBuf)>, set: &mut RuleSet) {
    let collection = match parse_sigma_yaml(text) {
        Ok(c) => c,
        Err(e) => return set.diagnostics.push(invalid(file, None, e.to_string())),
    };
    for e in collection.errors {
        set.diagnostics.push(invalid(file, None, e));
    }
    for mut rule in collection.rules {
        rewrite::rule(&mut rule);
        parsed.push((rule, file.to_owned()));
    }
    for mut c in collection.correlations {
        let had_condition = correlation_has_condition(text, &c);
        rewrite::correlation(&mut c, had_condition);
        set.correlations.push((c, file.to_owned()));
    }
    for f in collection.filters {
        set.filters.push((f, file.to_owned()));
    }
}

fn compile(parsed: Vec<(SigmaRule, PathBuf)>, set: &mut RuleSet) {
    // Each rule compiles on its own (rsigma's `compile_rule` is what its
    // engine runs per rule without pipelines), in parallel. rsigma's
    // engine, whose candidate indexes detection never uses, is built only
    // to apply filter rules.
    let results: Vec<Result<CompiledRule, rsigma_eval::EvalError>> =
        parsed.par_iter().map(|(r, _)| compile_rule(r)).collect();
    let mut ok = Vec::with_capacity(parsed.len());
    let mut compiled = Vec::with_capacity(parsed.len());
    for ((rule, path), result) in parsed.into_iter().zip(results) {
        match result {
            Ok(c) => {
                ok.push((rule, path));
                compiled.push(c);
            }
            Err(e) => set
                .diagnostics
                .push(invalid(&path, Some(rule_name(&rule)), e.to_string())),
        }
    }
    if !set.filters.is_empty() {
        let mut engine = Engine::new();
        engine.extend_compiled_rules(compiled);
        for (filter, path) in &set.filters {
            if let Err(e) = engine.apply_filter(filter) {
                set.diagnostics.push(invalid(
                    path,
                    Some(filter.id.clone().unwrap_or_else(|| filter.title.clone())),
                    format!("filter not applied: {e}"),
                ));
            }
        }
        compiled = engine.rules().to_vec();
    }
    let filters = &set.filters;
    let loaded: Vec<LoadedRule> = ok
        .into_par_iter()
        .zip(compiled)
        .map(|((rule, path), compiled)| {
            let ctx = crate::Context {
                filtered: filters.iter().any(|(f, _)| match &f.rules {
                    FilterRuleTarget::Any => true,
                    FilterRuleTarget::Specific(refs) => refs
                        .iter()
                        .any(|r| rule.id.as_deref() == Some(r.as_str()) || rule.title == *r),
                }),
            };
            let first = needles::of_rule(&rule, ctx);
            LoadedRule {
                info: RuleInfo::from_rule(&rule, path),
                compiled,
                more_needles: needles::more_of_rule(&rule, ctx, &first, MORE_NEEDLES),
                needles: first,
                event_ids: crate::event_ids::required(&rule, ctx),
                parsed: rule,
            }
        })
        .collect();
    set.rules.extend(loaded);
}

/// Whether the YAML document of correlation `c` writes a `condition` in its
/// `correlation` block (the parser fills in a default when it does not).
/// The document is the one whose own `id` (or, without one, `title`) is
/// the correlation's.
fn correlation_has_condition(text: &str, c: &CorrelationRule) -> bool {
    use serde::Deserialize as _;
    use yaml_serde::Value;
    let key = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    for doc in yaml_serde::Deserializer::from_str(text) {
        let Ok(v) = Value::deserialize(doc) else {
            // The parser already reported the file; assume the default.
            return false;
        };
        let own = match &c.id {
            Some(id) => key(&v, "id").as_deref() == Some(id.as_str()),
            None => {
                key(&v, "id").is_none() && key(&v, "title").as_deref() == Some(c.title.as_str())
            }
        };
        if own {
            return v
                .get("correlation")
                .is_some_and(|corr| corr.get("condition").is_some());
        }
    }
    false
}

fn rule_name(rule: &SigmaRule) -> String {
    rule.id.clone().unwrap_or_else(|| rule.title.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "title: Whoami\nid: 11111111-1111-1111-1111-111111111111\nlevel: high\ntags: [attack.discovery, attack.t1033]\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n";

    #[test]
    fn good_rules_load_with_metadata_and_needles() {
        let set = load_str(GOOD, "whoami.yml");
        assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
        let r = &set.rules[0];
        assert_eq!(r.info.level, vigil_core::Severity::High);
        assert_eq!(r.info.techniques, vec!["T1033"]);
        assert_eq!(r.info.category.as_deref(), Some("process_creation"));
        assert_eq!(
            r.needles,
            Needles::OneOf(vec![needles::Needle {
                literal: "\\whoami.exe".into(),
                field: Some("Image".into()),
                non_ascii: false,
            }])
        );
    }

    #[test]
    fn bad_rules_give_diagnostics_and_the_rest_still_load() {
        let bad_modifier = GOOD.replace("endswith", "endswithh");
        let bad_condition = GOOD.replace("condition: sel", "condition: sel and and");
        let unknown_ident = GOOD.replace("condition: sel", "condition: filter");
        let broken_yaml = "title: [unclosed\n";
        let dir = tempfile::tempdir().expect("dir");
        for (name, text) in [
            ("a.yml", GOOD),
            ("b.yml", bad_modifier.as_str()),
            ("c.yml", bad_condition.as_str()),
            ("d.yml", unknown_ident.as_str()),
            ("e.yaml", broken_yaml),
            ("notes.txt", "not a rule"),
        ] {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        let set = load(&[dir.path().to_owned()]);
        assert_eq!(set.files, 5, "only .yml/.yaml files are read");
        assert_eq!(set.rules.len(), 1);
        let reasons: Vec<String> = set.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(reasons.len(), 4, "{reasons:#?}");
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("b.yml") && r.contains("endswithh")),
            "{reasons:#?}"
        );
        assert!(reasons.iter().any(|r| r.contains("c.yml")), "{reasons:#?}");
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("d.yml") && r.contains("filter")),
            "{reasons:#?}"
        );
        assert!(reasons.iter().any(|r| r.contains("e.yaml")), "{reasons:#?}");
        assert!(
            set.diagnostics
                .iter()
                .all(|d| d.kind == DiagnosticKind::Invalid)
        );
    }

    #[test]
    fn temporal_correlations_without_a_condition_need_every_rule() {
        use rsigma_parser::{ConditionOperator, CorrelationCondition};
        let gte = |set: &RuleSet, id: &str| {
            let c = &set
                .correlations
                .iter()
                .find(|(c, _)| c.id.as_deref() == Some(id))
                .expect("correlation")
                .0;
            match &c.condition {
                CorrelationCondition::Threshold { predicates, .. } => predicates
                    .iter()
                    .find(|(op, _)| *op == ConditionOperator::Gte)
                    .map(|(_, n)| *n),
                CorrelationCondition::Extended(_) => None,
            }
        };
        let yaml = "title: a\nid: a\nname: a\nlogsource: {product: windows, service: security}\ndetection: {sel: {EventID: 1}, condition: sel}\n---\ntitle: b\nid: b\nname: b\nlogsource: {product: windows, service: security}\ndetection: {sel: {EventID: 2}, condition: sel}\n---\ntitle: c\nid: c\nname: c\nlogsource: {product: windows, service: security}\ndetection: {sel: {EventID: 3}, condition: sel}\n---\ntitle: all three\nid: t-all\ncorrelation:\n  type: temporal\n  rules: [a, b, c]\n  timespan: 5m\n---\ntitle: two of three\nid: t-two\ncorrelation: {type: temporal, rules: [a, b, c], timespan: 5m, condition: {gte: 2}}\n---\ntitle: chained\nid: chained\ncorrelation:\n  type: event_count\n  rules: [t-all]\n  timespan: 1h\n  condition:\n    gte: 2\n";
        let set = load_str(yaml, "corr.yml");
        assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
        assert_eq!(gte(&set, "t-all"), Some(3), "no condition: every rule");
        assert_eq!(
            gte(&set, "t-two"),
            Some(2),
            "a flow-style condition is kept"
        );
        assert_eq!(gte(&set, "chained"), Some(2));
    }

    #[test]
    fn a_missing_path_is_a_diagnostic() {
        let set = load(&[PathBuf::from("/nonexistent/rules")]);
        assert!(set.rules.is_empty());
        assert!(
            set.diagnostics[0]
                .to_string()
                .contains("/nonexistent/rules")
        );
    }
}
