//! The query API. Other tools depend on these exact shapes.
//!
//! - `GET /api/pings?limit=N&since=RFC3339` →
//!   `{"pings":[{"received_at":…,"ip_hash":…,"payload":{…}}]}`, newest first.
//! - `GET /api/events?source=posthog|sentry&name=…&limit=N` →
//!   `{"events":[{"source":…,"received_at":…,"name":…,"distinct_id":…,"properties":{…}}]}`
//!   (Sentry items carry `"payload"` instead of `"properties"`), newest first.
//!
//! `received_at` is RFC 3339 in UTC; `limit` defaults to 100 and is capped at 1,000.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use ff_telemetry_wire::UnixMs;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::state::AppState;
use crate::store::{EventRow, Source};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1_000;

#[derive(Debug, Deserialize)]
pub(crate) struct PingsQuery {
    limit: Option<i64>,
    since: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct EventsQuery {
    source: Option<String>,
    name: Option<String>,
    limit: Option<i64>,
}

pub(crate) async fn pings(
    State(state): State<AppState>,
    query: Result<Query<PingsQuery>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let Query(query) = query?;
    let limit = limit(query.limit)?;
    let since = query.since.as_deref().map(parse_since).transpose()?;
    let rows = state.shared().store.pings(limit, since).await?;
    let pings: Vec<Value> = rows
        .into_iter()
        .map(|p| {
            json!({
                "received_at": p.received_at.to_rfc3339(),
                "ip_hash": p.ip_hash,
                "payload": parse_stored(&p.payload),
            })
        })
        .collect();
    Ok(Json(json!({ "pings": pings })))
}

pub(crate) async fn events(
    State(state): State<AppState>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let Query(query) = query?;
    let limit = limit(query.limit)?;
    let source = match query.source.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Source::parse(s).ok_or_else(|| {
            AppError::BadRequest(format!("source: expected posthog or sentry, found {s:?}"))
        })?),
    };
    let name = query.name.as_deref().filter(|n| !n.is_empty());
    let rows = state.shared().store.events(source, name, limit).await?;
    Ok(Json(
        json!({ "events": rows.iter().map(event_json).collect::<Vec<_>>() }),
    ))
}

pub(crate) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

fn event_json(e: &EventRow) -> Value {
    let body_key = if e.source == Source::Sentry.as_str() {
        "payload"
    } else {
        "properties"
    };
    json!({
        "source": e.source,
        "received_at": e.received_at.to_rfc3339(),
        "name": e.name,
        "distinct_id": e.distinct_id,
        body_key: parse_stored(&e.body),
    })
}

/// Stored bodies are JSON we wrote; should one not parse, it is shown as text.
fn parse_stored(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn limit(requested: Option<i64>) -> Result<i64, AppError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if n >= 1 => Ok(n.min(MAX_LIMIT)),
        Some(n) => Err(AppError::BadRequest(format!(
            "limit: expected a positive number, found {n}"
        ))),
    }
}

fn parse_since(text: &str) -> Result<UnixMs, AppError> {
    let t = chrono::DateTime::parse_from_rfc3339(text).map_err(|e| {
        AppError::BadRequest(format!(
            "since: expected an RFC 3339 time, found {text:?} ({e})"
        ))
    })?;
    Ok(UnixMs(u64::try_from(t.timestamp_millis()).unwrap_or(0)))
}
