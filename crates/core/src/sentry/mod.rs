//! Sentry's envelope wire format, written by the browser SDK and read by the collector.
//!
//! The `sentry` crate cannot run in the browser (it reads the system clock), so the
//! browser side builds envelopes from these types.

mod envelope;

pub use envelope::{Envelope, EnvelopeError, EnvelopeHeader, EnvelopeItem, ItemHeader, SdkInfo};
