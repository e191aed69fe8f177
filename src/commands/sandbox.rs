//! `campaign sandbox`: serve the Heymarket imitation on loopback for rehearsals.
//!
//! Reads fixtures, credentials and fault settings, prints the environment a client needs on
//! stdout (the one place a secret may be printed, and only one the sandbox generated), then
//! serves until Ctrl-C or SIGTERM. It binds 127.0.0.1 only and never contacts Heymarket.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::heymarket::auth::{ENV_API_KEY, ENV_BASE_URL, ENV_SECRET_ID, ENV_SECRET_KEY};
use crate::heymarket::secret::Secret;
use crate::sandbox::{FaultConfig, Fixtures, Sandbox, SandboxConfig, generate_secret};

/// Options of `campaign sandbox`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Port to listen on (always on 127.0.0.1)
    #[arg(long, default_value_t = 4010)]
    pub port: u16,
    /// Fixtures YAML: team, inboxes, contacts, lists, templates, chats [default: built-in]
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
    /// Append every accepted message to this JSONL file (created 0600; an existing log is resumed)
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Requests allowed per rolling minute per credential; 0 turns the limit off
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub rate_limit: u32,
    /// Send a repeated `local_id` again instead of answering with the original message
    #[arg(long)]
    pub no_dedupe: bool,
    /// Seed of the fault RNG: the same seed fails the same requests
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Share of sends answered 500 with nothing recorded
    #[arg(long = "fail-500", value_name = "P", default_value_t = 0.0, value_parser = share)]
    pub fail_500: f64,
    /// Share of sends recorded and then answered 500 (the ambiguous fault)
    #[arg(long = "fail-500-after", value_name = "P", default_value_t = 0.0, value_parser = share)]
    pub fail_500_after: f64,
    /// Share of sends answered 503 with nothing recorded
    #[arg(long = "fail-503", value_name = "P", default_value_t = 0.0, value_parser = share)]
    pub fail_503: f64,
    /// Share of sends answered 429 (Retry-After: 1) with nothing recorded
    #[arg(long = "fail-429", value_name = "P", default_value_t = 0.0, value_parser = share)]
    pub fail_429: f64,
    /// Delay added to every send, in milliseconds
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of sends delayed by --slow-ms instead
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = share)]
    pub slow_share: f64,
    /// Delay of a slow send, in milliseconds
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub slow_ms: u64,
    /// Share of sends whose connection is reset before anything is recorded
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = share)]
    pub drop_before: f64,
    /// Share of sends recorded and then reset with no response (the ambiguous case)
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = share)]
    pub drop_after: f64,
    /// Run the sandbox's clock this many seconds ahead of this machine's (negative: behind),
    /// to rehearse a client whose clock is wrong: its tokens look expired or early
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub clock_offset: i64,
}

/// Where the sandbox's credentials came from, which decides what may be printed.
enum Origin {
    Generated,
    Environment,
}

/// Serves the sandbox until Ctrl-C or SIGTERM.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let (config, origin) = config_from(&args)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let sandbox = Sandbox::start(config.clone(), addr)
        .await
        .with_context(|| format!("could not start the sandbox on `{addr}`"))?;

    print_environment(&sandbox, &config, &origin);
    eprintln!(
        "sandbox listening on {} (rate limit: {}, dedupe: {}); Ctrl-C to stop",
        sandbox.base_url(),
        describe_limit(config.rate_limit_per_minute),
        if config.dedupe_local_id { "on" } else { "off" },
    );

    wait_for_stop().await?;
    let accepted = sandbox.messages().len();
    sandbox.shutdown().await;
    eprintln!("sandbox stopped after accepting {accepted} message(s)");
    Ok(())
}

fn config_from(args: &SandboxArgs) -> anyhow::Result<(SandboxConfig, Origin)> {
    let fixtures = match &args.fixtures {
        Some(path) => Fixtures::from_yaml_file(path)?,
        None => Fixtures::default(),
    };
    let (secret_id, secret_key, api_key, origin) = credentials_from_env()?;
    let config = SandboxConfig {
        fixtures,
        secret_id,
        secret_key,
        api_key,
        rate_limit_per_minute: Some(args.rate_limit).filter(|n| *n > 0),
        dedupe_local_id: !args.no_dedupe,
        faults: faults_from(args),
        log_path: args.log.clone(),
        clock_offset_secs: args.clock_offset,
        ..SandboxConfig::new()
    };
    Ok((config, origin))
}

fn faults_from(args: &SandboxArgs) -> FaultConfig {
    FaultConfig {
        seed: args.seed,
        error_500: args.fail_500,
        error_500_after_record: args.fail_500_after,
        error_503: args.fail_503,
        error_429: args.fail_429,
        latency: Duration::from_millis(args.latency_ms),
        slow_share: args.slow_share,
        slow_latency: Duration::from_millis(args.slow_ms),
        drop_before_share: args.drop_before,
        drop_after_share: args.drop_after,
    }
}

/// The API Secret and legacy key from the environment, or a generated Secret.
fn credentials_from_env() -> anyhow::Result<(String, Secret, Option<Secret>, Origin)> {
    let read = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let api_key = read(ENV_API_KEY).map(Secret::new);
    match (read(ENV_SECRET_ID), read(ENV_SECRET_KEY)) {
        (Some(id), Some(key)) => Ok((id, Secret::new(key), api_key, Origin::Environment)),
        (None, None) => {
            let (id, key) = generate_secret();
            let origin = match api_key {
                Some(_) => Origin::Environment,
                None => Origin::Generated,
            };
            Ok((id, key, api_key, origin))
        }
        _ => anyhow::bail!(
            "`{ENV_SECRET_ID}` is set but `{ENV_SECRET_KEY}` is not (or the other way round)\n\
             hint: set both, or neither to let the sandbox generate a pair"
        ),
    }
}

/// Prints `export` lines a shell can paste; secrets only when the sandbox made them up.
fn print_environment(sandbox: &Sandbox, config: &SandboxConfig, origin: &Origin) {
    println!("export {ENV_BASE_URL}={}", sandbox.base_url());
    match origin {
        Origin::Generated => {
            println!("export {ENV_SECRET_ID}={}", config.secret_id);
            println!("export {ENV_SECRET_KEY}={}", config.secret_key.expose());
        }
        Origin::Environment => {
            let names = match config.api_key {
                Some(_) if std::env::var(ENV_SECRET_ID).is_ok() => {
                    format!("{ENV_SECRET_ID}, {ENV_SECRET_KEY} and {ENV_API_KEY}")
                }
                Some(_) => ENV_API_KEY.to_owned(),
                None => format!("{ENV_SECRET_ID} and {ENV_SECRET_KEY}"),
            };
            eprintln!("sandbox accepts the credentials already in your environment ({names})");
        }
    }
}

fn describe_limit(limit: Option<u32>) -> String {
    limit.map_or_else(|| "off".to_owned(), |n| format!("{n}/min"))
}

async fn wait_for_stop() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("could not listen for SIGTERM")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("could not listen for Ctrl-C"),
        _ = terminate.recv() => Ok(()),
    }
}

/// A probability: a number from 0 to 1.
fn share(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("`{text}` is not between 0 and 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_must_be_probabilities() {
        assert_eq!(share("0.25"), Ok(0.25));
        assert!(share("1.5").is_err());
        assert!(share("half").is_err());
    }
}
