//! `campaign status FILE`: where a campaign's sends stand, from its journal.
//!
//! With `--settle`, each `unknown` message is looked up in Heymarket's conversation history
//! by its `local_id`: found means sent (recorded with its message id); not found among the
//! conversation's latest 50 messages means it never went out, and it is recorded `failed`
//! so the next `apply` sends it. Settling needs the journal's lock, so it waits for no run.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;

use crate::campaign::Campaign;
use crate::cli::StatusArgs;
use crate::exit::Exit;
use crate::heymarket::auth::{Credentials, DEFAULT_BASE_URL, ENV_BASE_URL};
use crate::heymarket::client::Client;
use crate::plan::{self, Target};
use crate::report::entry_status_word;
use crate::send::limiter::RateGate;
use crate::state::Journal;
use crate::state::{Entry, EntryStatus, Ledger, Record};

pub fn run(args: &StatusArgs) -> anyhow::Result<Exit> {
    let Some(campaign) = super::load_campaign(&args.file) else {
        return Ok(Exit::Error);
    };
    if args.settle {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(settle(args, &campaign))?;
    }

    let Some(entries) = Journal::read_only(&args.state.path, &campaign.name)? else {
        if args.json {
            // Machines get the same document as for a journal with nothing in it.
            let document =
                serde_json::json!({ "campaign": campaign.name, "counts": {}, "unknown": [] });
            println!("{}", serde_json::to_string_pretty(&document)?);
            return Ok(Exit::Success);
        }
        println!(
            "campaign `{}` has no journal under `{}`: nothing was applied yet",
            campaign.name,
            args.state.path.display()
        );
        return Ok(Exit::Success);
    };
    let counts = count(&entries);
    if args.json {
        let unknown: Vec<&Entry> = entries.values().filter(|entry| is_unknown(entry)).collect();
        let document =
            serde_json::json!({ "campaign": campaign.name, "counts": counts, "unknown": unknown });
        println!("{}", serde_json::to_string_pretty(&document)?);
        return Ok(Exit::Success);
    }

    println!(
        "campaign `{}`: {} messages in the journal",
        campaign.name,
        entries.len()
    );
    for (status, number) in &counts {
        println!("  {status:<18} {number}");
    }
    let unknown: Vec<&Entry> = entries.values().filter(|entry| is_unknown(entry)).collect();
    if !unknown.is_empty() {
        println!("\nunknown (may or may not have been sent; never re-sent automatically):");
        for entry in &unknown {
            println!(
                "  row {:<6} {}  {}",
                entry.row,
                entry.local_id,
                entry.error.as_deref().unwrap_or("")
            );
        }
        println!(
            "\nsettle them from Heymarket's history: campaign status {} --settle",
            args.file.display()
        );
    }
    Ok(Exit::Success)
}

fn is_unknown(entry: &Entry) -> bool {
    matches!(entry.status, EntryStatus::Unknown | EntryStatus::InFlight)
}

fn count(entries: &BTreeMap<String, Entry>) -> BTreeMap<&'static str, u64> {
    let mut counts = BTreeMap::new();
    for entry in entries.values() {
        *counts.entry(entry_status_word(entry.status)).or_default() += 1;
    }
    counts
}

/// Looks every unknown message up in its conversation's history and records what it found.
async fn settle(args: &StatusArgs, campaign: &Campaign) -> anyhow::Result<()> {
    let Some(credentials) = Credentials::from_env()? else {
        bail!(
            "`--settle` looks messages up in Heymarket: set HEYMARKET_SECRET_ID and HEYMARKET_SECRET_KEY (or HEYMARKET_API_KEY)"
        );
    };
    let base_url = std::env::var(ENV_BASE_URL).unwrap_or_else(|_| DEFAULT_BASE_URL.to_owned());
    let gate = Arc::new(RateGate::new(campaign.send.rate.per_minute()));
    let client = Client::new(&base_url, credentials, gate, Duration::from_secs(30))?;
    let journal = Journal::open(&args.state.path, &campaign.name)?;

    let phones = phones_by_local_id(campaign)?;
    let unknown: Vec<Entry> = journal
        .entries()?
        .into_values()
        .filter(is_unknown)
        .collect();
    let mut settled = 0;
    for entry in &unknown {
        let Some(phone) = phones.get(&entry.local_id) else {
            eprintln!(
                "row {}: cannot be settled from history (a list, group or chat send has no phone to look up)",
                entry.row
            );
            continue;
        };
        let history = client.history(phone, campaign.inbox).await?;
        let found = history
            .iter()
            .find(|message| message.local_id.as_deref() == Some(entry.local_id.as_str()));
        let outcome = match found {
            Some(message) => Record::Outcome {
                local_id: entry.local_id.clone(),
                status: EntryStatus::Sent,
                message_id: Some(message.id),
                request_id: entry.request_id.clone(),
                sent_at: message.date.clone(),
                error: None,
            },
            None => Record::Outcome {
                local_id: entry.local_id.clone(),
                status: EntryStatus::Failed,
                message_id: None,
                request_id: entry.request_id.clone(),
                sent_at: None,
                error: Some(
                    "not in Heymarket's conversation history when settled: not sent".to_owned(),
                ),
            },
        };
        journal.append(vec![outcome]).await?;
        settled += 1;
    }
    eprintln!("settled {settled} of {} unknown messages", unknown.len());
    Ok(())
}

/// The phone number behind each `local_id`, from an offline re-plan of the campaign.
fn phones_by_local_id(campaign: &Campaign) -> anyhow::Result<HashMap<String, String>> {
    let mut phones = HashMap::new();
    plan::build(campaign, &plan::Options::default(), &mut |message| {
        if let (Target::Phone(phone), Some(local_id)) = (&message.target, &message.local_id) {
            phones.insert(local_id.clone(), phone.digits().to_owned());
        }
        Ok(())
    })?;
    Ok(phones)
}
