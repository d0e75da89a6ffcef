//! Exactly-once storage: a PostHog event once per uuid, a Sentry event or
//! transaction once per event_id, also when copies arrive at once through two
//! collectors on one database, and on a database made before the unique key
//! existed; pings once per request. On SQLite and Postgres.

mod common;

use std::path::Path;

use axum::Router;
use common::*;
use serde_json::{Value, json};

const UUID: &str = "01936b2e-4c1a-7d3e-8f00-000000000001";
const EVENT_ID: &str = "9ec79c33ec9942ab8353589fcb2e04dc";

fn pageview(uuid: Option<&str>) -> Value {
    let mut event = json!({"event": "$pageview", "distinct_id": "d1", "token": "phc_1",
        "properties": {"$current_url": "http://h/a"}});
    if let Some(uuid) = uuid {
        event["uuid"] = json!(uuid);
    }
    event
}

fn sentry_event(event_id: &str) -> String {
    format!(
        "{{\"event_id\":\"{event_id}\"}}\n{{\"type\":\"event\"}}\n{{\"event_id\":\"{event_id}\",\"level\":\"error\",\"message\":\"boom\"}}\n"
    )
}

fn envelope_uri() -> String {
    format!("/api/{SENTRY_PROJECT}/envelope/?sentry_key={SENTRY_KEY}")
}

async fn n_events(app: &Router, source: &str) -> usize {
    let answer = send(app, get(&format!("/api/events?source={source}&limit=1000"))).await;
    answer.json()["events"].as_array().unwrap().len()
}

#[tokio::test]
async fn repeats_are_answered_200_and_stored_once() {
    for db in databases("exactly_once_repeats").await {
        let (app, _) = app(&db.config(), "127.0.0.1:1").await;
        let name = db.name;
        // PostHog: a retried request, and a copy inside one batch (two tabs' queues).
        for _ in 0..2 {
            let answer = send(
                &app,
                post("/e/", "application/json", pageview(Some(UUID)).to_string()),
            )
            .await;
            assert_eq!(answer.status, 200, "{name}: {}", answer.error());
        }
        let upper = UUID.to_uppercase();
        let batch =
            json!({"api_key": "phc_1", "batch": [pageview(Some(&upper)), pageview(Some(UUID))]});
        assert_eq!(
            send(&app, post("/batch/", "application/json", batch.to_string()))
                .await
                .status,
            200
        );
        assert_eq!(n_events(&app, "posthog").await, 1, "{name}: one per uuid");
        // Without a uuid nothing says two events are one.
        for _ in 0..2 {
            send(
                &app,
                post("/e/", "application/json", pageview(None).to_string()),
            )
            .await;
        }
        assert_eq!(n_events(&app, "posthog").await, 3, "{name}");
        // The same uuid under another project token is another event.
        let other =
            json!({"event": "$pageview", "distinct_id": "d1", "token": "phc_2", "uuid": UUID});
        send(&app, post("/e/", "application/json", other.to_string())).await;
        assert_eq!(n_events(&app, "posthog").await, 4, "{name}");

        // Sentry: the repeat stores nothing and says so.
        let first = send(
            &app,
            post(&envelope_uri(), "text/plain", sentry_event(EVENT_ID)),
        )
        .await;
        assert_eq!(first.status, 200, "{name}: {}", first.error());
        assert_eq!(
            (
                first.json()["n_stored"].as_u64(),
                first.json()["n_repeated"].as_u64()
            ),
            (Some(1), Some(0))
        );
        let hyphenated = "9ec79c33-ec99-42ab-8353-589fcb2e04dc";
        for id in [EVENT_ID, hyphenated] {
            let again = send(&app, post(&envelope_uri(), "text/plain", sentry_event(id))).await;
            assert_eq!(again.status, 200, "{name}");
            assert_eq!(
                again.json(),
                json!({"id": id, "n_stored": 0, "n_repeated": 1, "n_dropped": 0, "dropped": []}),
                "{name}"
            );
        }
        assert_eq!(n_events(&app, "sentry").await, 1, "{name}");

        // Pings are stored per request, as documented.
        for _ in 0..2 {
            assert_eq!(
                send(&app, post("/ping", "application/json", ping_json(INSTANCE)))
                    .await
                    .status,
                200
            );
        }
        let pings = send(&app, get("/api/pings")).await.json();
        assert_eq!(pings["pings"].as_array().unwrap().len(), 2, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_arriving_at_once_through_two_collectors_are_stored_once() {
    for db in databases("exactly_once_concurrent").await {
        let config = db.config();
        // Two collectors on one database, each with its own writer.
        let (first, _) = app(&config, "127.0.0.1:1").await;
        let (second, _) = app(&config, "127.0.0.1:2").await;
        let mut tasks = Vec::new();
        for copy in 0..16 {
            let app = if copy % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tasks.push(tokio::spawn(async move {
                let capture = send(
                    &app,
                    post("/e/", "text/plain", pageview(Some(UUID)).to_string()),
                );
                let envelope = send(
                    &app,
                    post(&envelope_uri(), "text/plain", sentry_event(EVENT_ID)),
                );
                let (capture, envelope) = tokio::join!(capture, envelope);
                (capture.status, envelope.status)
            }));
        }
        for task in tasks {
            let (capture, envelope) = task.await.unwrap();
            assert_eq!(
                (capture.as_u16(), envelope.as_u16()),
                (200, 200),
                "{}",
                db.name
            );
        }
        assert_eq!(n_events(&first, "posthog").await, 1, "{}", db.name);
        assert_eq!(n_events(&second, "sentry").await, 1, "{}", db.name);
    }
}

#[tokio::test]
async fn a_database_from_before_the_key_keeps_its_rows_and_then_dedupes() {
    for db in databases("exactly_once_migration").await {
        let url = db.config().database_url();
        migrate_to_first_version(&url, db.name).await;
        // Two copies stored by the old version: both stay.
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        for _ in 0..2 {
            sqlx::query("INSERT INTO events (source, received_at, name, body) VALUES ('posthog', 1, '$pageview', '{}')")
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
        let (app, _) = app(&db.config(), "127.0.0.1:1").await;
        assert_eq!(n_events(&app, "posthog").await, 2, "{}", db.name);
        for _ in 0..2 {
            send(
                &app,
                post("/e/", "application/json", pageview(Some(UUID)).to_string()),
            )
            .await;
        }
        assert_eq!(n_events(&app, "posthog").await, 3, "{}", db.name);
    }
}

/// Applies only the first migration, as a collector of the previous version did.
async fn migrate_to_first_version(url: &str, db_name: &str) {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("migrations/{db_name}/0001_init.sql"));
    std::fs::copy(&source, dir.path().join("0001_init.sql")).unwrap();
    let migrator = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    migrator.run(&pool).await.unwrap();
    pool.close().await;
}
