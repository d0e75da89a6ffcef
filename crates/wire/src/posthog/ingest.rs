//! The rules PostHog's capture endpoint applies to a decoded request body: which
//! shapes are accepted, where the token and the distinct id may be, and which status
//! each refusal gets. The collector decodes the bytes (gzip, base64, lz64, form) and
//! hands the JSON here.

use serde_json::{Map, Value};

use super::{BatchBody, CaptureEvent};

/// Which project tokens a sink accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TokenPolicy {
    /// Any non-empty token; the token is recorded with each event. A local sink uses
    /// this so a developer can point any SPA at it without configuring keys.
    #[default]
    AcceptAny,
    /// Only these tokens; any other is refused with 401.
    Only(Vec<String>),
}

/// One event that passed every rule, with the token and distinct id resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestedEvent {
    /// Event name, e.g. `$pageview`.
    pub event: String,
    /// The request's project token.
    pub token: String,
    /// Top-level `distinct_id`, else `properties.distinct_id`.
    pub distinct_id: String,
    /// Client-made event UUID, when sent.
    pub uuid: Option<String>,
    /// Client timestamp, when sent.
    pub timestamp: Option<String>,
    /// The event's properties, as sent.
    pub properties: Map<String, Value>,
}

/// Why a capture request is refused. One bad event fails the whole request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The body is neither an event, an array of events nor a batch object.
    #[error("body must be an event object, an array of events or {{\"batch\": [...]}}")]
    BadShape,
    /// The request holds no events.
    #[error("no events in request")]
    NoEvents,
    /// An event does not fit the capture event type; `path` names the field.
    #[error("{path}: {reason}")]
    BadEvent {
        /// JSON path of the offending field, e.g. `batch[2].event`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An event has no distinct id, neither top level nor in its properties.
    #[error("{path}: distinct_id is missing (top level or properties.distinct_id)")]
    MissingDistinctId {
        /// JSON path of the event, e.g. `batch[0]`.
        path: String,
    },
    /// No token anywhere: not in the body, the events nor their properties.
    #[error("project token is missing (api_key, token or properties.token)")]
    MissingToken,
    /// Events in one request carry different tokens.
    #[error("one request carries more than one project token")]
    MixedTokens,
    /// The policy does not accept this token.
    #[error("unknown project token")]
    UnknownToken,
}

impl IngestError {
    /// The HTTP status PostHog answers with: 401 for token problems, else 400.
    pub fn status(&self) -> u16 {
        match self {
            IngestError::MissingToken | IngestError::UnknownToken => 401,
            _ => 400,
        }
    }
}

/// Applies PostHog's capture rules to a decoded body.
///
/// ```
/// use ff_telemetry_wire::posthog::ingest::{ingest, IngestError, TokenPolicy};
/// use serde_json::json;
/// let body = json!({"api_key": "phc_1", "batch": [
///     {"event": "$pageview", "properties": {"distinct_id": "d1", "$current_url": "http://h/"}},
/// ]});
/// let events = ingest(&body, &TokenPolicy::AcceptAny).unwrap();
/// assert_eq!((events[0].token.as_str(), events[0].distinct_id.as_str()), ("phc_1", "d1"));
///
/// let no_token = json!({"event": "x", "distinct_id": "d1", "properties": {}});
/// let err = ingest(&no_token, &TokenPolicy::AcceptAny).unwrap_err();
/// assert_eq!((err.status(), err), (401, IngestError::MissingToken));
/// ```
pub fn ingest(body: &Value, policy: &TokenPolicy) -> Result<Vec<IngestedEvent>, IngestError> {
    let (body_token, events, prefix) = split_body(body)?;
    if events.is_empty() {
        return Err(IngestError::NoEvents);
    }
    let mut token = body_token;
    let mut out = Vec::with_capacity(events.len());
    for (idx, raw) in events.iter().enumerate() {
        let path = match prefix {
            Some(prefix) => format!("{prefix}[{idx}]"),
            None => String::new(),
        };
        let event = parse_event(raw, &path)?;
        let event_token = non_empty(event.api_key.as_deref())
            .or_else(|| non_empty(event.properties.get("token").and_then(Value::as_str)));
        match (&token, event_token) {
            (Some(known), Some(t)) if known != t => return Err(IngestError::MixedTokens),
            (None, Some(t)) => token = Some(t.to_owned()),
            _ => {}
        }
        let distinct_id = non_empty(event.distinct_id.as_deref())
            .map(str::to_owned)
            .or_else(|| id_value(event.properties.get("distinct_id")))
            .ok_or_else(|| IngestError::MissingDistinctId {
                path: path_or_root(&path),
            })?;
        out.push(IngestedEvent {
            event: event.event,
            token: String::new(),
            distinct_id,
            uuid: event.uuid,
            timestamp: event.timestamp,
            properties: event.properties,
        });
    }
    let token = token.ok_or(IngestError::MissingToken)?;
    if let TokenPolicy::Only(accepted) = policy
        && !accepted.contains(&token)
    {
        return Err(IngestError::UnknownToken);
    }
    for event in &mut out {
        event.token.clone_from(&token);
    }
    Ok(out)
}

/// A body's batch-level token, its events and the JSON path prefix of those events
/// for error messages (`None` for a single event at the root).
type SplitBody<'a> = (Option<String>, &'a [Value], Option<&'static str>);

/// Splits a body into its parts, type-checking the batch envelope fields.
fn split_body(body: &Value) -> Result<SplitBody<'_>, IngestError> {
    match body {
        Value::Array(events) => Ok((None, events, Some(""))),
        Value::Object(fields) if fields.contains_key("batch") => {
            let Some(Value::Array(events)) = fields.get("batch") else {
                return Err(IngestError::BadEvent {
                    path: "batch".into(),
                    reason: "expected an array of events".into(),
                });
            };
            // The envelope fields are type-checked through the shared wire type.
            let envelope = Value::Object(
                fields
                    .iter()
                    .filter(|(k, _)| *k != "batch")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .chain([("batch".to_owned(), Value::Array(Vec::new()))])
                    .collect(),
            );
            let batch: BatchBody<Map<String, Value>> = typed(&envelope, "")?;
            Ok((
                non_empty(batch.api_key.as_deref()).map(str::to_owned),
                events,
                Some("batch"),
            ))
        }
        Value::Object(_) => Ok((None, std::slice::from_ref(body), None)),
        _ => Err(IngestError::BadShape),
    }
}

/// Parses one event through the shared wire type. Missing properties default to
/// `{}` and a numeric distinct id is read as its decimal text, as PostHog does.
fn parse_event(raw: &Value, path: &str) -> Result<CaptureEvent<Map<String, Value>>, IngestError> {
    let Value::Object(fields) = raw else {
        return Err(IngestError::BadEvent {
            path: path.to_owned(),
            reason: "expected an event object".into(),
        });
    };
    let mut fields = fields.clone();
    fields
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(Value::Number(n)) = fields.get("distinct_id") {
        let text = n.to_string();
        fields.insert("distinct_id".into(), Value::String(text));
    }
    let event: CaptureEvent<Map<String, Value>> = typed(&Value::Object(fields), path)?;
    if event.event.trim().is_empty() {
        return Err(IngestError::BadEvent {
            path: join(path, "event"),
            reason: "event name is empty".into(),
        });
    }
    if let Some(uuid) = &event.uuid
        && uuid::Uuid::parse_str(uuid).is_err()
    {
        return Err(IngestError::BadEvent {
            path: join(path, "uuid"),
            reason: format!("not a UUID: {uuid:?}"),
        });
    }
    Ok(event)
}

fn typed<T: serde::de::DeserializeOwned>(value: &Value, path: &str) -> Result<T, IngestError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        IngestError::BadEvent {
            path: if inner == "." {
                path_or_root(path)
            } else {
                join(path, &inner)
            },
            reason: e.into_inner().to_string(),
        }
    })
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn path_or_root(path: &str) -> String {
    if path.is_empty() {
        "(root)".to_owned()
    } else {
        path.to_owned()
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

/// A distinct id in the properties: a non-empty string or a number.
fn id_value(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn any(body: Value) -> Result<Vec<IngestedEvent>, IngestError> {
        ingest(&body, &TokenPolicy::AcceptAny)
    }

    #[test]
    fn accepts_every_body_shape() {
        let event = json!({"event": "e", "properties": {"distinct_id": "d", "token": "t"}});
        let shapes = [
            event.clone(),
            json!([event.clone(), event.clone()]),
            json!({"api_key": "t", "batch": [event.clone()], "sent_at": "2026-11-28T07:00:00Z"}),
            json!({"token": "t", "batch": [{"event": "e", "distinct_id": "d"}]}),
        ];
        let counts: Vec<usize> = shapes.into_iter().map(|b| any(b).unwrap().len()).collect();
        assert_eq!(counts, [1, 2, 1, 1]);
    }

    #[test]
    fn token_and_distinct_id_come_from_top_level_or_properties() {
        let cases = [
            (
                json!({"event": "e", "api_key": "t1", "distinct_id": "d1"}),
                "t1",
                "d1",
            ),
            (
                json!({"event": "e", "token": "t2", "distinct_id": 42}),
                "t2",
                "42",
            ),
            (
                json!({"event": "e", "properties": {"token": "t3", "distinct_id": 7}}),
                "t3",
                "7",
            ),
            (
                json!({"event": "e", "distinct_id": "top", "properties": {"token": "t4", "distinct_id": "inner"}}),
                "t4",
                "top",
            ),
        ];
        for (body, token, distinct_id) in cases {
            let events = any(body.clone()).unwrap();
            assert_eq!(
                (events[0].token.as_str(), events[0].distinct_id.as_str()),
                (token, distinct_id),
                "{body}"
            );
        }
    }

    #[test]
    fn refusals_say_why_and_map_to_status() {
        let ok = json!({"event": "e", "properties": {"distinct_id": "d", "token": "t"}});
        let cases = [
            (json!("text"), IngestError::BadShape, 400),
            (json!([]), IngestError::NoEvents, 400),
            (json!({"batch": []}), IngestError::NoEvents, 400),
            (
                json!({"batch": {"event": "e"}}),
                IngestError::BadEvent {
                    path: "batch".into(),
                    reason: "expected an array of events".into(),
                },
                400,
            ),
            (
                json!({"api_key": 5, "batch": [ok.clone()]}),
                IngestError::BadEvent {
                    path: "api_key".into(),
                    reason: "invalid type: integer `5`, expected a string".into(),
                },
                400,
            ),
            (
                json!([ok.clone(), {"properties": {}}]),
                IngestError::BadEvent {
                    path: "[1]".into(),
                    reason: "missing field `event`".into(),
                },
                400,
            ),
            (
                json!({"batch": [ok.clone(), {"event": 3}]}),
                IngestError::BadEvent {
                    path: "batch[1].event".into(),
                    reason: "invalid type: integer `3`, expected a string".into(),
                },
                400,
            ),
            (
                json!([ok.clone(), 1]),
                IngestError::BadEvent {
                    path: "[1]".into(),
                    reason: "expected an event object".into(),
                },
                400,
            ),
            (
                json!({"event": " ", "token": "t", "distinct_id": "d"}),
                IngestError::BadEvent {
                    path: "event".into(),
                    reason: "event name is empty".into(),
                },
                400,
            ),
            (
                json!({"event": "e", "uuid": "nope", "token": "t", "distinct_id": "d"}),
                IngestError::BadEvent {
                    path: "uuid".into(),
                    reason: "not a UUID: \"nope\"".into(),
                },
                400,
            ),
            (
                json!({"event": "e", "token": "t", "properties": {"distinct_id": ""}}),
                IngestError::MissingDistinctId {
                    path: "(root)".into(),
                },
                400,
            ),
            (
                json!({"event": "e", "distinct_id": "d", "properties": {}}),
                IngestError::MissingToken,
                401,
            ),
            (
                json!({"event": "e", "distinct_id": "d", "token": ""}),
                IngestError::MissingToken,
                401,
            ),
            (
                json!({"api_key": "a", "batch": [{"event": "e", "distinct_id": "d", "properties": {"token": "b"}}]}),
                IngestError::MixedTokens,
                400,
            ),
            (
                json!([ok.clone(), {"event": "e", "distinct_id": "d", "token": "other"}]),
                IngestError::MixedTokens,
                400,
            ),
        ];
        for (body, want, status) in cases {
            let err = any(body.clone()).unwrap_err();
            assert_eq!((&err, err.status()), (&want, status), "{body}");
        }
    }

    #[test]
    fn only_policy_refuses_other_tokens() {
        let policy = TokenPolicy::Only(vec!["phc_demo".into()]);
        let body = |t: &str| json!({"event": "e", "distinct_id": "d", "token": t});
        assert!(ingest(&body("phc_demo"), &policy).is_ok());
        let err = ingest(&body("phc_other"), &policy).unwrap_err();
        assert_eq!((err.status(), err), (401, IngestError::UnknownToken));
    }

    #[test]
    fn properties_are_kept_as_sent() {
        let events = any(json!({"event": "$pageview", "uuid": "0190f0c4-8f3e-7000-8000-000000000000",
            "timestamp": "2026-11-28T07:00:00.000Z",
            "properties": {"distinct_id": "d", "token": "t", "$current_url": "http://h/a", "n": [1, 2]}}))
        .unwrap();
        let e = &events[0];
        assert_eq!(e.properties["$current_url"], "http://h/a");
        assert_eq!(e.properties["n"], json!([1, 2]));
        assert_eq!(e.timestamp.as_deref(), Some("2026-11-28T07:00:00.000Z"));
        assert!(e.uuid.is_some());
    }
}
