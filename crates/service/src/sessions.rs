//! Portal sign-in: sessions, the wrong-password lockout, sign-out and
//! password change.

use serde_json::json;
use vigil_core::Timestamp;
use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::identity::{Principal, User};
use vigil_core::session::{LoginFailures, Session, SessionId};

use crate::identity::{NewSecret, hash_password, random_secret, secret_hash, verify_hash};
use crate::{Result, Service, ServiceError};

/// A session as its owner sees it at sign-in; the secret goes in the cookie.
#[derive(Debug)]
pub struct SignedIn {
    pub secret: NewSecret,
    pub session: Session,
    pub user: User,
}

/// The token a form or script must send back with a state-changing request
/// made with this session: derived from the session's secret, so a page
/// that cannot read the cookie cannot make it.
pub fn csrf_token(session_secret: &str) -> String {
    secret_hash(&format!("vigil-csrf\0{session_secret}"))
}

/// Compare two tokens in time that does not depend on where they differ.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Service {
    /// Sign in with email and password from `source` (the client address,
    /// for the audit log). Unknown email and wrong password answer alike;
    /// too many wrong passwords lock the email for a while, right password
    /// or not.
    pub async fn login(&self, email: &str, password: &str, source: &str) -> Result<SignedIn> {
        let email = email.trim().to_ascii_lowercase();
        let now = self.clock.now();
        let failures = self.store.login_failures(&email).await?;
        if let Some(until) = failures.and_then(|f| f.locked_at(now)) {
            return Err(ServiceError::LockedOut { until });
        }
        let user = match self.verify_password(&email, password).await {
            Ok(Principal::User { .. }) => self.load_user(&email).await?,
            Ok(_) | Err(ServiceError::Unauthenticated) => {
                return Err(self.count_failure(&email, failures, now, source).await);
            }
            Err(e) => return Err(e),
        };
        let secret = random_secret("vgs_")?;
        let session = Session {
            id: SessionId::new_at(now),
            user_id: user.id,
            created_at: now,
            expires_at: now
                .checked_add(self.login_policy.session_lifetime)
                .map_err(|_| ServiceError::Conflict("session lifetime out of range".into()))?,
            revoked_at: None,
        };
        let audit = AuditEntry::new(
            now,
            &Actor::User(user.email.clone()),
            "session.create",
            user.tenant_id,
            format!("user:{}", user.email),
            json!({"session": session.id, "source": source, "expires_at": session.expires_at}),
        );
        self.store
            .insert_session(&session, &secret_hash(secret.expose()), &email, audit)
            .await?;
        tracing::info!(user = %user.email, "signed in");
        Ok(SignedIn {
            secret,
            session,
            user,
        })
    }

    /// Record a wrong password; the error to answer with.
    async fn count_failure(
        &self,
        email: &str,
        previous: Option<LoginFailures>,
        now: Timestamp,
        source: &str,
    ) -> ServiceError {
        let state = LoginFailures::after_failure(previous, now, &self.login_policy);
        let locked = state.locked_at(now);
        let action = if locked.is_some() {
            "login.locked"
        } else {
            "login.failed"
        };
        let audit = AuditEntry::new(
            now,
            &Actor::User(email.to_owned()),
            action,
            None,
            format!("login:{email}"),
            json!({"source": source, "failures": state.count, "locked_until": state.locked_until}),
        );
        if let Err(e) = self.store.record_login_failure(email, &state, audit).await {
            return e.into();
        }
        tracing::warn!(email, source, locked = locked.is_some(), "sign-in failed");
        match locked {
            Some(until) => ServiceError::LockedOut { until },
            None => ServiceError::Unauthenticated,
        }
    }

    /// The principal and session a session secret stands for.
    pub async fn authenticate_session(&self, secret: &str) -> Result<(Principal, Session)> {
        match self.store.session_by_hash(&secret_hash(secret)).await? {
            Some((session, user)) if session.is_live(self.clock.now()) && !user.disabled => {
                Ok((Principal::user(&user), session))
            }
            _ => Err(ServiceError::Unauthenticated),
        }
    }

    /// Sign out: the session secret stops working.
    pub async fn logout(&self, secret: &str) -> Result<()> {
        let (principal, session) = self.authenticate_session(secret).await?;
        let now = self.clock.now();
        let audit = AuditEntry::new(
            now,
            &principal.actor(),
            "session.revoke",
            principal_tenant(&principal),
            target(&principal),
            json!({"session": session.id}),
        );
        self.store.revoke_session(session.id, now, audit).await?;
        Ok(())
    }

    /// Change the acting user's own password. Every other session of the
    /// user ends; `keep` (the session asking) stays signed in.
    pub async fn change_password(
        &self,
        p: &Principal,
        current: &str,
        new: &str,
        keep: Option<SessionId>,
    ) -> Result<()> {
        let Principal::User { email, .. } = p else {
            return Err(ServiceError::Forbidden("change a password (users only)"));
        };
        let Some((user, hash)) = self.store.user_by_email(email).await? else {
            return Err(ServiceError::Unauthenticated);
        };
        if !verify_hash(current, &hash) {
            return Err(ServiceError::WrongPassword);
        }
        if current == new {
            return Err(ServiceError::WeakPassword(
                "the new password must differ from the current one",
            ));
        }
        let new_hash = hash_password(new)?;
        let now = self.clock.now();
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "user.password_change",
            user.tenant_id,
            format!("user:{}", user.email),
            json!({"kept_session": keep}),
        );
        self.store
            .set_password(user.id, &new_hash, keep, now, audit)
            .await?;
        tracing::info!(user = %user.email, "password changed");
        Ok(())
    }
}

fn principal_tenant(p: &Principal) -> Option<vigil_core::TenantId> {
    match p {
        Principal::User { tenant_id, .. } => *tenant_id,
        Principal::IngestKey { tenant_id } => Some(*tenant_id),
        Principal::Operator(_) => None,
    }
}

fn target(p: &Principal) -> String {
    match p {
        Principal::User { email, .. } => format!("user:{email}"),
        other => format!("{:?}", other.actor()),
    }
}
