//! `GET /api/v1/events/stream`: live updates as Server-Sent Events. Each
//! event is a change notice the caller may see (the service filters by the
//! one authorisation rule); its name is the kind of change and its data
//! the notice as JSON: `{"tenant","tenant_id","kind","id","incident"}`.
//! A reader that falls behind gets a `missed` event and should reload. The
//! credential is checked again before each event: revoking it ends the
//! stream.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use vigil_service::{LiveFeed, LiveItem};

use crate::auth::still_valid;
use crate::error::ApiError;
use crate::{AppState, Caller};

fn event_of(item: LiveItem) -> Event {
    match item {
        LiveItem::Event(d) => {
            let name = d.event.kind.as_str();
            let data = serde_json::to_string(&d).unwrap_or_else(|_| "{}".into());
            Event::default().event(name).data(data)
        }
        LiveItem::Missed(n) => Event::default()
            .event("missed")
            .data(format!("{{\"missed\":{n}}}")),
    }
}

/// Live updates for you: new incidents and changes to them, tasks,
/// comments (the experts' internal ones to provider roles only), messages
/// and inquiries, for the tenants you may see.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events", operation_id = "event_stream",
    responses((status = 200, description = "`text/event-stream`; events `incident_created`, `incident_updated`, `task`, `comment`, `internal_comment`, `message`, `inquiry`, `missed`, each with JSON data", content_type = "text/event-stream", body = String),
               (status = 401, description = "No valid credential")))]
pub async fn stream(
    State(s): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Subscribed before the answer goes out: nothing after it is missed.
    let feed: LiveFeed = s.service.live_feed(&p)?;
    // Only the credential is kept, to check it again before each event: a
    // token revoked, a session ended or a user disabled while the stream is
    // open ends it, and nothing more is sent.
    let mut credential = HeaderMap::new();
    for name in [AUTHORIZATION, COOKIE] {
        if let Some(v) = headers.get(&name) {
            credential.insert(name, v.clone());
        }
    }
    let events = futures_util::stream::unfold(
        (feed, credential, s, p),
        |(mut feed, credential, s, p)| async move {
            let item = feed.next().await?;
            if !still_valid(&credential, &s, &p).await {
                tracing::info!("live stream ended: its credential is no longer valid");
                return None;
            }
            Some((Ok(event_of(item)), (feed, credential, s, p)))
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
