//! The OpenAPI 3 document, generated from the handlers' annotations and the
//! request types, served at `/api/v1/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{
    audit, connectors, conversations, hunting, identity, incidents, ingest, live, major, me,
    message_centre, notifications, readiness, recommendations, reports, sla, telemetry, tenants,
};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Vigil",
        description = "REST API of Vigil, a managed detection and response platform. Every route under /api/v1 needs `Authorization: Bearer <API token>`, or the portal's session cookie together with the header `X-CSRF-Token` (from `GET /api/v1/me`) on requests that change state; errors are `{\"error\":{\"code\",\"message\"}}`. Another tenant's objects answer 404."
    ),
    paths(
        tenants::list,
        tenants::create,
        tenants::show,
        tenants::transition,
        tenants::update_settings,
        identity::list_users,
        identity::create_user,
        identity::list_ingest_keys,
        identity::create_ingest_key,
        identity::revoke_ingest_key,
        identity::list_tokens,
        identity::create_token,
        identity::revoke_token,
        audit::all,
        audit::of_tenant,
        me::show,
        me::change_password,
        telemetry::alerts,
        telemetry::alert,
        telemetry::dead_letters,
        telemetry::stats,
        incidents::list,
        incidents::show,
        incidents::update,
        incidents::comment,
        incidents::timeline,
        incidents::process_tree,
        incidents::related,
        incidents::merge,
        incidents::verdict,
        incidents::move_alert,
        incidents::add_tag,
        incidents::summary,
        incidents::save_summary,
        incidents::draft_summary,
        incidents::publish_summary,
        incidents::create_task,
        incidents::list_tasks,
        incidents::show_task,
        incidents::update_task,
        connectors::execute,
        connectors::callback,
        incidents::publish_response,
        incidents::remove_tag,
        notifications::list,
        notifications::show,
        notifications::retry,
        readiness::latest,
        readiness::run,
        readiness::history,
        readiness::onboarding,
        conversations::list_comments,
        conversations::list_incident_messages,
        conversations::post_incident_message,
        conversations::list_inquiries,
        conversations::create_inquiry,
        conversations::show_inquiry,
        conversations::post_inquiry_message,
        conversations::close_inquiry,
        message_centre::list,
        message_centre::list_csv,
        message_centre::mark_read,
        live::stream,
        sla::acknowledge,
        sla::incident_sla,
        sla::breaches,
        reports::service,
        reports::provider,
        recommendations::list,
        recommendations::show,
        recommendations::update,
        recommendations::posture_score,
        major::set_major,
        major::evaluate,
        major::update_engagement,
        major::bundle,
        ingest::events::ingest,
        ingest::bulk::ingest,
        ingest::hec::event,
        ingest::hec::raw,
        hunting::hunt,
        hunting::hunt_all,
        hunting::schema,
        hunting::list_saved,
        hunting::create_saved,
        hunting::show_saved,
        hunting::update_saved,
        hunting::delete_saved,
        hunting::run_saved,
        hunting::list_summaries,
        hunting::create_summary,
    ),
    components(schemas(
        tenants::CreateTenant,
        tenants::Transition,
        tenants::SettingsPatch,
        tenants::Change,
        me::ChangePassword,
        incidents::IncidentPatch,
        incidents::NewComment,
        incidents::MergeBody,
        incidents::VerdictBody,
        incidents::MoveAlert,
        incidents::TagBody,
        incidents::SaveSummary,
        incidents::NewTask,
        incidents::TaskChange,
        connectors::Callback,
        recommendations::RecommendationPatch,
        major::MajorChange,
        major::EngagementChange,
        identity::CreateUser,
        conversations::NewMessage,
        conversations::NewInquiry,
        message_centre::MarkRead,
        identity::CreateIngestKey,
        identity::CreateToken,
        hunting::HuntRequest,
        hunting::SavedHuntBody,
        hunting::SummaryBody,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The document as JSON, for tools and tests.
pub fn document_value() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}
