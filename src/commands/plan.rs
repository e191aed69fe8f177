//! `campaign plan FILE`: exactly what `apply` would send, as text, JSON, Markdown or a file.
//!
//! The plan is built once and streamed to every output asked for, so the formats cannot
//! disagree. Online checks (inbox, creator, toll-free number) run only with credentials and
//! without `--offline`; the output always says which it was.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::campaign::Campaign;
use crate::cli::PlanArgs;
use crate::exit::Exit;
use crate::plan::human::HumanPlan;
use crate::plan::json::{JsonWriter, MessageRecord, PlanHeader};
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

/// Where the stdout form of the plan goes.
enum Primary {
    Human(HumanPlan),
    Json(JsonWriter<BufWriter<io::Stdout>>),
    /// `--markdown -`: the comment is the stdout.
    MarkdownOnly,
}

/// Every output of one plan run, fed message by message.
struct Sinks {
    primary: Primary,
    markdown: Option<(PathBuf, MarkdownPlan)>,
    saved: Option<(PathBuf, PlanWriter)>,
}

impl Sinks {
    fn open(args: &PlanArgs, header: &PlanHeader) -> anyhow::Result<Self> {
        let markdown_to_stdout = args.markdown.as_deref() == Some(Path::new("-"));
        let primary = match (args.json, markdown_to_stdout) {
            (true, _) => Primary::Json(JsonWriter::begin(BufWriter::new(io::stdout()), header)?),
            (false, true) => Primary::MarkdownOnly,
            (false, false) => Primary::Human(HumanPlan::new()),
        };
        let saved = match &args.out {
            Some(path) => {
                let writer = PlanWriter::create(path, header)
                    .with_context(|| format!("cannot write the plan `{}`", path.display()))?;
                Some((path.clone(), writer))
            }
            None => None,
        };
        let markdown = args
            .markdown
            .clone()
            .map(|path| (path, MarkdownPlan::new()));
        Ok(Self {
            primary,
            markdown,
            saved,
        })
    }

    fn add(&mut self, message: PlannedMessage) -> io::Result<()> {
        let record = MessageRecord::from_planned(message, self.saved.is_some());
        match &mut self.primary {
            Primary::Human(human) => human.add(&record),
            Primary::Json(writer) => writer.message(&record)?,
            Primary::MarkdownOnly => {}
        }
        if let Some((_, markdown)) = &mut self.markdown {
            markdown.add(&record);
        }
        if let Some((_, saved)) = &mut self.saved {
            saved.message(&record)?;
        }
        Ok(())
    }

    fn finish(self, header: &PlanHeader, outcome: &Outcome) -> anyhow::Result<()> {
        let failed = outcome.has_errors();
        match self.primary {
            Primary::Human(human) if !failed => human.print(
                &mut io::stdout().lock(),
                header,
                &outcome.summary,
                Style::for_stdout(),
            )?,
            Primary::Human(_) | Primary::MarkdownOnly => {}
            Primary::Json(writer) => {
                writer.finish(&outcome.summary, &outcome.diagnostics)?;
            }
        }

        if let Some((path, markdown)) = self.markdown {
            let comment = markdown.render(header, &outcome.summary, &outcome.diagnostics);
            write_markdown(&path, &comment)?;
        }
        if super::is_github_actions() {
            super::append_step_summary(&markdown::summary_table(header, &outcome.summary))
                .context("cannot append to $GITHUB_STEP_SUMMARY")?;
        }

        if let Some((path, saved)) = self.saved {
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
