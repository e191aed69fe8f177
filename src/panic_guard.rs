//! Containing a library's panic on input it should have refused.
//!
//! A few dependencies assert where they should return an error: minijinja 2 panics compiling
//! `{% import "x" as 4 %}` and rendering `x is divisibleby(0)` (both found by fuzzing), redb
//! 2 on a journal shorter than its header says. Such calls run through [`catch_silently`],
//! which turns the panic into `None` so the caller can report the input as bad. The panic
//! is not printed, so the user sees the caller's error and not a backtrace: the first call
//! installs a panic hook that stays quiet on a thread inside a guarded call and hands
//! every other panic to the hook that was there before. It is cheap enough for every
//! render. Our own code never relies on this: it returns errors.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

/// Installs the quiet-when-guarded hook, once.
static HOOK: Once = Once::new();

thread_local! {
    /// Whether this thread is inside [`catch_silently`].
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `call`; a panic inside it comes back as `None`, without being printed.
pub fn catch_silently<T>(call: impl FnOnce() -> T) -> Option<T> {
    HOOK.call_once(|| {
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.get() {
                before(info);
            }
        }));
    });

    let was_guarded = GUARDED.replace(true);
    let outcome = catch_unwind(AssertUnwindSafe(call));
    GUARDED.set(was_guarded);
    outcome.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_none_and_a_value_passes_through() {
        assert_eq!(catch_silently(|| 7), Some(7));
        let panicked: Option<()> = catch_silently(|| panic!("a library assertion"));
        assert_eq!(panicked, None);
    }
}
