//! Deals and pipeline (metrics.md), except the funnel (funnel.rs).

use traction_metrics::Filter;
use traction_metrics::Grain;

use crate::fixture::{Fx, close};

/// Deals (UTC), on pipeline p1 of the base fixture:
///
/// | deal | amount | created | closed | stage | type | competitor | account | months |
/// | d1 | 1,000 | 10 Jan | 10 Mar | won | new_business | | a1 smb | 12 |
/// | d2 | 3,000 | 1 Feb | 20 Mar | won | upsell | | a2 ent | 24 |
/// | d3 | 2,000 | 1 Mar | 15 Mar | lost | | acme | a1 smb | |
/// | d4 | 500 | 5 Mar | 25 Mar | lost | | acme | a1 smb | |
/// | d5 | 4,000 | 10 Mar | open | s2 | | | a2 ent | |
/// | d6 | 10,000 | 15 Feb | 28 Mar | won | cross_sell | | a2 ent | |
/// | d7 | 700 | 20 Mar | 5 Apr | lost | | | | |
/// | d8 | 800 | 25 Mar | open | s1 (no history) | | | | |
const DEALS: &str = "\
id,pipeline_id,stage_id,owner_id,account_id,amount,created_at,closed_at,deal_type,competitor,contract_months
d1,p1,won,u1,a1,1000,2026-01-10,2026-03-10,new_business,,12
d2,p1,won,u1,a2,3000,2026-02-01,2026-03-20,upsell,,24
d3,p1,lost,u2,a1,2000,2026-03-01,2026-03-15,new_business,acme,
d4,p1,lost,u2,a1,500,2026-03-05,2026-03-25,new_business,acme,
d5,p1,s2,u1,a2,4000,2026-03-10,,new_business,,
d6,p1,won,u2,a2,10000,2026-02-15,2026-03-28,cross_sell,,
d7,p1,lost,u1,,700,2026-03-20,2026-04-05,new_business,,
d8,p1,s1,u2,,800,2026-03-25,,new_business,,
";

/// Histories: d1 s1 → s2 (20 Jan) → won (10 Mar); d5 s1 (10 Mar) → s2 (12 Mar);
/// d7 s1 (20 Mar) → s3 (25 Mar) → lost (5 Apr). Others have none.
const HISTORY: &str = "\
deal_id,stage_id,changed_at
d1,s1,2026-01-10
d1,s2,2026-01-20
d1,won,2026-03-10
d5,s1,2026-03-10
d5,s2,2026-03-12
d7,s1,2026-03-20
d7,s3,2026-03-25
d7,lost,2026-04-05
";

pub fn fx() -> Fx {
    let fx = Fx::new("UTC");
    fx.import("deals", DEALS);
    fx.import("stage_changes", HISTORY);
    fx
}

const MAR: (&str, &str) = ("2026-03-01", "2026-04-01");

#[test]
fn counts_of_created_won_lost_closed() {
    let fx = fx();
    // Created in March: d3, d4, d5, d7, d8. Closed in March: won d1, d2, d6; lost d3, d4.
    close(fx.value("deals_created", MAR.0, MAR.1), 5.0);
    close(fx.value("deals_won", MAR.0, MAR.1), 3.0);
    close(fx.value("deals_lost", MAR.0, MAR.1), 2.0);
    close(fx.value("deals_closed", MAR.0, MAR.1), 5.0);
    // 3 won of 5 closed.
    close(fx.value("win_rate", MAR.0, MAR.1), 0.6);
    let res = fx.run(&fx.query("win_rate", MAR.0, MAR.1, Grain::Month));
    assert_eq!((res.rows[0].numerator, res.rows[0].denominator), (Some(3.0), Some(5.0)));
}

#[test]
fn revenue_and_deal_size() {
    let fx = fx();
    // Won: 1,000 + 3,000 + 10,000 = 14,000; closed: 14,000 + 2,000 + 500 = 16,500.
    close(fx.value("revenue_won", MAR.0, MAR.1), 14000.0);
    close(fx.value("win_rate_by_value", MAR.0, MAR.1), 14000.0 / 16500.0);
    close(fx.value("average_deal_size", MAR.0, MAR.1), 14000.0 / 3.0);
    // Upsell 3,000 + cross-sell 10,000.
    close(fx.value("expansion_revenue", MAR.0, MAR.1), 13000.0);
    // New business 1,000 of 14,000.
    close(fx.value("new_business_share", MAR.0, MAR.1), 1000.0 / 14000.0);
    // Contract months of won deals that have them: 12 and 24.
    close(fx.value("average_contract_months", MAR.0, MAR.1), 18.0);
}

#[test]
fn the_trimmed_mean_drops_outliers_within_each_row() {
    let fx = Fx::new("UTC");
    // Won amounts 10, 12, 14, 16, 100: Q1 = 12, Q3 = 16, IQR = 4, fences [6, 22] drop 100;
    // the mean of the rest is 13 (the plain mean is 30.4).
    let mut csv = String::from("id,pipeline_id,stage_id,owner_id,amount,created_at,closed_at\n");
    for (idx, amount) in [10, 12, 14, 16, 100].iter().enumerate() {
        csv.push_str(&format!("t{idx},p1,won,u1,{amount},2026-05-01,2026-05-0{}\n", idx + 2));
    }
    fx.import("deals", &csv);
    close(fx.value("average_deal_size_trimmed", "2026-05-01", "2026-06-01"), 13.0);
    close(fx.value("average_deal_size", "2026-05-01", "2026-06-01"), 30.4);
}

#[test]
fn sales_cycle_in_days() {
    let fx = fx();
    // Won in March: d1 10 Jan → 10 Mar = 59 days, d2 1 Feb → 20 Mar = 47, d6 15 Feb → 28 Mar = 41.
    close(fx.value("sales_cycle_days", MAR.0, MAR.1), (59.0 + 47.0 + 41.0) / 3.0);
    close(fx.value("sales_cycle_days_median", MAR.0, MAR.1), 47.0);
}

#[test]
fn losses_to_competitors() {
    let fx = fx();
    // d3 and d4 lost to acme, both at account a1 (d7 was lost to nobody named).
    close(fx.value("deals_lost_to_competitor", MAR.0, MAR.1), 2.0);
    close(fx.value("accounts_lost_to_competitor", MAR.0, MAR.1), 1.0);
}

#[test]
fn opportunity_to_win_is_a_cohort_by_creation() {
    let fx = fx();
    // Created before March: d1, d2, d6 — all won by now.
    close(fx.value("opportunity_to_win_rate", "2026-01-01", MAR.0), 1.0);
    // On 15 March only d1 (won 10 Mar) had been won: 1 / 3.
    close(fx.value_at("opportunity_to_win_rate", "2026-01-01", MAR.0, "2026-03-15"), 1.0 / 3.0);
    // Created in March: none won.
    close(fx.value("opportunity_to_win_rate", MAR.0, MAR.1), 0.0);
}

#[test]
fn pipeline_snapshots_at_each_bucket_end() {
    let fx = fx();
    // End of February (1 Mar 00:00): d1, d2, d6 are open (d3 created exactly then is not
    // "created before"): 14,000 in 3 deals. End of March (1 Apr): d5 (4,000), d7 (closed 5 Apr,
    // 700), d8 (800): 5,500 in 3 deals.
    let feb_mar = ("2026-02-01", "2026-04-01");
    assert_eq!(
        fx.series("open_pipeline_value", feb_mar.0, feb_mar.1, Grain::Month),
        [("2026-02-01".into(), Some(14000.0)), ("2026-03-01".into(), Some(5500.0))]
    );
    assert_eq!(
        fx.series("open_deals", feb_mar.0, feb_mar.1, Grain::Month),
        [("2026-02-01".into(), Some(3.0)), ("2026-03-01".into(), Some(3.0))]
    );
    // With the clock at 15 March, March's snapshot is taken then: created before it, not closed
    // before it: d2 3,000, d3 (closed exactly then) 2,000, d4 500, d5 4,000, d6 10,000 = 19,500.
    let mut q = fx.query("open_pipeline_value", feb_mar.0, feb_mar.1, Grain::Month);
    q.at = fx.at("2026-03-15");
    let values: Vec<_> = fx.run(&q).rows.iter().map(|r| r.value).collect();
    assert_eq!(values, [Some(14000.0), Some(19500.0)]);
}

#[test]
fn the_weighted_pipeline_uses_the_stage_at_that_instant() {
    let fx = fx();
    // On 1 April: d5 is in s2 (0.5 given) → 2,000; d7 was in s3 (lost only on 5 Apr), whose
    // probability is linear by position: third of three open stages → 3 / 4 → 525; d8 has no
    // history, so its current stage s1 (first of three → 1 / 4) → 200. Total 2,725.
    close(fx.value("weighted_pipeline_value", MAR.0, MAR.1), 2725.0);
    close(fx.value("open_pipeline_value", MAR.0, MAR.1), 5500.0);
}

#[test]
fn time_in_stage_counts_exits_in_the_bucket() {
    let fx = fx();
    // Exits in March: d5 left s1 after 2 days, d7 left s1 after 5, d1 left s2 (20 Jan → 10 Mar)
    // after 49. Mean 56 / 3; by stage s1 3.5 and s2 49. d7's exit of s3 (11 days) is in April.
    close(fx.value("time_in_stage_days", MAR.0, MAR.1), 56.0 / 3.0);
    assert_eq!(
        fx.by("time_in_stage_days", MAR.0, MAR.1, &["stage"]),
        [("s1".into(), Some(3.5)), ("s2".into(), Some(49.0))]
    );
    close(fx.value("time_in_stage_days", "2026-04-01", "2026-05-01"), 11.0);
}

#[test]
fn revenue_by_the_account_segment_and_a_where() {
    let fx = fx();
    // a2 (enterprise): d2 3,000 + d6 10,000; a1 (smb): d1 1,000. Sorted by the dimension value.
    assert_eq!(
        fx.by("revenue_won", MAR.0, MAR.1, &["segment"]),
        [("enterprise".into(), Some(13000.0)), ("smb".into(), Some(1000.0))]
    );
    let mut q = fx.query("deals_won", MAR.0, MAR.1, Grain::All);
    q.filter = Filter::parse("amount >= 5000 or team = 't1'").unwrap();
    // d6 (10,000), and d1, d2 owned by u1 of team t1.
    close(fx.run(&q).rows[0].value, 3.0);
}
