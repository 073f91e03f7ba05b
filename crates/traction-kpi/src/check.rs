//! The one check of a target against its metric (spec: kpis.md, Targets), used by every way a
//! target is written: `traction target set`, the API (create, replace, patch, import), the web
//! form and `traction import targets`. The store checks the fields alone and that a target is
//! the only one on its metric, scope and period start; this adds what needs the catalog:
//!
//! - the metric exists and a target can be judged on it (not a funnel, not a retention metric);
//! - the metric can be computed for the scope (a team or user target needs records with owners);
//! - the value makes sense for the metric: positive for counts and sums, whole for counts, money
//!   within the currency's decimals, a share (a rate) between 0 and 1.

use traction_domain::money::Currency;
use traction_domain::record::FieldProblem;
use traction_domain::time::Micros;
use traction_domain::{Entity, Record};
use traction_metrics::catalog::{Kind, Metric, TargetKind, Unit};

use crate::engine::Engine;
use crate::period::{PeriodKind, period_range};
use crate::scope::Scope;
use crate::service::{MetricRequest, MetricSource};

/// Whether a level metric is a share, a rate between 0 and 1 (win_rate, email_open_rate,
/// customer shares): its target is a fraction. Cohorts and retention are shares by definition;
/// ratio-unit metrics are shares when named as rates or shares (`…_rate`, `…_share`), the
/// catalog's convention, while other ratios (orders_per_customer, sales_to_cost_ratio, growth,
/// ROI) may exceed 1 or fall below 0.
pub fn is_share(metric: &Metric) -> bool {
    metric.unit == Unit::Ratio
        && (matches!(metric.kind, Kind::Cohort { .. } | Kind::Retention { .. })
            || metric.name.ends_with("_rate")
            || metric.name.ends_with("_share"))
}

/// The problems of a target record against the catalog and the workspace currency; empty when
/// it can be stored. Records of other entities have none.
pub fn check_target(engine: &Engine<'_>, record: &Record, currency: Currency) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    if record.entity != Entity::Targets {
        return problems;
    }
    let name = record.get("metric").as_text().unwrap_or("");
    let Some(metric) = engine.catalog.get(name) else {
        problems.push(FieldProblem::new(
            "metric",
            format!(
                "{name:?} is not a metric of the catalog: `traction metrics list` (or GET /api/v1/metrics) shows them"
            ),
        ));
        return problems;
    };
    if let Err(e) = engine.behaviour(name) {
        problems.push(FieldProblem::new("metric", e.to_string()));
        return problems;
    }
    if let Some(text) = record.get("value").as_text() {
        check_value(metric, text, currency, &mut problems);
    }
    if problems.is_empty()
        && let Some(e) = probe(engine, record)
    {
        problems.push(FieldProblem::new(
            "metric",
            format!("{name} cannot be computed for this target: {e}"),
        ));
    }
    problems
}

/// A value in the metric's terms.
fn check_value(metric: &Metric, text: &str, currency: Currency, problems: &mut Vec<FieldProblem>) {
    let Ok(value) = text.parse::<f64>() else {
        problems.push(FieldProblem::new("value", format!("{text:?} is not a number")));
        return;
    };
    let decimals = text.split_once('.').map_or(0, |(_, frac)| frac.len());
    let mut problem = |message: String| problems.push(FieldProblem::new("value", message));
    let accumulating = metric.target == TargetKind::Accumulating;
    match metric.unit {
        Unit::Ratio if is_share(metric) && !(0.0..=1.0).contains(&value) => {
            let hint = if value > 1.0 && value <= 100.0 {
                format!(
                    " ({text} would be {}%); for {text}% write {}",
                    value * 100.0,
                    percent_to_fraction(text).unwrap_or_else(|| "the fraction".into())
                )
            } else {
                String::new()
            };
            problem(format!(
                "{text} is not a rate: {} is a share, written as a fraction between 0 and 1{hint}",
                metric.name
            ));
        }
        Unit::Score if !(-100.0..=100.0).contains(&value) => {
            problem(format!("{text} is not a score: {} runs from -100 to 100", metric.name));
        }
        Unit::Money if decimals > usize::from(currency.exponent()) => {
            problem(format!(
                "{text} has more decimals than {} has ({}): round it to {}",
                currency.code(),
                currency.exponent(),
                rounded(value, currency.exponent())
            ));
        }
        Unit::Count if accumulating && decimals > 0 => {
            problem(format!("{text} is not a whole number: {} is a count", metric.name));
        }
        _ => {}
    }
    // Counts and sums (and amounts, durations, levels of money): a target of zero or less is no
    // target; shares, scores and other ratios may be zero or below.
    let signed = matches!(metric.unit, Unit::Ratio | Unit::Percent | Unit::Score);
    if !signed && value <= 0.0 {
        let what = if accumulating { "an amount to reach" } else { "a level to hold" };
        problems.push(FieldProblem::new(
            "value",
            format!("{text} is not {what}: a target on {} must be above 0", metric.name),
        ));
    }
}

fn rounded(value: f64, decimals: u8) -> String {
    format!("{value:.prec$}", prec = usize::from(decimals))
}

/// `"25"` → `"0.25"`, `"12.5"` → `"0.125"`: a percentage as the fraction it names, exactly
/// (the decimal point moved, never through binary floating point).
pub fn percent_to_fraction(text: &str) -> Option<String> {
    let text = traction_domain::record::normalise_decimal(text).ok()?;
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, text.clone()),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((&digits, ""));
    let padded = format!("{int_part:0>3}");
    let (whole, cents) = padded.split_at(padded.len() - 2);
    let joined = format!("{}{}.{cents}{frac_part}", if negative { "-" } else { "" }, whole);
    traction_domain::record::normalise_decimal(&joined).ok()
}

/// `"0.25"` → `"25"`: a fraction as the percentage it is, exactly.
pub fn fraction_to_percent(text: &str) -> Option<String> {
    let text = traction_domain::record::normalise_decimal(text).ok()?;
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, text.clone()),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((&digits, ""));
    let frac = format!("{frac_part:0<2}");
    let (moved, rest) = frac.split_at(2);
    let joined = format!("{}{int_part}{moved}.{rest}", if negative { "-" } else { "" });
    traction_domain::record::normalise_decimal(joined.trim_end_matches('.')).ok()
}

/// Computes the metric for the target's scope over the first hour of its period, so a target
/// that no KPI could answer (a metric whose records have no owner, set for a team) is refused
/// when set rather than failing every later read.
fn probe(engine: &Engine<'_>, record: &Record) -> Option<crate::service::Error> {
    let scope = Scope::parse(record.get("scope").as_text()?).ok()?;
    let period = PeriodKind::parse(record.get("period").as_text()?).ok()?;
    let traction_domain::Value::Date(starts_on) = record.get("starts_on") else { return None };
    let zone = traction_store::Store::workspace(engine.store).ok()?.zone;
    let (start, _) = period_range(period, *starts_on, &zone).ok()?;
    let owners: Option<Vec<String>> = match scope {
        Scope::Company => None,
        Scope::Team(id) | Scope::User(id) => Some(vec![id]),
    };
    let hour: Micros = 3_600_000_000;
    let metric = record.get("metric").as_text()?;
    engine
        .actual(&MetricRequest::new(metric, owners.as_deref(), (start, start + hour), start))
        .err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_become_fractions_exactly() {
        assert_eq!(percent_to_fraction("25").as_deref(), Some("0.25"));
        assert_eq!(percent_to_fraction("12.5").as_deref(), Some("0.125"));
        assert_eq!(percent_to_fraction("100").as_deref(), Some("1"));
        assert_eq!(percent_to_fraction("0.5").as_deref(), Some("0.005"));
        assert_eq!(percent_to_fraction("7").as_deref(), Some("0.07"));
        assert_eq!(percent_to_fraction("-3").as_deref(), Some("-0.03"));
        assert_eq!(percent_to_fraction("x"), None);
        for (fraction, percent) in
            [("0.25", "25"), ("0.125", "12.5"), ("1", "100"), ("0.005", "0.5")]
        {
            assert_eq!(fraction_to_percent(fraction).as_deref(), Some(percent));
        }
    }
}
