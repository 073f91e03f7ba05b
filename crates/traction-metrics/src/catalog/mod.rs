//! Metric definitions: the TOML format, and checking it into a [`Catalog`]
//! (spec: metrics.md, Definition format).
//!
//! A definitions file is a set of `[metric.NAME]` tables. Checking reports every problem of every
//! definition in one go ([`Diagnostic`]s, each naming its definition), so `traction metrics check`
//! shows all mistakes in one run. The built-in catalog (`builtin.toml`) is such a file, compiled
//! into the binary; a user's file is layered over it (same name = override).
//!
//! The format keeps the three nouns of the semantic layers: a *source* (an entity, or a derived
//! source such as `email_messages`), a *measure* (one aggregation over one source with an
//! optional filter, placed in time by one field) and a *metric* (a measure, a ratio of two, a
//! cohort, a snapshot, or arithmetic over other metrics). Averages are kept as their additive
//! parts and divided at query time.
//!
//! The rooms: `model` (the checked form: [`Metric`], its [`Kind`], [`Unit`] and the rest, and
//! [`Diagnostic`]s), `raw` (the form as written, parsed), `check` (checking each definition,
//! then the targets of the whole catalog), `references` (checks across metrics: drivers,
//! references, cycles, name hints), `markdown` (definitions as text and the catalog page),
//! `kinds` and `workspace` (a workspace's layers); this file holds the [`Catalog`] type and its
//! lookups.

mod check;
pub mod kinds;
mod markdown;
mod model;
mod raw;
mod references;
pub mod workspace;

use std::collections::HashMap;

use crate::expr;
use crate::expr::compile::{Scope, Ty, Values};
use crate::source::{Source, TIME_DIMS};

use check::check;
use raw::{RawMeasure, RawMetric, RawPart, valid_name};
use references::{check_references, non_arithmetic};

pub use markdown::definition_text;
pub use model::*;
pub use raw::definition_names;
pub use references::MAX_DRIVERS;

/// The built-in definitions file.
pub const BUILTIN: &str = include_str!("builtin.toml");

/// The checked set of metrics, in definition order.
#[derive(Clone, Debug)]
pub struct Catalog {
    metrics: Vec<Metric>,
    index: HashMap<String, usize>,
}

impl Catalog {
    /// The built-in catalog.
    pub fn builtin() -> Catalog {
        // Checked once per process; the built-in file is checked by a test, so a mistake there
        // is a bug in this crate.
        static BUILTIN_CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        BUILTIN_CATALOG
            .get_or_init(|| match check(&[BUILTIN]) {
                Ok(catalog) => catalog,
                Err(diagnostics) => panic!("the built-in catalog is invalid:\n{diagnostics}"),
            })
            .clone()
    }

    /// The built-in catalog with a user's definitions file layered over it: a definition with a
    /// built-in name replaces it, others are added.
    pub fn load(text: &str) -> Result<Catalog, Diagnostics> {
        check(&[BUILTIN, text])
    }

    /// The built-in catalog with definitions files layered over it in order: a later
    /// definition with the name of an earlier one replaces it. A workspace's catalog is the
    /// built-in one, then the metrics of its event kinds (`kinds`), then its own stored
    /// definitions, then the `--metrics` file.
    pub fn load_layers(texts: &[&str]) -> Result<Catalog, Diagnostics> {
        let mut all = vec![BUILTIN];
        all.extend_from_slice(texts);
        check(&all)
    }

    /// A catalog of metrics built from checked parts (a measure of a metric of a checked
    /// catalog, reused by code): nothing is checked again, so no code writes definition text to
    /// have it parsed back.
    pub fn of_checked(metrics: Vec<Metric>) -> Catalog {
        let index = metrics.iter().enumerate().map(|(idx, m)| (m.name.clone(), idx)).collect();
        Catalog { metrics, index }
    }

    /// The names of the built-in metrics.
    pub fn builtin_names() -> Vec<String> {
        definition_names(BUILTIN)
    }

    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    pub fn get(&self, name: &str) -> Option<&Metric> {
        self.index.get(name).map(|idx| &self.metrics[*idx])
    }

    /// The dimensions a metric can be grouped and filtered by: those of every source it reads
    /// (for ratios and derived metrics, the ones all parts share), plus `weekday` and
    /// `hour_of_day` when it is placed in time by a field (not snapshots).
    pub fn dims(&self, metric: &Metric) -> Vec<&'static str> {
        let mut sources = Vec::new();
        let mut timed = true;
        self.sources(metric, &mut sources, &mut timed, 0);
        let mut dims: Option<Vec<&'static str>> = None;
        for source in &sources {
            let names: Vec<&'static str> = source.dims().iter().map(|d| d.name).collect();
            dims = Some(match dims {
                None => names,
                Some(prev) => prev.into_iter().filter(|n| names.contains(n)).collect(),
            });
        }
        let mut dims = dims.unwrap_or_default();
        if timed && !sources.is_empty() {
            dims.extend(TIME_DIMS);
        }
        dims
    }

    fn sources(&self, metric: &Metric, acc: &mut Vec<Source>, timed: &mut bool, depth: usize) {
        if depth > 64 {
            return;
        }
        let part = |part: &Part, acc: &mut Vec<Source>, timed: &mut bool| match part {
            Part::Measure(m) => acc.push(m.source),
            Part::Metric(name) => {
                if let Some(m) = self.get(name) {
                    self.sources(m, acc, timed, depth + 1);
                }
            }
        };
        match &metric.kind {
            Kind::Aggregate(m) => acc.push(m.source),
            Kind::Cohort { source, .. } => acc.push(*source),
            Kind::Snapshot { source, .. } | Kind::Retention { source, .. } => {
                acc.push(*source);
                *timed = false;
            }
            Kind::Ratio { numerator, denominator } => {
                part(numerator, acc, timed);
                part(denominator, acc, timed);
            }
            Kind::Derived(expr) => {
                for (name, _) in expr.names() {
                    part(&Part::Metric(name.to_string()), acc, timed);
                }
            }
            Kind::Funnel => *timed = false,
        }
    }
}

/// A scope over metric names, for checking derived expressions elsewhere.
pub struct MetricScope<'c>(pub &'c Catalog);

impl Scope for MetricScope<'_> {
    fn describe(&self) -> String {
        "the catalog".into()
    }
    fn column(&self, name: &str) -> Option<expr::compile::Column> {
        self.0.get(name).map(|_| expr::compile::Column {
            ty: Ty::Num,
            values: Values::Free,
            sql: String::new(),
        })
    }
    fn names(&self) -> Vec<String> {
        self.0.metrics.iter().map(|m| m.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match Catalog::load(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn the_builtin_catalog_is_valid_and_has_part_one() {
        let catalog = Catalog::builtin();
        for name in [
            "leads_created",
            "qualified_leads",
            "lead_response_time",
            "lead_response_time_avg",
            "leads_answered_within_hour_rate",
            "lead_conversion_rate",
            "lead_qualification_rate",
            "visitor_to_lead_rate",
            "web_visitors",
            "contacts_added",
            "deals_created",
            "deals_won",
            "deals_lost",
            "deals_closed",
            "win_rate",
            "win_rate_by_value",
            "opportunity_to_win_rate",
            "revenue_won",
            "average_deal_size",
            "average_deal_size_trimmed",
            "sales_cycle_days",
            "sales_cycle_days_median",
            "deals_lost_to_competitor",
            "accounts_lost_to_competitor",
            "average_contract_months",
            "new_business_share",
            "expansion_revenue",
            "open_pipeline_value",
            "weighted_pipeline_value",
            "open_deals",
            "funnel",
            "time_in_stage_days",
            "activities",
            "calls_made",
            "successful_calls",
            "call_success_rate",
            "emails_sent",
            "meetings_booked",
            "meetings_held",
            "demos_given",
            "proposals_sent",
            "events_attended",
            "social_connections",
            "emails_delivered",
            "email_open_rate",
            "email_click_rate",
            "email_response_rate",
            "email_bounce_rate",
            // Part two.
            "revenue",
            "total_revenue",
            "orders",
            "average_order_value",
            "active_customers",
            "revenue_per_customer",
            "orders_per_customer",
            "new_customers",
            "new_customer_revenue",
            "new_customer_revenue_share",
            "average_spend_new_customer",
            "returning_customer_rate",
            "repeat_purchase_rate",
            "customer_churn_rate",
            "customer_retention_rate",
            "customer_lifetime_value",
            "predicted_customer_lifetime_value",
            "gross_margin_rate",
            "units_sold",
            "order_fulfillment_rate",
            "stock_on_hand",
            "products_below_reorder_level",
            "days_of_inventory",
            "costs",
            "sales_marketing_costs",
            "overheads",
            "customer_acquisition_cost",
            "sales_to_cost_ratio",
            "cost_to_serve",
            "campaign_roi",
            "net_cash_flow",
            "revenue_growth",
            "bookings_growth",
            "nps",
            "csat",
        ] {
            let m = catalog.get(name).unwrap_or_else(|| panic!("{name} missing"));
            assert!(!m.description.is_empty() && m.label != m.name, "{name}");
        }
    }

    #[test]
    fn dimensions_are_those_all_parts_share() {
        let catalog = Catalog::builtin();
        let dims = |n: &str| catalog.dims(catalog.get(n).unwrap());
        assert!(dims("win_rate").contains(&"segment"));
        assert!(dims("win_rate").contains(&"weekday"));
        // Leads and web visits share only `source`.
        assert_eq!(dims("visitor_to_lead_rate"), ["source", "weekday", "hour_of_day"]);
        assert!(!dims("open_pipeline_value").contains(&"weekday"));
    }

    #[test]
    fn every_mistake_is_reported_with_its_definition() {
        let text = r#"
[metric.a]
kind = "aggregate"
source = "dealz"
time = "closed_at"
measure = "count"
unit = "count"
better = "higher"

[metric.b]
kind = "aggregate"
source = "deals"
time = "amount"
measure = "sum"
of = "ownr"
unit = "count"
better = "up"

[metric.c]
kind = "ratio"
numerator = "deals_wn"
denominator = { source = "deals", time = "closed_at", measure = "count", filter = "status = 'wom'" }
unit = "ratio"
better = "higher"

[metric.f]
kind = "aggregate"
source = "deals"
time = "closed_at"
measure = "sum"
of = "amount"
unit = "count"
better = "higher"
colour = "red"
"#;
        assert_eq!(
            problems(text),
            [
                "metric.a: source: unknown entity \"dealz\"; sources are teams, users, accounts, contacts, campaigns, pipelines, stages, deals, stage_changes, leads, activities, products, orders, order_lines, inventory_movements, costs, web_visits, email_events, surveys, events, email_messages, stage_exits, customers, product_stock",
                "metric.b: better \"up\" is not a direction: use higher or lower",
                "metric.b: time: deals.amount is a money, not a timestamp or date",
                "metric.b: of: 1:1: unknown field \"ownr\" on deals; fields are id, name, pipeline_id, stage_id, account_id, owner_id, amount, created_at, expected_close_on, closed_at, status, lost_reason, competitor, source, campaign_id, deal_type, contract_months, owner, team, pipeline, stage, campaign, segment, industry, region, account, origin, medium",
                "metric.c: denominator: filter: 1:10: 'wom' is not a possible value here: use one of open, won, lost",
                "metric.f: unknown field `colour`, expected one of `label`, `kind`, `unit`, `better`, `indicator`, `target`, `description`, `source`, `time`, `measure`, `of`, `p`, `filter`, `numerator`, `denominator`, `expr`, `success`, `success_time`, `start`, `end`, `weight`, `outcome`, `drivers`",
            ]
        );
    }

    // Issue 24.2: every built-in metric states its kind for targets, and the statement agrees
    // with what its definition implies (so the catalog, the docs and the KPI layer agree).
    #[test]
    fn every_builtin_metric_states_its_kind_for_targets() {
        let table: toml::Table = toml::from_str(BUILTIN).unwrap();
        let missing: Vec<&String> = table["metric"]
            .as_table()
            .unwrap()
            .iter()
            .filter(|(_, def)| def.get("target").is_none())
            .map(|(name, _)| name)
            .collect();
        assert!(
            missing.is_empty(),
            "every built-in metric states `target = …` (accumulating, level or none): {missing:?}"
        );
        let unstated: String =
            BUILTIN.lines().filter(|l| !l.starts_with("target = ")).collect::<Vec<_>>().join("\n");
        let inferred = check(&[&unstated]).unwrap();
        for m in Catalog::builtin().metrics() {
            assert_eq!(m.target, inferred.get(&m.name).unwrap().target, "{}", m.name);
        }
    }

    #[test]
    fn sums_of_money_and_their_differences_accumulate() {
        let catalog = Catalog::builtin();
        let kind = |name: &str| catalog.get(name).unwrap().target;
        for name in ["net_cash_flow", "costs", "overheads", "total_revenue", "revenue_won"] {
            assert_eq!(kind(name), TargetKind::Accumulating, "{name}");
        }
        for name in ["win_rate", "lead_response_time", "nps", "revenue_growth", "campaign_roi"] {
            assert_eq!(kind(name), TargetKind::Level, "{name}");
        }
        for name in ["customer_churn_rate", "customer_retention_rate", "funnel"] {
            assert_eq!(kind(name), TargetKind::None, "{name}");
        }
        // A user's derived metric: a difference of sums accumulates, a product does not, and
        // one that reads a retention metric cannot take a target.
        let text = r#"
[metric.margin_cash]
kind = "derived"
expr = "revenue - overheads - costs"
unit = "money"
better = "higher"

[metric.doubled]
kind = "derived"
expr = "revenue * 2"
unit = "money"
better = "higher"

[metric.kept_share]
kind = "derived"
expr = "customer_retention_rate * 100"
unit = "ratio"
better = "higher"
"#;
        let catalog = Catalog::load(text).unwrap();
        assert_eq!(catalog.get("margin_cash").unwrap().target, TargetKind::Accumulating);
        assert_eq!(catalog.get("doubled").unwrap().target, TargetKind::Level);
        assert_eq!(catalog.get("kept_share").unwrap().target, TargetKind::None);
    }

    #[test]
    fn a_declared_kind_for_targets_is_checked() {
        let text = r#"
[metric.churned]
kind = "retention"
source = "orders"
time = "placed_at"
of = "account_id"
outcome = "lost"
unit = "ratio"
better = "lower"
target = "level"

[metric.odd]
kind = "aggregate"
source = "orders"
time = "placed_at"
measure = "count"
unit = "count"
better = "higher"
target = "sometimes"

[metric.held]
kind = "aggregate"
source = "orders"
time = "placed_at"
measure = "count"
unit = "count"
better = "higher"
target = "level"
"#;
        assert_eq!(
            problems(text),
            [
                "metric.odd: target \"sometimes\" is not a kind for targets: use accumulating, level or none",
                "metric.churned: target \"level\" does not fit a retention metric: its figure for a period in progress cannot be judged against a target; use target = \"none\"",
            ]
        );
        let ok = text.replace("target = \"level\"\n\n[metric.odd]", "\n[metric.odd]");
        let ok = ok.replace("target = \"sometimes\"", "");
        let catalog = Catalog::load(&ok).unwrap();
        assert_eq!(catalog.get("held").unwrap().target, TargetKind::Level, "as declared");
        assert_eq!(catalog.get("churned").unwrap().target, TargetKind::None);
    }

    #[test]
    fn references_and_cycles_are_checked_once_all_are_loaded() {
        let text = r#"
[metric.c]
kind = "ratio"
numerator = "deals_wn"
denominator = "deals_closed"
unit = "ratio"
better = "higher"

[metric.d]
kind = "derived"
expr = "e + 1"
unit = "count"
better = "higher"

[metric.e]
kind = "derived"
expr = "d * 2"
unit = "count"
better = "higher"

[metric.g]
kind = "derived"
expr = "revenue_won > 1"
unit = "count"
better = "higher"
"#;
        assert_eq!(
            problems(text),
            [
                "metric.g: expr: 1:1: > is not allowed here: a derived metric is arithmetic (+ - * /) over metrics and numbers",
                "metric.c: numerator: unknown metric \"deals_wn\" (did you mean deals_won?)",
                "metric.d: refers to itself through a cycle: d → e → d",
            ]
        );
    }

    #[test]
    fn user_definitions_add_and_override() {
        let text = r#"
[metric.big_deals_won]
label = "Big deals won"
kind = "aggregate"
source = "deals"
time = "closed_at"
measure = "count"
filter = "status = 'won' and amount >= 10000"
unit = "count"
better = "higher"
indicator = "lagging"

[metric.win_rate]
label = "Win rate (big deals)"
kind = "ratio"
numerator = "big_deals_won"
denominator = "deals_closed"
unit = "ratio"
better = "higher"
"#;
        let catalog = Catalog::load(text).unwrap();
        assert_eq!(catalog.get("win_rate").unwrap().label, "Win rate (big deals)");
        assert!(catalog.get("big_deals_won").is_some());
        assert_eq!(catalog.metrics().len(), Catalog::builtin().metrics().len() + 1);
    }

    proptest::proptest! {
        /// Whatever the file says, checking it answers (a catalog or diagnostics), never panics.
        #[test]
        fn checking_never_panics(
            kind in "(aggregate|ratio|derived|cohort|snapshot|funnel|x)",
            key in "(source|time|measure|of|filter|expr|numerator|success|start|p)",
            value in "[a-z_ '().=<>0-9]{0,24}",
        ) {
            let text = format!(
                "[metric.m]\nkind = \"{kind}\"\nunit = \"count\"\nbetter = \"higher\"\n{key} = \"{}\"\n",
                value.replace('"', "")
            );
            let _ = Catalog::load(&text);
        }
    }

    #[test]
    fn the_extensions_are_checked_at_load() {
        let text = r#"
[metric.r]
kind = "retention"
source = "orders"
time = "placed_at"
of = "account_id"
outcome = "gone"
unit = "ratio"
better = "higher"

[metric.s]
kind = "snapshot"
source = "product_stock"
start = "created_at"
measure = "sum"
of = "stock_on_hand"
unit = "count"
better = "higher"

[metric.t]
kind = "snapshot"
source = "deals"
measure = "count"
unit = "count"
better = "higher"

[metric.u]
kind = "derived"
expr = "previous(revenue + 1)"
unit = "money"
better = "higher"
"#;
        assert_eq!(
            problems(text),
            [
                "metric.r: outcome \"gone\" is not an outcome: use retained (the share seen again) or lost (the share not seen again)",
                "metric.s: product_stock is computed as of each instant: a snapshot of it takes no `start` or `end`",
                "metric.t: a snapshot metric needs `start`: the time field from which a record counts",
                "metric.u: expr: 1:1: previous() takes one metric name: previous(revenue) is the value of revenue in the bucket before",
            ]
        );
    }

    #[test]
    fn units_must_fit_the_measure() {
        let text = r#"
[metric.x]
kind = "aggregate"
source = "deals"
time = "closed_at"
measure = "sum"
of = "amount"
unit = "count"
better = "higher"
"#;
        assert_eq!(
            problems(text),
            ["metric.x: unit is count but the measure is money: use unit = \"money\""]
        );
        let text = "[metric.y]\nkind = 'aggregate'\nsource = 'deals'\ntime = 'closed_at'\nmeasure = 'median'\nof = 'status'\nunit = 'count'\nbetter = 'higher'\n";
        assert_eq!(
            problems(text),
            ["metric.y: of: median of a text makes no sense: aggregate a number or money"]
        );
        assert_eq!(
            problems("x = 1"),
            ["x: unknown table: definitions are written as [metric.NAME]"]
        );
        assert!(problems("[metric.z\n")[0].starts_with("file: "));
    }
}
