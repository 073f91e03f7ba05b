//! Query semantics (metrics.md, Query semantics): buckets in the workspace zone across daylight
//! saving, empty buckets, comparisons across a leap day, `where`, dimensions, and the JSON shape.

use traction_metrics::Filter;
use traction_metrics::{Compare, Grain, run};

use crate::fixture::{Fx, close};

#[test]
fn days_are_local_days_on_the_23_hour_day() {
    let fx = Fx::new("Europe/London");
    // London springs forward on 29 March 2026 (01:00 GMT → 02:00 BST): that day has 23 hours.
    // 00:30 local = 00:30Z, 23:30 local = 22:30Z; 30 March 00:30 local = 29 March 23:30Z, which a
    // UTC day would wrongly put on the 29th.
    fx.import(
        "activities",
        "id,kind,occurred_at,owner_id\n\
         x1,call,2026-03-29 00:30,u1\n\
         x2,call,2026-03-29 23:30,u1\n\
         x3,call,2026-03-30 00:30,u1\n\
         x4,call,2026-04-01 12:00,u1\n",
    );
    assert_eq!(
        fx.series("calls_made", "2026-03-28", "2026-04-02", Grain::Day),
        [
            ("2026-03-29".into(), Some(2.0)),
            ("2026-03-30".into(), Some(1.0)),
            ("2026-04-01".into(), Some(1.0))
        ]
    );
    // Empty buckets (28 and 31 March) have no row. By hour, the 29th has 23 buckets; 23:30 BST
    // falls in the local hour 23.
    let hours = fx.series("calls_made", "2026-03-29", "2026-03-30", Grain::Hour);
    assert_eq!(
        hours,
        [("2026-03-29T00:00".into(), Some(1.0)), ("2026-03-29T23:00".into(), Some(1.0))]
    );
    assert_eq!(
        fx.by("calls_made", "2026-03-29", "2026-03-31", &["hour_of_day"]),
        [("0".into(), Some(2.0)), ("23".into(), Some(1.0))]
    );
}

#[test]
fn the_repeated_hour_is_two_buckets_labelled_with_their_offsets() {
    let fx = Fx::new("Europe/London");
    // 25 October 2026: 01:00–02:00 happens twice, first at +01:00, then at +00:00.
    fx.import(
        "activities",
        "id,kind,occurred_at,owner_id\n\
         y1,call,2026-10-25T01:30:00+01:00,u1\n\
         y2,call,2026-10-25T01:10:00+00:00,u1\n\
         y3,call,2026-10-25T01:50:00+00:00,u1\n",
    );
    assert_eq!(
        fx.series("calls_made", "2026-10-25", "2026-10-26", Grain::Hour),
        [
            ("2026-10-25T01:00+01:00".into(), Some(1.0)),
            ("2026-10-25T01:00+00:00".into(), Some(2.0))
        ]
    );
    // The 25-hour day is one day bucket.
    assert_eq!(
        fx.series("calls_made", "2026-10-25", "2026-10-26", Grain::Day),
        [("2026-10-25".into(), Some(3.0))]
    );
}

#[test]
fn weeks_quarters_and_a_range_that_cuts_into_a_bucket() {
    let fx = Fx::new("UTC");
    fx.import("activities", crate::activities::ACTIVITIES);
    // Weeks start on Monday: 2 March 2026 is a Monday. Calls made: a1, a2 (2 Mar), a3 (3 Mar).
    assert_eq!(
        fx.series("calls_made", "2026-03-01", "2026-04-01", Grain::Week),
        [("2026-03-02".into(), Some(3.0))]
    );
    // From 3 March only a3 counts, but the row is labelled with the quarter's first day.
    assert_eq!(
        fx.series("calls_made", "2026-03-03", "2026-04-01", Grain::Quarter),
        [("2026-01-01".into(), Some(1.0))]
    );
    assert_eq!(
        fx.series("activities", "2026-03-01", "2026-04-01", Grain::Year),
        [("2026-01-01".into(), Some(15.0))]
    );
}

#[test]
fn year_over_year_across_a_leap_day() {
    let fx = Fx::new("UTC");
    // 1 lead on Wednesday 24 Feb 2027, 2 on 28 Feb 2027, 3 on 28 Feb 2028, 4 on 29 Feb 2028.
    let mut csv = String::from("id,created_at,source\n");
    for (day, n) in [("2027-02-24", 1), ("2027-02-28", 2), ("2028-02-28", 3), ("2028-02-29", 4)] {
        for k in 0..n {
            csv.push_str(&format!("{day}-{k},{day} 12:00,web\n"));
        }
    }
    fx.import("leads", &csv);
    // A year before 29 Feb 2028 is 28 Feb 2027 (the day is constrained, as in Temporal), so both
    // days of 2028 compare with 2: changes 3/2 − 1 = 0.5 and 4/2 − 1 = 1.
    let res = fx.compare("leads_created", "2028-02-28", "2028-03-01", Grain::Day, Compare::Yoy);
    let rows: Vec<_> = res
        .rows
        .iter()
        .map(|r| (r.period.clone().unwrap(), r.value, r.previous, r.change))
        .collect();
    assert_eq!(
        rows,
        [
            ("2028-02-28".into(), Some(3.0), Some(2.0), Some(0.5)),
            ("2028-02-29".into(), Some(4.0), Some(2.0), Some(1.0)),
        ]
    );
    // By week, a year back lands mid-week and the whole ISO week is compared: the week of
    // Monday 28 Feb 2028 holds 7 leads; a year before its Monday is Sunday 28 Feb 2027, in the
    // week of Monday 22 Feb 2027, which holds 1 + 2 leads.
    let res = fx.compare("leads_created", "2028-02-28", "2028-03-06", Grain::Week, Compare::Yoy);
    assert_eq!(
        (res.rows[0].period.as_deref(), res.rows[0].value, res.rows[0].previous),
        (Some("2028-02-28"), Some(7.0), Some(3.0))
    );
    // By month: February 2028 (7) against February 2027 (3).
    let res = fx.compare("leads_created", "2028-02-01", "2028-03-01", Grain::Month, Compare::Yoy);
    assert_eq!(res.rows[0].previous, Some(3.0));
    close(res.rows[0].change, 7.0 / 3.0 - 1.0);
}

#[test]
fn previous_compares_with_the_whole_bucket_before() {
    let fx = crate::deals::fx();
    // Won by month: February none (a count of 0, so no change can be computed), March 3.
    let res = fx.compare("deals_won", "2026-03-01", "2026-04-01", Grain::Month, Compare::Previous);
    assert_eq!(
        (res.rows[0].value, res.rows[0].previous, res.rows[0].change),
        (Some(3.0), Some(0.0), None)
    );
    // A ratio over nothing is null, not 0: February has no closed deals.
    let res = fx.compare("win_rate", "2026-03-01", "2026-04-01", Grain::Month, Compare::Previous);
    assert_eq!((res.rows[0].previous, res.rows[0].change), (None, None));
    // Deals created: March 5 (d3, d4, d5, d7, d8) vs February 2 (d2, d6): change 1.5. The range
    // starts mid-March, cutting March to d5, d7, d8, but February is compared whole.
    let res =
        fx.compare("deals_created", "2026-03-06", "2026-04-01", Grain::Month, Compare::Previous);
    assert_eq!((res.rows[0].value, res.rows[0].previous), (Some(3.0), Some(2.0)));
    close(res.rows[0].change, 0.5);
    // Grain all over whole months compares with the same number of months before.
    let res =
        fx.compare("deals_created", "2026-03-01", "2026-04-01", Grain::All, Compare::Previous);
    assert_eq!((res.rows[0].previous, res.rows[0].change), (Some(2.0), Some(1.5)));
}

#[test]
fn bad_queries_are_clear_errors() {
    let fx = crate::deals::fx();
    let err = |f: &dyn Fn(&mut traction_metrics::Query)| {
        let mut q = fx.query("win_rate", "2026-03-01", "2026-04-01", Grain::Month);
        f(&mut q);
        run(&*fx.store, &fx.catalog, &q).unwrap_err().to_string()
    };
    assert_eq!(
        err(&|q| q.filter = Filter::parse("amount > 10 and ownr = 'u1'").unwrap()),
        "where: 1:17: unknown field \"ownr\" on deals; fields are id, name, pipeline_id, stage_id, account_id, owner_id, amount, created_at, expected_close_on, closed_at, status, lost_reason, competitor, source, campaign_id, deal_type, contract_months, owner, team, pipeline, stage, campaign, segment, industry, region, account, origin, medium"
    );
    // A `where` that does not parse is refused where it is read, before any query.
    assert_eq!(
        traction_metrics::Error::from(Filter::parse("amount >").unwrap_err()).to_string(),
        "where: 1:9: expected a field, a value or (, found the end"
    );
    assert_eq!(
        err(&|q| q.by = vec!["kind".into()]),
        "by: \"kind\" does not apply to win_rate; the dimensions that do are owner, team, pipeline, stage, status, source, campaign, deal_type, lost_reason, competitor, segment, industry, region, account, origin, medium, weekday, hour_of_day"
    );
    assert_eq!(
        err(&|q| q.metric = "win".into()),
        "no metric named \"win\": did you mean win_rate, win_rate_by_value, opportunity_to_win_rate?"
    );
    assert_eq!(
        err(&|q| q.to = q.from),
        "the range is empty: the start (from) must be before the end (to)"
    );
    assert!(err(&|q| q.metric = "funnel".into()).contains("traction funnel"));
}

/// The figures behind the JSON shape of interfaces.md (the shape itself is the server's,
/// `traction_server::wire`, tested there).
#[test]
fn the_json_shape_of_interfaces_md() {
    let fx = crate::deals::fx();
    let mut q = fx.query("win_rate", "2026-03-01", "2026-05-01", Grain::Month);
    q.by = vec!["owner".into()];
    let res = fx.run(&q);
    // March: u1 won d1, d2 of 2 closed; u2 won d6 of d3, d4, d6. April: u1 lost d7.
    assert_eq!(
        (res.metric.as_str(), res.unit.name(), res.better.name()),
        ("win_rate", "ratio", "higher")
    );
    assert_eq!(
        (res.from.as_str(), res.to.as_str(), res.grain.name()),
        ("2026-03-01", "2026-05-01", "month")
    );
    assert_eq!(res.by, ["owner"]);
    assert!(res.ratio && res.compare.is_none());
    let rows: Vec<_> = res
        .rows
        .iter()
        .map(|r| (r.period.as_deref(), r.dims[0].text(), r.value, r.numerator, r.denominator))
        .collect();
    assert_eq!(
        rows,
        [
            (Some("2026-03-01"), "u1".to_string(), Some(1.0), Some(2.0), Some(2.0)),
            (Some("2026-03-01"), "u2".to_string(), Some(1.0 / 3.0), Some(1.0), Some(3.0)),
            (Some("2026-04-01"), "u1".to_string(), Some(0.0), Some(0.0), Some(1.0)),
        ]
    );
    // Money in major units; grain all has no period.
    let res = fx.run(&fx.query("revenue_won", "2026-03-01", "2026-04-01", Grain::All));
    assert_eq!(res.rows.len(), 1);
    assert_eq!((res.rows[0].period.as_deref(), res.rows[0].value), (None, Some(14000.0)));
    assert!(res.rows[0].dims.is_empty());
}

#[test]
fn user_definitions_run_like_builtin_ones() {
    let mut fx = crate::deals::fx();
    fx.catalog = traction_metrics::Catalog::load(
        r#"
[metric.big_deals_won]
label = "Big deals won"
kind = "aggregate"
source = "deals"
time = "closed_at"
measure = "count"
filter = "status = 'won' and amount >= 2500"
unit = "count"
better = "higher"

[metric.big_share]
label = "Share of wins that are big"
kind = "derived"
expr = "big_deals_won / deals_won * 100"
unit = "percent"
better = "higher"

[metric.p90_deal]
label = "p90 deal size"
kind = "aggregate"
source = "deals"
time = "closed_at"
measure = "percentile"
p = 0.9
of = "amount"
filter = "status = 'won'"
unit = "money"
better = "higher"
"#,
    )
    .unwrap();
    // Big wins in March: d2 (3,000) and d6 (10,000) of 3 wins → 66.67 %.
    close(fx.value("big_deals_won", "2026-03-01", "2026-04-01"), 2.0);
    close(fx.value("big_share", "2026-03-01", "2026-04-01"), 200.0 / 3.0);
    // Won amounts 1,000, 3,000, 10,000: p90 at position 0.9 × 2 = 1.8 → 3,000 + 0.8 × 7,000.
    close(fx.value("p90_deal", "2026-03-01", "2026-04-01"), 8600.0);
}

#[test]
fn user_text_never_becomes_sql() {
    let fx = crate::deals::fx();
    // Text that would break out of a string in pasted SQL is only ever a parameter's value: the
    // query runs, matches no competitor, and the table is still there.
    let mut q = fx.query("deals_lost", "2026-03-01", "2026-04-01", Grain::All);
    q.filter = Filter::parse("competitor = 'x''; DROP TABLE deals; --' or competitor in ('acme')")
        .unwrap();
    // d3 and d4 were lost to acme.
    close(fx.run(&q).rows[0].value, 2.0);
    close(fx.value("deals_created", "2026-03-01", "2026-04-01"), 5.0);
    // A name is never taken as SQL either: only the fields of the schema are known.
    q.filter = Filter::parse("sqlite_master = 1").unwrap();
    let err = run(&*fx.store, &fx.catalog, &q).unwrap_err().to_string();
    assert!(err.starts_with("where: 1:1: unknown field \"sqlite_master\" on deals"), "{err}");
}

#[test]
fn date_fields_fall_at_their_local_midnight() {
    let fx = Fx::new("Europe/London");
    // Web visits are kept per local day: at hour grain they land in the hour of local midnight;
    // 29 March 2026 is a Sunday (weekday 7), 30 March a Monday (1).
    fx.import(
        "web_visits",
        "day,source,visitors\n2026-03-29,web,10\n2026-03-30,web,5\n2026-03-30,ads,1\n",
    );
    assert_eq!(
        fx.series("web_visitors", "2026-03-29", "2026-03-31", Grain::Hour),
        [("2026-03-29T00:00".into(), Some(10.0)), ("2026-03-30T00:00".into(), Some(6.0))]
    );
    assert_eq!(
        fx.by("web_visitors", "2026-03-29", "2026-03-31", &["weekday"]),
        [("1".into(), Some(6.0)), ("7".into(), Some(10.0))]
    );
    assert_eq!(
        fx.series("web_visitors", "2026-03-01", "2026-05-01", Grain::Month),
        [("2026-03-01".into(), Some(16.0))]
    );
    // A range starting at 12:00 on the 29th excludes that day's visits (its midnight is before).
    assert_eq!(fx.value("web_visitors", "2026-03-29 12:00", "2026-03-31"), Some(6.0));
}

/// Issue 22.1: a bucket that holds the clock is compared with the same stretch of the bucket it
/// is compared with (spec: web-design.md), not with the whole of it.
#[test]
fn issue_22_a_period_in_progress_is_compared_like_for_like() {
    let fx = Fx::new("Europe/London");
    // The clock: Thursday 3 December 2026 at 15:00 (London is on GMT in December).
    let csv = "id,created_at,source\n\
        n1,2026-11-01 09:00,web\nn2,2026-11-03 14:59,web\nn3,2026-11-03 15:00,web\n\
        n4,2026-11-20 10:00,web\nn5,2026-11-24 10:00,web\nn6,2026-11-26 16:00,web\n\
        d1,2026-12-01 10:00,web\nd2,2026-12-02 11:00,web\nd3,2026-12-03 09:00,web\n\
        y1,2025-12-02 10:00,web\ny2,2025-12-02 11:00,web\ny3,2025-12-03 16:00,web\n\
        f1,2027-02-27 10:00,web\nf2,2027-02-28 23:00,web\nm1,2027-03-30 10:00,web\n";
    fx.import("leads", csv);
    let at = fx.at("2026-12-03 15:00");
    let ask = |from: &str, to: &str, grain: Grain, compare: Compare, at: i64| {
        let mut q = fx.query("leads_created", from, to, grain);
        q.compare = Some(compare);
        q.at = at;
        fx.run(&q)
    };
    let one = |res: &traction_metrics::MetricResult, period: Option<&str>| {
        let row = res.rows.iter().find(|r| r.period.as_deref() == period).unwrap();
        let c = row.compared.as_ref().unwrap();
        (row.value, row.previous, c.from_text.clone(), c.to_text.clone())
    };
    // December so far (d1, d2, d3: 3) against 1 November 00:00 → 3 November 15:00 (n1, n2: 2;
    // n3 is at 15:00, outside), not against the whole of November (6).
    let res = ask("2026-12-01", "2027-01-01", Grain::Month, Compare::Previous, at);
    assert_eq!(
        one(&res, Some("2026-12-01")),
        (Some(3.0), Some(2.0), "2026-11-01".into(), "2026-11-03T15:00:00+00:00".into())
    );
    close(res.rows[0].change, 0.5);
    // By a dimension, each row against its own stretch: web 3 against 2.
    let mut q = fx.query("leads_created", "2026-12-01", "2027-01-01", Grain::Month);
    q.compare = Some(Compare::Previous);
    q.at = at;
    q.by = vec!["source".into()];
    let res = fx.run(&q);
    assert_eq!(
        (res.rows.len(), res.rows[0].value, res.rows[0].previous),
        (1, Some(3.0), Some(2.0))
    );
    // The same at grain all (what the report and the dashboard ask for).
    let res = ask("2026-12-01", "2027-01-01", Grain::All, Compare::Previous, at);
    assert_eq!(
        one(&res, None),
        (Some(3.0), Some(2.0), "2026-11-01".into(), "2026-11-03T15:00:00+00:00".into())
    );
    // A year ago, the same dates: 1 December 2025 → 3 December 2025 15:00 (y1, y2; y3 is later).
    let res = ask("2026-12-01", "2027-01-01", Grain::Month, Compare::Yoy, at);
    assert_eq!(
        one(&res, Some("2026-12-01")),
        (Some(3.0), Some(2.0), "2025-12-01".into(), "2025-12-03T15:00:00+00:00".into())
    );
    let res = ask("2026-12-01", "2027-01-01", Grain::All, Compare::Yoy, at);
    assert_eq!(one(&res, None).1, Some(2.0));
    // Whole past buckets keep comparing whole buckets: November (n1–n6: 6) against the whole of
    // October (none: 0), December like for like in the same answer.
    let res = ask("2026-11-01", "2027-01-01", Grain::Month, Compare::Previous, at);
    assert_eq!(
        one(&res, Some("2026-11-01")),
        (Some(6.0), Some(0.0), "2026-10-01".into(), "2026-11-01".into())
    );
    assert_eq!(one(&res, Some("2026-12-01")).1, Some(2.0));
    // The week of Monday 30 November so far (d1, d2, d3) against Monday 23 November → Thursday
    // 26 November 15:00 (n5; n6 is at 16:00).
    let res = ask("2026-11-30", "2026-12-07", Grain::Week, Compare::Previous, at);
    assert_eq!(
        one(&res, Some("2026-11-30")),
        (Some(3.0), Some(1.0), "2026-11-23".into(), "2026-11-26T15:00:00+00:00".into())
    );
    // Today so far (d3) against yesterday up to 15:00 (d2 at 11:00).
    let res = ask("2026-12-03", "2026-12-04", Grain::Day, Compare::Previous, at);
    assert_eq!(
        one(&res, Some("2026-12-03")),
        (Some(1.0), Some(1.0), "2026-12-02".into(), "2026-12-02T15:00:00+00:00".into())
    );
    // On 31 March at 15:00 the stretch of February is clamped at its end: the whole of February
    // (f1, f2), up to 1 March 00:00.
    let res =
        ask("2027-03-01", "2027-04-01", Grain::Month, Compare::Previous, fx.at("2027-03-31 15:00"));
    assert_eq!(
        one(&res, Some("2027-03-01")),
        (Some(1.0), Some(2.0), "2027-02-01".into(), "2027-03-01".into())
    );
}
