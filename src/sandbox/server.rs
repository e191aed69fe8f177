//! Connections: accepting them on loopback, serving HTTP/1.1 with keep-alive, resetting one
//! on purpose, and closing all gracefully on shutdown.
//!
//! A fault that must look like a network failure cannot be an HTTP status, so a response
//! marked [`ResetConnection`] is never written: the connection's socket is given a zero
//! linger and closed, which sends a TCP reset. This module serves; it makes no decisions.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::routes::ResetConnection;

/// How long shutdown waits for requests in flight before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Accepts connections until `shutdown` turns true, then drains them.
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, router.clone(), shutdown.clone()));
                }
                Err(error) => {
                    log::warn!("sandbox could not accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }

    drop(listener);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        connections.abort_all();
    }
}

async fn connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let Some((stream, handle)) = split_handle(stream) else {
        return;
    };
    let reset_requested = Arc::new(Notify::new());
    let service = {
        let reset_requested = reset_requested.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            respond(router.clone(), request, reset_requested.clone())
        })
    };
    let mut conn = Box::pin(http1::Builder::new().serve_connection(TokioIo::new(stream), service));

    let mut is_shutting_down = *shutdown.borrow();
    if is_shutting_down {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    log::debug!("sandbox connection ended: {error}");
                }
                return;
            }
            () = reset_requested.notified() => break,
            _ = shutdown.changed(), if !is_shutting_down => {
                is_shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }

    // A zero linger turns the close of the last descriptor into a TCP reset.
    if let Err(error) = socket2::SockRef::from(&handle).set_linger(Some(Duration::ZERO)) {
        log::debug!("sandbox could not arm a reset: {error}");
    }
    // Hyper's descriptor closes first, then the handle's: the last close sends the reset.
    drop(conn);
    drop(handle);
}

/// Runs a request through the router; a response marked for reset is never returned.
async fn respond(
    router: Router,
    request: Request<Incoming>,
    reset_requested: Arc<Notify>,
) -> Result<Response, Infallible> {
    let response = router.oneshot(request.map(axum::body::Body::new)).await?;
    if response.extensions().get::<ResetConnection>().is_none() {
        return Ok(response);
    }
    reset_requested.notify_one();
    std::future::pending().await
}

/// A second descriptor of the same socket, so its options can be set after hyper owns it.
fn split_handle(stream: TcpStream) -> Option<(TcpStream, std::net::TcpStream)> {
    let prepared = (|| {
        stream.set_nodelay(true)?;
        let std_stream = stream.into_std()?;
        let handle = std_stream.try_clone()?;
        Ok::<_, std::io::Error>((TcpStream::from_std(std_stream)?, handle))
    })();
    prepared
        .map_err(|error| log::warn!("sandbox could not prepare a connection: {error}"))
        .ok()
}
