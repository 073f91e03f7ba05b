//! Export: an entity's records in the import format, in key order.

use std::io::Write;

use traction_domain::Entity;
use traction_domain::record::{Value, format_value};
use traction_domain::schema::FieldType;
use traction_store::{Error as StoreError, ListQuery, Predicate, Store};

use crate::{Format, currency_of};

/// Writes every record of `entity` to `out`; returns how many.
pub fn export(
    store: &dyn Store,
    entity: Entity,
    format: Format,
    out: &mut dyn Write,
) -> Result<u64, StoreError> {
    export_where(store, entity, format, None, out)
}

/// Calls `visit` with every record of `entity` (those matching `condition`, when given), in
/// key order.
fn each(
    store: &dyn Store,
    entity: Entity,
    condition: Option<&Predicate>,
    visit: &mut dyn FnMut(traction_domain::Record) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let Some(condition) = condition else { return store.scan(entity, visit) };
    // Page by page after the last key, so memory holds one page.
    let mut after: Option<Vec<Value>> = None;
    loop {
        let query = ListQuery {
            filters: &[],
            condition: Some(condition),
            after: after.as_deref(),
            limit: 10_000,
        };
        let page = store.list(entity, &query)?;
        let full = page.len() == query.limit;
        for record in page {
            after = Some(entity.key().iter().map(|k| record.get(k).clone()).collect());
            visit(record)?;
        }
        if !full {
            return Ok(());
        }
    }
}

/// [`export`] of the records matching `condition` (a `where` of the metrics crate's expression
/// language lowered to a predicate, as the API's list filter is), or of all.
pub fn export_where(
    store: &dyn Store,
    entity: Entity,
    format: Format,
    condition: Option<&Predicate>,
    out: &mut dyn Write,
) -> Result<u64, StoreError> {
    let currency = currency_of(store)?;
    let fields = entity.fields();
    let io = |e: std::io::Error| StoreError::Storage(format!("cannot write the export: {e}"));
    let mut n = 0u64;
    match format {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            let csv_err =
                |e: csv::Error| StoreError::Storage(format!("cannot write the export: {e}"));
            writer.write_record(fields.iter().map(|f| f.name)).map_err(csv_err)?;
            let mut cells: Vec<String> = Vec::with_capacity(fields.len());
            each(store, entity, condition, &mut |record| {
                cells.clear();
                for (field, value) in fields.iter().zip(&record.values) {
                    // Safe to open in a spreadsheet; the importer takes the apostrophe off.
                    let text = format_value(field, value, currency);
                    cells.push(traction_domain::record::spreadsheet_safe(&text).into_owned());
                }
                writer.write_record(&cells).map_err(csv_err)?;
                n += 1;
                Ok(())
            })?;
            writer.flush().map_err(io)?;
        }
        Format::Ndjson => {
            let mut line = String::new();
            each(store, entity, condition, &mut |record| {
                line.clear();
                line.push('{');
                for (idx, (field, value)) in fields.iter().zip(&record.values).enumerate() {
                    if idx > 0 {
                        line.push(',');
                    }
                    line.push_str(&serde_json::to_string(field.name).unwrap_or_default());
                    line.push(':');
                    let text = format_value(field, value, currency);
                    match (field.ty, value) {
                        (_, Value::Null) => line.push_str("null"),
                        (
                            FieldType::Money
                            | FieldType::Int { .. }
                            | FieldType::Fraction
                            | FieldType::Number,
                            _,
                        )
                        | (_, Value::Bool(_)) => line.push_str(&text),
                        _ => line.push_str(&serde_json::to_string(&text).unwrap_or_default()),
                    }
                }
                line.push_str("}\n");
                out.write_all(line.as_bytes()).map_err(io)?;
                n += 1;
                Ok(())
            })?;
            out.flush().map_err(io)?;
        }
    }
    Ok(n)
}
