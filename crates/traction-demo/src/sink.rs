//! Where generated rows go: through the store's [`Writer`], in bounded transactions.
//!
//! Every row passes the same checks as an import (issue: demo data, point 3). Rows are committed
//! every [`CHUNK`] rows, at a boundary the generator marks (after a whole story: a lead with its
//! deal and history, an order with its lines), so a commit never sees half an order and neither
//! memory nor the WAL grows with the scale.

use traction_domain::schema::{Default, Entity};
use traction_domain::{Record, Value};
use traction_store::{Error, Problem, Store, Writer};

/// Rows per transaction: large enough that per-commit work (the order checks, the WAL checkpoint)
/// is a small share (200k takes about a fifth less CPU than 50k at scale M), small enough that the
/// WAL and the writer's cache of known ids stay at tens of megabytes.
const CHUNK: u64 = 200_000;

pub struct Sink<'s, 'p> {
    store: &'s dyn Store,
    writer: Option<Box<dyn Writer + 's>>,
    pending: u64,
    /// Rows written per entity, indexed like [`Entity::ALL`].
    pub counts: [u64; Entity::ALL.len()],
    progress: &'p mut dyn FnMut(Entity, u64),
}

fn entity_idx(entity: Entity) -> usize {
    Entity::ALL.iter().position(|e| *e == entity).unwrap_or(0)
}

impl<'s, 'p> Sink<'s, 'p> {
    pub fn new(store: &'s dyn Store, progress: &'p mut dyn FnMut(Entity, u64)) -> Self {
        Sink { store, writer: None, pending: 0, counts: [0; Entity::ALL.len()], progress }
    }

    pub fn put(&mut self, record: Record) -> Result<(), Error> {
        let writer = match &mut self.writer {
            Some(writer) => writer,
            None => self.writer.insert(self.store.writer()?),
        };
        let entity = record.entity;
        let key = record.key_text();
        writer.put(0, record).map_err(|e| match e {
            // A rejected row is a bug in the generator: say which row, so it can be found.
            Error::Invalid(problems) => Error::Invalid(
                problems
                    .into_iter()
                    .map(|p| Problem { field: format!("demo {entity} {key}: {}", p.field), ..p })
                    .collect(),
            ),
            other => other,
        })?;
        self.counts[entity_idx(entity)] += 1;
        self.pending += 1;
        Ok(())
    }

    /// Marks a point where the rows written so far are complete; commits when the chunk is full.
    pub fn boundary(&mut self) -> Result<(), Error> {
        if self.pending >= CHUNK {
            self.commit()?;
        }
        Ok(())
    }

    pub fn commit(&mut self) -> Result<(), Error> {
        if let Some(writer) = self.writer.take() {
            writer.commit()?;
        }
        self.pending = 0;
        for (idx, entity) in Entity::ALL.iter().enumerate() {
            if self.counts[idx] > 0 {
                (self.progress)(*entity, self.counts[idx]);
            }
        }
        Ok(())
    }
}

/// A record being built: starts with every field at its default (as an import would fill an empty
/// cell), so exported rows re-import to the same values.
pub struct Row(Record);

impl Row {
    pub fn new(entity: Entity) -> Row {
        let values = entity
            .fields()
            .iter()
            .map(|f| match f.default {
                Default::Text(t) => Value::Text(t.to_string()),
                Default::Int(n) => Value::Int(n),
                Default::Bool(b) => Value::Bool(b),
                Default::Real(x) => Value::Real(x),
                Default::None | Default::Now => Value::Null,
            })
            .collect();
        Row(Record { entity, values })
    }

    fn set(mut self, name: &str, value: Value) -> Row {
        debug_assert!(self.0.entity.field_index(name).is_some(), "{} has no {name}", self.0.entity);
        self.0.set(name, value);
        self
    }

    pub fn text(self, name: &str, text: impl Into<String>) -> Row {
        self.set(name, Value::Text(text.into()))
    }

    pub fn opt_text(self, name: &str, text: Option<impl Into<String>>) -> Row {
        match text {
            Some(t) => self.text(name, t),
            None => self.set(name, Value::Null),
        }
    }

    pub fn int(self, name: &str, n: i64) -> Row {
        self.set(name, Value::Int(n))
    }

    pub fn real(self, name: &str, x: f64) -> Row {
        self.set(name, Value::Real(x))
    }

    pub fn bool(self, name: &str, b: bool) -> Row {
        self.set(name, Value::Bool(b))
    }

    pub fn at(self, name: &str, micros: i64) -> Row {
        self.set(name, Value::Instant(micros))
    }

    pub fn opt_at(self, name: &str, micros: Option<i64>) -> Row {
        self.set(name, micros.map_or(Value::Null, Value::Instant))
    }

    pub fn date(self, name: &str, date: jiff::civil::Date) -> Row {
        self.set(name, Value::Date(date))
    }

    pub fn done(self) -> Record {
        self.0
    }
}
