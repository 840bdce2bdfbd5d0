//! Every knowledge-base entry checked against the real things it names:
//! ATT&CK (the corpus copy), Vigil's rule pack and SigmaHQ's rules (the
//! corpus), the readiness catalogue, and the snapshot formats' documented
//! fields. The entries' own fields and verifications are checked when the
//! knowledge base loads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use vigil_posture::Knowledge;

/// `id:` values of the Sigma documents in a YAML text.
fn rule_ids(yaml: &str, out: &mut BTreeSet<String>) {
    for line in yaml.lines() {
        if let Some(id) = line.strip_prefix("id:") {
            out.insert(id.trim().to_ascii_lowercase());
        }
    }
}

fn sigma_ids(dir: &Path, out: &mut BTreeSet<String>) {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yml") {
                rule_ids(&std::fs::read_to_string(&p).expect("rule"), out);
            }
        }
    }
}

#[test]
fn every_entry_names_real_checks_and_documented_snapshot_fields() {
    let kb = Knowledge::builtin().expect("knowledge base");
    let catalogue = vigil_readiness::Catalogue::builtin().expect("catalogue");
    let checks: BTreeSet<&str> = catalogue.checks.iter().map(|c| c.id.as_str()).collect();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/formats");
    let device_doc = std::fs::read_to_string(docs.join("device-inventory.md")).expect("doc");
    let identity_doc = std::fs::read_to_string(docs.join("identity-inventory.md")).expect("doc");
    for e in &kb.entries {
        for c in &e.triggers.checks {
            assert!(
                checks.contains(c.as_str()),
                "{}: no readiness check {c}",
                e.id
            );
        }
        for f in &e.triggers.posture {
            let (doc, rest) = match f.split_once('.') {
                Some(("device", rest)) => (&device_doc, rest),
                Some(("identity", rest)) => (&identity_doc, rest),
                _ => panic!("{}: field {f} names no asset kind", e.id),
            };
            let first = rest.split('.').next().unwrap_or(rest);
            assert!(
                doc.contains(first),
                "{}: {f} is not a documented snapshot field",
                e.id
            );
        }
    }
}

#[test]
fn every_rule_trigger_is_a_rule_of_vigils_pack_or_of_sigmahq() {
    let kb = Knowledge::builtin().expect("knowledge base");
    let mut vigil = BTreeSet::new();
    for (_, yaml) in vigil_rules::builtin() {
        rule_ids(yaml, &mut vigil);
    }
    let corpus = vigil_testkit::corpus();
    let mut sigma = BTreeSet::new();
    if let Some(c) = &corpus {
        for d in ["rules", "rules-threat-hunting", "rules-emerging-threats"] {
            sigma_ids(&c.join("sigma").join(d), &mut sigma);
        }
    }
    let mut unchecked = 0;
    for e in &kb.entries {
        for r in &e.triggers.rules {
            let r = r.to_ascii_lowercase();
            if vigil.contains(&r) {
                continue;
            }
            if corpus.is_none() {
                unchecked += 1;
                continue;
            }
            assert!(sigma.contains(&r), "{}: rule {r} is in neither pack", e.id);
        }
    }
    if unchecked > 0 {
        eprintln!("{unchecked} SigmaHQ rule ids not checked: the corpus is absent");
    }
}

#[test]
fn the_attack_table_matches_attack_and_covers_every_id_the_entries_name() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let raw = std::fs::read_to_string(corpus.join("attack/enterprise-attack-v18.1.json"))
        .expect("attack");
    let v: serde_json::Value = serde_json::from_str(&raw).expect("json");
    let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
    let tactic_names: BTreeMap<String, String> = list("tactics")
        .iter()
        .map(|t| {
            (
                t["shortname"].as_str().unwrap_or_default().to_owned(),
                t["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let techniques: BTreeMap<String, (String, Vec<String>)> = list("techniques")
        .iter()
        .map(|t| {
            let tactics = t["tactics"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str())
                        .map(|s| tactic_names.get(s).cloned().unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default();
            (
                t["id"].as_str().unwrap_or_default().to_owned(),
                (t["name"].as_str().unwrap_or_default().to_owned(), tactics),
            )
        })
        .collect();
    let mitigations: BTreeMap<String, String> = list("mitigations")
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap_or_default().to_owned(),
                m["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let kb = Knowledge::builtin().expect("knowledge base");
    for t in &kb.attack.techniques {
        let (name, tactics) = techniques
            .get(&t.id)
            .unwrap_or_else(|| panic!("{} is not an ATT&CK technique", t.id));
        assert_eq!(&t.name, name, "{}", t.id);
        assert_eq!(&t.tactics, tactics, "{}", t.id);
    }
    for m in &kb.attack.mitigations {
        assert_eq!(
            mitigations.get(&m.id),
            Some(&m.name),
            "{} is not an ATT&CK mitigation of that name",
            m.id
        );
    }
    // The table holds what the entries name, and nothing else.
    let named: BTreeSet<&str> = kb
        .entries
        .iter()
        .flat_map(|e| e.triggers.techniques.iter().chain(&e.mitigations))
        .map(String::as_str)
        .collect();
    let table: BTreeSet<&str> = kb
        .attack
        .techniques
        .iter()
        .map(|t| t.id.as_str())
        .chain(kb.attack.mitigations.iter().map(|m| m.id.as_str()))
        .collect();
    assert_eq!(named, table);
}
