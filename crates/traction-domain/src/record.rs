//! Records: the values of one entity's fields, parsed from text exactly once.
//!
//! [`parse_field`] turns one cell of input into a [`Value`] (or says what is wrong and how to fix
//! it); [`check_record`] applies the rules that span the fields of one record (a lead's
//! `converted_at` against its status, a survey's score against its kind, …). Rules that span
//! records (a deal's stage, an order's lines) need the stored data and live in the store.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::Error;
use crate::money::{Currency, format_minor, parse_minor};
use crate::schema::{Default, Entity, Field, FieldType};
use crate::time::{Micros, format_instant, parse_date, parse_instant};

/// The largest whole number stored (a quantity, a stock level, a duration in seconds, a count
/// of visitors), either way of zero: a billion. Far beyond any real order line or stock, and
/// small enough that a quantity times a price, and sums of millions of them, are computed
/// without overflow.
pub const MAX_INT: i64 = 1_000_000_000;

/// One stored value. Money is [`Value::Int`] in minor units; decimals are normalised text.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    Real(f64),
    Bool(bool),
    Instant(Micros),
    Date(Date),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_instant(&self) -> Option<Micros> {
        match self {
            Value::Instant(n) => Some(*n),
            _ => None,
        }
    }
}

/// What parsing needs to know about the workspace.
#[derive(Clone, Debug)]
pub struct ParseContext {
    pub zone: TimeZone,
    pub currency: Currency,
    /// The clock of the write, for fields that default to now.
    pub now: Micros,
}

/// A record: one value per field of its entity, in the entity's field order.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub entity: Entity,
    pub values: Vec<Value>,
}

impl Record {
    /// The value of a field by name (`Value::Null` for an unknown name).
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.entity.field_index(name).map_or(&NULL, |idx| &self.values[idx])
    }

    /// Sets a field by name; unknown names are ignored.
    pub fn set(&mut self, name: &str, value: Value) {
        if let Some(idx) = self.entity.field_index(name) {
            self.values[idx] = value;
        }
    }

    /// The record's key as text, `/`-joined for keyed entities (for messages and events).
    pub fn key_text(&self) -> String {
        self.entity.key().iter().map(|k| display_value(self.get(k))).collect::<Vec<_>>().join("/")
    }
}

/// Checks a record id: 1–128 printable ASCII characters, no spaces.
pub fn check_id(text: &str) -> Result<(), Error> {
    if text.is_empty() || text.len() > 128 {
        return Err(Error::IdLength { text: text.to_string() });
    }
    if let Some(found) = text.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(Error::IdCharacter { text: text.to_string(), found });
    }
    Ok(())
}

/// Parses one input cell for `field`. An empty cell gives the field's default (or null); a
/// missing required value is an error.
pub fn parse_field(field: &Field, raw: &str, ctx: &ParseContext) -> Result<Value, Error> {
    let text = raw.trim();
    if text.is_empty() {
        return match field.default {
            Default::None if field.required => Err(Error::Missing),
            Default::None => Ok(Value::Null),
            Default::Text(t) => Ok(Value::Text(t.to_string())),
            Default::Int(n) => Ok(Value::Int(n)),
            Default::Bool(b) => Ok(Value::Bool(b)),
            Default::Real(r) => Ok(Value::Real(r)),
            Default::Now => Ok(Value::Instant(ctx.now)),
        };
    }
    match field.ty {
        FieldType::Id | FieldType::Ref(_) => {
            check_id(text)?;
            Ok(Value::Text(text.to_string()))
        }
        FieldType::Text => Ok(Value::Text(text.to_string())),
        FieldType::Category => Ok(Value::Text(text.to_lowercase())),
        FieldType::Enum(allowed) => {
            let word = text.to_lowercase();
            if allowed.contains(&word.as_str()) {
                Ok(Value::Text(word))
            } else {
                Err(Error::NotAllowed { text: text.to_string(), allowed })
            }
        }
        FieldType::Int { min } => {
            let n: i64 = text.parse().map_err(|_| {
                if text.trim_start_matches(['-', '+']).bytes().all(|b| b.is_ascii_digit())
                    && !text.is_empty()
                {
                    Error::WholeTextTooLarge { text: text.to_string() }
                } else if text.parse::<f64>().is_ok() {
                    Error::NotWholeHasDecimals { text: text.to_string() }
                } else {
                    Error::NotWhole { text: text.to_string() }
                }
            })?;
            match min {
                Some(min) if n < min => Err(Error::TooSmall { value: n, min }),
                _ if n.unsigned_abs() > MAX_INT.unsigned_abs() => {
                    Err(Error::WholeTooLarge { value: n })
                }
                _ => Ok(Value::Int(n)),
            }
        }
        FieldType::Money => parse_minor(text, ctx.currency).map(Value::Int),
        FieldType::Timestamp => parse_instant(text, &ctx.zone).map(Value::Instant),
        FieldType::Date => parse_date(text).map(Value::Date),
        FieldType::Bool => match text.to_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Value::Bool(true)),
            "false" | "0" | "no" => Ok(Value::Bool(false)),
            _ => Err(Error::NotBool { text: text.to_string() }),
        },
        FieldType::Fraction => {
            let x: f64 = text
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| Error::NotFraction { text: text.to_string() })?;
            if (0.0..=1.0).contains(&x) {
                Ok(Value::Real(x))
            } else {
                Err(Error::FractionOutOfRange { text: text.to_string() })
            }
        }
        FieldType::Decimal => normalise_decimal(text).map(Value::Text),
        FieldType::Number => parse_number(text).map(Value::Real),
        FieldType::Kind => normalise_kind(text).map(Value::Text),
    }
}

/// The most decimals a [`FieldType::Number`] may have.
pub const NUMBER_DECIMALS: usize = 6;

/// Parses a quantity: a plain decimal with at most [`NUMBER_DECIMALS`] decimals, at most
/// [`MAX_INT`] either way.
pub fn parse_number(text: &str) -> Result<f64, Error> {
    let normal = normalise_decimal(text)?;
    let decimals = normal.split_once('.').map_or(0, |(_, frac)| frac.len());
    if decimals > NUMBER_DECIMALS {
        return Err(Error::TooManyDecimals { text: text.to_string(), decimals });
    }
    let x: f64 = normal.parse().map_err(|_| Error::NotNumber { text: text.to_string() })?;
    if x.abs() > MAX_INT as f64 {
        return Err(Error::NumberTooLarge { text: text.to_string() });
    }
    Ok(x)
}

/// Normalises a free-text kind: trimmed, lower-cased, each run of spaces, dashes and
/// underscores one `_` (`" Meals  Served "` → `meals_served`); letters and digits otherwise.
pub fn normalise_kind(text: &str) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() || c == '-' || c == '_' {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        } else if c.is_alphanumeric() {
            out.push(c);
        } else {
            return Err(Error::KindCharacter { text: text.to_string(), found: c });
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        return Err(Error::KindEmpty { text: text.to_string() });
    }
    if out.chars().count() > 64 {
        return Err(Error::KindTooLong { text: text.to_string() });
    }
    Ok(out)
}

/// Normalises an exact decimal (`"084000.50"` → `"84000.5"`), refusing anything else.
pub fn normalise_decimal(text: &str) -> Result<String, Error> {
    let s = text.trim();
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = !(int_part.is_empty() && frac_part.is_empty())
        && int_part.bytes().all(|b| b.is_ascii_digit())
        && frac_part.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(Error::NotDecimal { text: text.to_string() });
    }
    let int_part = int_part.trim_start_matches('0');
    let frac_part = frac_part.trim_end_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let mut out = String::new();
    if negative && (int_part != "0" || !frac_part.is_empty()) {
        out.push('-');
    }
    out.push_str(int_part);
    if !frac_part.is_empty() {
        out.push('.');
        out.push_str(frac_part);
    }
    Ok(out)
}

/// A value written back as import text (the inverse of [`parse_field`] for stored values).
pub fn format_value(field: &Field, value: &Value, currency: Currency) -> String {
    match (field.ty, value) {
        (_, Value::Null) => String::new(),
        (FieldType::Money, Value::Int(minor)) => format_minor(*minor, currency),
        (_, v) => display_value(v),
    }
}

/// A value as plain text, without knowledge of its field (money shows as minor units).
pub fn display_value(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Text(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        Value::Real(x) => format_real(*x),
        Value::Bool(b) => b.to_string(),
        Value::Instant(micros) => format_instant(*micros),
        Value::Date(d) => d.to_string(),
    }
}

/// Shortest text that reads back as the same f64 (`0.9`, not `0.9000000000000000222`).
pub fn format_real(x: f64) -> String {
    let s = format!("{x}");
    if s.contains('e') { format!("{x:.17}") } else { s }
}

/// A problem with one field of a record (or with the record as a whole when `field` is empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: &str, message: impl Into<String>) -> FieldProblem {
        FieldProblem { field: field.to_string(), message: message.into() }
    }
}

/// The rules that span fields of one record (data-model.md, Consistency).
pub fn check_record(record: &Record) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let not_before = |problems: &mut Vec<FieldProblem>, later: &str, earlier: &str| {
        if let (Some(l), Some(e)) =
            (record.get(later).as_instant(), record.get(earlier).as_instant())
            && l < e
        {
            problems.push(FieldProblem::new(
                later,
                format!(
                    "is before {earlier} ({}): {later} ({}) cannot be earlier",
                    format_instant(e),
                    format_instant(l)
                ),
            ));
        }
    };
    match record.entity {
        Entity::Leads => {
            for later in ["first_response_at", "qualified_at", "converted_at"] {
                not_before(&mut problems, later, "created_at");
            }
            let converted = record.get("status").as_text() == Some("converted");
            let has_converted_at = !record.get("converted_at").is_null();
            if converted && !has_converted_at {
                problems.push(FieldProblem::new(
                    "converted_at",
                    "a converted lead needs converted_at: give the time it became a deal",
                ));
            }
            if !converted && has_converted_at {
                problems.push(FieldProblem::new(
                    "status",
                    format!(
                        "status is {:?} but converted_at is set: a lead with converted_at has status converted",
                        record.get("status").as_text().unwrap_or("")
                    ),
                ));
            }
        }
        Entity::Deals => not_before(&mut problems, "closed_at", "created_at"),
        Entity::Orders => not_before(&mut problems, "fulfilled_at", "placed_at"),
        Entity::OrderLines => {
            // The line's total must be an amount like any other.
            let (quantity, price, discount) = (
                record.get("quantity").as_int().unwrap_or(0),
                record.get("unit_price").as_int().unwrap_or(0),
                record.get("discount").as_int().unwrap_or(0),
            );
            let total = crate::orders::line_amount(quantity, price, discount);
            if total.unsigned_abs() > crate::money::MAX_MINOR.unsigned_abs().into() {
                problems.push(FieldProblem::new(
                    "quantity",
                    format!(
                        "the line comes to {quantity} × unit_price − discount, more than the largest amount stored ({} minor units): split it or check the quantity and price",
                        crate::money::MAX_MINOR
                    ),
                ));
            }
        }
        Entity::Surveys => {
            let score = record.get("score").as_int().unwrap_or(0);
            let (lo, hi) = match record.get("kind").as_text() {
                Some("csat") => (1, 5),
                _ => (0, 10),
            };
            if !(lo..=hi).contains(&score) {
                let kind = record.get("kind").as_text().unwrap_or("nps");
                problems.push(FieldProblem::new(
                    "score",
                    format!("{score} is out of range for {kind}: scores go from {lo} to {hi}"),
                ));
            }
        }
        Entity::Campaigns => {
            if let (Value::Date(start), Value::Date(end)) =
                (record.get("started_on"), record.get("ended_on"))
                && end < start
            {
                problems.push(FieldProblem::new(
                    "ended_on",
                    format!("ended_on {end} is before started_on {start}"),
                ));
            }
        }
        Entity::Targets => check_target(record, &mut problems),
        _ => {}
    }
    problems
}

fn check_target(record: &Record, problems: &mut Vec<FieldProblem>) {
    let scope = record.get("scope").as_text().unwrap_or("");
    let scope_ok = scope == "company"
        || scope.strip_prefix("team:").is_some_and(|id| check_id(id).is_ok())
        || scope.strip_prefix("user:").is_some_and(|id| check_id(id).is_ok());
    if !scope_ok {
        problems.push(FieldProblem::new(
            "scope",
            format!("{scope:?} is not a scope: write company, team:ID or user:ID"),
        ));
    }
    if let Value::Date(start) = record.get("starts_on") {
        let aligned = match record.get("period").as_text() {
            Some("week") => start.weekday() == jiff::civil::Weekday::Monday,
            Some("month") | Some("quarter") | Some("year") => start.day() == 1,
            _ => true,
        };
        if !aligned {
            let what = if record.get("period").as_text() == Some("week") {
                "a Monday"
            } else {
                "the first day of a month"
            };
            problems.push(FieldProblem::new(
                "starts_on",
                format!("{start} does not start a period of this kind: use {what}"),
            ));
        }
    }
    if let (Value::Real(at_risk), Value::Real(off_track)) =
        (record.get("at_risk"), record.get("off_track"))
        && off_track > at_risk
    {
        problems.push(FieldProblem::new(
            "off_track",
            format!("off_track {off_track} is above at_risk {at_risk}: it must be at most at_risk"),
        ));
    }
}

/// Whether a CSV cell would be read by a spreadsheet as a formula: it starts, after any
/// apostrophes, with `=`, `+`, `-`, `@`, a tab or a carriage return, and is not a plain number.
fn looks_like_formula(cell: &str) -> bool {
    let rest = cell.trim_start_matches('\'');
    let Some(first) = rest.chars().next() else { return false };
    if !matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r') {
        return false;
    }
    // -3, -3.50, +12: numbers stay numbers.
    !(cell == rest && cell.parse::<f64>().is_ok() && !cell.contains(['e', 'E', 'i', 'n', 'N']))
}

/// A CSV cell made safe to open in a spreadsheet: a cell that would be read as a formula gets
/// a leading apostrophe, which spreadsheets show as text. [`spreadsheet_unescape`] undoes it, so
/// export → import gives back the value exactly (a value that itself starts with apostrophes
/// before such a character gets one more, and loses one on import).
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if looks_like_formula(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The inverse of [`spreadsheet_safe`]: one leading apostrophe is dropped from a cell that is
/// apostrophes followed by a formula character.
pub fn spreadsheet_unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ParseContext {
        ParseContext { zone: TimeZone::UTC, currency: Currency::USD, now: 0 }
    }

    /// The message of a refusal, as a person reads it.
    fn parse(entity: Entity, field: &str, raw: &str) -> Result<Value, String> {
        parse_field(entity.field(field).unwrap(), raw, &ctx()).map_err(|e| e.to_string())
    }

    #[test]
    fn event_kinds_are_normalised_to_one_word() {
        for (raw, kind) in [
            ("meals_served", "meals_served"),
            ("Meals Served", "meals_served"),
            ("  VOLUNTEER   hours ", "volunteer_hours"),
            ("co2-saved-KG", "co2_saved_kg"),
            ("people__trained_", "people_trained"),
            ("Repas Servis", "repas_servis"),
        ] {
            assert_eq!(parse(Entity::Events, "kind", raw), Ok(Value::Text(kind.into())), "{raw:?}");
        }
        for raw in ["meals/served", "___", "cash in €"] {
            let err = parse(Entity::Events, "kind", raw).unwrap_err();
            assert!(err.contains("not a kind"), "{raw:?}: {err}");
        }
        assert_eq!(parse(Entity::Events, "kind", ""), Err("is required and is missing".into()));
    }

    #[test]
    fn event_quantity_is_a_decimal_defaulting_to_one() {
        assert_eq!(parse(Entity::Events, "quantity", ""), Ok(Value::Real(1.0)));
        assert_eq!(parse(Entity::Events, "quantity", "2.5"), Ok(Value::Real(2.5)));
        assert_eq!(parse(Entity::Events, "quantity", "-3"), Ok(Value::Real(-3.0)));
        assert_eq!(parse(Entity::Events, "quantity", "0.000001"), Ok(Value::Real(0.000001)));
        let err = parse(Entity::Events, "quantity", "0.0000001").unwrap_err();
        assert!(err.contains("7 decimals"), "{err}");
        assert!(parse(Entity::Events, "quantity", "1e3").unwrap_err().contains("not a number"));
        assert!(parse(Entity::Events, "quantity", "2000000000").unwrap_err().contains("too large"));
    }

    #[test]
    fn spreadsheet_escaping_neutralises_formulas_and_round_trips() {
        for (value, escaped) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1 555", "'+1 555"),
            ("-x", "'-x"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("'=already", "''=already"),
            ("-3", "-3"),
            ("-3.50", "-3.50"),
            ("+12", "+12"),
            ("plain", "plain"),
            ("'quoted", "'quoted"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(value), escaped, "{value:?}");
            assert_eq!(spreadsheet_unescape(escaped), value, "{escaped:?}");
        }
    }

    #[test]
    fn whole_numbers_past_the_bound_are_refused_with_the_bound() {
        assert_eq!(parse(Entity::OrderLines, "quantity", "1000000000"), Ok(Value::Int(MAX_INT)));
        for raw in ["1000000001", "9223372036854775807", "9223372036854775808"] {
            let err = parse(Entity::OrderLines, "quantity", raw).unwrap_err();
            assert!(err.contains("too large") && err.contains("1000000000"), "{raw}: {err}");
        }
        assert!(parse(Entity::InventoryMovements, "delta", "-1000000001").is_err());
        assert_eq!(
            parse(Entity::InventoryMovements, "delta", "-1000000000"),
            Ok(Value::Int(-MAX_INT))
        );
    }

    #[test]
    fn an_order_line_whose_total_passes_the_largest_amount_is_refused() {
        let line = |quantity: i64, price: i64| {
            let mut values = vec![Value::Null; Entity::OrderLines.fields().len()];
            for (name, value) in [
                ("quantity", Value::Int(quantity)),
                ("unit_price", Value::Int(price)),
                ("discount", Value::Int(0)),
            ] {
                values[Entity::OrderLines.field_index(name).unwrap()] = value;
            }
            check_record(&Record { entity: Entity::OrderLines, values })
        };
        assert!(line(1000, crate::money::MAX_MINOR / 1000).is_empty());
        let problems = line(1001, crate::money::MAX_MINOR / 1000);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "quantity");
        assert!(line(MAX_INT, MAX_INT * 1000).len() == 1, "10^9 × 10^12 is past 10^15");
    }

    #[test]
    fn enums_and_categories_are_normalised() {
        assert_eq!(parse(Entity::Deals, "deal_type", " Upsell "), Ok(Value::Text("upsell".into())));
        assert_eq!(parse(Entity::Leads, "source", "Web "), Ok(Value::Text("web".into())));
        let err = parse(Entity::Activities, "kind", "fax").unwrap_err();
        assert!(err.contains("call, email, meeting"), "{err}");
    }

    #[test]
    fn empty_cells_take_defaults_or_are_missing() {
        assert_eq!(parse(Entity::Users, "role", ""), Ok(Value::Text("rep".into())));
        assert_eq!(parse(Entity::Users, "active", ""), Ok(Value::Bool(true)));
        assert_eq!(parse(Entity::Users, "email", ""), Ok(Value::Null));
        assert!(parse(Entity::Deals, "amount", "").unwrap_err().contains("required"));
    }

    #[test]
    fn numbers_booleans_and_ids_are_checked() {
        assert_eq!(parse(Entity::OrderLines, "quantity", "3"), Ok(Value::Int(3)));
        assert!(parse(Entity::OrderLines, "quantity", "0").unwrap_err().contains("least"));
        assert!(parse(Entity::OrderLines, "quantity", "2.5").unwrap_err().contains("whole"));
        assert_eq!(parse(Entity::Users, "active", "No"), Ok(Value::Bool(false)));
        assert!(parse(Entity::Users, "active", "maybe").is_err());
        assert!(parse(Entity::Users, "id", "has space").unwrap_err().contains("without spaces"));
        assert!(parse(Entity::Users, "id", &"x".repeat(129)).is_err());
        assert!(
            parse(Entity::Stages, "probability", "1.5").unwrap_err().contains("between 0 and 1")
        );
    }

    #[test]
    fn decimals_normalise() {
        assert_eq!(normalise_decimal("084000.50").unwrap(), "84000.5");
        assert_eq!(normalise_decimal("-0.0").unwrap(), "0");
        assert_eq!(normalise_decimal(".25").unwrap(), "0.25");
        assert!(normalise_decimal("1e3").is_err());
    }

    fn record(entity: Entity, fields: &[(&str, &str)]) -> Record {
        let mut rec = Record { entity, values: vec![Value::Null; entity.fields().len()] };
        for field in entity.fields() {
            let raw = fields.iter().find(|(n, _)| *n == field.name).map_or("", |(_, v)| *v);
            let value = parse_field(field, raw, &ctx()).unwrap_or(Value::Null);
            rec.set(field.name, value);
        }
        rec
    }

    #[test]
    fn lead_status_and_converted_at_agree() {
        let ok = record(
            Entity::Leads,
            &[
                ("created_at", "2026-01-01"),
                ("status", "converted"),
                ("converted_at", "2026-01-02"),
            ],
        );
        assert!(check_record(&ok).is_empty());
        let missing =
            record(Entity::Leads, &[("created_at", "2026-01-01"), ("status", "converted")]);
        assert_eq!(check_record(&missing)[0].field, "converted_at");
        let contradiction = record(
            Entity::Leads,
            &[("created_at", "2026-01-01"), ("status", "new"), ("converted_at", "2026-01-02")],
        );
        assert_eq!(check_record(&contradiction)[0].field, "status");
        let early = record(
            Entity::Leads,
            &[("created_at", "2026-01-05"), ("first_response_at", "2026-01-02")],
        );
        assert!(check_record(&early)[0].message.contains("before created_at"));
    }

    #[test]
    fn survey_scores_depend_on_kind() {
        let nps = record(Entity::Surveys, &[("kind", "nps"), ("score", "10")]);
        assert!(check_record(&nps).is_empty());
        let csat = record(Entity::Surveys, &[("kind", "csat"), ("score", "0")]);
        assert!(check_record(&csat)[0].message.contains("from 1 to 5"));
    }

    #[test]
    fn targets_check_scope_and_alignment() {
        let bad = record(
            Entity::Targets,
            &[("scope", "squad:x"), ("period", "week"), ("starts_on", "2026-11-03")],
        );
        let problems = check_record(&bad);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
