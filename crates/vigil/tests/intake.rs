//! Telemetry intake end to end over a real socket: the EVTX attack samples
//! sent through each intake endpoint and through `vigil ingest` give the
//! same alerts, with entities.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{Value, json};
use support::{admin_token, free_port, ingest_key, json, serve};

/// The samples as evtx_dump JSON records, in file order.
fn sample_records(samples: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for f in vigil_testkit::files_with_extension(samples, "evtx") {
        vigil_formats::read_records(
            &f,
            vigil_formats::FileKind::Evtx,
            1,
            &mut |r| out.push(r.json),
            &mut |e| panic!("{e:?}"),
        );
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// Wait until the tenant's events are all through detection.
fn settle(client: &Client, base: &str, token: &str, tenant: &str, events: u64) {
    let started = Instant::now();
    loop {
        let stats: Value = client
            .get(format!("{base}/api/v1/tenants/{tenant}/telemetry"))
            .bearer_auth(token)
            .send()
            .expect("stats")
            .json()
            .expect("json");
        if stats["events"] == json!(events) && stats["pending_detection"] == json!(0) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{tenant} did not settle: {stats}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Every alert of a tenant, as (rule, key entities) → (total count, first,
/// last activity, severity, whether it names entities).
fn alerts(
    client: &Client,
    base: &str,
    token: &str,
    tenant: &str,
) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/tenants/{tenant}/alerts?limit=500");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .expect("alerts")
            .json()
            .expect("json");
        for a in page["items"].as_array().expect("items") {
            for field in [
                "id",
                "rule_id",
                "rule_title",
                "severity",
                "tactics",
                "techniques",
                "entities",
                "first_activity",
                "last_activity",
                "count",
                "incident_id",
            ] {
                assert!(a.get(field).is_some(), "alert without {field}: {a}");
            }
            // Grouped by rule and key entities (who and where), as
            // deduplication groups them; within that, how matches split
            // into alerts can depend on detection rounds (ARCHITECTURE.md),
            // so counts are summed and activity spans joined.
            let mut all: Vec<String> = Vec::new();
            let mut keys: Vec<String> = Vec::new();
            for e in a["entities"].as_array().expect("entities") {
                let kind = e["kind"].as_str().unwrap_or("");
                let text = format!("{kind}:{}", e["value"].as_str().unwrap_or(""));
                if matches!(kind, "device" | "user" | "mailbox" | "cloud_resource") {
                    keys.push(text.clone());
                }
                all.push(text);
            }
            if keys.is_empty() {
                keys = all
                    .iter()
                    .filter(|e| e.starts_with("ip:"))
                    .cloned()
                    .collect();
            }
            keys.sort();
            keys.dedup();
            let key = (
                a["rule_id"].as_str().expect("rule").to_owned(),
                keys.join(" "),
            );
            let count = a["count"].as_u64().expect("count");
            let first = a["first_activity"].as_str().expect("first").to_owned();
            let last = a["last_activity"].as_str().expect("last").to_owned();
            let entry = out.entry(key).or_insert_with(|| {
                json!([
                    0,
                    first.clone(),
                    last.clone(),
                    a["severity"],
                    !all.is_empty()
                ])
            });
            entry[0] = json!(entry[0].as_u64().unwrap_or(0) + count);
            if entry[1].as_str().is_some_and(|f| first.as_str() < f) {
                entry[1] = json!(first);
            }
            if entry[2].as_str().is_some_and(|l| last.as_str() > l) {
                entry[2] = json!(last);
            }
        }
        match page["next"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

#[test]
fn the_evtx_samples_give_the_same_alerts_through_every_intake_path() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let samples = corpus.join("evtx-attack-samples");
    let rules = corpus.join("sigma/rules/windows");
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    for t in ["via-events", "via-bulk", "via-hec", "via-cli"] {
        json(d, &["tenant", "create", "--slug", t, "--name", t, "--json"]);
    }
    let pack = json(
        d,
        &[
            "rules",
            "add",
            rules.to_str().expect("path"),
            "--name",
            "sigmahq-windows",
            "--json",
        ],
    );
    assert!(
        pack["detection_rules"].as_u64().expect("count") > 2000,
        "{pack}"
    );
    let token = admin_token(d);
    let keys: BTreeMap<&str, String> = ["via-events", "via-bulk", "via-hec"]
        .into_iter()
        .map(|t| (t, ingest_key(d, t)))
        .collect();
    let records = sample_records(&samples);
    assert!(records.len() > 8000);

    let addr = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{addr}");
    let mut server = serve(d, &addr);
    let client = Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");

    let mut accepted = BTreeMap::new();
    for (n, chunk) in records.chunks(1500).enumerate() {
        // JSON lines, every other batch gzipped.
        let mut ndjson = Vec::new();
        for r in chunk {
            ndjson.extend_from_slice(r);
            ndjson.push(b'\n');
        }
        let mut req = client
            .post(format!("{base}/api/v1/ingest/events"))
            .bearer_auth(&keys["via-events"])
            .header("content-type", "application/x-ndjson");
        req = if n % 2 == 0 {
            req.header("content-encoding", "gzip").body(gzip(&ndjson))
        } else {
            req.body(ndjson)
        };
        let answer: Value = req.send().expect("events").json().expect("json");
        assert_eq!(answer["dead_lettered"], 0, "{answer}");
        *accepted.entry("via-events").or_insert(0) += answer["accepted"].as_u64().expect("n");

        // The Elasticsearch bulk API, as Winlogbeat sends it.
        let mut bulk = Vec::new();
        for r in chunk {
            bulk.extend_from_slice(br#"{"create":{"_index":"winlogbeat-8.11.0"}}"#);
            bulk.push(b'\n');
            bulk.extend_from_slice(r);
            bulk.push(b'\n');
        }
        let key = &keys["via-bulk"];
        let answer: Value = client
            .post(format!("{base}/api/v1/ingest/_bulk"))
            .header(
                "authorization",
                format!("ApiKey {}", b64(&format!("winlogbeat:{key}"))),
            )
            .header("content-type", "application/x-ndjson")
            .body(bulk)
            .send()
            .expect("bulk")
            .json()
            .expect("json");
        assert_eq!(answer["errors"], false, "{answer}");
        let items = answer["items"].as_array().expect("items");
        assert_eq!(items.len(), chunk.len());
        assert!(items.iter().all(|i| i["create"]["status"] == 201));
        *accepted.entry("via-bulk").or_insert(0) += items.len() as u64;

        // Splunk HEC, as Vector sends it.
        let mut hec = Vec::new();
        for r in chunk {
            hec.extend_from_slice(br#"{"sourcetype":"_json","event":"#);
            hec.extend_from_slice(r);
            hec.extend_from_slice(b"}");
        }
        let answer: Value = client
            .post(format!("{base}/services/collector/event"))
            .header("authorization", format!("Splunk {}", keys["via-hec"]))
            .body(hec)
            .send()
            .expect("hec")
            .json()
            .expect("json");
        assert_eq!(answer["code"], 0, "{answer}");
        *accepted.entry("via-hec").or_insert(0) += answer["accepted"].as_u64().expect("n");
    }
    // The CLI, while the server runs: it stores, the server detects.
    let cli = json(
        d,
        &[
            "ingest",
            "--tenant",
            "via-cli",
            samples.to_str().expect("path"),
            "--json",
        ],
    );
    assert_eq!(cli["dead_lettered"], 0, "{cli}");
    assert_eq!(cli["accepted"].as_u64(), Some(records.len() as u64));

    // Identical records in the samples are stored once.
    let unique = {
        let mut seen = std::collections::HashSet::new();
        records.iter().filter(|r| seen.insert(r.as_slice())).count() as u64
    };
    for t in ["via-events", "via-bulk", "via-hec", "via-cli"] {
        settle(&client, &base, &token, t, unique);
    }
    let reference = alerts(&client, &base, &token, "via-events");
    assert!(reference.len() > 300, "alerts: {}", reference.len());
    let with_entities = reference.values().filter(|v| v[4] == true).count();
    assert!(
        with_entities * 10 >= reference.len() * 9,
        "most alerts name entities: {with_entities} of {}",
        reference.len()
    );
    assert!(
        reference
            .keys()
            .any(|(_, e)| e.contains("device:") && e.contains("user:")),
        "alerts name devices and users"
    );
    for t in ["via-bulk", "via-hec", "via-cli"] {
        let other = alerts(&client, &base, &token, t);
        assert_eq!(other.len(), reference.len(), "{t}");
        let differing: Vec<_> = reference
            .iter()
            .filter(|(k, v)| other.get(*k) != Some(*v))
            .take(5)
            .collect();
        assert!(differing.is_empty(), "{t} differs: {differing:?}");
    }
    assert_eq!(accepted["via-events"], records.len() as u64);

    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
