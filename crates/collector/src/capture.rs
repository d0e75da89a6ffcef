//! PostHog capture: `/e/`, `/i/v0/e/`, `/capture/`, `/track/`, `/batch/`.
//!
//! The body is decoded here (gzip, base64, form, lz64); the capture rules (shapes,
//! token, distinct id, statuses) are the wire crate's [`ff_telemetry_wire::posthog::ingest`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ff_telemetry_wire::posthog::ingest::ingest;
use serde::Deserialize;
use serde_json::json;

use crate::decode::{CaptureInput, DecodeError, capture_json};
use crate::error::AppError;
use crate::state::{AppState, BATCH_BODY_LIMIT, now};
use crate::store::{NewEvent, NewRow, Source};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CaptureQuery {
    data: Option<String>,
    compression: Option<String>,
    beacon: Option<String>,
}

/// Decodes, validates and stores a capture request; 200 `{"status":1}`, or 204 for
/// `beacon=1` (the browser ignores a beacon's answer).
pub(crate) async fn capture(
    State(state): State<AppState>,
    query: Result<Query<CaptureQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query?;
    let body = body?;
    let input = CaptureInput {
        query_data: query.data.as_deref(),
        query_compression: query.compression.as_deref(),
        content_type: header_str(&headers, header::CONTENT_TYPE),
        content_encoding: header_str(&headers, header::CONTENT_ENCODING),
        body: &body,
    };
    let json = capture_json(input, BATCH_BODY_LIMIT).map_err(decode_error)?;
    let shared = state.shared();
    let events = ingest(&json, &shared.token_policy)?;
    let received_at = now();
    let rows = events
        .into_iter()
        .map(|e| {
            NewRow::Event(NewEvent {
                source: Source::Posthog,
                received_at,
                name: e.event,
                distinct_id: Some(e.distinct_id),
                token: Some(e.token),
                project_id: None,
                message: None,
                body: serde_json::Value::Object(e.properties).to_string(),
            })
        })
        .collect();
    shared.store.write(rows).await?;
    if query.beacon.as_deref() == Some("1") {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(json!({"status": 1})).into_response())
}

/// `/flags/` and `/decide/`: no feature flags, no remote config. Lets an unmodified
/// posthog-js that still asks for flags run against the sink.
pub(crate) async fn no_flags() -> Json<serde_json::Value> {
    Json(json!({
        "featureFlags": {},
        "featureFlagPayloads": {},
        "flags": {},
        "errorsWhileComputingFlags": false,
        "sessionRecording": false,
        "supportedCompression": ["gzip", "gzip-js"],
    }))
}

pub(crate) fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn decode_error(e: DecodeError) -> AppError {
    match e {
        DecodeError::TooLarge => AppError::TooLarge {
            what: "decompressed body",
            limit_bytes: BATCH_BODY_LIMIT,
        },
        DecodeError::Invalid(reason) => AppError::BadRequest(reason),
    }
}
