//! Realistic, deterministic demo data for Traction at any scale.
//!
//! [`generate`] fills a store with about two years of a small business's sales ending at a given
//! instant: a B2B side (teams and reps of different skill, leads from sources of different
//! quality, a six-stage pipeline whose funnel leaks at the demo, activities in working hours,
//! email campaigns) and a shop side (products with stock and restocks, orders with lines that peak
//! at weekends and before Christmas, repeat customers who churn), plus costs, web visits, survey
//! answers and monthly targets; beside it, a community kitchen the company runs with volunteers
//! (meals served, volunteer hours, people trained, CO2 saved, donations) as events. See `docs/demo-data.md` for the story and the numbers.
//!
//! Three properties hold at every scale:
//! - **Deterministic**: the same seed, scale and `at` give the same rows, byte for byte on export.
//!   All randomness comes from [`rng::Rng`] sub-streams, and nothing iterates a hash map.
//! - **Valid**: every row goes through the store's writer, with the same checks as an import.
//! - **Streamed**: rows are committed in chunks as they are made; memory holds the fixed cast
//!   (teams, reps, products, campaigns) and small per-month tallies, never the rows.

mod calendar;
mod impact;
mod rng;
mod sales;
mod shop;
mod sink;
mod world;

use std::fmt;

use jiff::tz::TimeZone;
use traction_domain::settings::Key;
use traction_domain::time::Micros;
use traction_domain::{Entity, Value};
use traction_store::{Error, Problem, Store};

use calendar::Calendar;
use sink::Sink;

/// How much data: about 100k (`S`), 1M (`M`) or 10M (`L`) rows in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    S,
    M,
    L,
}

/// A scale that is not `s`, `m` or `l`: the text given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a scale: use s (≈100k rows), m (≈1M) or l (≈10M)")]
pub struct UnknownScale(pub String);

impl Scale {
    /// Parses `s`, `m` or `l` (any case).
    pub fn parse(text: &str) -> Result<Scale, UnknownScale> {
        match text.trim().to_ascii_lowercase().as_str() {
            "s" => Ok(Scale::S),
            "m" => Ok(Scale::M),
            "l" => Ok(Scale::L),
            _ => Err(UnknownScale(text.to_string())),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scale::S => "s",
            Scale::M => "m",
            Scale::L => "l",
        }
    }

    /// About how many rows the scale writes, for progress bars.
    pub fn approx_rows(self) -> u64 {
        match self {
            Scale::S => 115_000,
            Scale::M => 1_080_000,
            Scale::L => 10_600_000,
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub seed: u64,
    pub scale: Scale,
    /// The end of the history (the CLI's clock): nothing happens after it.
    pub at: Micros,
    /// Add to a database that already has data (ids are prefixed with the seed, so they do not
    /// collide with other data, but they do with an earlier demo of the same seed: refused).
    pub add: bool,
}

/// Rows written per entity, in [`Entity::ALL`] order (sale movements derived by the store from
/// order lines are not counted: the generator does not write them).
#[derive(Clone, Debug, Default)]
pub struct DemoSummary {
    pub rows: Vec<(Entity, u64)>,
}

impl DemoSummary {
    pub fn total(&self) -> u64 {
        self.rows.iter().map(|(_, n)| n).sum()
    }

    pub fn rows_of(&self, entity: Entity) -> u64 {
        self.rows.iter().find(|(e, _)| *e == entity).map_or(0, |(_, n)| *n)
    }
}

/// The time zone and currency the demo sets on an empty database: a zone with daylight saving,
/// so bucketing across the clock changes is exercised (docs/demo-data.md).
pub const DEMO_TIMEZONE: &str = "Europe/London";
pub const DEMO_CURRENCY: &str = "GBP";

/// The sizes of one scale. `S` is the story at human size; `M` and `L` grow the business (more
/// teams, reps, leads and customers), not the number of things one rep does in a day.
#[derive(Clone, Debug)]
pub(crate) struct Sizes {
    pub teams: usize,
    pub reps_per_team: usize,
    /// Expected leads over the two years.
    pub leads: f64,
    /// Expected prospecting activities (calls, emails, … not tied to a lead) over the two years.
    pub prospecting: f64,
    /// Shop customers acquired over the two years.
    pub customers: usize,
    pub products: usize,
    /// How much bigger than `S` the business is (scales money: costs, budgets, web traffic).
    pub k: f64,
}

impl Sizes {
    fn of(scale: Scale) -> Sizes {
        match scale {
            Scale::S => Sizes {
                teams: 3,
                reps_per_team: 4,
                leads: 4_000.0,
                prospecting: 18_000.0,
                customers: 2_000,
                products: 40,
                k: 1.0,
            },
            Scale::M => Sizes {
                teams: 5,
                reps_per_team: 8,
                leads: 40_000.0,
                prospecting: 180_000.0,
                customers: 20_000,
                products: 120,
                k: 10.0,
            },
            Scale::L => Sizes {
                teams: 10,
                reps_per_team: 12,
                leads: 400_000.0,
                prospecting: 1_800_000.0,
                customers: 200_000,
                products: 400,
                k: 100.0,
            },
        }
    }
}

/// Fills the store with demo data; calls `progress(entity, rows so far)` after each commit.
///
/// Refuses a database that has data unless `options.add`; on an empty one it first sets the
/// workspace time zone and currency ([`DEMO_TIMEZONE`], [`DEMO_CURRENCY`]).
pub fn generate(
    store: &dyn Store,
    options: &DemoOptions,
    progress: &mut dyn FnMut(Entity, u64),
) -> Result<DemoSummary, Error> {
    let prefix = format!("d{}-", options.seed);
    let mut existing = 0;
    for entity in Entity::ALL {
        existing += store.count(entity)?;
    }
    if existing > 0 && !options.add {
        return Err(Error::Conflict(format!(
            "the database already has {existing} records: demo data goes into an empty database; pass --add to add it anyway, or use a new --db"
        )));
    }
    if store.get(Entity::Teams, &[Value::Text(format!("{prefix}team-1"))])?.is_some() {
        return Err(Error::Conflict(format!(
            "the database already has the demo data of seed {}: pass another --seed to add more",
            options.seed
        )));
    }
    if existing == 0 {
        store.set_setting(Key::Timezone, None, DEMO_TIMEZONE)?;
        store.set_setting(Key::Currency, None, DEMO_CURRENCY)?;
    }
    let workspace = store.workspace()?;
    let zone: TimeZone = workspace.zone;
    let cal = Calendar::new(options.at, &zone).map_err(|e| {
        Error::Invalid(vec![Problem { tag: None, field: "at".into(), message: e.to_string() }])
    })?;
    let minor = workspace.currency.minor_per_major();
    let sizes = Sizes::of(options.scale);
    let mut world = world::World::new(options.seed, prefix, sizes, cal, minor);
    let mut sink = Sink::new(store, progress);
    world.write_cast(&mut sink)?;
    sales::generate(&mut world, &mut sink)?;
    shop::generate(&mut world, &mut sink)?;
    impact::generate(&mut world, &mut sink)?;
    world::write_operations(&mut world, &mut sink)?;
    sink.commit()?;
    Ok(DemoSummary {
        rows: Entity::ALL.iter().enumerate().map(|(idx, e)| (*e, sink.counts[idx])).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_parse_in_any_case() {
        assert_eq!(Scale::parse("S"), Ok(Scale::S));
        assert_eq!(Scale::parse(" m "), Ok(Scale::M));
        assert_eq!(Scale::parse("l"), Ok(Scale::L));
        let err = Scale::parse("xl").unwrap_err();
        assert_eq!(err, UnknownScale("xl".into()));
        assert!(err.to_string().contains("s (≈100k rows)"), "{err}");
    }
}
