//! How a run shows itself: a progress bar on a terminal, JSON lines with `--json`.
//!
//! Without a terminal and without `--json`, only failures and unknown outcomes are logged
//! (as warnings, on stderr). Labels are masked numbers; nothing here ever sees a secret.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::events::{Event, EventSink};

/// Renders a run's events.
#[derive(Debug)]
pub struct Progress {
    mode: Mode,
    sent: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
    unknown: AtomicU64,
}

#[derive(Debug)]
enum Mode {
    /// One JSON object per line on stdout.
    Json(Mutex<std::io::Stdout>),
    Bar(ProgressBar),
    /// Logs only what needs attention.
    Quiet,
}

impl Progress {
    /// JSON lines when `json`, a bar of `total` sends on a terminal, else quiet.
    pub fn new(json: bool, total: u64) -> Self {
        let mode = match (json, std::io::stderr().is_terminal()) {
            (true, _) => Mode::Json(Mutex::new(std::io::stdout())),
            (false, true) => Mode::Bar(bar(total)),
            (false, false) => Mode::Quiet,
        };
        Self {
            mode,
            sent: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            unknown: AtomicU64::new(0),
        }
    }

    /// Clears the bar, leaving the terminal to the final summary.
    pub fn finish(&self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }

    fn counts(&self) -> String {
        format!(
            "sent {} · skipped {} · failed {} · unknown {}",
            self.sent.load(Ordering::Relaxed),
            self.skipped.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.unknown.load(Ordering::Relaxed)
        )
    }

    fn count(&self, event: &Event) {
        let counter = match event {
            Event::Sent { .. } => &self.sent,
            Event::Skipped { .. } => &self.skipped,
            Event::Failed { .. } => &self.failed,
            Event::Unknown { .. } => &self.unknown,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

fn bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} {bar:30} {pos}/{len} {per_sec:>8} eta {eta:>4}  {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A line for a message that needs attention, or `None`.
fn attention(event: &Event) -> Option<String> {
    match event {
        Event::Failed {
            row, label, error, ..
        } => Some(format!("row {row} ({label}) failed: {error}")),
        Event::Unknown {
            row, label, reason, ..
        } => Some(format!("row {row} ({label}) outcome unknown: {reason}")),
        Event::Halted { detail, .. } => Some(format!("halted: {detail}")),
        Event::Waiting { until, deferred } => Some(format!(
            "waiting until {until} for {deferred} recipients outside their send window"
        )),
        _ => None,
    }
}

impl EventSink for Progress {
    fn emit(&self, event: &Event) {
        self.count(event);
        match &self.mode {
            Mode::Json(stdout) => {
                if let (Ok(line), Ok(mut out)) = (serde_json::to_string(event), stdout.lock()) {
                    let _ = writeln!(out, "{line}");
                }
            }
            Mode::Bar(bar) => {
                if matches!(
                    event,
                    Event::Sent { .. }
                        | Event::Skipped { .. }
                        | Event::Failed { .. }
                        | Event::Unknown { .. }
                ) {
                    bar.inc(1);
                    bar.set_message(self.counts());
                }
                if let Some(line) = attention(event) {
                    bar.println(line);
                }
            }
            Mode::Quiet => {
                if let Some(line) = attention(event) {
                    log::warn!("{line}");
                }
            }
        }
    }
}
