//! Type-checking an [`Expr`] against a source's fields and compiling it to an SQL fragment.
//!
//! One pass does both: every node is checked and turned into SQL text made only of the checked
//! columns' SQL, operators and `?` placeholders; literals become [`Param`]s. Literals take the
//! type of what they are compared with: text compared with a timestamp is read as a timestamp in
//! the workspace zone, a number compared with money is read in major units and scaled exactly to
//! minor units, text compared with a category is lower-cased like stored categories, and text
//! compared with an enum must be one of its values.

use std::fmt;

use jiff::tz::TimeZone;
use traction_domain::Currency;
use traction_domain::money::parse_minor;
use traction_domain::time::{parse_date, parse_instant};

use traction_store::{ArithOp, CmpOp, Predicate, Term};

use super::{BinOp, Expr, ExprKind, Span};

/// The type of a value in the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Num,
    /// Integer minor units of the workspace currency.
    Money,
    Text,
    /// Microseconds since the epoch, UTC.
    Timestamp,
    /// `YYYY-MM-DD` text.
    Date,
    /// The difference of two timestamps, in microseconds: only `hours()` and `days()` take it.
    Span,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ty::Bool => "boolean",
            Ty::Num => "number",
            Ty::Money => "money",
            Ty::Text => "text",
            Ty::Timestamp => "timestamp",
            Ty::Date => "date",
            Ty::Span => "time span",
        })
    }
}

/// What values a text column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    Free,
    /// Stored lower-cased.
    Category,
    /// A kind, stored normalised (`Meals Served` → `meals_served`): literals are normalised
    /// the same way, so a filter matches what an import stored.
    Kind,
    /// One of these words.
    Enum(&'static [&'static str]),
}

/// A name the expression may use, with its SQL.
#[derive(Clone, Debug)]
pub struct Column {
    pub ty: Ty,
    pub values: Values,
    /// Trusted SQL text (a qualified column or a fixed expression), never user text.
    pub sql: String,
}

/// The names an expression can see.
pub trait Scope {
    /// What the scope is called in messages (`deals`).
    fn describe(&self) -> String;
    fn column(&self, name: &str) -> Option<Column>;
    /// Every name, for the "fields are …" hint.
    fn names(&self) -> Vec<String>;

    /// SQL testing a timestamp or date column against the bucket the record falls in (`in_bucket`,
    /// `before_bucket`), or why that does not apply. By default the test is only type-checked
    /// (checking a definition, before any query has buckets).
    fn bucket_test(
        &self,
        _test: BucketTest,
        _column: &str,
        _is_date: bool,
    ) -> Result<String, BucketTestError> {
        Ok("1".into())
    }
}

/// Why `in_bucket(x)` or `before_bucket(x)` does not apply where it is written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BucketTestError {
    /// The records are not placed in buckets by a time field (a snapshot, the funnel).
    #[error(
        "only a metric whose records are placed in buckets by a time field has a bucket to compare with (not a snapshot or the funnel)"
    )]
    Unbucketed,
    /// At grain hour, a date has no hour to compare.
    #[error("at grain hour both times must be timestamps, not dates")]
    HourNeedsTimestamps,
    /// The buckets' SQL could not be written (the engine's reason).
    #[error(transparent)]
    Buckets(Box<crate::Error>),
}

impl From<crate::Error> for BucketTestError {
    fn from(e: crate::Error) -> BucketTestError {
        BucketTestError::Buckets(Box::new(e))
    }
}

/// How `in_bucket(x)` and `before_bucket(x)` compare a time with the record's bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketTest {
    /// `x` lies in the same bucket as the record (the bucket as cut by the range).
    In,
    /// `x` lies before the record's bucket.
    Before,
}

/// What compiling needs to know of the workspace.
#[derive(Clone, Debug)]
pub struct Env {
    pub zone: TimeZone,
    pub currency: Currency,
}

impl Default for Env {
    fn default() -> Env {
        Env { zone: TimeZone::UTC, currency: Currency::USD }
    }
}

/// A parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Int(i64),
    Real(f64),
    Text(String),
}

impl Param {
    /// The value bound to its `?` (see [`traction_store::SqlReader`]).
    pub fn sql_value(&self) -> traction_store::SqlValue {
        use traction_store::SqlValue;
        match self {
            Param::Int(n) => SqlValue::Integer(*n),
            Param::Real(x) => SqlValue::Real(*x),
            Param::Text(s) => SqlValue::Text(s.clone()),
        }
    }
}

/// SQL text with its parameters, in the order of their `?`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fragment {
    pub sql: String,
    pub params: Vec<Param>,
}

/// A checked, compiled expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    pub fragment: Fragment,
    pub ty: Ty,
    /// The same expression as the store's typed term over the scope's names (what a record
    /// list's condition is lowered to; see [`lower_record_condition`]).
    term: Term,
}

/// A type or name mistake, at a span of the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeError {
    pub span: Span,
    pub message: String,
}

impl TypeError {
    fn new(span: Span, message: impl Into<String>) -> TypeError {
        TypeError { span, message: message.into() }
    }

    pub fn render(&self, text: &str) -> String {
        let (line, column) = super::line_column(text, self.span.start);
        format!("{line}:{column}: {}", self.message)
    }
}

/// Checks and compiles an expression in a scope.
pub fn compile(expr: &Expr, scope: &dyn Scope, env: &Env) -> Result<Compiled, TypeError> {
    Compiler { scope, env }.expr(expr)
}

/// Checks and compiles a condition: the expression must be a boolean.
pub fn compile_condition(expr: &Expr, scope: &dyn Scope, env: &Env) -> Result<Fragment, TypeError> {
    Ok(checked_condition(expr, scope, env)?.fragment)
}

fn checked_condition(expr: &Expr, scope: &dyn Scope, env: &Env) -> Result<Compiled, TypeError> {
    let compiled = compile(expr, scope, env)?;
    if compiled.ty != Ty::Bool {
        return Err(TypeError::new(
            expr.span,
            format!("a condition must be true or false, but this is a {}", compiled.ty),
        ));
    }
    Ok(compiled)
}

/// Checks a condition on the records of `entity` (the `where` of a record list: the API's
/// `?where=`, the CLI's `export --where`) against the entity's fields, with the same rules and
/// messages as every other expression, and lowers it to the store's typed [`Predicate`]: no SQL.
/// A record list has no buckets, so `in_bucket(t)` and `before_bucket(t)` are only checked
/// there, and hold.
pub fn lower_record_condition(
    expr: &Expr,
    entity: traction_domain::Entity,
    env: &Env,
) -> Result<Predicate, TypeError> {
    Ok(holds(checked_condition(expr, &EntityScope(entity), env)?.term))
}

/// The fields of one entity, as the names of its records.
struct EntityScope(traction_domain::Entity);

impl Scope for EntityScope {
    fn describe(&self) -> String {
        self.0.name().to_string()
    }

    fn column(&self, name: &str) -> Option<Column> {
        use traction_domain::schema::FieldType;
        let field = self.0.field(name)?;
        let (ty, values) = match field.ty {
            FieldType::Id | FieldType::Ref(_) | FieldType::Text => (Ty::Text, Values::Free),
            FieldType::Category => (Ty::Text, Values::Category),
            FieldType::Enum(allowed) => (Ty::Text, Values::Enum(allowed)),
            // Exact decimals are compared as numbers (the store reads them so).
            FieldType::Int { .. }
            | FieldType::Fraction
            | FieldType::Number
            | FieldType::Decimal => (Ty::Num, Values::Free),
            FieldType::Kind => (Ty::Text, Values::Kind),
            FieldType::Money => (Ty::Money, Values::Free),
            FieldType::Timestamp => (Ty::Timestamp, Values::Free),
            FieldType::Date => (Ty::Date, Values::Free),
            FieldType::Bool => (Ty::Bool, Values::Free),
        };
        // Only the lowered term is used, which names the field; the store writes its SQL.
        Some(Column { ty, values, sql: field.name.to_string() })
    }

    fn names(&self) -> Vec<String> {
        self.0.fields().iter().map(|f| f.name.to_string()).collect()
    }
}

/// A boolean term as a predicate.
fn holds(term: Term) -> Predicate {
    match term {
        Term::Truth(p) => *p,
        other => Predicate::Holds(other),
    }
}

fn truth(p: Predicate) -> Term {
    Term::Truth(Box::new(p))
}

fn value_of(param: &Param) -> traction_domain::Value {
    use traction_domain::Value;
    match param {
        Param::Int(n) => Value::Int(*n),
        Param::Real(x) => Value::Real(*x),
        Param::Text(t) => Value::Text(t.clone()),
    }
}

struct Compiler<'a> {
    scope: &'a dyn Scope,
    env: &'a Env,
}

/// An operand before it is fixed: literals wait to learn the type of the other side.
enum Operand<'e> {
    Typed(Compiled, Values),
    Literal(&'e Expr),
}

fn frag(sql: impl Into<String>, params: Vec<Param>, ty: Ty, term: Term) -> Compiled {
    Compiled { fragment: Fragment { sql: sql.into(), params }, ty, term }
}

/// A literal: one parameter, and the value it binds.
fn literal(param: Param, ty: Ty, value: traction_domain::Value) -> Compiled {
    frag("?", vec![param], ty, Term::Value(value))
}

fn number(param: Param, ty: Ty) -> Compiled {
    let value = value_of(&param);
    literal(param, ty, value)
}

impl Compiler<'_> {
    fn expr(&self, expr: &Expr) -> Result<Compiled, TypeError> {
        match &expr.kind {
            ExprKind::Name(_) => {
                let (column, _) = self.name(expr)?;
                Ok(column)
            }
            ExprKind::Text(t) => Ok(literal(
                Param::Text(t.clone()),
                Ty::Text,
                traction_domain::Value::Text(t.clone()),
            )),
            ExprKind::Number(n) => Ok(number(number_param(n, expr.span)?, Ty::Num)),
            ExprKind::Bool(b) => Ok(frag(
                if *b { "1" } else { "0" },
                vec![],
                Ty::Bool,
                truth(if *b { Predicate::True } else { Predicate::False }),
            )),
            ExprKind::Null => Err(TypeError::new(
                expr.span,
                "null can only be tested with `is null` or `is not null`",
            )),
            ExprKind::Not(inner) => {
                let c = self.expr(inner)?;
                self.want(&c, Ty::Bool, inner.span, "not")?;
                let term = truth(Predicate::Not(Box::new(holds(c.term))));
                Ok(frag(format!("NOT ({})", c.fragment.sql), c.fragment.params, Ty::Bool, term))
            }
            ExprKind::Neg(inner) => {
                let c = self.expr(inner)?;
                if !matches!(c.ty, Ty::Num | Ty::Money) {
                    return Err(TypeError::new(
                        inner.span,
                        format!("only numbers and money can be negated, not a {}", c.ty),
                    ));
                }
                let term = Term::Neg(Box::new(c.term));
                Ok(frag(format!("-({})", c.fragment.sql), c.fragment.params, c.ty, term))
            }
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), l, r) => {
                let lc = self.expr(l)?;
                self.want(&lc, Ty::Bool, l.span, op.symbol())?;
                let rc = self.expr(r)?;
                self.want(&rc, Ty::Bool, r.span, op.symbol())?;
                let word = if *op == BinOp::And { "AND" } else { "OR" };
                let both = vec![holds(lc.term), holds(rc.term)];
                let term = truth(if *op == BinOp::And {
                    Predicate::And(both)
                } else {
                    Predicate::Or(both)
                });
                Ok(join(lc.fragment, &format!(" {word} "), rc.fragment, Ty::Bool, term))
            }
            ExprKind::Binary(op, l, r) if op.is_comparison() => self.comparison(*op, l, r),
            ExprKind::Binary(op, l, r) => self.arithmetic(*op, l, r, expr.span),
            ExprKind::In { expr: item, list, negated } => {
                let left = self.operand(item)?;
                let mut sql = String::new();
                let mut params = Vec::new();
                let mut left_sql = None;
                let mut left_term = None;
                let mut terms = Vec::new();
                for (idx, member) in list.iter().enumerate() {
                    let right = self.operand(member)?;
                    let (l, r) = self.unify(&left, &right, item.span, member.span)?;
                    if l.ty == Ty::Span {
                        return Err(TypeError::new(item.span, "a time span cannot be compared"));
                    }
                    if left_sql.is_none() {
                        sql.push_str(&format!(
                            "({}) {}IN (",
                            l.fragment.sql,
                            if *negated { "NOT " } else { "" }
                        ));
                        params.extend(l.fragment.params.clone());
                        left_sql = Some(l.fragment.sql);
                        left_term = Some(l.term);
                    }
                    terms.push(r.term);
                    if idx > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&r.fragment.sql);
                    params.extend(r.fragment.params);
                }
                sql.push(')');
                let Some(term) = left_term else {
                    return Err(TypeError::new(item.span, "in needs at least one value"));
                };
                let is_in = Predicate::In { term, values: terms };
                let term = truth(if *negated { Predicate::Not(Box::new(is_in)) } else { is_in });
                Ok(frag(sql, params, Ty::Bool, term))
            }
            ExprKind::IsNull { expr: inner, negated } => {
                let c = self.expr(inner)?;
                let test = if *negated { "IS NOT NULL" } else { "IS NULL" };
                let term = truth(if *negated {
                    Predicate::NotNull(c.term)
                } else {
                    Predicate::IsNull(c.term)
                });
                Ok(frag(format!("({}) {test}", c.fragment.sql), c.fragment.params, Ty::Bool, term))
            }
            ExprKind::Call { name, args } => self.call(name, args, expr.span),
        }
    }

    /// The functions: `seconds|hours|days(a - b)`, `if(c, a, b)`, `date(t)`, `in_bucket(t)` and
    /// `before_bucket(t)`.
    fn call(&self, name: &str, args: &[Expr], span: Span) -> Result<Compiled, TypeError> {
        let arity = |n: usize, shape: &str| -> Result<(), TypeError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(TypeError::new(
                    span,
                    format!(
                        "{name}() takes {n} argument{}: {shape}",
                        if n == 1 { "" } else { "s" }
                    ),
                ))
            }
        };
        match name {
            "seconds" | "hours" | "days" => {
                arity(1, &format!("{name}(a - b)"))?;
                let (divisor, micros) = match name {
                    "seconds" => ("1000000.0", 1_000_000.0),
                    "hours" => ("3600000000.0", 3_600_000_000.0),
                    _ => ("86400000000.0", 86_400_000_000.0),
                };
                let c = self.expr(&args[0])?;
                if c.ty != Ty::Span {
                    return Err(TypeError::new(
                        args[0].span,
                        format!(
                            "{name}() takes the difference of two timestamps (a - b), not a {}",
                            c.ty
                        ),
                    ));
                }
                let term = Term::Arith {
                    op: ArithOp::Div,
                    left: Box::new(c.term),
                    right: Box::new(Term::Value(traction_domain::Value::Real(micros))),
                };
                Ok(frag(
                    format!("(({}) / {divisor})", c.fragment.sql),
                    c.fragment.params,
                    Ty::Num,
                    term,
                ))
            }
            "if" => {
                arity(3, "if(condition, then, else)")?;
                let cond = checked_condition(&args[0], self.scope, self.env)?;
                let (then, other) = (&args[1], &args[2]);
                let (a, b) = match (&then.kind, &other.kind) {
                    (ExprKind::Null, ExprKind::Null) => {
                        return Err(TypeError::new(span, "if() needs a value in one branch"));
                    }
                    (ExprKind::Null, _) => {
                        let b = self.expr(other)?;
                        (frag("NULL", vec![], b.ty, Term::Value(traction_domain::Value::Null)), b)
                    }
                    (_, ExprKind::Null) => {
                        let a = self.expr(then)?;
                        let ty = a.ty;
                        (a, frag("NULL", vec![], ty, Term::Value(traction_domain::Value::Null)))
                    }
                    _ => {
                        let left = self.operand(then)?;
                        let right = self.operand(other)?;
                        self.unify(&left, &right, then.span, other.span).map_err(|e| {
                            TypeError::new(
                                e.span,
                                format!(
                                    "if() gives one type, but its branches differ: {}",
                                    e.message
                                ),
                            )
                        })?
                    }
                };
                if a.ty == Ty::Span {
                    return Err(TypeError::new(
                        then.span,
                        "if() cannot give a time span: wrap it in seconds(…), hours(…) or days(…)",
                    ));
                }
                let term = Term::If {
                    cond: Box::new(holds(cond.term)),
                    then: Box::new(a.term),
                    otherwise: Box::new(b.term),
                };
                let cond = cond.fragment;
                let mut params = cond.params;
                params.extend(a.fragment.params);
                params.extend(b.fragment.params);
                Ok(frag(
                    format!(
                        "(CASE WHEN {} THEN {} ELSE {} END)",
                        cond.sql, a.fragment.sql, b.fragment.sql
                    ),
                    params,
                    a.ty,
                    term,
                ))
            }
            "date" => {
                arity(1, "date(timestamp)")?;
                let c = self.expr(&args[0])?;
                if c.ty != Ty::Timestamp {
                    return Err(TypeError::new(
                        args[0].span,
                        format!("date() takes a timestamp, not a {}", c.ty),
                    ));
                }
                if !c.fragment.params.is_empty() {
                    return Err(TypeError::new(
                        args[0].span,
                        "date() takes a timestamp field of the record, not an expression with values",
                    ));
                }
                let offset = crate::buckets::any_offset_sql(&c.fragment.sql, &self.env.zone);
                // The local calendar day: the instant plus the zone's offset then, as a date.
                let term =
                    Term::LocalDate { instant: Box::new(c.term), zone: self.env.zone.clone() };
                Ok(frag(
                    format!("date((({}) + ({offset})) / 1000000.0, 'unixepoch')", c.fragment.sql),
                    vec![],
                    Ty::Date,
                    term,
                ))
            }
            "in_bucket" | "before_bucket" => {
                arity(1, &format!("{name}(a timestamp or date field)"))?;
                let c = self.expr(&args[0])?;
                if !matches!(c.ty, Ty::Timestamp | Ty::Date) {
                    return Err(TypeError::new(
                        args[0].span,
                        format!("{name}() takes a timestamp or a date, not a {}", c.ty),
                    ));
                }
                if !c.fragment.params.is_empty() {
                    return Err(TypeError::new(
                        args[0].span,
                        format!("{name}() takes a field of the record, not a literal"),
                    ));
                }
                let test = if name == "in_bucket" { BucketTest::In } else { BucketTest::Before };
                let sql = self
                    .scope
                    .bucket_test(test, &c.fragment.sql, c.ty == Ty::Date)
                    .map_err(|m| TypeError::new(span, format!("{name}(): {m}")))?;
                // Lowered for a record list, which has no buckets: only checked (see
                // `lower_record_condition`).
                Ok(frag(sql, vec![], Ty::Bool, truth(Predicate::True)))
            }
            _ => Err(TypeError::new(
                span,
                format!(
                    "unknown function {name:?}: the functions are seconds(a - b), hours(a - b), days(a - b), if(c, a, b), date(t), in_bucket(t) and before_bucket(t)"
                ),
            )),
        }
    }

    fn name(&self, expr: &Expr) -> Result<(Compiled, Values), TypeError> {
        let ExprKind::Name(name) = &expr.kind else {
            return Err(TypeError::new(expr.span, "expected a name"));
        };
        match self.scope.column(name) {
            Some(column) => {
                Ok((frag(column.sql, vec![], column.ty, Term::Field(name.clone())), column.values))
            }
            None => Err(TypeError::new(
                expr.span,
                format!(
                    "unknown field {name:?} on {}; fields are {}",
                    self.scope.describe(),
                    self.scope.names().join(", ")
                ),
            )),
        }
    }

    fn want(&self, c: &Compiled, ty: Ty, span: Span, what: &str) -> Result<(), TypeError> {
        if c.ty == ty {
            Ok(())
        } else {
            Err(TypeError::new(span, format!("{what} needs a {ty} here, but this is a {}", c.ty)))
        }
    }

    fn operand<'e>(&self, expr: &'e Expr) -> Result<Operand<'e>, TypeError> {
        match &expr.kind {
            ExprKind::Text(_) | ExprKind::Number(_) => Ok(Operand::Literal(expr)),
            ExprKind::Name(_) => {
                let (c, values) = self.name(expr)?;
                Ok(Operand::Typed(c, values))
            }
            _ => Ok(Operand::Typed(self.expr(expr)?, Values::Free)),
        }
    }

    /// Fixes the types of two operands of a comparison, reading literals as the other side's type.
    fn unify(
        &self,
        left: &Operand<'_>,
        right: &Operand<'_>,
        lspan: Span,
        rspan: Span,
    ) -> Result<(Compiled, Compiled), TypeError> {
        match (left, right) {
            (Operand::Typed(l, _), Operand::Typed(r, _)) => {
                if l.ty != r.ty {
                    return Err(TypeError::new(
                        rspan,
                        format!("cannot compare a {} with a {}", l.ty, r.ty),
                    ));
                }
                Ok((l.clone(), r.clone()))
            }
            (Operand::Typed(l, lv), Operand::Literal(lit)) => {
                Ok((l.clone(), self.literal_as(lit, l.ty, *lv)?))
            }
            (Operand::Literal(lit), Operand::Typed(r, rv)) => {
                Ok((self.literal_as(lit, r.ty, *rv)?, r.clone()))
            }
            (Operand::Literal(l), Operand::Literal(r)) => {
                let lc = self.expr(l)?;
                let rc = self.expr(r)?;
                if lc.ty != rc.ty {
                    return Err(TypeError::new(
                        lspan,
                        format!("cannot compare a {} with a {}", lc.ty, rc.ty),
                    ));
                }
                Ok((lc, rc))
            }
        }
    }

    /// A literal read as a value of type `ty`.
    fn literal_as(&self, lit: &Expr, ty: Ty, values: Values) -> Result<Compiled, TypeError> {
        let span = lit.span;
        let mismatch =
            |found: &str| TypeError::new(span, format!("cannot compare a {ty} with {found}"));
        match (&lit.kind, ty) {
            (ExprKind::Text(t), Ty::Text) => {
                let value = match values {
                    Values::Free => t.clone(),
                    Values::Category => t.trim().to_lowercase(),
                    Values::Kind => traction_domain::record::normalise_kind(t)
                        .map_err(|e| TypeError::new(span, e.to_string()))?,
                    Values::Enum(allowed) => {
                        let word = t.trim().to_lowercase();
                        if !allowed.contains(&word.as_str()) {
                            return Err(TypeError::new(
                                span,
                                format!(
                                    "'{t}' is not a possible value here: use one of {}",
                                    allowed.join(", ")
                                ),
                            ));
                        }
                        word
                    }
                };
                Ok(literal(
                    Param::Text(value.clone()),
                    Ty::Text,
                    traction_domain::Value::Text(value),
                ))
            }
            (ExprKind::Text(t), Ty::Timestamp) => {
                let micros = parse_instant(t, &self.env.zone)
                    .map_err(|e| TypeError::new(span, e.to_string()))?;
                Ok(literal(
                    Param::Int(micros),
                    Ty::Timestamp,
                    traction_domain::Value::Instant(micros),
                ))
            }
            (ExprKind::Text(t), Ty::Date) => {
                let date = parse_date(t).map_err(|e| TypeError::new(span, e.to_string()))?;
                Ok(literal(
                    Param::Text(date.to_string()),
                    Ty::Date,
                    traction_domain::Value::Date(date),
                ))
            }
            (ExprKind::Number(n), Ty::Num) => Ok(number(number_param(n, span)?, Ty::Num)),
            (ExprKind::Number(n), Ty::Money) => {
                let minor = parse_minor(n, self.env.currency)
                    .map_err(|e| TypeError::new(span, e.to_string()))?;
                Ok(number(Param::Int(minor), Ty::Money))
            }
            (ExprKind::Text(t), _) => Err(mismatch(&format!("the text '{t}'"))),
            (ExprKind::Number(n), _) => Err(mismatch(&format!("the number {n}"))),
            _ => self.expr(lit),
        }
    }

    fn comparison(&self, op: BinOp, l: &Expr, r: &Expr) -> Result<Compiled, TypeError> {
        for side in [l, r] {
            if side.kind == ExprKind::Null {
                return Err(TypeError::new(
                    side.span,
                    "nothing equals null: write `is null` or `is not null`",
                ));
            }
        }
        let left = self.operand(l)?;
        let right = self.operand(r)?;
        for (side, span) in [(&left, l.span), (&right, r.span)] {
            if let Operand::Typed(c, _) = side
                && c.ty == Ty::Span
            {
                return Err(TypeError::new(
                    span,
                    "a time span cannot be compared: wrap it in seconds(…), hours(…) or days(…)",
                ));
            }
        }
        let (lc, rc) = self.unify(&left, &right, l.span, r.span)?;
        if lc.ty == Ty::Bool && !matches!(op, BinOp::Eq | BinOp::Ne) {
            return Err(TypeError::new(l.span, "true and false can only be compared with = or !="));
        }
        let sym = op.symbol();
        let cmp = match op {
            BinOp::Eq => CmpOp::Eq,
            BinOp::Ne => CmpOp::Ne,
            BinOp::Lt => CmpOp::Lt,
            BinOp::Le => CmpOp::Le,
            BinOp::Gt => CmpOp::Gt,
            _ => CmpOp::Ge,
        };
        let term = truth(Predicate::Compare { left: lc.term, op: cmp, right: rc.term });
        Ok(join(lc.fragment, &format!(" {sym} "), rc.fragment, Ty::Bool, term))
    }

    fn arithmetic(&self, op: BinOp, l: &Expr, r: &Expr, span: Span) -> Result<Compiled, TypeError> {
        let left = self.operand(l)?;
        let right = self.operand(r)?;
        // A number literal next to money is an amount in major units for + and -, a plain factor
        // for * and /.
        let fix = |operand: Operand<'_>, other: &Operand<'_>| -> Result<Compiled, TypeError> {
            match operand {
                Operand::Typed(c, _) => Ok(c),
                Operand::Literal(lit) => match other {
                    Operand::Typed(o, _)
                        if o.ty == Ty::Money && matches!(op, BinOp::Add | BinOp::Sub) =>
                    {
                        self.literal_as(lit, Ty::Money, Values::Free)
                    }
                    _ => self.expr(lit),
                },
            }
        };
        let lc = fix(left, &right)?;
        let left_again = Operand::Typed(lc.clone(), Values::Free);
        let rc = fix(right, &left_again)?;
        let ty = match (op, lc.ty, rc.ty) {
            (BinOp::Add | BinOp::Sub, Ty::Num, Ty::Num) => Ty::Num,
            (BinOp::Add | BinOp::Sub, Ty::Money, Ty::Money) => Ty::Money,
            (BinOp::Sub, Ty::Timestamp, Ty::Timestamp) => Ty::Span,
            (BinOp::Mul, Ty::Num, Ty::Num) => Ty::Num,
            (BinOp::Mul, Ty::Money, Ty::Num) | (BinOp::Mul, Ty::Num, Ty::Money) => Ty::Money,
            (BinOp::Div, Ty::Num, Ty::Num) | (BinOp::Div, Ty::Money, Ty::Money) => Ty::Num,
            (BinOp::Div, Ty::Money, Ty::Num) => Ty::Money,
            _ => {
                return Err(TypeError::new(
                    span,
                    format!("cannot apply {} to a {} and a {}", op.symbol(), lc.ty, rc.ty),
                ));
            }
        };
        // SQLite divides integers as integers; a fraction is what the language means.
        let sym = match op {
            BinOp::Div => " * 1.0 / ",
            _ => match op {
                BinOp::Add => " + ",
                BinOp::Sub => " - ",
                _ => " * ",
            },
        };
        let arith = match op {
            BinOp::Add => ArithOp::Add,
            BinOp::Sub => ArithOp::Sub,
            BinOp::Mul => ArithOp::Mul,
            _ => ArithOp::Div,
        };
        let term = Term::Arith { op: arith, left: Box::new(lc.term), right: Box::new(rc.term) };
        Ok(join(lc.fragment, sym, rc.fragment, ty, term))
    }
}

fn join(l: Fragment, sym: &str, r: Fragment, ty: Ty, term: Term) -> Compiled {
    let mut params = l.params;
    params.extend(r.params);
    frag(format!("({}){sym}({})", l.sql, r.sql), params, ty, term)
}

fn number_param(text: &str, span: Span) -> Result<Param, TypeError> {
    if !text.contains('.')
        && let Ok(n) = text.parse::<i64>()
    {
        return Ok(Param::Int(n));
    }
    text.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .map(Param::Real)
        .ok_or_else(|| TypeError::new(span, format!("{text} is not a usable number")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    struct Deals;

    impl Scope for Deals {
        fn describe(&self) -> String {
            "deals".into()
        }
        fn column(&self, name: &str) -> Option<Column> {
            let (ty, values) = match name {
                "amount" => (Ty::Money, Values::Free),
                "status" => (Ty::Text, Values::Enum(&["open", "won", "lost"])),
                "source" => (Ty::Text, Values::Category),
                "owner_id" => (Ty::Text, Values::Free),
                "created_at" | "closed_at" => (Ty::Timestamp, Values::Free),
                "expected_close_on" => (Ty::Date, Values::Free),
                "contract_months" => (Ty::Num, Values::Free),
                "won" => (Ty::Bool, Values::Free),
                _ => return None,
            };
            Some(Column { ty, values, sql: format!("t.{name}") })
        }
        fn names(&self) -> Vec<String> {
            ["amount", "status", "source", "owner_id", "created_at", "closed_at"]
                .map(String::from)
                .to_vec()
        }
    }

    fn ok(text: &str) -> (String, Vec<Param>) {
        let expr = parse(text).unwrap();
        let env = Env {
            zone: jiff::tz::TimeZone::get("Europe/London").unwrap(),
            currency: Currency::USD,
        };
        let c =
            compile_condition(&expr, &Deals, &env).unwrap_or_else(|e| panic!("{}", e.render(text)));
        (c.sql, c.params)
    }

    fn bad(text: &str) -> String {
        let expr = parse(text).unwrap();
        match compile_condition(&expr, &Deals, &Env::default()) {
            Ok(f) => panic!("{text} compiled to {}", f.sql),
            Err(e) => e.render(text),
        }
    }

    #[test]
    fn literals_take_the_type_of_what_they_are_compared_with() {
        // 1,234.5 dollars are 123,450 cents.
        assert_eq!(ok("amount >= 1234.5"), ("(t.amount) >= (?)".into(), vec![Param::Int(123_450)]));
        // Categories are stored lower-cased.
        assert_eq!(ok("source = 'Web'").1, vec![Param::Text("web".into())]);
        // 2026-07-01 local midnight in London is 23:00 UTC the day before (BST):
        // 1782860400 s since the epoch for 2026-06-30T23:00:00Z.
        assert_eq!(ok("created_at < '2026-07-01'").1, vec![Param::Int(1_782_860_400_000_000)]);
        assert_eq!(
            ok("expected_close_on = '2026-07-01'").1,
            vec![Param::Text("2026-07-01".into())]
        );
        let (sql, params) = ok("status in ('won', 'LOST') and not won");
        assert_eq!(sql, "((t.status) IN (?, ?)) AND (NOT (t.won))");
        assert_eq!(params, vec![Param::Text("won".into()), Param::Text("lost".into())]);
    }

    #[test]
    fn spans_between_timestamps_become_hours_or_days() {
        let (sql, _) = ok("days(closed_at - created_at) > 30");
        assert_eq!(sql, "((((t.closed_at) - (t.created_at)) / 86400000000.0)) > (?)");
        let (sql, _) = ok("amount / contract_months > 10");
        assert_eq!(sql, "((t.amount) * 1.0 / (t.contract_months)) > (?)");
    }

    #[test]
    fn if_and_date_compile_to_case_and_local_dates() {
        let expr = parse("if(amount >= 10, amount, 0)").unwrap();
        let c = compile(&expr, &Deals, &Env::default()).unwrap();
        // The literal 0 next to money is an amount: 0 cents; 10 dollars are 1,000 cents.
        assert_eq!(c.ty, Ty::Money);
        assert_eq!(c.fragment.sql, "(CASE WHEN (t.amount) >= (?) THEN t.amount ELSE ? END)");
        assert_eq!(c.fragment.params, [Param::Int(1000), Param::Int(0)]);
        // In London the offset is a balanced CASE over the transitions; in UTC none.
        let (sql, _) = ok("date(closed_at) <= expected_close_on");
        assert!(sql.starts_with("(date(((t.closed_at) + (CASE WHEN t.closed_at < "), "{sql}");
        let utc = compile_condition(
            &parse("date(closed_at) <= expected_close_on").unwrap(),
            &Deals,
            &Env::default(),
        )
        .unwrap();
        assert_eq!(
            utc.sql,
            "(date(((t.closed_at) + (0)) / 1000000.0, 'unixepoch')) <= (t.expected_close_on)"
        );
        assert_eq!(
            bad("if(won, 1, 'x') = 1"),
            "1:9: if() gives one type, but its branches differ: cannot compare a number with a text"
        );
        assert_eq!(bad("if(won, 1) = 1"), "1:1: if() takes 3 arguments: if(condition, then, else)");
        assert_eq!(
            bad("date(amount) = '2026-01-01'"),
            "1:6: date() takes a timestamp, not a money"
        );
        assert_eq!(
            bad("in_bucket(amount)"),
            "1:11: in_bucket() takes a timestamp or a date, not a money"
        );
    }

    #[test]
    fn mistakes_name_the_place_and_the_fix() {
        assert_eq!(
            bad("ownr = 'u1'"),
            "1:1: unknown field \"ownr\" on deals; fields are amount, status, source, owner_id, created_at, closed_at"
        );
        assert_eq!(
            bad("status = 'wom'"),
            "1:10: 'wom' is not a possible value here: use one of open, won, lost"
        );
        assert_eq!(bad("amount = 'lots'"), "1:10: cannot compare a money with the text 'lots'");
        assert_eq!(bad("amount > created_at"), "1:10: cannot compare a money with a timestamp");
        assert_eq!(
            bad("closed_at = null"),
            "1:13: nothing equals null: write `is null` or `is not null`"
        );
        assert_eq!(
            bad("amount + 1"),
            "1:1: a condition must be true or false, but this is a money"
        );
        assert_eq!(
            bad("closed_at - created_at > 3"),
            "1:1: a time span cannot be compared: wrap it in seconds(…), hours(…) or days(…)"
        );
        assert_eq!(
            bad("hours(amount) > 3"),
            "1:7: hours() takes the difference of two timestamps (a - b), not a money"
        );
        assert_eq!(
            bad("weeks(closed_at - created_at) > 3"),
            "1:1: unknown function \"weeks\": the functions are seconds(a - b), hours(a - b), days(a - b), if(c, a, b), date(t), in_bucket(t) and before_bucket(t)"
        );
        assert_eq!(bad("created_at > 'soon'").split(": ").next(), Some("1:14"));
        assert_eq!(
            bad("amount > 1.234"),
            "1:10: \"1.234\" has more decimals than USD allows (2): amounts are stored exactly, so round it in the source"
        );
        assert_eq!(bad("won < true"), "1:1: true and false can only be compared with = or !=");
        assert_eq!(bad("not amount"), "1:5: not needs a boolean here, but this is a money");
    }

    #[test]
    fn a_record_condition_lowers_to_the_stores_typed_predicate() {
        use traction_domain::{Entity, Value};
        let london = jiff::tz::TimeZone::get("Europe/London").unwrap();
        let env = Env { zone: london.clone(), currency: Currency::USD };
        let lower = |text: &str| lower_record_condition(&parse(text).unwrap(), Entity::Deals, &env);
        let field = |name: &str| Box::new(Term::field(name));
        // days(a - b) divides the span of microseconds by 86,400,000,000; 30 days is a number.
        let days = Term::Arith {
            op: ArithOp::Div,
            left: Box::new(Term::Arith {
                op: ArithOp::Sub,
                left: field("closed_at"),
                right: field("created_at"),
            }),
            right: Box::new(Term::Value(Value::Real(86_400_000_000.0))),
        };
        assert_eq!(
            lower("days(closed_at - created_at) > 30").unwrap(),
            Predicate::Compare { left: days, op: CmpOp::Gt, right: Term::Value(Value::Int(30)) }
        );
        // A source is a category (lower-cased); 10 dollars are 1,000 cents, and so is the 0.
        assert_eq!(
            lower("not (source = 'Web') and if(amount > 10, amount, 0) != 5").unwrap(),
            Predicate::And(vec![
                Predicate::Not(Box::new(Predicate::compare(
                    "source",
                    CmpOp::Eq,
                    Value::Text("web".into())
                ))),
                Predicate::Compare {
                    left: Term::If {
                        cond: Box::new(Predicate::compare("amount", CmpOp::Gt, Value::Int(1000))),
                        then: field("amount"),
                        otherwise: Box::new(Term::Value(Value::Int(0))),
                    },
                    op: CmpOp::Ne,
                    right: Term::Value(Value::Int(500)),
                },
            ])
        );
        assert_eq!(
            lower("date(created_at) = '2026-07-01' or closed_at >= '2026-07-01'").unwrap(),
            Predicate::Or(vec![
                Predicate::Compare {
                    left: Term::LocalDate { instant: field("created_at"), zone: london },
                    op: CmpOp::Eq,
                    right: Term::Value(Value::Date("2026-07-01".parse().unwrap())),
                },
                // Local midnight in London (BST) is 23:00 UTC the day before: 1782860400 s.
                Predicate::compare("closed_at", CmpOp::Ge, Value::Instant(1_782_860_400_000_000)),
            ])
        );
        // A list has no buckets: the test is checked, and holds.
        assert_eq!(lower("in_bucket(created_at)").unwrap(), Predicate::True);
        assert_eq!(lower("true").unwrap(), Predicate::True);
        let err = lower("colour = 'red'").unwrap_err().render("colour = 'red'");
        assert!(
            err.starts_with("1:1: unknown field \"colour\" on deals; fields are id, "),
            "{err}"
        );
    }
}
