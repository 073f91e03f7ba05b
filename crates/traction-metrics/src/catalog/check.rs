//! Checking definitions files into a [`Catalog`]: each definition on its own, then the
//! targets the catalog as a whole implies.

use std::collections::HashMap;

use crate::expr::compile::{Env, Ty, compile, compile_condition};
use crate::expr::{self, BinOp, Expr, ExprKind};
use crate::source::{Source, SourceScope};

use super::*;

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
pub(super) fn check(texts: &[&str]) -> Result<Catalog, Diagnostics> {
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
                        checker.problem(e.to_string());
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

fn check_one(c: &mut Checker, name: &str, def: &RawMetric) -> Option<Metric> {
    let (unit, better, indicator) = tags(c, def);
    let kind_name = def.kind.as_str();
    check_keys(c, def, kind_name)?;
    let kind = match kind_name {
        "aggregate" => aggregate_kind(c, def, kind_name, unit)?,
        "ratio" => ratio_kind(c, def)?,
        "derived" => derived_kind(c, def, kind_name)?,
        "cohort" => cohort_kind(c, def, kind_name, unit)?,
        "snapshot" => snapshot_kind(c, def, kind_name, unit)?,
        "retention" => retention_kind(c, def, kind_name, unit)?,
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

/// A definition's unit, direction and indicator tag, each `None` (and a problem) when it is not
/// one.
fn tags(c: &mut Checker, def: &RawMetric) -> (Option<Unit>, Option<Better>, Option<Indicator>) {
    let unit = Unit::parse(&def.unit).map_err(|e| c.problem(e.to_string())).ok();
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
    (unit, better, indicator)
}

/// Refuses a kind that is not one (`None`) and names each key the kind does not take.
fn check_keys(c: &mut Checker, def: &RawMetric, kind_name: &str) -> Option<()> {
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
    Some(())
}

/// An `aggregate`: one measure over a source's records placed by a time field.
fn aggregate_kind(
    c: &mut Checker,
    def: &RawMetric,
    kind_name: &str,
    unit: Option<Unit>,
) -> Option<Kind> {
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
    Some(Kind::Aggregate(m))
}

/// A `ratio`: a numerator over a denominator, each a metric name or an inline measure.
fn ratio_kind(c: &mut Checker, def: &RawMetric) -> Option<Kind> {
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
    Some(Kind::Ratio { numerator: numerator?, denominator: denominator? })
}

/// A `derived` metric: arithmetic over other metrics.
fn derived_kind(c: &mut Checker, def: &RawMetric, kind_name: &str) -> Option<Kind> {
    let text = c.required(&def.expr, "expr", kind_name)?;
    match expr::parse(text) {
        Ok(e) => {
            if let Some(bad) = non_arithmetic(&e) {
                c.problem(format!("expr: {}", bad.render(text)));
                return None;
            }
            Some(Kind::Derived(e))
        }
        Err(e) => {
            c.problem(format!("expr: {}", e.render(text)));
            None
        }
    }
}

/// A `cohort`: the share of records placed by `time` that reach `success`.
fn cohort_kind(
    c: &mut Checker,
    def: &RawMetric,
    kind_name: &str,
    unit: Option<Unit>,
) -> Option<Kind> {
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
    Some(Kind::Cohort {
        source,
        time: time?.to_string(),
        success: success?.0,
        success_time: def.success_time.clone(),
    })
}

/// A `snapshot`: records alive at each bucket's end (or a state source as of it), aggregated.
fn snapshot_kind(
    c: &mut Checker,
    def: &RawMetric,
    kind_name: &str,
    unit: Option<Unit>,
) -> Option<Kind> {
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
        c.problem("a snapshot metric needs `start`: the time field from which a record counts");
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
        Some("stage_probability") if source == Source::Entity(traction_domain::Entity::Deals) => {
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
    Some(Kind::Snapshot {
        source,
        start: start.map(str::to_string),
        end: end.map(str::to_string),
        agg,
        of,
        of_ty,
        filter,
        weighted,
    })
}

/// A `retention`: the share of a bucket's values seen again (or not) in the next.
fn retention_kind(
    c: &mut Checker,
    def: &RawMetric,
    kind_name: &str,
    unit: Option<Unit>,
) -> Option<Kind> {
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
    Some(Kind::Retention { source, time: time?.to_string(), of, filter, lost })
}
