//! Sentry on the wire: the envelope and the payloads the browser SDK sends.
//!
//! # Concepts
//!
//! - [`Envelope`]: the envelope header and its items, as the collector reads them.
//! - Payloads: [`Event`], [`SessionUpdate`], [`Transaction`], [`ClientReport`],
//!   each alone in an envelope, with `sent_at` set when sending ([`stamp_sent_at`]).
//! - [`ingest`]: what Sentry's ingestion accepts of an envelope (limits, and the
//!   fields each item must have), which the collector applies.

mod datetime;
mod envelope;
pub mod ingest;
mod protocol;

pub use datetime::{parse_imf_fixdate, parse_rfc3339};
pub use envelope::{
    Envelope, EnvelopeError, EnvelopeHeader, EnvelopeItem, ItemHeader, SdkInfo, TraceHeader,
    stamp_sent_at, write_item,
};
pub use protocol::{
    Breadcrumb, ClientReport, DataCategory, DebugImage, DebugMeta, DiscardReason, DiscardedEvents,
    Event, EventId, Exception, Frame, Level, Mechanism, PLATFORM_JAVASCRIPT, Request,
    SessionAttributes, SessionStatus, SessionUpdate, SpanId, Stacktrace, StringMap, TraceContext,
    TraceId, Transaction, TransactionContexts, TransactionInfo, User, Values,
};
