//! [`ShopStore`] on SQLite: order lines and totals, product stock, campaign budgets.

use rusqlite::OptionalExtension;

use super::SqliteStore;
use crate::Error;
use crate::line_amount_sql;
use crate::shop::{CampaignBudget, OrderLine, OrderLines, ProductStock, ShopStore};

impl ShopStore for SqliteStore {
    fn order_lines(&self, order_id: &str) -> Result<OrderLines, Error> {
        let conn = self.light_reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT l.line, l.product_id, p.name, l.quantity, l.unit_price, l.discount, {}
             FROM order_lines l LEFT JOIN products p ON p.id = l.product_id
             WHERE l.order_id = ?1 ORDER BY l.line",
            line_amount_sql("l")
        ))?;
        let lines = stmt
            .query_map([order_id], |r| {
                Ok(OrderLine {
                    line: r.get(0)?,
                    product_id: r.get(1)?,
                    product_name: r.get(2)?,
                    quantity: r.get(3)?,
                    unit_price: r.get(4)?,
                    discount: r.get(5)?,
                    amount: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        let total: i64 = conn
            .prepare_cached(&format!(
                "SELECT coalesce(sum({}), 0) FROM order_lines WHERE order_id = ?1",
                line_amount_sql("")
            ))?
            .query_row([order_id], |r| r.get(0))?;
        Ok(OrderLines { lines, total })
    }

    fn order_totals(&self, order_ids: &[&str]) -> Result<Vec<(String, i64)>, Error> {
        let conn = self.light_reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT o.id, coalesce(o.total,
                 (SELECT sum({}) FROM order_lines WHERE order_id = o.id), 0)
             FROM orders o WHERE o.id = ?1",
            line_amount_sql("")
        ))?;
        let mut out = Vec::with_capacity(order_ids.len());
        for id in order_ids {
            if let Some(row) = stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional()? {
                out.push(row);
            }
        }
        Ok(out)
    }

    fn product_stock(&self, product_ids: &[&str]) -> Result<Vec<ProductStock>, Error> {
        let conn = self.light_reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, on_hand, reorder_level IS NOT NULL AND on_hand <= reorder_level,
                    CASE WHEN unit_price IS NOT NULL AND unit_cost IS NOT NULL AND unit_price != 0
                         THEN CAST(unit_price - unit_cost AS REAL) / unit_price END
             FROM (SELECT p.*, coalesce(p.opening_stock, 0)
                       + coalesce((SELECT sum(delta) FROM inventory_movements m
                                   WHERE m.product_id = p.id), 0) AS on_hand
                   FROM products p WHERE p.id = ?1)",
        )?;
        let mut out = Vec::with_capacity(product_ids.len());
        for id in product_ids {
            let row = stmt
                .query_row([id], |r| {
                    Ok(ProductStock {
                        id: r.get(0)?,
                        on_hand: r.get(1)?,
                        to_reorder: r.get(2)?,
                        margin: r.get(3)?,
                    })
                })
                .optional()?;
            out.extend(row);
        }
        Ok(out)
    }

    fn campaign_budget(&self, campaign_id: &str) -> Result<Option<CampaignBudget>, Error> {
        let conn = self.light_reader();
        let row = conn
            .prepare_cached(
                "SELECT c.budget, s.spent, c.budget - s.spent
                 FROM campaigns c, (SELECT coalesce(sum(amount), 0) AS spent FROM costs
                                    WHERE campaign_id = ?1) s
                 WHERE c.id = ?1",
            )?
            .query_row([campaign_id], |r| {
                Ok(CampaignBudget { budget: r.get(0)?, spent: r.get(1)?, left: r.get(2)? })
            })
            .optional()?;
        Ok(row)
    }
}
