//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, generated from the same data the
//! server runs on: the operation table (`api::operations::OPERATIONS`), the schema of every entity
//! (`Entity::ALL`, `Entity::fields`) and the error code table (`ApiError::CODES`). No proc-macro
//! crate is needed, and the document cannot describe routes the router does not serve.

use serde_json::{Map, Value as Json, json};
use traction_domain::{Entity, Field, FieldType};

use crate::api::operations::{Content, Endpoint, Param, Roles, endpoints, schema_name};
use crate::api::records::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::api::types::read_only_fields;
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

/// A row's JSON text, with the endpoint's entity put in. The texts are constants of the table,
/// checked by a test, so a malformed one is a bug caught before release; it is documented as
/// null rather than bringing the server down.
fn json_text(endpoint: &Endpoint, text: &str) -> Json {
    serde_json::from_str(&endpoint.fill(text)).unwrap_or(Json::Null)
}

fn content(endpoint: &Endpoint, content: Content) -> Json {
    match content {
        Content::Json(schema) => json_content(json_text(endpoint, schema)),
        Content::Map(map) => json_text(endpoint, map),
    }
}

fn parameter(endpoint: &Endpoint, param: Param, out: &mut Vec<Json>) {
    match param {
        Param::Id => out.push(id_parameter()),
        Param::Path(name, doc) => out.push(json!({"name": name, "in": "path", "required": true,
            "schema": {"type": "string"}, "description": doc})),
        Param::Query(name, required, doc) => out.push(json!({"name": name, "in": "query",
            "required": required, "schema": {"type": "string"}, "description": doc})),
        Param::Json(text) => out.push(json_text(endpoint, text)),
        Param::Page => {
            out.push(
                json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                "default": DEFAULT_LIMIT},
                "description": format!("page size; values above {MAX_LIMIT} are clamped")}),
            );
            out.push(json!({"name": "cursor", "in": "query", "schema": {"type": "string"},
                "description": "the next_cursor of the previous page"}));
            out.push(json!({"name": "where", "in": "query", "schema": {"type": "string"},
                "description": "a condition in the metric expression language over the entity's fields, e.g. amount >= 1000 and status = 'open'"}));
            for field in endpoint.entity.map(Entity::fields).unwrap_or_default() {
                out.push(json!({"name": field.name, "in": "query", "schema": {"type": "string"},
                    "description": format!("only records whose {} equals this (read like an import cell; empty matches absent)", field.name)}));
            }
        }
        Param::Key => {
            for key in endpoint.entity.map(Entity::key).unwrap_or_default() {
                out.push(json!({"name": key, "in": "query", "required": true, "schema": {"type": "string"}}));
            }
        }
    }
}

/// The OpenAPI operation object of one endpoint, from its row of the operation table.
fn operation(endpoint: &Endpoint) -> Json {
    let row = endpoint.operation;
    let mut responses = error_responses(row.errors);
    if row.roles != Roles::Public {
        // Every route but the public ones needs credentials, and a role that may call it.
        for (code, more) in error_responses(&[401, 403]) {
            responses.entry(code).or_insert(more);
        }
    }
    let mut ok = json!({"description": row.reply.description});
    if let Some(body) = row.reply.content {
        ok["content"] = content(endpoint, body);
    }
    responses.insert(row.reply.status.to_string(), ok);
    let mut out = json!({"summary": endpoint.fill(row.summary), "responses": responses});
    let mut parameters = Vec::new();
    for param in row.params {
        parameter(endpoint, *param, &mut parameters);
    }
    if !parameters.is_empty() {
        out["parameters"] = Json::Array(parameters);
    }
    if let Some(body) = row.request {
        out["requestBody"] = json!({"required": true, "content": content(endpoint, body)});
    }
    out
}

/// The whole document.
pub fn document() -> Json {
    let mut paths = Map::new();
    for endpoint in endpoints() {
        let path = format!("/api/v1{}", endpoint.path());
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[endpoint.method().as_str().to_ascii_lowercase()] = operation(&endpoint);
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
            let path = format!("/api/v1{}", endpoint.path());
            let method = endpoint.method().as_str().to_ascii_lowercase();
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

    /// Every JSON text of the table parses (with each entity put in), and every schema it names
    /// is one of the document's.
    #[test]
    fn every_row_text_is_json_naming_known_schemas() {
        let doc = document();
        for endpoint in endpoints() {
            let row = endpoint.operation;
            let mut texts: Vec<&str> = Vec::new();
            for param in row.params {
                if let Param::Json(text) = param {
                    texts.push(text);
                }
            }
            for body in [row.request, row.reply.content].into_iter().flatten() {
                match body {
                    Content::Json(text) | Content::Map(text) => texts.push(text),
                }
            }
            for text in texts {
                let filled = endpoint.fill(text);
                let value: Json = serde_json::from_str(&filled)
                    .unwrap_or_else(|e| panic!("{} {}: {e}: {filled}", row.path, row.summary));
                let mut refs = Vec::new();
                collect_refs(&value, &mut refs);
                for name in refs {
                    let name = name.trim_start_matches("#/components/schemas/");
                    assert!(doc["components"]["schemas"][name].is_object(), "no schema {name}");
                }
            }
        }
    }

    fn collect_refs(value: &Json, out: &mut Vec<String>) {
        match value {
            Json::Object(map) => {
                for (key, inner) in map {
                    match inner {
                        Json::String(text) if key == "$ref" => out.push(text.clone()),
                        _ => collect_refs(inner, out),
                    }
                }
            }
            Json::Array(list) => list.iter().for_each(|inner| collect_refs(inner, out)),
            _ => {}
        }
    }

    /// The route-level roles come from the rows: a fixed list, the entity's writers, or anyone
    /// for the public routes, which alone are documented without 403.
    #[test]
    fn roles_and_public_routes_follow_the_rows() {
        use crate::auth::Role;
        use crate::auth::authz::route_roles;
        let doc = document();
        let find = |method: &str, path: &str| {
            endpoints()
                .into_iter()
                .find(|e| e.method().as_str() == method && e.path() == path)
                .unwrap_or_else(|| panic!("no {method} {path}"))
        };
        assert_eq!(route_roles(&find("GET", "/audit")), [Role::Admin]);
        assert_eq!(route_roles(&find("POST", "/deals")), [Role::Admin, Role::Manager, Role::Rep]);
        assert_eq!(route_roles(&find("POST", "/targets")), [Role::Admin, Role::Manager]);
        assert_eq!(route_roles(&find("DELETE", "/users/{id}")), [Role::Admin]);
        assert_eq!(route_roles(&find("POST", "/products/import")), [Role::Admin]);
        assert_eq!(route_roles(&find("GET", "/health")).len(), 4);
        for (path, method, public) in [
            ("/api/v1/health", "get", true),
            ("/api/v1/hooks/email/{id}", "post", true),
            ("/api/v1/hooks/email/{id}", "get", true),
            ("/api/v1/openapi.json", "get", false),
            ("/api/v1/deals", "get", false),
        ] {
            // (The e-mail hook's own 401 is a bad signature, listed in its row.)
            let responses = &doc["paths"][path][method]["responses"];
            assert_eq!(responses["403"].is_null(), public, "{method} {path}");
        }
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
