//! Recipients: the CSV audience read row by row, phone numbers, suppressions and time zones.
//!
//! Everything here is pure input handling: reading and checking what the user supplied.
//! Deciding what to send, and when, belongs to the plan.

pub mod csv;
pub mod phone;
pub mod region;
pub mod suppress;
pub mod timezone;
