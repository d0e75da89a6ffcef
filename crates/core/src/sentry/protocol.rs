//! The Sentry payloads the browser SDK sends: error events, session updates,
//! navigation transactions and client reports.
//!
//! Only the fields we send are modelled. Every type also reads back (the
//! collector parses with them), tolerating missing optional fields.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use super::datetime::rfc3339;
use super::envelope::SdkInfo;
use crate::UnixMs;

/// The `platform` of every browser event.
pub const PLATFORM_JAVASCRIPT: &str = "javascript";

/// A 32-hex-digit id (a UUIDv4 in simple form), used for `event_id` and a session's `sid`.
///
/// ```
/// use ff_telemetry_core::sentry::EventId;
/// let id = EventId::from_random_bytes([0xab; 16]);
/// assert_eq!(id.to_string(), "abababababab4bababababababababab");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventId(Uuid);

impl EventId {
    /// A random (version 4) id made from 16 random bytes.
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        EventId(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.simple(), f)
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Uuid::try_parse(&s)
            .map(EventId)
            .map_err(serde::de::Error::custom)
    }
}

/// A trace id: 16 bytes, written as 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId(pub [u8; 16]);

/// A span id: 8 bytes, written as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId(pub [u8; 8]);

macro_rules! hex_id {
    ($ty:ident, $n:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                decode_hex::<$n>(&s).map($ty).ok_or_else(|| {
                    serde::de::Error::custom(format!("expected {} hex digits", 2 * $n))
                })
            }
        }
    };
}

hex_id!(TraceId, 16);
hex_id!(SpanId, 8);

fn decode_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Severity of an event or breadcrumb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Debug information.
    Debug,
    /// Informational (the default for `captureMessage`).
    #[default]
    Info,
    /// A warning.
    Warning,
    /// An error (every exception).
    Error,
    /// A fatal error.
    Fatal,
}

impl Level {
    /// Parses the names `captureMessage` accepts (`log` is an alias of `info`);
    /// `None` for anything else.
    pub fn from_name(name: &str) -> Option<Level> {
        Some(match name {
            "debug" => Level::Debug,
            "info" | "log" => Level::Info,
            "warning" => Level::Warning,
            "error" => Level::Error,
            "fatal" => Level::Fatal,
            _ => return None,
        })
    }
}

/// `{"values": [...]}`, Sentry's wrapper for lists.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Values<T> {
    /// The items.
    pub values: Vec<T>,
}

/// One stack frame. Browser frames carry a file, function, line and column;
/// WebAssembly frames carry an `instruction_addr` (the code offset) instead of
/// line and column.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Frame {
    /// Script or module URL (or `<anonymous>`, `[native code]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Function name; `wasm-function[N]` for unnamed WebAssembly functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineno: Option<u32>,
    /// 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colno: Option<u32>,
    /// Offset in the WebAssembly module, hex with `0x`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_addr: Option<String>,
    /// Whether the frame is the application's code (not the browser's or an extension's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_app: Option<bool>,
}

/// A stack trace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stacktrace {
    /// Oldest call first, the frame that threw last.
    #[serde(default)]
    pub frames: Vec<Frame>,
}

/// How an exception was caught.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mechanism {
    /// `onerror`, `onunhandledrejection`, `generic` (explicit capture), `panic`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// False when nothing caught it (an unhandled error crashes the session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled: Option<bool>,
}

/// One exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    /// The error's name, e.g. `TypeError`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The error's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// How it was caught.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<Mechanism>,
    /// Where it was thrown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
}

/// A breadcrumb: something that happened before the event (here: route changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breadcrumb {
    /// When it happened.
    #[serde(with = "rfc3339")]
    pub timestamp: UnixMs,
    /// `navigation` for route changes.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `navigation` for route changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `from` and `to` for route changes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
}

impl Breadcrumb {
    /// The breadcrumb of a route change, as Sentry's browser SDK writes it.
    pub fn navigation(at: UnixMs, from: Option<&str>, to: &str) -> Self {
        let mut data = BTreeMap::new();
        if let Some(from) = from {
            data.insert("from".to_owned(), from.to_owned());
        }
        data.insert("to".to_owned(), to.to_owned());
        Breadcrumb {
            timestamp: at,
            kind: Some("navigation".to_owned()),
            category: Some("navigation".to_owned()),
            message: None,
            data,
        }
    }
}

/// The user, by id only: no email, name or IP address is ever sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The id set by `identify`.
    pub id: String,
}

/// The page the event happened on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The page URL without credentials, query string or fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What every event and transaction of one SDK instance shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContext {
    /// `SENTRY_ENV` → `NODE_ENV` → `unknown`.
    pub environment: String,
    /// `flowfuse@<version>`, when known.
    pub release: Option<String>,
    /// The SDK's name and version.
    pub sdk: SdkInfo,
    /// The identified user, if any.
    pub user: Option<User>,
    /// The page URL, already sanitised (see [`sanitize_url`](super::sanitize_url)).
    pub page_url: Option<String>,
}

/// An error event (exception or message).
///
/// ```
/// use ff_telemetry_core::UnixMs;
/// use ff_telemetry_core::sentry::{Event, EventContext, EventId, Exception, SdkInfo};
/// let context = EventContext {
///     environment: "production".into(), release: Some("flowfuse@2.1.0".into()),
///     sdk: SdkInfo { name: "ff-telemetry.web".into(), version: "0.1.0".into() },
///     user: None, page_url: None,
/// };
/// let exception = Exception { kind: "TypeError".into(), value: Some("x is undefined".into()),
///     mechanism: None, stacktrace: None };
/// let event = Event::exception(&context, EventId::from_random_bytes([1; 16]), UnixMs(0), exception);
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["platform"], "javascript");
/// assert_eq!(json["level"], "error");
/// assert_eq!(json["exception"]["values"][0]["type"], "TypeError");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// 32 hex digits.
    pub event_id: EventId,
    /// When it happened.
    #[serde(with = "rfc3339")]
    pub timestamp: UnixMs,
    /// Always `javascript` for the browser.
    #[serde(default)]
    pub platform: String,
    /// `error` for exceptions.
    #[serde(default)]
    pub level: Level,
    /// Deployment environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Release name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The current route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// Searchable tags (the current route as `route`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The identified user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The last route changes, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breadcrumbs: Option<Values<Breadcrumb>>,
    /// The SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<SdkInfo>,
    /// The exception, for errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Values<Exception>>,
    /// The message, for `captureMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
}

impl Event {
    /// An `error`-level event for one exception.
    pub fn exception(
        context: &EventContext,
        event_id: EventId,
        timestamp: UnixMs,
        exception: Exception,
    ) -> Self {
        Event {
            exception: Some(Values {
                values: vec![exception],
            }),
            ..Event::base(context, event_id, timestamp, Level::Error)
        }
    }

    /// A message event (`captureMessage`).
    pub fn message(
        context: &EventContext,
        event_id: EventId,
        timestamp: UnixMs,
        message: &str,
        level: Level,
    ) -> Self {
        Event {
            message: Some(message.to_owned()),
            ..Event::base(context, event_id, timestamp, level)
        }
    }

    /// This event with the current route as `transaction` and `route` tag.
    pub fn with_route(mut self, route: Option<&str>) -> Self {
        if let Some(route) = route {
            self.transaction = Some(route.to_owned());
            self.tags.insert("route".to_owned(), route.to_owned());
        }
        self
    }

    /// This event with breadcrumbs (none when the list is empty).
    pub fn with_breadcrumbs(mut self, breadcrumbs: Vec<Breadcrumb>) -> Self {
        self.breadcrumbs = (!breadcrumbs.is_empty()).then_some(Values {
            values: breadcrumbs,
        });
        self
    }

    fn base(context: &EventContext, event_id: EventId, timestamp: UnixMs, level: Level) -> Self {
        Event {
            event_id,
            timestamp,
            platform: PLATFORM_JAVASCRIPT.to_owned(),
            level,
            environment: Some(context.environment.clone()),
            release: context.release.clone(),
            transaction: None,
            tags: BTreeMap::new(),
            user: context.user.clone(),
            breadcrumbs: None,
            sdk: Some(context.sdk.clone()),
            exception: None,
            message: None,
            request: context.page_url.as_ref().map(|url| Request {
                url: Some(url.clone()),
            }),
        }
    }
}

/// Release-health state of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    /// Running, or ended without telling us.
    Ok,
    /// Ended normally (terminal).
    Exited,
    /// Ended by an unhandled error (terminal).
    Crashed,
    /// Ended abnormally, e.g. killed (terminal).
    Abnormal,
}

impl SessionStatus {
    /// Whether no update may follow.
    pub fn is_terminal(self) -> bool {
        self != SessionStatus::Ok
    }
}

/// `attrs` of a session update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAttributes {
    /// Release name (required by Sentry).
    pub release: String,
    /// Deployment environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

/// One session update (`session` envelope item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUpdate {
    /// Session id.
    pub sid: EventId,
    /// Distinct id: the identified user, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did: Option<String>,
    /// True on the first update of the session only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub init: bool,
    /// When the session started.
    #[serde(with = "rfc3339")]
    pub started: UnixMs,
    /// When this update was made.
    #[serde(with = "rfc3339")]
    pub timestamp: UnixMs,
    /// Current status.
    pub status: SessionStatus,
    /// Errors seen so far.
    #[serde(default)]
    pub errors: u64,
    /// Seconds since `started`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Release and environment.
    pub attrs: SessionAttributes,
}

/// The `trace` context of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContext {
    /// Always `trace`.
    #[serde(rename = "type", default = "trace")]
    pub kind: String,
    /// The trace.
    pub trace_id: TraceId,
    /// The transaction's root span.
    pub span_id: SpanId,
    /// `navigation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

fn trace() -> String {
    "trace".to_owned()
}

/// `contexts` of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionContexts {
    /// The trace context.
    pub trace: TraceContext,
}

/// `transaction_info`: where the transaction name came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionInfo {
    /// `route` (a router path) or `url`.
    pub source: String,
}

/// A performance transaction: here, one route change of the single-page app.
///
/// ```
/// use ff_telemetry_core::UnixMs;
/// use ff_telemetry_core::sentry::{EventContext, EventId, SdkInfo, SpanId, TraceId, Transaction};
/// let context = EventContext {
///     environment: "production".into(), release: None,
///     sdk: SdkInfo { name: "ff-telemetry.web".into(), version: "0.1.0".into() },
///     user: None, page_url: None,
/// };
/// let tx = Transaction::navigation(&context, EventId::from_random_bytes([1; 16]),
///     TraceId([2; 16]), SpanId([3; 8]), "/team/:id", UnixMs(1_000), UnixMs(1_250));
/// let json = serde_json::to_value(&tx).unwrap();
/// assert_eq!(json["type"], "transaction");
/// assert_eq!(json["contexts"]["trace"]["op"], "navigation");
/// assert_eq!(json["start_timestamp"], "1970-01-01T00:00:01.000Z");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// Always `transaction`.
    #[serde(rename = "type")]
    pub kind: String,
    /// 32 hex digits.
    pub event_id: EventId,
    /// The route.
    pub transaction: String,
    /// Where the name came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_info: Option<TransactionInfo>,
    /// When the navigation started.
    #[serde(with = "rfc3339")]
    pub start_timestamp: UnixMs,
    /// When it finished.
    #[serde(with = "rfc3339")]
    pub timestamp: UnixMs,
    /// Always `javascript` for the browser.
    pub platform: String,
    /// Deployment environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Release name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The identified user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<SdkInfo>,
    /// The trace context.
    pub contexts: TransactionContexts,
    /// Child spans: none are recorded, but Sentry requires the list.
    #[serde(default)]
    pub spans: NoSpans,
}

/// An always-empty span list: written as `[]`; whatever another SDK sent is skipped
/// when reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoSpans;

impl Serialize for NoSpans {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        s.serialize_seq(Some(0))?.end()
    }
}

impl<'de> Deserialize<'de> for NoSpans {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| NoSpans)
    }
}

impl Transaction {
    /// A `navigation` transaction for `route`, from `started` to `finished`.
    pub fn navigation(
        context: &EventContext,
        event_id: EventId,
        trace_id: TraceId,
        span_id: SpanId,
        route: &str,
        started: UnixMs,
        finished: UnixMs,
    ) -> Self {
        Transaction {
            kind: "transaction".to_owned(),
            event_id,
            transaction: route.to_owned(),
            transaction_info: Some(TransactionInfo {
                source: "route".to_owned(),
            }),
            start_timestamp: started,
            timestamp: finished.max(started),
            platform: PLATFORM_JAVASCRIPT.to_owned(),
            environment: Some(context.environment.clone()),
            release: context.release.clone(),
            user: context.user.clone(),
            sdk: Some(context.sdk.clone()),
            contexts: TransactionContexts {
                trace: TraceContext {
                    kind: trace(),
                    trace_id,
                    span_id,
                    op: Some("navigation".to_owned()),
                    status: Some("ok".to_owned()),
                },
            },
            spans: NoSpans,
        }
    }
}

/// What kind of data an item or a rate limit is about (Sentry's data categories).
///
/// Unknown names are kept as [`DataCategory::Other`], so a rate limit on a
/// category this SDK does not know still round-trips.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataCategory {
    /// Items with no more specific category.
    Default,
    /// Error events.
    Error,
    /// Transactions.
    Transaction,
    /// Session updates.
    Session,
    /// Attachments.
    Attachment,
    /// CSP and other security reports.
    Security,
    /// Profiles.
    Profile,
    /// Session replays.
    Replay,
    /// Cron check-ins.
    Monitor,
    /// Spans.
    Span,
    /// Log items.
    LogItem,
    /// Client reports and other SDK-internal items: never rate-limited.
    Internal,
    /// A category this SDK does not know.
    Other(String),
}

impl DataCategory {
    /// The category name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            DataCategory::Default => "default",
            DataCategory::Error => "error",
            DataCategory::Transaction => "transaction",
            DataCategory::Session => "session",
            DataCategory::Attachment => "attachment",
            DataCategory::Security => "security",
            DataCategory::Profile => "profile",
            DataCategory::Replay => "replay",
            DataCategory::Monitor => "monitor",
            DataCategory::Span => "span",
            DataCategory::LogItem => "log_item",
            DataCategory::Internal => "internal",
            DataCategory::Other(name) => name,
        }
    }

    /// The category of a name on the wire.
    pub fn from_name(name: &str) -> DataCategory {
        match name {
            "default" => DataCategory::Default,
            "error" => DataCategory::Error,
            "transaction" => DataCategory::Transaction,
            "session" => DataCategory::Session,
            "attachment" => DataCategory::Attachment,
            "security" => DataCategory::Security,
            "profile" => DataCategory::Profile,
            "replay" => DataCategory::Replay,
            "monitor" => DataCategory::Monitor,
            "span" => DataCategory::Span,
            "log_item" => DataCategory::LogItem,
            "internal" => DataCategory::Internal,
            other => DataCategory::Other(other.to_owned()),
        }
    }

    /// The category an envelope item of type `item_type` counts against.
    ///
    /// ```
    /// use ff_telemetry_core::sentry::DataCategory;
    /// assert_eq!(DataCategory::for_item_type("event"), DataCategory::Error);
    /// assert_eq!(DataCategory::for_item_type("sessions"), DataCategory::Session);
    /// ```
    pub fn for_item_type(item_type: &str) -> DataCategory {
        match item_type {
            "event" => DataCategory::Error,
            "transaction" => DataCategory::Transaction,
            "session" | "sessions" => DataCategory::Session,
            "attachment" => DataCategory::Attachment,
            "security" => DataCategory::Security,
            "profile" | "profile_chunk" => DataCategory::Profile,
            "replay_event" | "replay_recording" | "replay_video" => DataCategory::Replay,
            "check_in" => DataCategory::Monitor,
            "span" => DataCategory::Span,
            "log" => DataCategory::LogItem,
            "client_report" => DataCategory::Internal,
            _ => DataCategory::Default,
        }
    }
}

impl Serialize for DataCategory {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DataCategory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(DataCategory::from_name(&String::deserialize(d)?))
    }
}

/// Why the SDK dropped something (Sentry's client-report discard reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscardReason {
    /// A rate limit was in force.
    RatelimitBackoff,
    /// Sampled away.
    SampleRate,
    /// Filtered (ignored message or repeated error).
    EventProcessor,
    /// The outgoing queue was full.
    QueueOverflow,
    /// The server refused it or the network failed for good.
    SendError,
}

/// How many items of one category were dropped for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscardedEvents {
    /// Why.
    pub reason: DiscardReason,
    /// What.
    pub category: DataCategory,
    /// How many.
    pub quantity: u64,
}

/// A client report: what the SDK dropped, so Sentry's stats stay honest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientReport {
    /// When the report was made.
    #[serde(with = "rfc3339")]
    pub timestamp: UnixMs,
    /// The counts.
    pub discarded_events: Vec<DiscardedEvents>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_hex_of_the_right_length() {
        let event_id = EventId::from_random_bytes([0xff; 16]);
        assert_eq!(event_id.to_string(), "ffffffffffff4fffbfffffffffffffff");
        assert_eq!(
            TraceId([0xa0; 16]).to_string(),
            "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
        );
        assert_eq!(
            SpanId([1, 2, 3, 4, 5, 6, 7, 8]).to_string(),
            "0102030405060708"
        );
    }

    #[test]
    fn ids_read_back() {
        let span: SpanId = serde_json::from_str("\"0102030405060708\"").unwrap();
        assert_eq!(span, SpanId([1, 2, 3, 4, 5, 6, 7, 8]));
        assert!(serde_json::from_str::<SpanId>("\"01020304050607\"").is_err());
        assert!(serde_json::from_str::<TraceId>("\"zz\"").is_err());
        let id = EventId::from_random_bytes([7; 16]);
        let back: EventId = serde_json::from_str(&serde_json::to_string(&id).unwrap()).unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn categories_keep_unknown_names() {
        for name in ["error", "log_item", "metric_bucket", ""] {
            let category = DataCategory::from_name(name);
            assert_eq!(category.as_str(), name);
        }
        assert_eq!(
            DataCategory::from_name("metric_bucket"),
            DataCategory::Other("metric_bucket".into())
        );
    }

    #[test]
    fn levels_parse_capture_message_names() {
        assert_eq!(Level::from_name("log"), Some(Level::Info));
        assert_eq!(Level::from_name("warning"), Some(Level::Warning));
        assert_eq!(Level::from_name("warn"), None);
    }
}
