//! Checks across metrics: drivers, references between metrics, cycles, and close-name hints.

use std::collections::BTreeMap;

use crate::expr::{self, BinOp, Expr, ExprKind};

use super::*;

/// The most factors a driver tree may have: the symmetric split weighs every order of them
/// (2^n subsets), so the list is kept short.
pub const MAX_DRIVERS: usize = 6;

/// Checks each metric's `drivers`: known metrics, at least two, not the metric itself, named once,
/// each a series (spec: monitoring.md, Explaining a change).
pub(super) fn check_drivers(catalog: &Catalog) -> Vec<Diagnostic> {
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
pub(super) fn non_arithmetic(e: &Expr) -> Option<expr::compile::TypeError> {
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
pub(super) fn references(metric: &Metric) -> Vec<(String, &'static str)> {
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
pub(super) fn check_references(catalog: &Catalog) -> Vec<Diagnostic> {
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

pub(super) fn find_cycle<'a>(
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

pub(super) fn suggest(catalog: &Catalog, name: &str) -> String {
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

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
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
