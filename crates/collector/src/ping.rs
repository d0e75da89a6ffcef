//! `POST /ping`: the core usage ping, as FlowFuse's own collector takes it.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use ff_telemetry_wire::ping::{FeatureFlag, PingPayload};
use serde_json::{Value, json};

use crate::error::AppError;
use crate::ip::client_ip;
use crate::state::{AppState, now};
use crate::store::{NewPing, NewRow};

/// Validates the ping (unknown fields dropped and counted), hashes the sender IP and
/// answers once the row is committed.
pub(crate) async fn post_ping(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, AppError> {
    let body = body?;
    let text =
        std::str::from_utf8(&body).map_err(|_| AppError::BadRequest("body is not UTF-8".into()))?;
    let (payload, dropped) = PingPayload::from_json_lenient(text)?;
    if !dropped.is_empty() {
        tracing::debug!(n_dropped = dropped.len(), fields = ?dropped, "ping had unknown fields");
    }
    let shared = state.shared();
    let sender = client_ip(peer.ip(), &headers, &shared.trusted_proxies);
    let row = ping_row(&payload, shared.ip_key.hash(sender), dropped.len());
    shared.store.write(vec![NewRow::Ping(row)]).await?;
    Ok(Json(json!({"status": "success"})))
}

fn ping_row(payload: &PingPayload, ip_hash: String, n_dropped: usize) -> NewPing {
    let platform = payload.platform.as_ref();
    let config = platform.and_then(|p| p.config.as_ref());
    let flag = |f: Option<&FeatureFlag>| f.map(|f| i64::from(f.enabled));
    NewPing {
        received_at: now(),
        instance_id: payload.instance_id.to_string(),
        ip_hash,
        payload: payload.to_json(),
        n_dropped_fields: i64::try_from(n_dropped).unwrap_or(i64::MAX),
        platform_version: payload.env.as_ref().and_then(|e| e.flowforge.clone()),
        os_type: payload.os.as_ref().and_then(|o| o.kind.clone()),
        license_type: platform
            .and_then(|p| p.license.as_ref())
            .map(|l| l.kind.as_str().to_owned()),
        broker_enabled: flag(config.and_then(|c| c.broker.as_ref())),
        file_store_enabled: flag(config.and_then(|c| c.file_store.as_ref())),
        email_enabled: flag(config.and_then(|c| c.email.as_ref())),
    }
}
