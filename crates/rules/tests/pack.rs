//! The pack as a whole: it loads cleanly, every rule carries the metadata
//! alerts are built from, ids are unique and not SigmaHQ's, and
//! docs/rules.md describes every alerting rule.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[test]
fn the_whole_pack_loads_with_no_diagnostics() {
    let set = support::pack();
    assert!(set.diagnostics.is_empty(), "{:#?}", set.diagnostics);
    assert_eq!(set.files, vigil_rules::builtin().len());
    assert!(!set.rules.is_empty());
    assert!(!set.correlations.is_empty());
    assert!(set.filters.is_empty());
}

/// What every rule and correlation must say about itself.
struct Meta<'a> {
    title: &'a str,
    id: Option<&'a str>,
    level: bool,
    tags: &'a [String],
    author: Option<&'a str>,
    description: bool,
    date: bool,
    falsepositives: bool,
}

#[test]
fn every_rule_has_an_id_title_level_description_author_and_an_attack_technique() {
    let set = support::pack();
    let rules = set.rules.iter().map(|r| {
        let p = &r.parsed;
        Meta {
            title: &p.title,
            id: p.id.as_deref(),
            level: p.level.is_some(),
            tags: &p.tags,
            author: p.author.as_deref(),
            description: p.description.is_some(),
            date: p.date.is_some(),
            falsepositives: !p.falsepositives.is_empty(),
        }
    });
    let correlations = set.correlations.iter().map(|(c, _)| Meta {
        title: &c.title,
        id: c.id.as_deref(),
        level: c.level.is_some(),
        tags: &c.tags,
        author: c.author.as_deref(),
        description: c.description.is_some(),
        date: c.date.is_some(),
        falsepositives: !c.falsepositives.is_empty(),
    });
    let mut problems = Vec::new();
    for m in rules.chain(correlations) {
        let (techniques, tactics) = vigil_sigma::attack_ids(m.tags);
        let checks = [
            (m.id.is_some(), "an id"),
            (!m.title.trim().is_empty(), "a title"),
            (m.level, "a level"),
            (!techniques.is_empty(), "an ATT&CK technique tag"),
            (!tactics.is_empty(), "an ATT&CK tactic tag"),
            (m.author == Some("Vigil"), "author Vigil"),
            (m.description, "a description"),
            (m.date, "a date"),
            (m.falsepositives, "falsepositives"),
        ];
        for (ok, what) in checks {
            if !ok {
                problems.push(format!("{:?} needs {what}", m.title));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn correlations_make_the_rules_they_count_non_alerting_building_blocks() {
    let set = support::pack();
    let referenced: BTreeSet<&str> = set
        .correlations
        .iter()
        .flat_map(|(c, _)| c.rules.iter().map(String::as_str))
        .collect();
    for (c, path) in &set.correlations {
        assert!(
            !c.generate,
            "{}: {} must say generate: false",
            path.display(),
            c.title
        );
    }
    for r in &set.rules {
        let is_block = [r.parsed.id.as_deref(), r.parsed.name.as_deref()]
            .into_iter()
            .flatten()
            .any(|n| referenced.contains(n));
        if is_block {
            assert_eq!(
                r.parsed.level,
                Some(rsigma_parser::Level::Informational),
                "{}: a building block is informational",
                r.parsed.title
            );
        }
    }
}

fn ids(set: &vigil_sigma::RuleSet) -> Vec<String> {
    set.rules
        .iter()
        .filter_map(|r| r.parsed.id.clone())
        .chain(set.correlations.iter().filter_map(|(c, _)| c.id.clone()))
        .collect()
}

#[test]
fn rule_ids_are_unique_uuids() {
    let set = support::pack();
    let mut seen = BTreeMap::new();
    for id in ids(&set) {
        assert!(is_uuid(&id), "{id} is not a UUID");
        *seen.entry(id).or_insert(0) += 1;
    }
    let dups: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "{dups:?}");
    let names: Vec<&str> = set
        .rules
        .iter()
        .filter_map(|r| r.parsed.name.as_deref())
        .chain(
            set.correlations
                .iter()
                .filter_map(|(c, _)| c.name.as_deref()),
        )
        .collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "rule names are unique");
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

#[test]
fn rule_ids_do_not_collide_with_sigmahq_rule_ids() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let root = corpus.join("sigma");
    let mut theirs = BTreeSet::new();
    let mut files = 0;
    collect_ids(&root, &mut theirs, &mut files);
    assert!(
        files > 1000,
        "the SigmaHQ corpus has its rules ({files} files read)"
    );
    let set = support::pack();
    for id in ids(&set) {
        assert!(!theirs.contains(&id), "{id} is a SigmaHQ rule id");
    }
}

/// Every `id:` at the top level of a YAML document under `dir`.
fn collect_ids(dir: &Path, ids: &mut BTreeSet<String>, files: &mut usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_ids(&path, ids, files);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            *files += 1;
            for line in text.lines() {
                if let Some(id) = line.strip_prefix("id:") {
                    ids.insert(id.trim().trim_matches(['\'', '"']).to_ascii_lowercase());
                }
            }
        }
    }
}

#[test]
fn docs_rules_md_describes_every_alerting_rule() {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/rules.md");
    let set = support::pack();
    let alerting = support::alerting(&set);
    let titles = set
        .correlations
        .iter()
        .map(|(c, _)| c.title.as_str())
        .chain(alerting.iter().filter_map(|(_, id)| {
            set.rules
                .iter()
                .find(|r| r.info.id == *id)
                .map(|r| r.parsed.title.as_str())
        }))
        .collect::<Vec<_>>();
    for title in titles {
        assert!(
            doc.contains(title),
            "docs/rules.md does not mention {title:?}"
        );
    }
    for (file, _) in vigil_rules::builtin() {
        assert!(doc.contains(file), "docs/rules.md does not mention {file}");
    }
}
