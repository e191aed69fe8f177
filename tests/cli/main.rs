//! Integration tests that drive the real `campaign` binary against a loopback sandbox.

mod apply;
mod crash;
mod sandbox_proc;
mod status;
