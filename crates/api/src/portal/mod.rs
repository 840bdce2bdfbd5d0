//! The web portal: sign-in (`/login`, `/logout`, `/account/password`),
//! and the pages of the experts and the customers (docs/portal.md).
//! Server-rendered from embedded templates; the session lives in an
//! HttpOnly cookie, and every form post carries a CSRF token (the sign-in
//! form by double submit, the others derived from the session). Pages call
//! the service, which decides tenant scope and audits every change.

mod assets;
mod customer;
mod html;
mod hunt;
mod incident;
mod messages;
mod page;
mod posture;
mod provider;
mod reports;
mod settings;
mod views;

use axum::Router;
use axum::routing::{get, post};

use std::time::Instant;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vigil_core::identity::Principal;
use vigil_core::session::Session;
use vigil_service::{ServiceError, csrf_token, random_token, tokens_equal};

use crate::AppState;
use crate::cookies::{LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, set_cookie};
use crate::error::ApiError;
use crate::limit::ClientAddr;

fn redirect(to: &'static str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut()
        .insert(LOCATION, HeaderValue::from_static(to));
    r
}

fn add_cookie(r: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().append(SET_COOKIE, v);
    }
}

/// The signed-in session of a portal request, with its secret.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<(Principal, Session, String)> {
    let secret = cookie(headers, SESSION_COOKIE)?;
    let (p, s) = state.service.authenticate_session(secret).await.ok()?;
    Some((p, s, secret.to_owned()))
}

/// The sign-in form with a fresh CSRF cookie.
fn login_page(
    state: &AppState,
    status: StatusCode,
    email: &str,
    error: Option<&str>,
) -> Result<Response, ApiError> {
    let token = random_token()?;
    let mut r = html::page(status, "Sign in", &html::login(&token, email, error));
    add_cookie(
        &mut r,
        &set_cookie(
            LOGIN_CSRF_COOKIE,
            &token,
            "/login",
            3600,
            state.secure_cookies,
        ),
    );
    Ok(r)
}

/// `GET /login`
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if signed_in(&state, &headers).await.is_some() {
        return Ok(redirect("/"));
    }
    login_page(&state, StatusCode::OK, "", None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    csrf: String,
    email: String,
    password: String,
}

/// `POST /login`
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, ApiError> {
    if let Err(wait) = state.login_limiter.check(client.0, Instant::now()) {
        tracing::warn!(source = %client.describe(), "sign-in rate limit reached");
        let mut r = login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            "",
            Some("Too many sign-in attempts from your address. Wait a minute and try again."),
        )?;
        r.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        return Ok(r);
    }
    let Form(form) = form?;
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !tokens_equal(expected, &form.csrf) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            &form.email,
            Some("The sign-in form expired or did not come from this site. Please try again."),
        );
    }
    match state
        .service
        .login(&form.email, &form.password, &client.describe())
        .await
    {
        Ok(signed) => {
            let mut r = redirect("/");
            let lifetime = signed
                .session
                .expires_at
                .duration_since(signed.session.created_at)
                .as_secs();
            add_cookie(
                &mut r,
                &set_cookie(
                    SESSION_COOKIE,
                    signed.secret.expose(),
                    "/",
                    lifetime,
                    state.secure_cookies,
                ),
            );
            add_cookie(
                &mut r,
                &set_cookie(LOGIN_CSRF_COOKIE, "", "/login", 0, state.secure_cookies),
            );
            Ok(r)
        }
        Err(ServiceError::Unauthenticated) => login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &form.email,
            Some("Wrong email or password."),
        ),
        Err(ServiceError::LockedOut { until }) => {
            let mut r = login_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &form.email,
                Some(&format!(
                    "Too many wrong passwords: this account is locked until {until}."
                )),
            )?;
            let wait = until.duration_since(state.service.now()).as_secs();
            r.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(wait.max(1)));
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

fn csrf_refused() -> Response {
    html::page(
        StatusCode::FORBIDDEN,
        "Refused",
        "<h1>Refused</h1><p class=\"error\">This form did not come from your Vigil session. Go back, reload and try again.</p>",
    )
}

/// `POST /logout`
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Some((_, _, secret)) = signed_in(&state, &headers).await else {
        return Ok(redirect("/login"));
    };
    let Form(form) = form?;
    if !tokens_equal(&form.csrf, &csrf_token(&secret)) {
        return Ok(csrf_refused());
    }
    state.service.logout(&secret).await?;
    let mut r = redirect("/login");
    add_cookie(
        &mut r,
        &set_cookie(SESSION_COOKIE, "", "/", 0, state.secure_cookies),
    );
    Ok(r)
}

/// `GET /`: the tenant overview for provider roles, the customer's home
/// for customer roles; a signed-out visitor goes to sign in.
pub async fn home(State(state): State<AppState>, viewer: page::Viewer) -> page::PageResult {
    if viewer.provider() {
        provider::overview(&state, &viewer).await
    } else {
        customer::home(&state, &viewer).await
    }
}

/// The portal's routes (sign-in, pages, their forms, static files).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route(
            "/account/password",
            get(password_form).post(change_password),
        )
        .route("/assets/{name}", get(assets::serve))
        .route("/queue", get(provider::queue))
        .route("/messages", get(messages::centre))
        .route("/messages/read", post(messages::mark_read))
        .route("/t/{tenant}/incidents", get(incident::list))
        .route("/t/{tenant}/incidents/{id}", get(incident::show))
        .route(
            "/t/{tenant}/incidents/{id}/summary",
            post(incident::save_summary),
        )
        .route(
            "/t/{tenant}/incidents/{id}/tasks",
            post(incident::create_task),
        )
        .route(
            "/t/{tenant}/incidents/{id}/messages",
            post(incident::post_message),
        )
        .route(
            "/t/{tenant}/incidents/{id}/status",
            post(incident::set_status),
        )
        .route(
            "/t/{tenant}/incidents/{id}/acknowledge",
            post(incident::acknowledge),
        )
        .route(
            "/t/{tenant}/incidents/{id}/ir",
            post(incident::ir_engagement),
        )
        .route(
            "/t/{tenant}/incidents/{id}/verdict",
            post(incident::set_verdict),
        )
        .route("/t/{tenant}/tasks/{task}", post(incident::move_task))
        .route(
            "/t/{tenant}/inquiries",
            get(messages::inquiries).post(messages::ask),
        )
        .route("/t/{tenant}/inquiries/{id}", get(messages::inquiry))
        .route("/t/{tenant}/inquiries/{id}/messages", post(messages::reply))
        .route("/t/{tenant}/inquiries/{id}/close", post(messages::close))
        .route("/hunt", get(hunt::index))
        .route("/t/{tenant}/hunt", get(hunt::editor))
        .route("/t/{tenant}/hunt.csv", get(hunt::csv))
        .route("/t/{tenant}/hunts", post(hunt::save))
        .route("/t/{tenant}/hunts/{id}/delete", post(hunt::delete))
        .route("/t/{tenant}/hunt/summaries", post(hunt::summarise))
        .route("/reports", get(reports::provider))
        .route("/t/{tenant}/reports", get(reports::tenant))
        .route("/t/{tenant}/readiness", get(posture::readiness))
        .route("/t/{tenant}/readiness/run", post(posture::run))
        .route("/t/{tenant}/recommendations", get(posture::recommendations))
        .route("/t/{tenant}/recommendations/{id}", post(posture::update))
        .route(
            "/t/{tenant}/settings",
            get(settings::show).post(settings::change),
        )
}

/// `GET /account/password`
pub async fn password_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((_, _, secret)) = signed_in(&state, &headers).await else {
        return Ok(redirect("/login"));
    };
    let body = html::password(&csrf_token(&secret), None, None);
    Ok(html::page(StatusCode::OK, "Change password", &body))
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    confirm: String,
}

/// `POST /account/password`
pub async fn change_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Some((p, session, secret)) = signed_in(&state, &headers).await else {
        return Ok(redirect("/login"));
    };
    let Form(form) = form?;
    let csrf = csrf_token(&secret);
    if !tokens_equal(&form.csrf, &csrf) {
        return Ok(csrf_refused());
    }
    let again = |status, error: &str| {
        html::page(
            status,
            "Change password",
            &html::password(&csrf, Some(error), None),
        )
    };
    if form.new != form.confirm {
        return Ok(again(
            StatusCode::BAD_REQUEST,
            "The new password and its confirmation differ.",
        ));
    }
    match state
        .service
        .change_password(&p, &form.current, &form.new, Some(session.id))
        .await
    {
        Ok(()) => Ok(html::page(
            StatusCode::OK,
            "Change password",
            &html::password(
                &csrf,
                None,
                Some("Password changed. Your other sessions were signed out."),
            ),
        )),
        Err(e @ (ServiceError::WrongPassword | ServiceError::WeakPassword(_))) => {
            Ok(again(StatusCode::BAD_REQUEST, &e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}
