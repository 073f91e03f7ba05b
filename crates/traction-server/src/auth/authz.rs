//! Authorisation: who may do what, in one place (spec: quality.md, Security).
//!
//! Two levels, both here:
//!
//! - **Route level**: [`route_roles`] gives, for each operation of the operation table, the roles
//!   that may call it at all. The middleware applies it to every API request before a handler
//!   runs, so a forbidden request is a 403 that never reached the data.
//! - **Record level**: [`Guarded`] is the store a signed-in caller writes through. Its writer
//!   checks every record put or deleted against [`check_write`] (a rep's own records, a
//!   manager's team scope) before the store sees it — for record writes, the deal move, imports
//!   and targets alike, from the API or from the web pages. [`visible`] and
//!   [`Principal::owners`] scope reads the same way: a record outside one's read scope answers
//!   404, as if it did not exist.
//!
//! Entities fall in four classes ([`Class`]): records with an owner (`owner_id`: accounts,
//! contacts, leads, deals, activities, orders, costs), records that belong to an owned parent
//! (stage changes to their deal, order lines to their order), targets (by their scope), and
//! reference data (users, teams, pipelines, stages, products, stock movements, campaigns, web
//! visits, e-mail events, surveys) that only admins change and everyone reads.

use std::sync::{Arc, Mutex};

use traction_domain::settings::{Key, Workspace};
use traction_domain::{Entity, Record, Value};
use traction_store::{
    Actor, Backend, Error, ListQuery, Problem, PutOutcome, Setting, Store, Summary, Writer,
};

use super::{Principal, Role};
use crate::api::operations::{Endpoint, Roles};

/// What kind of data an entity holds, for authorisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Records with an `owner_id`.
    Owned,
    /// Records that belong to their parent's owner: (parent entity, the field naming it).
    Child(Entity, &'static str),
    /// Targets: owned by their scope (company, a team, a user).
    Target,
    /// Data everyone reads and only admins change.
    Reference,
}

pub fn class(entity: Entity) -> Class {
    match entity {
        Entity::StageChanges => Class::Child(Entity::Deals, "deal_id"),
        Entity::OrderLines => Class::Child(Entity::Orders, "order_id"),
        Entity::Targets => Class::Target,
        e if e.field("owner_id").is_some() => Class::Owned,
        _ => Class::Reference,
    }
}

pub(crate) const ALL: &[Role] = &[Role::Admin, Role::Manager, Role::Rep, Role::Viewer];
pub(crate) const WRITERS: &[Role] = &[Role::Admin, Role::Manager, Role::Rep];
pub(crate) const MANAGERS: &[Role] = &[Role::Admin, Role::Manager];
pub(crate) const ADMINS: &[Role] = &[Role::Admin];

/// The roles that may call an endpoint at all (the route-level table: the `roles` of its row of
/// `api::operations::OPERATIONS`). Record-level checks come on top for writes and reads of
/// records.
pub fn route_roles(endpoint: &Endpoint) -> &'static [Role] {
    match (endpoint.operation.roles, endpoint.entity) {
        (Roles::Public, _) => ALL,
        (Roles::Only(roles), _) => roles,
        (Roles::WritersOf, Some(entity)) => match class(entity) {
            Class::Owned | Class::Child(..) => WRITERS,
            Class::Target => MANAGERS,
            Class::Reference => ADMINS,
        },
        // A row not made per entity has no entity to write: only admins.
        (Roles::WritersOf, None) => ADMINS,
    }
}

/// Why a write is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    /// The record is outside the caller's read scope: answer as if it did not exist.
    Hidden { entity: Entity, key: String },
    /// The caller sees the record (or the change) but may not make it.
    Forbidden(String),
}

/// The owner of a record: `Ok(Some(id))`, `Ok(None)` for nobody; `Err(())` when its parent is
/// not stored yet (made in the same transaction, and checked when it was put).
fn owner_of(store: &dyn Store, record: &Record) -> Result<Result<Option<String>, ()>, Error> {
    Ok(match class(record.entity) {
        Class::Owned => Ok(record.get("owner_id").as_text().map(str::to_string)),
        Class::Child(parent, field) => {
            let Some(id) = record.get(field).as_text() else { return Ok(Ok(None)) };
            match store.get(parent, &[Value::Text(id.to_string())])? {
                Some(p) => Ok(p.get("owner_id").as_text().map(str::to_string)),
                None => Err(()),
            }
        }
        Class::Target | Class::Reference => Ok(None),
    })
}

/// Whether the caller may read a stored record (reads outside it answer 404).
pub fn visible(principal: &Principal, store: &dyn Store, record: &Record) -> Result<bool, Error> {
    let Some(owners) = principal.owners() else { return Ok(true) };
    Ok(match owner_of(store, record)? {
        Ok(Some(owner)) => owners.contains(&owner),
        Ok(None) | Err(()) => true,
    })
}

/// What a caller with a read scope is told of an announced change: a change to a record they
/// may read as it is; a change to one outside their scope nothing (it does not reveal that the
/// record exists); a deletion, whose record is gone and cannot be checked, without its id;
/// reloads as they are.
pub fn announce_to(
    principal: &Principal,
    store: &dyn Store,
    announcement: crate::events::Announcement,
) -> Option<crate::events::Announcement> {
    use crate::events::Announcement;
    if let Announcement::Notification { user } = &announcement {
        // One's own notifications only.
        return (*user == principal.user_id).then_some(announcement);
    }
    let Announcement::Change { entity, id, kind } = &announcement else {
        return Some(announcement);
    };
    if principal.owners().is_none() {
        return Some(announcement);
    }
    if *kind == "deleted" {
        return Some(Announcement::Change { entity: *entity, id: String::new(), kind });
    }
    // Keyed records (stage changes, order lines, web visits) are named by their key's values
    // joined by `/`; the values are read back into the key's types by the store.
    let record = if entity.has_id() {
        store.get(*entity, &[Value::Text(id.clone())]).ok().flatten()
    } else {
        None
    };
    match record {
        Some(r) => visible(principal, store, &r).ok().filter(|v| *v).map(|_| announcement),
        // A keyed record: announced without its key.
        None if !entity.has_id() => {
            Some(Announcement::Change { entity: *entity, id: String::new(), kind })
        }
        None => None,
    }
}

/// Whether a target's scope (`company`, `team:ID`, `user:ID`) is within the caller's reach.
fn target_in_scope(principal: &Principal, record: &Record) -> bool {
    let scope = record.get("scope").as_text().unwrap_or("");
    match (principal.teams(), principal.owners()) {
        (None, _) | (_, None) => true,
        (Some(teams), Some(owners)) => {
            if let Some(team) = scope.strip_prefix("team:") {
                teams.iter().any(|t| t == team)
            } else if let Some(user) = scope.strip_prefix("user:") {
                owners.iter().any(|o| o == user)
            } else {
                false
            }
        }
    }
}

/// Whether the caller may change `before` (the stored record, if any) into `after` (the record
/// put; `None` for a delete).
pub fn check_write(
    principal: &Principal,
    store: &dyn Store,
    entity: Entity,
    before: Option<&Record>,
    after: Option<&Record>,
) -> Result<Result<(), Denied>, Error> {
    if let Some(before) = before
        && !visible(principal, store, before)?
    {
        return Ok(Err(Denied::Hidden { entity, key: before.key_text() }));
    }
    let role = principal.role;
    let refuse = |message: String| Ok(Err(Denied::Forbidden(message)));
    match role {
        Role::Admin => return Ok(Ok(())),
        Role::Viewer => {
            return refuse(
                "a viewer reads only: ask an admin for a role that may change data".into(),
            );
        }
        Role::Manager | Role::Rep => {}
    }
    match class(entity) {
        Class::Reference => {
            refuse(format!("only an admin changes {entity}: ask an admin to make the change"))
        }
        Class::Target => {
            if role == Role::Rep {
                return refuse("targets are set by managers and admins".into());
            }
            for record in before.into_iter().chain(after) {
                if !target_in_scope(principal, record) {
                    let scope = record.get("scope").as_text().unwrap_or("");
                    return refuse(format!(
                        "target scope {scope:?} is outside your team: a manager sets targets of their team, its sub-teams and their people"
                    ));
                }
            }
            Ok(Ok(()))
        }
        Class::Owned | Class::Child(..) => {
            let owners = principal.owners();
            let may_own = |owner: &Option<String>| match (role, owner) {
                (Role::Rep, Some(o)) => *o == principal.user_id,
                (Role::Rep, None) => false,
                (_, Some(o)) => owners.is_none_or(|list| list.iter().any(|x| x == o)),
                (_, None) => owners.is_none(),
            };
            let what = |record: &Record| match class(entity) {
                Class::Child(parent, _) => format!("its {}", crate::auth::singular(parent)),
                _ => format!("{} {:?}", crate::auth::singular(record.entity), record.key_text()),
            };
            if let Some(before) = before
                && let Ok(owner) = owner_of(store, before)?
                && !may_own(&owner)
            {
                return refuse(match role {
                    Role::Rep => format!(
                        "{} is not yours: a rep changes only the records they own",
                        what(before)
                    ),
                    _ => format!(
                        "{} belongs to someone outside your team: a manager changes the records of their team and its sub-teams",
                        what(before)
                    ),
                });
            }
            if let Some(after) = after
                && let Ok(owner) = owner_of(store, after)?
                && !may_own(&owner)
            {
                let field = match class(entity) {
                    Class::Child(_, f) => f,
                    _ => "owner_id",
                };
                return refuse(match role {
                    Role::Rep => format!(
                        "{field}: a rep creates and changes only records they own: set owner_id to your id, {:?}",
                        principal.user_id
                    ),
                    _ => {
                        format!("{field}: the owner must be a member of your team or its sub-teams")
                    }
                });
            }
            Ok(Ok(()))
        }
    }
}

/// The store as one signed-in caller writes to it: every writer it hands out audits the changes
/// as the caller's and checks each record against [`check_write`] first. Reads pass through.
pub struct Guarded<'a> {
    store: &'a dyn Backend,
    principal: &'a Principal,
    actor: Actor,
    /// The first refusal met, so the HTTP layer can answer 403 or 404 rather than 422.
    denied: Arc<Mutex<Option<Denied>>>,
}

impl<'a> Guarded<'a> {
    pub fn new(store: &'a dyn Backend, principal: &'a Principal, at: i64) -> Guarded<'a> {
        Guarded {
            store,
            principal,
            actor: Actor { user: principal.user_id.clone(), at: Some(at) },
            denied: Arc::new(Mutex::new(None)),
        }
    }

    /// The first refusal any of its writers met.
    pub fn denied(&self) -> Option<Denied> {
        self.denied.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

struct GuardedWriter<'a> {
    inner: Box<dyn Writer + 'a>,
    store: &'a dyn Backend,
    principal: &'a Principal,
    denied: Arc<Mutex<Option<Denied>>>,
}

impl GuardedWriter<'_> {
    fn check(
        &self,
        tag: u64,
        entity: Entity,
        before: Option<&Record>,
        after: Option<&Record>,
    ) -> Result<(), Error> {
        match check_write(self.principal, self.store, entity, before, after)? {
            Ok(()) => Ok(()),
            Err(denied) => {
                let message = match &denied {
                    Denied::Hidden { entity, key } => {
                        format!("no {entity} record has key {key:?}")
                    }
                    Denied::Forbidden(message) => message.clone(),
                };
                let mut slot = self.denied.lock().unwrap_or_else(|p| p.into_inner());
                if slot.is_none() {
                    *slot = Some(denied);
                }
                Err(Error::Invalid(vec![Problem { tag: Some(tag), field: String::new(), message }]))
            }
        }
    }
}

impl GuardedWriter<'_> {
    /// The references of `record` to records outside the caller's read scope, as the problems
    /// the store gives for references to records that do not exist (same field, same words):
    /// a reference may not tell whether another team's record exists.
    fn hidden_references(&self, record: &Record) -> Result<Vec<Problem>, Error> {
        let mut problems = Vec::new();
        if self.principal.owners().is_none() {
            return Ok(problems);
        }
        for (field, value) in record.entity.fields().iter().zip(&record.values) {
            let traction_domain::FieldType::Ref(target) = field.ty else { continue };
            let Value::Text(id) = value else { continue };
            if matches!(class(target), Class::Target | Class::Reference) {
                continue;
            }
            if let Some(referred) = self.store.get(target, &[Value::Text(id.clone())])?
                && !visible(self.principal, self.store, &referred)?
            {
                problems.push(Problem {
                    tag: None,
                    field: field.name.to_string(),
                    message: format!("{id:?}: no such {}", crate::auth::singular(target)),
                });
            }
        }
        Ok(problems)
    }
}

impl Writer for GuardedWriter<'_> {
    fn put(&mut self, tag: u64, record: Record) -> Result<PutOutcome, Error> {
        let key: Vec<Value> = record.entity.key().iter().map(|k| record.get(k).clone()).collect();
        // The committed record: this writer holds the write lock, so nobody else changes it.
        let before = self.store.get(record.entity, &key)?;
        let hidden = self.hidden_references(&record)?;
        // A child whose parent is hidden is answered as one whose parent is missing, not 403.
        let parent_hidden = match class(record.entity) {
            Class::Child(_, field) => hidden.iter().any(|p| p.field == field),
            _ => false,
        };
        if !parent_hidden {
            self.check(tag, record.entity, before.as_ref(), Some(&record))?;
        }
        if hidden.is_empty() {
            return self.inner.put(tag, record);
        }
        // Whatever else the store finds wrong is reported beside it, as for a missing record.
        match self.inner.put(tag, record) {
            Err(Error::Invalid(mut problems)) => {
                problems.extend(hidden);
                Err(Error::Invalid(problems))
            }
            Err(e) => Err(e),
            Ok(_) => Err(Error::Invalid(hidden)),
        }
    }

    fn delete(&mut self, entity: Entity, key: &[Value]) -> Result<(), Error> {
        if let Some(before) = self.store.get(entity, key)? {
            self.check(0, entity, Some(&before), None)?;
        }
        self.inner.delete(entity, key)
    }

    fn rehearse(self: Box<Self>) -> Result<(), Error> {
        self.inner.rehearse()
    }

    fn record_stage_history(&mut self) {
        self.inner.record_stage_history();
    }

    fn commit(self: Box<Self>) -> Result<Summary, Error> {
        self.inner.commit()
    }
}

impl Store for Guarded<'_> {
    fn workspace(&self) -> Result<Workspace, Error> {
        self.store.workspace()
    }

    fn setting(&self, key: Key, team: Option<&str>) -> Result<Setting, Error> {
        self.store.setting(key, team)
    }

    fn set_setting(&self, key: Key, team: Option<&str>, value: &str) -> Result<String, Error> {
        if self.principal.role != Role::Admin {
            return Err(Error::Invalid(vec![Problem {
                tag: None,
                field: key.name().into(),
                message: "only an admin changes settings".into(),
            }]));
        }
        self.store.set_setting(key, team, value)
    }

    fn writer(&self) -> Result<Box<dyn Writer + '_>, Error> {
        Ok(Box::new(GuardedWriter {
            inner: self.store.writer_as(Some(&self.actor))?,
            store: self.store,
            principal: self.principal,
            denied: self.denied.clone(),
        }))
    }

    fn get(&self, entity: Entity, key: &[Value]) -> Result<Option<Record>, Error> {
        self.store.get(entity, key)
    }

    fn scan(
        &self,
        entity: Entity,
        visit: &mut dyn FnMut(Record) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.store.scan(entity, visit)
    }

    fn list(&self, entity: Entity, query: &ListQuery<'_>) -> Result<Vec<Record>, Error> {
        self.store.list(entity, query)
    }

    fn recent(
        &self,
        entity: Entity,
        time_field: &str,
        query: &ListQuery<'_>,
    ) -> Result<Vec<Record>, Error> {
        self.store.recent(entity, time_field, query)
    }

    fn stock_on_hand(&self, product_ids: &[&str]) -> Result<Vec<(String, i64)>, Error> {
        self.store.stock_on_hand(product_ids)
    }

    fn count(&self, entity: Entity) -> Result<u64, Error> {
        self.store.count(entity)
    }

    fn backup(&self, dest: &std::path::Path) -> Result<(), Error> {
        self.store.backup(dest)
    }
}
