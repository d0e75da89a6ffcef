//! The receiving side of ff-telemetry: the usage-ping endpoint FlowFuse-style
//! platforms send to, and, for development and tests, a local stand-in for
//! PostHog's capture API and Sentry's envelope endpoint, with a query API and a
//! dashboard. For the wire types see `ff-telemetry-wire`; this crate
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
//! # HTTP API
//!
//! | route | what |
//! |---|---|
//! | `POST /ping` | usage ping; 200 `{"status":"success"}` once committed, 400 naming the bad field |
//! | `/e/`, `/i/v0/e/`, `/capture/`, `/track/`, `/batch/` (GET `?data=` or POST, slash optional) | PostHog capture: JSON, gzip (by magic bytes), base64, form `data=`, lz64; 200 `{"status":1}`, 204 with `beacon=1` |
//! | `/flags/`, `/decide/` | no feature flags, so an unmodified posthog-js can ask |
//! | `POST /api/{project_id}/envelope/` | Sentry envelopes; key from `sentry_key`, `X-Sentry-Auth` or the envelope's `dsn`; gzip/deflate accepted; 200 `{"id":…}` |
//! | `GET /api/pings`, `GET /api/events` | the query API (shapes below) |
//! | `GET /` | the dashboard |
//! | `GET /api/health` | `{"status":"ok"}` |
//!
//! Every refusal is `{"status":"error","error":"…"}` with a 4xx status (503 when the
//! database fails). Bodies are capped at 2 MB (`/ping`) and 20 MB (batch endpoints),
//! decompressed bodies at 20 MB (413 beyond), and requests time out (408). A
//! connection that does not send a request's headers in time is closed, and the
//! connections served at once are bounded ([`CollectorConfig`]).
//!
//! When storage fails (a read-only or full SQLite file, Postgres down) every request
//! whose rows were not committed is answered 503 and nothing of it is kept; the
//! collector serves again as soon as the database does, without a restart.
//!
//! PostHog tokens: with none configured, any non-empty token is accepted and stored
//! with each event, so any app can point at a local sink without keys; with
//! `posthog_tokens` set, others get 401. Sentry keys must always be configured.
//!
//! `GET /api/pings?limit=N&since=RFC3339` →
//! `{"pings":[{"received_at":…,"ip_hash":…,"payload":{…}}]}`, newest first.
//! `GET /api/events?source=posthog|sentry&name=…&limit=N` →
//! `{"events":[{"source":…,"received_at":…,"name":…,"distinct_id":…,"properties":{…}}]}`
//! (Sentry items carry `"payload"` instead of `"properties"`), newest first.
//! `received_at` is RFC 3339 UTC; `limit` defaults to 100, at most 1,000.
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
mod state;
mod store;

pub use config::{CollectorConfig, IP_KEY_ENV, SentryKey, SentryKeyError};
pub use error::AppError;
pub use ip::{GENERATED_KEY_FILE, IpKey, IpKeyError};
pub use ipnet::IpNet;
pub use server::{Collector, router, serve};
pub use state::{AppState, BATCH_BODY_LIMIT, SINGLE_BODY_LIMIT, StartError};
pub use store::{Source, StoreError};
