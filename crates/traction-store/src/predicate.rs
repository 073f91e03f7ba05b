//! Typed conditions on one entity's records, for [`crate::ListQuery`]: what callers say instead
//! of SQL.
//!
//! A [`Predicate`] speaks of the entity's schema fields by name and of domain [`Value`]s; the
//! store checks every name against the schema (a typo is [`crate::Error::Invalid`], never text in
//! a query) and each backend compiles the tree in one module (`sqlite/predicate.rs`). The forms
//! are those the record pages need (ranges, a name search, the caller's read scope) and those of
//! the checked `where` expressions of the API and the CLI export, which the metrics crate lowers
//! to a predicate: comparisons of arithmetic over fields and values, `in`, null tests, `and`,
//! `or`, `not`, `if(…)`, and the local calendar day of a timestamp.
//!
//! Semantics are SQL's three-valued logic: a comparison with an absent value is unknown, so
//! neither it nor its negation matches; `IsNull` tests absence. A decimal field (kept as exact
//! text) is compared as a number.

use jiff::tz::TimeZone;
use traction_domain::{Entity, Value};

/// A condition a record matches or not.
#[derive(Clone, Debug, PartialEq)]
pub enum Predicate {
    /// Every record.
    True,
    /// No record.
    False,
    /// `left op right`; unknown (no match) when either side is absent.
    Compare {
        left: Term,
        op: CmpOp,
        right: Term,
    },
    /// `term` equals one of `values` (SQL's `IN`).
    In {
        term: Term,
        values: Vec<Term>,
    },
    /// The term is absent.
    IsNull(Term),
    /// The term is present.
    NotNull(Term),
    /// A boolean term holds (a yes/no field, or an `If` giving true or false).
    Holds(Term),
    /// A text field contains `text`, ignoring the case of ASCII letters (the text is matched
    /// literally: `%` and `_` are not wildcards). An absent field does not match.
    Contains {
        field: String,
        text: String,
    },
    /// The record belongs to nobody or to one of these users (a user's read scope): a record with
    /// an `owner_id` by that field; a stage change by its deal's owner (a deal always has one);
    /// an order line by its order's. Invalid on entities without an owner (see
    /// [`owner_predicate`]).
    OwnedBy(Vec<String>),
    /// All of them (`True` when empty).
    And(Vec<Predicate>),
    /// Any of them (`False` when empty).
    Or(Vec<Predicate>),
    Not(Box<Predicate>),
}

/// A value computed from one record.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// A field of the entity, by its schema name.
    Field(String),
    /// A constant (`Value::Null` is absent).
    Value(Value),
    Neg(Box<Term>),
    /// Arithmetic; `Div` is the division of numbers (never integer division).
    Arith {
        op: ArithOp,
        left: Box<Term>,
        right: Box<Term>,
    },
    /// `then` where `cond` holds, else `otherwise`.
    If {
        cond: Box<Predicate>,
        then: Box<Term>,
        otherwise: Box<Term>,
    },
    /// The local calendar day (a date) of a timestamp term in `zone`.
    LocalDate {
        instant: Box<Term>,
        zone: TimeZone,
    },
    /// A condition as a yes/no value, to compare with another.
    Truth(Box<Predicate>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl Predicate {
    /// `field op value`.
    pub fn compare(field: &str, op: CmpOp, value: Value) -> Predicate {
        Predicate::Compare { left: Term::field(field), op, right: Term::Value(value) }
    }

    /// Both this and `other` (flattening nested `And`s, dropping `True`).
    pub fn and(self, other: Predicate) -> Predicate {
        let mut parts = match self {
            Predicate::And(parts) => parts,
            Predicate::True => Vec::new(),
            one => vec![one],
        };
        match other {
            Predicate::And(more) => parts.extend(more),
            Predicate::True => {}
            one => parts.push(one),
        }
        match parts.len() {
            0 => Predicate::True,
            1 => parts.pop().unwrap_or(Predicate::True),
            _ => Predicate::And(parts),
        }
    }

    /// All of `parts`, or `None` when there are none (no condition at all).
    pub fn all(parts: impl IntoIterator<Item = Predicate>) -> Option<Predicate> {
        let joined = parts.into_iter().fold(Predicate::True, Predicate::and);
        (joined != Predicate::True).then_some(joined)
    }
}

impl Term {
    pub fn field(name: &str) -> Term {
        Term::Field(name.to_string())
    }
}

/// The read scope of `owners` on `entity` as a predicate (see [`Predicate::OwnedBy`]), or `None`
/// for entities that have no owner (reference data: teams, pipelines, products, …), which every
/// user may read.
pub fn owner_predicate(entity: Entity, owners: &[String]) -> Option<Predicate> {
    has_owner(entity).then(|| Predicate::OwnedBy(owners.to_vec()))
}

/// Whether records of `entity` belong to a user (directly or through their parent record).
pub(crate) fn has_owner(entity: Entity) -> bool {
    matches!(entity, Entity::StageChanges | Entity::OrderLines)
        || entity.field("owner_id").is_some()
}
