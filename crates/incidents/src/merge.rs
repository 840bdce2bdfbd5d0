//! Merging two incidents: the older (the smaller id; ids are UUID v7, so
//! the one created first) keeps its id and takes in the other's alerts and
//! summary; the younger becomes `redirected` to it.

use vigil_core::incident::{Incident, IncidentId, IncidentStatus};

use crate::summary::join_summary;

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The older incident, which holds both now.
    pub survivor: IncidentId,
    /// The younger one, now `redirected` to the survivor.
    pub redirected: IncidentId,
    /// False when the two were already merged (nothing changed).
    pub changed: bool,
}

/// A merge that was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("an incident cannot be merged into itself")]
    Same,
    #[error("incidents {0} and {1} belong to different tenants")]
    Tenants(IncidentId, IncidentId),
    #[error("incident {incident} was already merged into {into}")]
    AlreadyRedirected {
        incident: IncidentId,
        into: IncidentId,
    },
}

/// Merges `a` and `b`, in either order: the older takes in the younger's
/// alert count and summary (maxima, minima, unions; docs/incidents.md),
/// the younger becomes `redirected` to it. The survivor keeps its status,
/// and its analyst severity when it has one (else the younger's).
///
/// Idempotent: merging the same two again changes nothing and answers
/// `changed: false`.
pub fn merge(a: &mut Incident, b: &mut Incident) -> Result<Merged, MergeError> {
    if a.id == b.id {
        return Err(MergeError::Same);
    }
    if a.tenant_id != b.tenant_id {
        return Err(MergeError::Tenants(a.id, b.id));
    }
    let (into, from) = if a.id < b.id { (a, b) } else { (b, a) };
    if from.redirected_to == Some(into.id) && into.merged.binary_search(&from.id).is_ok() {
        return Ok(Merged {
            survivor: into.id,
            redirected: from.id,
            changed: false,
        });
    }
    for side in [&*into, &*from] {
        if let Some(to) = side.redirected_to {
            return Err(MergeError::AlreadyRedirected {
                incident: side.id,
                into: to,
            });
        }
    }
    into.alert_count += from.alert_count;
    into.analyst_severity = into.analyst_severity.or(from.analyst_severity);
    join_summary(into, from);
    into.merged.push(from.id);
    into.merged.extend(from.merged.iter().copied());
    into.merged.sort();
    into.merged.dedup();
    from.status = IncidentStatus::Redirected;
    from.redirected_to = Some(into.id);
    Ok(Merged {
        survivor: into.id,
        redirected: from.id,
        changed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::open;
    use crate::testing::{alert, at, id, tenant};
    use vigil_core::Severity;

    fn pair() -> (Incident, Incident) {
        let older = open(id(1), &alert(1, "Recon", Severity::Low, &["device:ws1"], 0));
        let younger = open(
            id(2),
            &alert(
                2,
                "Ransomware",
                Severity::Critical,
                &["device:ws2", "user:bob"],
                5,
            ),
        );
        (older, younger)
    }

    #[test]
    fn the_older_incident_keeps_its_id_whichever_way_round_they_are_passed() {
        let (mut older, mut younger) = pair();
        let m = merge(&mut younger, &mut older).expect("merges");
        assert_eq!(m.survivor, id(1));
        assert_eq!(m.redirected, id(2));
        assert!(m.changed);
        assert_eq!(younger.status, IncidentStatus::Redirected);
        assert_eq!(younger.redirected_to, Some(id(1)));
        assert_eq!(older.merged, [id(2)]);
        assert_eq!(older.alert_count, 2);
        assert_eq!(older.severity(), Severity::Critical);
        assert_eq!(
            older.last_activity,
            at(5) + jiff::SignedDuration::from_mins(10)
        );
        assert_eq!(
            older.title,
            "Ransomware and 1 more on 2 devices involving bob"
        );
    }

    #[test]
    fn merging_the_same_two_again_changes_nothing() {
        let (mut older, mut younger) = pair();
        merge(&mut older, &mut younger).expect("merges");
        let (o, y) = (older.clone(), younger.clone());
        let again = merge(&mut older, &mut younger).expect("idempotent");
        assert!(!again.changed);
        assert_eq!((older, younger), (o, y));
    }

    #[test]
    fn a_merge_across_tenants_into_itself_or_of_a_redirected_incident_is_refused() {
        let (mut older, mut younger) = pair();
        let mut stranger = open(id(3), &{
            let mut a = alert(3, "X", Severity::Low, &["device:ws1"], 0);
            a.tenant_id = tenant(2);
            a
        });
        assert_eq!(
            merge(&mut older, &mut stranger),
            Err(MergeError::Tenants(id(1), id(3)))
        );
        let mut copy = older.clone();
        assert_eq!(merge(&mut older, &mut copy), Err(MergeError::Same));
        let mut third = open(id(4), &alert(4, "Y", Severity::Low, &["device:ws9"], 0));
        merge(&mut older, &mut younger).expect("merges");
        assert_eq!(
            merge(&mut younger, &mut third),
            Err(MergeError::AlreadyRedirected {
                incident: id(2),
                into: id(1)
            })
        );
    }

    #[test]
    fn the_survivors_analyst_severity_wins_then_the_merged_ones() {
        let (mut older, mut younger) = pair();
        younger.analyst_severity = Some(Severity::Medium);
        merge(&mut older, &mut younger).expect("merges");
        assert_eq!(older.severity(), Severity::Medium);
    }

    #[test]
    fn merged_ids_carry_over_so_the_survivor_lists_every_incident_folded_into_it() {
        let (mut older, mut younger) = pair();
        let mut youngest = open(id(3), &alert(3, "Z", Severity::Low, &["device:ws3"], 1));
        merge(&mut younger, &mut youngest).expect("merges");
        merge(&mut older, &mut younger).expect("merges");
        assert_eq!(older.merged, [id(2), id(3)]);
        assert_eq!(older.alert_count, 3);
    }
}
