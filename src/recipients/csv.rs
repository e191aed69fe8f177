//! The recipient CSV, read one row at a time in constant memory.
//!
//! It takes what spreadsheets export: a UTF-8 byte-order mark, CRLF, `,` `;` tab or `|`
//! delimiters (detected from the header line), quoted fields holding delimiters, quotes and
//! newlines, and blank lines anywhere. The header row is required and names every column
//! once. Quoting rules are the `csv` crate's; this module adds header checks, delimiter
//! detection, buffer reuse and errors that point at a line. It does not interpret any
//! value: which column is the phone number is the caller's business.
//!
//! Diagnostics never quote the offending row: it holds personal data, and diagnostics end up
//! in shared places such as pull-request comments.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// The delimiters detected from the header line, in order of preference on a tie.
const CANDIDATE_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Bytes the parser reads at a time: large enough that a million rows cost few reads.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// The longest row accepted, in bytes: a recipient row is a few hundred bytes, so a longer
/// one is the wrong file or a quote left open, and reading on would hold all of it in memory.
pub const MAX_ROW_BYTES: u64 = 1024 * 1024;

/// The UTF-8 byte-order mark that Excel writes at the start of "CSV UTF-8" files.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A streaming reader of a recipient CSV with a checked header row.
pub struct CsvReader {
    path: PathBuf,
    inner: csv::Reader<Tracked>,
    headers: Vec<String>,
    delimiter: u8,
    raw: csv::ByteRecord,
}

/// The byte source under the parser, remembering just enough to tell whether the last row
/// of the file ended with a newline (which decides that row's line number).
struct Tracked {
    source: Chain<Cursor<Vec<u8>>, BufReader<Box<dyn Read + Send>>>,
    total: u64,
    last: Option<u8>,
    at_end: bool,
    /// Quote characters passed so far: an odd count at the end means one is never closed.
    quotes: u64,
    /// Newlines passed so far, quoted ones included.
    newlines: u64,
    /// Bytes of the row being read: since the last newline outside quotes.
    row_bytes: u64,
    /// The line where the row being read starts.
    row_line: u64,
    /// Set, with the row's first line, once a row outgrew [`MAX_ROW_BYTES`].
    too_long: Option<u64>,
}

/// One data row. Its buffers are reused by [`CsvReader::read`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The 1-based physical line where the row starts.
    pub line: u64,
    /// One value per header column.
    pub fields: Vec<String>,
}

/// Why a CSV file, or one of its rows, could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the file is empty: a header row is required")]
    NoHeader,
    #[error("column {column} has an empty name in the header row")]
    EmptyHeader { line: u64, column: usize },
    #[error("column `{name}` appears twice in the header row (columns {first} and {second})")]
    DuplicateHeader {
        line: u64,
        name: String,
        first: usize,
        second: usize,
    },
    #[error("row has {found} fields but the header has {expected}")]
    Ragged {
        line: u64,
        expected: usize,
        found: usize,
        /// The delimiter in use, named in the hint.
        delimiter: u8,
    },
    #[error("field {field} is not valid UTF-8")]
    Utf8 { line: u64, field: usize },
    #[error("a quoted field on this row is never closed: it runs to the end of the file")]
    UnclosedQuote { line: u64 },
    #[error("this row is longer than {} MiB: reading stopped here", MAX_ROW_BYTES >> 20)]
    RowTooLong { line: u64 },
}

impl CsvReader {
    /// Opens `path`; `delimiter: None` detects it from the header line.
    pub fn open(path: &Path, delimiter: Option<u8>) -> Result<CsvReader, CsvError> {
        let file = File::open(path).map_err(|source| CsvError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        CsvReader::from_reader(Box::new(file), path, delimiter)
    }

    /// Reads CSV from any source; `name` is the path errors and diagnostics mention.
    pub fn from_reader(
        reader: Box<dyn Read + Send>,
        name: &Path,
        delimiter: Option<u8>,
    ) -> Result<CsvReader, CsvError> {
        let io_error = |source| CsvError::Io {
            path: name.to_path_buf(),
            source,
        };
        let mut buffered = BufReader::new(reader);
        let mut head = read_head(&mut buffered).map_err(io_error)?;
        if head.starts_with(BOM) {
            head.drain(..BOM.len());
        }
        let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&head));

        let source = Tracked {
            source: Cursor::new(head).chain(buffered),
            total: 0,
            last: None,
            at_end: false,
            quotes: 0,
            newlines: 0,
            row_bytes: 0,
            row_line: 1,
            too_long: None,
        };
        // Only `\n` ends a row, so that the parser consumes it with the row and line numbers
        // can be derived; the `\r` of CRLF is taken off the last field instead.
        let inner = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(READ_BUFFER_BYTES)
            .has_headers(false)
            .flexible(true)
            .from_reader(source);

        let mut reader = CsvReader {
            path: name.to_path_buf(),
            inner,
            headers: Vec::new(),
            delimiter,
            raw: csv::ByteRecord::new(),
        };
        reader.headers = reader.read_headers()?;
        Ok(reader)
    }

    /// The column names, trimmed, in file order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The delimiter in use, given or detected.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Reads the next row into `record`, reusing its buffers; `Ok(false)` at the end.
    ///
    /// After a [`CsvError::Ragged`] or [`CsvError::Utf8`] error the reader stays usable: the
    /// next call continues with the following row. `record.line` names the bad row.
    pub fn read(&mut self, record: &mut Record) -> Result<bool, CsvError> {
        if !self.next_raw()? {
            return Ok(false);
        }
        let line = self.raw_line();
        record.line = line;
        if self.has_unclosed_quote() {
            // The file's last newline sits inside the open quote, yet `raw_line` also took
            // it off as the row's terminator.
            let is_counted_twice = self.inner.get_ref().last == Some(b'\n');
            let line = line + u64::from(is_counted_twice);
            return Err(CsvError::UnclosedQuote { line });
        }

        let expected = self.headers.len();
        if self.raw.len() != expected {
            let found = self.raw.len();
            return Err(CsvError::Ragged {
                line,
                expected,
                found,
                delimiter: self.delimiter,
            });
        }

        record.fields.resize_with(expected, String::new);
        for (index, (field, slot)) in self.raw.iter().zip(&mut record.fields).enumerate() {
            let field = if index + 1 == expected {
                field.strip_suffix(b"\r").unwrap_or(field)
            } else {
                field
            };
            let text = std::str::from_utf8(field).map_err(|_| CsvError::Utf8 {
                line,
                field: index + 1,
            })?;
            slot.clear();
            slot.push_str(text);
        }
        Ok(true)
    }

    /// Reads the next non-blank raw row; `Ok(false)` at the end of the file.
    fn next_raw(&mut self) -> Result<bool, CsvError> {
        loop {
            let read = self.inner.read_byte_record(&mut self.raw);
            if let Some(line) = self.inner.get_ref().too_long {
                return Err(CsvError::RowTooLong { line });
            }
            let more = read.map_err(|error| CsvError::Io {
                path: self.path.clone(),
                source: io::Error::other(error),
            })?;
            if !more {
                return Ok(false);
            }
            if !is_blank(&self.raw) {
                return Ok(true);
            }
        }
    }

    /// Whether the row just read is the last and swallowed later lines into a quoted field
    /// that never closes; the parser itself accepts that silently.
    fn has_unclosed_quote(&self) -> bool {
        let source = self.inner.get_ref();
        let is_last = source.at_end && self.inner.position().byte() == source.total;
        let is_multiline = self.raw.as_slice().contains(&b'\n');
        is_last && is_multiline && source.quotes % 2 == 1
    }

    /// The line where the row just read starts: the parser's count of newlines read so
    /// far, less the row's own terminator and the newlines quoted inside its fields.
    fn raw_line(&self) -> u64 {
        let lines_read = self.inner.position().line();
        let source = self.inner.get_ref();
        let is_unterminated = source.at_end
            && self.inner.position().byte() == source.total
            && source.last != Some(b'\n');
        let terminator = u64::from(!is_unterminated);
        let quoted = self.raw.as_slice().iter().filter(|b| **b == b'\n').count();
        lines_read.saturating_sub(terminator + quoted as u64)
    }

    /// Reads and checks the header row: present, valid UTF-8, every name non-empty and unique.
    fn read_headers(&mut self) -> Result<Vec<String>, CsvError> {
        if !self.next_raw()? {
            return Err(CsvError::NoHeader);
        }
        let line = self.raw_line();

        let mut headers: Vec<String> = Vec::with_capacity(self.raw.len());
        // The header goes through the same checks as a row; `trim` also drops a CRLF `\r`.
        for (index, field) in self.raw.iter().enumerate() {
            let column = index + 1;
            let name = std::str::from_utf8(field)
                .map_err(|_| CsvError::Utf8 {
                    line,
                    field: column,
                })?
                .trim();
            if name.is_empty() {
                return Err(CsvError::EmptyHeader { line, column });
            }
            if let Some(first) = headers.iter().position(|seen| seen == name) {
                return Err(CsvError::DuplicateHeader {
                    line,
                    name: name.to_owned(),
                    first: first + 1,
                    second: column,
                });
            }
            headers.push(name.to_owned());
        }
        Ok(headers)
    }
}

impl fmt::Debug for CsvReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvReader")
            .field("path", &self.path)
            .field("headers", &self.headers)
            .field("delimiter", &char::from(self.delimiter))
            .finish_non_exhaustive()
    }
}

impl Record {
    /// The value in column `index`, or `""` when there is no such column.
    pub fn get(&self, index: usize) -> &str {
        self.fields.get(index).map_or("", String::as_str)
    }
}

impl CsvError {
    /// The 1-based line the error is about, when it is about one row.
    pub fn line(&self) -> Option<u64> {
        match self {
            CsvError::EmptyHeader { line, .. }
            | CsvError::DuplicateHeader { line, .. }
            | CsvError::Ragged { line, .. }
            | CsvError::Utf8 { line, .. }
            | CsvError::UnclosedQuote { line }
            | CsvError::RowTooLong { line } => Some(*line),
            CsvError::Io { .. } | CsvError::NoHeader => None,
        }
    }

    /// The error as a diagnostic about `path`, located at its line, with a fix.
    pub fn to_diagnostic(&self, path: &Path) -> Diagnostic {
        let message = match self {
            CsvError::Io { source, .. } => format!("{self}\n  caused by: {source}"),
            _ => self.to_string(),
        };
        let mut diagnostic = Diagnostic::error(path, message);
        if let Some(line) = self.line() {
            diagnostic = diagnostic.at_line(line as usize, None);
        }
        match self.hint() {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            CsvError::Io { .. } => return None,
            CsvError::NoHeader => "the first line must name the columns, e.g. `phone,first_name`",
            CsvError::EmptyHeader { .. } => "give every column a name in the first line",
            CsvError::DuplicateHeader { .. } => "rename one of the two columns",
            CsvError::Ragged {
                expected,
                found,
                delimiter,
                ..
            } if found > expected => {
                return Some(format!(
                    "quote fields that contain the delimiter {}",
                    delimiter_name(*delimiter)
                ));
            }
            CsvError::Ragged { .. } => "give every row one value (possibly empty) per column",
            CsvError::Utf8 { .. } => "save the file as UTF-8 (in Excel: \"CSV UTF-8\")",
            CsvError::UnclosedQuote { .. } => {
                "close the quote; a quote inside a quoted field is written twice: `\"\"`"
            }
            CsvError::RowTooLong { .. } => {
                "a recipient row holds a few hundred bytes: check that this is the recipients \
                 file, and that no quote is left open (an open quote swallows the lines after it)"
            }
        };
        Some(hint.to_owned())
    }
}

/// Reads the header line (and any blank lines before it) without consuming more.
///
/// A header may hold a quoted newline, so reading stops at the first newline outside quotes.
fn read_head(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    loop {
        let start = head.len();
        let room = (MAX_ROW_BYTES + 1).saturating_sub(start as u64);
        let read = reader.take(room).read_until(b'\n', &mut head)?;
        if head.len() as u64 > MAX_ROW_BYTES {
            // The parser meets the same bytes again and stops at its limit.
            return Ok(head);
        }
        let line = &head[start..];
        let is_blank_line = line.iter().all(|b| matches!(b, b'\r' | b'\n'));
        let quotes = head.iter().filter(|b| **b == b'"').count();
        if read == 0 || (!is_blank_line && quotes % 2 == 0) {
            return Ok(head);
        }
    }
}

/// The candidate delimiter that occurs most often outside quotes; `,` when none does.
fn detect_delimiter(head: &[u8]) -> u8 {
    let mut counts = [0usize; CANDIDATE_DELIMITERS.len()];
    let mut in_quotes = false;
    for byte in head {
        if *byte == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && let Some(slot) = CANDIDATE_DELIMITERS.iter().position(|d| d == byte)
        {
            counts[slot] += 1;
        }
    }

    let mut best = 0;
    for (slot, count) in counts.iter().enumerate() {
        if *count > counts[best] {
            best = slot;
        }
    }
    CANDIDATE_DELIMITERS[best]
}

impl Read for Tracked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(line) = self.too_long {
            return Err(row_too_long(line));
        }
        let read = self.source.read(buf)?;
        if read == 0 {
            self.at_end = !buf.is_empty();
            return Ok(0);
        }
        self.total += read as u64;
        self.last = Some(buf[read - 1]);
        for byte in &buf[..read] {
            match byte {
                b'"' => self.quotes += 1,
                b'\n' => {
                    self.newlines += 1;
                    if self.quotes.is_multiple_of(2) {
                        if self.row_bytes > MAX_ROW_BYTES {
                            break;
                        }
                        self.row_bytes = 0;
                        self.row_line = self.newlines + 1;
                        continue;
                    }
                }
                _ => {}
            }
            self.row_bytes += 1;
        }
        if self.row_bytes > MAX_ROW_BYTES {
            self.too_long = Some(self.row_line);
            return Err(row_too_long(self.row_line));
        }
        Ok(read)
    }
}

fn row_too_long(line: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the row at line {line} is longer than {MAX_ROW_BYTES} bytes"),
    )
}

/// The delimiter as a hint shows it: `,` in backticks, or the word tab.
fn delimiter_name(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "(a tab)".to_owned(),
        other => format!("`{}`", char::from(other)),
    }
}

/// A row that is only whitespace: a blank line in a spreadsheet export.
fn is_blank(raw: &csv::ByteRecord) -> bool {
    raw.len() == 1 && raw[0].iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests;
