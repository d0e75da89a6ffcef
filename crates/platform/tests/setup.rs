//! The first-run setup API over HTTP on a real database (SQLite, and Postgres when
//! configured): every transition, bad input, the licence override, a failure in the
//! middle of the transaction, and the real ping scheduler around it.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{ADMIN_TOKEN, Receiver, TestDb, counter, every_engine, open, scheduler, wait_until};
use ff_platform::password::verify_password;
use ff_platform::{Db, Engine, Platform};
use ff_telemetry_backend::{SettingsStore, StatsProvider, SystemClock, VirtualClock, keys};
use ff_telemetry_wire::UnixMs;
use ff_telemetry_wire::ping::PingPayload;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::Row;
use tower::ServiceExt;

const PASSWORD: &str = "correct-horse-42";

fn setup_body(telemetry: bool) -> String {
    json!({"name": "Ada Admin", "email": "ada@example.com", "password": PASSWORD, "telemetry": telemetry})
        .to_string()
}

async fn request(
    platform: &Platform,
    method: &str,
    path: &str,
    body: Option<&str>,
    bearer: bool,
) -> (StatusCode, Value) {
    let mut builder = Request::builder().method(method).uri(path);
    if bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"));
    }
    let request = match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned())),
        None => builder.body(Body::empty()),
    }
    .unwrap();
    let response = platform.router().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn get(platform: &Platform, path: &str) -> (StatusCode, Value) {
    request(platform, "GET", path, None, false).await
}

async fn post_setup(platform: &Platform, body: &str) -> (StatusCode, Value) {
    request(platform, "POST", "/api/v1/setup", Some(body), false).await
}

/// What a setup writes: (admins with their hash, `telemetry:enabled`, `setup:initialised`).
async fn written(
    db: &Db,
) -> (
    Vec<(String, String, Option<String>)>,
    Option<String>,
    Option<String>,
) {
    let admins = sqlx::query("SELECT username, email, password_hash FROM users ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    (
        admins,
        db.get(keys::TELEMETRY_ENABLED).await.unwrap(),
        db.get(keys::INITIALISED).await.unwrap(),
    )
}

async fn assert_nothing_written(platform: &Platform, case: &str) {
    assert_eq!(written(platform.db()).await, (vec![], None, None), "{case}");
    assert_eq!(
        get(platform, "/api/v1/setup").await,
        (StatusCode::OK, json!({"pending": true, "licensed": false})),
        "{case}"
    );
}

#[tokio::test]
async fn setup_goes_from_pending_to_done_once() {
    for db in every_engine("setup_goes_from_pending_to_done_once").await {
        let platform = open(&db, "").await;
        assert_eq!(
            get(&platform, "/api/v1/setup").await,
            (StatusCode::OK, json!({"pending": true, "licensed": false}))
        );
        // The preview is open while pending, and it is the sender's payload: a fresh
        // install counts nothing.
        let (status, preview) = get(&platform, "/api/v1/setup/preview").await;
        assert_eq!(status, StatusCode::OK);
        let payload = PingPayload::from_json_strict(&preview.to_string()).unwrap();
        assert_eq!(
            payload.instance_id,
            platform.telemetry().instance_id().await.unwrap()
        );
        let counts = serde_json::to_value(payload.platform.unwrap().counts.unwrap()).unwrap();
        let numbers = leaf_numbers(&counts);
        assert!(numbers.len() >= 15, "{counts}");
        assert!(numbers.iter().all(|&n| n == 0), "{counts}");

        let (status, body) = post_setup(&platform, &setup_body(false)).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::OK,
                json!({"initialised": true, "telemetry": {"enabled": false, "overridden": false}})
            )
        );
        let (admins, telemetry, initialised) = written(platform.db()).await;
        assert_eq!(
            (telemetry.as_deref(), initialised.as_deref()),
            (Some("false"), Some("true"))
        );
        let [(name, email, Some(hash))] = admins.as_slice() else {
            panic!("one admin with a hash expected: {admins:?}");
        };
        assert_eq!(
            (name.as_str(), email.as_str()),
            ("Ada Admin", "ada@example.com")
        );
        assert!(
            !hash.contains(PASSWORD),
            "the password itself is never stored"
        );
        assert!(verify_password(hash, PASSWORD));
        let is_admin: i64 = sqlx::query("SELECT admin FROM users")
            .fetch_one(platform.db().pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(is_admin, 1);

        assert_eq!(
            get(&platform, "/api/v1/setup").await,
            (StatusCode::OK, json!({"pending": false, "licensed": false}))
        );
        let (status, admin) =
            request(&platform, "GET", "/api/v1/admin/telemetry", None, true).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (admin["enabled"].clone(), admin["effective"].clone()),
            (json!(false), json!(false))
        );

        // No replay: neither the public setup nor the admin shortcut can run again,
        // and the choice stays as it was.
        let (status, body) = post_setup(&platform, &setup_body(true)).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::CONFLICT,
                json!({"error": "setup is already complete"})
            )
        );
        let (status, _) = request(&platform, "POST", "/api/v1/admin/setup", None, true).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            get(&platform, "/api/v1/setup/preview").await.0,
            StatusCode::CONFLICT
        );
        let (admins, telemetry, _) = written(platform.db()).await;
        assert_eq!((admins.len(), telemetry.as_deref()), (1, Some("false")));
        // The admin can still change the setting the usual way.
        let (status, admin) = request(
            &platform,
            "PUT",
            "/api/v1/admin/telemetry",
            Some(r#"{"enabled":true}"#),
            true,
        )
        .await;
        assert_eq!(
            (status, admin["effective"].clone()),
            (StatusCode::OK, json!(true))
        );
    }
}

fn leaf_numbers(value: &Value) -> Vec<u64> {
    match value {
        Value::Number(n) => vec![n.as_u64().unwrap()],
        Value::Object(map) => map.values().flat_map(leaf_numbers).collect(),
        _ => vec![],
    }
}

#[tokio::test]
async fn setup_with_telemetry_on_records_it() {
    let db = common::sqlite();
    let platform = open(&db, "").await;
    let (status, body) = post_setup(&platform, &setup_body(true)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["telemetry"],
        json!({"enabled": true, "overridden": false})
    );
    assert_eq!(written(platform.db()).await.1.as_deref(), Some("true"));
}

#[tokio::test]
async fn licensed_installs_ignore_an_opt_out_and_say_so() {
    let db = common::sqlite();
    let platform = open(&db, "license: {id: lic-7, type: EE}\n").await;
    assert_eq!(
        get(&platform, "/api/v1/setup").await,
        (StatusCode::OK, json!({"pending": true, "licensed": true}))
    );
    let (status, body) = post_setup(&platform, &setup_body(false)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["telemetry"]["enabled"], true);
    assert_eq!(body["telemetry"]["overridden"], true);
    let message = body["telemetry"]["message"].as_str().unwrap();
    assert!(message.contains("cannot be disabled"), "{message}");
    assert_eq!(written(platform.db()).await.1.as_deref(), Some("true"));
    let (_, admin) = request(&platform, "GET", "/api/v1/admin/telemetry", None, true).await;
    assert_eq!(admin["effective"], true);
}

#[tokio::test]
async fn bad_input_names_every_field_and_writes_nothing() {
    for db in every_engine("bad_input_names_every_field_and_writes_nothing").await {
        let platform = open(&db, "").await;
        let cases: [(&str, Value); 6] = [
            (
                "{}",
                json!({"name": "is required", "email": "is required",
                          "password": "is required", "telemetry": "is required"}),
            ),
            (
                r#"{"name": " ", "email": "ada@", "password": 12345678, "telemetry": "no", "role": "root"}"#,
                json!({"name": "must be 1 to 64 characters without control characters",
                       "email": "must be an email address like admin@example.com",
                       "password": "expected a string",
                       "telemetry": "expected true or false",
                       "role": "is not a setup field"}),
            ),
            (
                r#"{"name": "Ada", "email": "ada@example.com", "password": "short1", "telemetry": true}"#,
                json!({"password": "must be at least 8 characters long"}),
            ),
            (
                r#"{"name": "Ada", "email": "ada@example.com", "password": "onlyletters", "telemetry": true}"#,
                json!({"password": "must mix letters with digits or symbols"}),
            ),
            (
                r#"{"name": "Ada", "email": "ada@example.com", "password": "ada-1234567", "telemetry": true}"#,
                json!({"password": "must not contain your name or email address"}),
            ),
            ("[1, 2]", json!({"body": "expected a JSON object"})),
        ];
        for (body, fields) in cases {
            let (status, answer) = post_setup(&platform, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(answer["fields"], fields, "{body}");
            let error = answer["error"].as_str().unwrap();
            for field in fields.as_object().unwrap().keys() {
                assert!(error.contains(&format!("{field}: ")), "{error}");
            }
            assert_nothing_written(&platform, body).await;
        }
        let (status, answer) = post_setup(&platform, "{not json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            answer["fields"]["body"]
                .as_str()
                .unwrap()
                .starts_with("not JSON")
        );
        assert_nothing_written(&platform, "not json").await;
        // The server keeps serving, and a good request still completes the setup.
        assert_eq!(
            post_setup(&platform, &setup_body(true)).await.0,
            StatusCode::OK
        );
    }
}

/// Makes the database refuse one statement of the setup transaction, as a crash
/// there would leave it.
async fn inject_failure(db: &Db, table: &str, when: &str) {
    let statements: Vec<String> = match db.engine() {
        Engine::Sqlite => vec![format!(
            "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} WHEN {when} \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )],
        Engine::Postgres => vec![
            "CREATE OR REPLACE FUNCTION fail_setup() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$"
                .to_owned(),
            format!(
                "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} FOR EACH ROW \
                 WHEN ({when}) EXECUTE FUNCTION fail_setup()"
            ),
        ],
    };
    for sql in statements {
        sqlx::query(&sql).execute(db.pool()).await.unwrap();
    }
}

async fn remove_failure(db: &Db, table: &str) {
    let sql = match db.engine() {
        Engine::Sqlite => format!("DROP TRIGGER fail_{table}"),
        Engine::Postgres => format!("DROP TRIGGER fail_{table} ON {table}"),
    };
    sqlx::query(&sql).execute(db.pool()).await.unwrap();
}

#[tokio::test]
async fn a_failure_halfway_leaves_setup_pending() {
    for db in every_engine("a_failure_halfway_leaves_setup_pending").await {
        let platform = open(&db, "").await;
        // The administrator (the middle statement), then the telemetry choice (the
        // last one): either failing undoes the initialised mark written before them.
        for (table, when) in [
            ("users", "1 = 1"),
            ("settings", "NEW.key = 'telemetry:enabled'"),
        ] {
            inject_failure(platform.db(), table, when).await;
            let (status, body) = post_setup(&platform, &setup_body(false)).await;
            assert_eq!(
                (status, body),
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal error"})
                ),
                "{table}"
            );
            assert_nothing_written(&platform, table).await;
            remove_failure(platform.db(), table).await;
        }
        let (status, _) = post_setup(&platform, &setup_body(false)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "setup can be completed after the failure"
        );
        assert_eq!(written(platform.db()).await.0.len(), 1);
    }
}

#[tokio::test]
async fn concurrent_setups_complete_exactly_once() {
    for db in every_engine("concurrent_setups_complete_exactly_once").await {
        let platform = open(&db, "").await;
        let (on, off) = (setup_body(true), setup_body(false));
        let (a, b) = tokio::join!(post_setup(&platform, &on), post_setup(&platform, &off));
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
        let (admins, telemetry, _) = written(platform.db()).await;
        assert_eq!(admins.len(), 1);
        let winner = if a.0 == StatusCode::OK { &a.1 } else { &b.1 };
        assert_eq!(
            telemetry.as_deref(),
            Some(if winner["telemetry"]["enabled"] == true {
                "true"
            } else {
                "false"
            })
        );
    }
}

fn telemetry_yml(url: &str) -> String {
    format!("telemetry:\n  url: {url}\n  startup_delay_seconds: 0.05\n")
}

/// A pending platform whose daily ping time is 03:00 UTC.
async fn pending_platform(db: &TestDb, receiver: &Receiver) -> Platform {
    let platform = open(db, &telemetry_yml(&receiver.url)).await;
    platform
        .db()
        .put(keys::DAILY_TIME, r#"{"hour":3,"minute":0}"#)
        .await
        .unwrap();
    platform
}

#[tokio::test]
async fn the_scheduler_sends_nothing_before_setup_and_pings_soon_after_it() {
    for telemetry in [true, false] {
        let receiver = Receiver::start(StatusCode::OK).await;
        let db = common::sqlite();
        let platform = pending_platform(&db, &receiver).await;
        // Two virtual days from a midnight: daily slots at 03:00 on both.
        let start = UnixMs(20_000 * UnixMs::DAY);
        let stop = start + 2 * UnixMs::DAY;
        let clock = Arc::new(VirtualClock::new(start, stop));
        let task = scheduler(&platform, clock, "a").spawn();
        wait_until("both daily slots to pass", async || {
            platform
                .telemetry()
                .next_ping_at()
                .is_some_and(|t| t > stop)
        })
        .await;
        assert_eq!(counter(&platform, "ff_telemetry_pings_skipped_total"), 2);
        assert_eq!(receiver.attempts(), 0, "nothing is sent before setup");

        let (status, _) = post_setup(&platform, &setup_body(telemetry)).await;
        assert_eq!(status, StatusCode::OK);
        // Setup is noticed at once: a slot 50 ms after it, long before the next day.
        if telemetry {
            wait_until("the first ping", async || {
                counter(&platform, "ff_telemetry_pings_sent_total") == 1
            })
            .await;
            let ping = PingPayload::from_json_strict(&receiver.bodies()[0]).unwrap();
            let counts = ping.platform.unwrap().counts.unwrap();
            assert_eq!(counts.users, Some(1), "the administrator just created");
        } else {
            wait_until("the slot after setup to be skipped", async || {
                counter(&platform, "ff_telemetry_pings_skipped_total") == 3
            })
            .await;
            assert_eq!(counter(&platform, "ff_telemetry_pings_sent_total"), 0);
            assert_eq!(receiver.attempts(), 0, "opted out at setup");
        }
        task.abort();
    }
}

#[tokio::test]
async fn on_the_system_clock_the_first_ping_follows_setup() {
    let receiver = Receiver::start(StatusCode::OK).await;
    let db = common::sqlite();
    let platform = pending_platform(&db, &receiver).await;
    let task = scheduler(&platform, Arc::new(SystemClock), "a").spawn();
    wait_until("the scheduler to start", async || {
        platform.telemetry().next_ping_at().is_some()
    })
    .await;
    let daily = platform.telemetry().next_ping_at().unwrap();
    assert_eq!(receiver.attempts(), 0);
    let (status, _) = post_setup(&platform, &setup_body(true)).await;
    assert_eq!(status, StatusCode::OK);
    wait_until("the first ping", async || {
        counter(&platform, "ff_telemetry_pings_sent_total") == 1
    })
    .await;
    task.abort();
    assert_eq!(receiver.bodies().len(), 1);
    assert!(platform.telemetry().next_ping_at().unwrap() >= daily);
    let users = platform.db().counts(UnixMs(0)).await.unwrap().users;
    assert_eq!(users, Some(1));
}
