//! `vigil readiness SLUG` and `vigil onboard SLUG`.

use serde_json::json;
use vigil_core::readiness::{Assessment, CheckStatus};
use vigil_core::tenant::Lifecycle;
use vigil_service::{Onboarding, Principal, Service};

use crate::cli::{OnboardArgs, ReadinessArgs};
use crate::output::{emit, emit_json};

/// The tenant is not ready: the report was printed; exit 3.
#[derive(Debug, thiserror::Error)]
#[error("tenant {slug} is not ready: blocking failures: {}", .blocking.join(", "))]
pub struct NotReady {
    pub slug: String,
    pub blocking: Vec<String>,
}

pub async fn readiness(
    args: ReadinessArgs,
    service: &Service,
    actor: &Principal,
) -> anyhow::Result<()> {
    if args.history {
        let items = service
            .readiness_history(actor, &args.slug, None, vigil_service::MAX_READINESS_PAGE)
            .await?;
        if args.out.json {
            let v: Vec<_> = items
                .iter()
                .map(|a| {
                    json!({"id": a.id, "run_at": a.run_at, "trigger": a.trigger, "score": a.score,
                           "ready": a.ready, "failing": a.failing()})
                })
                .collect();
            return emit_json(&json!(v));
        }
        let mut out = format!(
            "{:<28} {:<11} {:>6}  {:<9} failing\n",
            "run at", "trigger", "score", "ready"
        );
        for a in &items {
            out.push_str(&format!(
                "{:<28} {:<11} {:>6.1}  {:<9} {}\n",
                a.run_at.to_string(),
                a.trigger.as_str(),
                a.score,
                if a.ready { "ready" } else { "not ready" },
                a.failing().join(", ")
            ));
        }
        return emit(&out);
    }
    let a = if args.latest {
        service.readiness(actor, &args.slug).await?.ok_or_else(|| {
            anyhow::anyhow!(
                "no readiness assessment has run for {} yet: run `vigil readiness {}`",
                args.slug,
                args.slug
            )
        })?
    } else {
        service.run_readiness(actor, &args.slug).await?
    };
    if args.out.json {
        emit_json(&json!(a))?;
    } else {
        emit(&report(&args.slug, &a))?;
    }
    if a.ready {
        Ok(())
    } else {
        Err(NotReady {
            slug: args.slug,
            blocking: a
                .blocking_failures()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
        .into())
    }
}

/// Failures first (blocking ones first), then warnings, passes and what
/// does not apply; the evidence and the fix under each that is not a pass.
fn report(slug: &str, a: &Assessment) -> String {
    let mut out = format!(
        "{slug}: {}  score {:.1}  (assessed {}, {})\n",
        if a.ready { "READY" } else { "NOT READY" },
        a.score,
        a.run_at,
        a.trigger
    );
    if !a.ready {
        out.push_str(&format!(
            "blocking failures: {}\n",
            a.blocking_failures().join(", ")
        ));
    }
    out.push('\n');
    let rank = |s: CheckStatus| match s {
        CheckStatus::Fail => 0,
        CheckStatus::Warn => 1,
        CheckStatus::Pass => 2,
        CheckStatus::NotApplicable => 3,
    };
    let mut checks: Vec<_> = a.checks.iter().collect();
    checks.sort_by_key(|c| (rank(c.status), !c.blocking));
    for c in checks {
        let status = match c.status {
            CheckStatus::Pass => "PASS",
            CheckStatus::Warn => "WARN",
            CheckStatus::Fail => "FAIL",
            CheckStatus::NotApplicable => "N/A",
        };
        out.push_str(&format!(
            "{status:<5} {:<9} {:<32} {}\n",
            if c.blocking { "blocking" } else { "" },
            c.id,
            c.title
        ));
        if matches!(c.status, CheckStatus::Fail | CheckStatus::Warn) {
            out.push_str(&format!("      {}\n", c.evidence.summary));
            if !c.evidence.assets.is_empty() {
                let more = if c.evidence.more_assets > 0 {
                    format!(" and {} more", c.evidence.more_assets)
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "      assets: {}{more}\n",
                    c.evidence.assets.join(", ")
                ));
            }
            out.push_str(&format!("      fix: {}\n", c.remediation));
        }
    }
    out
}

pub async fn onboard(
    args: OnboardArgs,
    service: &Service,
    actor: &Principal,
) -> anyhow::Result<()> {
    let slug = args.set.slug.clone();
    let changes = super::tenant::changes(&args.set)?;
    if !changes.is_empty() {
        service.update_tenant(actor, &slug, &changes).await?;
    }
    let moved = if args.start_monitoring {
        Some(
            service
                .transition_tenant(
                    actor,
                    &slug,
                    Lifecycle::Monitoring,
                    args.override_reason.as_deref(),
                )
                .await,
        )
    } else {
        None
    };
    let checklist = service.onboarding(actor, &slug).await?;
    if args.set.out.json {
        emit_json(&json!(checklist))?;
    } else {
        emit(&steps(&checklist))?;
    }
    match moved {
        Some(Err(e)) => Err(e.into()),
        Some(Ok(t)) => {
            if !args.set.out.json {
                emit(&format!("{slug} is now {}", t.lifecycle))?;
            }
            Ok(())
        }
        None => Ok(()),
    }
}

fn steps(o: &Onboarding) -> String {
    let mut out = format!(
        "{}: {} — onboarding {}\n\n",
        o.tenant,
        o.lifecycle,
        if o.complete {
            "complete"
        } else {
            "in progress"
        }
    );
    for s in &o.steps {
        let mark = match (s.done, s.required) {
            (true, _) => "[x]",
            (false, true) => "[ ]",
            (false, false) => "[-]",
        };
        out.push_str(&format!("{mark} {:<28} {}\n", s.title, s.detail));
        if !s.done {
            out.push_str(&format!("    next: {}\n", s.how));
        }
    }
    if o.lifecycle == Lifecycle::Onboarding && o.complete {
        out.push_str(&format!(
            "\nready: start monitoring with `vigil onboard {} --start-monitoring`\n",
            o.tenant
        ));
    }
    out
}
