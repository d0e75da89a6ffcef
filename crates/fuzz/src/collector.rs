//! A collector to throw requests at: the real router on SQLite in a temporary
//! directory, driven through `oneshot` on a runtime of its own.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::Request;
use ff_telemetry_collector::{AppState, CollectorConfig, SentryKey, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::engine::shape;

/// The project and key the collector accepts envelopes for.
pub const SENTRY_PROJECT: &str = "42";
/// The public key of [`SENTRY_PROJECT`].
pub const SENTRY_KEY: &str = "publickey42";
/// A real usage ping (the wire crate's example).
pub const PING: &str = include_str!("../../wire/tests/fixtures/ping-example.json");

/// A collector answering in-process requests.
#[derive(Debug)]
pub struct Collector {
    runtime: tokio::runtime::Runtime,
    app: Router,
    _dir: tempfile::TempDir,
}

/// A request to send.
#[derive(Debug, Clone, Default)]
pub struct Req<'a> {
    /// `GET` when false, else `POST`.
    pub get: bool,
    /// Path and query.
    pub uri: &'a str,
    /// `Content-Type`, if any.
    pub content_type: Option<&'a str>,
    /// `Content-Encoding`, if any.
    pub content_encoding: Option<&'a str>,
    /// The body.
    pub body: Vec<u8>,
}

impl Collector {
    /// Opens a collector with an empty SQLite database.
    pub fn start() -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio: {e}"))?;
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let mut config = CollectorConfig::new(dir.path());
        let key: SentryKey = format!("{SENTRY_PROJECT}:{SENTRY_KEY}")
            .parse()
            .map_err(|e| format!("sentry key: {e}"))?;
        config.sentry_keys.push(key);
        let state = runtime
            .block_on(AppState::open(&config))
            .map_err(|e| format!("collector: {e}"))?;
        let peer = SocketAddr::from(([127, 0, 0, 1], 40_000));
        let app = router(state).layer(MockConnectInfo(peer));
        Ok(Collector {
            runtime,
            app,
            _dir: dir,
        })
    }

    /// Sends `req`; its status, or why it has none.
    pub fn send(&self, req: Req<'_>) -> Result<u16, String> {
        self.answer(req).map(|(status, _)| status)
    }

    /// Sends `req`; its status and the shape of its error message (feedback:
    /// a new refusal reason is a new behaviour).
    pub fn answer(&self, req: Req<'_>) -> Result<(u16, String), String> {
        let mut builder = Request::builder()
            .method(if req.get { "GET" } else { "POST" })
            .uri(req.uri);
        if let Some(t) = req.content_type {
            builder = builder.header("content-type", t);
        }
        if let Some(e) = req.content_encoding {
            builder = builder.header("content-encoding", e);
        }
        let request = builder
            .body(Body::from(req.body))
            .map_err(|e| format!("request to {}: {e}", req.uri))?;
        let uri = req.uri;
        self.runtime.block_on(async {
            let answer = self
                .app
                .clone()
                .oneshot(request)
                .await
                .map_err(|e| format!("{uri}: {e}"))?;
            let status = answer.status().as_u16();
            let body = answer
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("{uri}: body: {e}"))?
                .to_bytes();
            let error = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(shape))
                .unwrap_or_default();
            Ok((status, error))
        })
    }

    /// Sends `req` and fails on a 5xx: bad input is the client's fault.
    pub fn send_expecting_no_5xx(&self, req: Req<'_>) -> Result<u16, String> {
        self.answer_expecting_no_5xx(req).map(|(status, _)| status)
    }

    /// [`Collector::answer`], failing on a 5xx.
    pub fn answer_expecting_no_5xx(&self, req: Req<'_>) -> Result<(u16, String), String> {
        let uri = req.uri.to_owned();
        let head = String::from_utf8_lossy(&req.body[..req.body.len().min(200)]).into_owned();
        let (status, error) = self.answer(req)?;
        if status >= 500 {
            return Err(format!("{uri} answered {status} ({error}) to {head:?}"));
        }
        Ok((status, error))
    }

    /// The collector still answers its health check and stores a ping, a
    /// PostHog event and a Sentry envelope.
    pub fn still_serving(&self) -> Result<(), String> {
        let event = br#"{"api_key":"phc_fuzz","batch":[{"event":"still-serving","properties":{"distinct_id":"d"}}]}"#;
        let envelope = b"{}\n{\"type\":\"event\"}\n{\"event_id\":\"4c9e200e643a4915baca406ddf0b5349\",\"message\":\"still serving\"}\n";
        let envelope_uri = envelope_uri();
        let checks = [
            Req {
                get: true,
                uri: "/api/health",
                ..Req::default()
            },
            Req {
                uri: "/ping",
                content_type: Some("application/json"),
                body: PING.as_bytes().to_vec(),
                ..Req::default()
            },
            Req {
                uri: "/batch/",
                content_type: Some("application/json"),
                body: event.to_vec(),
                ..Req::default()
            },
            Req {
                uri: &envelope_uri,
                body: envelope.to_vec(),
                ..Req::default()
            },
        ];
        for req in checks {
            let uri = req.uri.to_owned();
            match self.send(req)? {
                200 => {}
                status => return Err(format!("after the run, {uri} answered {status}")),
            }
        }
        Ok(())
    }
}

/// Where the collector takes envelopes for [`SENTRY_PROJECT`].
pub fn envelope_uri() -> String {
    format!("/api/{SENTRY_PROJECT}/envelope/?sentry_key={SENTRY_KEY}")
}

/// Whether a capture body is plain JSON text (an object or array), which the
/// collector reads as it is rather than trying base64.
pub fn is_plain_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}
