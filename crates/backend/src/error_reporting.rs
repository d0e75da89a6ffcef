//! Backend error reporting to Sentry: client setup and an axum layer that reports
//! 5xx responses and panics.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ff_telemetry_core::config::TelemetryConfig;
use ff_telemetry_core::{release_name, sentry_environment};
use futures_util::FutureExt;
use sentry::{Hub, SentryFutureExt};

use crate::sender::install_crypto_provider;

/// Starts the Sentry client for the backend when `telemetry.backend.sentry.dsn` is
/// set: environment `SENTRY_ENV` → `NODE_ENV` → `unknown`, release
/// `flowfuse@<version>`, no personal data. Keep the guard alive for the life of the
/// process (dropping it flushes queued events). No DSN → `None`, and nothing runs.
///
/// Call it on the main thread before starting the runtime's tasks, so that every
/// thread reports to this client.
///
/// ```
/// use ff_telemetry_core::config::TelemetryConfig;
/// let guard = ff_telemetry_backend::init_backend_sentry(&TelemetryConfig::default(), "2.0.0");
/// assert!(guard.is_none());
/// ```
#[must_use = "events are sent only while the guard lives"]
pub fn init_backend_sentry(
    config: &TelemetryConfig,
    version: &str,
) -> Option<sentry::ClientInitGuard> {
    let settings = config.backend.sentry.as_ref()?;
    let dsn = match settings.dsn.to_string().parse::<sentry::types::Dsn>() {
        Ok(dsn) => dsn,
        Err(e) => {
            tracing::warn!(
                "telemetry.backend.sentry.dsn: not usable by the Sentry client ({e}); backend Sentry off"
            );
            return None;
        }
    };
    install_crypto_provider();
    let environment = sentry_environment(|key| std::env::var(key).ok());
    let mut options = sentry::ClientOptions::default();
    options.dsn = Some(dsn);
    options.release = Some(release_name(version).into());
    options.environment = Some(environment.clone().into());
    options.send_default_pii = false;
    let guard = sentry::init(options);
    tracing::info!(
        environment,
        release = release_name(version),
        "backend Sentry on"
    );
    Some(guard)
}

/// Middleware reporting to Sentry every 5xx response and every panic of the routes it
/// wraps, tagged with the method, the route template and the status. Request bodies,
/// headers and client addresses are never attached.
///
/// A panicking handler becomes a logged 500 response, with or without Sentry; without
/// a Sentry client nothing else happens. Add it with `Router::layer` so the route
/// template is known:
///
/// ```
/// # fn wire(app: axum::Router) -> axum::Router {
/// app.layer(axum::middleware::from_fn(ff_telemetry_backend::report_server_errors))
/// # }
/// ```
pub async fn report_server_errors(request: Request, next: Next) -> Response {
    let (method, route) = crate::metrics_http::method_and_route(&request);
    let parent = Hub::current();
    let hub = parent.client().is_some().then(|| {
        let hub = Arc::new(Hub::new_from_top(parent));
        hub.configure_scope(|scope| {
            scope.set_tag("http.method", &method);
            scope.set_tag("http.route", &route);
            scope.set_transaction(Some(&format!("{method} {route}")));
            // The panic integration reports panics from inside the handler with this
            // scope; they end as 500 responses.
            scope.add_event_processor(|mut event| {
                if is_panic(&event) {
                    event.tags.insert("http.status_code".into(), "500".into());
                }
                Some(event)
            });
        });
        hub
    });
    let handled = AssertUnwindSafe(next.run(request)).catch_unwind();
    let result = match &hub {
        Some(hub) => handled.bind_hub(hub.clone()).await,
        None => handled.await,
    };
    let Ok(response) = result else {
        tracing::error!(method, route, "request handler panicked");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let status = response.status();
    if let Some(hub) = hub.filter(|_| status.is_server_error()) {
        hub.configure_scope(|scope| scope.set_tag("http.status_code", status.as_str()));
        hub.capture_message(
            &format!("{method} {route} answered {}", status.as_u16()),
            sentry::Level::Error,
        );
    }
    response
}

fn is_panic(event: &sentry::protocol::Event<'_>) -> bool {
    event.exception.values.iter().any(|e| {
        e.mechanism
            .as_ref()
            .is_some_and(|mechanism| mechanism.ty == "panic")
    })
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::middleware::from_fn;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn boom() -> &'static str {
        panic!("handler bug")
    }

    #[tokio::test]
    async fn without_sentry_a_panic_is_still_a_500_and_the_router_keeps_serving() {
        assert!(Hub::current().client().is_none());
        let app = Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "fine" }))
            .layer(from_fn(report_server_errors));
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(get("/boom")).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let response = app.oneshot(get("/fine")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}
