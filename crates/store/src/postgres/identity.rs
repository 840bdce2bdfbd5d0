use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use vigil_core::TenantId;
use vigil_core::Timestamp;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::identity::{ApiToken, IngestKey, IngestKeyId, TokenId, User, UserId};
use vigil_core::session::SessionId;
use vigil_core::time::{from_micros, to_micros};

use super::{PgStore, audit::append_in, is_unique_violation};
use crate::{IdentityStore, Result, StoreError};

pub(super) const USER_COLUMNS: &str =
    "u.id, u.email, u.role, u.tenant_id, u.created_at, u.disabled";

pub(super) fn ts(row: &PgRow, col: &str) -> Result<Timestamp> {
    let micros: i64 = row.try_get(col)?;
    from_micros(micros)
        .ok_or_else(|| StoreError::corrupt("timestamp", format!("{col} out of range")))
}

pub(super) fn opt_ts(row: &PgRow, col: &str) -> Result<Option<Timestamp>> {
    let micros: Option<i64> = row.try_get(col)?;
    micros
        .map(|m| {
            from_micros(m)
                .ok_or_else(|| StoreError::corrupt("timestamp", format!("{col} out of range")))
        })
        .transpose()
}

pub(super) fn parse<T: std::str::FromStr>(what: &'static str, text: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| StoreError::corrupt(what, e))
}

pub(super) fn decode_user(row: &PgRow) -> Result<User> {
    let id: String = row.try_get("id")?;
    let role: String = row.try_get("role")?;
    let tenant: Option<String> = row.try_get("tenant_id")?;
    let disabled: i64 = row.try_get("disabled")?;
    Ok(User {
        id: parse("user id", &id)?,
        email: row.try_get("email")?,
        role: parse("user role", &role)?,
        tenant_id: tenant
            .map(|t| parse::<TenantId>("tenant id", &t))
            .transpose()?,
        created_at: ts(row, "created_at")?,
        disabled: disabled != 0,
    })
}

fn decode_key(row: &PgRow) -> Result<IngestKey> {
    let id: String = row.try_get("id")?;
    let tenant: String = row.try_get("tenant_id")?;
    Ok(IngestKey {
        id: parse("ingest key id", &id)?,
        tenant_id: parse("tenant id", &tenant)?,
        name: row.try_get("name")?,
        created_at: ts(row, "created_at")?,
        revoked_at: opt_ts(row, "revoked_at")?,
    })
}

fn decode_token(row: &PgRow) -> Result<ApiToken> {
    let id: String = row.try_get("token_id")?;
    let user: String = row.try_get("token_user_id")?;
    Ok(ApiToken {
        id: parse("token id", &id)?,
        user_id: parse("user id", &user)?,
        name: row.try_get("token_name")?,
        created_at: ts(row, "token_created_at")?,
        expires_at: opt_ts(row, "expires_at")?,
        revoked_at: opt_ts(row, "revoked_at")?,
    })
}

const TOKEN_COLUMNS: &str = "t.id AS token_id, t.user_id AS token_user_id, t.name AS token_name, t.created_at AS token_created_at, t.expires_at, t.revoked_at";

#[async_trait]
impl IdentityStore for PgStore {
    async fn insert_user(
        &self,
        user: &User,
        password_hash: &str,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "INSERT INTO users (id, email, role, tenant_id, password_hash, created_at, disabled) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id.to_string())
        .bind(&user.email)
        .bind(user.role.as_str())
        .bind(user.tenant_id.map(|t| t.to_string()))
        .bind(password_hash)
        .bind(to_micros(user.created_at))
        .bind(i64::from(user.disabled))
        .execute(&mut *tx)
        .await;
        match done {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate {
                    what: "user",
                    key: user.email.clone(),
                });
            }
            other => other?,
        };
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((decode_user(&r)?, r.try_get("password_hash")?)))
            .transpose()
    }

    async fn list_users(&self, tenant: Option<TenantId>) -> Result<Vec<User>> {
        let rows = match tenant {
            Some(t) => {
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users u WHERE u.tenant_id = $1 ORDER BY u.email"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(t.to_string())
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.email");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(decode_user).collect()
    }

    async fn insert_token(
        &self,
        token: &ApiToken,
        hash: &str,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.id.to_string())
        .bind(token.user_id.to_string())
        .bind(&token.name)
        .bind(hash)
        .bind(to_micros(token.created_at))
        .bind(token.expires_at.map(to_micros))
        .bind(token.revoked_at.map(to_micros))
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<(ApiToken, User)>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, {TOKEN_COLUMNS}
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((decode_token(&r)?, decode_user(&r)?)))
            .transpose()
    }

    async fn token_by_id(&self, id: TokenId) -> Result<Option<(ApiToken, User)>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, {TOKEN_COLUMNS}
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((decode_token(&r)?, decode_user(&r)?)))
            .transpose()
    }

    async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.created_at DESC, t.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_token).collect()
    }

    async fn list_ingest_keys(&self, tenant: TenantId) -> Result<Vec<IngestKey>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, name, created_at, revoked_at FROM ingest_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_key).collect()
    }

    async fn revoke_ingest_key(
        &self,
        tenant: TenantId,
        id: IngestKeyId,
        at: Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE ingest_keys SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
        )
        .bind(to_micros(at))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound {
                what: "live ingest key",
                key: id.to_string(),
            });
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep: Option<SessionId>,
        at: Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound {
                what: "user",
                key: user.to_string(),
            });
        }
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id IS DISTINCT FROM $3",
        )
        .bind(to_micros(at))
        .bind(user.to_string())
        .bind(keep.map(|k| k.to_string()))
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn revoke_token(
        &self,
        id: TokenId,
        at: Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(to_micros(at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound {
                what: "live token",
                key: id.to_string(),
            });
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn insert_ingest_key(
        &self,
        key: &IngestKey,
        hash: &str,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO ingest_keys (id, tenant_id, name, key_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key.id.to_string())
        .bind(key.tenant_id.to_string())
        .bind(&key.name)
        .bind(hash)
        .bind(to_micros(key.created_at))
        .bind(key.revoked_at.map(to_micros))
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn ingest_key_by_hash(&self, hash: &str) -> Result<Option<IngestKey>> {
        let row = sqlx::query(
            "SELECT id, tenant_id, name, created_at, revoked_at FROM ingest_keys WHERE key_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode_key).transpose()
    }
}
