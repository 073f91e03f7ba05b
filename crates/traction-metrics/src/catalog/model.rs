//! The checked form of a metric definition: its unit, direction, target kind, measures and
//! kind, and the diagnostics checking reports.

use std::fmt;

use crate::expr::Expr;
use crate::expr::compile::Ty;
use crate::source::Source;

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

    pub(super) fn parse(text: &str) -> Result<Unit, NotAKind> {
        Unit::ALL
            .into_iter()
            .find(|u| u.name() == text)
            .ok_or_else(|| NotAKind::Unit { text: text.to_string() })
    }
}

/// Why a definition's `unit` or `target` is not one of its kinds (a problem of the definition).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotAKind {
    #[error("unit {text:?} is not a unit: use one of {}", unit_names())]
    Unit { text: String },
    #[error("target {text:?} is not a kind for targets: use accumulating, level or none")]
    Target { text: String },
}

fn unit_names() -> String {
    Unit::ALL.iter().map(|u| u.name()).collect::<Vec<_>>().join(", ")
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

    pub(super) fn parse(text: &str) -> Result<TargetKind, NotAKind> {
        match text {
            "accumulating" => Ok(TargetKind::Accumulating),
            "level" => Ok(TargetKind::Level),
            "none" => Ok(TargetKind::None),
            other => Err(NotAKind::Target { text: other.to_string() }),
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
