use serde::{Deserialize, Serialize};

use crate::text;
use crate::{HttpUrl, UnixMs, UrlError};

/// One captured event as PostHog's capture API takes it.
///
/// `P` is the property bag: the browser SDK writes its properties as a
/// [`Value`](crate::Value) object, the collector and the tests read them as a JSON
/// map. The distinct id and the project token travel inside the
/// properties (as posthog-js sends them) or at the top level (as server SDKs do);
/// person properties go in `properties.$set` / `properties.$set_once`.
///
/// ```
/// use ff_telemetry_wire::posthog::CaptureEvent;
/// use serde_json::{Map, Value, json};
/// let e: CaptureEvent<Map<String, Value>> = serde_json::from_value(json!({
///     "event": "$pageview", "uuid": "0190f0c4-8f3e-7000-8000-000000000000",
///     "properties": {"distinct_id": "d1", "token": "phc_x", "$current_url": "http://h/a"}
/// })).unwrap();
/// assert_eq!(e.event, "$pageview");
/// assert_eq!(e.properties["$current_url"], "http://h/a");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureEvent<P> {
    /// Event name, e.g. `$pageview`.
    pub event: String,
    /// Client-made UUID (UUIDv7 from browsers), so a resend can be de-duplicated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// When the event happened, ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Distinct id, when not in the properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_id: Option<String>,
    /// Project token, when not in the properties or the batch body.
    #[serde(
        default,
        alias = "token",
        rename = "api_key",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_key: Option<String>,
    /// Event properties.
    pub properties: P,
}

/// The `/batch/` body: `{"api_key": K, "batch": [...], "sent_at": ISO}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchBody<P> {
    /// Project token for every event in the batch.
    #[serde(
        default,
        alias = "token",
        rename = "api_key",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_key: Option<String>,
    /// The events.
    pub batch: Vec<CaptureEvent<P>>,
    /// When the client sent the request, ISO 8601 (lets the server correct clock skew).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
}

/// The `/batch/` endpoint of the PostHog host at `apiurl` (an http or https
/// URL, possibly with a path prefix); the error says what is wrong with it.
///
/// ```
/// use ff_telemetry_wire::posthog::batch_url;
/// assert_eq!(batch_url("https://eu.posthog.com/").unwrap(), "https://eu.posthog.com/batch/");
/// assert!(batch_url("eu.posthog.com").is_err());
/// ```
pub fn batch_url(apiurl: &str) -> Result<String, UrlError> {
    // Checked as an `HttpUrl`, joined as text: the URL goes out as given
    // rather than rebuilt from its parts.
    apiurl.parse::<HttpUrl>()?;
    Ok(text::concat(&[
        text::trim_end_ascii(apiurl, b'/'),
        "/batch/",
    ]))
}

/// The `/batch/` body built from events already serialised as JSON objects.
///
/// The browser SDK keeps each queued event as its JSON text (that is what it
/// persists), so a batch is written by joining them rather than by
/// re-serialising; the result is exactly a serialised [`BatchBody`].
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_wire::posthog::{BatchBody, raw_batch_body};
/// use serde_json::{Map, Value};
/// let events = [r#"{"event":"a","properties":{"distinct_id":"d"}}"#.to_owned()];
/// let body = raw_batch_body("phc_\"k", UnixMs(1_767_225_600_000), &events);
/// let parsed: BatchBody<Map<String, Value>> = serde_json::from_str(&body).unwrap();
/// assert_eq!(parsed.api_key.as_deref(), Some("phc_\"k"));
/// assert_eq!(parsed.sent_at.as_deref(), Some("2026-01-01T00:00:00.000Z"));
/// assert_eq!(parsed.batch[0].event, "a");
/// ```
pub fn raw_batch_body(api_key: &str, sent_at: UnixMs, events: &[String]) -> String {
    // `{"api_key":…,"sent_at":…}` written by serde, opened up to take the batch:
    // the events are joined as the text they were queued as, not parsed again (a
    // JSON parser would cost the browser build kilobytes).
    let head = serde_json::to_string(&BatchHead {
        api_key,
        sent_at: sent_at.to_rfc3339(),
    })
    .unwrap_or_else(|_| unreachable!("strings serialise"));
    let n_bytes: usize = events.iter().map(|e| e.len() + 1).sum();
    let mut out = String::with_capacity(head.len() + n_bytes + 16);
    out.push_str(head.strip_suffix('}').unwrap_or(&head));
    out.push_str(",\"batch\":[");
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(event);
    }
    out.push_str("]}");
    out
}

/// The fields of a [`BatchBody`] before its batch, so that the batch can follow
/// as text.
#[derive(Serialize)]
struct BatchHead<'a> {
    api_key: &'a str,
    sent_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    #[test]
    fn batch_url_joins_the_host_and_any_path_prefix() {
        for (apiurl, want) in [
            ("https://eu.posthog.com", "https://eu.posthog.com/batch/"),
            ("http://127.0.0.1:8000//", "http://127.0.0.1:8000/batch/"),
            (
                "https://h.example/ingest/",
                "https://h.example/ingest/batch/",
            ),
        ] {
            assert_eq!(batch_url(apiurl).unwrap(), want, "{apiurl}");
        }
        for bad in ["", "eu.posthog.com", "ftp://h", "https://", "https://h:0"] {
            assert!(batch_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn raw_batch_body_is_a_batch_body_whatever_the_key() {
        let events = vec![
            json!({"event": "$pageview", "uuid": "u1", "properties": {"distinct_id": "d"}})
                .to_string(),
            json!({"event": "x", "properties": {"distinct_id": "d", "n": 1.5}}).to_string(),
        ];
        let key = "k\"\\\n\u{1}é";
        let body: BatchBody<Map<String, Value>> =
            serde_json::from_str(&raw_batch_body(key, UnixMs(1_795_849_200_000), &events)).unwrap();
        assert_eq!(body.api_key.as_deref(), Some(key));
        assert_eq!(body.sent_at.as_deref(), Some("2026-11-28T07:00:00.000Z"));
        let names: Vec<_> = body.batch.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(names, ["$pageview", "x"]);
        let empty: BatchBody<Map<String, Value>> =
            serde_json::from_str(&raw_batch_body("k", UnixMs(0), &[])).unwrap();
        assert!(empty.batch.is_empty());
    }
}
