//! Server-side policy of ff-telemetry: the `telemetry:` config model, the usage
//! ping's rule, schedule and lease, and the retry policy every sender shares.
//!
//! The payloads themselves are in `ff-telemetry-wire`; the browser SDK's policy is in
//! `ff-telemetry-browser`.
//!
//! No I/O, clocks, threads or randomness: whatever needs the time takes
//! `now: UnixMs`, whatever needs chance takes a draw. So every decision here is
//! tested natively with plain `cargo test`.
//!
//! # Concepts
//!
//! - [`config`]: parse and validate `flowforge.yml` into [`config::TelemetryConfig`];
//!   every problem names its YAML path. [`config::TelemetryConfig::frontend_config`]
//!   is the only part of it a browser ever sees.
//! - [`ping`]: the usage ping's rule ([`ping::should_send`]) and schedule
//!   ([`ping::PingSchedule`]).
//! - [`ping_lease`]: which replica sends a ping slot, decided through the database.
//! - [`retry`]: the one HTTP status classifier ([`retry::classify`]) and retry
//!   policy ([`retry::RetryPolicy`]) of every sender: the backend's usage ping, the
//!   browser's PostHog batches and Sentry envelopes.
//! - [`sentry_environment`] and [`release_name`]: the names both Sentry sides report.
//!
//! # Features
//!
//! - `yaml` (default): [`config::parse_flowforge_yml`].
//!
//! ```
//! # #[cfg(feature = "yaml")] {
//! use ff_telemetry_core::{config::parse_flowforge_yml, ping};
//! let config = parse_flowforge_yml("telemetry:\n  enabled: false\n").unwrap().config;
//! let inputs = ping::PingInputs {
//!     initialised: true, licensed: false, yml_enabled: config.enabled, admin_enabled: true,
//! };
//! assert!(!ping::should_send(&inputs));
//! # }
//! ```

#![warn(missing_docs)]

pub mod config;
mod environment;
mod frontend;
pub mod ping;
pub mod ping_lease;
pub mod retry;

pub use environment::{release_name, sentry_environment};
