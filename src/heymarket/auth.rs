//! Credentials and the JWT that Heymarket's API Secret scheme asks for.
//!
//! A token is HS256 over exactly `{"iss": <secret id>, "iat": <unix seconds>}`, keyed with
//! the bytes of `<secret id>||<secret key>`, and is rejected five minutes after `iat`.
//! Signing and verifying live together so the client and the sandbox agree by construction.

use serde::{Deserialize, Serialize};

use super::secret::Secret;

/// Heymarket rejects a token this many seconds after its `iat`.
pub const TOKEN_LIFETIME_SECS: i64 = 300;

/// The environment variables credentials are read from.
pub const ENV_SECRET_ID: &str = "HEYMARKET_SECRET_ID";
pub const ENV_SECRET_KEY: &str = "HEYMARKET_SECRET_KEY";
pub const ENV_API_KEY: &str = "HEYMARKET_API_KEY";
pub const ENV_BASE_URL: &str = "HEYMARKET_BASE_URL";

/// Heymarket's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.heymarket.com";

/// How a client proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// An API Secret: a JWT is signed from these for each request.
    Secret { id: String, key: Secret },
    /// A legacy team API key, sent as the bearer token itself.
    ApiKey(Secret),
}

/// The claims Heymarket accepts: exactly these two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub iat: i64,
}

/// Why a credential could not be read or a token could not be made or accepted.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("`{ENV_SECRET_ID}` is set but `{ENV_SECRET_KEY}` is not (or the other way round)")]
    HalfSecret,
    #[error("could not sign a token")]
    Sign(#[source] jsonwebtoken::errors::Error),
    #[error("token rejected: {reason}")]
    Rejected { reason: String },
}

impl Credentials {
    /// Reads credentials from the environment: the API Secret pair wins over the legacy key.
    /// `Ok(None)` means none are set (offline planning, or the sandbox).
    pub fn from_env() -> Result<Option<Credentials>, AuthError> {
        let read = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        match (read(ENV_SECRET_ID), read(ENV_SECRET_KEY), read(ENV_API_KEY)) {
            (Some(id), Some(key), _) => Ok(Some(Credentials::Secret {
                id,
                key: Secret::new(key),
            })),
            (Some(_), None, _) | (None, Some(_), _) => Err(AuthError::HalfSecret),
            (None, None, Some(key)) => Ok(Some(Credentials::ApiKey(Secret::new(key)))),
            (None, None, None) => Ok(None),
        }
    }

    /// The `Authorization` header value for a request made at `now` (unix seconds).
    pub fn bearer(&self, now: i64) -> Result<Secret, AuthError> {
        match self {
            Credentials::Secret { id, key } => {
                sign(id, key, now).map(|jwt| Secret::new(format!("Bearer {}", jwt.expose())))
            }
            Credentials::ApiKey(key) => Ok(Secret::new(format!("Bearer {}", key.expose()))),
        }
    }
}

fn signing_key(id: &str, key: &Secret) -> Vec<u8> {
    format!("{id}||{}", key.expose()).into_bytes()
}

/// Signs a token for `id` issued at `iat`.
pub fn sign(id: &str, key: &Secret, iat: i64) -> Result<Secret, AuthError> {
    let claims = Claims {
        iss: id.to_owned(),
        iat,
    };
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let encoding = jsonwebtoken::EncodingKey::from_secret(&signing_key(id, key));
    jsonwebtoken::encode(&header, &claims, &encoding)
        .map(Secret::new)
        .map_err(AuthError::Sign)
}

/// Checks a token's signature against `id`/`key` and its age against `now`.
///
/// Rejected: a bad signature, another issuer, an `iat` more than [`TOKEN_LIFETIME_SECS`] ago,
/// or one more than `future_skew_secs` ahead of `now`.
pub fn verify(
    token: &str,
    id: &str,
    key: &Secret,
    now: i64,
    future_skew_secs: i64,
) -> Result<Claims, AuthError> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let decoding = jsonwebtoken::DecodingKey::from_secret(&signing_key(id, key));
    let claims = jsonwebtoken::decode::<Claims>(token, &decoding, &validation)
        .map_err(|error| AuthError::Rejected {
            reason: error.to_string(),
        })?
        .claims;

    let rejected = |reason: &str| {
        Err(AuthError::Rejected {
            reason: reason.to_owned(),
        })
    };
    if claims.iss != id {
        return rejected("unknown issuer");
    }
    if now - claims.iat > TOKEN_LIFETIME_SECS {
        return rejected("token expired: issued more than 300 s ago");
    }
    if claims.iat - now > future_skew_secs {
        return rejected("token issued in the future");
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_until_it_is_five_minutes_old() {
        let key = Secret::new("k3y");
        let token = sign("sid", &key, 1_000).expect("sign");
        assert!(verify(token.expose(), "sid", &key, 1_200, 30).is_ok());
        assert!(verify(token.expose(), "sid", &key, 1_301, 30).is_err());
        assert!(verify(token.expose(), "sid", &Secret::new("other"), 1_200, 30).is_err());
        assert!(verify(token.expose(), "sid", &key, 900, 30).is_err());
    }
}
