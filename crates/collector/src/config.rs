//! What the collector is told at start: where to listen, where to store, whom to trust.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ff_telemetry_wire::posthog::ingest::TokenPolicy;
use ipnet::IpNet;

/// The environment variable that may hold the IP-hash key when no key file is given.
pub const IP_KEY_ENV: &str = "FF_TELEMETRY_IP_KEY";

/// Everything the collector needs to start. The CLI maps its flags onto it:
///
/// | flag | field |
/// |---|---|
/// | `--listen ADDR` (default `127.0.0.1:3001`) | [`listen`](Self::listen) |
/// | `--database URL` (`sqlite://…` or `postgres://…`; default a SQLite file in the data dir) | [`database_url`](Self::database_url) |
/// | `--data-dir DIR` (default `./collector-data`) | [`data_dir`](Self::data_dir) |
/// | `--ip-key-file FILE` (else `$FF_TELEMETRY_IP_KEY`, else a generated key in the data dir) | [`ip_key_file`](Self::ip_key_file) |
/// | `--trusted-proxy CIDR` (repeatable) | [`trusted_proxies`](Self::trusted_proxies) |
/// | `--posthog-token TOKEN` (repeatable; none = accept any token) | [`posthog_tokens`](Self::posthog_tokens) |
/// | `--sentry-key PROJECT_ID:PUBLIC_KEY` (repeatable) | [`sentry_keys`](Self::sentry_keys) |
///
/// The timeouts, the connection bound and the SQLite size cap have no flag; their
/// defaults are meant for production and tests shorten them.
///
/// ```
/// use ff_telemetry_collector::{CollectorConfig, SentryKey};
/// let mut config = CollectorConfig::new("/tmp/collector-data");
/// config.sentry_keys.push("42:abc".parse::<SentryKey>().unwrap());
/// assert_eq!(config.database_url(), "sqlite:///tmp/collector-data/collector.db?mode=rwc");
/// assert_eq!(config.listen.to_string(), "127.0.0.1:3001");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CollectorConfig {
    /// Where to accept connections.
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`; `None` means `collector.db` in [`data_dir`](Self::data_dir).
    pub database_url: Option<String>,
    /// Where the default database and the generated IP-hash key live.
    pub data_dir: PathBuf,
    /// A file holding the IP-hash key (at least 16 bytes; surrounding whitespace ignored).
    pub ip_key_file: Option<PathBuf>,
    /// Peers whose `X-Forwarded-For` header is believed. Everyone else's is ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// PostHog project tokens. Empty: any token is accepted and recorded with the
    /// event (a local sink should not need keys); otherwise only these.
    pub posthog_tokens: Vec<String>,
    /// Sentry `(project id, public key)` pairs whose envelopes are accepted.
    pub sentry_keys: Vec<SentryKey>,
    /// The longest a request may take once its headers are in, body upload
    /// included, before a 408 (30 s by default).
    pub request_timeout: Duration,
    /// The longest a connection may take to send a request's headers, counted from
    /// when it opens or its previous answer was sent; then it is closed (10 s by
    /// default). Idle keep-alive and slow-loris connections end this way.
    pub header_timeout: Duration,
    /// The most connections served at once (10,000 by default). Beyond it new
    /// connections wait in the listen backlog until one closes, so file descriptors
    /// and memory stay bounded.
    pub max_connections: usize,
    /// The largest the SQLite database may grow, in bytes (`None`, the default: no
    /// cap but the disk). When a write would pass it, the request is answered 503 and
    /// nothing of it is stored, as on a full disk; freeing space inside the file
    /// (rows deleted elsewhere) lets writes through again. Ignored on Postgres.
    pub sqlite_max_bytes: Option<u64>,
}

/// A Sentry project id and the public key that may send to it.
///
/// ```
/// use ff_telemetry_collector::SentryKey;
/// let key: SentryKey = "7:k1".parse().unwrap();
/// assert_eq!(key.dsn("http://127.0.0.1:3001"), "http://k1@127.0.0.1:3001/7");
/// assert!("x:k1".parse::<SentryKey>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentryKey {
    /// Numeric project id, as in the DSN's last path segment.
    pub project_id: String,
    /// The DSN's public key.
    pub public_key: String,
}

/// Why a `PROJECT_ID:PUBLIC_KEY` string is not a [`SentryKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected PROJECT_ID:PUBLIC_KEY with a numeric project id, found {0:?}")]
pub struct SentryKeyError(String);

impl CollectorConfig {
    /// Defaults for everything but the data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        CollectorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 3001)),
            database_url: None,
            data_dir: data_dir.into(),
            ip_key_file: None,
            trusted_proxies: Vec::new(),
            posthog_tokens: Vec::new(),
            sentry_keys: Vec::new(),
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            sqlite_max_bytes: None,
        }
    }

    /// The database URL in force: the configured one, else the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("collector.db").display()
            ),
        }
    }

    pub(crate) fn token_policy(&self) -> TokenPolicy {
        if self.posthog_tokens.is_empty() {
            TokenPolicy::AcceptAny
        } else {
            TokenPolicy::Only(self.posthog_tokens.clone())
        }
    }
}

impl SentryKey {
    /// The DSN a client uses to send to this collector at `base_url` (no trailing slash).
    pub fn dsn(&self, base_url: &str) -> String {
        let (scheme, rest) = base_url.split_once("://").unwrap_or(("http", base_url));
        format!(
            "{scheme}://{}@{}/{}",
            self.public_key,
            rest.trim_end_matches('/'),
            self.project_id
        )
    }
}

impl std::str::FromStr for SentryKey {
    type Err = SentryKeyError;

    fn from_str(s: &str) -> Result<Self, SentryKeyError> {
        let bad = || SentryKeyError(s.to_owned());
        let (project_id, public_key) = s.split_once(':').ok_or_else(bad)?;
        if project_id.is_empty()
            || !project_id.bytes().all(|b| b.is_ascii_digit())
            || public_key.is_empty()
        {
            return Err(bad());
        }
        Ok(SentryKey {
            project_id: project_id.to_owned(),
            public_key: public_key.to_owned(),
        })
    }
}
