//! Real listeners for the delivery tests (an SMTP server and an HTTP
//! webhook receiver, both on 127.0.0.1:0), and a world: a service over a
//! fresh SQLite file with a fixed clock, a tenant with one incident from
//! real telemetry, its contacts and channels.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use vigil_core::identity::Principal;
use vigil_core::incident::IncidentId;
use vigil_core::tenant::{
    Channel, ChannelKind, Contact, ContactKind, Lifecycle, Secret, SettingChange, WebhookFormat,
};
use vigil_service::{FixedClock, Service};
use vigil_store::{SqliteStore, Store};

pub const PUBLIC_URL: &str = "https://vigil.example";

/// One webhook call as received.
#[derive(Debug, Clone)]
pub struct Hook {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Hook {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Debug, Clone, Default)]
struct Hooks {
    calls: Arc<Mutex<Vec<Hook>>>,
    /// Status answered per path (default 200).
    status: Arc<Mutex<HashMap<String, u16>>>,
}

/// An HTTP server that records every POST to `/{name}` and answers the
/// status set for that name.
#[derive(Debug, Clone)]
pub struct HookServer {
    pub base: String,
    hooks: Hooks,
}

impl HookServer {
    pub async fn start() -> HookServer {
        let hooks = Hooks::default();
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(hooks.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind hooks");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HookServer { base, hooks }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    pub fn answer(&self, path: &str, status: u16) {
        self.hooks
            .status
            .lock()
            .expect("status")
            .insert(path.to_owned(), status);
    }

    pub fn calls(&self) -> Vec<Hook> {
        self.hooks.calls.lock().expect("calls").clone()
    }

    pub fn calls_to(&self, path: &str) -> Vec<Hook> {
        self.calls()
            .into_iter()
            .filter(|h| h.path == path)
            .collect()
    }
}

async fn receive(
    State(hooks): State<Hooks>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let status = hooks
        .status
        .lock()
        .expect("status")
        .get(&path)
        .copied()
        .unwrap_or(200);
    hooks.calls.lock().expect("calls").push(Hook {
        path,
        headers,
        body,
    });
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub fn smtp_config(port: u16) -> vigil_notify::SmtpConfig {
    vigil_notify::SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        security: vigil_notify::SmtpSecurity::None,
        username: String::new(),
        password: String::new(),
        from: "Vigil <vigil@mdr.example>".into(),
        timeout: std::time::Duration::from_secs(10),
    }
}

pub fn contact(name: &str, email: &str, priority: u8) -> SettingChange {
    SettingChange::AddContact(Contact {
        kind: ContactKind::Incident,
        name: name.into(),
        email: Some(email.into()),
        phone: None,
        priority,
    })
}

pub fn webhook(name: &str, url: String, format: WebhookFormat, secret: &str) -> SettingChange {
    SettingChange::AddChannel(Channel {
        name: name.into(),
        kind: ChannelKind::Webhook {
            url,
            format,
            secret: Secret::new(secret),
        },
    })
}

pub struct World {
    pub svc: Service,
    pub clock: Arc<FixedClock>,
    pub op: Principal,
    pub incident: IncidentId,
    _dir: tempfile::TempDir,
}

/// Tenant `acme` in `lifecycle` with these settings, and one incident
/// (CloudTrail logging stopped by mallory) with a draft summary, ready for
/// its response to be published.
pub async fn world(lifecycle: Lifecycle, settings: Vec<SettingChange>) -> World {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("vigil.db"))
        .await
        .expect("store");
    store.migrate().await.expect("migrate");
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T09:00:00Z".parse().expect("time"),
    ));
    let svc = Service::new(Arc::new(store), clock.clone()).with_public_url(PUBLIC_URL);
    let op = Principal::Operator("test".into());
    svc.create_tenant(&op, "acme", "Acme")
        .await
        .expect("tenant");
    if !settings.is_empty() {
        svc.update_tenant(&op, "acme", &settings)
            .await
            .expect("settings");
    }
    for step in [Lifecycle::Monitoring, Lifecycle::Live] {
        if lifecycle == Lifecycle::Onboarding || (step == Lifecycle::Live && lifecycle != step) {
            break;
        }
        svc.transition_tenant(&op, "acme", step, Some("test"))
            .await
            .expect("lifecycle");
    }
    let incident = vigil_fixtures::stop_logging_incidents(&svc, &op, &["acme"]).await[0];
    svc.draft_summary(&op, "acme", incident)
        .await
        .expect("draft");
    World {
        svc,
        clock,
        op,
        incident,
        _dir: dir,
    }
}

impl World {
    pub async fn publish(&self) {
        self.svc
            .publish_response(&self.op, "acme", self.incident)
            .await
            .expect("publish");
    }

    /// The deliveries of the newest notification.
    pub async fn deliveries(&self) -> Vec<vigil_core::notification::Delivery> {
        let log = self
            .svc
            .notifications(&self.op, "acme", None, 1)
            .await
            .expect("delivery log");
        log.into_iter().next().map(|(_, d)| d).unwrap_or_default()
    }

    pub fn incident_link(&self) -> String {
        format!("{PUBLIC_URL}/tenants/acme/incidents/{}", self.incident)
    }
}
