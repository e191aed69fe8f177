//! A bound on the time one message's rendering may take.
//!
//! Fuel bounds a template's instructions, not what each one costs: `2 in range(100000)` is
//! a single instruction that walks 100,000 numbers, and a loop of them ran for minutes on
//! the fuel one message is given (found by fuzzing). Compiling has no fuel at all, and
//! folds constants such as `(() * 10000000000) ~ ""`, which steps through ten billion
//! empty repetitions (found by fuzzing too). minijinja cannot be interrupted, so
//! the `campaign` binary [`enable`]s a watchdog: a thread that looks at the render in
//! progress ten times a second and, once one has run for [`RENDER_TIME`], stops the process
//! with an error naming the template's file and line, the row and the fix, as the memory
//! budget does. A program that does not enable it (the tests) is bounded by fuel alone; the
//! fuzz target's refusing memory budget bounds time as well (see [`super::memory`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, PoisonError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use super::memory::{Site, stop};

/// The longest one message's rendering (or a template's compiling) may run. A real SMS
/// template renders in microseconds; this leaves room for a loaded machine.
pub const RENDER_TIME: Duration = Duration::from_secs(5);

/// How often the watchdog looks.
const PERIOD: Duration = Duration::from_millis(100);

static ENABLED: AtomicBool = AtomicBool::new(false);
static START: Once = Once::new();
/// The renders in progress, one per rendering thread at most.
static RUNNING: Mutex<Vec<Running>> = Mutex::new(Vec::new());

/// A render in progress: where it is, for the error, and since when.
#[derive(Debug)]
struct Running {
    thread: ThreadId,
    started: Instant,
    file: PathBuf,
    line: usize,
    row: Option<u64>,
}

/// Bounds every render from now on by [`RENDER_TIME`]; the watchdog thread starts with the
/// first render, so a command that renders nothing starts no thread.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Runs `render` under the watchdog, if it is enabled.
pub(super) fn watched<T>(site: &Site<'_>, render: impl FnOnce() -> T) -> T {
    if !ENABLED.load(Ordering::Relaxed) {
        return render();
    }
    START.call_once(|| {
        // Without its thread the bound is gone, not the render: it goes on under fuel alone.
        let _ = thread::Builder::new()
            .name("render-watchdog".to_owned())
            .spawn(watch);
    });

    struct Finished(ThreadId);
    impl Drop for Finished {
        fn drop(&mut self) {
            running().retain(|render| render.thread != self.0);
        }
    }

    let thread = thread::current().id();
    running().push(Running {
        thread,
        started: Instant::now(),
        file: site.file.to_path_buf(),
        line: site.line,
        row: site.row,
    });
    let _finished = Finished(thread);
    render()
}

fn running() -> std::sync::MutexGuard<'static, Vec<Running>> {
    RUNNING.lock().unwrap_or_else(PoisonError::into_inner)
}

fn watch() {
    loop {
        thread::sleep(PERIOD);
        let late = running()
            .iter()
            .find(|render| render.started.elapsed() >= RENDER_TIME)
            .map(|render| (render.file.clone(), render.line, render.row));
        if let Some((file, line, row)) = late {
            let site = Site {
                file: &file,
                line,
                row,
            };
            stop(
                &site,
                &format!(
                    "takes more than {} s: the template repeats costly work",
                    RENDER_TIME.as_secs()
                ),
                "look for a test over a long sequence inside a loop, such as \
                 `{% for i in range(100000) if i in range(100000) %}`, or a sequence \
                 repeated a huge number of times, such as `() * 10000000000`; a message is \
                 at most 10 segments and needs neither",
            );
        }
    }
}
