//! Portal sign-in: sessions, and the throttle that locks an account after
//! repeated wrong passwords.
//!
//! Pure: the caller passes "now" and stores the state.

use jiff::SignedDuration;

use crate::identity::UserId;
use crate::{Id, Timestamp};

/// Identifier of a session.
pub type SessionId = Id<Session>;

/// A signed-in browser. The secret that names it lives in an HttpOnly
/// cookie and is stored only hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: Timestamp,
    /// Absolute expiry: after this the user signs in again.
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl Session {
    /// Usable at `now`: neither signed out nor expired.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// How sign-in is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    /// How long a session lasts.
    pub session_lifetime: SignedDuration,
    /// Wrong passwords within `window` that lock the account.
    pub max_failures: u32,
    pub window: SignedDuration,
    /// How long the account stays locked.
    pub lockout: SignedDuration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            session_lifetime: SignedDuration::from_hours(12),
            max_failures: 5,
            window: SignedDuration::from_mins(15),
            lockout: SignedDuration::from_mins(15),
        }
    }
}

/// Wrong passwords recorded against one email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailures {
    /// Failures in the current window.
    pub count: u32,
    /// When the current window began.
    pub window_start: Timestamp,
    /// Until when sign-in is refused, if locked.
    pub locked_until: Option<Timestamp>,
}

impl LoginFailures {
    /// Whether sign-in is refused at `now`; if so, until when.
    pub fn locked_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|until| now < *until)
    }

    /// The state after one more wrong password at `now` (from `previous`,
    /// or from nothing). A window that has passed starts over; reaching
    /// the limit locks the account.
    pub fn after_failure(
        previous: Option<LoginFailures>,
        now: Timestamp,
        policy: &LoginPolicy,
    ) -> LoginFailures {
        let fresh = LoginFailures {
            count: 0,
            window_start: now,
            locked_until: None,
        };
        let mut state = match previous {
            Some(p) if p.locked_at(now).is_some() => return p,
            Some(p) if now.duration_since(p.window_start) < policy.window => p,
            _ => fresh,
        };
        state.count = state.count.saturating_add(1);
        if state.count >= policy.max_failures {
            state.locked_until = now.checked_add(policy.lockout).ok();
            // The next window starts after the lockout.
            state.count = 0;
            state.window_start = state.locked_until.unwrap_or(now);
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn the_fifth_failure_within_the_window_locks_for_the_lockout() {
        let policy = LoginPolicy::default();
        let mut state = None;
        for minute in 0..4 {
            let now = at(&format!("2026-11-27T09:0{minute}:00Z"));
            let s = LoginFailures::after_failure(state, now, &policy);
            assert_eq!(s.locked_at(now), None, "failure {}", minute + 1);
            state = Some(s);
        }
        let now = at("2026-11-27T09:05:00Z");
        let s = LoginFailures::after_failure(state, now, &policy);
        assert_eq!(s.locked_at(now), Some(at("2026-11-27T09:20:00Z")));
        assert_eq!(s.locked_at(at("2026-11-27T09:19:59Z")), s.locked_until);
        assert_eq!(s.locked_at(at("2026-11-27T09:20:00Z")), None);
    }

    #[test]
    fn failures_spread_beyond_the_window_never_lock() {
        let policy = LoginPolicy::default();
        let mut state = None;
        for n in 0..10 {
            let now = at("2026-11-27T09:00:00Z")
                .checked_add(SignedDuration::from_mins(4 * n))
                .expect("time");
            let s = LoginFailures::after_failure(state, now, &policy);
            assert_eq!(s.locked_at(now), None, "failure {n}");
            state = Some(s);
        }
    }

    #[test]
    fn failures_during_a_lockout_do_not_extend_it() {
        let policy = LoginPolicy::default();
        let locked = LoginFailures {
            count: 0,
            window_start: at("2026-11-27T09:20:00Z"),
            locked_until: Some(at("2026-11-27T09:20:00Z")),
        };
        let s = LoginFailures::after_failure(Some(locked), at("2026-11-27T09:10:00Z"), &policy);
        assert_eq!(s, locked);
    }

    #[test]
    fn a_session_ends_at_its_expiry_or_when_revoked() {
        let s = Session {
            id: SessionId::new_at(at("2026-11-27T09:00:00Z")),
            user_id: UserId::new_at(at("2026-11-27T09:00:00Z")),
            created_at: at("2026-11-27T09:00:00Z"),
            expires_at: at("2026-11-27T21:00:00Z"),
            revoked_at: None,
        };
        assert!(s.is_live(at("2026-11-27T20:59:59Z")));
        assert!(!s.is_live(at("2026-11-27T21:00:00Z")));
        let revoked = Session {
            revoked_at: Some(at("2026-11-27T10:00:00Z")),
            ..s
        };
        assert!(!revoked.is_live(at("2026-11-27T10:00:01Z")));
    }
}
