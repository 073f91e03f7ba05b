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
