//! Metrics of the event kinds (data-model.md, events): each kind of event stored (`meals_served`,
//! `volunteer_hours`, `cash_in`, …) brings a metric of its own, with a label and a unit read from
//! the kind, so a social enterprise can set a target on "meals served" without writing a
//! definition.
//!
//! The definitions are generated as the TOML a user would write and layered over the built-in
//! catalog, under the workspace's own definitions and the `--metrics` file (which may redefine
//! them). A kind's metric is named after the kind; a kind whose name a built-in metric already
//! has (an event kind `orders`), or that cannot be a name (`2nd_round`: names start with a
//! letter), gets `event_` in front (`event_orders`, `event_2nd_round`); a kind with letters
//! outside a–z has no metric of its own and is reached with `event_quantity` and
//! `where kind = '…'`.

use super::{BUILTIN, definition_names, valid_name};

/// Unit words a kind may end with, and how they are written in a label.
const UNIT_SUFFIXES: &[(&str, &str)] = &[
    ("_kg", "kg"),
    ("_g", "g"),
    ("_t", "tonnes"),
    ("_km", "km"),
    ("_l", "litres"),
    ("_litres", "litres"),
    ("_kwh", "kWh"),
    ("_m2", "m²"),
    ("_min", "minutes"),
    ("_minutes", "minutes"),
];

/// The metric name of a kind, or `None` when the kind cannot be one.
pub fn kind_metric_name(kind: &str, builtin: &[String]) -> Option<String> {
    if valid_name(kind) && !builtin.iter().any(|b| b == kind) {
        return Some(kind.to_string());
    }
    let name = format!("event_{kind}");
    valid_name(&name).then_some(name)
}

/// Whether a kind counts money: its events carry an `amount`, which the metric sums.
fn is_money(kind: &str) -> bool {
    kind.starts_with("cash_")
        || kind.ends_with("_amount")
        || kind.ends_with("_revenue")
        || matches!(kind, "donations" | "donation" | "grants" | "grant" | "income" | "spend")
}

/// `co2_saved_kg` → `CO2 saved (kg)`, `meals_served` → `Meals served`.
pub fn kind_label(kind: &str) -> String {
    let (stem, unit) = UNIT_SUFFIXES
        .iter()
        .find_map(|(suffix, unit)| kind.strip_suffix(suffix).map(|s| (s, Some(*unit))))
        .filter(|(stem, _)| !stem.is_empty())
        .unwrap_or((kind, None));
    let words: Vec<String> = stem
        .split('_')
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(idx, w)| {
            // Words with a digit are codes (co2, h2o): written in capitals.
            if w.chars().any(|c| c.is_ascii_digit()) {
                w.to_uppercase()
            } else if idx == 0 {
                let mut chars = w.chars();
                chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
            } else {
                w.to_string()
            }
        })
        .collect();
    match unit {
        Some(unit) => format!("{} ({unit})", words.join(" ")),
        None => words.join(" "),
    }
}

/// The definitions of the kinds' metrics, as a definitions file.
pub fn kind_definitions(kinds: &[String]) -> String {
    let builtin = definition_names(BUILTIN);
    let mut out = String::new();
    for kind in kinds {
        let Some(name) = kind_metric_name(kind, &builtin) else { continue };
        let label = kind_label(kind);
        let (measure, unit, what) = if is_money(kind) {
            ("measure = \"sum\"\nof = \"amount\"", "money", "Sum of the amounts")
        } else {
            ("measure = \"sum\"\nof = \"quantity\"", "count", "Sum of the quantities")
        };
        out.push_str(&format!(
            "[metric.{name}]\nlabel = {label:?}\nkind = \"aggregate\"\nsource = \"events\"\n\
             time = \"occurred_at\"\n{measure}\nfilter = \"kind = '{kind}'\"\nunit = \"{unit}\"\n\
             better = \"higher\"\ntarget = \"accumulating\"\nindicator = \"lagging\"\n\
             description = \"{what} of the `{kind}` events, placed in time by when they happened (the metric of an event kind).\"\n\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    #[test]
    fn labels_and_units_come_from_the_kind() {
        assert_eq!(kind_label("meals_served"), "Meals served");
        assert_eq!(kind_label("co2_saved_kg"), "CO2 saved (kg)");
        assert_eq!(kind_label("volunteer_hours"), "Volunteer hours");
        assert_eq!(kind_label("water_l"), "Water (litres)");
        assert_eq!(kind_label("kg"), "Kg");
    }

    #[test]
    fn every_kind_gets_a_checked_metric_named_after_it() {
        let kinds: Vec<String> =
            ["cash_in", "co2_saved_kg", "meals_served", "orders", "2nd_round", "repas_servis"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let catalog = Catalog::load_layers(&[&kind_definitions(&kinds)]).unwrap();
        let meals = catalog.get("meals_served").unwrap();
        assert_eq!(meals.label, "Meals served");
        assert_eq!(meals.unit, super::super::Unit::Count);
        assert_eq!(meals.target, super::super::TargetKind::Accumulating);
        assert_eq!(catalog.get("cash_in").unwrap().unit, super::super::Unit::Money);
        assert_eq!(catalog.get("co2_saved_kg").unwrap().label, "CO2 saved (kg)");
        // A kind named like a built-in metric does not replace it.
        assert_eq!(catalog.get("orders").unwrap().label, "Orders");
        assert_eq!(catalog.get("event_orders").unwrap().label, "Orders");
        assert!(catalog.get("event_orders").unwrap().description.contains("`orders` events"));
        // A kind that cannot be a metric name has none.
        assert!(catalog.get("2nd_round").is_none() && catalog.get("event_2nd_round").is_some());
        assert!(kind_metric_name("café_visits", &[]).is_none());
    }
}
