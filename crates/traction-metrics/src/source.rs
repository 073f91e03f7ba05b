//! Sources: what a measure aggregates over — an entity's table at its own grain, or one of two
//! built-in derived sources — with the fields expressions may use and the dimensions that apply
//! (spec: data-model.md, Dimensions).
//!
//! The derived sources are how the catalog's special cases stay data:
//! - `email_messages`: one row per message that has a `sent` event, with a flag per event kind
//!   ("a message counts once per kind however many events of that kind it has"; metrics.md,
//!   Email campaigns), taken from the events up to `at`;
//! - `stage_exits`: one row per time a deal left a stage, from its stage history up to `at`:
//!   the stage, when it was entered and when it was left (the next change), and the deal's
//!   fields (metrics.md, `time_in_stage_days`);
//! - `customers`: one row per account with at least one counted order or won deal up to `at`,
//!   with its first purchase and lifetime revenue (metrics.md, Customers, orders and products);
//! - `product_stock`: one row per product *as of an instant*, with its stock on hand then and the
//!   units sold in the 30 days before: a state source, read only by snapshots.
//!
//! Some entities also carry computed fields that join what they need only when an expression
//! names them: an order's `customer_first_purchase_at` and `previous_order_at`, and an order
//! line's order (`placed_at`, `status`, …) and product cost (`unit_cost`).

use std::cell::RefCell;

use traction_domain::schema::{Entity, FieldType};

use jiff::tz::TimeZone;

use crate::buckets::Buckets;
use crate::expr::compile::{BucketTest, BucketTestError, Column, Scope, Ty, Values};

/// What a measure aggregates over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Entity(Entity),
    EmailMessages,
    StageExits,
    Customers,
    ProductStock,
}

/// Orders that count as sales (spec: metrics.md, "cancelled or returned are excluded
/// everywhere"), as SQL over a table's own columns.
pub use traction_store::customers::COUNTED_ORDER;
use traction_store::customers::{CUSTOMER_COLUMNS, purchases_sql};

/// A table joined in for a dimension that lives on another record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Join {
    /// The owner (`du`), for `team`.
    Owner,
    /// The order of an order line (`dor`).
    Order,
    /// The account (`da`): of the record, or of an order line's order.
    Account,
    /// The product of an order line (`dp`).
    Product,
    /// The customer of an order (`dc`: first purchase, as of `at`).
    Customer,
    /// The customer's previous counted order before an order (`dpo`).
    PreviousOrder,
}

impl Join {
    fn requires(self, source: Source) -> Option<Join> {
        match (self, source) {
            (Join::Account, Source::Entity(Entity::OrderLines)) => Some(Join::Order),
            _ => None,
        }
    }

    fn sql(self, source: Source, at: i64) -> String {
        match (self, source) {
            (Join::Owner, _) => " LEFT JOIN users du ON du.id = t.owner_id".into(),
            (Join::Order, _) => " LEFT JOIN orders dor ON dor.id = t.order_id".into(),
            (Join::Account, Source::Entity(Entity::OrderLines)) => {
                " LEFT JOIN accounts da ON da.id = dor.account_id".into()
            }
            (Join::Account, _) => " LEFT JOIN accounts da ON da.id = t.account_id".into(),
            (Join::Product, _) => " LEFT JOIN products dp ON dp.id = t.product_id".into(),
            // The first purchase is the same as of `at` as now when it was made by then (an
            // earlier purchase would be earlier still), and there is none as of `at` otherwise.
            (Join::Customer, _) => format!(
                " LEFT JOIN (SELECT account_id, first_purchase_at FROM customer_stats \
                 WHERE first_purchase_at <= {at}) dc ON dc.account_id = t.account_id"
            ),
            // Over every order: the latest counted order of the same account strictly before
            // this one (by time, then id). (A subquery per order, through the account's index,
            // is faster for a month of orders but slower for a year: the window over every
            // order costs the same for any range.)
            (Join::PreviousOrder, _) => format!(
                " LEFT JOIN (SELECT id, MAX(CASE WHEN {COUNTED_ORDER} THEN placed_at END) \
                 OVER (PARTITION BY account_id ORDER BY placed_at, id \
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_order_at \
                 FROM orders) dpo ON dpo.id = t.id"
            ),
        }
    }
}

/// A dimension a source can be grouped and filtered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dim {
    pub name: &'static str,
    /// Trusted SQL giving the dimension's value.
    pub sql: &'static str,
    pub join: Option<Join>,
}

const fn dim(name: &'static str, sql: &'static str) -> Dim {
    Dim { name, sql, join: None }
}

const fn joined(name: &'static str, sql: &'static str, join: Join) -> Dim {
    Dim { name, sql, join: Some(join) }
}

const OWNER: Dim = dim("owner", "t.owner_id");
const TEAM: Dim = joined("team", "du.team_id", Join::Owner);
const SEGMENT: Dim = joined("segment", "da.segment", Join::Account);
const INDUSTRY: Dim = joined("industry", "da.industry", Join::Account);
const REGION: Dim = joined("region", "da.region", Join::Account);
const CAMPAIGN: Dim = dim("campaign", "t.campaign_id");
/// The account a record is for (deals, orders and their lines, customers, leads, activities,
/// surveys): accounts rank by revenue with `by account`.
const ACCOUNT: Dim = dim("account", "t.account_id");

/// Lead origin, derived from `source` (lower-cased at import; docs/metrics.md, Lead origin): who
/// made the first contact. A source outside both lists is `other`.
pub const INBOUND_SOURCES: [&str; 16] = [
    "web",
    "website",
    "organic",
    "search",
    "seo",
    "ppc",
    "paid_search",
    "ads",
    "content",
    "chat",
    "inbound",
    "referral",
    "partner",
    "social",
    "phone_in",
    "walk_in",
];
pub const OUTBOUND_SOURCES: [&str; 9] = [
    "cold_call",
    "cold_email",
    "email",
    "outbound",
    "prospecting",
    "direct_mail",
    "event",
    "trade_show",
    "linkedin_outreach",
];
/// … and where it happened. A source outside both lists is `other`.
pub const ONLINE_SOURCES: [&str; 14] = [
    "web",
    "website",
    "organic",
    "search",
    "seo",
    "ppc",
    "paid_search",
    "ads",
    "content",
    "chat",
    "social",
    "email",
    "cold_email",
    "linkedin_outreach",
];
pub const OFFLINE_SOURCES: [&str; 8] = [
    "referral",
    "partner",
    "phone_in",
    "walk_in",
    "cold_call",
    "direct_mail",
    "event",
    "trade_show",
];
/// `origin`: inbound | outbound | other, from the lists above (a test checks they agree).
const ORIGIN: Dim = dim(
    "origin",
    "CASE WHEN t.source IN ('web', 'website', 'organic', 'search', 'seo', 'ppc', 'paid_search', 'ads', 'content', 'chat', 'inbound', 'referral', 'partner', 'social', 'phone_in', 'walk_in') THEN 'inbound' WHEN t.source IN ('cold_call', 'cold_email', 'email', 'outbound', 'prospecting', 'direct_mail', 'event', 'trade_show', 'linkedin_outreach') THEN 'outbound' ELSE 'other' END",
);
/// `medium`: online | offline | other, from the lists above (a test checks they agree).
const MEDIUM: Dim = dim(
    "medium",
    "CASE WHEN t.source IN ('web', 'website', 'organic', 'search', 'seo', 'ppc', 'paid_search', 'ads', 'content', 'chat', 'social', 'email', 'cold_email', 'linkedin_outreach') THEN 'online' WHEN t.source IN ('referral', 'partner', 'phone_in', 'walk_in', 'cold_call', 'direct_mail', 'event', 'trade_show') THEN 'offline' ELSE 'other' END",
);

/// The time dimensions, which apply to every metric placed in time by one field.
pub const TIME_DIMS: [&str; 2] = ["weekday", "hour_of_day"];

impl Source {
    /// Every source, for listings.
    pub fn all() -> Vec<Source> {
        let mut all: Vec<Source> =
            Entity::ALL.into_iter().filter(|e| *e != Entity::Targets).map(Source::Entity).collect();
        all.push(Source::EmailMessages);
        all.push(Source::StageExits);
        all.push(Source::Customers);
        all.push(Source::ProductStock);
        all
    }

    /// Whether the source is a state as of an instant (read by snapshots, one row per record
    /// per instant), rather than records placed in time by their own fields.
    pub fn is_state(self) -> bool {
        self == Source::ProductStock
    }

    pub fn parse(name: &str) -> Option<Source> {
        Source::all().into_iter().find(|s| s.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Source::Entity(e) => e.name(),
            Source::EmailMessages => "email_messages",
            Source::StageExits => "stage_exits",
            Source::Customers => "customers",
            Source::ProductStock => "product_stock",
        }
    }

    /// The fields expressions may name, with their types.
    pub fn fields(self) -> Vec<(&'static str, Ty, Values)> {
        match self {
            Source::Entity(entity) => {
                let mut fields: Vec<_> = entity
                    .fields()
                    .iter()
                    .map(|f| {
                        let (ty, values) = match f.ty {
                            FieldType::Id | FieldType::Text | FieldType::Ref(_) => {
                                (Ty::Text, Values::Free)
                            }
                            FieldType::Category => (Ty::Text, Values::Category),
                            FieldType::Enum(allowed) => (Ty::Text, Values::Enum(allowed)),
                            FieldType::Int { .. } | FieldType::Fraction | FieldType::Number => {
                                (Ty::Num, Values::Free)
                            }
                            FieldType::Kind => (Ty::Text, Values::Kind),
                            FieldType::Decimal => (Ty::Text, Values::Free),
                            FieldType::Money => (Ty::Money, Values::Free),
                            FieldType::Timestamp => (Ty::Timestamp, Values::Free),
                            FieldType::Date => (Ty::Date, Values::Free),
                            FieldType::Bool => (Ty::Bool, Values::Free),
                        };
                        (f.name, ty, values)
                    })
                    .collect();
                // Stored, derived columns (V1 migration): an order's effective total.
                if entity == Entity::Orders {
                    fields.push(("amount", Ty::Money, Values::Free));
                }
                // An order line carries its order's fields and its product's cost.
                if entity == Entity::OrderLines {
                    fields.extend([
                        ("amount", Ty::Money, Values::Free),
                        ("unit_cost", Ty::Money, Values::Free),
                        ("placed_at", Ty::Timestamp, Values::Free),
                        ("status", Ty::Text, Values::Enum(traction_domain::schema::ORDER_STATUSES)),
                        ("channel", Ty::Text, Values::Category),
                        ("account_id", Ty::Text, Values::Free),
                        ("owner_id", Ty::Text, Values::Free),
                    ]);
                }
                fields
            }
            Source::Customers => vec![
                ("account_id", Ty::Text, Values::Free),
                ("owner_id", Ty::Text, Values::Free),
                ("first_purchase_at", Ty::Timestamp, Values::Free),
                ("first_order_at", Ty::Timestamp, Values::Free),
                ("first_won_at", Ty::Timestamp, Values::Free),
                ("orders", Ty::Num, Values::Free),
                ("won_deals", Ty::Num, Values::Free),
                ("order_revenue", Ty::Money, Values::Free),
                ("deal_revenue", Ty::Money, Values::Free),
                ("lifetime_revenue", Ty::Money, Values::Free),
            ],
            Source::ProductStock => vec![
                ("product_id", Ty::Text, Values::Free),
                ("category", Ty::Text, Values::Category),
                ("unit_price", Ty::Money, Values::Free),
                ("unit_cost", Ty::Money, Values::Free),
                ("opening_stock", Ty::Num, Values::Free),
                ("reorder_level", Ty::Num, Values::Free),
                ("stock_on_hand", Ty::Num, Values::Free),
                ("units_sold_30d", Ty::Num, Values::Free),
            ],
            Source::EmailMessages => vec![
                ("message_id", Ty::Text, Values::Free),
                ("sent_at", Ty::Timestamp, Values::Free),
                ("owner_id", Ty::Text, Values::Free),
                ("campaign_id", Ty::Text, Values::Free),
                ("lead_id", Ty::Text, Values::Free),
                ("contact_id", Ty::Text, Values::Free),
                ("delivered", Ty::Bool, Values::Free),
                ("opened", Ty::Bool, Values::Free),
                ("clicked", Ty::Bool, Values::Free),
                ("replied", Ty::Bool, Values::Free),
                ("bounced", Ty::Bool, Values::Free),
                ("unsubscribed", Ty::Bool, Values::Free),
            ],
            Source::StageExits => vec![
                ("deal_id", Ty::Text, Values::Free),
                ("stage_id", Ty::Text, Values::Free),
                ("pipeline_id", Ty::Text, Values::Free),
                ("owner_id", Ty::Text, Values::Free),
                ("account_id", Ty::Text, Values::Free),
                ("source", Ty::Text, Values::Category),
                ("campaign_id", Ty::Text, Values::Free),
                ("deal_type", Ty::Text, Values::Enum(traction_domain::schema::DEAL_TYPES)),
                ("amount", Ty::Money, Values::Free),
                ("entered_at", Ty::Timestamp, Values::Free),
                ("left_at", Ty::Timestamp, Values::Free),
            ],
        }
    }

    pub fn field(self, name: &str) -> Option<(Ty, Values)> {
        self.fields().into_iter().find(|(n, _, _)| *n == name).map(|(_, ty, v)| (ty, v))
    }

    /// Fields computed by a join when an expression names them: the name, type, SQL and join.
    pub fn computed(self) -> Vec<(&'static str, Ty, &'static str, Join)> {
        match self {
            Source::Entity(Entity::Orders) => vec![
                // The customer's first purchase (first counted order or won deal), as of `at`.
                (
                    "customer_first_purchase_at",
                    Ty::Timestamp,
                    "dc.first_purchase_at",
                    Join::Customer,
                ),
                // The placed_at of the customer's latest counted order before this one.
                ("previous_order_at", Ty::Timestamp, "dpo.previous_order_at", Join::PreviousOrder),
            ],
            _ => Vec::new(),
        }
    }

    /// The dimensions of data-model.md that apply to this source, time dimensions aside.
    pub fn dims(self) -> Vec<Dim> {
        let Source::Entity(entity) = self else {
            return match self {
                Source::EmailMessages => vec![CAMPAIGN, OWNER, TEAM],
                Source::Customers => vec![OWNER, TEAM, SEGMENT, INDUSTRY, REGION, ACCOUNT],
                Source::ProductStock => {
                    vec![dim("product", "t.product_id"), dim("category", "t.category")]
                }
                _ => vec![
                    dim("stage", "t.stage_id"),
                    dim("pipeline", "t.pipeline_id"),
                    OWNER,
                    TEAM,
                    dim("source", "t.source"),
                    CAMPAIGN,
                    dim("deal_type", "t.deal_type"),
                    SEGMENT,
                    INDUSTRY,
                    REGION,
                ],
            };
        };
        let mut dims = match entity {
            Entity::Leads => vec![
                dim("source", "t.source"),
                CAMPAIGN,
                dim("status", "t.status"),
                ORIGIN,
                MEDIUM,
                ACCOUNT,
            ],
            Entity::Deals => vec![
                dim("pipeline", "t.pipeline_id"),
                dim("stage", "t.stage_id"),
                dim("status", "t.status"),
                dim("source", "t.source"),
                CAMPAIGN,
                dim("deal_type", "t.deal_type"),
                dim("lost_reason", "t.lost_reason"),
                dim("competitor", "t.competitor"),
                SEGMENT,
                INDUSTRY,
                REGION,
                ACCOUNT,
                ORIGIN,
                MEDIUM,
            ],
            Entity::Activities => vec![
                dim("kind", "t.kind"),
                dim("outcome", "t.outcome"),
                dim("direction", "t.direction"),
                ACCOUNT,
            ],
            Entity::Orders => vec![
                dim("channel", "t.channel"),
                dim("status", "t.status"),
                SEGMENT,
                REGION,
                ACCOUNT,
            ],
            Entity::OrderLines => vec![
                OWNER,
                TEAM,
                dim("channel", "t.channel"),
                dim("status", "t.status"),
                SEGMENT,
                REGION,
                dim("product", "t.product_id"),
                joined("category", "dp.category", Join::Product),
                ACCOUNT,
            ],
            Entity::Costs => {
                vec![dim("category", "t.category"), CAMPAIGN, dim("team", "t.team_id")]
            }
            Entity::WebVisits => vec![dim("source", "t.source")],
            Entity::EmailEvents => vec![CAMPAIGN, dim("kind", "t.kind")],
            Entity::Surveys => vec![dim("kind", "t.kind"), ACCOUNT],
            // An event's team is its own `team_id`, else its owner's team: a team that runs a
            // kitchen owns the meals served even when no one person logged them.
            Entity::Events => vec![
                dim("kind", "t.kind"),
                joined("team", "coalesce(t.team_id, du.team_id)", Join::Owner),
                ACCOUNT,
                CAMPAIGN,
            ],
            Entity::Accounts => vec![
                dim("segment", "t.segment"),
                dim("industry", "t.industry"),
                dim("region", "t.region"),
            ],
            Entity::Products => vec![dim("category", "t.category"), dim("product", "t.id")],
            Entity::InventoryMovements => {
                vec![dim("product", "t.product_id"), dim("reason", "t.reason")]
            }
            Entity::Stages => vec![dim("pipeline", "t.pipeline_id"), dim("kind", "t.kind")],
            Entity::StageChanges => vec![dim("stage", "t.stage_id")],
            Entity::Users => vec![dim("team", "t.team_id"), dim("role", "t.role")],
            _ => vec![],
        };
        // Every entity with an owner has `owner` and `team` (the owner's own team).
        if entity.field("owner_id").is_some() {
            dims.insert(0, OWNER);
            if !dims.iter().any(|d| d.name == "team") {
                dims.insert(1, TEAM);
            }
        }
        dims
    }

    pub fn dim(self, name: &str) -> Option<Dim> {
        self.dims().into_iter().find(|d| d.name == name)
    }

    /// The FROM item, aliased `t`. Derived sources are read as of `at`; when `range` is given
    /// (the scan places rows by a time field in `[lo, hi)`), they are computed only for the
    /// messages sent, or the deals that changed stage, in that range — the rows that can fall in
    /// it — instead of for the whole history. Only integers computed by the engine are written
    /// into the text.
    pub fn from_sql(self, at: i64, range: Option<(i64, i64)>) -> String {
        match self {
            // An order line with its order's fields and its product's cost; when placed in
            // time, only the lines of orders placed in the range.
            Source::Entity(Entity::OrderLines) => {
                let only = range
                    .map(|(lo, hi)| format!(" WHERE o.placed_at >= {lo} AND o.placed_at < {hi}"))
                    .unwrap_or_default();
                format!(
                    "(SELECT l.order_id, l.line, l.product_id, l.quantity, l.unit_price, l.discount, \
                       {amount} AS amount, p.unit_cost, o.placed_at, \
                       o.status, o.channel, o.account_id, o.owner_id \
                     FROM order_lines l JOIN orders o ON o.id = l.order_id \
                     LEFT JOIN products p ON p.id = l.product_id{only}) t",
                    amount = traction_store::line_amount_sql("l")
                )
            }
            Source::Entity(entity) => entity_from(entity).to_string(),
            // The customers the writer keeps (customer_stats): a customer whose last purchase
            // was made by `at` has the same row as of `at` as now. The few with a purchase after
            // `at` (a clock in the past, or purchases dated ahead) are grouped from their
            // history up to `at`. A customer's first purchase as of `at` is its first purchase
            // whenever that was made by `at`, so when the scan is placed by the first purchase in
            // `[lo, hi)`, only the customers whose first purchase is there need grouping.
            Source::Customers => {
                let placed = range
                    .map(|(lo, hi)| {
                        format!(" AND first_purchase_at >= {lo} AND first_purchase_at < {hi}")
                    })
                    .unwrap_or_default();
                format!(
                    "(SELECT s.account_id, a.owner_id, s.first_purchase_at, s.first_order_at, \
                       s.first_won_at, s.orders, s.won_deals, s.order_revenue, s.deal_revenue, \
                       s.order_revenue + s.deal_revenue AS lifetime_revenue \
                     FROM customer_stats s JOIN accounts a ON a.id = s.account_id \
                     WHERE s.last_purchase_at <= {at} \
                     UNION ALL \
                     SELECT c.account_id, a.owner_id, c.first_purchase_at, c.first_order_at, \
                       c.first_won_at, c.orders, c.won_deals, c.order_revenue, c.deal_revenue, \
                       c.order_revenue + c.deal_revenue \
                     FROM (SELECT account_id, {CUSTOMER_COLUMNS} FROM ({}) GROUP BY account_id) c \
                     JOIN accounts a ON a.id = c.account_id) t",
                    purchases_sql(
                        Some(at),
                        &format!(
                            " AND account_id IN (SELECT account_id FROM customer_stats \
                             WHERE last_purchase_at > {at} AND first_purchase_at <= {at}{placed})"
                        )
                    ),
                )
            }
            // Products as of the snapshot instant `b.s` (the snapshot's join supplies `b`): the
            // fields that depend on it are computed in the select list (SQLite has no LATERAL).
            Source::ProductStock => "(SELECT id AS product_id, category, unit_price, unit_cost, \
                 opening_stock, reorder_level FROM products) t"
                .to_string(),
            Source::EmailMessages => {
                let only = range
                    .map(|(lo, hi)| {
                        format!(
                            " AND message_id IN (SELECT message_id FROM email_events \
                             WHERE kind = 'sent' AND occurred_at >= {lo} AND occurred_at < {hi})"
                        )
                    })
                    .unwrap_or_default();
                format!(
                    "(SELECT message_id, \
                       MIN(CASE WHEN kind = 'sent' THEN occurred_at END) AS sent_at, \
                       COALESCE(MAX(CASE WHEN kind = 'sent' THEN owner_id END), MAX(owner_id)) AS owner_id, \
                       COALESCE(MAX(CASE WHEN kind = 'sent' THEN campaign_id END), MAX(campaign_id)) AS campaign_id, \
                       COALESCE(MAX(CASE WHEN kind = 'sent' THEN lead_id END), MAX(lead_id)) AS lead_id, \
                       COALESCE(MAX(CASE WHEN kind = 'sent' THEN contact_id END), MAX(contact_id)) AS contact_id, \
                       1 - MAX(kind = 'bounced') AS delivered, \
                       MAX(kind = 'opened') AS opened, \
                       MAX(kind = 'clicked') AS clicked, \
                       MAX(kind = 'replied') AS replied, \
                       MAX(kind = 'bounced') AS bounced, \
                       MAX(kind = 'unsubscribed') AS unsubscribed \
                     FROM email_events WHERE occurred_at <= {at}{only} GROUP BY message_id) t"
                )
            }
            Source::StageExits => {
                let only = range
                    .map(|(lo, hi)| {
                        format!(
                            " AND deal_id IN (SELECT deal_id FROM stage_changes \
                             WHERE changed_at >= {lo} AND changed_at < {hi})"
                        )
                    })
                    .unwrap_or_default();
                format!(
                    "(SELECT x.deal_id, x.stage_id, d.pipeline_id, d.owner_id, d.account_id, d.source, \
                       d.campaign_id, d.deal_type, d.amount, x.entered_at, x.left_at \
                     FROM (SELECT deal_id, stage_id, changed_at AS entered_at, \
                             LEAD(changed_at) OVER (PARTITION BY deal_id ORDER BY changed_at, stage_id) AS left_at \
                           FROM stage_changes WHERE changed_at <= {at}{only}) x \
                     JOIN deals d ON d.id = x.deal_id) t"
                )
            }
        }
    }

    /// The JOIN clauses for a set of joins, dependencies first.
    pub fn joins_sql(self, joins: &[Join], at: i64) -> String {
        let mut all: Vec<Join> = Vec::new();
        for join in joins {
            if let Some(before) = join.requires(self) {
                all.push(before);
            }
            all.push(*join);
        }
        all.sort();
        all.dedup();
        all.iter().map(|j| j.sql(self, at)).collect()
    }
}

/// The fields of `product_stock` that depend on the snapshot instant `b.s`.
fn product_stock_sql(name: &str) -> Option<&'static str> {
    match name {
        // The opening stock plus every movement before the instant (data-model.md, products).
        "stock_on_hand" => Some(
            "(t.opening_stock + COALESCE((SELECT SUM(m.delta) FROM inventory_movements m \
             WHERE m.product_id = t.product_id AND m.occurred_at < b.s), 0))",
        ),
        // Units of the product in lines of counted orders placed in the 30 days (of 86,400 s)
        // before the instant: the sale movements the store derives from exactly those lines
        // (at the order's placed_at, kept in step with the order's status), read through the
        // (product_id, occurred_at, delta) index rather than by joining lines to orders.
        "units_sold_30d" => Some(
            "COALESCE((SELECT -SUM(m.delta) FROM inventory_movements m \
             WHERE m.product_id = t.product_id AND m.occurred_at >= b.s - 2592000000000 \
             AND m.occurred_at < b.s AND m.reason = 'sale' AND m.order_id IS NOT NULL), 0)",
        ),
        _ => None,
    }
}

fn entity_from(entity: Entity) -> &'static str {
    match entity {
        Entity::Teams => "teams t",
        Entity::Users => "users t",
        Entity::Accounts => "accounts t",
        Entity::Contacts => "contacts t",
        Entity::Campaigns => "campaigns t",
        Entity::Pipelines => "pipelines t",
        Entity::Stages => "stages t",
        Entity::Deals => "deals t",
        Entity::StageChanges => "stage_changes t",
        Entity::Leads => "leads t",
        Entity::Activities => "activities t",
        Entity::Products => "products t",
        Entity::Orders => "orders t",
        Entity::OrderLines => "order_lines t",
        Entity::InventoryMovements => "inventory_movements t",
        Entity::Costs => "costs t",
        Entity::WebVisits => "web_visits t",
        Entity::EmailEvents => "email_events t",
        Entity::Surveys => "surveys t",
        Entity::Events => "events t",
        Entity::Targets => "targets t",
    }
}

/// The names an expression over a source can see: its fields, then the dimensions that are not
/// fields (`team`, `segment`, …). Records the joins the expression needs.
pub struct SourceScope {
    pub source: Source,
    pub joins: RefCell<Vec<Join>>,
    /// Where the records fall in buckets, for `in_bucket` and `before_bucket`.
    pub placed: Placed,
}

/// How the records of a scope are placed in buckets.
pub enum Placed {
    /// Checking a definition: no buckets yet, bucket tests are only type-checked.
    Checking,
    /// By a time field of the record.
    Field { field: String, is_date: bool, buckets: Buckets, zone: TimeZone },
    /// Not by a field of the records (snapshots, the funnel): bucket tests do not apply.
    Unbucketed,
}

impl SourceScope {
    pub fn new(source: Source) -> SourceScope {
        SourceScope { source, joins: RefCell::new(Vec::new()), placed: Placed::Checking }
    }

    pub fn placed(source: Source, placed: Placed) -> SourceScope {
        SourceScope { source, joins: RefCell::new(Vec::new()), placed }
    }
}

impl Scope for SourceScope {
    fn describe(&self) -> String {
        self.source.name().to_string()
    }

    fn column(&self, name: &str) -> Option<Column> {
        if self.source == Source::ProductStock
            && let Some(sql) = product_stock_sql(name)
        {
            return Some(Column { ty: Ty::Num, values: Values::Free, sql: sql.to_string() });
        }
        if let Some((ty, values)) = self.source.field(name) {
            return Some(Column { ty, values, sql: format!("t.{name}") });
        }
        if let Some((_, ty, sql, join)) =
            self.source.computed().into_iter().find(|(n, ..)| *n == name)
        {
            self.joins.borrow_mut().push(join);
            return Some(Column { ty, values: Values::Free, sql: sql.to_string() });
        }
        let dim = self.source.dim(name)?;
        if let Some(join) = dim.join {
            self.joins.borrow_mut().push(join);
        }
        // A dimension has the type of the field it reads; ids compare exactly, categories
        // lower-cased.
        let (ty, values) = match dim.sql.strip_prefix("t.").and_then(|f| self.source.field(f)) {
            Some(field) => field,
            None if matches!(name, "segment" | "industry" | "region" | "category" | "channel") => {
                (Ty::Text, Values::Category)
            }
            None => (Ty::Text, Values::Free),
        };
        Some(Column { ty, values, sql: dim.sql.to_string() })
    }

    fn bucket_test(
        &self,
        test: BucketTest,
        column: &str,
        is_date: bool,
    ) -> Result<String, BucketTestError> {
        let (field, field_is_date, buckets, zone) = match &self.placed {
            Placed::Checking => return Ok("1".into()),
            Placed::Unbucketed => {
                return Err(BucketTestError::Unbucketed);
            }
            Placed::Field { field, is_date, buckets, zone } => (field, *is_date, buckets, zone),
        };
        let key = |col: &str, date: bool| -> Result<String, BucketTestError> {
            let (sql, kind) = crate::buckets::key_sql(col, date, buckets, zone)?;
            if kind != crate::buckets::KeyKind::Index {
                return Err(BucketTestError::HourNeedsTimestamps);
            }
            Ok(sql)
        };
        let own = key(&format!("t.{field}"), field_is_date)?;
        let other = key(column, is_date)?;
        let range = |lo, hi| -> Result<String, BucketTestError> {
            Ok(crate::buckets::range_sql(column, is_date, lo, hi, zone)?)
        };
        // The record's bucket as cut by the range: `column` in `[lo, hi)` and in the same
        // bucket, or before `lo`, or in `[lo, hi)` in an earlier bucket.
        Ok(match test {
            BucketTest::In => {
                format!("({} AND ({other}) = ({own}))", range(buckets.lo, buckets.hi)?)
            }
            BucketTest::Before => {
                let before_lo = if is_date {
                    format!("{column} < '{}'", crate::buckets::first_date(buckets.lo, zone)?)
                } else {
                    format!("{column} < {}", buckets.lo)
                };
                format!(
                    "({before_lo} OR ({} AND ({other}) < ({own})))",
                    range(buckets.lo, buckets.hi)?
                )
            }
        })
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.source.fields().iter().map(|(n, _, _)| n.to_string()).collect();
        names.extend(self.source.computed().iter().map(|(n, ..)| n.to_string()));
        for dim in self.source.dims() {
            if !names.iter().any(|n| n == dim.name) {
                names.push(dim.name.to_string());
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn lead_origin_sql_follows_the_documented_lists() {
        let case = |lists: [(&[&str], &str); 2]| {
            let mut sql = String::from("CASE");
            for (list, value) in lists {
                let quoted: Vec<String> = list.iter().map(|s| format!("'{s}'")).collect();
                sql.push_str(&format!(" WHEN t.source IN ({}) THEN '{value}'", quoted.join(", ")));
            }
            sql + " ELSE 'other' END"
        };
        assert_eq!(
            ORIGIN.sql,
            case([(&INBOUND_SOURCES, "inbound"), (&OUTBOUND_SOURCES, "outbound")])
        );
        assert_eq!(MEDIUM.sql, case([(&ONLINE_SOURCES, "online"), (&OFFLINE_SOURCES, "offline")]));
        // Each source has one origin and one medium.
        for s in INBOUND_SOURCES {
            assert!(!OUTBOUND_SOURCES.contains(&s), "{s}");
        }
        for s in ONLINE_SOURCES {
            assert!(!OFFLINE_SOURCES.contains(&s), "{s}");
        }
    }

    use super::*;

    #[test]
    fn dimensions_follow_the_data_model() {
        let names = |s: Source| s.dims().iter().map(|d| d.name).collect::<Vec<_>>();
        assert_eq!(
            names(Source::Entity(Entity::Deals)),
            [
                "owner",
                "team",
                "pipeline",
                "stage",
                "status",
                "source",
                "campaign",
                "deal_type",
                "lost_reason",
                "competitor",
                "segment",
                "industry",
                "region",
                "account",
                "origin",
                "medium"
            ]
        );
        assert_eq!(
            names(Source::Entity(Entity::Leads)),
            ["owner", "team", "source", "campaign", "status", "origin", "medium", "account"]
        );
        // Costs carry their own team, not the owner's.
        assert_eq!(names(Source::Entity(Entity::Costs)), ["owner", "category", "campaign", "team"]);
        assert_eq!(names(Source::Entity(Entity::WebVisits)), ["source"]);
    }

    proptest::proptest! {
        /// Any expression that parses is either compiled or refused with a message, on every
        /// source: type checking never panics.
        #[test]
        fn type_checking_never_panics(tokens in proptest::collection::vec(
            proptest::sample::select(vec![
                "amount", "status", "created_at", "closed_at", "day", "visitors", "opened",
                "owner", "team", "segment", "source", "'won'", "'web'", "'2026-01-01'", "1",
                "2.5", "null", "true", "=", "!=", "<", ">=", "and", "or", "not", "in", "is",
                "(", ")", ",", "+", "-", "*", "/", "days", "hours", "seconds",
            ]),
            1..12,
        )) {
            let text = tokens.join(" ");
            if let Ok(expr) = crate::expr::parse(&text) {
                for source in Source::all() {
                    let scope = SourceScope::new(source);
                    let env = crate::expr::compile::Env::default();
                    let _ = crate::expr::compile::compile(&expr, &scope, &env);
                }
            }
        }
    }

    #[test]
    fn every_dimension_and_field_is_valid_sql_for_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let store = traction_store::open(&dir.path().join("t.db")).unwrap();
        for source in Source::all() {
            // Every name an expression can use, through the scope (computed fields add
            // their joins).
            let scope = SourceScope::new(source);
            let cols: Vec<String> =
                scope.names().iter().map(|n| scope.column(n).unwrap().sql).collect();
            let joins: Vec<Join> = scope.joins.borrow().clone();
            // A state source is read as of the instants of a snapshot's `b`.
            let instants =
                if source.is_state() { " JOIN (SELECT 0 AS k, 1 AS s) b ON 1" } else { "" };
            for range in [None, Some((0, 1))] {
                let sql = format!(
                    "SELECT {} FROM {}{instants}{}",
                    cols.join(", "),
                    source.from_sql(0, range),
                    source.joins_sql(&joins, 0)
                );
                // Run with no parameters: a placeholder left in the SQL fails the read.
                let rows = store.query(&sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
                assert!(rows.is_empty(), "{sql}");
            }
        }
    }
}
