//! The order line-amount rule (data-model.md, order lines), written once: an order line comes
//! to its quantity × unit price − discount. An order without a total is the sum of its lines.
//!
//! Every Rust site (the write check on a line, the demo's orders) calls [`line_amount`]; the
//! SQL sites (the writer's order checks and derived amount, the store's order lines, the
//! metrics engine's order-line source) use `traction_store::line_amount_sql`, the same rule
//! as SQL text, kept beside the store's SQL. A store test pins the two to the same answers.

/// An order line's amount in minor units: `quantity × unit_price − discount`.
///
/// Exact, with nothing rounded: quantities are whole units and prices and discounts are minor
/// units, so the amount is a whole number of minor units too. The discount is on the whole
/// line (not per unit) and may exceed the line, which then comes to a negative amount (a
/// credit). Computed in `i128`, so a line past the bounds is measured, not overflowed: the
/// write check refuses one beyond [`crate::money::MAX_MINOR`], so a stored line's amount
/// always fits an `i64`.
pub fn line_amount(quantity: i64, unit_price: i64, discount: i64) -> i128 {
    i128::from(quantity) * i128::from(unit_price) - i128::from(discount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::MAX_MINOR;

    #[test]
    fn a_line_is_quantity_times_price_less_the_discount_on_the_whole_line() {
        // 2 × 3.50 − 0.50 = 6.50.
        assert_eq!(line_amount(2, 350, 50), 650);
        // 3 × 1.99 = 5.97, no discount.
        assert_eq!(line_amount(3, 199, 0), 597);
        // The discount is taken once, not per unit: 4 × 10.00 − 1.00 = 39.00.
        assert_eq!(line_amount(4, 1_000, 100), 3_900);
    }

    #[test]
    fn zero_negative_and_large_lines_are_exact() {
        assert_eq!(line_amount(1, 0, 0), 0);
        assert_eq!(line_amount(1, 100, 100), 0);
        // A discount larger than the line is a credit.
        assert_eq!(line_amount(1, 100, 150), -50);
        // A refund line at a negative price.
        assert_eq!(line_amount(2, -500, 0), -1_000);
        // 10^9 units at 10,000.00 is exactly the largest amount, 10^15 minor units.
        assert_eq!(line_amount(1_000_000_000, 1_000_000, 0), i128::from(MAX_MINOR));
        // 7 × 142,857,142,857,142 = 999,999,999,999,994: no floating point on the way.
        assert_eq!(line_amount(7, 142_857_142_857_142, 0), 999_999_999_999_994);
        // Past what an i64 holds (10^9 × 10^15 = 10^24): measured, not wrapped.
        assert_eq!(line_amount(1_000_000_000, MAX_MINOR, 0), 10i128.pow(24));
    }
}
