//! Rendering: each recipient's text through one template path, what it costs in SMS
//! segments, whether it says how to opt out, and its `local_id`; and the bounds on the
//! memory and the time one rendering may take.

pub mod local_id;
pub mod memory;
pub mod optout;
pub mod segments;
pub mod template;
pub mod watchdog;
