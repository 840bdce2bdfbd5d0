//! The demo seeded into a real SQLite store through the service, with the
//! clock fixed: what detection and correlation make of the story.

use std::sync::Arc;

use vigil_core::EntityKind;
use vigil_core::identity::{Principal, Role};
use vigil_core::major::Criterion;
use vigil_demo::{Chapter, DemoOptions, DemoWorld, estate::cast, generate, seed};
use vigil_service::{FixedClock, IncidentRecord, Service};
use vigil_store::{SqliteStore, Store};

const NOW: &str = "2026-11-27T12:00:00Z";

async fn service(dir: &tempfile::TempDir) -> Service {
    let store = SqliteStore::open(&dir.path().join("vigil.db"))
        .await
        .expect("store");
    store.migrate().await.expect("migrations");
    let clock = Arc::new(FixedClock::new(NOW.parse().expect("now")));
    Service::new(Arc::new(store), clock)
}

async fn seeded(options: DemoOptions) -> (tempfile::TempDir, Service, DemoWorld) {
    let dir = tempfile::tempdir().expect("dir");
    let svc = service(&dir).await;
    let world = seed(&svc, &options).await.expect("the demo seeds");
    (dir, svc, world)
}

fn names(i: &IncidentRecord, kind: EntityKind, value: &str) -> bool {
    i.incident
        .entities
        .iter()
        .any(|e| e.kind == kind && e.value.eq_ignore_ascii_case(value))
}

fn describe(world: &DemoWorld) -> String {
    world
        .incidents
        .iter()
        .map(|i| format!("{} ({} alerts)", i.incident.title, i.incident.alert_count))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn seeding_a_fresh_store_makes_the_ransomware_intrusion_the_one_major_incident() {
    let (_dir, _svc, world) = seeded(DemoOptions::default()).await;
    let major: Vec<&IncidentRecord> = world.major().collect();
    assert_eq!(major.len(), 1, "{}", describe(&world));
    let ransomware = major[0];
    let state = ransomware.major.as_ref().expect("major state");
    assert!(
        state.has(Criterion::Ransomware),
        "criteria: {:?}",
        state.criteria
    );
    assert!(
        ransomware.ir_engagement.is_some(),
        "an IR engagement is opened"
    );
    let victim_host = format!("{}.brightwater.example", cast::VICTIM_HOST);
    assert!(names(ransomware, EntityKind::Device, &victim_host));
    for target in cast::TARGETS {
        let host = format!("{target}.brightwater.example");
        assert!(
            names(ransomware, EntityKind::Device, &host),
            "{host} is in the intrusion's incident"
        );
    }
    assert!(names(ransomware, EntityKind::User, "brightwater\\adm.hale"));
    assert!(world.events > 2000, "{} events", world.events);
}

#[tokio::test]
async fn the_identity_attack_becomes_an_incident_of_its_own_that_names_the_account_and_the_source()
{
    let (_dir, _svc, world) = seeded(DemoOptions::default()).await;
    let identity: Vec<&IncidentRecord> = world
        .incidents
        .iter()
        .filter(|i| names(i, EntityKind::Ip, vigil_demo::estate::attacker::SPRAY_IP))
        .collect();
    assert_eq!(identity.len(), 1, "{}", describe(&world));
    let i = identity[0];
    assert!(
        names(i, EntityKind::User, "m.okafor@brightwater.example"),
        "{:?}",
        i.incident.entities
    );
    assert!(
        names(
            i,
            EntityKind::Mailbox,
            vigil_demo::estate::attacker::FORWARD_TO
        ),
        "the forwarding address is in it"
    );
    assert!(i.incident.alert_count >= 3, "spray, sign-in, inbox rule");
    assert!(!i.major.as_ref().is_some_and(|m| m.major));
    assert!(
        !names(i, EntityKind::Device, "ws-017.brightwater.example"),
        "the identity attack and the intrusion stay apart"
    );
}

#[tokio::test]
async fn the_administrators_routine_and_everyday_work_raise_no_alert_and_no_incident() {
    let (_dir, _svc, world) = seeded(DemoOptions {
        chapters: &[Chapter::Inventory, Chapter::Background, Chapter::Admin],
        ..DemoOptions::default()
    })
    .await;
    assert!(world.records > 1000, "{} records", world.records);
    assert_eq!(world.alerts, 0, "{}", describe(&world));
    assert!(world.incidents.is_empty(), "{}", describe(&world));
}

#[tokio::test]
async fn no_incident_of_the_whole_story_names_the_administrator() {
    let (_dir, _svc, world) = seeded(DemoOptions::default()).await;
    for i in &world.incidents {
        assert!(
            !names(i, EntityKind::User, "brightwater\\it.ops")
                && !names(i, EntityKind::User, "it.ops@brightwater.example"),
            "{}",
            i.incident.title
        );
    }
}

#[tokio::test]
async fn the_four_logins_authenticate_with_their_roles() {
    let (_dir, svc, world) = seeded(DemoOptions {
        chapters: &[Chapter::Inventory],
        ..DemoOptions::default()
    })
    .await;
    let roles: Vec<Role> = world.logins.iter().map(|l| l.role).collect();
    assert_eq!(
        roles,
        [
            Role::ProviderAdmin,
            Role::Analyst,
            Role::CustomerAdmin,
            Role::CustomerResponder
        ]
    );
    for login in &world.logins {
        let p = svc
            .verify_password(&login.email, &login.password)
            .await
            .unwrap_or_else(|e| panic!("{} signs in: {e}", login.email));
        let Principal::User {
            role, tenant_id, ..
        } = p
        else {
            panic!("{} is a user", login.email);
        };
        assert_eq!(role, login.role, "{}", login.email);
        assert_eq!(
            tenant_id.is_some(),
            login.tenant.is_some(),
            "{}",
            login.email
        );
        assert!(
            svc.verify_password(&login.email, "not-the-password")
                .await
                .is_err()
        );
    }
}

#[test]
fn the_same_seed_and_now_tell_the_same_story_and_another_seed_another() {
    let now = NOW.parse().expect("now");
    let a = generate(7, now);
    let b = generate(7, now);
    assert_eq!(a, b);
    let c = generate(8, now);
    assert_ne!(a.events, c.events);
    for chapter in Chapter::ALL {
        assert!(a.count(chapter) > 0, "{chapter:?} has records");
    }
    assert!(
        a.events.windows(2).all(|w| w[0].at <= w[1].at),
        "time order"
    );
    assert!(a.events.iter().all(|e| e.at < now), "all before now");
}
