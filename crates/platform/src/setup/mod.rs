//! The first-run setup API: open to anyone while setup is pending, closed (409) once
//! it is done.
//!
//! - `GET /api/v1/setup` → [`SetupStatus`], always.
//! - `POST /api/v1/setup` `{name, email, password, telemetry}` → [`SetupDone`]:
//!   creates the first administrator, records the telemetry choice and marks the
//!   platform initialised, all in one transaction.
//! - `GET /api/v1/setup/preview` → the exact usage ping the platform would send,
//!   so the administrator sees it before choosing.
//!
//! The checks and the licence override are in [`rules`]; this module
//! only reads the request, hashes the password and writes.

pub mod rules;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ff_telemetry_backend::{Clock, StoreError, SystemClock};
use rules::{FieldError, FieldProblem, telemetry_choice, validate_setup};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::Platform;
use crate::db::{DbError, NewAdmin};
use crate::password::hash_password;

/// The path of the setup resource.
pub const SETUP_PATH: &str = "/api/v1/setup";
/// The path of the ping preview shown during setup.
pub const SETUP_PREVIEW_PATH: &str = "/api/v1/setup/preview";

/// `GET /api/v1/setup`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStatus {
    /// The first-run setup has not been completed.
    pub pending: bool,
    /// A licence is installed, so the setup cannot turn telemetry off.
    pub licensed: bool,
}

/// The answer to a successful `POST /api/v1/setup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupDone {
    /// Always `true`.
    pub initialised: bool,
    /// What was recorded for the usage ping.
    pub telemetry: RecordedTelemetry,
}

/// The telemetry part of [`SetupDone`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedTelemetry {
    /// The admin setting now stored.
    pub enabled: bool,
    /// `true` when the request said `false` but the install is licensed.
    pub overridden: bool,
    /// Why it was overridden, for the person who asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why a setup request failed, each with its status and a JSON body.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// 400: some fields are missing or invalid; nothing was written.
    #[error("invalid setup request: {}", join(.0))]
    Invalid(Vec<FieldError>),
    /// 409: the setup was already completed and cannot be replayed.
    #[error("setup is already complete")]
    AlreadyDone,
    /// 500: the database failed; nothing was written. Details go to the log.
    #[error("internal error")]
    Db(#[from] DbError),
    /// 500: the settings could not be read. Details go to the log.
    #[error("internal error")]
    Store(#[from] StoreError),
}

impl IntoResponse for SetupError {
    fn into_response(self) -> Response {
        let status = match &self {
            SetupError::Invalid(_) => StatusCode::BAD_REQUEST,
            SetupError::AlreadyDone => StatusCode::CONFLICT,
            SetupError::Db(e) => {
                tracing::error!("setup: {e}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            SetupError::Store(e) => {
                tracing::error!("setup: {e}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let body = match &self {
            SetupError::Invalid(errors) => json!({
                "error": self.to_string(),
                "fields": errors
                    .iter()
                    .map(|e| (e.field.clone(), e.problem.to_string().into()))
                    .collect::<serde_json::Map<String, serde_json::Value>>(),
            }),
            _ => json!({ "error": self.to_string() }),
        };
        (status, Json(body)).into_response()
    }
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Platform {
    /// Whether the first-run setup is pending, and whether the install is licensed.
    pub async fn setup_status(&self) -> Result<SetupStatus, StoreError> {
        let telemetry = self.telemetry();
        Ok(SetupStatus {
            pending: !telemetry.ping_inputs().await?.initialised,
            licensed: telemetry.licensed(),
        })
    }

    /// Completes the first-run setup from a request body (JSON bytes): checks every
    /// field, hashes the password, then writes the administrator, the telemetry
    /// choice and the initialised mark in one transaction, and tells the ping
    /// scheduler.
    ///
    /// ```no_run
    /// # async fn run(platform: ff_platform::Platform) {
    /// let body = br#"{"name":"Ada","email":"ada@example.com","password":"s3cure-enough","telemetry":false}"#;
    /// let done = platform.complete_setup(body).await.unwrap();
    /// assert!(!done.telemetry.enabled || done.telemetry.overridden);
    /// assert!(!platform.setup_status().await.unwrap().pending);
    /// # }
    /// ```
    pub async fn complete_setup(&self, body: &[u8]) -> Result<SetupDone, SetupError> {
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
            SetupError::Invalid(vec![FieldError {
                field: "body".to_owned(),
                problem: FieldProblem::NotJson(e.to_string()),
            }])
        })?;
        let request = validate_setup(&value).map_err(SetupError::Invalid)?;
        // Cheap refusal of a replay before the slow hash; the transaction re-checks.
        if !self.setup_status().await?.pending {
            return Err(SetupError::AlreadyDone);
        }
        let password = request.password.clone();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| StoreError(format!("password hashing: {e}")))?;
        let choice = telemetry_choice(request.telemetry, self.telemetry().licensed());
        let admin = NewAdmin {
            name: &request.name,
            email: &request.email,
            password_hash: &password_hash,
        };
        if !self
            .db()
            .complete_setup(&admin, choice.enabled, SystemClock.now())
            .await?
        {
            return Err(SetupError::AlreadyDone);
        }
        self.telemetry().handle_setup_done();
        tracing::info!(
            telemetry = choice.enabled,
            overridden = choice.overridden,
            "first-run setup complete"
        );
        Ok(SetupDone {
            initialised: true,
            telemetry: RecordedTelemetry {
                enabled: choice.enabled,
                overridden: choice.overridden,
                message: choice.overridden.then(|| {
                    "this is a licensed installation: usage telemetry cannot be disabled, \
                     so telemetry: false was ignored"
                        .to_owned()
                }),
            },
        })
    }
}

pub(crate) async fn get_setup(
    State(platform): State<Platform>,
) -> Result<Json<SetupStatus>, SetupError> {
    Ok(Json(platform.setup_status().await?))
}

pub(crate) async fn post_setup(
    State(platform): State<Platform>,
    body: Bytes,
) -> Result<Json<SetupDone>, SetupError> {
    Ok(Json(platform.complete_setup(&body).await?))
}

/// The same payload the scheduler sends; only while setup is pending (afterwards the
/// admin preview, behind the admin token, shows it).
pub(crate) async fn get_setup_preview(
    State(platform): State<Platform>,
) -> Result<Response, SetupError> {
    if !platform.setup_status().await?.pending {
        return Err(SetupError::AlreadyDone);
    }
    let payload = platform.telemetry().payload(SystemClock.now()).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        payload.to_json(),
    )
        .into_response())
}
