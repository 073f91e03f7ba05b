//! A query's `where`, as a typed value between the stages.
//!
//! A [`Filter`] is a conjunction of conditions. A condition a person wrote (the API's `where=`,
//! the CLI's `--where`, a saved alert rule) is parsed once, at that edge, with
//! [`Filter::parse`], and keeps its text so that a mistake found later (a field the metric's
//! records do not have) is reported at its line and column. A condition code needs (a scope's
//! owners, the records of one account) is built as a value with the constructors here
//! ([`Filter::owner_in`], [`Filter::text_is`]) and combined with [`Filter::and`]: no code writes
//! expression text for the engine to lex and parse again.
//!
//! This is not the language itself (that is [`crate::expr`]); it is what a query holds of it.

use std::fmt;

use crate::expr::compile::{Env, Fragment, Scope, compile_condition};
use crate::expr::{self, BinOp, Expr, ExprKind, Span};

/// Which records a query reads: every one when empty (the default), else those matching every
/// condition.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    conds: Vec<Cond>,
}

/// One condition and where it came from.
#[derive(Clone, Debug, PartialEq)]
struct Cond {
    expr: Expr,
    /// The text a person wrote, for messages that point into it; `None` for a condition code
    /// built.
    written: Option<String>,
}

/// Where a condition of a filter came from, so a caller can tell a mistake in what a person
/// wrote from a restriction its own code added (a scope on a metric whose records have no
/// owner).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Written by a person (`where=`, `--where`, a saved rule).
    Written,
    /// Built by code (a scope's owners, a page's record).
    Built,
}

/// A `where` that does not parse, or does not apply to the records a metric reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {problem}{note}")]
pub struct FilterError {
    /// 1-based line of the condition's text.
    pub line: usize,
    /// 1-based column (in characters) of the condition's text.
    pub column: usize,
    /// What is wrong there.
    pub problem: String,
    pub origin: Origin,
    /// What else the reader needs (which sources a metric reads), with its leading space; empty
    /// when nothing.
    pub note: String,
}

impl Filter {
    /// Every record: no condition.
    pub fn everything() -> Filter {
        Filter::default()
    }

    /// Parses a `where` a person wrote; blank text is no condition. The error points into
    /// `text`.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        if text.trim().is_empty() {
            return Ok(Filter::default());
        }
        match expr::parse(text) {
            Ok(expr) => Ok(Filter { conds: vec![Cond { expr, written: Some(text.to_string()) }] }),
            Err(e) => {
                let (line, column) = expr::line_column(text, e.pos);
                Err(FilterError {
                    line,
                    column,
                    problem: e.message,
                    origin: Origin::Written,
                    note: String::new(),
                })
            }
        }
    }

    /// The records owned by one of `owners`: a scope's filter. No owners own nothing.
    pub fn owner_in(owners: &[String]) -> Filter {
        Filter::built(owned_by(owners))
    }

    /// The records owned by one of `owners`, and those with no owner (costs a team shares).
    pub fn owner_in_or_unowned(owners: &[String]) -> Filter {
        let unowned = node(ExprKind::IsNull { expr: Box::new(name("owner_id")), negated: false });
        Filter::built(node(ExprKind::Binary(
            BinOp::Or,
            Box::new(unowned),
            Box::new(owned_by(owners)),
        )))
    }

    /// The records whose field `field` holds the text `value` (`account_id = 'a1'`).
    pub fn text_is(field: &str, value: &str) -> Filter {
        Filter::built(node(ExprKind::Binary(
            BinOp::Eq,
            Box::new(name(field)),
            Box::new(node(ExprKind::Text(value.to_string()))),
        )))
    }

    /// The records matching both filters.
    #[must_use]
    pub fn and(mut self, other: Filter) -> Filter {
        self.conds.extend(other.conds);
        self
    }

    /// Whether the filter keeps every record.
    pub fn is_everything(&self) -> bool {
        self.conds.is_empty()
    }

    /// Whether a person wrote any of the conditions.
    pub fn is_written(&self) -> bool {
        self.conds.iter().any(|c| c.written.is_some())
    }

    /// Checks the filter against a source's fields and compiles it to one SQL condition
    /// (`None`: no condition). An error points into the text of the condition at fault.
    pub fn compile(&self, scope: &dyn Scope, env: &Env) -> Result<Option<Fragment>, FilterError> {
        let mut out: Option<Fragment> = None;
        for cond in &self.conds {
            let fragment = compile_condition(&cond.expr, scope, env).map_err(|e| {
                let (text, origin) = match &cond.written {
                    Some(text) => (text.clone(), Origin::Written),
                    None => (cond.expr.to_string(), Origin::Built),
                };
                let (line, column) = expr::line_column(&text, e.span.start);
                FilterError { line, column, problem: e.message, origin, note: String::new() }
            })?;
            out = Some(match out {
                None => fragment,
                Some(mut acc) => {
                    acc.sql = format!("({}) AND ({})", acc.sql, fragment.sql);
                    acc.params.extend(fragment.params);
                    acc
                }
            });
        }
        Ok(out)
    }

    /// The conditions as one expression (`None`: no condition), for stages that walk the tree.
    pub fn expr(&self) -> Option<Expr> {
        self.conds
            .iter()
            .map(|c| c.expr.clone())
            .reduce(|a, b| node(ExprKind::Binary(BinOp::And, Box::new(a), Box::new(b))))
    }

    fn built(expr: Expr) -> Filter {
        Filter { conds: vec![Cond { expr, written: None }] }
    }
}

/// The conditions joined with `and`, each as written (or, for a built one, as the language
/// prints it): what a person reads back.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let several = self.conds.len() > 1;
        for (idx, cond) in self.conds.iter().enumerate() {
            if idx > 0 {
                f.write_str(" and ")?;
            }
            let text = match &cond.written {
                Some(text) => text.trim().to_string(),
                None => cond.expr.to_string(),
            };
            if several { write!(f, "({text})")? } else { f.write_str(&text)? }
        }
        Ok(())
    }
}

/// `owner_id in (…)`; for no owners a condition no record meets.
fn owned_by(owners: &[String]) -> Expr {
    if owners.is_empty() {
        let is_null =
            |negated| node(ExprKind::IsNull { expr: Box::new(name("owner_id")), negated });
        return node(ExprKind::Binary(
            BinOp::And,
            Box::new(is_null(false)),
            Box::new(is_null(true)),
        ));
    }
    node(ExprKind::In {
        expr: Box::new(name("owner_id")),
        list: owners.iter().map(|o| node(ExprKind::Text(o.clone()))).collect(),
        negated: false,
    })
}

fn name(field: &str) -> Expr {
    node(ExprKind::Name(field.to_string()))
}

/// A node built by code: it has no text, so its span is the start.
fn node(kind: ExprKind) -> Expr {
    Expr { kind, span: Span { start: 0, end: 0 } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;
    use traction_domain::Entity;

    fn deals() -> crate::source::SourceScope {
        crate::source::SourceScope::placed(
            Source::Entity(Entity::Deals),
            crate::source::Placed::Unbucketed,
        )
    }

    #[test]
    fn blank_text_is_no_condition() {
        assert!(Filter::parse("  ").unwrap().is_everything());
        assert!(Filter::parse("").unwrap().compile(&deals(), &Env::default()).unwrap().is_none());
    }

    #[test]
    fn a_syntax_error_points_into_the_text() {
        let e = Filter::parse("amount >").unwrap_err();
        assert_eq!((e.line, e.column, e.origin), (1, 9, Origin::Written));
        assert_eq!(e.to_string(), "1:9: expected a field, a value or (, found the end");
    }

    #[test]
    fn built_conditions_print_as_the_language_reads_them() {
        let ids = vec!["u1".to_string(), "o'brien".to_string()];
        assert_eq!(Filter::owner_in(&ids).to_string(), "owner_id in ('u1', 'o''brien')");
        assert_eq!(Filter::text_is("account_id", "a1").to_string(), "account_id = 'a1'");
        assert_eq!(
            Filter::owner_in_or_unowned(&ids[..1]).to_string(),
            "(owner_id is null) or (owner_id in ('u1'))"
        );
        // A scope without users owns nothing.
        assert_eq!(
            Filter::owner_in(&[]).to_string(),
            "(owner_id is null) and (owner_id is not null)"
        );
    }

    #[test]
    fn a_built_condition_is_the_same_tree_as_its_text_parsed() {
        let ids = vec!["u1".to_string(), "it's".to_string()];
        let parsed = expr::parse("owner_id in ('u1', 'it''s')").unwrap();
        assert_eq!(Filter::owner_in(&ids).expr(), Some(parsed));
        let parsed = expr::parse("owner_id is null and owner_id is not null").unwrap();
        assert_eq!(Filter::owner_in(&[]).expr(), Some(parsed));
    }

    #[test]
    fn conditions_combine_with_and_and_compile_to_one_condition() {
        let filter = Filter::parse("amount > 10").unwrap().and(Filter::owner_in(&["u1".into()]));
        assert!(filter.is_written());
        assert!(!Filter::owner_in(&["u1".into()]).is_written());
        assert_eq!(filter.to_string(), "(amount > 10) and (owner_id in ('u1'))");
        let sql = filter.compile(&deals(), &Env::default()).unwrap().unwrap();
        assert_eq!(sql.params.len(), 2, "{sql:?}");
        assert!(sql.sql.contains(") AND ("), "{}", sql.sql);
    }

    #[test]
    fn a_type_error_points_into_the_condition_at_fault() {
        // The mistake is in the written part, at its own column, whatever was added to it.
        let filter = Filter::owner_in(&["u1".into()])
            .and(Filter::parse("amount > 1 and ownr = 'x'").unwrap());
        let e = filter.compile(&deals(), &Env::default()).unwrap_err();
        assert_eq!((e.line, e.column, e.origin), (1, 16, Origin::Written), "{e}");
        // A built condition the source cannot answer says so as built.
        let e =
            Filter::text_is("campaign_idx", "c1").compile(&deals(), &Env::default()).unwrap_err();
        assert_eq!((e.line, e.column, e.origin), (1, 1, Origin::Built), "{e}");
    }
}
