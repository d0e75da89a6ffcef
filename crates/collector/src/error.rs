//! One error type for every handler; each becomes a status and a JSON body that says why.

use axum::Json;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ff_telemetry_wire::ping::PayloadError;
use ff_telemetry_wire::posthog::ingest::IngestError;
use ff_telemetry_wire::sentry::EnvelopeError;
use serde_json::json;

use crate::store::StoreError;

/// Why a request was refused. The body is always `{"status":"error","error":"…"}`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed input that no more specific variant covers.
    #[error("{0}")]
    BadRequest(String),
    /// A usage ping that does not fit the payload type.
    #[error(transparent)]
    Ping(#[from] PayloadError),
    /// A PostHog request that breaks the capture rules.
    #[error(transparent)]
    Capture(#[from] IngestError),
    /// A body that is not a Sentry envelope.
    #[error("invalid envelope: {0}")]
    Envelope(#[from] EnvelopeError),
    /// Missing or unknown credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// A body, or what it decompresses to, over the limit.
    #[error("{what} is larger than {limit_bytes} bytes")]
    TooLarge {
        /// `body` or `decompressed body`.
        what: &'static str,
        /// The limit that was hit.
        limit_bytes: usize,
    },
    /// The body could not be read (limit, client gone, bad framing).
    #[error("{0}")]
    Body(#[from] BytesRejection),
    /// A query string that does not fit.
    #[error("{0}")]
    Query(#[from] QueryRejection),
    /// A path parameter that does not fit.
    #[error("{0}")]
    Path(#[from] PathRejection),
    /// No such route.
    #[error("no route for {0}")]
    NotFound(String),
    /// The route exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,
    /// The database failed; the detail goes to the log, not to the client.
    #[error("storage is unavailable, retry later")]
    Storage(#[from] StoreError),
    /// A handler panicked; the detail goes to the log.
    #[error("internal error")]
    Internal,
}

/// The detail of an internal error, attached to the response for the logging
/// middleware, so that turning an error into a response has no side effects.
#[derive(Debug, Clone)]
pub(crate) struct InternalDetail(pub String);

impl AppError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) | AppError::Ping(_) | AppError::Envelope(_) => {
                StatusCode::BAD_REQUEST
            }
            AppError::Capture(e) => {
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Body(e) => e.status(),
            AppError::Query(e) => e.status(),
            AppError::Path(e) => e.status(),
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Timeout => StatusCode::REQUEST_TIMEOUT,
            AppError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            AppError::Body(e) => e.body_text(),
            AppError::Query(e) => e.body_text(),
            AppError::Path(e) => e.body_text(),
            other => other.to_string(),
        };
        let mut response =
            (status, Json(json!({"status": "error", "error": message}))).into_response();
        if let AppError::Storage(e) = &self {
            response
                .extensions_mut()
                .insert(InternalDetail(e.to_string()));
        }
        response
    }
}
