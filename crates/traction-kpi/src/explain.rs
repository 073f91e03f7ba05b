//! Explaining a change for a scope (spec: monitoring.md, Explaining a change): the metrics
//! engine's [`traction_metrics::explain`] with a scope's owners added to the filter, and the one
//! sentence the dashboard, the report and the anomaly alert show ([`why`]).

use traction_domain::time::Micros;
use traction_metrics::explain::{ExplainQuery, Explanation, Sentence, explain, sentence};
use traction_metrics::{Catalog, Compare, DimValue, Filter};
use traction_store::Backend;

use crate::engine::Engine;
use crate::report::{Names, stretch_label};
use crate::scope::Scope;
use crate::service::{Error, Kpis};

/// The dimensions a sentence splits a metric along, the first that applies: the sales channel
/// (orders, which have no rep), then the rep, the region, the lead source.
pub const SENTENCE_DIMS: &[&str] = &["channel", "owner", "region", "source"];

/// Explains a metric's change for a scope: the scope's owners are added to the query's filter
/// (a company scope adds nothing).
pub fn explain_for(
    store: &dyn Backend,
    catalog: &Catalog,
    query: &ExplainQuery,
    scope: &Scope,
) -> Result<Explanation, Error> {
    let mut query = query.clone();
    let engine = Engine { store, catalog };
    let org = Kpis { store, metrics: &engine }.org()?;
    if let Some(owners) = org.owners(scope) {
        query.filter = std::mem::take(&mut query.filter).and(Filter::owner_in(&owners));
    }
    Ok(explain(store, catalog, &query)?)
}

/// The dimension a sentence splits a metric along: the first of [`SENTENCE_DIMS`] that applies
/// to it, when the metric splits into segments at all.
pub fn sentence_dim(catalog: &Catalog, metric: &str) -> Option<&'static str> {
    let m = catalog.get(metric)?;
    let splits = traction_metrics::explain::is_additive(catalog, m)
        || matches!(m.kind, traction_metrics::catalog::Kind::Ratio { .. });
    if !splits {
        return None;
    }
    let dims = catalog.dims(m);
    SENTENCE_DIMS.iter().copied().find(|d| dims.contains(d))
}

/// A segment's value for people: a rep's or a team's name, else the value as stored.
pub fn segment_name(names: &Names, dim: &str, key: &DimValue) -> String {
    let id = key.text();
    match dim {
        "owner" => names.user(&id).to_string(),
        "team" => names.teams.get(&id).cloned().unwrap_or(id),
        "stage" => names.stage(&id).to_string(),
        "pipeline" => names.pipeline(&id).to_string(),
        _ => id,
    }
}

/// A change to explain in one sentence: a metric over `[from, to)` against the range
/// `compare` takes, for a scope, as of `at`.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    pub metric: &'a str,
    pub range: (Micros, Micros),
    pub compare: Compare,
    pub scope: &'a Scope,
    pub at: Micros,
}

/// Why a metric moved between `[from, to)` and the range `compare` takes, for a scope, in one
/// sentence ("Revenue won −£12,400 (−8.1%) against October: fewer deals won (−£15,100;
/// 31 → 27), partly offset by higher average deal size (+£2,700; …); most in owner Ana
/// (−£9,000)."), split along the metric's drivers and the first of [`SENTENCE_DIMS`] that
/// applies. This is what an anomaly alert carries; the dashboard and the report show the same.
pub fn why(
    store: &dyn Backend,
    catalog: &Catalog,
    change: &Change<'_>,
) -> Result<(Explanation, Sentence), Error> {
    let names = Names::load(store)?;
    why_named(store, catalog, change, &names)
}

/// [`why`] with the names already loaded (a report explains several metrics).
pub fn why_named(
    store: &dyn Backend,
    catalog: &Catalog,
    change: &Change<'_>,
    names: &Names,
) -> Result<(Explanation, Sentence), Error> {
    let Change { metric, range: (from, to), compare, scope, at } = *change;
    let query = ExplainQuery {
        metric: metric.to_string(),
        from,
        to,
        compare,
        by: sentence_dim(catalog, metric).map(str::to_string),
        filter: Filter::default(),
        at,
    };
    let explanation = explain_for(store, catalog, &query, scope)?;
    let workspace = store.workspace()?;
    let against = stretch_label(explanation.compared.0, explanation.compared.1, &workspace.zone);
    let name = |dim: &str, key: &DimValue| segment_name(names, dim, key);
    let text = sentence(&explanation, workspace.currency, &against, &name);
    Ok((explanation, text))
}
