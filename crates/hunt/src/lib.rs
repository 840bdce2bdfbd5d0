//! Threat hunting: a KQL (Kusto) subset compiled to SQL over the hunting
//! tables (PRODUCT.md §12; docs/hunting.md).
//!
//! Pure: no IO, no clock ("now" is passed in). The stages:
//! [`parse`] (lexer and recursive-descent parser, errors with line:column
//! and the expected token) → [`plan`] (names resolved against
//! [`schema::TABLES`], types checked, literals made parameters) →
//! [`sql::generate`] (a [`sql::Dialect`] per database). [`project`] maps a
//! decoded event to its hunting-table row at intake.
//!
//! Invariant: no text of the query reaches SQL except as a bound
//! parameter. Table and column identifiers come from the schema; every
//! intermediate column is a positional alias (`c0`, `c1`, …) and the names
//! the analyst chose live only in [`Compiled::columns`].

pub mod ast;
mod error;
pub mod ir;
mod lexer;
mod parser;
pub mod plan;
mod project;
pub mod schema;
pub mod sql;

pub use ast::Query;
pub use error::{HuntError, ParseError, Pos};
pub use ir::Column;
pub use project::{additional_of_record, project, project_lean};
pub use schema::Type;
use vigil_core::hunting::HuntSql;

/// Parse a query (the entry point for fuzzing: never panics).
pub fn parse(src: &str) -> Result<Query, ParseError> {
    parser::parse(src)
}

/// How to compile a query.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// "Now", in microseconds since the epoch (`ago()`, `now()`).
    pub now_micros: i64,
    /// The tenants in scope (their ids); always bound by the service.
    pub tenants: Vec<String>,
    /// Provider-wide: keep `TenantId` through every operator.
    pub keep_tenant: bool,
    /// Applied to every table when no `where` names `Timestamp`.
    pub default_lookback_micros: i64,
    /// A fixed window `[from, to)` for every table (scheduled hunts),
    /// instead of the default lookback.
    pub window: Option<(i64, i64)>,
}

/// A compiled query.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    pub sql: HuntSql,
    pub columns: Vec<Column>,
    /// The default lookback was applied (no `where` on `Timestamp`).
    pub lookback_applied: bool,
}

/// Parse, plan and generate SQL for SQLite.
pub fn compile(src: &str, options: &CompileOptions) -> Result<Compiled, HuntError> {
    compile_for(src, options, &sql::Sqlite)
}

/// Parse, plan and generate SQL for a dialect.
pub fn compile_for(
    src: &str,
    options: &CompileOptions,
    dialect: &dyn sql::Dialect,
) -> Result<Compiled, HuntError> {
    if src.len() > MAX_QUERY_BYTES {
        return Err(HuntError::plan(
            Pos::of(src, 0),
            format!("query is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let query = parse(src)?;
    let planned = plan::plan(
        &query,
        &plan::PlanContext {
            src,
            now_micros: options.now_micros,
            keep_tenant: options.keep_tenant,
        },
    )?;
    let (from, to, lookback_applied) = match options.window {
        Some((from, to)) => (Some(from), Some(to), false),
        None if !planned.filters_time => (
            Some(
                options
                    .now_micros
                    .saturating_sub(options.default_lookback_micros),
            ),
            None,
            true,
        ),
        None => (None, None, false),
    };
    let scope = sql::ScanScope {
        tenants: options.tenants.clone(),
        from_micros: from,
        to_micros: to,
    };
    let sql = sql::generate(&planned.root, &scope, dialect)
        .map_err(|e| HuntError::plan(Pos::of(src, 0), e.0))?;
    Ok(Compiled {
        sql,
        columns: planned.root.columns,
        lookback_applied,
    })
}

/// Queries are at most this long.
pub const MAX_QUERY_BYTES: usize = 20_000;

#[cfg(test)]
mod tests;
