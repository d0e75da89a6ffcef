//! Sentry for the browser, minus the I/O: every policy the browser SDK applies
//! before sending. The payloads are `ff_telemetry_wire::sentry`'s.
//!
//! The `sentry` crate cannot run in the browser (it reads the system clock), so
//! the browser SDK is built from these pieces.
//!
//! # Concepts
//!
//! - [`BrowserSentry`]: the whole browser side as a sans-IO state machine. The
//!   browser crate feeds it page events with the time and random bytes
//!   ([`Entropy`]) and sends what [`BrowserSentry::poll_transmit`] returns.
//! - [`BrowserSentry`] writes the wire crate's payloads (event, session update,
//!   transaction, client report) with serde; a test has the `sentry-types` crate
//!   parse what we write.
//! - Policies, each a pure function or small state machine: stack parsing
//!   ([`parse_stack`]), the SDK's own module as a debug image Sentry
//!   symbolicates its frames with ([`wasm_image`], [`point_frames_at`]), rate limits ([`RateLimits`]), sampling ([`is_sampled`],
//!   [`traces_sample_rate`]), filtering ([`is_local_page`], [`is_ignored`],
//!   [`Deduplicator`]), release health ([`SessionTracker`]) and what waits
//!   for the next page load ([`Outgoing::add_to_stored`], [`BrowserSentry::restore`]).

mod browser;
mod debug_image;
mod filter;
mod ratelimit;
mod sampling;
mod session;
mod stacktrace;

pub use browser::{
    AfterAnswer, BrowserSentry, CapturedError, Entropy, MAX_BREADCRUMBS, MAX_QUEUED_EVENTS,
    MAX_STORED_ENVELOPES, MECHANISM_GENERIC, MECHANISM_ONERROR, MECHANISM_ONUNHANDLEDREJECTION,
    MECHANISM_PANIC, Outgoing, SentrySetupError,
};
pub use debug_image::{WASM_DEBUG_FILE_NAME, point_frames_at, wasm_image};
pub use filter::{
    Deduplicator, ErrorFingerprint, MAX_VALUE_CHARS, is_ignored, is_local_page, sanitize_route,
    sanitize_url,
};
pub use ratelimit::{
    DEFAULT_RETRY_AFTER_MS, RateLimit, RateLimits, parse_rate_limits, parse_retry_after,
};
pub use sampling::{
    DEVELOPMENT_TRACES_SAMPLE_RATE, PRODUCTION_TRACES_SAMPLE_RATE, is_sampled, traces_sample_rate,
};
pub use session::SessionTracker;
pub use stacktrace::{MAX_FRAMES, parse_stack};
