use vigil_core::Severity;
use vigil_core::tenant::{
    Channel, ChannelKind, Contact, IrProvider, Lifecycle, Secret, SettingChange, TenantName,
    parse_duration,
};
use vigil_service::{Principal, Service};

use crate::cli::{SetArgs, SpecError, TenantCommand, key_values};
use crate::output;

pub async fn run(
    command: TenantCommand,
    service: &Service,
    actor: &Principal,
) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { slug, name, out } => {
            let t = service.create_tenant(actor, &slug, &name).await?;
            output::tenant(&t, out.json)
        }
        TenantCommand::List(out) => {
            let tenants = service.list_tenants(actor).await?;
            output::tenant_list(&tenants, out.json)
        }
        TenantCommand::Show { slug, out } => {
            let (t, readiness) = service.tenant_overview(actor, &slug).await?;
            if out.json {
                let mut v = output::tenant_json(&t);
                // Only once assessed: the tenant as stored otherwise.
                if let Some(a) = &readiness {
                    v["readiness"] = serde_json::json!({"id": a.id, "run_at": a.run_at,
                        "score": a.score, "ready": a.ready, "failing": a.failing()});
                }
                return output::emit_json(&v);
            }
            output::tenant(&t, false)?;
            let line = match readiness {
                None => "not assessed yet".to_owned(),
                Some(a) => format!(
                    "{}, score {:.1} at {}{}",
                    if a.ready { "ready" } else { "not ready" },
                    a.score,
                    a.run_at,
                    if a.failing().is_empty() {
                        String::new()
                    } else {
                        format!("; failing: {}", a.failing().join(", "))
                    }
                ),
            };
            output::emit(&format!("{:<22} {line}", "readiness"))
        }
        TenantCommand::Set(args) => {
            let changes = changes(&args)?;
            let (t, applied) = service.update_tenant(actor, &args.slug, &changes).await?;
            output::tenant_changed(&t, &applied, args.out.json)
        }
        TenantCommand::Transition {
            slug,
            to,
            override_reason,
            out,
        } => {
            let to: Lifecycle = to.parse().map_err(|e| SpecError {
                flag: "--to",
                value: to.clone(),
                reason: format!("{e}"),
            })?;
            let t = service
                .transition_tenant(actor, &slug, to, override_reason.as_deref())
                .await?;
            output::tenant(&t, out.json)
        }
    }
}

/// Turn the flags of `tenant set` into domain changes, in a fixed order.
pub(crate) fn changes(a: &SetArgs) -> anyhow::Result<Vec<SettingChange>> {
    let mut c = Vec::new();
    if let Some(name) = &a.name {
        c.push(SettingChange::Name(
            TenantName::parse(name).map_err(spec("--name", name))?,
        ));
    }
    if let Some(mode) = &a.authorisation {
        c.push(SettingChange::Authorisation(
            mode.parse().map_err(spec("--authorisation", mode))?,
        ));
    }
    for s in &a.remove_exclusion {
        c.push(SettingChange::RemoveExclusion(
            s.parse().map_err(spec("--remove-exclusion", s))?,
        ));
    }
    for s in &a.add_exclusion {
        c.push(SettingChange::AddExclusion(
            s.parse().map_err(spec("--add-exclusion", s))?,
        ));
    }
    if a.exclusions_reviewed {
        c.push(SettingChange::ExclusionsReviewed);
    }
    if a.coverage_all {
        c.push(SettingChange::CoverageAll);
    }
    for s in &a.add_coverage {
        c.push(SettingChange::AddCoverage(
            s.parse().map_err(spec("--add-coverage", s))?,
        ));
    }
    for s in &a.remove_coverage {
        c.push(SettingChange::RemoveCoverage(
            s.parse().map_err(spec("--remove-coverage", s))?,
        ));
    }
    for s in &a.remove_contact {
        c.push(SettingChange::RemoveContact(s.clone()));
    }
    for s in &a.add_contact {
        c.push(SettingChange::AddContact(contact(s)?));
    }
    for s in &a.remove_channel {
        c.push(SettingChange::RemoveChannel(s.clone()));
    }
    for s in &a.add_channel {
        c.push(SettingChange::AddChannel(channel(s)?));
    }
    for s in &a.sla {
        c.push(sla(s)?);
    }
    if a.clear_ir_provider {
        c.push(SettingChange::ClearIrProvider);
    }
    if let (Some(name), Some(contact), Some(engagement)) =
        (&a.ir_name, &a.ir_contact, &a.ir_engagement)
    {
        c.push(SettingChange::IrProvider(IrProvider {
            name: name.clone(),
            contact: contact.clone(),
            engagement: engagement.clone(),
        }));
    }
    if let Some(d) = a.learning_period_days {
        c.push(SettingChange::LearningPeriodDays(d));
    }
    if let Some(d) = a.grace_period_days {
        c.push(SettingChange::GracePeriodDays(d));
    }
    if let Some(d) = a.retention_days {
        c.push(SettingChange::RetentionDays(d));
    }
    if let Some(h) = a.incident_window_hours {
        c.push(SettingChange::IncidentWindowHours(h));
    }
    Ok(c)
}

fn spec<E: std::fmt::Display>(flag: &'static str, value: &str) -> impl FnOnce(E) -> SpecError {
    let value = value.to_owned();
    move |e| SpecError {
        flag,
        value,
        reason: e.to_string(),
    }
}

fn contact(s: &str) -> Result<Contact, SpecError> {
    const FLAG: &str = "--add-contact";
    let pairs = key_values(FLAG, s, &["kind", "name", "email", "phone", "priority"])?;
    let get = |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let missing = |k: &str| SpecError {
        flag: FLAG,
        value: s.to_owned(),
        reason: format!("{k}= is required"),
    };
    let kind = get("kind")
        .unwrap_or("incident")
        .parse()
        .map_err(spec(FLAG, s))?;
    let priority = match get("priority") {
        Some(p) => p.parse().map_err(spec(FLAG, s))?,
        None => 1,
    };
    Ok(Contact {
        kind,
        name: get("name").ok_or_else(|| missing("name"))?.to_owned(),
        email: get("email").map(str::to_owned),
        phone: get("phone").map(str::to_owned),
        priority,
    })
}

fn channel(s: &str) -> Result<Channel, SpecError> {
    const FLAG: &str = "--add-channel";
    let pairs = key_values(FLAG, s, &["name", "kind", "to", "url", "format", "secret"])?;
    let get = |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let need = |k: &str| {
        get(k).ok_or_else(|| SpecError {
            flag: FLAG,
            value: s.to_owned(),
            reason: format!("{k}= is required"),
        })
    };
    let kind = match need("kind")? {
        "email" => ChannelKind::Email {
            to: need("to")?
                .split(';')
                .map(|a| a.trim().to_owned())
                .collect(),
        },
        "webhook" => ChannelKind::Webhook {
            url: need("url")?.to_owned(),
            format: get("format")
                .unwrap_or("generic")
                .parse()
                .map_err(spec(FLAG, s))?,
            secret: Secret::new(need("secret")?),
        },
        other => {
            return Err(SpecError {
                flag: FLAG,
                value: s.to_owned(),
                reason: format!("unknown kind {other:?}; expected email or webhook"),
            });
        }
    };
    Ok(Channel {
        name: need("name")?.to_owned(),
        kind,
    })
}

fn sla(s: &str) -> Result<SettingChange, SpecError> {
    const FLAG: &str = "--sla";
    let fail = |reason: String| SpecError {
        flag: FLAG,
        value: s.to_owned(),
        reason,
    };
    let (sev, times) = s
        .split_once('=')
        .ok_or_else(|| fail("expected SEVERITY=ACKNOWLEDGE/COMPLETE, e.g. high=1h/4h".into()))?;
    let severity: Severity = sev.trim().parse().map_err(|e| fail(format!("{e}")))?;
    let (ack, done) = times
        .split_once('/')
        .ok_or_else(|| fail("expected ACKNOWLEDGE/COMPLETE, e.g. 1h/4h".into()))?;
    let duration = |t: &str| parse_duration(t).map_err(&fail);
    Ok(SettingChange::Sla {
        severity,
        acknowledge: duration(ack)?,
        complete: duration(done)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::tenant::{ContactKind, WebhookFormat};

    #[test]
    fn contact_specs_become_contacts() {
        let c =
            contact("kind=service_review,name=Bob,email=bob@acme.example,priority=2").expect("ok");
        assert_eq!(c.kind, ContactKind::ServiceReview);
        assert_eq!(c.priority, 2);
        assert!(
            contact("email=bob@acme.example")
                .expect_err("no name")
                .to_string()
                .contains("name=")
        );
    }

    #[test]
    fn channel_specs_become_channels() {
        let ch = channel(
            "name=soar,kind=webhook,url=https://x.example/h,format=teams,secret=0123456789abcdef",
        )
        .expect("ok");
        assert!(matches!(
            ch.kind,
            ChannelKind::Webhook {
                format: WebhookFormat::Teams,
                ..
            }
        ));
        let ch = channel("name=mail,kind=email,to=a@x.example;b@x.example").expect("ok");
        assert!(matches!(ch.kind, ChannelKind::Email { ref to } if to.len() == 2));
        assert!(channel("name=x,kind=pager").is_err());
    }

    #[test]
    fn sla_specs_need_a_severity_and_two_durations() {
        let SettingChange::Sla {
            severity,
            acknowledge,
            complete,
        } = sla("high=30m/4h").expect("ok")
        else {
            panic!("not an sla change")
        };
        assert_eq!(severity, Severity::High);
        assert_eq!(acknowledge, jiff::SignedDuration::from_mins(30));
        assert_eq!(complete, jiff::SignedDuration::from_hours(4));
        assert!(sla("high=30m").is_err());
        assert!(sla("urgent=1h/2h").is_err());
        assert!(sla("high=soon/later").is_err());
    }
}
