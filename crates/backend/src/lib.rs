//! What a platform backend links to send FlowFuse-style telemetry: the daily usage
//! ping, backend Sentry, Prometheus metrics, the runtime config for the single-page
//! app, and the admin telemetry API.
//!
//! Decisions (is the ping on, when is it due, who sends it, retry or not) are made by
//! `ff-telemetry-core`; this crate only does the I/O: tokio timers, reqwest, the
//! `sentry` crate, the `prometheus` crate and axum routers.
//!
//! # Concepts
//!
//! - A platform implements two small traits: [`SettingsStore`] (its key/value
//!   settings table, with an atomic compare-and-swap) and [`StatsProvider`] (one
//!   `COUNT` per number in the ping).
//! - [`Telemetry`] holds the resolved config, a [`HostInfo`], both traits and the
//!   metrics. Build it once; it is cheap to clone.
//! - [`PingScheduler`] sends the ping: 30 s after start, then daily, one replica per
//!   slot chosen through the settings table, with bounded retries.
//! - Routers to mount: [`admin_router`] (behind the platform's admin auth),
//!   [`metrics_router`]; middleware: [`track_http_metrics`], [`report_server_errors`].
//! - For the SPA: [`inject_runtime_config`] and [`content_security_policy`].
//!
//! ```no_run
//! # async fn example(
//! #     stats: std::sync::Arc<dyn ff_telemetry_backend::StatsProvider>,
//! #     settings: std::sync::Arc<dyn ff_telemetry_backend::SettingsStore>,
//! #     host: ff_telemetry_backend::HostInfo,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use ff_telemetry_backend::{Telemetry, admin_router, init_backend_sentry, metrics_router};
//! use ff_telemetry_core::config::parse_flowforge_yml;
//!
//! let config = parse_flowforge_yml("telemetry:\n  enabled: true\n")?.config;
//! let _sentry = init_backend_sentry(&config, &host.version);
//! let telemetry = Telemetry::new(config, host, stats, settings);
//! let _scheduler = telemetry.spawn_scheduler()?;
//! let app = admin_router(telemetry.clone()).merge(metrics_router(telemetry));
//! # let _ = app; Ok(()) }
//! ```

#![warn(missing_docs)]

mod admin;
mod clock;
mod error_reporting;
mod metrics;
mod metrics_http;
mod scheduler;
mod sender;
mod spa;
mod store;
mod telemetry;

pub use admin::{
    ADMIN_PREVIEW_PATH, ADMIN_TELEMETRY_PATH, AdminError, LastPingView, SetTelemetry,
    TelemetryStatus, admin_router,
};
pub use clock::{Clock, SystemClock, VirtualClock};
pub use error_reporting::{init_backend_sentry, report_server_errors};
pub use metrics::Metrics;
pub use metrics_http::{UNMATCHED_ROUTE, bearer_matches, metrics_router, track_http_metrics};
pub use scheduler::{PingScheduler, SchedulerOptions, SkipReason, SlotOutcome};
pub use sender::{ATTEMPT_TIMEOUT, ClientError, PingSender, SendReport};
pub use spa::{CONFIG_ELEMENT_ID, content_security_policy, inject_runtime_config};
pub use store::{SettingsStore, StatsProvider, StoreError, keys};
pub use telemetry::{HostInfo, LastPing, PingStatus, Telemetry};
