//! The running platform: database, telemetry, and its HTTP routes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ff_telemetry_backend::{
    HostInfo, SettingsStore, StatsProvider, StoreError, Telemetry, content_security_policy,
    inject_runtime_config,
};
use ff_telemetry_core::config::TelemetryConfig;
use ff_telemetry_core::{release_name, sentry_environment};
use ff_telemetry_wire::FrontendConfig;

use crate::config::{ADMIN_TOKEN_ENV, LoadedFile};
use crate::db::{Db, DbError};

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

    pub(crate) fn admin_token(&self) -> Option<&str> {
        self.inner.admin_token.as_deref()
    }

    pub(crate) fn index_html(&self) -> &str {
        &self.inner.index_html
    }

    pub(crate) fn csp(&self) -> &str {
        &self.inner.csp
    }

    pub(crate) fn spa_dir(&self) -> Option<&Path> {
        self.inner.spa_dir.as_deref()
    }
}

/// The public browser config: the frontend part of the telemetry section, with the
/// environment and release both Sentry sides use.
fn frontend_config(telemetry: &TelemetryConfig) -> FrontendConfig {
    let environment = sentry_environment(|key| std::env::var(key).ok());
    telemetry.frontend_config(&environment, &release_name(PLATFORM_VERSION))
}

fn read_index(dir: &Path) -> Result<String, PlatformError> {
    let path = dir.join("index.html");
    std::fs::read_to_string(&path).map_err(|source| PlatformError::Spa {
        path: path.display().to_string(),
        source,
    })
}
