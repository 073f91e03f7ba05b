//! Who may sign in and what they did: credentials, sessions, API tokens and one-time sign-in
//! links ([`AuthStore`]), the audit log ([`AuditStore`]) and each user's saved views
//! ([`ViewStore`]). These are not entities of the data model: they are never imported or
//! exported. The store never sees a secret: callers hash passwords (Argon2id), session ids,
//! link secrets and tokens (SHA-256) first.

use traction_domain::time::Micros;

use crate::{Actor, Error};

/// One row of the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its place in the log (increasing).
    pub seq: i64,
    pub at: Micros,
    /// A user id, or `cli` / `system` for changes made outside the server.
    pub actor: String,
    /// `create`, `update`, `delete`, `set` (a setting), `password`, `token.create`, …
    pub action: String,
    /// The entity, or `settings`, `api_tokens`, `credentials`.
    pub entity: String,
    pub key: String,
    /// Compact JSON objects (import-text values); `None` for a create's before, a delete's after.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Which audit rows to read, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub from: Option<Micros>,
    pub to: Option<Micros>,
    pub entity: Option<String>,
    pub actor: Option<String>,
    /// Only rows older than this `seq` (the cursor of the previous page).
    pub before_seq: Option<i64>,
    pub limit: usize,
}

/// A session as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: Micros,
    pub last_seen_at: Micros,
}

/// An API token as stored (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: Micros,
    pub last_used_at: Option<Micros>,
    pub revoked_at: Option<Micros>,
}

/// One saved view of one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The list page's path and query (`/deals?owner=u1&status=open`).
    pub path: String,
    pub created_at: i64,
}

/// The longest name a view may have, in characters.
pub const MAX_VIEW_NAME: usize = 80;

/// Sign-in data. Every change a person makes here is audited in the same transaction.
pub trait AuthStore: Send + Sync {
    /// Sets (or replaces) a user's password hash, in one transaction with its audit row (the
    /// hash itself is never logged). A changed password (not a first one) ends every session
    /// and revokes every token of the user. [`Error::NotFound`] when there is no such user.
    fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        actor: &Actor,
        at: Micros,
    ) -> Result<(), Error>;

    /// The stored password hash of a user, if they have one.
    fn password_hash(&self, user_id: &str) -> Result<Option<String>, Error>;

    /// Stores a new session under the hash of its id.
    fn create_session(&self, id_hash: &str, session: &Session) -> Result<(), Error>;

    /// The session stored under this hash.
    fn session(&self, id_hash: &str) -> Result<Option<Session>, Error>;

    /// Records that a session was used at `at`. Best effort: it gives up at once, rather than
    /// wait, while a long write holds the database (the session then looks idle a little longer).
    fn touch_session(&self, id_hash: &str, at: Micros) -> Result<(), Error>;

    /// Ends a session.
    fn delete_session(&self, id_hash: &str) -> Result<(), Error>;

    /// Ends every session that began before `created_before` or was last used before
    /// `seen_before`; returns how many.
    fn expire_sessions(&self, created_before: Micros, seen_before: Micros) -> Result<u64, Error>;

    /// Stores a new API token (its hash), with its audit row. [`Error::NotFound`] when there is
    /// no such user.
    fn create_token(&self, token: &ApiToken, token_hash: &str, actor: &Actor) -> Result<(), Error>;

    /// The token stored under this hash (revoked ones included: the caller refuses them).
    fn token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>, Error>;

    /// One token by its public id.
    fn token(&self, id: &str) -> Result<Option<ApiToken>, Error>;

    /// Records that a token was used (best effort, as [`AuthStore::touch_session`]).
    fn touch_token(&self, id: &str, at: Micros) -> Result<(), Error>;

    /// The tokens of one user, or of everyone, oldest first.
    fn tokens(&self, user_id: Option<&str>) -> Result<Vec<ApiToken>, Error>;

    /// Revokes a token (from then on it signs nothing in), with its audit row. Revoking a revoked
    /// token changes nothing; [`Error::NotFound`] when there is no such token.
    fn revoke_token(&self, id: &str, at: Micros, actor: &Actor) -> Result<(), Error>;

    /// Stores a sign-in link for `user_id` under the hash of its secret, valid until
    /// `expires_at`, with its audit row. [`Error::NotFound`] when there is no such user.
    fn create_sign_in_link(
        &self,
        id_hash: &str,
        user_id: &str,
        at: Micros,
        expires_at: Micros,
        actor: &Actor,
    ) -> Result<(), Error>;

    /// The user a sign-in link is for, while it is unused and not expired at `at`.
    fn sign_in_link(&self, id_hash: &str, at: Micros) -> Result<Option<String>, Error>;

    /// Uses a sign-in link at `at`: the user it is for, or `None` when it is unknown, used
    /// already or expired. A link is used once, decided in one step, so two uses at the same
    /// moment cannot both succeed.
    fn use_sign_in_link(&self, id_hash: &str, at: Micros) -> Result<Option<String>, Error>;
}

/// The audit log: the rows every audited write leaves, and events of their own.
pub trait AuditStore: Send + Sync {
    /// Appends an audit row of its own (an event that is not a record write: a setting, a
    /// sign-in refused because of the rate limit, the demo data).
    fn audit(
        &self,
        actor: &Actor,
        action: &str,
        entity: &str,
        key: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<(), Error>;

    /// The newest `limit` audit rows of one record (`key` as the log writes it), newest first:
    /// a record page's history, read through its own index.
    fn audit_of(&self, entity: &str, key: &str, limit: usize) -> Result<Vec<AuditEntry>, Error>;

    /// A page of the audit log, newest first.
    fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, Error>;
}

/// Saved views: a list page's address kept under a name by one user.
pub trait ViewStore: Send + Sync {
    /// A user's saved views, by name.
    fn saved_views(&self, user: &str) -> Result<Vec<SavedView>, Error>;

    /// Saves a view for `user` under `name` (trimmed; 1 to [`MAX_VIEW_NAME`] characters); a
    /// view of that name is replaced. Answers the view's id and whether it replaced one.
    /// [`Error::Invalid`] for an empty or too long name, [`Error::NotFound`] for no such user.
    fn save_view(
        &self,
        user: &str,
        name: &str,
        path: &str,
        at: Micros,
    ) -> Result<(i64, bool), Error>;

    /// Deletes one of `user`'s views; [`Error::NotFound`] when they have no view `id` (another
    /// user's view is not theirs to delete, and is not told apart from none).
    fn delete_view(&self, user: &str, id: i64) -> Result<(), Error>;
}
