//! The browser SDK's logic, sans-IO: what `ff-telemetry-web` decides before and
//! after it touches the browser.
//!
//! No I/O, clocks or randomness (what quinn-proto is to quinn): the web crate
//! tells these state machines what happened, with the time and random bytes, and
//! sends what they return. So every policy is tested natively with `cargo test`,
//! and the crate builds for `wasm32-unknown-unknown` unchanged.
//!
//! # Concepts
//!
//! - [`posthog`]: identity, consent, sessions, pageviews and pageleaves, URL
//!   masking and the bounded, retried send queue ([`posthog::Client`], [`posthog::Outbox`]).
//! - [`sentry`]: browser Sentry as one state machine ([`sentry::BrowserSentry`]):
//!   sampling, rate limits, release-health session, filters, stack parsing.
//! - [`classify`] and [`Verdict`]: what an HTTP answer means, core's one
//!   classifier, re-exported for the edge.
//!
//! ```
//! use ff_telemetry_browser::posthog::sanitize_url;
//! assert_eq!(sanitize_url("https://a.example/p?token=1"), "https://a.example/p?token=<masked>");
//! ```

#![warn(missing_docs)]

mod list;
pub mod posthog;
pub mod sentry;

pub use ff_telemetry_core::retry::{RetryPolicy, Verdict, classify};
