//! The running platform: database, telemetry, and its HTTP routes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use ff_telemetry_backend::{
    Clock, HostInfo, SettingsStore, StatsProvider, StoreError, SystemClock, Telemetry,
    admin_router, bearer_matches, content_security_policy, inject_runtime_config, metrics_router,
    report_server_errors, track_http_metrics,
};
use ff_telemetry_core::config::TelemetryConfig;
use ff_telemetry_core::{FrontendConfig, release_name, sentry_environment};
use serde_json::json;
use tower_http::services::ServeDir;

use crate::config::{ADMIN_TOKEN_ENV, LoadedFile};
use crate::db::{Db, DbError};
use crate::setup::{
    SETUP_PATH, SETUP_PREVIEW_PATH, SetupError, get_setup, get_setup_preview, post_setup,
};

/// The platform version, reported in the ping and as the Sentry release.
pub const PLATFORM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The page served when no SPA directory is given.
const BUILT_IN_INDEX: &str = "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
<title>ff-platform</title>\n</head>\n<body>\n<h1>ff-platform</h1>\n\
<p>The reference platform is running. Start it with <code>--spa-dir</code> to serve an app.</p>\n\
</body>\n</html>\n";

/// Why the platform could not start.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The settings could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The SPA's `index.html` could not be read.
    #[error("{path}: {source}")]
    Spa {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Where the platform keeps its data and finds its app, beyond `flowforge.yml`.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Overrides `data_dir` (default `./data`).
    pub data_dir: Option<PathBuf>,
    /// Overrides `spa_dir`.
    pub spa_dir: Option<PathBuf>,
    /// Overrides `admin.token` (the CLI passes `FF_ADMIN_TOKEN` here).
    pub admin_token: Option<String>,
}

impl StartOptions {
    /// Options with the admin token taken from `FF_ADMIN_TOKEN` when it is set.
    pub fn from_env() -> Self {
        StartOptions {
            admin_token: std::env::var(ADMIN_TOKEN_ENV)
                .ok()
                .filter(|t| !t.trim().is_empty()),
            ..StartOptions::default()
        }
    }
}

/// An open platform. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Platform {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    telemetry: Telemetry,
    admin_token: Option<String>,
    index_html: String,
    csp: String,
    spa_dir: Option<PathBuf>,
}

impl Platform {
    /// Opens the database (migrating it), creates the instance id on first start,
    /// and prepares the app page with the runtime config.
    pub async fn open(
        file: &LoadedFile,
        options: &StartOptions,
    ) -> Result<Platform, PlatformError> {
        let config = &file.platform;
        let db = match &config.database_url {
            Some(url) => Db::connect(url).await?,
            None => {
                let data_dir = options
                    .data_dir
                    .clone()
                    .or_else(|| config.data_dir.clone())
                    .unwrap_or_else(|| PathBuf::from("data"));
                Db::open_in_data_dir(&data_dir).await?
            }
        };
        let host = HostInfo {
            version: PLATFORM_VERSION.to_owned(),
            // The compiler that built this binary (see build.rs).
            runtime: concat!("rust ", env!("FF_RUSTC_VERSION")).to_owned(),
            license: config.license.clone(),
            platform_config: config.features.clone(),
        };
        let shared = Arc::new(db.clone());
        let stats: Arc<dyn StatsProvider> = shared.clone();
        let settings: Arc<dyn SettingsStore> = shared;
        let telemetry = Telemetry::new(file.telemetry.clone(), host, stats, settings);
        let instance_id = telemetry.instance_id().await?;
        let spa_dir = options.spa_dir.clone().or_else(|| config.spa_dir.clone());
        let index = match &spa_dir {
            Some(dir) => read_index(dir)?,
            None => BUILT_IN_INDEX.to_owned(),
        };
        let frontend = frontend_config(&file.telemetry);
        let admin_token = options
            .admin_token
            .clone()
            .or_else(|| config.admin_token.clone());
        if admin_token.is_none() {
            tracing::warn!(
                "no admin token (admin.token in flowforge.yml or {ADMIN_TOKEN_ENV}): the admin API refuses every request"
            );
        }
        tracing::info!(%instance_id, engine = ?db.engine(), "platform open");
        Ok(Platform {
            inner: Arc::new(Inner {
                db,
                telemetry,
                admin_token,
                index_html: inject_runtime_config(&index, &frontend),
                csp: content_security_policy(&frontend),
                spa_dir,
            }),
        })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The telemetry handle (for the scheduler).
    pub fn telemetry(&self) -> &Telemetry {
        &self.inner.telemetry
    }

    /// Marks the first-run setup done without creating an administrator (demo data,
    /// tests); the usage ping may start. Returns `false` when it already was done.
    pub async fn setup(&self) -> Result<bool, StoreError> {
        let marked = self.inner.db.mark_initialised().await?;
        self.inner.telemetry.handle_setup_done();
        Ok(marked)
    }

    /// Every route of the platform: the app, `/api/v1/…`, the admin API behind the
    /// admin token, and `/metrics`.
    pub fn router(&self) -> Router {
        let telemetry = self.inner.telemetry.clone();
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
        let app = match &self.inner.spa_dir {
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

/// The public browser config: the frontend part of the telemetry section, with the
/// environment and release both Sentry sides use.
fn frontend_config(telemetry: &TelemetryConfig) -> FrontendConfig {
    let environment = sentry_environment(|key| std::env::var(key).ok());
    FrontendConfig::from_config(telemetry, &environment, &release_name(PLATFORM_VERSION))
}

fn read_index(dir: &Path) -> Result<String, PlatformError> {
    let path = dir.join("index.html");
    std::fs::read_to_string(&path).map_err(|source| PlatformError::Spa {
        path: path.display().to_string(),
        source,
    })
}

async fn serve_index(State(platform): State<Platform>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, platform.inner.csp.as_str()),
        ],
        platform.inner.index_html.clone(),
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
    let Some(token) = platform.inner.admin_token.as_deref() else {
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
