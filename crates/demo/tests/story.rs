//! The story's records are what their sources send: each decodes as its
//! shape, at the time the story says.

use std::collections::BTreeSet;

use jiff::Timestamp;
use vigil_demo::{Chapter, DEFAULT_SEED, generate};

#[test]
fn every_record_decodes_in_the_shape_of_its_source_at_its_own_time() {
    let now: Timestamp = "2026-11-27T12:00:00Z".parse().expect("now");
    let story = generate(DEFAULT_SEED, now);
    let mut shapes = BTreeSet::new();
    for e in &story.events {
        let decoded = vigil_formats::decode_record(e.json.as_bytes())
            .unwrap_or_else(|err| panic!("{err}: {}", e.json));
        assert_eq!(decoded.len(), 1, "{}", e.json);
        let d = &decoded[0];
        shapes.insert(d.shape.as_str());
        let time: Timestamp = d
            .time
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("a time: {}", e.json));
        assert_eq!(time.as_second(), e.at.as_second(), "{}", e.json);
        assert!(!d.entities.is_empty(), "entities: {}", e.json);
    }
    let expected: BTreeSet<&str> = [
        "windows_evtx",
        "entra_signin",
        "m365_audit",
        "cloudtrail",
        "device_inventory",
        "identity_inventory",
    ]
    .into_iter()
    .collect();
    assert_eq!(shapes, expected);
}

#[test]
fn the_inventory_comes_first_and_describes_every_host_and_account() {
    let now: Timestamp = "2026-11-27T12:00:00Z".parse().expect("now");
    let story = generate(DEFAULT_SEED, now);
    let estate = vigil_demo::estate::Estate::new();
    assert_eq!(
        story.count(Chapter::Inventory),
        estate.hosts.len() + estate.people.len()
    );
    let first_other = story
        .events
        .iter()
        .position(|e| e.chapter != Chapter::Inventory)
        .expect("more than inventory");
    assert!(
        story.events[first_other..]
            .iter()
            .all(|e| e.chapter != Chapter::Inventory)
    );
}
