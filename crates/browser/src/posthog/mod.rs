//! PostHog for the browser: the sans-IO client the browser SDK drives. The
//! capture events it writes are `ff_telemetry_wire::posthog`'s.
//!
//! # Concepts
//!
//! - [`Client`]: identity, consent (see [`Client::handle_consent`]), sessions and page events; returns the
//!   JSON text of the capture events to send. [`PageviewTracker`] is its route-change part.
//! - [`Outbox`]: the bounded, batched, retried send queue, on core's one retry
//!   policy and status classifier (`ff_telemetry_core::retry`).
//! - [`TabQueues`]: one queue of unsent events per page load, and the
//!   adoption of the queues of pages that are gone (several tabs).
//! - [`sanitize_url`]: what a URL may reveal.

mod app_properties;
mod beacon;
mod client;
mod consent;
mod entropy;
mod outbox;
mod pageview;
mod properties;
mod session;
mod storage;
mod tabs;
mod url;

pub use app_properties::{AppProperties, Members};
pub use beacon::send_halving;
pub use client::{Client, ClientConfig, PageEnv, PersistedState};
pub use consent::{CONSENT_KEY, consent_at_start, decision_text};
pub use entropy::Entropy;
pub use outbox::{BEACON_MAX_BYTES, BatchOutcome, Outbox, OutboxLimits, Queued};
pub use pageview::{
    NavigationSource, Page, PageEvent, PageEventKind, PageviewTracker, ScrollDepth, ScrollSample,
};
pub use properties::describe_user_agent;
pub use session::{SESSION_IDLE_MS, SESSION_MAX_MS, Session};
pub use storage::{Saved, restore, save};
pub use tabs::{Adoption, TabQueues};
pub use url::{MASK, MASKED_PARAMS, is_masked_param, looks_like_email, sanitize_url};
