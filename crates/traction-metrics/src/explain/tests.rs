//! The arithmetic of explanations against hand-worked cases.

use super::*;

fn near(got: f64, want: f64) {
    assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "expected {want}, got {got}");
}

#[test]
fn two_factors_split_symmetrically() {
    // Deals won 31 → 27 and average deal size 400 → 500: bookings 12,400 → 13,500 (+1,100).
    // Deals: −4 × (400 + 500) / 2 = −1,800; size: +100 × (31 + 27) / 2 = +2,900.
    let parts = shapley(&[(31.0, 27.0), (400.0, 500.0)]);
    near(parts[0], -1800.0);
    near(parts[1], 2900.0);
    near(parts.iter().sum(), 1100.0);
}

#[test]
fn three_factors_average_over_the_six_orders() {
    // A 1 → 2, B 1 → 3, C 1 → 4: the product goes 1 → 24 (+23). A factor's marginal change
    // is its own change times the others as they stand, over the six orders: moving first (2
    // orders), after one other (1 order each), last (2 orders).
    // A (Δ 1): 1 ×2, 3 (after B), 4 (after C), 12 ×2 → 33 / 6 = 5.5.
    // B (Δ 2): 2 ×2, 4 (after A), 8 (after C), 16 ×2 → 48 / 6 = 8.
    // C (Δ 3): 3 ×2, 6 (after A), 9 (after B), 18 ×2 → 57 / 6 = 9.5.
    let parts = shapley(&[(1.0, 2.0), (1.0, 3.0), (1.0, 4.0)]);
    near(parts[0], 5.5);
    near(parts[1], 8.0);
    near(parts[2], 9.5);
    near(parts.iter().sum(), 23.0);
}

#[test]
fn a_ratio_whose_mix_moves_but_no_rate_has_no_rate_effect() {
    // X converts at 0.5 in both ranges (5/10, then 15/30), Y at 0.2 (2/10, then 2/10).
    // R0 = 7/20 = 0.35, R1 = 17/40 = 0.425: change 0.075, all of it mix.
    // X: w 0.5 → 0.75, mix = 0.25 × (0.5 + 0.5) / 2 = 0.125; Y: w 0.5 → 0.25,
    // mix = −0.25 × (0.2 + 0.2) / 2 = −0.05.
    let effects = rate_mix(&[[5.0, 10.0, 15.0, 30.0], [2.0, 10.0, 2.0, 10.0]]);
    assert_eq!(effects[0].0, 0.0);
    assert_eq!(effects[1].0, 0.0);
    near(effects[0].1, 0.125);
    near(effects[1].1, -0.05);
    near(effects.iter().map(|(r, m)| r + m).sum(), 0.075);
}

#[test]
fn rate_and_mix_of_a_segment_present_in_one_range_only() {
    // X: 1/4 then 3/4; Y only in the range: 1/4. R0 = 0.25, R1 = 4/8 = 0.5 (+0.25).
    // X: w 1 → 0.5, r 0.25 → 0.75: rate = 0.5 × 1.5 / 2 = 0.375, mix = −0.5 × 1 / 2 = −0.25.
    // Y: w 0 → 0.5, r 0 → 0.25: rate = 0.25 × 0.5 / 2 = 0.0625, mix = 0.5 × 0.25 / 2 = 0.0625.
    let effects = rate_mix(&[[1.0, 4.0, 3.0, 4.0], [0.0, 0.0, 1.0, 4.0]]);
    near(effects[0].0, 0.375);
    near(effects[0].1, -0.25);
    near(effects[1].0, 0.0625);
    near(effects[1].1, 0.0625);
    near(effects.iter().map(|(r, m)| r + m).sum(), 0.25);
}

#[test]
fn the_largest_remainder_keeps_the_sum_exact() {
    // Floors 1, 2, −1 sum to 2; the two missing units go to the largest fractions (0.8, then
    // the earlier of the two 0.5s).
    assert_eq!(largest_remainder(&[1.5, 2.5, -0.2], 4), vec![2, 2, 0]);
    assert_eq!(largest_remainder(&[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0], 1), vec![1, 0, 0]);
    // −1,000.1667 and −0.8333 (a split of −1,001): −1,000 and −1.
    assert_eq!(largest_remainder(&[-1000.0 - 1.0 / 6.0, -5.0 / 6.0], -1001), vec![-1000, -1]);
    assert_eq!(largest_remainder(&[3.0, 4.0], 7), vec![3, 4]);
    assert!(largest_remainder(&[], 0).is_empty());
}

fn revenue_won_explained() -> Explanation {
    let driver = |metric: &str, label: &str, unit, value, previous, contribution| DriverPart {
        metric: metric.into(),
        label: label.into(),
        unit,
        value: Some(value),
        previous: Some(previous),
        contribution,
    };
    Explanation {
        metric: "revenue_won".into(),
        label: "Revenue won".into(),
        unit: Unit::Money,
        better: Better::Higher,
        from: 0,
        to: 1,
        from_text: "2026-11-01".into(),
        to_text: "2026-12-01".into(),
        compare: Compare::Previous,
        compared: (-1, 0),
        compared_text: ("2026-10-01".into(), "2026-11-01".into()),
        value: Some(141_600.0),
        previous: Some(154_000.0),
        change: Some(-12_400.0),
        drivers: vec![
            driver("deals_won", "Deals won", Unit::Count, 27.0, 31.0, -15_100.0),
            driver(
                "average_deal_size",
                "Average deal size",
                Unit::Money,
                5_244.0,
                4_968.0,
                2_700.0,
            ),
        ],
        by: Some("owner".into()),
        segments: vec![SegmentPart {
            key: DimValue::Text("u1".into()),
            value: Some(50_000.0),
            previous: Some(59_000.0),
            contribution: -9_000.0,
            rate_effect: None,
            mix_effect: None,
        }],
        ratio: false,
    }
}

#[test]
fn the_sentence_names_the_drivers_with_the_change_then_those_against_it() {
    let gbp = traction_domain::Currency::parse("GBP").unwrap();
    let e = revenue_won_explained();
    let name = |dim: &str, key: &DimValue| match (dim, key.text().as_str()) {
        ("owner", "u1") => "Ana".to_string(),
        (_, other) => other.to_string(),
    };
    let s = sentence(&e, gbp, "October", &name);
    // −12,400 / 154,000 = −8.05…%.
    assert_eq!(
        s.text,
        "Revenue won −£12,400 (−8.1%) against October: fewer deals won (−£15,100; 31 → 27), \
         partly offset by higher average deal size (+£2,700; £4,968 → £5,244); most in owner Ana \
         (−£9,000)."
    );
    assert_eq!(s.segment, Some(("owner".to_string(), DimValue::Text("u1".into()))));
    // No change, and nothing to compare with.
    let flat =
        Explanation { value: Some(10.0), previous: Some(10.0), change: Some(0.0), ..e.clone() };
    assert_eq!(
        sentence(&flat, gbp, "October", &name).text,
        "Revenue won unchanged against October (£10.00)."
    );
    let none = Explanation { previous: None, change: None, ..e };
    assert_eq!(
        sentence(&none, gbp, "October", &name).text,
        "Revenue won £141,600: nothing to compare it with in October."
    );
}
