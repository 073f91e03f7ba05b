//! Input through a mapping: a delimited file in another tool's layout, read row by row (streamed)
//! and turned into the field texts of one or more entities, which then go through the ordinary
//! parsing and checks of [`Sink::row`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Read;

use traction_domain::record::parse_field;
use traction_domain::schema::{Entity, FieldType};
use traction_domain::time::{format_instant, parse_instant};

use crate::csv_in::{QuoteWatch, UNTERMINATED};
use crate::mapping::{
    Encoding, Mapping, Names, Rule, Source, TemplatePart, idify, map_value, norm,
};
use crate::{Columns, ImportFailure, Sink};

/// The state of one mapped import: the bound header and the referenced records known so far.
struct Bound<'m, 'n> {
    mapping: &'m Mapping,
    /// Normalised header name → column index.
    index: HashMap<String, usize>,
    names: &'n mut Names,
    /// Columns of each entity (every field, in order).
    columns: HashMap<Entity, Columns>,
    /// Records of the earlier targets already written, by entity and id (written once).
    seen: HashSet<(Entity, String)>,
    /// Per target entity, what errors call each field: the source column it comes from.
    labels: HashMap<Entity, std::sync::Arc<Vec<String>>>,
    /// The rows seen so far per (target, field) and values of a `sequence` rule's columns.
    sequences: HashMap<(Entity, usize, String), u64>,
}

pub(crate) fn read(
    input: impl Read,
    sink: &mut Sink<'_>,
    mapping: &Mapping,
    names: &mut Names,
) -> Result<(), ImportFailure> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(mapping.delimiter)
        .from_reader(QuoteWatch::with_delimiter(input, mapping.delimiter));
    let mut record = csv::ByteRecord::new();
    let io = |e: csv::Error| ImportFailure::Read(e.to_string());
    if !reader.read_byte_record(&mut record).map_err(io)? {
        sink.error(1, None, None, "the file is empty: it must start with a header row".into());
        return Ok(());
    }
    let mut header = Vec::with_capacity(record.len());
    for (idx, raw) in record.iter().enumerate() {
        let raw = if idx == 0 { raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw) } else { raw };
        match decode(mapping.encoding, raw) {
            Some(name) => header.push(name.trim().to_string()),
            None => {
                sink.error(
                    1,
                    None,
                    None,
                    format!(
                        "header column {} is not valid UTF-8: save the file as UTF-8, or set encoding = \"windows-1252\" under [source] in {}",
                        idx + 1,
                        mapping.name
                    ),
                );
                return Ok(());
            }
        }
    }
    let missing = mapping.missing_columns(&header);
    if !missing.is_empty() {
        for column in &missing {
            sink.error(
                1,
                Some(column),
                None,
                format!(
                    "is read by the mapping {} but the header has no such column (it has {}): correct the column name in the mapping, or import the file the mapping was written for",
                    mapping.name,
                    header.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        return Ok(());
    }
    let mut index = HashMap::new();
    for (idx, name) in header.iter().enumerate() {
        index.entry(norm(name)).or_insert(idx);
    }
    let mut columns = HashMap::new();
    for entity in Entity::ALL {
        let names: Vec<String> = entity.fields().iter().map(|f| f.name.to_string()).collect();
        columns.insert(entity, Columns { fields: (0..names.len()).map(Some).collect(), names });
    }
    let mut labels = HashMap::new();
    for target in &mapping.targets {
        let mut l: Vec<String> =
            target.entity.fields().iter().map(|f| f.name.to_string()).collect();
        for (idx, rule) in &target.fields {
            if let Source::Column(c) = &rule.source {
                l[*idx] = format!("{c} ({})", l[*idx]);
            }
        }
        labels.insert(target.entity, std::sync::Arc::new(l));
    }
    let mut bound = Bound {
        mapping,
        index,
        names,
        columns,
        seen: HashSet::new(),
        labels,
        sequences: HashMap::new(),
    };
    let width = header.len();
    let mut cells: Vec<String> = Vec::with_capacity(width);
    loop {
        if !reader.read_byte_record(&mut record).map_err(io)? {
            // As for a plain CSV file: a quote never closed swallowed the rest of the file.
            if let Some(line) = reader.get_ref().unterminated() {
                sink.error(line, None, None, UNTERMINATED.into());
            }
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        sink.push_source_row();
        if record.len() != width {
            sink.error(
                line,
                None,
                None,
                format!(
                    "has {} fields but the header has {width}: check the quoting and the separators on this line",
                    record.len()
                ),
            );
        } else {
            cells.clear();
            let mut ok = true;
            for (idx, raw) in record.iter().enumerate() {
                match decode(mapping.encoding, raw) {
                    Some(cell) => cells.push(cell.into_owned()),
                    None => {
                        let column = header[idx].clone();
                        sink.error(
                            line,
                            Some(&column),
                            None,
                            format!(
                                "is not valid UTF-8: save the file as UTF-8, or set encoding = \"windows-1252\" under [source] in {}",
                                mapping.name
                            ),
                        );
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                bound.row(sink, line, &cells)?;
            }
        }
        if sink.full() {
            break;
        }
    }
    Ok(())
}

fn decode(encoding: Encoding, raw: &[u8]) -> Option<Cow<'_, str>> {
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(raw).ok().map(Cow::Borrowed),
        Encoding::Windows1252 => Some(encoding_rs::WINDOWS_1252.decode_without_bom_handling(raw).0),
    }
}

/// A record to write, as field texts.
struct Pending {
    entity: Entity,
    texts: Vec<String>,
}

impl Pending {
    fn new(entity: Entity) -> Pending {
        Pending { entity, texts: vec![String::new(); entity.fields().len()] }
    }

    fn set(&mut self, field: &str, text: impl Into<String>) {
        if let Some(idx) = self.entity.field_index(field) {
            self.texts[idx] = text.into();
        }
    }

    fn get(&self, field: &str) -> &str {
        self.entity.field_index(field).map_or("", |idx| self.texts[idx].as_str())
    }
}

/// A problem with one value: the source column, the value, the message.
type Bad = (String, String, String);

impl Bound<'_, '_> {
    fn cell<'c>(&self, cells: &'c [String], column: &str) -> &'c str {
        self.index.get(&norm(column)).map_or("", |idx| cells[*idx].trim())
    }

    /// The source column a rule reads, for error messages.
    fn column_of(rule: &Rule, field: &str) -> String {
        match &rule.source {
            Source::Column(c) => c.clone(),
            Source::Derive(cols) | Source::Sequence(cols) => cols.join(" + "),
            Source::Compute(expr) => {
                let mut cols = Vec::new();
                expr.columns(&mut cols);
                if cols.is_empty() { field.to_string() } else { cols.join(" + ") }
            }
            _ => field.to_string(),
        }
    }

    fn row(
        &mut self,
        sink: &mut Sink<'_>,
        line: u64,
        cells: &[String],
    ) -> Result<(), ImportFailure> {
        let mapping = self.mapping;
        let mut created: Vec<Pending> = Vec::new();
        // One value read by several targets (a date both an account and a deal take) is reported once.
        let mut reported: HashSet<(String, String)> = HashSet::new();
        let last = mapping.targets.len().saturating_sub(1);
        for (t_idx, target) in mapping.targets.iter().enumerate() {
            if let Some((column, values)) = &target.skip
                && values.contains(&norm(self.cell(cells, column)))
            {
                sink.push_skipped(target.entity);
                continue;
            }
            let entity = target.entity;
            let fields = entity.fields();
            let mut rec = Pending::new(entity);
            let mut bad: Vec<Bad> = Vec::new();
            // Plain values first; references by name next; stages last (they need the pipeline).
            let mut order: Vec<&(usize, Rule)> = target.fields.iter().collect();
            order.sort_by_key(|(idx, rule)| match fields[*idx].ty {
                FieldType::Ref(Entity::Stages) if rule.by_name => 2,
                _ if rule.by_name => 1,
                _ => 0,
            });
            for (idx, rule) in order {
                let field = &fields[*idx];
                let column = Self::column_of(rule, field.name);
                let raw = match &rule.source {
                    Source::Column(c) => self.cell(cells, c).to_string(),
                    Source::Const(v) => v.clone(),
                    Source::Template(parts) => {
                        let mut out = String::new();
                        for p in parts {
                            match p {
                                TemplatePart::Text(t) => out.push_str(t),
                                TemplatePart::Column(c) => out.push_str(self.cell(cells, c)),
                            }
                        }
                        out.split_whitespace().collect::<Vec<_>>().join(" ")
                    }
                    Source::Derive(cols) => {
                        let parts: Vec<&str> = cols.iter().map(|c| self.cell(cells, c)).collect();
                        if parts.iter().all(|p| p.is_empty()) {
                            String::new()
                        } else {
                            parts.join("|")
                        }
                    }
                    Source::Sequence(cols) => {
                        let parts: Vec<&str> = cols.iter().map(|c| self.cell(cells, c)).collect();
                        let n =
                            self.sequences.entry((entity, *idx, parts.join("\u{1f}"))).or_insert(0);
                        *n += 1;
                        n.to_string()
                    }
                    Source::Compute(expr) => {
                        let decimals = match field.ty {
                            FieldType::Money => u32::from(sink.ctx.currency.exponent()),
                            FieldType::Int { .. } => 0,
                            _ => 6,
                        };
                        let cell = |c: &str| {
                            let text = self.cell(cells, c);
                            (!text.is_empty()).then(|| mapping.number(text))
                        };
                        match expr.eval(&cell).and_then(|r| {
                            r.map(|r| r.format(decimals, mapping.decimal)).transpose()
                        }) {
                            Ok(text) => text.unwrap_or_default(),
                            Err(message) => {
                                bad.push((
                                    column.clone(),
                                    String::new(),
                                    format!("{message}: check the values the compute rule of {}.{} reads", entity, field.name),
                                ));
                                continue;
                            }
                        }
                    }
                };
                let raw = match &rule.instead {
                    Some((col, map)) => {
                        map_value(map, self.cell(cells, col)).map_or(raw, str::to_string)
                    }
                    None => raw,
                };
                let value = match &rule.map {
                    Some(map) => match map_value(map, &raw) {
                        Some(v) => v.to_string(),
                        None if raw.is_empty() => rule.default.clone().unwrap_or_default(),
                        None => match &rule.default {
                            Some(d) => d.clone(),
                            None => {
                                bad.push((
                                    column,
                                    raw.clone(),
                                    format!(
                                        "{raw:?} is not in the value map of {}.{} in {} (it maps {}): add \"{raw}\" = \"…\" to the map, or a default",
                                        entity,
                                        field.name,
                                        mapping.name,
                                        map.iter().map(|(k, _)| format!("{k:?}")).collect::<Vec<_>>().join(", ")
                                    ),
                                ));
                                continue;
                            }
                        },
                    },
                    None if raw.is_empty() => rule.default.clone().unwrap_or_default(),
                    None => raw.clone(),
                };
                if value.is_empty()
                    || rule.starts_with.as_ref().is_some_and(|p| !value.starts_with(p.as_str()))
                {
                    continue;
                }
                let text = match field.ty {
                    FieldType::Id => idify(&rule.prefix, &value),
                    FieldType::Ref(target_entity) if rule.by_name => {
                        match self.resolve(target_entity, &value, &rec, sink, &mut created) {
                            Ok(id) => id,
                            Err(message) => {
                                bad.push((column, value, message.to_string()));
                                continue;
                            }
                        }
                    }
                    FieldType::Ref(Entity::Users) => {
                        let id = idify(&rule.prefix, &value);
                        if mapping.create_missing.users && self.names.user_ids.insert(id.clone()) {
                            // A user known by id only (a Salesforce OwnerId): created inactive.
                            let mut p = Pending::new(Entity::Users);
                            p.set("id", id.clone());
                            p.set("name", value.clone());
                            p.set("active", "false");
                            created.push(p);
                        }
                        id
                    }
                    FieldType::Ref(_) => idify(&rule.prefix, &value),
                    FieldType::Money | FieldType::Int { .. } => mapping.number(&value),
                    FieldType::Timestamp | FieldType::Date => {
                        match mapping.date(&value, field.ty, &sink.ctx.zone) {
                            Ok(Some(t)) => t,
                            Ok(None) if parse_field(field, &value, sink.ctx).is_ok() => value,
                            Ok(None) => {
                                bad.push((
                                    column,
                                    value.clone(),
                                    format!(
                                        "{value:?} is in none of the date formats of {} ({}): add its format to date_formats under [source]",
                                        mapping.name,
                                        if mapping.date_formats.is_empty() {
                                            "none listed; the import format YYYY-MM-DD[ HH:MM[:SS]] is tried".to_string()
                                        } else {
                                            mapping.date_formats.join(", ")
                                        }
                                    ),
                                ));
                                continue;
                            }
                            Err(message) => {
                                bad.push((column, value, message.to_string()));
                                continue;
                            }
                        }
                    }
                    _ => {
                        if matches!(field.ty, FieldType::Fraction) {
                            mapping.number(&value)
                        } else {
                            value
                        }
                    }
                };
                rec.texts[*idx] = text;
            }
            if let Some(col) = &target.currency {
                let cur = self.cell(cells, col);
                let code = sink.ctx.currency.code();
                if !cur.is_empty() && !cur.eq_ignore_ascii_case(code) {
                    bad.push((
                        col.clone(),
                        cur.to_string(),
                        format!("{cur:?} is not the workspace currency {code}: amounts must be in {code} (convert them, or change the currency before importing)"),
                    ));
                }
            }
            if entity == Entity::Deals {
                let kind = self.names.kinds.get(rec.get("stage_id")).cloned();
                if let Some(kind) = kind {
                    let closed = kind != "open";
                    for (idx, rule) in &target.fields {
                        if rule.when_closed.is_some_and(|w| w != closed) {
                            rec.texts[*idx].clear();
                        }
                    }
                }
            }
            if target.created_not_after_close {
                let zone = &sink.ctx.zone;
                let created_at = parse_instant(rec.get("created_at"), zone).ok();
                let closed_at = parse_instant(rec.get("closed_at"), zone).ok();
                if let (Some(c), Some(x)) = (created_at, closed_at)
                    && c > x
                {
                    let closed = rec.get("closed_at").to_string();
                    rec.set("created_at", closed);
                }
            }
            for p in created.drain(..) {
                self.emit(sink, line, p)?;
            }
            if !bad.is_empty() {
                for (column, value, message) in bad {
                    if reported.insert((column.clone(), message.clone())) {
                        sink.error(line, Some(&column), Some(&value), message);
                    }
                }
                continue;
            }
            if t_idx != last && entity.has_id() {
                let id = rec.get("id").to_string();
                if !self.seen.insert((entity, id)) {
                    continue;
                }
            }
            self.emit(sink, line, rec)?;
        }
        Ok(())
    }

    fn emit(&mut self, sink: &mut Sink<'_>, line: u64, rec: Pending) -> Result<(), ImportFailure> {
        let cells: Vec<&str> = rec.texts.iter().map(String::as_str).collect();
        let columns = &self.columns[&rec.entity];
        let saved = sink.entity;
        sink.entity = rec.entity;
        sink.labels = self.labels.get(&rec.entity).cloned();
        let res = sink.row(line, columns, &cells);
        sink.entity = saved;
        sink.labels = None;
        res
    }

    /// The id of the record `value` names, creating it (queued in `created`) where the mapping
    /// allows.
    fn resolve(
        &mut self,
        entity: Entity,
        value: &str,
        rec: &Pending,
        sink: &Sink<'_>,
        created: &mut Vec<Pending>,
    ) -> Result<String, NameError> {
        let mapping = self.mapping;
        let allow = &mapping.create_missing;
        let key = norm(value);
        let one = |ids: Option<&Vec<String>>, what: Entity| -> Result<Option<String>, NameError> {
            match ids.map(Vec::as_slice) {
                None | Some([]) => Ok(None),
                Some([id]) => Ok(Some(id.clone())),
                Some(ids) => Err(NameError::Ambiguous {
                    value: value.to_string(),
                    entity: what,
                    ids: ids.to_vec(),
                }),
            }
        };
        let missing = |entity: Entity| NameError::NoMatch {
            value: value.to_string(),
            entity,
            mapping: mapping.name.clone(),
        };
        let created_at = || {
            let c = rec.get("created_at");
            if c.is_empty() { format_instant(sink.ctx.now) } else { c.to_string() }
        };
        match entity {
            Entity::Users => {
                if let Some(id) = one(self.names.users.get(&key), Entity::Users)? {
                    return Ok(id);
                }
                if !allow.users {
                    return Err(missing(Entity::Users));
                }
                let id = idify("user-", &key);
                let mut p = Pending::new(Entity::Users);
                p.set("id", id.clone());
                p.set("name", value);
                if value.contains('@') {
                    p.set("email", value);
                }
                p.set("active", "false");
                self.names.user_ids.insert(id.clone());
                Names::add(&mut self.names.users, value, &id);
                created.push(p);
                Ok(id)
            }
            Entity::Accounts => {
                if let Some(id) = one(self.names.accounts.get(&key), Entity::Accounts)? {
                    return Ok(id);
                }
                if !allow.accounts {
                    return Err(missing(Entity::Accounts));
                }
                let id = idify("acct-", &key);
                let mut p = Pending::new(Entity::Accounts);
                p.set("id", id.clone());
                p.set("name", value);
                p.set("created_at", created_at());
                Names::add(&mut self.names.accounts, value, &id);
                created.push(p);
                Ok(id)
            }
            Entity::Pipelines => {
                if let Some(id) = one(self.names.pipelines.get(&key), Entity::Pipelines)? {
                    return Ok(id);
                }
                if !allow.pipelines {
                    return Err(missing(Entity::Pipelines));
                }
                let id = idify("pipe-", &key);
                let mut p = Pending::new(Entity::Pipelines);
                p.set("id", id.clone());
                p.set("name", value);
                Names::add(&mut self.names.pipelines, value, &id);
                created.push(p);
                // A new pipeline gets the mapping's stages, so it has its won and lost stages.
                for (name, kind) in &mapping.stages {
                    self.new_stage(&id, name, kind, created);
                }
                Ok(id)
            }
            Entity::Stages => {
                let pipeline = rec.get("pipeline_id").to_string();
                if pipeline.is_empty() {
                    return Err(NameError::StageWithoutPipeline);
                }
                if let Some((id, _)) = self.names.stages.get(&(pipeline.clone(), key.clone())) {
                    return Ok(id.clone());
                }
                if !allow.stages {
                    return Err(NameError::NoStage {
                        pipeline,
                        value: value.to_string(),
                        mapping: mapping.name.clone(),
                    });
                }
                let kind = mapping
                    .stages
                    .iter()
                    .find(|(n, _)| norm(n) == key)
                    .map(|(_, k)| k.clone())
                    .or_else(|| mapping.unknown_stages.clone())
                    .ok_or_else(|| NameError::StageKind {
                        value: value.to_string(),
                        mapping: mapping.name.clone(),
                    })?;
                Ok(self.new_stage(&pipeline, value, &kind, created))
            }
            other => Err(NameError::NotByName { entity: other }),
        }
    }

    fn new_stage(
        &mut self,
        pipeline: &str,
        name: &str,
        kind: &str,
        created: &mut Vec<Pending>,
    ) -> String {
        let key = (pipeline.to_string(), norm(name));
        if let Some((id, _)) = self.names.stages.get(&key) {
            return id.clone();
        }
        let id = idify(&format!("{pipeline}-"), &norm(name));
        let position = self.names.positions.get(pipeline).copied().unwrap_or(0) + 1;
        self.names.positions.insert(pipeline.to_string(), position);
        let mut p = Pending::new(Entity::Stages);
        p.set("id", id.clone());
        p.set("pipeline_id", pipeline);
        p.set("name", name);
        p.set("position", position.to_string());
        p.set("kind", kind);
        self.names.stages.insert(key, (id.clone(), kind.to_string()));
        self.names.kinds.insert(id.clone(), kind.to_string());
        created.push(p);
        id
    }
}

/// Why a reference by name (`by = "name"`) finds no single record to point to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// More than one stored (or created) record has the name.
    #[error(
        "{value:?} matches {} {entity} ({}): write the {} in the file instead, or rename one of them",
        ids.len(),
        ids.join(", "),
        if *entity == Entity::Users { "user's e-mail" } else { "id" }
    )]
    Ambiguous { value: String, entity: Entity, ids: Vec<String> },
    /// No record has the name, and the mapping does not create one.
    #[error("{}", no_match(value, *entity, mapping))]
    NoMatch { value: String, entity: Entity, mapping: String },
    #[error(
        "a stage is matched by name within the deal's pipeline, and the deal has none: map pipeline_id"
    )]
    StageWithoutPipeline,
    #[error(
        "pipeline {pipeline} has no stage named {value:?}: create it first, or add \"stages\" to create_missing in {mapping}"
    )]
    NoStage { pipeline: String, value: String, mapping: String },
    /// A stage to create whose kind the mapping does not give.
    #[error(
        "{value:?} has no kind: add {{ name = \"{value}\", kind = \"open\" }} (or won, lost) to stages in {mapping}, or set unknown_stages = \"open\""
    )]
    StageKind { value: String, mapping: String },
    #[error("{entity} are not matched by name")]
    NotByName { entity: Entity },
}

fn no_match(value: &str, entity: Entity, mapping: &str) -> String {
    match entity {
        Entity::Users => format!(
            "{value:?} matches no user by e-mail or name: add the user first (traction user add), or add \"users\" to create_missing in {mapping}"
        ),
        Entity::Accounts => format!(
            "{value:?} matches no account by name: import the accounts first, or add \"accounts\" to create_missing in {mapping}"
        ),
        // Pipelines (the only other entity created by name).
        _ => format!(
            "{value:?} matches no pipeline by name: create it first, or add \"pipelines\" to create_missing in {mapping}"
        ),
    }
}
