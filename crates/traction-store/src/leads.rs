//! The leads waiting for a first answer, counted and paged by the store, so that the leads page
//! shows figures it did not compute (spec: web.md, Leads). The [`LeadStore`] trait is the only
//! way in.
//!
//! A lead waits when its status is `new`, it has no first response, and it came in at or before
//! the instant asked about. It is past the SLA when it has waited strictly longer than the SLA:
//! `at − created_at > sla`, so a lead exactly one SLA old is still within it.

use traction_domain::Record;
use traction_domain::time::Micros;

use crate::Error;

/// Which waiting leads to count and which page of them to return.
#[derive(Clone, Copy, Debug)]
pub struct WaitingQuery<'a> {
    /// The instant to count at: leads created after it are not waiting yet.
    pub at: Micros,
    /// Leads created before this instant are counted apart, as [`WaitingLeads::older`], and
    /// not listed: likely forgotten rather than waiting.
    pub since: Micros,
    /// The response SLA, in microseconds.
    pub sla: Micros,
    /// Only this owner's leads (`None`: everyone's).
    pub owner: Option<&'a str>,
    /// Only leads from this source (`None`: every source).
    pub source: Option<&'a str>,
    /// The page starts strictly after this lead, newest first: the previous page's last lead as
    /// its `created_at` and `id`.
    pub after: Option<(Micros, &'a str)>,
    /// At most this many leads on the page.
    pub limit: usize,
}

/// What [`LeadStore::waiting_leads`] answers.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitingLeads {
    /// Leads waiting that came in from `since` to `at`, both included.
    pub waiting: u64,
    /// Of those, the ones waiting longer than the SLA.
    pub past_sla: u64,
    /// Leads waiting that came in before `since`.
    pub older: u64,
    /// The sources of every waiting lead of the owner (any source, any age), in order.
    pub sources: Vec<String>,
    /// One page of the leads counted in `waiting`, newest first (ties by id, descending).
    pub page: Vec<Record>,
    /// Whether leads follow this page.
    pub more: bool,
}

pub trait LeadStore {
    /// The leads waiting for a first answer that `query` selects: how many, how many past the
    /// SLA, how many older, and one page of them.
    fn waiting_leads(&self, query: &WaitingQuery<'_>) -> Result<WaitingLeads, Error>;
}
