//! Every payload of ff-telemetry that crosses a process boundary, one type each:
//! what the browser SDK and the backend send, and what the collector reads.
//!
//! No I/O, clocks or randomness: what needs the time takes `now: UnixMs`. The
//! crate builds for `wasm32-unknown-unknown` unchanged.
//!
//! # Concepts
//!
//! - [`posthog`]: the PostHog capture event and `/batch/` body, and what the
//!   collector's capture endpoints accept ([`posthog::ingest`]).
//! - [`sentry`]: the Sentry envelope and its items (event, session update,
//!   transaction, client report).
//! - [`ping`]: the anonymous usage ping ([`ping::PingPayload`]).
//! - [`FrontendConfig`]: the runtime config the platform hands the browser SDK.
//! - [`Dsn`]: Sentry DSNs and their envelope endpoint; [`HttpUrl`]: checked URLs.
//! - [`Value`]: free-form JSON (event properties), members in order.
//! - [`UnixMs`] and [`uuid_v7`]: the instants and ids the payloads carry.
//! - [`text`]: byte-level text helpers of the browser build.
//!
//! ```
//! use ff_telemetry_wire::ping::PingPayload;
//! let json = r#"{"instanceId":"5db51f99-c6fb-4340-9c19-78adce58cc1b"}"#;
//! assert!(PingPayload::from_json_strict(json).is_ok());
//! ```

#![warn(missing_docs)]

mod dsn;
mod frontend;
pub mod ping;
pub mod posthog;
pub mod sentry;
pub mod text;
mod time;
mod url;
mod uuid7;
mod value;

pub use dsn::{Dsn, DsnError};
pub use frontend::{
    Consent, ConsentDenied, DEFAULT_POSTHOG_URL, FrontendConfig, FrontendPosthog, FrontendSentry,
    Persistence, UNKNOWN_ENVIRONMENT,
};
pub use time::UnixMs;
pub use url::{Authority, HttpUrl, Scheme, UrlError, parse_authority, scheme_of, split_authority};
pub use uuid7::{hyphenated, uuid_v7};
pub use value::Value;
