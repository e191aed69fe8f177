//! Throughput benchmark: an in-process sandbox (rate limit off, log on) on its own runtime,
//! driven over loopback by keep-alive HTTP/1.1 connections on another runtime.
//!
//! `cargo run --release --example sandbox_load -- [--connections 64] [--seconds 10]
//! [--server-threads 2] [--client-threads 2] [--no-log]`; prints accepted sends per second.
//! `scripts/bench-sandbox.sh` is the reproducible way to run it.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use campaign::heymarket::auth::Credentials;
use campaign::sandbox::{Sandbox, SandboxConfig};
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Parser)]
struct Options {
    /// Concurrent keep-alive connections
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// How long to send for
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Worker threads of the sandbox's runtime
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Worker threads of the load generator's runtime
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Do not write the JSONL log (it is written, per message, by default)
    #[arg(long)]
    no_log: bool,
}

/// What every connection shares: where to send, the token, and the tallies.
struct Load {
    addr: SocketAddr,
    authorization: String,
    stop: AtomicBool,
    accepted: AtomicU64,
    refused: AtomicU64,
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let log_dir = tempfile::tempdir()?;
    let server = runtime(options.server_threads, "sandbox")?;
    let sandbox = server.block_on(start_sandbox(&options, log_dir.path()))?;

    let load = Arc::new(Load {
        addr: sandbox.local_addr(),
        authorization: bearer(&sandbox.credentials())?,
        stop: AtomicBool::new(false),
        accepted: AtomicU64::new(0),
        refused: AtomicU64::new(0),
    });
    let elapsed =
        runtime(options.client_threads, "load")?.block_on(drive(&options, load.clone()))?;

    let recorded = sandbox.messages().len();
    server.block_on(sandbox.shutdown());
    let accepted = load.accepted.load(Ordering::Relaxed);
    let per_second = accepted as f64 / elapsed.as_secs_f64();
    println!(
        "{accepted} sends accepted ({recorded} recorded, {} refused) in {:.2} s over {} \
         connections: {per_second:.0} sends/s",
        load.refused.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        options.connections,
    );
    Ok(())
}

fn runtime(threads: usize, name: &str) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
}

async fn start_sandbox(options: &Options, dir: &std::path::Path) -> anyhow::Result<Sandbox> {
    let config = SandboxConfig {
        rate_limit_per_minute: None,
        log_path: (!options.no_log).then(|| dir.join("sent.jsonl")),
        ..SandboxConfig::new()
    };
    let addr: SocketAddr = "127.0.0.1:0".parse()?;
    Ok(Sandbox::start(config, addr).await?)
}

fn bearer(credentials: &Credentials) -> anyhow::Result<String> {
    let now = jiff::Timestamp::now().as_second();
    Ok(credentials.bearer(now)?.expose().to_owned())
}

async fn drive(options: &Options, load: Arc<Load>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for connection in 0..options.connections {
        workers.spawn(connection_loop(load.clone(), connection));
    }
    tokio::time::sleep(Duration::from_secs(options.seconds)).await;
    load.stop.store(true, Ordering::Relaxed);
    while let Some(result) = workers.join_next().await {
        result.context("a load connection panicked")??;
    }
    Ok(started.elapsed())
}

/// Sends over one keep-alive connection, one request at a time, until told to stop.
///
/// The client is a minimal HTTP/1.1 writer and reader, so that the load generator costs as
/// little CPU as possible on a machine it shares with the sandbox it measures.
async fn connection_loop(load: Arc<Load>, connection: usize) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(load.addr).await?;
    stream.set_nodelay(true)?;
    let mut request = Vec::with_capacity(1024);
    let mut response = Vec::with_capacity(4096);

    let mut sequence = 0u64;
    while !load.stop.load(Ordering::Relaxed) {
        sequence += 1;
        request.clear();
        write_request(&mut request, &load.authorization, connection, sequence)?;
        stream.write_all(&request).await?;

        let status = read_response(&mut stream, &mut response).await?;
        let tally = if (200..300).contains(&status) {
            &load.accepted
        } else {
            &load.refused
        };
        tally.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// One send with a fresh `local_id`, as raw HTTP/1.1.
fn write_request(
    out: &mut Vec<u8>,
    authorization: &str,
    connection: usize,
    sequence: u64,
) -> std::io::Result<()> {
    let body = format!(
        r#"{{"inbox_id":42,"creator_id":8,"phone_number":"15105550101","text":"Spring sale starts today. Reply STOP to opt out.","local_id":"load-{connection}-{sequence}"}}"#
    );
    write!(
        out,
        "POST /v1/message/send HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: {authorization}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one response (the server answers with `content-length`) and returns its status.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<u16> {
    buffer.clear();
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        fill(stream, buffer).await?;
    };

    let head = std::str::from_utf8(&buffer[..head_end])?;
    let status = head.get(9..12).and_then(|code| code.parse().ok());
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let is_length = name.eq_ignore_ascii_case("content-length");
        is_length
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    });
    let (Some(status), Some(length)) = (status, length) else {
        anyhow::bail!("unexpected response head: {head}");
    };

    while buffer.len() < head_end + 4 + length {
        fill(stream, buffer).await?;
    }
    Ok(status)
}

async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<()> {
    if stream.read_buf(buffer).await? == 0 {
        anyhow::bail!("the sandbox closed the connection");
    }
    Ok(())
}
