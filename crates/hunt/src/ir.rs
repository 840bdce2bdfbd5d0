//! The logical plan: operators over resolved, typed columns. Columns are
//! referred to by position, never by the names the query gave them, so no
//! query text can reach SQL as an identifier.

use vigil_core::hunting::SqlParam;

use crate::schema::{TableDef, Type};

/// An output column: the name the analyst sees and its type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: Type,
}

/// A plan node and the columns it yields.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub op: Op,
    pub columns: Vec<Column>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Scan(&'static TableDef),
    Filter(Box<Node>, E),
    /// One expression per output column.
    Project(Box<Node>, Vec<E>),
    /// Group by `keys`; output: the keys, then each aggregate's columns.
    Aggregate {
        input: Box<Node>,
        keys: Vec<E>,
        aggs: Vec<Agg>,
    },
    Sort {
        input: Box<Node>,
        keys: Vec<(E, bool)>,
        limit: Option<i64>,
    },
    Limit(Box<Node>, i64),
    /// Distinct rows of the listed input columns.
    Distinct(Box<Node>, Vec<usize>),
    Join {
        left: Box<Node>,
        right: Box<Node>,
        left_outer: bool,
        /// Pairs of (left column, right column).
        on: Vec<(usize, usize)>,
    },
    /// Each leg with, per output column, the leg's column (or NULL).
    Union(Vec<(Node, Vec<Option<usize>>)>),
}

/// An aggregate and the output columns it makes.
#[derive(Debug, Clone, PartialEq)]
pub enum Agg {
    Count,
    CountIf(E),
    DCount(E),
    Sum(E),
    Min(E),
    Max(E),
    Avg(E),
    MakeSet(E),
    /// `arg_max`/`arg_min`: the extreme of `by`, and input columns from
    /// the row holding it.
    ArgExtreme {
        by: E,
        max: bool,
        columns: Vec<usize>,
    },
}

/// SQL-neutral binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bin {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// Functions the generator knows how to write for each dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Lower,
    Upper,
    Length,
    /// `substring(s, start0, len?)`.
    Substring,
    Coalesce,
    ToText,
    ToInt,
    ToReal,
}

/// A typed expression over the input's columns.
#[derive(Debug, Clone, PartialEq)]
pub enum E {
    Col(usize),
    Param(SqlParam),
    Bin(Bin, Box<E>, Box<E>),
    Not(Box<E>),
    /// True when the inner condition is false or unknown (KQL's negated
    /// string operators hold for empty values).
    NotTrue(Box<E>),
    Neg(Box<E>),
    /// Case-insensitive `LIKE` against a pattern whose `%`, `_` and `\`
    /// are escaped with `\`.
    Like(Box<E>, Box<E>),
    /// Case-sensitive substring test.
    Instr(Box<E>, Box<E>),
    Regex(Box<E>, Box<E>),
    InList {
        expr: Box<E>,
        items: Vec<E>,
        negated: bool,
    },
    IsNull(Box<E>, bool),
    /// Not null and not the empty string.
    NotEmpty(Box<E>),
    /// String concatenation, nulls as empty.
    Concat(Vec<E>),
    /// A JSON value at a path (`$.a.b`, bound).
    Json(Box<E>, Box<E>),
    Func(Func, Vec<E>),
    Case(Box<E>, Box<E>, Box<E>),
    /// `floor(x / size) * size` on integers.
    Bin_(Box<E>, Box<E>),
}

impl E {
    pub fn text(s: impl Into<String>) -> E {
        E::Param(SqlParam::Text(s.into()))
    }

    pub fn int(n: i64) -> E {
        E::Param(SqlParam::Int(n))
    }

    pub fn bin(op: Bin, a: E, b: E) -> E {
        E::Bin(op, Box::new(a), Box::new(b))
    }

    /// The text of a constant string, when this is one.
    pub fn const_text(&self) -> Option<&str> {
        match self {
            E::Param(SqlParam::Text(s)) => Some(s),
            _ => None,
        }
    }
}
