//! Sentry: `POST /api/{project_id}/envelope/`, every item stored.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use ff_telemetry_wire::Dsn;
use ff_telemetry_wire::sentry::{Envelope, EnvelopeItem};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::capture::{decode_error, header_str};
use crate::decode::envelope_bytes;
use crate::error::AppError;
use crate::state::{AppState, BATCH_BODY_LIMIT, now};
use crate::store::{NewEvent, NewRow, Source};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuthQuery {
    sentry_key: Option<String>,
}

/// Authenticates (query `sentry_key`, `X-Sentry-Auth`, or the envelope's own `dsn`),
/// parses and stores every item; answers `{"id": event_id}` like Sentry.
pub(crate) async fn post_envelope(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<AuthQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, AppError> {
    let Path(project_id) = path?;
    let Query(query) = query?;
    let shared = state.shared();
    let request_key = query
        .sentry_key
        .filter(|k| !k.is_empty())
        .or_else(|| auth_header_key(&headers));
    if let Some(key) = &request_key {
        authorize(&shared.sentry_keys, &project_id, key)?;
    }
    let body = body?;
    let bytes = envelope_bytes(
        &body,
        header_str(&headers, header::CONTENT_ENCODING),
        BATCH_BODY_LIMIT,
    )
    .map_err(decode_error)?;
    let envelope = Envelope::parse(&bytes)?;
    if request_key.is_none() {
        let dsn_key = envelope
            .header
            .dsn
            .as_deref()
            .and_then(|d| d.parse::<Dsn>().ok())
            .map(|d| d.public_key().to_owned())
            .ok_or_else(|| {
                AppError::Unauthorized(
                    "sentry_key is missing (query string, X-Sentry-Auth or envelope dsn)".into(),
                )
            })?;
        authorize(&shared.sentry_keys, &project_id, &dsn_key)?;
    }
    let received_at = now();
    let rows = envelope
        .items
        .iter()
        .map(|item| NewRow::Event(item_row(item, &project_id, received_at)))
        .collect();
    shared.store.write(rows).await?;
    Ok(Json(json!({"id": envelope.header.event_id})))
}

fn authorize(keys: &[crate::SentryKey], project_id: &str, key: &str) -> Result<(), AppError> {
    if keys
        .iter()
        .any(|k| k.project_id == project_id && k.public_key == key)
    {
        Ok(())
    } else {
        Err(AppError::Unauthorized(format!(
            "sentry_key {key:?} is not accepted for project {project_id:?}"
        )))
    }
}

/// `X-Sentry-Auth: Sentry sentry_key=K, sentry_version=7, …` → `K`.
fn auth_header_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-sentry-auth")?.to_str().ok()?;
    let fields = value.trim().strip_prefix("Sentry").unwrap_or(value);
    fields.split(',').find_map(|field| {
        let (name, value) = field.trim().split_once('=')?;
        (name.trim() == "sentry_key" && !value.trim().is_empty()).then(|| value.trim().to_owned())
    })
}

fn item_row(
    item: &EnvelopeItem,
    project_id: &str,
    received_at: ff_telemetry_wire::UnixMs,
) -> NewEvent {
    // JSON payloads are stored as JSON; anything else as text when it is UTF-8.
    let payload: Value = serde_json::from_slice(&item.payload).unwrap_or_else(|_| {
        std::str::from_utf8(&item.payload).map_or(Value::Null, |s| Value::String(s.to_owned()))
    });
    NewEvent {
        source: Source::Sentry,
        received_at,
        name: item.header.kind.clone(),
        distinct_id: distinct_id(&payload),
        token: None,
        project_id: Some(project_id.to_owned()),
        message: summary(&payload),
        body: payload.to_string(),
    }
}

/// `user.id` of an event, `did` of a session.
fn distinct_id(payload: &Value) -> Option<String> {
    let id = payload.pointer("/user/id").or_else(|| payload.get("did"))?;
    match id {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A one-line summary of an event: the last exception's `type: value`, else the
/// message, for the dashboard's error list.
fn summary(payload: &Value) -> Option<String> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    if let Some(Value::Array(values)) = payload.pointer("/exception/values")
        && let Some(last) = values.last()
    {
        let kind = text(last.get("type"));
        let value = text(last.get("value"));
        return match (kind, value) {
            (Some(k), Some(v)) => Some(format!("{k}: {v}")),
            (k, v) => k.or(v),
        };
    }
    text(payload.get("message"))
        .or_else(|| text(payload.pointer("/message/formatted")))
        .or_else(|| text(payload.pointer("/logentry/formatted")))
        .or_else(|| text(payload.pointer("/logentry/message")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_prefer_the_exception() {
        let cases = [
            (
                json!({"exception": {"values": [{"type": "A", "value": "inner"}, {"type": "TypeError", "value": "x is undefined"}]}}),
                Some("TypeError: x is undefined"),
            ),
            (
                json!({"exception": {"values": [{"type": "Panic"}]}}),
                Some("Panic"),
            ),
            (json!({"message": "hello"}), Some("hello")),
            (
                json!({"logentry": {"message": "fmt %s", "formatted": "fmt a"}}),
                Some("fmt a"),
            ),
            (json!({"sid": "s"}), None),
        ];
        for (payload, want) in cases {
            assert_eq!(summary(&payload).as_deref(), want, "{payload}");
        }
    }

    #[test]
    fn auth_header_key_is_found_among_fields() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-sentry-auth",
            "Sentry sentry_version=7, sentry_client=sentry.rust/0.49.5, sentry_key=abc"
                .parse()
                .unwrap(),
        );
        assert_eq!(auth_header_key(&headers).as_deref(), Some("abc"));
    }
}
