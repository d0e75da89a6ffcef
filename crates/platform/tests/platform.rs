//! The reference platform over HTTP: stats from a real database (SQLite, and
//! Postgres when configured), settings, admin auth, the admin telemetry API,
//! `/metrics`, and the SPA with its runtime config.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use common::{ADMIN_TOKEN, SPEC, TestDb, every_engine, expected_counts, open, sqlite};
use ff_platform::config::load_flowforge_yml;
use ff_platform::{Platform, StartOptions, seed};
use ff_telemetry_backend::{Clock, SettingsStore, StatsProvider, SystemClock, keys};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(platform: &Platform, request: Request<Body>) -> (StatusCode, Response) {
    let response = platform.router().oneshot(request).await.unwrap();
    (response.status(), response)
}

async fn body_text(response: Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn admin(method: &str, path: &str, body: Option<&str>) -> Request<Body> {
    let builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"));
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned())),
        None => builder.body(Body::empty()),
    }
    .unwrap()
}

async fn admin_json(
    platform: &Platform,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let (status, response) = call(platform, admin(method, path, body)).await;
    let text = body_text(response).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn counts_come_from_the_database_on_every_engine() {
    for db in every_engine("counts_come_from_the_database_on_every_engine").await {
        let platform = open(&db, "").await;
        seed(platform.db(), &SPEC, SystemClock.now()).await.unwrap();
        let counts = platform.db().counts(SystemClock.now()).await.unwrap();
        assert_eq!(counts, expected_counts(), "{}", db.url);
        // Each of the two FlowFuse swaps counts its own table.
        assert_eq!(
            (counts.project_templates, counts.project_stacks),
            (Some(4), Some(2))
        );
        // Seeding again adds after what is there.
        seed(platform.db(), &SPEC, SystemClock.now()).await.unwrap();
        let counts = platform.db().counts(SystemClock.now()).await.unwrap();
        assert_eq!(counts.users, Some(14), "{}", db.url);
        // A day later, nobody was seen in the last 24 hours.
        let later = SystemClock.now() + 2 * ff_telemetry_wire::UnixMs::DAY;
        let counts = platform.db().counts(later).await.unwrap();
        assert_eq!(counts.devices_by_last_seen.unwrap().day, Some(0));
    }
}

#[tokio::test]
async fn the_instance_id_is_made_once_and_kept() {
    for db in every_engine("the_instance_id_is_made_once_and_kept").await {
        let first = open(&db, "").await;
        let id = first.telemetry().instance_id().await.unwrap();
        assert_eq!(id.get_version_num(), 4);
        let stored = first.db().get(keys::INSTANCE_ID).await.unwrap();
        assert_eq!(stored, Some(id.to_string()));
        drop(first);
        let reopened = open(&db, "").await;
        assert_eq!(
            reopened.telemetry().instance_id().await.unwrap(),
            id,
            "{}",
            db.url
        );
    }
}

#[tokio::test]
async fn the_admin_api_needs_the_admin_token() {
    let db = sqlite();
    let platform = open(&db, "").await;
    let anonymous = Request::get("/api/v1/admin/telemetry")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&platform, anonymous).await.0, StatusCode::UNAUTHORIZED);
    let wrong = Request::get("/api/v1/admin/telemetry/preview")
        .header(header::AUTHORIZATION, "Bearer nope")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&platform, wrong).await.0, StatusCode::UNAUTHORIZED);
    let setup = Request::post("/api/v1/admin/setup")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&platform, setup).await.0, StatusCode::UNAUTHORIZED);

    // Without a configured token, nobody gets in.
    let file = load_flowforge_yml(&format!("db: {{url: '{}'}}\n", db.url)).unwrap();
    let tokenless = Platform::open(&file, &StartOptions::default())
        .await
        .unwrap();
    let (status, _) = admin_json(&tokenless, "GET", "/api/v1/admin/telemetry", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn admins_read_and_change_the_setting_unless_licensed() {
    let db = sqlite();
    let platform = open(&db, "").await;
    let (status, body) = admin_json(&platform, "GET", "/api/v1/admin/telemetry", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"enabled": true, "licensed": false, "effective": false,
               "next_ping_at": null, "last_ping": null}),
        "not initialised yet"
    );
    let (status, body) = admin_json(&platform, "POST", "/api/v1/admin/setup", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"initialised": true}))
    );
    let (_, body) = admin_json(&platform, "GET", "/api/v1/admin/telemetry", None).await;
    assert_eq!(body["effective"], true);

    let (status, body) = admin_json(
        &platform,
        "PUT",
        "/api/v1/admin/telemetry",
        Some(r#"{"enabled":false}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["enabled"].clone(), body["effective"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(
        platform
            .db()
            .get(keys::TELEMETRY_ENABLED)
            .await
            .unwrap()
            .as_deref(),
        Some("false")
    );

    for bad in ["", "{", r#"{"enabled":"no"}"#, r#"{"enabled":true,"x":1}"#] {
        let (status, body) =
            admin_json(&platform, "PUT", "/api/v1/admin/telemetry", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"].is_string());
    }

    // The same database under a licence: always on, and the API refuses changes.
    let licensed = open(&db, "license: {id: lic-1, type: EE}\n").await;
    let (_, body) = admin_json(&licensed, "GET", "/api/v1/admin/telemetry", None).await;
    assert_eq!(
        (body["enabled"].clone(), body["licensed"].clone()),
        (json!(true), json!(true))
    );
    let (status, body) = admin_json(
        &licensed,
        "PUT",
        "/api/v1/admin/telemetry",
        Some(r#"{"enabled":false}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"].as_str().unwrap().contains("licensed"),
        "{body}"
    );
}

async fn metrics_request(platform: &Platform, token: Option<&str>) -> (StatusCode, String) {
    let mut builder = Request::get("/metrics");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let (status, response) = call(platform, builder.body(Body::empty()).unwrap()).await;
    (status, body_text(response).await)
}

#[tokio::test]
async fn metrics_are_off_by_default_and_guarded_by_their_token() {
    let db = sqlite();
    let off = open(&db, "").await;
    assert_eq!(metrics_request(&off, None).await.0, StatusCode::NOT_FOUND);

    let on = open(
        &db,
        "telemetry:\n  backend:\n    prometheus: {enabled: true, token: prom-secret}\n",
    )
    .await;
    assert_eq!(metrics_request(&on, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        metrics_request(&on, Some("wrong")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Requests are recorded by route template, unmatched paths under one label.
    admin_json(&on, "GET", "/api/v1/admin/telemetry", None).await;
    call(
        &on,
        Request::get("/api/v1/health").body(Body::empty()).unwrap(),
    )
    .await;
    call(
        &on,
        Request::get("/api/v1/no/such/thing")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let (status, text) = metrics_request(&on, Some("prom-secret")).await;
    assert_eq!(status, StatusCode::OK);
    for want in [
        r#"http_request_duration_seconds_count{method="GET",route="/api/v1/admin/telemetry",status="200"} 1"#,
        r#"http_request_duration_seconds_count{method="GET",route="/api/v1/health",status="200"} 1"#,
        r#"http_request_duration_seconds_count{method="GET",route="/api/{*rest}",status="404"} 1"#,
        "ff_telemetry_pings_sent_total 0",
        "ff_telemetry_pings_failed_total 0",
        "ff_telemetry_pings_skipped_total 0",
        "process_resident_memory_bytes",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
}

const HOSTILE_CONFIG: &str = "telemetry:
  frontend:
    posthog: {apikey: '</script><script>alert(1)</script><!--', apiurl: 'http://127.0.0.1:8100'}
    sentry: {dsn: 'http://pubkey@127.0.0.1:8200/3'}
";

fn assert_index_page(response_headers: &axum::http::HeaderMap, html: &str) {
    let csp = response_headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("connect-src 'self' http://127.0.0.1:8100 http://127.0.0.1:8200;"),
        "{csp}"
    );
    assert_eq!(html.matches("</script>").count(), 1, "{html}");
    assert!(!html.contains("<!--"), "{html}");
    let open = r#"<script type="application/json" id="ff-telemetry-config">"#;
    let start = html.find(open).unwrap() + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    let config: Value = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(
        config["posthog"]["apikey"],
        "</script><script>alert(1)</script><!--"
    );
    assert_eq!(
        config["sentry"]["release"],
        format!("flowfuse@{}", ff_platform::PLATFORM_VERSION)
    );
}

#[tokio::test]
async fn the_built_in_page_carries_the_runtime_config() {
    let db = sqlite();
    let platform = open(&db, HOSTILE_CONFIG).await;
    for path in ["/", "/index.html", "/teams/5/instances"] {
        let (status, response) =
            call(&platform, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_index_page(&headers, &body_text(response).await);
    }
}

#[tokio::test]
async fn an_spa_directory_is_served_with_the_config_in_its_index() {
    let spa = tempfile::tempdir().unwrap();
    std::fs::write(
        spa.path().join("index.html"),
        "<!doctype html><html><head><title>app</title></head><body><div id=app></div></body></html>",
    )
    .unwrap();
    std::fs::create_dir(spa.path().join("assets")).unwrap();
    std::fs::write(spa.path().join("assets/app.js"), "console.log('app')").unwrap();
    let db: TestDb = sqlite();
    let file = load_flowforge_yml(&common::yml(&db, HOSTILE_CONFIG)).unwrap();
    let options = StartOptions {
        spa_dir: Some(spa.path().to_owned()),
        ..StartOptions::default()
    };
    let platform = Platform::open(&file, &options).await.unwrap();
    for path in ["/", "/index.html", "/projects/abc"] {
        let (status, response) =
            call(&platform, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        let html = body_text(response).await;
        assert!(html.contains("<div id=app>"), "{path}: {html}");
        assert_index_page(&headers, &html);
    }
    let (status, response) = call(
        &platform,
        Request::get("/assets/app.js").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body_text(response).await, "console.log('app')");
    let missing = missing_spa_error(&db).await;
    assert!(missing.contains("index.html"), "{missing}");
}

/// The error of opening a platform whose SPA directory has no index.html.
async fn missing_spa_error(db: &TestDb) -> String {
    let empty = tempfile::tempdir().unwrap();
    let file = load_flowforge_yml(&common::yml(db, "")).unwrap();
    let options = StartOptions {
        spa_dir: Some(empty.path().to_owned()),
        ..StartOptions::default()
    };
    Platform::open(&file, &options)
        .await
        .unwrap_err()
        .to_string()
}
