//! The facts the major-incident criteria read from each event, kept in
//! memory between evaluations: an event never changes once stored, and a
//! busy incident is evaluated again every few seconds over mostly the
//! same thousands of events. Reading them from the store and decoding
//! them each time took a third of a core under a steady stream.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use vigil_core::TenantId;
use vigil_core::telemetry::StoredEvent;
use vigil_formats::FlatEvent;
use vigil_incidents::major::EventFacts;

/// The most events whose facts a generation keeps (about 100 bytes each,
/// more for the few with signals). A full generation becomes the old one
/// and the one before is dropped: what evaluations still read moves back
/// into the new generation, what they no longer read goes.
const GENERATION: usize = 200_000;

type Facts = HashMap<(TenantId, i64), EventFacts>;

/// Facts by tenant and event `seq`, in two generations.
#[derive(Debug, Default)]
pub(crate) struct FactsCache {
    inner: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    new: Facts,
    old: Facts,
}

impl Generations {
    fn insert(&mut self, key: (TenantId, i64), facts: EventFacts) {
        if self.new.len() >= GENERATION {
            self.old = std::mem::take(&mut self.new);
        }
        self.new.insert(key, facts);
    }
}

impl FactsCache {
    fn lock(&self) -> MutexGuard<'_, Generations> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The facts kept of `seqs`, and the seqs not kept.
    pub(crate) fn split(&self, tenant: TenantId, seqs: &[i64]) -> (Vec<EventFacts>, Vec<i64>) {
        let mut kept = self.lock();
        let mut found = Vec::with_capacity(seqs.len());
        let mut missing = Vec::new();
        for seq in seqs {
            let key = (tenant, *seq);
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

    fn facts(seq: i64) -> EventFacts {
        EventFacts {
            seq,
            time: vigil_core::Timestamp::UNIX_EPOCH,
            host: None,
            signals: Vec::new(),
            subject_user: None,
        }
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
