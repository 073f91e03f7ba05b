//! A workspace's catalog: the built-in metrics, then the metrics of its event kinds
//! (`kinds.rs`), then the definitions stored in the database (metrics defined in the app), then
//! the `--metrics` file — each layer replacing a metric of the same name below it.
//!
//! A stored definition was checked when it was written, but what it names may have changed
//! since (a `--metrics` file given to one process and not another): a stored definition that no
//! longer checks is left out, with its problems, rather than taking the whole catalog down.

use traction_store::{DefinitionStore, Error as StoreError};

use super::{Catalog, Diagnostics, kinds};

/// The catalog, and the stored definitions left out because they no longer check.
pub struct Loaded {
    pub catalog: Catalog,
    pub left_out: Diagnostics,
}

/// Loads a workspace's catalog. `Err(Ok(diagnostics))` is a `--metrics` file that does not
/// check; `Err(Err(e))` a storage failure.
pub fn load(
    store: &dyn DefinitionStore,
    file: Option<&str>,
) -> Result<Loaded, Result<Diagnostics, StoreError>> {
    let kinds = store.event_kinds().map_err(Err)?;
    let kind_text = kinds::kind_definitions(&kinds);
    let stored = store.metric_definitions().map_err(Err)?;
    let mut kept: Vec<&str> = stored.iter().map(|d| d.definition.as_str()).collect();
    let mut left_out = Vec::new();
    loop {
        let mut layers = vec![kind_text.as_str()];
        layers.extend(kept.iter().copied());
        layers.extend(file);
        match Catalog::load_layers(&layers) {
            Ok(catalog) => return Ok(Loaded { catalog, left_out: Diagnostics(left_out) }),
            Err(diagnostics) => {
                // Drop the stored definitions at fault and try again; a fault elsewhere (the
                // file) is the caller's to report.
                let faulty: Vec<&str> = stored
                    .iter()
                    .filter(|d| {
                        kept.contains(&d.definition.as_str())
                            && diagnostics.0.iter().any(|p| {
                                p.definition == format!("metric.{}", d.name)
                                    || p.message.contains(&format!("metric.{}", d.name))
                            })
                    })
                    .map(|d| d.definition.as_str())
                    .collect();
                if faulty.is_empty() {
                    return Err(Ok(diagnostics));
                }
                left_out.extend(diagnostics.0);
                kept.retain(|t| !faulty.contains(t));
            }
        }
    }
}

/// Checks a list of metric names (the `dashboard_metrics` setting: comma-separated, as
/// normalised by the setting) against the workspace's catalog: every name that is not a metric is
/// listed in one message with a hint, so one run reports them all.
pub fn check_names(catalog: &Catalog, names: &str) -> Result<(), UnknownNames> {
    let unknown: Vec<String> = names
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty() && catalog.get(name).is_none())
        .map(str::to_string)
        .collect();
    if unknown.is_empty() { Ok(()) } else { Err(UnknownNames { names: unknown }) }
}

/// Names in a list of metrics that are not metrics of the catalog (at least one), in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownNames {
    pub names: Vec<String>,
}

impl std::fmt::Display for UnknownNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quoted: Vec<String> = self.names.iter().map(|name| format!("{name:?}")).collect();
        match quoted.as_slice() {
            [one] => write!(f, "{one} is not a metric")?,
            more => write!(f, "{} are not metrics", more.join(", "))?,
        }
        f.write_str(
            ": use names from the catalog (`traction metrics list` or the Metrics page); a metric of a --metrics file counts only when the file is given",
        )
    }
}

impl std::error::Error for UnknownNames {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_metrics_are_listed_together() {
        let catalog = Catalog::builtin();
        assert_eq!(check_names(&catalog, "revenue,orders"), Ok(()));
        assert_eq!(check_names(&catalog, ""), Ok(()));
        let one = check_names(&catalog, "revenue,meals").unwrap_err().to_string();
        assert!(one.starts_with("\"meals\" is not a metric: use names from the catalog"), "{one}");
        let two = check_names(&catalog, "revenu,orders,meals").unwrap_err().to_string();
        assert!(two.starts_with("\"revenu\", \"meals\" are not metrics:"), "{two}");
        assert!(two.contains("traction metrics list"), "{two}");
    }
}
