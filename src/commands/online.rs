//! Online checks before a plan: does the inbox exist, is the creator one of its members,
//! is its number toll-free (no group MMS then), and what does a Heymarket template say.
//!
//! They run only when credentials are set and `--offline` is not given; the plan always
//! says which it was. Each lookup is one rate-limited request.

use std::sync::Arc;
use std::time::Duration;

use crate::campaign::{Audience, Campaign, Content};
use crate::diagnostic::Diagnostic;
use crate::heymarket::auth::{
    Credentials, DEFAULT_BASE_URL, ENV_API_KEY, ENV_BASE_URL, ENV_SECRET_ID, ENV_SECRET_KEY,
};
use crate::heymarket::client::Client;
use crate::heymarket::types::{Inbox, Team, is_toll_free};
use crate::plan;
use crate::send::limiter::RateGate;

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
        return Ok(offline_because(
            "offline (--offline): inbox, creator and inbox number not checked",
        ));
    }
    let Some(credentials) = Credentials::from_env()? else {
        return Ok(offline_because(&format!(
            "offline: no credentials set ({ENV_SECRET_ID} + {ENV_SECRET_KEY}, or {ENV_API_KEY}); inbox, creator and inbox number not checked"
        )));
    };
    check_against_api(campaign, credentials)
}

fn offline_because(reason: &str) -> OnlineResult {
    OnlineResult {
        checks: vec![reason.to_owned()],
        ..OnlineResult::default()
    }
}

/// The online checks, for the synchronous `plan` command.
fn check_against_api(
    campaign: &Campaign,
    credentials: Credentials,
) -> anyhow::Result<OnlineResult> {
    let base_url = std::env::var(ENV_BASE_URL).unwrap_or_else(|_| DEFAULT_BASE_URL.to_owned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let gate = Arc::new(RateGate::new(campaign.send.rate.per_minute()));
        let client = Client::new(&base_url, credentials, gate, Duration::from_secs(30))?;
        Ok(verify(&client, campaign).await)
    })
}

/// Checks the campaign's inbox, creator and template against the API `client` speaks to.
pub async fn verify(client: &Client, campaign: &Campaign) -> OnlineResult {
    let mut result = OnlineResult {
        is_online: true,
        ..OnlineResult::default()
    };
    let failed = |what: &str, error: &dyn std::fmt::Display| {
        Diagnostic::error(
            &campaign.path,
            format!("online check failed: could not {what}: {error}"),
        )
        .with_hint("check the credentials and HEYMARKET_BASE_URL, or plan with `--offline`")
    };

    match client.inboxes().await {
        Ok(inboxes) => check_inbox(campaign, &inboxes, &mut result),
        Err(error) => result.diagnostics.push(failed("list the inboxes", &error)),
    }
    match client.team().await {
        Ok(team) => check_creator_in_team(campaign, &team, &mut result),
        Err(error) => result.diagnostics.push(failed("read the team", &error)),
    }
    if let Content::TemplateId(id) = campaign.message.content {
        match client.template(id).await {
            Ok(template) => {
                result
                    .checks
                    .push(format!("Heymarket template {id} `{}` found", template.name));
                result.options.heymarket_template_text = Some(template.content.text);
            }
            Err(error) => result
                .diagnostics
                .push(failed(&format!("read template {id}"), &error)),
        }
    }
    result
}

fn check_inbox(campaign: &Campaign, inboxes: &[Inbox], result: &mut OnlineResult) {
    let Some(inbox) = inboxes.iter().find(|inbox| inbox.id == campaign.inbox) else {
        let known: Vec<String> = inboxes
            .iter()
            .map(|inbox| format!("{} ({})", inbox.id, inbox.name))
            .collect();
        result.diagnostics.push(
            Diagnostic::error(
                &campaign.path,
                format!(
                    "inbox {} does not exist for these credentials",
                    campaign.inbox
                ),
            )
            .with_hint(format!("the inboxes are: {}", known.join(", "))),
        );
        return;
    };
    let number = inbox
        .phone
        .clone()
        .or_else(|| inbox.phones.first().cloned())
        .unwrap_or_default();
    result.checks.push(format!(
        "online: inbox {} `{}` ({number}) found",
        inbox.id, inbox.name
    ));

    if !inbox.members.is_empty() && !inbox.members.contains(&campaign.creator) {
        result.diagnostics.push(
            Diagnostic::error(
                &campaign.path,
                format!(
                    "creator {} is not a member of inbox {}",
                    campaign.creator, inbox.id
                ),
            )
            .with_hint(format!(
                "the inbox's members are {:?}; `creator` is a member id",
                inbox.members
            )),
        );
    }

    let toll_free = std::iter::once(&number)
        .chain(&inbox.phones)
        .any(|phone| is_toll_free(phone));
    match (toll_free, &campaign.audience) {
        (true, Audience::Group { .. }) => result.diagnostics.push(
            Diagnostic::error(
                &campaign.path,
                format!(
                    "group MMS cannot be sent from inbox {}: its number is toll-free",
                    inbox.id
                ),
            )
            .with_hint("use a 10DLC or short-code inbox for group MMS, or send individually"),
        ),
        (true, _) => result.checks.push("inbox number is toll-free".to_owned()),
        (false, _) => result
            .checks
            .push("inbox number is not toll-free".to_owned()),
    }
}

fn check_creator_in_team(campaign: &Campaign, team: &Team, result: &mut OnlineResult) {
    match team
        .members
        .iter()
        .find(|member| member.id == campaign.creator)
    {
        Some(member) => result.checks.push(format!(
            "creator {} `{}` is a team member",
            member.id, member.name
        )),
        None => result.diagnostics.push(
            Diagnostic::error(
                &campaign.path,
                format!(
                    "creator {} is not a member of team `{}`",
                    campaign.creator, team.name
                ),
            )
            .with_hint("`creator` is a member id from GET /v1/team"),
        ),
    }
}
