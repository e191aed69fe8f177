//! Sending: turning planned messages into Heymarket sends, exactly once.
//!
//! Separate pieces, one a file: the [`limiter`] paces requests, [`retry`] decides what a
//! failure leads to, [`window`] says when each recipient may be texted, and the [`engine`]
//! runs them all against the journal, reporting through [`events`]. Masking of personal data
//! in shared text lives in [`redact`].

pub mod limiter;
pub mod redact;
pub mod retry;
pub mod window;
