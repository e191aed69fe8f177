//! The sandbox: a faithful local imitation of the Heymarket API, like stripe-mock.
//!
//! It serves the endpoints `campaign` uses with the documented rules, the client's own wire
//! types and JWT verification, a rolling per-credential rate limit, `local_id` dedupe and
//! seeded fault injection, and records every accepted message in memory and in an optional
//! JSONL log. `campaign sandbox` serves it on loopback for rehearsals; tests, benchmarks and
//! `campaign apply --sandbox` run it in-process through [`Sandbox`]. It never talks to the
//! real API and never delivers a message to anyone. Its choices where Heymarket's behaviour
//! is unknown are listed in `docs/sandbox.md`.

mod auth;
mod config;
mod faults;
mod fixtures;
mod history;
mod rate_limit;
mod reply;
mod routes;
mod server;
mod shared;
mod store;
mod validate;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{
    DEFAULT_FUTURE_SKEW_SECS, DEFAULT_RATE_LIMIT_PER_MINUTE, FaultConfig, SandboxConfig,
    generate_secret,
};
pub use fixtures::{
    ContactsFixture, ConversationFixture, FixtureError, Fixtures, InboxFixture, ListFixture,
    TeamFixture, TemplateFixture, is_e164_digits,
};
pub use routes::REQUEST_ID_HEADER;
pub use store::{RecordedMessage, read_log};

use crate::heymarket::auth::Credentials;
use shared::Shared;
use store::Store;

/// A running sandbox. Stop it with [`Sandbox::shutdown`] to wait until connections have
/// drained; merely dropping it stops it too, without waiting.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    credentials: Credentials,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Checks the fixtures, opens the log, binds `addr` (port 0 picks a free port) and
    /// starts serving on the current tokio runtime.
    pub async fn start(config: SandboxConfig, addr: SocketAddr) -> std::io::Result<Sandbox> {
        config
            .fixtures
            .check()
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
        let store = Store::open(config.log_path.as_deref())?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;

        let credentials = Credentials::Secret {
            id: config.secret_id.clone(),
            key: config.secret_key.clone(),
        };
        let shared = Arc::new(Shared::new(config, store));
        let (shutdown, watcher) = watch::channel(false);
        let router = routes::router(shared.clone());
        let task = tokio::spawn(server::serve(listener, router, watcher));

        Ok(Sandbox {
            addr,
            credentials,
            shared,
            shutdown,
            task: Some(task),
        })
    }

    /// The sandbox's HTTP service for `config` without a listener or a log, for driving
    /// requests in-process (the fuzz targets do). Faults and the rate limit apply as configured.
    pub fn service(config: SandboxConfig) -> std::io::Result<axum::Router> {
        config
            .fixtures
            .check()
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
        let store = Store::open(None)?;
        Ok(routes::router(Arc::new(Shared::new(config, store))))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a client is pointed at: `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The API Secret a client signs its tokens with.
    pub fn credentials(&self) -> Credentials {
        self.credentials.clone()
    }

    /// Every accepted message, in the order accepted.
    pub fn messages(&self) -> Vec<RecordedMessage> {
        self.shared.messages()
    }

    /// How many HTTP requests arrived, refused and faulted ones included.
    pub fn request_count(&self) -> u64 {
        self.shared.request_count()
    }

    /// Stops accepting, lets requests in flight finish (up to a few seconds) and returns.
    pub async fn shutdown(mut self) {
        // Sending fails only when the server task already ended; then there is nothing to stop.
        let _ = self.shutdown.send(true);
        let Some(task) = self.task.take() else {
            return;
        };
        if let Err(error) = task.await {
            log::warn!("sandbox server task ended abnormally: {error}");
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
