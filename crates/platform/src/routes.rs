//! The platform's HTTP routes: the app page, `/api/v1/…`, the first-run setup, the
//! admin API behind the admin token, and `/metrics`.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use ff_telemetry_backend::{
    Clock, StatsProvider, StoreError, SystemClock, admin_router, bearer_matches, metrics_router,
    report_server_errors, track_http_metrics,
};
use serde_json::json;
use tower_http::services::ServeDir;

use crate::app::Platform;
use crate::setup::{
    SETUP_PATH, SETUP_PREVIEW_PATH, SetupError, get_setup, get_setup_preview, post_setup,
};

impl Platform {
    /// Every route of the platform: the app, `/api/v1/…`, the admin API behind the
    /// admin token, and `/metrics`.
    pub fn router(&self) -> Router {
        let telemetry = self.telemetry().clone();
        let admin = admin_router(telemetry.clone())
            .merge(
                Router::new()
                    .route("/api/v1/admin/setup", post(setup))
                    .route("/api/v1/admin/stats", get(stats))
                    .with_state(self.clone()),
            )
            .route_layer(from_fn_with_state(self.clone(), require_admin));
        let index = get(serve_index).with_state(self.clone());
        let setup = Router::new()
            .route(SETUP_PATH, get(get_setup).post(post_setup))
            .route(SETUP_PREVIEW_PATH, get(get_setup_preview))
            .with_state(self.clone());
        let app = Router::new()
            .route("/api/v1/health", get(health))
            .merge(setup)
            .route("/api/{*rest}", any(api_not_found))
            .route("/", index.clone())
            .route("/index.html", index.clone())
            .merge(admin)
            .merge(metrics_router(telemetry.clone()));
        let app = match self.spa_dir() {
            // Files of the app as they are; any other path is a client-side route.
            Some(dir) => app.fallback_service(
                ServeDir::new(dir)
                    .append_index_html_on_directories(false)
                    .fallback(index),
            ),
            None => app.fallback_service(index),
        };
        app.layer(from_fn(report_server_errors))
            .layer(from_fn_with_state(telemetry, track_http_metrics))
    }

    /// Serves [`router`](Self::router) on `listener` until `shutdown` completes.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

async fn serve_index(State(platform): State<Platform>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, platform.csp()),
        ],
        platform.index_html().to_owned(),
    )
        .into_response()
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn api_not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not found" }))).into_response()
}

async fn require_admin(State(platform): State<Platform>, request: Request, next: Next) -> Response {
    let Some(token) = platform.admin_token() else {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ "error": "the admin API is off: no admin token is configured" })),
        )
            .into_response();
    };
    if !bearer_matches(request.headers(), token) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({ "error": "admin bearer token required" })),
        )
            .into_response();
    }
    next.run(request).await
}

async fn setup(State(platform): State<Platform>) -> Response {
    match platform.setup().await {
        Ok(true) => Json(json!({ "initialised": true })).into_response(),
        Ok(false) => SetupError::AlreadyDone.into_response(),
        Err(e) => internal_error(&e),
    }
}

async fn stats(State(platform): State<Platform>) -> Response {
    let now = SystemClock.now();
    match platform.db().counts(now).await {
        Ok(counts) => Json(counts).into_response(),
        Err(e) => internal_error(&e),
    }
}

fn internal_error(e: &StoreError) -> Response {
    tracing::error!("platform: {e}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": "internal error" })),
    )
        .into_response()
}
