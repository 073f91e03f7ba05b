//! Silences (spec: monitoring.md, Silences): a rule's notifications (one key, or all) held over
//! a time range while states are still tracked; see [`crate::eval::step`] for what is told when
//! a silence ends.

use traction_store::monitor::Silence;
use traction_store::{Actor, MonitorStore};

use crate::Error;

/// Checks and stores a silence: a valid id, a range that ends after it starts, a rule that
/// exists (the store checks that last, in the same transaction).
pub fn add(monitor: &dyn MonitorStore, silence: &Silence, actor: &Actor) -> Result<(), Error> {
    crate::channel::check_silence_id(&silence.id)?;
    if silence.ends_at <= silence.starts_at {
        return Err(Error::at("until", "a silence must end after it starts"));
    }
    if silence.key.as_deref() == Some("") {
        return Err(Error::at("key", "--key is empty: name an instance, or leave it out for all"));
    }
    monitor.add_silence(silence, actor)?;
    Ok(())
}
