//! Metric definitions and query parameters, fuzzed (issue 25, point 9: bounded case counts on the
//! stable toolchain, so they run in `cargo test`). The expression language's own properties sit
//! beside it in `expr/mod.rs` (any text parses or is refused; printing and parsing round-trip)
//! and `source.rs` (type checking never panics).
//!
//! A definitions file is a user's TOML: whatever its metrics say — kinds, keys, expressions,
//! metrics naming each other in cycles — checking it answers a catalog or diagnostics that each
//! name their definition, never a panic. Any query parameters are read into a query or refused
//! with a message, and a query read so runs against a database or is refused, never a panic.

use proptest::prelude::*;
use proptest::sample::select;

use crate::catalog::Catalog;
use crate::{Error, params};

/// 48 cases in `cargo test`; `PROPTEST_CASES=5000` runs longer.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// A TOML string literal of any text.
fn quoted(text: &str) -> String {
    // serde_json's escaping of a string is valid TOML basic-string escaping (\" \\ \n \uXXXX).
    serde_json::Value::String(text.to_owned()).to_string()
}

/// Values a definition's keys take: sources, fields, measures, units, expressions right and
/// wrong, names of other metrics (m0…m3, and built-in ones), and any text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "deals",
            "leads",
            "activities",
            "orders",
            "customers",
            "product_stock",
            "planets",
            "created_at",
            "closed_at",
            "occurred_at",
            "amount",
            "count",
            "sum",
            "avg",
            "median",
            "p90",
            "count_distinct",
            "ratio",
            "currency",
            "duration",
            "higher",
            "lower",
            "status = 'won'",
            "amount > 100 and owner_id = 'u1'",
            "kind in ('call', 'email')",
            "m0 + m1",
            "m1 / m2",
            "previous(m0)",
            "previous(revenue + 1)",
            "revenue_won - m3",
            "win_rate",
            "m0",
            "m1",
            "m2",
            "m3",
            "(((",
            "status = 'won",
            "days(closed_at - created_at)",
            "in_bucket(closed_at)",
        ])
        .prop_map(str::to_owned),
        "[a-z_ '().=<>0-9+*/-]{0,24}",
        "\\PC{0,10}",
    ]
}

fn definitions() -> impl Strategy<Value = String> {
    let kind = select(vec![
        "aggregate",
        "ratio",
        "derived",
        "cohort",
        "snapshot",
        "funnel",
        "retention",
        "x",
    ]);
    let key = select(vec![
        "source",
        "time",
        "measure",
        "of",
        "filter",
        "expr",
        "numerator",
        "denominator",
        "success",
        "start",
        "outcome",
        "unit",
        "better",
        "target",
        "label",
        "window_days",
        "nonsense",
    ]);
    let metric = (kind, proptest::collection::vec((key, value(), any::<bool>()), 0..7));
    proptest::collection::vec(metric, 1..5).prop_map(|metrics| {
        let mut text = String::new();
        for (idx, (kind, pairs)) in metrics.iter().enumerate() {
            // m0…m3, and now and then a built-in's name, which a definition may replace.
            let name = if idx == 3 { "win_rate".to_owned() } else { format!("m{idx}") };
            text.push_str(&format!("[metric.{name}]\nkind = \"{kind}\"\n"));
            let mut seen = vec!["kind"];
            for (key, value, as_number) in pairs {
                if seen.contains(key) {
                    continue;
                }
                seen.push(key);
                // A wrong TOML type now and then (a number where text is expected).
                let rhs = if *as_number { value.len().to_string() } else { quoted(value) };
                text.push_str(&format!("{key} = {rhs}\n"));
            }
        }
        text
    })
}

/// A query string's pairs: known and unknown names, good and bad values.
fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let key = select(vec!["from", "to", "grain", "by", "where", "compare", "at", "limit", ""]);
    let val = prop_oneof![
        select(vec![
            "2026-03-01",
            "2026-01-01",
            "2027-01-01",
            "2026-03-01T10:00:00Z",
            "2026-02-30",
            "9999-12-31",
            "-0001-01-01",
            "day",
            "week",
            "month",
            "hour",
            "all",
            "fortnight",
            "owner",
            "owner,team",
            "owner,owner",
            "stage",
            "nothing",
            "previous_period",
            "previous_year",
            "status = 'won'",
            "amount > 1e400",
            "owner_id = 'u1' or 1 = 1",
            "'; drop table deals; --",
            "",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,16}",
    ];
    proptest::collection::vec((key.prop_map(str::to_owned), val), 0..8)
}

proptest! {
    #![proptest_config(config())]

    /// Any definitions file is checked into a catalog or diagnostics naming their definition.
    #[test]
    fn any_definitions_file_is_checked_never_a_panic(text in definitions()) {
        if let Err(diagnostics) = Catalog::load(&text) {
            prop_assert!(!diagnostics.0.is_empty());
            for d in &diagnostics.0 {
                prop_assert!(!d.definition.is_empty() && !d.message.is_empty(), "{d}");
            }
        }
    }

    /// Any text as a definitions file is refused with a message, never a panic.
    #[test]
    fn any_text_as_definitions_never_panics(text in "\\PC{0,160}") {
        if let Err(diagnostics) = Catalog::load(&text) {
            prop_assert!(!diagnostics.0.is_empty());
        }
    }

    /// Any parameters are a query or a message naming what is wrong; a query read so runs on a
    /// database (empty here) or is refused as input, never a panic or a database error.
    #[test]
    fn any_query_parameters_are_read_and_run_or_refused(
        metric in select(vec!["revenue_won", "win_rate", "activities", "lead_response_time", "stock_on_hand", "customer_churn_rate", "nope"]),
        pairs in pairs(),
    ) {
        let zone = jiff::tz::TimeZone::UTC;
        let now = 1_772_442_000_000_000;
        match params::metric_query(metric, &pairs, &zone, now) {
            Err(e) => prop_assert!(
                matches!(e, Error::Input(ref m) if !m.to_string().is_empty()),
                "{e:?}"
            ),
            Ok(query) => {
                let dir = tempfile::tempdir().unwrap();
                let store = traction_store::open(&dir.path().join("t.db")).unwrap();
                let catalog = Catalog::builtin();
                match crate::run(&*store, &catalog, &query) {
                    Ok(_) => {}
                    Err(Error::Input(m)) => prop_assert!(!m.to_string().is_empty()),
                    Err(Error::NotFound(m)) => prop_assert!(!m.is_empty()),
                    Err(e) => prop_assert!(false, "{pairs:?}: {e}"),
                }
            }
        }
        let _ = params::funnel_query(&pairs, &zone, now);
    }
}
