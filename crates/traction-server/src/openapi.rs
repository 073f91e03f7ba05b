//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, generated from the same data the
//! server runs on: the endpoint table (`api::endpoints`), the schema of every entity
//! (`Entity::ALL`, `Entity::fields`) and the error code table (`ApiError::CODES`). No proc-macro
//! crate is needed, and the document cannot describe routes the router does not serve.

use serde_json::{Map, Value as Json, json};
use traction_domain::{Entity, Field, FieldType};

use crate::api::records::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::api::types::read_only_fields;
use crate::api::{Op, endpoints};
use crate::error::ApiError;

/// The JSON Schema of one field's value.
fn field_schema(field: &Field) -> Json {
    let mut schema = match field.ty {
        FieldType::Id | FieldType::Text | FieldType::Category => json!({"type": "string"}),
        FieldType::Ref(target) => {
            json!({"type": "string", "description": format!("the id of a {} record", target.name())})
        }
        FieldType::Enum(allowed) => json!({"type": "string", "enum": allowed}),
        FieldType::Int { min: Some(min) } => json!({"type": "integer", "minimum": min}),
        FieldType::Int { min: None } => json!({"type": "integer"}),
        FieldType::Money => json!({
            "type": ["number", "string"],
            "description": "money in major units of the workspace currency; a decimal string is accepted on input"
        }),
        FieldType::Timestamp => json!({"type": "string", "format": "date-time"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::Fraction => json!({"type": "number", "minimum": 0, "maximum": 1}),
        FieldType::Decimal => json!({"type": ["number", "string"]}),
        FieldType::Number => json!({"type": ["number", "string"],
            "description": "a decimal with at most 6 decimals; a decimal string is accepted on input"}),
        FieldType::Kind => json!({"type": "string",
            "description": "normalised on input: trimmed, lower-cased, spaces and dashes become one underscore"}),
    };
    let doc = schema.get("description").and_then(Json::as_str).map(str::to_string);
    let description = match doc {
        Some(extra) => format!("{}; {extra}", field.doc),
        None => field.doc.to_string(),
    };
    schema["description"] = Json::from(description);
    if !field.required {
        // Absent values are null in answers.
        let ty = schema["type"].clone();
        let mut types = match ty {
            Json::Array(list) => list,
            other => vec![other],
        };
        types.push(Json::from("null"));
        schema["type"] = Json::Array(types);
    }
    schema
}

fn entity_schema(entity: Entity) -> Json {
    let mut properties = Map::new();
    for field in entity.fields() {
        properties.insert(field.name.to_string(), field_schema(field));
    }
    for name in read_only_fields(entity) {
        properties.insert(
            (*name).to_string(),
            json!({"type": "integer", "readOnly": true,
                   "description": "derived: opening_stock plus the sum of the product's movements"}),
        );
    }
    if entity.has_money() {
        properties.insert(
            "currency".into(),
            json!({"type": "string", "writeOnly": true,
                   "description": "optional on input; must be the workspace currency"}),
        );
    }
    let required: Vec<&str> = entity
        .fields()
        .iter()
        .filter(|f| f.required && !(f.name == "id" && entity.has_id()))
        .map(|f| f.name)
        .collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
        "required": required,
        "description": format!(
            "a {} record; its key is {}{}",
            entity.name(),
            entity.key().join(", "),
            if entity.has_id() { " (generated when a record is created without one)" } else { "" }
        ),
    })
}

fn schema_ref(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_content(schema: Json) -> Json {
    json!({"application/json": {"schema": schema}})
}

fn error_responses(codes: &[u16]) -> Map<String, Json> {
    let mut out = Map::new();
    for code in codes {
        let names: Vec<&str> =
            ApiError::CODES.iter().filter(|(c, _)| c == code).map(|(_, n)| *n).collect();
        out.insert(
            code.to_string(),
            json!({"description": format!("error: {}", names.join(", ")),
                   "content": json_content(schema_ref("Error"))}),
        );
    }
    out
}

fn id_parameter() -> Json {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}})
}

/// `GET /events`: one route, two answers: the list of the events entity (with a query or
/// `Accept: application/json`), or the live stream of changes.
fn events_operation() -> Json {
    {
        let mut out = operation(Op::List(Entity::Events));
        out["summary"] = Json::from(
            "list events (the entity) a page at a time; without a query and without `Accept: application/json` (an EventSource sends `Accept: text/event-stream`), the Server-Sent Events stream instead: `event: change` with data {\"entity\", \"id\", \"kind\"} for every committed change, `event: reload` with data {\"entities\": [...]|null} when a commit was too large to list or the client fell behind",
        );
        out["responses"]["200"]["content"]["text/event-stream"] =
            json!({"schema": {"type": "string"}});
        out
    }
}

fn operation(op: Op) -> Json {
    let record = |e: Entity| schema_ref(&schema_name(e));
    let (summary, parameters, body, ok_status, ok, errors): (
        String,
        Vec<Json>,
        Option<Json>,
        &str,
        Json,
        &[u16],
    ) = match op {
        Op::Health => (
            "whether the server is up".into(),
            vec![],
            None,
            "200",
            json!({"description": "up", "content": json_content(json!({"type": "object",
                "properties": {"status": {"const": "ok"}}}))}),
            &[],
        ),
        Op::OpenApi => (
            "this document".into(),
            vec![],
            None,
            "200",
            json!({"description": "the OpenAPI document"}),
            &[],
        ),
        Op::Events => return events_operation(),
        Op::List(e) => {
            let mut parameters = vec![
                json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                    "default": DEFAULT_LIMIT},
                    "description": format!("page size; values above {MAX_LIMIT} are clamped")}),
                json!({"name": "cursor", "in": "query", "schema": {"type": "string"},
                    "description": "the next_cursor of the previous page"}),
                json!({"name": "where", "in": "query", "schema": {"type": "string"},
                    "description": "a condition in the metric expression language over the entity's fields, e.g. amount >= 1000 and status = 'open'"}),
            ];
            for field in e.fields() {
                parameters.push(json!({"name": field.name, "in": "query", "schema": {"type": "string"},
                    "description": format!("only records whose {} equals this (read like an import cell; empty matches absent)", field.name)}));
            }
            (
                format!("list {} in key order, a page at a time", e.name()),
                parameters,
                None,
                "200",
                json!({"description": "a page", "content": json_content(json!({"type": "object",
                    "properties": {"items": {"type": "array", "items": record(e)},
                                   "next_cursor": {"type": ["string", "null"]}}}))}),
                &[400, 500],
            )
        }
        Op::Create(e) => (
            format!("create or update (by key) one {} record or an array of them, atomically", e.name()),
            vec![],
            Some(json_content(json!({"oneOf": [record(e), {"type": "array", "items": record(e)}]}))),
            "201",
            json!({"description": "created (200 when every record already existed); the stored records, one or {\"items\": [...]}",
                   "content": json_content(json!({"oneOf": [record(e), {"type": "object",
                       "properties": {"items": {"type": "array", "items": record(e)}}}]}))}),
            &[400, 413, 422, 500],
        ),
        Op::Import(e) => (
            format!("import a CSV or NDJSON file of {} atomically (upsert by key)", e.name()),
            vec![json!({"name": "format", "in": "query", "schema": {"enum": ["csv", "ndjson"]},
                "description": "the body's format when Content-Type does not say it"}),
                json!({"name": "from", "in": "query", "schema": {"enum": ["hubspot", "salesforce", "pipedrive"]},
                "description": "read another tool's export through its preset for this entity"}),
                json!({"name": "mapping", "in": "query", "schema": {"type": "string"},
                "description": "read the body through the preset mapping of this name (pipedrive-deals, …)"}),
                json!({"name": "dry_run", "in": "query", "schema": {"type": "boolean"},
                "description": "check everything and report what would change, storing nothing"})],
            Some(json!({"text/csv": {"schema": {"type": "string"}},
                        "application/x-ndjson": {"schema": {"type": "string"}}})),
            "200",
            json!({"description": "imported", "content": json_content(json!({"type": "object",
                "properties": {"entity": {"type": "string"}, "rows": {"type": "integer"},
                    "created": {"type": "integer"}, "updated": {"type": "integer"},
                    "unchanged": {"type": "integer"}, "dry_run": {"type": "boolean"},
                    "entities": {"type": "array", "items": {"type": "object", "properties": {
                        "entity": {"type": "string"}, "created": {"type": "integer"},
                        "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
                        "skipped": {"type": "integer"}}}}}}))}),
            &[400, 413, 415, 422, 500],
        ),
        Op::Get(e) => (
            format!("one {} record", e.name()),
            vec![id_parameter()],
            None,
            "200",
            json!({"description": "the record", "content": json_content(record(e))}),
            &[404, 500],
        ),
        Op::Replace(e) => (
            format!("replace one {} record (or create it with this id)", e.name()),
            vec![id_parameter()],
            Some(json_content(record(e))),
            "200",
            json!({"description": "the stored record", "content": json_content(record(e))}),
            &[400, 413, 422, 500],
        ),
        Op::Patch(e) => (
            format!("change some fields of one {} record (null clears a field)", e.name()),
            vec![id_parameter()],
            Some(json_content(json!({"type": "object"}))),
            "200",
            json!({"description": "the stored record", "content": json_content(record(e))}),
            &[400, 404, 413, 422, 500],
        ),
        Op::Delete(e) => (
            format!("delete one {} record; refused while other records refer to it", e.name()),
            vec![id_parameter()],
            None,
            "204",
            json!({"description": "deleted"}),
            &[404, 409, 500],
        ),
        Op::DeleteByKey(e) => (
            format!("delete one {} record by its key ({})", e.name(), e.key().join(", ")),
            e.key()
                .iter()
                .map(|k| json!({"name": k, "in": "query", "required": true, "schema": {"type": "string"}}))
                .collect(),
            None,
            "204",
            json!({"description": "deleted"}),
            &[400, 404, 409, 500],
        ),
        Op::MoveDeal => (
            "move a deal to a stage: records a stage change at the server's clock; a won or lost stage closes the deal, an open stage reopens it".into(),
            vec![id_parameter()],
            Some(json_content(json!({"type": "object", "additionalProperties": false,
                "required": ["stage_id"], "properties": {"stage_id": {"type": "string"}}}))),
            "200",
            json!({"description": "the deal after the move, and the stage change recorded (null when it was already there)",
                "content": json_content(json!({"type": "object", "properties": {
                    "deal": record(Entity::Deals),
                    "stage_change": {"oneOf": [record(Entity::StageChanges), {"type": "null"}]}}}))}),
            &[400, 404, 422, 500],
        ),
        Op::Catalog => (
            "the metric catalog".into(),
            vec![],
            None,
            "200",
            json!({"description": "every metric", "content": json_content(json!({"type": "object",
                "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "label": {"type": "string"}, "unit": {"type": "string"},
                    "better": {"type": "string"}, "indicator": {"enum": ["leading", "lagging"]},
                    "kind": {"type": "string"}, "description": {"type": "string"},
                    "drivers": {"type": "array", "description": "the driver tree traction explain splits the change along (only where there is one)",
                        "items": {"type": "object", "properties": {"metric": {"type": "string"}, "exponent": {"type": "integer"}}}}}}}}}))}),
            &[],
        ),
        Op::Metric => (
            "one metric over [from, to), by grain and dimensions".into(),
            [("name", "path", true, "the metric's name (see /api/v1/metrics)"),
             ("from", "query", true, "start of the range: a date or timestamp"),
             ("to", "query", true, "end of the range (exclusive)"),
             ("grain", "query", false, "hour, day, week, month, quarter, year or all (default)"),
             ("by", "query", false, "dimensions, comma-separated"),
             ("where", "query", false, "a condition in the metric expression language"),
             ("compare", "query", false, "previous or yoy: rows gain previous, change and compared_from/compared_to (the stretch compared: the whole bucket before or a year before, or for the bucket holding `at` the same stretch of it)"),
             ("at", "query", false, "the clock: data known at this instant (default now)")]
                .iter()
                .map(|(name, place, required, doc)| json!({"name": name, "in": place,
                    "required": required, "schema": {"type": "string"}, "description": doc}))
                .collect(),
            None,
            "200",
            json!({"description": "{\"metric\", \"unit\", \"better\", \"from\", \"to\", \"grain\", \"by\", \"rows\": [...]} (interfaces.md, JSON shapes)",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 404, 500],
        ),
        Op::Explain => (
            "why a metric's value over [from, to) differs from the range it is compared with: contributions (in the metric's unit, money in major units) that sum exactly to the change — by segment, rate and mix effects for ratios, and along the metric's driver tree".into(),
            [("name", "path", true, "the metric's name (see /api/v1/metrics)"),
             ("from", "query", true, "start of the range: a date or timestamp"),
             ("to", "query", true, "end of the range (exclusive)"),
             ("compare", "query", false, "previous (default; also prev) or yoy; a range in progress is compared with the same stretch"),
             ("by", "query", false, "one dimension to split the change along (additive metrics and ratios of additive parts)"),
             ("where", "query", false, "a condition in the metric expression language"),
             ("scope", "query", false, "company (default), team:ID or user:ID: only the records of the scope's owners"),
             ("at", "query", false, "the clock: data known at this instant (default now)")]
                .iter()
                .map(|(name, place, required, doc)| json!({"name": name, "in": place,
                    "required": required, "schema": {"type": "string"}, "description": doc}))
                .collect(),
            None,
            "200",
            json!({"description": "{\"metric\", \"label\", \"unit\", \"from\", \"to\", \"compare\": {\"kind\", \"from\", \"to\"}, \"value\", \"previous\", \"change\", \"drivers\": [{\"metric\", \"label\", \"unit\", \"value\", \"previous\", \"contribution\"}], \"by\", \"segments\": [{\"<dim>\", \"value\", \"previous\", \"contribution\", \"rate_effect\"?, \"mix_effect\"?}]} (monitoring.md, Explaining a change)",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 404, 500],
        ),
        Op::Funnel => (
            "the stage-by-stage funnel of deals created in [from, to)".into(),
            [("pipeline", false, "a pipeline's id (default: all)"),
             ("from", true, "start of the range"),
             ("to", true, "end of the range (exclusive)"),
             ("where", false, "a condition on the deals"),
             ("at", false, "the clock (default now)")]
                .iter()
                .map(|(name, required, doc)| json!({"name": name, "in": "query",
                    "required": required, "schema": {"type": "string"}, "description": doc}))
                .collect(),
            None,
            "200",
            json!({"description": "{\"from\", \"to\", \"rows\": [{\"pipeline\", \"stage\", \"position\", \"reached\", \"conversion_to_next\", \"leakage\"}]}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 404, 500],
        ),
        Op::Kpis => (
            "the KPI figures at an instant of the targets whose period contains it (all=true: every target): actual, expected, pace, status (after the period: achieved or missed; error: the row's error says why it cannot be computed), projected, required rate per head and for the scope, gap".into(),
            query_parameters(&[("at", false, "the clock (default now)"),
                ("scope", false, "only the targets of this scope: company, team:ID or user:ID"),
                ("all", false, "true: every target, whatever its period (default false: the targets whose period contains at)"),
                ("period", false, "only targets of this period kind: week, month, quarter or year"),
                ("starts_on", false, "only the targets whose period starts on this date (YYYY-MM-DD), finished or not")]),
            None,
            "200",
            json!({"description": "{\"at\", \"rows\": [{\"target\", \"metric\", \"scope\", \"period\", \"starts_on\", \"target_value\", \"actual\", \"expected\", \"pace\", \"status\", \"projected\" (the run rate), \"forecast\": {\"value\", \"low\", \"high\", \"backtest\": {\"folds\", \"horizon\", \"mape\", \"wape\", \"mase\", \"baseline\", \"baseline_wape\"} | null} | null (monitoring.md, KPI forecast), \"required_rate\" (per working hour per head), \"required_rate_scope\" (per working hour for the whole scope), \"heads\", \"gap\", \"error\"?}]} (interfaces.md)",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::Breakdown => (
            "a target broken down by week, day or hour, for its scope or per head".into(),
            {
                let mut p = vec![id_parameter()];
                p.extend(query_parameters(&[("grain", false, "week, day (default) or hour"),
                    ("per_head", false, "true: one row per period and head"),
                    ("at", false, "the clock, for seasonal splits (default now)")]));
                p
            },
            None,
            "200",
            json!({"description": "{\"target\", \"grain\", \"rows\": [{\"period\", [\"user\",] \"value\"}]}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 404, 500],
        ),
        Op::Leaderboard => (
            "the heads of a team or company target, each on their own share, ranked by pace".into(),
            {
                let mut p = vec![id_parameter()];
                p.extend(query_parameters(&[("at", false, "the clock (default now)")]));
                p
            },
            None,
            "200",
            json!({"description": "{\"target\", \"at\", \"rows\": [{\"rank\", \"user\", \"target_value\", \"actual\", \"expected\", \"pace\", \"band\"}]}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 404, 500],
        ),
        Op::Report => (
            "a period report: KPIs, key leading and lagging metrics against the previous period and a year ago (like for like while the range is in progress; `compared` says which stretches), the funnel, the leaderboard; names beside ids".into(),
            query_parameters(&[("from", true, "first day, YYYY-MM-DD"), ("to", true, "the day after the last (exclusive)"),
                ("scope", false, "company (default), team:ID or user:ID"), ("format", false, "json (default), md, html or csv"),
                ("at", false, "the clock (default now)")]),
            None,
            "200",
            json!({"description": "the report: JSON {\"from\", \"to\", \"scope\", \"kpis\", \"metrics\", \"funnel\", \"leaderboard\"}, or Markdown, HTML or CSV",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::Forecast => (
            "a time-series forecast of an additive metric (a count or a sum) by day or week, with an interval at a level and its backtest (MSTL with AutoETS from augurs; at least 8 weeks of history); the forecast is kept in the forecast history".into(),
            {
                let mut list = vec![json!({"name": "name", "in": "path", "required": true,
                    "schema": {"type": "string"}, "description": "the metric's name"})];
                list.extend(query_parameters(&[("scope", false, "company (default), team:ID or user:ID"),
                    ("grain", false, "day (default) or week"),
                    ("horizon", false, "buckets ahead from the one holding at (default 14 days, 8 weeks)"),
                    ("level", false, "the interval's level, between 0 and 1 (default 0.8)"),
                    ("at", false, "the clock (default now)")]));
                list
            },
            None,
            "200",
            json!({"description": "{\"metric\", \"scope\", \"grain\", \"at\", \"level\", \"model\", \"history\": {\"from\", \"buckets\"}, \"rows\": [{\"period\", \"value\", \"low\", \"high\"}], \"backtest\": {\"folds\", \"horizon\", \"mape\", \"wape\", \"mase\", \"baseline\": \"seasonal_naive\", \"baseline_wape\"} | null} (monitoring.md, Forecasts)",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 404, 500],
        ),
        Op::ForecastHistory => (
            "the forecasts kept for a metric, scope and grain, made in the days before at, each bucket with what happened".into(),
            {
                let mut list = vec![json!({"name": "name", "in": "path", "required": true,
                    "schema": {"type": "string"}, "description": "the metric's name"})];
                list.extend(query_parameters(&[("scope", false, "company (default), team:ID or user:ID"),
                    ("grain", false, "day (default) or week"),
                    ("days", false, "forecasts made in this many days before at (default 90)"),
                    ("at", false, "the clock (default now)")]));
                list
            },
            None,
            "200",
            json!({"description": "{\"metric\", \"scope\", \"grain\", \"rows\": [{\"made_at\", \"period\", \"value\", \"low\", \"high\", \"actual\", \"inside\"}]}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 404, 500],
        ),
        Op::ForecastPipeline => (
            "the pipeline forecast: per open stage, the open deals expected to close in the month or quarter holding at, their amount, the configured probability, the historical win rate from the stage (12 months before at) and both weighted totals".into(),
            query_parameters(&[("scope", false, "company (default), team:ID or user:ID"),
                ("period", false, "month (default) or quarter"),
                ("at", false, "the clock (default now)")]),
            None,
            "200",
            json!({"description": "{\"scope\", \"period\", \"from\", \"to\", \"at\", \"rows\": [{\"pipeline\", \"stage\", \"stage_name\", \"position\", \"deals\", \"deal_ids\", \"amount\", \"probability\", \"historical_win_rate\", \"closed_from_stage\", \"weighted_configured\", \"weighted_historical\"}], \"total\", \"without_close_date\"}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 500],
        ),
        Op::Password => (
            "set a user's password: one's own (with current_password when one is set), or anyone's for an admin; ends the user's sessions".into(),
            vec![id_parameter()],
            Some(json_content(json!({"type": "object", "additionalProperties": false,
                "required": ["password"], "properties": {"password": {"type": "string", "minLength": 10},
                "current_password": {"type": "string"}}}))),
            "204",
            json!({"description": "the password was set"}),
            &[400, 403, 404, 422, 500],
        ),
        Op::ListTokens => (
            "API tokens: one's own (an admin: everyone's, or one user's with ?user=ID); never the tokens themselves".into(),
            query_parameters(&[("user", false, "an admin: only this user's tokens")]),
            None,
            "200",
            json!({"description": "{\"items\": [{\"id\", \"user\", \"name\", \"created_at\", \"last_used_at\", \"revoked_at\"}], \"next_cursor\": null}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::CreateToken => (
            "create an API token for scripts: the answer's `token` is shown this once (only its hash is stored); send it as Authorization: Bearer <token>".into(),
            vec![],
            Some(json_content(json!({"type": "object", "additionalProperties": false,
                "properties": {"name": {"type": "string"}, "user_id": {"type": "string",
                    "description": "an admin: make it for this user (default: oneself)"}}}))),
            "201",
            json!({"description": "{\"id\", \"token\", \"user\", \"name\", \"created_at\", …}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 422, 500],
        ),
        Op::RevokeToken => (
            "revoke an API token (one's own; an admin: anyone's): it signs nothing in from then on".into(),
            vec![id_parameter()],
            None,
            "204",
            json!({"description": "revoked"}),
            &[400, 404, 500],
        ),
        Op::Audit => (
            "the audit log, newest first (admins): who changed what, when, with the record before and after".into(),
            query_parameters(&[("from", false, "from this instant or date"), ("to", false, "before this instant or date"),
                ("entity", false, "only changes of this entity"), ("user", false, "only changes by this user (or cli, system)"),
                ("limit", false, "page size (default 100, at most 1000)"), ("cursor", false, "the next_cursor of the previous page")]),
            None,
            "200",
            json!({"description": "{\"items\": [{\"at\", \"user\", \"action\", \"entity\", \"id\", \"before\", \"after\"}], \"next_cursor\"}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::Channels => (
            "notification channels (monitoring.md, Channels); a webhook's secret is never shown, only whether there is one".into(),
            vec![],
            None,
            "200",
            json!({"description": "{\"items\": [{\"id\", \"kind\", \"config\", \"created_at\", \"created_by\"}], \"next_cursor\": null}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::CreateChannel => (
            "add a channel (admins; managers to their own teams and people): exactly one of webhook (with an optional secret), email (addresses, comma-separated), user or team".into(),
            vec![],
            Some(json_content(json!({"type": "object", "additionalProperties": false, "required": ["id"],
                "properties": {"id": {"type": "string"}, "webhook": {"type": "string"}, "secret": {"type": "string"},
                    "email": {"type": "string"}, "user": {"type": "string"}, "team": {"type": "string"}}}))),
            "201",
            json!({"description": "the channel, without its secret", "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 409, 422, 500],
        ),
        Op::Definitions => (
            "the workspace's own metric definitions (metrics defined in the app), by name".into(),
            vec![],
            None,
            "200",
            json!({"description": "{\"items\": [{\"name\", \"definition\", \"updated_at\", \"updated_by\"}], \"next_cursor\": null}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::CheckDefinition => (
            "check a definition as it is typed, storing nothing: {\"name\", \"problems\": [{\"field\", \"problem\"}], \"preview\"}; with from and to (and grain), the preview is the metric over that range on the stored data (the JSON of a metric query)".into(),
            vec![],
            Some(json_content(json!({"type": "object", "additionalProperties": false, "required": ["definition"],
                "properties": {"definition": {"type": "string", "description": "the TOML of one [metric.NAME] table"},
                    "editing": {"type": "boolean"}, "from": {"type": "string"}, "to": {"type": "string"},
                    "grain": {"type": "string"}}}))),
            "200",
            json!({"description": "the checker's problems, each at its field, and the preview", "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 500],
        ),
        Op::CreateDefinition => (
            "add a metric of your own (admins and managers): {\"definition\": TOML of one [metric.NAME] table}, checked as `traction metrics check` does (422 with every problem at its field); a built-in name or one already yours is a 409".into(),
            vec![],
            Some(json_content(json!({"type": "object", "additionalProperties": false, "required": ["definition"],
                "properties": {"definition": {"type": "string"}}}))),
            "201",
            json!({"description": "{\"name\", \"definition\", \"metric\"}", "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 409, 422, 500],
        ),
        Op::ReplaceDefinition => (
            "change a metric of your own; refused (409) while targets or alert rules use it, with the list".into(),
            vec![id_parameter()],
            Some(json_content(json!({"type": "object", "additionalProperties": false, "required": ["definition"],
                "properties": {"definition": {"type": "string"}}}))),
            "200",
            json!({"description": "{\"name\", \"definition\", \"metric\"}", "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 404, 409, 422, 500],
        ),
        Op::DeleteDefinition => (
            "delete a metric of your own; refused (409) while targets or alert rules use it, with the list".into(),
            vec![id_parameter()],
            None,
            "204",
            json!({"description": "deleted"}),
            &[400, 403, 404, 409, 500],
        ),
        Op::DeleteChannel => (
            "delete a channel no rule uses".into(),
            vec![id_parameter()],
            None,
            "204",
            json!({"description": "deleted"}),
            &[400, 403, 404, 409, 500],
        ),
        Op::AlertRules => (
            "alert rules, with their condition in words and their definition".into(),
            vec![],
            None,
            "200",
            json!({"description": "{\"items\": [{\"id\", \"kind\", \"condition\", \"definition\", \"for\", \"channels\", \"created_at\", \"created_by\"}], \"next_cursor\": null}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::CreateAlertRule => (
            "add an alert rule (admins; managers on their own teams' targets and scopes): kind kpi (target or targets=current, status), threshold (metric, scope, window, op, value, min_sample) or lead_sla (minutes); for is working time (30m, 2h)".into(),
            vec![],
            Some(json_content(json!({"type": "object", "additionalProperties": false, "required": ["id", "kind", "channels"],
                "properties": {"id": {"type": "string"}, "kind": {"type": "string", "enum": ["kpi", "threshold", "lead_sla", "anomaly"]},
                    "target": {"type": "string"}, "targets": {"type": "string", "enum": ["current"]},
                    "status": {"type": "string", "enum": ["at_risk", "off_track"]}, "metric": {"type": "string"},
                    "scope": {"type": "string"}, "window": {"type": "string", "enum": ["1h", "1d", "7d", "30d", "period"]},
                    "op": {"type": "string", "enum": ["<", "<=", ">", ">="]}, "value": {"type": ["number", "string"]},
                    "by": {"type": "string"}, "min_sample": {"type": "integer"}, "minutes": {"type": "integer"},
                    "level": {"type": "string"}, "for": {"type": "string"},
                    "channels": {"type": "array", "items": {"type": "string"}}}}))),
            "201",
            json!({"description": "the rule", "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 409, 422, 500],
        ),
        Op::DeleteAlertRule => (
            "delete a rule with its instances and silences (its history stays)".into(),
            vec![id_parameter()],
            None,
            "204",
            json!({"description": "deleted"}),
            &[400, 403, 404, 500],
        ),
        Op::Alerts => (
            "the instances of the rules and their states: what is firing now".into(),
            query_parameters(&[("state", false, "firing, pending, resolved or inactive"), ("rule", false, "only this rule's")]),
            None,
            "200",
            json!({"description": "{\"items\": [{\"rule\", \"key\", \"state\", \"since\", \"fired_at\", \"value\", \"summary\", \"url\"}], \"next_cursor\": null}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::AlertHistory => (
            "every change of state, oldest first".into(),
            query_parameters(&[("from", false, "from this instant or date"), ("to", false, "before this instant or date")]),
            None,
            "200",
            json!({"description": "{\"items\": [{\"at\", \"rule\", \"key\", \"from\", \"to\", \"value\", \"summary\"}], \"next_cursor\": null}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::Silences => (
            "silences: notifications of a rule (or one instance) held for a time".into(),
            vec![],
            None,
            "200",
            json!({"description": "{\"items\": [{\"id\", \"rule\", \"key\", \"from\", \"until\", \"comment\", \"created_by\"}], \"next_cursor\": null}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::CreateSilence => (
            "hold a rule's notifications until an instant (admins; managers on their own rules)".into(),
            vec![],
            Some(json_content(json!({"type": "object", "additionalProperties": false, "required": ["rule", "until"],
                "properties": {"id": {"type": "string"}, "rule": {"type": "string"}, "key": {"type": "string"},
                    "from": {"type": "string"}, "until": {"type": "string"}, "comment": {"type": "string"}}}))),
            "201",
            json!({"description": "the silence", "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 409, 422, 500],
        ),
        Op::DeleteSilence => (
            "end a silence now by deleting it".into(),
            vec![id_parameter()],
            None,
            "204",
            json!({"description": "deleted"}),
            &[400, 403, 404, 500],
        ),
        Op::Notifications => (
            "the caller's notifications in the app, newest first, with the unread count".into(),
            query_parameters(&[("unread", false, "true: only unread ones"), ("limit", false, "at most this many (1 to 1000, default 100)")]),
            None,
            "200",
            json!({"description": "{\"items\": [{\"id\", \"kind\", \"rule\", \"key\", \"state\", \"at\", \"text\", \"body\", \"read\"}], \"unread\", \"next_cursor\": null}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::ReadNotification => (
            "mark one of the caller's notifications read".into(),
            vec![id_parameter()],
            None,
            "204",
            json!({"description": "marked read"}),
            &[400, 404, 500],
        ),
        Op::Schedules => (
            "scheduled reports, each with its last due instant done and, when its maker may no longer read its scope (or is disabled), the problem".into(),
            vec![],
            None,
            "200",
            json!({"description": "{\"items\": [{\"id\", \"every\", \"time\", \"scope\", \"channels\", \"created_at\", \"created_by\", \"last_run\", \"problem\"}], \"next_cursor\": null}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 500],
        ),
        Op::CreateSchedule => (
            "add a scheduled report (admins; managers for their own teams and people); its reports are computed with the maker's rights".into(),
            vec![],
            Some(json_content(json!({"type": "object", "additionalProperties": false, "required": ["id", "every", "time", "channels"],
                "properties": {"id": {"type": "string"}, "every": {"type": "string", "enum": ["day", "week", "month"]}, "time": {"type": "string", "description": "HH:MM, workspace zone"},
                    "scope": {"type": "string", "description": "company, team:ID or user:ID"}, "channels": {"type": "array", "items": {"type": "string"}}}}))),
            "201",
            json!({"description": "the schedule", "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 409, 422, 500],
        ),
        Op::UpdateSchedule => (
            "change a schedule's every, time, scope or channels (admins; managers their own); its maker and due instants stay".into(),
            vec![id_parameter()],
            Some(json_content(json!({"type": "object", "additionalProperties": false,
                "properties": {"every": {"type": "string", "enum": ["day", "week", "month"]}, "time": {"type": "string", "description": "HH:MM, workspace zone"},
                    "scope": {"type": "string", "description": "company, team:ID or user:ID"}, "channels": {"type": "array", "items": {"type": "string"}}}}))),
            "200",
            json!({"description": "the schedule", "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 404, 422, 500],
        ),
        Op::DeleteSchedule => (
            "delete a schedule and its record of due instants".into(),
            vec![id_parameter()],
            None,
            "204",
            json!({"description": "deleted"}),
            &[400, 403, 404, 500],
        ),
        Op::RunSchedule => (
            "send a schedule's report of its latest period now (to try it), with its maker's rights; not recorded as a due instant, delivered by the server's next round".into(),
            vec![id_parameter()],
            None,
            "200",
            json!({"description": "{\"schedule\", \"from\", \"to\", \"notifications\"}", "content": json_content(json!({"type": "object"}))}),
            &[400, 403, 404, 422, 500],
        ),
        Op::EmailHookCheck => (
            "whether a mailing tool's event hook is configured (public; `id` is mandrill or sendgrid)".into(),
            vec![id_parameter()],
            None,
            "200",
            json!({"description": "{\"provider\", \"configured\": true}",
                   "content": json_content(json!({"type": "object"}))}),
            &[404, 500],
        ),
        Op::EmailHook => (
            "a mailing tool's event webhook, as Mandrill (form field mandrill_events, X-Mandrill-Signature) or SendGrid (JSON array, Signed Event Webhook headers) send it; public, the signature is checked against the hook's secret".into(),
            vec![id_parameter()],
            Some(json!({"application/x-www-form-urlencoded": {"schema": {"type": "object",
                    "properties": {"mandrill_events": {"type": "string"}}}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}})),
            "200",
            json!({"description": "{\"provider\", \"received\", \"created\", \"updated\", \"unchanged\", \"matched\", \"unmatched\", \"skipped\": {kind: count}, \"invalid\": [text]}",
                   "content": json_content(json!({"type": "object"}))}),
            &[400, 401, 404, 413, 500],
        ),
    };
    let mut responses = error_responses(errors);
    if !matches!(op, Op::Health | Op::EmailHook | Op::EmailHookCheck) {
        // Every route but health and the hooks needs credentials, and a role that may call it.
        for (code, more) in error_responses(&[401, 403]) {
            responses.entry(code).or_insert(more);
        }
    }
    responses.insert(ok_status.to_string(), ok);
    let mut out = json!({"summary": summary, "responses": responses});
    if !parameters.is_empty() {
        out["parameters"] = Json::Array(parameters);
    }
    if let Some(content) = body {
        out["requestBody"] = json!({"required": true, "content": content});
    }
    out
}

/// Optional or required string query parameters.
fn query_parameters(list: &[(&str, bool, &str)]) -> Vec<Json> {
    list.iter()
        .map(|(name, required, doc)| {
            json!({"name": name, "in": "query",
            "required": required, "schema": {"type": "string"}, "description": doc})
        })
        .collect()
}

/// `stage_changes` → `StageChanges`.
fn schema_name(entity: Entity) -> String {
    entity
        .name()
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The whole document.
pub fn document() -> Json {
    let mut paths = Map::new();
    for endpoint in endpoints() {
        let path = format!("/api/v1{}", endpoint.path);
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[endpoint.method.as_str().to_ascii_lowercase()] = operation(endpoint.op);
    }
    let mut schemas = Map::new();
    for entity in Entity::ALL {
        schemas.insert(schema_name(entity), entity_schema(entity));
    }
    let codes: Vec<&str> = ApiError::CODES.iter().map(|(_, n)| *n).collect();
    schemas.insert(
        "Error".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message", "details"], "properties": {
                "code": {"type": "string", "enum": codes},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object", "required": ["problem"],
                    "properties": {"field": {"type": "string"}, "line": {"type": "integer"},
                        "column": {"type": "string"}, "index": {"type": "integer",
                            "description": "the position of the record in an array body"},
                        "problem": {"type": "string"}}}}}}}}),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Traction API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every entity of Traction's data model over JSON. See docs/api.md.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_documented_once() {
        let doc = document();
        for endpoint in endpoints() {
            let path = format!("/api/v1{}", endpoint.path);
            let method = endpoint.method.as_str().to_ascii_lowercase();
            assert!(doc["paths"][&path][&method].is_object(), "{method} {path} is not documented");
        }
        let documented: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(documented, endpoints().len());
    }

    #[test]
    fn keyed_entities_have_no_id_routes() {
        let doc = document();
        assert!(doc["paths"]["/api/v1/web_visits/{id}"].is_null());
        let delete = &doc["paths"]["/api/v1/web_visits"]["delete"];
        let names: Vec<&str> = delete["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["day", "source"]);
    }

    #[test]
    fn schemas_follow_the_data_model() {
        let doc = document();
        let deals = &doc["components"]["schemas"]["Deals"];
        assert_eq!(deals["properties"]["amount"]["type"], json!(["number", "string"]));
        assert_eq!(deals["properties"]["closed_at"]["type"], json!(["string", "null"]));
        assert_eq!(
            deals["required"],
            json!(["pipeline_id", "stage_id", "owner_id", "amount", "created_at"])
        );
        assert_eq!(schema_name(Entity::InventoryMovements), "InventoryMovements");
    }
}
