//! The entities of data-model.md as data: one table of fields per entity.
//!
//! Everything that reads or writes records (import, export, the store, the API, the metric
//! expression checker) is driven by this one table, so a field is declared exactly once. The order
//! of [`Entity::ALL`] is a valid import order: every entity comes after the entities it refers to
//! (teams may refer to teams; that self-reference resolves within a file).

use std::fmt;

/// One kind of record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Teams,
    Users,
    Accounts,
    Contacts,
    Campaigns,
    Pipelines,
    Stages,
    Deals,
    StageChanges,
    Leads,
    Activities,
    Products,
    Orders,
    OrderLines,
    InventoryMovements,
    Costs,
    WebVisits,
    EmailEvents,
    Surveys,
    Events,
    Targets,
}

/// The type of a field, which fixes how text is parsed and how the value is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// A record id: 1–128 printable ASCII characters, no spaces.
    Id,
    /// Free text, kept as given (surrounding whitespace trimmed).
    Text,
    /// A free-text category (`source`, `channel`, …): trimmed and lower-cased.
    Category,
    /// One of a fixed set of lower-case words.
    Enum(&'static [&'static str]),
    /// The id of a record of another (or the same) entity, which must exist.
    Ref(Entity),
    /// A whole number, at least `min` when given.
    Int { min: Option<i64> },
    /// Money in major units, stored as integer minor units of the workspace currency.
    Money,
    /// An instant, stored as UTC microseconds.
    Timestamp,
    /// A calendar day, `YYYY-MM-DD`.
    Date,
    /// `true/false`, `1/0`, `yes/no`.
    Bool,
    /// A number from 0 to 1 inclusive (stage probabilities, target thresholds).
    Fraction,
    /// An exact decimal number kept as text (a target value, whose unit depends on its metric).
    Decimal,
    /// A decimal quantity that metrics add up (an event's hours, kilograms, meals): at most six
    /// decimals and a billion either way, stored as a double (exact for whole numbers and for
    /// halves, quarters, …; sums of other fractions are shown rounded).
    Number,
    /// A free-text kind that names something counted (`meals_served`): trimmed, lower-cased,
    /// spaces and dashes turned into one underscore (`Meals Served` → `meals_served`); letters,
    /// digits and underscores only, so it reads well as part of a metric's name.
    Kind,
}

/// A field's default when the input leaves it empty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Default {
    /// Stays null (absent).
    None,
    /// This text (enums and categories).
    Text(&'static str),
    Int(i64),
    Bool(bool),
    Real(f64),
    /// The clock of the write.
    Now,
}

/// One field of an entity.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: bool,
    pub default: Default,
    /// What the field means, for generated documentation.
    pub doc: &'static str,
}

const fn req(name: &'static str, ty: FieldType, doc: &'static str) -> Field {
    Field { name, ty, required: true, default: Default::None, doc }
}

const fn opt(name: &'static str, ty: FieldType, doc: &'static str) -> Field {
    Field { name, ty, required: false, default: Default::None, doc }
}

const fn dflt(name: &'static str, ty: FieldType, default: Default, doc: &'static str) -> Field {
    Field { name, ty, required: false, default, doc }
}

use FieldType as T;

pub const ROLES: &[&str] = &["admin", "manager", "rep", "viewer"];
pub const LEAD_STATUSES: &[&str] = &["new", "contacted", "qualified", "disqualified", "converted"];
pub const STAGE_KINDS: &[&str] = &["open", "won", "lost"];
pub const DEAL_STATUSES: &[&str] = &["open", "won", "lost"];
pub const DEAL_TYPES: &[&str] = &["new_business", "upsell", "cross_sell", "renewal"];
pub const ACTIVITY_KINDS: &[&str] =
    &["call", "email", "meeting", "demo", "proposal", "event", "social", "task", "note"];
pub const DIRECTIONS: &[&str] = &["outbound", "inbound"];
pub const ORDER_STATUSES: &[&str] = &["placed", "fulfilled", "cancelled", "returned"];
pub const MOVEMENT_REASONS: &[&str] = &["sale", "restock", "adjustment", "return"];
pub const COST_CATEGORIES: &[&str] = &["marketing", "sales", "service", "overhead", "other"];
pub const EMAIL_EVENT_KINDS: &[&str] =
    &["sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"];
pub const SURVEY_KINDS: &[&str] = &["nps", "csat"];
pub const TARGET_PERIODS: &[&str] = &["week", "month", "quarter", "year"];
pub const TARGET_SPLITS: &[&str] = &["calendar", "even", "seasonal"];

const ID: Field = req("id", T::Id, "the record's id, unique within its entity");
const CREATED_AT: Field = req("created_at", T::Timestamp, "when the record was created");
const OWNER: Field = opt("owner_id", T::Ref(Entity::Users), "the user who owns it");

const USERS: &[Field] = &[
    ID,
    req("name", T::Text, "the person's name"),
    opt("email", T::Text, "e-mail address"),
    dflt(
        "role",
        T::Enum(ROLES),
        Default::Text("rep"),
        "what the user may do; reps are the heads that targets are shared among",
    ),
    opt("team_id", T::Ref(Entity::Teams), "the user's team"),
    dflt(
        "active",
        T::Bool,
        Default::Bool(true),
        "inactive users keep their records but take no share of targets",
    ),
    dflt("created_at", T::Timestamp, Default::Now, "when the user was added"),
];

const TEAMS: &[Field] = &[
    ID,
    req("name", T::Text, "the team's name"),
    opt("parent_id", T::Ref(Entity::Teams), "the team this one belongs to"),
];

const ACCOUNTS: &[Field] = &[
    ID,
    req("name", T::Text, "company or customer name"),
    opt("segment", T::Category, "market segment, e.g. smb, enterprise, consumer"),
    opt("industry", T::Category, "industry"),
    opt("region", T::Category, "region"),
    OWNER,
    CREATED_AT,
];

const CONTACTS: &[Field] = &[
    ID,
    req("name", T::Text, "the person's name"),
    opt("email", T::Text, "e-mail address"),
    opt("phone", T::Text, "phone number"),
    opt("account_id", T::Ref(Entity::Accounts), "the account the person works at"),
    OWNER,
    CREATED_AT,
];

const LEADS: &[Field] = &[
    ID,
    CREATED_AT,
    req(
        "source",
        T::Category,
        "how the lead came: web, referral, cold_call, email, event, social, partner, …",
    ),
    opt("campaign_id", T::Ref(Entity::Campaigns), "the campaign it is attributed to"),
    OWNER,
    opt("account_id", T::Ref(Entity::Accounts), "the lead's company"),
    opt("contact_id", T::Ref(Entity::Contacts), "the lead's person"),
    dflt(
        "status",
        T::Enum(LEAD_STATUSES),
        Default::Text("new"),
        "where the lead stands; converted exactly when converted_at is set",
    ),
    opt("first_response_at", T::Timestamp, "the first time a rep answered it"),
    opt("qualified_at", T::Timestamp, "when it was qualified"),
    opt("converted_at", T::Timestamp, "when it became a deal"),
    opt("deal_id", T::Ref(Entity::Deals), "the deal it became"),
    opt("disqualified_reason", T::Category, "why it was disqualified"),
];

const PIPELINES: &[Field] = &[ID, req("name", T::Text, "the pipeline's name")];

const STAGES: &[Field] = &[
    ID,
    req("pipeline_id", T::Ref(Entity::Pipelines), "the pipeline the stage belongs to"),
    req("name", T::Text, "the stage's name"),
    req("position", T::Int { min: None }, "the stage's place in the pipeline's order"),
    opt(
        "probability",
        T::Fraction,
        "chance (0–1) that a deal in this stage is won; default linear by position",
    ),
    dflt(
        "kind",
        T::Enum(STAGE_KINDS),
        Default::Text("open"),
        "open, won or lost; each pipeline has one won and at least one lost stage",
    ),
];

const DEALS: &[Field] = &[
    ID,
    opt("name", T::Text, "the deal's name"),
    req("pipeline_id", T::Ref(Entity::Pipelines), "its pipeline"),
    req("stage_id", T::Ref(Entity::Stages), "its current stage"),
    opt("account_id", T::Ref(Entity::Accounts), "the customer"),
    req("owner_id", T::Ref(Entity::Users), "the user who owns it"),
    req("amount", T::Money, "its value"),
    CREATED_AT,
    opt("expected_close_on", T::Date, "when it is expected to close"),
    opt("closed_at", T::Timestamp, "when it was won or lost; set exactly when it is closed"),
    opt(
        "status",
        T::Enum(DEAL_STATUSES),
        "open, won or lost: derived from the stage's kind (a contradicting value is an error)",
    ),
    opt("lost_reason", T::Category, "why it was lost"),
    opt("competitor", T::Category, "who won it instead"),
    opt("source", T::Category, "where it came from"),
    opt("campaign_id", T::Ref(Entity::Campaigns), "the campaign it is attributed to"),
    dflt(
        "deal_type",
        T::Enum(DEAL_TYPES),
        Default::Text("new_business"),
        "new_business, upsell, cross_sell or renewal",
    ),
    opt("contract_months", T::Int { min: Some(0) }, "contract length in months"),
];

const STAGE_CHANGES: &[Field] = &[
    req("deal_id", T::Ref(Entity::Deals), "the deal that moved"),
    req("stage_id", T::Ref(Entity::Stages), "the stage it entered"),
    req("changed_at", T::Timestamp, "when it entered the stage"),
    opt("changed_by", T::Ref(Entity::Users), "who moved it"),
];

const ACTIVITIES: &[Field] = &[
    ID,
    req(
        "kind",
        T::Enum(ACTIVITY_KINDS),
        "call, email, meeting, demo, proposal, event, social, task or note",
    ),
    req("occurred_at", T::Timestamp, "when it happened"),
    req("owner_id", T::Ref(Entity::Users), "who did it"),
    dflt("direction", T::Enum(DIRECTIONS), Default::Text("outbound"), "outbound or inbound"),
    opt(
        "outcome",
        T::Category,
        "connected, no_answer, voicemail, replied, booked, held, no_show, positive, negative, …",
    ),
    opt("lead_id", T::Ref(Entity::Leads), "the lead it concerns"),
    opt("deal_id", T::Ref(Entity::Deals), "the deal it concerns"),
    opt("contact_id", T::Ref(Entity::Contacts), "the person it concerns"),
    opt("account_id", T::Ref(Entity::Accounts), "the account it concerns"),
    opt("duration_s", T::Int { min: Some(0) }, "how long it took, in seconds"),
    opt("subject", T::Text, "a short description"),
    opt("due_at", T::Timestamp, "a task's or follow-up's due time (kind task)"),
    opt("done", T::Bool, "whether a task is done (a task without it is open)"),
];

const PRODUCTS: &[Field] = &[
    ID,
    opt("sku", T::Text, "stock-keeping unit"),
    req("name", T::Text, "the product's name"),
    opt("category", T::Category, "product category"),
    req("unit_price", T::Money, "list price of one unit"),
    opt("unit_cost", T::Money, "cost of one unit"),
    dflt(
        "opening_stock",
        T::Int { min: None },
        Default::Int(0),
        "stock before the first recorded movement",
    ),
    opt(
        "reorder_level",
        T::Int { min: None },
        "stock at or below which it is flagged for reordering",
    ),
];

const ORDERS: &[Field] = &[
    ID,
    req("account_id", T::Ref(Entity::Accounts), "the customer"),
    req("placed_at", T::Timestamp, "when it was placed"),
    opt("channel", T::Category, "store, web, phone, partner, …"),
    OWNER,
    dflt(
        "status",
        T::Enum(ORDER_STATUSES),
        Default::Text("placed"),
        "placed, fulfilled, cancelled or returned",
    ),
    opt("fulfilled_at", T::Timestamp, "when it was fulfilled"),
    opt("promised_on", T::Date, "the delivery date promised"),
    opt(
        "total",
        T::Money,
        "the order's total; when absent, the sum of its lines; when given, checked against them",
    ),
];

const ORDER_LINES: &[Field] = &[
    req("order_id", T::Ref(Entity::Orders), "the order"),
    req("line", T::Int { min: Some(1) }, "position in the order"),
    req("product_id", T::Ref(Entity::Products), "the product sold"),
    req("quantity", T::Int { min: Some(1) }, "units sold"),
    req("unit_price", T::Money, "price of one unit"),
    dflt("discount", T::Money, Default::Int(0), "discount on the whole line"),
];

const INVENTORY_MOVEMENTS: &[Field] = &[
    ID,
    req("product_id", T::Ref(Entity::Products), "the product"),
    req("delta", T::Int { min: None }, "units in (+) or out (−)"),
    req("reason", T::Enum(MOVEMENT_REASONS), "sale, restock, adjustment or return"),
    req("occurred_at", T::Timestamp, "when the stock moved"),
];

const CAMPAIGNS: &[Field] = &[
    ID,
    req("name", T::Text, "the campaign's name"),
    req("channel", T::Category, "email, social, event, search, print, …"),
    opt("started_on", T::Date, "first day"),
    opt("ended_on", T::Date, "last day"),
    opt("budget", T::Money, "planned spend"),
];

const COSTS: &[Field] = &[
    ID,
    req("incurred_on", T::Date, "the day the cost was incurred"),
    req("category", T::Enum(COST_CATEGORIES), "marketing, sales, service, overhead or other"),
    req("amount", T::Money, "the amount spent"),
    opt("campaign_id", T::Ref(Entity::Campaigns), "the campaign it was spent on"),
    opt("team_id", T::Ref(Entity::Teams), "the team it is charged to"),
    OWNER,
    opt("note", T::Text, "a note"),
];

const WEB_VISITS: &[Field] = &[
    req("day", T::Date, "the day"),
    req("source", T::Category, "where the visitors came from"),
    req("visitors", T::Int { min: Some(0) }, "number of visitors"),
];

const EMAIL_EVENTS: &[Field] = &[
    ID,
    req("message_id", T::Text, "the message the event belongs to"),
    req(
        "kind",
        T::Enum(EMAIL_EVENT_KINDS),
        "sent, delivered, opened, clicked, replied, bounced or unsubscribed",
    ),
    req("occurred_at", T::Timestamp, "when it happened"),
    OWNER,
    opt("lead_id", T::Ref(Entity::Leads), "the lead it was sent to"),
    opt("contact_id", T::Ref(Entity::Contacts), "the contact it was sent to"),
    opt("campaign_id", T::Ref(Entity::Campaigns), "the campaign it belongs to"),
];

const SURVEYS: &[Field] = &[
    ID,
    req("kind", T::Enum(SURVEY_KINDS), "nps or csat"),
    req("score", T::Int { min: Some(0) }, "nps 0–10, csat 1–5"),
    req("answered_at", T::Timestamp, "when it was answered"),
    opt("account_id", T::Ref(Entity::Accounts), "the customer"),
    opt("contact_id", T::Ref(Entity::Contacts), "the person who answered"),
];

const EVENTS: &[Field] = &[
    ID,
    req(
        "kind",
        T::Kind,
        "what is counted: meals_served, people_trained, volunteer_hours, co2_saved_kg, cash_in, … \
         (lower-cased, spaces become underscores)",
    ),
    req("occurred_at", T::Timestamp, "when it happened"),
    dflt(
        "quantity",
        T::Number,
        Default::Real(1.0),
        "how many or how much, in the kind's unit (meals, hours, kg); up to six decimals",
    ),
    opt("amount", T::Money, "money that came with it (cash in, a donation, a cost)"),
    OWNER,
    opt("team_id", T::Ref(Entity::Teams), "the team it belongs to"),
    opt("account_id", T::Ref(Entity::Accounts), "the customer, partner or beneficiary"),
    opt("campaign_id", T::Ref(Entity::Campaigns), "the campaign or programme it belongs to"),
    opt("note", T::Text, "a note"),
];

const TARGETS: &[Field] = &[
    ID,
    req("metric", T::Text, "the metric the target is set on"),
    req("scope", T::Text, "company, team:ID or user:ID"),
    req("period", T::Enum(TARGET_PERIODS), "week, month, quarter or year"),
    req("starts_on", T::Date, "the first day of the period"),
    req("value", T::Decimal, "the amount to reach (accumulating metrics) or the level to hold"),
    dflt(
        "split",
        T::Enum(TARGET_SPLITS),
        Default::Text("calendar"),
        "how the value spreads over the period: calendar, even or seasonal",
    ),
    dflt("at_risk", T::Fraction, Default::Real(0.9), "pace below which the target is at risk"),
    dflt("off_track", T::Fraction, Default::Real(0.75), "pace below which it is off track"),
    opt(
        "min_sample",
        T::Int { min: Some(1) },
        "for level metrics: how many observations are enough to judge",
    ),
];

impl Entity {
    /// Every entity, in an order in which files can be imported (references first).
    pub const ALL: [Entity; 21] = [
        Entity::Teams,
        Entity::Users,
        Entity::Accounts,
        Entity::Contacts,
        Entity::Campaigns,
        Entity::Pipelines,
        Entity::Stages,
        Entity::Deals,
        Entity::StageChanges,
        Entity::Leads,
        Entity::Activities,
        Entity::Products,
        Entity::Orders,
        Entity::OrderLines,
        Entity::InventoryMovements,
        Entity::Costs,
        Entity::WebVisits,
        Entity::EmailEvents,
        Entity::Surveys,
        Entity::Events,
        Entity::Targets,
    ];

    /// The entity's name as written in commands, files and URLs (`stage_changes`).
    pub fn name(self) -> &'static str {
        match self {
            Entity::Users => "users",
            Entity::Teams => "teams",
            Entity::Accounts => "accounts",
            Entity::Contacts => "contacts",
            Entity::Leads => "leads",
            Entity::Pipelines => "pipelines",
            Entity::Stages => "stages",
            Entity::Deals => "deals",
            Entity::StageChanges => "stage_changes",
            Entity::Activities => "activities",
            Entity::Products => "products",
            Entity::Orders => "orders",
            Entity::OrderLines => "order_lines",
            Entity::InventoryMovements => "inventory_movements",
            Entity::Campaigns => "campaigns",
            Entity::Costs => "costs",
            Entity::WebVisits => "web_visits",
            Entity::EmailEvents => "email_events",
            Entity::Surveys => "surveys",
            Entity::Events => "events",
            Entity::Targets => "targets",
        }
    }

    /// Parses an entity name (`deals`; `stage-changes` and upper case are accepted too).
    pub fn parse(text: &str) -> Result<Entity, crate::Error> {
        let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
        Entity::ALL
            .into_iter()
            .find(|e| e.name() == wanted)
            .ok_or_else(|| crate::Error::UnknownEntity { text: text.to_string() })
    }

    /// The names of all entities, in import order.
    pub fn names() -> Vec<&'static str> {
        Entity::ALL.iter().map(|e| e.name()).collect()
    }

    /// The entity's fields, in their canonical (export) order.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Entity::Users => USERS,
            Entity::Teams => TEAMS,
            Entity::Accounts => ACCOUNTS,
            Entity::Contacts => CONTACTS,
            Entity::Leads => LEADS,
            Entity::Pipelines => PIPELINES,
            Entity::Stages => STAGES,
            Entity::Deals => DEALS,
            Entity::StageChanges => STAGE_CHANGES,
            Entity::Activities => ACTIVITIES,
            Entity::Products => PRODUCTS,
            Entity::Orders => ORDERS,
            Entity::OrderLines => ORDER_LINES,
            Entity::InventoryMovements => INVENTORY_MOVEMENTS,
            Entity::Campaigns => CAMPAIGNS,
            Entity::Costs => COSTS,
            Entity::WebVisits => WEB_VISITS,
            Entity::EmailEvents => EMAIL_EVENTS,
            Entity::Surveys => SURVEYS,
            Entity::Events => EVENTS,
            Entity::Targets => TARGETS,
        }
    }

    /// The fields that identify a record: `["id"]`, or several for keyed entities.
    pub fn key(self) -> &'static [&'static str] {
        match self {
            Entity::StageChanges => &["deal_id", "stage_id", "changed_at"],
            Entity::WebVisits => &["day", "source"],
            Entity::OrderLines => &["order_id", "line"],
            _ => &["id"],
        }
    }

    /// Whether records are identified by a single `id` field.
    pub fn has_id(self) -> bool {
        self.key() == ["id"]
    }

    /// The index of a field by name.
    pub fn field_index(self, name: &str) -> Option<usize> {
        self.fields().iter().position(|f| f.name == name)
    }

    /// The field of that name.
    pub fn field(self, name: &str) -> Option<&'static Field> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// Whether any field holds money (so a `currency` column may accompany it).
    pub fn has_money(self) -> bool {
        self.fields().iter().any(|f| f.ty == FieldType::Money)
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_order_puts_references_first() {
        for (idx, entity) in Entity::ALL.iter().enumerate() {
            for field in entity.fields() {
                if let FieldType::Ref(target) = field.ty {
                    let target_idx = Entity::ALL.iter().position(|e| *e == target).unwrap();
                    assert!(
                        target_idx <= idx,
                        "{entity}.{} refers to {target}, which comes later",
                        field.name
                    );
                }
            }
        }
    }

    #[test]
    fn all_lists_entities_in_declaration_order() {
        // Stores index per-entity tables by `entity as usize`.
        for (idx, entity) in Entity::ALL.iter().enumerate() {
            assert_eq!(*entity as usize, idx, "{entity}");
        }
    }

    #[test]
    fn keys_name_required_fields() {
        for entity in Entity::ALL {
            for key in entity.key() {
                let field = entity.field(key).unwrap_or_else(|| panic!("{entity}.{key}"));
                assert!(field.required, "{entity}.{key} is a key and must be required");
            }
        }
    }

    #[test]
    fn entity_names_parse() {
        assert_eq!(Entity::parse("Stage-Changes"), Ok(Entity::StageChanges));
        let err = Entity::parse("dealz").unwrap_err().to_string();
        assert!(err.contains("deals") && err.contains("web_visits"), "{err}");
    }
}

/// The field reference of every entity as Markdown (docs/fields.md is generated from it, so the
/// documentation cannot drift from the schema).
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Fields of every entity\n\n\
         Generated from `crates/traction-domain/src/schema.rs` (run `UPDATE_DOCS=1 cargo test -p traction-domain` \
         after changing it). Entities are listed in an order in which their files can be imported: every \
         entity comes after the entities it refers to. `*` marks a required field.\n\n\
         **Bounds.** No real business comes near them, and they keep every sum and product exact or at least \
         finite: an amount (money) is at most 10^15 minor units either way of zero (10,000,000,000,000.00 in a \
         currency with cents, 1,000,000,000,000,000 yen); a whole number at most 1,000,000,000 either way; an \
         order line's quantity × unit_price − discount, and the sum of an order's lines, at most the largest \
         amount. A value past a bound is refused where it is written (a `422` from the API, an import error \
         naming line and column) and nothing is stored.\n",
    );
    for entity in Entity::ALL {
        out.push_str(&format!("\n## {entity}\n\n"));
        if !entity.has_id() {
            out.push_str(&format!(
                "Identified by ({}) instead of an id: importing a row with an existing key updates it.\n\n",
                entity.key().join(", ")
            ));
        }
        out.push_str("| field | type | default | meaning |\n| --- | --- | --- | --- |\n");
        for field in entity.fields() {
            let ty = match field.ty {
                FieldType::Id => "id".to_string(),
                FieldType::Text => "text".to_string(),
                FieldType::Category => "category (lower-cased)".to_string(),
                FieldType::Enum(words) => format!("one of {}", words.join(", ")),
                FieldType::Ref(target) => format!("id of a {target} record"),
                FieldType::Int { min: Some(min) } => format!("whole number ≥ {min}"),
                FieldType::Int { min: None } => "whole number".to_string(),
                FieldType::Money => "money".to_string(),
                FieldType::Timestamp => "timestamp".to_string(),
                FieldType::Date => "date".to_string(),
                FieldType::Bool => "boolean".to_string(),
                FieldType::Fraction => "number 0–1".to_string(),
                FieldType::Decimal => "decimal number".to_string(),
                FieldType::Number => "number (up to 6 decimals)".to_string(),
                FieldType::Kind => "kind (lower-case word, spaces become `_`)".to_string(),
            };
            let default = match field.default {
                Default::None => String::new(),
                Default::Text(t) => format!("`{t}`"),
                Default::Int(n) => format!("`{n}`"),
                Default::Bool(b) => format!("`{b}`"),
                Default::Real(x) => format!("`{x}`"),
                Default::Now => "the time of the import".to_string(),
            };
            let star = if field.required { "*" } else { "" };
            out.push_str(&format!(
                "| `{}`{star} | {ty} | {default} | {} |\n",
                field.name, field.doc
            ));
        }
    }
    out
}

#[cfg(test)]
mod docs_tests {
    #[test]
    fn docs_fields_md_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/fields.md");
        let generated = super::reference_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == generated,
            "docs/fields.md is stale: run `UPDATE_DOCS=1 cargo test -p traction-domain`"
        );
    }
}
