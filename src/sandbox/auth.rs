//! Who is calling: the `Authorization` header checked against the sandbox's credentials.
//!
//! A bearer token is accepted when it is the legacy API key or a JWT that
//! [`crate::heymarket::auth::verify`] accepts for the sandbox's API Secret, so the client's
//! signing and the sandbox's checking cannot drift. This module says who a caller is; the
//! rate limiter decides what that caller may still do.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use super::reply::ApiError;
use crate::heymarket::auth::verify;
use crate::heymarket::secret::Secret;

/// The credential a request was made with; the rate limiter keeps one window per caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A JWT issued by this Secret ID.
    Secret { id: String },
    /// The legacy team API key.
    ApiKey,
}

/// What requests are checked against.
#[derive(Debug, Clone)]
pub struct Verifier {
    pub secret_id: String,
    pub secret_key: Secret,
    pub api_key: Option<Secret>,
    pub future_skew_secs: i64,
}

impl Verifier {
    /// Identifies the caller of a request made at `now` (unix seconds), or refuses it.
    pub fn identify(&self, headers: &HeaderMap, now: i64) -> Result<Caller, ApiError> {
        let token = bearer_token(headers)?;

        if let Some(api_key) = &self.api_key
            && constant_time_eq(token.as_bytes(), api_key.expose().as_bytes())
        {
            return Ok(Caller::ApiKey);
        }

        verify(
            token,
            &self.secret_id,
            &self.secret_key,
            now,
            self.future_skew_secs,
        )
        .map(|claims| Caller::Secret { id: claims.iss })
        .map_err(|error| ApiError::Unauthorized {
            message: error.to_string(),
        })
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let unauthorized = |message: &str| ApiError::Unauthorized {
        message: message.to_owned(),
    };
    let value = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing `Authorization` header"))?;
    let value = value
        .to_str()
        .map_err(|_| unauthorized("`Authorization` header is not ASCII"))?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| unauthorized("`Authorization` must be `Bearer <token>`"))
}

/// Compares without an early exit, so a key cannot be guessed byte by byte from timing.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter()
        .zip(right)
        .fold(0u8, |acc, (l, r)| acc | (l ^ r))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heymarket::auth::sign;

    fn verifier() -> Verifier {
        Verifier {
            secret_id: "sid".to_owned(),
            secret_key: Secret::new("key"),
            api_key: Some(Secret::new("legacy")),
            future_skew_secs: 30,
        }
    }

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().expect("header"));
        headers
    }

    #[test]
    fn a_fresh_jwt_and_the_legacy_key_are_accepted() {
        let token = sign("sid", &Secret::new("key"), 1_000).expect("sign");
        let jwt = headers(&format!("Bearer {}", token.expose()));
        assert_eq!(
            verifier().identify(&jwt, 1_010),
            Ok(Caller::Secret { id: "sid".into() })
        );
        assert_eq!(
            verifier().identify(&headers("Bearer legacy"), 0),
            Ok(Caller::ApiKey)
        );
    }

    #[test]
    fn anything_else_is_unauthorized() {
        let token = sign("sid", &Secret::new("key"), 1_000).expect("sign");
        let jwt = headers(&format!("Bearer {}", token.expose()));
        assert!(verifier().identify(&jwt, 1_301).is_err());
        assert!(verifier().identify(&headers("Bearer nope"), 0).is_err());
        assert!(verifier().identify(&headers("Basic legacy"), 0).is_err());
        assert!(verifier().identify(&HeaderMap::new(), 0).is_err());
    }
}
