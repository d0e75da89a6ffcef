//! Pure logic of ff-telemetry: the `telemetry:` config model, wire types and
//! policies, shared by the browser SDK, the backend and the collector.
//!
//! No I/O, clocks, threads or randomness: whatever needs the time takes
//! `now: UnixMs`, whatever needs chance takes a draw. So every decision here is
//! tested natively with plain `cargo test`, and the crate builds for
//! `wasm32-unknown-unknown` unchanged.
//!
//! # Concepts
//!
//! - [`config`]: parse and validate `flowforge.yml` into [`config::TelemetryConfig`];
//!   every problem names its YAML path.
//! - [`FrontendConfig`]: the only part of the config a browser ever sees.
//! - [`ping`]: the usage ping's rule ([`ping::should_send`]), schedule
//!   ([`ping::PingSchedule`]) and payload ([`ping::PingPayload`]).
//! - [`ping_lease`]: which replica sends a ping slot, decided through the database.
//! - [`setup`]: the first-run setup request's checks, the password rule, and the
//!   telemetry choice it records (licensed installs cannot opt out).
//! - [`retry`]: bounded retry with exponential backoff and jitter.
//! - [`Dsn`]: Sentry DSNs and their envelope endpoint.
//! - [`posthog`] and [`sentry`]: the wire formats the browser writes and the collector reads;
//!   [`sentry::BrowserSentry`] is browser Sentry's whole policy as a sans-IO state machine.
//!   [`posthog`] also holds the browser client's state machines (pageviews, sessions, send queue).
//! - [`json`]: the small hand-written JSON writer for what the browser sends (PostHog
//!   events, Sentry envelopes): no serde serializer in the browser build.
//! - [`uuid_v7`]: time-ordered ids from a given instant and random bytes.
//! - [`sentry_environment`] and [`release_name`]: the names both Sentry sides report.
//!
//! # Features
//!
//! - `yaml` (default): [`config::parse_flowforge_yml`]. The browser SDK turns it off.
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
mod dsn;
mod environment;
mod frontend;
pub mod json;
mod list;
pub mod ping;
pub mod ping_lease;
pub mod posthog;
pub mod retry;
pub mod sentry;
pub mod setup;
pub mod text;
mod time;
mod url;
mod uuid7;

pub use dsn::{Dsn, DsnError};
pub use environment::{UNKNOWN_ENVIRONMENT, release_name, sentry_environment};
pub use frontend::{FrontendConfig, FrontendPosthog, FrontendSentry};
pub use time::UnixMs;
pub use url::{Authority, HttpUrl, Scheme, UrlError};
pub use uuid7::uuid_v7;
