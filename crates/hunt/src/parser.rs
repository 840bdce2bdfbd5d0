//! A recursive-descent parser over the tokens. Each error names the
//! position and what was expected there.

use crate::ast::*;
use crate::error::{ParseError, Pos};
use crate::lexer::{Tok, Token, lex};

/// Parse a query.
pub fn parse(src: &str) -> Result<Query, ParseError> {
    let tokens = lex(src)?;
    let mut p = Parser {
        src,
        tokens,
        i: 0,
        depth: 0,
    };
    let q = p.query()?;
    Ok(q)
}

/// Nesting deeper than this is refused (no stack overflow on hostile input).
const MAX_DEPTH: u32 = 64;

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    i: usize,
    depth: u32,
}

type R<T> = Result<T, ParseError>;

fn tick(s: &str) -> String {
    format!("`{s}`")
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.i.min(self.tokens.len() - 1)].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.i + n).min(self.tokens.len() - 1)].tok
    }

    fn at(&self) -> usize {
        self.tokens[self.i.min(self.tokens.len() - 1)].at
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn error(&self, expected: &[&str]) -> ParseError {
        let found = self.peek().describe();
        let list: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        ParseError::new(
            Pos::of(self.src, self.at()),
            format!("expected {}, found {found}", crate::error::or_list(&list)),
            list,
        )
    }

    fn error_msg(&self, at: usize, msg: impl Into<String>) -> ParseError {
        ParseError::new(Pos::of(self.src, at), msg.into(), Vec::new())
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(x) if x.eq_ignore_ascii_case(w))
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str, what: &[&str]) -> R<()> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn name(&mut self, what: &str) -> R<Name> {
        let at = self.at();
        match self.peek().clone() {
            Tok::Ident(text) => {
                self.bump();
                Ok(Name { text, at })
            }
            // `['Column name']`
            Tok::Sym("[") if matches!(self.peek_at(1), Tok::Str(_)) => {
                self.bump();
                let Tok::Str(text) = self.bump() else {
                    return Err(self.error(&[what]));
                };
                self.expect_sym("]", &["`]`"])?;
                Ok(Name { text, at })
            }
            _ => Err(self.error(&[what])),
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_msg(self.at(), "query is nested too deeply"));
        }
        Ok(())
    }

    fn query(&mut self) -> R<Query> {
        let mut lets = Vec::new();
        while self.is_word("let") {
            self.bump();
            let name = self.name("a name")?;
            self.expect_sym("=", &["`=`"])?;
            let value = self.let_value()?;
            self.expect_sym(";", &["`;`"])?;
            lets.push(Let { name, value });
        }
        let body = self.tabular()?;
        self.eat_sym(";");
        if !matches!(self.peek(), Tok::Eof) {
            return Err(self.error(&["`|`", "end of query"]));
        }
        Ok(Query { lets, body })
    }

    /// A `let` value: tabular when it starts with `union`, `(` followed by
    /// a tabular, or a name followed by `|`; otherwise scalar. A bare name
    /// (`let t = DeviceProcessEvents;`) is tabular: the planner decides.
    fn let_value(&mut self) -> R<LetValue> {
        if self.is_word("union")
            || (matches!(self.peek(), Tok::Ident(_))
                && matches!(self.peek_at(1), Tok::Sym("|" | ";")))
        {
            return Ok(LetValue::Tabular(self.tabular()?));
        }
        if self.is_word("view") || self.is_word("materialize") {
            return Err(self.error_msg(
                self.at(),
                "`view` and `materialize` are not supported: bind the tabular expression directly",
            ));
        }
        Ok(LetValue::Scalar(self.expr()?))
    }

    fn tabular(&mut self) -> R<Tabular> {
        self.enter()?;
        let at = self.at();
        let source = if self.eat_word("union") {
            Source::Union(self.union_legs()?, at)
        } else if self.is_sym("(") {
            self.bump();
            let inner = self.tabular()?;
            self.expect_sym(")", &["`)`", "`|`"])?;
            self.depth -= 1;
            return self.more_ops(inner);
        } else {
            Source::Name(self.name("a table name")?)
        };
        let t = Tabular {
            source,
            ops: Vec::new(),
        };
        let t = self.more_ops(t)?;
        self.depth -= 1;
        Ok(t)
    }

    fn more_ops(&mut self, mut t: Tabular) -> R<Tabular> {
        while self.eat_sym("|") {
            t.ops.push(self.operator()?);
        }
        Ok(t)
    }

    fn union_legs(&mut self) -> R<Vec<Tabular>> {
        // Options such as `kind=outer` or `withsource=` are not supported.
        if let (Tok::Ident(w), Tok::Sym("=")) = (self.peek().clone(), self.peek_at(1))
            && (w.eq_ignore_ascii_case("kind") || w.eq_ignore_ascii_case("withsource"))
        {
            return Err(self.error_msg(self.at(), format!("`union {w}=` is not supported")));
        }
        let mut legs = vec![self.union_leg()?];
        while self.eat_sym(",") {
            legs.push(self.union_leg()?);
        }
        Ok(legs)
    }

    fn union_leg(&mut self) -> R<Tabular> {
        if self.eat_sym("(") {
            let t = self.tabular()?;
            self.expect_sym(")", &["`)`", "`|`"])?;
            Ok(t)
        } else {
            Ok(Tabular {
                source: Source::Name(self.name("a table name")?),
                ops: Vec::new(),
            })
        }
    }

    fn operator(&mut self) -> R<Operator> {
        let at = self.at();
        let Tok::Ident(word) = self.peek().clone() else {
            return Err(self.error(&["an operator such as `where`, `project` or `summarize`"]));
        };
        self.bump();
        let op = match word.to_ascii_lowercase().as_str() {
            "where" | "filter" => Operator::Where(self.expr()?),
            "project" => Operator::Project(self.assigns()?),
            "project-away" => Operator::ProjectAway(self.names()?),
            "project-keep" => Operator::ProjectKeep(self.names()?),
            "project-rename" => {
                let mut pairs = Vec::new();
                loop {
                    let new = self.name("a new column name")?;
                    self.expect_sym("=", &["`=`"])?;
                    let old = self.name("a column name")?;
                    pairs.push((new, old));
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                Operator::ProjectRename(pairs)
            }
            "extend" => Operator::Extend(self.assigns()?),
            "summarize" => self.summarize(at)?,
            "top" => {
                let count = self.expr()?;
                if !self.eat_word("by") {
                    return Err(self.error(&["`by`"]));
                }
                let by = self.expr()?;
                let descending = self.direction();
                Operator::Top {
                    count,
                    by,
                    descending,
                }
            }
            "take" | "limit" => Operator::Take(self.expr()?),
            "sort" | "order" => {
                if !self.eat_word("by") {
                    return Err(self.error(&["`by`"]));
                }
                let mut keys = Vec::new();
                loop {
                    let expr = self.expr()?;
                    let descending = self.direction();
                    keys.push(SortKey { expr, descending });
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                Operator::Sort(keys)
            }
            "distinct" => {
                if self.eat_sym("*") {
                    Operator::Distinct(Vec::new(), at)
                } else {
                    Operator::Distinct(self.names()?, at)
                }
            }
            "count" => Operator::Count,
            "join" => self.join(at)?,
            "union" => Operator::Union(self.union_legs()?, at),
            _ => {
                return Err(self.error_msg(
                    at,
                    format!(
                        "unknown operator `{word}` (supported: where, project, project-away, project-keep, project-rename, extend, summarize, top, take, limit, sort, order, distinct, count, join, union)"
                    ),
                ));
            }
        };
        Ok(op)
    }

    /// `asc`/`desc` after a sort key (KQL sorts descending by default);
    /// `nulls first|last` is accepted and ignored.
    fn direction(&mut self) -> bool {
        let descending = if self.eat_word("asc") {
            false
        } else {
            self.eat_word("desc");
            true
        };
        if self.eat_word("nulls") && !self.eat_word("first") {
            self.eat_word("last");
        }
        descending
    }

    fn summarize(&mut self, at: usize) -> R<Operator> {
        let aggregates = if self.is_word("by") {
            Vec::new()
        } else {
            self.assigns()?
        };
        let mut by = Vec::new();
        if self.eat_word("by") {
            by = self.assigns()?;
        } else if !matches!(self.peek(), Tok::Eof | Tok::Sym("|" | ")" | ";")) {
            return Err(ParseError::new(
                Pos::of(self.src, self.at()),
                format!(
                    "expected `by` or end of `summarize`, found {}",
                    self.peek().describe()
                ),
                vec![tick("by"), "end of `summarize`".into()],
            ));
        }
        if aggregates.is_empty() && by.is_empty() {
            return Err(self.error_msg(at, "`summarize` needs an aggregate or `by` columns"));
        }
        Ok(Operator::Summarize { aggregates, by, at })
    }

    fn join(&mut self, at: usize) -> R<Operator> {
        let mut kind = JoinKind::Inner;
        if self.eat_word("kind") {
            self.expect_sym("=", &["`=`"])?;
            let k = self.name("a join kind")?;
            kind = match k.text.to_ascii_lowercase().as_str() {
                "inner" | "innerunique" => JoinKind::Inner,
                "leftouter" => JoinKind::LeftOuter,
                other => {
                    return Err(self.error_msg(
                        k.at,
                        format!("join kind `{other}` is not supported (use inner or leftouter)"),
                    ));
                }
            };
        }
        // `hint.*` options and the like are not supported.
        let right = if self.eat_sym("(") {
            let t = self.tabular()?;
            self.expect_sym(")", &["`)`", "`|`"])?;
            t
        } else {
            Tabular {
                source: Source::Name(self.name("`(` or a table name")?),
                ops: Vec::new(),
            }
        };
        if !self.eat_word("on") {
            return Err(self.error(&["`on`"]));
        }
        let mut on = Vec::new();
        loop {
            on.push(self.join_key()?);
            if !self.eat_sym(",") && !self.eat_word("and") {
                break;
            }
        }
        Ok(Operator::Join {
            kind,
            right,
            on,
            at,
        })
    }

    fn join_key(&mut self) -> R<JoinKey> {
        let side = |p: &mut Self, want: &str| -> R<Option<Name>> {
            if p.is_word(want) {
                p.bump();
                p.expect_sym(".", &["`.`"])?;
                Ok(Some(p.name("a column name")?))
            } else {
                Ok(None)
            }
        };
        if let Some(left) = side(self, "$left")? {
            self.expect_sym("==", &["`==`"])?;
            let Some(right) = side(self, "$right")? else {
                return Err(self.error(&["`$right.`"]));
            };
            return Ok(JoinKey { left, right });
        }
        if let Some(right) = side(self, "$right")? {
            self.expect_sym("==", &["`==`"])?;
            let Some(left) = side(self, "$left")? else {
                return Err(self.error(&["`$left.`"]));
            };
            return Ok(JoinKey { left, right });
        }
        let n = self.name("a column name or `$left.`")?;
        Ok(JoinKey {
            left: n.clone(),
            right: n,
        })
    }

    fn names(&mut self) -> R<Vec<Name>> {
        let mut out = vec![self.name("a column name")?];
        while self.eat_sym(",") {
            out.push(self.name("a column name")?);
        }
        Ok(out)
    }

    fn assigns(&mut self) -> R<Vec<Assign>> {
        let mut out = Vec::new();
        loop {
            let named = (matches!(self.peek(), Tok::Ident(_))
                && matches!(self.peek_at(1), Tok::Sym("=")))
                || (matches!(self.peek(), Tok::Sym("["))
                    && matches!(self.peek_at(1), Tok::Str(_))
                    && matches!(self.peek_at(2), Tok::Sym("]"))
                    && matches!(self.peek_at(3), Tok::Sym("=")));
            let name = if named {
                Some(self.name("a column name")?)
            } else {
                None
            };
            if named {
                self.bump();
            }
            let expr = self.expr()?;
            out.push(Assign { name, expr });
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(out)
    }

    fn expr(&mut self) -> R<Expr> {
        self.enter()?;
        let e = self.or_expr();
        self.depth -= 1;
        e
    }

    fn or_expr(&mut self) -> R<Expr> {
        let mut left = self.and_expr()?;
        while self.is_word("or") {
            let at = self.at();
            self.bump();
            let right = self.and_expr()?;
            left = bin(BinOp::Or, left, right, at);
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> R<Expr> {
        let mut left = self.not_expr()?;
        while self.is_word("and") {
            let at = self.at();
            self.bump();
            let right = self.not_expr()?;
            left = bin(BinOp::And, left, right, at);
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> R<Expr> {
        // `not(expr)` is a function in KQL.
        if self.is_word("not") && matches!(self.peek_at(1), Tok::Sym("(")) {
            let at = self.at();
            self.bump();
            self.bump();
            let inner = self.expr()?;
            self.expect_sym(")", &["`)`"])?;
            return Ok(Expr::Not(Box::new(inner), at));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> R<Expr> {
        let left = self.additive()?;
        let at = self.at();
        let op = match self.peek().clone() {
            Tok::Sym(s) => match s {
                "==" => Some(BinOp::Eq),
                "!=" => Some(BinOp::Ne),
                "<" => Some(BinOp::Lt),
                "<=" => Some(BinOp::Le),
                ">" => Some(BinOp::Gt),
                ">=" => Some(BinOp::Ge),
                "=~" => Some(BinOp::EqCi),
                "!~" => Some(BinOp::NeCi),
                "!has" => Some(BinOp::NotHas),
                "!has_cs" => Some(BinOp::NotHasCs),
                "!contains" => Some(BinOp::NotContains),
                "!contains_cs" => Some(BinOp::NotContainsCs),
                "!startswith" => Some(BinOp::NotStartsWith),
                "!endswith" => Some(BinOp::NotEndsWith),
                "!in" | "!in~" => {
                    self.bump();
                    let op = if s == "!in" {
                        ListOp::NotIn
                    } else {
                        ListOp::NotInCi
                    };
                    return self.list(op, left, at);
                }
                "=" => {
                    return Err(self.error_msg(at, "`=` is not a comparison: use `==`"));
                }
                _ => None,
            },
            Tok::Ident(w) => match w.to_ascii_lowercase().as_str() {
                "has" => Some(BinOp::Has),
                "has_cs" => Some(BinOp::HasCs),
                "contains" => Some(BinOp::Contains),
                "contains_cs" => Some(BinOp::ContainsCs),
                "startswith" => Some(BinOp::StartsWith),
                "endswith" => Some(BinOp::EndsWith),
                "matches" => {
                    self.bump();
                    if !self.eat_word("regex") {
                        return Err(self.error(&["`regex`"]));
                    }
                    let right = self.additive()?;
                    return Ok(bin(BinOp::MatchesRegex, left, right, at));
                }
                "in" => {
                    self.bump();
                    let op = if self.eat_sym("~") {
                        ListOp::InCi
                    } else {
                        ListOp::In
                    };
                    return self.list(op, left, at);
                }
                "has_any" => {
                    self.bump();
                    return self.list(ListOp::HasAny, left, at);
                }
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else { return Ok(left) };
        self.bump();
        // `in~` lexes as `in` then `~`... handled above; `!in~` is one token.
        let right = self.additive()?;
        Ok(bin(op, left, right, at))
    }

    fn list(&mut self, op: ListOp, left: Expr, at: usize) -> R<Expr> {
        self.expect_sym("(", &["`(`"])?;
        let mut items = Vec::new();
        if !self.is_sym(")") {
            loop {
                items.push(self.additive()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.expect_sym(")", &["`,`", "`)`"])?;
        Ok(Expr::List {
            op,
            expr: Box::new(left),
            items,
            at,
        })
    }

    fn additive(&mut self) -> R<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            let at = self.at();
            let op = if self.is_sym("+") {
                BinOp::Add
            } else if self.is_sym("-") {
                BinOp::Sub
            } else {
                break;
            };
            self.bump();
            let right = self.multiplicative()?;
            left = bin(op, left, right, at);
        }
        Ok(left)
    }

    fn multiplicative(&mut self) -> R<Expr> {
        let mut left = self.unary()?;
        loop {
            let at = self.at();
            let op = if self.is_sym("*") {
                BinOp::Mul
            } else if self.is_sym("/") {
                BinOp::Div
            } else if self.is_sym("%") {
                BinOp::Mod
            } else {
                break;
            };
            self.bump();
            let right = self.unary()?;
            left = bin(op, left, right, at);
        }
        Ok(left)
    }

    fn unary(&mut self) -> R<Expr> {
        if self.is_sym("-") {
            let at = self.at();
            self.bump();
            let inner = self.unary()?;
            return Ok(match inner {
                Expr::Lit(Literal::Long(n), _) => Expr::Lit(Literal::Long(-n), at),
                Expr::Lit(Literal::Real(n), _) => Expr::Lit(Literal::Real(-n), at),
                Expr::Lit(Literal::Span(n), _) => Expr::Lit(Literal::Span(-n), at),
                other => Expr::Neg(Box::new(other), at),
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> R<Expr> {
        let mut e = self.primary()?;
        loop {
            let at = self.at();
            if self.is_sym(".") {
                self.bump();
                let field = self.name("a field name")?;
                e = Expr::Member {
                    base: Box::new(e),
                    field: field.text,
                    at,
                };
            } else if self.is_sym("[") {
                self.bump();
                let field = match self.bump() {
                    Tok::Str(s) => s,
                    Tok::Long(n) => format!("[{n}]"),
                    _ => {
                        self.i -= 1;
                        return Err(self.error(&["a string or an index"]));
                    }
                };
                self.expect_sym("]", &["`]`"])?;
                e = Expr::Member {
                    base: Box::new(e),
                    field,
                    at,
                };
            } else {
                break;
            }
        }
        Ok(e)
    }

    fn primary(&mut self) -> R<Expr> {
        let at = self.at();
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(Expr::Lit(Literal::Str(s), at))
            }
            Tok::Long(n) => {
                self.bump();
                Ok(Expr::Lit(Literal::Long(n), at))
            }
            Tok::Real(n) => {
                self.bump();
                Ok(Expr::Lit(Literal::Real(n), at))
            }
            Tok::Span(n) => {
                self.bump();
                Ok(Expr::Lit(Literal::Span(n), at))
            }
            Tok::Sym("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect_sym(")", &["`)`"])?;
                Ok(e)
            }
            Tok::Sym("*") => {
                self.bump();
                Ok(Expr::Star(at))
            }
            Tok::Sym("[") if matches!(self.peek_at(1), Tok::Str(_)) => {
                Ok(Expr::Column(self.name("a column name")?))
            }
            Tok::Ident(w) => {
                self.bump();
                match w.as_str() {
                    "true" | "True" | "TRUE" => return Ok(Expr::Lit(Literal::Bool(true), at)),
                    "false" | "False" | "FALSE" => {
                        return Ok(Expr::Lit(Literal::Bool(false), at));
                    }
                    _ => {}
                }
                if !self.is_sym("(") {
                    return Ok(Expr::Column(Name { text: w, at }));
                }
                self.bump();
                if w.eq_ignore_ascii_case("datetime") {
                    let e = match self.bump() {
                        Tok::DateText(t) | Tok::Str(t) => Expr::DateTime(t, at),
                        _ => {
                            self.i -= 1;
                            return Err(self.error(&["a date and time"]));
                        }
                    };
                    self.expect_sym(")", &["`)`"])?;
                    return Ok(e);
                }
                let mut args = Vec::new();
                // `dynamic(["a", "b"])`: a list of literals.
                if w.eq_ignore_ascii_case("dynamic") && self.eat_sym("[") {
                    if !self.is_sym("]") {
                        loop {
                            args.push(self.additive()?);
                            if !self.eat_sym(",") {
                                break;
                            }
                        }
                    }
                    self.expect_sym("]", &["`,`", "`]`"])?;
                    self.expect_sym(")", &["`)`"])?;
                    return Ok(Expr::Call {
                        name: Name { text: w, at },
                        args,
                    });
                }
                if !self.is_sym(")") {
                    loop {
                        args.push(self.expr()?);
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                }
                self.expect_sym(")", &["`,`", "`)`"])?;
                Ok(Expr::Call {
                    name: Name { text: w, at },
                    args,
                })
            }
            _ => Err(self.error(&["a column, a literal or a function call"])),
        }
    }
}

fn bin(op: BinOp, left: Expr, right: Expr, at: usize) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
        at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(q: &str) -> String {
        parse(q).expect_err(q).to_string()
    }

    #[test]
    fn a_pipeline_parses_into_its_operators() {
        let q = parse(
            "DeviceProcessEvents | where Timestamp > ago(7d) and FileName =~ 'cmd.exe' | summarize n = count() by DeviceName | top 10 by n",
        )
        .expect("parse");
        assert_eq!(q.body.ops.len(), 3);
        assert!(matches!(q.body.ops[1], Operator::Summarize { .. }));
    }

    #[test]
    fn summarize_without_by_names_what_it_expected() {
        assert_eq!(
            err("DeviceProcessEvents | summarize count() DeviceName"),
            "expected `by` or end of `summarize`, found `DeviceName` at 1:41"
        );
    }

    #[test]
    fn an_unknown_operator_is_named_with_its_position() {
        assert!(err("T | wher A == 1").starts_with("unknown operator `wher`"));
        assert!(err("T | wher A == 1").ends_with("at 1:5"));
    }

    #[test]
    fn a_missing_parenthesis_is_expected() {
        assert_eq!(
            err("T | where A in ('a', 'b'"),
            "expected `,` or `)`, found end of query at 1:25"
        );
    }

    #[test]
    fn lets_bind_scalars_and_tables() {
        let q = parse("let a = 5; let t = DeviceProcessEvents | take 1; t | where X > a")
            .expect("parse");
        assert!(matches!(q.lets[0].value, LetValue::Scalar(_)));
        assert!(matches!(q.lets[1].value, LetValue::Tabular(_)));
    }

    #[test]
    fn join_keys_may_name_both_sides() {
        let q = parse("A | join kind=leftouter (B) on $left.X == $right.Y, Z").expect("parse");
        let Operator::Join { on, kind, .. } = &q.body.ops[0] else {
            panic!("join")
        };
        assert_eq!(*kind, JoinKind::LeftOuter);
        assert_eq!(on[0].left.text, "X");
        assert_eq!(on[0].right.text, "Y");
        assert_eq!(on[1].right.text, "Z");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let q = format!("T | where {}1{}", "(".repeat(500), ")".repeat(500));
        assert!(err(&q).contains("nested too deeply"));
    }

    #[test]
    fn member_access_reads_fields_and_brackets() {
        let q = parse("T | extend x = parse_json(A).b['c'].d").expect("parse");
        let Operator::Extend(items) = &q.body.ops[0] else {
            panic!("extend")
        };
        assert!(matches!(items[0].expr, Expr::Member { .. }));
    }
}
