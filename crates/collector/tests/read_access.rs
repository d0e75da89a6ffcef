//! The read side (dashboard, query API) needs the read token; the write side stays
//! open, with CORS on it only; without a token the collector serves reads only on
//! loopback and refuses to start anywhere else.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use ff_telemetry_collector::{AppState, StartError};
use serde_json::json;

const TOKEN: &str = "read-s3cret-token";
const READ_ROUTES: [&str; 3] = ["/", "/api/pings", "/api/events?source=posthog"];

fn with_auth(uri: &str, value: &str) -> Request<Body> {
    Request::get(uri)
        .header("authorization", value)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn every_read_route_needs_the_token() {
    let db = sqlite();
    let mut config = db.config();
    config.read_token = Some(TOKEN.into());
    let (app, _) = app(&config, "127.0.0.1:1").await;
    for uri in READ_ROUTES {
        for request in [
            get(uri),
            with_auth(uri, "Bearer wrong-token"),
            with_auth(uri, &format!("Bearer {TOKEN}x")),
            with_auth(uri, &format!("Basic {TOKEN}")),
        ] {
            let answer = send(&app, request).await;
            assert_eq!(answer.status, 401, "{uri}");
            assert_eq!(
                answer.headers["www-authenticate"], "Bearer realm=\"ff-telemetry collector\"",
                "{uri}"
            );
            let body = String::from_utf8_lossy(&answer.body);
            assert!(!body.contains("Latest pings"), "{uri} leaked the dashboard");
        }
        let answer = send(&app, with_auth(uri, &format!("Bearer {TOKEN}"))).await;
        assert_eq!(answer.status, 200, "{uri}");
    }
    // The API says why in JSON; the dashboard asks for the token in a page.
    let answer = send(&app, get("/api/pings")).await;
    assert_eq!(
        answer.json(),
        json!({"status": "error", "error": "read token is missing (Authorization: Bearer TOKEN)"})
    );
    let answer = send(&app, with_auth("/api/events", "Bearer nope")).await;
    assert_eq!(answer.error(), "read token is not accepted");
    let page = send(&app, get("/")).await;
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = String::from_utf8_lossy(&page.body);
    assert!(page.contains(r#"<form id="login">"#), "{page}");
    assert!(page.contains("'Bearer ' + token"), "{page}");
    // Health tells nothing but that the collector runs, so it stays open.
    assert_eq!(send(&app, get("/api/health")).await.status, 200);
}

#[tokio::test]
async fn write_routes_stay_open_and_alone_have_cors() {
    let db = sqlite();
    let mut config = db.config();
    config.read_token = Some(TOKEN.into());
    let (app, _) = app(&config, "127.0.0.1:1").await;
    let envelope = format!("/api/{SENTRY_PROJECT}/envelope/?sentry_key={SENTRY_KEY}");
    let writes = [
        ("/ping", ping_json(INSTANCE)),
        ("/", ping_json(INSTANCE)),
        (
            "/e/",
            json!({"event": "$pageview", "distinct_id": "d", "token": "phc"}).to_string(),
        ),
        (envelope.as_str(), "{}\n".to_owned()),
    ];
    for (uri, body) in writes {
        let request = Request::post(uri)
            .header("origin", "http://app.example")
            .header("content-type", "text/plain")
            .body(Body::from(body))
            .unwrap();
        let answer = send(&app, request).await;
        assert_eq!(answer.status, 200, "{uri}: {}", answer.error());
        assert_eq!(
            answer.headers["access-control-allow-origin"], "http://app.example",
            "{uri}"
        );
    }
    let preflight = |uri: &str| {
        Request::options(uri)
            .header("origin", "http://app.example")
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap()
    };
    let answer = send(&app, preflight("/e/")).await;
    assert_eq!(
        answer.headers["access-control-allow-origin"],
        "http://app.example"
    );
    for uri in ["/api/pings", "/api/events"] {
        let answer = send(&app, preflight(uri)).await;
        assert!(
            !answer.headers.contains_key("access-control-allow-origin"),
            "{uri} answered a preflight"
        );
    }
    // `/` also takes pings, so its preflight is answered; what it serves to GET
    // still carries no CORS header, so no other site's page can read it.
    for uri in READ_ROUTES {
        let request = Request::get(uri)
            .header("origin", "http://app.example")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        let answer = send(&app, request).await;
        assert_eq!(answer.status, 200, "{uri}");
        assert!(
            !answer.headers.contains_key("access-control-allow-origin"),
            "{uri} is readable cross-origin"
        );
    }
    let stored = send(
        &app,
        with_auth("/api/events?source=posthog", &format!("Bearer {TOKEN}")),
    )
    .await;
    assert_eq!(stored.json()["events"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn without_a_token_reads_are_open_on_loopback_only() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    for uri in READ_ROUTES {
        assert_eq!(send(&app, get(uri)).await.status, 200, "{uri}");
    }

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("collector");
    let mut config = ff_telemetry_collector::CollectorConfig::new(&data_dir);
    for listen in ["0.0.0.0:3001", "[::]:3001", "192.0.2.10:3001"] {
        config.listen = listen.parse().unwrap();
        let err = AppState::open(&config).await.unwrap_err();
        assert!(matches!(err, StartError::ReadTokenRequired(_)), "{err}");
        let message = err.to_string();
        assert!(
            message.contains(listen) && message.contains("--read-token"),
            "{message}"
        );
        assert!(!data_dir.exists(), "nothing is created before refusing");
    }
    // With a token, any address will do.
    config.read_token = Some(TOKEN.into());
    assert!(AppState::open(&config).await.is_ok());
}
