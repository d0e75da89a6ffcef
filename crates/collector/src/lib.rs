//! The receiving side of ff-telemetry: the usage-ping endpoint FlowFuse-style
//! platforms send to, and, for development and tests, a local stand-in for
//! PostHog's capture API and Sentry's envelope endpoint, with a query API and a
//! dashboard. For the wire types and policies see `ff-telemetry-core`; this crate
//! only does HTTP, storage and wiring.
//!
//! # Concepts
//!
//! - [`CollectorConfig`]: what the `ff-telemetry collector` flags set.
//! - [`Collector`] binds and serves; [`serve`] runs until Ctrl-C.
//! - [`router`] and [`AppState`]: the axum app, for tests through `oneshot`.
//! - Storage: SQLite (WAL, the default, a file in the data dir) or Postgres, one code
//!   path; writes are group-committed by one writer task and a request is answered
//!   only after its rows are committed.
//! - Privacy: the sender IP is never stored or logged, only `ip_hash` =
//!   HMAC-SHA256 under a key kept outside the database ([`IpKey`]).
//! - [`loadgen`]: a loopback load generator for benchmarks.
//!
//! ```no_run
//! use ff_telemetry_collector::{Collector, CollectorConfig};
//! # async fn run() -> Result<(), ff_telemetry_collector::StartError> {
//! let mut config = CollectorConfig::new("/var/lib/ff-collector");
//! config.listen = "127.0.0.1:0".parse().unwrap();
//! let collector = Collector::bind(&config).await?;
//! let url = format!("http://{}/ping", collector.local_addr());
//! collector.run_until(async { /* shutdown signal */ }).await
//! # }
//! ```

#![warn(missing_docs)]

mod capture;
mod config;
mod dashboard;
mod decode;
mod envelope;
mod error;
mod ip;
pub mod loadgen;
mod ping;
mod query;
mod server;
mod store;

pub use config::{CollectorConfig, IP_KEY_ENV, SentryKey, SentryKeyError};
pub use error::AppError;
pub use ip::{GENERATED_KEY_FILE, IpKey, IpKeyError};
pub use ipnet::IpNet;
pub use server::{
    AppState, BATCH_BODY_LIMIT, Collector, SINGLE_BODY_LIMIT, StartError, router, serve,
};
pub use store::{Source, StoreError};
