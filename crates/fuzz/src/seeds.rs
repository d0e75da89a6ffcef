//! Real requests to start from: what posthog-js and @sentry/browser sent from
//! Chromium (the collector's recorded fixtures) and what the `sentry` crate
//! sends (captured here, through a transport that records the envelopes).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;

/// A request recorded from a real SDK (`crates/collector/tests/fixtures/`).
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Path and query it was sent to.
    pub url: String,
    /// Its `Content-Type`.
    pub content_type: String,
    /// Its body, as sent.
    pub body: Vec<u8>,
}

/// posthog-js's capture request (gzip, `text/plain`), recorded in Chromium.
pub fn posthog_js() -> RecordedRequest {
    fixture("posthog-js-request.json")
}

/// @sentry/browser's envelope request, recorded in Chromium.
pub fn sentry_browser() -> RecordedRequest {
    fixture("sentry-browser-request.json")
}

fn fixture(name: &str) -> RecordedRequest {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../collector/tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("seed fixture {}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("seed fixture {}: {e}", path.display()));
    let field = |key: &str| json[key].as_str().unwrap_or_default().to_owned();
    let body = base64::engine::general_purpose::STANDARD
        .decode(field("body_base64"))
        .unwrap_or_else(|e| panic!("seed fixture {}: body_base64: {e}", path.display()));
    RecordedRequest {
        url: field("url"),
        content_type: field("content_type"),
        body,
    }
}

/// Undoes gzip (the posthog-js fixture is gzipped); the input when it is not gzip.
pub fn gunzipped(body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match flate2::read::GzDecoder::new(body).read_to_end(&mut out) {
        Ok(_) => out,
        Err(_) => body.to_vec(),
    }
}

/// Envelopes the `sentry` crate (with the backend's features, a release and an
/// environment) makes for a message and an error.
pub fn sentry_crate_envelopes() -> Vec<Vec<u8>> {
    let recorder = Arc::new(Recorder::default());
    let mut options = sentry::ClientOptions::default();
    options.dsn = "http://publickey42@127.0.0.1:9/42".parse().ok();
    options.release = Some("flowfuse@2.1.0".into());
    options.environment = Some("production".into());
    options.transport = Some(Arc::new(recorder.clone()));
    let client = Arc::new(sentry::Client::from(options));
    let hub = sentry::Hub::new(Some(client.clone()), Arc::new(sentry::Scope::default()));
    hub.capture_message("hello from the sentry crate", sentry::Level::Warning);
    hub.capture_error(&std::io::Error::other("disk on fire"));
    client.flush(Some(Duration::from_secs(5)));
    let envelopes = recorder.0.lock().map(|e| e.clone()).unwrap_or_default();
    assert!(
        envelopes.len() >= 2,
        "the sentry crate sent {} envelopes",
        envelopes.len()
    );
    envelopes
}

/// A transport that keeps each envelope's wire form.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Vec<u8>>>);

impl sentry::Transport for Recorder {
    fn send_envelope(&self, envelope: sentry::Envelope) {
        let mut bytes = Vec::new();
        if envelope.to_writer(&mut bytes).is_ok()
            && let Ok(mut kept) = self.0.lock()
        {
            kept.push(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_plain_json_batch(body: &[u8]) -> bool {
        serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v["batch"].is_array())
    }

    #[test]
    fn every_real_sdk_gives_a_seed() {
        let posthog = gunzipped(&posthog_js().body);
        assert!(
            is_plain_json_batch(&posthog),
            "{}",
            String::from_utf8_lossy(&posthog)
        );
        let sentry_js = sentry_browser().body;
        assert!(sentry_js.starts_with(b"{\"event_id\""));
        let rust = sentry_crate_envelopes();
        let text: Vec<String> = rust
            .iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect();
        assert!(text.iter().any(|t| t.contains("disk on fire")), "{text:?}");
        assert!(
            text.iter().all(|t| t.contains("flowfuse@2.1.0")),
            "{text:?}"
        );
    }
}
