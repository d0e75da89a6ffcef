//! Shared state, the router and the listener.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::Uri;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;
use tower::Layer as _;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};

use crate::config::CollectorConfig;
use crate::error::{AppError, InternalDetail};
use crate::state::{AppState, BATCH_BODY_LIMIT, SINGLE_BODY_LIMIT, StartError};
use crate::{capture, dashboard, envelope, ping, query};

/// The PostHog capture paths; each also answers with a trailing slash.
const CAPTURE_PATHS: [&str; 5] = ["/e", "/i/v0/e", "/capture", "/track", "/batch"];

/// Every route of the collector.
///
/// `POST /ping`; PostHog capture at `/e/`, `/i/v0/e/`, `/capture/`, `/track/`,
/// `/batch/` (GET and POST, slash optional); `POST /api/{project_id}/envelope/`;
/// `GET /api/pings`, `GET /api/events`; the dashboard at `GET /`.
///
/// Handlers read the sender from [`axum::extract::ConnectInfo`], which [`Collector`]
/// provides; in tests add `MockConnectInfo`, or serve with
/// `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router(state: AppState) -> Router {
    let timeout = state.shared().request_timeout;
    let single = Router::new()
        .route("/ping", post(ping::post_ping))
        .layer(DefaultBodyLimit::max(SINGLE_BODY_LIMIT));
    let mut batch = Router::new()
        .route("/api/{project_id}/envelope", post(envelope::post_envelope))
        .route("/api/{project_id}/envelope/", post(envelope::post_envelope));
    for path in CAPTURE_PATHS {
        batch = batch
            .route(path, get(capture::capture).post(capture::capture))
            .route(
                &format!("{path}/"),
                get(capture::capture).post(capture::capture),
            );
    }
    for path in ["/flags", "/flags/", "/decide", "/decide/"] {
        batch = batch.route(path, get(capture::no_flags).post(capture::no_flags));
    }
    let batch = batch.layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT));
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/api/pings", get(query::pings))
        .route("/api/events", get(query::events))
        .route("/api/health", get(query::health))
        .merge(single)
        .merge(batch)
        .fallback(|uri: Uri| async move { AppError::NotFound(uri.path().to_owned()) })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .with_state(state)
        .layer(middleware::from_fn_with_state(timeout, guard))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal.into_response()
        }))
        .layer(cors())
}

/// A collector bound to its address, not yet serving.
#[derive(Debug)]
pub struct Collector {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
}

impl Collector {
    /// Opens the state and binds `config.listen` (port 0 picks a free port).
    pub async fn bind(config: &CollectorConfig) -> Result<Self, StartError> {
        let state = AppState::open(config).await?;
        let listen_error = |source| StartError::Listen {
            addr: config.listen,
            source,
        };
        let listener = listen(config.listen).map_err(listen_error)?;
        let addr = listener.local_addr().map_err(listen_error)?;
        Ok(Collector {
            listener,
            addr,
            state,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (for counts in load checks).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, finishes the requests in flight, then
    /// closes the database.
    ///
    /// A connection has [`CollectorConfig::header_timeout`] to send each request's
    /// headers (from when it opens, or from its previous answer), else it is closed:
    /// idle and slow-loris connections cannot pile up. At most
    /// [`CollectorConfig::max_connections`] are served at once; more wait in the
    /// listen backlog.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        tracing::info!(addr = %self.addr, "collector listening");
        let shared = self.state.shared();
        let app = router(self.state.clone());
        let mut builder = ConnectionBuilder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(shared.header_timeout);
        let slots = Arc::new(Semaphore::new(shared.max_connections.max(1)));
        let header_timeout = shared.header_timeout;
        let graceful = GracefulShutdown::new();
        // Tells connections still waiting for their first byte to give up at shutdown.
        let (closing, closing_rx) = tokio::sync::watch::channel(false);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break, // never closed
                },
                () = &mut shutdown => break,
            };
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, then go on.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(Extension(ConnectInfo(peer)).layer(app.clone()));
            let builder = builder.clone();
            // Made before shutdown can be signalled, so a connection that starts
            // after it is still told.
            let watcher = graceful.watcher();
            let mut closing = closing_rx.clone();
            tokio::spawn(async move {
                let _slot = slot;
                // hyper starts its header timer once it has read which HTTP version
                // the client speaks, which takes a first byte: until that byte comes,
                // this wait holds the same limit.
                let mut first_byte = [0u8; 1];
                tokio::select! {
                    first = tokio::time::timeout(header_timeout, stream.peek(&mut first_byte)) => {
                        if !matches!(first, Ok(Ok(1))) {
                            return; // timed out, closed by the client, or failed
                        }
                    }
                    _ = closing.changed() => return,
                }
                let connection = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                if let Err(e) = watcher.watch(connection).await {
                    tracing::debug!(error = %e, "connection closed with an error");
                }
            });
        }
        let _ = closing.send(true);
        drop(self.listener);
        graceful.shutdown().await;
        // Every request has been answered, so every accepted row is committed.
        self.state.shared().store.close().await;
        Ok(())
    }
}

/// Connections the kernel may hold for the collector before it accepts them. A
/// burst beyond it is dropped by the kernel and those clients hang (tokio's default
/// is 1,024; Linux caps it at `net.core.somaxconn`, 4,096 by default).
const LISTEN_BACKLOG: u32 = 4_096;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As std's and tokio's `bind` do: a restarted collector may bind at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Runs the collector until Ctrl-C: the entry point behind `ff-telemetry collector`.
pub async fn serve(config: CollectorConfig) -> Result<(), StartError> {
    let collector = Collector::bind(&config).await?;
    collector
        .run_until(async {
            // If the signal cannot be installed, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
}

/// CORS for browsers on any origin: the origin is mirrored so credentials may be
/// sent (posthog-js and @sentry/browser may send with credentials), and preflights
/// are answered for whatever method and headers they ask for.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_credentials(true)
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .max_age(Duration::from_secs(24 * 60 * 60))
}

/// Times requests out, logs each one (never the sender's address) and logs the
/// detail of internal errors.
async fn guard(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::Timeout.into_response(),
    };
    let status = response.status().as_u16();
    if let Some(InternalDetail(detail)) = response.extensions().get::<InternalDetail>() {
        tracing::error!(%method, %path, status, %detail, "request failed");
    }
    tracing::debug!(
        %method,
        %path,
        status,
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}
