//! The metric catalog a server answers from, kept current without a restart.
//!
//! A workspace's catalog is layered (`traction_metrics::catalog::workspace`): the built-in
//! metrics, the metrics of the stored event kinds, the definitions stored in the database (made
//! with `traction metrics add`, the API or the web form — by this process or another), then the
//! `--metrics` file. [`LiveCatalog::refresh`] reloads it when the store says its inputs changed
//! (`DefinitionStore::catalog_version`), at most every [`CHECK_EVERY`] between requests and at
//! once after this server writes a definition.
//!
//! Handlers read it as a plain `&Catalog` (it dereferences to the current one). A catalog that
//! has been handed out is never freed: each distinct catalog stays in memory until the process
//! ends. That is a few hundred kilobytes per change of the definitions or of the set of event
//! kinds — changes people make by hand — and it lets every handler keep a plain reference
//! without locks or reference counts on the hot path. An event written with a known kind
//! rebuilds nothing.

use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use traction_metrics::Catalog;
use traction_metrics::catalog::{Diagnostics, workspace};
use traction_store::{DefinitionStore, Error as StoreError};

/// How often a request checks whether the catalog's inputs changed.
pub const CHECK_EVERY: Duration = Duration::from_millis(250);

/// The inputs of the current catalog, to tell a real change from a new version number.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct Inputs {
    kinds: Vec<String>,
    definitions: Vec<(String, String)>,
}

pub struct LiveCatalog {
    /// The `--metrics` file's text, layered on top.
    file: Option<String>,
    /// A fixed catalog (a server configured with one and no file text: tests); never reloaded.
    fixed: bool,
    current: RwLock<&'static Catalog>,
    seen: Mutex<(Option<i64>, Inputs, Option<Instant>)>,
}

impl std::ops::Deref for LiveCatalog {
    type Target = Catalog;

    fn deref(&self) -> &Catalog {
        *self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl LiveCatalog {
    /// A catalog that follows the store, with `file` (a `--metrics` file's text) on top.
    pub fn following(file: Option<String>) -> LiveCatalog {
        let start = match &file {
            Some(text) => Catalog::load_layers(&[text]).unwrap_or_else(|_| Catalog::builtin()),
            None => Catalog::builtin(),
        };
        LiveCatalog {
            file,
            fixed: false,
            current: RwLock::new(Box::leak(Box::new(start))),
            seen: Mutex::new((None, Inputs::default(), None)),
        }
    }

    /// A catalog that never changes.
    pub fn fixed(catalog: Catalog) -> LiveCatalog {
        LiveCatalog {
            file: None,
            fixed: true,
            current: RwLock::new(Box::leak(Box::new(catalog))),
            seen: Mutex::new((None, Inputs::default(), None)),
        }
    }

    /// Reloads the catalog if its inputs changed; `force` checks now rather than at most every
    /// [`CHECK_EVERY`]. Answers the stored definitions left out because they no longer check.
    pub fn refresh(
        &self,
        store: &dyn DefinitionStore,
        now: Instant,
        force: bool,
    ) -> Result<Option<Diagnostics>, StoreError> {
        if self.fixed {
            return Ok(None);
        }
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !force && seen.2.is_some_and(|last| now.duration_since(last) < CHECK_EVERY) {
            return Ok(None);
        }
        seen.2 = Some(now);
        let version = store.catalog_version()?;
        if seen.0 == Some(version) {
            return Ok(None);
        }
        let inputs = Inputs {
            kinds: store.event_kinds()?,
            definitions: store
                .metric_definitions()?
                .into_iter()
                .map(|d| (d.name, d.definition))
                .collect(),
        };
        seen.0 = Some(version);
        if seen.1 == inputs && version != 0 {
            return Ok(None);
        }
        let loaded = match workspace::load(store, self.file.as_deref()) {
            Ok(loaded) => loaded,
            // The file was checked at start; a storage failure is reported.
            Err(Err(e)) => return Err(e),
            Err(Ok(_)) => return Ok(None),
        };
        seen.1 = inputs;
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) =
            Box::leak(Box::new(loaded.catalog));
        Ok((!loaded.left_out.0.is_empty()).then_some(loaded.left_out))
    }
}
