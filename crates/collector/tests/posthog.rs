//! The PostHog capture sink and `GET /api/events?source=posthog`.

mod common;

use std::io::Write;

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use common::*;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn event(name: &str, distinct_id: &str) -> Value {
    json!({"event": name, "properties": {"distinct_id": distinct_id, "token": "phc_test", "$current_url": "http://h/a"}})
}

async fn events(app: &axum::Router, query: &str) -> Vec<Value> {
    let answer = send(app, get(&format!("/api/events?{query}"))).await;
    assert_eq!(answer.status, 200, "{}", answer.error());
    answer.json()["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_path_and_encoding_is_accepted_and_stored() {
    for db in databases("posthog_paths_and_encodings").await {
        let (app, _) = app(&db.config(), "127.0.0.1:1").await;
        let single = event("single", "d1").to_string();
        let batch = json!({"api_key": "phc_test", "batch": [event("batch", "d2")], "sent_at": "2026-11-28T07:00:00Z"}).to_string();
        let array = json!([event("array", "d3")]).to_string();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&array);
        let form = serde_urlencoded::to_string([("data", &b64)]).unwrap();
        // lz-string 1.5 compressToBase64 of {"event":"e","properties":{"distinct_id":"d","token":"t"}}
        let lz = "N4IgpgbmB2AuIC5wgDQgA4CcD26ydgEswBnRUAE0JKOgGNYB9QixEVtWbAaxjfgC+AoA";
        let lz_form = serde_urlencoded::to_string([("data", lz), ("compression", "lz64")]).unwrap();
        let get_data = serde_urlencoded::to_string([("data", &single)]).unwrap();
        let requests: Vec<Request<Body>> = vec![
            post("/e/", "application/json", single.clone()),
            post("/e", "text/plain", gzip(batch.as_bytes())),
            post(
                "/i/v0/e/?compression=gzip-js&ver=1.200.0",
                "text/plain",
                gzip(array.as_bytes()),
            ),
            post("/capture/", "application/x-www-form-urlencoded", form),
            post(
                "/track?compression=lz64",
                "application/x-www-form-urlencoded",
                lz_form,
            ),
            post("/batch/", "application/json", batch.clone()),
            post("/batch", "text/plain", b64.clone()),
            Request::post("/capture")
                .header("content-encoding", "gzip")
                .body(Body::from(gzip(single.as_bytes())))
                .unwrap(),
            get(&format!("/e/?{get_data}")),
            get(&format!(
                "/track/?data={}",
                b64.replace('+', "%2B").replace('/', "%2F")
            )),
        ];
        let n_requests = requests.len();
        for (i, request) in requests.into_iter().enumerate() {
            let uri = request.uri().to_string();
            let answer = send(&app, request).await;
            assert_eq!(
                answer.status,
                200,
                "{} request {i} {uri}: {}",
                db.name,
                String::from_utf8_lossy(&answer.body)
            );
            assert_eq!(answer.json(), json!({"status": 1}));
        }
        let stored = events(&app, "source=posthog&limit=100").await;
        assert_eq!(stored.len(), n_requests, "{}", db.name);
        let e = &events(&app, "source=posthog&name=batch&limit=1").await[0];
        assert_eq!(e["source"], "posthog");
        assert_eq!(e["name"], "batch");
        assert_eq!(e["distinct_id"], "d2");
        assert_eq!(e["properties"]["$current_url"], "http://h/a");
        let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["distinct_id", "name", "properties", "received_at", "source"]
        );
        assert_eq!(
            events(&app, "source=posthog&name=e").await[0]["distinct_id"],
            "d"
        );
    }
}

#[tokio::test]
async fn beacon_gets_204() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let answer = send(
        &app,
        post(
            "/e/?beacon=1",
            "text/plain",
            event("$pageleave", "d").to_string(),
        ),
    )
    .await;
    assert_eq!(answer.status, 204);
    assert_eq!(events(&app, "name=%24pageleave").await.len(), 1);
}

#[tokio::test]
async fn one_bad_event_fails_the_whole_request_and_nothing_is_stored() {
    for db in databases("posthog_refusals").await {
        let (app, _) = app(&db.config(), "127.0.0.1:1").await;
        let cases = [
            (
                json!([event("ok", "d"), {"event": "x", "properties": {"token": "phc_test"}}]),
                400,
                "[1]: distinct_id is missing",
            ),
            (
                json!({"batch": [event("ok", "d"), {"properties": {}}]}),
                400,
                "batch[1]: missing field `event`",
            ),
            (
                json!({"event": "x", "distinct_id": "d"}),
                401,
                "project token is missing",
            ),
            (
                json!([event("ok", "d"), {"event": "x", "distinct_id": "d", "token": "other"}]),
                400,
                "one request carries more than one project token",
            ),
            (json!(5), 400, "body must be an event object"),
        ];
        for (body, status, message) in cases {
            let answer = send(&app, post("/e/", "application/json", body.to_string())).await;
            assert_eq!(answer.status, status, "{body}");
            assert!(
                answer.error().starts_with(message),
                "{}: {}",
                db.name,
                answer.error()
            );
        }
        for (body, message) in [
            (&b"{nope"[..], "body is not valid JSON"),
            (b"\x1f\x8b\x08\x00garbage", "compressed body is corrupt"),
            (b"", "empty body and no data query parameter"),
        ] {
            let answer = send(&app, post("/e/", "text/plain", body.to_vec())).await;
            assert_eq!(answer.status, 400);
            assert!(answer.error().starts_with(message), "{}", answer.error());
        }
        assert_eq!(events(&app, "source=posthog").await.len(), 0, "{}", db.name);
        let answer = send(&app, get("/api/events?source=mixpanel")).await;
        assert_eq!(answer.status, 400);
        assert!(answer.error().contains("expected posthog or sentry"));
    }
}

#[tokio::test]
async fn configured_tokens_refuse_others() {
    let db = sqlite();
    let mut config = db.config();
    config.posthog_tokens = vec!["phc_demo".into()];
    let (app, _) = app(&config, "127.0.0.1:1").await;
    let answer = send(
        &app,
        post("/e/", "application/json", event("x", "d").to_string()),
    )
    .await;
    assert_eq!(
        (answer.status.as_u16(), answer.error()),
        (401, "unknown project token".into())
    );
    let ok = json!({"event": "x", "distinct_id": "d", "api_key": "phc_demo"});
    assert_eq!(
        send(&app, post("/e/", "application/json", ok.to_string()))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn cors_mirrors_the_origin_with_credentials_and_answers_preflight() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let preflight = Request::options("/e/")
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(Body::empty())
        .unwrap();
    let answer = send(&app, preflight).await;
    assert!(answer.status.is_success(), "{}", answer.status);
    let h = |name: &str| {
        answer
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(
        h("access-control-allow-origin").as_deref(),
        Some("http://localhost:5173")
    );
    assert_eq!(
        h("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert!(h("access-control-allow-methods").unwrap().contains("POST"));
    assert!(
        h("access-control-allow-headers")
            .unwrap()
            .contains("content-type")
    );

    let request = Request::post("/e/")
        .header("origin", "http://app.example")
        .header("content-type", "text/plain")
        .body(Body::from(event("x", "d").to_string()))
        .unwrap();
    let answer = send(&app, request).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.headers["access-control-allow-origin"],
        "http://app.example"
    );
    assert_eq!(answer.headers["access-control-allow-credentials"], "true");
}

#[tokio::test]
async fn flags_endpoint_answers_with_no_flags() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let answer = send(&app, post("/flags/?v=2", "application/json", "{}")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["featureFlags"], json!({}));
}
