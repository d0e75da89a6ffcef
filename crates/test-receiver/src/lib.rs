//! A capture receiver for browser tests: it accepts PostHog capture requests
//! (`/batch/`, `/e/`, `/i/v0/e/`, `/capture/`, `/track/`) and anything else
//! (Sentry envelopes, say) on any path, decodes gzip bodies, records what
//! arrived, and fails on demand. PostHog bodies are parsed with the core wire
//! type (a bad one gets 400); other bodies are kept as text, and the
//! `sentry_key` of their query string is their token.
//!
//! It is a test double for the collector (which is the real sink); scripts
//! drive it over HTTP, so a test in a browser can too:
//!
//! - `POST /_control/fail` `{"path": "/batch/", "status": 503, "count": 2,
//!   "headers": {"Retry-After": "1"}, "token": "phc_x"}`: the next `count`
//!   requests to `path` (and, if given, with that project token) get `status`
//!   and `headers`. `path` matches exactly or as a prefix ending in `/`.
//! - `GET /_control/requests?token=phc_x`: every recorded request, oldest
//!   first (all tokens when `token` is absent), including failed ones.
//! - `POST /_control/reset`: forget requests and rules.
//!
//! Every response allows any origin, so pages on another port can call it.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, ff_test_receiver::router(Default::default())).await
//! # }
//! ```

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ff_telemetry_wire::posthog::{BatchBody, CaptureEvent};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use axum::Json;

/// What the receiver has seen and what it has been told to do.
#[derive(Debug, Clone, Default)]
pub struct AppState {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    requests: Vec<Recorded>,
    rules: Vec<FailRule>,
}

/// A scripted failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailRule {
    /// Path the rule applies to (exact, or a prefix ending in `/`).
    pub path: String,
    /// Status to answer.
    pub status: u16,
    /// How many requests it applies to.
    pub count: u32,
    /// Extra response headers, such as `Retry-After`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Only requests with this project token.
    #[serde(default)]
    pub token: Option<String>,
}

/// One request as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// Arrival order, from 0.
    pub seq: usize,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Raw query string.
    pub query: Option<String>,
    /// Request `Content-Type`.
    pub content_type: Option<String>,
    /// The body was gzip (by its magic bytes).
    pub gzip: bool,
    /// Status answered.
    pub status: u16,
    /// Project token of the body, if any.
    pub token: Option<String>,
    /// Events of a PostHog body, in order.
    pub events: Vec<CaptureEvent<Map<String, Value>>>,
    /// The decoded body of a request to any other path.
    pub body: Option<String>,
    /// Why the body could not be read as PostHog capture, if it could not.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The receiver's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/_control/fail", post(add_rule))
        .route("/_control/requests", get(list_requests))
        .route("/_control/reset", post(reset))
        .fallback(capture)
        .with_state(state)
        .layer(axum::middleware::from_fn(answer_preflight))
        .layer(axum::middleware::map_response(allow_any_origin))
}

/// CORS preflights get 204 on every path, before any route sees them.
async fn answer_preflight(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.method() == Method::OPTIONS {
        return StatusCode::NO_CONTENT.into_response();
    }
    next.run(req).await
}

async fn allow_any_origin(mut res: Response) -> Response {
    let headers = res.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("*"),
    );
    res
}

async fn add_rule(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<FailRule>(&body) {
        Ok(rule) => {
            state.lock().rules.push(rule);
            Json(json!({"ok": true})).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn list_requests(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let inner = state.lock();
    let matching: Vec<&Recorded> = inner
        .requests
        .iter()
        .filter(|r| q.token.is_none() || r.token == q.token)
        .collect();
    Json(json!(matching)).into_response()
}

async fn reset(State(state): State<AppState>) -> Response {
    let mut inner = state.lock();
    inner.requests.clear();
    inner.rules.clear();
    Json(json!({"ok": true})).into_response()
}

async fn capture(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let gzip = body.starts_with(&[0x1f, 0x8b]);
    let text = decode(&body, gzip);
    let (token, events, error, raw_body) = if is_posthog_capture_path(&path) {
        match text.and_then(|t| parse_capture(&t)) {
            Ok((token, events)) => (token, events, None, None),
            Err(e) => (None, Vec::new(), Some(e), None),
        }
    } else {
        // Not PostHog (a Sentry envelope, say): kept as text for the test to
        // read; a Sentry key in the query counts as the token.
        let token = sentry_key(uri.query());
        match text {
            Ok(t) => (token, Vec::new(), None, Some(t)),
            Err(e) => (token, Vec::new(), Some(e), None),
        }
    };
    let mut inner = state.lock();
    let rule = inner.rules.iter_mut().find(|r| {
        r.count > 0
            && (r.path == path || (r.path.ends_with('/') && path.starts_with(&r.path)))
            && (r.token.is_none() || r.token == token)
    });
    let (status, extra_headers) = match (&error, rule) {
        (_, Some(rule)) => {
            rule.count -= 1;
            (rule.status, rule.headers.clone())
        }
        (Some(_), None) => (400, BTreeMap::new()),
        (None, None) => (200, BTreeMap::new()),
    };
    let seq = inner.requests.len();
    inner.requests.push(Recorded {
        seq,
        method: method.to_string(),
        path,
        query: uri.query().map(str::to_owned),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        gzip,
        status,
        token,
        events,
        body: raw_body,
        error: error.clone(),
    });
    drop(inner);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match error {
        Some(e) if status.is_client_error() => json!({"error": e}),
        _ => json!({"status": 1}),
    };
    let mut res = (status, Json(body)).into_response();
    for (name, value) in extra_headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            res.headers_mut().insert(name, value);
        }
    }
    res
}

/// `sentry_key` of a query string (Sentry's query-string auth).
fn sentry_key(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("sentry_key="))
        .map(str::to_owned)
}

/// The paths PostHog's capture service takes, with or without a trailing slash.
fn is_posthog_capture_path(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    ["/batch", "/e", "/i/v0/e", "/capture", "/track"].contains(&path)
}

fn decode(body: &[u8], gzip: bool) -> Result<String, String> {
    if gzip {
        let mut text = String::new();
        flate2::read::GzDecoder::new(body)
            .read_to_string(&mut text)
            .map_err(|e| format!("bad gzip body: {e}"))?;
        Ok(text)
    } else {
        String::from_utf8(body.to_vec()).map_err(|_| "body is not UTF-8".to_owned())
    }
}

type Parsed = (Option<String>, Vec<CaptureEvent<Map<String, Value>>>);

/// A `/batch/` body, a bare array of events, or one event.
fn parse_capture(text: &str) -> Result<Parsed, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("bad JSON: {e}"))?;
    let (api_key, events) = match value {
        Value::Array(_) => (
            None,
            serde_json::from_value(value).map_err(|e| e.to_string())?,
        ),
        Value::Object(ref o) if o.contains_key("batch") => {
            let body: BatchBody<Map<String, Value>> =
                serde_json::from_value(value).map_err(|e| e.to_string())?;
            (body.api_key, body.batch)
        }
        _ => {
            let event: CaptureEvent<Map<String, Value>> =
                serde_json::from_value(value).map_err(|e| e.to_string())?;
            (None, vec![event])
        }
    };
    let token = api_key.or_else(|| {
        events.iter().find_map(|e| {
            e.api_key
                .clone()
                .or_else(|| e.properties.get("token")?.as_str().map(str::to_owned))
        })
    });
    Ok((token, events))
}

impl AppState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means a handler panicked; the data is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use std::io::Write;
    use tower::ServiceExt;

    async fn send(app: &Router, method: &str, uri: &str, body: Vec<u8>) -> (u16, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::from(body))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn batch(token: &str, names: &[&str]) -> Vec<u8> {
        let events: Vec<Value> = names
            .iter()
            .map(|n| json!({"event": n, "properties": {"distinct_id": "d"}}))
            .collect();
        json!({"api_key": token, "batch": events})
            .to_string()
            .into_bytes()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[tokio::test]
    async fn records_gzip_and_plain_batches_by_token() {
        let app = router(AppState::default());
        assert_eq!(
            send(&app, "POST", "/batch/", gzip(&batch("a", &["x", "y"])))
                .await
                .0,
            200
        );
        assert_eq!(
            send(&app, "POST", "/batch/?beacon=1", batch("b", &["z"]))
                .await
                .0,
            200
        );
        let (_, recorded) = send(&app, "GET", "/_control/requests?token=a", vec![]).await;
        let recorded: Vec<Recorded> = serde_json::from_value(recorded).unwrap();
        assert_eq!(recorded.len(), 1);
        assert!(recorded[0].gzip);
        let names: Vec<_> = recorded[0]
            .events
            .iter()
            .map(|e| e.event.as_str())
            .collect();
        assert_eq!(names, ["x", "y"]);
    }

    #[tokio::test]
    async fn fails_as_scripted_then_recovers() {
        let app = router(AppState::default());
        let rule = json!({"path": "/batch/", "status": 503, "count": 2, "token": "a",
                          "headers": {"Retry-After": "7"}});
        assert_eq!(
            send(
                &app,
                "POST",
                "/_control/fail",
                rule.to_string().into_bytes()
            )
            .await
            .0,
            200
        );
        assert_eq!(
            send(&app, "POST", "/batch/", batch("b", &["other"]))
                .await
                .0,
            200
        );
        let req = Request::post("/batch/")
            .body(Body::from(batch("a", &["x"])))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers()["retry-after"], "7");
        assert_eq!(
            send(&app, "POST", "/batch/", batch("a", &["x"])).await.0,
            503
        );
        assert_eq!(
            send(&app, "POST", "/batch/", batch("a", &["x"])).await.0,
            200
        );
    }

    #[tokio::test]
    async fn bad_bodies_get_400_and_the_server_keeps_serving() {
        let app = router(AppState::default());
        let (status, body) = send(&app, "POST", "/batch/", b"{not json".to_vec()).await;
        assert_eq!(status, 400);
        assert!(body["error"].as_str().unwrap().contains("bad JSON"));
        assert_eq!(
            send(&app, "POST", "/batch/", vec![0x1f, 0x8b, 0]).await.0,
            400
        );
        assert_eq!(
            send(&app, "POST", "/_control/fail", b"[]".to_vec()).await.0,
            400
        );
        assert_eq!(
            send(&app, "POST", "/batch/", batch("a", &["ok"])).await.0,
            200
        );
    }

    #[tokio::test]
    async fn other_paths_are_recorded_as_text() {
        let app = router(AppState::default());
        let envelope = b"{\"event_id\":\"e\"}\n{\"type\":\"event\"}\n{}".to_vec();
        assert_eq!(
            send(&app, "POST", "/api/1/envelope/", gzip(&envelope))
                .await
                .0,
            200
        );
        let (_, recorded) = send(&app, "GET", "/_control/requests", vec![]).await;
        let recorded: Vec<Recorded> = serde_json::from_value(recorded).unwrap();
        assert_eq!(
            recorded[0].body.as_deref().map(str::as_bytes),
            Some(&envelope[..])
        );
        assert!(recorded[0].events.is_empty());
    }

    #[tokio::test]
    async fn sentry_keys_are_tokens_for_rules_and_queries() {
        let app = router(AppState::default());
        let rule = br#"{"path": "/api/", "status": 429, "count": 1, "token": "k1",
            "headers": {"X-Sentry-Rate-Limits": "60:error"}}"#;
        assert_eq!(
            send(&app, "POST", "/_control/fail", rule.to_vec()).await.0,
            200
        );
        let url = |key: &str| format!("/api/1/envelope/?sentry_version=7&sentry_key={key}");
        assert_eq!(send(&app, "POST", &url("k2"), b"{}".to_vec()).await.0, 200);
        assert_eq!(send(&app, "POST", &url("k1"), b"{}".to_vec()).await.0, 429);
        assert_eq!(send(&app, "POST", &url("k1"), b"{}".to_vec()).await.0, 200);
        let (_, recorded) = send(&app, "GET", "/_control/requests?token=k1", vec![]).await;
        let statuses: Vec<_> = recorded
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].clone())
            .collect();
        assert_eq!(statuses, [429, 200]);
    }

    #[tokio::test]
    async fn preflight_and_responses_allow_any_origin() {
        let app = router(AppState::default());
        let req = Request::builder()
            .method("OPTIONS")
            .uri("/_control/fail")
            .body(Body::empty())
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert!(res.status().is_success());
        assert_eq!(res.headers()["access-control-allow-origin"], "*");
    }
}
