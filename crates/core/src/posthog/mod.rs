//! PostHog for the browser: the capture wire format (shared with the collector)
//! and the sans-IO client the browser SDK drives.
//!
//! # Concepts
//!
//! - [`CaptureEvent`] and [`BatchBody`]: the `/batch/` wire format.
//! - [`Client`]: identity, consent, sessions and page events; returns the
//!   JSON text of the [`CaptureEvent`]s to send. [`PageviewTracker`] is its route-change part.
//! - [`Outbox`]: the bounded, batched, retried send queue; [`Backoff`] and
//!   [`verdict`] are its retry policy, usable by any sender.
//! - [`sanitize_url`]: what a URL may reveal.

mod client;
mod event;
pub mod ingest;
mod outbox;
mod pageview;
mod properties;
mod session;
mod transport;
mod url;

pub use client::{Client, ClientConfig, Entropy, PageEnv, PersistedState};
pub use event::{BatchBody, CaptureEvent, batch_url, raw_batch_body};
pub use outbox::{BEACON_MAX_BYTES, BatchOutcome, Outbox, OutboxLimits, Queued};
pub use pageview::{
    NavigationSource, Page, PageEvent, PageEventKind, PageviewTracker, ScrollDepth, ScrollSample,
};
pub use properties::describe_user_agent;
pub use session::{SESSION_IDLE_MS, SESSION_MAX_MS, Session};
pub use transport::{Backoff, Verdict, verdict};
pub use url::{MASK, MASKED_PARAMS, is_masked_param, looks_like_email, sanitize_url};
