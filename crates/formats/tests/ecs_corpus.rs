//! The Winlogbeat/ECS mapping is lossless for detection: every record of
//! the EVTX attack samples, rendered to evtx_dump JSON and re-shaped as
//! Winlogbeat ships it, decodes to the same fields, values, logsource,
//! time and entities as the evtx_dump record itself (plus `Data` or
//! `paramN`, which Winlogbeat's naming makes ambiguous).
//!
//! The few `System` values Winlogbeat does not ship at all are listed in
//! [`NOT_SHIPPED`]; the test checks that no SigmaHQ rule uses them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};
use vigil_formats::{Decoded, FlatEvent, Shape, decode_record};

/// `System` values with no Winlogbeat field.
const NOT_SHIPPED: [&str; 7] = [
    "Qualifiers",
    "Provider_EventSourceName",
    "ProcessorID",
    "SessionID",
    "KernelTime",
    "UserTime",
    "ProcessorTime",
];

/// Every record of a file as evtx_dump writes it (the JSON `vigil scan`
/// flattens).
fn evtx_json(path: &Path) -> Vec<Vec<u8>> {
    let Ok(parser) = evtx::EvtxParser::from_path(path) else {
        return Vec::new();
    };
    let settings = evtx::ParserSettings::new().num_threads(1);
    let mut parser = parser.with_configuration(settings);
    parser
        .serialized_records(|r| r.and_then(|r| r.into_json_bytes()).map(|r| r.data))
        .filter_map(Result::ok)
        .collect()
}

fn attrs(v: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    v.get("#attributes")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// An element's text: itself when scalar, else its `#text`.
fn text(v: &Value) -> Option<&Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => m.get("#text"),
        other => Some(other),
    }
}

fn level_name(level: &Value) -> Value {
    let n = level
        .as_u64()
        .or_else(|| level.as_str().and_then(|s| s.parse().ok()));
    Value::from(match n {
        Some(1) => "critical",
        Some(2) => "error",
        Some(3) => "warning",
        Some(5) => "verbose",
        _ => "information",
    })
}

/// Winlogbeat's `param1`…`paramN` from evtx_dump's unnamed `Data`.
fn params(data: &Value, out: &mut Map<String, Value>) {
    let items: Vec<&Value> = match text(data) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    };
    let mut n = 0;
    for item in items.into_iter().filter(|i| !i.is_null()) {
        n += 1;
        out.insert(format!("param{n}"), item.clone());
    }
}

/// The record as Winlogbeat 8 ships it.
fn to_winlogbeat(evtx: &Value) -> Value {
    let event = &evtx["Event"];
    let system = &event["System"];
    let mut winlog = Map::new();
    let mut put = |k: &str, v: Option<&Value>| {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            winlog.insert(k.to_owned(), v.clone());
        }
    };
    let provider = attrs(&system["Provider"]);
    put("provider_name", provider.get("Name"));
    put("provider_guid", provider.get("Guid"));
    put("event_id", text(&system["EventID"]));
    put("version", text(&system["Version"]));
    put("task", text(&system["Task"]));
    put("opcode", text(&system["Opcode"]));
    put("keywords", text(&system["Keywords"]));
    put("record_id", text(&system["EventRecordID"]));
    put(
        "activity_id",
        attrs(&system["Correlation"]).get("ActivityID"),
    );
    put(
        "related_activity_id",
        attrs(&system["Correlation"]).get("RelatedActivityID"),
    );
    put("channel", text(&system["Channel"]));
    put("computer_name", text(&system["Computer"]));
    let execution = attrs(&system["Execution"]);
    let mut process = Map::new();
    if let Some(pid) = execution.get("ProcessID") {
        process.insert("pid".into(), pid.clone());
    }
    if let Some(tid) = execution.get("ThreadID") {
        process.insert("thread".into(), json!({ "id": tid }));
    }
    if !process.is_empty() {
        winlog.insert("process".into(), Value::Object(process));
    }
    if let Some(sid) = attrs(&system["Security"]).get("UserID") {
        winlog.insert("user".into(), json!({ "identifier": sid }));
    }
    if let Some(data) = event.get("EventData") {
        let shipped = match data {
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    if k == "Data" {
                        params(v, &mut out);
                    } else {
                        out.insert(k.clone(), v.clone());
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        };
        winlog.insert("event_data".into(), shipped);
    }
    if let Some(data) = event.get("UserData") {
        let shipped = match data.as_object().map(|m| m.iter().collect::<Vec<_>>()) {
            Some(entries) if entries.len() == 1 && entries[0].1.is_object() => {
                let (name, inner) = entries[0];
                let mut out = Map::new();
                out.insert("xml_name".into(), Value::from(name.as_str()));
                for (k, v) in inner.as_object().into_iter().flatten() {
                    if k != "#attributes" {
                        out.insert(k.clone(), v.clone());
                    }
                }
                Value::Object(out)
            }
            _ => data.clone(),
        };
        winlog.insert("user_data".into(), shipped);
    }
    let mut doc = json!({
        "agent": {"type": "winlogbeat", "version": "8.15.0"},
        "ecs": {"version": "8.0.0"},
        "event": {"code": winlog.get("event_id").cloned().unwrap_or(Value::Null), "kind": "event"},
        "host": {"name": winlog.get("computer_name").cloned().unwrap_or(Value::Null)},
        "log": {"level": level_name(text(&system["Level"]).unwrap_or(&Value::Null))},
        "winlog": winlog,
    });
    if let Some(t) = attrs(&system["TimeCreated"]).get("SystemTime") {
        doc["@timestamp"] = t.clone();
    }
    doc
}

/// (name, value) pairs, sorted, for a field-for-field comparison.
fn pairs(e: &FlatEvent, skip: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = e
        .fields()
        .filter(|(n, _)| !skip.iter().any(|s| s.eq_ignore_ascii_case(n)))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    out.sort();
    out
}

/// The (name, value) pairs evtx_dump gives that Winlogbeat does not ship:
/// the [`NOT_SHIPPED`] `System` values, and the fields of `Event` children
/// other than `System`, `EventData` and `UserData` (`ProcessingErrorData`
/// when the provider's manifest did not match the data, `RenderingInfo` in
/// forwarded events). Also the names of those children.
fn unshipped(evtx: &Value) -> (Vec<(String, String)>, Vec<String>) {
    let mut out = Vec::new();
    let mut children = Vec::new();
    let flat = |v: Value| {
        let mut e = FlatEvent::new();
        let bytes = serde_json::to_vec(&v).expect("json");
        vigil_formats::flatten_json(&bytes, &mut e).expect("flattens");
        pairs(&e, &[])
    };
    for (k, v) in evtx["Event"].as_object().into_iter().flatten() {
        match k.as_str() {
            "#attributes" | "EventData" | "UserData" => {}
            "System" => out.extend(
                flat(json!({"Event": {"System": v}}))
                    .into_iter()
                    .filter(|(n, _)| NOT_SHIPPED.contains(&n.as_str())),
            ),
            _ => {
                children.push(k.clone());
                out.extend(flat(json!({ k: v })));
            }
        }
    }
    (out, children)
}

fn compare(evtx: &Decoded, ecs: &Decoded, unshipped: &[(String, String)], at: &str) {
    assert_eq!(evtx.shape, Shape::WindowsEvtx);
    assert_eq!(ecs.shape, Shape::WindowsEcs);
    assert_eq!(evtx.logsource, ecs.logsource, "{at}");
    assert_eq!(evtx.time, ecs.time, "{at}");
    assert_eq!(evtx.entities, ecs.entities, "{at}");
    let mut want = pairs(&evtx.event, &[]);
    for pair in unshipped {
        if let Some(i) = want.iter().position(|p| p == pair) {
            want.remove(i);
        }
    }
    let got = pairs(&ecs.event, &[]);
    // LogAlways (0) reads as "information" in Winlogbeat, which is 4.
    if evtx.event.get("Level") == Some("0") {
        for (n, v) in &mut want {
            if n == "Level" {
                *v = "4".into();
            }
        }
    }
    // Winlogbeat cannot tell unnamed `<Data>` from data named `param1`…:
    // the decoder keeps `paramN` and adds `Data`, so the ECS event may hold
    // those beside every evtx_dump field.
    let mut extra = got.clone();
    for pair in &want {
        let at_pos = extra.iter().position(|p| p == pair);
        assert!(at_pos.is_some(), "{at}: {pair:?} missing from {got:?}");
        if let Some(i) = at_pos {
            extra.remove(i);
        }
    }
    for (name, _) in &extra {
        let alias = name == "Data"
            || name
                .strip_prefix("param")
                .is_some_and(|n| n.parse::<u32>().is_ok());
        assert!(alias, "{at}: unexpected {name} in {got:?}");
    }
    for (name, _) in &want {
        let expected = if name == "Level" && evtx.event.get("Level") == Some("0") {
            Some("4")
        } else {
            evtx.event.get(name)
        };
        assert_eq!(expected, ecs.event.get(name), "{at}: {name}");
    }
}

#[test]
fn every_attack_sample_decodes_identically_from_evtx_dump_and_winlogbeat_shapes() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let mut records = 0usize;
    let mut by_shape_error: BTreeMap<String, usize> = BTreeMap::new();
    let mut other_children: BTreeMap<String, usize> = BTreeMap::new();
    for file in vigil_testkit::files_with_extension(&corpus.join("evtx-attack-samples"), "evtx") {
        for (i, bytes) in evtx_json(&file).into_iter().enumerate() {
            let at = format!("{} record {i}", file.display());
            let value: Value = serde_json::from_slice(&bytes).expect("evtx JSON");
            let evtx = match decode_record(&bytes) {
                Ok(mut d) if d.len() == 1 => d.remove(0),
                other => {
                    *by_shape_error.entry(format!("{other:?}")).or_default() += 1;
                    continue;
                }
            };
            let shipped = serde_json::to_vec(&to_winlogbeat(&value)).expect("json");
            let ecs = decode_record(&shipped)
                .unwrap_or_else(|e| panic!("{at}: {e}"))
                .remove(0);
            let (unshipped, children) = unshipped(&value);
            for c in children {
                *other_children.entry(c).or_default() += 1;
            }
            compare(&evtx, &ecs, &unshipped, &at);
            records += 1;
        }
    }
    assert!(by_shape_error.is_empty(), "{by_shape_error:?}");
    eprintln!(
        "{records} records compared; Event children Winlogbeat does not ship: {other_children:?}"
    );
    assert!(
        other_children
            .keys()
            .all(|k| k == "ProcessingErrorData" || k == "RenderingInfo"),
        "{other_children:?}"
    );
    assert!(records > 8000, "only {records} records");
}

#[test]
fn no_sigmahq_rule_uses_a_system_field_winlogbeat_does_not_ship() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let mut stack = vec![corpus.join("sigma")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yml") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                for line in text.lines() {
                    let key = line.trim_start().trim_start_matches("- ");
                    for name in NOT_SHIPPED {
                        let used = key
                            .strip_prefix(name)
                            .is_some_and(|rest| rest.starts_with(':') || rest.starts_with('|'));
                        assert!(!used, "{} uses {name}", p.display());
                    }
                }
            }
        }
    }
}
