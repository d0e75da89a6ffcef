//! The real browser SDKs from npm, unchanged, in headless Chromium, send to the
//! collector from another origin: posthog-js to the capture endpoint and
//! @sentry/browser to the envelope endpoint. Each captured request is also kept as a
//! fixture and replayed through `oneshot`, so the wire formats stay covered on
//! machines without Node.
//!
//! Needs `npm ci` in `tests/browser` and Debian's Chromium (`cargo xtask setup` installs
//! both); without them the tests fail saying so, unless `FF_TELEMETRY_SKIP_BROWSER=1`.
//! `FF_UPDATE_FIXTURES=1` rewrites the fixtures from the live run.

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

const POSTHOG_TOKEN: &str = "phc_browser_test";
const POSTHOG_FIXTURE: &str = "tests/fixtures/posthog-js-request.json";
const SENTRY_FIXTURE: &str = "tests/fixtures/sentry-browser-request.json";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn browser_dir() -> PathBuf {
    manifest_dir().join("tests/browser")
}

/// Fails the test, saying how to run it, when its tools are missing: npm's
/// packages in `tests/browser` and Debian's Chromium. `FF_TELEMETRY_SKIP_BROWSER=1`
/// (never set by CI) skips it instead, for a machine that cannot have them.
fn require_tools(test: &str) -> bool {
    let missing = if !browser_dir().join("node_modules/playwright-core").exists() {
        Some("run `npm ci` in crates/collector/tests/browser (`cargo xtask setup` does)")
    } else if !Path::new("/usr/bin/chromium").exists() {
        Some("install Chromium: `apt-get install chromium` (`cargo xtask setup` does, as root)")
    } else {
        None
    };
    let Some(why) = missing else { return true };
    if std::env::var_os(SKIP_BROWSER_VAR).is_some() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skip: {test} ({SKIP_BROWSER_VAR} is set)"
        );
        return false;
    }
    panic!("{test} cannot run: {why}; or set {SKIP_BROWSER_VAR}=1 to skip it");
}

/// Serves `page` at `/` and `script` at `/lib.js` on an origin of its own.
async fn serve_page(page: String, script: Vec<u8>) -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new()
        .route("/", routing::get(move || async move { Html(page) }))
        .route(
            "/lib.js",
            routing::get(move || async move {
                ([(header::CONTENT_TYPE, "application/javascript")], script)
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

/// Runs a Node script from `tests/browser`, bounded in time.
async fn node(script: &str, args: Vec<String>) -> bool {
    let script = browser_dir().join(script);
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new("node")
            .arg(&script)
            .args(&args)
            .current_dir(browser_dir())
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
    })
    .await
    .unwrap()
}

/// Opens the page and returns the first answered request to `path_regex` whose body
/// holds `needle`, as `capture.mjs` dumps it.
async fn capture_in_chromium(
    running: &Running,
    page: String,
    script: Vec<u8>,
    path_regex: &str,
    needle: &str,
    fixture: &str,
) -> Value {
    let (page_url, page_task) = serve_page(page, script).await;
    let dump = tempfile::NamedTempFile::new().unwrap();
    let args = [
        &page_url,
        &running.url(""),
        path_regex,
        needle,
        &dump.path().display().to_string(),
    ];
    assert!(
        node("capture.mjs", args.map(|a| a.to_string()).to_vec()).await,
        "the browser driver failed"
    );
    page_task.abort();
    let request: Value = serde_json::from_slice(&std::fs::read(dump.path()).unwrap()).unwrap();
    assert_eq!(request["status"], 200, "{request}");
    assert_eq!(
        request["allow_origin"],
        page_url.trim_end_matches('/'),
        "CORS mirrors the page origin"
    );
    if std::env::var_os("FF_UPDATE_FIXTURES").is_some() {
        std::fs::write(
            manifest_dir().join(fixture),
            serde_json::to_vec_pretty(&request).unwrap(),
        )
        .unwrap();
    }
    request
}

async fn stored_events(running: &Running, query: &str, wanted: &str) -> Vec<Value> {
    let client = http();
    let url = running.url(&format!("/api/events?{query}"));
    eventually(Duration::from_secs(10), || async {
        let body: Value = client.get(&url).send().await.ok()?.json().await.ok()?;
        let events = body["events"].as_array()?.clone();
        names(&events)
            .contains(&wanted.to_owned())
            .then_some(events)
    })
    .await
}

fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_posthog_js_in_chromium_is_accepted() {
    if !require_tools("posthog-js in Chromium") {
        return;
    }
    let db = sqlite();
    let running = Running::start(&db.config()).await;
    let bundle =
        std::fs::read(browser_dir().join("node_modules/posthog-js/dist/array.full.js")).unwrap();
    let page = format!(
        r#"<!doctype html><html><head><title>posthog-js test</title><script src="/lib.js"></script></head><body><script>
posthog.init({POSTHOG_TOKEN:?}, {{
  api_host: {:?},
  opt_out_useragent_filter: true,
  advanced_disable_flags: true,
  persistence: 'memory',
  autocapture: false,
  disable_session_recording: true,
  disable_surveys: true,
}});
posthog.capture('ff_test_event', {{ answer: 42 }});
</script></body></html>"#,
        running.url("")
    );
    capture_in_chromium(
        &running,
        page,
        bundle,
        "^/(e|i/v0/e|batch|capture|track)/?$",
        "ff_test_event",
        POSTHOG_FIXTURE,
    )
    .await;

    let events = stored_events(&running, "source=posthog", "ff_test_event").await;
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
    assert_eq!(custom["properties"]["token"], POSTHOG_TOKEN);
    assert_eq!(custom["properties"]["$lib"], "web");
    assert!(
        custom["distinct_id"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_sentry_browser_in_chromium_is_accepted() {
    if !require_tools("@sentry/browser in Chromium") {
        return;
    }
    let db = sqlite();
    let running = Running::start(&db.config()).await;
    let bundle_path = db.dir.path().join("sentry.js");
    let built = node(
        "bundle.mjs",
        vec!["sentry-entry.js".into(), bundle_path.display().to_string()],
    )
    .await;
    assert!(built, "bundling @sentry/browser failed");
    let dsn = format!("http://{SENTRY_KEY}@{}/{SENTRY_PROJECT}", running.addr);
    let page = format!(
        r#"<!doctype html><html><head><title>sentry test</title><script src="/lib.js"></script></head><body><script>
Sentry.init({{ dsn: {dsn:?}, release: 'flowfuse@2.11.0', environment: 'test' }});
Sentry.captureException(new Error('boom from the browser'));
</script></body></html>"#
    );
    let bundle = std::fs::read(&bundle_path).unwrap();
    capture_in_chromium(
        &running,
        page,
        bundle,
        "^/api/42/envelope/?$",
        "boom from the browser",
        SENTRY_FIXTURE,
    )
    .await;

    let events = stored_events(&running, "source=sentry&name=event", "event").await;
    let event = &events[0]["payload"];
    assert_eq!(
        event["exception"]["values"][0]["value"],
        "boom from the browser"
    );
    assert_eq!(event["release"], "flowfuse@2.11.0");
    assert_eq!(event["sdk"]["name"], "sentry.javascript.browser");
    running.stop().await;
}

/// Posts a captured request through `oneshot` and returns the stored events of `source`.
async fn replay(fixture: &str, source: &str) -> Vec<Value> {
    let fixture: Value =
        serde_json::from_slice(&std::fs::read(manifest_dir().join(fixture)).unwrap()).unwrap();
    let body = base64::engine::general_purpose::STANDARD
        .decode(fixture["body_base64"].as_str().unwrap())
        .unwrap();
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let uri = fixture["url"].as_str().unwrap();
    let content_type = fixture["content_type"].as_str().unwrap_or("text/plain");
    let answer = send(&app, post(uri, content_type, body)).await;
    assert_eq!(answer.status, 200, "{}", answer.error());
    let stored = send(&app, get(&format!("/api/events?source={source}")))
        .await
        .json();
    stored["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_request_captured_from_posthog_js_replays() {
    let events = replay(POSTHOG_FIXTURE, "posthog").await;
    assert_eq!(names(&events), ["ff_test_event"]);
    assert_eq!(events[0]["properties"]["answer"], 42);
    assert_eq!(events[0]["properties"]["$lib"], "web");
}

#[tokio::test]
async fn a_request_captured_from_sentry_browser_replays() {
    let events = replay(SENTRY_FIXTURE, "sentry").await;
    let event = events.iter().find(|e| e["name"] == "event").unwrap();
    assert_eq!(
        event["payload"]["exception"]["values"][0]["value"],
        "boom from the browser"
    );
}
