//! PostHog's capture wire format, shared by the browser SDK (which writes it) and
//! the collector (which reads it).

mod event;
pub mod ingest;

pub use event::{BatchBody, CaptureEvent};
