//! Heymarket's API as this tool uses it: wire types, credentials and the HTTP client.
//!
//! The sandbox serves the same wire types, so client and imitation cannot drift apart.

pub mod auth;
pub mod client;
pub mod secret;
pub mod server_clock;
pub mod types;
