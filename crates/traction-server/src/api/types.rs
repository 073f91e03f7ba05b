//! The JSON shapes of records (spec: interfaces.md, HTTP API; data-model.md, Conventions).
//!
//! A record is a JSON object of its fields, named as in data-model.md. On output, money is a JSON
//! number in major units, instants are RFC 3339 UTC strings, dates `YYYY-MM-DD`. On input, each
//! value is read from its literal JSON text (serde_json's `RawValue`) and handed to the domain's
//! [`parse_field`], the same parser the importer uses, so `1234.50` becomes 123450 minor units
//! exactly and never passes through binary floating point.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use traction_domain::money::minor_to_major_f64;
use traction_domain::record::parse_field;
use traction_domain::time::format_instant;
use traction_domain::{Currency, Entity, Field, FieldType, ParseContext, Record, Value};

use crate::error::{ApiError, Detail};

/// A JSON object with each value's literal text, in the order given.
#[derive(Debug)]
pub struct JsonObject(pub Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<JsonObject, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = JsonObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of a record's fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonObject, A::Error> {
                let mut entries: Vec<(String, Box<RawValue>)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Box<RawValue>>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!(
                            "the field {key:?} appears twice: give each field once"
                        )));
                    }
                    entries.push((key, value));
                }
                Ok(JsonObject(entries))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A create body: one record, or an array of them.
#[derive(Debug)]
pub enum Body {
    One(JsonObject),
    Many(Vec<JsonObject>),
}

/// Reads a request body as one JSON object or an array of objects; anything else is a 400.
pub fn parse_body(bytes: &[u8], allow_array: bool) -> Result<Body, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let res = match first {
        Some(b'{') => serde_json::from_slice::<JsonObject>(bytes).map(Body::One),
        Some(b'[') if allow_array => {
            serde_json::from_slice::<Vec<JsonObject>>(bytes).map(Body::Many)
        }
        None => return Err(ApiError::bad_request("the request body is empty: send a JSON object")),
        Some(_) => {
            let what =
                if allow_array { "a JSON object or an array of objects" } else { "a JSON object" };
            return Err(ApiError::bad_request(format!("the request body must be {what}")));
        }
    };
    res.map_err(|e| {
        let detail = Detail {
            line: Some(e.line() as u64),
            column: Some(e.column().to_string()),
            problem: e.to_string(),
            ..Detail::default()
        };
        ApiError::BadRequest {
            message: format!("the body is not valid JSON: {e}"),
            details: vec![detail],
        }
    })
}

/// What a value of this field looks like in JSON, for messages.
fn expected(field: &Field) -> &'static str {
    match field.ty {
        FieldType::Int { .. } => "a whole number",
        FieldType::Money => {
            "an amount in major units (a number such as 1234.5, or a decimal string)"
        }
        FieldType::Fraction => "a number from 0 to 1",
        FieldType::Decimal | FieldType::Number => "a number",
        FieldType::Bool => "true or false",
        FieldType::Timestamp => "a timestamp string such as \"2026-03-04T09:15:00Z\"",
        FieldType::Date => "a date string such as \"2026-03-04\"",
        FieldType::Id | FieldType::Ref(_) => "an id string",
        FieldType::Text | FieldType::Category | FieldType::Enum(_) | FieldType::Kind => "a string",
    }
}

/// The input text of one JSON value for `field`: what an import cell would hold. Strings are
/// accepted for every type (as in a CSV file); numbers only for numeric fields, booleans only
/// for boolean fields, so `{"name": 5}` is refused rather than stored as `"5"`.
fn cell_text(field: &Field, raw: &RawValue) -> Result<String, CellError> {
    let text = raw.get().trim();
    let numeric = matches!(
        field.ty,
        FieldType::Int { .. }
            | FieldType::Money
            | FieldType::Fraction
            | FieldType::Decimal
            | FieldType::Number
    );
    match text.as_bytes().first() {
        Some(b'n') => Ok(String::new()),
        Some(b'"') => serde_json::from_str::<String>(text).map_err(CellError::String),
        Some(b't' | b'f') if field.ty == FieldType::Bool => Ok(text.to_string()),
        Some(b'-' | b'0'..=b'9') if numeric => Ok(text.to_string()),
        Some(b'[' | b'{') => Err(CellError::Structured { expected: expected(field) }),
        _ => Err(CellError::WrongType { expected: expected(field), found: text.to_string() }),
    }
}

/// Why a JSON value is not a value of its field.
#[derive(Debug, thiserror::Error)]
pub enum CellError {
    /// A string that is not valid JSON text.
    #[error("{0}")]
    String(serde_json::Error),
    #[error("must be {expected}, not an array or object")]
    Structured { expected: &'static str },
    /// A JSON value of the wrong type (a number for a text field): the text found.
    #[error("must be {expected}, not {found}")]
    WrongType { expected: &'static str, found: String },
    /// The text does not read as the field's value.
    #[error(transparent)]
    Value(#[from] traction_domain::Error),
}

/// Fields an entity shows but does not store; accepted on input and ignored, so a record read
/// from the API can be sent back as it is.
pub fn read_only_fields(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Products => &["stock_on_hand"],
        _ => &[],
    }
}

/// Builds a record from a JSON object. `base` is the stored record for a PATCH (fields not
/// given keep their value); without it, fields not given take their defaults, and a missing
/// `id` takes `new_id` when one is given (records created without an id).
pub fn record_from_json(
    entity: Entity,
    object: &JsonObject,
    base: Option<Record>,
    new_id: Option<&str>,
    ctx: &ParseContext,
) -> Result<Record, Vec<Detail>> {
    let fields = entity.fields();
    let mut values: Vec<Option<Value>> = match base {
        Some(record) => record.values.into_iter().map(Some).collect(),
        None => vec![None; fields.len()],
    };
    let mut details = Vec::new();
    let mut unknown = Vec::new();
    for (key, raw) in &object.0 {
        if key == "currency" && entity.has_money() {
            match cell_text(&Field { ty: FieldType::Text, ..fields[0] }, raw) {
                Ok(code)
                    if code.trim().is_empty()
                        || code.trim().eq_ignore_ascii_case(ctx.currency.code()) => {}
                Ok(code) => details.push(Detail::field(
                    "currency",
                    format!(
                        "{code:?} is not the workspace currency {}: amounts must be in {}",
                        ctx.currency, ctx.currency
                    ),
                )),
                Err(problem) => details.push(Detail::field("currency", problem)),
            }
            continue;
        }
        if read_only_fields(entity).contains(&key.as_str()) {
            continue;
        }
        let Some(idx) = entity.field_index(key) else {
            unknown.push(key.as_str());
            continue;
        };
        let field = &fields[idx];
        let text = match cell_text(field, raw) {
            // An id left empty on a new record is generated below.
            Ok(text) if text.trim().is_empty() && field.ty == FieldType::Id && new_id.is_some() => {
                values[idx] = None;
                continue;
            }
            other => other,
        };
        match text.and_then(|text| Ok(parse_field(field, &text, ctx)?)) {
            Ok(value) => values[idx] = Some(value),
            Err(problem) => {
                details.push(Detail::field(field.name, problem));
                values[idx] = Some(Value::Null);
            }
        }
    }
    for name in unknown {
        let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
        details.push(Detail::field(
            name,
            format!("is not a field of {entity}: the fields are {}", known.join(", ")),
        ));
    }
    let mut record = Record { entity, values: Vec::with_capacity(fields.len()) };
    for (field, value) in fields.iter().zip(values) {
        let value = match value {
            None if field.ty == FieldType::Id && new_id.is_some() => {
                Value::Text(new_id.unwrap_or_default().to_string())
            }
            Some(v) => v,
            None => parse_field(field, "", ctx).unwrap_or_else(|problem| {
                details.push(Detail::field(field.name, problem));
                Value::Null
            }),
        };
        record.values.push(value);
    }
    if details.is_empty() { Ok(record) } else { Err(details) }
}

/// A record as its JSON object, fields in the entity's order, plus derived read-only fields.
pub struct RecordJson<'a> {
    pub record: &'a Record,
    pub currency: Currency,
    /// A product's stock on hand, when known.
    pub stock_on_hand: Option<i64>,
}

/// One value as JSON, following the field's type.
struct ValueJson<'a> {
    field: &'a Field,
    value: &'a Value,
    currency: Currency,
}

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.field.ty, self.value) {
            (_, Value::Null) => s.serialize_none(),
            (FieldType::Money, Value::Int(minor)) => {
                // The division of two exactly representable integers is correctly rounded, so
                // this is the double nearest to the decimal amount (1234.5 for 123450 cents).
                s.serialize_f64(minor_to_major_f64(*minor, self.currency))
            }
            (FieldType::Decimal, Value::Text(text)) => {
                match serde_json::from_str::<serde_json::Number>(text) {
                    Ok(n) => n.serialize(s),
                    Err(_) => s.serialize_str(text),
                }
            }
            (_, Value::Text(text)) => s.serialize_str(text),
            (_, Value::Int(n)) => s.serialize_i64(*n),
            (_, Value::Real(x)) => s.serialize_f64(*x),
            (_, Value::Bool(b)) => s.serialize_bool(*b),
            (_, Value::Instant(micros)) => s.serialize_str(&format_instant(*micros)),
            (_, Value::Date(date)) => s.serialize_str(&date.to_string()),
        }
    }
}

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fields = self.record.entity.fields();
        let mut map = s.serialize_map(Some(fields.len() + 1))?;
        for (field, value) in fields.iter().zip(&self.record.values) {
            map.serialize_entry(field.name, &ValueJson { field, value, currency: self.currency })?;
        }
        if let Some(stock) = self.stock_on_hand {
            map.serialize_entry("stock_on_hand", &stock)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;

    fn ctx() -> ParseContext {
        ParseContext { zone: TimeZone::UTC, currency: Currency::USD, now: 1_767_225_600_000_000 }
    }

    fn object(json: &str) -> JsonObject {
        serde_json::from_str(json).unwrap()
    }

    fn deal(json: &str) -> Result<Record, Vec<Detail>> {
        record_from_json(Entity::Deals, &object(json), None, None, &ctx())
    }

    const DEAL: &str = r#""id": "d1", "pipeline_id": "p1", "stage_id": "s1", "owner_id": "u1",
        "created_at": "2026-01-01T00:00:00Z""#;

    #[test]
    fn money_is_read_exactly_from_numbers_and_strings() {
        let from_number = deal(&format!("{{{DEAL}, \"amount\": 1234.50}}")).unwrap();
        assert_eq!(from_number.get("amount"), &Value::Int(123_450));
        let from_string = deal(&format!("{{{DEAL}, \"amount\": \"0.10\"}}")).unwrap();
        assert_eq!(from_string.get("amount"), &Value::Int(10));
        // 0.1 + 0.2 in binary floating point is 0.30000000000000004; read as text it is 30 cents.
        let exact = deal(&format!("{{{DEAL}, \"amount\": 0.30}}")).unwrap();
        assert_eq!(exact.get("amount"), &Value::Int(30));
        let too_fine = deal(&format!("{{{DEAL}, \"amount\": 1.005}}")).unwrap_err();
        assert_eq!(too_fine[0].field.as_deref(), Some("amount"));
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_named() {
        let details = deal(&format!("{{{DEAL}, \"amount\": 5, \"name\": 7, \"colour\": \"red\"}}"))
            .unwrap_err();
        let named: Vec<_> = details.iter().map(|d| d.field.clone().unwrap()).collect();
        assert_eq!(named, ["name", "colour"]);
        assert!(details[0].problem.contains("must be a string"), "{}", details[0].problem);
        assert!(details[1].problem.contains("is not a field of deals"), "{}", details[1].problem);
    }

    #[test]
    fn missing_required_fields_and_defaults() {
        let details = deal(r#"{"id": "d1"}"#).unwrap_err();
        let named: Vec<_> = details.iter().map(|d| d.field.clone().unwrap()).collect();
        assert_eq!(named, ["pipeline_id", "stage_id", "owner_id", "amount", "created_at"]);
        let ok = deal(&format!("{{{DEAL}, \"amount\": 1}}")).unwrap();
        assert_eq!(ok.get("deal_type"), &Value::Text("new_business".into()));
    }

    #[test]
    fn a_patch_keeps_fields_not_given_and_null_clears() {
        let base = deal(&format!("{{{DEAL}, \"amount\": 1, \"name\": \"Big\"}}")).unwrap();
        let patched = record_from_json(
            Entity::Deals,
            &object(r#"{"amount": "2.5", "name": null}"#),
            Some(base),
            None,
            &ctx(),
        )
        .unwrap();
        assert_eq!(patched.get("amount"), &Value::Int(250));
        assert_eq!(patched.get("name"), &Value::Null);
        assert_eq!(patched.get("owner_id"), &Value::Text("u1".into()));
    }

    #[test]
    fn records_serialise_in_field_order_with_major_units() {
        let record = deal(&format!("{{{DEAL}, \"amount\": 1234.5}}")).unwrap();
        let text = serde_json::to_string(&RecordJson {
            record: &record,
            currency: Currency::USD,
            stock_on_hand: None,
        })
        .unwrap();
        assert!(
            text.starts_with(r#"{"id":"d1","name":null,"pipeline_id":"p1","stage_id":"s1""#),
            "{text}"
        );
        assert!(text.contains(r#""amount":1234.5,"created_at":"2026-01-01T00:00:00Z""#), "{text}");
    }

    #[test]
    fn bodies_must_be_objects_or_arrays() {
        assert!(matches!(parse_body(b"[{}, {}]", true), Ok(Body::Many(v)) if v.len() == 2));
        assert!(matches!(parse_body(b"[{}]", false), Err(ApiError::BadRequest { .. })));
        assert!(matches!(parse_body(b"42", true), Err(ApiError::BadRequest { .. })));
        let Err(ApiError::BadRequest { details, .. }) = parse_body(b"{\"a\": 1,\n \"a\": 2}", true)
        else {
            panic!("duplicate keys must be refused")
        };
        assert!(details[0].problem.contains("appears twice"), "{details:?}");
    }
}
