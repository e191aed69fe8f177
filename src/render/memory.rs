//! A bound on the memory one message's rendering may take.
//!
//! Fuel bounds a template's instructions, not its bytes: `{% set s = s ~ s %}` written
//! thirty-four times builds a 16 GiB string in a few hundred instructions, and minijinja's
//! own limits stop only one repetition at a time. So the `campaign` binary installs
//! [`MemoryBudget`] as its allocator: while a render runs ([`bounded`]), it counts the
//! bytes that thread allocates and has not freed, and refuses to let them pass
//! [`RENDER_BYTES`].
//!
//! The engine cannot be stopped from inside an allocation, so the binary's budget
//! ([`MemoryBudget::stopping`]) stops the process: the error names the template's file
//! and line, the row and the fix, and the exit code is 1. That is no worse for `apply`
//! than a kill at that instant, which its journal is built to survive, and no
//! half-rendered message is ever sent. The fuzz target's budget
//! ([`MemoryBudget::refusing`]) refuses the allocation instead, for a nightly
//! alloc-error hook to turn into a panic it can catch ([`take_refused`] says so). A
//! program that installs neither (the tests) pays nothing and is bounded by nothing.
//!
//! The fuzz target has no watchdog thread (see [`super::watchdog`]): a refusal is the only
//! way it has to end a render early. So its budget also refuses the first allocation a
//! render makes once it has run for [`FUZZ_RENDER_TIME`]. That ends the costly single
//! operations fuel cannot, which allocate as they go: an empty sequence repeated ten
//! billion times while compiling, `(() * 10000000000) ~ ""`, makes a small allocation on
//! every repetition.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::ptr;
use std::time::{Duration, Instant};

use crate::diagnostic::Diagnostic;
use crate::exit::Exit;

/// The most one message's rendering may hold at once. A message is at most 10 segments
/// and a CSV row at most 1 MiB: real templates need a few kilobytes.
pub const RENDER_BYTES: isize = 64 << 20;

/// How long a render may run under the fuzz target's refusing budget: less than the
/// binary's watchdog allows, and well inside libFuzzer's 10 s timeout.
pub const FUZZ_RENDER_TIME: Duration = Duration::from_secs(2);

/// Where a bounded render is, for the error that stops one.
#[derive(Debug)]
pub struct Site<'a> {
    /// The file the template is in, and its first line there.
    pub file: &'a Path,
    pub line: usize,
    /// The CSV data row, when the message is one recipient's.
    pub row: Option<u64>,
}

/// The system allocator, counting what a bounded render on each thread holds.
#[derive(Debug)]
pub struct MemoryBudget {
    past_budget: PastBudget,
}

/// What happens to the allocation that would take a render past its budget.
#[derive(Debug, Clone, Copy)]
enum PastBudget {
    StopProcess,
    Refuse,
}

impl MemoryBudget {
    /// The binary's budget: a render past it stops the process with the error.
    pub const fn stopping() -> MemoryBudget {
        MemoryBudget {
            past_budget: PastBudget::StopProcess,
        }
    }

    /// The fuzz target's budget: the allocation past it fails (null), as if memory ran out.
    pub const fn refusing() -> MemoryBudget {
        MemoryBudget {
            past_budget: PastBudget::Refuse,
        }
    }

    /// Counts `bytes` (negative when freed) against the current render, if any; whether
    /// the allocation may go ahead.
    fn admit(&self, bytes: isize) -> bool {
        let Ok(site) = SITE.try_with(Cell::get) else {
            return true;
        };
        if site.is_null() {
            return true;
        }
        let held = HELD.get().saturating_add(bytes);
        let in_time = match self.past_budget {
            PastBudget::Refuse => bytes <= 0 || within_fuzz_time(),
            PastBudget::StopProcess => true,
        };
        if held <= RENDER_BYTES && in_time {
            HELD.set(held);
            return true;
        }

        // Out of the render first, so what follows allocates like any other code.
        SITE.set(ptr::null());
        match self.past_budget {
            PastBudget::Refuse => {
                REFUSED.set(true);
                false
            }
            PastBudget::StopProcess => {
                // SAFETY: `bounded` keeps `site` alive and registered only while its
                // `render` runs, and this is that thread, inside that call.
                #[allow(unsafe_code, reason = "reads the site `bounded` registered here")]
                let site = unsafe { &*site };
                exceeded(site)
            }
        }
    }
}

thread_local! {
    /// The render this thread is in, if any. Const-initialised and without a destructor,
    /// so the allocator may read it at any point of a thread's life.
    static SITE: Cell<*const Site<'static>> = const { Cell::new(ptr::null()) };
    /// Bytes allocated minus bytes freed on this thread since the render began.
    static HELD: Cell<isize> = const { Cell::new(0) };
    /// Set when a refusing budget failed an allocation on this thread.
    static REFUSED: Cell<bool> = const { Cell::new(false) };
    /// When the render on this thread began.
    static STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Whether the render on this thread is still within [`FUZZ_RENDER_TIME`]. Reading the
/// clock costs tens of nanoseconds, little beside an allocation in a fuzz build.
fn within_fuzz_time() -> bool {
    STARTED
        .get()
        .is_none_or(|started| started.elapsed() < FUZZ_RENDER_TIME)
}

/// Whether a refusing budget failed an allocation on this thread since last asked.
pub fn take_refused() -> bool {
    REFUSED.replace(false)
}

/// Runs `render` (or a compile, which folds constants) with its allocations on this
/// thread counted against [`RENDER_BYTES`], and its time watched (see [`super::watchdog`]).
pub fn bounded<T>(site: &Site<'_>, render: impl FnOnce() -> T) -> T {
    struct Restore(*const Site<'static>, isize, Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SITE.set(self.0);
            HELD.set(self.1);
            STARTED.set(self.2);
        }
    }

    let _restore = Restore(SITE.get(), HELD.get(), STARTED.get());
    SITE.set(ptr::from_ref(site).cast::<Site<'static>>());
    HELD.set(0);
    STARTED.set(Some(Instant::now()));
    super::watchdog::watched(site, render)
}

fn exceeded(site: &Site<'_>) -> ! {
    stop(
        site,
        &format!(
            "needs more than {} MiB: the template builds a value without bound",
            RENDER_BYTES >> 20
        ),
        "look for a value built from itself, such as `{% set s = s ~ s %}` repeated or in \
         a loop, or a large repetition such as `\"x\" * 99999999`; a message is at most \
         10 segments",
    )
}

/// Stops the process because the render at `site` went past a bound: prints the error
/// (`rendering row 3's message <what>`) at the template's line, with `hint`, and exits 1.
pub(super) fn stop(site: &Site<'_>, what: &str, hint: &str) -> ! {
    let whose = match site.row {
        Some(row) => format!("row {row}'s message"),
        None => "the message".to_owned(),
    };
    let source = crate::text_file::read(site.file).unwrap_or_default();
    let error = Diagnostic::error(site.file, format!("rendering {whose} {what}"))
        .at(&source, site.line, 1, 1)
        .with_hint(hint);
    eprintln!("{error}");
    std::process::exit(Exit::Error as i32)
}

fn size(bytes: usize) -> isize {
    isize::try_from(bytes).unwrap_or(isize::MAX)
}

#[allow(unsafe_code, reason = "a global allocator is an unsafe trait")]
// SAFETY: every call goes to `System` unchanged, or fails with null as `GlobalAlloc`
// allows; the counting beside it touches only this thread's cells, never the memory
// being handed out.
unsafe impl GlobalAlloc for MemoryBudget {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !self.admit(size(layout.size())) {
            return ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !self.admit(size(layout.size())) {
            return ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        self.admit(-size(layout.size()));
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !self.admit(size(new_size) - size(layout.size())) {
            return ptr::null_mut();
        }
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(block, layout, new_size) }
    }
}
