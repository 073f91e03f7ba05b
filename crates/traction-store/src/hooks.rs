//! What the email event hooks keep (importers.md, email hooks): one hook per mailing tool with the
//! secret that checks its requests, and the lookup of the people an event is about by address.
//!
//! The [`HookStore`] trait is the only way in; the SQLite store implements it (`sqlite/hooks.rs`,
//! migration V15). The events themselves are ordinary `email_events` records written through a
//! [`crate::Writer`].

use traction_domain::time::Micros;

use crate::{Actor, Error};

/// A configured hook of one mailing tool.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailHook {
    /// `mandrill` or `sendgrid`.
    pub provider: String,
    /// What checks a request: Mandrill's webhook key, SendGrid's verification public key.
    pub secret: String,
    /// The URL the tool posts to, as configured there (Mandrill signs it); empty when unused.
    pub url: String,
    pub created_at: Micros,
    pub created_by: String,
}

impl std::fmt::Debug for EmailHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailHook")
            .field("provider", &self.provider)
            .field("secret", &"<redacted>")
            .field("url", &self.url)
            .field("created_at", &self.created_at)
            .field("created_by", &self.created_by)
            .finish()
    }
}

/// The contact an address belongs to (the newest when several share it) and that contact's
/// newest lead (leads have no address of their own: a lead's person is its contact).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recipient {
    pub lead_id: Option<String>,
    pub lead_owner: Option<String>,
    pub lead_campaign: Option<String>,
    pub contact_id: Option<String>,
    pub contact_owner: Option<String>,
}

/// The email hooks' storage.
pub trait HookStore {
    /// Adds a provider's hook, audited without its secret; [`Error::Conflict`] when the provider
    /// has one already.
    fn add_email_hook(&self, hook: &EmailHook, actor: &Actor) -> Result<(), Error>;

    /// Every configured hook, by provider.
    fn email_hooks(&self) -> Result<Vec<EmailHook>, Error>;

    /// One provider's hook.
    fn email_hook(&self, provider: &str) -> Result<Option<EmailHook>, Error>;

    /// Removes a provider's hook, audited; [`Error::NotFound`] when there is none.
    fn delete_email_hook(&self, provider: &str, actor: &Actor) -> Result<(), Error>;

    /// The contact with this address (compared without regard to case) and its newest lead.
    fn recipient(&self, email: &str) -> Result<Recipient, Error>;
}
