//! Streaming detection: the worker that takes stored events off the
//! detection queue, runs them through the rules and folds the matches into
//! alerts, all in one transaction per round. The queue is a table, so a
//! crash loses nothing: the next worker starts where the last commit left.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use vigil_core::alert::{AlertId, Observation};
use vigil_core::rules::Tuning;
use vigil_core::telemetry::StoredEvent;
use vigil_core::{Severity, TenantId};
use vigil_formats::{Decoded, decode_record};
use vigil_incidents::major::EventFacts;
use vigil_sigma::RuleInfo;

use crate::{Result, Service};

/// What the worker needs from a detection engine.
pub trait Detection: Send + Sync + std::fmt::Debug {
    /// Working state for one thread.
    fn session(&self) -> Box<dyn DetectionSession + '_>;

    /// The rule behind an index that a session gave.
    fn rule(&self, index: u32) -> &RuleInfo;

    /// Whether a match of the rule is an alert by itself (a correlation's
    /// base rule with `generate: false` is not).
    fn alerts_alone(&self, index: u32) -> bool;

    /// Feed the tenant's correlation state one event and the rules it
    /// matched, at `epoch_secs`; push the correlation rules that fired.
    fn correlate(
        &self,
        tenant: TenantId,
        event: &Decoded,
        matched: &[u32],
        epoch_secs: i64,
        out: &mut Vec<RuleInfo>,
    );
}

/// Detection on one thread, reusing its working memory.
pub trait DetectionSession {
    /// Push the index of every rule that matches `event` to `out`.
    fn detect(&mut self, event: &Decoded, out: &mut Vec<u32>);
}

/// Events taken off the queue per round. A round's commit costs some
/// work whatever its size (reading the alerts its keys may fold into,
/// waiting for intake's turn to write): at 43,000 events/s, rounds of
/// 4,096 kept detection 92 % of the time busy and held intake back
/// through the hand-off; rounds of 8,192, 71 % (BENCHMARKS.md (c)).
const ROUND: u32 = 8192;

/// The least time from one detection round's start to the next one's
/// while the queue keeps emptying: events that arrive meanwhile wait for
/// it, then go through in one round. Each round's commit makes every other
/// connection to the database drop its page cache (SQLite's rule for a
/// log that another connection wrote): with a round after every intake
/// batch, intake re-read a quarter of the index pages it wrote to, every
/// batch. Adds at most this much to the time from acknowledgement to
/// alert.
const ROUND_SPACING: Duration = Duration::from_millis(200);

/// What one run over the queue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectionReport {
    pub events: u64,
    pub observations: u64,
    pub alerts_touched: u64,
}

impl std::ops::AddAssign for DetectionReport {
    fn add_assign(&mut self, r: DetectionReport) {
        self.events += r.events;
        self.observations += r.observations;
        self.alerts_touched += r.alerts_touched;
    }
}

/// What detection gathers over a round's events.
#[derive(Default)]
struct Seen {
    /// The rules one event matched (reused).
    scratch: Vec<u32>,
    out: Vec<(TenantId, Observation)>,
    /// The major-criteria facts of each event.
    facts: Vec<(TenantId, EventFacts)>,
}

/// The observations one stored event gives, after the tenant's tuning.
/// `decoded`: the event as intake decoded it, when still in memory; else
/// its stored record is decoded again.
fn observe(
    detection: &dyn Detection,
    session: &mut dyn DetectionSession,
    tuning: &HashMap<TenantId, Tuning>,
    stored: &StoredEvent,
    decoded: Option<Decoded>,
    seen: &mut Seen,
) {
    let Seen {
        scratch,
        out,
        facts,
    } = seen;
    let decoded = decoded.or_else(|| match decode_record(stored.event.raw.as_bytes()) {
        Ok(mut d) if d.len() == 1 => d.pop(),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(seq = stored.seq, error = %e, "a stored event no longer decodes; skipped by detection");
            None
        }
    });
    let Some(decoded) = decoded else { return };
    scratch.clear();
    session.detect(&decoded, scratch);
    let mut fired = Vec::new();
    detection.correlate(
        stored.tenant_id,
        &decoded,
        scratch,
        stored.event.time.as_second(),
        &mut fired,
    );
    let tuning = tuning.get(&stored.tenant_id);
    let alone = scratch
        .iter()
        .filter(|&&i| detection.alerts_alone(i))
        .map(|&i| (detection.rule(i), "sigma"));
    for (rule, source) in alone.chain(fired.iter().map(|r| (r, "correlation"))) {
        if let Some(t) = tuning {
            if t.disabled.contains(&rule.id) {
                continue;
            }
            let field = |name: &str| decoded.event.get(name);
            if t.exclusions
                .iter()
                .any(|e| e.silences(&rule.id, field, &stored.event.entities))
            {
                continue;
            }
        }
        out.push((
            stored.tenant_id,
            Observation {
                rule_id: rule.id.clone(),
                rule_title: rule.title.clone(),
                source: source.to_owned(),
                severity: severity(rule),
                tactics: rule.tactics.clone(),
                techniques: rule.techniques.clone(),
                entities: stored.event.entities.clone(),
                time: stored.event.time,
                events: vec![stored.seq],
            },
        ));
    }
    // What the major-incident criteria will read of it, read now while it
    // is decoded: of every event, since an incident's criteria also read
    // the events around it (most of them with nothing to read, which the
    // cache keeps as one bit).
    facts.push((
        stored.tenant_id,
        EventFacts::read(stored.seq, stored.event.time, &decoded.event),
    ));
}

fn severity(rule: &RuleInfo) -> Severity {
    crate::rules::severity_of(rule.level)
}

impl Service {
    /// One round: up to [`ROUND`] queued events through detection, their
    /// alerts committed with their removal from the queue. `None` when the
    /// queue was empty.
    pub async fn detect_round(
        &self,
        detection: &Arc<dyn Detection>,
    ) -> Result<Option<DetectionReport>> {
        let Some((report, touched)) = self.detect_events(detection).await? else {
            return Ok(None);
        };
        self.place_touched(&touched).await?;
        Ok(Some(report))
    }

    /// Alerts that a round created or grew, placed: grown ones refresh
    /// their incident, new ones join or open one.
    async fn place_touched(&self, touched: &[AlertId]) -> Result<()> {
        if !touched.is_empty() {
            self.refresh_grown(touched).await?;
            self.correlate_alerts().await?;
        }
        Ok(())
    }

    /// A round's detection without the placement of its alerts into
    /// incidents: the report and the alerts created or grown.
    async fn detect_events(
        &self,
        detection: &Arc<dyn Detection>,
    ) -> Result<Option<(DetectionReport, Vec<AlertId>)>> {
        let started = std::time::Instant::now();
        let seqs = self.store.queued_seqs(ROUND).await?;
        let (Some(&first), Some(&last)) = (seqs.first(), seqs.last()) else {
            self.intake.backlog.store(0, Ordering::Relaxed);
            return Ok(None);
        };
        let (backlog, decoded) = self.queued_with_decoded(&seqs).await?;
        let events = backlog.len() as u64;
        let received: Vec<vigil_core::Timestamp> = backlog.iter().map(|e| e.received_at).collect();
        let read = started.elapsed();
        let observations = self.observe_all(detection, backlog, decoded).await?;
        let detected = started.elapsed();
        let now = self.clock.now();
        let touched = self
            .store
            .commit_detections(first, last, &observations, now)
            .await?;
        let stored = started.elapsed();
        // From acknowledgement (the intake commit) to alert (this commit).
        let committed = self.clock.now();
        let lag = metrics::histogram!("vigil_detection_lag_seconds");
        for r in received {
            lag.record(committed.duration_since(r).as_secs_f64().max(0.0));
        }
        let left = self.store.detection_queue_len().await?;
        self.intake.backlog.store(left, Ordering::Relaxed);
        self.intake.detected.notify_waiters();
        metrics::counter!("vigil_detection_events_total").increment(events);
        metrics::counter!("vigil_detection_observations_total")
            .increment(observations.len() as u64);
        metrics::gauge!("vigil_detection_backlog").set(left as f64);
        tracing::debug!(
            events,
            observations = observations.len(),
            alerts = touched.len(),
            read_ms = read.as_millis() as u64,
            detect_ms = (detected - read).as_millis() as u64,
            commit_ms = (stored - detected).as_millis() as u64,
            "detection round"
        );
        let report = DetectionReport {
            events,
            observations: observations.len() as u64,
            alerts_touched: touched.len() as u64,
        };
        Ok(Some((report, touched)))
    }

    /// Queued events by `seq`: those intake decoded from its hand-off (no
    /// read, no decoding), the rest (from another process, before a
    /// restart, or pushed out) read from the store with their records, to
    /// be decoded again. Oldest first.
    async fn queued_with_decoded(
        &self,
        seqs: &[i64],
    ) -> Result<(Vec<StoredEvent>, Vec<Option<Decoded>>)> {
        let mut found: Vec<(StoredEvent, Option<Decoded>)> = Vec::with_capacity(seqs.len());
        let mut missing = Vec::new();
        {
            let mut cache = self
                .intake
                .decoded
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for &seq in seqs {
                match cache.take(seq) {
                    Some((stored, decoded)) => found.push((stored, Some(decoded))),
                    None => missing.push(seq),
                }
            }
        }
        if !missing.is_empty() {
            let read = self.store.queued_events(&missing).await?;
            found.extend(read.into_iter().map(|e| (e, None)));
            found.sort_unstable_by_key(|(e, _)| e.seq);
        }
        Ok(found.into_iter().unzip())
    }

    /// Run detection until the queue is empty (the CLI after an ingest,
    /// and tests). On the in-process bus it needs the detection lease;
    /// `None` when another process holds it (that process will do the
    /// work). On a shared bus it takes deliveries off the bus like any
    /// `detect` worker (see [`Service::drain_bus`]).
    pub async fn drain_detection(
        &self,
        detection: &Arc<dyn Detection>,
    ) -> Result<Option<DetectionReport>> {
        if self.bus.shared() {
            return self.drain_bus(detection).await.map(Some);
        }
        let Some(_lease) = self.store.try_detection_lease()? else {
            return Ok(None);
        };
        let mut total = DetectionReport::default();
        while let Some(r) = self.detect_round(detection).await? {
            total += r;
        }
        self.finish_drain().await?;
        Ok(Some(total))
    }

    /// The end of a drain: alerts an interrupted run left without an
    /// incident are placed, and deferred major-incident criteria run, so
    /// the caller sees the final answer.
    async fn finish_drain(&self) -> Result<()> {
        self.correlate_alerts().await?;
        self.evaluate_deferred_major(true).await?;
        Ok(())
    }

    /// The detection worker: holds the lease (waiting for it while another
    /// process has it), wakes on every intake commit and at least once a
    /// second, and runs rounds until the queue is empty. Stops when
    /// `stop` resolves.
    pub async fn run_detection(
        &self,
        detection: Arc<dyn Detection>,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let lease = loop {
            match self.store.try_detection_lease() {
                Ok(Some(lease)) => break lease,
                Ok(None) => tracing::info!("another process runs detection; waiting"),
                Err(e) => tracing::error!(error = %e, "cannot take the detection lease"),
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        };
        tracing::info!("detection running");
        let _detecting = Detecting::start(&self.intake);
        let placing = Placing::default();
        let (done, finished) = tokio::sync::watch::channel(false);
        let detect = async {
            self.detection_loop(detection, &placing, &mut stop).await;
            placing.close();
            let _ = done.send(true);
        };
        tokio::join!(
            detect,
            self.placement_loop(&placing),
            self.checkpoint_loop(finished)
        );
        drop(lease);
        tracing::info!("detection stopped");
    }

    /// Rounds of detection until `stop`; the alerts they touch go to
    /// `placing`, so placing them never holds up the next round.
    async fn detection_loop(
        &self,
        detection: Arc<dyn Detection>,
        placing: &Placing,
        stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
    ) {
        let mut detection = detection;
        let mut version = self.rules_version().await.ok();
        let mut checked = std::time::Instant::now();
        loop {
            // Rule packs added while running take effect within seconds.
            if checked.elapsed() >= Duration::from_secs(5) {
                checked = std::time::Instant::now();
                let now = self.rules_version().await.ok();
                if now.is_some() && now != version {
                    match self.detection_engine().await {
                        Ok((engine, _)) => {
                            tracing::info!("rule packs changed; detection engine rebuilt");
                            detection = engine;
                            version = now;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "cannot rebuild the detection engine")
                        }
                    }
                }
            }
            let started = tokio::time::Instant::now();
            let (more, full) = match self.detect_events(&detection).await {
                Ok(Some((report, touched))) => {
                    placing.add(touched);
                    (true, report.events >= u64::from(ROUND))
                }
                Ok(None) => (false, false),
                Err(e) => {
                    tracing::error!(error = %e, "detection round failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    (false, false)
                }
            };
            // A stop is heeded between rounds even with a backlog: what is
            // left stays queued in the store for the next start. A round
            // that emptied the queue is followed by the next one no sooner
            // than `ROUND_SPACING` after it began; a full one at once.
            tokio::select! {
                biased;
                () = &mut *stop => break,
                () = std::future::ready(()), if full => {}
                () = tokio::time::sleep_until(started + ROUND_SPACING), if more && !full => {}
                () = self.intake.committed.notified(), if !more => {}
                () = tokio::time::sleep(Duration::from_secs(1)), if !more => {}
            }
        }
    }

    /// Under constant intake the write-ahead log never empties by itself:
    /// fold it back every second, beside the detection rounds so that a
    /// slow checkpoint never holds one up. Ends when `finished` turns true.
    async fn checkpoint_loop(&self, mut finished: tokio::sync::watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = finished.wait_for(|done| *done) => break,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            if let Err(e) = self.store.checkpoint().await {
                tracing::warn!(error = %e, "checkpoint failed");
            }
        }
    }

    /// Places the alerts detection touched into incidents, beside the
    /// detection rounds (placing the first alerts of a new kind of
    /// activity takes long: rounds waiting for it would hold up every
    /// event behind them); runs deferred major-incident criteria. After
    /// `placing` closes, a last pass and it ends.
    async fn placement_loop(&self, placing: &Placing) {
        if let Err(e) = self.correlate_alerts().await {
            tracing::error!(error = %e, "incident correlation failed; will retry");
        }
        loop {
            let touched = placing.take();
            let closed = placing.is_closed();
            if let Err(e) = self.place_touched(&touched).await {
                tracing::error!(error = %e, "incident correlation failed; will retry");
                // Alerts left without an incident are found again by the
                // next pass (and at the next start).
                placing.add(touched);
            }
            if let Err(e) = self.evaluate_deferred_major(false).await {
                tracing::error!(error = %e, "major-incident criteria failed; will retry");
            }
            if closed {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), placing.wait()).await;
        }
    }
}

/// Alerts detection touched that wait to be placed into incidents.
#[derive(Default)]
struct Placing {
    touched: std::sync::Mutex<Vec<AlertId>>,
    closed: std::sync::atomic::AtomicBool,
    wake: tokio::sync::Notify,
}

impl Placing {
    fn add(&self, ids: Vec<AlertId>) {
        if ids.is_empty() {
            return;
        }
        self.touched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(ids);
        self.wake.notify_one();
    }

    fn take(&self) -> Vec<AlertId> {
        let mut ids = std::mem::take(&mut *self.touched.lock().unwrap_or_else(|p| p.into_inner()));
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    async fn wait(&self) {
        self.wake.notified().await;
    }
}

/// Marks this process's detection worker as running while it lives, so
/// intake keeps within the hand-off (see `IntakeLimits::handoff`).
struct Detecting<'a>(&'a crate::intake::IntakeState);

impl<'a> Detecting<'a> {
    fn start(state: &'a crate::intake::IntakeState) -> Self {
        state.detecting.store(true, Ordering::Relaxed);
        Detecting(state)
    }
}

impl Drop for Detecting<'_> {
    fn drop(&mut self) {
        self.0.detecting.store(false, Ordering::Relaxed);
        // Anyone waiting for room goes on: nothing will make it now.
        self.0.detected.notify_waiters();
    }
}

/// Announcements a bus worker takes per round.
const BUS_FETCH: usize = 32;

impl Service {
    /// One round over the bus: the announcements delivered to this worker,
    /// their events still queued read from the store, detected, folded
    /// into alerts with their removal from the queue (events another
    /// worker already committed are skipped), and only then acknowledged.
    /// `None` when nothing was delivered within `wait`.
    pub async fn detect_deliveries(
        &self,
        detection: &Arc<dyn Detection>,
        wait: Duration,
    ) -> Result<Option<DetectionReport>> {
        let deliveries = self.bus.fetch(BUS_FETCH, wait).await.map_err(|e| {
            crate::ServiceError::Unavailable {
                reason: e.to_string(),
                retry_after_secs: 1,
            }
        })?;
        if deliveries.is_empty() {
            return Ok(None);
        }
        let mut seqs: Vec<i64> = deliveries
            .iter()
            .flat_map(|d| d.announcement.seqs.iter().copied())
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        let backlog = self.store.queued_events(&seqs).await?;
        let events = backlog.len() as u64;
        let decoded: Vec<Option<Decoded>> = {
            let mut cache = self
                .intake
                .decoded
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            backlog
                .iter()
                .map(|e| cache.take(e.seq).map(|(_, d)| d))
                .collect()
        };
        let observations = self.observe_all(detection, backlog, decoded).await?;
        let now = self.clock.now();
        let (touched, taken) = self
            .store
            .commit_detections_of(&seqs, &observations, now)
            .await?;
        // Acknowledged after the commit: a worker killed before this line
        // leaves the announcements to be delivered again, and the commit
        // above makes that redelivery a no-op for what it folded.
        for d in deliveries {
            if let Err(e) = d.ack().await {
                tracing::warn!(error = %e, "acknowledgement failed; the batch will be delivered again and skipped");
            }
        }
        // Intake's estimate of the backlog (exact when this process took
        // the events in; see `ingest`).
        let _ = self
            .intake
            .backlog
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_sub(taken.len() as u64))
            });
        metrics::counter!("vigil_detection_events_total").increment(taken.len() as u64);
        metrics::counter!("vigil_detection_observations_total")
            .increment(observations.len() as u64);
        if !touched.is_empty() {
            self.refresh_grown(&touched).await?;
            self.correlate_alerts().await?;
        }
        Ok(Some(DetectionReport {
            events,
            observations: observations.len() as u64,
            alerts_touched: touched.len() as u64,
        }))
    }

    /// Detect over stored events (with their records, or their decoding
    /// from intake's cache), in event-time order, on a blocking thread.
    async fn observe_all(
        &self,
        detection: &Arc<dyn Detection>,
        backlog: Vec<StoredEvent>,
        mut decoded: Vec<Option<Decoded>>,
    ) -> Result<Vec<(TenantId, Observation)>> {
        let mut tuning = HashMap::new();
        for stored in &backlog {
            if let std::collections::hash_map::Entry::Vacant(slot) = tuning.entry(stored.tenant_id)
            {
                slot.insert(self.tuning_of(stored.tenant_id).await?);
            }
        }
        let d = detection.clone();
        let seen = tokio::task::spawn_blocking(move || {
            let mut seen = Seen::default();
            let mut session = d.session();
            let mut order: Vec<usize> = (0..backlog.len()).collect();
            order.sort_by_key(|&i| (backlog[i].event.time, backlog[i].seq));
            for (k, &i) in order.iter().enumerate() {
                // Decoded at intake a while ago: load the next event's
                // memory while this one is detected.
                if let Some(Some(next)) = order.get(k + 1).map(|&j| decoded[j].as_ref()) {
                    next.event.prefetch();
                }
                observe(
                    d.as_ref(),
                    session.as_mut(),
                    &tuning,
                    &backlog[i],
                    decoded[i].take(),
                    &mut seen,
                );
            }
            seen
        })
        .await
        .map_err(|e| crate::ServiceError::Conflict(format!("detection failed: {e}")))?;
        self.major_facts.keep(seen.facts);
        Ok(seen.out)
    }

    /// A `detect` worker on a shared bus: no lease (the bus divides the
    /// work between workers); rounds until `stop` resolves, the engine
    /// rebuilt within seconds when rule packs change.
    pub async fn run_bus_detection(
        &self,
        detection: Arc<dyn Detection>,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        tracing::info!(bus = self.bus.name(), "detection running on the bus");
        let mut detection = detection;
        let mut version = self.rules_version().await.ok();
        let mut checked = std::time::Instant::now();
        loop {
            if checked.elapsed() >= Duration::from_secs(5) {
                checked = std::time::Instant::now();
                let now = self.rules_version().await.ok();
                if now.is_some() && now != version {
                    match self.detection_engine().await {
                        Ok((engine, _)) => {
                            tracing::info!("rule packs changed; detection engine rebuilt");
                            detection = engine;
                            version = now;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "cannot rebuild the detection engine")
                        }
                    }
                }
            }
            if let Err(e) = self.evaluate_deferred_major(false).await {
                tracing::error!(error = %e, "major-incident criteria failed; will retry");
            }
            tokio::select! {
                () = &mut stop => break,
                r = self.detect_deliveries(&detection, Duration::from_secs(1)) => match r {
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "detection round failed; retrying");
                        tokio::select! {
                            () = &mut stop => break,
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                },
            }
        }
        tracing::info!("detection stopped");
    }

    /// Announce again events that have waited on the store's queue longer
    /// than `older_than` (their announcement was lost: the bus was down
    /// when intake stored them). A duplicate announcement is harmless:
    /// detection skips events already committed. Returns how many.
    pub async fn reannounce_stale(&self, older_than: Duration) -> Result<u64> {
        let now = self.clock.now();
        let cutoff = now
            .checked_sub(jiff::SignedDuration::try_from(older_than).unwrap_or_default())
            .unwrap_or(now);
        let queued = self.store.detection_backlog(100_000, false).await?;
        let mut by_tenant: HashMap<TenantId, Vec<i64>> = HashMap::new();
        for e in queued.iter().filter(|e| e.received_at <= cutoff) {
            by_tenant.entry(e.tenant_id).or_default().push(e.seq);
        }
        let mut n = 0;
        for (tenant, seqs) in by_tenant {
            for chunk in seqs.chunks(4096) {
                let a = crate::bus::Announcement {
                    tenant,
                    seqs: chunk.to_vec(),
                };
                self.bus
                    .publish(&a)
                    .await
                    .map_err(|e| crate::ServiceError::Unavailable {
                        reason: e.to_string(),
                        retry_after_secs: 5,
                    })?;
                n += chunk.len() as u64;
            }
        }
        if n > 0 {
            tracing::info!(events = n, "events announced again to detection");
        }
        Ok(n)
    }
}

/// How long [`Service::drain_bus`] waits for a delivery per round.
const DRAIN_WAIT: Duration = Duration::from_millis(200);
/// Empty rounds (the queue not empty, nothing delivered) after which
/// [`Service::drain_bus`] announces what is still queued again.
const DRAIN_REANNOUNCE_AFTER: u32 = 5;
/// Empty rounds after which [`Service::drain_bus`] gives up (about 30 s).
const DRAIN_GIVE_UP_AFTER: u32 = 150;

impl Service {
    /// Detection over a shared bus until the store's detection queue is
    /// empty: deliveries fetched and run through [`Service::detect_deliveries`]
    /// (which acknowledges them). Other workers may take some of the
    /// announcements; their commits empty the queue as well. Events whose
    /// announcement was lost (the bus was down at intake) are announced
    /// again after a few empty rounds, so the drain finishes; it fails
    /// with `Unavailable` when the queue stays non-empty and nothing is
    /// delivered for about 30 s.
    pub async fn drain_bus(&self, detection: &Arc<dyn Detection>) -> Result<DetectionReport> {
        let mut total = DetectionReport::default();
        let mut idle = 0u32;
        loop {
            if let Some(r) = self.detect_deliveries(detection, DRAIN_WAIT).await? {
                total += r;
                idle = 0;
                continue;
            }
            let left = self.store.detection_queue_len().await?;
            if left == 0 {
                break;
            }
            idle += 1;
            if idle.is_multiple_of(DRAIN_REANNOUNCE_AFTER) {
                self.reannounce_stale(Duration::ZERO).await?;
            }
            if idle >= DRAIN_GIVE_UP_AFTER {
                return Err(crate::ServiceError::Unavailable {
                    reason: format!(
                        "{left} events still wait for detection and the bus delivers none"
                    ),
                    retry_after_secs: 5,
                });
            }
        }
        self.intake.backlog.store(0, Ordering::Relaxed);
        self.finish_drain().await?;
        Ok(total)
    }
}
