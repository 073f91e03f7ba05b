//! The one sentence that says why a metric moved (spec: monitoring.md, Explaining a change):
//! "Revenue won −£12,400 (−8.1%) against October: fewer deals won (−£15,100; 31 → 27), partly
//! offset by higher average deal size (+£2,700; £3,100 → £3,400); most in owner Ana (−£9,000)".
//! The dashboard, the report and the anomaly alert show the same text.

use traction_domain::Currency;
use traction_domain::money::grouped;

use super::{DriverPart, Explanation, SegmentPart};
use crate::catalog::Unit;
use crate::sql::DimValue;

/// The sentence, and the segment it names (for a link to the records behind it).
#[derive(Clone, Debug, PartialEq)]
pub struct Sentence {
    pub text: String,
    /// The dimension and value of the segment that contributed most, if any.
    pub segment: Option<(String, DimValue)>,
}

/// A figure for people in its unit: money with the currency's symbol and whole units from 1,000
/// up, ratios as percentages, counts grouped.
pub fn figure(unit: Unit, x: f64, currency: Currency) -> String {
    let sign = if x < 0.0 && x.abs() >= 0.0005 { "−" } else { "" };
    let a = x.abs();
    let body = match unit {
        Unit::Money => {
            let decimals = if a >= 1000.0 { 0 } else { usize::from(currency.exponent()) };
            format!("{}{}", currency.symbol(), grouped(a, decimals))
        }
        Unit::Ratio => format!("{:.1}%", a * 100.0),
        Unit::Percent => format!("{a:.1}%"),
        Unit::Seconds if a >= 3600.0 => format!("{:.1} h", a / 3600.0),
        Unit::Seconds => format!("{:.0} min", a / 60.0),
        Unit::Days => format!("{a:.1} days"),
        Unit::Months => format!("{a:.1} mo"),
        Unit::Score => format!("{a:.1}"),
        Unit::Count if (a - a.round()).abs() < 1e-9 => grouped(a, 0),
        Unit::Count => grouped(a, 1),
    };
    format!("{sign}{body}")
}

/// A change for people: `+£2,700`, `−3`, `+1.5 pts` for a ratio (percentage points).
fn signed(unit: Unit, x: f64, currency: Currency) -> String {
    let plus = if x >= 0.0 { "+" } else { "" };
    match unit {
        Unit::Ratio => format!("{plus}{} pts", figure(Unit::Score, x * 100.0, currency)),
        _ => format!("{plus}{}", figure(unit, x, currency)),
    }
}

fn driver_phrase(e: &Explanation, d: &DriverPart, currency: Currency) -> String {
    let up = match (d.value, d.previous) {
        (Some(v), Some(p)) => v >= p,
        _ => d.contribution >= 0.0,
    };
    let label = d.label.to_lowercase();
    let what = if d.metric == "other" {
        "the rest".to_string()
    } else if d.unit == Unit::Count {
        format!("{} {label}", if up { "more" } else { "fewer" })
    } else {
        format!("{} {label}", if up { "higher" } else { "lower" })
    };
    let moved = match (d.value, d.previous) {
        (Some(v), Some(p)) if d.metric != "other" => {
            format!("; {} → {}", figure(d.unit, p, currency), figure(d.unit, v, currency))
        }
        _ => String::new(),
    };
    format!("{what} ({}{moved})", signed(e.unit, d.contribution, currency))
}

fn segment_phrase(
    e: &Explanation,
    s: &SegmentPart,
    currency: Currency,
    name: &dyn Fn(&str, &DimValue) -> String,
) -> String {
    let dim = e.by.as_deref().unwrap_or("");
    let shown = name(dim, &s.key);
    format!("{dim} {shown} ({})", signed(e.unit, s.contribution, currency))
}

/// The sentence for an explanation. `against` names the compared range for people
/// (`October`, `1–11 Nov 2026`); `name` turns a segment's value into a name (an owner's id into
/// the person's name).
pub fn sentence(
    e: &Explanation,
    currency: Currency,
    against: &str,
    name: &dyn Fn(&str, &DimValue) -> String,
) -> Sentence {
    let (Some(value), Some(previous), Some(change)) = (e.value, e.previous, e.change) else {
        let now = e.value.map_or_else(|| "–".to_string(), |v| figure(e.unit, v, currency));
        return Sentence {
            text: format!("{} {now}: nothing to compare it with in {against}.", e.label),
            segment: None,
        };
    };
    let pct = crate::relative_change(value, previous)
        .filter(|_| e.unit != Unit::Ratio)
        .map(|c| format!(" ({}{:.1}%)", if c >= 0.0 { "+" } else { "−" }, c.abs() * 100.0))
        .unwrap_or_default();
    if change == 0.0 {
        return Sentence {
            text: format!(
                "{} unchanged against {against} ({}).",
                e.label,
                figure(e.unit, value, currency)
            ),
            segment: None,
        };
    }
    let mut text =
        format!("{} {}{pct} against {against}", e.label, signed(e.unit, change, currency));
    // Drivers: those moving with the change first (largest first), then those against it.
    let mut with: Vec<&DriverPart> =
        e.drivers.iter().filter(|d| d.contribution * change > 0.0).collect();
    let mut against_it: Vec<&DriverPart> =
        e.drivers.iter().filter(|d| d.contribution * change < 0.0).collect();
    with.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    against_it.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    let mut parts = Vec::new();
    if !with.is_empty() {
        let phrases: Vec<String> = with.iter().map(|d| driver_phrase(e, d, currency)).collect();
        let mut part = phrases.join(" and ");
        if !against_it.is_empty() {
            let offs: Vec<String> =
                against_it.iter().map(|d| driver_phrase(e, d, currency)).collect();
            part.push_str(&format!(", partly offset by {}", offs.join(" and ")));
        }
        parts.push(part);
    }
    // The biggest contributor in the direction of the change; records without a value of the
    // dimension (orders without a rep) name nothing, so they are not named.
    let top = e
        .segments
        .iter()
        .find(|s| s.contribution * change > 0.0)
        .filter(|s| s.key != DimValue::Null);
    if let Some(s) = top {
        parts.push(format!("most in {}", segment_phrase(e, s, currency, name)));
    }
    if !parts.is_empty() {
        text.push_str(": ");
        text.push_str(&parts.join("; "));
    }
    text.push('.');
    Sentence { text, segment: top.and_then(|s| e.by.clone().map(|d| (d, s.key.clone()))) }
}
