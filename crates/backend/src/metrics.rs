//! Prometheus metrics: process metrics, HTTP request durations by route template,
//! and usage ping outcomes, in one registry (served by `metrics_http`).

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounter, Registry, TextEncoder};

/// The metrics of one platform process, in their own registry.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    http_duration: HistogramVec,
    pings_sent: IntCounter,
    pings_failed: IntCounter,
    pings_skipped: IntCounter,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let registry = Registry::new();
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request durations by method, route template and status",
            ),
            &["method", "route", "status"],
        )
        .unwrap_or_else(|_| unreachable!("fixed, valid metric options"));
        let counter = |name: &str, help: &str| {
            IntCounter::new(name, help).unwrap_or_else(|_| unreachable!("fixed, valid name"))
        };
        let pings_sent = counter(
            "ff_telemetry_pings_sent_total",
            "Usage pings the collector accepted",
        );
        let pings_failed = counter(
            "ff_telemetry_pings_failed_total",
            "Usage pings given up after retries or refused",
        );
        let pings_skipped = counter(
            "ff_telemetry_pings_skipped_total",
            "Usage ping slots skipped: disabled, not initialised, or sent by another replica",
        );
        let metrics = Metrics {
            registry,
            http_duration,
            pings_sent,
            pings_failed,
            pings_skipped,
        };
        metrics.register_all();
        metrics
    }

    fn register_all(&self) {
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(self.http_duration.clone()),
            Box::new(self.pings_sent.clone()),
            Box::new(self.pings_failed.clone()),
            Box::new(self.pings_skipped.clone()),
            #[cfg(target_os = "linux")]
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ];
        for collector in collectors {
            if let Err(e) = self.registry.register(collector) {
                tracing::warn!("metrics: could not register a collector: {e}");
            }
        }
    }

    /// Records one request's duration under its method, route template and status.
    pub(crate) fn observe_request(&self, method: &str, route: &str, status: &str, seconds: f64) {
        self.http_duration
            .with_label_values(&[method, route, status])
            .observe(seconds);
    }

    pub(crate) fn ping_sent(&self) {
        self.pings_sent.inc();
    }

    pub(crate) fn ping_failed(&self) {
        self.pings_failed.inc();
    }

    pub(crate) fn ping_skipped(&self) {
        self.pings_skipped.inc();
    }

    /// Every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!("metrics: could not encode: {e}");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}
