//! SLA timers (PRODUCT.md §3, §9): how long the customer has to acknowledge
//! a published response and to complete its tasks, and what is due when.
//!
//! A timer is state, not a sleeping task: it records when it started, when
//! it is due, and which of its steps (the 50 % reminder, the 100 % reminder
//! that is the breach, each escalation) have been carried out. Whoever runs
//! the engine asks [`due_actions`] what is due *now* and records the steps
//! with [`SlaTimer::record`]; a server that was stopped past a step simply
//! finds it due at its next run, once.
//!
//! The schedule, for a target `T` started at `s` (due at `s + T`):
//! - `s + T/2`: remind the incident contacts;
//! - `s + T`: remind the incident contacts that time is up, tell the
//!   experts, record the breach (it starts at `s + T`), and call on the
//!   second incident contact in call order (escalation level 1);
//! - `s + T + (n − 1)·T/2`: escalation level `n` calls on contact `n + 1`,
//!   as long as there are contacts left.
//!
//! Missed steps collapse: when the 100 % step is due, a 50 % reminder not
//! yet sent is passed over ([`SlaAction::SkipHalf`]: recorded, not sent),
//! since telling someone "half the time is left" after it ran out is wrong.
//! Escalations do not collapse: every contact who should have been called
//! by now is called, once each, so nobody in the call order is left out.

use jiff::SignedDuration;

use crate::incident::IncidentId;
use crate::{Id, TenantId, Timestamp};

pub type SlaTimerId = Id<SlaTimer>;

words!(
    /// What a timer measures.
    SlaKind, "SLA timer kind" {
        /// From publishing a response to the customer acknowledging it.
        Acknowledge => "acknowledge",
        /// From publishing a response to every one of its tasks closed.
        Complete => "complete",
    }
);

words!(
    /// Why a timer stopped.
    StopReason, "SLA stop reason" {
        /// The customer acknowledged the response.
        Acknowledged => "acknowledged",
        /// The customer's first action on a task counts as acknowledging.
        TaskAction => "task_action",
        /// The customer's first comment counts as acknowledging.
        Comment => "comment",
        /// Every task of the incident is closed.
        TasksClosed => "tasks_closed",
        /// The incident was resolved or merged away.
        IncidentClosed => "incident_closed",
    }
);

/// One SLA timer of one incident.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SlaTimer {
    pub id: SlaTimerId,
    pub tenant_id: TenantId,
    pub incident_id: IncidentId,
    pub kind: SlaKind,
    /// The target in force when the timer started (a later policy change
    /// does not move a running timer).
    pub target: SignedDuration,
    pub started_at: Timestamp,
    pub due_at: Timestamp,
    pub stopped_at: Option<Timestamp>,
    pub stop_reason: Option<StopReason>,
    /// When the 50 % reminder was queued.
    pub reminded_half_at: Option<Timestamp>,
    /// The 50 % reminder was passed over: the 100 % step was due as well.
    pub half_skipped: bool,
    /// When the 100 % reminder (the breach notice) was queued.
    pub reminded_due_at: Option<Timestamp>,
    /// When the breach began (always `due_at`); set once it is recorded.
    pub breached_at: Option<Timestamp>,
    /// How many incident contacts past the first have been called on.
    pub escalation_level: u32,
    pub escalated_at: Option<Timestamp>,
    /// How far past the target the timer stopped (a breach's duration).
    pub overdue: Option<SignedDuration>,
    /// Bumped by every change: the store's guard against two writers.
    pub version: i64,
}

/// A step that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaAction {
    /// 50 %: remind the incident contacts.
    RemindHalf,
    /// The 50 % reminder is stale (the 100 % step is due too): record it as
    /// passed over, send nothing.
    SkipHalf,
    /// 100 %: remind the incident contacts that time is up, tell the
    /// experts, record the breach.
    Breach,
    /// Call on the incident contact with this call priority; `level` 1 is
    /// the second contact in call order.
    Escalate { level: u32, priority: u8 },
}

/// A breach as the reports see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breach {
    /// When the target passed (`due_at`).
    pub started_at: Timestamp,
    /// When the timer stopped; `None` while still open.
    pub ended_at: Option<Timestamp>,
    /// How long past the target: to the stop, or to `now` while open.
    pub over: SignedDuration,
}

impl SlaTimer {
    /// A timer of `kind` for `incident`, started `now` with `target`.
    pub fn start(
        tenant_id: TenantId,
        incident_id: IncidentId,
        kind: SlaKind,
        target: SignedDuration,
        now: Timestamp,
    ) -> SlaTimer {
        let target = target.max(SignedDuration::ZERO);
        SlaTimer {
            id: SlaTimerId::new_at(now),
            tenant_id,
            incident_id,
            kind,
            target,
            started_at: now,
            due_at: add(now, target),
            stopped_at: None,
            stop_reason: None,
            reminded_half_at: None,
            half_skipped: false,
            reminded_due_at: None,
            breached_at: None,
            escalation_level: 0,
            escalated_at: None,
            overdue: None,
            version: 0,
        }
    }

    pub fn is_running(&self) -> bool {
        self.stopped_at.is_none()
    }

    /// When the 50 % reminder is due.
    pub fn half_at(&self) -> Timestamp {
        add(self.started_at, self.target / 2)
    }

    /// When escalation `level` (1-based) is due: at the breach, then one
    /// more every further half target.
    pub fn escalation_at(&self, level: u32) -> Timestamp {
        let steps = i32::try_from(level.saturating_sub(1)).unwrap_or(i32::MAX);
        add(
            self.due_at,
            (self.target / 2)
                .checked_mul(steps)
                .unwrap_or(SignedDuration::MAX),
        )
    }

    /// Record that `action` was carried out at `now`.
    pub fn record(&mut self, action: SlaAction, now: Timestamp) {
        match action {
            SlaAction::RemindHalf => self.reminded_half_at = Some(now),
            SlaAction::SkipHalf => self.half_skipped = true,
            SlaAction::Breach => {
                self.reminded_due_at = Some(now);
                self.breached_at = Some(self.due_at);
            }
            SlaAction::Escalate { level, .. } => {
                self.escalation_level = self.escalation_level.max(level);
                self.escalated_at = Some(now);
            }
        }
        self.version += 1;
    }

    /// Stop the timer at `at`. Stopping at or past the due time records
    /// the breach and its duration. Stopping a stopped timer changes
    /// nothing and answers `false`.
    pub fn stop(&mut self, at: Timestamp, reason: StopReason) -> bool {
        if self.stopped_at.is_some() {
            return false;
        }
        self.stopped_at = Some(at);
        self.stop_reason = Some(reason);
        if at >= self.due_at {
            self.breached_at = Some(self.due_at);
            self.overdue = Some(at.duration_since(self.due_at));
        }
        self.version += 1;
        true
    }

    /// The breach, if the timer stopped at or past its due time, or is
    /// still running at or past it at `now`.
    pub fn breach(&self, now: Timestamp) -> Option<Breach> {
        let end = self.stopped_at.unwrap_or(now);
        (end >= self.due_at).then(|| Breach {
            started_at: self.due_at,
            ended_at: self.stopped_at,
            over: end.duration_since(self.due_at),
        })
    }
}

/// What is due for `timer` at `now`, in order. `contacts` are the call
/// priorities of the tenant's incident contacts, in call order (the first
/// one is never an escalation: it is called on from the start).
pub fn due_actions(timer: &SlaTimer, contacts: &[u8], now: Timestamp) -> Vec<SlaAction> {
    let mut out = Vec::new();
    if !timer.is_running() {
        return out;
    }
    let breach_due = now >= timer.due_at && timer.reminded_due_at.is_none();
    if timer.reminded_half_at.is_none() && !timer.half_skipped && now >= timer.half_at() {
        out.push(if breach_due {
            SlaAction::SkipHalf
        } else {
            SlaAction::RemindHalf
        });
    }
    if breach_due {
        out.push(SlaAction::Breach);
    }
    if breach_due || timer.reminded_due_at.is_some() {
        let mut level = timer.escalation_level + 1;
        while let Some(&priority) = usize::try_from(level).ok().and_then(|i| contacts.get(i)) {
            if now < timer.escalation_at(level) {
                break;
            }
            out.push(SlaAction::Escalate { level, priority });
            level += 1;
        }
    }
    out
}

fn add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests;
