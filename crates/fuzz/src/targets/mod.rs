//! One fuzz target per parser of untrusted bytes.

mod browser;
mod collector;
mod config;
mod wire;

use crate::collector::Collector;
use crate::engine::Target;

/// Every target, in the order `cargo xtask fuzz` runs them. The collector's
/// targets each get a collector of their own.
pub fn all() -> Result<Vec<Box<dyn Target>>, String> {
    Ok(vec![
        Box::new(collector::GzipDeflateTarget(Collector::start()?)),
        Box::new(collector::Base64Target(Collector::start()?)),
        Box::new(collector::Lz64Target(Collector::start()?)),
        Box::new(collector::FormTarget(Collector::start()?)),
        Box::new(collector::CaptureTarget(Collector::start()?)),
        Box::new(collector::EnvelopeTarget(Collector::start()?)),
        Box::new(collector::PingTarget(Collector::start()?)),
        Box::new(config::FlowforgeYmlTarget),
        Box::new(wire::DsnTarget),
        Box::new(wire::UrlTarget),
        Box::new(browser::PosthogRestoreTarget),
        Box::new(browser::SentryRestoreTarget),
        Box::new(browser::StacktraceTarget),
        Box::new(browser::RateLimitsTarget),
    ])
}
