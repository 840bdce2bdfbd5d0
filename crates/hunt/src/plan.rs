//! From the syntax tree to the logical plan: tables and columns resolved
//! against the schema (unknown names answered with the closest known
//! ones), `let` bindings substituted, types checked, literals turned into
//! bound parameters.

use std::collections::HashMap;

use vigil_core::hunting::SqlParam;

use crate::ast::{self, Assign, BinOp, Expr, JoinKind, LetValue, ListOp, Literal, Name, Operator};
use crate::error::{HuntError, Pos, did_you_mean, suggest};
use crate::ir::{Agg, Bin, Column, E, Func, Node, Op};
use crate::schema::{self, Type};

/// What planning needs from outside: the query text (for positions), the
/// time "now" is, and whether rows must keep their tenant.
#[derive(Debug, Clone)]
pub struct PlanContext<'a> {
    pub src: &'a str,
    pub now_micros: i64,
    /// Provider-wide hunts keep `TenantId` through every operator, so each
    /// row stays labelled with its tenant and nothing mixes tenants.
    pub keep_tenant: bool,
}

/// The plan and facts about the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub root: Node,
    /// Some `where` names `Timestamp`: no default lookback is needed.
    pub filters_time: bool,
}

type R<T> = Result<T, HuntError>;

#[derive(Debug, Clone)]
enum Binding {
    Scalar(E, Type),
    List(Vec<(E, Type)>),
    Tabular(ast::Tabular),
}

pub fn plan(q: &ast::Query, ctx: &PlanContext<'_>) -> R<Planned> {
    let mut p = Planner {
        ctx,
        lets: HashMap::new(),
        filters_time: false,
        in_where: false,
        auto: 0,
    };
    for l in &q.lets {
        let b = match &l.value {
            LetValue::Tabular(t) => {
                // `let x = other;` where `other` is a scalar binding.
                if let (ast::Source::Name(n), true) = (&t.source, t.ops.is_empty())
                    && let Some(b) = p.lets.get(&n.text)
                    && !matches!(b, Binding::Tabular(_))
                {
                    b.clone()
                } else {
                    Binding::Tabular(t.clone())
                }
            }
            LetValue::Scalar(Expr::Call { name, args }) if name.text == "dynamic" => {
                let mut items = Vec::new();
                for a in args {
                    items.push(p.constant(a)?);
                }
                Binding::List(items)
            }
            LetValue::Scalar(e) => {
                let (e, t) = p.constant(e)?;
                Binding::Scalar(e, t)
            }
        };
        p.lets.insert(l.name.text.clone(), b);
    }
    let root = p.tabular(&q.body)?;
    Ok(Planned {
        root,
        filters_time: p.filters_time,
    })
}

struct Planner<'a> {
    ctx: &'a PlanContext<'a>,
    lets: HashMap<String, Binding>,
    filters_time: bool,
    in_where: bool,
    auto: usize,
}

/// A scope: the input's columns, plus names an `extend` defined earlier in
/// the same operator (inlined).
struct Scope<'a> {
    cols: &'a [Column],
    inline: Vec<(String, E, Type)>,
}

impl<'a> Scope<'a> {
    fn of(cols: &'a [Column]) -> Self {
        Scope {
            cols,
            inline: Vec::new(),
        }
    }
}

fn position(cols: &[Column], name: &str) -> Option<usize> {
    cols.iter().position(|c| c.name == name)
}

const FUNCTIONS: [&str; 31] = [
    "ago",
    "now",
    "datetime",
    "bin",
    "floor",
    "tolower",
    "toupper",
    "strcat",
    "strlen",
    "isnotempty",
    "isempty",
    "isnull",
    "isnotnull",
    "tostring",
    "toint",
    "tolong",
    "toreal",
    "todouble",
    "iff",
    "iif",
    "parse_json",
    "todynamic",
    "substring",
    "coalesce",
    "not",
    "dynamic",
    "startofday",
    "tobool",
    "strcat_delim",
    "timespan",
    "totimespan",
];

const AGGREGATES: [&str; 11] = [
    "count",
    "countif",
    "dcount",
    "sum",
    "min",
    "max",
    "avg",
    "make_set",
    "arg_max",
    "arg_min",
    "make_list",
];

impl Planner<'_> {
    fn pos(&self, at: usize) -> Pos {
        Pos::of(self.ctx.src, at)
    }

    fn err(&self, at: usize, msg: impl Into<String>) -> HuntError {
        HuntError::plan(self.pos(at), msg)
    }

    fn tabular(&mut self, t: &ast::Tabular) -> R<Node> {
        let mut node = match &t.source {
            ast::Source::Name(n) => self.source(n)?,
            ast::Source::Union(legs, at) => self.union(None, legs, *at)?,
        };
        for op in &t.ops {
            node = self.operator(node, op)?;
        }
        Ok(node)
    }

    fn source(&mut self, n: &Name) -> R<Node> {
        if let Some(Binding::Tabular(t)) = self.lets.get(&n.text).cloned() {
            return self.tabular(&t);
        }
        if let Some(def) = schema::table(&n.text) {
            return Ok(Node {
                op: Op::Scan(def),
                columns: def
                    .columns
                    .iter()
                    .map(|c| Column {
                        name: c.name.to_owned(),
                        ty: c.ty,
                    })
                    .collect(),
            });
        }
        let mut known: Vec<&str> = schema::TABLES.iter().map(|t| t.name).collect();
        known.extend(
            self.lets
                .iter()
                .filter(|(_, b)| matches!(b, Binding::Tabular(_)))
                .map(|(k, _)| k.as_str()),
        );
        Err(self.err(
            n.at,
            format!(
                "unknown table `{}`{}",
                n.text,
                did_you_mean(&suggest(&n.text, known))
            ),
        ))
    }

    fn tenant_col(cols: &[Column]) -> Option<usize> {
        position(cols, "TenantId")
    }

    fn operator(&mut self, input: Node, op: &Operator) -> R<Node> {
        match op {
            Operator::Where(e) => {
                self.in_where = true;
                let r = self.expr(e, &Scope::of(&input.columns));
                self.in_where = false;
                let (pred, ty) = r?;
                if !matches!(ty, Type::Bool | Type::Dynamic) {
                    return Err(self.err(
                        e.at(),
                        format!(
                            "`where` needs a true/false condition, this is {}",
                            ty.as_str()
                        ),
                    ));
                }
                let columns = input.columns.clone();
                Ok(Node {
                    op: Op::Filter(Box::new(input), pred),
                    columns,
                })
            }
            Operator::Project(items) => self.project(input, items, false),
            Operator::Extend(items) => self.project(input, items, true),
            Operator::ProjectAway(names) => {
                let mut drop = Vec::new();
                for n in names {
                    drop.push(self.column_index(&input.columns, n)?);
                }
                if self.ctx.keep_tenant
                    && let Some(t) = Self::tenant_col(&input.columns)
                {
                    drop.retain(|i| *i != t);
                }
                let keep: Vec<usize> = (0..input.columns.len())
                    .filter(|i| !drop.contains(i))
                    .collect();
                Ok(select(input, &keep))
            }
            Operator::ProjectKeep(names) => {
                let mut keep = Vec::new();
                for n in names {
                    keep.push(self.column_index(&input.columns, n)?);
                }
                keep.sort_unstable();
                keep.dedup();
                self.keep_tenant_in(&input.columns, &mut keep);
                Ok(select(input, &keep))
            }
            Operator::ProjectRename(pairs) => {
                let mut node = input;
                for (new, old) in pairs {
                    let i = self.column_index(&node.columns, old)?;
                    if self.ctx.keep_tenant && old.text == "TenantId" {
                        return Err(self.err(
                            old.at,
                            "a provider-wide hunt keeps `TenantId`: it cannot be renamed",
                        ));
                    }
                    if position(&node.columns, &new.text).is_some_and(|j| j != i) {
                        return Err(
                            self.err(new.at, format!("column `{}` already exists", new.text))
                        );
                    }
                    node.columns[i].name.clone_from(&new.text);
                }
                Ok(node)
            }
            Operator::Summarize { aggregates, by, at } => {
                self.summarize(input, aggregates, by, *at)
            }
            Operator::Count => {
                let mut keys = Vec::new();
                let mut columns = Vec::new();
                if self.ctx.keep_tenant
                    && let Some(t) = Self::tenant_col(&input.columns)
                {
                    keys.push(E::Col(t));
                    columns.push(input.columns[t].clone());
                }
                columns.push(Column {
                    name: "Count".into(),
                    ty: Type::Long,
                });
                Ok(Node {
                    op: Op::Aggregate {
                        input: Box::new(input),
                        keys,
                        aggs: vec![Agg::Count],
                    },
                    columns,
                })
            }
            Operator::Top {
                count,
                by,
                descending,
            } => {
                let n = self.count_arg(count)?;
                let (key, _) = self.expr(by, &Scope::of(&input.columns))?;
                let columns = input.columns.clone();
                Ok(Node {
                    op: Op::Sort {
                        input: Box::new(input),
                        keys: vec![(key, *descending)],
                        limit: Some(n),
                    },
                    columns,
                })
            }
            Operator::Take(count) => {
                let n = self.count_arg(count)?;
                let columns = input.columns.clone();
                Ok(match input.op {
                    Op::Sort {
                        input: inner,
                        keys,
                        limit,
                    } => Node {
                        op: Op::Sort {
                            input: inner,
                            keys,
                            limit: Some(limit.map_or(n, |l| l.min(n))),
                        },
                        columns,
                    },
                    op => Node {
                        op: Op::Limit(
                            Box::new(Node {
                                op,
                                columns: columns.clone(),
                            }),
                            n,
                        ),
                        columns,
                    },
                })
            }
            Operator::Sort(keys) => {
                let scope = Scope::of(&input.columns);
                let mut out = Vec::new();
                for k in keys {
                    out.push((self.expr(&k.expr, &scope)?.0, k.descending));
                }
                let columns = input.columns.clone();
                Ok(Node {
                    op: Op::Sort {
                        input: Box::new(input),
                        keys: out,
                        limit: None,
                    },
                    columns,
                })
            }
            Operator::Distinct(names, _) => {
                let mut cols = Vec::new();
                if names.is_empty() {
                    cols = (0..input.columns.len()).collect();
                } else {
                    for n in names {
                        cols.push(self.column_index(&input.columns, n)?);
                    }
                    self.keep_tenant_in(&input.columns, &mut cols);
                }
                let columns = cols.iter().map(|i| input.columns[*i].clone()).collect();
                Ok(Node {
                    op: Op::Distinct(Box::new(input), cols),
                    columns,
                })
            }
            Operator::Join {
                kind,
                right,
                on,
                at,
            } => self.join(input, *kind, right, on, *at),
            Operator::Union(legs, at) => self.union(Some(input), legs, *at),
        }
    }

    /// Provider-wide: the tenant column stays (first) in a column list.
    fn keep_tenant_in(&self, cols: &[Column], list: &mut Vec<usize>) {
        if self.ctx.keep_tenant
            && let Some(t) = Self::tenant_col(cols)
            && !list.contains(&t)
        {
            list.insert(0, t);
        }
    }

    fn count_arg(&mut self, e: &Expr) -> R<i64> {
        match self.constant(e)? {
            (E::Param(SqlParam::Int(n)), _) if n >= 0 => Ok(n),
            _ => Err(self.err(e.at(), "expected a whole number of rows")),
        }
    }

    fn column_index(&self, cols: &[Column], n: &Name) -> R<usize> {
        position(cols, &n.text).ok_or_else(|| self.unknown_column(cols, n))
    }

    fn unknown_column(&self, cols: &[Column], n: &Name) -> HuntError {
        let hint = if schema::table(&n.text).is_some() {
            " (a table cannot be used here)".to_owned()
        } else {
            did_you_mean(&suggest(&n.text, cols.iter().map(|c| c.name.as_str())))
        };
        self.err(n.at, format!("unknown column `{}`{hint}", n.text))
    }

    fn auto_name(&mut self) -> String {
        self.auto += 1;
        format!("Column{}", self.auto)
    }

    /// The name KQL gives an unnamed expression.
    fn default_name(&mut self, e: &Expr) -> String {
        match e {
            Expr::Column(n) => n.text.clone(),
            Expr::Call { name, args } if matches!(name.text.as_str(), "bin" | "floor") => {
                match args.first() {
                    Some(Expr::Column(n)) => n.text.clone(),
                    _ => self.auto_name(),
                }
            }
            Expr::Member { field, .. } => field.clone(),
            _ => self.auto_name(),
        }
    }

    fn project(&mut self, input: Node, items: &[Assign], extend: bool) -> R<Node> {
        let mut exprs: Vec<E> = Vec::new();
        let mut columns: Vec<Column> = Vec::new();
        if extend {
            exprs = (0..input.columns.len()).map(E::Col).collect();
            columns.clone_from(&input.columns);
        }
        let mut scope = Scope::of(&input.columns);
        for item in items {
            let name = match &item.name {
                Some(n) => n.text.clone(),
                None => self.default_name(&item.expr),
            };
            let (e, ty) = self.expr(&item.expr, &scope)?;
            if extend {
                scope.inline.push((name.clone(), e.clone(), ty));
            }
            if self.ctx.keep_tenant
                && name == "TenantId"
                && e != E::Col(Self::tenant_col(&input.columns).unwrap_or(usize::MAX))
            {
                return Err(self.err(
                    item.expr.at(),
                    "a provider-wide hunt keeps `TenantId`: name this column otherwise",
                ));
            }
            match position(&columns, &name) {
                Some(i) if extend => {
                    exprs[i] = e;
                    columns[i].ty = ty;
                }
                Some(_) => {
                    let at = item.name.as_ref().map_or(item.expr.at(), |n| n.at);
                    return Err(self.err(at, format!("column `{name}` appears twice")));
                }
                None => {
                    exprs.push(e);
                    columns.push(Column { name, ty });
                }
            }
        }
        if self.ctx.keep_tenant
            && let Some(t) = Self::tenant_col(&input.columns)
            && position(&columns, "TenantId").is_none()
        {
            exprs.insert(0, E::Col(t));
            columns.insert(0, input.columns[t].clone());
        }
        Ok(Node {
            op: Op::Project(Box::new(input), exprs),
            columns,
        })
    }

    fn summarize(
        &mut self,
        input: Node,
        aggregates: &[Assign],
        by: &[Assign],
        at: usize,
    ) -> R<Node> {
        let scope = Scope::of(&input.columns);
        let mut keys = Vec::new();
        let mut columns: Vec<Column> = Vec::new();
        if self.ctx.keep_tenant
            && let Some(t) = Self::tenant_col(&input.columns)
            && !by.iter().any(|b| {
                b.name.is_none() && matches!(&b.expr, Expr::Column(n) if n.text == "TenantId")
            })
        {
            keys.push(E::Col(t));
            columns.push(input.columns[t].clone());
        }
        for b in by {
            let name = match &b.name {
                Some(n) => n.text.clone(),
                None => self.default_name(&b.expr),
            };
            let (e, ty) = self.expr(&b.expr, &scope)?;
            if position(&columns, &name).is_some() {
                return Err(self.err(b.expr.at(), format!("column `{name}` appears twice")));
            }
            keys.push(e);
            columns.push(Column { name, ty });
        }
        let mut aggs = Vec::new();
        let mut extremes = 0;
        let mut min_max = false;
        for a in aggregates {
            let Expr::Call { name, args } = &a.expr else {
                return Err(self.err(
                    a.expr.at(),
                    "expected an aggregate such as count(), dcount(X) or arg_max(X, *)",
                ));
            };
            let f = name.text.as_str();
            let arg = |p: &mut Self, i: usize| -> R<(E, Type)> {
                match args.get(i) {
                    Some(x) => p.expr(x, &scope),
                    None => Err(p.err(name.at, format!("`{f}` needs an argument"))),
                }
            };
            let mut named = |p: &mut Self, default: String, ty: Type| -> R<()> {
                let n = a.name.as_ref().map_or(default, |n| n.text.clone());
                if position(&columns, &n).is_some() {
                    return Err(p.err(a.expr.at(), format!("column `{n}` appears twice")));
                }
                columns.push(Column { name: n, ty });
                Ok(())
            };
            let suffix = |p: &mut Self| -> String {
                match args.first() {
                    Some(Expr::Column(c)) => c.text.clone(),
                    _ => {
                        let n = p.auto_name();
                        n.trim_start_matches("Column").to_owned()
                    }
                }
            };
            match f {
                "count" => {
                    if args.len() > 1 || args.first().is_some_and(|x| !matches!(x, Expr::Star(_))) {
                        return Err(self.err(
                            name.at,
                            "`count()` takes no argument (use countif(condition) or dcount(X))",
                        ));
                    }
                    named(self, "count_".into(), Type::Long)?;
                    aggs.push(Agg::Count);
                }
                "countif" => {
                    let (e, ty) = arg(self, 0)?;
                    if ty != Type::Bool {
                        return Err(self.err(name.at, "`countif` needs a true/false condition"));
                    }
                    named(self, "countif_".into(), Type::Long)?;
                    aggs.push(Agg::CountIf(e));
                }
                "dcount" => {
                    let (e, _) = arg(self, 0)?;
                    let s = suffix(self);
                    named(self, format!("dcount_{s}"), Type::Long)?;
                    aggs.push(Agg::DCount(e));
                }
                "sum" | "avg" => {
                    let (e, ty) = arg(self, 0)?;
                    if !ty.is_numeric() && ty != Type::Dynamic {
                        return Err(self.err(
                            name.at,
                            format!("`{f}` needs a number, this is {}", ty.as_str()),
                        ));
                    }
                    let s = suffix(self);
                    let out = if f == "avg" { Type::Real } else { ty };
                    named(self, format!("{f}_{s}"), out)?;
                    aggs.push(if f == "sum" { Agg::Sum(e) } else { Agg::Avg(e) });
                }
                "min" | "max" => {
                    let (e, ty) = arg(self, 0)?;
                    let s = suffix(self);
                    named(self, format!("{f}_{s}"), ty)?;
                    min_max = true;
                    aggs.push(if f == "min" { Agg::Min(e) } else { Agg::Max(e) });
                }
                "make_set" | "make_list" => {
                    let (e, _) = arg(self, 0)?;
                    let s = suffix(self);
                    let prefix = if f == "make_set" { "set" } else { "list" };
                    named(self, format!("{prefix}_{s}"), Type::Dynamic)?;
                    aggs.push(Agg::MakeSet(e));
                }
                "arg_max" | "arg_min" => {
                    extremes += 1;
                    let (by_e, by_ty) = arg(self, 0)?;
                    let by_name = match args.first() {
                        Some(Expr::Column(c)) => c.text.clone(),
                        _ => format!("{}_", f.trim_start_matches("arg_")),
                    };
                    named(self, by_name.clone(), by_ty)?;
                    let mut cols = Vec::new();
                    for x in &args[1..] {
                        match x {
                            Expr::Star(_) => {
                                for (i, c) in input.columns.iter().enumerate() {
                                    if c.name != by_name
                                        && position(&columns, &c.name).is_none()
                                        && !cols.contains(&i)
                                    {
                                        cols.push(i);
                                    }
                                }
                            }
                            Expr::Column(n) => {
                                let i = self.column_index(&input.columns, n)?;
                                if position(&columns, &n.text).is_some() {
                                    continue;
                                }
                                cols.push(i);
                            }
                            other => {
                                return Err(self.err(
                                    other.at(),
                                    format!(
                                        "`{f}` takes column names or `*` after its first argument"
                                    ),
                                ));
                            }
                        }
                        for i in &cols {
                            if position(&columns, &input.columns[*i].name).is_none() {
                                columns.push(input.columns[*i].clone());
                            }
                        }
                    }
                    aggs.push(Agg::ArgExtreme {
                        by: by_e,
                        max: f == "arg_max",
                        columns: cols,
                    });
                }
                other => {
                    let hint = did_you_mean(&suggest(other, AGGREGATES));
                    return Err(self.err(name.at, format!("unknown aggregate `{other}`{hint}")));
                }
            }
        }
        if extremes > 1 || (extremes == 1 && min_max) {
            return Err(self.err(at, "one `summarize` may hold one arg_max or arg_min and then no min or max: split it in two"));
        }
        Ok(Node {
            op: Op::Aggregate {
                input: Box::new(input),
                keys,
                aggs,
            },
            columns,
        })
    }

    fn join(
        &mut self,
        left: Node,
        kind: JoinKind,
        right: &ast::Tabular,
        on: &[ast::JoinKey],
        at: usize,
    ) -> R<Node> {
        let right = self.tabular(right)?;
        let mut pairs = Vec::new();
        for k in on {
            let l = self.column_index(&left.columns, &k.left)?;
            let r = self.column_index(&right.columns, &k.right)?;
            let (lt, rt) = (left.columns[l].ty, right.columns[r].ty);
            if lt != rt && lt != Type::Dynamic && rt != Type::Dynamic {
                return Err(self.err(
                    k.left.at,
                    format!(
                        "join keys differ in type: `{}` is {}, `{}` is {}",
                        k.left.text,
                        lt.as_str(),
                        k.right.text,
                        rt.as_str()
                    ),
                ));
            }
            pairs.push((l, r));
        }
        if self.ctx.keep_tenant {
            match (
                Self::tenant_col(&left.columns),
                Self::tenant_col(&right.columns),
            ) {
                (Some(l), Some(r)) => {
                    if !pairs.contains(&(l, r)) {
                        pairs.push((l, r));
                    }
                }
                _ => {
                    return Err(self.err(at, "a provider-wide join needs `TenantId` on both sides"));
                }
            }
        }
        let mut columns = left.columns.clone();
        for c in &right.columns {
            let mut name = c.name.clone();
            let mut n = 1;
            while position(&columns, &name).is_some() {
                name = format!("{}{n}", c.name);
                n += 1;
            }
            columns.push(Column { name, ty: c.ty });
        }
        Ok(Node {
            op: Op::Join {
                left: Box::new(left),
                right: Box::new(right),
                left_outer: kind == JoinKind::LeftOuter,
                on: pairs,
            },
            columns,
        })
    }

    fn union(&mut self, first: Option<Node>, legs: &[ast::Tabular], _at: usize) -> R<Node> {
        let mut nodes: Vec<Node> = first.into_iter().collect();
        for l in legs {
            nodes.push(self.tabular(l)?);
        }
        let mut columns: Vec<Column> = Vec::new();
        for n in &nodes {
            for c in &n.columns {
                match position(&columns, &c.name) {
                    Some(i) if columns[i].ty != c.ty => columns[i].ty = Type::Dynamic,
                    Some(_) => {}
                    None => columns.push(c.clone()),
                }
            }
        }
        let legs = nodes
            .into_iter()
            .map(|n| {
                let map = columns
                    .iter()
                    .map(|c| position(&n.columns, &c.name))
                    .collect();
                (n, map)
            })
            .collect();
        Ok(Node {
            op: Op::Union(legs),
            columns,
        })
    }

    /// An expression that needs no columns (`let` values, `take` counts).
    fn constant(&mut self, e: &Expr) -> R<(E, Type)> {
        self.expr(e, &Scope::of(&[]))
    }

    fn expr(&mut self, e: &Expr, scope: &Scope<'_>) -> R<(E, Type)> {
        match e {
            Expr::Lit(l, _) => Ok(literal(l)),
            Expr::Column(n) => self.column(n, scope),
            Expr::Star(at) => {
                Err(self.err(*at, "`*` is only allowed in count(*) and arg_max(X, *)"))
            }
            Expr::DateTime(text, at) => {
                let micros = parse_datetime(text).ok_or_else(|| self.err(*at, format!("cannot read `{text}` as a date and time (use 2026-11-27, 2026-11-27 10:00 or 2026-11-27T10:00:00Z)")))?;
                Ok((E::int(micros), Type::DateTime))
            }
            Expr::Not(inner, at) => {
                let (x, ty) = self.expr(inner, scope)?;
                self.want_bool(ty, *at, "not()")?;
                Ok((E::Not(Box::new(x)), Type::Bool))
            }
            Expr::Neg(inner, at) => {
                let (x, ty) = self.expr(inner, scope)?;
                if !ty.is_numeric() && ty != Type::Timespan {
                    return Err(self.err(*at, format!("cannot negate a {}", ty.as_str())));
                }
                Ok((E::Neg(Box::new(x)), ty))
            }
            Expr::Member { base, field, at } => {
                let (b, ty) = self.expr(base, scope)?;
                if !matches!(ty, Type::Dynamic | Type::String) {
                    return Err(self.err(
                        *at,
                        format!(
                            "`.{field}` needs a dynamic value (use parse_json(…)), this is {}",
                            ty.as_str()
                        ),
                    ));
                }
                Ok((json_path(b, field), Type::Dynamic))
            }
            Expr::Binary {
                op,
                left,
                right,
                at,
            } => self.binary(*op, left, right, *at, scope),
            Expr::List {
                op,
                expr,
                items,
                at,
            } => self.list(*op, expr, items, *at, scope),
            Expr::Call { name, args } => self.call(name, args, scope),
        }
    }

    fn want_bool(&self, ty: Type, at: usize, what: &str) -> R<()> {
        if matches!(ty, Type::Bool | Type::Dynamic) {
            Ok(())
        } else {
            Err(self.err(
                at,
                format!(
                    "{what} needs a true/false condition, this is {}",
                    ty.as_str()
                ),
            ))
        }
    }

    fn column(&mut self, n: &Name, scope: &Scope<'_>) -> R<(E, Type)> {
        if let Some((_, e, ty)) = scope
            .inline
            .iter()
            .rev()
            .find(|(name, _, _)| *name == n.text)
        {
            return Ok((e.clone(), *ty));
        }
        if let Some(i) = position(scope.cols, &n.text) {
            if self.in_where && n.text == "Timestamp" {
                self.filters_time = true;
            }
            return Ok((E::Col(i), scope.cols[i].ty));
        }
        match self.lets.get(&n.text) {
            Some(Binding::Scalar(e, ty)) => Ok((e.clone(), *ty)),
            Some(Binding::List(_)) => Err(self.err(
                n.at,
                format!("`{}` is a list: use it with `in` or `has_any`", n.text),
            )),
            Some(Binding::Tabular(_)) => {
                Err(self.err(n.at, format!("`{}` is a table, not a value", n.text)))
            }
            None => {
                let mut known: Vec<&str> = scope.cols.iter().map(|c| c.name.as_str()).collect();
                known.extend(self.lets.keys().map(String::as_str));
                let hint = if schema::table(&n.text).is_some() {
                    " (a table cannot be used here)".to_owned()
                } else {
                    did_you_mean(&suggest(&n.text, known))
                };
                Err(self.err(n.at, format!("unknown column `{}`{hint}", n.text)))
            }
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        left: &Expr,
        right: &Expr,
        at: usize,
        scope: &Scope<'_>,
    ) -> R<(E, Type)> {
        let (l, lt) = self.expr(left, scope)?;
        let (r, rt) = self.expr(right, scope)?;
        use BinOp as B;
        let stringy = |t: Type| matches!(t, Type::String | Type::Dynamic);
        let need_strings = |p: &Self| -> R<()> {
            if stringy(lt) && stringy(rt) {
                Ok(())
            } else {
                let (side, t) = if stringy(lt) { (right, rt) } else { (left, lt) };
                Err(p.err(
                    side.at(),
                    format!("`{}` compares strings, this is {}", op.text(), t.as_str()),
                ))
            }
        };
        let not = |e: E| E::NotTrue(Box::new(e));
        Ok(match op {
            B::And | B::Or => {
                self.want_bool(lt, left.at(), &format!("`{}`", op.text()))?;
                self.want_bool(rt, right.at(), &format!("`{}`", op.text()))?;
                (
                    E::bin(if op == B::And { Bin::And } else { Bin::Or }, l, r),
                    Type::Bool,
                )
            }
            B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge => {
                self.comparable(lt, rt, right.at())?;
                let bin = match op {
                    B::Eq => Bin::Eq,
                    B::Ne => Bin::Ne,
                    B::Lt => Bin::Lt,
                    B::Le => Bin::Le,
                    B::Gt => Bin::Gt,
                    _ => Bin::Ge,
                };
                // Empty strings are stored as absent: `X == ""` holds for them.
                let l = if r.const_text() == Some("") {
                    E::Func(Func::Coalesce, vec![l, E::text("")])
                } else {
                    l
                };
                if op == B::Ne && stringy(lt) {
                    (not(E::bin(Bin::Eq, l, r)), Type::Bool)
                } else {
                    (E::bin(bin, l, r), Type::Bool)
                }
            }
            B::EqCi | B::NeCi => {
                need_strings(self)?;
                let eq = E::bin(Bin::Eq, lower(l), lower(r));
                (if op == B::EqCi { eq } else { not(eq) }, Type::Bool)
            }
            B::Has | B::NotHas | B::HasCs | B::NotHasCs => {
                need_strings(self)?;
                let term = r.const_text().map(str::to_owned).ok_or_else(|| {
                    self.err(
                        right.at(),
                        format!("`{}` needs a constant string on its right", op.text()),
                    )
                })?;
                let e = has(l, &term, matches!(op, B::Has | B::NotHas));
                (
                    if matches!(op, B::Has | B::HasCs) {
                        e
                    } else {
                        not(e)
                    },
                    Type::Bool,
                )
            }
            B::Contains | B::NotContains => {
                need_strings(self)?;
                let e = match r.const_text() {
                    Some(t) => E::Like(
                        Box::new(l),
                        Box::new(E::text(format!("%{}%", like_escape(t)))),
                    ),
                    None => E::Instr(Box::new(lower(l)), Box::new(lower(r))),
                };
                (if op == B::Contains { e } else { not(e) }, Type::Bool)
            }
            B::ContainsCs | B::NotContainsCs => {
                need_strings(self)?;
                let e = E::Instr(Box::new(l), Box::new(r));
                (if op == B::ContainsCs { e } else { not(e) }, Type::Bool)
            }
            B::StartsWith | B::NotStartsWith | B::EndsWith | B::NotEndsWith => {
                need_strings(self)?;
                let start = matches!(op, B::StartsWith | B::NotStartsWith);
                let t = r.const_text().ok_or_else(|| {
                    self.err(
                        right.at(),
                        format!("`{}` needs a constant string on its right", op.text()),
                    )
                })?;
                let pattern = if start {
                    format!("{}%", like_escape(t))
                } else {
                    format!("%{}", like_escape(t))
                };
                let e = E::Like(Box::new(l), Box::new(E::text(pattern)));
                (
                    if matches!(op, B::StartsWith | B::EndsWith) {
                        e
                    } else {
                        not(e)
                    },
                    Type::Bool,
                )
            }
            B::MatchesRegex => {
                need_strings(self)?;
                let pattern = r.const_text().ok_or_else(|| {
                    self.err(right.at(), "`matches regex` needs a constant pattern")
                })?;
                if let Err(e) = regex::Regex::new(pattern) {
                    let first = e.to_string().lines().last().unwrap_or("").trim().to_owned();
                    return Err(self.err(right.at(), format!("bad regular expression: {first}")));
                }
                (E::Regex(Box::new(l), Box::new(r)), Type::Bool)
            }
            B::Add | B::Sub | B::Mul | B::Div | B::Mod => self.arith(op, l, lt, r, rt, at)?,
        })
    }

    fn comparable(&self, a: Type, b: Type, at: usize) -> R<()> {
        let ok = a == b
            || a == Type::Dynamic
            || b == Type::Dynamic
            || (a.is_numeric() && b.is_numeric());
        if ok {
            Ok(())
        } else if a == Type::DateTime || b == Type::DateTime {
            Err(self.err(
                at,
                format!(
                    "cannot compare a datetime with a {}: use datetime(…), ago(…) or now()",
                    if a == Type::DateTime {
                        b.as_str()
                    } else {
                        a.as_str()
                    }
                ),
            ))
        } else {
            Err(self.err(
                at,
                format!("cannot compare a {} with a {}", a.as_str(), b.as_str()),
            ))
        }
    }

    fn arith(&self, op: BinOp, l: E, lt: Type, r: E, rt: Type, at: usize) -> R<(E, Type)> {
        use BinOp as B;
        let bin = match op {
            B::Add => Bin::Add,
            B::Sub => Bin::Sub,
            B::Mul => Bin::Mul,
            B::Div => Bin::Div,
            _ => Bin::Mod,
        };
        let ty = match (lt, rt) {
            (Type::DateTime, Type::Timespan) if matches!(op, B::Add | B::Sub) => Type::DateTime,
            (Type::Timespan, Type::DateTime) if op == B::Add => Type::DateTime,
            (Type::DateTime, Type::DateTime) if op == B::Sub => Type::Timespan,
            (Type::Timespan, Type::Timespan) if matches!(op, B::Add | B::Sub) => Type::Timespan,
            (Type::Timespan, Type::Long | Type::Real) if matches!(op, B::Mul | B::Div) => {
                Type::Timespan
            }
            (Type::Long, Type::Long) => Type::Long,
            (a, b) if a.is_numeric() && b.is_numeric() => Type::Real,
            (Type::Dynamic, _) | (_, Type::Dynamic) => Type::Dynamic,
            (a, b) => {
                return Err(self.err(
                    at,
                    format!(
                        "cannot apply `{}` to {} and {}",
                        op.text(),
                        a.as_str(),
                        b.as_str()
                    ),
                ));
            }
        };
        Ok((E::bin(bin, l, r), ty))
    }

    fn list(
        &mut self,
        op: ListOp,
        expr: &Expr,
        items: &[Expr],
        _at: usize,
        scope: &Scope<'_>,
    ) -> R<(E, Type)> {
        let (x, xt) = self.expr(expr, scope)?;
        let mut values: Vec<(E, Type, usize)> = Vec::new();
        for it in items {
            if let Expr::Column(n) = it
                && position(scope.cols, &n.text).is_none()
                && let Some(Binding::List(list)) = self.lets.get(&n.text)
            {
                values.extend(list.iter().map(|(e, t)| (e.clone(), *t, n.at)));
                continue;
            }
            if let Expr::Call { name, args } = it
                && name.text == "dynamic"
            {
                for a in args {
                    let (e, t) = self.constant(a)?;
                    values.push((e, t, a.at()));
                }
                continue;
            }
            let (e, t) = self.expr(it, scope)?;
            values.push((e, t, it.at()));
        }
        for (_, t, at) in &values {
            self.comparable(xt, *t, *at)?;
        }
        let ci = matches!(op, ListOp::InCi | ListOp::NotInCi);
        Ok(match op {
            ListOp::HasAny => {
                let mut any: Option<E> = None;
                for (e, _, at) in values {
                    let term = e
                        .const_text()
                        .map(str::to_owned)
                        .ok_or_else(|| self.err(at, "`has_any` needs constant strings"))?;
                    let h = has(x.clone(), &term, true);
                    any = Some(match any {
                        None => h,
                        Some(a) => E::bin(Bin::Or, a, h),
                    });
                }
                (any.unwrap_or(E::int(0)), Type::Bool)
            }
            _ => {
                let negated = matches!(op, ListOp::NotIn | ListOp::NotInCi);
                let (x, items) = if ci {
                    (
                        lower(x),
                        values.into_iter().map(|(e, _, _)| lower(e)).collect(),
                    )
                } else {
                    (x, values.into_iter().map(|(e, _, _)| e).collect())
                };
                let e = E::InList {
                    expr: Box::new(x),
                    items,
                    negated: false,
                };
                (
                    if negated { E::NotTrue(Box::new(e)) } else { e },
                    Type::Bool,
                )
            }
        })
    }

    fn call(&mut self, name: &Name, args: &[Expr], scope: &Scope<'_>) -> R<(E, Type)> {
        let f = name.text.as_str();
        let argc = |p: &Self, n: std::ops::RangeInclusive<usize>| -> R<()> {
            if n.contains(&args.len()) {
                Ok(())
            } else {
                let want = if n.start() == n.end() {
                    format!("{}", n.start())
                } else {
                    format!("{} to {}", n.start(), n.end())
                };
                Err(p.err(
                    name.at,
                    format!("`{f}` takes {want} argument(s), got {}", args.len()),
                ))
            }
        };
        let mut typed = Vec::new();
        if !matches!(f, "dynamic") {
            for a in args {
                typed.push(self.expr(a, scope)?);
            }
        }
        let now = self.ctx.now_micros;
        let one = |typed: &mut Vec<(E, Type)>| typed.remove(0);
        Ok(match f {
            "ago" => {
                argc(self, 1..=1)?;
                let (e, t) = one(&mut typed);
                if t != Type::Timespan {
                    return Err(self.err(name.at, "`ago` needs a timespan such as 7d or 1h"));
                }
                (E::bin(Bin::Sub, E::int(now), e), Type::DateTime)
            }
            "now" => {
                argc(self, 0..=1)?;
                if typed.is_empty() {
                    (E::int(now), Type::DateTime)
                } else {
                    (
                        E::bin(Bin::Add, E::int(now), one(&mut typed).0),
                        Type::DateTime,
                    )
                }
            }
            "timespan" | "totimespan" => {
                argc(self, 1..=1)?;
                (one(&mut typed).0, Type::Timespan)
            }
            "bin" | "floor" => {
                argc(self, 2..=2)?;
                let (x, xt) = one(&mut typed);
                let (size, st) = one(&mut typed);
                let ok = matches!(
                    (xt, st),
                    (Type::DateTime | Type::Timespan, Type::Timespan) | (Type::Long, Type::Long)
                );
                if !ok {
                    return Err(self.err(
                        name.at,
                        format!("`{f}` needs a datetime and a timespan, or two longs"),
                    ));
                }
                if matches!(&size, E::Param(SqlParam::Int(n)) if *n <= 0) {
                    return Err(self.err(name.at, format!("`{f}` needs a size above zero")));
                }
                (E::Bin_(Box::new(x), Box::new(size)), xt)
            }
            "startofday" => {
                argc(self, 1..=1)?;
                let (x, xt) = one(&mut typed);
                if xt != Type::DateTime {
                    return Err(self.err(name.at, "`startofday` needs a datetime"));
                }
                (
                    E::Bin_(Box::new(x), Box::new(E::int(86_400_000_000))),
                    Type::DateTime,
                )
            }
            "tolower" | "toupper" | "strlen" => {
                argc(self, 1..=1)?;
                let (x, _) = one(&mut typed);
                match f {
                    "tolower" => (E::Func(Func::Lower, vec![x]), Type::String),
                    "toupper" => (E::Func(Func::Upper, vec![x]), Type::String),
                    _ => (E::Func(Func::Length, vec![x]), Type::Long),
                }
            }
            "strcat" => {
                if args.is_empty() {
                    return Err(self.err(name.at, "`strcat` needs at least one argument"));
                }
                (
                    E::Concat(typed.into_iter().map(|(e, t)| text_of(e, t)).collect()),
                    Type::String,
                )
            }
            "strcat_delim" => {
                if args.len() < 2 {
                    return Err(self.err(name.at, "`strcat_delim` needs a delimiter and a value"));
                }
                let (d, _) = one(&mut typed);
                let mut parts = Vec::new();
                for (i, (e, t)) in typed.into_iter().enumerate() {
                    if i > 0 {
                        parts.push(d.clone());
                    }
                    parts.push(text_of(e, t));
                }
                (E::Concat(parts), Type::String)
            }
            "isnotempty" | "isempty" => {
                argc(self, 1..=1)?;
                let (x, _) = one(&mut typed);
                let e = E::NotEmpty(Box::new(x));
                (
                    if f == "isnotempty" {
                        e
                    } else {
                        E::Not(Box::new(e))
                    },
                    Type::Bool,
                )
            }
            "isnull" | "isnotnull" => {
                argc(self, 1..=1)?;
                let (x, _) = one(&mut typed);
                (E::IsNull(Box::new(x), f == "isnotnull"), Type::Bool)
            }
            "tostring" => {
                argc(self, 1..=1)?;
                let (x, t) = one(&mut typed);
                (text_of(x, t), Type::String)
            }
            "toint" | "tolong" => {
                argc(self, 1..=1)?;
                (E::Func(Func::ToInt, vec![one(&mut typed).0]), Type::Long)
            }
            "toreal" | "todouble" => {
                argc(self, 1..=1)?;
                (E::Func(Func::ToReal, vec![one(&mut typed).0]), Type::Real)
            }
            "tobool" => {
                argc(self, 1..=1)?;
                let (x, _) = one(&mut typed);
                (
                    E::InList {
                        expr: Box::new(lower(E::Func(Func::ToText, vec![x]))),
                        items: vec![E::text("true"), E::text("1")],
                        negated: false,
                    },
                    Type::Bool,
                )
            }
            "iff" | "iif" => {
                argc(self, 3..=3)?;
                let (c, ct) = one(&mut typed);
                self.want_bool(ct, args[0].at(), "`iff`")?;
                let (a, at_) = one(&mut typed);
                let (b, bt) = one(&mut typed);
                let ty = if at_ == bt { at_ } else { Type::Dynamic };
                (E::Case(Box::new(c), Box::new(a), Box::new(b)), ty)
            }
            "coalesce" => {
                if args.is_empty() {
                    return Err(self.err(name.at, "`coalesce` needs arguments"));
                }
                let ty = typed[0].1;
                (
                    E::Func(Func::Coalesce, typed.into_iter().map(|(e, _)| e).collect()),
                    ty,
                )
            }
            "substring" => {
                argc(self, 2..=3)?;
                (
                    E::Func(Func::Substring, typed.into_iter().map(|(e, _)| e).collect()),
                    Type::String,
                )
            }
            "parse_json" | "todynamic" => {
                argc(self, 1..=1)?;
                (one(&mut typed).0, Type::Dynamic)
            }
            "not" => {
                argc(self, 1..=1)?;
                let (x, t) = one(&mut typed);
                self.want_bool(t, args[0].at(), "`not`")?;
                (E::Not(Box::new(x)), Type::Bool)
            }
            "dynamic" => {
                return Err(self.err(
                    name.at,
                    "a `dynamic([…])` list can only be used with `in`, `!in` or `has_any`",
                ));
            }
            _ if AGGREGATES.contains(&f) => {
                return Err(self.err(
                    name.at,
                    format!("`{f}` is an aggregate: use it in `summarize`"),
                ));
            }
            other => {
                let hint = did_you_mean(&suggest(other, FUNCTIONS));
                return Err(self.err(name.at, format!("unknown function `{other}`{hint}")));
            }
        })
    }
}

/// Keep the listed input columns, in that order.
fn select(input: Node, keep: &[usize]) -> Node {
    let columns = keep.iter().map(|i| input.columns[*i].clone()).collect();
    Node {
        op: Op::Project(Box::new(input), keep.iter().map(|i| E::Col(*i)).collect()),
        columns,
    }
}

fn lower(e: E) -> E {
    match e {
        E::Param(SqlParam::Text(s)) => E::text(s.to_lowercase()),
        other => E::Func(Func::Lower, vec![other]),
    }
}

fn text_of(e: E, t: Type) -> E {
    if t == Type::String {
        e
    } else {
        E::Func(Func::ToText, vec![e])
    }
}

fn literal(l: &Literal) -> (E, Type) {
    match l {
        Literal::Str(s) => (E::text(s.clone()), Type::String),
        Literal::Long(n) => (E::int(*n), Type::Long),
        Literal::Real(n) => (E::Param(SqlParam::Real(*n)), Type::Real),
        Literal::Bool(b) => (E::int(i64::from(*b)), Type::Bool),
        Literal::Span(n) => (E::int(*n), Type::Timespan),
        Literal::Null => (E::Param(SqlParam::Null), Type::Dynamic),
    }
}

/// `%`, `_` and `\` escaped for `LIKE … ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// KQL's `has`: the term as a whole token (a boundary on each side where
/// the term itself starts or ends with a letter or digit), case-insensitive
/// unless `has_cs`. A `LIKE` prefilter keeps the regular expression off
/// most rows.
fn has(x: E, term: &str, ci: bool) -> E {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut pattern = String::new();
    if ci {
        pattern.push_str("(?i)");
    }
    if word(term.chars().next()) {
        pattern.push_str(r"(?:^|[^\p{L}\p{N}_])");
    }
    pattern.push_str(&regex::escape(term));
    if word(term.chars().last()) {
        pattern.push_str(r"(?:$|[^\p{L}\p{N}_])");
    }
    let prefilter = if ci {
        E::Like(
            Box::new(x.clone()),
            Box::new(E::text(format!("%{}%", like_escape(term)))),
        )
    } else {
        E::Instr(Box::new(x.clone()), Box::new(E::text(term)))
    };
    E::bin(
        Bin::And,
        prefilter,
        E::Regex(Box::new(x), Box::new(E::text(pattern))),
    )
}

/// `base.field` as a JSON path, merged into an enclosing path.
fn json_path(base: E, field: &str) -> E {
    let step = if field.starts_with('[') {
        field.to_owned()
    } else {
        format!(".\"{}\"", field.replace('\\', "\\\\").replace('"', "\\\""))
    };
    match base {
        E::Json(inner, path) => match *path {
            E::Param(SqlParam::Text(p)) => E::Json(inner, Box::new(E::text(format!("{p}{step}")))),
            other => E::Json(
                Box::new(E::Json(inner, Box::new(other))),
                Box::new(E::text(format!("${step}"))),
            ),
        },
        other => E::Json(Box::new(other), Box::new(E::text(format!("${step}")))),
    }
}

/// `2026-11-27`, `2026-11-27 10:00[:00[.fff]]`, RFC 3339 with `Z` or an
/// offset: microseconds since the epoch, UTC.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(ts.as_microsecond());
    }
    let civil: jiff::civil::DateTime = t.replace(' ', "T").parse().ok().or_else(|| {
        t.parse::<jiff::civil::Date>()
            .ok()
            .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    })?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_microsecond())
}
