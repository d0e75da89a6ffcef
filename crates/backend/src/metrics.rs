//! Prometheus metrics: process metrics, HTTP request durations by route template,
//! and usage ping outcomes, served at `GET /metrics`.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounter, Registry, TextEncoder};

use crate::Telemetry;

/// The route label of requests that matched no route, so that scanners probing random
/// paths cannot grow the label set.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";

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

/// `GET /metrics`. Answers 404 unless `telemetry.backend.prometheus.enabled`, and 401
/// without the right bearer token when `telemetry.backend.prometheus.token` is set.
///
/// ```
/// # fn wire(telemetry: ff_telemetry_backend::Telemetry, app: axum::Router) -> axum::Router {
/// app.merge(ff_telemetry_backend::metrics_router(telemetry))
/// # }
/// ```
pub fn metrics_router(telemetry: Telemetry) -> Router {
    Router::new()
        .route("/metrics", get(serve_metrics))
        .with_state(telemetry)
}

async fn serve_metrics(State(telemetry): State<Telemetry>, headers: HeaderMap) -> Response {
    let prometheus = &telemetry.config().backend.prometheus;
    if !prometheus.enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(token) = &prometheus.token
        && !bearer_matches(&headers, token)
    {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        telemetry.metrics().render(),
    )
        .into_response()
}

/// Whether `headers` carry `Authorization: Bearer <token>`, compared in constant time.
///
/// ```
/// use axum::http::{HeaderMap, HeaderValue, header};
/// let mut headers = HeaderMap::new();
/// headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
/// assert!(ff_telemetry_backend::bearer_matches(&headers, "s3cret"));
/// assert!(!ff_telemetry_backend::bearer_matches(&headers, "s3cre"));
/// ```
pub fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), token.as_bytes()))
}

/// Compares secrets without stopping at the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The request's method and route template (`UNMATCHED_ROUTE` when no route
/// matched): the labels both the metrics and the Sentry layer use, never the path.
pub(crate) fn method_and_route(request: &Request) -> (String, String) {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
    (request.method().as_str().to_owned(), route.to_owned())
}

/// Middleware recording `http_request_duration_seconds` for every request. Add it
/// with `Router::layer` so the route template is known:
///
/// ```
/// # fn wire(telemetry: ff_telemetry_backend::Telemetry, app: axum::Router) -> axum::Router {
/// use axum::middleware::from_fn_with_state;
/// app.layer(from_fn_with_state(telemetry, ff_telemetry_backend::track_http_metrics))
/// # }
/// ```
pub async fn track_http_metrics(
    State(telemetry): State<Telemetry>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let (method, route) = crate::metrics::method_and_route(&request);
    let response = next.run(request).await;
    telemetry
        .metrics()
        .http_duration
        .with_label_values(&[method.as_str(), route.as_str(), response.status().as_str()])
        .observe(started.elapsed().as_secs_f64());
    response
}
