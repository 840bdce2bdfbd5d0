//! The stored alerts the local detection worker folds into, kept in
//! memory between its rounds (`alerts.rs`).
//!
//! A round folds each observation into the stored alert of its dedup key
//! whose window meets the observation's time. Reading those alerts took
//! a query per round that decoded some 400 alerts and counted each one's
//! kept events, for alerts the worker itself had written the round
//! before. Folding is the only thing that changes what a fold reads (an
//! alert's entities, times, count and kept events), and the folds of the
//! local worker's keys are its own (the detection lease keeps other
//! processes out), so what its commit wrote is what the next round would
//! read.
//!
//! A key's entry holds every stored alert of the key whose last activity
//! is at or after `since`: a round whose earliest time, less the dedup
//! window, is not before `since` needs no other. Entries are taken out
//! for a round and put back after its commit; a failed round leaves them
//! out, to be read again. Anything else that changes alerts or their
//! kept events (retention, a saved hunt's alerts, another process taking
//! the lease) clears the lot and moves the generation on, so a round in
//! flight puts nothing back.

use std::collections::HashMap;
use std::sync::Mutex;

use vigil_core::alert::AlertId;
use vigil_core::{Entity, TenantId, Timestamp};

/// A stored alert as a fold sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stored {
    pub id: AlertId,
    pub entities: Vec<Entity>,
    pub first: Timestamp,
    pub last: Timestamp,
    pub count: u64,
    /// Rows of `alert_events` for the alert.
    pub kept: i64,
}

/// A tenant's dedup key.
pub(super) type Key = (TenantId, String);

/// The stored alerts of one key with last activity from `since` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Known {
    pub since: Timestamp,
    pub alerts: Vec<Stored>,
}

impl Known {
    /// Hold only what rounds from `low` on need: `since` moves up to `low`
    /// and alerts whose last activity is before it go, so a key's entry
    /// does not grow with every window its stream opens.
    pub fn advance(&mut self, low: Timestamp) {
        if low > self.since {
            self.since = low;
            self.alerts.retain(|a| a.last >= low);
        }
    }
}

/// Keys kept at most; past it, those not used in the last
/// [`RECENT_ROUNDS`] rounds go, and if that is not enough, all but this
/// round's.
const MAX_KEYS: usize = 20_000;
const RECENT_ROUNDS: u64 = 16;

#[derive(Debug, Default)]
struct Inner {
    keys: HashMap<Key, (Known, u64)>,
    generation: u64,
    round: u64,
}

/// The cache (see the module's documentation).
#[derive(Debug, Default)]
pub(super) struct OpenAlerts(Mutex<Inner>);

/// Entries taken for a round: those found, and the generation to put
/// them back under.
#[derive(Debug)]
pub(super) struct Taken {
    pub found: HashMap<Key, Known>,
    pub generation: u64,
}

impl OpenAlerts {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take the entries of `keys` that hold every alert a round with
    /// these lower bounds needs (`since` at or before the key's bound).
    pub fn take<'k>(&self, keys: impl IntoIterator<Item = (&'k Key, Timestamp)>) -> Taken {
        let mut inner = self.inner();
        let mut found = HashMap::new();
        for (key, low) in keys {
            if inner.keys.get(key).is_some_and(|(k, _)| k.since <= low)
                && let Some((known, _)) = inner.keys.remove(key)
            {
                found.insert(key.clone(), known);
            }
        }
        Taken {
            found,
            generation: inner.generation,
        }
    }

    /// Put back what a committed round left, unless something cleared the
    /// cache since the round took its entries.
    pub fn put(&self, generation: u64, entries: impl IntoIterator<Item = (Key, Known)>) {
        let mut inner = self.inner();
        if inner.generation != generation {
            return;
        }
        inner.round += 1;
        let round = inner.round;
        for (key, known) in entries {
            inner.keys.insert(key, (known, round));
        }
        if inner.keys.len() > MAX_KEYS {
            inner
                .keys
                .retain(|_, (_, used)| *used + RECENT_ROUNDS > round);
            if inner.keys.len() > MAX_KEYS {
                inner.keys.retain(|_, (_, used)| *used == round);
            }
        }
    }

    /// Forget everything: alerts changed other than by the local worker.
    pub fn clear(&self) {
        let mut inner = self.inner();
        inner.keys.clear();
        inner.generation += 1;
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner().keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).expect("a time")
    }

    fn known(since: i64, count: u64) -> Known {
        Known {
            since: at(since),
            alerts: vec![Stored {
                id: AlertId::new_at(at(since)),
                entities: Vec::new(),
                first: at(since),
                last: at(since),
                count,
                kept: 1,
            }],
        }
    }

    fn key(tenant: TenantId, k: &str) -> Key {
        (tenant, k.to_owned())
    }

    #[test]
    fn an_entry_is_found_only_for_rounds_it_covers_and_is_taken_out() {
        let cache = OpenAlerts::default();
        let t = TenantId::new_at(at(0));
        let a = known(100, 1);
        cache.put(0, [(key(t, "a"), a.clone())]);
        // A round reaching back before `since` must read the store.
        let early = cache.take([(&key(t, "a"), at(99))]);
        assert!(early.found.is_empty());
        let taken = cache.take([(&key(t, "a"), at(100)), (&key(t, "b"), at(500))]);
        assert_eq!(taken.found.len(), 1);
        assert_eq!(taken.found[&key(t, "a")], a);
        // Taken out: a failed round leaves nothing stale behind.
        assert!(cache.take([(&key(t, "a"), at(100))]).found.is_empty());
    }

    #[test]
    fn an_entry_advanced_to_a_later_round_drops_only_the_alerts_it_no_longer_needs() {
        let mut k = known(100, 1);
        let mut later = known(300, 1).alerts.remove(0);
        later.first = at(250);
        k.alerts.push(later.clone());
        let before = k.clone();
        k.advance(at(50));
        assert_eq!(k, before, "an earlier bound changes nothing");
        k.advance(at(200));
        assert_eq!(k.since, at(200));
        assert_eq!(
            k.alerts,
            vec![later],
            "the alert last active at 100 is not needed"
        );
    }

    #[test]
    fn a_round_taken_before_a_clear_puts_nothing_back() {
        let cache = OpenAlerts::default();
        let t = TenantId::new_at(at(0));
        cache.put(0, [(key(t, "a"), known(100, 1))]);
        let taken = cache.take([(&key(t, "a"), at(200))]);
        cache.clear();
        cache.put(taken.generation, [(key(t, "a"), known(100, 2))]);
        assert_eq!(cache.len(), 0);
        let after = cache.take([(&key(t, "a"), at(200))]);
        let third = known(100, 3);
        cache.put(after.generation, [(key(t, "a"), third.clone())]);
        assert_eq!(
            cache.take([(&key(t, "a"), at(200))]).found[&key(t, "a")],
            third
        );
    }

    #[test]
    fn past_the_bound_only_recently_used_keys_stay() {
        let cache = OpenAlerts::default();
        let t = TenantId::new_at(at(0));
        let old: Vec<_> = (0..MAX_KEYS)
            .map(|i| (key(t, &format!("old{i}")), known(1, 1)))
            .collect();
        cache.put(0, old);
        for round in 0..RECENT_ROUNDS {
            cache.put(0, [(key(t, &format!("new{round}")), known(1, 1))]);
        }
        assert_eq!(cache.len(), RECENT_ROUNDS as usize);
        assert_eq!(
            cache
                .take([(&key(t, "new0"), at(5)), (&key(t, "old0"), at(5))])
                .found
                .len(),
            1
        );
    }
}
