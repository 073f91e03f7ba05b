//! Mapping files (spec: importers.md): how a file exported by another tool becomes records of one
//! or more entities. A mapping is compiled once ([`Mapping::parse`]), bound to a file's header
//! ([`Mapping::bind`]), then turns each row into the field texts of the ordinary import path, so
//! every value still goes through the same parsing and store checks.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use serde::Deserialize;
use traction_domain::schema::{Entity, FieldType};
use traction_domain::time::{format_instant, local_to_micros, parse_zone};

/// A compiled mapping.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// The mapping's name, as errors name it (its file name or `preset hubspot-deals`).
    pub name: String,
    pub delimiter: u8,
    pub encoding: Encoding,
    pub date_formats: Vec<String>,
    pub decimal: char,
    pub thousands: Option<char>,
    /// The zone of local times; `None`: the workspace's.
    pub zone: Option<TimeZone>,
    pub create_missing: CreateMissing,
    /// The stages a created pipeline gets, in order, with their kinds.
    pub stages: Vec<(String, String)>,
    /// The kind given to a stage name the list does not hold (`None`: such a name is an error).
    pub unknown_stages: Option<String>,
    /// The target entities, in import order.
    pub targets: Vec<Target>,
}

/// A source file's character encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1252,
}

/// Which referenced records may be created.
#[derive(Clone, Copy, Debug, Default)]
pub struct CreateMissing {
    pub users: bool,
    pub accounts: bool,
    pub pipelines: bool,
    pub stages: bool,
}

/// One entity a file feeds.
#[derive(Clone, Debug)]
pub struct Target {
    pub entity: Entity,
    /// One rule per mapped field (field index, rule).
    pub fields: Vec<(usize, Rule)>,
    /// Rows whose this column holds one of these values are skipped and counted.
    pub skip: Option<(String, Vec<String>)>,
    /// A column naming each row's currency, which must be the workspace's.
    pub currency: Option<String>,
    /// A record created after it closed (a Salesforce opportunity loaded into the org after its
    /// close date) counts as created when it closed.
    pub created_not_after_close: bool,
}

/// How one field is filled.
#[derive(Clone, Debug)]
pub struct Rule {
    pub source: Source,
    /// Value map: source text (compared case- and space-insensitively) → stored text.
    pub map: Option<Vec<(String, String)>>,
    /// What a value the map does not hold becomes (`None`: such a value is an error).
    pub default: Option<String>,
    /// Put before the value (ids and references to ids).
    pub prefix: String,
    /// For references: `id` (the value is the id) or `name` (matched by name, or e-mail for users).
    pub by_name: bool,
    /// For deals: keep the value only when the deal is closed (`Some(true)`) or open (`Some(false)`).
    pub when_closed: Option<bool>,
    /// Another column whose mapped value, where the map holds it, replaces the value (a Pipedrive
    /// deal's status `won` puts it in the `Won` stage whatever its last open stage was).
    pub instead: Option<(String, Vec<(String, String)>)>,
    /// Keep the value only when it starts with this text (a Salesforce `WhoId` names a contact
    /// when it starts with `003`, a lead with `00Q`).
    pub starts_with: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Source {
    Column(String),
    Const(String),
    /// Literal text and column names, in order.
    Template(Vec<TemplatePart>),
    /// A deterministic id from the values of these columns.
    Derive(Vec<String>),
    /// Arithmetic over the row's numbers (`{Sales} / {Quantity}`), rounded to the field's
    /// decimals (money: the currency's; whole numbers: none).
    Compute(crate::compute::Expr),
    /// The row's position (1, 2, …) among the rows with the same values of these columns (a
    /// line number within an invoice that has none).
    Sequence(Vec<String>),
}

#[derive(Clone, Debug)]
pub enum TemplatePart {
    Text(String),
    Column(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    source: RawSource,
    #[serde(default)]
    create_missing: Vec<String>,
    #[serde(default)]
    stages: Vec<RawStage>,
    unknown_stages: Option<String>,
    #[serde(default)]
    entities: BTreeMap<String, RawEntity>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSource {
    delimiter: Option<String>,
    encoding: Option<String>,
    #[serde(default)]
    date_formats: Vec<String>,
    decimal: Option<String>,
    thousands: Option<String>,
    zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    name: String,
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    skip_when: Option<RawSkip>,
    currency: Option<String>,
    #[serde(default)]
    created_not_after_close: bool,
    #[serde(default)]
    fields: BTreeMap<String, RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkip {
    column: String,
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawField {
    Column(String),
    Full(Box<RawRule>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    column: Option<String>,
    #[serde(rename = "const")]
    constant: Option<String>,
    template: Option<String>,
    derive: Option<Vec<String>>,
    compute: Option<String>,
    sequence: Option<Vec<String>>,
    map: Option<BTreeMap<String, String>>,
    default: Option<String>,
    prefix: Option<String>,
    by: Option<String>,
    when_closed: Option<bool>,
    instead: Option<RawInstead>,
    starts_with: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstead {
    column: String,
    map: BTreeMap<String, String>,
}

const STAGE_KINDS: [&str; 3] = ["open", "won", "lost"];

/// Compares header names and map keys: case- and space-insensitively.
pub fn norm(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Mapping {
    /// Compiles a mapping's TOML text, reporting every problem found (not only the first).
    pub fn parse(name: &str, text: &str) -> Result<Mapping, Vec<String>> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| {
            vec![format!("{name}: {}", e.to_string().trim_end().replace('\n', "\n    "))]
        })?;
        let mut problems = Vec::new();
        let mut bad = |p: String| problems.push(format!("{name}: {p}"));
        let delimiter = match raw.source.delimiter.as_deref() {
            None => b',',
            Some("\\t") | Some("tab") => b'\t',
            Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            Some(d) => {
                bad(format!(
                    "source.delimiter {d:?} is not one ASCII character: write \",\", \";\", \"|\" or \"tab\""
                ));
                b','
            }
        };
        let encoding = match raw.source.encoding.as_deref().map(norm).as_deref() {
            None | Some("utf-8") | Some("utf8") => Encoding::Utf8,
            Some("windows-1252") | Some("cp1252") | Some("latin1") | Some("iso-8859-1") => {
                Encoding::Windows1252
            }
            Some(e) => {
                bad(format!(
                    "source.encoding {e:?} is not known: use \"utf-8\" or \"windows-1252\""
                ));
                Encoding::Utf8
            }
        };
        for f in &raw.source.date_formats {
            // A format is checked by formatting a known instant with it.
            let probe = jiff::civil::date(2026, 3, 4).at(9, 15, 0, 0).to_zoned(TimeZone::UTC);
            if probe.is_err()
                || jiff::fmt::strtime::format(f.as_str(), &probe.unwrap_or_default()).is_err()
            {
                bad(format!(
                    "source.date_formats: {f:?} is not a strftime format: write e.g. \"%m/%d/%Y\" or \"%d.%m.%Y %H:%M\""
                ));
            }
        }
        let one_char = |key: &'static str,
                        v: &Option<String>,
                        dflt: Option<char>|
         -> Result<Option<char>, NotOneCharacter> {
            match v {
                None => Ok(dflt),
                Some(s) if s.is_empty() => Ok(None),
                Some(s) if s.chars().count() == 1 => Ok(s.chars().next()),
                Some(s) => Err(NotOneCharacter { key, text: s.clone() }),
            }
        };
        let decimal = one_char("decimal", &raw.source.decimal, Some('.')).unwrap_or_else(|e| {
            bad(e.to_string());
            Some('.')
        });
        let thousands = one_char("thousands", &raw.source.thousands, None).unwrap_or_else(|e| {
            bad(e.to_string());
            None
        });
        if decimal.is_some() && decimal == thousands {
            bad("source.decimal and source.thousands are the same character: they must differ"
                .into());
        }
        let zone = match raw.source.zone.as_deref() {
            None => None,
            Some(z) => match parse_zone(z) {
                Ok(tz) => Some(tz),
                Err(e) => {
                    bad(format!("source.zone: {e}"));
                    None
                }
            },
        };
        let mut create_missing = CreateMissing::default();
        for c in &raw.create_missing {
            match norm(c).as_str() {
                "users" => create_missing.users = true,
                "accounts" => create_missing.accounts = true,
                "pipelines" => create_missing.pipelines = true,
                "stages" => create_missing.stages = true,
                other => bad(format!(
                    "create_missing: {other:?} cannot be created: list users, accounts, pipelines or stages"
                )),
            }
        }
        let mut stages = Vec::new();
        for s in &raw.stages {
            if STAGE_KINDS.contains(&norm(&s.kind).as_str()) {
                stages.push((s.name.trim().to_string(), norm(&s.kind)));
            } else {
                bad(format!(
                    "stages: stage {:?} has kind {:?}: the kind is open, won or lost",
                    s.name, s.kind
                ));
            }
        }
        let unknown_stages = match raw.unknown_stages.as_deref().map(norm) {
            None => None,
            Some(k) if STAGE_KINDS.contains(&k.as_str()) => Some(k),
            Some(k) => {
                bad(format!("unknown_stages {k:?}: write open, won or lost"));
                None
            }
        };
        if raw.entities.is_empty() {
            bad("no [entities.NAME] table: a mapping names at least one entity and its fields"
                .into());
        }
        let mut targets = Vec::new();
        for (ename, rent) in &raw.entities {
            let entity = match Entity::parse(ename) {
                Ok(e) => e,
                Err(e) => {
                    bad(format!("[entities.{ename}]: {e}"));
                    continue;
                }
            };
            let mut fields = Vec::new();
            for (fname, rf) in &rent.fields {
                let Some(idx) = entity.field_index(&norm(fname)) else {
                    let known: Vec<&str> = entity.fields().iter().map(|f| f.name).collect();
                    bad(format!(
                        "[entities.{ename}.fields] {fname:?} is not a field of {entity}: its fields are {}",
                        known.join(", ")
                    ));
                    continue;
                };
                match compile_rule(entity, idx, rf) {
                    Ok(rule) => fields.push((idx, rule)),
                    Err(e) => bad(format!("[entities.{ename}.fields] {fname}: {e}")),
                }
            }
            for (idx, field) in entity.fields().iter().enumerate() {
                let has_default = !matches!(field.default, traction_domain::schema::Default::None);
                if field.required && !has_default && !fields.iter().any(|(i, _)| *i == idx) {
                    bad(format!(
                        "[entities.{ename}.fields] has no rule for the required field {}: add {} = \"COLUMN\" (or a const, template or derive)",
                        field.name, field.name
                    ));
                }
            }
            let skip = rent
                .skip_when
                .as_ref()
                .map(|s| (s.column.clone(), s.values.iter().map(|v| norm(v)).collect()));
            if rent.created_not_after_close
                && !(entity.field_index("created_at").is_some()
                    && entity.field_index("closed_at").is_some())
            {
                bad(format!(
                    "[entities.{ename}] created_not_after_close: {entity} have no closed_at: remove it"
                ));
            }
            if rent.currency.is_some() && !entity.has_money() {
                bad(format!(
                    "[entities.{ename}] currency: {entity} have no money fields: remove it"
                ));
            }
            targets.push(Target {
                entity,
                fields,
                skip,
                currency: rent.currency.clone(),
                created_not_after_close: rent.created_not_after_close,
            });
        }
        targets.sort_by_key(|t| Entity::ALL.iter().position(|e| *e == t.entity));
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Mapping {
            name: name.to_string(),
            delimiter,
            encoding,
            date_formats: raw.source.date_formats,
            decimal: decimal.unwrap_or('.'),
            thousands,
            zone,
            create_missing,
            stages,
            unknown_stages,
            targets,
        })
    }

    /// Every column the mapping reads.
    pub fn columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |c: &String| {
            if !out.iter().any(|o| norm(o) == norm(c)) {
                out.push(c.clone());
            }
        };
        for t in &self.targets {
            if let Some((c, _)) = &t.skip {
                add(c);
            }
            if let Some(c) = &t.currency {
                add(c);
            }
            for (_, rule) in &t.fields {
                if let Some((c, _)) = &rule.instead {
                    add(c);
                }
                match &rule.source {
                    Source::Column(c) => add(c),
                    Source::Const(_) => {}
                    Source::Template(parts) => {
                        for p in parts {
                            if let TemplatePart::Column(c) = p {
                                add(c);
                            }
                        }
                    }
                    Source::Derive(cols) | Source::Sequence(cols) => cols.iter().for_each(&mut add),
                    Source::Compute(expr) => {
                        let mut cols = Vec::new();
                        expr.columns(&mut cols);
                        cols.iter().for_each(&mut add);
                    }
                }
            }
        }
        out
    }

    /// The columns the mapping reads that the header lacks.
    pub fn missing_columns(&self, header: &[String]) -> Vec<String> {
        let have: Vec<String> = header.iter().map(|h| norm(h)).collect();
        self.columns().into_iter().filter(|c| !have.contains(&norm(c))).collect()
    }

    /// How well a header fits this mapping: the share of the mapping's columns it holds.
    pub fn fit(&self, header: &[String]) -> f64 {
        let cols = self.columns();
        if cols.is_empty() {
            return 0.0;
        }
        (cols.len() - self.missing_columns(header).len()) as f64 / cols.len() as f64
    }

    /// Rewrites a number in the source's separators into `1234.56`.
    pub fn number(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.trim().chars() {
            if Some(c) == self.thousands {
                continue;
            } else if c == self.decimal {
                out.push('.');
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Reads a date or time in the source's formats into the import format: an RFC 3339 instant
    /// (timestamps) or `YYYY-MM-DD` (dates). `Ok(None)`: no format matched.
    pub fn date(
        &self,
        text: &str,
        ty: FieldType,
        workspace_zone: &TimeZone,
    ) -> Result<Option<String>, traction_domain::Error> {
        let text = text.trim();
        for f in &self.date_formats {
            let Ok(tm) = jiff::fmt::strtime::parse(f.as_str(), text) else { continue };
            if tm.offset().is_some() {
                // The text names its offset: the instant is fixed, whatever the zone.
                let Ok(ts) = tm.to_timestamp() else { continue };
                let micros = ts.as_microsecond();
                return Ok(Some(match ty {
                    FieldType::Date => {
                        let zone = self.zone.as_ref().unwrap_or(workspace_zone);
                        ts.to_zoned(zone.clone()).date().to_string()
                    }
                    _ => format_instant(micros),
                }));
            }
            let dt: DateTime = match tm.to_datetime() {
                Ok(dt) => dt,
                Err(_) => match tm.to_date() {
                    Ok(d) => d.to_datetime(Time::midnight()),
                    Err(_) => continue,
                },
            };
            return Ok(Some(match ty {
                FieldType::Date => dt.date().to_string(),
                _ => {
                    let zone = self.zone.as_ref().unwrap_or(workspace_zone);
                    format_instant(local_to_micros(dt, zone)?)
                }
            }));
        }
        Ok(None)
    }
}

/// A `[source]` separator that is not one character: the key and the text given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("source.{key} {text:?} is not one character: write e.g. \".\" or \",\"")]
pub struct NotOneCharacter {
    pub key: &'static str,
    pub text: String,
}

/// Why a field's rule in a mapping does not compile (reported under its field's name).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error(
        "give exactly one of column, const, template, derive, compute or sequence (e.g. {{ column = \"Deal Name\" }})"
    )]
    NotOneSource,
    #[error("derive lists no columns: name the columns whose values make the id")]
    EmptyDerive,
    /// `compute` on a field that does not hold a number.
    #[error("compute gives a number, and {field} is not a money, whole-number or fraction field")]
    ComputeNotNumber { field: &'static str },
    #[error(transparent)]
    Compute(#[from] crate::compute::Error),
    #[error(
        "sequence numbers rows within the same values of the columns it lists (sequence = [\"Invoice\"]); {field} must be a whole-number field and the list not empty"
    )]
    Sequence { field: &'static str },
    #[error(
        "by = \"name\" applies to references to users, accounts, pipelines or stages, and {field} is not one"
    )]
    ByNameNotReference { field: &'static str },
    #[error("by = {by:?}: write by = \"name\" or by = \"id\"")]
    UnknownBy { by: String },
    #[error("stages are matched by name only for deals (within the deal's pipeline)")]
    StageByNameOutsideDeals,
    #[error("when_closed applies to deals only")]
    WhenClosedOutsideDeals,
    #[error(
        "template {template:?} has a {{ without its }}: write e.g. \"{{First Name}} {{Last Name}}\""
    )]
    TemplateUnclosed { template: String },
    #[error(
        "template {template:?} names no column: write columns in braces, e.g. \"{{First Name}} {{Last Name}}\""
    )]
    TemplateNoColumn { template: String },
}

fn compile_rule(entity: Entity, idx: usize, raw: &RawField) -> Result<Rule, RuleError> {
    let field = &entity.fields()[idx];
    let mut rule = Rule {
        source: Source::Const(String::new()),
        map: None,
        default: None,
        prefix: String::new(),
        by_name: false,
        when_closed: None,
        instead: None,
        starts_with: None,
    };
    let r = match raw {
        RawField::Column(c) => {
            rule.source = Source::Column(c.clone());
            return Ok(rule);
        }
        RawField::Full(r) => r,
    };
    let given = [
        r.column.is_some(),
        r.constant.is_some(),
        r.template.is_some(),
        r.derive.is_some(),
        r.compute.is_some(),
        r.sequence.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given != 1 {
        return Err(RuleError::NotOneSource);
    }
    if let Some(c) = &r.column {
        rule.source = Source::Column(c.clone());
    } else if let Some(c) = &r.constant {
        rule.source = Source::Const(c.clone());
    } else if let Some(t) = &r.template {
        rule.source = Source::Template(parse_template(t)?);
    } else if let Some(d) = &r.derive {
        if d.is_empty() {
            return Err(RuleError::EmptyDerive);
        }
        rule.source = Source::Derive(d.clone());
    } else if let Some(c) = &r.compute {
        if !matches!(field.ty, FieldType::Money | FieldType::Int { .. } | FieldType::Fraction) {
            return Err(RuleError::ComputeNotNumber { field: field.name });
        }
        rule.source = Source::Compute(crate::compute::Expr::parse(c)?);
    } else if let Some(cols) = &r.sequence {
        if cols.is_empty() || !matches!(field.ty, FieldType::Int { .. }) {
            return Err(RuleError::Sequence { field: field.name });
        }
        rule.source = Source::Sequence(cols.clone());
    }
    if let Some(m) = &r.map {
        rule.map = Some(m.iter().map(|(k, v)| (norm(k), v.clone())).collect());
    }
    rule.default = r.default.clone();
    rule.prefix = r.prefix.clone().unwrap_or_default();
    match r.by.as_deref().map(norm).as_deref() {
        None | Some("id") => {}
        Some("name") | Some("email") => match field.ty {
            FieldType::Ref(
                Entity::Users | Entity::Accounts | Entity::Pipelines | Entity::Stages,
            ) => rule.by_name = true,
            _ => return Err(RuleError::ByNameNotReference { field: field.name }),
        },
        Some(other) => return Err(RuleError::UnknownBy { by: other.to_string() }),
    }
    if field.ty == FieldType::Ref(Entity::Stages) && rule.by_name && entity != Entity::Deals {
        return Err(RuleError::StageByNameOutsideDeals);
    }
    if r.when_closed.is_some() && entity != Entity::Deals {
        return Err(RuleError::WhenClosedOutsideDeals);
    }
    rule.when_closed = r.when_closed;
    rule.starts_with = r.starts_with.clone();
    rule.instead = r
        .instead
        .as_ref()
        .map(|i| (i.column.clone(), i.map.iter().map(|(k, v)| (norm(k), v.clone())).collect()));
    Ok(rule)
}

fn parse_template(t: &str) -> Result<Vec<TemplatePart>, RuleError> {
    let mut parts = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(TemplatePart::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(RuleError::TemplateUnclosed { template: t.to_string() });
        };
        parts.push(TemplatePart::Column(after[..close].to_string()));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest.to_string()));
    }
    if !parts.iter().any(|p| matches!(p, TemplatePart::Column(_))) {
        return Err(RuleError::TemplateNoColumn { template: t.to_string() });
    }
    Ok(parts)
}

/// A deterministic id from text: kept when it is already a valid id, otherwise a readable slug
/// with a hash of the original, so different texts never share an id.
pub fn idify(prefix: &str, text: &str) -> String {
    let whole = format!("{prefix}{text}");
    if !whole.is_empty() && whole.len() <= 128 && whole.bytes().all(|b| b.is_ascii_graphic()) {
        return whole;
    }
    let mut slug = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 80 {
            break;
        }
    }
    let slug = slug.trim_matches('-');
    format!("{prefix}{slug}-{:08x}", fnv(text.trim()) as u32)
}

/// FNV-1a: a fixed hash, so ids are the same on every run and every machine.
fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Looks a value up in a value map.
pub fn map_value<'m>(map: &'m [(String, String)], value: &str) -> Option<&'m str> {
    let key = norm(value);
    map.iter()
        .find(|(k, _)| *k == key)
        .or_else(|| {
            // `"C*"`: any value that starts so (an invoice number `C536379` is a cancellation).
            map.iter().find(|(k, _)| {
                k.len() > 1 && k.ends_with('*') && key.starts_with(&k[..k.len() - 1])
            })
        })
        .map(|(_, v)| v.as_str())
}

/// Name → ids indexes of the referenced records, stored and created during the import.
#[derive(Default, Debug, Clone)]
pub struct Names {
    /// Users by lower-case name and by lower-case e-mail.
    pub users: HashMap<String, Vec<String>>,
    /// The ids of every user.
    pub user_ids: std::collections::HashSet<String>,
    pub accounts: HashMap<String, Vec<String>>,
    pub pipelines: HashMap<String, Vec<String>>,
    /// (pipeline id, lower-case stage name) → (stage id, kind).
    pub stages: HashMap<(String, String), (String, String)>,
    /// The highest stage position per pipeline.
    pub positions: HashMap<String, i64>,
    /// Stage id → kind, for every stage.
    pub kinds: HashMap<String, String>,
}

impl Names {
    pub fn add(map: &mut HashMap<String, Vec<String>>, name: &str, id: &str) {
        let ids = map.entry(norm(name)).or_default();
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
            create_missing = ["users", "planets"]
            stages = [{ name = "Won", kind = "victory" }]
            [source]
            encoding = "ebcdic"
            [entities.deals.fields]
            id = { column = "ID" }
            nonsense = "X"
            [entities.widgets.fields]
            id = "ID"
        "#;
        let problems = Mapping::parse("m.toml", text).unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("\"planets\" cannot be created"), "{all}");
        assert!(all.contains("kind \"victory\""), "{all}");
        assert!(all.contains("encoding \"ebcdic\""), "{all}");
        assert!(all.contains("\"nonsense\" is not a field of deals"), "{all}");
        assert!(all.contains("widgets"), "{all}");
        assert!(all.contains("required field owner_id"), "{all}");
        assert!(problems.iter().all(|p| p.starts_with("m.toml: ")));
    }

    #[test]
    fn numbers_follow_the_source_separators() {
        let m = Mapping::parse(
            "m",
            "[source]\ndecimal = \",\"\nthousands = \".\"\n[entities.accounts.fields]\nid = \"a\"\nname = \"b\"\ncreated_at = \"c\"\n",
        )
        .unwrap();
        assert_eq!(m.number("1.234,50"), "1234.50");
        assert_eq!(m.number(" -7,5 "), "-7.5");
    }

    #[test]
    fn dates_are_tried_in_order_and_placed_in_the_zone() {
        let m = Mapping::parse(
            "m",
            "[source]\ndate_formats = [\"%d.%m.%Y %H:%M\", \"%m/%d/%Y\"]\nzone = \"Europe/Berlin\"\n[entities.accounts.fields]\nid = \"a\"\nname = \"b\"\ncreated_at = \"c\"\n",
        )
        .unwrap();
        let utc = TimeZone::UTC;
        // 09:15 in Berlin in winter (UTC+1) is 08:15 UTC.
        assert_eq!(
            m.date("04.03.2026 09:15", FieldType::Timestamp, &utc).unwrap().as_deref(),
            Some("2026-03-04T08:15:00Z")
        );
        // A bare US date is local midnight: 23:00 UTC the day before.
        assert_eq!(
            m.date("3/4/2026", FieldType::Timestamp, &utc).unwrap().as_deref(),
            Some("2026-03-03T23:00:00Z")
        );
        assert_eq!(
            m.date("3/4/2026", FieldType::Date, &utc).unwrap().as_deref(),
            Some("2026-03-04")
        );
        assert_eq!(m.date("2026-03-04", FieldType::Date, &utc).unwrap(), None);
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        assert_eq!(idify("hs-", "123"), "hs-123");
        let a = idify("acct-", "Acme Corp");
        assert_eq!(a, idify("acct-", "Acme Corp"));
        assert!(a.starts_with("acct-acme-corp-"), "{a}");
        assert_ne!(idify("", "Müller"), idify("", "Muller"));
    }
}
