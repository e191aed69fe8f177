//! Sending: turning planned messages into Heymarket sends, exactly once.
//!
//! Separate pieces, one a file: the [`limiter`] paces requests, [`retry`] decides what a
//! failure leads to, [`window`] says when each recipient may be texted, [`budget`] says when
//! failures should halt the run, and the [`engine`] runs them all against the journal (one
//! message's attempts live in `attempt`, the run's totals in `tally`), reporting through
//! [`events`]. [`clock`] is the run's
//! "now"; masking of personal data in shared text lives in [`redact`].

mod attempt;
pub mod budget;
pub mod clock;
pub mod engine;
pub mod events;
pub mod limiter;
pub mod progress;
pub mod redact;
pub mod retry;
mod tally;
pub mod window;
