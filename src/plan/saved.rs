//! Saved plans (`plan --out PLAN`): what was reviewed, so `apply PLAN` sends exactly that.
//!
//! A plan file is JSON Lines, streamed as the plan is built: a header line, one line per
//! message (with its fingerprint), and a trailer with the summary and the SHA-256 of every
//! input (campaign file, templates, recipient CSV, suppression files). `apply PLAN` refuses
//! the plan when any input hash no longer matches. The file holds personal data and is
//! created readable by its owner only.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::build::InputHash;
use super::json::{FORMAT_VERSION, MessageRecord, PlanHeader, WRITE_BUFFER};
use super::summary::Summary;

/// What a saved plan's first line says it is.
const KIND: &str = "heymarket-campaign-plan";

/// The first line of a plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedHeader {
    pub kind: String,
    pub format_version: u32,
    #[serde(flatten)]
    pub plan: PlanHeader,
}

/// The last line of a plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTrailer {
    pub summary: Summary,
    pub inputs: Vec<InputHash>,
}

/// A line of a plan file after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Message(MessageRecord),
    Trailer(SavedTrailer),
}

/// Why a plan file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot read the plan `{path}`")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("`{path}` is not a campaign plan (line {line}: {reason})")]
    Malformed {
        path: String,
        line: usize,
        reason: String,
    },
    #[error("the plan `{path}` is incomplete: it has no trailer (was `plan --out` interrupted?)")]
    Truncated { path: String },
}

/// Streams a plan file.
#[derive(Debug)]
pub struct PlanWriter {
    out: BufWriter<File>,
}

impl PlanWriter {
    /// Creates `path` (mode 0600) and writes the header line.
    pub fn create(path: &Path, header: &PlanHeader) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, crate::private::create_file(path)?);
        let saved = SavedHeader {
            kind: KIND.to_owned(),
            format_version: FORMAT_VERSION,
            plan: header.clone(),
        };
        serde_json::to_writer(&mut out, &saved)?;
        out.write_all(b"\n")?;
        Ok(Self { out })
    }

    pub fn message(&mut self, record: &MessageRecord) -> io::Result<()> {
        write_line(&mut self.out, &Line::Message(record.clone()))
    }

    /// Writes the trailer and flushes the file to disk.
    pub fn finish(mut self, summary: &Summary, inputs: &[InputHash]) -> io::Result<()> {
        let trailer = SavedTrailer {
            summary: summary.clone(),
            inputs: inputs.to_vec(),
        };
        write_line(&mut self.out, &Line::Trailer(trailer))?;
        let file = self
            .out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        file.sync_all()
    }
}

fn write_line(out: &mut impl Write, line: &Line) -> io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

/// A saved plan read back: header, every message, trailer.
#[derive(Debug, Clone)]
pub struct SavedPlan {
    pub header: SavedHeader,
    pub messages: Vec<MessageRecord>,
    pub trailer: SavedTrailer,
}

/// Reads the plan at `path`, calling `each` for every message instead of keeping them.
pub fn read(
    path: &Path,
    each: &mut dyn FnMut(MessageRecord),
) -> Result<(SavedHeader, SavedTrailer), PlanFileError> {
    let shown = path.display().to_string();
    let io_error = |source| PlanFileError::Io {
        path: shown.clone(),
        source,
    };
    let malformed = |line: usize, reason: String| PlanFileError::Malformed {
        path: shown.clone(),
        line,
        reason,
    };

    let mut lines = BufReader::new(File::open(path).map_err(io_error)?).lines();
    let header = read_header(&mut lines, path)?;

    for (index, line) in lines.enumerate() {
        let line = line.map_err(io_error)?;
        match serde_json::from_str::<Line>(&line)
            .map_err(|error| malformed(index + 2, error.to_string()))?
        {
            Line::Message(record) => each(record),
            Line::Trailer(trailer) => return Ok((header, trailer)),
        }
    }
    Err(PlanFileError::Truncated { path: shown })
}

/// The header of the plan at `path`, without reading the rest of the file.
pub fn header(path: &Path) -> Result<SavedHeader, PlanFileError> {
    let file = File::open(path).map_err(|source| PlanFileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    read_header(&mut BufReader::new(file).lines(), path)
}

/// Reads and checks the first line of a plan file.
fn read_header(
    lines: &mut io::Lines<BufReader<File>>,
    path: &Path,
) -> Result<SavedHeader, PlanFileError> {
    let shown = path.display().to_string();
    let malformed = |reason: String| PlanFileError::Malformed {
        path: shown.clone(),
        line: 1,
        reason,
    };
    let first = lines
        .next()
        .transpose()
        .map_err(|source| PlanFileError::Io {
            path: shown.clone(),
            source,
        })?
        .unwrap_or_default();
    let header: SavedHeader =
        serde_json::from_str(&first).map_err(|error| malformed(error.to_string()))?;
    if header.kind != KIND || header.format_version != FORMAT_VERSION {
        return Err(malformed(format!(
            "kind `{}` version {}",
            header.kind, header.format_version
        )));
    }
    Ok(header)
}

/// A plan file's messages, one line at a time, up to the trailer.
///
/// For files already checked with [`read`] (which reports a malformed line) or written by
/// this process: a line that does not parse ends the stream.
#[derive(Debug)]
pub struct Messages {
    lines: io::Lines<BufReader<File>>,
}

/// Streams the messages of the plan at `path`.
pub fn messages(path: &Path) -> Result<Messages, PlanFileError> {
    let file = File::open(path).map_err(|source| PlanFileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut lines = BufReader::new(file).lines();
    lines.next();
    Ok(Messages { lines })
}

impl Iterator for Messages {
    type Item = MessageRecord;

    fn next(&mut self) -> Option<MessageRecord> {
        let line = self.lines.next()?.ok()?;
        match serde_json::from_str::<Line>(&line).ok()? {
            Line::Message(record) => Some(record),
            Line::Trailer(_) => None,
        }
    }
}

/// Whether `path` looks like a saved plan rather than a campaign file.
pub fn is_plan_file(path: &Path) -> bool {
    use io::Read;
    let mut start = Vec::new();
    let read = File::open(path).and_then(|file| file.take(256).read_to_end(&mut start));
    read.is_ok() && String::from_utf8_lossy(&start).contains(KIND)
}
