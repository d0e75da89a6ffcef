//! What Sentry's ingestion (Relay) accepts of an envelope: how many items, how large,
//! and which fields each kind of item must have. The collector refuses an envelope
//! over a limit whole (413, as Relay does), keeps the items that pass and drops the
//! others, saying why.
//!
//! The limits are Relay's defaults (`relay-config` `Limits`, and the size limits of
//! Sentry's envelope documentation), except [`MAX_ITEMS_PER_ENVELOPE`], which is this
//! collector's own: Relay bounds attachments by bytes only, the collector also by
//! count so that one request never makes more than a hundred rows.
//!
//! ```
//! use ff_telemetry_wire::sentry::{Envelope, ingest};
//! let body = b"{}\n{\"type\":\"session\"}\n{\"sid\":\"x\"}\n";
//! let envelope = Envelope::parse(body).unwrap();
//! assert!(ingest::check_limits(&envelope).is_ok());
//! let err = ingest::validate_item(&envelope.items[0], None).unwrap_err();
//! assert_eq!(err.to_string(), "session: sid: expected a UUID, found \"x\"");
//! ```

use serde_json::{Map, Value};

use super::datetime::parse_rfc3339;
use super::envelope::{Envelope, EnvelopeItem};
use super::protocol::EventId;

/// Session updates (`session` and `sessions` items) one envelope may hold
/// (Relay's `max_session_count`).
pub const MAX_SESSIONS_PER_ENVELOPE: usize = 100;
/// Aggregate buckets one `sessions` item may hold (Sentry's envelope size limits).
pub const MAX_SESSION_BUCKETS: usize = 100;
/// Bytes of the event and transaction payloads of one envelope (Relay's
/// `max_event_size`, 1 MiB).
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Bytes of the client reports of one envelope (Relay's `max_client_reports_size`).
pub const MAX_CLIENT_REPORT_BYTES: usize = 4 * 1024;
/// Items of any kind one envelope may hold (this collector's bound, see the module docs).
pub const MAX_ITEMS_PER_ENVELOPE: usize = 100;

/// Why a whole envelope is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// More session updates than [`MAX_SESSIONS_PER_ENVELOPE`].
    #[error("envelope holds {n} session items, at most {MAX_SESSIONS_PER_ENVELOPE} are accepted")]
    TooManySessions {
        /// How many it holds.
        n: usize,
    },
    /// More items than [`MAX_ITEMS_PER_ENVELOPE`].
    #[error("envelope holds {n} items, at most {MAX_ITEMS_PER_ENVELOPE} are accepted")]
    TooManyItems {
        /// How many it holds.
        n: usize,
    },
    /// Event and transaction payloads over [`MAX_EVENT_BYTES`].
    #[error("event payloads are {bytes} bytes, at most {MAX_EVENT_BYTES} are accepted")]
    EventTooLarge {
        /// Their size.
        bytes: usize,
    },
    /// Client reports over [`MAX_CLIENT_REPORT_BYTES`].
    #[error("client reports are {bytes} bytes, at most {MAX_CLIENT_REPORT_BYTES} are accepted")]
    ClientReportsTooLarge {
        /// Their size.
        bytes: usize,
    },
    /// More than one `event` or `transaction` item.
    #[error("envelope holds {n} event or transaction items, at most 1 is accepted")]
    SeveralEvents {
        /// How many it holds.
        n: usize,
    },
}

impl LimitError {
    /// The HTTP status Relay answers with: 413 for sizes and counts, 400 for a
    /// second event.
    pub fn status(&self) -> u16 {
        match self {
            LimitError::SeveralEvents { .. } => 400,
            _ => 413,
        }
    }
}

/// The kinds of item the collector keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// An error or message event.
    Event,
    /// A performance transaction.
    Transaction,
    /// One session update.
    Session,
    /// Pre-aggregated session counts.
    Sessions,
    /// What an SDK dropped.
    ClientReport,
    /// A file (any bytes).
    Attachment,
}

/// An item that passed.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidItem {
    /// What it is.
    pub kind: ItemKind,
    /// The event's id, for events and transactions: what makes a repeat the same event.
    pub event_id: Option<EventId>,
    /// The payload as JSON; `None` for an attachment.
    pub json: Option<Value>,
}

/// Why one item is dropped: its type and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {reason}")]
pub struct ItemError {
    /// The item's `type`.
    pub kind: String,
    /// What is wrong, naming the field.
    pub reason: String,
}

/// Checks the limits that refuse a whole envelope.
pub fn check_limits(envelope: &Envelope) -> Result<(), LimitError> {
    let (mut n_sessions, mut n_events, mut event_bytes, mut report_bytes) = (0, 0, 0, 0);
    for item in &envelope.items {
        match item.header.kind.as_str() {
            "session" | "sessions" => n_sessions += 1,
            "event" | "transaction" => {
                n_events += 1;
                event_bytes += item.payload.len();
            }
            "client_report" => report_bytes += item.payload.len(),
            _ => {}
        }
    }
    let n = envelope.items.len();
    if n_sessions > MAX_SESSIONS_PER_ENVELOPE {
        Err(LimitError::TooManySessions { n: n_sessions })
    } else if n > MAX_ITEMS_PER_ENVELOPE {
        Err(LimitError::TooManyItems { n })
    } else if event_bytes > MAX_EVENT_BYTES {
        Err(LimitError::EventTooLarge { bytes: event_bytes })
    } else if report_bytes > MAX_CLIENT_REPORT_BYTES {
        Err(LimitError::ClientReportsTooLarge {
            bytes: report_bytes,
        })
    } else if n_events > 1 {
        Err(LimitError::SeveralEvents { n: n_events })
    } else {
        Ok(())
    }
}

/// Checks one item as Relay does. `envelope_event_id` is the envelope header's
/// `event_id`, which an event without its own takes.
///
/// - `event`: a JSON object whose `event_id` (or the envelope's) is a UUID.
/// - `transaction`: the same, plus `start_timestamp` ≤ `timestamp` and a trace
///   context (`contexts.trace.trace_id` 32 hex digits, `span_id` 16).
/// - `session`: a UUID `sid`, a `started` time, a known `status` (`ok` when absent),
///   `attrs.release`; `timestamp` and `errors`, when present, well formed.
/// - `sessions`: `aggregates` (at most [`MAX_SESSION_BUCKETS`], each with a
///   `started` time) and `attrs.release`.
/// - `client_report`: each of its lists an array of `{reason, category, quantity}`.
/// - `attachment`: any bytes.
///
/// Any other type is not kept by this collector.
pub fn validate_item(
    item: &EnvelopeItem,
    envelope_event_id: Option<&str>,
) -> Result<ValidItem, ItemError> {
    let kind_name = item.header.kind.as_str();
    let fail = |reason: String| ItemError {
        kind: kind_name.to_owned(),
        reason,
    };
    let kind = match kind_name {
        "event" => ItemKind::Event,
        "transaction" => ItemKind::Transaction,
        "session" => ItemKind::Session,
        "sessions" => ItemKind::Sessions,
        "client_report" => ItemKind::ClientReport,
        "attachment" => {
            return Ok(ValidItem {
                kind: ItemKind::Attachment,
                event_id: None,
                json: None,
            });
        }
        _ => return Err(fail("this item type is not kept".into())),
    };
    let json: Value = serde_json::from_slice(&item.payload)
        .map_err(|e| fail(format!("payload is not JSON: {e}")))?;
    let Value::Object(fields) = &json else {
        return Err(fail("payload is not a JSON object".into()));
    };
    let mut event_id = None;
    match kind {
        ItemKind::Event => event_id = Some(check_event_id(fields, envelope_event_id)),
        ItemKind::Transaction => {
            event_id = Some(check_event_id(fields, envelope_event_id));
            check_transaction(fields).map_err(fail)?;
        }
        ItemKind::Session => check_session(fields).map_err(fail)?,
        ItemKind::Sessions => check_aggregates(fields).map_err(fail)?,
        ItemKind::ClientReport => check_client_report(fields).map_err(fail)?,
        ItemKind::Attachment => {}
    }
    let event_id = event_id.transpose().map_err(fail)?;
    Ok(ValidItem {
        kind,
        event_id,
        json: Some(json),
    })
}

type Fields = Map<String, Value>;

fn check_event_id(fields: &Fields, envelope_event_id: Option<&str>) -> Result<EventId, String> {
    match fields.get("event_id") {
        Some(value) => uuid(value, "event_id"),
        None => match envelope_event_id {
            Some(id) => uuid(&Value::String(id.to_owned()), "event_id (envelope header)"),
            None => Err("event_id is missing (in the payload or the envelope header)".into()),
        },
    }
}

fn check_transaction(fields: &Fields) -> Result<(), String> {
    let start = time(fields, "start_timestamp")?.ok_or("start_timestamp is missing")?;
    let end = time(fields, "timestamp")?.ok_or("timestamp is missing")?;
    if end < start {
        return Err("timestamp is before start_timestamp".into());
    }
    let trace = fields
        .get("contexts")
        .and_then(|c| c.get("trace"))
        .ok_or("contexts.trace is missing")?;
    hex(trace.get("trace_id"), 32, "contexts.trace.trace_id")?;
    hex(trace.get("span_id"), 16, "contexts.trace.span_id")
}

fn check_session(fields: &Fields) -> Result<(), String> {
    uuid(fields.get("sid").unwrap_or(&Value::Null), "sid")?;
    time(fields, "started")?.ok_or("started is missing")?;
    time(fields, "timestamp")?;
    match fields.get("status") {
        None => {}
        Some(Value::String(s))
            if ["ok", "exited", "crashed", "abnormal", "errored"].contains(&s.as_str()) => {}
        Some(other) => {
            return Err(format!(
                "status: expected ok, exited, crashed, abnormal or errored, found {other}"
            ));
        }
    }
    if let Some(errors) = fields.get("errors")
        && errors.as_u64().is_none()
    {
        return Err(format!("errors: expected a count, found {errors}"));
    }
    release(fields)
}

fn check_aggregates(fields: &Fields) -> Result<(), String> {
    let Some(Value::Array(buckets)) = fields.get("aggregates") else {
        return Err("aggregates: expected an array of buckets".into());
    };
    if buckets.len() > MAX_SESSION_BUCKETS {
        return Err(format!(
            "aggregates: {} buckets, at most {MAX_SESSION_BUCKETS} are accepted",
            buckets.len()
        ));
    }
    for (idx, bucket) in buckets.iter().enumerate() {
        let Value::Object(bucket) = bucket else {
            return Err(format!("aggregates[{idx}]: expected an object"));
        };
        time(bucket, "started")
            .and_then(|t| t.ok_or_else(|| "started is missing".into()))
            .map_err(|e| format!("aggregates[{idx}].{e}"))?;
    }
    release(fields)
}

fn check_client_report(fields: &Fields) -> Result<(), String> {
    time(fields, "timestamp")?;
    for list in [
        "discarded_events",
        "rate_limited_events",
        "filtered_events",
        "filtered_sampling_events",
    ] {
        let Some(outcomes) = fields.get(list) else {
            continue;
        };
        let Value::Array(outcomes) = outcomes else {
            return Err(format!("{list}: expected an array"));
        };
        for (idx, outcome) in outcomes.iter().enumerate() {
            let well_formed = outcome.get("reason").is_some_and(Value::is_string)
                && outcome.get("category").is_some_and(Value::is_string)
                && outcome
                    .get("quantity")
                    .is_some_and(|q| q.as_u64().is_some());
            if !well_formed {
                return Err(format!(
                    "{list}[{idx}]: expected {{\"reason\": text, \"category\": text, \"quantity\": count}}"
                ));
            }
        }
    }
    Ok(())
}

/// `attrs.release`: a non-empty string (Sentry drops sessions without a release).
fn release(fields: &Fields) -> Result<(), String> {
    match fields.get("attrs").and_then(|a| a.get("release")) {
        Some(Value::String(r)) if !r.trim().is_empty() => Ok(()),
        _ => Err("attrs.release is missing".into()),
    }
}

fn uuid(value: &Value, name: &str) -> Result<EventId, String> {
    value
        .as_str()
        .and_then(EventId::parse)
        .ok_or_else(|| format!("{name}: expected a UUID, found {value}"))
}

/// A time field: `Ok(None)` when absent, an error when present and not an RFC 3339
/// time or a number of seconds.
fn time(fields: &Fields, name: &str) -> Result<Option<f64>, String> {
    let Some(value) = fields.get(name) else {
        return Ok(None);
    };
    let seconds = match value {
        Value::Number(n) => n.as_f64().filter(|s| *s >= 0.0),
        Value::String(s) => parse_rfc3339(s).map(|t| t.0 as f64 / 1000.0),
        _ => None,
    };
    seconds
        .map(Some)
        .ok_or_else(|| format!("{name}: expected an RFC 3339 time, found {value}"))
}

fn hex(value: Option<&Value>, n_digits: usize, name: &str) -> Result<(), String> {
    match value.and_then(Value::as_str) {
        Some(s) if s.len() == n_digits && s.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(()),
        _ => Err(format!("{name}: expected {n_digits} hex digits")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sentry::ItemHeader;

    const ID: &str = "9ec79c33ec9942ab8353589fcb2e04dc";

    fn item(kind: &str, payload: &Value) -> EnvelopeItem {
        EnvelopeItem {
            header: ItemHeader {
                kind: kind.into(),
                length: None,
                content_type: None,
                filename: None,
            },
            payload: payload.to_string().into_bytes(),
        }
    }

    fn check(kind: &str, payload: Value) -> Result<ValidItem, String> {
        validate_item(&item(kind, &payload), None).map_err(|e| e.to_string())
    }

    fn session() -> Value {
        json!({"sid": "7c6a5f0a-3b8e-4c1f-9e3a-2d1b0c9f8e7d", "did": "u1", "init": true,
            "started": "2026-11-28T07:00:00.000Z", "timestamp": "2026-11-28T07:00:01.000Z",
            "status": "ok", "errors": 0, "attrs": {"release": "flowfuse@2.11.0"}})
    }

    fn transaction() -> Value {
        json!({"event_id": ID, "transaction": "/a", "start_timestamp": 1_795_849_000.0,
            "timestamp": "2026-11-28T07:00:01.000Z",
            "contexts": {"trace": {"trace_id": "02020202020202020202020202020202", "span_id": "0303030303030303"}}})
    }

    #[test]
    fn what_sdks_send_passes() {
        let event = check("event", json!({"event_id": ID, "message": "hi"})).unwrap();
        assert_eq!(event.kind, ItemKind::Event);
        assert_eq!(event.event_id.unwrap().to_string(), ID);
        // A hyphenated id is the same id.
        let hyphenated = check(
            "event",
            json!({"event_id": "9ec79c33-ec99-42ab-8353-589fcb2e04dc"}),
        )
        .unwrap();
        assert_eq!(hyphenated.event_id, event.event_id);
        assert!(check("transaction", transaction()).is_ok());
        assert!(check("session", session()).is_ok());
        let mut minimal = session();
        for field in ["did", "init", "timestamp", "status", "errors"] {
            minimal.as_object_mut().unwrap().remove(field);
        }
        assert!(check("session", minimal).is_ok());
        assert!(check(
            "sessions",
            json!({"aggregates": [{"started": "2026-11-28T07:00:00Z", "exited": 3}], "attrs": {"release": "r"}})
        )
        .is_ok());
        assert!(check(
            "client_report",
            json!({"timestamp": 1_795_850_000, "discarded_events": [{"reason": "sample_rate", "category": "span", "quantity": 2}]})
        )
        .is_ok());
        let attachment = validate_item(
            &EnvelopeItem {
                payload: b"\xff\x00".to_vec(),
                ..item("attachment", &json!(null))
            },
            None,
        )
        .unwrap();
        assert_eq!(
            (attachment.kind, attachment.json),
            (ItemKind::Attachment, None)
        );
    }

    #[test]
    fn an_event_without_its_own_id_takes_the_envelopes() {
        let no_id = item("event", &json!({"message": "hi"}));
        let valid = validate_item(&no_id, Some(ID)).unwrap();
        assert_eq!(valid.event_id.unwrap().to_string(), ID);
        assert_eq!(
            validate_item(&no_id, None).unwrap_err().to_string(),
            "event: event_id is missing (in the payload or the envelope header)"
        );
    }

    #[test]
    fn each_problem_is_named() {
        let with = |mut base: Value, field: &str, value: Value| {
            base[field] = value;
            base
        };
        let without = |mut base: Value, field: &str| {
            base.as_object_mut().unwrap().remove(field);
            base
        };
        let cases = [
            (
                "event",
                json!({"event_id": "x"}),
                "event: event_id: expected a UUID, found \"x\"",
            ),
            ("event", json!([1]), "event: payload is not a JSON object"),
            (
                "event",
                json!("text"),
                "event: payload is not a JSON object",
            ),
            (
                "session",
                json!({"sid": "x"}),
                "session: sid: expected a UUID, found \"x\"",
            ),
            (
                "session",
                without(session(), "sid"),
                "session: sid: expected a UUID, found null",
            ),
            (
                "session",
                without(session(), "started"),
                "session: started is missing",
            ),
            (
                "session",
                with(session(), "started", json!("yesterday")),
                "session: started: expected an RFC 3339 time, found \"yesterday\"",
            ),
            (
                "session",
                with(session(), "status", json!("fine")),
                "session: status: expected ok, exited, crashed, abnormal or errored, found \"fine\"",
            ),
            (
                "session",
                with(session(), "errors", json!(-1)),
                "session: errors: expected a count, found -1",
            ),
            (
                "session",
                with(session(), "attrs", json!({"release": ""})),
                "session: attrs.release is missing",
            ),
            (
                "sessions",
                json!({"aggregates": [{"exited": 1}], "attrs": {"release": "r"}}),
                "sessions: aggregates[0].started is missing",
            ),
            (
                "sessions",
                json!({"attrs": {"release": "r"}}),
                "sessions: aggregates: expected an array of buckets",
            ),
            (
                "transaction",
                without(transaction(), "start_timestamp"),
                "transaction: start_timestamp is missing",
            ),
            (
                "transaction",
                with(transaction(), "start_timestamp", json!(1_900_000_000)),
                "transaction: timestamp is before start_timestamp",
            ),
            (
                "transaction",
                with(transaction(), "contexts", json!({})),
                "transaction: contexts.trace is missing",
            ),
            (
                "transaction",
                with(
                    transaction(),
                    "contexts",
                    json!({"trace": {"trace_id": "02", "span_id": "0303030303030303"}}),
                ),
                "transaction: contexts.trace.trace_id: expected 32 hex digits",
            ),
            (
                "client_report",
                json!({"discarded_events": [{"reason": "x", "quantity": 1}]}),
                "client_report: discarded_events[0]: expected {\"reason\": text, \"category\": text, \"quantity\": count}",
            ),
            (
                "client_report",
                json!({"discarded_events": {}}),
                "client_report: discarded_events: expected an array",
            ),
            ("profile", json!({}), "profile: this item type is not kept"),
        ];
        for (kind, payload, want) in cases {
            assert_eq!(
                check(kind, payload.clone()).unwrap_err(),
                want,
                "{kind} {payload}"
            );
        }
        let not_json = EnvelopeItem {
            payload: b"{nope".to_vec(),
            ..item("session", &json!(null))
        };
        assert!(
            validate_item(&not_json, None)
                .unwrap_err()
                .reason
                .starts_with("payload is not JSON")
        );
    }

    #[test]
    fn limits_refuse_the_whole_envelope() {
        let envelope = |items: Vec<EnvelopeItem>| Envelope {
            header: Default::default(),
            items,
        };
        let sessions = |n| vec![item("session", &json!({"sid": "x"})); n];
        assert_eq!(check_limits(&envelope(sessions(100))), Ok(()));
        let err = check_limits(&envelope(sessions(10_000))).unwrap_err();
        assert_eq!(
            (err.status(), err.to_string().as_str()),
            (
                413,
                "envelope holds 10000 session items, at most 100 are accepted"
            )
        );
        assert_eq!(
            check_limits(&envelope(vec![item("attachment", &json!(1)); 101])),
            Err(LimitError::TooManyItems { n: 101 })
        );
        let big = json!({"message": "x".repeat(MAX_EVENT_BYTES)});
        assert!(matches!(
            check_limits(&envelope(vec![item("event", &big)])),
            Err(LimitError::EventTooLarge { .. })
        ));
        let report = json!({"discarded_events": [], "pad": "x".repeat(MAX_CLIENT_REPORT_BYTES)});
        assert!(matches!(
            check_limits(&envelope(vec![item("client_report", &report)])),
            Err(LimitError::ClientReportsTooLarge { .. })
        ));
        let two = envelope(vec![
            item("event", &json!({})),
            item("transaction", &json!({})),
        ]);
        let err = check_limits(&two).unwrap_err();
        assert_eq!(
            (err.status(), err),
            (400, LimitError::SeveralEvents { n: 2 })
        );
    }
}
