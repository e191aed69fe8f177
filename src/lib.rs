//! `campaign`: plan and send version-controlled SMS/MMS campaigns through Heymarket.
//!
//! The pipeline, one module a stage: the campaign file is loaded and validated
//! ([`campaign`]), its recipients read ([`recipients`]), every message rendered and counted
//! ([`render`]), the whole planned ([`plan`]) and, by `apply`, sent ([`send`]) with durable
//! [`state`] and a results [`report`]. [`heymarket`] speaks the API; [`sandbox`] imitates it.

pub mod campaign;
pub mod commands;
pub mod diagnostic;
pub mod heymarket;
pub mod recipients;
pub mod sandbox;
pub mod state;
