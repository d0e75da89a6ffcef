//! The real posthog-js (npm, unchanged) in headless Chromium sends to the collector
//! from another origin; the captured request is also kept as a fixture and replayed
//! through `oneshot`, so the wire format stays covered where Node is absent.
//!
//! Needs `npm ci` in `tests/browser` (a skip line says so when it has not run).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header;
use axum::response::Html;
use axum::routing;
use base64::Engine as _;
use common::*;
use serde_json::Value;

const TOKEN: &str = "phc_browser_test";
const FIXTURE: &str = "tests/fixtures/posthog-js-request.json";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skip: posthog-js in Chromium ({why})");
}

/// A page on its own origin that loads posthog-js and captures a pageview and one event.
async fn serve_page(
    collector_url: String,
    bundle: Vec<u8>,
) -> (String, tokio::task::JoinHandle<()>) {
    let page = format!(
        r#"<!doctype html><html><head><title>posthog-js test</title><script src="/posthog.js"></script></head><body>
<script>
posthog.init({TOKEN:?}, {{
  api_host: {collector_url:?},
  opt_out_useragent_filter: true,
  advanced_disable_flags: true,
  persistence: 'memory',
  autocapture: false,
  disable_session_recording: true,
  disable_surveys: true,
}});
posthog.capture('ff_test_event', {{ answer: 42 }});
</script></body></html>"#
    );
    let app = Router::new()
        .route("/", routing::get(move || async move { Html(page) }))
        .route(
            "/posthog.js",
            routing::get(move || async move {
                ([(header::CONTENT_TYPE, "application/javascript")], bundle)
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

fn run_node(script: &Path, args: &[String]) -> bool {
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_posthog_js_in_chromium_is_accepted() {
    let browser_dir = manifest_dir().join("tests/browser");
    let bundle = browser_dir.join("node_modules/posthog-js/dist/array.full.js");
    if !browser_dir.join("node_modules/playwright-core").exists() || !bundle.exists() {
        return skip("run `npm ci` in crates/collector/tests/browser");
    }
    if !Path::new("/usr/bin/chromium").exists() {
        return skip("/usr/bin/chromium is not installed");
    }
    let db = sqlite();
    let running = Running::start(&db.config()).await;
    let collector_url = running.url("");
    let (page_url, page_task) =
        serve_page(collector_url.clone(), std::fs::read(&bundle).unwrap()).await;
    let dump = db.dir.path().join("request.json");
    let script = browser_dir.join("posthog.mjs");
    let args = vec![
        page_url.clone(),
        collector_url.clone(),
        dump.display().to_string(),
    ];
    let ok = tokio::task::spawn_blocking(move || run_node(&script, &args))
        .await
        .unwrap();
    assert!(ok, "the posthog-js driver failed");

    let request: Value = serde_json::from_slice(&std::fs::read(&dump).unwrap()).unwrap();
    assert_eq!(request["status"], 200, "{request}");
    assert_eq!(
        request["allow_origin"],
        page_url.trim_end_matches('/'),
        "CORS mirrors the page origin"
    );
    let client = http();
    let events: Vec<Value> = eventually(Duration::from_secs(10), || async {
        let body: Value = client
            .get(running.url("/api/events?source=posthog"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let events = body["events"].as_array()?.clone();
        names(&events)
            .contains(&"ff_test_event".to_owned())
            .then_some(events)
    })
    .await;
    assert!(
        names(&events).contains(&"$pageview".to_owned()),
        "{:?}",
        names(&events)
    );
    let custom = events
        .iter()
        .find(|e| e["name"] == "ff_test_event")
        .unwrap();
    assert_eq!(custom["properties"]["answer"], 42);
    assert_eq!(custom["properties"]["token"], TOKEN);
    assert_eq!(custom["properties"]["$lib"], "web");
    assert!(
        custom["distinct_id"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );

    // Keep what posthog-js sent, for the replay test.
    if std::env::var_os("FF_UPDATE_FIXTURES").is_some() {
        std::fs::write(manifest_dir().join(FIXTURE), std::fs::read(&dump).unwrap()).unwrap();
    }
    page_task.abort();
    running.stop().await;
}

#[tokio::test]
async fn a_request_captured_from_posthog_js_replays() {
    let fixture: Value =
        serde_json::from_slice(&std::fs::read(manifest_dir().join(FIXTURE)).unwrap()).unwrap();
    let body = base64::engine::general_purpose::STANDARD
        .decode(fixture["body_base64"].as_str().unwrap())
        .unwrap();
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let uri = fixture["url"].as_str().unwrap();
    let content_type = fixture["content_type"].as_str().unwrap_or("text/plain");
    let answer = send(&app, post(uri, content_type, body)).await;
    assert_eq!(answer.status, 200, "{}", answer.error());
    let stored = send(&app, get("/api/events?source=posthog")).await.json();
    let events = stored["events"].as_array().unwrap();
    assert_eq!(names(events), ["ff_test_event"]);
    assert_eq!(events[0]["properties"]["answer"], 42);
    assert_eq!(events[0]["properties"]["$lib"], "web");
}
