//! NDJSON input: one JSON object per line, keys named as the fields.

use std::io::{BufRead, BufReader, Read};

use serde_json::Value as Json;

use crate::{Columns, ImportFailure, Sink};

/// One line as read: an object's entries in order (duplicates kept, so they can be refused as
/// the JSON API refuses them), or something else.
enum Line {
    Object(Vec<(String, Json)>),
    NotObject,
}

impl<'de> serde::Deserialize<'de> for Line {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Line, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct LineVisitor;
        impl<'de> Visitor<'de> for LineVisitor {
            type Value = Line;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Line, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Json>()? {
                    entries.push(entry);
                }
                Ok(Line::Object(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Line, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Line::NotObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Line, E> {
                Ok(Line::NotObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Line, E> {
                Ok(Line::NotObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Line, E> {
                Ok(Line::NotObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Line, E> {
                Ok(Line::NotObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<Line, E> {
                Ok(Line::NotObject)
            }
            fn visit_unit<E>(self) -> Result<Line, E> {
                Ok(Line::NotObject)
            }
        }
        deserializer.deserialize_any(LineVisitor)
    }
}

pub(crate) fn read(input: impl Read, sink: &mut Sink<'_>) -> Result<(), ImportFailure> {
    let mut reader = BufReader::with_capacity(256 * 1024, input);
    let mut buf = Vec::new();
    let mut line = 0u64;
    let entity = sink.entity;
    loop {
        buf.clear();
        let n =
            reader.read_until(b'\n', &mut buf).map_err(|e| ImportFailure::Read(e.to_string()))?;
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
        let object = match serde_json::from_str::<Line>(text) {
            Ok(Line::Object(object)) => object,
            Ok(Line::NotObject) => {
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
        let mut seen = std::collections::HashSet::with_capacity(object.len());
        for (key, value) in &object {
            let wanted = key.trim().to_ascii_lowercase();
            if !seen.insert(wanted.clone()) {
                sink.error(
                    line,
                    Some(&wanted),
                    None,
                    format!("the field {key:?} appears twice on this line: give each field once"),
                );
                bad = true;
                break;
            }
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
