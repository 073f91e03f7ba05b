//! CSV input: RFC 4180, UTF-8 (an optional BOM is skipped), a header row of field names.

use std::io::Read;

use crate::{ImportFailure, Sink};

/// Where the reader is in the CSV grammar, as csv-core reads it, to find a quoted field that is
/// never closed: the csv crate ends such a field silently at the end of the file, having read
/// every following line into it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// The input, watched byte by byte for the quoting state.
pub(crate) struct QuoteWatch<R> {
    inner: R,
    /// The field separator (a comma, or a mapping's delimiter).
    delimiter: u8,
    state: State,
    line: u64,
    /// The line where the quoted field being read opened.
    opened_at: u64,
}

impl<R> QuoteWatch<R> {
    pub(crate) fn new(inner: R) -> QuoteWatch<R> {
        QuoteWatch::with_delimiter(inner, b',')
    }

    pub(crate) fn with_delimiter(inner: R, delimiter: u8) -> QuoteWatch<R> {
        QuoteWatch { inner, delimiter, state: State::FieldStart, line: 1, opened_at: 0 }
    }

    fn see(&mut self, byte: u8) {
        use State::*;
        if byte == b'\n' {
            self.line += 1;
        }
        self.state = match (self.state, byte) {
            (FieldStart, b'"') => {
                self.opened_at = self.line;
                Quoted
            }
            (FieldStart | Unquoted | QuoteInQuoted, b) if b == self.delimiter => FieldStart,
            (FieldStart | Unquoted | QuoteInQuoted, b'\n' | b'\r') => FieldStart,
            (FieldStart | Unquoted, _) => Unquoted,
            (Quoted, b'"') => QuoteInQuoted,
            (Quoted, _) => Quoted,
            (QuoteInQuoted, b'"') => Quoted,
            (QuoteInQuoted, _) => Unquoted,
        };
    }

    /// The line of a quoted field still open at the end of the input.
    pub(crate) fn unterminated(&self) -> Option<u64> {
        (self.state == State::Quoted).then_some(self.opened_at)
    }
}

impl<R: Read> Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &byte in &buf[..n] {
            self.see(byte);
        }
        Ok(n)
    }
}

/// The error of a quoted field never closed, on the line where it opened.
pub(crate) const UNTERMINATED: &str = "a quoted field opens on this line and is never closed, so every line after it would be read into it: add the closing quote (and write a quote inside a field as two quotes, \"\")";

pub(crate) fn read(input: impl Read, sink: &mut Sink<'_>) -> Result<(), ImportFailure> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(QuoteWatch::new(input));
    let mut record = csv::ByteRecord::new();
    let io = |e: csv::Error| ImportFailure::Read(e.to_string());
    if !reader.read_byte_record(&mut record).map_err(io)? {
        sink.error(
            1,
            None,
            None,
            "the file is empty: a CSV file starts with a header row of field names".into(),
        );
        return Ok(());
    }
    let mut names = Vec::with_capacity(record.len());
    for (idx, raw) in record.iter().enumerate() {
        let raw = if idx == 0 { raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw) } else { raw };
        match std::str::from_utf8(raw) {
            Ok(name) => names.push(name.trim().to_string()),
            Err(_) => {
                sink.error(
                    1,
                    None,
                    None,
                    format!("header column {} is not valid UTF-8: save the file as UTF-8", idx + 1),
                );
                return Ok(());
            }
        }
    }
    let Some(columns) = sink.columns(1, &names) else { return Ok(()) };
    let width = names.len();
    loop {
        if !reader.read_byte_record(&mut record).map_err(io)? {
            if let Some(line) = reader.get_ref().unterminated() {
                sink.error(line, None, None, UNTERMINATED.into());
            }
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
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
            let mut cells: Vec<&str> = Vec::with_capacity(width);
            let mut bad_encoding = None;
            for (idx, raw) in record.iter().enumerate() {
                match std::str::from_utf8(raw) {
                    // Undo the export's spreadsheet escaping ('=… → =…).
                    Ok(cell) => cells.push(traction_domain::record::spreadsheet_unescape(cell)),
                    Err(e) => {
                        bad_encoding = Some((idx, e.valid_up_to()));
                        break;
                    }
                }
            }
            match bad_encoding {
                Some((idx, at)) => {
                    let column = names[idx].clone();
                    sink.error(
                        line,
                        Some(&column),
                        None,
                        format!("is not valid UTF-8 (a bad byte after {at} bytes of the cell): save the file as UTF-8"),
                    );
                }
                None => sink.row(line, &columns, &cells)?,
            }
        }
        if sink.full() {
            break;
        }
    }
    Ok(())
}
