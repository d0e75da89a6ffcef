//! The metrics over HTTP: `GET /metrics` and the middleware that times requests.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::Telemetry;

/// The route label of requests that matched no route, so that scanners probing random
/// paths cannot grow the label set.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";

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
    let (method, route) = method_and_route(&request);
    let response = next.run(request).await;
    telemetry.metrics().observe_request(
        &method,
        &route,
        response.status().as_str(),
        started.elapsed().as_secs_f64(),
    );
    response
}
