//! The raw form of a definitions file, as written (parsing), and the names it defines.

use serde::Deserialize;

/// The raw form of a definition, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetric {
    pub(super) label: Option<String>,
    pub(super) kind: String,
    pub(super) unit: String,
    pub(super) better: String,
    pub(super) indicator: Option<String>,
    pub(super) target: Option<String>,
    pub(super) description: Option<String>,
    pub(super) source: Option<String>,
    pub(super) time: Option<String>,
    pub(super) measure: Option<String>,
    pub(super) of: Option<String>,
    pub(super) p: Option<f64>,
    pub(super) filter: Option<String>,
    pub(super) numerator: Option<RawPart>,
    pub(super) denominator: Option<RawPart>,
    pub(super) expr: Option<String>,
    pub(super) success: Option<String>,
    pub(super) success_time: Option<String>,
    pub(super) start: Option<String>,
    pub(super) end: Option<String>,
    pub(super) weight: Option<String>,
    pub(super) outcome: Option<String>,
    pub(super) drivers: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawPart {
    Metric(String),
    Measure(RawMeasure),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMeasure {
    pub(super) source: String,
    pub(super) time: String,
    pub(super) measure: String,
    pub(super) of: Option<String>,
    pub(super) p: Option<f64>,
    pub(super) filter: Option<String>,
}

/// The names defined by a definitions file, in order (empty when it does not parse).
pub fn definition_names(text: &str) -> Vec<String> {
    let Ok(table) = toml::from_str::<toml::Table>(text) else { return Vec::new() };
    match table.get("metric") {
        Some(toml::Value::Table(metrics)) => metrics.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

pub(super) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 64
}
