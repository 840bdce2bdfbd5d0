//! The syntax tree of a query, as written (names not yet resolved). Every
//! node that can be wrong carries the byte offset it starts at.

/// A whole query: `let` statements, then one tabular expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub lets: Vec<Let>,
    pub body: Tabular,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Let {
    pub name: Name,
    pub value: LetValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LetValue {
    Scalar(Expr),
    Tabular(Tabular),
}

/// A name and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub at: usize,
}

/// A source and the operators piped after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Tabular {
    pub source: Source,
    pub ops: Vec<Operator>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A hunting table or a tabular `let`.
    Name(Name),
    /// `union A, (B | …)`.
    Union(Vec<Tabular>, usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operator {
    Where(Expr),
    Project(Vec<Assign>),
    ProjectAway(Vec<Name>),
    ProjectKeep(Vec<Name>),
    ProjectRename(Vec<(Name, Name)>),
    Extend(Vec<Assign>),
    Summarize {
        aggregates: Vec<Assign>,
        by: Vec<Assign>,
        at: usize,
    },
    Top {
        count: Expr,
        by: Expr,
        descending: bool,
    },
    Take(Expr),
    Sort(Vec<SortKey>),
    Distinct(Vec<Name>, usize),
    Count,
    Join {
        kind: JoinKind,
        right: Tabular,
        on: Vec<JoinKey>,
        at: usize,
    },
    Union(Vec<Tabular>, usize),
}

/// `Name = expr`, or a bare `expr` (named after it).
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    pub name: Option<Name>,
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    LeftOuter,
}

/// `on A` (same name both sides) or `on $left.A == $right.B`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinKey {
    pub left: Name,
    pub right: Name,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Long(i64),
    Real(f64),
    Bool(bool),
    /// Microseconds.
    Span(i64),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    EqCi,
    NeCi,
    Has,
    NotHas,
    HasCs,
    NotHasCs,
    Contains,
    NotContains,
    ContainsCs,
    NotContainsCs,
    StartsWith,
    NotStartsWith,
    EndsWith,
    NotEndsWith,
    MatchesRegex,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    pub fn text(self) -> &'static str {
        use BinOp as B;
        match self {
            B::Or => "or",
            B::And => "and",
            B::Eq => "==",
            B::Ne => "!=",
            B::Lt => "<",
            B::Le => "<=",
            B::Gt => ">",
            B::Ge => ">=",
            B::EqCi => "=~",
            B::NeCi => "!~",
            B::Has => "has",
            B::NotHas => "!has",
            B::HasCs => "has_cs",
            B::NotHasCs => "!has_cs",
            B::Contains => "contains",
            B::NotContains => "!contains",
            B::ContainsCs => "contains_cs",
            B::NotContainsCs => "!contains_cs",
            B::StartsWith => "startswith",
            B::NotStartsWith => "!startswith",
            B::EndsWith => "endswith",
            B::NotEndsWith => "!endswith",
            B::MatchesRegex => "matches regex",
            B::Add => "+",
            B::Sub => "-",
            B::Mul => "*",
            B::Div => "/",
            B::Mod => "%",
        }
    }
}

/// The list operators: `in`, `!in`, `in~`, `!in~`, `has_any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOp {
    In,
    NotIn,
    InCi,
    NotInCi,
    HasAny,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Literal, usize),
    Column(Name),
    Call {
        name: Name,
        args: Vec<Expr>,
    },
    /// `*` as an argument (`arg_max(Timestamp, *)`, `count(*)`).
    Star(usize),
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
        at: usize,
    },
    Not(Box<Expr>, usize),
    Neg(Box<Expr>, usize),
    List {
        op: ListOp,
        expr: Box<Expr>,
        items: Vec<Expr>,
        at: usize,
    },
    /// `x.field` or `x["field"]` on a dynamic value.
    Member {
        base: Box<Expr>,
        field: String,
        at: usize,
    },
    /// `datetime(…)`'s text.
    DateTime(String, usize),
}

impl Expr {
    pub fn at(&self) -> usize {
        match self {
            Expr::Lit(_, at)
            | Expr::Star(at)
            | Expr::Not(_, at)
            | Expr::Neg(_, at)
            | Expr::DateTime(_, at) => *at,
            Expr::Column(n) => n.at,
            Expr::Call { name, .. } => name.at,
            Expr::Binary { at, .. } | Expr::List { at, .. } | Expr::Member { at, .. } => *at,
        }
    }
}
