//! KPIs from stored targets: loads what the pure functions need from the store, asks a
//! [`MetricSource`] for actual values, and returns the rows of interfaces.md (KPI status,
//! breakdown, leaderboard).

use std::collections::BTreeMap;
use std::collections::HashMap;

use jiff::civil::Date;
use traction_domain::settings::Key;
use traction_domain::time::Micros;
use traction_domain::{Entity, Record, Value};
use traction_store::Store;

use crate::breakdown::{self, per_head};
use crate::calendar::Calendar;
use crate::error::ValueError;
use crate::pace::{self, Behaviour, Figures, Status, leaderboard_band};
use crate::period::{Grain, PeriodKind, period_range};
use crate::scope::{Member, Org, Scope};
use crate::split::{Seasonality, Split, Weights};

/// A stored target, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub id: String,
    pub metric: String,
    pub scope: Scope,
    pub period: PeriodKind,
    pub starts_on: Date,
    pub value: f64,
    pub split: Split,
    pub at_risk: f64,
    pub off_track: f64,
    pub min_sample: Option<i64>,
}

impl Target {
    pub fn from_record(record: &Record) -> Result<Target, ValueError> {
        let text = |name: &str| record.get(name).as_text().unwrap_or("").to_string();
        let real = |name: &str, default: f64| match record.get(name) {
            Value::Real(x) => *x,
            _ => default,
        };
        let Value::Date(starts_on) = record.get("starts_on") else {
            return Err(ValueError::NoStartsOn);
        };
        Ok(Target {
            id: text("id"),
            metric: text("metric"),
            scope: Scope::parse(&text("scope"))?,
            period: PeriodKind::parse(&text("period"))?,
            starts_on: *starts_on,
            value: text("value")
                .parse()
                .map_err(|_| ValueError::TargetValue { text: text("value") })?,
            split: Split::parse(&text("split"))?,
            at_risk: real("at_risk", 0.9),
            off_track: real("off_track", 0.75),
            min_sample: record.get("min_sample").as_int(),
        })
    }
}

/// A metric's value for a KPI.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Actual {
    pub value: Option<f64>,
    /// How many observations a level metric rests on (a ratio's denominator, an average's count).
    pub sample: Option<f64>,
}

/// One question about a metric's figure: the metric over `[from, to)` for the records of
/// `owners` (`None`: everyone), as of `at`. Every figure the KPI layer asks for is one of these.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricRequest<'a> {
    pub metric: &'a str,
    /// Whose records count: a scope's owners; `None` for everyone's.
    pub owners: Option<&'a [String]>,
    /// Start of the range, inclusive.
    pub from: Micros,
    /// End of the range, exclusive.
    pub to: Micros,
    /// The clock: snapshots and cohort outcomes are as of this instant.
    pub at: Micros,
}

impl<'a> MetricRequest<'a> {
    pub fn new(
        metric: &'a str,
        owners: Option<&'a [String]>,
        (from, to): (Micros, Micros),
        at: Micros,
    ) -> MetricRequest<'a> {
        MetricRequest { metric, owners, from, to, at }
    }

    /// Whether the range holds no time (nothing can have happened in it).
    pub fn is_empty(&self) -> bool {
        self.to <= self.from
    }
}

/// What the KPI layer needs from the metrics engine.
pub trait MetricSource {
    /// How the metric behaves under a target; an error names an unknown metric.
    fn behaviour(&self, metric: &str) -> Result<Behaviour, Error>;

    /// The default minimum sample of a level metric (kpis.md: 20 closed deals, 20 answered
    /// leads, 30 answers for scores).
    fn min_sample(&self, metric: &str) -> i64;

    /// Whether less is better (costs, deals lost): an amount target on such a metric is a
    /// budget, a ceiling not to pass (docs/kpis.md).
    fn lower_is_better(&self, metric: &str) -> bool;

    /// The metric's figure for the request.
    fn actual(&self, request: &MetricRequest<'_>) -> Result<Actual, Error>;

    /// Whether the metric can be grouped by the dimension `by`; an error names the dimensions
    /// that apply.
    fn check_by(&self, metric: &str, by: &str) -> Result<(), Error>;

    /// The metric's figure for the request, one per value of the dimension `by` (as text;
    /// empty for records without one).
    fn actual_by(
        &self,
        request: &MetricRequest<'_>,
        by: &str,
    ) -> Result<Vec<(String, Actual)>, Error>;

    /// The metric's share per (weekday, local hour) over the request's range, for seasonal
    /// splits.
    fn seasonality(&self, request: &MetricRequest<'_>) -> Result<Seasonality, Error>;

    /// What the source can forecast, when it can (the forecast crate's source can; the plain
    /// metrics engine cannot): the capability is a value the caller must check for, not a
    /// method that answers "none" by default.
    fn forecasts(&self) -> Option<&dyn Forecasts>;
}

/// Forecasts of metrics (spec: monitoring.md, Forecasts), offered by a [`MetricSource`] that
/// makes them.
pub trait Forecasts {
    /// The model's forecast of a target's accumulating metric: `actual` so far plus the
    /// forecast of the rest of the period in working time of the calendar (spec:
    /// monitoring.md, KPI forecast). `Ok(None)` where no forecast can be made (too short a
    /// history).
    fn forecast(&self, request: &ForecastRequest<'_>) -> Result<Option<Band>, Error>;

    /// The last complete day before `at` against the forecast interval at `level` made from
    /// the days before it (spec: monitoring.md, `anomaly`); `Ok(None)` when the history is too
    /// short.
    fn last_day_against_forecast(
        &self,
        request: &AnomalyRequest<'_>,
    ) -> Result<Option<DayCheck>, Error>;

    /// Why the metric moved on the last complete day before `at` against the day before it, for
    /// `scope`, in the one sentence the dashboard and the report use (spec: monitoring.md, an
    /// anomaly alert carries the explanation of the change); `Ok(None)` when it cannot be said.
    fn explain_last_day(
        &self,
        metric: &str,
        scope: &Scope,
        at: Micros,
    ) -> Result<Option<String>, Error>;
}

/// What an anomaly check is asked about: the metric over the records of `owners` (`None`:
/// everyone's), the last complete day before `at`, against the forecast interval at `level`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnomalyRequest<'a> {
    pub metric: &'a str,
    /// Whose records count: a scope's owners; `None` for everyone's.
    pub owners: Option<&'a [String]>,
    /// The clock: the day checked is the last complete one before it.
    pub at: Micros,
    /// The forecast interval's level, such as 0.95.
    pub level: f64,
}

/// What a KPI forecast is asked about: a target, whose records count, in which calendar, its
/// period, the clock, and the actual so far.
#[derive(Clone, Copy, Debug)]
pub struct ForecastRequest<'a> {
    pub target: &'a Target,
    pub owners: Option<&'a [String]>,
    pub calendar: &'a Calendar,
    /// The target's period `[start, end)`.
    pub period: (Micros, Micros),
    pub at: Micros,
    /// The metric's value so far in the period.
    pub actual: f64,
}

/// A day's value against its forecast interval (the anomaly rule's check).
#[derive(Clone, Debug, PartialEq)]
pub struct DayCheck {
    /// The day, as its bucket's label.
    pub day: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// A forecast figure with its interval (the `forecast` field of a KPI row), and how far to trust
/// the model behind it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// The backtest of the daily model the figure was made with (`None`: no model was needed,
    /// as for a period that is over, or the history was too short for one).
    pub backtest: Option<Backtest>,
}

/// How far to trust a forecast: its rolling-origin backtest against the seasonal-naive baseline
/// (spec: monitoring.md, Forecasts). Errors are fractions (0.12 is 12%); `None` where a figure is
/// undefined (every actual 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backtest {
    pub folds: usize,
    /// Buckets forecast per fold.
    pub horizon: usize,
    /// Mean absolute percentage error, over buckets whose actual is not 0.
    pub mape: Option<f64>,
    /// Total absolute error over total actual: the figure to read first.
    pub wape: Option<f64>,
    /// Mean absolute error over the in-sample seasonal-naive error.
    pub mase: Option<f64>,
    /// The WAPE of the seasonal-naive baseline over the same folds.
    pub baseline_wape: Option<f64>,
}

impl Backtest {
    /// Whether the model's WAPE is below the baseline's (`None`: either is undefined).
    pub fn beats_baseline(&self) -> Option<bool> {
        Some(self.wape? < self.baseline_wape?)
    }

    /// The backtest in one line for people, `bucket` naming what a fold's horizon counts
    /// (`day`): "backtest: off by 18.9% (seasonal naive 22.0%), 8 folds of 6 days".
    pub fn summary(&self, bucket: &str) -> String {
        let pct =
            |x: Option<f64>| x.map_or_else(|| "–".to_string(), |x| format!("{:.1}%", x * 100.0));
        let mut out = format!(
            "backtest: off by {} (seasonal naive {}), {} folds of {} {bucket}{}",
            pct(self.wape),
            pct(self.baseline_wape),
            self.folds,
            self.horizon,
            if self.horizon == 1 { "" } else { "s" }
        );
        if self.beats_baseline() == Some(false) {
            out.push_str(" — no better than seasonal naive: trust it little");
        }
        out
    }
}

/// A KPI row (interfaces.md, KPI status).
#[derive(Clone, Debug, PartialEq)]
pub struct KpiRow {
    pub target: Target,
    pub figures: Figures,
    pub behaviour: Behaviour,
    /// For level metrics with a sample: the Wilson interval of a rate.
    pub interval: Option<(f64, f64)>,
    /// Why this target cannot be computed (status `error`); the other rows still answer.
    pub error: Option<String>,
    /// Where an accumulating target is forecast to land (`None`: no forecast).
    pub forecast: Option<Band>,
}

/// One breakdown row; `user` is set for per-head rows.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakdownRow {
    pub period: String,
    pub user: Option<String>,
    pub value: f64,
}

/// A leaderboard row (interfaces.md, Leaderboard).
#[derive(Clone, Debug, PartialEq)]
pub struct LeaderRow {
    pub rank: usize,
    pub user: String,
    pub target_value: f64,
    pub figures: Figures,
    pub band: &'static str,
}

/// Which targets a KPI status shows (spec: interfaces.md, `traction kpi status`): by default
/// those whose period contains `at`; `all` for every target; `period` (a kind) and `starts_on`
/// (a period's first day, which may be over) narrow it, and `starts_on` also lifts the default
/// "contains `at`", so a finished period can be looked back on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub scope: Option<Scope>,
    pub all: bool,
    pub period: Option<PeriodKind>,
    pub starts_on: Option<Date>,
}

impl Selection {
    /// Whether the target with period `[start, end)` is shown at `at`.
    pub fn keeps(&self, target: &Target, (start, end): (Micros, Micros), at: Micros) -> bool {
        let current = self.all || self.starts_on.is_some() || (start <= at && at < end);
        current
            && self.scope.as_ref().is_none_or(|s| *s == target.scope)
            && self.period.is_none_or(|p| p == target.period)
            && self.starts_on.is_none_or(|d| d == target.starts_on)
    }
}

/// An error of the KPI layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request or the stored target is at fault (unknown target, metric, bad grain…).
    #[error("{0}")]
    Invalid(String),
    /// A stored target, a setting or a period that is not a KPI value (the value at fault).
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error("{0}")]
    NotFound(String),
    /// The metrics engine could not answer a figure (its own error says why and what to do).
    #[error(transparent)]
    Metrics(#[from] traction_metrics::Error),
    /// A forecast could not be made (the forecasting source's own error).
    #[error(transparent)]
    Forecast(Box<dyn std::error::Error + Send + Sync>),
    #[error("{0}")]
    Store(#[from] traction_store::Error),
}

/// KPIs over a store and a metrics engine.
pub struct Kpis<'a> {
    pub store: &'a dyn Store,
    pub metrics: &'a dyn MetricSource,
}

impl Kpis<'_> {
    /// Every target, in id order.
    pub fn targets(&self) -> Result<Vec<Target>, Error> {
        let mut out = Vec::new();
        self.store.scan(Entity::Targets, &mut |record| {
            match Target::from_record(&record) {
                Ok(t) => out.push(t),
                Err(e) => {
                    return Err(traction_store::Error::Storage(format!(
                        "stored target is invalid: {e}"
                    )));
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    pub fn target(&self, id: &str) -> Result<Target, Error> {
        let record = self.store.get(Entity::Targets, &[Value::Text(id.to_string())])?;
        let record = record.ok_or_else(|| Error::NotFound(format!("no such target {id:?}")))?;
        Ok(Target::from_record(&record)?)
    }

    /// The users and teams.
    pub fn org(&self) -> Result<Org, Error> {
        let mut org = Org::default();
        self.store.scan(Entity::Teams, &mut |r| {
            let parent = r.get("parent_id").as_text().map(str::to_string);
            org.parents.insert(r.get("id").as_text().unwrap_or("").to_string(), parent);
            Ok(())
        })?;
        self.store.scan(Entity::Users, &mut |r| {
            org.users.push(Member {
                id: r.get("id").as_text().unwrap_or("").to_string(),
                team: r.get("team_id").as_text().map(str::to_string),
                role: r.get("role").as_text().unwrap_or("rep").to_string(),
                active: !matches!(r.get("active"), Value::Bool(false)),
            });
            Ok(())
        })?;
        Ok(org)
    }

    /// The calendar in force for a team (or the workspace's).
    pub fn calendar(&self, team: Option<&str>) -> Result<Calendar, Error> {
        let zone = self.store.workspace()?.zone;
        let days = self.store.setting(Key::WorkDays, team)?.value;
        let hours = self.store.setting(Key::WorkHours, team)?.value;
        let holidays = self.store.setting(Key::Holidays, team)?.value;
        Ok(Calendar::from_settings(zone, &days, &hours, &holidays)?)
    }

    fn range(&self, target: &Target, calendar: &Calendar) -> Result<(Micros, Micros), Error> {
        Ok(period_range(target.period, target.starts_on, &calendar.zone)?)
    }

    /// The target's weight over its period.
    fn weights(
        &self,
        target: &Target,
        calendar: &Calendar,
        org: &Org,
        at: Micros,
    ) -> Result<Weights, Error> {
        let (start, end) = self.range(target, calendar)?;
        Ok(match target.split {
            Split::Calendar => Weights::calendar(calendar, start, end),
            Split::Even => Weights::even(start, end),
            Split::Seasonal => {
                // The previous 12 complete weeks before the period: from the Monday 12 weeks
                // before the Monday of the week the period starts in, to that Monday.
                let offset = i64::from(target.starts_on.weekday().to_monday_zero_offset());
                let starts_on = target.starts_on;
                let invalid = |source| ValueError::SeasonalHistory { starts_on, source };
                let monday = target
                    .starts_on
                    .checked_sub(jiff::Span::new().days(offset))
                    .map_err(invalid)?;
                let first = monday.checked_sub(jiff::Span::new().weeks(12)).map_err(invalid)?;
                let zone = &calendar.zone;
                let week_start =
                    traction_domain::time::start_of_day(monday, zone).map_err(ValueError::from)?;
                let from =
                    traction_domain::time::start_of_day(first, zone).map_err(ValueError::from)?;
                let owners = org.owners(&target.scope);
                let request =
                    MetricRequest::new(&target.metric, owners.as_deref(), (from, week_start), at);
                let shares = self.metrics.seasonality(&request)?;
                Weights::seasonal(calendar, start, end, &shares)
            }
        })
    }

    /// The value a target asks of one user: their own share (Per head).
    fn head_values(&self, target: &Target, org: &Org, all: &[Target]) -> Vec<(String, f64)> {
        let heads = org.heads(&target.scope);
        if let Scope::User(_) = target.scope {
            return heads.into_iter().map(|h| (h, target.value)).collect();
        }
        let own: BTreeMap<String, f64> = all
            .iter()
            .filter(|t| {
                t.metric == target.metric
                    && t.period == target.period
                    && t.starts_on == target.starts_on
            })
            .filter_map(|t| match &t.scope {
                Scope::User(u) if heads.contains(u) => Some((u.clone(), t.value)),
                _ => None,
            })
            .collect();
        per_head(target.value, &heads, &own)
    }

    /// A target broken down by grain; per head, one row per period and head.
    pub fn breakdown(
        &self,
        id: &str,
        grain: Grain,
        per_head_rows: bool,
        at: Micros,
    ) -> Result<Vec<BreakdownRow>, Error> {
        let target = self.target(id)?;
        let behaviour = self.metrics.behaviour(&target.metric)?;
        let org = self.org()?;
        let calendar = self.calendar(org.calendar_team(&target.scope).as_deref())?;
        let range = self.range(&target, &calendar)?;
        let weights = self.weights(&target, &calendar, &org, at)?;
        let spread = |value: f64| -> Result<Vec<breakdown::Row>, Error> {
            match behaviour {
                Behaviour::Accumulating => {
                    breakdown::breakdown(value, &weights, range, grain, &calendar.zone)
                        .map_err(Error::Metrics)
                }
                // A level does not spread: every bucket holds the same level.
                Behaviour::Level { .. } => {
                    Ok(crate::period::buckets(grain, range.0, range.1, &calendar.zone)?
                        .into_iter()
                        .map(|b| breakdown::Row { period: b.label, value })
                        .collect())
                }
            }
        };
        if !per_head_rows {
            return Ok(spread(target.value)?
                .into_iter()
                .map(|r| BreakdownRow { period: r.period, user: None, value: r.value })
                .collect());
        }
        let all = self.targets()?;
        let heads = self.head_values(&target, &org, &all);
        let mut per_user: Vec<(String, Vec<breakdown::Row>)> = Vec::new();
        for (user, value) in heads {
            per_user.push((user, spread(value)?));
        }
        let periods = per_user.first().map_or(0, |(_, rows)| rows.len());
        let mut out = Vec::new();
        for idx in 0..periods {
            for (user, rows) in &per_user {
                out.push(BreakdownRow {
                    period: rows[idx].period.clone(),
                    user: Some(user.clone()),
                    value: rows[idx].value,
                });
            }
        }
        Ok(out)
    }

    /// Where an accumulating target lands: what has happened once the period is over, else the
    /// metric source's forecast, when it makes them. One that cannot be made leaves the field
    /// empty, never the row.
    fn forecast_for(&self, behaviour: Behaviour, request: &ForecastRequest<'_>) -> Option<Band> {
        if behaviour != Behaviour::Accumulating {
            return None;
        }
        let so_far = request.actual;
        if request.at >= request.period.1 {
            return Some(Band { value: so_far, low: so_far, high: so_far, backtest: None });
        }
        self.metrics.forecasts()?.forecast(request).ok().flatten()
    }

    fn figures_for(
        &self,
        target: &Target,
        who: Who<'_>,
        org: &Org,
        calendar: &Calendar,
        at: Micros,
    ) -> Result<Judged, Error> {
        let Who { value, owners, heads } = who;
        // A target imported or written through the API names its metric as text: say which
        // target is at fault when the catalog does not have it.
        let behaviour = self.metrics.behaviour(&target.metric).map_err(|e| {
            Error::Invalid(format!(
                "target {}: {e}; if it is a metric of your own definitions file, pass that file (--metrics FILE or TRACTION_METRICS; `serve --metrics` for the server), else change the target's metric (`traction target set --id {} --metric …`) or delete it",
                target.id, target.id
            ))
        })?;
        let range = self.range(target, calendar)?;
        let weights = self.weights(target, calendar, org, at)?;
        let until = at.clamp(range.0, range.1);
        let actual = self.metrics.actual(&MetricRequest::new(
            &target.metric,
            owners,
            (range.0, until),
            at,
        ))?;
        let min_sample =
            target.min_sample.unwrap_or_else(|| self.metrics.min_sample(&target.metric));
        let enough_data = actual.sample.is_none_or(|n| n >= min_sample as f64);
        let figures = pace::figures(&pace::Input {
            behaviour,
            target: value,
            actual: actual.value,
            enough_data,
            weights: &weights,
            period: range,
            at,
            calendar,
            heads,
            at_risk: target.at_risk,
            off_track: target.off_track,
            budget: self.metrics.lower_is_better(&target.metric),
        });
        let interval = match (behaviour, actual.value, actual.sample) {
            (Behaviour::Level { .. }, Some(v), Some(n)) if (0.0..=1.0).contains(&v) => {
                pace::wilson(v * n, n)
            }
            _ => None,
        };
        Ok((figures, behaviour, interval))
    }

    /// The figures at `at` of the targets the selection shows.
    pub fn status(&self, at: Micros, selection: &Selection) -> Result<Vec<KpiRow>, Error> {
        self.status_where(at, |target, range| selection.keeps(target, range, at))
    }

    /// The figures at `at` of the targets `keep` accepts, given each target and its period as
    /// instants `[start, end)`; the others are not computed.
    pub fn status_where(
        &self,
        at: Micros,
        keep: impl Fn(&Target, (Micros, Micros)) -> bool,
    ) -> Result<Vec<KpiRow>, Error> {
        let org = self.org()?;
        // Periods are in the workspace zone; a team's calendar changes its hours, not its zone.
        let zone = self.store.workspace()?.zone;
        let mut calendars: HashMap<Option<String>, Calendar> = HashMap::new();
        let mut rows = Vec::new();
        for target in self.targets()? {
            let range = period_range(target.period, target.starts_on, &zone)?;
            if !keep(&target, range) {
                continue;
            }
            let team = org.calendar_team(&target.scope);
            let calendar = match calendars.get(&team) {
                Some(c) => c.clone(),
                None => {
                    let c = self.calendar(team.as_deref())?;
                    calendars.insert(team, c.clone());
                    c
                }
            };
            let owners = org.owners(&target.scope);
            let heads = org.heads(&target.scope).len();
            let who = Who { value: target.value, owners: owners.as_deref(), heads };
            // One target that cannot be computed (a custom metric whose definition was removed)
            // answers with its own error; the others still answer (issue 24.1).
            match self.figures_for(&target, who, &org, &calendar, at) {
                Ok((figures, behaviour, interval)) => {
                    let request = ForecastRequest {
                        target: &target,
                        owners: owners.as_deref(),
                        calendar: &calendar,
                        period: range,
                        at,
                        actual: figures.actual.unwrap_or(0.0),
                    };
                    let forecast = self.forecast_for(behaviour, &request);
                    rows.push(KpiRow {
                        target,
                        figures,
                        behaviour,
                        interval,
                        error: None,
                        forecast,
                    });
                }
                // What the target asks of the metrics engine cannot be answered (an error of
                // the engine, or the target's own), so this row says why.
                Err(
                    e @ (Error::Invalid(_)
                    | Error::Value(_)
                    | Error::Metrics(_)
                    | Error::Forecast(_)),
                ) => {
                    let message = e.to_string();
                    let prefix = format!("target {}: ", target.id);
                    let message = if message.starts_with(&prefix) {
                        message
                    } else {
                        format!("{prefix}{message}")
                    };
                    rows.push(KpiRow {
                        target,
                        figures: Figures::unavailable(),
                        behaviour: Behaviour::Accumulating,
                        interval: None,
                        error: Some(message),
                        forecast: None,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(rows)
    }

    /// The heads of a team or company target, each with their own share, ranked by pace.
    pub fn leaderboard(&self, id: &str, at: Micros) -> Result<Vec<LeaderRow>, Error> {
        let target = self.target(id)?;
        let org = self.org()?;
        let all = self.targets()?;
        let mut rows = Vec::new();
        for (user, value) in self.head_values(&target, &org, &all) {
            let calendar =
                self.calendar(org.calendar_team(&Scope::User(user.clone())).as_deref())?;
            let owners = [user.clone()];
            let who = Who { value, owners: Some(&owners), heads: 1 };
            let (figures, _, _) = self.figures_for(&target, who, &org, &calendar, at)?;
            rows.push((user, value, figures));
        }
        // Highest pace first; no pace (nothing expected yet) last; ties by user id.
        rows.sort_by(|a, b| {
            let pa = a.2.pace.unwrap_or(f64::NEG_INFINITY);
            let pb = b.2.pace.unwrap_or(f64::NEG_INFINITY);
            pb.total_cmp(&pa).then_with(|| a.0.cmp(&b.0))
        });
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(idx, (user, target_value, figures))| LeaderRow {
                rank: idx + 1,
                band: leaderboard_band(figures.pace),
                user,
                target_value,
                figures,
            })
            .collect())
    }
}

/// A KPI's figures, its metric's behaviour, and a rate's Wilson interval.
type Judged = (Figures, Behaviour, Option<(f64, f64)>);

/// Whose figures: the value asked of them, whose records count, how many heads share it.
#[derive(Clone, Copy)]
struct Who<'a> {
    value: f64,
    owners: Option<&'a [String]>,
    heads: usize,
}

/// A status as the JSON shapes name it.
pub fn status_name(status: Status) -> &'static str {
    status.name()
}

#[cfg(test)]
mod tests {
    use super::Backtest;

    #[test]
    fn a_backtest_reads_as_one_line_and_says_when_naive_is_as_good() {
        let mut b = Backtest {
            folds: 8,
            horizon: 6,
            mape: Some(0.2),
            wape: Some(0.189),
            mase: Some(0.8),
            baseline_wape: Some(0.22),
        };
        assert_eq!(
            b.summary("day"),
            "backtest: off by 18.9% (seasonal naive 22.0%), 8 folds of 6 days"
        );
        b.wape = Some(0.25);
        b.horizon = 1;
        assert_eq!(
            b.summary("day"),
            "backtest: off by 25.0% (seasonal naive 22.0%), 8 folds of 1 day — no better than seasonal naive: trust it little"
        );
        b.baseline_wape = None;
        assert_eq!(b.beats_baseline(), None);
    }
}
