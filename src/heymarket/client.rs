//! The HTTP client for Heymarket's API: one pooled connection set, one rate gate, one
//! cached token.
//!
//! It owns the wire: signing (a JWT re-signed once it is a minute old, and once more after a
//! 401), waiting on the [`RateGate`] before every request, timeouts, and turning every
//! answer into an [`Accepted`] value or an [`ApiError`] that keeps what the retry decision
//! needs (was the request ever written? what status? `Retry-After`? `X-Request-Id`?). It
//! never retries anything but that one 401, and never decides whether a message is sent:
//! `send::retry` and `send::engine` do. No credential or phone number ever reaches an error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, DATE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::auth::Credentials;
use super::secret::Secret;
use super::server_clock::ServerClock;
use super::types::{
    ContactStatus, ContactStatusRequest, HistoryMessage, Inbox, InboxesResponse, SendRequest,
    SendResponse, Team, Template,
};
use crate::send::limiter::RateGate;
use crate::send::redact::scrub;

/// The per-request timeout when the caller names none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A token older than this is re-signed: well inside Heymarket's 300 s lifetime.
const TOKEN_REFRESH_SECS: i64 = 60;

/// Error messages from a response body are cut to this many characters.
const MAX_MESSAGE_CHARS: usize = 300;

/// Why a request did not end in a usable 2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The connection could not be made: the request never left this machine.
    #[error("could not reach Heymarket: {reason}")]
    NotSent { reason: String },
    /// Heymarket answered with a status other than 2xx.
    #[error("Heymarket answered {status}: {message}")]
    Status {
        status: u16,
        message: String,
        request_id: Option<String>,
        retry_after: Option<Duration>,
    },
    /// The request may have been accepted: a timeout, a connection dropped after the request
    /// was written, or a 2xx answer that could not be read.
    #[error("no usable answer: {reason}")]
    Ambiguous {
        reason: String,
        request_id: Option<String>,
    },
    /// The credentials were refused twice, the second time with a freshly signed token.
    #[error(
        "Heymarket refused the credentials (401), even after re-signing: check \
         HEYMARKET_SECRET_ID and HEYMARKET_SECRET_KEY (or HEYMARKET_API_KEY)"
    )]
    Unauthorized { request_id: Option<String> },
    /// No token could be made from the credentials: nothing was sent.
    #[error("could not sign a token from the credentials")]
    Credentials,
}

impl ApiError {
    /// The `X-Request-Id` of the answer, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Status { request_id, .. }
            | ApiError::Ambiguous { request_id, .. }
            | ApiError::Unauthorized { request_id } => request_id.as_deref(),
            ApiError::NotSent { .. } | ApiError::Credentials => None,
        }
    }

    /// The HTTP status, when Heymarket answered one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            ApiError::Unauthorized { .. } => Some(401),
            _ => None,
        }
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("`{url}` is not an http(s) base URL")]
    BaseUrl { url: String },
    #[error("could not set up the HTTP client")]
    Build(#[source] reqwest::Error),
}

/// A send Heymarket accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Heymarket's message id.
    pub id: u64,
    /// The answer's `X-Request-Id`.
    pub request_id: Option<String>,
    /// The message date Heymarket reported, as it wrote it.
    pub date: Option<String>,
}

/// A parsed 2xx answer and its request id.
struct Answer<T> {
    body: T,
    request_id: Option<String>,
}

/// A bearer header value and when (unix seconds) it was signed.
#[derive(Debug)]
struct CachedToken {
    header: Secret,
    signed_at: i64,
}

/// Speaks Heymarket's API. Cheap to share by reference across workers.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    gate: Arc<RateGate>,
    token: Mutex<Option<CachedToken>>,
    clock: ServerClock,
}

impl Client {
    /// A client for `base_url` (`https://api.heymarket.com`, or a sandbox), pacing every
    /// request through `gate` and giving up on an answer after `timeout`.
    pub fn new(
        base_url: &str,
        credentials: Credentials,
        gate: Arc<RateGate>,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        let parsed = url::Url::parse(base_url).map_err(|_| ClientError::BaseUrl {
            url: base_url.to_owned(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::BaseUrl {
                url: base_url.to_owned(),
            });
        }

        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            // Shorter than common load-balancer idle timeouts, so a send is rarely written
            // onto a connection the server is closing (that would make its fate unknown).
            .pool_idle_timeout(Duration::from_secs(30))
            // A redirected POST could be replayed as something else: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("campaign/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::Build)?;

        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            credentials,
            gate,
            token: Mutex::new(None),
            clock: ServerClock::default(),
        })
    }

    /// The gate this client waits on, shared with whoever must pause it.
    pub fn gate(&self) -> &Arc<RateGate> {
        &self.gate
    }

    /// Forgets the cached token, so the next request signs a new one.
    pub fn invalidate_token(&self) {
        *self.lock_token() = None;
    }

    /// `POST /v1/message/send`: one send. Success is any 2xx whose body has an `id`.
    pub async fn send(&self, request: &SendRequest) -> Result<Accepted, ApiError> {
        let answer: Answer<SendResponse> = self
            .execute(Method::POST, "/v1/message/send", Some(request))
            .await?;
        Ok(Accepted {
            id: answer.body.id,
            request_id: answer.request_id,
            date: answer.body.date,
        })
    }

    /// `GET /v1/inboxes`, in either of its documented shapes.
    pub async fn inboxes(&self) -> Result<Vec<Inbox>, ApiError> {
        let answer: Answer<InboxesResponse> = self
            .execute(Method::GET, "/v1/inboxes", None::<&()>)
            .await?;
        Ok(answer.body.into_inboxes())
    }

    /// `GET /v1/team`: the team and its members.
    pub async fn team(&self) -> Result<Team, ApiError> {
        let answer = self.execute(Method::GET, "/v1/team", None::<&()>).await?;
        Ok(answer.body)
    }

    /// `POST /v1/contact/status` for `phone` (E.164 digits, no `+`).
    pub async fn contact_status(&self, phone: &str) -> Result<ContactStatus, ApiError> {
        let request = ContactStatusRequest {
            phone: phone.to_owned(),
        };
        let answer = self
            .execute(Method::POST, "/v1/contact/status", Some(&request))
            .await?;
        Ok(answer.body)
    }

    /// `GET /v1/messages`: the latest messages of `phone`'s conversation in `inbox`.
    pub async fn history(&self, phone: &str, inbox: u64) -> Result<Vec<HistoryMessage>, ApiError> {
        let path = format!("/v1/messages?phoneNumber={phone}&inboxID={inbox}");
        let answer: Answer<HistoryResponse> = self.execute(Method::GET, &path, None::<&()>).await?;
        Ok(answer.body.into_messages())
    }

    /// `GET /v1/template/{id}`.
    pub async fn template(&self, id: u64) -> Result<Template, ApiError> {
        let path = format!("/v1/template/{id}");
        let answer = self.execute(Method::GET, &path, None::<&()>).await?;
        Ok(answer.body)
    }

    /// Sends one request, re-signing and repeating it once if it is answered 401 (twice when
    /// the second 401 reveals that this machine's clock is off: see [`ServerClock`]).
    async fn execute<T, B>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Answer<T>, ApiError>
    where
        T: DeserializeOwned,
        B: Serialize + ?Sized,
    {
        let url = format!("{}{path}", self.base);
        let mut resigns = 0;
        loop {
            self.gate.wait().await;

            let mut request = self.http.request(method.clone(), &url);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = self.authorize(request, resigns > 0)?.send().await;
            let response = response.map_err(transport_error)?;

            if response.status() == StatusCode::UNAUTHORIZED {
                let request_id = request_id(response.headers());
                let date = response.headers().get(DATE).and_then(|v| v.to_str().ok());
                let clock_corrected = self.clock.observe(date);
                if resigns >= 2 || (resigns == 1 && !clock_corrected) {
                    return Err(ApiError::Unauthorized { request_id });
                }
                log::debug!("401 answered (request id {request_id:?}): re-signing");
                resigns += 1;
                continue;
            }
            return read_answer(response).await;
        }
    }

    /// Adds the `Authorization` header, from the cache unless `fresh` is asked for.
    fn authorize(&self, request: RequestBuilder, fresh: bool) -> Result<RequestBuilder, ApiError> {
        let bearer = self.bearer(fresh)?;
        let mut value =
            HeaderValue::from_str(bearer.expose()).map_err(|_| ApiError::Credentials)?;
        value.set_sensitive(true);
        Ok(request.header(AUTHORIZATION, value))
    }

    /// The bearer header value: cached while younger than a minute.
    fn bearer(&self, fresh: bool) -> Result<Secret, ApiError> {
        let now = self.clock.now();
        let mut token = self.lock_token();
        if !fresh
            && let Some(cached) = token.as_ref()
            && (0..TOKEN_REFRESH_SECS).contains(&(now - cached.signed_at))
        {
            return Ok(cached.header.clone());
        }

        let header = self
            .credentials
            .bearer(now)
            .map_err(|_| ApiError::Credentials)?;
        *token = Some(CachedToken {
            header: header.clone(),
            signed_at: now,
        });
        Ok(header)
    }

    fn lock_token(&self) -> std::sync::MutexGuard<'_, Option<CachedToken>> {
        self.token
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `GET /v1/messages` answers an array; accept an object wrapping one too.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum HistoryResponse {
    Bare(Vec<HistoryMessage>),
    Wrapped { messages: Vec<HistoryMessage> },
}

impl HistoryResponse {
    fn into_messages(self) -> Vec<HistoryMessage> {
        match self {
            HistoryResponse::Bare(messages) | HistoryResponse::Wrapped { messages } => messages,
        }
    }
}

/// Classifies a request that got no HTTP answer at all: one that was never built or never
/// connected did not leave; anything later may have reached Heymarket.
fn transport_error(error: reqwest::Error) -> ApiError {
    let error = error.without_url();
    if error.is_connect() || error.is_builder() {
        return ApiError::NotSent {
            reason: describe(&error),
        };
    }

    let reason = if error.is_timeout() {
        "no answer within the timeout".to_owned()
    } else {
        describe(&error)
    };
    ApiError::Ambiguous {
        reason,
        request_id: None,
    }
}

/// Turns an HTTP answer into a parsed 2xx body or a [`ApiError::Status`].
async fn read_answer<T: DeserializeOwned>(response: Response) -> Result<Answer<T>, ApiError> {
    let status = response.status();
    let request_id = request_id(response.headers());
    let retry_after = retry_after(response.headers());
    let body = response.bytes().await;

    if !status.is_success() {
        let message = match &body {
            Ok(bytes) => error_message(bytes, status),
            Err(_) => status_text(status),
        };
        return Err(ApiError::Status {
            status: status.as_u16(),
            message,
            request_id,
            retry_after,
        });
    }

    let unreadable = |reason: String| ApiError::Ambiguous {
        reason: format!("{} answer unreadable: {}", status.as_u16(), scrub(&reason)),
        request_id: request_id.clone(),
    };
    let bytes = body.map_err(|error| unreadable(describe(&error.without_url())))?;
    let body = serde_json::from_slice(&bytes).map_err(|error| unreadable(error.to_string()))?;
    Ok(Answer { body, request_id })
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-request-id")?.to_str().ok()?;
    Some(value.trim().to_owned()).filter(|id| !id.is_empty())
}

/// `Retry-After` as delay-seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }

    let date = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = date.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// A message string from any error body: a JSON `message`/`error` field, the JSON itself,
/// or the text. Long digit runs (phone numbers) are masked.
fn error_message(body: &[u8], status: StatusCode) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => json_message(&json),
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    if text.is_empty() {
        return status_text(status);
    }
    scrub(&text).chars().take(MAX_MESSAGE_CHARS).collect()
}

fn json_message(json: &serde_json::Value) -> String {
    let field = |name: &str| json.get(name).and_then(serde_json::Value::as_str);
    match (field("message"), field("error")) {
        (Some(message), Some(kind)) => format!("{kind}: {message}"),
        (Some(text), None) | (None, Some(text)) => text.to_owned(),
        (None, None) => json.to_string(),
    }
}

fn status_text(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("unexpected status")
        .to_lowercase()
}

/// An error and its causes on one line.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    scrub(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_any_shape_become_a_message() {
        let status = StatusCode::BAD_REQUEST;
        let json = br#"{"error":"bad_data","field":"text","message":"text is empty"}"#;
        assert_eq!(error_message(json, status), "bad_data: text is empty");
        assert_eq!(
            error_message(br#"{"errors":[1]}"#, status),
            r#"{"errors":[1]}"#
        );
        assert_eq!(error_message(b" Denied \n", status), "Denied");
        assert_eq!(error_message(b"", status), "bad request");
    }

    #[test]
    fn phone_numbers_in_error_bodies_are_masked() {
        let body = br#"{"message":"15105553344 is not a valid number"}"#;
        let message = error_message(body, StatusCode::BAD_REQUEST);
        assert!(!message.contains("5553344"), "{message}");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));

        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));

        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let credentials = Credentials::Secret {
            id: "sid".to_owned(),
            key: Secret::new("very-secret-key"),
        };
        let client = Client::new(
            "http://127.0.0.1:9",
            credentials,
            Arc::new(RateGate::unlimited()),
            DEFAULT_TIMEOUT,
        )
        .expect("client");
        let bearer = client.bearer(false).expect("signed");
        let debug = format!("{client:?}");
        assert!(!debug.contains("very-secret-key"));
        assert!(!debug.contains(bearer.expose()));
    }

    #[test]
    fn the_token_is_cached_until_forced() {
        let credentials = Credentials::ApiKey(Secret::new("k"));
        let client = Client::new(
            "https://api.heymarket.com/",
            credentials,
            Arc::new(RateGate::unlimited()),
            DEFAULT_TIMEOUT,
        )
        .expect("client");
        client.bearer(false).expect("signed");
        let signed_at = client.lock_token().as_ref().map(|token| token.signed_at);
        assert!(signed_at.is_some());
        client.invalidate_token();
        assert!(client.lock_token().is_none());
        assert!(
            Client::new(
                "ftp://x",
                Credentials::ApiKey(Secret::new("k")),
                Arc::new(RateGate::unlimited()),
                DEFAULT_TIMEOUT
            )
            .is_err()
        );
    }
}
