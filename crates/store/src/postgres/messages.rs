//! Incident chat, inquiries and read state.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::message::{Inquiry, InquiryId, InquiryStatus, Message, MessageId, Thread};
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::PgStore;
use super::audit::append_in;
use super::identity::{parse, ts};
use crate::{InquiryFilter, MessageEntry, MessageFilter, MessageStore, Result, StoreError};

const MESSAGE_COLUMNS: &str =
    "m.id, m.tenant_id, m.thread_kind, m.thread_id, m.author, m.side, m.body, m.created_at";
const INQUIRY_COLUMNS: &str =
    "id, tenant_id, subject, status, created_by, created_at, updated_at, closed_by";

fn decode_message(r: &PgRow) -> Result<Message> {
    let kind: String = r.try_get("thread_kind")?;
    let thread_id: String = r.try_get("thread_id")?;
    let side: String = r.try_get("side")?;
    Ok(Message {
        id: parse("message id", &r.try_get::<String, _>("id")?)?,
        tenant_id: parse("tenant id", &r.try_get::<String, _>("tenant_id")?)?,
        thread: Thread::parse(parse("thread kind", &kind)?, &thread_id)
            .map_err(|e| StoreError::corrupt("message thread", e))?,
        author: r.try_get("author")?,
        side: parse("side", &side)?,
        body: r.try_get("body")?,
        created_at: ts(r, "created_at")?,
    })
}

fn decode_inquiry(r: &PgRow) -> Result<Inquiry> {
    Ok(Inquiry {
        id: parse("inquiry id", &r.try_get::<String, _>("id")?)?,
        tenant_id: parse("tenant id", &r.try_get::<String, _>("tenant_id")?)?,
        subject: r.try_get("subject")?,
        status: parse("inquiry status", &r.try_get::<String, _>("status")?)?,
        created_by: r.try_get("created_by")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        closed_by: r.try_get("closed_by")?,
    })
}

async fn insert_message_in(conn: &mut sqlx::PgConnection, m: &Message) -> Result<()> {
    sqlx::query(
        "INSERT INTO messages (id, tenant_id, thread_kind, thread_id, author, side, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(m.id.to_string())
    .bind(m.tenant_id.to_string())
    .bind(m.thread.kind().as_str())
    .bind(m.thread.id_text())
    .bind(&m.author)
    .bind(m.side.as_str())
    .bind(&m.body)
    .bind(to_micros(m.created_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Store `inquiry` (its status, update time and closer) where its stored
/// status is still `expected`.
async fn update_inquiry_in(
    conn: &mut sqlx::PgConnection,
    inquiry: &Inquiry,
    expected: InquiryStatus,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE inquiries SET status = $1, updated_at = $2, closed_by = $3
         WHERE id = $4 AND tenant_id = $5 AND status = $6",
    )
    .bind(inquiry.status.as_str())
    .bind(to_micros(inquiry.updated_at))
    .bind(&inquiry.closed_by)
    .bind(inquiry.id.to_string())
    .bind(inquiry.tenant_id.to_string())
    .bind(expected.as_str())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict {
            what: "inquiry",
            key: inquiry.id.to_string(),
        });
    }
    Ok(())
}

#[async_trait]
impl MessageStore for PgStore {
    async fn insert_inquiry(
        &self,
        inquiry: &Inquiry,
        first: &Message,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO inquiries (id, tenant_id, subject, status, created_by, created_at, updated_at, closed_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(inquiry.id.to_string())
        .bind(inquiry.tenant_id.to_string())
        .bind(&inquiry.subject)
        .bind(inquiry.status.as_str())
        .bind(&inquiry.created_by)
        .bind(to_micros(inquiry.created_at))
        .bind(to_micros(inquiry.updated_at))
        .bind(&inquiry.closed_by)
        .execute(&mut *tx)
        .await?;
        insert_message_in(&mut tx, first).await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn insert_message(
        &self,
        message: &Message,
        inquiry: Option<(&Inquiry, InquiryStatus)>,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        if let Some((inquiry, expected)) = inquiry {
            update_inquiry_in(&mut tx, inquiry, expected).await?;
        }
        insert_message_in(&mut tx, message).await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn update_inquiry(
        &self,
        inquiry: &Inquiry,
        expected: InquiryStatus,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        update_inquiry_in(&mut tx, inquiry, expected).await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn inquiry(&self, tenant: TenantId, id: InquiryId) -> Result<Option<Inquiry>> {
        let sql =
            format!("SELECT {INQUIRY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(decode_inquiry)
            .transpose()
    }

    async fn list_inquiries(&self, tenant: TenantId, f: &InquiryFilter) -> Result<Vec<Inquiry>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {INQUIRY_COLUMNS} FROM inquiries WHERE tenant_id = "
        ));
        q.push_bind(tenant.to_string());
        if let Some(s) = f.status {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(by) = &f.created_by {
            q.push(" AND created_by = ").push_bind(by.clone());
        }
        q.push(" ORDER BY updated_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(f.limit.max(1)));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(decode_inquiry).collect()
    }

    async fn thread_messages(&self, tenant: TenantId, thread: Thread) -> Result<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.tenant_id = $1 AND m.thread_kind = $2 AND m.thread_id = $3
             ORDER BY m.created_at, m.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(thread.kind().as_str())
            .bind(thread.id_text())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_message).collect()
    }

    async fn list_messages(&self, f: &MessageFilter) -> Result<Vec<MessageEntry>> {
        if f.tenants.is_empty() {
            return Ok(Vec::new());
        }
        // A message is read when its reader wrote it or marked it read.
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {MESSAGE_COLUMNS}, t.slug AS tenant_slug,
                 coalesce(q.subject, i.title, '') AS thread_title, q.status AS inquiry_status,
                 (m.author = "
        ));
        q.push_bind(f.reader.clone());
        q.push(
            " OR r.reader IS NOT NULL) AS is_read
             FROM messages m
             JOIN tenants t ON t.id = m.tenant_id
             LEFT JOIN inquiries q ON m.thread_kind = 'inquiry' AND q.id = m.thread_id
             LEFT JOIN incidents i ON m.thread_kind = 'incident' AND i.id = m.thread_id
             LEFT JOIN message_reads r ON r.message_id = m.id AND r.reader = ",
        );
        q.push_bind(f.reader.clone());
        q.push(" WHERE m.tenant_id IN (");
        let mut sep = q.separated(", ");
        for t in &f.tenants {
            sep.push_bind(t.to_string());
        }
        q.push(")");
        match f.read {
            Some(true) => {
                q.push(" AND (m.author = ")
                    .push_bind(f.reader.clone())
                    .push(" OR r.reader IS NOT NULL)");
            }
            Some(false) => {
                q.push(" AND m.author <> ")
                    .push_bind(f.reader.clone())
                    .push(" AND r.reader IS NULL");
            }
            None => {}
        }
        if let Some(s) = f.inquiry_status {
            q.push(" AND q.status = ").push_bind(s.as_str());
        }
        if let Some(a) = &f.author {
            q.push(" AND m.author = ").push_bind(a.clone());
        }
        if let Some(t) = f.thread {
            q.push(" AND m.thread_kind = ")
                .push_bind(t.kind().as_str())
                .push(" AND m.thread_id = ")
                .push_bind(t.id_text());
        }
        if let Some(from) = f.from {
            q.push(" AND m.created_at >= ").push_bind(to_micros(from));
        }
        if let Some(to) = f.to {
            q.push(" AND m.created_at < ").push_bind(to_micros(to));
        }
        if let Some((at, id)) = f.after {
            q.push(" AND (m.created_at < ")
                .push_bind(to_micros(at))
                .push(" OR (m.created_at = ")
                .push_bind(to_micros(at))
                .push(" AND m.id < ")
                .push_bind(id.to_string())
                .push("))");
        }
        q.push(" ORDER BY m.created_at DESC, m.id DESC LIMIT ")
            .push_bind(i64::from(f.limit.max(1)));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let status: Option<String> = r.try_get("inquiry_status")?;
                Ok(MessageEntry {
                    message: decode_message(r)?,
                    tenant_slug: r.try_get("tenant_slug")?,
                    thread_title: r.try_get("thread_title")?,
                    inquiry_status: status.map(|s| parse("inquiry status", &s)).transpose()?,
                    read: r.try_get::<bool, _>("is_read")?,
                })
            })
            .collect()
    }

    async fn messages_by_id(&self, ids: &[MessageId]) -> Result<Vec<Message>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id IN ("
            ));
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(id.to_string());
            }
            q.push(")");
            for row in q.build().fetch_all(&self.pool).await? {
                out.push(decode_message(&row)?);
            }
        }
        Ok(out)
    }

    async fn set_read(
        &self,
        reader: &str,
        ids: &[MessageId],
        read: bool,
        at: Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        for id in ids {
            let sql = if read {
                "INSERT INTO message_reads (reader, message_id, read_at) VALUES ($1, $2, $3)
                 ON CONFLICT (reader, message_id) DO NOTHING"
            } else {
                "DELETE FROM message_reads WHERE reader = $1 AND message_id = $2 AND $3 IS NOT NULL"
            };
            sqlx::query(sql)
                .bind(reader)
                .bind(id.to_string())
                .bind(to_micros(at))
                .execute(&mut *tx)
                .await?;
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }
}
