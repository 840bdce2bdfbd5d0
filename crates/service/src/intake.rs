//! Telemetry intake: records as shippers send them, decoded, stored once,
//! queued for detection. A batch is acknowledged only after its commit;
//! what cannot be decoded goes to the dead-letter store with the reason.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{Notify, Semaphore};
use vigil_core::identity::{Permission, Principal};
use vigil_core::telemetry::{
    DeadLetter, FUTURE_TOLERANCE_SECS, IntakeBatch, IntakeCounts, NewDeadLetter, NewEvent,
    StoredEvent, flags,
};
use vigil_core::tenant::Tenant;
use vigil_core::time::{from_micros, to_micros};
use vigil_core::{TenantId, Timestamp};
use vigil_formats::{Decoded, decode_records};

use crate::{Result, Service, ServiceError};

/// Limits that keep intake from outrunning detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeLimits {
    /// Events waiting for detection beyond which intake answers "busy".
    pub max_backlog: u64,
    /// Batches decoded and committed at once.
    pub concurrent_batches: usize,
    /// How long a batch waits for its turn before "busy".
    pub queue_wait: Duration,
    /// While this process's detection worker runs, a batch waits (up to
    /// `queue_wait`, then "busy") while more events than this wait for
    /// detection. Intake then runs no further ahead than the decoded
    /// events it hands to detection in memory: past that, detection
    /// would read and decode events again, doubling its work, and never
    /// catch up.
    pub handoff: u64,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            max_backlog: 2_000_000,
            concurrent_batches: 4,
            queue_wait: Duration::from_secs(10),
            handoff: HANDOFF,
        }
    }
}

/// Intake state shared by the service's clones.
#[derive(Debug)]
pub(crate) struct IntakeState {
    pub(crate) limits: IntakeLimits,
    /// Woken after each commit, so detection starts at once.
    pub(crate) committed: Notify,
    /// Woken after each detection round, so intake waiting for room in the
    /// hand-off goes on at once.
    pub(crate) detected: Notify,
    /// This process runs the detection worker: intake then keeps within
    /// the hand-off (see [`IntakeLimits::handoff`]).
    pub(crate) detecting: std::sync::atomic::AtomicBool,
    /// Events waiting for detection, as last counted plus since added.
    pub(crate) backlog: AtomicU64,
    permits: Semaphore,
    pub(crate) decoded: std::sync::Mutex<DecodedCache>,
    /// The store makes hunting rows' `AdditionalFields` from the record
    /// (`HuntStore::derive_additional`): intake leaves it out.
    pub(crate) lean_hunting: bool,
}

impl IntakeState {
    pub(crate) fn new(limits: IntakeLimits, lean_hunting: bool) -> Self {
        IntakeState {
            lean_hunting,
            limits,
            committed: Notify::new(),
            detected: Notify::new(),
            detecting: std::sync::atomic::AtomicBool::new(false),
            backlog: AtomicU64::new(0),
            permits: Semaphore::new(limits.concurrent_batches.max(1)),
            decoded: std::sync::Mutex::new(DecodedCache::default()),
        }
    }
}

/// Where a record was in its request or file, for dead-letter reasons
/// (formatted only when one is needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// 1-based line of a JSON lines body.
    Line(usize),
    /// 0-based element of a JSON array.
    Item(usize),
    /// 1-based event of a Splunk HEC body.
    Event(usize),
    Text(String),
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Line(n) => write!(f, "line {n}"),
            At::Item(n) => write!(f, "item {n}"),
            At::Event(n) => write!(f, "event {n}"),
            At::Text(t) => f.write_str(t),
        }
    }
}

/// One record as sent: a JSON object, and where it was.
#[derive(Debug, Clone)]
pub struct Record {
    pub at: At,
    pub bytes: Vec<u8>,
}

/// Records as one request or file brought them.
#[derive(Debug, Default)]
pub struct Intake {
    /// Where they came in: `api:events`, `api:bulk`, `api:hec`, `cli:PATH`.
    pub source: String,
    pub records: Vec<Record>,
    /// Records the transport already found broken (a bad NDJSON line):
    /// dead-lettered as they are.
    pub broken: Vec<NewDeadLetter>,
    pub idempotency_key: Option<String>,
}

/// SHA-256 as lowercase hex (once per event).
fn hex_sha256(bytes: &[u8]) -> String {
    vigil_core::hex::lower(&Sha256::digest(bytes))
}

/// The event's own time, or its arrival with a flag saying why.
fn event_time(decoded: &Decoded, received_at: Timestamp) -> (Timestamp, u32) {
    let Some(own) = decoded
        .time
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok())
    else {
        return (received_at, flags::NO_TIME);
    };
    let ahead = own.duration_since(received_at).as_secs();
    if ahead > FUTURE_TOLERANCE_SECS {
        // Kept and flagged; stored under its arrival so it cannot hide
        // beyond the end of every timeline.
        (received_at, flags::FUTURE_TIME)
    } else {
        (own, 0)
    }
}

/// The event to store; its hunting row without `AdditionalFields` when
/// `lean` (see [`IntakeState::lean_hunting`]).
fn new_event(
    decoded: &Decoded,
    raw: String,
    hash: String,
    received_at: Timestamp,
    lean: bool,
) -> NewEvent {
    let (time, flags) = event_time(decoded, received_at);
    NewEvent {
        time,
        shape: decoded.shape.as_str(),
        product: decoded.logsource.product.clone(),
        service: decoded.logsource.service.clone(),
        category: decoded.logsource.category.clone(),
        content_hash: hash,
        flags,
        raw,
        entities: decoded.entities.clone(),
        hunt: if lean {
            vigil_hunt::project_lean(decoded)
        } else {
            vigil_hunt::project(decoded)
        },
    }
}

/// Events decoded at intake, kept for detection by `seq` so it need not
/// read and decode them again (bounded: the oldest go first; a miss is
/// decoded from the store).
#[derive(Debug, Default)]
pub(crate) struct DecodedCache {
    events: std::collections::HashMap<i64, (StoredEvent, Decoded)>,
    order: std::collections::VecDeque<i64>,
}

/// At most this many decoded events wait in memory (about 2 KiB each).
const DECODED_CACHE: usize = 32_768;

/// The default [`IntakeLimits::handoff`]: half the cache, the rest being
/// room for the batches in flight.
const HANDOFF: u64 = (DECODED_CACHE / 2) as u64;

impl DecodedCache {
    fn put(&mut self, seq: i64, stored: StoredEvent, event: Decoded) {
        while self.order.len() >= DECODED_CACHE {
            if let Some(old) = self.order.pop_front() {
                self.events.remove(&old);
            }
        }
        self.order.push_back(seq);
        self.events.insert(seq, (stored, event));
    }

    /// The event as stored (its record left out) and as decoded.
    pub(crate) fn take(&mut self, seq: i64) -> Option<(StoredEvent, Decoded)> {
        self.events.remove(&seq)
    }

    /// The event `seq` of `tenant`, left for detection.
    pub(crate) fn peek(&self, tenant: TenantId, seq: i64) -> Option<&(StoredEvent, Decoded)> {
        self.events.get(&seq).filter(|(e, _)| e.tenant_id == tenant)
    }
}

/// Split a `{"Records":[…]}` record into its elements (each stored and
/// deduplicated alone); any other record is itself.
fn elements(record: &[u8]) -> Option<Vec<Vec<u8>>> {
    let head = &record[..record.len().min(64)];
    memchr::memmem::find(head, b"ecords\"")?;
    let value: serde_json::Value = serde_json::from_slice(record).ok()?;
    let items = ["Records", "records"]
        .into_iter()
        .find_map(|k| value.get(k).and_then(serde_json::Value::as_array))?;
    Some(
        items
            .iter()
            .filter_map(|v| serde_json::to_vec(v).ok())
            .collect(),
    )
}

/// Decode every record into events and dead letters (CPU work: run it off
/// the async runtime). Also returns, per record, why it was dead-lettered
/// (`None`: stored; for a `Records` batch, the first bad element).
pub fn build_batch(intake: Intake, received_at: Timestamp) -> (IntakeBatch, Vec<Option<String>>) {
    let (batch, outcomes, _) = decode_batch(intake, received_at, false);
    (batch, outcomes)
}

/// [`build_batch`], keeping each event's decoding beside it; hunting rows
/// without `AdditionalFields` when `lean`.
fn decode_batch(
    intake: Intake,
    received_at: Timestamp,
    lean: bool,
) -> (IntakeBatch, Vec<Option<String>>, Vec<Decoded>) {
    let mut kept = Vec::with_capacity(intake.records.len());
    let mut batch = IntakeBatch {
        idempotency_key: intake.idempotency_key,
        events: Vec::with_capacity(intake.records.len()),
        dead_letters: intake.broken,
    };
    let source = intake.source;
    let mut one =
        |at: &dyn std::fmt::Display, bytes: Vec<u8>, batch: &mut IntakeBatch| -> Option<String> {
            let failure = match decode_records(&bytes) {
                Ok(mut decoded) if decoded.len() == 1 => match decoded.pop() {
                    Some(Ok(d)) => {
                        let hash = hex_sha256(&bytes);
                        let raw = String::from_utf8(bytes)
                            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                        batch
                            .events
                            .push(new_event(&d, raw, hash, received_at, lean));
                        kept.push(d);
                        return None;
                    }
                    Some(Err(e)) => e.to_string(),
                    None => "no event in the record".to_owned(),
                },
                Ok(_) => "a batch record inside a batch record".to_owned(),
                Err(e) => e.to_string(),
            };
            let reason = format!("{at}: {failure}");
            batch
                .dead_letters
                .push(NewDeadLetter::new(&source, reason.clone(), &bytes));
            Some(reason)
        };
    let mut outcomes = Vec::with_capacity(intake.records.len());
    for record in intake.records {
        let outcome = match elements(&record.bytes) {
            Some(items) => {
                let mut first_failure = None;
                for (i, item) in items.into_iter().enumerate() {
                    let at = format!("{} Records[{i}]", record.at);
                    let failed = one(&at, item, &mut batch);
                    first_failure = first_failure.or(failed);
                }
                first_failure
            }
            None => one(&record.at, record.bytes, &mut batch),
        };
        outcomes.push(outcome);
    }
    (batch, outcomes, kept)
}

/// A tenant's telemetry at a glance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TelemetryStats {
    pub events: u64,
    pub pending_detection: u64,
    pub dead_letters: u64,
}

/// What one intake did: the counts, and per record why it was refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    pub counts: IntakeCounts,
    /// Per record in the order sent: `None` when stored, else the reason
    /// it was dead-lettered. Empty for a replayed batch.
    pub records: Vec<Option<String>>,
}

impl Service {
    /// The tenant that `p` sends telemetry to: the key's own, or (for the
    /// operator and users allowed to) the one named.
    async fn intake_tenant(&self, p: &Principal, tenant: Option<&str>) -> Result<Tenant> {
        let tenant = match (tenant, p) {
            (Some(slug), _) => self.load_tenant(slug).await?,
            (None, Principal::IngestKey { tenant_id }) => self
                .store
                .tenant_by_id(*tenant_id)
                .await?
                .ok_or(ServiceError::Unauthenticated)?,
            (None, _) => {
                return Err(ServiceError::NotFound {
                    what: "tenant",
                    key: String::new(),
                });
            }
        };
        self.authorize(p, Permission::SendTelemetry, Some(&tenant), false)
            .await?;
        Ok(tenant)
    }

    /// Decode, store and queue one batch of records for the tenant. Answers
    /// only after the commit; retries with the same idempotency key, and
    /// identical events, are stored once.
    pub async fn ingest(
        &self,
        p: &Principal,
        tenant: Option<&str>,
        intake: Intake,
    ) -> Result<IngestOutcome> {
        let tenant = self.intake_tenant(p, tenant).await?;
        let state = &self.intake;
        let mut backlog = state.backlog.load(Ordering::Relaxed);
        if backlog >= state.limits.max_backlog && self.bus.shared() {
            // On a shared bus other processes detect (and take in): this
            // process's count is an estimate, so once it says "full" the
            // store's queue, which every process shares, decides.
            backlog = self.store.detection_queue_len().await?;
            state.backlog.store(backlog, Ordering::Relaxed);
        }
        if backlog >= state.limits.max_backlog {
            return Err(ServiceError::Busy {
                reason: format!("{backlog} events wait for detection"),
                retry_after_secs: 5,
            });
        }
        let waited = std::time::Instant::now();
        if state.detecting.load(Ordering::Relaxed) {
            self.wait_for_handoff(state.limits.queue_wait).await?;
        }
        let left = state.limits.queue_wait.saturating_sub(waited.elapsed());
        let _permit = tokio::time::timeout(left, state.permits.acquire())
            .await
            .map_err(|_| ServiceError::Busy {
                reason: "every intake slot is taken".into(),
                retry_after_secs: 2,
            })?
            .map_err(|_| ServiceError::Conflict("intake is shutting down".into()))?;
        let received_at = self.clock.now();
        let admitted = waited.elapsed();
        let lean = state.lean_hunting;
        let (batch, records, decoded) =
            tokio::task::spawn_blocking(move || decode_batch(intake, received_at, lean))
                .await
                .map_err(|e| ServiceError::Conflict(format!("decoding failed: {e}")))?;
        let decoded_at = waited.elapsed();
        let (counts, seqs) = self
            .store
            .commit_intake(tenant.id, received_at, &batch)
            .await?;
        let committed_at = waited.elapsed();
        let stored: Vec<i64> = seqs.iter().flatten().copied().collect();
        {
            // As the store keeps them: to the microsecond, the record left
            // out (detection has its decoding).
            let micros = |t: Timestamp| from_micros(to_micros(t)).unwrap_or(t);
            let received_at = micros(received_at);
            let mut cache = state.decoded.lock().unwrap_or_else(|p| p.into_inner());
            for ((seq, d), e) in seqs.into_iter().zip(decoded).zip(batch.events) {
                if let Some(seq) = seq {
                    let event = NewEvent {
                        time: micros(e.time),
                        raw: String::new(),
                        hunt: None,
                        ..e
                    };
                    let stored = StoredEvent {
                        seq,
                        tenant_id: tenant.id,
                        received_at,
                        event,
                    };
                    cache.put(seq, stored, d);
                }
            }
        }
        let added = counts.accepted - counts.duplicates;
        if !counts.replayed && added > 0 {
            state.backlog.fetch_add(added, Ordering::Relaxed);
            state.committed.notify_one();
        }
        if !stored.is_empty() {
            // Stored first, announced second: when the bus is down the
            // events wait on the store's queue (the scheduler announces
            // them again) and the sender is told to retry; its retry is
            // deduplicated by content.
            let announcement = crate::bus::Announcement {
                tenant: tenant.id,
                seqs: stored,
            };
            if let Err(e) = self.bus.publish(&announcement).await {
                tracing::warn!(tenant = %tenant.slug, error = %e, "events stored but not announced to detection");
                return Err(ServiceError::Unavailable {
                    reason: e.to_string(),
                    retry_after_secs: 5,
                });
            }
        }
        metrics::counter!("vigil_intake_events_total", "result" => "accepted")
            .increment(counts.accepted);
        metrics::counter!("vigil_intake_events_total", "result" => "dead_lettered")
            .increment(counts.dead_lettered);
        tracing::debug!(
            tenant = %tenant.slug,
            accepted = counts.accepted,
            duplicates = counts.duplicates,
            dead_lettered = counts.dead_lettered,
            replayed = counts.replayed,
            wait_ms = admitted.as_millis() as u64,
            decode_ms = (decoded_at - admitted).as_millis() as u64,
            commit_ms = (committed_at - decoded_at).as_millis() as u64,
            "batch committed"
        );
        Ok(IngestOutcome {
            counts,
            records: if counts.replayed { Vec::new() } else { records },
        })
    }

    /// Wait until detection has room in the hand-off, up to `wait`.
    async fn wait_for_handoff(&self, wait: Duration) -> Result<()> {
        let state = &self.intake;
        let room = async {
            loop {
                let detected = state.detected.notified();
                if state.backlog.load(Ordering::Relaxed) < state.limits.handoff
                    || !state.detecting.load(Ordering::Relaxed)
                {
                    return;
                }
                // Woken by the next round (or the worker stopping); a
                // `Notified` hears `notify_waiters` from its creation, so
                // a round that ended since the check is not missed.
                detected.await;
            }
        };
        tokio::time::timeout(wait, room)
            .await
            .map_err(|_| ServiceError::Busy {
                reason: format!(
                    "{} events wait for detection",
                    state.backlog.load(Ordering::Relaxed)
                ),
                retry_after_secs: 2,
            })
    }

    /// A tenant's dead letters, oldest first (customer admins and the
    /// provider).
    pub async fn dead_letters(
        &self,
        p: &Principal,
        tenant: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<DeadLetter>> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ManageIngestKeys, Some(&tenant), true)
            .await?;
        Ok(self
            .store
            .dead_letters(tenant.id, after, limit.clamp(1, 1000))
            .await?)
    }

    /// What a tenant's telemetry looks like: events stored, waiting for
    /// detection, dead letters.
    pub async fn telemetry_stats(&self, p: &Principal, tenant: &str) -> Result<TelemetryStats> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&tenant), true)
            .await?;
        let events = self.store.count_events(tenant.id).await?;
        let (pending_detection, dead_letters) = self.store.telemetry_counts(tenant.id).await?;
        Ok(TelemetryStats {
            events,
            pending_detection,
            dead_letters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    fn intake(records: &[&str]) -> Intake {
        Intake {
            source: "test".into(),
            records: records
                .iter()
                .enumerate()
                .map(|(i, r)| Record {
                    at: At::Line(i + 1),
                    bytes: r.as_bytes().to_vec(),
                })
                .collect(),
            ..Default::default()
        }
    }

    const TRAIL: &str = r#"{"eventVersion":"1.08","eventTime":"2026-11-27T08:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","userName":"mallory"}}"#;

    #[test]
    fn a_records_array_is_stored_element_by_element_and_bad_ones_are_dead_lettered() {
        let batch_record = format!(r#"{{"Records":[{TRAIL},{{"nonsense":true}}]}}"#);
        let (batch, outcomes) = build_batch(
            intake(&[&batch_record, "not json"]),
            at("2026-11-27T09:00:00Z"),
        );
        assert!(
            outcomes[0]
                .as_deref()
                .is_some_and(|r| r.starts_with("line 1 Records[1]: "))
        );
        assert!(
            outcomes[1]
                .as_deref()
                .is_some_and(|r| r.starts_with("line 2: "))
        );
        assert_eq!(batch.events.len(), 1);
        assert_eq!(batch.events[0].shape, "cloudtrail");
        assert_eq!(batch.events[0].time, at("2026-11-27T08:00:00Z"));
        assert!(batch.events[0].raw.contains("StopLogging"));
        assert!(
            !batch.events[0].raw.contains("Records"),
            "the element alone"
        );
        assert_eq!(batch.dead_letters.len(), 2);
        assert!(
            batch.dead_letters[0].reason.contains("unrecognised"),
            "{}",
            batch.dead_letters[0].reason
        );
        assert_eq!(batch.dead_letters[1].raw, "not json");
    }

    #[test]
    fn an_event_from_the_future_is_kept_flagged_under_its_arrival_time() {
        let future = TRAIL.replace("2026-11-27T08:00:00Z", "2027-01-01T00:00:00Z");
        let received = at("2026-11-27T09:00:00Z");
        let (batch, _) = build_batch(intake(&[&future]), received);
        assert_eq!(batch.events[0].flags, flags::FUTURE_TIME);
        assert_eq!(batch.events[0].time, received);
        let near = TRAIL.replace("2026-11-27T08:00:00Z", "2026-11-27T09:04:00Z");
        let (batch, _) = build_batch(intake(&[&near]), received);
        assert_eq!(batch.events[0].flags, 0, "within the clock-skew tolerance");
    }

    #[test]
    fn content_hashes_are_sha256_in_lowercase_hex() {
        assert_eq!(
            hex_sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn identical_records_hash_alike() {
        let (batch, outcomes) = build_batch(intake(&[TRAIL, TRAIL]), at("2026-11-27T09:00:00Z"));
        assert_eq!(outcomes, [None, None]);
        assert_eq!(batch.events[0].content_hash, batch.events[1].content_hash);
    }
}

/// What one purge run deleted, per tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    /// (tenant slug, events deleted), for tenants that lost any.
    pub tenants: Vec<(String, u64)>,
}

impl Service {
    /// Delete every tenant's telemetry older than its retention
    /// (`retention_days`). Each deletion is in the audit log.
    pub async fn purge_expired(&self, p: &Principal) -> Result<PurgeReport> {
        self.authorize(p, Permission::ManageRulePacks, None, false)
            .await?;
        let mut report = PurgeReport::default();
        for tenant in self.store.list_tenants().await? {
            let days = i64::from(tenant.settings.retention_days.max(1));
            let now = self.clock.now();
            let before = now
                .checked_sub(jiff::SignedDuration::from_hours(24 * days))
                .unwrap_or(now);
            let n = self.store.purge_events(tenant.id, before).await?;
            if n > 0 {
                // Purged events are no longer anyone's evidence.
                self.major_facts.clear();
                let entry = vigil_core::audit::AuditEntry::new(
                    now,
                    &p.actor(),
                    "telemetry.purge",
                    Some(tenant.id),
                    format!("tenant:{}", tenant.slug),
                    serde_json::json!({"events": n, "before": before, "retention_days": days}),
                );
                self.store.append_audit(entry).await?;
                tracing::info!(tenant = %tenant.slug, events = n, "telemetry past retention purged");
                report.tenants.push((tenant.slug.to_string(), n));
            }
        }
        Ok(report)
    }

    /// The purge job: [`Service::purge_expired`] every `every`, until
    /// `stop` resolves.
    pub async fn run_purge(&self, every: Duration, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let system = Principal::Operator("vigil-purge".into());
        loop {
            if let Err(e) = self.purge_expired(&system).await {
                tracing::error!(error = %e, "purge failed; will retry");
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
