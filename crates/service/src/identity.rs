//! Users, API tokens and ingest keys: creating them, and turning a
//! presented secret back into a principal.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jiff::SignedDuration;
use serde_json::json;
use sha2::{Digest, Sha256};
use vigil_core::audit::AuditEntry;
use vigil_core::identity::{ApiToken, IngestKey, Permission, Principal, Role, TokenId, User};

use crate::{Result, Service, ServiceError};

/// A secret shown once to its owner and stored only hashed.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSecret(String);

impl NewSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Passwords longer than this are refused (ASVS 2.1.2 asks for at least 64
/// and allows a cap): hashing megabytes of request body per sign-in would
/// be work an attacker chooses.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A fresh random secret: `prefix` and 256 bits as hex.
pub(crate) fn random_secret(prefix: &str) -> Result<NewSecret> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| ServiceError::Random)?;
    let mut secret = String::from(prefix);
    vigil_core::hex::push_lower(&mut secret, &bytes);
    Ok(NewSecret(secret))
}

/// A fresh random value for one-time uses (a form's CSRF cookie).
pub fn random_token() -> Result<String> {
    random_secret("").map(|s| s.0)
}

/// How tokens and keys are stored: SHA-256 (they are long and random, so a
/// slow hash adds nothing).
pub(crate) fn secret_hash(secret: &str) -> String {
    vigil_core::hex::lower(&Sha256::digest(secret.as_bytes()))
}

pub(crate) fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ServiceError::WeakPassword("use at least 12 characters"));
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ServiceError::WeakPassword("use at most 1024 characters"));
    }
    // Argon2id v19 with the crate's recommended parameters and a random salt.
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| ServiceError::WeakPassword("cannot be hashed"))
}

/// Whether `password` matches the stored PHC string.
pub(crate) fn verify_hash(password: &str, hash: &str) -> bool {
    // No stored password is this long: refuse without hashing it.
    if password.len() > MAX_PASSWORD_CHARS * 4 {
        return false;
    }
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl Service {
    /// Create a user. Customer roles belong to `tenant`; provider roles to none.
    pub async fn create_user(
        &self,
        p: &Principal,
        email: &str,
        role: Role,
        tenant: Option<&str>,
        password: &str,
    ) -> Result<User> {
        let tenant = match tenant {
            Some(slug) => Some(self.load_tenant(slug).await?),
            None => None,
        };
        self.authorize(p, Permission::ManageUsers, tenant.as_ref(), false)
            .await?;
        let now = self.clock.now();
        let user = User::new(email, role, tenant.as_ref().map(|t| t.id), now)?;
        let hash = hash_password(password)?;
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "user.create",
            user.tenant_id,
            format!("user:{}", user.email),
            json!({"email": user.email, "role": user.role}),
        );
        self.store.insert_user(&user, &hash, audit).await?;
        tracing::info!(user = %user.email, role = %user.role, "user created");
        Ok(user)
    }

    /// Users of one tenant, or (provider only) every user.
    pub async fn list_users(&self, p: &Principal, tenant: Option<&str>) -> Result<Vec<User>> {
        let tenant = match tenant {
            Some(slug) => Some(self.load_tenant(slug).await?),
            None => None,
        };
        self.authorize(p, Permission::ManageUsers, tenant.as_ref(), true)
            .await?;
        Ok(self.store.list_users(tenant.map(|t| t.id)).await?)
    }

    /// The user with this email and password, as a principal. Unknown users,
    /// wrong passwords and disabled users all answer `Unauthenticated`.
    pub async fn verify_password(&self, email: &str, password: &str) -> Result<Principal> {
        let Some((user, hash)) = self.store.user_by_email(email).await? else {
            // Spend the same effort as a real check, so timing does not tell.
            let _ = hash_password("not-a-real-password-at-all");
            return Err(ServiceError::Unauthenticated);
        };
        if !verify_hash(password, &hash) || user.disabled {
            return Err(ServiceError::Unauthenticated);
        }
        Ok(Principal::user(&user))
    }

    /// An API token for `email`, valid for `ttl` (none: until revoked). The
    /// secret is returned once.
    pub async fn create_token(
        &self,
        p: &Principal,
        email: &str,
        name: &str,
        ttl: Option<SignedDuration>,
    ) -> Result<(NewSecret, ApiToken)> {
        let user = self.load_user(email).await?;
        self.authorize_for_user(p, &user).await?;
        let now = self.clock.now();
        // Fail closed: a lifetime that cannot be applied is refused, never
        // turned into "no expiry".
        let expires_at = match ttl {
            None => None,
            Some(d) if d.is_positive() => Some(now.checked_add(d).map_err(|_| {
                ServiceError::InvalidSetting(vigil_core::tenant::SettingsError::Invalid {
                    setting: "token lifetime",
                    reason: format!("{d:#} is too long"),
                })
            })?),
            Some(d) => {
                return Err(ServiceError::InvalidSetting(
                    vigil_core::tenant::SettingsError::Invalid {
                        setting: "token lifetime",
                        reason: format!("{d:#} is not positive"),
                    },
                ));
            }
        };
        let secret = random_secret("vgt_")?;
        let token = ApiToken {
            id: TokenId::new_at(now),
            user_id: user.id,
            name: name.to_owned(),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "token.create",
            user.tenant_id,
            format!("user:{}", user.email),
            json!({"token": token.id, "name": name, "expires_at": token.expires_at}),
        );
        self.store
            .insert_token(&token, &secret_hash(secret.expose()), audit)
            .await?;
        Ok((secret, token))
    }

    /// The tokens of the user with `email` (the caller's own, or a user
    /// the caller manages), newest first.
    pub async fn list_tokens(&self, p: &Principal, email: &str) -> Result<Vec<ApiToken>> {
        let user = self.load_user(email).await?;
        self.authorize_for_user(p, &user).await?;
        Ok(self.store.list_tokens(user.id).await?)
    }

    /// Revoke a token by id alone: the caller's own, or one of a user the
    /// caller manages. Anyone else's answers "not found".
    pub async fn revoke_token_by_id(&self, p: &Principal, id: TokenId) -> Result<ApiToken> {
        let not_found = || ServiceError::NotFound {
            what: "token",
            key: id.to_string(),
        };
        let (token, user) = self.store.token_by_id(id).await?.ok_or_else(not_found)?;
        self.authorize_for_user(p, &user)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound { .. } => not_found(),
                other => other,
            })?;
        self.revoke_token(p, &user.email, token.id).await?;
        Ok(ApiToken {
            revoked_at: Some(self.clock.now()),
            ..token
        })
    }

    /// Revoke a token by id, presented with its owner's email.
    pub async fn revoke_token(&self, p: &Principal, email: &str, id: TokenId) -> Result<()> {
        let user = self.load_user(email).await?;
        self.authorize_for_user(p, &user).await?;
        let now = self.clock.now();
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "token.revoke",
            user.tenant_id,
            format!("user:{}", user.email),
            json!({"token": id}),
        );
        self.store.revoke_token(id, now, audit).await?;
        Ok(())
    }

    pub(crate) async fn load_user(&self, email: &str) -> Result<User> {
        self.store
            .user_by_email(email)
            .await?
            .map(|(user, _)| user)
            .ok_or_else(|| ServiceError::NotFound {
                what: "user",
                key: email.to_owned(),
            })
    }

    /// A principal may manage its own tokens, and those of the users it may
    /// manage.
    async fn authorize_for_user(&self, p: &Principal, user: &User) -> Result<()> {
        if let Principal::User { id, .. } = p
            && *id == user.id
        {
            return Ok(());
        }
        let tenant = match user.tenant_id {
            Some(t) => self.store.tenant_by_id(t).await?,
            None => None,
        };
        self.authorize(p, Permission::ManageUsers, tenant.as_ref(), false)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound { .. } => ServiceError::NotFound {
                    what: "user",
                    key: user.email.clone(),
                },
                other => other,
            })
    }

    /// The principal an API token stands for.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Principal> {
        let found = self.store.token_by_hash(&secret_hash(secret)).await?;
        match found {
            Some((token, user)) if token.is_live(self.clock.now()) && !user.disabled => {
                Ok(Principal::user(&user))
            }
            _ => Err(ServiceError::Unauthenticated),
        }
    }

    /// A new ingest key for a tenant; the secret is returned once.
    pub async fn create_ingest_key(
        &self,
        p: &Principal,
        tenant: &str,
        name: &str,
    ) -> Result<(NewSecret, IngestKey)> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ManageIngestKeys, Some(&tenant), false)
            .await?;
        let now = self.clock.now();
        let secret = random_secret("vgk_")?;
        let key = IngestKey {
            id: vigil_core::Id::new_at(now),
            tenant_id: tenant.id,
            name: name.to_owned(),
            created_at: now,
            revoked_at: None,
        };
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "ingest_key.create",
            Some(tenant.id),
            format!("tenant:{}", tenant.slug),
            json!({"key": key.id, "name": name}),
        );
        self.store
            .insert_ingest_key(&key, &secret_hash(secret.expose()), audit)
            .await?;
        Ok((secret, key))
    }

    /// A tenant's ingest keys, newest first.
    pub async fn list_ingest_keys(&self, p: &Principal, tenant: &str) -> Result<Vec<IngestKey>> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ManageIngestKeys, Some(&tenant), true)
            .await?;
        Ok(self.store.list_ingest_keys(tenant.id).await?)
    }

    /// Revoke one of a tenant's ingest keys: shippers using it get 401.
    pub async fn revoke_ingest_key(
        &self,
        p: &Principal,
        tenant: &str,
        id: vigil_core::identity::IngestKeyId,
    ) -> Result<()> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ManageIngestKeys, Some(&tenant), false)
            .await?;
        let now = self.clock.now();
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "ingest_key.revoke",
            Some(tenant.id),
            format!("tenant:{}", tenant.slug),
            json!({"key": id}),
        );
        self.store
            .revoke_ingest_key(tenant.id, id, now, audit)
            .await?;
        Ok(())
    }

    /// The principal an ingest key stands for.
    pub async fn authenticate_ingest_key(&self, secret: &str) -> Result<Principal> {
        match self.store.ingest_key_by_hash(&secret_hash(secret)).await? {
            Some(key) if key.revoked_at.is_none() => Ok(Principal::IngestKey {
                tenant_id: key.tenant_id,
            }),
            _ => Err(ServiceError::Unauthenticated),
        }
    }
}

#[cfg(test)]
mod password_tests {
    use super::*;

    #[test]
    fn a_password_of_64_characters_is_taken_and_one_beyond_the_cap_refused() {
        let long = "p".repeat(64);
        let hash = hash_password(&long).expect("64 characters are allowed");
        assert!(verify_hash(&long, &hash));
        let huge = "p".repeat(MAX_PASSWORD_CHARS + 1);
        assert!(matches!(
            hash_password(&huge),
            Err(ServiceError::WeakPassword(_))
        ));
        assert!(!verify_hash(&"p".repeat(MAX_PASSWORD_CHARS * 4 + 1), &hash));
    }
}
