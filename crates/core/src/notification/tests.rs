use super::*;
use crate::tenant::{
    Channel, ChannelKind, Contact, ContactKind, Secret, TenantName, TenantSlug, WebhookFormat,
};

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).expect("valid time")
}

fn contact(name: &str, email: &str, priority: u8) -> Contact {
    Contact {
        kind: ContactKind::Incident,
        name: name.into(),
        email: Some(email.into()),
        phone: None,
        priority,
    }
}

fn tenant(lifecycle: Lifecycle) -> Tenant {
    let mut t = Tenant::new(
        TenantSlug::parse("acme").expect("slug"),
        TenantName::parse("Acme").expect("name"),
        now(),
    );
    t.lifecycle = lifecycle;
    t.settings.contacts = vec![
        contact("Second", "second@acme.example", 2),
        contact("First", "first@acme.example", 1),
        Contact {
            kind: ContactKind::ServiceReview,
            name: "Reviewer".into(),
            email: Some("review@acme.example".into()),
            phone: None,
            priority: 1,
        },
    ];
    t.settings.channels = vec![
        Channel {
            name: "soc-mail".into(),
            kind: ChannelKind::Email {
                to: vec!["soc@acme.example".into(), "FIRST@acme.example".into()],
            },
        },
        Channel {
            name: "slack".into(),
            kind: ChannelKind::Webhook {
                url: "https://hooks.example/x".into(),
                format: WebhookFormat::Slack,
                secret: Secret::new("0123456789abcdef"),
            },
        },
    ];
    t
}

fn email(to: &str) -> Destination {
    Destination::Email { to: to.into() }
}

#[test]
fn incident_contacts_reach_every_contact_and_channel_once_in_call_order() {
    let t = tenant(Lifecycle::Live);
    let planned: Vec<Destination> = plan(
        &t,
        NotificationKind::Message,
        &Audience::IncidentContacts,
        &[],
    )
    .into_iter()
    .map(|(d, s)| {
        assert_eq!(s, DeliveryStatus::Pending);
        d
    })
    .collect();
    assert_eq!(
        planned,
        vec![
            email("first@acme.example"),
            email("second@acme.example"),
            email("soc@acme.example"),
            Destination::Webhook {
                channel: "slack".into()
            },
        ]
    );
}

#[test]
fn one_contact_gets_an_email_and_the_webhooks_name_the_escalation() {
    let t = tenant(Lifecycle::Live);
    let planned: Vec<Destination> = plan(&t, NotificationKind::Message, &Audience::Contact(2), &[])
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    assert_eq!(
        planned,
        vec![
            email("second@acme.example"),
            Destination::Webhook {
                channel: "slack".into()
            }
        ]
    );
}

#[test]
fn customer_destinations_are_held_while_the_tenant_is_not_live_but_provider_users_are_not() {
    let t = tenant(Lifecycle::Monitoring);
    let analyst = User::new("ana@provider.example", Role::Analyst, None, now()).expect("user");
    let admin =
        User::new("admin@acme.example", Role::CustomerAdmin, Some(t.id), now()).expect("user");
    let other = User::new(
        "admin@other.example",
        Role::CustomerAdmin,
        Some(TenantId::new_at(now())),
        now(),
    )
    .expect("user");
    let mut disabled =
        User::new("gone@provider.example", Role::Analyst, None, now()).expect("user");
    disabled.disabled = true;
    let planned = plan(
        &t,
        NotificationKind::Message,
        &Audience::Roles(vec![Role::Analyst, Role::CustomerAdmin]),
        &[analyst, admin, other, disabled],
    );
    assert_eq!(
        planned,
        vec![
            (email("ana@provider.example"), DeliveryStatus::Pending),
            (email("admin@acme.example"), DeliveryStatus::Held),
        ]
    );
    assert!(
        plan(
            &t,
            NotificationKind::Message,
            &Audience::IncidentContacts,
            &[]
        )
        .iter()
        .all(|(_, s)| *s == DeliveryStatus::Held)
    );
}

#[test]
fn retries_back_off_and_then_give_up() {
    assert_eq!(retry_delay(0), None);
    assert_eq!(retry_delay(1), Some(SignedDuration::from_secs(30)));
    assert_eq!(retry_delay(2), Some(SignedDuration::from_mins(2)));
    assert_eq!(retry_delay(5), Some(SignedDuration::from_hours(2)));
    assert_eq!(retry_delay(6), None);
}

#[test]
fn a_major_incident_reaches_the_ir_provider_and_is_never_held() {
    let mut t = tenant(Lifecycle::Monitoring);
    t.settings.ir_provider = Some(crate::tenant::IrProvider {
        name: "Rapid IR".into(),
        contact: "hotline@ir.example".into(),
        engagement: "retainer 42".into(),
    });
    let planned = plan(
        &t,
        NotificationKind::MajorIncident,
        &Audience::IncidentContactsAndIrProvider,
        &[],
    );
    assert_eq!(planned[0].0, email("hotline@ir.example"));
    assert_eq!(planned.len(), 5);
    assert!(planned.iter().all(|(_, s)| *s == DeliveryStatus::Pending));
}
