//! `GET /`: the dashboard shows what was received, escaped, and renders in Chromium.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::json;
use sqlx::Connection;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Thirty days of history, written straight into the table (the API stamps pings
/// with the current time, and a chart of one day shows little).
async fn seed_history(db: &TestDb) {
    let url = db.config().database_url();
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let day_ms = 86_400_000;
    for day in 1..30i64 {
        let n_instances = 6 + (day * 7 % 11) + (30 - day) / 3;
        for i in 0..n_instances {
            let version = ["2.9.0", "2.10.1", "2.11.0"][(i % 3) as usize];
            let os = if i % 4 == 0 { "Darwin" } else { "Linux" };
            let license = ["CE", "CE", "EE", "DEV"][(i % 4) as usize];
            sqlx::query(
                "INSERT INTO pings (received_at, instance_id, ip_hash, payload, n_dropped_fields, platform_version, os_type, license_type, broker_enabled, file_store_enabled, email_enabled) \
                 VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $10)",
            )
            .bind(now_ms - day * day_ms)
            .bind(format!("00000000-0000-4000-8000-{i:012}"))
            .bind(format!("{:064x}", i * 7919))
            .bind(json!({"instanceId": format!("00000000-0000-4000-8000-{i:012}"),
                "platform": {"counts": {"users": 2 + i * 3 % 17, "projects": 1 + i % 9}}}).to_string())
            .bind(version)
            .bind(os)
            .bind(license)
            .bind(i64::from(i % 2 == 0))
            .bind(i64::from(i % 3 != 0))
            .bind(i64::from(i % 5 == 0))
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_everything_escaped_and_renders_in_chromium() {
    let db = sqlite();
    let running = Running::start(&db.config()).await;
    seed_history(&db).await;
    let client = http();
    for (i, version) in ["2.11.0", "2.12.0-rc.1"].iter().enumerate() {
        let mut ping: serde_json::Value = serde_json::from_str(&ping_json(&format!(
            "11111111-0000-4000-8000-00000000000{i}"
        )))
        .unwrap();
        ping["env"]["flowforge"] = json!(version);
        let status = client
            .post(running.url("/ping"))
            .body(ping.to_string())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    let events = json!({"api_key": "phc_demo", "batch": [
        {"event": "$pageview", "properties": {"distinct_id": "u1", "$current_url": "http://localhost/team/a"}},
        {"event": "$pageview", "properties": {"distinct_id": "u2"}},
        {"event": "$pageleave", "properties": {"distinct_id": "u1"}},
        {"event": "<img src=x onerror=alert(1)>", "properties": {"distinct_id": "u1"}},
    ]});
    let status = client
        .post(running.url("/e/"))
        .body(events.to_string())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let envelope = "{}\n{\"type\":\"event\"}\n{\"level\":\"error\",\"release\":\"flowfuse@2.11.0\",\"exception\":{\"values\":[{\"type\":\"TypeError\",\"value\":\"Cannot read properties of undefined (reading 'name')\"}]}}\n{\"type\":\"session\"}\n{\"sid\":\"s\",\"status\":\"ok\"}\n";
    let status = client
        .post(running.url(&format!(
            "/api/{SENTRY_PROJECT}/envelope/?sentry_key={SENTRY_KEY}"
        )))
        .body(envelope)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);

    let response = client.get(running.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    for needle in [
        "Active instances per day",
        "<svg",
        "Platform versions",
        "2.12.0-rc.1",
        "Operating systems",
        "Licence types",
        "Feature adoption",
        "MQTT broker",
        "Latest pings",
        "PostHog events by name",
        "$pageview",
        "&lt;img src=x onerror=alert(1)&gt;",
        "Recent Sentry errors",
        "TypeError: Cannot read properties of undefined (reading &#39;name&#39;)",
    ] {
        assert!(html.contains(needle), "dashboard lacks {needle:?}");
    }
    assert!(!html.contains("<img"), "unescaped markup");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "external asset"
    );

    screenshot(&running.url("/")).await;
    running.stop().await;
}

/// Saves `target/artifacts/dashboard.png`.
async fn screenshot(url: &str) {
    if !std::path::Path::new(CHROMIUM).exists() {
        if std::env::var_os(SKIP_BROWSER_VAR).is_some() {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skip: dashboard screenshot ({SKIP_BROWSER_VAR} is set)"
            );
            return;
        }
        panic!(
            "the dashboard screenshot needs {CHROMIUM}: `apt-get install chromium` \
             (`cargo xtask setup` does, as root); or set {SKIP_BROWSER_VAR}=1 to skip it"
        );
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dashboard.png");
    let _ = std::fs::remove_file(&path);
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,1700",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", path.display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "chromium failed: {status}");
    let png = std::fs::read(&path).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
}
