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

pub mod kinds;
pub mod workspace;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;

use crate::expr::compile::{Env, Scope, Ty, Values, compile, compile_condition};
use crate::expr::{self, BinOp, Expr, ExprKind};
use crate::source::{Source, SourceScope, TIME_DIMS};

/// The built-in definitions file.
pub const BUILTIN: &str = include_str!("builtin.toml");

/// The unit of a metric's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Ratio,
    Percent,
    Count,
    Money,
    Seconds,
    Days,
    Months,
    Score,
}

impl Unit {
    const ALL: [Unit; 8] = [
        Unit::Ratio,
        Unit::Percent,
        Unit::Count,
        Unit::Money,
        Unit::Seconds,
        Unit::Days,
        Unit::Months,
        Unit::Score,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Unit::Ratio => "ratio",
            Unit::Percent => "percent",
            Unit::Count => "count",
            Unit::Money => "money",
            Unit::Seconds => "seconds",
            Unit::Days => "days",
            Unit::Months => "months",
            Unit::Score => "score",
        }
    }

    fn parse(text: &str) -> Result<Unit, String> {
        Unit::ALL.into_iter().find(|u| u.name() == text).ok_or_else(|| {
            let names: Vec<_> = Unit::ALL.iter().map(|u| u.name()).collect();
            format!("unit {text:?} is not a unit: use one of {}", names.join(", "))
        })
    }
}

/// Which way is good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

impl Better {
    pub fn name(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
        }
    }
}

/// Whether a metric moves before revenue (leading) or with it (lagging).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indicator {
    Leading,
    Lagging,
}

impl Indicator {
    pub fn name(self) -> &'static str {
        match self {
            Indicator::Leading => "leading",
            Indicator::Lagging => "lagging",
        }
    }
}

/// How a metric behaves under a target (spec: kpis.md, Targets): an amount to reach that spreads
/// over the period, a level to hold, or no figure a target can be judged on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Counts and sums, and sums and differences of them (net_cash_flow).
    Accumulating,
    /// Ratios, averages, medians, scores, snapshots.
    Level,
    /// Funnels, and metrics that compare consecutive buckets (retention, churn): their
    /// period-to-date figure starts at an extreme and moves all period, so pace cannot judge it.
    None,
}

impl TargetKind {
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Accumulating => "accumulating",
            TargetKind::Level => "level",
            TargetKind::None => "none",
        }
    }

    fn parse(text: &str) -> Result<TargetKind, String> {
        match text {
            "accumulating" => Ok(TargetKind::Accumulating),
            "level" => Ok(TargetKind::Level),
            "none" => Ok(TargetKind::None),
            other => Err(format!(
                "target {other:?} is not a kind for targets: use accumulating, level or none"
            )),
        }
    }
}

/// An aggregation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Agg {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Median,
    /// A quantile from 0 to 1, interpolated linearly.
    Percentile(f64),
    /// The mean after dropping values outside the Tukey fences (1.5 IQR).
    TrimmedMean,
}

impl Agg {
    pub fn name(self) -> &'static str {
        match self {
            Agg::Count => "count",
            Agg::CountDistinct => "count_distinct",
            Agg::Sum => "sum",
            Agg::Avg => "avg",
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::Median => "median",
            Agg::Percentile(_) => "percentile",
            Agg::TrimmedMean => "trimmed_mean",
        }
    }

    /// Whether the aggregation needs every value (order statistics) rather than running sums.
    pub fn needs_values(self) -> bool {
        matches!(self, Agg::Median | Agg::Percentile(_) | Agg::TrimmedMean)
    }

    /// Whether buckets add up: the value of a union is the sum of the values (counts, sums).
    /// Additivity is inferred from the aggregation, never declared.
    pub fn is_additive(self) -> bool {
        matches!(self, Agg::Count | Agg::Sum)
    }
}

/// One aggregation over one source, placed in time by one field.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    pub source: Source,
    pub time: String,
    pub agg: Agg,
    /// The aggregated expression (none for `count`).
    pub of: Option<Expr>,
    pub filter: Option<Expr>,
    /// The type of `of`: money is converted to major units on output.
    pub of_ty: Option<Ty>,
}

/// A side of a ratio.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Metric(String),
    Measure(Measure),
}

/// What a metric computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Aggregate(Measure),
    Ratio {
        numerator: Part,
        denominator: Part,
    },
    /// Arithmetic over other metrics.
    Derived(Expr),
    /// Rows placed by a time field, and the share of them that succeeded by `at`.
    Cohort {
        source: Source,
        time: String,
        success: Expr,
        /// When set, a success counts only if this instant is not after `at`.
        success_time: Option<String>,
    },
    /// A state at the end of each bucket: rows with `start` before the instant and `end` null or
    /// not before it (no `end`: rows never end; a state source has neither: it is computed as of
    /// the instant).
    Snapshot {
        source: Source,
        start: Option<String>,
        end: Option<String>,
        agg: Agg,
        of: Option<Expr>,
        of_ty: Option<Ty>,
        filter: Option<Expr>,
        /// Weight each row by the win probability of its deal's stage at the instant.
        weighted: bool,
    },
    /// Between consecutive buckets: of the distinct values of `of` seen in the previous bucket
    /// (rows placed by `time`, passing `filter`), the share seen again in this bucket — or, with
    /// `lost`, the share not seen again.
    Retention {
        source: Source,
        time: String,
        of: Expr,
        filter: Option<Expr>,
        lost: bool,
    },
    /// The stage-by-stage funnel of deals: built in, see [`crate::funnel`].
    Funnel,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Aggregate(_) => "aggregate",
            Kind::Ratio { .. } => "ratio",
            Kind::Derived(_) => "derived",
            Kind::Cohort { .. } => "cohort",
            Kind::Snapshot { .. } => "snapshot",
            Kind::Retention { .. } => "retention",
            Kind::Funnel => "funnel",
        }
    }
}

/// A checked metric definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub name: String,
    pub label: String,
    pub unit: Unit,
    pub better: Better,
    pub indicator: Indicator,
    pub description: String,
    pub kind: Kind,
    /// The factors whose product the metric is (`drivers = ["orders", "average_order_value"]`),
    /// along which `explain` splits a change (spec: monitoring.md, Explaining a change); empty
    /// when none are declared.
    pub drivers: Vec<String>,
    /// How a target on it behaves: as declared (`target = …`), else inferred from the kind
    /// (additive aggregates and sums/differences of accumulating metrics accumulate).
    pub target: TargetKind,
}

/// A problem with a definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The definition at fault (`metric.win_rate`), or the file.
    pub definition: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.definition, self.message)
    }
}

/// All the problems of a definitions file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (idx, d) in self.0.iter().enumerate() {
            if idx > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

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

impl Catalog {
    /// The catalog as a Markdown page (docs/metric-catalog.md is this, regenerated by a test).
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "# The metric catalog\n\n\
             Generated from `crates/traction-metrics/src/catalog/builtin.toml` by the test \
             `docs::the_catalog_page_is_up_to_date`; regenerate with \
             `UPDATE_DOCS=1 cargo test -p traction-metrics --test metrics docs`. \
             The definition format is described in [metrics.md](metrics.md).\n\n\
             The `target` column says how a target on the metric behaves (kpis.md): \
             `accumulating` (an amount to reach, spread over the period), `level` (a level to \
             hold) or `none` (no target can be set on it).\n\n\
             | name | label | kind | target | unit | better | indicator | definition | description |\n\
             | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for m in &self.metrics {
            let cell = |text: &str| text.replace('|', "\\|");
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                m.name,
                cell(&m.label),
                m.kind.name(),
                m.target.name(),
                m.unit.name(),
                m.better.name(),
                m.indicator.name(),
                cell(&definition_with_drivers(m)),
                cell(&m.description),
            ));
        }
        out
    }
}

fn measure_text(m: &Measure) -> String {
    let agg = match (m.agg, &m.of) {
        (Agg::Percentile(p), Some(of)) => format!("percentile({of}, {p})"),
        (agg, Some(of)) => format!("{}({of})", agg.name()),
        (agg, None) => format!("{}(*)", agg.name()),
    };
    let filter = m.filter.as_ref().map(|f| format!(" where `{f}`")).unwrap_or_default();
    format!("`{agg}` of {}{filter}, by {}", m.source.name(), m.time)
}

/// [`definition_text`] with the drivers a definition declares (`; drivers: `deals_won` ×
/// `average_deal_size``): what `traction explain` splits its change among. A ratio of two
/// metrics is split along its numerator and denominator, which its definition already names.
fn definition_with_drivers(m: &Metric) -> String {
    let text = definition_text(m);
    if m.drivers.is_empty() {
        return text;
    }
    let names: Vec<String> = m.drivers.iter().map(|d| format!("`{d}`")).collect();
    format!("{text}; drivers: {}", names.join(" × "))
}

/// A one-line account of how a metric is computed.
pub fn definition_text(m: &Metric) -> String {
    let part = |p: &Part| match p {
        Part::Metric(name) => format!("`{name}`"),
        Part::Measure(m) => format!("({})", measure_text(m)),
    };
    match &m.kind {
        Kind::Aggregate(measure) => measure_text(measure),
        Kind::Ratio { numerator, denominator } => {
            format!("{} / {}", part(numerator), part(denominator))
        }
        Kind::Derived(e) => format!("`{e}`"),
        Kind::Cohort { source, time, success, success_time } => {
            let by = success_time
                .as_ref()
                .map(|t| format!(", {t} not after the clock"))
                .unwrap_or_default();
            format!("share of {source} by {time} with `{success}`{by}", source = source.name())
        }
        Kind::Snapshot { source, start, end, agg, of, weighted, filter, .. } => {
            let of = of.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "*".into());
            let weight = if *weighted { " × stage probability at the instant" } else { "" };
            let filter = filter.as_ref().map(|f| format!(" where `{f}`")).unwrap_or_default();
            let rows = match (start, end) {
                (Some(start), Some(end)) => format!(
                    " with {start} before the bucket end (or the clock) and {end} null or not before it"
                ),
                (Some(start), None) => {
                    format!(" with {start} before the bucket end (or the clock)")
                }
                _ => " as of the bucket end (or the clock)".to_string(),
            };
            format!("`{}({of})`{weight} of {}{filter}{rows}", agg.name(), source.name())
        }
        Kind::Retention { source, time, of, filter, lost } => {
            let filter = filter.as_ref().map(|f| format!(" where `{f}`")).unwrap_or_default();
            let share = if *lost { "not seen again" } else { "seen again" };
            format!(
                "of the distinct `{of}` of {}{filter} in the previous bucket by {time}, the share {share} in this bucket",
                source.name()
            )
        }
        Kind::Funnel => {
            "built in: per pipeline and step, deals reached, conversion, leakage".into()
        }
    }
}

/// The raw form of a definition, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    label: Option<String>,
    kind: String,
    unit: String,
    better: String,
    indicator: Option<String>,
    target: Option<String>,
    description: Option<String>,
    source: Option<String>,
    time: Option<String>,
    measure: Option<String>,
    of: Option<String>,
    p: Option<f64>,
    filter: Option<String>,
    numerator: Option<RawPart>,
    denominator: Option<RawPart>,
    expr: Option<String>,
    success: Option<String>,
    success_time: Option<String>,
    start: Option<String>,
    end: Option<String>,
    weight: Option<String>,
    outcome: Option<String>,
    drivers: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawPart {
    Metric(String),
    Measure(RawMeasure),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasure {
    source: String,
    time: String,
    measure: String,
    of: Option<String>,
    p: Option<f64>,
    filter: Option<String>,
}

/// Collects the problems of one definition.
struct Checker {
    definition: String,
    problems: Vec<Diagnostic>,
}

impl Checker {
    fn problem(&mut self, message: impl Into<String>) {
        self.problems
            .push(Diagnostic { definition: self.definition.clone(), message: message.into() });
    }

    fn required<'a>(
        &mut self,
        value: &'a Option<String>,
        key: &str,
        kind: &str,
    ) -> Option<&'a str> {
        if value.is_none() {
            self.problem(format!("a {kind} metric needs `{key}`"));
        }
        value.as_deref()
    }

    fn source(&mut self, name: &str) -> Option<Source> {
        let source = Source::parse(name);
        if source.is_none() {
            let names: Vec<_> = Source::all().iter().map(|s| s.name()).collect();
            self.problem(format!(
                "source: unknown entity {name:?}; sources are {}",
                names.join(", ")
            ));
        }
        source
    }

    fn time_field(&mut self, source: Source, key: &str, name: &str) -> bool {
        if source.is_state() {
            self.problem(format!(
                "{key}: {} is a state computed as of an instant and has no time field: read it with kind = \"snapshot\"",
                source.name()
            ));
            return false;
        }
        match source.field(name) {
            Some((Ty::Timestamp | Ty::Date, _)) => true,
            Some((ty, _)) => {
                self.problem(format!(
                    "{key}: {}.{name} is a {ty}, not a timestamp or date",
                    source.name()
                ));
                false
            }
            None => {
                let times: Vec<_> = source
                    .fields()
                    .into_iter()
                    .filter(|(_, ty, _)| matches!(ty, Ty::Timestamp | Ty::Date))
                    .map(|(n, _, _)| n)
                    .collect();
                self.problem(format!(
                    "{key}: unknown field {name:?} on {}; its time fields are {}",
                    source.name(),
                    times.join(", ")
                ));
                false
            }
        }
    }

    /// Parses and type-checks an expression over a source.
    fn expr(
        &mut self,
        source: Source,
        key: &str,
        text: &str,
        condition: bool,
    ) -> Option<(Expr, Ty)> {
        let parsed = match expr::parse(text) {
            Ok(e) => e,
            Err(e) => {
                self.problem(format!("{key}: {}", e.render(text)));
                return None;
            }
        };
        let scope = SourceScope::new(source);
        let env = Env::default();
        let res = if condition {
            compile_condition(&parsed, &scope, &env).map(|_| Ty::Bool)
        } else {
            compile(&parsed, &scope, &env).map(|c| c.ty)
        };
        match res {
            Ok(ty) => Some((parsed, ty)),
            Err(e) => {
                self.problem(format!("{key}: {}", e.render(text)));
                None
            }
        }
    }

    fn agg(&mut self, measure: &str, p: Option<f64>) -> Option<Agg> {
        let agg = match measure {
            "count" => Agg::Count,
            "count_distinct" => Agg::CountDistinct,
            "sum" => Agg::Sum,
            "avg" | "mean" => Agg::Avg,
            "min" => Agg::Min,
            "max" => Agg::Max,
            "median" => Agg::Median,
            "trimmed_mean" => Agg::TrimmedMean,
            "percentile" => match p {
                Some(p) if (0.0..=1.0).contains(&p) => Agg::Percentile(p),
                Some(p) => {
                    self.problem(format!("p: {p} is not a quantile: use a number from 0 to 1"));
                    return None;
                }
                None => {
                    self.problem("a percentile needs `p`, the quantile from 0 to 1 (0.9 for p90)");
                    return None;
                }
            },
            other => {
                self.problem(format!(
                    "measure: {other:?} is not an aggregation: use count, count_distinct, sum, avg, min, max, median, percentile or trimmed_mean"
                ));
                return None;
            }
        };
        if p.is_some() && !matches!(agg, Agg::Percentile(_)) {
            self.problem("p is only for measure = \"percentile\"");
        }
        Some(agg)
    }

    /// Checks the aggregated expression against the aggregation.
    fn of(
        &mut self,
        source: Source,
        agg: Agg,
        of: Option<&str>,
    ) -> Option<(Option<Expr>, Option<Ty>)> {
        match (agg, of) {
            (Agg::Count, None) => Some((None, None)),
            (Agg::Count, Some(_)) => {
                self.problem("count counts rows and takes no `of`: put conditions in `filter`");
                None
            }
            (_, None) => {
                self.problem(format!(
                    "measure {} needs `of`, the expression aggregated",
                    agg.name()
                ));
                None
            }
            (Agg::CountDistinct, Some(text)) => {
                let (e, ty) = self.expr(source, "of", text, false)?;
                Some((Some(e), Some(ty)))
            }
            (_, Some(text)) => {
                let (e, ty) = self.expr(source, "of", text, false)?;
                if !matches!(ty, Ty::Num | Ty::Money) {
                    self.problem(format!(
                        "of: {} of a {ty} makes no sense: aggregate a number or money",
                        agg.name()
                    ));
                    return None;
                }
                Some((Some(e), Some(ty)))
            }
        }
    }

    fn measure(&mut self, raw: &RawMeasure, key: &str) -> Option<Measure> {
        let before = self.problems.len();
        let source = self.source(&raw.source)?;
        self.time_field(source, "time", &raw.time);
        let agg = self.agg(&raw.measure, raw.p);
        let of = agg.and_then(|agg| self.of(source, agg, raw.of.as_deref()));
        let filter = raw.filter.as_deref().and_then(|f| self.expr(source, "filter", f, true));
        // Name the side of the ratio in what was found.
        for d in &mut self.problems[before..] {
            d.message = format!("{key}: {}", d.message);
        }
        if self.problems.len() > before {
            return None;
        }
        let (of, of_ty) = of?;
        Some(Measure {
            source,
            time: raw.time.clone(),
            agg: agg?,
            of,
            filter: filter.map(|(e, _)| e),
            of_ty,
        })
    }

    fn unit_fits(&mut self, unit: Unit, ty: Option<Ty>, agg: Agg) {
        let money = ty == Some(Ty::Money) && !matches!(agg, Agg::CountDistinct);
        if money && unit != Unit::Money {
            self.problem(format!(
                "unit is {} but the measure is money: use unit = \"money\"",
                unit.name()
            ));
        } else if !money && unit == Unit::Money {
            self.problem("unit is money but the measure is not an amount of money");
        }
    }
}

/// Parses and checks definitions files, later ones overriding earlier ones by name.
fn check(texts: &[&str]) -> Result<Catalog, Diagnostics> {
    let mut problems = Vec::new();
    let mut raw: Vec<(String, toml::Value)> = Vec::new();
    for text in texts {
        let table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Diagnostic {
                    definition: "file".into(),
                    message: e.to_string().trim_end().replace('\n', " "),
                });
                continue;
            }
        };
        for (key, value) in table {
            if key != "metric" {
                problems.push(Diagnostic {
                    definition: key.clone(),
                    message: "unknown table: definitions are written as [metric.NAME]".into(),
                });
                continue;
            }
            let toml::Value::Table(metrics) = value else {
                problems.push(Diagnostic {
                    definition: "metric".into(),
                    message: "write each definition as a table [metric.NAME]".into(),
                });
                continue;
            };
            for (name, def) in metrics {
                match raw.iter().position(|(n, _)| *n == name) {
                    Some(idx) => raw[idx].1 = def,
                    None => raw.push((name, def)),
                }
            }
        }
    }

    let mut metrics = Vec::new();
    let mut declared: HashMap<String, TargetKind> = HashMap::new();
    for (name, value) in raw {
        let mut checker = Checker { definition: format!("metric.{name}"), problems: Vec::new() };
        if !valid_name(&name) {
            checker.problem(
                "the name must be lower-case letters, digits and _, starting with a letter",
            );
        }
        match value.try_into::<RawMetric>() {
            Ok(def) => {
                let target = match def.target.as_deref().map(TargetKind::parse) {
                    Some(Ok(kind)) => Some(kind),
                    Some(Err(e)) => {
                        checker.problem(e);
                        None
                    }
                    None => None,
                };
                if let Some(metric) = check_one(&mut checker, &name, &def) {
                    if let Some(kind) = target {
                        declared.insert(name.clone(), kind);
                    }
                    metrics.push(metric);
                }
            }
            Err(e) => checker.problem(e.message().trim_end().replace('\n', " ")),
        }
        problems.extend(checker.problems);
    }

    let index: HashMap<String, usize> =
        metrics.iter().enumerate().map(|(idx, m)| (m.name.clone(), idx)).collect();
    let mut catalog = Catalog { metrics, index };
    problems.extend(check_references(&catalog));
    problems.extend(resolve_targets(&mut catalog, &declared));
    if problems.is_empty() { Ok(catalog) } else { Err(Diagnostics(problems)) }
}

/// Gives every metric its kind for targets: the declared one, else the inferred one; a
/// declaration that contradicts what the metric can do (a target on a funnel) is a problem.
fn resolve_targets(
    catalog: &mut Catalog,
    declared: &HashMap<String, TargetKind>,
) -> Vec<Diagnostic> {
    let mut resolved: HashMap<String, TargetKind> = HashMap::new();
    let mut problems = Vec::new();
    let names: Vec<String> = catalog.metrics.iter().map(|m| m.name.clone()).collect();
    for name in &names {
        let kind = resolve_target(catalog, declared, &mut resolved, name, 0);
        let inferred = infer_target(catalog, declared, &mut resolved, name, 0);
        if let Some(stated) = declared.get(name)
            && inferred == TargetKind::None
            && *stated != TargetKind::None
        {
            let what = catalog.get(name).map_or("", |m| m.kind.name());
            problems.push(Diagnostic {
                definition: format!("metric.{name}"),
                message: format!(
                    "target {:?} does not fit a {what} metric: its figure for a period in progress cannot be judged against a target; use target = \"none\"",
                    stated.name()
                ),
            });
        }
        resolved.insert(name.clone(), kind);
    }
    for metric in &mut catalog.metrics {
        metric.target = resolved.get(&metric.name).copied().unwrap_or(TargetKind::Level);
    }
    problems
}

fn resolve_target(
    catalog: &Catalog,
    declared: &HashMap<String, TargetKind>,
    resolved: &mut HashMap<String, TargetKind>,
    name: &str,
    depth: usize,
) -> TargetKind {
    if let Some(kind) = declared.get(name).or_else(|| resolved.get(name)) {
        return *kind;
    }
    let kind = infer_target(catalog, declared, resolved, name, depth);
    resolved.insert(name.to_string(), kind);
    kind
}

/// The kind for targets that a metric's definition implies (spec: kpis.md, Targets).
fn infer_target(
    catalog: &Catalog,
    declared: &HashMap<String, TargetKind>,
    resolved: &mut HashMap<String, TargetKind>,
    name: &str,
    depth: usize,
) -> TargetKind {
    let Some(metric) = catalog.get(name) else { return TargetKind::None };
    if depth > 64 {
        return TargetKind::Level;
    }
    match &metric.kind {
        // A distinct count grows over the period as a count does: an amount to reach.
        Kind::Aggregate(m) if m.agg.is_additive() || m.agg == Agg::CountDistinct => {
            TargetKind::Accumulating
        }
        Kind::Derived(expr) => {
            let kind = catalog_sum_kind(catalog, declared, resolved, expr, depth + 1);
            if kind == Some(TargetKind::Accumulating) {
                TargetKind::Accumulating
            } else if kind == Some(TargetKind::None) {
                TargetKind::None
            } else {
                TargetKind::Level
            }
        }
        Kind::Ratio { numerator, denominator } => {
            let parts = [numerator, denominator];
            let uses_none = parts.into_iter().any(|part| match part {
                Part::Metric(n) => {
                    resolve_target(catalog, declared, resolved, n, depth + 1) == TargetKind::None
                }
                Part::Measure(_) => false,
            });
            if uses_none { TargetKind::None } else { TargetKind::Level }
        }
        Kind::Retention { .. } | Kind::Funnel => TargetKind::None,
        _ => TargetKind::Level,
    }
}

/// `Some(Accumulating)` when a derived expression is a sum or difference of accumulating
/// metrics; `Some(None)` when it reads a metric no target can be set on; otherwise `None`.
fn catalog_sum_kind(
    catalog: &Catalog,
    declared: &HashMap<String, TargetKind>,
    resolved: &mut HashMap<String, TargetKind>,
    expr: &Expr,
    depth: usize,
) -> Option<TargetKind> {
    let uses_none = expr.names().into_iter().any(|(n, _)| {
        resolve_target(catalog, declared, resolved, n, depth + 1) == TargetKind::None
    });
    if uses_none {
        return Some(TargetKind::None);
    }
    fn sum(
        catalog: &Catalog,
        declared: &HashMap<String, TargetKind>,
        resolved: &mut HashMap<String, TargetKind>,
        e: &Expr,
        depth: usize,
    ) -> bool {
        match &e.kind {
            ExprKind::Name(n) => {
                resolve_target(catalog, declared, resolved, n, depth + 1)
                    == TargetKind::Accumulating
            }
            ExprKind::Neg(inner) => sum(catalog, declared, resolved, inner, depth + 1),
            ExprKind::Binary(BinOp::Add | BinOp::Sub, l, r) => {
                sum(catalog, declared, resolved, l, depth + 1)
                    && sum(catalog, declared, resolved, r, depth + 1)
            }
            _ => false,
        }
    }
    sum(catalog, declared, resolved, expr, depth).then_some(TargetKind::Accumulating)
}

/// The names defined by a definitions file, in order (empty when it does not parse).
pub fn definition_names(text: &str) -> Vec<String> {
    let Ok(table) = toml::from_str::<toml::Table>(text) else { return Vec::new() };
    match table.get("metric") {
        Some(toml::Value::Table(metrics)) => metrics.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 64
}

fn check_one(c: &mut Checker, name: &str, def: &RawMetric) -> Option<Metric> {
    let unit = Unit::parse(&def.unit).map_err(|e| c.problem(e)).ok();
    let better = match def.better.as_str() {
        "higher" => Some(Better::Higher),
        "lower" => Some(Better::Lower),
        other => {
            c.problem(format!("better {other:?} is not a direction: use higher or lower"));
            None
        }
    };
    let indicator = match def.indicator.as_deref() {
        None | Some("lagging") => Some(Indicator::Lagging),
        Some("leading") => Some(Indicator::Leading),
        Some(other) => {
            c.problem(format!("indicator {other:?} is not a tag: use leading or lagging"));
            None
        }
    };
    let kind_name = def.kind.as_str();
    // Keys that only some kinds take.
    let allowed: &[&str] = match kind_name {
        "aggregate" => &["source", "time", "measure", "of", "p", "filter"],
        "ratio" => &["numerator", "denominator"],
        "derived" => &["expr"],
        "cohort" => &["source", "time", "success", "success_time"],
        "snapshot" => &["source", "start", "end", "measure", "of", "filter", "weight"],
        "retention" => &["source", "time", "of", "filter", "outcome"],
        "funnel" => &[],
        other => {
            c.problem(format!(
                "kind {other:?} is not a kind: use aggregate, ratio, derived, cohort, snapshot, retention or funnel"
            ));
            return None;
        }
    };
    let given = [
        ("source", def.source.is_some()),
        ("time", def.time.is_some()),
        ("measure", def.measure.is_some()),
        ("of", def.of.is_some()),
        ("p", def.p.is_some()),
        ("filter", def.filter.is_some()),
        ("numerator", def.numerator.is_some()),
        ("denominator", def.denominator.is_some()),
        ("expr", def.expr.is_some()),
        ("success", def.success.is_some()),
        ("success_time", def.success_time.is_some()),
        ("start", def.start.is_some()),
        ("end", def.end.is_some()),
        ("weight", def.weight.is_some()),
        ("outcome", def.outcome.is_some()),
    ];
    for (key, present) in given {
        if present && !allowed.contains(&key) {
            c.problem(format!("a {kind_name} metric takes no `{key}`"));
        }
    }
    let kind = match kind_name {
        "aggregate" => {
            let source = c.required(&def.source, "source", kind_name)?.to_string();
            let time = c.required(&def.time, "time", kind_name)?.to_string();
            let measure = c.required(&def.measure, "measure", kind_name)?.to_string();
            let raw = RawMeasure {
                source,
                time,
                measure,
                of: def.of.clone(),
                p: def.p,
                filter: def.filter.clone(),
            };
            let before = c.problems.len();
            let m = c.measure(&raw, "");
            // No side to name for a plain aggregate.
            for d in &mut c.problems[before..] {
                if let Some(rest) = d.message.strip_prefix(": ") {
                    d.message = rest.to_string();
                }
            }
            let m = m?;
            if let Some(unit) = unit {
                c.unit_fits(unit, m.of_ty, m.agg);
            }
            Kind::Aggregate(m)
        }
        "ratio" => {
            let mut part = |raw: &Option<RawPart>, key: &str| -> Option<Part> {
                match raw {
                    None => {
                        c.problem(format!(
                            "a ratio metric needs `{key}`: a metric name or an inline measure"
                        ));
                        None
                    }
                    Some(RawPart::Metric(name)) => Some(Part::Metric(name.clone())),
                    Some(RawPart::Measure(m)) => c.measure(m, key).map(Part::Measure),
                }
            };
            let numerator = part(&def.numerator, "numerator");
            let denominator = part(&def.denominator, "denominator");
            Kind::Ratio { numerator: numerator?, denominator: denominator? }
        }
        "derived" => {
            let text = c.required(&def.expr, "expr", kind_name)?;
            match expr::parse(text) {
                Ok(e) => {
                    if let Some(bad) = non_arithmetic(&e) {
                        c.problem(format!("expr: {}", bad.render(text)));
                        return None;
                    }
                    Kind::Derived(e)
                }
                Err(e) => {
                    c.problem(format!("expr: {}", e.render(text)));
                    return None;
                }
            }
        }
        "cohort" => {
            let source = c.required(&def.source, "source", kind_name);
            let time = c.required(&def.time, "time", kind_name);
            let success = c.required(&def.success, "success", kind_name);
            let source = c.source(source?)?;
            let time_ok = c.time_field(source, "time", time?);
            let success = c.expr(source, "success", success?, true);
            let success_time_ok =
                def.success_time.as_deref().is_none_or(|t| c.time_field(source, "success_time", t));
            if !time_ok || !success_time_ok {
                return None;
            }
            if let Some(unit) = unit
                && unit != Unit::Ratio
                && unit != Unit::Percent
            {
                c.problem("a cohort gives a share: use unit = \"ratio\"");
            }
            Kind::Cohort {
                source,
                time: time?.to_string(),
                success: success?.0,
                success_time: def.success_time.clone(),
            }
        }
        "snapshot" => {
            let source = c.required(&def.source, "source", kind_name);
            let measure = c.required(&def.measure, "measure", kind_name);
            let source = c.source(source?)?;
            let (start, end) = (def.start.as_deref(), def.end.as_deref());
            let mut times_ok = true;
            if source.is_state() {
                if start.is_some() || end.is_some() {
                    c.problem(format!(
                        "{} is computed as of each instant: a snapshot of it takes no `start` or `end`",
                        source.name()
                    ));
                    times_ok = false;
                }
            } else if start.is_none() {
                c.problem(
                    "a snapshot metric needs `start`: the time field from which a record counts",
                );
                times_ok = false;
            }
            if let (Some(start), false) = (start, source.is_state()) {
                times_ok &= c.time_field(source, "start", start);
            }
            if let (Some(end), false) = (end, source.is_state()) {
                times_ok &= c.time_field(source, "end", end);
            }
            let agg = c.agg(measure?, None)?;
            if agg.needs_values() || agg == Agg::CountDistinct {
                c.problem("a snapshot aggregates with count, sum, avg, min or max");
                return None;
            }
            let (of, of_ty) = c.of(source, agg, def.of.as_deref())?;
            let filter = def.filter.as_deref().map(|f| c.expr(source, "filter", f, true));
            let weighted = match def.weight.as_deref() {
                None => false,
                Some("stage_probability")
                    if source == Source::Entity(traction_domain::Entity::Deals) =>
                {
                    true
                }
                Some(other) => {
                    c.problem(format!(
                        "weight {other:?} is not available: the only weight is stage_probability, on deals"
                    ));
                    return None;
                }
            };
            if weighted && agg != Agg::Sum {
                c.problem("a weighted snapshot must be a sum");
            }
            if !times_ok {
                return None;
            }
            let filter = match filter {
                None => None,
                Some(Some((e, _))) => Some(e),
                Some(None) => return None,
            };
            if let Some(unit) = unit {
                c.unit_fits(unit, of_ty, agg);
            }
            Kind::Snapshot {
                source,
                start: start.map(str::to_string),
                end: end.map(str::to_string),
                agg,
                of,
                of_ty,
                filter,
                weighted,
            }
        }
        "retention" => {
            let source = c.required(&def.source, "source", kind_name);
            let time = c.required(&def.time, "time", kind_name);
            let of = c.required(&def.of, "of", kind_name);
            let source = c.source(source?)?;
            let time_ok = c.time_field(source, "time", time?);
            let of = c.expr(source, "of", of?, false);
            let filter = def.filter.as_deref().map(|f| c.expr(source, "filter", f, true));
            let lost = match def.outcome.as_deref() {
                None | Some("retained") => false,
                Some("lost") => true,
                Some(other) => {
                    c.problem(format!(
                        "outcome {other:?} is not an outcome: use retained (the share seen again) or lost (the share not seen again)"
                    ));
                    return None;
                }
            };
            if let Some(unit) = unit
                && unit != Unit::Ratio
                && unit != Unit::Percent
            {
                c.problem("a retention metric gives a share: use unit = \"ratio\"");
            }
            let (of, _) = of?;
            let filter = match filter {
                None => None,
                Some(Some((e, _))) => Some(e),
                Some(None) => return None,
            };
            if !time_ok {
                return None;
            }
            Kind::Retention { source, time: time?.to_string(), of, filter, lost }
        }
        _ => Kind::Funnel,
    };
    Some(Metric {
        name: name.to_string(),
        label: def.label.clone().unwrap_or_else(|| name.to_string()),
        unit: unit?,
        better: better?,
        indicator: indicator?,
        description: def.description.clone().unwrap_or_default(),
        kind,
        drivers: def.drivers.clone().unwrap_or_default(),
        // Resolved once the whole catalog is known (`resolve_targets`).
        target: TargetKind::Level,
    })
}

/// The most factors a driver tree may have: the symmetric split weighs every order of them
/// (2^n subsets), so the list is kept short.
pub const MAX_DRIVERS: usize = 6;

/// Checks each metric's `drivers`: known metrics, at least two, not the metric itself, named once,
/// each a series (spec: monitoring.md, Explaining a change).
fn check_drivers(catalog: &Catalog) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for metric in &catalog.metrics {
        if metric.drivers.is_empty() {
            continue;
        }
        let mut problem = |message: String| {
            problems.push(Diagnostic { definition: format!("metric.{}", metric.name), message })
        };
        if metric.drivers.len() < 2 || metric.drivers.len() > MAX_DRIVERS {
            problem(format!(
                "drivers: name from 2 to {MAX_DRIVERS} metrics whose product is this one (got {})",
                metric.drivers.len()
            ));
        }
        for (idx, name) in metric.drivers.iter().enumerate() {
            if metric.drivers[..idx].contains(name) {
                problem(format!("drivers: {name:?} is named twice"));
            } else if *name == metric.name {
                problem(format!("drivers: {name:?} is the metric itself"));
            } else {
                match catalog.get(name) {
                    None => problem(format!(
                        "drivers: unknown metric {name:?}{}",
                        suggest(catalog, name)
                    )),
                    Some(m) if matches!(m.kind, Kind::Funnel) => {
                        problem(format!("drivers: {name} is a funnel, not a series"))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    problems
}

/// The first part of a derived expression that is not metrics, numbers, `+ - * /` and
/// parentheses.
fn non_arithmetic(e: &Expr) -> Option<expr::compile::TypeError> {
    let bad = |what: &str| {
        Some(expr::compile::TypeError {
            span: e.span,
            message: format!(
                "{what} is not allowed here: a derived metric is arithmetic (+ - * /) over metrics and numbers"
            ),
        })
    };
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Number(_) => None,
        ExprKind::Call { name, args } if name == "previous" => match args.as_slice() {
            [arg] if matches!(arg.kind, ExprKind::Name(_)) => None,
            _ => Some(expr::compile::TypeError {
                span: e.span,
                message: "previous() takes one metric name: previous(revenue) is the value of revenue in the bucket before".into(),
            }),
        },
        ExprKind::Neg(inner) => non_arithmetic(inner),
        ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div), l, r) => {
            let _ = op;
            non_arithmetic(l).or_else(|| non_arithmetic(r))
        }
        ExprKind::Binary(op, _, _) => bad(op.symbol()),
        ExprKind::Text(_) => bad("text"),
        ExprKind::Bool(_) | ExprKind::Null => bad("this value"),
        ExprKind::Not(_) => bad("not"),
        ExprKind::In { .. } => bad("in"),
        ExprKind::IsNull { .. } => bad("is null"),
        ExprKind::Call { name, .. } => bad(&format!("{name}() (the only function here is previous(metric))")),
    }
}

/// Names of metrics a metric refers to, with what refers to them.
fn references(metric: &Metric) -> Vec<(String, &'static str)> {
    match &metric.kind {
        Kind::Ratio { numerator, denominator } => {
            let mut acc = Vec::new();
            if let Part::Metric(n) = numerator {
                acc.push((n.clone(), "numerator"));
            }
            if let Part::Metric(n) = denominator {
                acc.push((n.clone(), "denominator"));
            }
            acc
        }
        Kind::Derived(e) => e.names().into_iter().map(|(n, _)| (n.to_string(), "expr")).collect(),
        _ => Vec::new(),
    }
}

/// Unknown metrics, references to the funnel, and cycles.
fn check_references(catalog: &Catalog) -> Vec<Diagnostic> {
    let mut problems = check_drivers(catalog);
    for metric in &catalog.metrics {
        for (name, key) in references(metric) {
            let definition = format!("metric.{}", metric.name);
            match catalog.get(&name) {
                None => problems.push(Diagnostic {
                    definition,
                    message: format!("{key}: unknown metric {name:?}{}", suggest(catalog, &name)),
                }),
                Some(m) if m.kind == Kind::Funnel => problems.push(Diagnostic {
                    definition,
                    message: format!(
                        "{key}: {name} is a funnel, not a series that can be combined"
                    ),
                }),
                Some(_) => {}
            }
        }
    }
    // Cycles: depth-first search with colours.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    for metric in &catalog.metrics {
        let mut path = Vec::new();
        let found = find_cycle(catalog, &metric.name, &mut state, &mut path);
        // Whatever the search left open is settled: each cycle is reported once.
        for value in state.values_mut() {
            *value = 2;
        }
        if let Some(cycle) = found {
            let definition = format!("metric.{}", cycle[0]);
            if !problems
                .iter()
                .any(|p: &Diagnostic| p.definition == definition && p.message.contains("cycle"))
            {
                problems.push(Diagnostic {
                    definition,
                    message: format!("refers to itself through a cycle: {}", cycle.join(" → ")),
                });
            }
        }
    }
    problems
}

fn find_cycle<'a>(
    catalog: &'a Catalog,
    name: &'a str,
    state: &mut BTreeMap<&'a str, u8>,
    path: &mut Vec<&'a str>,
) -> Option<Vec<String>> {
    match state.get(name) {
        Some(2) => return None,
        Some(1) => {
            let start = path.iter().position(|n| *n == name).unwrap_or(0);
            let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
            cycle.push(name.to_string());
            return Some(cycle);
        }
        _ => {}
    }
    let metric = catalog.get(name)?;
    state.insert(name, 1);
    path.push(name);
    for (next, _) in references(metric) {
        if let Some(m) = catalog.get(&next)
            && let Some(cycle) = find_cycle(catalog, &m.name, state, path)
        {
            return Some(cycle);
        }
    }
    path.pop();
    state.insert(name, 2);
    None
}

fn suggest(catalog: &Catalog, name: &str) -> String {
    let close: Vec<&str> = catalog
        .metrics
        .iter()
        .map(|m| m.name.as_str())
        .filter(|m| edit_distance(m, name) <= 2)
        .collect();
    if close.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", close.join(" or "))
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
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
