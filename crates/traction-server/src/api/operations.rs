//! The operation table: every operation of the API described once (spec: interfaces.md, HTTP API).
//!
//! One row per operation: its method and path, the handler that serves it, who may call it, and
//! what `openapi.rs` says of it (summary, parameters, request and answer schemas, error codes).
//! The router (`api::api_router`), the route-level authorisation (`authz::route_roles`) and the
//! OpenAPI document all read [`OPERATIONS`], so adding an operation is adding a row, and the
//! document cannot describe a route the router does not serve (ripgrep's `defs.rs` idea).
//!
//! A row whose handler is [`Handler::PerEntity`] stands for one route per entity of the data
//! model it applies to: `<entity>` in its path and texts becomes the entity's name, `<Record>` the
//! name of its schema and `<key>` its key fields. Schemas are JSON text, parsed when the document
//! is built (a test parses every row's).

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, MethodRouter, on};
use traction_domain::Entity;

use super::records::{self, BodyBytes, IdPath, Params};
use super::{
    deals, definitions, events, forecast, health, hooks, import, kpis, metrics, monitor, openapi,
    wants_event_list,
};
use crate::AppState;
use crate::auth::authz::{ADMINS, ALL, MANAGERS, WRITERS};
use crate::auth::{self, CurrentUser, Role};

/// An HTTP method the API serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub fn method(self) -> axum::http::Method {
        use axum::http::Method;
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Put => Method::PUT,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        }
    }

    pub fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

/// What serves an operation.
#[derive(Clone, Copy)]
pub enum Handler {
    /// One route.
    Fixed(fn(MethodFilter) -> MethodRouter<AppState>),
    /// One route per entity the first function accepts.
    PerEntity(fn(Entity) -> bool, fn(MethodFilter, Entity) -> MethodRouter<AppState>),
}

/// Who may call an operation at all (record-level checks come on top: `auth::authz`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Roles {
    /// Anyone, signed in or not: the handler checks what it needs (a provider's signature).
    Public,
    /// These roles.
    Only(&'static [Role]),
    /// Those who may write the route's entity (`authz::class`): a rep their own records, managers
    /// targets, admins reference data.
    WritersOf,
}

/// A parameter of an operation.
#[derive(Clone, Copy, Debug)]
pub enum Param {
    /// The path's `{id}`.
    Id,
    /// A required path parameter: name, description.
    Path(&'static str, &'static str),
    /// A string query parameter: name, required, description.
    Query(&'static str, bool, &'static str),
    /// A parameter given whole, as the JSON text of its OpenAPI object.
    Json(&'static str),
    /// A list's paging, `where` and one equality filter per field of the entity.
    Page,
    /// The entity's key fields, each a required query parameter.
    Key,
}

/// A request or answer body, as JSON text.
#[derive(Clone, Copy, Debug)]
pub enum Content {
    /// The schema of an `application/json` body.
    Json(&'static str),
    /// The whole content map, media type → `{"schema": …}`.
    Map(&'static str),
}

/// The successful answer of an operation.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub status: u16,
    pub description: &'static str,
    pub content: Option<Content>,
}

/// One operation of the API.
#[derive(Clone, Copy)]
pub struct Operation {
    pub verb: Verb,
    /// The path below `/api/v1`, with `{id}`-style parameters and `<entity>` for a per-entity row.
    pub path: &'static str,
    pub handler: Handler,
    pub summary: &'static str,
    pub roles: Roles,
    pub params: &'static [Param],
    pub request: Option<Content>,
    pub reply: Reply,
    /// The error statuses it may answer (401 and 403 are added for every non-public operation).
    pub errors: &'static [u16],
}

const OBJECT: Option<Content> = Some(Content::Json(r##"{"type": "object"}"##));

const fn reply(status: u16, description: &'static str, content: Option<Content>) -> Reply {
    Reply { status, description, content }
}

fn every(_: Entity) -> bool {
    true
}

fn with_id(entity: Entity) -> bool {
    entity.has_id()
}

fn keyed(entity: Entity) -> bool {
    !entity.has_id()
}

fn listed(entity: Entity) -> bool {
    entity != Entity::Events
}

fn is_events(entity: Entity) -> bool {
    entity == Entity::Events
}

const PAGE: &str = r##"{"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/<Record>"}}, "next_cursor": {"type": ["string", "null"]}}}"##;

/// Every operation of the API, in the order they are routed and documented.
pub static OPERATIONS: &[Operation] = &[
    Operation {
        verb: Verb::Get,
        path: "/health",
        handler: Handler::Fixed(|f| on(f, health)),
        summary: "whether the server is up",
        roles: Roles::Public,
        params: &[],
        request: None,
        reply: reply(
            200,
            "up",
            Some(Content::Json(
                r##"{"type": "object", "properties": {"status": {"const": "ok"}}}"##,
            )),
        ),
        errors: &[],
    },
    Operation {
        verb: Verb::Get,
        path: "/openapi.json",
        handler: Handler::Fixed(|f| on(f, openapi)),
        summary: "this document",
        roles: Roles::Only(ALL),
        params: &[],
        request: None,
        reply: reply(200, "the OpenAPI document", None),
        errors: &[],
    },
    // `GET /events` is both the live stream of interfaces.md and the list of the events entity:
    // one route, told apart by `Accept: text/event-stream` (what every EventSource sends),
    // documented once.
    Operation {
        verb: Verb::Get,
        path: "/<entity>",
        handler: Handler::PerEntity(is_events, |f, _| {
            on(
                f,
                |State(s): State<AppState>,
                 principal: Option<CurrentUser>,
                 headers: HeaderMap,
                 p: Params| async move {
                    match principal {
                        Some(CurrentUser(u)) if wants_event_list(&headers, &p) => {
                            records::list(s, &u, Entity::Events, p).await.into_response()
                        }
                        principal => events(s, principal).await,
                    }
                },
            )
        }),
        summary: "list events (the entity) a page at a time; without a query and without `Accept: application/json` (an EventSource sends `Accept: text/event-stream`), the Server-Sent Events stream instead: `event: change` with data {\"entity\", \"id\", \"kind\"} for every committed change, `event: reload` with data {\"entities\": [...]|null} when a commit was too large to list or the client fell behind",
        roles: Roles::Only(ALL),
        params: &[Param::Page],
        request: None,
        reply: reply(
            200,
            "a page",
            Some(Content::Map(
                r##"{"application/json": {"schema": {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/<Record>"}}, "next_cursor": {"type": ["string", "null"]}}}}, "text/event-stream": {"schema": {"type": "string"}}}"##,
            )),
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/<entity>",
        handler: Handler::PerEntity(listed, |f, e| {
            on(
                f,
                move |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| async move {
                    records::list(s, &u, e, p).await
                },
            )
        }),
        summary: "list <entity> in key order, a page at a time",
        roles: Roles::Only(ALL),
        params: &[Param::Page],
        request: None,
        reply: reply(200, "a page", Some(Content::Json(PAGE))),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/<entity>",
        handler: Handler::PerEntity(every, |f, e| {
            on(
                f,
                move |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| async move {
                    records::create(s, &u, e, b).await
                },
            )
        }),
        summary: "create or update (by key) one <entity> record or an array of them, atomically",
        roles: Roles::WritersOf,
        params: &[],
        request: Some(Content::Json(
            r##"{"oneOf": [{"$ref": "#/components/schemas/<Record>"}, {"type": "array", "items": {"$ref": "#/components/schemas/<Record>"}}]}"##,
        )),
        reply: reply(
            201,
            "created (200 when every record already existed); the stored records, one or {\"items\": [...]}",
            Some(Content::Json(
                r##"{"oneOf": [{"$ref": "#/components/schemas/<Record>"}, {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/<Record>"}}}}]}"##,
            )),
        ),
        errors: &[400, 413, 422, 500],
    },
    // An import of owned records is checked record by record, as any other write.
    Operation {
        verb: Verb::Post,
        path: "/<entity>/import",
        handler: Handler::PerEntity(every, |f, e| {
            on(
                f,
                move |State(s): State<AppState>,
                      CurrentUser(u): CurrentUser,
                      p: Params,
                      h: HeaderMap,
                      b: Body| async move { import::import(s, &u, e, p, h, b).await },
            )
        }),
        summary: "import a CSV or NDJSON file of <entity> atomically (upsert by key)",
        roles: Roles::WritersOf,
        params: &[
            Param::Json(
                r##"{"name": "format", "in": "query", "schema": {"enum": ["csv", "ndjson"]}, "description": "the body's format when Content-Type does not say it"}"##,
            ),
            Param::Json(
                r##"{"name": "from", "in": "query", "schema": {"enum": ["hubspot", "salesforce", "pipedrive"]}, "description": "read another tool's export through its preset for this entity"}"##,
            ),
            Param::Json(
                r##"{"name": "mapping", "in": "query", "schema": {"type": "string"}, "description": "read the body through the preset mapping of this name (pipedrive-deals, …)"}"##,
            ),
            Param::Json(
                r##"{"name": "dry_run", "in": "query", "schema": {"type": "boolean"}, "description": "check everything and report what would change, storing nothing"}"##,
            ),
        ],
        request: Some(Content::Map(
            r##"{"text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}"##,
        )),
        reply: reply(
            200,
            "imported",
            Some(Content::Json(
                r##"{"type": "object", "properties": {"entity": {"type": "string"}, "rows": {"type": "integer"},
                    "created": {"type": "integer"}, "updated": {"type": "integer"},
                    "unchanged": {"type": "integer"}, "dry_run": {"type": "boolean"},
                    "entities": {"type": "array", "items": {"type": "object", "properties": {
                        "entity": {"type": "string"}, "created": {"type": "integer"},
                        "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
                        "skipped": {"type": "integer"}}}}}}"##,
            )),
        ),
        errors: &[400, 413, 415, 422, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/<entity>/{id}",
        handler: Handler::PerEntity(with_id, |f, e| {
            on(
                f,
                move |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| async move {
                    records::get_one(s, &u, e, id).await
                },
            )
        }),
        summary: "one <entity> record",
        roles: Roles::Only(ALL),
        params: &[Param::Id],
        request: None,
        reply: reply(
            200,
            "the record",
            Some(Content::Json(r##"{"$ref": "#/components/schemas/<Record>"}"##)),
        ),
        errors: &[404, 500],
    },
    Operation {
        verb: Verb::Put,
        path: "/<entity>/{id}",
        handler: Handler::PerEntity(with_id, |f, e| {
            on(
                f,
                move |State(s): State<AppState>,
                      CurrentUser(u): CurrentUser,
                      id: IdPath,
                      b: BodyBytes| async move {
                    records::replace(s, &u, e, id, b).await
                },
            )
        }),
        summary: "replace one <entity> record (or create it with this id)",
        roles: Roles::WritersOf,
        params: &[Param::Id],
        request: Some(Content::Json(r##"{"$ref": "#/components/schemas/<Record>"}"##)),
        reply: reply(
            200,
            "the stored record",
            Some(Content::Json(r##"{"$ref": "#/components/schemas/<Record>"}"##)),
        ),
        errors: &[400, 413, 422, 500],
    },
    Operation {
        verb: Verb::Patch,
        path: "/<entity>/{id}",
        handler: Handler::PerEntity(with_id, |f, e| {
            on(
                f,
                move |State(s): State<AppState>,
                      CurrentUser(u): CurrentUser,
                      id: IdPath,
                      b: BodyBytes| async move { records::patch(s, &u, e, id, b).await },
            )
        }),
        summary: "change some fields of one <entity> record (null clears a field)",
        roles: Roles::WritersOf,
        params: &[Param::Id],
        request: OBJECT,
        reply: reply(
            200,
            "the stored record",
            Some(Content::Json(r##"{"$ref": "#/components/schemas/<Record>"}"##)),
        ),
        errors: &[400, 404, 413, 422, 500],
    },
    Operation {
        verb: Verb::Delete,
        path: "/<entity>/{id}",
        handler: Handler::PerEntity(with_id, |f, e| {
            on(
                f,
                move |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| async move {
                    records::delete_one(s, &u, e, id).await
                },
            )
        }),
        summary: "delete one <entity> record; refused while other records refer to it",
        roles: Roles::WritersOf,
        params: &[Param::Id],
        request: None,
        reply: reply(204, "deleted", None),
        errors: &[404, 409, 500],
    },
    // A keyed entity (no id) is deleted by its key fields given as query parameters.
    Operation {
        verb: Verb::Delete,
        path: "/<entity>",
        handler: Handler::PerEntity(keyed, |f, e| {
            on(
                f,
                move |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| async move {
                    records::delete_by_key(s, &u, e, p).await
                },
            )
        }),
        summary: "delete one <entity> record by its key (<key>)",
        roles: Roles::WritersOf,
        params: &[Param::Key],
        request: None,
        reply: reply(204, "deleted", None),
        errors: &[400, 404, 409, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/deals/{id}/move",
        handler: Handler::Fixed(|f| {
            on(
                f,
                |State(s): State<AppState>,
                 CurrentUser(u): CurrentUser,
                 id: IdPath,
                 b: BodyBytes| async move { deals::move_deal(s, &u, id, b).await },
            )
        }),
        summary: "move a deal to a stage: records a stage change at the server's clock; a won or lost stage closes the deal, an open stage reopens it",
        roles: Roles::Only(WRITERS),
        params: &[Param::Id],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false, "required": ["stage_id"], "properties": {"stage_id": {"type": "string"}}}"##,
        )),
        reply: reply(
            200,
            "the deal after the move, and the stage change recorded (null when it was already there)",
            Some(Content::Json(
                r##"{"type": "object", "properties": {
                    "deal": {"$ref": "#/components/schemas/Deals"},
                    "stage_change": {"oneOf": [{"$ref": "#/components/schemas/StageChanges"}, {"type": "null"}]}}}"##,
            )),
        ),
        errors: &[400, 404, 422, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/metrics",
        handler: Handler::Fixed(|f| on(f, |State(s): State<AppState>| metrics::catalog(s))),
        summary: "the metric catalog",
        roles: Roles::Only(ALL),
        params: &[],
        request: None,
        reply: reply(
            200,
            "every metric",
            Some(Content::Json(
                r##"{"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "label": {"type": "string"}, "unit": {"type": "string"},
                    "better": {"type": "string"}, "indicator": {"enum": ["leading", "lagging"]},
                    "kind": {"type": "string"}, "description": {"type": "string"},
                    "drivers": {"type": "array", "description": "the driver tree traction explain splits the change along (only where there is one)",
                        "items": {"type": "object", "properties": {"metric": {"type": "string"}, "exponent": {"type": "integer"}}}}}}}}}"##,
            )),
        ),
        errors: &[],
    },
    Operation {
        verb: Verb::Get,
        path: "/metrics/{name}",
        handler: Handler::Fixed(|f| {
            on(
                f,
                |State(s): State<AppState>,
                 CurrentUser(u): CurrentUser,
                 name: IdPath,
                 p: Params| { metrics::metric(s, u, name, p) },
            )
        }),
        summary: "one metric over [from, to), by grain and dimensions",
        roles: Roles::Only(ALL),
        params: &[
            Param::Path("name", "the metric's name (see /api/v1/metrics)"),
            Param::Query("from", true, "start of the range: a date or timestamp"),
            Param::Query("to", true, "end of the range (exclusive)"),
            Param::Query("grain", false, "hour, day, week, month, quarter, year or all (default)"),
            Param::Query("by", false, "dimensions, comma-separated"),
            Param::Query("where", false, "a condition in the metric expression language"),
            Param::Query(
                "compare",
                false,
                "previous or yoy: rows gain previous, change and compared_from/compared_to (the stretch compared: the whole bucket before or a year before, or for the bucket holding `at` the same stretch of it)",
            ),
            Param::Query("at", false, "the clock: data known at this instant (default now)"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"metric\", \"unit\", \"better\", \"from\", \"to\", \"grain\", \"by\", \"rows\": [...]} (interfaces.md, JSON shapes)",
            OBJECT,
        ),
        errors: &[400, 404, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/funnel",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| {
                metrics::funnel(s, u, p)
            })
        }),
        summary: "the stage-by-stage funnel of deals created in [from, to)",
        roles: Roles::Only(ALL),
        params: &[
            Param::Query("pipeline", false, "a pipeline's id (default: all)"),
            Param::Query("from", true, "start of the range"),
            Param::Query("to", true, "end of the range (exclusive)"),
            Param::Query("where", false, "a condition on the deals"),
            Param::Query("at", false, "the clock (default now)"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"from\", \"to\", \"rows\": [{\"pipeline\", \"stage\", \"position\", \"reached\", \"conversion_to_next\", \"leakage\"}]}",
            OBJECT,
        ),
        errors: &[400, 404, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/explain/{name}",
        handler: Handler::Fixed(|f| {
            on(
                f,
                |State(s): State<AppState>,
                 CurrentUser(u): CurrentUser,
                 name: IdPath,
                 p: Params| { metrics::explain(s, u, name, p) },
            )
        }),
        summary: "why a metric's value over [from, to) differs from the range it is compared with: contributions (in the metric's unit, money in major units) that sum exactly to the change — by segment, rate and mix effects for ratios, and along the metric's driver tree",
        roles: Roles::Only(ALL),
        params: &[
            Param::Path("name", "the metric's name (see /api/v1/metrics)"),
            Param::Query("from", true, "start of the range: a date or timestamp"),
            Param::Query("to", true, "end of the range (exclusive)"),
            Param::Query(
                "compare",
                false,
                "previous (default; also prev) or yoy; a range in progress is compared with the same stretch",
            ),
            Param::Query(
                "by",
                false,
                "one dimension to split the change along (additive metrics and ratios of additive parts)",
            ),
            Param::Query("where", false, "a condition in the metric expression language"),
            Param::Query(
                "scope",
                false,
                "company (default), team:ID or user:ID: only the records of the scope's owners",
            ),
            Param::Query("at", false, "the clock: data known at this instant (default now)"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"metric\", \"label\", \"unit\", \"from\", \"to\", \"compare\": {\"kind\", \"from\", \"to\"}, \"value\", \"previous\", \"change\", \"drivers\": [{\"metric\", \"label\", \"unit\", \"value\", \"previous\", \"contribution\"}], \"by\", \"segments\": [{\"<dim>\", \"value\", \"previous\", \"contribution\", \"rate_effect\"?, \"mix_effect\"?}]} (monitoring.md, Explaining a change)",
            OBJECT,
        ),
        errors: &[400, 403, 404, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/kpis",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, p: Params| kpis::status(s, p))
        }),
        summary: "the KPI figures at an instant of the targets whose period contains it (all=true: every target): actual, expected, pace, status (after the period: achieved or missed; error: the row's error says why it cannot be computed), projected, required rate per head and for the scope, gap",
        roles: Roles::Only(ALL),
        params: &[
            Param::Query("at", false, "the clock (default now)"),
            Param::Query(
                "scope",
                false,
                "only the targets of this scope: company, team:ID or user:ID",
            ),
            Param::Query(
                "all",
                false,
                "true: every target, whatever its period (default false: the targets whose period contains at)",
            ),
            Param::Query(
                "period",
                false,
                "only targets of this period kind: week, month, quarter or year",
            ),
            Param::Query(
                "starts_on",
                false,
                "only the targets whose period starts on this date (YYYY-MM-DD), finished or not",
            ),
        ],
        request: None,
        reply: reply(
            200,
            "{\"at\", \"rows\": [{\"target\", \"metric\", \"scope\", \"period\", \"starts_on\", \"target_value\", \"actual\", \"expected\", \"pace\", \"status\", \"projected\" (the run rate), \"forecast\": {\"value\", \"low\", \"high\", \"backtest\": {\"folds\", \"horizon\", \"mape\", \"wape\", \"mase\", \"baseline\", \"baseline_wape\"} | null} | null (monitoring.md, KPI forecast), \"required_rate\" (per working hour per head), \"required_rate_scope\" (per working hour for the whole scope), \"heads\", \"gap\", \"error\"?}]} (interfaces.md)",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/kpis/{id}/breakdown",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, id: IdPath, p: Params| kpis::breakdown(s, id, p))
        }),
        summary: "a target broken down by week, day or hour, for its scope or per head",
        roles: Roles::Only(ALL),
        params: &[
            Param::Id,
            Param::Query("grain", false, "week, day (default) or hour"),
            Param::Query("per_head", false, "true: one row per period and head"),
            Param::Query("at", false, "the clock, for seasonal splits (default now)"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"target\", \"grain\", \"rows\": [{\"period\", [\"user\",] \"value\"}]}",
            OBJECT,
        ),
        errors: &[400, 404, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/kpis/{id}/leaderboard",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, id: IdPath, p: Params| kpis::leaderboard(s, id, p))
        }),
        summary: "the heads of a team or company target, each on their own share, ranked by pace",
        roles: Roles::Only(ALL),
        params: &[Param::Id, Param::Query("at", false, "the clock (default now)")],
        request: None,
        reply: reply(
            200,
            "{\"target\", \"at\", \"rows\": [{\"rank\", \"user\", \"target_value\", \"actual\", \"expected\", \"pace\", \"band\"}]}",
            OBJECT,
        ),
        errors: &[400, 404, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/report",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, p: Params| kpis::report(s, p))
        }),
        summary: "a period report: KPIs, key leading and lagging metrics against the previous period and a year ago (like for like while the range is in progress; `compared` says which stretches), the funnel, the leaderboard; names beside ids",
        roles: Roles::Only(ALL),
        params: &[
            Param::Query("from", true, "first day, YYYY-MM-DD"),
            Param::Query("to", true, "the day after the last (exclusive)"),
            Param::Query("scope", false, "company (default), team:ID or user:ID"),
            Param::Query("format", false, "json (default), md, html or csv"),
            Param::Query("at", false, "the clock (default now)"),
        ],
        request: None,
        reply: reply(
            200,
            "the report: JSON {\"from\", \"to\", \"scope\", \"kpis\", \"metrics\", \"funnel\", \"leaderboard\"}, or Markdown, HTML or CSV",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/forecast/pipeline",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| {
                forecast::pipeline(s, u, p)
            })
        }),
        summary: "the pipeline forecast: per open stage, the open deals expected to close in the month or quarter holding at, their amount, the configured probability, the historical win rate from the stage (12 months before at) and both weighted totals",
        roles: Roles::Only(ALL),
        params: &[
            Param::Query("scope", false, "company (default), team:ID or user:ID"),
            Param::Query("period", false, "month (default) or quarter"),
            Param::Query("at", false, "the clock (default now)"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"scope\", \"period\", \"from\", \"to\", \"at\", \"rows\": [{\"pipeline\", \"stage\", \"stage_name\", \"position\", \"deals\", \"deal_ids\", \"amount\", \"probability\", \"historical_win_rate\", \"closed_from_stage\", \"weighted_configured\", \"weighted_historical\"}], \"total\", \"without_close_date\"}",
            OBJECT,
        ),
        errors: &[400, 403, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/forecast/{name}",
        handler: Handler::Fixed(|f| {
            on(
                f,
                |State(s): State<AppState>,
                 CurrentUser(u): CurrentUser,
                 name: IdPath,
                 p: Params| { forecast::forecast(s, u, name, p) },
            )
        }),
        summary: "a time-series forecast of an additive metric (a count or a sum) by day or week, with an interval at a level and its backtest (MSTL with AutoETS from augurs; at least 8 weeks of history); the forecast is kept in the forecast history",
        roles: Roles::Only(ALL),
        params: &[
            Param::Path("name", "the metric's name"),
            Param::Query("scope", false, "company (default), team:ID or user:ID"),
            Param::Query("grain", false, "day (default) or week"),
            Param::Query(
                "horizon",
                false,
                "buckets ahead from the one holding at (default 14 days, 8 weeks)",
            ),
            Param::Query("level", false, "the interval's level, between 0 and 1 (default 0.8)"),
            Param::Query("at", false, "the clock (default now)"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"metric\", \"scope\", \"grain\", \"at\", \"level\", \"model\", \"history\": {\"from\", \"buckets\"}, \"rows\": [{\"period\", \"value\", \"low\", \"high\"}], \"backtest\": {\"folds\", \"horizon\", \"mape\", \"wape\", \"mase\", \"baseline\": \"seasonal_naive\", \"baseline_wape\"} | null} (monitoring.md, Forecasts)",
            OBJECT,
        ),
        errors: &[400, 403, 404, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/forecast/{name}/history",
        handler: Handler::Fixed(|f| {
            on(
                f,
                |State(s): State<AppState>,
                 CurrentUser(u): CurrentUser,
                 name: IdPath,
                 p: Params| { forecast::history(s, u, name, p) },
            )
        }),
        summary: "the forecasts kept for a metric, scope and grain, made in the days before at, each bucket with what happened",
        roles: Roles::Only(ALL),
        params: &[
            Param::Path("name", "the metric's name"),
            Param::Query("scope", false, "company (default), team:ID or user:ID"),
            Param::Query("grain", false, "day (default) or week"),
            Param::Query("days", false, "forecasts made in this many days before at (default 90)"),
            Param::Query("at", false, "the clock (default now)"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"metric\", \"scope\", \"grain\", \"rows\": [{\"made_at\", \"period\", \"value\", \"low\", \"high\", \"actual\", \"inside\"}]}",
            OBJECT,
        ),
        errors: &[400, 403, 404, 500],
    },
    // Everyone manages their own password and tokens; the handlers check whose.
    Operation {
        verb: Verb::Post,
        path: "/users/{id}/password",
        handler: Handler::Fixed(|f| {
            on(
                f,
                |State(s): State<AppState>,
                 CurrentUser(u): CurrentUser,
                 id: IdPath,
                 b: BodyBytes| { auth::api::set_password(s, u, id, b) },
            )
        }),
        summary: "set a user's password: one's own (with current_password when one is set), or anyone's for an admin; ends the user's sessions",
        roles: Roles::Only(ALL),
        params: &[Param::Id],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false,
                "required": ["password"], "properties": {"password": {"type": "string", "minLength": 10},
                "current_password": {"type": "string"}}}"##,
        )),
        reply: reply(204, "the password was set", None),
        errors: &[400, 403, 404, 422, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/tokens",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| {
                auth::api::list_tokens(s, u, p)
            })
        }),
        summary: "API tokens: one's own (an admin: everyone's, or one user's with ?user=ID); never the tokens themselves",
        roles: Roles::Only(ALL),
        params: &[Param::Query("user", false, "an admin: only this user's tokens")],
        request: None,
        reply: reply(
            200,
            "{\"items\": [{\"id\", \"user\", \"name\", \"created_at\", \"last_used_at\", \"revoked_at\"}], \"next_cursor\": null}",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/tokens",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                auth::api::create_token(s, u, b)
            })
        }),
        summary: "create an API token for scripts: the answer's `token` is shown this once (only its hash is stored); send it as Authorization: Bearer <token>",
        roles: Roles::Only(ALL),
        params: &[],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false,
                "properties": {"name": {"type": "string"}, "user_id": {"type": "string",
                    "description": "an admin: make it for this user (default: oneself)"}}}"##,
        )),
        reply: reply(201, "{\"id\", \"token\", \"user\", \"name\", \"created_at\", …}", OBJECT),
        errors: &[400, 403, 422, 500],
    },
    Operation {
        verb: Verb::Delete,
        path: "/tokens/{id}",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                auth::api::revoke_token(s, u, id)
            })
        }),
        summary: "revoke an API token (one's own; an admin: anyone's): it signs nothing in from then on",
        roles: Roles::Only(ALL),
        params: &[Param::Id],
        request: None,
        reply: reply(204, "revoked", None),
        errors: &[400, 404, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/audit",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, p: Params| auth::api::audit(s, p))
        }),
        summary: "the audit log, newest first (admins): who changed what, when, with the record before and after",
        roles: Roles::Only(ADMINS),
        params: &[
            Param::Query("from", false, "from this instant or date"),
            Param::Query("to", false, "before this instant or date"),
            Param::Query("entity", false, "only changes of this entity"),
            Param::Query("user", false, "only changes by this user (or cli, system)"),
            Param::Query("limit", false, "page size (default 100, at most 1000)"),
            Param::Query("cursor", false, "the next_cursor of the previous page"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"items\": [{\"at\", \"user\", \"action\", \"entity\", \"id\", \"before\", \"after\"}], \"next_cursor\"}",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    // Monitoring (monitoring.md): everyone sees what is watched and what fires, and reads their own
    // notifications; admins and managers manage (a manager within their teams: api/monitor.rs).
    Operation {
        verb: Verb::Get,
        path: "/channels",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, p: Params| monitor::list_channels(s, p))
        }),
        summary: "notification channels (monitoring.md, Channels); a webhook's secret is never shown, only whether there is one",
        roles: Roles::Only(ALL),
        params: &[],
        request: None,
        reply: reply(
            200,
            "{\"items\": [{\"id\", \"kind\", \"config\", \"created_at\", \"created_by\"}], \"next_cursor\": null}",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/channels",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                monitor::create_channel(s, u, b)
            })
        }),
        summary: "add a channel (admins; managers to their own teams and people): exactly one of webhook (with an optional secret), email (addresses, comma-separated), user or team",
        roles: Roles::Only(MANAGERS),
        params: &[],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false, "required": ["id"],
                "properties": {"id": {"type": "string"}, "webhook": {"type": "string"}, "secret": {"type": "string"},
                    "email": {"type": "string"}, "user": {"type": "string"}, "team": {"type": "string"}}}"##,
        )),
        reply: reply(201, "the channel, without its secret", OBJECT),
        errors: &[400, 403, 409, 422, 500],
    },
    Operation {
        verb: Verb::Delete,
        path: "/channels/{id}",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::delete_channel(s, u, id)
            })
        }),
        summary: "delete a channel no rule uses",
        roles: Roles::Only(MANAGERS),
        params: &[Param::Id],
        request: None,
        reply: reply(204, "deleted", None),
        errors: &[400, 403, 404, 409, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/alert-rules",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, p: Params| monitor::list_rules(s, p))
        }),
        summary: "alert rules, with their condition in words and their definition",
        roles: Roles::Only(ALL),
        params: &[],
        request: None,
        reply: reply(
            200,
            "{\"items\": [{\"id\", \"kind\", \"condition\", \"definition\", \"for\", \"channels\", \"created_at\", \"created_by\"}], \"next_cursor\": null}",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/alert-rules",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                monitor::create_rule(s, u, b)
            })
        }),
        summary: "add an alert rule (admins; managers on their own teams' targets and scopes): kind kpi (target or targets=current, status), threshold (metric, scope, window, op, value, min_sample) or lead_sla (minutes); for is working time (30m, 2h)",
        roles: Roles::Only(MANAGERS),
        params: &[],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false, "required": ["id", "kind", "channels"],
                "properties": {"id": {"type": "string"}, "kind": {"type": "string", "enum": ["kpi", "threshold", "lead_sla", "anomaly"]},
                    "target": {"type": "string"}, "targets": {"type": "string", "enum": ["current"]},
                    "status": {"type": "string", "enum": ["at_risk", "off_track"]}, "metric": {"type": "string"},
                    "scope": {"type": "string"}, "window": {"type": "string", "enum": ["1h", "1d", "7d", "30d", "period"]},
                    "op": {"type": "string", "enum": ["<", "<=", ">", ">="]}, "value": {"type": ["number", "string"]},
                    "by": {"type": "string"}, "min_sample": {"type": "integer"}, "minutes": {"type": "integer"},
                    "level": {"type": "string"}, "for": {"type": "string"},
                    "channels": {"type": "array", "items": {"type": "string"}}}}"##,
        )),
        reply: reply(201, "the rule", OBJECT),
        errors: &[400, 403, 409, 422, 500],
    },
    Operation {
        verb: Verb::Delete,
        path: "/alert-rules/{id}",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::delete_rule(s, u, id)
            })
        }),
        summary: "delete a rule with its instances and silences (its history stays)",
        roles: Roles::Only(MANAGERS),
        params: &[Param::Id],
        request: None,
        reply: reply(204, "deleted", None),
        errors: &[400, 403, 404, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/alerts",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, p: Params| monitor::alerts(s, p))
        }),
        summary: "the instances of the rules and their states: what is firing now",
        roles: Roles::Only(ALL),
        params: &[
            Param::Query("state", false, "firing, pending, resolved or inactive"),
            Param::Query("rule", false, "only this rule's"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"items\": [{\"rule\", \"key\", \"state\", \"since\", \"fired_at\", \"value\", \"summary\", \"url\"}], \"next_cursor\": null}",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/alert-history",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, p: Params| monitor::history(s, p))
        }),
        summary: "every change of state, oldest first",
        roles: Roles::Only(ALL),
        params: &[
            Param::Query("from", false, "from this instant or date"),
            Param::Query("to", false, "before this instant or date"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"items\": [{\"at\", \"rule\", \"key\", \"from\", \"to\", \"value\", \"summary\"}], \"next_cursor\": null}",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/silences",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, p: Params| monitor::list_silences(s, p))
        }),
        summary: "silences: notifications of a rule (or one instance) held for a time",
        roles: Roles::Only(ALL),
        params: &[],
        request: None,
        reply: reply(
            200,
            "{\"items\": [{\"id\", \"rule\", \"key\", \"from\", \"until\", \"comment\", \"created_by\"}], \"next_cursor\": null}",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/silences",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                monitor::create_silence(s, u, b)
            })
        }),
        summary: "hold a rule's notifications until an instant (admins; managers on their own rules)",
        roles: Roles::Only(MANAGERS),
        params: &[],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false, "required": ["rule", "until"],
                "properties": {"id": {"type": "string"}, "rule": {"type": "string"}, "key": {"type": "string"},
                    "from": {"type": "string"}, "until": {"type": "string"}, "comment": {"type": "string"}}}"##,
        )),
        reply: reply(201, "the silence", OBJECT),
        errors: &[400, 403, 409, 422, 500],
    },
    Operation {
        verb: Verb::Delete,
        path: "/silences/{id}",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::delete_silence(s, u, id)
            })
        }),
        summary: "end a silence now by deleting it",
        roles: Roles::Only(MANAGERS),
        params: &[Param::Id],
        request: None,
        reply: reply(204, "deleted", None),
        errors: &[400, 403, 404, 500],
    },
    Operation {
        verb: Verb::Get,
        path: "/notifications",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| {
                monitor::notifications(s, u, p)
            })
        }),
        summary: "the caller's notifications in the app, newest first, with the unread count",
        roles: Roles::Only(ALL),
        params: &[
            Param::Query("unread", false, "true: only unread ones"),
            Param::Query("limit", false, "at most this many (1 to 1000, default 100)"),
        ],
        request: None,
        reply: reply(
            200,
            "{\"items\": [{\"id\", \"kind\", \"rule\", \"key\", \"state\", \"at\", \"text\", \"body\", \"read\"}], \"unread\", \"next_cursor\": null}",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/notifications/{id}/read",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::read_notification(s, u, id)
            })
        }),
        summary: "mark one of the caller's notifications read",
        roles: Roles::Only(ALL),
        params: &[Param::Id],
        request: None,
        reply: reply(204, "marked read", None),
        errors: &[400, 404, 500],
    },
    // Metrics defined in the app: everyone reads them; admins and managers write and check.
    Operation {
        verb: Verb::Get,
        path: "/metric-definitions",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, p: Params| definitions::list(s, p))
        }),
        summary: "the workspace's own metric definitions (metrics defined in the app), by name",
        roles: Roles::Only(ALL),
        params: &[],
        request: None,
        reply: reply(
            200,
            "{\"items\": [{\"name\", \"definition\", \"updated_at\", \"updated_by\"}], \"next_cursor\": null}",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/metric-definitions",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                definitions::create(s, u, b)
            })
        }),
        summary: "add a metric of your own (admins and managers): {\"definition\": TOML of one [metric.NAME] table}, checked as `traction metrics check` does (422 with every problem at its field); a built-in name or one already yours is a 409",
        roles: Roles::Only(MANAGERS),
        params: &[],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false, "required": ["definition"],
                "properties": {"definition": {"type": "string"}}}"##,
        )),
        reply: reply(201, "{\"name\", \"definition\", \"metric\"}", OBJECT),
        errors: &[400, 403, 409, 422, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/metric-definitions/check",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, b: BodyBytes| definitions::check(s, b))
        }),
        summary: "check a definition as it is typed, storing nothing: {\"name\", \"problems\": [{\"field\", \"problem\"}], \"preview\"}; with from and to (and grain), the preview is the metric over that range on the stored data (the JSON of a metric query)",
        roles: Roles::Only(MANAGERS),
        params: &[],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false, "required": ["definition"],
                "properties": {"definition": {"type": "string", "description": "the TOML of one [metric.NAME] table"},
                    "editing": {"type": "boolean"}, "from": {"type": "string"}, "to": {"type": "string"},
                    "grain": {"type": "string"}}}"##,
        )),
        reply: reply(200, "the checker's problems, each at its field, and the preview", OBJECT),
        errors: &[400, 403, 500],
    },
    Operation {
        verb: Verb::Put,
        path: "/metric-definitions/{id}",
        handler: Handler::Fixed(|f| {
            on(
                f,
                |State(s): State<AppState>,
                 CurrentUser(u): CurrentUser,
                 id: IdPath,
                 b: BodyBytes| { definitions::replace(s, u, id, b) },
            )
        }),
        summary: "change a metric of your own; refused (409) while targets or alert rules use it, with the list",
        roles: Roles::Only(MANAGERS),
        params: &[Param::Id],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false, "required": ["definition"],
                "properties": {"definition": {"type": "string"}}}"##,
        )),
        reply: reply(200, "{\"name\", \"definition\", \"metric\"}", OBJECT),
        errors: &[400, 403, 404, 409, 422, 500],
    },
    Operation {
        verb: Verb::Delete,
        path: "/metric-definitions/{id}",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                definitions::delete(s, u, id)
            })
        }),
        summary: "delete a metric of your own; refused (409) while targets or alert rules use it, with the list",
        roles: Roles::Only(MANAGERS),
        params: &[Param::Id],
        request: None,
        reply: reply(204, "deleted", None),
        errors: &[400, 403, 404, 409, 500],
    },
    // Scheduled reports (monitoring.md): a schedule's report has its maker's rights
    // (api/monitor.rs, traction_monitor::schedule).
    Operation {
        verb: Verb::Get,
        path: "/schedules",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, p: Params| monitor::list_schedules(s, p))
        }),
        summary: "scheduled reports, each with its last due instant done and, when its maker may no longer read its scope (or is disabled), the problem",
        roles: Roles::Only(ALL),
        params: &[],
        request: None,
        reply: reply(
            200,
            "{\"items\": [{\"id\", \"every\", \"time\", \"scope\", \"channels\", \"created_at\", \"created_by\", \"last_run\", \"problem\"}], \"next_cursor\": null}",
            OBJECT,
        ),
        errors: &[400, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/schedules",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                monitor::create_schedule(s, u, b)
            })
        }),
        summary: "add a scheduled report (admins; managers for their own teams and people); its reports are computed with the maker's rights",
        roles: Roles::Only(MANAGERS),
        params: &[],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false, "required": ["id", "every", "time", "channels"],
                "properties": {"id": {"type": "string"}, "every": {"type": "string", "enum": ["day", "week", "month"]}, "time": {"type": "string", "description": "HH:MM, workspace zone"},
                    "scope": {"type": "string", "description": "company, team:ID or user:ID"}, "channels": {"type": "array", "items": {"type": "string"}}}}"##,
        )),
        reply: reply(201, "the schedule", OBJECT),
        errors: &[400, 403, 409, 422, 500],
    },
    Operation {
        verb: Verb::Patch,
        path: "/schedules/{id}",
        handler: Handler::Fixed(|f| {
            on(
                f,
                |State(s): State<AppState>,
                 CurrentUser(u): CurrentUser,
                 id: IdPath,
                 b: BodyBytes| { monitor::update_schedule(s, u, id, b) },
            )
        }),
        summary: "change a schedule's every, time, scope or channels (admins; managers their own); its maker and due instants stay",
        roles: Roles::Only(MANAGERS),
        params: &[Param::Id],
        request: Some(Content::Json(
            r##"{"type": "object", "additionalProperties": false,
                "properties": {"every": {"type": "string", "enum": ["day", "week", "month"]}, "time": {"type": "string", "description": "HH:MM, workspace zone"},
                    "scope": {"type": "string", "description": "company, team:ID or user:ID"}, "channels": {"type": "array", "items": {"type": "string"}}}}"##,
        )),
        reply: reply(200, "the schedule", OBJECT),
        errors: &[400, 403, 404, 422, 500],
    },
    Operation {
        verb: Verb::Delete,
        path: "/schedules/{id}",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::delete_schedule(s, u, id)
            })
        }),
        summary: "delete a schedule and its record of due instants",
        roles: Roles::Only(MANAGERS),
        params: &[Param::Id],
        request: None,
        reply: reply(204, "deleted", None),
        errors: &[400, 403, 404, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/schedules/{id}/run",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::run_schedule(s, u, id)
            })
        }),
        summary: "send a schedule's report of its latest period now (to try it), with its maker's rights; not recorded as a due instant, delivered by the server's next round",
        roles: Roles::Only(MANAGERS),
        params: &[Param::Id],
        request: None,
        reply: reply(200, "{\"schedule\", \"from\", \"to\", \"notifications\"}", OBJECT),
        errors: &[400, 403, 404, 422, 500],
    },
    // Public routes: the provider's signature is checked by the handler.
    Operation {
        verb: Verb::Get,
        path: "/hooks/email/{id}",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, id: IdPath| hooks::check_hook(s, id))
        }),
        summary: "whether a mailing tool's event hook is configured (public; `id` is mandrill or sendgrid)",
        roles: Roles::Public,
        params: &[Param::Id],
        request: None,
        reply: reply(200, "{\"provider\", \"configured\": true}", OBJECT),
        errors: &[404, 500],
    },
    Operation {
        verb: Verb::Post,
        path: "/hooks/email/{id}",
        handler: Handler::Fixed(|f| {
            on(f, |State(s): State<AppState>, id: IdPath, h: HeaderMap, b: BodyBytes| {
                hooks::receive(s, id, h, b)
            })
        }),
        summary: "a mailing tool's event webhook, as Mandrill (form field mandrill_events, X-Mandrill-Signature) or SendGrid (JSON array, Signed Event Webhook headers) send it; public, the signature is checked against the hook's secret",
        roles: Roles::Public,
        params: &[Param::Id],
        request: Some(Content::Map(
            r##"{"application/x-www-form-urlencoded": {"schema": {"type": "object",
                    "properties": {"mandrill_events": {"type": "string"}}}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}"##,
        )),
        reply: reply(
            200,
            "{\"provider\", \"received\", \"created\", \"updated\", \"unchanged\", \"matched\", \"unmatched\", \"skipped\": {kind: count}, \"invalid\": [text]}",
            OBJECT,
        ),
        errors: &[400, 401, 404, 413, 500],
    },
];

/// One method on one concrete path: a row of [`OPERATIONS`], for one entity when it is a
/// per-entity row.
#[derive(Clone, Copy)]
pub struct Endpoint {
    pub operation: &'static Operation,
    pub entity: Option<Entity>,
}

impl Endpoint {
    pub fn method(&self) -> axum::http::Method {
        self.operation.verb.method()
    }

    /// The path below `/api/v1`.
    pub fn path(&self) -> String {
        self.fill(self.operation.path)
    }

    /// A text of the row with the entity's name, schema name and key put in.
    pub fn fill(&self, text: &str) -> String {
        match self.entity {
            Some(entity) => text
                .replace("<entity>", entity.name())
                .replace("<Record>", &schema_name(entity))
                .replace("<key>", &entity.key().join(", ")),
            None => text.to_string(),
        }
    }

    /// The route of this endpoint.
    pub fn route(&self) -> MethodRouter<AppState> {
        let filter = self.operation.verb.filter();
        match (self.operation.handler, self.entity) {
            (Handler::PerEntity(_, route), Some(entity)) => route(filter, entity),
            (Handler::Fixed(route), _) => route(filter),
            // `endpoints` gives every per-entity row an entity.
            (Handler::PerEntity(..), None) => MethodRouter::new(),
        }
    }
}

/// Every endpoint of the API, in the order of [`OPERATIONS`], where the per-entity rows (which
/// follow each other) become, for each entity of `Entity::ALL` in turn, the rows that apply to it.
pub fn endpoints() -> Vec<Endpoint> {
    let mut out = Vec::new();
    let mut entities_done = false;
    for operation in OPERATIONS {
        match operation.handler {
            Handler::Fixed(_) => out.push(Endpoint { operation, entity: None }),
            Handler::PerEntity(..) if entities_done => {}
            Handler::PerEntity(..) => {
                entities_done = true;
                for entity in Entity::ALL {
                    for operation in OPERATIONS {
                        if let Handler::PerEntity(applies, _) = operation.handler
                            && applies(entity)
                        {
                            out.push(Endpoint { operation, entity: Some(entity) });
                        }
                    }
                }
            }
        }
    }
    out
}

/// `stage_changes` → `StageChanges`: the name of an entity's schema in the OpenAPI document.
pub fn schema_name(entity: Entity) -> String {
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
