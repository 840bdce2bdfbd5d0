//! The OpenAPI 3 document, generated from the handlers' annotations and the
//! request types, served at `/api/v1/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{identity, tenants};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Vigil",
        description = "REST API of Vigil, a managed detection and response platform. Every route under /api/v1 needs `Authorization: Bearer <API token>`; errors are `{\"error\":{\"code\",\"message\"}}`. Another tenant's objects answer 404."
    ),
    paths(
        tenants::list,
        tenants::create,
        tenants::show,
        tenants::transition,
        identity::list_users,
        identity::create_user,
        identity::create_ingest_key,
        identity::create_token,
    ),
    components(schemas(
        tenants::CreateTenant,
        tenants::Transition,
        identity::CreateUser,
        identity::CreateIngestKey,
        identity::CreateToken,
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
