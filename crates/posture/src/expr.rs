//! The verification language: a small boolean expression over the latest
//! device and identity posture snapshots (docs/recommendations.md).
//!
//! ```text
//! all(device.lsass_protection)
//! all(device.asr_rules.block_credential_stealing_from_lsass == "block")
//! all(identity.mfa_enforced where identity.privileged)
//! share(identity.mfa_enforced) >= 0.95
//! device.tamper_protection and device.realtime_protection   (= all(…))
//! ```
//!
//! Inside an aggregate (`all`, `any`, `none`, `share`, `count`) the
//! expression is about one asset at a time; outside, aggregates combine
//! with `and`, `or`, `not` and comparisons. An expression without any
//! aggregate is read as `all(…)` over the kind of asset it names. A field an
//! asset does not report counts against it, so that silence never passes.

use std::fmt;

use crate::snapshot::{Asset, AssetKind, Snapshots};

/// Why an expression does not parse, with the byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("verification {text:?}: at {at}: {problem}")]
pub struct ExprError {
    pub text: String,
    pub at: usize,
    pub problem: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    All,
    Any,
    None,
    Share,
    Count,
}

impl Agg {
    fn from_word(w: &str) -> Option<Agg> {
        Some(match w {
            "all" => Agg::All,
            "any" => Agg::Any,
            "none" => Agg::None,
            "share" => Agg::Share,
            "count" => Agg::Count,
            _ => return None,
        })
    }

    fn is_number(self) -> bool {
        matches!(self, Agg::Share | Agg::Count)
    }
}

/// A field of one asset's snapshot: `device.asr_rules.<rule>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub kind: AssetKind,
    pub keys: Vec<String>,
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind.as_str(), self.keys.join("."))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Bool(bool),
    Num(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Field(Path),
    Lit(Lit),
    Agg {
        agg: Agg,
        kind: AssetKind,
        pred: Box<Node>,
        filter: Option<Box<Node>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Cmp(Operand, Op, Operand),
    Truth(Operand),
}

/// A parsed, checked expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub text: String,
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Num(f64),
    Str(String),
    Op(Op),
    Open,
    Close,
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, (usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let two = b.get(i + 1).copied();
        let tok = match c {
            b'(' => {
                i += 1;
                Tok::Open
            }
            b')' => {
                i += 1;
                Tok::Close
            }
            b'=' if two == Some(b'=') => {
                i += 2;
                Tok::Op(Op::Eq)
            }
            b'!' if two == Some(b'=') => {
                i += 2;
                Tok::Op(Op::Ne)
            }
            b'<' | b'>' => {
                let eq = two == Some(b'=');
                i += if eq { 2 } else { 1 };
                Tok::Op(match (c, eq) {
                    (b'<', true) => Op::Le,
                    (b'<', false) => Op::Lt,
                    (_, true) => Op::Ge,
                    _ => Op::Gt,
                })
            }
            b'"' => {
                let end = text[i + 1..]
                    .find('"')
                    .ok_or((i, "the string is not closed".to_owned()))?;
                let s = text[i + 1..i + 1 + end].to_owned();
                i += end + 2;
                Tok::Str(s)
            }
            c if c.is_ascii_digit() => {
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                let n: f64 = text[start..i]
                    .parse()
                    .map_err(|_| (start, format!("{:?} is not a number", &text[start..i])))?;
                Tok::Num(n)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'-'))
                {
                    i += 1;
                }
                Tok::Word(text[start..i].to_owned())
            }
            _ => {
                return Err((
                    i,
                    format!("unexpected {:?}", text[i..].chars().next().unwrap_or(' ')),
                ));
            }
        };
        out.push((start, tok));
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    _text: &'a str,
}

type PResult<T> = Result<T, (usize, String)>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(a, _)| *a)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn expect_close(&mut self) -> PResult<()> {
        if self.peek() == Some(&Tok::Close) {
            self.pos += 1;
            Ok(())
        } else {
            Err((self.at(), "expected ')'".into()))
        }
    }

    fn or(&mut self) -> PResult<Node> {
        let mut items = vec![self.and()?];
        while self.is_word("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::Or(items)
        })
    }

    fn and(&mut self) -> PResult<Node> {
        let mut items = vec![self.not()?];
        while self.is_word("and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::And(items)
        })
    }

    fn not(&mut self) -> PResult<Node> {
        if self.is_word("not") {
            self.pos += 1;
            return Ok(Node::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> PResult<Node> {
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect_close()?;
            return Ok(inner);
        }
        let left = self.value()?;
        if let Some(Tok::Op(op)) = self.peek() {
            let op = *op;
            self.pos += 1;
            let right = self.value()?;
            return Ok(Node::Cmp(left, op, right));
        }
        Ok(Node::Truth(left))
    }

    fn value(&mut self) -> PResult<Operand> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return Err((at, "the expression ends too early".into()));
        };
        self.pos += 1;
        match tok {
            Tok::Num(n) => Ok(Operand::Lit(Lit::Num(n))),
            Tok::Str(s) => Ok(Operand::Lit(Lit::Text(s))),
            Tok::Word(w) if w == "true" || w == "false" => Ok(Operand::Lit(Lit::Bool(w == "true"))),
            Tok::Word(w) => {
                if let Some(agg) = Agg::from_word(&w)
                    && self.peek() == Some(&Tok::Open)
                {
                    self.pos += 1;
                    let pred = self.or()?;
                    let filter = if self.is_word("where") {
                        self.pos += 1;
                        Some(Box::new(self.or()?))
                    } else {
                        None
                    };
                    self.expect_close()?;
                    let kind = single_kind(&pred)
                        .map_err(|p| (at, p))?
                        .ok_or((at, format!("{w}(…) names no device or identity field")))?;
                    if let Some(f) = &filter
                        && single_kind(f).map_err(|p| (at, p))? != Some(kind)
                    {
                        return Err((
                            at,
                            format!(
                                "{w}(…): the where clause must be about the same {kind} assets"
                            ),
                        ));
                    }
                    return Ok(Operand::Agg {
                        agg,
                        kind,
                        pred: Box::new(pred),
                        filter,
                    });
                }
                parse_path(&w).map(Operand::Field).map_err(|p| (at, p))
            }
            Tok::Open | Tok::Close | Tok::Op(_) => {
                Err((at, "expected a field, value or aggregate".into()))
            }
        }
    }
}

fn parse_path(w: &str) -> Result<Path, String> {
    let mut parts = w.split('.');
    let kind = match parts.next() {
        Some("device") => AssetKind::Device,
        Some("identity") => AssetKind::Identity,
        _ => {
            return Err(format!("{w:?}: a field starts with device. or identity."));
        }
    };
    let keys: Vec<String> = parts.map(str::to_owned).collect();
    if keys.is_empty() || keys.iter().any(String::is_empty) {
        return Err(format!("{w:?}: name a field after {}.", kind.as_str()));
    }
    Ok(Path { kind, keys })
}

/// The one asset kind an asset-level expression is about; an error for a
/// nested aggregate or a mix of kinds.
fn single_kind(node: &Node) -> Result<Option<AssetKind>, String> {
    let mut kinds = Vec::new();
    let mut nested = false;
    walk(node, &mut |o| match o {
        Operand::Field(p) => kinds.push(p.kind),
        Operand::Agg { .. } => nested = true,
        Operand::Lit(_) => {}
    });
    if nested {
        return Err("an aggregate cannot sit inside another".into());
    }
    kinds.dedup();
    match kinds.as_slice() {
        [] => Ok(None),
        [k, rest @ ..] if rest.iter().all(|r| r == k) => Ok(Some(*k)),
        _ => Err("one expression mixes device and identity fields: use two aggregates".into()),
    }
}

fn walk(node: &Node, f: &mut impl FnMut(&Operand)) {
    match node {
        Node::And(v) | Node::Or(v) => v.iter().for_each(|n| walk(n, f)),
        Node::Not(n) => walk(n, f),
        Node::Cmp(a, _, b) => {
            f(a);
            f(b);
        }
        Node::Truth(a) => f(a),
    }
}

fn has_agg(node: &Node) -> bool {
    let mut any = false;
    walk(node, &mut |o| any |= matches!(o, Operand::Agg { .. }));
    any
}

/// Number aggregates must be compared; truth aggregates must not be
/// compared with numbers.
fn check_types(node: &Node) -> Result<(), String> {
    match node {
        Node::And(v) | Node::Or(v) => v.iter().try_for_each(check_types),
        Node::Not(n) => check_types(n),
        Node::Truth(Operand::Agg { agg, .. }) if agg.is_number() => Err(format!(
            "{agg:?}(…) is a number: compare it, as in share(…) >= 0.95"
        )
        .to_lowercase()),
        Node::Truth(_) => Ok(()),
        Node::Cmp(a, _, b) => {
            for (x, y) in [(a, b), (b, a)] {
                if let Operand::Agg { agg, .. } = x {
                    let number = matches!(y, Operand::Lit(Lit::Num(_)));
                    let boolean = matches!(y, Operand::Lit(Lit::Bool(_)));
                    if agg.is_number() && !number {
                        return Err(format!("{agg:?}(…) compares with a number").to_lowercase());
                    }
                    if !agg.is_number() && !boolean {
                        return Err(
                            format!("{agg:?}(…) compares with true or false").to_lowercase()
                        );
                    }
                }
            }
            Ok(())
        }
    }
}

impl Expr {
    /// Parse and check an expression.
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        let err = |(at, problem): (usize, String)| ExprError {
            text: text.to_owned(),
            at,
            problem,
        };
        let toks = lex(text).map_err(err)?;
        let mut p = Parser {
            toks,
            pos: 0,
            end: text.len(),
            _text: text,
        };
        let node = p.or().map_err(err)?;
        if p.pos < p.toks.len() {
            return Err(err((p.at(), "unexpected text after the expression".into())));
        }
        let root = if has_agg(&node) {
            // Fields outside aggregates are not allowed next to them.
            let outside = match &node {
                n @ (Node::And(_) | Node::Or(_) | Node::Not(_)) => top_fields(n),
                Node::Cmp(a, _, b) => {
                    matches!(a, Operand::Field(_)) || matches!(b, Operand::Field(_))
                }
                Node::Truth(o) => matches!(o, Operand::Field(_)),
            };
            if outside {
                return Err(err((
                    0,
                    "a field outside an aggregate cannot be mixed with aggregates".into(),
                )));
            }
            node
        } else {
            let kind = single_kind(&node)
                .map_err(|p| err((0, p)))?
                .ok_or_else(|| {
                    err((0, "the expression names no device or identity field".into()))
                })?;
            Node::Truth(Operand::Agg {
                agg: Agg::All,
                kind,
                pred: Box::new(node),
                filter: None,
            })
        };
        check_types(&root).map_err(|p| err((0, p)))?;
        Ok(Expr {
            text: text.to_owned(),
            root,
        })
    }

    /// The snapshot fields the expression reads (`device.lsass_protection`).
    pub fn fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        fn inner(node: &Node, out: &mut Vec<String>) {
            walk(node, &mut |o| match o {
                Operand::Field(p) => out.push(p.to_string()),
                Operand::Agg { pred, filter, .. } => {
                    inner(pred, out);
                    if let Some(f) = filter {
                        inner(f, out);
                    }
                }
                Operand::Lit(_) => {}
            });
        }
        inner(&self.root, &mut out);
        out.sort();
        out.dedup();
        out
    }

    /// Evaluate over the latest snapshots.
    pub fn evaluate(&self, snaps: &Snapshots) -> Outcome {
        eval_top(&self.root, snaps)
    }
}

fn top_fields(node: &Node) -> bool {
    match node {
        Node::And(v) | Node::Or(v) => v.iter().any(top_fields),
        Node::Not(n) => top_fields(n),
        Node::Cmp(a, _, b) => matches!(a, Operand::Field(_)) || matches!(b, Operand::Field(_)),
        Node::Truth(o) => matches!(o, Operand::Field(_)),
    }
}

/// The verdict of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pass,
    Fail,
    /// Nothing to judge by (no snapshot of that kind of asset).
    Unknown,
}

/// A verification's verdict, in words, with the failing assets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub state: State,
    pub detail: String,
    pub failing: Vec<String>,
}

/// Failing assets listed per outcome.
const MAX_FAILING: usize = 50;

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Bool(bool),
    Num(f64),
    Text(String),
}

fn val_of(v: &serde_json::Value) -> Option<Val> {
    match v {
        serde_json::Value::Bool(b) => Some(Val::Bool(*b)),
        serde_json::Value::Number(n) => n.as_f64().map(Val::Num),
        serde_json::Value::String(s) => Some(Val::Text(s.clone())),
        _ => None,
    }
}

fn operand_val(o: &Operand, asset: &Asset) -> Option<Val> {
    match o {
        Operand::Field(p) => asset.field(&p.keys).and_then(val_of),
        Operand::Lit(Lit::Bool(b)) => Some(Val::Bool(*b)),
        Operand::Lit(Lit::Num(n)) => Some(Val::Num(*n)),
        Operand::Lit(Lit::Text(s)) => Some(Val::Text(s.clone())),
        Operand::Agg { .. } => None,
    }
}

fn as_bool(v: &Val) -> Option<bool> {
    match v {
        Val::Bool(b) => Some(*b),
        Val::Text(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Val::Text(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn as_num(v: &Val) -> Option<f64> {
    match v {
        Val::Num(n) => Some(*n),
        Val::Text(s) => s.trim().parse().ok(),
        Val::Bool(_) => None,
    }
}

fn compare(a: &Val, op: Op, b: &Val) -> Option<bool> {
    let ord = match (a, b) {
        (Val::Bool(_), _) | (_, Val::Bool(_)) => {
            let (x, y) = (as_bool(a)?, as_bool(b)?);
            x.cmp(&y)
        }
        (Val::Num(_), _) | (_, Val::Num(_)) => as_num(a)?.partial_cmp(&as_num(b)?)?,
        (Val::Text(x), Val::Text(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
    };
    use std::cmp::Ordering as O;
    Some(match op {
        Op::Eq => ord == O::Equal,
        Op::Ne => ord != O::Equal,
        Op::Lt => ord == O::Less,
        Op::Le => ord != O::Greater,
        Op::Gt => ord == O::Greater,
        Op::Ge => ord != O::Less,
    })
}

/// One asset: `Some(true)` holds, `Some(false)` does not, `None` a field
/// it needs is not reported.
fn eval_asset(node: &Node, asset: &Asset) -> Option<bool> {
    match node {
        Node::And(v) => {
            let r: Vec<Option<bool>> = v.iter().map(|n| eval_asset(n, asset)).collect();
            if r.contains(&Some(false)) {
                Some(false)
            } else if r.contains(&None) {
                None
            } else {
                Some(true)
            }
        }
        Node::Or(v) => {
            let r: Vec<Option<bool>> = v.iter().map(|n| eval_asset(n, asset)).collect();
            if r.contains(&Some(true)) {
                Some(true)
            } else if r.contains(&None) {
                None
            } else {
                Some(false)
            }
        }
        Node::Not(n) => eval_asset(n, asset).map(|b| !b),
        Node::Truth(o) => as_bool(&operand_val(o, asset)?),
        Node::Cmp(a, op, b) => compare(&operand_val(a, asset)?, *op, &operand_val(b, asset)?),
    }
}

enum AggVal {
    Truth(Outcome),
    Number(f64, Outcome),
}

fn eval_agg(
    agg: Agg,
    kind: AssetKind,
    pred: &Node,
    filter: Option<&Node>,
    snaps: &Snapshots,
) -> AggVal {
    let assets: Vec<&Asset> = snaps
        .of(kind)
        .iter()
        .filter(|a| filter.is_none_or(|f| eval_asset(f, a) == Some(true)))
        .collect();
    let what = match kind {
        AssetKind::Device => "devices",
        AssetKind::Identity => "identities",
    };
    if assets.is_empty() {
        let o = Outcome {
            state: State::Unknown,
            detail: format!("no {what} in the latest snapshots to judge by"),
            failing: Vec::new(),
        };
        return match agg {
            Agg::Share | Agg::Count => AggVal::Number(f64::NAN, o),
            _ => AggVal::Truth(o),
        };
    }
    let mut holding = 0usize;
    let mut not_holding = Vec::new();
    let mut holders = Vec::new();
    for a in &assets {
        match eval_asset(pred, a) {
            Some(true) => {
                holding += 1;
                holders.push(a.name.clone());
            }
            Some(false) => not_holding.push(a.name.clone()),
            None => not_holding.push(format!("{} (not reported)", a.name)),
        }
    }
    let total = assets.len();
    let summary = format!("{holding} of {total} {what} meet it");
    let listed = |mut v: Vec<String>| {
        v.sort();
        v.truncate(MAX_FAILING);
        v
    };
    let outcome = |pass: bool, failing: Vec<String>| {
        let failing = if pass { Vec::new() } else { listed(failing) };
        let detail = if failing.is_empty() {
            summary.clone()
        } else {
            format!("{summary}; failing: {}", failing.join(", "))
        };
        Outcome {
            state: if pass { State::Pass } else { State::Fail },
            detail,
            failing,
        }
    };
    #[allow(clippy::cast_precision_loss)]
    match agg {
        Agg::All => AggVal::Truth(outcome(not_holding.is_empty(), not_holding)),
        Agg::Any => AggVal::Truth(outcome(holding > 0, not_holding)),
        Agg::None => AggVal::Truth(outcome(holding == 0, holders)),
        Agg::Share => AggVal::Number(holding as f64 / total as f64, outcome(true, not_holding)),
        Agg::Count => AggVal::Number(holding as f64, outcome(true, not_holding)),
    }
}

fn eval_top(node: &Node, snaps: &Snapshots) -> Outcome {
    match node {
        Node::And(v) | Node::Or(v) => {
            let parts: Vec<Outcome> = v.iter().map(|n| eval_top(n, snaps)).collect();
            let is_and = matches!(node, Node::And(_));
            let (decisive, other) = if is_and {
                (State::Fail, State::Pass)
            } else {
                (State::Pass, State::Fail)
            };
            let state = if parts.iter().any(|p| p.state == decisive) {
                decisive
            } else if parts.iter().any(|p| p.state == State::Unknown) {
                State::Unknown
            } else {
                other
            };
            let mut failing: Vec<String> = if state == State::Fail {
                parts.iter().flat_map(|p| p.failing.clone()).collect()
            } else {
                Vec::new()
            };
            failing.sort();
            failing.dedup();
            Outcome {
                state,
                detail: parts
                    .iter()
                    .map(|p| p.detail.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                failing,
            }
        }
        Node::Not(n) => {
            let mut o = eval_top(n, snaps);
            o.state = match o.state {
                State::Pass => State::Fail,
                State::Fail => State::Pass,
                State::Unknown => State::Unknown,
            };
            o.failing.clear();
            o
        }
        Node::Truth(Operand::Agg {
            agg,
            kind,
            pred,
            filter,
        }) => match eval_agg(*agg, *kind, pred, filter.as_deref(), snaps) {
            AggVal::Truth(o) | AggVal::Number(_, o) => o,
        },
        Node::Cmp(a, op, b) => {
            let (agg_side, lit, flipped) = match (a, b) {
                (Operand::Agg { .. }, Operand::Lit(l)) => (a, l, false),
                (Operand::Lit(l), Operand::Agg { .. }) => (b, l, true),
                _ => {
                    return Outcome {
                        state: State::Unknown,
                        detail: "nothing to compare".into(),
                        failing: Vec::new(),
                    };
                }
            };
            let Operand::Agg {
                agg,
                kind,
                pred,
                filter,
            } = agg_side
            else {
                return Outcome {
                    state: State::Unknown,
                    detail: "nothing to compare".into(),
                    failing: Vec::new(),
                };
            };
            let (value, mut o) = match eval_agg(*agg, *kind, pred, filter.as_deref(), snaps) {
                AggVal::Number(n, o) => (Val::Num(n), o),
                AggVal::Truth(o) => (Val::Bool(o.state == State::Pass), o),
            };
            if o.state == State::Unknown {
                return o;
            }
            let lit = match lit {
                Lit::Bool(b) => Val::Bool(*b),
                Lit::Num(n) => Val::Num(*n),
                Lit::Text(s) => Val::Text(s.clone()),
            };
            let holds = if flipped {
                compare(&lit, *op, &value)
            } else {
                compare(&value, *op, &lit)
            };
            let pass = holds == Some(true);
            o.state = if pass { State::Pass } else { State::Fail };
            if let Val::Num(n) = value
                && *agg == Agg::Share
            {
                o.detail = format!("{} ({:.1}%)", o.detail, n * 100.0);
            }
            if pass {
                o.failing.clear();
            }
            o
        }
        // A bare literal or field at the top cannot occur after parsing.
        Node::Truth(_) => Outcome {
            state: State::Unknown,
            detail: "nothing to evaluate".into(),
            failing: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snaps(devices: &[&str], identities: &[&str]) -> Snapshots {
        let d: Vec<String> = devices.iter().map(|s| (*s).to_owned()).collect();
        let i: Vec<String> = identities.iter().map(|s| (*s).to_owned()).collect();
        Snapshots::from_raw(&d, &i)
    }

    fn device(name: &str, posture: &str) -> String {
        format!(
            r#"{{"type":"device_inventory","device":{{"hostname":"{name}","sensor_health":"active"}},"posture":{posture}}}"#
        )
    }

    fn identity(upn: &str, privileged: bool, posture: &str) -> String {
        format!(
            r#"{{"type":"identity_inventory","identity":{{"upn":"{upn}","privileged":{privileged}}},"posture":{posture}}}"#
        )
    }

    #[test]
    fn all_passes_only_when_every_device_reports_the_field_on() {
        let e = Expr::parse("all(device.lsass_protection)").expect("parse");
        let on = device("ws1", r#"{"lsass_protection":true}"#);
        let off = device("ws2", r#"{"lsass_protection":"false"}"#);
        let silent = device("ws3", "{}");
        assert_eq!(e.evaluate(&snaps(&[&on], &[])).state, State::Pass);
        let o = e.evaluate(&snaps(&[&on, &off, &silent], &[]));
        assert_eq!(o.state, State::Fail);
        assert_eq!(o.failing, ["ws2", "ws3 (not reported)"]);
        assert!(o.detail.contains("1 of 3 devices"), "{}", o.detail);
        assert_eq!(e.evaluate(&snaps(&[], &[])).state, State::Unknown);
    }

    #[test]
    fn a_bare_comparison_means_every_asset_and_nested_fields_are_read() {
        let e = Expr::parse(r#"device.asr_rules.block_office_child_processes == "block""#)
            .expect("parse");
        let good = device(
            "a",
            r#"{"asr_rules":{"block_office_child_processes":"Block"}}"#,
        );
        let audit = device(
            "b",
            r#"{"asr_rules":{"block_office_child_processes":"audit"}}"#,
        );
        assert_eq!(e.evaluate(&snaps(&[&good], &[])).state, State::Pass);
        assert_eq!(e.evaluate(&snaps(&[&good, &audit], &[])).state, State::Fail);
        let e = Expr::parse("device.sensor_health == \"active\"").expect("parse");
        assert_eq!(e.evaluate(&snaps(&[&good], &[])).state, State::Pass);
    }

    #[test]
    fn share_and_where_judge_the_identities_that_matter() {
        let share = Expr::parse("share(identity.mfa_enforced) >= 0.5").expect("parse");
        let admin =
            Expr::parse("all(identity.mfa_enforced where identity.privileged)").expect("parse");
        let a = identity("a@x", true, r#"{"mfa_enforced":true}"#);
        let b = identity("b@x", false, r#"{"mfa_enforced":false}"#);
        let c = identity("c@x", false, r#"{"mfa_enforced":false}"#);
        assert_eq!(share.evaluate(&snaps(&[], &[&a, &b])).state, State::Pass);
        let o = share.evaluate(&snaps(&[], &[&a, &b, &c]));
        assert_eq!(o.state, State::Fail);
        assert!(o.detail.contains("33.3%"), "{}", o.detail);
        assert_eq!(
            admin.evaluate(&snaps(&[], &[&a, &b, &c])).state,
            State::Pass
        );
        let admin_off = identity("d@x", true, r#"{"mfa_enforced":false}"#);
        let o = admin.evaluate(&snaps(&[], &[&a, &admin_off]));
        assert_eq!(o.failing, ["d@x"]);
    }

    #[test]
    fn aggregates_combine_and_unknown_never_passes() {
        let e =
            Expr::parse("all(device.firewall) and not any(identity.privileged)").expect("parse");
        let d = device("ws1", r#"{"firewall":true}"#);
        let i = identity("a@x", false, "{}");
        assert_eq!(e.evaluate(&snaps(&[&d], &[&i])).state, State::Pass);
        assert_eq!(e.evaluate(&snaps(&[&d], &[])).state, State::Unknown);
        assert_eq!(e.fields(), ["device.firewall", "identity.privileged"]);
    }

    #[test]
    fn bad_expressions_are_refused_saying_where_and_why() {
        for (text, want) in [
            ("all(device.x", "expected ')'"),
            ("share(device.x)", "is a number"),
            ("all(host.x)", "starts with device"),
            ("device.a and identity.b", "mixes device and identity"),
            ("all(device.a) and device.b", "outside an aggregate"),
            ("all(all(device.a))", "inside another"),
            ("count(device.a) >= true", "compares with a number"),
            ("device.a == \"x", "not closed"),
            ("device.a ~ 1", "unexpected"),
            ("", "ends too early"),
            ("device.a device.b", "after the expression"),
        ] {
            let e = Expr::parse(text).expect_err(text);
            assert!(e.to_string().contains(want), "{text}: {e}");
        }
    }
}
