//! `campaign plan FILE`: exactly what `apply` would send, as text, JSON, Markdown or a file.
//!
//! The plan is built once and streamed to every output asked for, so the formats cannot
//! disagree. Online checks (inbox, creator, toll-free number) run only with credentials and
//! without `--offline`; the output always says which it was.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use anyhow::Context as _;

use crate::campaign::Campaign;
use crate::cli::PlanArgs;
use crate::exit::Exit;
use crate::plan::human::HumanPlan;
use crate::plan::json::{JsonWriter, MessageRecord, PlanHeader, WRITE_BUFFER};
use crate::plan::markdown::{self, MarkdownPlan};
use crate::plan::saved::PlanWriter;
use crate::plan::{self, Outcome, PlannedMessage};
use crate::style::Style;

pub fn run(args: &PlanArgs) -> anyhow::Result<Exit> {
    if args.json && args.markdown.as_deref() == Some(Path::new("-")) {
        anyhow::bail!(
            "`--json` and `--markdown -` both write to stdout: give `--markdown` a file name"
        );
    }
    let Some(campaign) = super::load_campaign(&args.file) else {
        return Ok(Exit::Error);
    };
    let online = super::online::online_checks(&campaign, args.offline)?;
    super::report(&online.diagnostics);
    if online.diagnostics.iter().any(|d| d.is_error()) {
        return Ok(Exit::Error);
    }

    let header = header(
        &campaign,
        &args.file,
        online.checks.clone(),
        online.is_online,
    );
    let mut sinks = Sinks::open(args, &header)?;
    let outcome = plan::build(&campaign, &online.options, &mut |message| {
        sinks.add(message)
    })?;
    super::report(&outcome.diagnostics);
    let to_send = outcome.summary.to_send;
    let failed = outcome.has_errors();
    sinks.finish(&header, &outcome)?;

    if failed {
        eprintln!("error: the plan has errors; nothing would be sent");
        return Ok(Exit::Error);
    }
    match (args.detailed_exitcode, to_send) {
        (true, 1..) => Ok(Exit::Changes),
        _ => Ok(Exit::Success),
    }
}

/// What every output shows first: which campaign, from which file, online or not.
pub fn header(
    campaign: &Campaign,
    file: &Path,
    checks: Vec<String>,
    is_online: bool,
) -> PlanHeader {
    PlanHeader {
        campaign: campaign.name.clone(),
        campaign_file: file.display().to_string(),
        mode: if is_online { "online" } else { "offline" }.to_owned(),
        checks,
    }
}

/// What is shown inline as messages stream past (cheap, bounded).
enum Shown {
    Human(HumanPlan),
    /// `--json` or `--markdown -`: nothing is collected for a text plan.
    Nothing,
}

/// The outputs that serialize every message: the `--json` document and the saved plan.
/// They run on a second thread, so rendering and writing share the machine's two cores.
struct Writers {
    json: Option<JsonWriter<BufWriter<io::Stdout>>>,
    saved: Option<PlanWriter>,
}

impl Writers {
    fn write(&mut self, message: PlannedMessage) -> io::Result<()> {
        let record = MessageRecord::from_planned(message, self.saved.is_some());
        if let Some(json) = &mut self.json {
            json.message(&record)?;
        }
        if let Some(saved) = &mut self.saved {
            saved.message(&record)?;
        }
        Ok(())
    }
}

/// Messages handed to the writer thread at a time.
const BATCH: usize = 512;

/// The writer thread and the batch being filled for it.
struct Background {
    batch: Vec<PlannedMessage>,
    sender: mpsc::SyncSender<Vec<PlannedMessage>>,
    thread: thread::JoinHandle<io::Result<Writers>>,
}

impl Background {
    fn spawn(mut writers: Writers) -> Self {
        let (sender, receiver) = mpsc::sync_channel::<Vec<PlannedMessage>>(8);
        let thread = thread::spawn(move || {
            for batch in receiver {
                batch
                    .into_iter()
                    .try_for_each(|message| writers.write(message))?;
            }
            Ok(writers)
        });
        Self {
            batch: Vec::with_capacity(BATCH),
            sender,
            thread,
        }
    }

    fn push(&mut self, message: PlannedMessage) -> io::Result<()> {
        self.batch.push(message);
        if self.batch.len() < BATCH {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        // A closed channel means the writer failed: its error comes back from `finish`.
        self.sender
            .send(full)
            .map_err(|_| io::Error::other("the plan writer stopped"))
    }

    fn finish(self) -> anyhow::Result<Writers> {
        let _ = self.sender.send(self.batch);
        drop(self.sender);
        let writers = self
            .thread
            .join()
            .map_err(|_| anyhow::anyhow!("the plan writer thread panicked"))??;
        Ok(writers)
    }
}

/// Every output of one plan run, fed message by message.
struct Sinks {
    shown: Shown,
    markdown: Option<(PathBuf, MarkdownPlan)>,
    background: Option<Background>,
    saved_path: Option<PathBuf>,
}

impl Sinks {
    fn open(args: &PlanArgs, header: &PlanHeader) -> anyhow::Result<Self> {
        let markdown_to_stdout = args.markdown.as_deref() == Some(Path::new("-"));
        let shown = match args.json || markdown_to_stdout {
            true => Shown::Nothing,
            false => Shown::Human(HumanPlan::new()),
        };
        let json = match args.json {
            true => Some(JsonWriter::begin(
                BufWriter::with_capacity(WRITE_BUFFER, io::stdout()),
                header,
            )?),
            false => None,
        };
        let saved = match &args.out {
            Some(path) => Some(
                PlanWriter::create(path, header)
                    .with_context(|| format!("cannot write the plan `{}`", path.display()))?,
            ),
            None => None,
        };
        let background = match json.is_some() || saved.is_some() {
            true => Some(Background::spawn(Writers { json, saved })),
            false => None,
        };
        let markdown = args
            .markdown
            .clone()
            .map(|path| (path, MarkdownPlan::new()));
        Ok(Self {
            shown,
            markdown,
            background,
            saved_path: args.out.clone(),
        })
    }

    fn add(&mut self, message: PlannedMessage) -> io::Result<()> {
        let is_shown = matches!(self.shown, Shown::Human(_)) || self.markdown.is_some();
        if is_shown {
            let record = MessageRecord::from_planned(message.clone(), false);
            if let Shown::Human(human) = &mut self.shown {
                human.add(&record);
            }
            if let Some((_, markdown)) = &mut self.markdown {
                markdown.add(&record);
            }
        }
        match &mut self.background {
            Some(background) => background.push(message),
            None => Ok(()),
        }
    }

    fn finish(self, header: &PlanHeader, outcome: &Outcome) -> anyhow::Result<()> {
        let failed = outcome.has_errors();
        let writers = self.background.map(Background::finish).transpose()?;
        let (json, saved) = match writers {
            Some(Writers { json, saved }) => (json, saved),
            None => (None, None),
        };
        if let Some(json) = json {
            json.finish(&outcome.summary, &outcome.diagnostics)?;
        }
        if let Shown::Human(human) = &self.shown
            && !failed
        {
            human.print(
                &mut io::stdout().lock(),
                header,
                &outcome.summary,
                Style::for_stdout(),
            )?;
        }

        if let Some((path, markdown)) = self.markdown {
            let comment = markdown.render(header, &outcome.summary, &outcome.diagnostics);
            write_markdown(&path, &comment)?;
        }
        if super::is_github_actions() {
            super::append_step_summary(&markdown::summary_table(header, &outcome.summary))
                .context("cannot append to $GITHUB_STEP_SUMMARY")?;
        }

        if let (Some(path), Some(saved)) = (self.saved_path, saved) {
            if failed {
                // A plan with errors must never be applied: leave no file that looks usable.
                drop(saved);
                let _ = std::fs::remove_file(&path);
            } else {
                saved
                    .finish(&outcome.summary, &outcome.inputs)
                    .with_context(|| format!("cannot write the plan `{}`", path.display()))?;
                eprintln!(
                    "saved the plan to {}: apply it with `campaign apply {}`",
                    path.display(),
                    path.display()
                );
            }
        }
        Ok(())
    }
}

fn write_markdown(path: &Path, comment: &str) -> anyhow::Result<()> {
    if path == Path::new("-") {
        let mut stdout = io::stdout().lock();
        stdout.write_all(comment.as_bytes())?;
        return Ok(stdout.flush()?);
    }
    let mut file = crate::private::create_file(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    file.write_all(comment.as_bytes())?;
    Ok(())
}
