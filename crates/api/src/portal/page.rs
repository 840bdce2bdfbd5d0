//! What every portal page shares: the templates (embedded at build time,
//! autoescaped), the signed-in viewer, the security headers, and errors
//! rendered as pages. Pages call the service directly, so tenant scope is
//! decided where it is for the API: `Service::authorize`.

use std::sync::OnceLock;

use axum::extract::FromRequestParts;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};
use vigil_core::identity::{Principal, Role};
use vigil_service::{ServiceError, csrf_token, tokens_equal};

use crate::AppState;
use crate::cookies::{SESSION_COOKIE, cookie};
use crate::error::ApiError;

/// The policy every page is served with: scripts and styles from this
/// origin only, so the pages carry no inline script, handler or style.
pub const CSP: &str = crate::headers::CONTENT_SECURITY_POLICY;

static TEMPLATES: OnceLock<minijinja::Environment<'static>> = OnceLock::new();

/// The embedded templates. `.html` templates are autoescaped.
fn templates() -> &'static minijinja::Environment<'static> {
    TEMPLATES.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        minijinja_embed::load_templates!(env);
        env.add_global("asset_v", super::assets::version());
        env
    })
}

/// Security and caching headers of a page.
pub fn page_headers(h: &mut HeaderMap) {
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
}

/// A portal page's failure, shown as a page.
#[derive(Debug)]
pub enum PortalError {
    /// Not signed in: to the sign-in page.
    SignIn,
    /// A form without this session's CSRF token.
    Csrf,
    /// Anything the service or the request refused, with its status.
    Api(ApiError),
    /// A template failed to render (a bug; logged).
    Render(String),
}

impl From<ServiceError> for PortalError {
    fn from(e: ServiceError) -> Self {
        PortalError::Api(e.into())
    }
}

impl From<ApiError> for PortalError {
    fn from(e: ApiError) -> Self {
        PortalError::Api(e)
    }
}

impl PortalError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        PortalError::Api(ApiError::new(StatusCode::BAD_REQUEST, "invalid", message))
    }

    pub fn not_found(what: &str) -> Self {
        PortalError::Api(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        ))
    }
}

/// A bare page (no viewer: errors, sign-in).
fn bare(status: StatusCode, title: &str, message: &str) -> Response {
    let html = templates()
        .get_template("error.html")
        .and_then(|t| t.render(context! { title, message }))
        .unwrap_or_else(|_| format!("<!doctype html><title>{status}</title><p>{status}</p>"));
    let mut r = (status, html).into_response();
    page_headers(r.headers_mut());
    r
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        match self {
            PortalError::SignIn => redirect("/login"),
            PortalError::Csrf => bare(
                StatusCode::FORBIDDEN,
                "Refused",
                "This form did not come from your Vigil session. Go back, reload and try again.",
            ),
            PortalError::Api(e) => {
                let title = match e.status {
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::CONFLICT => "Refused",
                    StatusCode::BAD_REQUEST => "Invalid",
                    _ => "Error",
                };
                bare(e.status, title, &e.message)
            }
            PortalError::Render(why) => {
                tracing::error!(error = %why, "a portal page failed to render");
                bare(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    "This page failed to render; see the server log.",
                )
            }
        }
    }
}

pub type PageResult = Result<Response, PortalError>;

/// A 303 to `to`.
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// The signed-in user of a portal request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub principal: Principal,
    pub email: String,
    pub role: Role,
    /// This session's CSRF token, for the forms.
    pub csrf: String,
    /// The tenant a customer role belongs to (its slug).
    pub home_tenant: Option<String>,
}

impl Viewer {
    pub fn provider(&self) -> bool {
        self.role.is_provider()
    }

    /// Whether the viewer's role may do this at all (to offer only the
    /// forms it may send; the service decides again on each post).
    pub fn may(&self, perm: vigil_core::identity::Permission) -> bool {
        let own = match &self.principal {
            Principal::User { tenant_id, .. } => *tenant_id,
            _ => None,
        };
        matches!(
            vigil_core::identity::authorize(&self.principal, perm, own),
            vigil_core::identity::Decision::Allow { .. }
        )
    }

    /// Refuse a form without this session's token.
    pub fn check(&self, sent: &str) -> Result<(), PortalError> {
        if tokens_equal(sent, &self.csrf) {
            Ok(())
        } else {
            Err(PortalError::Csrf)
        }
    }

    /// Render `name` with `ctx` and the layout's values (who, navigation).
    pub fn render(&self, name: &str, active: &str, ctx: Value) -> PageResult {
        let me = context! {
            email => self.email,
            role => self.role.as_str(),
            provider => self.provider(),
            csrf => self.csrf,
            home_tenant => self.home_tenant,
            may_work => self.may(vigil_core::identity::Permission::WorkIncidents),
            may_comment => self.may(vigil_core::identity::Permission::CommentIncidents),
            may_acknowledge => self.may(vigil_core::identity::Permission::AcknowledgeResponse),
            may_recommend => self.may(vigil_core::identity::Permission::UpdateRecommendations),
            may_users => self.may(vigil_core::identity::Permission::ManageUsers),
            may_settings => self.may(vigil_core::identity::Permission::EditCustomerSettings),
            may_readiness => self.may(vigil_core::identity::Permission::RunReadiness),
            may_hunt => self.may(vigil_core::identity::Permission::Hunt),
            active,
        };
        let html = templates()
            .get_template(name)
            .and_then(|t| t.render(context! { me, ..ctx }))
            .map_err(|e| PortalError::Render(format!("{name}: {e:#}")))?;
        let mut r = (StatusCode::OK, html).into_response();
        page_headers(r.headers_mut());
        Ok(r)
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PortalError> {
        let secret = cookie(&parts.headers, SESSION_COOKIE).ok_or(PortalError::SignIn)?;
        let (principal, _) = state
            .service
            .authenticate_session(secret)
            .await
            .map_err(|_| PortalError::SignIn)?;
        let Principal::User {
            email,
            role,
            tenant_id,
            ..
        } = &principal
        else {
            return Err(PortalError::SignIn);
        };
        let home_tenant = match tenant_id {
            Some(_) => state
                .service
                .list_tenants(&principal)
                .await?
                .into_iter()
                .next()
                .map(|t| t.slug.to_string()),
            None => None,
        };
        Ok(Viewer {
            email: email.clone(),
            role: *role,
            csrf: csrf_token(secret),
            home_tenant,
            principal,
        })
    }
}
