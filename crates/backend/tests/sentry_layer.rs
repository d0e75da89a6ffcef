//! Backend Sentry end to end: the real `sentry` client sending envelopes to a real
//! HTTP receiver on 127.0.0.1. One test in this binary, because the client is
//! process-wide.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::middleware::from_fn;
use axum::routing::{get, post};
use ff_telemetry_backend::{init_backend_sentry, report_server_errors};
use ff_telemetry_core::config::parse_flowforge_yml;
use serde_json::Value;
use tower::ServiceExt;

type Envelopes = Arc<Mutex<Vec<String>>>;

async fn receive(State(envelopes): State<Envelopes>, body: String) -> StatusCode {
    envelopes.lock().unwrap().push(body);
    StatusCode::OK
}

/// The events (items with tags) of every envelope received.
fn events(envelopes: &Envelopes) -> Vec<Value> {
    envelopes
        .lock()
        .unwrap()
        .iter()
        .flat_map(|envelope| envelope.lines().map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
        .filter(|item| item.get("tags").is_some())
        .collect()
}

async fn boom() -> StatusCode {
    panic!("kaboom")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_panics_reach_sentry_with_method_route_and_status_only() {
    let envelopes = Envelopes::default();
    let receiver = Router::new()
        .route("/api/7/envelope/", post(receive))
        .with_state(envelopes.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let yml =
        format!("telemetry:\n  backend:\n    sentry:\n      dsn: 'http://publickey@{addr}/7'\n");
    let config = parse_flowforge_yml(&yml).unwrap().config;
    let _guard = init_backend_sentry(&config, "9.9.9").expect("a DSN is configured");

    let app = Router::new()
        .route("/teams/{id}/boom", get(boom))
        .route(
            "/teams/{id}/fail",
            post(|| async { StatusCode::BAD_GATEWAY }),
        )
        .route(
            "/teams/{id}/refuse",
            post(|| async { StatusCode::FORBIDDEN }),
        )
        .layer(from_fn(report_server_errors));
    let request = |method: &str, path: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("x-forwarded-for", "203.0.113.9")
            .body(Body::from("secret-request-body"))
            .unwrap()
    };
    let cases = [
        ("GET", "/teams/42/boom", StatusCode::INTERNAL_SERVER_ERROR),
        ("POST", "/teams/42/fail", StatusCode::BAD_GATEWAY),
        ("POST", "/teams/42/refuse", StatusCode::FORBIDDEN),
    ];
    for (method, path, want) in cases {
        let response = app.clone().oneshot(request(method, path)).await.unwrap();
        assert_eq!(response.status(), want, "{method} {path}");
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while events(&envelopes).len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no events reached the receiver"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let events = events(&envelopes);
    assert_eq!(events.len(), 2, "4xx answers are not reported: {events:#?}");
    let tags = |route: &str| {
        events
            .iter()
            .find(|e| e["tags"]["http.route"] == route)
            .unwrap_or_else(|| panic!("no event for {route}: {events:#?}"))
            .clone()
    };
    let panic = tags("/teams/{id}/boom");
    assert_eq!(panic["tags"]["http.method"], "GET");
    assert_eq!(panic["tags"]["http.status_code"], "500");
    assert!(panic.to_string().contains("kaboom"));
    let failure = tags("/teams/{id}/fail");
    assert_eq!(failure["tags"]["http.method"], "POST");
    assert_eq!(failure["tags"]["http.status_code"], "502");
    for event in &events {
        assert_eq!(event["release"], "flowfuse@9.9.9");
        assert!(event["environment"].is_string());
        let text = event.to_string();
        for private in ["secret-request-body", "203.0.113.9", "/teams/42"] {
            assert!(!text.contains(private), "{private} leaked: {text}");
        }
    }
}
