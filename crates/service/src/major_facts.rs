//! The facts the major-incident criteria read from each event, kept in
//! memory between evaluations: an event never changes once stored, and a
//! busy incident is evaluated again every few seconds over mostly the
//! same thousands of events. Reading them from the store and decoding
//! them each time took a third of a core under a steady stream.
//!
//! Most events carry no signal, and the criteria read nothing of those
//! ([`EventFacts::read`] keeps no host or user then): such an event is
//! kept as one bit, "quiet", in a window over the newest `seq`s, so the
//! events around a busy incident are known without a map entry each.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use vigil_core::TenantId;
use vigil_core::telemetry::StoredEvent;
use vigil_formats::FlatEvent;
use vigil_incidents::major::EventFacts;

/// The most events with signals whose facts a generation keeps (about
/// 200 bytes each). A full generation becomes the old one and the one
/// before is dropped: what evaluations still read moves back into the new
/// generation, what they no longer read goes.
const GENERATION: usize = 200_000;

/// Words of the quiet window: 2^18 words of 64 bits, the newest 16.7
/// million `seq`s in 2 MiB.
const QUIET_WORDS: usize = 1 << 18;

type Facts = HashMap<(TenantId, i64), EventFacts>;

/// Facts by tenant and event `seq`, in two generations, and the quiet
/// events.
#[derive(Debug, Default)]
pub(crate) struct FactsCache {
    inner: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    new: Facts,
    old: Facts,
    quiet: Quiet,
}

impl Generations {
    fn insert(&mut self, key: (TenantId, i64), facts: EventFacts) {
        if facts.signals.is_empty() {
            self.quiet.mark(key.1);
            return;
        }
        if self.new.len() >= GENERATION {
            self.old = std::mem::take(&mut self.new);
        }
        self.new.insert(key, facts);
    }
}

/// Events known to carry no signal, one bit per `seq` over a window that
/// follows the newest marked. A quiet mark says nothing of a tenant, so
/// it serves any tenant's reading: the event has nothing to give.
#[derive(Debug, Default)]
struct Quiet {
    /// The word of the window's first bit (`seq / 64`).
    first: i64,
    words: VecDeque<u64>,
}

impl Quiet {
    fn mark(&mut self, seq: i64) {
        let word = seq.div_euclid(64);
        if self.words.is_empty() {
            self.first = word;
        }
        if word < self.first {
            // Older than the window: not kept (read again if asked).
            return;
        }
        let window = QUIET_WORDS as i64;
        if word - self.first >= window {
            // Slide the window so that `word` is its last.
            let start = word - window + 1;
            let drop = usize::try_from(start - self.first).unwrap_or(usize::MAX);
            if drop >= self.words.len() {
                self.words.clear();
            } else {
                self.words.drain(..drop);
            }
            self.first = start;
        }
        let at = usize::try_from(word - self.first).unwrap_or(0);
        if at >= self.words.len() {
            self.words.resize(at + 1, 0);
        }
        self.words[at] |= 1 << seq.rem_euclid(64);
    }

    fn contains(&self, seq: i64) -> bool {
        let word = seq.div_euclid(64) - self.first;
        usize::try_from(word)
            .ok()
            .and_then(|at| self.words.get(at))
            .is_some_and(|w| w & (1 << seq.rem_euclid(64)) != 0)
    }
}

impl FactsCache {
    fn lock(&self) -> MutexGuard<'_, Generations> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The facts kept of `seqs` that carry signals, and the seqs not kept
    /// (a quiet event is in neither: it has nothing to give).
    pub(crate) fn split(&self, tenant: TenantId, seqs: &[i64]) -> (Vec<EventFacts>, Vec<i64>) {
        let mut kept = self.lock();
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for seq in seqs {
            let key = (tenant, *seq);
            if kept.quiet.contains(*seq) {
                continue;
            }
            if let Some(f) = kept.new.get(&key) {
                found.push(f.clone());
            } else if let Some(f) = kept.old.remove(&key) {
                found.push(f.clone());
                kept.insert(key, f);
            } else {
                missing.push(*seq);
            }
        }
        (found, missing)
    }

    /// Keep the facts of these events, each with its tenant.
    pub(crate) fn keep(&self, facts: impl IntoIterator<Item = (TenantId, EventFacts)>) {
        let mut kept = self.lock();
        for (tenant, f) in facts {
            kept.insert((tenant, f.seq), f);
        }
    }

    /// Forget everything (events were purged).
    pub(crate) fn clear(&self) {
        let mut kept = self.lock();
        kept.new.clear();
        kept.old.clear();
        kept.quiet = Quiet::default();
    }
}

/// An event's fields as its decoder reads them; `None` when its record no
/// longer decodes.
pub(crate) fn flat(e: &StoredEvent) -> Option<FlatEvent> {
    let decoded = vigil_formats::decode_record(e.event.raw.as_bytes()).ok()?;
    decoded.into_iter().next().map(|d| d.event)
}

/// The facts of a stored event; an event whose record no longer decodes
/// has none (and is kept as such, so it is not read again).
pub(crate) fn facts_of(e: &StoredEvent) -> EventFacts {
    let event = flat(e).unwrap_or_default();
    EventFacts::read(e.seq, e.event.time, &event)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The facts of an event with a signal (what the map keeps).
    fn facts(seq: i64) -> EventFacts {
        EventFacts {
            seq,
            time: vigil_core::Timestamp::UNIX_EPOCH,
            host: Some("ws01".into()),
            signals: vec![vigil_incidents::major::signals::Signal::ShadowCopyDeletion],
            subject_user: None,
        }
    }

    fn quiet(seq: i64) -> EventFacts {
        EventFacts {
            seq,
            time: vigil_core::Timestamp::UNIX_EPOCH,
            host: None,
            signals: Vec::new(),
            subject_user: None,
        }
    }

    #[test]
    fn quiet_events_are_neither_found_nor_missing_and_a_purge_forgets_them() {
        let cache = FactsCache::default();
        let at: jiff::Timestamp = "2026-11-27T09:00:00Z".parse().expect("time");
        let t = TenantId::new_at(at);
        cache.keep([(t, quiet(5)), (t, facts(6)), (t, quiet(130))]);
        let (found, missing) = cache.split(t, &[5, 6, 7, 130]);
        assert_eq!(found, vec![facts(6)]);
        assert_eq!(missing, vec![7], "only the unknown event is to be read");
        cache.clear();
        assert_eq!(cache.split(t, &[5, 130]).1, vec![5, 130]);
    }

    #[test]
    fn the_quiet_window_follows_the_newest_event_and_forgets_the_oldest() {
        let mut q = Quiet::default();
        q.mark(100);
        q.mark(64 * 3 + 1);
        assert!(q.contains(100) && q.contains(193));
        assert!(!q.contains(101) && !q.contains(-1) && !q.contains(0));
        // A mark a whole window beyond: the old marks fall out of it.
        let far = 100 + 64 * QUIET_WORDS as i64;
        q.mark(far);
        assert!(q.contains(far));
        assert!(!q.contains(100), "older than the window");
        assert!(q.contains(193), "still inside the window");
        // Older than the window: not kept, and nothing else disturbed.
        q.mark(3);
        assert!(!q.contains(3));
        assert!(q.contains(far) && q.contains(193));
        // Far beyond everything: the window starts again.
        let farther = far + 10 * 64 * QUIET_WORDS as i64;
        q.mark(farther);
        assert!(q.contains(farther) && !q.contains(far));
    }

    #[test]
    fn kept_facts_are_found_by_tenant_and_seq_and_the_rest_are_named_missing() {
        let cache = FactsCache::default();
        let at: jiff::Timestamp = "2026-11-27T09:00:00Z".parse().expect("time");
        let a = TenantId::new_at(at);
        let b = TenantId::new_at(at);
        assert_ne!(a, b);
        cache.keep([(a, facts(1)), (a, facts(2))]);
        let (found, missing) = cache.split(a, &[1, 2, 3]);
        assert_eq!(found, vec![facts(1), facts(2)]);
        assert_eq!(missing, vec![3]);
        let (found, missing) = cache.split(b, &[1]);
        assert!(found.is_empty(), "another tenant's event is not found");
        assert_eq!(missing, vec![1]);
        cache.clear();
        assert_eq!(cache.split(a, &[1]).1, vec![1]);
    }

    #[test]
    fn a_full_generation_ages_and_what_is_still_read_is_kept() {
        let cache = FactsCache::default();
        let at: jiff::Timestamp = "2026-11-27T09:00:00Z".parse().expect("time");
        let t = TenantId::new_at(at);
        let first: Vec<EventFacts> = (0..GENERATION as i64).map(facts).collect();
        cache.keep(first.into_iter().map(|f| (t, f)));
        // The first generation is full: this starts the second.
        cache.keep([(t, facts(-1))]);
        // Read again, 0 moves to the second generation; 1 stays old.
        assert_eq!(cache.split(t, &[0]).0, vec![facts(0)]);
        let second: Vec<EventFacts> = (GENERATION as i64..2 * GENERATION as i64 - 2)
            .map(facts)
            .collect();
        cache.keep(second.into_iter().map(|f| (t, f)));
        // The second is full: the first (with 1) goes.
        cache.keep([(t, facts(-2))]);
        let (found, missing) = cache.split(t, &[0, 1, -1, -2]);
        assert_eq!(found, vec![facts(0), facts(-1), facts(-2)]);
        assert_eq!(missing, vec![1]);
    }
}
