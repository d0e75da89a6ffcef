//! Who may read what was received: the dashboard and the query API need the read
//! token. The collector is also the public ping receiver, so an open read side would
//! publish every installation's ping (instance ids, licence ids, counts) and IP hashes.
//!
//! Without a token the read side is open only on a loopback listener (a developer's
//! local sink); on any other address the collector refuses to start. The write
//! endpoints (ping, PostHog capture, Sentry envelopes) never need it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::{AppError, BEARER_CHALLENGE};

/// The environment variable `ff-telemetry collector` and `ff-telemetry demo` read the
/// read token from when `--read-token` is not given.
pub const READ_TOKEN_ENV: &str = "FF_TELEMETRY_READ_TOKEN";

/// Whether the read side needs a token.
#[derive(Clone)]
pub(crate) enum ReadAccess {
    /// No token: only possible on a loopback listener.
    Open,
    /// Every read request must carry `Authorization: Bearer <token>`.
    Token(String),
}

/// The collector would listen beyond loopback with its read side open.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to start: {listen} is not a loopback address and no read token is set, so anyone \
     who can reach it could read every ping and event; set --read-token TOKEN (or \
     ${READ_TOKEN_ENV}), or listen on 127.0.0.1"
)]
pub struct ReadTokenRequired {
    listen: SocketAddr,
}

/// How a refused read request is answered.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    /// `{"status":"error",…}`, for the query API.
    Json,
    /// This page, which asks for the token and sends it (the dashboard in a browser).
    LoginPage(Arc<str>),
}

impl ReadAccess {
    /// The access rule for a collector listening on `listen` with `token` (empty
    /// counts as none).
    pub(crate) fn decide(
        listen: SocketAddr,
        token: Option<&str>,
    ) -> Result<Self, ReadTokenRequired> {
        match token.map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => Ok(ReadAccess::Token(token.to_owned())),
            None if listen.ip().is_loopback() => Ok(ReadAccess::Open),
            None => Err(ReadTokenRequired { listen }),
        }
    }

    /// Why `headers` may not read, or `None` when they may.
    fn refusal(&self, headers: &HeaderMap) -> Option<AppError> {
        let ReadAccess::Token(token) = self else {
            return None;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match given {
            None => Some(AppError::ReadToken(
                "read token is missing (Authorization: Bearer TOKEN)",
            )),
            // Compared in constant time, so the answer's timing does not tell how much matched.
            Some(given) if bool::from(given.as_bytes().ct_eq(token.as_bytes())) => None,
            Some(_) => Some(AppError::ReadToken("read token is not accepted")),
        }
    }
}

impl std::fmt::Debug for ReadAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.write_str(match self {
            ReadAccess::Open => "ReadAccess::Open",
            ReadAccess::Token(_) => "ReadAccess::Token(..)",
        })
    }
}

/// Middleware on every read route: passes requests the access rule allows, answers
/// the rest 401.
pub(crate) async fn require_read_token(
    State((access, refusal)): State<(ReadAccess, Refusal)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(error) = access.refusal(request.headers()) else {
        return next.run(request).await;
    };
    match refusal {
        Refusal::Json => error.into_response(),
        Refusal::LoginPage(page) => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, BEARER_CHALLENGE)],
            Html(page.to_string()),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_a_token_only_loopback_is_open() {
        for listen in ["127.0.0.1:3001", "[::1]:3001"] {
            assert!(matches!(
                ReadAccess::decide(addr(listen), None),
                Ok(ReadAccess::Open)
            ));
        }
        for listen in ["0.0.0.0:3001", "192.0.2.1:80", "[::]:3001"] {
            let err = ReadAccess::decide(addr(listen), Some(" ")).unwrap_err();
            assert!(err.to_string().contains("--read-token"), "{err}");
        }
        assert!(matches!(
            ReadAccess::decide(addr("0.0.0.0:1"), Some("t")),
            Ok(ReadAccess::Token(t)) if t == "t"
        ));
    }

    #[test]
    fn only_the_exact_bearer_token_reads() {
        let access = ReadAccess::Token("s3cret".into());
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            access.refusal(&headers).map(|e| e.to_string())
        };
        assert_eq!(with("Bearer s3cret"), None);
        assert_eq!(
            with("Bearer s3cre").as_deref(),
            Some("read token is not accepted")
        );
        assert_eq!(
            with("Bearer s3cretX").as_deref(),
            Some("read token is not accepted")
        );
        assert_eq!(
            with("Basic s3cret").as_deref(),
            Some("read token is missing (Authorization: Bearer TOKEN)")
        );
        assert!(access.refusal(&HeaderMap::new()).is_some());
        assert!(ReadAccess::Open.refusal(&HeaderMap::new()).is_none());
        assert_eq!(format!("{access:?}"), "ReadAccess::Token(..)");
    }
}
