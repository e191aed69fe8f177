//! `campaign`: plan and send version-controlled SMS/MMS campaigns through Heymarket.
//!
//! The pipeline, one module a stage: the campaign file is loaded and validated
//! ([`campaign`]), its recipients read ([`recipients`]), every message rendered and counted
//! ([`render`]), the whole planned ([`plan`]) and, by `apply`, sent ([`send`]) with a durable
//! journal ([`state`]) and a results [`report`]. [`heymarket`] speaks the API; [`sandbox`]
//! imitates it. [`commands`] holds one file per subcommand.

pub mod campaign;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod exit;
#[doc(hidden)]
pub mod fuzzing;
pub mod heymarket;
pub mod logging;
pub mod panic_guard;
pub mod plan;
pub mod private;
pub mod recipients;
pub mod render;
pub mod report;
pub mod sandbox;
pub mod send;
pub mod state;
pub mod style;
pub mod text_file;
