use serde::{Deserialize, Serialize};

/// One captured event as PostHog's capture API takes it.
///
/// `P` is the property bag: the browser SDK uses its own typed struct, the
/// collector a JSON map. The distinct id and the project token travel inside the
/// properties (as posthog-js sends them) or at the top level (as server SDKs do);
/// person properties go in `properties.$set` / `properties.$set_once`.
///
/// ```
/// use ff_telemetry_core::posthog::CaptureEvent;
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
