//! The admin telemetry API: read and change the opt-out, preview the next ping.
//!
//! Mount it behind the platform's admin authentication; it checks no credentials.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::{Clock, SystemClock};
use crate::store::StoreError;
use crate::telemetry::{PingStatus, Telemetry};

/// The path of the settings resource.
pub const ADMIN_TELEMETRY_PATH: &str = "/api/v1/admin/telemetry";
/// The path of the ping preview.
pub const ADMIN_PREVIEW_PATH: &str = "/api/v1/admin/telemetry/preview";

/// `GET /api/v1/admin/telemetry`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelemetryStatus {
    /// The admin setting (always `true` when licensed).
    pub enabled: bool,
    /// Whether a licence is installed.
    pub licensed: bool,
    /// Whether pings are sent: the core rule over setup, licence, yml and setting.
    pub effective: bool,
    /// When this process will next try to send (RFC 3339), if its scheduler runs.
    pub next_ping_at: Option<String>,
    /// The last attempt by any replica.
    pub last_ping: Option<LastPingView>,
}

/// `last_ping` in [`TelemetryStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastPingView {
    /// RFC 3339.
    pub at: String,
    /// `sent` or `failed`.
    pub status: PingStatus,
}

/// `PUT /api/v1/admin/telemetry`
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetTelemetry {
    /// The new admin setting.
    pub enabled: bool,
}

/// The errors of the admin API, each with its status and a JSON body
/// `{"error": message}`.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The body is not the expected JSON.
    #[error("{0}")]
    BadRequest(String),
    /// Licensed installs cannot change the setting.
    #[error("telemetry is always on for licensed installations and cannot be changed")]
    Licensed,
    /// The store failed; details go to the log, not the client.
    #[error("internal error")]
    Store(#[from] StoreError),
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = match &self {
            AdminError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AdminError::Licensed => StatusCode::CONFLICT,
            AdminError::Store(e) => {
                tracing::error!("admin telemetry API: {e}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// The admin telemetry routes, with `telemetry` as their state.
///
/// ```
/// # fn wire(telemetry: ff_telemetry_backend::Telemetry) -> axum::Router {
/// // Put the platform's admin authentication layer on this router.
/// ff_telemetry_backend::admin_router(telemetry)
/// # }
/// ```
pub fn admin_router(telemetry: Telemetry) -> Router {
    Router::new()
        .route(ADMIN_TELEMETRY_PATH, get(get_status).put(put_setting))
        .route(ADMIN_PREVIEW_PATH, get(preview))
        .with_state(telemetry)
}

impl Telemetry {
    /// The status the admin API reports.
    pub async fn status(&self) -> Result<TelemetryStatus, StoreError> {
        let inputs = self.ping_inputs().await?;
        Ok(TelemetryStatus {
            enabled: inputs.admin_enabled,
            licensed: inputs.licensed,
            effective: ff_telemetry_core::ping::should_send(&inputs),
            next_ping_at: self.next_ping_at().map(|t| t.to_rfc3339()),
            last_ping: self.last_ping().await?.map(|last| LastPingView {
                at: last.at.to_rfc3339(),
                status: last.status,
            }),
        })
    }
}

async fn get_status(
    State(telemetry): State<Telemetry>,
) -> Result<Json<TelemetryStatus>, AdminError> {
    Ok(Json(telemetry.status().await?))
}

async fn put_setting(
    State(telemetry): State<Telemetry>,
    body: Result<Json<SetTelemetry>, JsonRejection>,
) -> Result<Json<TelemetryStatus>, AdminError> {
    let Json(SetTelemetry { enabled }) = body.map_err(|e| AdminError::BadRequest(e.body_text()))?;
    if telemetry.licensed() {
        return Err(AdminError::Licensed);
    }
    telemetry.set_admin_enabled(enabled).await?;
    tracing::info!(enabled, "usage ping admin setting changed");
    Ok(Json(telemetry.status().await?))
}

async fn preview(State(telemetry): State<Telemetry>) -> Result<Response, AdminError> {
    let payload = telemetry.payload(SystemClock.now()).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        payload.to_json(),
    )
        .into_response())
}
