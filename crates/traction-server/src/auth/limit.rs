//! Sign-in rate limits: failed attempts counted per account and per client address over a
//! sliding window, in memory (a restart forgets them; they protect against guessing, which a
//! restart does not help).
//!
//! An account with [`PER_ACCOUNT`] failures in the last [`WINDOW`] is refused further attempts,
//! right password or not, until the oldest failure leaves the window; an address with
//! [`PER_ADDRESS`] failures likewise, whatever account it names. A successful sign-in clears the
//! account's count. Counting failures only keeps a user who signs in often unaffected.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use traction_domain::time::Micros;

/// The window failures are counted over: 15 minutes.
pub const WINDOW: Micros = 15 * 60 * 1_000_000;
/// Failures allowed per account within the window.
pub const PER_ACCOUNT: usize = 5;
/// Failures allowed per client address within the window.
pub const PER_ADDRESS: usize = 20;
/// Keys kept before old ones are swept (bounds the memory an attacker can make us use).
const MAX_KEYS: usize = 100_000;

/// Failure times per key.
#[derive(Debug, Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, VecDeque<Micros>>>,
}

impl Limiter {
    /// When `key` (`account:…` or `address:…`) is over `max` failures: the seconds until it may
    /// try again.
    pub fn blocked(&self, key: &str, max: usize, now: Micros) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let times = map.get_mut(key)?;
        while times.front().is_some_and(|t| now - t >= WINDOW) {
            times.pop_front();
        }
        if times.len() < max {
            return None;
        }
        let oldest = times.front().copied().unwrap_or(now);
        Some(((oldest + WINDOW - now).max(0) as u64).div_ceil(1_000_000).max(1))
    }

    /// Counts a failure.
    pub fn fail(&self, key: &str, now: Micros) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| times.back().is_some_and(|t| now - t < WINDOW));
        }
        let times = map.entry(key.to_string()).or_default();
        times.push_back(now);
        // Never more than the largest limit is needed.
        while times.len() > PER_ADDRESS {
            times.pop_front();
        }
    }

    /// Forgets a key's failures (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_blocked_after_its_failures_until_the_window_passes() {
        let limiter = Limiter::default();
        let t0 = 1_000_000_000;
        for i in 0..PER_ACCOUNT {
            assert_eq!(limiter.blocked("account:ann", PER_ACCOUNT, t0), None, "attempt {i}");
            limiter.fail("account:ann", t0);
        }
        assert_eq!(limiter.blocked("account:ann", PER_ACCOUNT, t0), Some(900));
        assert_eq!(limiter.blocked("account:ann", PER_ACCOUNT, t0 + WINDOW - 1_000_000), Some(1));
        assert_eq!(limiter.blocked("account:ann", PER_ACCOUNT, t0 + WINDOW), None);
        assert_eq!(limiter.blocked("account:bob", PER_ACCOUNT, t0), None);
        limiter.fail("account:ann", t0);
        limiter.clear("account:ann");
        assert_eq!(limiter.blocked("account:ann", PER_ACCOUNT, t0), None);
    }
}
