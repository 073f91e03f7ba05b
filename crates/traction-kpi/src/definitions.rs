//! Metrics defined in the app (spec: metrics.md, Definition format; issue 20): the one check and
//! write of a stored definition, shared by `traction metrics add|edit|delete`, the API and the
//! web form, so each answers the same problems in the same words.
//!
//! A definition is the TOML of one `[metric.NAME]` table, as in a definitions file. It is checked
//! by the same checker as `traction metrics check`, in the catalog it joins (the built-in metrics,
//! the event kinds' metrics, the other stored definitions and the `--metrics` file), and every
//! problem is reported at once. Decisions (docs/own-goals.md):
//! - a stored definition may not take the name of a built-in metric or of one in the
//!   `--metrics` file (which would hide it or be hidden by it): it may take an event kind's
//!   name, and then replaces that kind's generated metric;
//! - `add` creates, `edit` replaces, and each refuses the other case;
//! - changing or deleting a metric that targets or alert rules use is refused, with the list;
//!   so is deleting one that another stored definition names (it would stop checking).

use traction_domain::Entity;
use traction_metrics::Catalog;
use traction_metrics::catalog::{Diagnostics, definition_names, kinds};
use traction_store::{Actor, Backend, Error as StoreError};

/// Why a definition was not stored.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// The text does not check: every problem, each naming its place (`metric.NAME: …`).
    Invalid(Vec<String>),
    /// Another metric has the name, or (edit, delete) none has.
    Name(String),
    /// Targets or alert rules use the metric: what uses it.
    InUse {
        metric: String,
        users: Vec<String>,
    },
    NotFound(String),
    Storage(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Invalid(problems) => f.write_str(&problems.join("\n")),
            Refusal::Name(m) | Refusal::NotFound(m) | Refusal::Storage(m) => f.write_str(m),
            Refusal::InUse { metric, users } => write!(
                f,
                "metric {metric} is used by {}: change or delete those first",
                users.join(", ")
            ),
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        Refusal::Storage(e.to_string())
    }
}

fn diagnostics(d: Diagnostics) -> Refusal {
    Refusal::Invalid(d.0.iter().map(ToString::to_string).collect())
}

/// The one metric a text defines, or every problem with it.
pub fn defined_name(text: &str) -> Result<String, Refusal> {
    if let Err(e) = toml::from_str::<toml::Table>(text) {
        return Err(Refusal::Invalid(vec![format!("definition: {}", e.to_string().trim())]));
    }
    let names = definition_names(text);
    match names.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Refusal::Invalid(vec![
            "definition: write one metric as a [metric.NAME] table".into(),
        ])),
        more => Err(Refusal::Invalid(vec![format!(
            "definition: one metric at a time, found {}",
            more.join(", ")
        )])),
    }
}

/// Checks `text` as the definition of a new (`editing` false) or existing metric, in the
/// catalog it would join; answers the metric's name and that catalog.
pub fn check(
    store: &dyn Backend,
    file: Option<&str>,
    text: &str,
    editing: bool,
) -> Result<(String, Catalog), Refusal> {
    let name = defined_name(text)?;
    if Catalog::builtin_names().contains(&name) {
        return Err(Refusal::Name(format!(
            "metric.{name}: {name} is a built-in metric: give yours another name"
        )));
    }
    if file.is_some_and(|f| definition_names(f).contains(&name)) {
        return Err(Refusal::Name(format!(
            "metric.{name}: {name} is defined in the --metrics file: give yours another name"
        )));
    }
    let stored = store.metric_definitions()?;
    let exists = stored.iter().any(|d| d.name == name);
    if editing && !exists {
        return Err(Refusal::NotFound(format!(
            "metric.{name}: there is no metric {name} of yours to edit: add it instead"
        )));
    }
    if !editing && exists {
        return Err(Refusal::Name(format!(
            "metric.{name}: you already have a metric {name}: edit it, or give this one another name"
        )));
    }
    let kind_text = kinds::kind_definitions(&store.event_kinds()?);
    let mut layers = vec![kind_text.as_str()];
    layers.extend(stored.iter().filter(|d| d.name != name).map(|d| d.definition.as_str()));
    layers.push(text);
    layers.extend(file);
    let catalog = Catalog::load_layers(&layers).map_err(diagnostics)?;
    Ok((name, catalog))
}

/// What uses metric `name`: targets (`target t-1`) and alert rules (`alert rule r-2`).
pub fn uses_of(store: &dyn Backend, name: &str) -> Result<Vec<String>, Refusal> {
    let mut out = Vec::new();
    store.scan(Entity::Targets, &mut |record| {
        if record.get("metric").as_text() == Some(name) {
            out.push(format!("target {}", record.get("id").as_text().unwrap_or("")));
        }
        Ok(())
    })?;
    for rule in store.rules()? {
        if let Ok(spec) = serde_json::from_str::<serde_json::Value>(&rule.spec)
            && names_metric(&spec, name)
        {
            out.push(format!("alert rule {}", rule.id));
        }
    }
    Ok(out)
}

/// The other stored definitions that name metric `name` and would stop checking without it
/// (`metric lunch_share`, whose expression divides by it): deleting it would drop them from the
/// catalog, so the delete is refused with them, as with targets and alert rules.
fn dependents(store: &dyn Backend, name: &str) -> Result<Vec<String>, Refusal> {
    let stored = store.metric_definitions()?;
    let kind_text = kinds::kind_definitions(&store.event_kinds()?);
    let mut layers = vec![kind_text.as_str()];
    layers.extend(stored.iter().filter(|d| d.name != name).map(|d| d.definition.as_str()));
    let Err(problems) = Catalog::load_layers(&layers) else { return Ok(Vec::new()) };
    let quoted = format!("{name:?}");
    Ok(stored
        .iter()
        .filter(|d| d.name != name)
        .filter(|d| {
            problems.0.iter().any(|p| {
                p.definition == format!("metric.{}", d.name) && p.message.contains(&quoted)
            })
        })
        .map(|d| format!("metric {}", d.name))
        .collect())
}

/// Whether a JSON value has `"metric": name` anywhere in it.
fn names_metric(value: &serde_json::Value, name: &str) -> bool {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(k, v)| (k == "metric" && v.as_str() == Some(name)) || names_metric(v, name)),
        serde_json::Value::Array(items) => items.iter().any(|v| names_metric(v, name)),
        _ => false,
    }
}

/// Adds (`editing` false) or replaces a stored definition after checking it; answers its name.
pub fn save(
    store: &dyn Backend,
    actor: &Actor,
    file: Option<&str>,
    text: &str,
    editing: bool,
    at: i64,
) -> Result<String, Refusal> {
    let (name, _) = check(store, file, text, editing)?;
    if editing {
        let users = uses_of(store, &name)?;
        let unchanged = store
            .metric_definitions()?
            .iter()
            .any(|d| d.name == name && d.definition.trim() == text.trim());
        if !users.is_empty() && !unchanged {
            return Err(Refusal::InUse { metric: name, users });
        }
    }
    store.put_metric_definition(actor, &name, text.trim(), at)?;
    Ok(name)
}

/// Deletes a stored definition, unless something uses it.
pub fn delete(store: &dyn Backend, actor: &Actor, name: &str) -> Result<(), Refusal> {
    if !store.metric_definitions()?.iter().any(|d| d.name == name) {
        let why = if Catalog::builtin_names().iter().any(|n| n == name) {
            format!("{name} is a built-in metric: only metrics of your own are deleted")
        } else {
            format!("there is no metric {name} of yours")
        };
        return Err(Refusal::NotFound(why));
    }
    let mut users = uses_of(store, name)?;
    users.extend(dependents(store, name)?);
    if !users.is_empty() {
        return Err(Refusal::InUse { metric: name.to_string(), users });
    }
    match store.delete_metric_definition(actor, name) {
        Err(StoreError::NotFound) => {
            Err(Refusal::NotFound(format!("there is no metric {name} of yours")))
        }
        other => Ok(other?),
    }
}
