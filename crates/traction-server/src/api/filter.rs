//! `?where=…` on a list: a condition in the metric expression language (spec: metrics.md,
//! Definition format; interfaces.md, HTTP API), parsed, type-checked against the entity's
//! fields and compiled to parameterised SQL by `traction-metrics`. No text of the request
//! reaches SQL: only the names of checked fields, and values as parameters.

use traction_domain::{Entity, FieldType, ParseContext, Value};
use traction_metrics::expr::compile::{Column, Env, Param, Scope, Ty, Values, compile_condition};

use crate::error::{ApiError, Detail};

/// The fields of one entity, as columns of its own table.
struct EntityScope(Entity);

impl Scope for EntityScope {
    fn describe(&self) -> String {
        self.0.name().to_string()
    }

    fn column(&self, name: &str) -> Option<Column> {
        let field = self.0.field(name)?;
        let (ty, values) = match field.ty {
            FieldType::Id | FieldType::Ref(_) | FieldType::Text => (Ty::Text, Values::Free),
            FieldType::Category => (Ty::Text, Values::Category),
            FieldType::Enum(allowed) => (Ty::Text, Values::Enum(allowed)),
            FieldType::Int { .. } | FieldType::Fraction | FieldType::Number => {
                (Ty::Num, Values::Free)
            }
            FieldType::Kind => (Ty::Text, Values::Kind),
            FieldType::Money => (Ty::Money, Values::Free),
            FieldType::Timestamp => (Ty::Timestamp, Values::Free),
            FieldType::Date => (Ty::Date, Values::Free),
            FieldType::Bool => (Ty::Bool, Values::Free),
            // Exact decimals are stored as normalised text; compared as numbers.
            FieldType::Decimal => {
                return Some(Column {
                    ty: Ty::Num,
                    values: Values::Free,
                    sql: format!("CAST({} AS REAL)", field.name),
                });
            }
        };
        // The schema's own name, never the request's text.
        Some(Column { ty, values, sql: field.name.to_string() })
    }

    fn names(&self) -> Vec<String> {
        self.0.fields().iter().map(|f| f.name.to_string()).collect()
    }
}

/// Compiles a `where` text for `entity`: SQL and its parameters, or a 400 saying where the
/// mistake is (`1:8: …`).
pub fn compile_where(
    entity: Entity,
    text: &str,
    ctx: &ParseContext,
) -> Result<(String, Vec<Value>), ApiError> {
    let bad = |rendered: String| ApiError::BadRequest {
        message: format!("where: {rendered}"),
        details: vec![Detail::field("where", rendered)],
    };
    let expr = traction_metrics::expr::parse(text).map_err(|e| bad(e.render(text)))?;
    let env = Env { zone: ctx.zone.clone(), currency: ctx.currency };
    let fragment =
        compile_condition(&expr, &EntityScope(entity), &env).map_err(|e| bad(e.render(text)))?;
    let params = fragment
        .params
        .into_iter()
        .map(|p| match p {
            Param::Int(n) => Value::Int(n),
            Param::Real(x) => Value::Real(x),
            Param::Text(s) => Value::Text(s),
        })
        .collect();
    Ok((fragment.sql, params))
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
    fn conditions_compile_to_parameters_not_text() {
        let (sql, params) =
            compile_where(Entity::Deals, "amount > 100.5 and status = 'open'", &ctx()).unwrap();
        assert!(!sql.contains("open") && !sql.contains("100"), "{sql}");
        // Money is scaled exactly to minor units.
        assert!(params.contains(&Value::Int(10_050)), "{params:?}");
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
