//! Threat hunting (PRODUCT.md §12; docs/hunting.md): KQL compiled by
//! `vigil-hunt` and run by the store within row and time limits, over one
//! tenant or (provider roles) every tenant with each row labelled.
//!
//! Tenant scope is never taken from the query: the service resolves the
//! tenants the principal may hunt and binds their ids into every table
//! scan. Only the experts hunt (`Permission::Hunt`: provider admins and
//! analysts); customers read the hunting summaries written for them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vigil_core::audit::AuditEntry;
use vigil_core::hunting::{Cell, HuntRows};
use vigil_core::identity::{Permission, Principal};
use vigil_core::tenant::{Lifecycle, Tenant};
use vigil_hunt::{CompileOptions, Compiled, Type};
use vigil_store::StoreError;

use crate::{Result, Service, ServiceError};

/// The bounds of one hunt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HuntLimits {
    /// Rows returned at most; more are cut (`truncated` in the stats).
    pub max_rows: usize,
    /// The statement is interrupted after this long.
    pub time_limit: Duration,
    /// Applied when no `where` names `Timestamp`.
    pub default_lookback: Duration,
}

/// A hunt may ask for at most this many rows.
pub const MAX_HUNT_ROWS: usize = 100_000;

impl Default for HuntLimits {
    fn default() -> Self {
        HuntLimits {
            max_rows: 10_000,
            time_limit: Duration::from_secs(30),
            default_lookback: Duration::from_secs(7 * 86_400),
        }
    }
}

/// A column of a result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HuntColumnView {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: &'static str,
}

/// What a hunt did besides its rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HuntStats {
    pub rows: usize,
    /// More rows matched than `max_rows`.
    pub truncated: bool,
    pub max_rows: usize,
    pub elapsed_ms: u64,
    /// The default lookback applied (`7d`), when the query had no
    /// `Timestamp` filter.
    pub lookback: Option<String>,
    /// Tenants the hunt covered.
    pub tenants: usize,
    /// Notices for the analyst: limits hit, lookback applied.
    pub messages: Vec<String>,
}

/// A hunt's answer: the REST body and the CLI's JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HuntResult {
    pub columns: Vec<HuntColumnView>,
    pub rows: Vec<Vec<Value>>,
    pub stats: HuntStats,
}

/// A hunting table and its columns, for `vigil hunt --schema` and
/// `GET /api/v1/hunt/schema`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HuntTableView {
    pub name: &'static str,
    pub description: &'static str,
    pub columns: Vec<HuntSchemaColumn>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HuntSchemaColumn {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub description: &'static str,
}

/// Every hunting table (static: the schema is the same for every tenant).
pub fn hunt_schema() -> Vec<HuntTableView> {
    vigil_hunt::schema::TABLES
        .iter()
        .map(|t| HuntTableView {
            name: t.name,
            description: t.description,
            columns: t
                .columns
                .iter()
                .map(|c| HuntSchemaColumn {
                    name: c.name,
                    ty: c.ty.as_str(),
                    description: c.description,
                })
                .collect(),
        })
        .collect()
}

/// `7d`, `36h`, `90m`, `45s`.
fn span_text(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s.is_multiple_of(3_600) {
        format!("{}h", s / 3_600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// KQL's timespan text: `[-][d.]hh:mm:ss[.ffffff]`.
fn timespan_text(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let us = us.unsigned_abs();
    let (secs, frac) = (us / 1_000_000, us % 1_000_000);
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    let day = if d > 0 {
        format!("{d}.")
    } else {
        String::new()
    };
    let frac = if frac > 0 {
        format!(".{frac:06}")
    } else {
        String::new()
    };
    format!("{sign}{day}{h:02}:{m:02}:{s:02}{frac}")
}

/// A stored cell as JSON, by its column's type.
pub(crate) fn value(cell: &Cell, ty: Type) -> Value {
    match (cell, ty) {
        (Cell::Null, _) => Value::Null,
        (Cell::Int(n), Type::DateTime) => jiff::Timestamp::from_microsecond(*n)
            .map_or(Value::Null, |t| Value::String(format!("{t:.6}"))),
        (Cell::Int(n), Type::Bool) => Value::Bool(*n != 0),
        (Cell::Int(n), Type::Timespan) => Value::String(timespan_text(*n)),
        (Cell::Int(n), _) => json!(n),
        (Cell::Real(x), Type::Long) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
            #[allow(clippy::cast_possible_truncation)]
            let n = *x as i64;
            json!(n)
        }
        (Cell::Real(x), _) => json!(x),
        (Cell::Text(t), Type::Dynamic) if t.starts_with(['[', '{']) => {
            serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.clone()))
        }
        (Cell::Text(t), Type::Long) => t
            .parse::<i64>()
            .map_or_else(|_| Value::String(t.clone()), |n| json!(n)),
        (Cell::Text(t), _) => Value::String(t.clone()),
    }
}

impl Service {
    /// Hunt over one tenant's events.
    pub async fn hunt(
        &self,
        p: &Principal,
        tenant: &str,
        query: &str,
        limits: HuntLimits,
    ) -> Result<HuntResult> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::Hunt, Some(&t), true).await?;
        self.run_query(query, &[t], false, limits, None).await
    }

    /// Whether the principal may hunt at all (the schema is for hunters).
    pub async fn check_hunt(&self, p: &Principal) -> Result<()> {
        self.authorize(p, Permission::Hunt, None, false).await
    }

    /// Hunt across every tenant not yet deleted (provider roles only). Each
    /// row carries a `Tenant` column (the slug) first; operators keep
    /// `TenantId`, so nothing is grouped or joined across tenants.
    pub async fn hunt_all(
        &self,
        p: &Principal,
        query: &str,
        limits: HuntLimits,
    ) -> Result<HuntResult> {
        self.authorize(p, Permission::Hunt, None, false).await?;
        let tenants: Vec<Tenant> = self
            .store
            .list_tenants()
            .await?
            .into_iter()
            .filter(|t| t.lifecycle != Lifecycle::Deleted)
            .collect();
        let result = self.run_query(query, &tenants, true, limits, None).await?;
        let entry = AuditEntry::new(
            self.clock.now(),
            &p.actor(),
            "hunt.provider_wide",
            None,
            "hunt",
            json!({"tenants": tenants.len(), "rows": result.stats.rows, "query": query}),
        );
        self.store.append_audit(entry).await?;
        Ok(result)
    }

    /// Compile for these tenants and run within the limits.
    pub(crate) async fn run_query(
        &self,
        query: &str,
        tenants: &[Tenant],
        provider_wide: bool,
        limits: HuntLimits,
        window: Option<(i64, i64)>,
    ) -> Result<HuntResult> {
        if limits.max_rows == 0 || limits.max_rows > MAX_HUNT_ROWS {
            return Err(ServiceError::Invalid(format!(
                "max rows must be between 1 and {MAX_HUNT_ROWS}, got {}",
                limits.max_rows
            )));
        }
        let compiled = self.compile_hunt(query, tenants, provider_wide, limits, window)?;
        let started = Instant::now();
        let rows = match self
            .store
            .run_hunt(&compiled.sql, limits.max_rows, limits.time_limit)
            .await
        {
            Ok(r) => r,
            Err(StoreError::TimedOut { limit_ms, .. }) => {
                return Err(ServiceError::Invalid(format!(
                    "the hunt ran past its time limit of {:.1} s and was stopped: narrow the time range (where Timestamp > ago(1d)), filter earlier, or summarize",
                    limit_ms as f64 / 1000.0
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(shape(
            compiled,
            rows,
            tenants,
            provider_wide,
            limits,
            elapsed_ms,
        ))
    }

    pub(crate) fn compile_hunt(
        &self,
        query: &str,
        tenants: &[Tenant],
        provider_wide: bool,
        limits: HuntLimits,
        window: Option<(i64, i64)>,
    ) -> Result<Compiled> {
        let options = CompileOptions {
            now_micros: self.clock.now().as_microsecond(),
            tenants: tenants.iter().map(|t| t.id.to_string()).collect(),
            keep_tenant: provider_wide,
            default_lookback_micros: micros(limits.default_lookback),
            window,
        };
        // The store says which SQL it runs; compile for that.
        let dialect = vigil_hunt::sql::dialect_of(self.store.hunt_dialect());
        Ok(vigil_hunt::compile_for(query, &options, dialect)?)
    }
}

/// Rows to JSON by column type, the tenant label first for provider-wide
/// hunts, and the stats with their notices.
fn shape(
    compiled: Compiled,
    rows: HuntRows,
    tenants: &[Tenant],
    provider_wide: bool,
    limits: HuntLimits,
    elapsed_ms: u64,
) -> HuntResult {
    let types: Vec<Type> = compiled.columns.iter().map(|c| c.ty).collect();
    let mut columns: Vec<HuntColumnView> = compiled
        .columns
        .iter()
        .map(|c| HuntColumnView {
            name: c.name.clone(),
            ty: c.ty.as_str(),
        })
        .collect();
    let label = provider_wide
        .then(|| compiled.columns.iter().position(|c| c.name == "TenantId"))
        .flatten();
    let slugs: HashMap<String, String> = tenants
        .iter()
        .map(|t| (t.id.to_string(), t.slug.to_string()))
        .collect();
    if label.is_some() {
        columns.insert(
            0,
            HuntColumnView {
                name: "Tenant".into(),
                ty: "string",
            },
        );
    }
    let out: Vec<Vec<Value>> = rows
        .rows
        .iter()
        .map(|r| {
            let mut vals: Vec<Value> = r.iter().zip(&types).map(|(c, t)| value(c, *t)).collect();
            if let Some(i) = label {
                let slug = match r.get(i) {
                    Some(Cell::Text(id)) => {
                        slugs.get(id).cloned().map_or(Value::Null, Value::String)
                    }
                    _ => Value::Null,
                };
                vals.insert(0, slug);
            }
            vals
        })
        .collect();
    let mut messages = Vec::new();
    let lookback = compiled
        .lookback_applied
        .then(|| span_text(limits.default_lookback));
    if let Some(l) = &lookback {
        messages.push(format!(
            "no Timestamp filter: searched the last {l} (add `| where Timestamp > ago(…)` to choose)"
        ));
    }
    if rows.truncated {
        messages.push(format!(
            "more than {} rows matched: the first {} are shown (add `| take N`, filter or summarize)",
            limits.max_rows, limits.max_rows
        ));
    }
    HuntResult {
        stats: HuntStats {
            rows: out.len(),
            truncated: rows.truncated,
            max_rows: limits.max_rows,
            elapsed_ms,
            lookback,
            tenants: tenants.len(),
            messages,
        },
        columns,
        rows: out,
    }
}

/// The result as CSV: a header line of column names, then one line per
/// row; cells quoted when needed, and text that a spreadsheet would run as
/// a formula (`=`, `+`, `-`, `@` first) prefixed with `'`.
pub fn hunt_csv(result: &HuntResult) -> String {
    fn cell(v: &Value) -> String {
        let text = match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let text = if matches!(v, Value::String(_))
            && text.starts_with(['=', '+', '-', '@', '\t', '\r'])
        {
            format!("'{text}")
        } else {
            text
        };
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    }
    let mut out = String::new();
    let header: Vec<String> = result
        .columns
        .iter()
        .map(|c| cell(&Value::String(c.name.clone())))
        .collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for row in &result.rows {
        let line: Vec<String> = row.iter().map(cell).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans_read_as_kusto_writes_them() {
        assert_eq!(timespan_text(90_061_000_000), "1.01:01:01");
        assert_eq!(timespan_text(-1_500_000), "-00:00:01.500000");
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        let r = HuntResult {
            columns: vec![HuntColumnView {
                name: "A".into(),
                ty: "string",
            }],
            rows: vec![vec![json!("=cmd|' /c calc'!A0")], vec![json!("a,\"b\"")]],
            stats: HuntStats {
                rows: 2,
                truncated: false,
                max_rows: 10,
                elapsed_ms: 0,
                lookback: None,
                tenants: 1,
                messages: Vec::new(),
            },
        };
        assert_eq!(
            hunt_csv(&r),
            "A\r\n'=cmd|' /c calc'!A0\r\n\"a,\"\"b\"\"\"\r\n"
        );
    }
}
