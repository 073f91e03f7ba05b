//! A target broken down by week, day or hour, for its scope and per head (spec: kpis.md,
//! Breakdown; interfaces.md, Breakdown).

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use traction_domain::time::Micros;

use crate::period::{Grain, buckets};
use crate::split::Weights;

/// One bucket's share of the target.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub period: String,
    pub value: f64,
}

/// The target of every bucket of `grain` overlapping the period `[start, end)`. Only the part of
/// a bucket inside the period counts; buckets without working time appear with 0.
pub fn breakdown(
    value: f64,
    weights: &Weights,
    period: (Micros, Micros),
    grain: Grain,
    zone: &TimeZone,
) -> Result<Vec<Row>, traction_metrics::Error> {
    let (start, end) = period;
    Ok(buckets(grain, start, end, zone)?
        .into_iter()
        .map(|b| Row {
            period: b.label,
            value: weights.share_of(value, b.start.max(start), b.end.min(end)),
        })
        .collect())
}

/// Each head's share of a scope's target: heads with a target of their own (same metric and
/// period) keep it; the rest of the scope's value is shared equally among the others.
pub fn per_head(
    scope_value: f64,
    heads: &[String],
    own: &BTreeMap<String, f64>,
) -> Vec<(String, f64)> {
    let with_own: Vec<&String> = heads.iter().filter(|h| own.contains_key(*h)).collect();
    let taken: f64 = with_own.iter().map(|h| own[*h]).sum();
    let others = heads.len() - with_own.len();
    let each = if others == 0 { 0.0 } else { (scope_value - taken) / others as f64 };
    heads.iter().map(|h| (h.clone(), own.get(h).copied().unwrap_or(each))).collect()
}

/// The scope's target per bucket from a breakdown's rows: per-head rows (several per bucket)
/// summed by bucket, a scope's rows (one per bucket) as they are. Meant for an accumulating
/// target; a level's buckets each hold the level itself and do not add up.
pub fn totals_by_period(rows: &[crate::service::BreakdownRow]) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for r in rows {
        *out.entry(r.period.clone()).or_insert(0.0) += r.value;
    }
    out
}

#[cfg(test)]
mod tests {
    use jiff::civil::Date;

    use super::*;
    use crate::calendar::Calendar;
    use crate::period::{PeriodKind, period_range};

    fn november(holidays: &str) -> (Calendar, (Micros, Micros)) {
        let cal =
            Calendar::from_settings(TimeZone::UTC, "mon,tue,wed,thu,fri", "09:00-17:00", holidays)
                .unwrap();
        let period =
            period_range(PeriodKind::Month, Date::constant(2026, 11, 1), &cal.zone).unwrap();
        (cal, period)
    }

    // spec: kpis.md, worked example. 84,000 over November 2026, Mon–Fri 09:00–17:00: 21 working
    // days, 168 hours → 500 an hour and 4,000 a working day for the team; the week of Monday
    // 2 November has 5 working days → 20,000; 4 reps → 125 a rep-hour, 1,000 a rep-day.
    #[test]
    fn the_worked_example_holds_exactly() {
        let (cal, period) = november("");
        let w = Weights::calendar(&cal, period.0, period.1);
        let days = breakdown(84_000.0, &w, period, Grain::Day, &cal.zone).unwrap();
        assert_eq!(days.len(), 30);
        assert_eq!(days[0], Row { period: "2026-11-01".into(), value: 0.0 }, "a Sunday");
        assert_eq!(days[1], Row { period: "2026-11-02".into(), value: 4_000.0 });
        assert_eq!(days.iter().filter(|d| d.value == 4_000.0).count(), 21);
        let weeks = breakdown(84_000.0, &w, period, Grain::Week, &cal.zone).unwrap();
        assert_eq!(
            weeks[0],
            Row { period: "2026-10-26".into(), value: 0.0 },
            "1 November is a Sunday"
        );
        assert_eq!(weeks[1], Row { period: "2026-11-02".into(), value: 20_000.0 });
        let hours = breakdown(84_000.0, &w, period, Grain::Hour, &cal.zone).unwrap();
        assert_eq!(hours.len(), 30 * 24);
        assert_eq!(hours.iter().find(|h| h.period == "2026-11-02T09:00").unwrap().value, 500.0);
        assert_eq!(hours.iter().find(|h| h.period == "2026-11-02T17:00").unwrap().value, 0.0);
        assert_eq!(hours.iter().map(|h| h.value).sum::<f64>(), 84_000.0);
        let heads: Vec<String> = (1..=4).map(|i| format!("u{i}")).collect();
        let shares = per_head(84_000.0, &heads, &BTreeMap::new());
        assert!(shares.iter().all(|(_, v)| *v == 21_000.0));
        // A rep's hour: 21,000 × 3,600 / 604,800 = 125; a rep's day: 1,000.
        let at = |t: &str| traction_domain::time::parse_instant(t, &TimeZone::UTC).unwrap();
        assert_eq!(w.share_of(21_000.0, at("2026-11-02T09:00Z"), at("2026-11-02T10:00Z")), 125.0);
        assert_eq!(w.share_of(21_000.0, at("2026-11-02"), at("2026-11-03")), 1_000.0);
    }

    // With 26 November a holiday: 20 days, 160 hours, 84,000 / 160 = 525 an hour.
    #[test]
    fn a_holiday_moves_its_share_to_the_other_days() {
        let (cal, period) = november("2026-11-26");
        let w = Weights::calendar(&cal, period.0, period.1);
        let hours = breakdown(84_000.0, &w, period, Grain::Hour, &cal.zone).unwrap();
        assert_eq!(hours.iter().find(|h| h.period == "2026-11-02T09:00").unwrap().value, 525.0);
        assert_eq!(hours.iter().find(|h| h.period == "2026-11-26T10:00").unwrap().value, 0.0);
        let days = breakdown(84_000.0, &w, period, Grain::Day, &cal.zone).unwrap();
        assert_eq!(days.iter().find(|d| d.period == "2026-11-27").unwrap().value, 4_200.0);
    }

    #[test]
    fn user_targets_take_their_own_share() {
        // A team target of 84,000 for 4 reps, one of whom has her own target of 30,000: the other
        // three share 54,000 → 18,000 each.
        let heads: Vec<String> = (1..=4).map(|i| format!("u{i}")).collect();
        let own = BTreeMap::from([("u2".to_string(), 30_000.0)]);
        let shares = per_head(84_000.0, &heads, &own);
        assert_eq!(shares[1], ("u2".to_string(), 30_000.0));
        assert_eq!(shares[0].1, 18_000.0);
        assert_eq!(shares[3].1, 18_000.0);
    }

    #[test]
    fn an_even_split_spreads_over_all_hours() {
        let (cal, period) = november("");
        let w = Weights::even(period.0, period.1);
        let days = breakdown(84_000.0, &w, period, Grain::Day, &cal.zone).unwrap();
        assert_eq!(days[0].value, 2_800.0, "84,000 / 30 days");
    }

    #[test]
    fn per_head_rows_add_up_to_the_scope_by_bucket() {
        use crate::service::BreakdownRow;
        let row = |period: &str, user: Option<&str>, value: f64| BreakdownRow {
            period: period.into(),
            user: user.map(str::to_string),
            value,
        };
        // Two heads over two days: 1,000 + 3,000 on the 2nd, 0 + 500 on the 3rd.
        let heads = [
            row("2026-11-02", Some("ann"), 1_000.0),
            row("2026-11-02", Some("bob"), 3_000.0),
            row("2026-11-03", Some("ann"), 0.0),
            row("2026-11-03", Some("bob"), 500.0),
        ];
        let totals = totals_by_period(&heads);
        assert_eq!(totals.len(), 2);
        assert_eq!(totals["2026-11-02"], 4_000.0);
        assert_eq!(totals["2026-11-03"], 500.0);
        // A scope's rows, one per bucket, come back as they are.
        let scope = [row("2026-11-02", None, 4_000.0), row("2026-11-03", None, 500.0)];
        assert_eq!(totals_by_period(&scope), totals);
        assert!(totals_by_period(&[]).is_empty());
    }
}
