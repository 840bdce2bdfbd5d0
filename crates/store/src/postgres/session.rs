use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use vigil_core::Timestamp;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::identity::User;
use vigil_core::session::{LoginFailures, Session, SessionId};
use vigil_core::time::to_micros;

use super::identity::{USER_COLUMNS, decode_user, opt_ts, parse, ts};
use super::{PgStore, audit::append_in};
use crate::{Result, SessionStore, StoreError};

fn decode_session(row: &PgRow) -> Result<Session> {
    let id: String = row.try_get("session_id")?;
    let user: String = row.try_get("session_user_id")?;
    Ok(Session {
        id: parse("session id", &id)?,
        user_id: parse("user id", &user)?,
        created_at: ts(row, "session_created_at")?,
        expires_at: ts(row, "session_expires_at")?,
        revoked_at: opt_ts(row, "session_revoked_at")?,
    })
}

#[async_trait]
impl SessionStore for PgStore {
    async fn insert_session(
        &self,
        session: &Session,
        hash: &str,
        email: &str,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, session_hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session.id.to_string())
        .bind(session.user_id.to_string())
        .bind(hash)
        .bind(to_micros(session.created_at))
        .bind(to_micros(session.expires_at))
        .bind(session.revoked_at.map(to_micros))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM login_failures WHERE email = $1")
            .bind(email.to_ascii_lowercase())
            .execute(&mut *tx)
            .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn session_by_hash(&self, hash: &str) -> Result<Option<(Session, User)>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.id AS session_id, s.user_id AS session_user_id,
                    s.created_at AS session_created_at, s.expires_at AS session_expires_at,
                    s.revoked_at AS session_revoked_at
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.session_hash = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((decode_session(&r)?, decode_user(&r)?)))
            .transpose()
    }

    async fn revoke_session(
        &self,
        id: SessionId,
        at: Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(to_micros(at))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound {
                what: "live session",
                key: id.to_string(),
            });
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn login_failures(&self, email: &str) -> Result<Option<LoginFailures>> {
        let row = sqlx::query(
            "SELECT failures, window_start, locked_until FROM login_failures WHERE email = $1",
        )
        .bind(email.to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let count: i64 = r.try_get("failures")?;
        Ok(Some(LoginFailures {
            count: u32::try_from(count)
                .map_err(|_| StoreError::corrupt("login failures", "negative count"))?,
            window_start: ts(&r, "window_start")?,
            locked_until: opt_ts(&r, "locked_until")?,
        }))
    }

    async fn record_login_failure(
        &self,
        email: &str,
        state: &LoginFailures,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO login_failures (email, failures, window_start, locked_until) VALUES ($1, $2, $3, $4)
             ON CONFLICT (email) DO UPDATE SET failures = excluded.failures,
                 window_start = excluded.window_start, locked_until = excluded.locked_until",
        )
        .bind(email.to_ascii_lowercase())
        .bind(i64::from(state.count))
        .bind(to_micros(state.window_start))
        .bind(state.locked_until.map(to_micros))
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }
}
