//! The figures the record pages show for orders, products and campaigns, computed by the store
//! so that no page does arithmetic on money or quantities (data-model.md: orders and order
//! lines, products, campaigns and costs). The [`ShopStore`] trait is the only way in.
//!
//! An order line's amount is the one rule of [`traction_domain::orders::line_amount`], written
//! into these queries as [`crate::line_amount_sql`].

use crate::Error;

/// One line of an order, with its amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderLine {
    pub line: i64,
    pub product_id: String,
    /// The product's name, when the product is known.
    pub product_name: Option<String>,
    pub quantity: i64,
    /// Minor units.
    pub unit_price: i64,
    /// Minor units, on the whole line.
    pub discount: i64,
    /// Quantity × unit price − discount, minor units.
    pub amount: i64,
}

/// An order's lines in line order, and what they add up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderLines {
    pub lines: Vec<OrderLine>,
    /// The sum of the lines' amounts (0 for an order without lines), minor units.
    pub total: i64,
}

/// A product's stock on hand and what follows from it and its prices.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductStock {
    pub id: String,
    /// Opening stock plus every movement, in units.
    pub on_hand: i64,
    /// Whether to reorder: stock on hand at or below the reorder level (never without a level).
    pub to_reorder: bool,
    /// The gross margin, (unit price − unit cost) / unit price; `None` without both prices or
    /// at a price of zero.
    pub margin: Option<f64>,
}

/// A campaign's budget against what was spent on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignBudget {
    /// Minor units; `None` when the campaign has no budget.
    pub budget: Option<i64>,
    /// The sum of the campaign's costs of all time, minor units.
    pub spent: i64,
    /// Budget − spent (negative when over budget); `None` without a budget.
    pub left: Option<i64>,
}

pub trait ShopStore {
    /// An order's lines with their amounts, and their total; no lines for an unknown order.
    fn order_lines(&self, order_id: &str) -> Result<OrderLines, Error>;

    /// Each named order's total as `(id, total)`: its stored total when one was given, else the
    /// sum of its lines (0 without lines). Unknown ids are left out.
    fn order_totals(&self, order_ids: &[&str]) -> Result<Vec<(String, i64)>, Error>;

    /// Each named product's stock, reorder flag and margin; unknown ids are left out.
    fn product_stock(&self, product_ids: &[&str]) -> Result<Vec<ProductStock>, Error>;

    /// A campaign's budget, spend and what is left; `None` for an unknown campaign.
    fn campaign_budget(&self, campaign_id: &str) -> Result<Option<CampaignBudget>, Error>;
}
