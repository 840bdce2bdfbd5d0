//! SQL from the logical plan. Each operator is a `SELECT` over its input
//! as a subquery, with positional column aliases (`c0`, `c1`, …): the
//! database's query flattener merges them back. Literals are bound
//! parameters; identifiers come from the schema or are positional aliases.
//! What differs between databases is behind [`Dialect`].

use vigil_core::hunting::{HuntColumn, HuntSql, SqlParam};

use crate::ir::{Agg, Bin, E, Func, Node, Op};
use crate::schema::{Backing, Source, TableDef};

/// How one database spells what differs.
pub trait Dialect: std::fmt::Debug {
    /// The placeholder of the `n`th (1-based) parameter.
    fn placeholder(&self, n: usize) -> String;
    /// A condition: `text` matches the regular expression `pattern`.
    fn regex(&self, text: &str, pattern: &str) -> String;
    /// A case-insensitive `LIKE` with `\` as the escape character.
    fn like_ci(&self, text: &str, pattern: &str) -> String;
    /// Case-sensitive "contains" (`> 0` is added by the caller).
    fn instr(&self, text: &str, needle: &str) -> String;
    /// The JSON value of `json` at `path` (`$.a."b"`).
    fn json_extract(&self, json: &str, path: &str) -> String;
    /// A JSON array of the distinct values of `x`.
    fn make_set(&self, x: &str) -> String;
    /// Cast to text, integer or real.
    fn cast(&self, x: &str, to: Func) -> String;
    /// Whether `arg_max` may be written as `max()` with bare columns
    /// (SQLite); other dialects answer no and the planner's `ArgExtreme` is
    /// refused until they implement it.
    fn bare_arg_extreme(&self) -> bool;
    /// Without bare columns: the value of `col` on the row where `by` is
    /// largest (`max`) or smallest, as an aggregate; `None`: refused.
    fn arg_extreme_pick(&self, _col: &str, _by: &str, _max: bool) -> Option<String> {
        None
    }
    /// "Not true": false for NULL and false.
    fn not_true(&self, x: &str) -> String {
        format!("(NOT coalesce({x}, 0))")
    }
    /// A regular expression as this database reads it (from the Rust
    /// `regex` syntax the planner writes).
    fn regex_pattern(&self, pattern: &str) -> String {
        pattern.to_owned()
    }
    /// Whether `GROUP BY` names the keys by their output position (a
    /// database that matches repeated expressions only if their
    /// parameters are the same ones, like PostgreSQL, needs it).
    fn group_by_position(&self) -> bool {
        false
    }
    /// An aggregate (`sum`, `avg`) of the plan's type (`real` or long).
    fn numeric_agg(&self, func: &str, x: &str, _real: bool) -> String {
        format!("{func}({x})")
    }
    /// An integer argument of a function such as `substr`.
    fn int_arg(&self, x: &str) -> String {
        x.to_owned()
    }
    /// Column `p` of the hunting row `h`.
    fn physical(&self, p: HuntColumn) -> String {
        format!("h.{}", p.sql_name())
    }
}

/// SQLite (the embedded store). `REGEXP` is the `regex` crate registered on
/// each connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite;

impl Dialect for Sqlite {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }
    /// `additional` (often a kilobyte) is kept out of the row, so that
    /// hunting rows stay small enough for SQLite to keep whole on their
    /// page: in the event's compressed block (migration 0025), read by the
    /// store's `vigil_additional`; before that, in `hunt_additional`
    /// (migration 0023).
    fn physical(&self, p: HuntColumn) -> String {
        if p == HuntColumn::Additional {
            "coalesce(\
             (SELECT vigil_additional(b.id, b.data, e.block_item) FROM events AS e \
              JOIN event_blocks AS b ON b.id = e.block WHERE e.seq = h.seq), \
             (SELECT x.additional FROM hunt_additional AS x WHERE x.seq = h.seq))"
                .to_owned()
        } else {
            format!("h.{}", p.sql_name())
        }
    }
    fn regex(&self, text: &str, pattern: &str) -> String {
        format!("({text} REGEXP {pattern})")
    }
    fn like_ci(&self, text: &str, pattern: &str) -> String {
        format!("({text} LIKE {pattern} ESCAPE '\\')")
    }
    fn instr(&self, text: &str, needle: &str) -> String {
        format!("instr({text}, {needle})")
    }
    fn json_extract(&self, json: &str, path: &str) -> String {
        format!("json_extract({json}, {path})")
    }
    fn make_set(&self, x: &str) -> String {
        format!("json_group_array(DISTINCT {x})")
    }
    fn cast(&self, x: &str, to: Func) -> String {
        match to {
            Func::ToInt => format!("CAST({x} AS INTEGER)"),
            Func::ToReal => format!("CAST({x} AS REAL)"),
            _ => format!("CAST({x} AS TEXT)"),
        }
    }
    fn bare_arg_extreme(&self) -> bool {
        true
    }
}

/// PostgreSQL (`vigil-store`'s `PgStore`): `$n` placeholders, POSIX
/// regular expressions (`~`), `ILIKE`, `strpos`, `jsonb` paths.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

impl Dialect for Postgres {
    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }
    fn regex(&self, text: &str, pattern: &str) -> String {
        format!("({text} ~ {pattern})")
    }
    fn like_ci(&self, text: &str, pattern: &str) -> String {
        format!("({text} ILIKE {pattern} ESCAPE '\\')")
    }
    fn instr(&self, text: &str, needle: &str) -> String {
        format!("strpos({text}, {needle})")
    }
    fn json_extract(&self, json: &str, path: &str) -> String {
        // The path is SQLite's `$.a."b"`, also a valid SQL/JSON path;
        // `hunt_json_path` (migration 0012) gives NULL for text that is not
        // JSON, as SQLite does.
        format!("hunt_json_path({json}, {path})")
    }
    fn make_set(&self, x: &str) -> String {
        format!("CAST(jsonb_agg(DISTINCT {x}) AS TEXT)")
    }
    fn cast(&self, x: &str, to: Func) -> String {
        match to {
            Func::ToInt => format!("CAST({x} AS BIGINT)"),
            Func::ToReal => format!("CAST({x} AS DOUBLE PRECISION)"),
            _ => format!("CAST({x} AS TEXT)"),
        }
    }
    fn bare_arg_extreme(&self) -> bool {
        false
    }
    fn arg_extreme_pick(&self, col: &str, by: &str, max: bool) -> Option<String> {
        let dir = if max { "DESC" } else { "ASC" };
        Some(format!(
            "(array_agg({col} ORDER BY {by} {dir} NULLS LAST))[1]"
        ))
    }
    fn not_true(&self, x: &str) -> String {
        format!("(NOT coalesce({x}, false))")
    }
    fn regex_pattern(&self, pattern: &str) -> String {
        // PostgreSQL's ARE has no `\p{..}` classes and spells word
        // boundaries `\y`.
        pattern
            .replace(r"\p{L}\p{N}", "[:alnum:]")
            .replace(r"\p{L}", "[:alpha:]")
            .replace(r"\p{N}", "[:digit:]")
            .replace(r"\b", r"\y")
            .replace(r"\B", r"\Y")
    }
    fn group_by_position(&self) -> bool {
        true
    }
    fn numeric_agg(&self, func: &str, x: &str, real: bool) -> String {
        // sum() of bigint and avg() are numeric here: back to the type the
        // plan gave the column.
        let to = if real { "DOUBLE PRECISION" } else { "BIGINT" };
        format!("CAST({func}({x}) AS {to})")
    }
    fn int_arg(&self, x: &str) -> String {
        format!("CAST({x} AS INTEGER)")
    }
}

/// The dialect of a store's backend.
pub fn dialect_of(kind: vigil_core::hunting::HuntDialect) -> &'static dyn Dialect {
    match kind {
        vigil_core::hunting::HuntDialect::Sqlite => &Sqlite,
        vigil_core::hunting::HuntDialect::Postgres => &Postgres,
    }
}

/// The scope every table scan is limited to: tenants (always bound, from
/// the service) and an optional time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanScope {
    pub tenants: Vec<String>,
    pub from_micros: Option<i64>,
    pub to_micros: Option<i64>,
}

/// Generation failed: a construct this dialect cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub String);

pub fn generate(
    root: &Node,
    scope: &ScanScope,
    dialect: &dyn Dialect,
) -> Result<HuntSql, Unsupported> {
    let mut g = Gen {
        d: dialect,
        scope,
        params: Vec::new(),
        alias: 0,
    };
    let sql = g.node(root)?;
    Ok(HuntSql {
        sql,
        params: g.params,
    })
}

struct Gen<'a> {
    d: &'a dyn Dialect,
    scope: &'a ScanScope,
    params: Vec<SqlParam>,
    alias: usize,
}

fn c(i: usize) -> String {
    format!("c{i}")
}

impl Gen<'_> {
    fn param(&mut self, p: SqlParam) -> String {
        self.params.push(p);
        self.d.placeholder(self.params.len())
    }

    fn next_alias(&mut self) -> String {
        self.alias += 1;
        format!("t{}", self.alias)
    }

    fn node(&mut self, n: &Node) -> Result<String, Unsupported> {
        match &n.op {
            Op::Scan(t) => Ok(self.scan(t)),
            Op::Filter(input, pred) => {
                let inner = self.node(input)?;
                let a = self.next_alias();
                let cond = self.expr(pred, &a)?;
                Ok(format!(
                    "SELECT {} FROM ({inner}) AS {a} WHERE {cond}",
                    passthrough(&a, input.columns.len())
                ))
            }
            Op::Project(input, exprs) => {
                let inner = self.node(input)?;
                let a = self.next_alias();
                let mut items = Vec::new();
                for (i, e) in exprs.iter().enumerate() {
                    items.push(format!("{} AS {}", self.expr(e, &a)?, c(i)));
                }
                Ok(format!("SELECT {} FROM ({inner}) AS {a}", items.join(", ")))
            }
            Op::Aggregate { input, keys, aggs } => {
                let inner = self.node(input)?;
                let a = self.next_alias();
                let mut items = Vec::new();
                let mut groups = Vec::new();
                for k in keys {
                    let e = self.expr(k, &a)?;
                    items.push(format!("{e} AS {}", c(items.len())));
                    if self.d.group_by_position() {
                        groups.push(items.len().to_string());
                    } else {
                        groups.push(self.expr(k, &a)?);
                    }
                }
                for agg in aggs {
                    let real = n
                        .columns
                        .get(items.len())
                        .is_some_and(|c| c.ty == crate::schema::Type::Real);
                    for s in self.agg(agg, &a, real)? {
                        items.push(format!("{s} AS {}", c(items.len())));
                    }
                }
                let group = if groups.is_empty() {
                    String::new()
                } else {
                    format!(" GROUP BY {}", groups.join(", "))
                };
                Ok(format!(
                    "SELECT {} FROM ({inner}) AS {a}{group}",
                    items.join(", ")
                ))
            }
            Op::Sort { input, keys, limit } => {
                let inner = self.node(input)?;
                let a = self.next_alias();
                let mut order = Vec::new();
                for (k, desc) in keys {
                    let e = self.expr(k, &a)?;
                    order.push(format!("{e} {}", if *desc { "DESC" } else { "ASC" }));
                }
                let mut sql = format!(
                    "SELECT {} FROM ({inner}) AS {a} ORDER BY {}",
                    passthrough(&a, input.columns.len()),
                    order.join(", ")
                );
                if let Some(n) = limit {
                    let p = self.param(SqlParam::Int(*n));
                    sql.push_str(&format!(" LIMIT {p}"));
                }
                Ok(sql)
            }
            Op::Limit(input, n) => {
                let inner = self.node(input)?;
                let a = self.next_alias();
                let p = self.param(SqlParam::Int(*n));
                Ok(format!(
                    "SELECT {} FROM ({inner}) AS {a} LIMIT {p}",
                    passthrough(&a, input.columns.len())
                ))
            }
            Op::Distinct(input, cols) => {
                let inner = self.node(input)?;
                let a = self.next_alias();
                let items: Vec<String> = cols
                    .iter()
                    .enumerate()
                    .map(|(o, i)| format!("{a}.{} AS {}", c(*i), c(o)))
                    .collect();
                Ok(format!(
                    "SELECT DISTINCT {} FROM ({inner}) AS {a}",
                    items.join(", ")
                ))
            }
            Op::Join {
                left,
                right,
                left_outer,
                on,
            } => {
                let l = self.node(left)?;
                let r = self.node(right)?;
                let (la, ra) = (self.next_alias(), self.next_alias());
                let mut items = Vec::new();
                for i in 0..left.columns.len() {
                    items.push(format!("{la}.{} AS {}", c(i), c(items.len())));
                }
                for i in 0..right.columns.len() {
                    items.push(format!("{ra}.{} AS {}", c(i), c(items.len())));
                }
                let cond: Vec<String> = on
                    .iter()
                    .map(|(x, y)| format!("{la}.{} = {ra}.{}", c(*x), c(*y)))
                    .collect();
                let kind = if *left_outer { "LEFT JOIN" } else { "JOIN" };
                Ok(format!(
                    "SELECT {} FROM ({l}) AS {la} {kind} ({r}) AS {ra} ON {}",
                    items.join(", "),
                    cond.join(" AND ")
                ))
            }
            Op::Union(legs) => {
                let mut parts = Vec::new();
                for (leg, map) in legs {
                    let inner = self.node(leg)?;
                    let a = self.next_alias();
                    let items: Vec<String> = map
                        .iter()
                        .enumerate()
                        .map(|(o, m)| match m {
                            Some(i) => format!("{a}.{} AS {}", c(*i), c(o)),
                            None => format!("NULL AS {}", c(o)),
                        })
                        .collect();
                    parts.push(format!("SELECT {} FROM ({inner}) AS {a}", items.join(", ")));
                }
                Ok(parts.join(" UNION ALL "))
            }
        }
    }

    fn scan(&mut self, t: &TableDef) -> String {
        let mut items = Vec::new();
        for (i, col) in t.columns.iter().enumerate() {
            let src = match col.source {
                Source::Physical(p) => self.d.physical(p),
                Source::Time => "h.ts".to_owned(),
                Source::Tenant => "h.tenant_id".to_owned(),
                Source::Seq => "h.seq".to_owned(),
                Source::Alert(sql) => sql.to_owned(),
            };
            items.push(format!("{src} AS {}", c(i)));
        }
        let (from, tenant, time) = match t.backing {
            Backing::Events(_) => ("hunt_events AS h", "h.tenant_id", "h.ts"),
            Backing::Alerts => ("alerts AS a", "a.tenant_id", "a.last_activity"),
            Backing::AlertEntities => (
                "alert_entities AS e JOIN alerts AS a ON a.id = e.alert_id",
                "e.tenant_id",
                "a.last_activity",
            ),
        };
        let mut cond = Vec::new();
        if let Backing::Events(code) = t.backing {
            let p = self.param(SqlParam::Int(code));
            cond.push(format!("h.tbl = {p}"));
        }
        let tenants: Vec<String> = self
            .scope
            .tenants
            .clone()
            .into_iter()
            .map(|id| self.param(SqlParam::Text(id)))
            .collect();
        if tenants.is_empty() {
            // No tenant in scope: nothing, by construction.
            cond.push("0 = 1".to_owned());
        } else {
            cond.push(format!("{tenant} IN ({})", tenants.join(", ")));
        }
        if let Some(from) = self.scope.from_micros {
            let p = self.param(SqlParam::Int(from));
            cond.push(format!("{time} >= {p}"));
        }
        if let Some(to) = self.scope.to_micros {
            let p = self.param(SqlParam::Int(to));
            cond.push(format!("{time} < {p}"));
        }
        format!(
            "SELECT {} FROM {from} WHERE {}",
            items.join(", "),
            cond.join(" AND ")
        )
    }

    fn agg(&mut self, agg: &Agg, a: &str, real: bool) -> Result<Vec<String>, Unsupported> {
        Ok(match agg {
            Agg::Count => vec!["count(*)".to_owned()],
            Agg::CountIf(e) => {
                let x = format!("CASE WHEN {} THEN 1 ELSE 0 END", self.expr(e, a)?);
                vec![self.d.numeric_agg("sum", &x, real)]
            }
            Agg::DCount(e) => vec![format!("count(DISTINCT {})", self.expr(e, a)?)],
            Agg::Sum(e) => {
                let x = self.expr(e, a)?;
                vec![self.d.numeric_agg("sum", &x, real)]
            }
            Agg::Min(e) => vec![format!("min({})", self.expr(e, a)?)],
            Agg::Max(e) => vec![format!("max({})", self.expr(e, a)?)],
            Agg::Avg(e) => {
                let x = self.expr(e, a)?;
                vec![self.d.numeric_agg("avg", &x, true)]
            }
            Agg::MakeSet(e) => {
                let x = self.expr(e, a)?;
                vec![self.d.make_set(&x)]
            }
            Agg::ArgExtreme { by, max, columns } => {
                let by = self.expr(by, a)?;
                let mut out = vec![format!("{}({by})", if *max { "max" } else { "min" })];
                for i in columns {
                    let col = format!("{a}.{}", c(*i));
                    if self.d.bare_arg_extreme() {
                        out.push(col);
                    } else {
                        out.push(self.d.arg_extreme_pick(&col, &by, *max).ok_or_else(|| {
                            Unsupported(
                                "arg_max and arg_min are not supported on this store yet".into(),
                            )
                        })?);
                    }
                }
                out
            }
        })
    }

    fn expr(&mut self, e: &E, a: &str) -> Result<String, Unsupported> {
        Ok(match e {
            E::Col(i) => format!("{a}.{}", c(*i)),
            E::Param(p) => self.param(p.clone()),
            E::Bin(op, l, r) => {
                let (l, r) = (self.expr(l, a)?, self.expr(r, a)?);
                let op = match op {
                    Bin::Eq => "=",
                    Bin::Ne => "<>",
                    Bin::Lt => "<",
                    Bin::Le => "<=",
                    Bin::Gt => ">",
                    Bin::Ge => ">=",
                    Bin::And => "AND",
                    Bin::Or => "OR",
                    Bin::Add => "+",
                    Bin::Sub => "-",
                    Bin::Mul => "*",
                    Bin::Div => "/",
                    Bin::Mod => "%",
                };
                format!("({l} {op} {r})")
            }
            E::Not(x) => format!("(NOT {})", self.expr(x, a)?),
            E::NotTrue(x) => {
                let x = self.expr(x, a)?;
                self.d.not_true(&x)
            }
            E::Neg(x) => format!("(-{})", self.expr(x, a)?),
            E::Like(x, p) => {
                let (x, p) = (self.expr(x, a)?, self.expr(p, a)?);
                self.d.like_ci(&x, &p)
            }
            E::Instr(x, n) => {
                let (x, n) = (self.expr(x, a)?, self.expr(n, a)?);
                format!("({} > 0)", self.d.instr(&x, &n))
            }
            E::Regex(x, p) => {
                let x = self.expr(x, a)?;
                let p = match &**p {
                    E::Param(SqlParam::Text(t)) => {
                        self.param(SqlParam::Text(self.d.regex_pattern(t)))
                    }
                    other => self.expr(other, a)?,
                };
                self.d.regex(&x, &p)
            }
            E::InList {
                expr,
                items,
                negated,
            } => {
                if items.is_empty() {
                    return Ok(if *negated { "1".into() } else { "0".into() });
                }
                let x = self.expr(expr, a)?;
                let mut list = Vec::new();
                for it in items {
                    list.push(self.expr(it, a)?);
                }
                format!(
                    "({x} {}IN ({}))",
                    if *negated { "NOT " } else { "" },
                    list.join(", ")
                )
            }
            E::IsNull(x, negated) => format!(
                "({} IS {}NULL)",
                self.expr(x, a)?,
                if *negated { "NOT " } else { "" }
            ),
            E::NotEmpty(x) => format!("(coalesce({}, '') <> '')", self.expr(x, a)?),
            E::Concat(parts) => {
                let mut out = Vec::new();
                for p in parts {
                    out.push(format!("coalesce({}, '')", self.expr(p, a)?));
                }
                format!("({})", out.join(" || "))
            }
            E::Json(x, path) => {
                let (x, p) = (self.expr(x, a)?, self.expr(path, a)?);
                self.d.json_extract(&x, &p)
            }
            E::Func(f, args) => {
                let mut xs = Vec::new();
                for x in args {
                    xs.push(self.expr(x, a)?);
                }
                match f {
                    Func::Lower => format!("lower({})", xs.join(", ")),
                    Func::Upper => format!("upper({})", xs.join(", ")),
                    Func::Length => format!("length({})", xs.join(", ")),
                    Func::Coalesce => format!("coalesce({})", xs.join(", ")),
                    Func::Substring => {
                        // KQL counts from 0, SQL from 1.
                        let start = self.d.int_arg(&format!(
                            "(({}) + 1)",
                            xs.get(1).cloned().unwrap_or_else(|| "0".into())
                        ));
                        match xs.get(2) {
                            Some(len) => {
                                format!("substr({}, {start}, {})", xs[0], self.d.int_arg(len))
                            }
                            None => format!("substr({}, {start})", xs[0]),
                        }
                    }
                    Func::ToText | Func::ToInt | Func::ToReal => self.d.cast(&xs.join(", "), *f),
                }
            }
            E::Case(cond, x, y) => {
                let (cond, x, y) = (self.expr(cond, a)?, self.expr(x, a)?, self.expr(y, a)?);
                format!("(CASE WHEN {cond} THEN {x} ELSE {y} END)")
            }
            E::Bin_(x, size) => {
                let (x, s) = (self.expr(x, a)?, self.expr(size, a)?);
                format!("((({x}) / ({s})) * ({s}))")
            }
        })
    }
}

fn passthrough(a: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{a}.{} AS {}", c(i), c(i)))
        .collect::<Vec<_>>()
        .join(", ")
}
