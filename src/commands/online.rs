//! Online checks before a plan: does the inbox exist, is the creator one of its members,
//! is its number toll-free (no group MMS then), and what does a Heymarket template say.
//!
//! They run only when credentials are set and `--offline` is not given; the plan always
//! says which it was. Each lookup is one rate-limited request.

use crate::campaign::Campaign;
use crate::diagnostic::Diagnostic;
use crate::heymarket::auth::{Credentials, ENV_API_KEY, ENV_SECRET_ID, ENV_SECRET_KEY};
use crate::plan;

/// What the online checks found.
#[derive(Debug, Default)]
pub struct OnlineResult {
    pub is_online: bool,
    /// One line per check, or why none ran.
    pub checks: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
    pub options: plan::Options,
}

/// Runs the online checks, or says why the plan is offline.
pub fn online_checks(campaign: &Campaign, offline: bool) -> anyhow::Result<OnlineResult> {
    if offline {
        return Ok(offline_because("offline (--offline): inbox, creator and inbox number not checked"));
    }
    let Some(credentials) = Credentials::from_env()? else {
        return Ok(offline_because(&format!(
            "offline: no credentials set ({ENV_SECRET_ID} + {ENV_SECRET_KEY}, or {ENV_API_KEY}); inbox, creator and inbox number not checked"
        )));
    };
    check_against_api(campaign, credentials)
}

fn offline_because(reason: &str) -> OnlineResult {
    OnlineResult { checks: vec![reason.to_owned()], ..OnlineResult::default() }
}
