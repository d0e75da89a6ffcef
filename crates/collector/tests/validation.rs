//! Only valid items are stored, in bounded numbers: Sentry items checked as Sentry's
//! ingestion checks them, envelopes and PostHog requests bounded as Sentry and
//! PostHog bound them.

mod common;

use axum::Router;
use common::*;
use ff_telemetry_wire::posthog::ingest::MAX_EVENTS_PER_REQUEST;
use serde_json::json;

const SID: &str = "7c6a5f0a-3b8e-4c1f-9e3a-2d1b0c9f8e7d";

fn envelope_uri() -> String {
    format!("/api/{SENTRY_PROJECT}/envelope/?sentry_key={SENTRY_KEY}")
}

fn sessions(n: usize, payload: &str) -> String {
    let mut body = String::from("{}\n");
    for _ in 0..n {
        body.push_str("{\"type\":\"session\"}\n");
        body.push_str(payload);
        body.push('\n');
    }
    body
}

/// Sends one envelope of `n` session items whose payload is `{"sid":"x"}`.
async fn send_bogus_sessions(app: &Router, n: usize) -> Answer {
    let body = sessions(n, r#"{"sid":"x"}"#);
    send(app, post(&envelope_uri(), "text/plain", body)).await
}

async fn n_stored(app: &Router) -> usize {
    let answer = send(app, get("/api/events?limit=1000")).await;
    answer.json()["events"].as_array().unwrap().len()
}

#[tokio::test]
async fn ten_thousand_bogus_sessions_store_nothing_and_say_so() {
    for db in databases("validation_bogus_sessions").await {
        let (app, _) = app(&db.config(), "127.0.0.1:1").await;
        let answer = send_bogus_sessions(&app, 10_000).await;
        assert_eq!(answer.status, 413, "{}", db.name);
        assert_eq!(
            answer.error(),
            "envelope holds 10000 session items, at most 100 are accepted"
        );
        // Within the limit, each bogus item is dropped and listed.
        let answer = send_bogus_sessions(&app, 100).await;
        assert_eq!(answer.status, 200, "{}: {}", db.name, answer.error());
        let body = answer.json();
        assert_eq!(body["n_stored"], 0);
        assert_eq!(body["n_dropped"], 100);
        assert_eq!(
            body["dropped"][99],
            json!({"item": 99, "type": "session", "reason": "sid: expected a UUID, found \"x\""})
        );
        assert_eq!(n_stored(&app).await, 0, "{}", db.name);
    }
}

#[tokio::test]
async fn valid_items_are_kept_beside_invalid_ones() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let session = json!({"sid": SID, "started": "2026-11-28T07:00:00Z", "status": "crashed",
        "attrs": {"release": "flowfuse@2.11.0"}});
    let body = [
        "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}".to_owned(),
        "{\"type\":\"session\"}".into(),
        session.to_string(),
        "{\"type\":\"session\"}".into(),
        json!({"sid": SID, "started": "2026-11-28T07:00:00Z", "status": "sleepy", "attrs": {"release": "r"}}).to_string(),
        "{\"type\":\"event\"}".into(),
        json!({"message": "takes the envelope's id"}).to_string(),
        "{\"type\":\"profile\"}".into(),
        "{}".into(),
        "{\"type\":\"client_report\"}".into(),
        json!({"discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 3}]}).to_string(),
    ]
    .join("\n");
    let answer = send(&app, post(&envelope_uri(), "text/plain", body)).await;
    assert_eq!(answer.status, 200, "{}", answer.error());
    let answer = answer.json();
    assert_eq!(
        (answer["n_stored"].as_u64(), answer["n_dropped"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(
        answer["dropped"],
        json!([
            {"item": 1, "type": "session", "reason": "status: expected ok, exited, crashed, abnormal or errored, found \"sleepy\""},
            {"item": 3, "type": "profile", "reason": "this item type is not kept"},
        ])
    );
    let stored = send(&app, get("/api/events?source=sentry")).await.json();
    let names: Vec<&str> = stored["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["client_report", "event", "session"]);
}

#[tokio::test]
async fn envelopes_over_sentrys_limits_are_refused_whole() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let two_events = "{}\n{\"type\":\"event\"}\n{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"transaction\"}\n{}\n";
    let big_event = format!(
        "{{}}\n{{\"type\":\"event\"}}\n{{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"message\":\"{}\"}}\n",
        "x".repeat(1024 * 1024)
    );
    let attachments = "{}\n".to_owned() + &"{\"type\":\"attachment\"}\nhi\n".repeat(101);
    let cases = [
        (
            two_events.to_owned(),
            400,
            "envelope holds 2 event or transaction items, at most 1 is accepted",
        ),
        (
            big_event,
            413,
            "event payloads are 1048636 bytes, at most 1048576 are accepted",
        ),
        (
            attachments,
            413,
            "envelope holds 101 items, at most 100 are accepted",
        ),
    ];
    for (body, status, error) in cases {
        let answer = send(&app, post(&envelope_uri(), "text/plain", body)).await;
        assert_eq!(
            (answer.status.as_u16(), answer.error().as_str()),
            (status, error)
        );
    }
    assert_eq!(n_stored(&app).await, 0);
}

#[tokio::test]
async fn posthog_requests_are_bounded() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let event = json!({"event": "e", "distinct_id": "d"});
    let too_many =
        json!({"api_key": "phc", "batch": vec![event.clone(); MAX_EVENTS_PER_REQUEST + 1]});
    let answer = send(
        &app,
        post("/batch/", "application/json", too_many.to_string()),
    )
    .await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.error(),
        "request holds 10001 events, at most 10000 are accepted"
    );
    let big = json!({"api_key": "phc", "batch": [event, {"event": "e", "distinct_id": "d",
        "properties": {"pad": "x".repeat(1024 * 1024)}}]});
    let answer = send(&app, post("/batch/", "application/json", big.to_string())).await;
    assert_eq!(answer.status, 413);
    assert!(
        answer.error().starts_with("batch[1]: event is "),
        "{}",
        answer.error()
    );
    assert_eq!(n_stored(&app).await, 0);
}
