//! The Sentry envelope sink and `GET /api/events?source=sentry`.

mod common;

use std::io::Write;

use axum::body::Body;
use axum::http::Request;
use common::*;
use ff_telemetry_wire::sentry::{Envelope, EnvelopeHeader, EnvelopeItem};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

const EVENT_ID: &str = "9ec79c33ec9942ab8353589fcb2e04dc";

fn envelope() -> Vec<u8> {
    Envelope {
        header: EnvelopeHeader {
            event_id: Some(EVENT_ID.into()),
            ..Default::default()
        },
        items: vec![
            EnvelopeItem::json(
                "event",
                &json!({"event_id": EVENT_ID, "level": "error", "platform": "javascript",
                    "user": {"id": "u1"},
                    "exception": {"values": [{"type": "TypeError", "value": "x is undefined"}]}}),
            ),
            EnvelopeItem::json(
                "session",
                &json!({"sid": "s1", "did": "dev1", "init": true, "status": "ok"}),
            ),
        ],
    }
    .to_bytes()
}

fn envelope_uri(query: &str) -> String {
    format!("/api/{SENTRY_PROJECT}/envelope/{query}")
}

#[tokio::test]
async fn envelopes_are_stored_item_by_item() {
    for db in databases("sentry_envelopes").await {
        let (app, _) = app(&db.config(), "127.0.0.1:1").await;
        let uri = envelope_uri(&format!(
            "?sentry_version=7&sentry_key={SENTRY_KEY}&sentry_client=test%2F1"
        ));
        let answer = send(&app, post(&uri, "text/plain;charset=UTF-8", envelope())).await;
        assert_eq!(answer.status, 200, "{}: {}", db.name, answer.error());
        assert_eq!(answer.json(), json!({"id": EVENT_ID}));

        let answer = send(&app, get("/api/events?source=sentry")).await.json();
        let events = answer["events"].as_array().unwrap();
        assert_eq!(events.len(), 2, "{}", db.name);
        let session = &events[0];
        assert_eq!(session["name"], "session");
        assert_eq!(session["distinct_id"], "dev1");
        assert_eq!(session["payload"]["sid"], "s1");
        let event = &events[1];
        assert_eq!(event["source"], "sentry");
        assert_eq!(event["name"], "event");
        assert_eq!(event["distinct_id"], "u1");
        assert_eq!(
            event["payload"]["exception"]["values"][0]["type"],
            "TypeError"
        );
        let keys: Vec<&String> = event.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["distinct_id", "name", "payload", "received_at", "source"]
        );
        let only_events = send(&app, get("/api/events?source=sentry&name=event"))
            .await
            .json();
        assert_eq!(only_events["events"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn header_auth_dsn_auth_gzip_and_no_slash_are_accepted() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&envelope()).unwrap();
    let gz = gz.finish().unwrap();
    let auth = format!(
        "Sentry sentry_version=7, sentry_client=sentry.rust/0.49.5, sentry_key={SENTRY_KEY}"
    );
    let with_dsn = {
        let mut e = Envelope::parse(&envelope()).unwrap();
        e.header.dsn = Some(format!("http://{SENTRY_KEY}@127.0.0.1:1/{SENTRY_PROJECT}"));
        e.to_bytes()
    };
    let requests = [
        Request::post(envelope_uri(""))
            .header("x-sentry-auth", &auth)
            .header("content-type", "application/x-sentry-envelope")
            .body(Body::from(envelope()))
            .unwrap(),
        Request::post(envelope_uri(""))
            .header("x-sentry-auth", &auth)
            .header("content-encoding", "gzip")
            .body(Body::from(gz))
            .unwrap(),
        Request::post(format!(
            "/api/{SENTRY_PROJECT}/envelope?sentry_key={SENTRY_KEY}"
        ))
        .body(Body::from(envelope()))
        .unwrap(),
        post(&envelope_uri(""), "text/plain", with_dsn),
    ];
    for request in requests {
        let answer = send(&app, request).await;
        assert_eq!(answer.status, 200, "{}", answer.error());
    }
    let stored = send(&app, get("/api/events?source=sentry&limit=1000"))
        .await
        .json();
    assert_eq!(stored["events"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn refusals_say_why() {
    for db in databases("sentry_refusals").await {
        let (app, _) = app(&db.config(), "127.0.0.1:1").await;
        let key = format!("?sentry_key={SENTRY_KEY}");
        let cases: Vec<(String, Vec<u8>, u16, String)> = vec![
            (
                envelope_uri(""),
                envelope(),
                401,
                "sentry_key is missing".into(),
            ),
            (
                envelope_uri("?sentry_key=wrong"),
                envelope(),
                401,
                "sentry_key \"wrong\" is not accepted for project \"42\"".into(),
            ),
            (
                format!("/api/7/envelope/{key}"),
                envelope(),
                401,
                format!("sentry_key \"{SENTRY_KEY}\" is not accepted for project \"7\""),
            ),
            (
                envelope_uri(&key),
                b"".to_vec(),
                400,
                "invalid envelope: envelope is empty".into(),
            ),
            (
                envelope_uri(&key),
                b"not json\n".to_vec(),
                400,
                "invalid envelope: envelope header is not valid JSON".into(),
            ),
            (
                envelope_uri(&key),
                b"{}\n{\"type\":\"event\",\"length\":99}\n{}".to_vec(),
                400,
                "invalid envelope: item 0: length 99 runs past the end of the envelope".into(),
            ),
            (
                envelope_uri(&key),
                b"{}\n{\"length\":2}\n{}".to_vec(),
                400,
                "invalid envelope: item 0: header is not valid".into(),
            ),
        ];
        for (uri, body, status, message) in cases {
            let answer = send(&app, post(&uri, "text/plain", body)).await;
            assert_eq!(answer.status, status, "{uri}: {}", answer.error());
            assert!(
                answer.error().starts_with(&message),
                "{}: {}",
                db.name,
                answer.error()
            );
        }
        let answer = send(&app, post("/api/%FF/envelope/", "text/plain", envelope())).await;
        assert_eq!(answer.status, 400);
        assert!(answer.error().contains("UTF-8"), "{}", answer.error());
        let stored = send(&app, get("/api/events?source=sentry")).await.json();
        assert_eq!(stored["events"], json!([]), "{}", db.name);
    }
}

#[tokio::test]
async fn non_json_items_are_kept_as_text() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let body = b"{}\n{\"type\":\"attachment\",\"length\":5,\"filename\":\"a.txt\"}\nhello\n{\"type\":\"event\"}\n{\"message\":\"plain message\"}\n";
    let answer = send(
        &app,
        post(
            &envelope_uri(&format!("?sentry_key={SENTRY_KEY}")),
            "text/plain",
            body.to_vec(),
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.error());
    assert_eq!(answer.json(), json!({"id": null}));
    let stored = send(&app, get("/api/events?source=sentry&name=attachment"))
        .await
        .json();
    assert_eq!(stored["events"][0]["payload"], "hello");
}
