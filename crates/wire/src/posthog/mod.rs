//! PostHog capture on the wire: what the browser sends and the collector reads.
//!
//! # Concepts
//!
//! - [`CaptureEvent`] and [`BatchBody`]: the `/batch/` wire format.
//! - [`ingest`]: what the collector's capture endpoints accept.

mod event;
pub mod ingest;

pub use event::{BatchBody, CaptureEvent, batch_url, raw_batch_body};
