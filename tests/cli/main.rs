//! The `campaign` binary end to end: one test binary, one module per command family.

mod csv_dialects;
mod plan;
mod support;
mod validate;
