//! A scripted stand-in for Heymarket's send API on loopback, for the engine's tests.
//!
//! It answers `POST /v1/message/send` from a script (accept, any status, 429 with or without
//! `Retry-After`, a slow answer, a dropped connection), can refuse the next requests with 401,
//! answers `POST /v1/contact/status` from a table, and records when each send arrived and
//! for which `local_id`. It is not the sandbox: it imitates only what the engine tests need.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use campaign::heymarket::types::{ContactStatus, ContactStatusRequest, SendRequest, SendResponse};

/// How the stub answers one send request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with a fresh message id.
    Accept,
    /// This status, with a JSON error body.
    Status(u16),
    /// 429, with this `Retry-After` value if any.
    RateLimited(Option<&'static str>),
    /// Accept, after this long.
    Slow(Duration),
    /// Send 200 headers, then drop the connection before the body.
    Drop,
}

/// One send request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub at: Instant,
    pub local_id: Option<String>,
}

#[derive(Default)]
struct Script {
    /// Replies for any send, in order, after the per-`local_id` ones and before the default.
    next: VecDeque<Reply>,
    by_local_id: HashMap<String, VecDeque<Reply>>,
    default: Option<Reply>,
    opted_out: Vec<String>,
    blocked: Vec<String>,
}

#[derive(Default)]
struct Shared {
    script: Mutex<Script>,
    arrivals: Mutex<Vec<Arrival>>,
    unauthorized: AtomicU32,
    requests: AtomicU32,
    next_id: AtomicU64,
}

/// A running stub server.
pub struct Stub {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Stub {
    /// Starts a stub on a free loopback port.
    pub async fn start() -> Stub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        Stub::serve(listener)
    }

    /// Starts a stub on `listener`.
    pub fn serve(listener: tokio::net::TcpListener) -> Stub {
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Shared::default());
        shared.next_id.store(9_980_000, Ordering::SeqCst);
        let app = axum::Router::new()
            .route("/v1/message/send", post(send))
            .route("/v1/contact/status", post(contact_status))
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Stub { addr, shared }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next sends, whatever their `local_id`, get these replies in order.
    pub fn then(&self, replies: impl IntoIterator<Item = Reply>) -> &Stub {
        self.script().next.extend(replies);
        self
    }

    /// Sends of `local_id` get these replies in order, before any shared ones.
    pub fn for_local_id(&self, local_id: &str, replies: impl IntoIterator<Item = Reply>) -> &Stub {
        self.script()
            .by_local_id
            .entry(local_id.to_owned())
            .or_default()
            .extend(replies);
        self
    }

    /// Every send not otherwise scripted gets `reply` (normally [`Reply::Accept`]).
    pub fn always(&self, reply: Reply) -> &Stub {
        self.script().default = Some(reply);
        self
    }

    /// The next `count` requests of any kind are answered 401.
    pub fn unauthorized(&self, count: u32) -> &Stub {
        self.shared.unauthorized.store(count, Ordering::SeqCst);
        self
    }

    pub fn opted_out(&self, phone: &str) -> &Stub {
        self.script().opted_out.push(phone.to_owned());
        self
    }

    /// Every send request that arrived, in order.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.shared.arrivals.lock().expect("arrivals").clone()
    }

    /// How many send requests carried `local_id`.
    pub fn sends_of(&self, local_id: &str) -> usize {
        self.arrivals()
            .iter()
            .filter(|arrival| arrival.local_id.as_deref() == Some(local_id))
            .count()
    }

    /// Every request of any kind, 401s included.
    pub fn requests(&self) -> u32 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.shared.script.lock().expect("script")
    }
}

fn refuse_unauthorized(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("Bearer "));
    let scripted = shared
        .unauthorized
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok();
    (scripted || !bearer).then(|| error(401, "unauthorized"))
}

async fn send(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = refuse_unauthorized(&shared, &headers) {
        return refusal;
    }
    let request: SendRequest = serde_json::from_slice(&body).expect("send body");
    shared.arrivals.lock().expect("arrivals").push(Arrival {
        at: Instant::now(),
        local_id: request.local_id.clone(),
    });

    let reply = {
        let mut script = shared.script.lock().expect("script");
        let own = request
            .local_id
            .as_ref()
            .and_then(|id| script.by_local_id.get_mut(id))
            .and_then(VecDeque::pop_front);
        own.or_else(|| script.next.pop_front())
            .or_else(|| script.default.clone())
            .unwrap_or(Reply::Accept)
    };
    answer(&shared, reply).await
}

async fn answer(shared: &Shared, reply: Reply) -> Response {
    match reply {
        Reply::Accept => accept(shared),
        Reply::Slow(delay) => {
            tokio::time::sleep(delay).await;
            accept(shared)
        }
        Reply::Status(status) => error(status, "scripted failure for 15105553344"),
        Reply::RateLimited(retry_after) => {
            let mut response = error(429, "rate limited");
            if let Some(value) = retry_after {
                let value = header::HeaderValue::from_static(value);
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Reply::Drop => {
            let failing = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other("dropped"))
            });
            Response::new(Body::from_stream(failing))
        }
    }
}

fn accept(shared: &Shared) -> Response {
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let body = SendResponse {
        id,
        date: Some("2026-03-08T13:00:00Z".to_owned()),
        convo_id: None,
        queued: Some(true),
        gallery_url: None,
    };
    let mut response = Json(body).into_response();
    let request_id = header::HeaderValue::from_str(&format!("req-{id}")).expect("header");
    response.headers_mut().insert("x-request-id", request_id);
    response
}

fn error(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).expect("status");
    let body = serde_json::json!({"error": "scripted", "message": message});
    (status, [("x-request-id", "req-error")], Json(body)).into_response()
}

async fn contact_status(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(request): Json<ContactStatusRequest>,
) -> Response {
    if let Some(refusal) = refuse_unauthorized(&shared, &headers) {
        return refusal;
    }
    let script = shared.script.lock().expect("script");
    Json(ContactStatus {
        id: Some(1),
        unsubscribed: script.opted_out.contains(&request.phone),
        blocked: script.blocked.contains(&request.phone),
        phone: request.phone,
    })
    .into_response()
}
