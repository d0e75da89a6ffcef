//! The browser SDK's readers of text it does not control: what an earlier page
//! load (or another script on the origin) left in `localStorage`, and
//! `Error.stack` strings.

use ff_telemetry_browser::posthog::{
    Client, ClientConfig, NavigationSource, Outbox, OutboxLimits, PageEnv, PersistedState,
};
use ff_telemetry_browser::sentry::{
    self, BrowserSentry, MAX_FRAMES, MAX_STORED_ENVELOPES, parse_rate_limits, parse_retry_after,
};
use ff_telemetry_wire::UnixMs;
use ff_telemetry_wire::sentry::SdkInfo;
use serde_json::{Map, Value};

use crate::engine::Target;

const NOW: UnixMs = UnixMs(1_800_000_000_000);
const PAGE: &str = "https://app.example/projects?team=1";

/// PostHog's stored state and unsent events (`ff_telemetry_<token>`: the
/// state's JSON array on the first line, one event's JSON per line after),
/// read back as the web crate reads them (`JSON.parse`, then
/// `PersistedState::from_fields` and the outbox).
#[derive(Debug, Default)]
pub struct PosthogRestoreTarget;

impl Target for PosthogRestoreTarget {
    fn name(&self) -> &'static str {
        "browser-posthog-restore"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let mut rng = counter();
        let mut client = Client::new(config(), None, NOW, &mut rng);
        let events =
            client.handle_navigation(NOW, PAGE, None, NavigationSource::Router, &env(), &mut rng);
        let stored = format!("{}\n{}\n", client.encode_persisted(), events.join("\n"));
        let opted_out = PersistedState {
            opted_out: true,
            session: None,
            ..client.persisted()
        };
        vec![stored.into_bytes(), opted_out.encode().into_bytes()]
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "ff-telemetry-state 2",
            "\n",
            "\"1\"",
            "\"0\"",
            "\"\"",
            "$pageview",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let stored = String::from_utf8_lossy(input);
        let (state_line, unsent) = stored.split_once('\n').unwrap_or((&stored, ""));
        // serde_json stands in for the browser's `JSON.parse`.
        let persisted = serde_json::from_str::<Vec<String>>(state_line)
            .ok()
            .and_then(|fields| PersistedState::from_fields(&fields));
        if let Some(state) = &persisted {
            let fields: Vec<String> = serde_json::from_str(&state.encode())
                .map_err(|e| format!("{state:?} encodes to invalid JSON: {e}"))?;
            if PersistedState::from_fields(&fields).as_ref() != Some(state) {
                return Err(format!("{state:?} does not survive encode and restore"));
            }
        }
        let mut rng = counter();
        let mut client = Client::new(config(), persisted.clone(), NOW, &mut rng);
        let events =
            client.handle_navigation(NOW, PAGE, None, NavigationSource::Router, &env(), &mut rng);
        for event in &events {
            let value: Value = serde_json::from_str(event)
                .map_err(|e| format!("restored client wrote invalid JSON {event:?}: {e}"))?;
            let properties = value["properties"].as_object().cloned().unwrap_or_default();
            check_identity(&properties, persisted.as_ref())?;
        }
        if persisted.as_ref().is_some_and(|s| s.opted_out) && !events.is_empty() {
            return Err("a stored opt-out did not hold".to_owned());
        }
        let mut outbox = Outbox::new(OutboxLimits::default());
        for event in unsent.split('\n').filter(|e| e.starts_with('{')) {
            outbox.handle_enqueue(NOW, event.to_owned());
        }
        outbox.handle_flush(NOW);
        let n_batch = outbox.poll_batch(NOW).map_or(0, <[String]>::len);
        Ok(format!(
            "state {} events {} queued {} batch {}",
            persisted.is_some(),
            events.len(),
            outbox.len().min(3),
            n_batch.min(3)
        ))
    }
}

/// The restored ids are the ones events carry.
fn check_identity(
    properties: &Map<String, Value>,
    persisted: Option<&PersistedState>,
) -> Result<(), String> {
    let Some(state) = persisted else {
        return Ok(());
    };
    if properties.get("distinct_id").and_then(Value::as_str) != Some(state.distinct_id.as_str()) {
        return Err(format!(
            "restored distinct id {:?}, sent {:?}",
            state.distinct_id, properties["distinct_id"]
        ));
    }
    if properties.get("$device_id").and_then(Value::as_str) != Some(state.device_id.as_str()) {
        return Err(format!(
            "restored device id {:?}, sent {:?}",
            state.device_id, properties["$device_id"]
        ));
    }
    Ok(())
}

fn config() -> ClientConfig {
    ClientConfig::new("phc_fuzz", "ff-telemetry-web", "0.1.0")
}

fn env() -> PageEnv {
    PageEnv {
        location_href: PAGE.to_owned(),
        ..PageEnv::default()
    }
}

/// Entropy that counts: deterministic runs.
fn counter() -> impl FnMut() -> [u8; 10] {
    let mut n = 0u8;
    move || {
        n = n.wrapping_add(1);
        [n; 10]
    }
}

/// Sentry's stored envelopes (`Outgoing::add_to_stored`'s text), restored by
/// the next page load: sent in order, and what is stored again from them
/// restores the same.
#[derive(Debug, Default)]
pub struct SentryRestoreTarget;

impl SentryRestoreTarget {
    fn start() -> Result<BrowserSentry, String> {
        // No release: no session, so only the restored envelopes are sent.
        let config = serde_json::from_value(serde_json::json!({
            "dsn": "https://public@sentry.example/42",
            "environment": "production",
        }))
        .map_err(|e| format!("config: {e}"))?;
        let sdk = SdkInfo {
            name: "ff-telemetry.web".into(),
            version: "0.1.0".into(),
        };
        BrowserSentry::new(&config, sdk, PAGE, NOW, &sentry::Entropy([7; 48]))
            .map_err(|e| format!("start: {e:?}"))
    }

    /// Restores `stored` and sends everything.
    fn resend(stored: &str) -> Result<Vec<sentry::Outgoing>, String> {
        let mut browser = Self::start()?;
        browser.restore(stored);
        let sent: Vec<_> = std::iter::from_fn(|| browser.poll_transmit(NOW))
            .take(100_000)
            .collect();
        Ok(sent)
    }
}

impl Target for SentryRestoreTarget {
    fn name(&self) -> &'static str {
        "browser-sentry-restore"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let mut offline = match Self::start() {
            Ok(s) => s,
            Err(_) => return Vec::new(),
        };
        offline.handle_error(
            NOW,
            sentry::CapturedError {
                kind: "TypeError",
                value: "x is undefined",
                stack: Some(
                    "TypeError: x is undefined\n    at render (https://app.example/app.js:10:5)",
                ),
                mechanism: sentry::MECHANISM_ONERROR,
                handled: false,
                tags: &[],
            },
            &sentry::Entropy([3; 48]),
        );
        offline.handle_route_change(NOW, "/projects", None, &sentry::Entropy([0; 48]));
        let mut stored = String::new();
        while let Some(out) = offline.poll_transmit(NOW) {
            stored = out.add_to_stored(&stored);
        }
        vec![stored.into_bytes()]
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "\u{1e}",
            "\u{1f}",
            "error",
            "transaction",
            "session",
            "internal",
            "sent_at",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let stored = String::from_utf8_lossy(input);
        let sent = Self::resend(&stored)?;
        for out in &sent {
            // Stamping `sent_at` must cope with whatever was stored.
            let _ = out.body(NOW);
        }
        let mut kept = String::new();
        for out in &sent {
            kept = out.add_to_stored(&kept);
        }
        let again = Self::resend(&kept)?;
        let newest = &sent[sent.len().saturating_sub(MAX_STORED_ENVELOPES)..];
        let same = again.len() == newest.len()
            && again
                .iter()
                .zip(newest)
                .all(|(a, b)| a.category == b.category && a.unsent == b.unsent);
        if !same {
            return Err(format!(
                "stored again, {} of {} envelopes come back differently",
                again.len(),
                newest.len()
            ));
        }
        Ok(format!("sent {}", sent.len().min(MAX_STORED_ENVELOPES + 1)))
    }
}

/// `parse_stack` on `Error.stack` text: frames are slices of the input, at
/// most [`MAX_FRAMES`] of them.
#[derive(Debug, Default)]
pub struct StacktraceTarget;

impl Target for StacktraceTarget {
    fn name(&self) -> &'static str {
        "stacktrace"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        [
            "TypeError: x is undefined\n    at render (http://h/app.js:10:5)\n    at http://h/app.js:20:1\n    at new Foo (webpack-internal:///./src/a.vue?vue&type=script:3:7)\n    at async Promise.all (index 0)",
            "render@http://h/app.js:10:5\n@http://h/app.js:20:1\nwasm-function[12]@http://h/x.wasm:wasm-function[12]:0x1a2b\n",
            "Error: boom\n    at ff_telemetry_web.wasm.__rust_start_panic (wasm://wasm/ff_telemetry_web-0a1b2c3d:wasm-function[451]:0x3f2a1)\n    at eval (eval at <anonymous> (http://h/a.js:1:1), <anonymous>:1:1)",
        ]
        .map(|s| s.as_bytes().to_vec())
        .into()
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "\n    at ",
            " (",
            ")",
            "@",
            ":",
            "wasm-function[",
            "]:0x",
            "eval at ",
            "<anonymous>",
            "data:text/javascript,",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let text = String::from_utf8_lossy(input);
        let Some(stack) = sentry::parse_stack(&text) else {
            return Ok("none".to_owned());
        };
        if stack.frames.is_empty() || stack.frames.len() > MAX_FRAMES {
            return Err(format!("{} frames from {text:?}", stack.frames.len()));
        }
        let range = text.as_ptr() as usize..=text.as_ptr() as usize + text.len();
        for frame in &stack.frames {
            for part in [frame.filename, frame.function, frame.instruction_addr]
                .into_iter()
                .flatten()
            {
                let start = part.as_ptr() as usize;
                if !range.contains(&start) || !range.contains(&(start + part.len())) {
                    return Err(format!(
                        "frame text {part:?} is not from the stack {text:?}"
                    ));
                }
            }
        }
        let first = &stack.frames[0];
        Ok(format!(
            "{} frames, file {} fn {} line {} addr {}",
            stack.frames.len().min(4),
            first.filename.is_some(),
            first.function.is_some(),
            first.lineno.is_some(),
            first.instruction_addr.is_some()
        ))
    }
}

/// A Sentry server's `X-Sentry-Rate-Limits` and `Retry-After` answers, which
/// the browser obeys: one limit per comma-separated entry at most, category
/// names trimmed and free of separators.
#[derive(Debug, Default)]
pub struct RateLimitsTarget;

impl Target for RateLimitsTarget {
    fn name(&self) -> &'static str {
        "sentry-rate-limits"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        [
            "60:error;transaction:organization, 10::key:usage_exceeded",
            "2700:default;error;security:organization:quota_exceeded",
            "120",
            "Thu, 01 Jan 1970 00:00:30 GMT",
        ]
        .map(|s| s.as_bytes().to_vec())
        .into()
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            ",",
            ";",
            ":",
            "error",
            "transaction",
            "session",
            "GMT",
            "Jan",
            "1970",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let text = String::from_utf8_lossy(input);
        let limits = parse_rate_limits(&text);
        let n_entries = text.split(',').count();
        if limits.len() > n_entries {
            return Err(format!(
                "{} limits from {n_entries} entries of {text:?}",
                limits.len()
            ));
        }
        for name in limits.iter().flat_map(|l| &l.categories) {
            let bad =
                name.is_empty() || name.trim_ascii() != name || name.contains([',', ';', ':']);
            if bad {
                return Err(format!("category {name:?} from {text:?}"));
            }
        }
        let retry = parse_retry_after(&text, NOW);
        Ok(format!(
            "{} limits, retry {}",
            limits.len().min(4),
            retry.is_some()
        ))
    }
}
