//! Every refusal the sandbox can answer with, and how it becomes an HTTP response.
//!
//! Each error is a JSON [`ErrorBody`] with a status that matches the API digest's table;
//! this module decides the status, code and headers of a refusal, never whether to refuse.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::heymarket::types::ErrorBody;

/// A request the sandbox refuses, with what the client is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400 `bad_data`: a field is missing, malformed or names something unknown.
    #[error("{message}")]
    BadData { field: String, message: String },
    /// 401 `unauthorized`: no credential, or one that does not verify.
    #[error("{message}")]
    Unauthorized { message: String },
    /// 403 `denied`: valid, but not allowed for this team, sender or contact.
    #[error("{message}")]
    Denied { field: String, message: String },
    /// 404 `not_found`: no such route or resource.
    #[error("{message}")]
    NotFound { message: String },
    /// 405 `method_not_allowed`: the route exists with another method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 429 `rate_limited`: over the per-credential budget; retry after this many seconds.
    #[error("rate limit exceeded, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 500 `server_error`: an injected or real fault; the message may have been accepted.
    #[error("{message}")]
    ServerError { message: String },
    /// 503 `unavailable`: an injected outage; nothing was accepted.
    #[error("service unavailable")]
    Unavailable,
}

impl ApiError {
    /// A 400 naming `field`.
    pub fn bad_data(field: &str, message: impl Into<String>) -> Self {
        ApiError::BadData {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// A 403 naming `field`.
    pub fn denied(field: &str, message: impl Into<String>) -> Self {
        ApiError::Denied {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The request field at fault, for refusals that name one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::BadData { field, .. } | ApiError::Denied { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The HTTP status this refusal is sent with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadData { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Denied { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::ServerError { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn body(&self) -> ErrorBody {
        let code = match self {
            ApiError::BadData { .. } => "bad_data",
            ApiError::Unauthorized { .. } => "unauthorized",
            ApiError::Denied { .. } => "denied",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::ServerError { .. } => "server_error",
            ApiError::Unavailable => "unavailable",
        };
        ErrorBody {
            error: code.to_owned(),
            field: self.field().map(str::to_owned),
            message: self.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        if let ApiError::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if let ApiError::Unauthorized { .. } = self {
            let challenge = HeaderValue::from_static("Bearer");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_carries_retry_after_in_whole_seconds() {
        let response = ApiError::RateLimited {
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }

    #[test]
    fn a_bad_field_is_named_in_the_body() {
        let body = ApiError::bad_data("phone_number", "not E.164").body();
        assert_eq!(body.error, "bad_data");
        assert_eq!(body.field.as_deref(), Some("phone_number"));
    }
}
