//! What every handler shares: the store, the IP-hash key and the request policy;
//! and the wall clock, read only here at the edge.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ff_telemetry_wire::UnixMs;
use ff_telemetry_wire::posthog::ingest::TokenPolicy;
use ipnet::IpNet;

use crate::config::{CollectorConfig, IP_KEY_ENV, SentryKey};
use crate::ip::{IpKey, IpKeyError};
use crate::store::{Store, StoreError, StoreOptions};

/// Largest body of a single-item endpoint (`/ping`).
pub const SINGLE_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Largest body, and largest decompressed body, of a batch endpoint (PostHog capture,
/// Sentry envelopes).
pub const BATCH_BODY_LIMIT: usize = 20 * 1024 * 1024;

/// Why the collector could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No IP-hash key.
    #[error(transparent)]
    IpKey(#[from] IpKeyError),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The listen address could not be bound.
    #[error("{addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// What every handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub store: Store,
    pub ip_key: IpKey,
    pub trusted_proxies: Vec<IpNet>,
    pub token_policy: TokenPolicy,
    pub sentry_keys: Vec<SentryKey>,
    pub request_timeout: Duration,
    pub header_timeout: Duration,
    pub max_connections: usize,
}

impl AppState {
    /// Creates the data directory, loads (or generates) the IP-hash key, opens and
    /// migrates the database and starts its writer.
    pub async fn open(config: &CollectorConfig) -> Result<Self, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let env_key = std::env::var(IP_KEY_ENV).ok();
        let ip_key = IpKey::load(
            config.ip_key_file.as_deref(),
            env_key.as_deref(),
            &config.data_dir,
        )?;
        let store_options = StoreOptions {
            // A third of the request time: a request whose rows cannot be committed
            // gets its 503 well before the request timeout could answer 408.
            db_wait: config.request_timeout / 3,
            sqlite_max_bytes: config.sqlite_max_bytes,
        };
        let store = Store::open(&config.database_url(), &store_options).await?;
        Ok(AppState(Arc::new(Shared {
            store,
            ip_key,
            trusted_proxies: config.trusted_proxies.clone(),
            token_policy: config.token_policy(),
            sentry_keys: config.sentry_keys.clone(),
            request_timeout: config.request_timeout,
            header_timeout: config.header_timeout,
            max_connections: config.max_connections,
        })))
    }

    /// How many pings are stored (for load checks: stored must equal accepted).
    pub async fn n_pings(&self) -> Result<i64, StoreError> {
        self.0.store.n_pings().await
    }

    /// How many events (PostHog events and Sentry items) are stored.
    pub async fn n_events(&self) -> Result<i64, StoreError> {
        self.0.store.n_events().await
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.0
    }
}

/// The wall clock, read only here at the edge.
pub(crate) fn now() -> UnixMs {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    UnixMs(u64::try_from(ms).unwrap_or(u64::MAX))
}
