//! Mapping files and the rows read through them, fuzzed (issue 25, point 9: bounded case
//! counts on the stable toolchain, so they run in `cargo test`).
//!
//! A mapping file is a user's TOML: whatever it says, compiling it answers a mapping or a list of
//! problems that name the file, never a panic. A row read through a mapping (a preset's, whose
//! columns a real export has) with any cell values is imported or refused with errors, never a
//! panic, and a refused import stores nothing.

use proptest::prelude::*;
use proptest::sample::select;
use traction_domain::schema::Entity;
use traction_store::Backend;

use crate::mapping::Mapping;
use crate::{Format, ImportFailure, ImportOptions, import_mapped, presets};

/// 48 cases in `cargo test`; `PROPTEST_CASES=5000` runs longer.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// A TOML string literal of any text (quotes, backslashes and control characters escaped).
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// Texts a mapping's values are made of: names of columns, formats, separators, zones, stage
/// kinds, and any text.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "Deal Name",
            "Amount",
            "Close Date",
            "Owner",
            "%Y-%m-%d",
            "%d.%m.%Y %H:%M",
            "%Q%",
            "%",
            "",
            ",",
            ";",
            "tab",
            "\\t",
            "..",
            ".",
            "windows-1252",
            "ebcdic",
            "Europe/Berlin",
            "Mars/Olympus",
            "won",
            "lost",
            "open",
            "name",
            "id",
            "{Amount} {Owner}",
            "{",
            "}{",
            "hs-",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,8}",
    ]
}

/// The right-hand side of one field's rule: a column name or a table of rule keys.
fn rule() -> impl Strategy<Value = String> {
    let key = select(vec![
        "column",
        "const",
        "template",
        "default",
        "prefix",
        "by",
        "starts_with",
        "bogus",
    ]);
    prop_oneof![
        word().prop_map(|w| quoted(&w)),
        proptest::collection::vec((key, word()), 0..4).prop_map(|pairs| {
            let body: Vec<String> =
                pairs.iter().map(|(k, v)| format!("{k} = {}", quoted(v))).collect();
            format!("{{ {} }}", body.join(", "))
        }),
        (word(), proptest::collection::vec((word(), word()), 0..3), any::<bool>()).prop_map(
            |(column, pairs, closed)| {
                let map: Vec<String> =
                    pairs.iter().map(|(k, v)| format!("{} = {}", quoted(k), quoted(v))).collect();
                format!(
                    "{{ column = {}, map = {{ {} }}, when_closed = {closed} }}",
                    quoted(&column),
                    map.join(", ")
                )
            }
        ),
        proptest::collection::vec(word(), 0..3).prop_map(|cols| {
            let cols: Vec<String> = cols.iter().map(|c| quoted(c)).collect();
            format!("{{ derive = [{}] }}", cols.join(", "))
        }),
        (word(), word()).prop_map(|(column, value)| format!(
            "{{ column = \"Amount\", instead = {{ column = {}, map = {{ {} = \"x\" }} }} }}",
            quoted(&column),
            quoted(&value)
        )),
        Just("42".to_owned()),
        Just("[1, 2]".to_owned()),
    ]
}

/// A whole mapping file: a source table, creation and stage lists, and entities with fields,
/// the names right or wrong.
fn mapping_text() -> impl Strategy<Value = String> {
    let source_key =
        select(vec!["delimiter", "encoding", "decimal", "thousands", "zone", "colour"]);
    let entity = select(vec![
        "deals",
        "users",
        "accounts",
        "contacts",
        "activities",
        "leads",
        "stages",
        "pipelines",
        "orders",
        "planets",
    ]);
    let field = select(vec![
        "id",
        "name",
        "owner_id",
        "amount",
        "created_at",
        "closed_at",
        "stage_id",
        "pipeline_id",
        "account_id",
        "kind",
        "occurred_at",
        "email",
        "colour",
    ]);
    (
        proptest::collection::vec((source_key, word()), 0..4),
        proptest::collection::vec(word(), 0..3),
        proptest::collection::vec((word(), word()), 0..3),
        proptest::collection::vec(
            (entity, proptest::collection::vec((field, rule()), 0..6), any::<bool>()),
            0..3,
        ),
        proptest::collection::vec(word(), 0..3),
    )
        .prop_map(|(source, create, stages, entities, formats)| {
            let mut text = String::new();
            let create: Vec<String> = create.iter().map(|c| quoted(c)).collect();
            text.push_str(&format!("create_missing = [{}]\n", create.join(", ")));
            let stages: Vec<String> = stages
                .iter()
                .map(|(name, kind)| {
                    format!("{{ name = {}, kind = {} }}", quoted(name), quoted(kind))
                })
                .collect();
            text.push_str(&format!("stages = [{}]\n", stages.join(", ")));
            text.push_str("[source]\n");
            for (key, value) in &source {
                text.push_str(&format!("{key} = {}\n", quoted(value)));
            }
            let formats: Vec<String> = formats.iter().map(|f| quoted(f)).collect();
            text.push_str(&format!("date_formats = [{}]\n", formats.join(", ")));
            for (idx, (entity, fields, skip)) in entities.iter().enumerate() {
                // The same entity twice is a TOML error of its own: keep the names apart.
                let name = if idx == 0 { (*entity).to_owned() } else { format!("{entity}{idx}") };
                text.push_str(&format!("[entities.{name}]\n"));
                if *skip {
                    text.push_str("skip_when = { column = \"Stage\", values = [\"x\"] }\n");
                }
                text.push_str(&format!("[entities.{name}.fields]\n"));
                let mut seen = Vec::new();
                for (field, rule) in fields {
                    if !seen.contains(field) {
                        seen.push(*field);
                        text.push_str(&format!("{field} = {rule}\n"));
                    }
                }
            }
            text
        })
}

fn store() -> (tempfile::TempDir, std::sync::Arc<dyn Backend>) {
    let dir = tempfile::tempdir().unwrap();
    let store = traction_store::open(&dir.path().join("t.db")).unwrap();
    (dir, store)
}

fn counts(store: &dyn Backend) -> Vec<u64> {
    Entity::ALL.iter().map(|e| store.count(*e).unwrap()).collect()
}

/// A cell: empty, a number in some notation, a date in some format, a name, or any text
/// (quotes and separators included; the CSV writer quotes them).
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        select(vec![
            "1,234.50",
            "1.234,50",
            "-0",
            "9223372036854775807",
            "1e308",
            "2026-03-04",
            "2026-03-04 09:15",
            "03/04/2026",
            "31.02.2026",
            "Closed Won",
            "Closed Lost",
            "Appointment Scheduled",
            "Ann Lee",
            "=1+1",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Any mapping file compiles or is refused with problems that each name the file.
    #[test]
    fn any_mapping_file_compiles_or_is_refused_with_named_problems(text in mapping_text()) {
        match Mapping::parse("m.toml", &text) {
            Ok(mapping) => {
                // A compiled mapping's own helpers take any text.
                let columns = mapping.columns();
                let _ = mapping.fit(&columns);
                let _ = mapping.number("1.234,5 x");
                let _ = mapping.date("2026-03-04 09:15", traction_domain::schema::FieldType::Timestamp, &jiff::tz::TimeZone::UTC);
            }
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for p in &problems {
                    prop_assert!(p.starts_with("m.toml: "), "{p}");
                }
            }
        }
    }

    /// Any text at all (not only TOML) is refused with a message, never a panic.
    #[test]
    fn any_text_as_a_mapping_file_never_panics(text in "\\PC{0,200}") {
        if let Err(problems) = Mapping::parse("m.toml", &text) {
            prop_assert!(!problems.is_empty());
        }
    }

    /// Rows with any cells, read through any preset (the columns of a real export), are imported
    /// or refused with errors; a refused import stores nothing, a dry run stores nothing.
    #[test]
    fn rows_through_a_preset_are_imported_or_refused_all_or_nothing(
        preset_idx in 0..presets::PRESETS.len(),
        rows in proptest::collection::vec(proptest::collection::vec(cell(), 0..24), 1..5),
        dry_run in any::<bool>(),
    ) {
        let preset = &presets::PRESETS[preset_idx];
        let mapping = preset.mapping().map_err(|p| TestCaseError::fail(p.join("\n")))?;
        let header = mapping.columns();
        let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
        out.write_record(&header).unwrap();
        for row in &rows {
            // Ragged rows too: as many cells as were generated, up to the header's width + 1.
            let cells: Vec<&str> =
                row.iter().take(header.len() + 1).map(String::as_str).collect();
            out.write_record(&cells).unwrap();
        }
        let body = out.into_inner().unwrap();
        let (_dir, store) = store();
        let before = counts(&*store);
        let options = ImportOptions {
            file_name: format!("{}.csv", preset.name),
            format: Format::Csv,
            max_errors: 20,
            now: 1_767_225_600_000_000,
        };
        let res = import_mapped(&*store, &mapping, body.as_slice(), &options, &|_| Vec::new(), dry_run, &mut |_| {});
        match res {
            Ok(_) if !dry_run => {}
            Ok(_) => prop_assert_eq!(counts(&*store), before),
            Err(ImportFailure::Invalid { errors, total }) => {
                prop_assert!(!errors.is_empty() && total >= errors.len());
                for e in &errors {
                    prop_assert!(!e.to_string().is_empty());
                }
                prop_assert_eq!(counts(&*store), before);
            }
            Err(failure @ (ImportFailure::Io(_) | ImportFailure::Read(_))) => {
                prop_assert!(false, "a mapped file of text is never an IO failure: {failure}");
            }
        }
    }
}
