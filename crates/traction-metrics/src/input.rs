//! Why a query is wrong: [`crate::Error::Input`]'s reasons, one variant each, holding what is
//! at fault (the parameter, the metric, the dimension, the value). Each message is the sentence
//! people read, unchanged from when the engine wrote them as text; the API, the web pages and
//! the command line show it as it is.

use traction_domain::time::Micros;

/// Why a query cannot be answered as asked: the asker fixes it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Input {
    /// A query-string parameter the operation does not take.
    #[error("unknown parameter {key:?}: use {}", .known.join(", "))]
    UnknownParameter { key: String, known: Vec<&'static str> },
    /// A parameter given twice.
    #[error("parameter {key:?} is given twice")]
    RepeatedParameter { key: String },
    /// A time parameter that does not parse (the domain says why).
    #[error("{key}: {reason}")]
    Instant { key: String, reason: traction_domain::Error },
    /// A required time parameter left out.
    #[error("{key} is required: give a date or a timestamp, e.g. {key}=2026-03-01")]
    Required { key: String },
    /// Not a grain.
    #[error("grain {text:?} is not a grain: use hour, day, week, month, quarter, year or all")]
    Grain { text: String },
    /// Not a comparison.
    #[error("compare {text:?} is not a comparison: use previous or yoy")]
    Compare { text: String },
    /// An explanation asked to split along more than one dimension.
    #[error("by: explain splits along one dimension at a time, not {}: name one", .dims.join(", "))]
    ExplainByMany { dims: Vec<String> },
    /// `from` is not before `to`.
    #[error("the range is empty: the start (from) must be before the end (to)")]
    EmptyRange,
    /// A funnel asked for as a series.
    #[error(
        "{metric} is a funnel, not a series: ask for it with `traction funnel` or /api/v1/funnel"
    )]
    FunnelAsSeries { metric: String },
    /// A funnel asked to be explained.
    #[error(
        "{metric} is a funnel, not a figure: explain one of its figures instead (deals_won, win_rate)"
    )]
    FunnelExplained { metric: String },
    /// A funnel inside another metric.
    #[error("{metric} is a funnel and cannot be part of another metric")]
    FunnelInMetric { metric: String },
    /// A dimension the metric cannot be grouped by.
    #[error("by: {dim:?} does not apply to {metric}; the dimensions that do are {}", .applicable.join(", "))]
    ByNotApplicable { dim: String, metric: String, applicable: Vec<&'static str> },
    /// A dimension that applies to one side of a ratio or derived metric only (`reason` says
    /// which parts have it and which do not).
    #[error("{reason}")]
    ByOneSided { dim: String, reason: String },
    /// A dimension named twice.
    #[error("by: {dim:?} is named twice")]
    ByTwice { dim: String },
    /// A dimension the scan of the metric does not have.
    #[error("by: {dim} does not apply to {metric}")]
    ByNotInScan { dim: String, metric: String },
    /// An explanation split by a dimension, of a metric that is not a count, a sum or a ratio.
    #[error(
        "by: {metric} is neither a count or a sum nor a ratio of them, so its change does not split by {dim}: explain it without by (along its drivers), or explain its parts"
    )]
    ExplainByShape { metric: String, dim: String },
    /// Metrics nested more than 32 deep.
    #[error("{metric} nests metrics too deeply")]
    TooDeep { metric: String },
    /// `previous()` over a snapshot.
    #[error("{metric} is a snapshot: previous() applies to metrics placed in time by a field")]
    PreviousOfSnapshot { metric: String },
    /// `previous()` over a retention metric.
    #[error("{metric} already compares each bucket with the one before: previous() does not apply")]
    PreviousOfRetention { metric: String },
    /// A retention metric at grain `all`.
    #[error(
        "{metric} compares consecutive buckets: ask for a grain other than all (day, week, month, quarter or year)"
    )]
    NeedsGrain { metric: String },
    /// A metric placed by a date asked for by the hour.
    #[error("{metric} is placed by a date ({entity}.{field}): ask for a grain of a day or more")]
    PlacedByDate { metric: String, entity: String, field: String },
    /// A metric's own expression (`of`, `filter`) does not compile for this query.
    #[error("{part}: {message}")]
    Expression { part: &'static str, message: String },
    /// An order statistic planned into an aggregate scan (a planner mistake, reported).
    #[error("an order statistic in an aggregate scan")]
    OrderStatisticInAggregate,
    /// A time field the source does not have.
    #[error("unknown time field {field}")]
    UnknownTimeField { field: String },
    /// A time dimension (`weekday`, `hour`…) over a snapshot.
    #[error("{dim} does not apply to a snapshot")]
    TimeDimOfSnapshot { dim: String },
    /// A time dimension a source does not have.
    #[error("{dim} does not apply to {entity}")]
    TimeDimNotFor { dim: String, entity: String },
    /// An explanation's driver that is not in the catalog.
    #[error("{metric}: driver {driver:?} is not a metric of the catalog")]
    UnknownDriver { metric: String, driver: String },
    /// An explanation of a range that starts at or after the clock (local texts).
    #[error(
        "the range starts at {from} but the clock (at) is {at}: nothing in it has happened yet, so there is no change to explain"
    )]
    NotYet { from: String, at: String },
    /// An explanation whose two ranges overlap (local texts).
    #[error(
        "the range {from} to {to} and the range it is compared with ({compare}, {other_from} to {other_to}) are not comparable: they overlap; choose a range no longer than the comparison step (a year for yoy)"
    )]
    Overlap {
        from: String,
        to: String,
        compare: &'static str,
        other_from: String,
        other_to: String,
    },
    /// More buckets than [`crate::buckets::MAX_BUCKETS`].
    #[error(
        "the range has more than {max} buckets at this grain: use a coarser grain or a shorter range"
    )]
    TooManyBuckets { max: usize },
    /// A range that runs past the calendar.
    #[error("the range runs past the calendar")]
    RangePastCalendar,
    /// A comparison range that runs past the calendar.
    #[error("the comparison runs past the calendar")]
    ComparisonPastCalendar,
    /// An instant outside the calendar.
    #[error("{micros} is out of range as an instant")]
    OutOfRange { micros: Micros },
    /// A local day or time that has no instant in the zone (the domain says why).
    #[error(transparent)]
    Local(#[from] traction_domain::Error),
    /// Whole days between two local midnights that the calendar cannot count (jiff's reason).
    #[error("{reason}")]
    Days { reason: String },
}
