//! Building a plan: a validated campaign streamed into one [`PlannedMessage`] per row.
//!
//! This is the single place that decides who gets what: it reads the recipient CSV row by
//! row (memory stays flat but for the duplicate set), applies suppressions and duplicates,
//! renders each text through the shared template path, counts segments and derives each
//! `local_id`. It hashes every input on the way, so a saved plan can later prove nothing
//! changed. It never talks to the network and never writes output itself: each message is
//! handed to the caller's sink as soon as it is decided.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::rows::{Columns, Decided, RowPlanner, RowRenderer, decide_rows, with_text, zone_list};
use super::{PlannedMessage, Reason, Status, Summary, Target};
use crate::campaign::locate::Locations;
use crate::campaign::{Audience, Campaign, Content, RecipientsSource, RowPolicy};
use crate::diagnostic::Diagnostic;
use crate::recipients::csv::CsvReader;
use crate::recipients::suppress::{SuppressionSet, load_suppressions};
use crate::recipients::timezone::US_ZONES;
use crate::render::local_id::{RecipientKey, local_id};
use crate::render::segments;
use crate::render::template::{MessageTemplate, RenderError};

/// At most this many row problems are reported one by one; the rest are counted.
const MAX_ROW_DIAGNOSTICS: usize = 50;

/// Facts that change the plan but do not come from the campaign file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Text of the Heymarket template (`template_id`), learned online, to count segments.
    pub heymarket_template_text: Option<String>,
}

/// One input file and the SHA-256 of its bytes when the plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputHash {
    /// `campaign`, `template`, `recipients` or `suppress`.
    pub role: String,
    pub path: PathBuf,
    pub sha256: String,
}

/// What building the plan came to, besides the messages handed to the sink.
#[derive(Debug)]
pub struct Outcome {
    pub summary: Summary,
    /// Errors make the plan unusable; warnings do not.
    pub diagnostics: Vec<Diagnostic>,
    pub inputs: Vec<InputHash>,
}

impl Outcome {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Plans `campaign`, handing every message to `sink` in row order.
///
/// Problems with the inputs come back in [`Outcome::diagnostics`]; only a failing sink (a
/// closed stdout, a full disk) is an `Err`.
pub fn build(
    campaign: &Campaign,
    options: &Options,
    sink: &mut dyn FnMut(PlannedMessage) -> io::Result<()>,
) -> io::Result<Outcome> {
    let mut planner = Planner::new(campaign);
    planner.hash_file("campaign", &campaign.path);

    let template = match planner.compile_template() {
        Ok(template) => template,
        Err(diagnostic) => return Ok(planner.finish_with(*diagnostic)),
    };

    match &campaign.audience {
        Audience::Recipients(source) => planner.plan_rows(source, template.as_ref(), sink)?,
        Audience::List { list_id } => {
            let target = Target::List(*list_id);
            let key = RecipientKey::List(*list_id);
            planner.plan_single(target, key, template.as_ref(), options, sink)?;
        }
        Audience::Group { targets } => {
            let digits: Vec<String> = targets
                .iter()
                .map(|phone| phone.digits().to_owned())
                .collect();
            let target = Target::Group(targets.clone());
            planner.plan_single(
                target,
                RecipientKey::Group(&digits),
                template.as_ref(),
                options,
                sink,
            )?;
        }
    }

    planner.check_max_recipients();
    Ok(planner.finish())
}

/// The state of one planning pass.
struct Planner<'a> {
    campaign: &'a Campaign,
    summary: Summary,
    diagnostics: Vec<Diagnostic>,
    row_problems: usize,
    /// Whether the error for a template that fails on its own was already reported.
    has_template_defect: bool,
    inputs: Vec<InputHash>,
}

impl<'a> Planner<'a> {
    fn new(campaign: &'a Campaign) -> Self {
        Self {
            campaign,
            summary: Summary::new(campaign),
            diagnostics: Vec::new(),
            row_problems: 0,
            has_template_defect: false,
            inputs: Vec::new(),
        }
    }

    fn compile_template(&mut self) -> Result<Option<MessageTemplate>, Box<Diagnostic>> {
        let Content::Template(source) = &self.campaign.message.content else {
            return Ok(None);
        };
        if source.file != self.campaign.path {
            self.hash_file("template", &source.file);
        }
        MessageTemplate::compile(source, &self.campaign.name, &self.campaign.vars).map(Some)
    }

    fn check_unknown_variables(
        &mut self,
        template: Option<&MessageTemplate>,
        columns: &[String],
    ) -> bool {
        let (Some(template), Content::Template(source)) =
            (template, &self.campaign.message.content)
        else {
            return true;
        };
        let unknown = template.unknown_variables(columns, source);
        let ok = unknown.is_empty();
        self.diagnostics.extend(unknown);
        ok
    }

    /// A list broadcast or a group MMS: one request, rendered with campaign `vars` only.
    fn plan_single(
        &mut self,
        target: Target,
        key: RecipientKey<'_>,
        template: Option<&MessageTemplate>,
        options: &Options,
        sink: &mut dyn FnMut(PlannedMessage) -> io::Result<()>,
    ) -> io::Result<()> {
        if !self.check_unknown_variables(template, &[]) {
            return Ok(());
        }
        let mut message = PlannedMessage {
            row: 1,
            line: None,
            status: Status::Send,
            reason: None,
            detail: None,
            local_id: Some(local_id(&self.campaign.name, key)),
            zones: zone_list(US_ZONES),
            target,
            text: None,
            encoding: None,
            segments: None,
        };
        match template.map(|template| template.render(None)) {
            Some(Ok(text)) => {
                message = with_text(message, text, self.campaign.message.max_segments);
                self.report_single_invalid(&message);
            }
            Some(Err(error)) => self.diagnostics.push(
                Diagnostic::error(
                    &self.campaign.path,
                    format!("the message could not be rendered: {error}"),
                )
                .with_hint("fix the template under `message`"),
            ),
            None => self.attach_heymarket_template(&mut message, options),
        }
        self.emit(message, sink)
    }

    /// The one message of a list or group is the whole campaign: when it cannot be sent
    /// (too many segments), that is an error, never a quietly skipped row.
    fn report_single_invalid(&mut self, message: &PlannedMessage) {
        let Some(detail) = message.detail.as_deref().filter(|_| !message.is_send()) else {
            return;
        };
        let diagnostic = Diagnostic::error(
            &self.campaign.path,
            format!("the message cannot be sent: {detail}"),
        )
        .with_hint("shorten the text, or raise `max_segments` (at most 10)");
        self.diagnostics
            .push(at_key(diagnostic, &self.campaign.path, &["message"]));
    }

    fn attach_heymarket_template(&self, message: &mut PlannedMessage, options: &Options) {
        if let Some(text) = &options.heymarket_template_text {
            let counted = segments::count(text);
            message.encoding = Some(counted.encoding);
            message.segments = Some(counted.segments);
        }
    }

    fn plan_rows(
        &mut self,
        source: &RecipientsSource,
        template: Option<&MessageTemplate>,
        sink: &mut dyn FnMut(PlannedMessage) -> io::Result<()>,
    ) -> io::Result<()> {
        let suppressions = match self.load_suppressions(source) {
            Some(set) => set,
            None => return Ok(()),
        };
        let hasher = Arc::new(Mutex::new(Sha256::new()));
        let Some(reader) = self.open_csv(source, &hasher) else {
            return Ok(());
        };
        let headers: Arc<[String]> = Arc::from(reader.headers().to_vec());
        log::info!(
            "reading `{}`: delimiter {:?}, columns {:?}",
            source.csv.display(),
            char::from(reader.delimiter()),
            headers
        );
        let Some(columns) = self.find_columns(source, &headers) else {
            return Ok(());
        };
        if !self.check_unknown_variables(template, &headers) {
            return Ok(());
        }

        let rows = RowPlanner::new(self.campaign, source, columns, suppressions);
        let renderer = RowRenderer {
            template,
            headers,
            max_segments: self.campaign.message.max_segments,
        };

        // Two stages on two cores: a thread reads and decides rows (CSV, phones, duplicates,
        // suppressions, zones); this one renders them and hands them to the sink.
        std::thread::scope(|scope| -> io::Result<()> {
            let (sender, receiver) = mpsc::sync_channel::<Vec<Decided>>(16);
            scope.spawn(move || decide_rows(reader, rows, sender));
            for batch in receiver {
                for decided in batch {
                    self.take(decided, &renderer, source, sink)?;
                }
            }
            Ok(())
        })?;

        let digest = hasher
            .lock()
            .map(|hasher| hex::encode(hasher.clone().finalize()))
            .unwrap_or_default();
        self.inputs.push(InputHash {
            role: "recipients".into(),
            path: source.csv.clone(),
            sha256: digest,
        });
        Ok(())
    }

    /// Finishes one decided row: renders it when it is to be sent, records its problem.
    fn take(
        &mut self,
        decided: Decided,
        renderer: &RowRenderer<'_>,
        source: &RecipientsSource,
        sink: &mut dyn FnMut(PlannedMessage) -> io::Result<()>,
    ) -> io::Result<()> {
        let message = match decided {
            Decided::Row(message, fields) if message.is_send() => {
                let (message, defect) = renderer.render(message, fields);
                if let Some(error) = defect {
                    self.report_template_defect(renderer, &error);
                }
                message
            }
            Decided::Row(message, _) => message,
            Decided::Malformed(message, problem) => {
                self.row_problem(problem, source.invalid_rows);
                message
            }
            Decided::Fatal(problem) => {
                self.diagnostics.push(problem);
                return Ok(());
            }
        };
        if let Some(reason) = message.reason {
            self.report_row(source, &message, reason);
        }
        self.emit(message, sink)
    }

    /// A template that fails for a reason of its own fails every row alike: one error at the
    /// template, whatever `invalid_rows` says, so `validate` never passes such a campaign.
    fn report_template_defect(&mut self, renderer: &RowRenderer<'_>, error: &RenderError) {
        let Some(template) = renderer.template else {
            return;
        };
        if self.has_template_defect {
            return;
        }
        self.has_template_defect = true;

        let diagnostic = Diagnostic::error(
            template.file(),
            format!("the template cannot render any message: {error}"),
        )
        .with_hint(
            "templates have no file loader, no environment access and a recursion limit; \
             use only the built-in filters and the variables a row provides",
        );
        self.diagnostics.push(diagnostic);
    }

    fn load_suppressions(&mut self, source: &RecipientsSource) -> Option<SuppressionSet> {
        for path in &source.suppress {
            self.hash_file("suppress", path);
        }
        match load_suppressions(&source.suppress, source.default_region) {
            Ok(set) => {
                log::info!(
                    "{} numbers in {} suppression files",
                    set.len(),
                    source.suppress.len()
                );
                Some(set)
            }
            Err(problems) => {
                self.diagnostics.extend(problems);
                None
            }
        }
    }

    fn open_csv(
        &mut self,
        source: &RecipientsSource,
        hasher: &Arc<Mutex<Sha256>>,
    ) -> Option<CsvReader> {
        let file = match File::open(&source.csv) {
            Ok(file) => file,
            Err(error) => {
                let diagnostic = Diagnostic::error(
                    &self.campaign.path,
                    format!(
                        "cannot read the recipient CSV `{}`: {error}",
                        source.csv.display()
                    ),
                )
                .with_hint("`audience.recipients` is a path relative to the campaign file");
                self.diagnostics.push(at_key(
                    diagnostic,
                    &self.campaign.path,
                    &["audience", "recipients"],
                ));
                return None;
            }
        };
        let reader = HashingReader {
            inner: file,
            hasher: Arc::clone(hasher),
        };
        match CsvReader::from_reader(Box::new(reader), &source.csv, source.delimiter) {
            Ok(reader) => Some(reader),
            Err(error) => {
                self.diagnostics.push(error.to_diagnostic(&source.csv));
                None
            }
        }
    }

    fn find_columns(&mut self, source: &RecipientsSource, headers: &[String]) -> Option<Columns> {
        let position = |name: &str| headers.iter().position(|header| header == name);
        let columns = Columns {
            phone: position(&source.phone_column),
            chat_id: position(&source.chat_id_column),
            timezone: position(&source.timezone_column),
        };
        if columns.phone.is_none() && columns.chat_id.is_none() {
            let names: Vec<String> = headers.iter().map(|header| format!("`{header}`")).collect();
            let mut diagnostic = Diagnostic::error(
                &source.csv,
                format!(
                    "the recipient CSV has neither a `{}` nor a `{}` column",
                    source.phone_column, source.chat_id_column
                ),
            )
            .at_line(1, Some(headers.join(",")));
            diagnostic = match crate::diagnostic::did_you_mean(
                &source.phone_column,
                headers.iter().map(String::as_str),
            ) {
                Some(close) => {
                    diagnostic.with_hint(format!("set `phone_column: {close}` under `audience`"))
                }
                None => diagnostic.with_hint(format!(
                    "name the phone column with `phone_column`; the columns are {}",
                    names.join(", ")
                )),
            };
            self.diagnostics.push(diagnostic);
            return None;
        }
        if self.campaign.message.private && columns.chat_id.is_none() {
            let diagnostic = Diagnostic::error(
                &self.campaign.path,
                "`private: true` needs a `chat_id` column: \
                 internal comments go into existing conversations",
            )
            .with_hint(format!(
                "add a `{}` column to `{}`, or drop `private`",
                source.chat_id_column,
                source.csv.display()
            ));
            self.diagnostics.push(at_key(
                diagnostic,
                &self.campaign.path,
                &["message", "private"],
            ));
            return None;
        }
        Some(columns)
    }

    /// Turns a skipped or invalid row into a diagnostic when the campaign says to fail on it.
    fn report_row(&mut self, source: &RecipientsSource, message: &PlannedMessage, reason: Reason) {
        let policy = match reason {
            Reason::Duplicate => source.duplicates,
            Reason::Suppressed => return,
            _ => source.invalid_rows,
        };
        if reason == Reason::MalformedRow {
            return;
        }
        let detail = message
            .detail
            .clone()
            .unwrap_or_else(|| reason.as_str().to_owned());
        let line = message.line.unwrap_or(0) as usize;
        let key = if reason == Reason::Duplicate {
            "duplicates"
        } else {
            "invalid_rows"
        };
        let diagnostic = Diagnostic::error(&source.csv, format!("row {}: {detail}", message.row))
            .at_line(line, None)
            .with_hint(format!(
                "fix the row, or set `{key}: skip` under `audience` to leave such rows out"
            ));
        self.row_problem(diagnostic, policy);
    }

    fn row_problem(&mut self, mut diagnostic: Diagnostic, policy: RowPolicy) {
        if policy == RowPolicy::Skip {
            diagnostic.severity = crate::diagnostic::Severity::Warning;
            diagnostic.hint = None;
        }
        self.row_problems += 1;
        if self.row_problems <= MAX_ROW_DIAGNOSTICS {
            self.diagnostics.push(diagnostic);
        }
    }

    fn emit(
        &mut self,
        message: PlannedMessage,
        sink: &mut dyn FnMut(PlannedMessage) -> io::Result<()>,
    ) -> io::Result<()> {
        self.summary.add(&message);
        sink(message)
    }

    fn check_max_recipients(&mut self) {
        let Some(max) = self.campaign.send.max_recipients else {
            return;
        };
        if self.summary.to_send > max {
            let diagnostic = Diagnostic::error(
                &self.campaign.path,
                format!(
                    "{} messages would be sent, above `max_recipients: {max}`",
                    self.summary.to_send
                ),
            )
            .with_hint(
                "check that the audience is the one you meant, then raise `send.max_recipients`",
            );
            self.diagnostics.push(at_key(
                diagnostic,
                &self.campaign.path,
                &["send", "max_recipients"],
            ));
        }
    }

    fn hash_file(&mut self, role: &str, path: &Path) {
        let digest = std::fs::read(path)
            .map(|bytes| hex::encode(Sha256::digest(bytes)))
            .unwrap_or_default();
        self.inputs.push(InputHash {
            role: role.to_owned(),
            path: path.to_path_buf(),
            sha256: digest,
        });
    }

    fn finish_with(mut self, diagnostic: Diagnostic) -> Outcome {
        self.diagnostics.push(diagnostic);
        self.finish()
    }

    fn finish(mut self) -> Outcome {
        let hidden = self.row_problems.saturating_sub(MAX_ROW_DIAGNOSTICS);
        if hidden > 0 {
            let file = match &self.campaign.audience {
                Audience::Recipients(source) => source.csv.clone(),
                _ => self.campaign.path.clone(),
            };
            self.diagnostics.push(Diagnostic::warning(
                file,
                format!("{hidden} more row problems are not shown: see `plan --json`"),
            ));
        }
        self.summary.finish(&self.diagnostics);
        Outcome {
            summary: self.summary,
            diagnostics: self.diagnostics,
            inputs: self.inputs,
        }
    }
}

/// Points `diagnostic` at the campaign-file key `path`, when the file can be read again
/// and still holds it; otherwise it stays about the file as a whole.
fn at_key(diagnostic: Diagnostic, file: &Path, path: &[&str]) -> Diagnostic {
    let Ok(source) = crate::text_file::read(file) else {
        return diagnostic;
    };
    let Some(spot) = Locations::scan(&source)
        .ok()
        .and_then(|locations| locations.get(path).copied())
    else {
        return diagnostic;
    };
    diagnostic.at(&source, spot.key.line, spot.key.col, spot.key_len)
}

/// Hashes the bytes of the recipient CSV as the reader streams through them.
struct HashingReader {
    inner: File,
    hasher: Arc<Mutex<Sha256>>,
}

impl Read for HashingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        if let Ok(mut hasher) = self.hasher.lock() {
            hasher.update(&buf[..read]);
        }
        Ok(read)
    }
}
