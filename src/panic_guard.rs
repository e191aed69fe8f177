//! Containing a library's panic on input it should have refused.
//!
//! A few dependencies assert where they should return an error: minijinja 2 panics compiling
//! `{% import "x" as 4 %}` (found by fuzzing), redb 2 on a journal shorter than its header
//! says. Such calls run through [`catch_silently`], which turns the panic into `None` so the
//! caller can report the input as bad. The default panic hook is silenced meanwhile, so the
//! user sees the caller's error and not a backtrace; calls are serialised so the hook is
//! always restored. Our own code never relies on this: it returns errors.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

/// Held while the hook is swapped, so two guarded calls cannot interleave their swaps.
static HOOK: Mutex<()> = Mutex::new(());

/// Runs `call`; a panic inside it comes back as `None`, without being printed.
pub fn catch_silently<T>(call: impl FnOnce() -> T) -> Option<T> {
    let _swap = HOOK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(call));
    std::panic::set_hook(hook);
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
