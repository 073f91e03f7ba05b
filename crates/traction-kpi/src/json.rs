//! The JSON shapes of interfaces.md for KPI status, breakdown and leaderboard, shared by the
//! command line and the HTTP API so the two cannot differ. Figures are full precision.

use serde_json::{Value as Json, json};
use traction_domain::time::{Micros, format_instant};

use crate::pace::Figures;
use crate::service::{Backtest, BreakdownRow, KpiRow, LeaderRow, Target};

fn number(x: Option<f64>) -> Json {
    match x {
        Some(v) if v.is_finite() => json!(v),
        _ => Json::Null,
    }
}

fn figures(f: &Figures, row: &mut serde_json::Map<String, Json>) {
    row.insert("actual".into(), number(f.actual));
    row.insert("expected".into(), number(Some(f.expected)));
    row.insert("pace".into(), number(f.pace));
    row.insert("status".into(), json!(f.status.name()));
    row.insert("projected".into(), number(f.projected));
    row.insert("required_rate".into(), number(f.required_rate));
    row.insert("required_rate_scope".into(), number(f.required_rate_scope));
    row.insert("heads".into(), json!(f.heads));
    row.insert("gap".into(), number(f.gap));
}

/// A target as a JSON object of its fields.
pub fn target(t: &Target) -> Json {
    json!({
        "id": t.id, "metric": t.metric, "scope": t.scope.to_string(),
        "period": format!("{:?}", t.period).to_lowercase(), "starts_on": t.starts_on.to_string(),
        "value": t.value, "split": format!("{:?}", t.split).to_lowercase(),
        "at_risk": t.at_risk, "off_track": t.off_track, "min_sample": t.min_sample,
    })
}

/// `{"at", "rows": [KPI rows]}`.
pub fn status(at: Micros, rows: &[KpiRow]) -> Json {
    let rows: Vec<Json> = rows
        .iter()
        .map(|r| {
            let t = &r.target;
            let mut row = serde_json::Map::new();
            row.insert("target".into(), json!(t.id));
            row.insert("metric".into(), json!(t.metric));
            row.insert("scope".into(), json!(t.scope.to_string()));
            row.insert("period".into(), json!(format!("{:?}", t.period).to_lowercase()));
            row.insert("starts_on".into(), json!(t.starts_on.to_string()));
            row.insert("target_value".into(), json!(t.value));
            figures(&r.figures, &mut row);
            if let Some((low, high)) = r.interval {
                row.insert("interval".into(), json!({"low": low, "high": high}));
            }
            // spec: monitoring.md, KPI forecast; `projected` stays the run rate.
            row.insert(
                "forecast".into(),
                match r.forecast {
                    Some(b) => json!({"value": b.value, "low": b.low, "high": b.high,
                                      "backtest": b.backtest.as_ref().map(backtest)}),
                    None => Json::Null,
                },
            );
            if let Some(message) = &r.error {
                row.insert("error".into(), json!(message));
            }
            Json::Object(row)
        })
        .collect();
    json!({"at": format_instant(at), "rows": rows})
}

/// A forecast's backtest (monitoring.md, Forecasts): `{"folds", "horizon", "mape", "wape",
/// "mase", "baseline": "seasonal_naive", "baseline_wape"}`, as `traction forecast` gives it.
pub fn backtest(b: &Backtest) -> Json {
    json!({
        "folds": b.folds,
        "horizon": b.horizon,
        "mape": number(b.mape),
        "wape": number(b.wape),
        "mase": number(b.mase),
        "baseline": "seasonal_naive",
        "baseline_wape": number(b.baseline_wape),
    })
}

/// `{"target", "grain", "rows": [{"period", ["user",] "value"}]}`.
pub fn breakdown(target: &str, grain: &str, rows: &[BreakdownRow]) -> Json {
    let rows: Vec<Json> = rows
        .iter()
        .map(|r| match &r.user {
            Some(user) => json!({"period": r.period, "user": user, "value": r.value}),
            None => json!({"period": r.period, "value": r.value}),
        })
        .collect();
    json!({"target": target, "grain": grain, "rows": rows})
}

/// `{"target", "at", "rows": [{"rank", "user", "target_value", "actual", "expected", "pace", "band"}]}`.
pub fn leaderboard(target: &str, at: Micros, rows: &[LeaderRow]) -> Json {
    let rows: Vec<Json> = rows
        .iter()
        .map(|r| {
            json!({
                "rank": r.rank, "user": r.user, "target_value": r.target_value,
                "actual": number(r.figures.actual), "expected": r.figures.expected,
                "pace": number(r.figures.pace), "band": r.band,
            })
        })
        .collect();
    json!({"target": target, "at": format_instant(at), "rows": rows})
}
