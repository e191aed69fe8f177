//! Rendering: turning a campaign's template into one message per recipient, and what each
//! message costs to send.

pub mod segments;
