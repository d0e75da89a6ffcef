//! The real `sentry` crate, unchanged, sends to the collector over loopback.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::Value;

#[test]
fn sentry_crate_errors_and_messages_are_stored() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = sqlite();
    let running = runtime.block_on(Running::start(&db.config()));
    // The transport is reqwest with rustls and no built-in crypto provider, as the
    // backend ships it: `http()` installs one.
    let _ = http();
    let dsn = format!("http://{SENTRY_KEY}@{}/{SENTRY_PROJECT}", running.addr);
    let mut options = sentry::ClientOptions::default();
    options.release = Some("flowfuse@2.1.0".into());
    options.environment = Some("test".into());
    // `Client::from` does not apply the `sentry` crate's defaults; the transport
    // must be named (as `sentry::init` would pick it).
    options.transport = Some(Arc::new(sentry::transports::DefaultTransportFactory));
    let client = Arc::new(sentry::Client::from((dsn.as_str(), options)));
    let hub = sentry::Hub::new(Some(client.clone()), Arc::new(sentry::Scope::default()));
    hub.capture_message("hello from the sentry crate", sentry::Level::Warning);
    let error = std::io::Error::other("disk on fire");
    hub.capture_error(&error);
    assert!(
        client.flush(Some(Duration::from_secs(10))),
        "sentry transport did not flush"
    );

    let url = running.url("/api/events?source=sentry&name=event");
    let events: Vec<Value> = runtime.block_on(eventually(Duration::from_secs(10), || async {
        let body: Value = http().get(&url).send().await.ok()?.json().await.ok()?;
        let events = body["events"].as_array()?.clone();
        (events.len() >= 2).then_some(events)
    }));
    let text: Vec<String> = events.iter().map(|e| e["payload"].to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("hello from the sentry crate")),
        "{text:?}"
    );
    assert!(text.iter().any(|t| t.contains("disk on fire")), "{text:?}");
    assert!(
        events
            .iter()
            .all(|e| e["payload"]["release"] == "flowfuse@2.1.0")
    );
    runtime.block_on(running.stop());
}
