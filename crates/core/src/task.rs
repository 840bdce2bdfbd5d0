//! Response tasks (PRODUCT.md §9): what the experts or the customer must do
//! about an incident, by when, and whether the experts may do it
//! themselves (managed) or guide the customer (guided).

use crate::incident::IncidentId;
use crate::tenant::{AssetKind, Coverage, ResponseAuthorisation, TenantSettings};
use crate::{Entity, EntityKind, Id, TenantId, Timestamp};

/// Identifier of a task.
pub type TaskId = Id<Task>;

words!(
    /// Every task type of PRODUCT.md §9.
    TaskType, "task type" {
        IsolateDevice => "isolate_device",
        ReleaseDevice => "release_device",
        RestrictAppExecution => "restrict_app_execution",
        RemoveAppRestriction => "remove_app_restriction",
        StopAndQuarantineFile => "stop_and_quarantine_file",
        RunAntivirusScan => "run_antivirus_scan",
        CollectInvestigationPackage => "collect_investigation_package",
        DisableUser => "disable_user",
        EnableUser => "enable_user",
        ForcePasswordReset => "force_password_reset",
        RevokeSessions => "revoke_sessions",
        MarkUserCompromised => "mark_user_compromised",
        SoftDeleteEmail => "soft_delete_email",
        BlockIndicator => "block_indicator",
        FreeText => "free_text",
    }
);

words!(
    /// Who carries it out.
    TaskMode, "task mode" { Managed => "managed", Guided => "guided" }
);

words!(
    /// Where a task stands.
    TaskStatus, "task status" {
        Open => "open",
        InProgress => "in_progress",
        Completed => "completed",
        Failed => "failed",
        Skipped => "skipped",
    }
);

words!(
    /// What one execution attempt of a managed task came to: `pending`
    /// (due at `next_attempt_at`), `started` (taken up by an expert by
    /// hand), `delivered` (the customer's endpoint accepted it; its callback
    /// is awaited), `error` (this attempt failed; another is scheduled),
    /// `failed` (given up, or the connector reported failure), `completed`.
    ExecutionOutcome, "execution outcome" {
        Pending => "pending",
        Started => "started",
        Delivered => "delivered",
        Error => "error",
        Failed => "failed",
        Completed => "completed",
    }
);

/// One line of a task's execution record: an attempt through a connector,
/// or the outcome the connector called back with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Execution {
    /// The store's row id (0 before it is stored).
    pub id: i64,
    pub task_id: TaskId,
    pub tenant_id: TenantId,
    /// `manual` or `signed_webhook`.
    pub connector: String,
    /// 1 for the first delivery; callbacks repeat the attempt they answer.
    pub attempt: u32,
    /// When it happened (for a pending attempt: when it was scheduled).
    pub at: Timestamp,
    pub outcome: ExecutionOutcome,
    pub detail: String,
    /// When a pending attempt is due; `None` once it has run.
    pub next_attempt_at: Option<Timestamp>,
}

/// Waits before each retry of a failed delivery: after attempt 1, 2, 3, 4.
/// A fifth failure is final.
pub const RETRY_DELAYS: [jiff::SignedDuration; 4] = [
    jiff::SignedDuration::from_secs(30),
    jiff::SignedDuration::from_mins(2),
    jiff::SignedDuration::from_mins(10),
    jiff::SignedDuration::from_mins(30),
];

/// The wait before the attempt after failed attempt `attempt` (1-based),
/// or `None` when that was the last.
pub fn retry_delay(attempt: u32) -> Option<jiff::SignedDuration> {
    let i = usize::try_from(attempt.checked_sub(1)?).ok()?;
    RETRY_DELAYS.get(i).copied()
}

impl TaskType {
    /// The entity kinds its target may be (`None`: no target).
    pub fn target_kinds(self) -> Option<&'static [EntityKind]> {
        use EntityKind as K;
        use TaskType as T;
        Some(match self {
            T::IsolateDevice
            | T::ReleaseDevice
            | T::RestrictAppExecution
            | T::RemoveAppRestriction
            | T::RunAntivirusScan
            | T::CollectInvestigationPackage => &[K::Device],
            T::StopAndQuarantineFile => &[K::File, K::FileHash],
            T::DisableUser
            | T::EnableUser
            | T::ForcePasswordReset
            | T::RevokeSessions
            | T::MarkUserCompromised => &[K::User],
            T::SoftDeleteEmail => &[K::Mailbox],
            T::BlockIndicator => &[K::FileHash, K::Ip, K::Domain, K::Url],
            T::FreeText => return None,
        })
    }

    /// Refuse a target of the wrong kind (or a missing one), naming both.
    pub fn check_target(self, target: Option<&Entity>) -> Result<(), String> {
        match (self.target_kinds(), target) {
            (None, _) => Ok(()),
            (Some(kinds), Some(t)) if kinds.contains(&t.kind) => Ok(()),
            (Some(kinds), got) => Err(format!(
                "a {self} task targets {}; got {}",
                kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                got.map_or_else(|| "no target".to_owned(), ToString::to_string)
            )),
        }
    }
}

impl TaskStatus {
    /// Whether the task still needs someone.
    pub const fn is_open(self) -> bool {
        matches!(self, TaskStatus::Open | TaskStatus::InProgress)
    }
}

/// Refuse a status move the lifecycle does not allow, or a skip without a
/// reason.
pub fn check_task_status(
    from: TaskStatus,
    to: TaskStatus,
    reason: Option<&str>,
) -> Result<(), String> {
    if !from.is_open() {
        return Err(format!("the task is {from}: it is closed"));
    }
    if from == to {
        return Err(format!("the task is already {to}"));
    }
    if to == TaskStatus::Open {
        return Err("a task in progress cannot go back to open".into());
    }
    if to == TaskStatus::Skipped && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err("skipping a task needs a reason".into());
    }
    Ok(())
}

/// A response task.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Task {
    pub id: TaskId,
    pub tenant_id: TenantId,
    pub incident_id: IncidentId,
    pub kind: TaskType,
    pub target: Option<Entity>,
    pub rationale: String,
    pub mode: TaskMode,
    /// Why this mode, in words.
    pub mode_reason: String,
    pub status: TaskStatus,
    /// The reason for a skip or failure, or a completion note.
    pub note: Option<String>,
    pub due_at: Timestamp,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
}

fn matches_asset(target: &Entity, kind: AssetKind, name: &str) -> bool {
    let same = |k: EntityKind| target.kind == k && target.value.eq_ignore_ascii_case(name);
    match kind {
        AssetKind::Device => same(EntityKind::Device),
        AssetKind::User => same(EntityKind::User),
        // Group membership is not known here: a group never matches.
        AssetKind::DeviceGroup | AssetKind::UserGroup => false,
    }
}

/// Managed only when the tenant authorised managed response, the target
/// is not excluded and is within scoped coverage; otherwise guided. The
/// reason says which rule decided.
pub fn mode_for(
    settings: &TenantSettings,
    kind: TaskType,
    target: Option<&Entity>,
) -> (TaskMode, String) {
    if kind == TaskType::FreeText {
        return (
            TaskMode::Guided,
            "free-text tasks are for the customer".into(),
        );
    }
    if settings.authorisation != Some(ResponseAuthorisation::Managed) {
        return (
            TaskMode::Guided,
            "the tenant has not authorised managed response".into(),
        );
    }
    let Some(target) = target else {
        return (TaskMode::Guided, "no target".into());
    };
    if let Some(ex) = settings
        .exclusions
        .iter()
        .find(|a| matches_asset(target, a.kind, &a.name))
    {
        return (TaskMode::Guided, format!("{target} is excluded ({ex})"));
    }
    if let Coverage::Scoped(assets) = &settings.coverage
        && !assets
            .iter()
            .any(|a| matches_asset(target, a.kind, &a.name))
    {
        return (
            TaskMode::Guided,
            format!("{target} is outside the scoped coverage"),
        );
    }
    (
        TaskMode::Managed,
        "managed response authorised; the target is covered and not excluded".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str) -> Entity {
        Entity::new(EntityKind::Device, name)
    }

    #[test]
    fn a_task_is_managed_only_when_authorised_covered_and_not_excluded() {
        let mut s = TenantSettings::default();
        let (mode, why) = mode_for(&s, TaskType::IsolateDevice, Some(&device("ws1")));
        assert_eq!(mode, TaskMode::Guided);
        assert!(why.contains("not authorised"));
        s.authorisation = Some(ResponseAuthorisation::Managed);
        assert_eq!(
            mode_for(&s, TaskType::IsolateDevice, Some(&device("ws1"))).0,
            TaskMode::Managed
        );
        s.exclusions.push("device:WS1".parse().expect("asset"));
        let (mode, why) = mode_for(&s, TaskType::IsolateDevice, Some(&device("ws1")));
        assert_eq!(mode, TaskMode::Guided);
        assert!(why.contains("excluded"));
        s.exclusions.clear();
        s.coverage = Coverage::Scoped(vec!["device:dc1".parse().expect("asset")]);
        assert_eq!(
            mode_for(&s, TaskType::IsolateDevice, Some(&device("ws1"))).0,
            TaskMode::Guided
        );
        assert_eq!(
            mode_for(&s, TaskType::IsolateDevice, Some(&device("DC1"))).0,
            TaskMode::Managed
        );
        assert_eq!(mode_for(&s, TaskType::FreeText, None).0, TaskMode::Guided);
    }

    #[test]
    fn targets_must_fit_the_task_type() {
        assert!(
            TaskType::IsolateDevice
                .check_target(Some(&device("ws1")))
                .is_ok()
        );
        let e = TaskType::DisableUser
            .check_target(Some(&device("ws1")))
            .expect_err("a device is not a user");
        assert!(
            e.contains("targets user") && e.contains("device:ws1"),
            "{e}"
        );
        assert!(TaskType::BlockIndicator.check_target(None).is_err());
        assert!(TaskType::FreeText.check_target(None).is_ok());
        assert_eq!(TaskType::ALL.len(), 15);
    }

    #[test]
    fn deliveries_back_off_then_give_up_after_the_fifth_attempt() {
        let mins = |a| retry_delay(a).map(|d| d.as_secs());
        assert_eq!(mins(0), None);
        assert_eq!(mins(1), Some(30));
        assert_eq!(mins(2), Some(120));
        assert_eq!(mins(3), Some(600));
        assert_eq!(mins(4), Some(1800));
        assert_eq!(mins(5), None);
        assert!("callback_failed".parse::<ExecutionOutcome>().is_err());
    }

    #[test]
    fn closed_tasks_stay_closed_and_a_skip_needs_a_reason() {
        use TaskStatus as S;
        assert!(check_task_status(S::Open, S::InProgress, None).is_ok());
        assert!(check_task_status(S::InProgress, S::Completed, None).is_ok());
        assert!(check_task_status(S::Open, S::Skipped, None).is_err());
        assert!(check_task_status(S::Open, S::Skipped, Some("not ours")).is_ok());
        assert!(check_task_status(S::Completed, S::Failed, None).is_err());
        assert!(check_task_status(S::InProgress, S::Open, None).is_err());
    }
}
