//! A small cache of computed page bodies, valid while the data has not changed.
//!
//! A dashboard at scale M runs about a hundred queries; most requests for it come from the same
//! people reloading, and from every open page refreshing after a change. Each entry is keyed by
//! what the body depends on (the URL, the reader's locale and default scope) and remembers the
//! database's data version ([`traction_store::Operations::change_counter`], which moves with every
//! commit from any process) and when it was computed. It is used only while the data version is
//! the same and, for figures "as of now", for at most [`FRESH_FOR`] of the server's clock — pace
//! and expected values move with time even when nothing is written.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use traction_domain::time::Micros;

/// How long a body computed "as of now" is served without recomputing (pace moves by the
/// minute; an hourly target's expected value by the hour).
pub const FRESH_FOR: Micros = 30_000_000;
/// Entries kept; the oldest goes first.
const CAPACITY: usize = 64;

struct Entry {
    version: i64,
    computed_at: Micros,
    body: String,
}

fn cache() -> &'static Mutex<HashMap<String, Entry>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Entry>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The body under `key` if it was computed at `version` and (unless `fixed_time`) recently; else
/// computes it with `make`, keeps it and returns it.
pub fn get_or_compute(
    key: &str,
    version: i64,
    now: Micros,
    fixed_time: bool,
    make: impl FnOnce() -> crate::Result<String>,
) -> crate::Result<String> {
    {
        let map = cache().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get(key) {
            let fresh = fixed_time || (now >= e.computed_at && now - e.computed_at < FRESH_FOR);
            if e.version == version && fresh {
                return Ok(e.body.clone());
            }
        }
    }
    let body = make()?;
    let mut map = cache().lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= CAPACITY
        && !map.contains_key(key)
        && let Some(oldest) = map.iter().min_by_key(|(_, e)| e.computed_at).map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
    map.insert(key.to_string(), Entry { version, computed_at: now, body: body.clone() });
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_reused_until_the_data_or_the_time_moves() {
        let calls = std::cell::Cell::new(0);
        let make = || {
            calls.set(calls.get() + 1);
            Ok(format!("body {}", calls.get()))
        };
        let key = "test-key-reuse";
        assert_eq!(get_or_compute(key, 1, 0, false, make).unwrap(), "body 1");
        assert_eq!(
            get_or_compute(key, 1, 10_000_000, false, make).unwrap(),
            "body 1",
            "same data, moments later"
        );
        assert_eq!(
            get_or_compute(key, 2, 10_000_000, false, make).unwrap(),
            "body 2",
            "the data changed"
        );
        assert_eq!(
            get_or_compute(key, 2, 10_000_000 + FRESH_FOR, false, make).unwrap(),
            "body 3",
            "time moved on"
        );
        assert_eq!(
            get_or_compute(key, 2, 10_000_000 + 10 * FRESH_FOR, true, make).unwrap(),
            "body 3",
            "a fixed `at` does not age"
        );
        assert_eq!(calls.get(), 3);
    }
}
