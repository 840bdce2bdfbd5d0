//! Incidents (PRODUCT.md §7): the correlation summary of a group of
//! alerts, and the vocabulary analysts work it with (statuses and their
//! transition table, classifications and their determinations, comments,
//! tags).
//!
//! How alerts are grouped, and how the summary below is kept current, is
//! `vigil-incidents`' business (docs/incidents.md). This module only says
//! what an incident is and which changes to it are well-formed.
//!
//! Status moves:
//!
//! | from              | to                                              |
//! |-------------------|-------------------------------------------------|
//! | new               | active, in_progress, awaiting_customer, resolved |
//! | active            | new, in_progress, awaiting_customer, resolved    |
//! | in_progress       | active, awaiting_customer, resolved              |
//! | awaiting_customer | active, in_progress, resolved                    |
//! | resolved          | active, in_progress (reopened)                   |
//! | redirected        | (final)                                          |
//!
//! `redirected` is never set by a status change: only a merge sets it
//! (with the incident it was merged into), so a redirected incident always
//! names where its alerts went.

use std::fmt;
use std::str::FromStr;

use crate::{Entity, Id, Severity, TenantId, Timestamp};

/// Identifier of an incident.
pub type IncidentId = Id<Incident>;

/// An incident keeps at most this many entities for display (key entities
/// first); linking uses [`Incident::links`], which is not capped.
pub const MAX_INCIDENT_ENTITIES: usize = 256;

/// Each key entity keeps at most this many separate activity spans; beyond
/// it the two closest spans are joined (docs/incidents.md, "exactness").
pub const MAX_SPANS_PER_ENTITY: usize = 32;

/// The correlation summary of an incident: what grouping reads to decide
/// where an alert goes, and what it keeps current as alerts join. The
/// fields analysts set (assignment, classification, tags, comments) live
/// beside it, in the service's record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub tenant_id: TenantId,
    /// Drawn from the alerts (docs/incidents.md, "title").
    pub title: String,
    /// The highest severity among its alerts.
    pub alert_severity: Severity,
    /// Set by an analyst: wins over `alert_severity` from then on.
    pub analyst_severity: Option<Severity>,
    pub status: IncidentStatus,
    /// When its earliest alert's activity began.
    pub first_activity: Timestamp,
    /// When its latest alert's activity ended.
    pub last_activity: Timestamp,
    /// Entities of its alerts, sorted, key entities first, at most
    /// [`MAX_INCIDENT_ENTITIES`].
    pub entities: Vec<Entity>,
    /// ATT&CK tactics, sorted, each once.
    pub tactics: Vec<String>,
    /// ATT&CK technique ids, sorted, each once.
    pub techniques: Vec<String>,
    /// Alerts placed in it, including those of incidents merged into it.
    pub alert_count: u64,
    /// Set when merged into another incident (status `redirected`).
    pub redirected_to: Option<IncidentId>,
    /// Incidents merged into this one, sorted (directly or through them).
    pub merged: Vec<IncidentId>,
    /// The detection rules of its alerts: what the title is drawn from.
    pub rules: Vec<RuleSeen>,
    /// Each key entity of its alerts and when alerts naming it were
    /// active: what links a new alert to it. Sorted by entity.
    pub links: Vec<EntityActivity>,
}

impl Incident {
    /// The severity shown: the analyst's when set, else the alerts' highest.
    pub fn severity(&self) -> Severity {
        self.analyst_severity.unwrap_or(self.alert_severity)
    }

    /// Whether alerts may still join it.
    pub fn is_open(&self) -> bool {
        self.status.is_open()
    }
}

/// One detection rule among an incident's alerts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleSeen {
    pub rule_id: String,
    pub title: String,
    /// The highest severity of its alerts in the incident.
    pub severity: Severity,
    /// The earliest activity of its alerts in the incident.
    pub first_activity: Timestamp,
}

/// A key entity of an incident and when alerts naming it were active.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntityActivity {
    pub entity: Entity,
    /// Disjoint, sorted, none empty; each the union of overlapping alert
    /// activity intervals.
    pub spans: Vec<Span>,
}

/// A closed interval of activity, `first <= last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub first: Timestamp,
    pub last: Timestamp,
}

macro_rules! words {
    ($(#[$m:meta])* $name:ident, $err:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[doc = concat!("The text was not a ", $what, ".")]
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("unknown {} {:?}: expected one of {}", $what, .0, [$($text),+].join(", "))]
        pub struct $err(pub String);

        impl FromStr for $name {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().replace(['-', ' '], "_");
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(&wanted))
                    .ok_or_else(|| $err(s.to_owned()))
            }
        }
    };
}

words!(
    /// Where an incident is in its life (PRODUCT.md §7).
    IncidentStatus, ParseIncidentStatusError, "incident status" {
        New => "new",
        Active => "active",
        InProgress => "in_progress",
        AwaitingCustomer => "awaiting_customer",
        Resolved => "resolved",
        Redirected => "redirected",
    }
);

words!(
    /// What an analyst concluded an incident was.
    Classification, ParseClassificationError, "classification" {
        TruePositive => "true_positive",
        InformationalExpectedActivity => "informational_expected_activity",
        FalsePositive => "false_positive",
    }
);

words!(
    /// The detail of a [`Classification`]; each belongs to some of them.
    Determination, ParseDeterminationError, "determination" {
        MultiStagedAttack => "multi_staged_attack",
        MaliciousUserActivity => "malicious_user_activity",
        CompromisedAccount => "compromised_account",
        Malware => "malware",
        Phishing => "phishing",
        UnwantedSoftware => "unwanted_software",
        SecurityTesting => "security_testing",
        LineOfBusinessApplication => "line_of_business_application",
        ConfirmedActivity => "confirmed_activity",
        NotMalicious => "not_malicious",
        NotEnoughData => "not_enough_data",
        Other => "other",
    }
);

impl IncidentStatus {
    /// Alerts may join it: every status but `resolved` and `redirected`.
    pub const fn is_open(self) -> bool {
        !matches!(self, IncidentStatus::Resolved | IncidentStatus::Redirected)
    }

    /// The statuses an analyst may move it to (the table above).
    pub const fn successors(self) -> &'static [IncidentStatus] {
        use IncidentStatus::*;
        match self {
            New => &[Active, InProgress, AwaitingCustomer, Resolved],
            Active => &[New, InProgress, AwaitingCustomer, Resolved],
            InProgress => &[Active, AwaitingCustomer, Resolved],
            AwaitingCustomer => &[Active, InProgress, Resolved],
            Resolved => &[Active, InProgress],
            Redirected => &[],
        }
    }
}

/// A status change that was refused, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("the incident is already {0}")]
    AlreadyThere(IncidentStatus),
    #[error("an incident becomes redirected only by merging it into another")]
    RedirectedByMergeOnly,
    #[error("an incident cannot move from {from} to {to}: {}", allowed_moves(*.from))]
    NotAllowed {
        from: IncidentStatus,
        to: IncidentStatus,
    },
}

fn allowed_moves(from: IncidentStatus) -> String {
    match from.successors() {
        [] => format!("{from} is final"),
        next => {
            let names: Vec<&str> = next.iter().map(|s| s.as_str()).collect();
            format!("from {from} it may move to {}", names.join(", "))
        }
    }
}

/// Whether an analyst may move an incident from `from` to `to`.
pub fn check_status(from: IncidentStatus, to: IncidentStatus) -> Result<(), StatusError> {
    if from == to {
        return Err(StatusError::AlreadyThere(to));
    }
    if to == IncidentStatus::Redirected {
        return Err(StatusError::RedirectedByMergeOnly);
    }
    if !from.successors().contains(&to) {
        return Err(StatusError::NotAllowed { from, to });
    }
    Ok(())
}

impl Classification {
    /// The determinations that belong to it (PRODUCT.md §7); `other`
    /// belongs to each.
    pub const fn determinations(self) -> &'static [Determination] {
        use Determination::*;
        match self {
            Classification::TruePositive => &[
                MultiStagedAttack,
                MaliciousUserActivity,
                CompromisedAccount,
                Malware,
                Phishing,
                UnwantedSoftware,
                Other,
            ],
            Classification::InformationalExpectedActivity => &[
                SecurityTesting,
                LineOfBusinessApplication,
                ConfirmedActivity,
                Other,
            ],
            Classification::FalsePositive => &[NotMalicious, NotEnoughData, Other],
        }
    }

    pub fn allows(self, determination: Determination) -> bool {
        self.determinations().contains(&determination)
    }
}

/// A classification and determination that do not go together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeterminationError {
    #[error(
        "determination {determination} does not belong to classification {classification}: expected one of {}",
        names(classification.determinations())
    )]
    Mismatch {
        classification: Classification,
        determination: Determination,
    },
    #[error("determination {0} needs a classification")]
    WithoutClassification(Determination),
}

fn names(ds: &[Determination]) -> String {
    ds.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
}

/// Whether an incident may carry this classification and determination.
/// A classification alone is fine; a determination alone is not.
pub fn check_determination(
    classification: Option<Classification>,
    determination: Option<Determination>,
) -> Result<(), DeterminationError> {
    match (classification, determination) {
        (_, None) => Ok(()),
        (None, Some(d)) => Err(DeterminationError::WithoutClassification(d)),
        (Some(c), Some(d)) if c.allows(d) => Ok(()),
        (Some(classification), Some(determination)) => Err(DeterminationError::Mismatch {
            classification,
            determination,
        }),
    }
}

/// A comment is at most this many characters.
pub const MAX_COMMENT_CHARS: usize = 30_000;

/// The text of an analyst's or customer's comment on an incident: not
/// blank, at most [`MAX_COMMENT_CHARS`] characters (Unicode scalar
/// values), kept as written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommentText(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    #[error("a comment must not be blank")]
    Blank,
    #[error("a comment is at most 30,000 characters; this one has {0}")]
    TooLong(usize),
}

impl CommentText {
    pub fn parse(text: impl Into<String>) -> Result<Self, CommentError> {
        let text = text.into();
        if text.trim().is_empty() {
            return Err(CommentError::Blank);
        }
        let chars = text.chars().count();
        if chars > MAX_COMMENT_CHARS {
            return Err(CommentError::TooLong(chars));
        }
        Ok(CommentText(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tag is at most this many characters.
pub const MAX_TAG_CHARS: usize = 64;
/// An incident carries at most this many tags.
pub const MAX_TAGS: usize = 50;

/// A tag on an incident: trimmed, 1 to 64 characters of letters, digits,
/// spaces and `- _ . : / # @`. Tags compare case-insensitively when added
/// ([`add_tag`]) and keep the case first written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Tag(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("a tag must not be blank")]
    Blank,
    #[error("a tag is at most 64 characters; {0:?} is longer")]
    TooLong(String),
    #[error("tag {tag:?} contains {found:?}: use letters, digits, spaces and - _ . : / # @")]
    Character { tag: String, found: char },
    #[error("an incident carries at most 50 tags")]
    TooMany,
}

impl Tag {
    pub fn parse(text: &str) -> Result<Self, TagError> {
        let tag = text.trim();
        if tag.is_empty() {
            return Err(TagError::Blank);
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(TagError::TooLong(tag.to_owned()));
        }
        if let Some(found) = tag
            .chars()
            .find(|c| !(c.is_alphanumeric() || *c == ' ' || "-_.:/#@".contains(*c)))
        {
            return Err(TagError::Character {
                tag: tag.to_owned(),
                found,
            });
        }
        Ok(Tag(tag.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Adds `tag` unless one equal to it ignoring case is there; `Ok(false)`
/// when it was already there.
pub fn add_tag(tags: &mut Vec<Tag>, tag: Tag) -> Result<bool, TagError> {
    if tags
        .iter()
        .any(|t| t.0.to_lowercase() == tag.0.to_lowercase())
    {
        return Ok(false);
    }
    if tags.len() >= MAX_TAGS {
        return Err(TagError::TooMany);
    }
    tags.push(tag);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_classification_and_determination_round_trips_through_its_name() {
        for s in IncidentStatus::ALL {
            assert_eq!(s.as_str().parse(), Ok(*s));
        }
        for c in Classification::ALL {
            assert_eq!(c.as_str().parse(), Ok(*c));
        }
        for d in Determination::ALL {
            assert_eq!(d.as_str().parse(), Ok(*d));
        }
        assert_eq!("in progress".parse(), Ok(IncidentStatus::InProgress));
        assert_eq!("False-Positive".parse(), Ok(Classification::FalsePositive));
        let err = "closed".parse::<IncidentStatus>().expect_err("unknown");
        assert!(err.to_string().contains("awaiting_customer"), "{err}");
    }

    #[test]
    fn only_resolved_and_redirected_incidents_are_closed_to_new_alerts() {
        let open: Vec<_> = IncidentStatus::ALL.iter().filter(|s| s.is_open()).collect();
        assert_eq!(open.len(), 4);
        assert!(!IncidentStatus::Resolved.is_open());
        assert!(!IncidentStatus::Redirected.is_open());
    }

    #[test]
    fn the_status_table_allows_the_documented_moves_and_refuses_the_rest() {
        use IncidentStatus::*;
        assert_eq!(check_status(New, Active), Ok(()));
        assert_eq!(check_status(Active, InProgress), Ok(()));
        assert_eq!(check_status(InProgress, AwaitingCustomer), Ok(()));
        assert_eq!(check_status(AwaitingCustomer, Resolved), Ok(()));
        assert_eq!(check_status(Resolved, InProgress), Ok(()));
        assert_eq!(
            check_status(Resolved, New),
            Err(StatusError::NotAllowed {
                from: Resolved,
                to: New
            })
        );
        assert_eq!(
            check_status(Active, Active),
            Err(StatusError::AlreadyThere(Active))
        );
        assert_eq!(
            check_status(New, Redirected),
            Err(StatusError::RedirectedByMergeOnly)
        );
        let err = check_status(Redirected, Active).expect_err("final");
        assert_eq!(
            err.to_string(),
            "an incident cannot move from redirected to active: redirected is final"
        );
        for from in IncidentStatus::ALL {
            assert!(!from.successors().contains(from), "{from} loops");
            assert!(!from.successors().contains(&Redirected));
        }
    }

    #[test]
    fn a_determination_from_another_classification_is_refused_naming_both() {
        assert_eq!(
            check_determination(
                Some(Classification::TruePositive),
                Some(Determination::Malware)
            ),
            Ok(())
        );
        let err = check_determination(
            Some(Classification::TruePositive),
            Some(Determination::SecurityTesting),
        )
        .expect_err("mismatch");
        assert_eq!(
            err,
            DeterminationError::Mismatch {
                classification: Classification::TruePositive,
                determination: Determination::SecurityTesting
            }
        );
        let text = err.to_string();
        assert!(text.contains("security_testing"), "{text}");
        assert!(text.contains("true_positive"), "{text}");
        assert!(text.contains("multi_staged_attack"), "{text}");
    }

    #[test]
    fn other_belongs_to_every_classification_and_a_determination_needs_one() {
        for c in Classification::ALL {
            assert!(c.allows(Determination::Other));
            assert_eq!(check_determination(Some(*c), None), Ok(()));
        }
        assert_eq!(
            check_determination(None, Some(Determination::Phishing)),
            Err(DeterminationError::WithoutClassification(
                Determination::Phishing
            ))
        );
        assert_eq!(check_determination(None, None), Ok(()));
    }

    #[test]
    fn every_determination_but_other_belongs_to_exactly_one_classification() {
        for d in Determination::ALL {
            let owners = Classification::ALL.iter().filter(|c| c.allows(*d)).count();
            let expected = if *d == Determination::Other { 3 } else { 1 };
            assert_eq!(owners, expected, "{d}");
        }
    }

    #[test]
    fn comments_are_limited_to_30000_characters_not_bytes() {
        assert!(CommentText::parse("é".repeat(30_000)).is_ok());
        assert_eq!(
            CommentText::parse("a".repeat(30_001)),
            Err(CommentError::TooLong(30_001))
        );
        assert_eq!(CommentText::parse("  \n"), Err(CommentError::Blank));
        assert_eq!(
            CommentText::parse(" kept as written ")
                .expect("ok")
                .as_str(),
            " kept as written "
        );
    }

    #[test]
    fn tags_are_trimmed_checked_and_added_once_ignoring_case() {
        let tag = Tag::parse("  APT-29 ").expect("tag");
        assert_eq!(tag.as_str(), "APT-29");
        assert_eq!(Tag::parse(" "), Err(TagError::Blank));
        assert!(matches!(
            Tag::parse(&"x".repeat(65)),
            Err(TagError::TooLong(_))
        ));
        assert_eq!(
            Tag::parse("a<b"),
            Err(TagError::Character {
                tag: "a<b".into(),
                found: '<'
            })
        );
        let mut tags = Vec::new();
        assert_eq!(add_tag(&mut tags, tag), Ok(true));
        assert_eq!(
            add_tag(&mut tags, Tag::parse("apt-29").expect("tag")),
            Ok(false)
        );
        assert_eq!(tags.len(), 1);
        for n in 1..MAX_TAGS {
            add_tag(&mut tags, Tag::parse(&format!("t{n}")).expect("tag")).expect("room");
        }
        assert_eq!(
            add_tag(&mut tags, Tag::parse("one-too-many").expect("tag")),
            Err(TagError::TooMany)
        );
    }
}
