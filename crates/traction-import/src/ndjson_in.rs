//! NDJSON input: one JSON object per line, keys named as the fields.

use std::io::{BufRead, BufReader, Read};

use serde_json::Value as Json;

use crate::{Columns, ImportFailure, Sink};

pub(crate) fn read(input: impl Read, sink: &mut Sink<'_>) -> Result<(), ImportFailure> {
    let mut reader = BufReader::with_capacity(256 * 1024, input);
    let mut buf = Vec::new();
    let mut line = 0u64;
    let entity = sink.entity;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| ImportFailure::Io(format!("cannot read the file: {e}")))?;
        if n == 0 {
            break;
        }
        line += 1;
        let mut bytes = buf.as_slice();
        if line == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            sink.error(line, None, None, "is not valid UTF-8: save the file as UTF-8".into());
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<Json>(text) {
            Ok(Json::Object(object)) => object,
            Ok(_) => {
                sink.error(
                    line,
                    None,
                    None,
                    "is not a JSON object: write one {\"field\": value, …} object per line".into(),
                );
                continue;
            }
            Err(e) => {
                sink.error(
                    line,
                    None,
                    None,
                    format!("is not valid JSON (column {}): {e}", e.column()),
                );
                continue;
            }
        };
        let mut fields = Vec::with_capacity(object.len());
        let mut names = Vec::with_capacity(object.len());
        let mut cells = Vec::with_capacity(object.len());
        let mut unknown = Vec::new();
        let mut bad = false;
        for (key, value) in &object {
            let wanted = key.trim().to_ascii_lowercase();
            let slot = if wanted == "currency" && entity.has_money() {
                None
            } else if let Some(idx) = entity.field_index(&wanted) {
                Some(idx)
            } else {
                unknown.push(format!("{key:?}"));
                continue;
            };
            let cell = match value {
                Json::Null => String::new(),
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                Json::Array(_) | Json::Object(_) => {
                    sink.error(
                        line,
                        Some(&wanted),
                        None,
                        "must be a single value, not a list or an object".into(),
                    );
                    bad = true;
                    continue;
                }
            };
            fields.push(slot);
            names.push(wanted);
            cells.push(cell);
        }
        if !unknown.is_empty() {
            let known: Vec<&str> = entity.fields().iter().map(|f| f.name).collect();
            sink.error(
                line,
                None,
                None,
                format!(
                    "unknown field{} {}: {entity} has the fields {}",
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown.join(", "),
                    known.join(", ")
                ),
            );
            bad = true;
        }
        if !bad {
            let columns = Columns { fields, names };
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            sink.row(line, &columns, &refs)?;
        }
        if sink.full() {
            break;
        }
    }
    Ok(())
}
