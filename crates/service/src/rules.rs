//! Rule packs and per-tenant tuning: which rules run for a tenant, and
//! which of their matches the tenant does not want alerted.

use serde_json::json;
use vigil_core::audit::AuditEntry;
use vigil_core::identity::{Permission, Principal};
use vigil_core::rules::{Exclusion, Matcher, RuleFile, RuleSummary, Tuning};
use vigil_core::{Severity, TenantId};
use vigil_sigma::Diagnostic;

use crate::{Result, Service, ServiceError};

/// The name Vigil's own pack is stored under.
pub const BUILTIN_PACK: &str = "vigil";

/// What adding a pack found.
#[derive(Debug, Clone, Default)]
pub struct PackReport {
    pub files: usize,
    pub detection_rules: usize,
    pub correlation_rules: usize,
    /// Rules that could not be loaded, each naming its file and reason.
    pub diagnostics: Vec<Diagnostic>,
}

/// A rule and whether it runs for the tenant asked about.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TenantRule {
    #[serde(flatten)]
    pub rule: RuleSummary,
    pub enabled: bool,
}

/// Load the files of a pack, summarising each rule.
pub fn summarise(pack: &str, files: &[RuleFile]) -> (Vec<RuleSummary>, PackReport) {
    let mut rules = Vec::new();
    let mut report = PackReport {
        files: files.len(),
        ..Default::default()
    };
    let mut seen = std::collections::HashSet::new();
    for f in files {
        let set = vigil_sigma::load_str(&f.yaml, &f.path);
        report.diagnostics.extend(set.diagnostics);
        let detections = set.rules.iter().map(|r| (r.info.clone(), "detection"));
        let correlations = set
            .correlations
            .iter()
            .map(|(c, p)| (vigil_detect::stream::correlation_info(c, p), "correlation"));
        for (info, kind) in detections.chain(correlations) {
            if !seen.insert(info.id.clone()) {
                report.diagnostics.push(Diagnostic {
                    kind: vigil_sigma::DiagnosticKind::Invalid,
                    path: f.path.clone().into(),
                    rule: Some(info.id.clone()),
                    reason: "another rule of the pack has this id; skipped".into(),
                });
                continue;
            }
            if kind == "detection" {
                report.detection_rules += 1;
            } else {
                report.correlation_rules += 1;
            }
            rules.push(RuleSummary {
                id: info.id,
                pack: pack.to_owned(),
                path: f.path.clone(),
                title: info.title,
                level: info.level,
                kind,
            });
        }
    }
    (rules, report)
}

impl Service {
    /// Add a rule pack (or replace the pack of that name). Its rules run
    /// for every tenant unless a tenant turns them off.
    pub async fn add_rule_pack(
        &self,
        p: &Principal,
        name: &str,
        source: &str,
        files: Vec<RuleFile>,
    ) -> Result<PackReport> {
        self.authorize(p, Permission::ManageRulePacks, None, false)
            .await?;
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(ServiceError::Conflict(
                "a pack name has 1 to 100 characters".into(),
            ));
        }
        let files: Vec<RuleFile> = files
            .into_iter()
            .map(|f| RuleFile {
                pack: name.to_owned(),
                ..f
            })
            .collect();
        let (rules, report) = summarise(name, &files);
        let audit = AuditEntry::new(
            self.clock.now(),
            &p.actor(),
            "rules.pack_add",
            None,
            format!("rule_pack:{name}"),
            json!({
                "source": source,
                "files": report.files,
                "detection_rules": report.detection_rules,
                "correlation_rules": report.correlation_rules,
                "diagnostics": report.diagnostics.len(),
            }),
        );
        self.store
            .put_rule_pack(name, source, &files, &rules, audit)
            .await?;
        tracing::info!(pack = name, rules = rules.len(), "rule pack added");
        Ok(report)
    }

    /// Every rule; with a tenant, whether each runs for it.
    pub async fn list_rules(&self, p: &Principal, tenant: Option<&str>) -> Result<Vec<TenantRule>> {
        let tuning = match tenant {
            Some(slug) => {
                let t = self.load_tenant(slug).await?;
                self.authorize(p, Permission::ReadTenant, Some(&t), true)
                    .await?;
                self.store.tuning(t.id).await?
            }
            None => {
                // The provider's catalogue.
                self.authorize(p, Permission::ManageRulePacks, None, false)
                    .await
                    .or_else(|e| match p {
                        Principal::User { role, .. } if role.is_provider() => Ok(()),
                        _ => Err(e),
                    })?;
                Tuning::default()
            }
        };
        Ok(self
            .store
            .list_rules()
            .await?
            .into_iter()
            .map(|rule| TenantRule {
                enabled: !tuning.disabled.contains(&rule.id),
                rule,
            })
            .collect())
    }

    async fn known_rule(&self, rule_id: &str) -> Result<RuleSummary> {
        self.store
            .list_rules()
            .await?
            .into_iter()
            .find(|r| r.id == rule_id)
            .ok_or_else(|| ServiceError::NotFound {
                what: "rule",
                key: rule_id.to_owned(),
            })
    }

    /// Turn a rule on or off for a tenant.
    pub async fn set_rule_enabled(
        &self,
        p: &Principal,
        tenant: &str,
        rule_id: &str,
        enabled: bool,
    ) -> Result<()> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::TuneDetection, Some(&t), false)
            .await?;
        let rule = self.known_rule(rule_id).await?;
        let now = self.clock.now();
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            if enabled {
                "rules.enable"
            } else {
                "rules.disable"
            },
            Some(t.id),
            format!("rule:{}", rule.id),
            json!({"tenant": t.slug, "title": rule.title}),
        );
        self.store
            .set_rule_enabled(t.id, &rule.id, enabled, now, audit)
            .await?;
        Ok(())
    }

    /// Add a tuning exclusion: matches of `rule_id` (or every rule) where
    /// the event's `matcher` has `value` are not alerted for the tenant.
    pub async fn add_exclusion(
        &self,
        p: &Principal,
        tenant: &str,
        rule_id: Option<&str>,
        matcher: &str,
        value: &str,
        reason: &str,
    ) -> Result<Exclusion> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::TuneDetection, Some(&t), false)
            .await?;
        if let Some(r) = rule_id {
            self.known_rule(r).await?;
        }
        let matcher = Matcher::parse(matcher).map_err(|reason| {
            ServiceError::InvalidSetting(vigil_core::tenant::SettingsError::Invalid {
                setting: "exclusion matcher",
                reason,
            })
        })?;
        if value.trim().is_empty() || reason.trim().is_empty() {
            return Err(ServiceError::InvalidSetting(
                vigil_core::tenant::SettingsError::Invalid {
                    setting: "exclusion",
                    reason: "give a value and a reason".into(),
                },
            ));
        }
        let now = self.clock.now();
        let mut exclusion = Exclusion {
            id: 0,
            tenant_id: t.id,
            rule_id: rule_id.map(str::to_owned),
            matcher,
            value: value.trim().to_owned(),
            reason: reason.trim().to_owned(),
            created_at: now,
            created_by: p.actor().to_text(),
        };
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "rules.exclusion_add",
            Some(t.id),
            format!("tenant:{}", t.slug),
            json!({
                "rule": exclusion.rule_id,
                "matcher": exclusion.matcher.to_text(),
                "value": exclusion.value,
                "reason": exclusion.reason,
            }),
        );
        exclusion.id = self.store.add_exclusion(&exclusion, audit).await?;
        Ok(exclusion)
    }

    /// A tenant's exclusions.
    pub async fn list_exclusions(&self, p: &Principal, tenant: &str) -> Result<Vec<Exclusion>> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&t), true)
            .await?;
        Ok(self.store.tuning(t.id).await?.exclusions)
    }

    /// Remove one of a tenant's exclusions.
    pub async fn remove_exclusion(&self, p: &Principal, tenant: &str, id: i64) -> Result<()> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::TuneDetection, Some(&t), false)
            .await?;
        let audit = AuditEntry::new(
            self.clock.now(),
            &p.actor(),
            "rules.exclusion_remove",
            Some(t.id),
            format!("tenant:{}", t.slug),
            json!({"exclusion": id}),
        );
        self.store.remove_exclusion(t.id, id, audit).await?;
        Ok(())
    }

    /// Store Vigil's own pack (`vigil-rules`) as the pack `vigil`, when
    /// the stored one differs from the one this binary carries. Returns
    /// whether it was (re)installed.
    pub async fn install_builtin_rules(&self) -> Result<bool> {
        let stored: Vec<(String, String)> = self
            .store
            .rule_files()
            .await?
            .into_iter()
            .filter(|f| f.pack == BUILTIN_PACK)
            .map(|f| (f.path, f.yaml))
            .collect();
        let shipped: Vec<(String, String)> = vigil_rules::builtin()
            .iter()
            .map(|(path, yaml)| ((*path).to_owned(), (*yaml).to_owned()))
            .collect();
        if stored == shipped {
            return Ok(false);
        }
        let files = shipped
            .into_iter()
            .map(|(path, yaml)| RuleFile {
                pack: BUILTIN_PACK.to_owned(),
                path,
                yaml,
            })
            .collect();
        let system = Principal::Operator("vigil".into());
        self.add_rule_pack(&system, BUILTIN_PACK, "built in", files)
            .await?;
        Ok(true)
    }

    /// Every stored rule file (for building the detection engine).
    pub async fn rule_files(&self) -> Result<Vec<RuleFile>> {
        Ok(self.store.rule_files().await?)
    }

    /// Changes whenever a rule pack is added or replaced.
    pub async fn rules_version(&self) -> Result<(i64, i64, i64)> {
        Ok(self.store.rules_version().await?)
    }

    pub(crate) async fn tuning_of(&self, tenant: TenantId) -> Result<Tuning> {
        Ok(self.store.tuning(tenant).await?)
    }
}

/// The severity a rule's level gives an alert.
pub(crate) fn severity_of(level: Severity) -> Severity {
    level
}
