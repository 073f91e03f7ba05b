//! The demo generator against a real store: determinism, validity (the rows re-import exactly)
//! and the shape of the data (issue: demo data, point 6).
//!
//! One scale-S database is generated once and shared by the shape checks; the expected figures
//! are worked out from the generator's parameters in the comments, with margins wide enough for
//! the randomness of a few thousand rows.

mod shape;

use std::sync::OnceLock;

use tempfile::TempDir;
use traction_demo::{DemoOptions, Scale};
use traction_domain::Entity;
use traction_domain::settings::Key;
use traction_import::{Format, ImportOptions};
use traction_store::{Backend, Error, Store};

/// The clock of every test: the end of the history. 2026-11-23T12:00:00Z, a Monday.
pub const AT: i64 = 1_795_435_200_000_000;

pub struct Demo {
    _dir: TempDir,
    pub store: std::sync::Arc<dyn Backend>,
}

pub fn fresh() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let store = traction_store::open(&dir.path().join("demo.db")).unwrap();
    Demo { _dir: dir, store }
}

pub fn options(seed: u64) -> DemoOptions {
    DemoOptions { seed, scale: Scale::S, at: AT, add: false }
}

/// The shared scale-S database of seed 1.
pub fn shared() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let demo = fresh();
        traction_demo::generate(&*demo.store, &options(1), &mut |_, _| {}).unwrap();
        demo
    })
}

fn export_all(store: &dyn Store) -> Vec<(Entity, Vec<u8>)> {
    Entity::ALL
        .iter()
        .map(|entity| {
            let mut out = Vec::new();
            traction_import::export(store, *entity, Format::Csv, &mut out).unwrap();
            (*entity, out)
        })
        .collect()
}

fn assert_same_exports(a: &[(Entity, Vec<u8>)], b: &[(Entity, Vec<u8>)]) {
    for ((entity, x), (_, y)) in a.iter().zip(b) {
        assert!(x == y, "{entity}: exports differ ({} vs {} bytes)", x.len(), y.len());
    }
}

#[test]
fn the_same_seed_gives_the_same_rows_byte_for_byte() {
    let first = shared();
    let second = fresh();
    let mut seen = Vec::new();
    let summary = traction_demo::generate(&*second.store, &options(1), &mut |entity, n| {
        seen.push((entity, n));
    })
    .unwrap();
    let a = export_all(&*first.store);
    let b = export_all(&*second.store);
    assert_same_exports(&a, &b);
    // Progress reported every entity's final count.
    for (entity, n) in &summary.rows {
        let last = seen.iter().rev().find(|(e, _)| e == entity).map(|(_, n)| *n);
        assert_eq!(last, Some(*n), "{entity}");
    }
    // Another seed gives other data.
    let other = fresh();
    traction_demo::generate(&*other.store, &options(2), &mut |_, _| {}).unwrap();
    let c = export_all(&*other.store);
    assert!(a.iter().zip(&c).any(|((_, x), (_, y))| x != y));
}

#[test]
fn every_entity_is_filled_and_the_total_is_about_100k() {
    let demo = shared();
    let mut total = 0;
    for entity in Entity::ALL {
        let n = demo.store.count(entity).unwrap();
        assert!(n > 0, "{entity} is empty");
        total += n;
    }
    // Scale S is "about 100k rows in all" (sale movements derived from order lines included).
    assert!((80_000..=200_000).contains(&total), "{total}");
    assert_eq!(demo.store.setting(Key::Timezone, None).unwrap().value, "Europe/London");
    assert_eq!(demo.store.setting(Key::Currency, None).unwrap().value, "GBP");
}

#[test]
fn exported_rows_import_into_a_fresh_database_unchanged() {
    let demo = shared();
    let original = export_all(&*demo.store);
    let copy = fresh();
    copy.store.set_setting(Key::Timezone, None, "Europe/London").unwrap();
    copy.store.set_setting(Key::Currency, None, "GBP").unwrap();
    for (entity, csv) in &original {
        let options = ImportOptions {
            file_name: format!("{entity}.csv"),
            format: Format::Csv,
            max_errors: 10,
            now: AT,
        };
        if let Err(e) =
            traction_import::import(&*copy.store, *entity, &csv[..], &options, &mut |_| {})
        {
            panic!("{entity}: {e}");
        }
    }
    assert_same_exports(&original, &export_all(&*copy.store));
}

#[test]
fn a_database_with_data_is_refused_unless_adding_another_seed() {
    let demo = fresh();
    traction_demo::generate(&*demo.store, &options(3), &mut |_, _| {}).unwrap();
    let again = traction_demo::generate(&*demo.store, &options(4), &mut |_, _| {});
    let Err(Error::Conflict(message)) = again else { panic!("a full database was not refused") };
    assert!(message.contains("--add"), "{message}");
    let same_seed = DemoOptions { add: true, ..options(3) };
    let Err(Error::Conflict(message)) =
        traction_demo::generate(&*demo.store, &same_seed, &mut |_, _| {})
    else {
        panic!("the same seed was added twice")
    };
    assert!(message.contains("another --seed"), "{message}");
}
