//! The `campaign` binary end to end: one test binary, one module per command family.

mod apply;
mod bad_input;
mod clock_skew;
mod crash;
mod csv_dialects;
mod disk_full;
mod online;
mod plan;
mod sandbox_proc;
mod secrets;
mod status;
mod support;
mod validate;
