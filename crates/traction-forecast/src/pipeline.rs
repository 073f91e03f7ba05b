//! The pipeline forecast (spec: monitoring.md, Forecasts): per stage, the open deals expected to
//! close in the period, their amount, the configured probability, the historical win rate from
//! that stage, and both weighted totals.
//!
//! [`compute`] is pure over plain rows; [`load`] reads them through the `Store` trait (records,
//! no SQL). Everything is as of `at`: a deal's stage is the last one it entered by `at`, it is
//! open when created by `at` and not closed by then.
//!
//! Decisions (docs/forecasts.md): a deal whose expected close date has passed but which is still
//! open counts in the current period (it is expected any day); a deal with no expected close
//! date counts in none (it is counted apart, `without_close_date`). The historical win rate from
//! a stage is over the deals that entered it (by `at`) and closed in the 12 months before `at`;
//! a deal with no stage history entered its current stage when it was created.

use std::collections::{BTreeMap, BTreeSet};

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use traction_domain::time::{Micros, to_zoned};
use traction_domain::{Entity, Value};
use traction_store::Store;

use crate::{Error, Input};

/// The period a pipeline forecast is for: the month or quarter holding `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Month,
    Quarter,
}

impl Period {
    pub fn parse(text: &str) -> Result<Period, Error> {
        match text.trim() {
            "month" => Ok(Period::Month),
            "quarter" => Ok(Period::Quarter),
            other => Err(Input::Period { text: other.to_string() }.into()),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
        }
    }

    /// The first and the day after the last local date of the period holding `date`.
    pub fn dates(self, date: Date) -> Result<(Date, Date), Error> {
        let month = match self {
            Period::Month => date.month(),
            Period::Quarter => (date.month() - 1) / 3 * 3 + 1,
        };
        let start = Date::new(date.year(), month, 1).map_err(Input::PeriodDates)?;
        let months = if self == Period::Month { 1 } else { 3 };
        let end = start.checked_add(months.months()).map_err(Input::PeriodDates)?;
        Ok((start, end))
    }
}

/// A stage as the forecast needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub id: String,
    pub pipeline_id: String,
    pub name: String,
    pub position: i64,
    /// `open`, `won` or `lost`.
    pub kind: String,
    /// As configured (`None`: linear by position, resolved by [`configured_probabilities`]).
    pub probability: Option<f64>,
}

impl Stage {
    /// The stage of a stored `stages` record.
    pub fn from_record(r: &traction_domain::Record) -> Stage {
        Stage {
            id: text(r.get("id")),
            pipeline_id: text(r.get("pipeline_id")),
            name: text(r.get("name")),
            position: r.get("position").as_int().unwrap_or(0),
            kind: r.get("kind").as_text().unwrap_or("open").to_string(),
            probability: match r.get("probability") {
                Value::Real(x) => Some(*x),
                _ => None,
            },
        }
    }
}

/// A deal as the forecast needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Deal {
    pub id: String,
    pub owner_id: String,
    pub stage_id: String,
    /// Minor units.
    pub amount: i64,
    pub created_at: Micros,
    pub expected_close_on: Option<Date>,
    pub closed_at: Option<Micros>,
    /// `open`, `won` or `lost` (now).
    pub status: String,
}

/// A stage entered by a deal.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub deal_id: String,
    pub stage_id: String,
    pub at: Micros,
}

/// One stage's line.
#[derive(Clone, Debug, PartialEq)]
pub struct StageRow {
    pub pipeline_id: String,
    pub stage_id: String,
    pub stage: String,
    pub position: i64,
    /// The open deals expected to close in the period, in id order.
    pub deals: Vec<String>,
    /// Minor units.
    pub amount: i64,
    pub probability: f64,
    /// Won and lost, of the deals that entered the stage and closed in the 12 months before `at`.
    pub won: u64,
    pub lost: u64,
    /// Minor units (fractional: a weighted amount).
    pub weighted_configured: f64,
    /// `None` when no deal from the stage closed in the 12 months.
    pub weighted_historical: Option<f64>,
}

impl StageRow {
    pub fn historical_win_rate(&self) -> Option<f64> {
        let closed = self.won + self.lost;
        (closed > 0).then(|| self.won as f64 / closed as f64)
    }
}

/// The pipeline forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineForecast {
    pub scope: String,
    /// `month`, `quarter`, or `rest` (the rest of a KPI's period).
    pub period: String,
    pub from: Date,
    pub to: Date,
    pub at: Micros,
    pub rows: Vec<StageRow>,
    /// Open deals (of the scope) with no expected close date.
    pub without_close_date: usize,
    pub minor_per_major: i64,
}

impl PipelineForecast {
    /// How many open deals the forecast covers (each is in one stage's row).
    pub fn deal_count(&self) -> usize {
        self.rows.iter().map(|r| r.deals.len()).sum()
    }
    pub fn total_amount(&self) -> i64 {
        self.rows.iter().map(|r| r.amount).sum()
    }
    pub fn total_configured(&self) -> f64 {
        self.rows.iter().map(|r| r.weighted_configured).sum()
    }
    /// Stages with no closed history weigh their amount by the configured probability, so the
    /// total covers every open deal (docs/forecasts.md).
    pub fn total_historical(&self) -> f64 {
        self.rows.iter().map(|r| r.weighted_historical.unwrap_or(r.weighted_configured)).sum()
    }

    /// Minor units as major units of the workspace currency.
    pub fn major(&self, minor: f64) -> f64 {
        minor / self.minor_per_major as f64
    }
}

/// Each stage's configured probability: its own, else won 1, lost 0, and the k-th of a
/// pipeline's n open stages by position k / (n + 1) — the metrics engine's rule
/// (docs/metrics.md, "linear by position"). The one definition in Rust: the pipeline board
/// reads its stages' probabilities from here too.
pub fn configured_probabilities(stages: &[Stage]) -> BTreeMap<String, f64> {
    let mut open: BTreeMap<&str, Vec<&Stage>> = BTreeMap::new();
    for s in stages.iter().filter(|s| s.kind == "open") {
        open.entry(&s.pipeline_id).or_default().push(s);
    }
    let mut out = BTreeMap::new();
    for list in open.values_mut() {
        list.sort_by(|a, b| a.position.cmp(&b.position).then(a.id.cmp(&b.id)));
        let n = list.len() as f64;
        for (k, s) in list.iter().enumerate() {
            out.insert(s.id.clone(), s.probability.unwrap_or((k + 1) as f64 / (n + 1.0)));
        }
    }
    for s in stages.iter().filter(|s| s.kind != "open") {
        let default = if s.kind == "won" { 1.0 } else { 0.0 };
        out.insert(s.id.clone(), s.probability.unwrap_or(default));
    }
    out
}

/// A pipeline board column's figures, in minor units: its deals' amounts summed, and that sum
/// weighted by the stage's probability, rounded to the minor unit once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ColumnTotal {
    pub amount: i64,
    pub weighted: i64,
}

/// The figures of a board column from its deals' amounts (minor units) and the stage's
/// probability (as [`configured_probabilities`] resolves it).
pub fn column_total(amounts: impl IntoIterator<Item = i64>, probability: f64) -> ColumnTotal {
    let amount = amounts.into_iter().fold(0i64, i64::saturating_add);
    ColumnTotal { amount, weighted: (amount as f64 * probability).round() as i64 }
}

/// What the forecast reads: stages, deals and their stage changes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Data {
    pub stages: Vec<Stage>,
    pub deals: Vec<Deal>,
    pub changes: Vec<Change>,
}

/// The pipeline forecast over plain rows for the month or quarter holding `at`; `owners`
/// restricts the deals (`None`: all).
pub fn compute(
    data: &Data,
    owners: Option<&[String]>,
    period: Period,
    at: Micros,
    zone: &TimeZone,
    minor_per_major: i64,
    scope: &str,
) -> Result<PipelineForecast, Error> {
    let today = to_zoned(at, zone).ok_or(Input::InstantOutOfRange { at })?.date();
    let (from, to) = period.dates(today)?;
    compute_until(data, owners, (period.name(), from, to), at, zone, minor_per_major, scope)
}

/// The pipeline forecast of the open deals expected to close before `to` (overdue ones
/// included), labelled with a period name and its first day.
pub fn compute_until(
    data: &Data,
    owners: Option<&[String]>,
    (period, from, to): (&str, Date, Date),
    at: Micros,
    zone: &TimeZone,
    minor_per_major: i64,
    scope: &str,
) -> Result<PipelineForecast, Error> {
    let Data { stages, deals, changes } = data;
    let year_ago = to_zoned(at, zone)
        .and_then(|z| z.checked_sub(12.months()).ok())
        .map(|z| z.timestamp().as_microsecond())
        .ok_or(Input::InstantOutOfRange { at })?;
    let probability = configured_probabilities(stages);
    let mut entered: BTreeMap<&str, Vec<(&str, Micros)>> = BTreeMap::new();
    for c in changes.iter().filter(|c| c.at <= at) {
        entered.entry(&c.deal_id).or_default().push((&c.stage_id, c.at));
    }
    let owner_set: Option<BTreeSet<&str>> =
        owners.map(|list| list.iter().map(String::as_str).collect());
    let kind: BTreeMap<&str, &str> =
        stages.iter().map(|s| (s.id.as_str(), s.kind.as_str())).collect();
    // Per stage: open deals expected in the period; won and lost from it.
    let mut open_in: BTreeMap<&str, Vec<&Deal>> = BTreeMap::new();
    let mut outcomes: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut without_close_date = 0;
    for deal in deals {
        if deal.created_at > at {
            continue;
        }
        if owner_set.as_ref().is_some_and(|set| !set.contains(deal.owner_id.as_str())) {
            continue;
        }
        let history = entered.get(deal.id.as_str());
        let stage_at: &str = match history {
            Some(list) => list.iter().max_by_key(|(_, t)| *t).map_or(&deal.stage_id, |(s, _)| s),
            None => &deal.stage_id,
        };
        let closed_by_at = deal.closed_at.is_some_and(|c| c <= at);
        if !closed_by_at && kind.get(stage_at) == Some(&"open") {
            match deal.expected_close_on {
                None => without_close_date += 1,
                Some(date) if date < to => open_in.entry(stage_at).or_default().push(deal),
                Some(_) => {}
            }
        }
        if deal.closed_at.is_some_and(|c| c <= at && c > year_ago) {
            let won = deal.status == "won";
            let visited: BTreeSet<&str> = match history {
                Some(list) => list.iter().map(|(s, _)| *s).collect(),
                None => BTreeSet::from([deal.stage_id.as_str()]),
            };
            for stage in visited {
                let entry = outcomes.entry(stage).or_default();
                if won {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
        }
    }
    let mut open_stages: Vec<&Stage> = stages.iter().filter(|s| s.kind == "open").collect();
    open_stages.sort_by(|a, b| {
        (&a.pipeline_id, a.position, &a.id).cmp(&(&b.pipeline_id, b.position, &b.id))
    });
    let mut rows = Vec::new();
    for stage in open_stages {
        let mut list = open_in.remove(stage.id.as_str()).unwrap_or_default();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        let amount: i64 = list.iter().map(|d| d.amount).sum();
        let p = probability.get(&stage.id).copied().unwrap_or(0.0);
        let (won, lost) = outcomes.get(stage.id.as_str()).copied().unwrap_or((0, 0));
        let historical = (won + lost > 0).then(|| won as f64 / (won + lost) as f64);
        rows.push(StageRow {
            pipeline_id: stage.pipeline_id.clone(),
            stage_id: stage.id.clone(),
            stage: stage.name.clone(),
            position: stage.position,
            deals: list.iter().map(|d| d.id.clone()).collect(),
            amount,
            probability: p,
            won,
            lost,
            weighted_configured: amount as f64 * p,
            weighted_historical: historical.map(|h| amount as f64 * h),
        });
    }
    Ok(PipelineForecast {
        scope: scope.to_string(),
        period: period.to_string(),
        from,
        to,
        at,
        rows,
        without_close_date,
        minor_per_major,
    })
}

fn text(value: &Value) -> String {
    value.as_text().unwrap_or("").to_string()
}

/// Reads stages, deals and stage changes through the store.
pub fn load(store: &dyn Store) -> Result<Data, Error> {
    let mut stages = Vec::new();
    store.scan(Entity::Stages, &mut |r| {
        stages.push(Stage::from_record(&r));
        Ok(())
    })?;
    let mut deals = Vec::new();
    store.scan(Entity::Deals, &mut |r| {
        deals.push(Deal {
            id: text(r.get("id")),
            owner_id: text(r.get("owner_id")),
            stage_id: text(r.get("stage_id")),
            amount: r.get("amount").as_int().unwrap_or(0),
            created_at: r.get("created_at").as_instant().unwrap_or(0),
            expected_close_on: match r.get("expected_close_on") {
                Value::Date(d) => Some(*d),
                _ => None,
            },
            closed_at: r.get("closed_at").as_instant(),
            status: r.get("status").as_text().unwrap_or("open").to_string(),
        });
        Ok(())
    })?;
    let mut changes = Vec::new();
    store.scan(Entity::StageChanges, &mut |r| {
        changes.push(Change {
            deal_id: text(r.get("deal_id")),
            stage_id: text(r.get("stage_id")),
            at: r.get("changed_at").as_instant().unwrap_or(0),
        });
        Ok(())
    })?;
    Ok(Data { stages, deals, changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(id: &str, pipeline: &str, position: i64, kind: &str, p: Option<f64>) -> Stage {
        Stage {
            id: id.into(),
            pipeline_id: pipeline.into(),
            name: id.into(),
            position,
            kind: kind.into(),
            probability: p,
        }
    }

    #[test]
    fn an_open_stage_without_a_probability_is_linear_by_position_in_its_pipeline() {
        let stages = [
            // Listed out of order: the rule goes by position.
            stage("c", "p1", 3, "open", None),
            stage("a", "p1", 1, "open", None),
            stage("b", "p1", 2, "open", Some(0.9)),
            stage("won", "p1", 4, "won", None),
            stage("lost", "p1", 5, "lost", None),
            stage("x", "p2", 1, "open", None),
        ];
        let p = configured_probabilities(&stages);
        // p1 has 3 open stages: the k-th is k / 4 unless it has its own.
        assert_eq!(p["a"], 0.25);
        assert_eq!(p["b"], 0.9);
        assert_eq!(p["c"], 0.75);
        assert_eq!(p["won"], 1.0);
        assert_eq!(p["lost"], 0.0);
        // p2's one open stage: 1 / 2.
        assert_eq!(p["x"], 0.5);
    }

    fn row(
        stage: &str,
        deals: &[&str],
        amount: i64,
        configured: f64,
        historical: Option<f64>,
    ) -> StageRow {
        StageRow {
            pipeline_id: "p1".into(),
            stage_id: stage.into(),
            stage: stage.into(),
            position: 1,
            deals: deals.iter().map(|d| d.to_string()).collect(),
            amount,
            probability: 0.5,
            won: 0,
            lost: 0,
            weighted_configured: configured,
            weighted_historical: historical,
        }
    }

    #[test]
    fn the_forecast_totals_count_every_deal_once_and_sum_every_stage() {
        let forecast = PipelineForecast {
            scope: "company".into(),
            period: "month".into(),
            from: Date::constant(2026, 11, 1),
            to: Date::constant(2026, 12, 1),
            at: 0,
            rows: vec![
                row("a", &["d1", "d2"], 30_000, 7_500.0, Some(9_000.0)),
                row("b", &["d3"], 10_000, 5_000.0, None),
                row("c", &[], 0, 0.0, None),
            ],
            without_close_date: 0,
            minor_per_major: 100,
        };
        // 2 + 1 + 0 deals; 300.00 + 100.00 = 400.00.
        assert_eq!(forecast.deal_count(), 3);
        assert_eq!(forecast.total_amount(), 40_000);
        assert_eq!(forecast.total_configured(), 12_500.0);
        // Stage b has no history: its configured 5,000 stands in beside a's historical 9,000.
        assert_eq!(forecast.total_historical(), 14_000.0);
    }

    #[test]
    fn a_column_total_is_summed_and_weighted_in_minor_units() {
        // 1,250.00 + 399.99 = 1,649.99; at 25 %: 412.4975, rounded to 412.50.
        assert_eq!(
            column_total([125_000, 39_999], 0.25),
            ColumnTotal { amount: 164_999, weighted: 41_250 }
        );
        // Ten deals of 0.10 are 1.00 exactly (as floats, 0.1 summed ten times is not).
        assert_eq!(column_total([10; 10], 1.0), ColumnTotal { amount: 100, weighted: 100 });
        assert_eq!(column_total([], 0.5), ColumnTotal::default());
    }
}
