//! `campaign apply FILE|PLAN`: send what the plan showed, exactly once, and report it.
//!
//! Both forms send from a plan file. For a campaign file the plan is made now (into the
//! campaign's state folder), shown, and confirmed; a saved plan is first proven current: every
//! input's hash must match and every message must re-render to the fingerprint that was
//! reviewed. The send engine then works through the plan against the durable journal, and the
//! report joins the plan with the journal, row by row.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::sync::watch;

use super::failure::{self, Rerun};
use super::online;
use crate::campaign::{Audience, Campaign, Content};
use crate::cli::ApplyArgs;
use crate::exit::Exit;
use crate::heymarket::auth::{Credentials, DEFAULT_BASE_URL, ENV_BASE_URL};
use crate::heymarket::client::Client;
use crate::heymarket::types::SendRequest;
use crate::plan::json::MessageRecord;
use crate::plan::saved::{self, PlanWriter, SavedTrailer};
use crate::plan::{self, Status};
use crate::report::{ReportWriter, ResultRow};
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::send::clock::Clock;
use crate::send::engine::{self, EngineError, EngineOptions, HaltReason, RunSummary, SendItem};
use crate::send::limiter::RateGate;
use crate::send::progress::Progress;
use crate::send::retry::RetryPolicy;
use crate::state::Journal;
use crate::state::{Ledger, StateError};

pub fn run(args: ApplyArgs) -> anyhow::Result<Exit> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let file = args.file.clone();
    match runtime.block_on(apply(args)) {
        Err(error) if failure::is_disk_full(error.as_ref()) => {
            failure::print(error.as_ref(), &failure::disk_full(&file));
            Ok(Exit::Error)
        }
        result => result,
    }
}

async fn apply(args: ApplyArgs) -> anyhow::Result<Exit> {
    let is_saved_plan = saved::is_plan_file(&args.file);
    let campaign_file = match is_saved_plan {
        true => campaign_file_of(&args.file)?,
        false => args.file.clone(),
    };
    let Some(campaign) = super::load_campaign(&campaign_file) else {
        return Ok(Exit::Error);
    };

    let api = Api::connect(&args, &campaign).await?;
    let online = online::verify(&api.client, &campaign).await;
    super::report(&online.diagnostics);
    if online.diagnostics.iter().any(|d| d.is_error()) {
        return Ok(Exit::Error);
    }

    let rerun = Rerun {
        file: &args.file,
        campaign_file: &campaign_file,
    };
    let state_dir = state_dir(&args);
    let journal = match Journal::open(&state_dir, &campaign.name) {
        Ok(journal) => journal,
        Err(error) => {
            let hints = match error {
                StateError::Locked { .. } => vec![
                    "wait for the other run to finish; a crashed run releases the lock by itself"
                        .to_owned(),
                ],
                _ => failure::journal_unopened(&error, &state_dir.join(&campaign.name), rerun),
            };
            failure::print(&error, &hints);
            return Ok(Exit::Error);
        }
    };

    let (plan_path, to_send) = match is_saved_plan {
        true => {
            let trailer = check_saved_plan(&args.file, &campaign, &online.options)?;
            (args.file.clone(), trailer.summary.to_send)
        }
        false => {
            let plan_path = state_dir.join(&campaign.name).join("apply.plan");
            let Some(trailer) = plan_now(&campaign, &campaign_file, &plan_path, &online)? else {
                return Ok(Exit::Error);
            };
            if !confirm(&args, &trailer)? {
                eprintln!("apply cancelled: nothing was sent");
                return Ok(Exit::Error);
            }
            (plan_path, trailer.summary.to_send)
        }
    };

    let summary = match send(&args, &campaign, &api, &journal, &plan_path, to_send).await {
        Ok(summary) => summary,
        Err(error) if error.is::<EngineError>() => {
            let journal_dir = journal.path().parent().unwrap_or(&state_dir);
            failure::print(
                error.as_ref(),
                &failure::journal_stopped(error.as_ref(), journal_dir, rerun),
            );
            api.shutdown().await;
            return Ok(Exit::Error);
        }
        Err(error) => return Err(error),
    };

    let report_dir = report_dir(&args, &campaign);
    let written = write_report(&campaign, &journal, &report_dir, &plan_path, &summary);
    api.shutdown().await;
    if let Err(error) = written {
        eprintln!("\n{}", headline(&summary));
        let hints = failure::report_unwritten(error.as_ref(), &report_dir, journal.path(), rerun);
        failure::print(error.as_ref(), &hints);
        return Ok(Exit::Error);
    }
    Ok(finish(&summary, &report_dir, &campaign_file))
}

/// Where this run's journal lives. A sandbox rehearsal keeps its own, below the real one:
/// were it to share the real journal, a rehearsed recipient would read as "already sent"
/// and the real run would skip them.
fn state_dir(args: &ApplyArgs) -> PathBuf {
    match args.sandbox {
        true => args.state.path.join("sandbox"),
        false => args.state.path.clone(),
    }
}

/// The campaign file a saved plan was made from.
fn campaign_file_of(plan: &Path) -> anyhow::Result<PathBuf> {
    Ok(PathBuf::from(saved::header(plan)?.plan.campaign_file))
}

/// The client, and the in-process sandbox behind it with `--sandbox`.
struct Api {
    client: Client,
    sandbox: Option<Sandbox>,
}

impl Api {
    async fn connect(args: &ApplyArgs, campaign: &Campaign) -> anyhow::Result<Api> {
        let (base_url, credentials, sandbox) = match args.sandbox {
            true => {
                let config = SandboxConfig {
                    rate_limit_per_minute: sandbox_limit(args),
                    ..SandboxConfig::new()
                };
                let sandbox = Sandbox::start(config, ([127, 0, 0, 1], 0).into())
                    .await
                    .context("could not start the in-process sandbox")?;
                eprintln!(
                    "sandbox: sending to an in-process imitation of Heymarket at {}",
                    sandbox.base_url()
                );
                (sandbox.base_url(), sandbox.credentials(), Some(sandbox))
            }
            false => {
                let Some(credentials) = Credentials::from_env()? else {
                    bail!(
                        "no credentials: set HEYMARKET_SECRET_ID and HEYMARKET_SECRET_KEY (or HEYMARKET_API_KEY), or rehearse with `--sandbox`"
                    );
                };
                let base_url =
                    std::env::var(ENV_BASE_URL).unwrap_or_else(|_| DEFAULT_BASE_URL.to_owned());
                (base_url, credentials, None)
            }
        };

        let per_minute = rate_per_minute(args, campaign, &base_url)?;
        log::info!("sending to {base_url} at {per_minute:?} requests a minute (None: unlimited)");
        let gate = Arc::new(match per_minute {
            Some(per_minute) => RateGate::new(per_minute),
            None => RateGate::unlimited(),
        });
        let timeout = Duration::from_secs(args.timeout);
        let client = Client::new(&base_url, credentials, gate, timeout)?;
        Ok(Api { client, sandbox })
    }

    async fn shutdown(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// The in-process sandbox keeps Heymarket's 500/min limit unless `--rate` lifts the client's.
fn sandbox_limit(args: &ApplyArgs) -> Option<u32> {
    match args.rate.as_deref() {
        Some(_) => None,
        None => Some(crate::campaign::HEYMARKET_MAX_PER_MINUTE),
    }
}

/// Requests a minute (`None`: unlimited). Above Heymarket's 500 only against loopback.
fn rate_per_minute(
    args: &ApplyArgs,
    campaign: &Campaign,
    base_url: &str,
) -> anyhow::Result<Option<f64>> {
    let Some(text) = args.rate.as_deref() else {
        return Ok(Some(campaign.send.rate.per_minute()));
    };
    let per_minute = parse_rate(text)?;
    let above_limit =
        per_minute.is_none_or(|n| n > f64::from(crate::campaign::HEYMARKET_MAX_PER_MINUTE));
    if above_limit && !is_loopback(base_url) {
        bail!(
            "`--rate {text}` is above Heymarket's 500 requests a minute: allowed only against a loopback sandbox"
        );
    }
    Ok(per_minute)
}

/// `50/s`, `400/min` or `unlimited`.
fn parse_rate(text: &str) -> anyhow::Result<Option<f64>> {
    if text == "unlimited" {
        return Ok(None);
    }
    let parsed = text.split_once('/').and_then(|(count, unit)| {
        let count: f64 = count.parse().ok().filter(|n: &f64| *n > 0.0)?;
        match unit {
            "s" => Some(count * 60.0),
            "min" => Some(count),
            _ => None,
        }
    });
    match parsed {
        Some(per_minute) => Ok(Some(per_minute)),
        None => bail!("`--rate {text}` is not a rate: write `N/min`, `N/s` or `unlimited`"),
    }
}

fn is_loopback(base_url: &str) -> bool {
    let Ok(url) = url::Url::parse(base_url) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// Plans the campaign into `plan_path` and prints its summary. `None` when it has errors.
fn plan_now(
    campaign: &Campaign,
    campaign_file: &Path,
    plan_path: &Path,
    online: &online::OnlineResult,
) -> anyhow::Result<Option<SavedTrailer>> {
    let header = super::plan::header(
        campaign,
        campaign_file,
        online.checks.clone(),
        online.is_online,
    );
    let cannot = || format!("cannot write the plan `{}`", plan_path.display());
    let mut writer = PlanWriter::create(plan_path, &header).with_context(cannot)?;
    let mut human = crate::plan::human::HumanPlan::new();
    let outcome = plan::build(campaign, &online.options, &mut |message| {
        let record = MessageRecord::from_planned(message, true);
        human.add(&record);
        writer.message(&record)
    })
    .with_context(cannot)?;
    super::report(&outcome.diagnostics);
    if outcome.has_errors() {
        eprintln!("error: the plan has errors; nothing was sent");
        return Ok(None);
    }
    writer
        .finish(&outcome.summary, &outcome.inputs)
        .with_context(cannot)?;
    human.print(
        &mut io::stderr().lock(),
        &header,
        &outcome.summary,
        crate::style::Style::for_stderr(),
    )?;
    Ok(Some(SavedTrailer {
        summary: outcome.summary,
        inputs: outcome.inputs,
    }))
}

/// Asks before sending on a terminal; without one, `--auto-approve` is required.
fn confirm(args: &ApplyArgs, trailer: &SavedTrailer) -> anyhow::Result<bool> {
    if args.auto_approve || trailer.summary.to_send == 0 {
        return Ok(true);
    }
    if !io::stdin().is_terminal() {
        bail!(
            "apply asks for confirmation, and stdin is not a terminal: pass `--auto-approve` (or apply a saved plan)"
        );
    }
    eprint!(
        "\nSend {} messages? Only `yes` is accepted: ",
        trailer.summary.to_send
    );
    io::stderr().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// Refuses a saved plan whose inputs changed, or whose messages no longer render the same.
fn check_saved_plan(
    plan_path: &Path,
    campaign: &Campaign,
    options: &plan::Options,
) -> anyhow::Result<SavedTrailer> {
    let (_, trailer) = saved::read(plan_path, &mut |_| {})?;
    for input in &trailer.inputs {
        let now = std::fs::read(&input.path)
            .map(|bytes| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)))
            .unwrap_or_else(|_| "(missing)".to_owned());
        if now != input.sha256 {
            bail!(
                "the plan `{}` is stale: {} `{}` changed since it was made; run `campaign plan --out` again",
                plan_path.display(),
                input.role,
                input.path.display()
            );
        }
    }

    let mut saved_messages = saved::messages(plan_path)?;
    let mut mismatch: Option<u64> = None;
    plan::build(campaign, options, &mut |message| {
        let saved = saved_messages.next().and_then(|record| record.sha256);
        if mismatch.is_none() && saved.as_deref() != Some(message.fingerprint().as_str()) {
            mismatch = Some(message.row);
        }
        Ok(())
    })?;
    if saved_messages.next().is_some() && mismatch.is_none() {
        mismatch = Some(0);
    }
    match mismatch {
        Some(row) => bail!(
            "the plan `{}` is stale: row {row} no longer renders to the message that was planned; run `campaign plan --out` again",
            plan_path.display()
        ),
        None => Ok(trailer),
    }
}

async fn send(
    args: &ApplyArgs,
    campaign: &Campaign,
    api: &Api,
    journal: &Journal,
    plan_path: &Path,
    to_send: u64,
) -> anyhow::Result<RunSummary> {
    let clock = Clock::from_env()?;
    let options = EngineOptions {
        concurrency: usize::from(args.concurrency),
        window: rehearsal_window(args, campaign, &clock),
        no_wait: args.no_wait,
        retry: RetryPolicy {
            retry_unknown: args.retry_unknown || campaign.send.trust_local_id_dedupe,
            ..RetryPolicy::default()
        },
        max_consecutive_failures: campaign.send.max_consecutive_failures,
        max_failure_ratio: campaign.send.max_failure_ratio,
        clock,
    };
    let items = saved::messages(plan_path)?.filter_map(|record| send_item(campaign, record));

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: no new sends; waiting for those in flight");
            let _ = stop_tx.send(true);
        }
    });

    let progress = Progress::new(args.json, to_send);
    let summary = engine::run(&api.client, journal, items, &options, &progress, stop_rx).await?;
    progress.finish();
    Ok(summary)
}

/// The send window the run obeys. A sandbox rehearsal on the real clock reports windows but
/// does not wait for them, so a first run works at any hour; with `CAMPAIGN_NOW` set (a
/// rehearsal at a chosen time) it obeys them like a real send.
fn rehearsal_window(
    args: &ApplyArgs,
    campaign: &Campaign,
    clock: &Clock,
) -> crate::campaign::Window {
    let is_real_clock = matches!(clock, Clock::System);
    if args.sandbox && is_real_clock && campaign.send.window != crate::campaign::Window::Always {
        eprintln!(
            "sandbox: rehearsals do not wait for send windows (a real apply does); set CAMPAIGN_NOW to rehearse at a chosen time"
        );
        return crate::campaign::Window::Always;
    }
    campaign.send.window
}

/// The request for one planned message; `None` for rows that are not sent.
fn send_item(campaign: &Campaign, record: MessageRecord) -> Option<SendItem> {
    if record.status != Status::Send {
        return None;
    }
    let local_id = record.local_id.clone()?;
    let label = record.masked_target();
    let mut request = SendRequest {
        inbox_id: campaign.inbox,
        creator_id: campaign.creator,
        media_url: campaign
            .message
            .media_url
            .as_ref()
            .map(|url| url.to_string()),
        local_id: Some(local_id.clone()),
        private: campaign.message.private,
        ..SendRequest::default()
    };
    match &campaign.message.content {
        Content::TemplateId(id) => request.template_id = Some(*id),
        Content::Template(_) => request.text = record.text,
        Content::MediaOnly => {}
    }
    match &campaign.audience {
        Audience::Recipients(_) => {
            request.phone_number = record.phone_number;
            request.chat_id = record.chat_id;
        }
        Audience::List { list_id } => request.list_id = Some(*list_id),
        Audience::Group { .. } => request.targets = record.targets,
    }
    Some(SendItem {
        row: record.row,
        local_id,
        request,
        zones: record.timezones.to_vec(),
        label,
    })
}

/// Where this run's report goes: `--report`, or a new timestamped folder.
fn report_dir(args: &ApplyArgs, campaign: &Campaign) -> PathBuf {
    if let Some(dir) = &args.report {
        return dir.clone();
    }
    let mut stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    if args.sandbox {
        stamp.push_str("-sandbox");
    }
    PathBuf::from("reports").join(&campaign.name).join(stamp)
}

/// Writes the report into `dir`: every plan row joined with its journal entry.
fn write_report(
    campaign: &Campaign,
    journal: &Journal,
    dir: &Path,
    plan_path: &Path,
    summary: &RunSummary,
) -> anyhow::Result<()> {
    let entries = journal.entries()?;
    let cannot = || format!("cannot write the report to `{}`", dir.display());

    let mut report = ReportWriter::create(dir, &campaign.name).with_context(cannot)?;
    for record in saved::messages(plan_path)? {
        let entry = record.local_id.as_ref().and_then(|id| entries.get(id));
        report
            .add(&ResultRow::new(&record, entry))
            .with_context(cannot)?;
    }
    report.finish(&headline(summary)).with_context(cannot)?;

    if super::is_github_actions() {
        let markdown = std::fs::read_to_string(dir.join("summary.md"))?;
        super::append_step_summary(&markdown)?;
    }
    Ok(())
}

fn headline(summary: &RunSummary) -> String {
    let halted = match summary.halted {
        Some(reason) => format!(", halted ({})", halt_words(reason)),
        None => String::new(),
    };
    format!(
        "{} sent, {} already sent, {} failed, {} unknown{halted}",
        summary.sent, summary.already_sent, summary.failed, summary.unknown
    )
}

fn halt_words(reason: HaltReason) -> &'static str {
    match reason {
        HaltReason::Window => "recipients outside their send window, --no-wait",
        HaltReason::ErrorBudget => "the error budget ran out",
        HaltReason::Interrupted => "interrupted",
        HaltReason::Unauthorized => "credentials refused",
    }
}

/// Prints the outcome and decides the exit code.
fn finish(summary: &RunSummary, report_dir: &Path, campaign_file: &Path) -> Exit {
    eprintln!("\n{}", headline(summary));
    let skipped = summary.skipped_opted_out + summary.skipped_blocked;
    if skipped > 0 {
        eprintln!("  {skipped} skipped: opted out or blocked in Heymarket");
    }
    if summary.deferred + summary.pending > 0 {
        eprintln!(
            "  {} not sent yet: run the same `campaign apply` again to resume",
            summary.deferred + summary.pending
        );
    }
    eprintln!("report: {}", report_dir.display());
    if summary.unknown > 0 {
        eprintln!(
            "  = hint: {} messages may or may not have been sent; they will not be re-sent. Settle them with `campaign status {} --settle`",
            summary.unknown,
            campaign_file.display()
        );
    }
    match (summary.halted, summary.failed + summary.unknown) {
        (Some(HaltReason::Unauthorized), _) => Exit::Error,
        (Some(_), _) => Exit::Halted,
        (None, 0) => Exit::Success,
        (None, _) => Exit::Error,
    }
}
