//! `?where=…` on a list: a condition in the metric expression language (spec: metrics.md,
//! Definition format; interfaces.md, HTTP API), parsed, type-checked against the entity's
//! fields and lowered to the store's typed [`Predicate`] by `traction-metrics`. No text of the
//! request reaches a query: only the names of checked fields, and values.

use traction_domain::{Entity, ParseContext};
use traction_metrics::expr::compile::{Env, lower_record_condition};
use traction_store::Predicate;

use crate::error::{ApiError, Detail};

/// Checks a `where` text for `entity`: the predicate, or a 400 saying where the mistake is
/// (`1:8: …`).
pub fn compile_where(
    entity: Entity,
    text: &str,
    ctx: &ParseContext,
) -> Result<Predicate, ApiError> {
    let bad = |rendered: String| ApiError::BadRequest {
        message: format!("where: {rendered}"),
        details: vec![Detail::field("where", rendered)],
    };
    let expr = traction_metrics::expr::parse(text).map_err(|e| bad(e.render(text)))?;
    let env = Env { zone: ctx.zone.clone(), currency: ctx.currency };
    lower_record_condition(&expr, entity, &env).map_err(|e| bad(e.render(text)))
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;
    use traction_domain::Currency;

    use super::*;

    fn ctx() -> ParseContext {
        ParseContext { zone: TimeZone::UTC, currency: Currency::USD, now: 0 }
    }

    #[test]
    fn conditions_lower_to_typed_predicates() {
        use traction_domain::Value;
        use traction_store::{CmpOp, Term};
        let p = compile_where(Entity::Deals, "amount > 100.5 and status = 'Open'", &ctx()).unwrap();
        // Money is scaled exactly to minor units; an enum's word is lower-cased.
        assert_eq!(
            p,
            Predicate::And(vec![
                Predicate::compare("amount", CmpOp::Gt, Value::Int(10_050)),
                Predicate::Compare {
                    left: Term::field("status"),
                    op: CmpOp::Eq,
                    right: Term::Value(Value::Text("open".into())),
                },
            ])
        );
        let p = compile_where(Entity::Deals, "closed_at is null or not (amount in (1, 2))", &ctx())
            .unwrap();
        assert_eq!(
            p,
            Predicate::Or(vec![
                Predicate::IsNull(Term::field("closed_at")),
                Predicate::Not(Box::new(Predicate::In {
                    term: Term::field("amount"),
                    values: vec![Term::Value(Value::Int(100)), Term::Value(Value::Int(200))],
                })),
            ])
        );
    }

    #[test]
    fn mistakes_say_where_they_are() {
        let ApiError::BadRequest { message, .. } =
            compile_where(Entity::Deals, "amount > ", &ctx()).unwrap_err()
        else {
            panic!("a syntax error is a bad request")
        };
        assert!(message.starts_with("where: 1:"), "{message}");
        let ApiError::BadRequest { message, .. } =
            compile_where(Entity::Deals, "colour = 'red'", &ctx()).unwrap_err()
        else {
            panic!("an unknown field is a bad request")
        };
        assert!(message.contains("colour"), "{message}");
    }
}
