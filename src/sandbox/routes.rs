//! The HTTP surface: which paths exist, the gate every request passes, and thin handlers.
//!
//! Every response, refusals and unknown paths included, carries `X-Request-Id`. The gate
//! authenticates and rate-limits before any route runs; faults apply to sends only, so the
//! lookups a client makes before sending stay dependable. Handlers translate between HTTP
//! and [`Shared`]; they hold no rules of their own.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::Value;

use super::faults::Outcome;
use super::fixtures::is_e164_digits;
use super::reply::ApiError;
use super::shared::Shared;
use crate::heymarket::types::{
    ContactStatus, HistoryMessage, Inbox, Team, Template, TemplateContent,
};

/// The header that names each request; support asks for it.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// How many messages `GET /v1/messages` returns at most, newest first.
const HISTORY_LIMIT: usize = 50;

/// The request's id, handed from the gate to the handlers.
#[derive(Debug, Clone)]
struct RequestId(String);

/// Marks a response that must not be sent: the connection is reset instead.
#[derive(Debug, Clone, Copy)]
pub struct ResetConnection;

/// The sandbox's routes behind its gate.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/message/send", post(send))
        .route("/v1/inboxes", get(inboxes))
        .route("/v1/team", get(team))
        .route("/v1/contact/status", post(contact_status))
        .route("/v1/messages", get(history))
        .route("/v1/template/{id}", get(template))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

async fn gate(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    let request_id = shared.next_request_id();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));

    let mut response = match shared.admit(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    // Hyper would add a `Date` from this machine's clock; the sandbox's own clock may differ.
    if let Some(value) = shared
        .http_date()
        .and_then(|d| HeaderValue::from_str(&d).ok())
    {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}

async fn send(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = require_json(&headers) {
        return refusal.into_response();
    }
    // Like a real server, finish handling a send whose client hung up (a client timeout during
    // a slow send): the message is still recorded, which is what makes a timeout ambiguous.
    match tokio::spawn(handle_send(shared, request_id, body)).await {
        Ok(response) => response,
        Err(_) => ApiError::ServerError {
            message: "the send handler stopped".to_owned(),
        }
        .into_response(),
    }
}

/// Draws the send's fate, waits its delay, and records it unless a fault says otherwise.
async fn handle_send(shared: Arc<Shared>, request_id: String, body: Bytes) -> Response {
    let fate = shared.draw_fate();
    if !fate.delay.is_zero() {
        tokio::time::sleep(fate.delay).await;
    }

    let injected = |message: &str| ApiError::ServerError {
        message: message.to_owned(),
    };
    match fate.outcome {
        Outcome::DropBefore => return reset(),
        Outcome::Error500 => return injected("injected fault: nothing was sent").into_response(),
        Outcome::Error503 => return ApiError::Unavailable.into_response(),
        Outcome::Error429 => {
            return ApiError::RateLimited {
                retry_after_secs: 1,
            }
            .into_response();
        }
        _ => {}
    }

    let result = shared.accept_send(&body, &request_id);
    match (fate.outcome, result) {
        (Outcome::DropAfter, _) => reset(),
        (Outcome::Error500AfterRecord, _) => injected("internal error").into_response(),
        (_, Ok(answer)) => (StatusCode::OK, Json(answer)).into_response(),
        (_, Err(refusal)) => refusal.into_response(),
    }
}

async fn inboxes(State(shared): State<Arc<Shared>>) -> Json<Vec<Inbox>> {
    let inboxes = shared.fixtures.inboxes.iter().map(|inbox| Inbox {
        id: inbox.id,
        name: inbox.name.clone(),
        phone: Some(inbox.phone.clone()),
        phones: vec![inbox.phone.clone()],
        members: inbox.members.clone(),
    });
    Json(inboxes.collect())
}

async fn team(State(shared): State<Arc<Shared>>) -> Json<Team> {
    let team = &shared.fixtures.team;
    let contacts: usize = shared.fixtures.lists.iter().map(|l| l.members.len()).sum();
    Json(Team {
        id: team.id,
        name: team.name.clone(),
        list_size: contacts as u64,
        members: team.members.clone(),
    })
}

async fn contact_status(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ContactStatus>, ApiError> {
    require_json(&headers)?;
    let phone = parse_contact_status(&body)?;
    Ok(Json(ContactStatus {
        id: phone.parse().ok(),
        unsubscribed: shared.fixtures.is_unsubscribed(&phone),
        blocked: shared.fixtures.is_blocked(&phone),
        phone,
    }))
}

/// The body must be exactly `{"phone": "<E.164 digits>"}`.
fn parse_contact_status(body: &[u8]) -> Result<String, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_data("body", format!("body is not valid JSON: {error}")))?;
    let Value::Object(map) = value else {
        return Err(ApiError::bad_data("body", "body must be a JSON object"));
    };
    if let Some(field) = map.keys().find(|key| *key != "phone") {
        return Err(ApiError::bad_data(
            field,
            format!("unknown field `{field}`"),
        ));
    }
    match map.get("phone").and_then(Value::as_str) {
        Some(phone) if is_e164_digits(phone) => Ok(phone.to_owned()),
        Some(phone) => Err(ApiError::bad_data(
            "phone",
            format!("`{phone}` is not E.164 digits without `+`"),
        )),
        None => Err(ApiError::bad_data(
            "phone",
            "`phone` is required (a string)",
        )),
    }
}

async fn history(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<HistoryMessage>>, ApiError> {
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let phone = params
        .get("phoneNumber")
        .filter(|phone| is_e164_digits(phone))
        .ok_or_else(|| ApiError::bad_data("phoneNumber", "`phoneNumber` must be E.164 digits"))?;
    let inbox_id = params
        .get("inboxID")
        .and_then(|id| id.parse::<u64>().ok())
        .filter(|id| shared.fixtures.inbox(*id).is_some())
        .ok_or_else(|| ApiError::bad_data("inboxID", "`inboxID` must name a known inbox"))?;

    Ok(Json(super::history::conversation(
        &shared,
        phone,
        inbox_id,
        HISTORY_LIMIT,
    )))
}

async fn template(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Template>, ApiError> {
    let found = id
        .parse::<u64>()
        .ok()
        .and_then(|id| shared.fixtures.template(id));
    let Some(template) = found else {
        return Err(ApiError::NotFound {
            message: format!("unknown template `{id}`"),
        });
    };
    Ok(Json(Template {
        id: template.id,
        name: template.name.clone(),
        content: TemplateContent {
            text: template.text.clone(),
        },
    }))
}

async fn not_found() -> ApiError {
    ApiError::NotFound {
        message: "no such endpoint".to_owned(),
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// A JSON body must say so: a client that forgets the header is told, not guessed at.
fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err(ApiError::bad_data(
        "content-type",
        "the body must be sent as `Content-Type: application/json`",
    ))
}

fn reset() -> Response {
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(ResetConnection);
    response
}
