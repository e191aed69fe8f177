//! Rendering: each recipient's text, its SMS segments and its `local_id`.

pub mod local_id;
pub mod optout;
pub mod template;
