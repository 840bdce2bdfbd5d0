//! `/api/v1/tenants`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use vigil_core::tenant::{
    AssetRef, Channel, Contact, IrProvider, Lifecycle, SettingChange, TenantName, parse_duration,
};

use crate::error::ApiError;
use crate::{AppState, Caller};

/// The tenants the caller may see.
#[utoipa::path(get, path = "/api/v1/tenants", operation_id = "list_tenants", tag = "tenants",
    responses((status = 200, description = "Tenants, secrets redacted", body = serde_json::Value),
               (status = 401, description = "No valid credential")))]
pub async fn list(State(s): State<AppState>, Caller(p): Caller) -> Result<Json<Value>, ApiError> {
    let tenants = s.service.list_tenants(&p).await?;
    Ok(Json(Value::Array(
        tenants.iter().map(|t| t.redacted_json()).collect(),
    )))
}

/// One tenant with its settings.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", operation_id = "get_tenant", tag = "tenants",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "The tenant, secrets redacted, with `readiness`: the latest assessment's `score`, `ready` and `failing` checks (null before the first)", body = serde_json::Value),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (t, latest) = s.service.tenant_overview(&p, &tenant).await?;
    let mut v = t.redacted_json();
    v["readiness"] = latest
        .as_ref()
        .map_or(Value::Null, crate::readiness::overview_json);
    Ok(Json(v))
}

/// The body of `POST /api/v1/tenants`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    pub slug: String,
    pub name: String,
}

/// Create a tenant in `onboarding` (provider admins).
#[utoipa::path(post, path = "/api/v1/tenants", operation_id = "create_tenant", tag = "tenants", request_body = CreateTenant,
    responses((status = 201, description = "Created", body = serde_json::Value),
               (status = 400, description = "Invalid slug, name or body"),
               (status = 403, description = "Your role may not create tenants"),
               (status = 409, description = "The slug is taken")))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<CreateTenant>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    let t = s.service.create_tenant(&p, &body.slug, &body.name).await?;
    Ok((StatusCode::CREATED, Json(t.redacted_json())))
}

/// The body of `POST /api/v1/tenants/{tenant}/lifecycle`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// `monitoring`, `live`, `offboarding` or `deleted`.
    pub to: String,
    /// Lifts the learning or grace period, or (provider admins) blocking
    /// readiness failures; recorded in the audit log.
    pub override_reason: Option<String>,
}

/// Move the tenant through its lifecycle.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/lifecycle", operation_id = "transition_tenant", tag = "tenants",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    request_body = Transition,
    responses((status = 200, description = "The tenant after the move", body = serde_json::Value),
               (status = 403, description = "Your role may not make this move"),
               (status = 404, description = "No such tenant, or not yours"),
               (status = 409, description = "The lifecycle refuses the move")))]
pub async fn transition(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    body: Result<Json<Transition>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    let to: Lifecycle = body
        .to
        .parse()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("to: {e}")))?;
    let t = s
        .service
        .transition_tenant(&p, &tenant, to, body.override_reason.as_deref())
        .await?;
    Ok(Json(t.redacted_json()))
}

/// One change in `PATCH /api/v1/tenants/{tenant}/settings`, tagged by `op`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    SetName {
        name: String,
    },
    /// `guided` or `managed`.
    SetAuthorisation {
        mode: String,
    },
    /// `kind:name`, e.g. `device:DC01`.
    AddExclusion {
        asset: String,
    },
    RemoveExclusion {
        asset: String,
    },
    ExclusionsReviewed,
    CoverageAll,
    AddCoverage {
        asset: String,
    },
    RemoveCoverage {
        asset: String,
    },
    AddContact {
        #[schema(value_type = Object)]
        contact: Value,
    },
    /// By email or name.
    RemoveContact {
        contact: String,
    },
    AddChannel {
        #[schema(value_type = Object)]
        channel: Value,
    },
    RemoveChannel {
        name: String,
    },
    /// Durations such as `15m`, `4h`, `2d`.
    SetSla {
        severity: String,
        acknowledge: String,
        complete: String,
    },
    SetIrProvider {
        name: String,
        contact: String,
        engagement: String,
    },
    ClearIrProvider,
    SetLearningPeriodDays {
        days: u32,
    },
    SetGracePeriodDays {
        days: u32,
    },
    SetRetentionDays {
        days: u32,
    },
    SetIncidentWindowHours {
        hours: u32,
    },
    /// `{"kind":"manual"}` or `{"kind":"signed_webhook","url":…,"secret":…}`
    /// (secret of 16+ characters; never shown again).
    SetResponseConnector {
        #[schema(value_type = Object)]
        connector: Value,
    },
    /// The major-incident thresholds (docs/major-incidents.md): `hosts`,
    /// `encrypted_files`, `exfiltration_bytes`, `cleared_logs`,
    /// `domain_controllers`, `privileged_users`; absent fields take the
    /// defaults.
    SetMajorThresholds {
        #[schema(value_type = Object)]
        thresholds: Value,
    },
}

/// The body of `PATCH /api/v1/tenants/{tenant}/settings`: changes applied
/// together, all or none.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub changes: Vec<Change>,
}

fn bad(at: usize, field: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid",
        format!("changes[{at}].{field}: {reason}"),
    )
}

fn to_domain(at: usize, c: Change) -> Result<SettingChange, ApiError> {
    use SettingChange as S;
    let asset = |field: &str, text: &str| -> Result<AssetRef, ApiError> {
        text.parse().map_err(|e| bad(at, field, e))
    };
    Ok(match c {
        Change::SetName { name } => {
            S::Name(TenantName::parse(&name).map_err(|e| bad(at, "name", e))?)
        }
        Change::SetAuthorisation { mode } => {
            S::Authorisation(mode.parse().map_err(|e| bad(at, "mode", e))?)
        }
        Change::AddExclusion { asset: a } => S::AddExclusion(asset("asset", &a)?),
        Change::RemoveExclusion { asset: a } => S::RemoveExclusion(asset("asset", &a)?),
        Change::ExclusionsReviewed => S::ExclusionsReviewed,
        Change::CoverageAll => S::CoverageAll,
        Change::AddCoverage { asset: a } => S::AddCoverage(asset("asset", &a)?),
        Change::RemoveCoverage { asset: a } => S::RemoveCoverage(asset("asset", &a)?),
        Change::AddContact { contact } => S::AddContact(
            serde_json::from_value::<Contact>(contact).map_err(|e| bad(at, "contact", e))?,
        ),
        Change::RemoveContact { contact } => S::RemoveContact(contact),
        Change::AddChannel { channel } => S::AddChannel(
            serde_json::from_value::<Channel>(channel).map_err(|e| bad(at, "channel", e))?,
        ),
        Change::RemoveChannel { name } => S::RemoveChannel(name),
        Change::SetSla {
            severity,
            acknowledge,
            complete,
        } => S::Sla {
            severity: severity.parse().map_err(|e| bad(at, "severity", e))?,
            acknowledge: parse_duration(&acknowledge).map_err(|e| bad(at, "acknowledge", e))?,
            complete: parse_duration(&complete).map_err(|e| bad(at, "complete", e))?,
        },
        Change::SetIrProvider {
            name,
            contact,
            engagement,
        } => S::IrProvider(IrProvider {
            name,
            contact,
            engagement,
        }),
        Change::ClearIrProvider => S::ClearIrProvider,
        Change::SetLearningPeriodDays { days } => S::LearningPeriodDays(days),
        Change::SetGracePeriodDays { days } => S::GracePeriodDays(days),
        Change::SetRetentionDays { days } => S::RetentionDays(days),
        Change::SetIncidentWindowHours { hours } => S::IncidentWindowHours(hours),
        Change::SetResponseConnector { connector } => S::ResponseConnector(
            serde_json::from_value(connector).map_err(|e| bad(at, "connector", e))?,
        ),
        Change::SetMajorThresholds { thresholds } => S::MajorThresholds(
            serde_json::from_value(thresholds).map_err(|e| bad(at, "thresholds", e))?,
        ),
    })
}

/// Change the tenant's name and settings. Customer admins change what the
/// customer owns (contacts, channels, authorisation, exclusions); provider
/// admins and delivery managers the rest. The answer lists what changed.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/settings", operation_id = "update_tenant_settings", tag = "tenants",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    request_body = SettingsPatch,
    responses((status = 200, description = "`{\"tenant\":…,\"changes\":[{setting,from,to}]}`", body = serde_json::Value),
               (status = 400, description = "An invalid change, named by its index"),
               (status = 403, description = "Your role may not change one of these settings"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn update_settings(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    body: Result<Json<SettingsPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    let changes = body
        .changes
        .into_iter()
        .enumerate()
        .map(|(i, c)| to_domain(i, c))
        .collect::<Result<Vec<_>, _>>()?;
    let (t, applied) = s.service.update_tenant(&p, &tenant, &changes).await?;
    Ok(Json(serde_json::json!({
        "tenant": t.redacted_json(),
        "changes": applied,
    })))
}
