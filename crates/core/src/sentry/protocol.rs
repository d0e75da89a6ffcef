//! The Sentry payloads the browser SDK sends: error events, session updates,
//! navigation transactions and client reports.
//!
//! Only the fields we send are modelled. Every type also reads back (the
//! collector parses with them), tolerating missing optional fields.

use std::fmt;

use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use super::datetime::rfc3339;
use super::envelope::SdkInfo;
use crate::UnixMs;
use crate::json::{Obj, WriteJson, hex_string, to_json, write_hex_str, write_millis_as_secs};

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

impl EventId {
    /// The 32 hex digits, what `to_string` gives, without going through `core::fmt`.
    pub(crate) fn hex(&self) -> String {
        hex_string(self.0.as_bytes())
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
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
                f.write_str(&hex_string(&self.0))
            }
        }

        impl WriteJson for $ty {
            fn write_json(&self, out: &mut Vec<u8>) {
                write_hex_str(out, &self.0);
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
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Severity of an event or breadcrumb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
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
    /// The level's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

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
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Values<T> {
    /// The items.
    pub values: Vec<T>,
}

/// A JSON object of strings (tags, breadcrumb data) in insertion order.
///
/// A list rather than a `BTreeMap`: these maps hold a handful of keys, and the
/// B-tree code would cost the browser build kilobytes.
///
/// ```
/// use ff_telemetry_core::sentry::StringMap;
/// let mut tags = StringMap::default();
/// tags.insert("route", "/a");
/// tags.insert("route", "/b");
/// assert_eq!(tags.get("route"), Some("/b"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StringMap(Vec<(String, String)>);

impl StringMap {
    /// Sets `key` to `value`, replacing an earlier value.
    pub fn insert(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => value.clone_into(v),
            None => self.0.push((key.to_owned(), value.to_owned())),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StringMapVisitor;
        impl<'de> serde::de::Visitor<'de> for StringMapVisitor {
            type Value = StringMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<StringMap, A::Error> {
                let mut out = StringMap::default();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.insert(&k, &v);
                }
                Ok(out)
            }
        }
        d.deserialize_map(StringMapVisitor)
    }
}

/// One stack frame. Browser frames carry a file, function, line and column;
/// WebAssembly frames carry an `instruction_addr` (the code offset) instead of
/// line and column.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Frame {
    /// Script or module URL (or `<anonymous>`, `[native code]`).
    #[serde(default)]
    pub filename: Option<String>,
    /// Function name; `wasm-function[N]` for unnamed WebAssembly functions.
    #[serde(default)]
    pub function: Option<String>,
    /// 1-based line.
    #[serde(default)]
    pub lineno: Option<u32>,
    /// 1-based column.
    #[serde(default)]
    pub colno: Option<u32>,
    /// Offset in the WebAssembly module, hex with `0x`.
    #[serde(default)]
    pub instruction_addr: Option<String>,
    /// Whether the frame is the application's code (not the browser's or an extension's).
    #[serde(default)]
    pub in_app: Option<bool>,
}

/// A stack trace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Stacktrace {
    /// Oldest call first, the frame that threw last.
    #[serde(default)]
    pub frames: Vec<Frame>,
}

/// How an exception was caught.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Mechanism {
    /// `onerror`, `onunhandledrejection`, `generic` (explicit capture), `panic`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// False when nothing caught it (an unhandled error crashes the session).
    #[serde(default)]
    pub handled: Option<bool>,
}

/// One exception.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Exception {
    /// The error's name, e.g. `TypeError`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The error's message.
    #[serde(default)]
    pub value: Option<String>,
    /// How it was caught.
    #[serde(default)]
    pub mechanism: Option<Mechanism>,
    /// Where it was thrown.
    #[serde(default)]
    pub stacktrace: Option<Stacktrace>,
}

/// A breadcrumb: something that happened before the event (here: route changes).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Breadcrumb {
    /// When it happened.
    #[serde(deserialize_with = "rfc3339")]
    pub timestamp: UnixMs,
    /// `navigation` for route changes.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// `navigation` for route changes.
    #[serde(default)]
    pub category: Option<String>,
    /// Free text.
    #[serde(default)]
    pub message: Option<String>,
    /// `from` and `to` for route changes.
    #[serde(default)]
    pub data: StringMap,
}

impl Breadcrumb {
    /// The breadcrumb of a route change, as Sentry's browser SDK writes it.
    pub fn navigation(at: UnixMs, from: Option<&str>, to: &str) -> Self {
        let mut data = StringMap::default();
        if let Some(from) = from {
            data.insert("from", from);
        }
        data.insert("to", to);
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The id set by `identify`.
    pub id: String,
}

/// The page the event happened on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Request {
    /// The page URL without credentials, query string or fragment.
    #[serde(default)]
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
/// let json: serde_json::Value = serde_json::from_slice(&event.to_json()).unwrap();
/// assert_eq!(json["platform"], "javascript");
/// assert_eq!(json["level"], "error");
/// assert_eq!(json["exception"]["values"][0]["type"], "TypeError");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Event {
    /// 32 hex digits.
    pub event_id: EventId,
    /// When it happened.
    #[serde(deserialize_with = "rfc3339")]
    pub timestamp: UnixMs,
    /// Always `javascript` for the browser.
    #[serde(default)]
    pub platform: String,
    /// `error` for exceptions.
    #[serde(default)]
    pub level: Level,
    /// Deployment environment.
    #[serde(default)]
    pub environment: Option<String>,
    /// Release name.
    #[serde(default)]
    pub release: Option<String>,
    /// The current route.
    #[serde(default)]
    pub transaction: Option<String>,
    /// Searchable tags (the current route as `route`).
    #[serde(default)]
    pub tags: StringMap,
    /// The identified user.
    #[serde(default)]
    pub user: Option<User>,
    /// The last route changes, oldest first.
    #[serde(default)]
    pub breadcrumbs: Option<Values<Breadcrumb>>,
    /// The SDK.
    #[serde(default)]
    pub sdk: Option<SdkInfo>,
    /// The exception, for errors.
    #[serde(default)]
    pub exception: Option<Values<Exception>>,
    /// The message, for `captureMessage`.
    #[serde(default)]
    pub message: Option<String>,
    /// The page.
    #[serde(default)]
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
        // Set on the base event rather than `..Event::base(..)`, which would
        // build the base aside and copy every other field over.
        let mut event = Event::base(context, event_id, timestamp, Level::Error);
        event.exception = Some(Values {
            values: vec![exception],
        });
        event
    }

    /// A message event (`captureMessage`).
    pub fn message(
        context: &EventContext,
        event_id: EventId,
        timestamp: UnixMs,
        message: &str,
        level: Level,
    ) -> Self {
        let mut event = Event::base(context, event_id, timestamp, level);
        event.message = Some(message.to_owned());
        event
    }

    /// This event with the current route as `transaction` and `route` tag.
    pub fn with_route(mut self, route: Option<&str>) -> Self {
        if let Some(route) = route {
            self.transaction = Some(route.to_owned());
            self.tags.insert("route", route);
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
            tags: StringMap::default(),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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
    /// The status's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Ok => "ok",
            SessionStatus::Exited => "exited",
            SessionStatus::Crashed => "crashed",
            SessionStatus::Abnormal => "abnormal",
        }
    }

    /// Whether no update may follow.
    pub fn is_terminal(self) -> bool {
        self != SessionStatus::Ok
    }
}

/// `attrs` of a session update.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SessionAttributes {
    /// Release name (required by Sentry).
    pub release: String,
    /// Deployment environment.
    #[serde(default)]
    pub environment: Option<String>,
}

/// One session update (`session` envelope item).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SessionUpdate {
    /// Session id.
    pub sid: EventId,
    /// Distinct id: the identified user, if any.
    #[serde(default)]
    pub did: Option<String>,
    /// True on the first update of the session only.
    #[serde(default)]
    pub init: bool,
    /// When the session started.
    #[serde(deserialize_with = "rfc3339")]
    pub started: UnixMs,
    /// When this update was made.
    #[serde(deserialize_with = "rfc3339")]
    pub timestamp: UnixMs,
    /// Current status.
    pub status: SessionStatus,
    /// Errors seen so far.
    #[serde(default)]
    pub errors: u64,
    /// Seconds since `started`.
    #[serde(default)]
    pub duration: Option<f64>,
    /// Release and environment.
    pub attrs: SessionAttributes,
}

/// The `trace` context of a transaction (written with `"type": "trace"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TraceContext {
    /// The trace.
    pub trace_id: TraceId,
    /// The transaction's root span.
    pub span_id: SpanId,
    /// `navigation`.
    #[serde(default)]
    pub op: Option<String>,
    /// `ok`.
    #[serde(default)]
    pub status: Option<String>,
}

/// `contexts` of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TransactionContexts {
    /// The trace context.
    pub trace: TraceContext,
}

/// `transaction_info`: where the transaction name came from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TransactionInfo {
    /// `route` (a router path) or `url`.
    pub source: String,
}

/// A performance transaction: here, one route change of the single-page app
/// (written with `"type": "transaction"` and the empty `spans` list Sentry requires).
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
/// let json: serde_json::Value = serde_json::from_slice(&tx.to_json()).unwrap();
/// assert_eq!(json["type"], "transaction");
/// assert_eq!(json["contexts"]["trace"]["op"], "navigation");
/// assert_eq!(json["start_timestamp"], "1970-01-01T00:00:01.000Z");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Transaction {
    /// 32 hex digits.
    pub event_id: EventId,
    /// The route.
    pub transaction: String,
    /// Where the name came from.
    #[serde(default)]
    pub transaction_info: Option<TransactionInfo>,
    /// When the navigation started.
    #[serde(deserialize_with = "rfc3339")]
    pub start_timestamp: UnixMs,
    /// When it finished.
    #[serde(deserialize_with = "rfc3339")]
    pub timestamp: UnixMs,
    /// Always `javascript` for the browser.
    pub platform: String,
    /// Deployment environment.
    #[serde(default)]
    pub environment: Option<String>,
    /// Release name.
    #[serde(default)]
    pub release: Option<String>,
    /// The identified user.
    #[serde(default)]
    pub user: Option<User>,
    /// The SDK.
    #[serde(default)]
    pub sdk: Option<SdkInfo>,
    /// The trace context.
    pub contexts: TransactionContexts,
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
                    trace_id,
                    span_id,
                    op: Some("navigation".to_owned()),
                    status: Some("ok".to_owned()),
                },
            },
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

impl<'de> Deserialize<'de> for DataCategory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(DataCategory::from_name(&String::deserialize(d)?))
    }
}

/// Why the SDK dropped something (Sentry's client-report discard reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
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

impl DiscardReason {
    /// The reason's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DiscardReason::RatelimitBackoff => "ratelimit_backoff",
            DiscardReason::SampleRate => "sample_rate",
            DiscardReason::EventProcessor => "event_processor",
            DiscardReason::QueueOverflow => "queue_overflow",
            DiscardReason::SendError => "send_error",
        }
    }
}

/// How many items of one category were dropped for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DiscardedEvents {
    /// Why.
    pub reason: DiscardReason,
    /// What.
    pub category: DataCategory,
    /// How many.
    pub quantity: u64,
}

/// A client report: what the SDK dropped, so Sentry's stats stay honest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClientReport {
    /// When the report was made.
    #[serde(deserialize_with = "rfc3339")]
    pub timestamp: UnixMs,
    /// The counts.
    pub discarded_events: Vec<DiscardedEvents>,
}

impl WriteJson for EventId {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_hex_str(out, self.0.as_bytes());
    }
}

impl<T: WriteJson> WriteJson for Values<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out).list("values", &self.values).end();
    }
}

impl WriteJson for StringMap {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        for (key, value) in &self.0 {
            obj.str(key, value);
        }
        obj.end();
    }
}

impl WriteJson for Frame {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out)
            .opt_str("filename", self.filename.as_deref())
            .opt_str("function", self.function.as_deref())
            .opt_u64("lineno", self.lineno.map(u64::from))
            .opt_u64("colno", self.colno.map(u64::from))
            .opt_str("instruction_addr", self.instruction_addr.as_deref())
            .opt_bool("in_app", self.in_app)
            .end();
    }
}

impl WriteJson for Stacktrace {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out).list("frames", &self.frames).end();
    }
}

impl WriteJson for Mechanism {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out)
            .str("type", &self.kind)
            .opt_bool("handled", self.handled)
            .end();
    }
}

impl WriteJson for Exception {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out)
            .str("type", &self.kind)
            .opt_str("value", self.value.as_deref())
            .opt_value("mechanism", self.mechanism.as_ref())
            .opt_value("stacktrace", self.stacktrace.as_ref())
            .end();
    }
}

impl WriteJson for Breadcrumb {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.str("timestamp", &self.timestamp.to_rfc3339())
            .opt_str("type", self.kind.as_deref())
            .opt_str("category", self.category.as_deref())
            .opt_str("message", self.message.as_deref());
        if !self.data.is_empty() {
            obj.value("data", &self.data);
        }
        obj.end();
    }
}

impl WriteJson for User {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out).str("id", &self.id).end();
    }
}

impl WriteJson for Request {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out).opt_str("url", self.url.as_deref()).end();
    }
}

impl WriteJson for Event {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.value("event_id", &self.event_id)
            .str("timestamp", &self.timestamp.to_rfc3339())
            .str("platform", &self.platform)
            .str("level", self.level.as_str())
            .opt_str("environment", self.environment.as_deref())
            .opt_str("release", self.release.as_deref())
            .opt_str("transaction", self.transaction.as_deref());
        if !self.tags.is_empty() {
            obj.value("tags", &self.tags);
        }
        obj.opt_value("user", self.user.as_ref())
            .opt_value("breadcrumbs", self.breadcrumbs.as_ref())
            .opt_value("sdk", self.sdk.as_ref())
            .opt_value("exception", self.exception.as_ref())
            .opt_str("message", self.message.as_deref())
            .opt_value("request", self.request.as_ref())
            .end();
    }
}

impl WriteJson for SessionAttributes {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out)
            .str("release", &self.release)
            .opt_str("environment", self.environment.as_deref())
            .end();
    }
}

impl WriteJson for SessionUpdate {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.value("sid", &self.sid)
            .opt_str("did", self.did.as_deref());
        if self.init {
            obj.bool("init", true);
        }
        obj.str("started", &self.started.to_rfc3339())
            .str("timestamp", &self.timestamp.to_rfc3339())
            .str("status", self.status.as_str())
            .u64("errors", self.errors);
        if let Some(duration) = self.duration.filter(|d| *d >= 0.0) {
            // Milliseconds are all the precision `UnixMs` has.
            write_millis_as_secs(obj.key("duration"), (duration * 1000.0 + 0.5) as u64);
        }
        obj.value("attrs", &self.attrs).end();
    }
}

impl WriteJson for TraceContext {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out)
            .str("type", "trace")
            .value("trace_id", &self.trace_id)
            .value("span_id", &self.span_id)
            .opt_str("op", self.op.as_deref())
            .opt_str("status", self.status.as_deref())
            .end();
    }
}

impl WriteJson for TransactionContexts {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out).value("trace", &self.trace).end();
    }
}

impl WriteJson for TransactionInfo {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out).str("source", &self.source).end();
    }
}

impl WriteJson for Transaction {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.str("type", "transaction")
            .value("event_id", &self.event_id)
            .str("transaction", &self.transaction)
            .opt_value("transaction_info", self.transaction_info.as_ref())
            .str("start_timestamp", &self.start_timestamp.to_rfc3339())
            .str("timestamp", &self.timestamp.to_rfc3339())
            .str("platform", &self.platform)
            .opt_str("environment", self.environment.as_deref())
            .opt_str("release", self.release.as_deref())
            .opt_value("user", self.user.as_ref())
            .opt_value("sdk", self.sdk.as_ref())
            .value("contexts", &self.contexts);
        obj.key("spans").extend_from_slice(b"[]");
        obj.end();
    }
}

impl WriteJson for DiscardedEvents {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out)
            .str("reason", self.reason.as_str())
            .str("category", self.category.as_str())
            .u64("quantity", self.quantity)
            .end();
    }
}

impl WriteJson for ClientReport {
    fn write_json(&self, out: &mut Vec<u8>) {
        Obj::new(out)
            .str("timestamp", &self.timestamp.to_rfc3339())
            .list("discarded_events", &self.discarded_events)
            .end();
    }
}

macro_rules! to_json_method {
    ($($ty:ty),*) => {$(
        impl $ty {
            /// This payload as JSON text, as it goes on the wire.
            pub fn to_json(&self) -> Vec<u8> {
                to_json(self)
            }
        }
    )*};
}

to_json_method!(Event, SessionUpdate, Transaction, ClientReport);

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
        let back: EventId = serde_json::from_slice(&to_json(&id)).unwrap();
        assert_eq!(back, id);
    }

    fn context() -> EventContext {
        EventContext {
            environment: "production".into(),
            release: Some("flowfuse@2.11.0".into()),
            sdk: SdkInfo {
                name: "ff-telemetry.web".into(),
                version: "0.1.0".into(),
            },
            user: Some(User {
                id: "user \"7\"".into(),
            }),
            page_url: Some("https://forge.example/team/a".into()),
        }
    }

    fn full_event() -> Event {
        let exception = Exception {
            kind: "TypeError".into(),
            value: Some("line\nbreak".into()),
            mechanism: Some(Mechanism {
                kind: "onerror".into(),
                handled: Some(false),
            }),
            stacktrace: Some(Stacktrace {
                frames: vec![
                    Frame {
                        filename: Some("https://forge.example/app.js".into()),
                        function: Some("render".into()),
                        lineno: Some(12),
                        colno: Some(5),
                        in_app: Some(true),
                        instruction_addr: None,
                    },
                    Frame {
                        function: Some("wasm-function[3]".into()),
                        instruction_addr: Some("0x1a2b".into()),
                        ..Frame::default()
                    },
                ],
            }),
        };
        Event::exception(
            &context(),
            EventId::from_random_bytes([1; 16]),
            UnixMs(1_795_850_763_123),
            exception,
        )
        .with_route(Some("/team/a"))
        .with_breadcrumbs(vec![Breadcrumb::navigation(
            UnixMs(5),
            Some("/"),
            "/team/a",
        )])
    }

    #[test]
    fn events_are_written_in_sentry_shape() {
        let json: serde_json::Value = serde_json::from_slice(&full_event().to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "event_id": "01010101010141018101010101010101",
                "timestamp": "2026-11-28T07:26:03.123Z",
                "platform": "javascript",
                "level": "error",
                "environment": "production",
                "release": "flowfuse@2.11.0",
                "transaction": "/team/a",
                "tags": {"route": "/team/a"},
                "user": {"id": "user \"7\""},
                "breadcrumbs": {"values": [{
                    "timestamp": "1970-01-01T00:00:00.005Z", "type": "navigation",
                    "category": "navigation", "data": {"from": "/", "to": "/team/a"}
                }]},
                "sdk": {"name": "ff-telemetry.web", "version": "0.1.0"},
                "exception": {"values": [{
                    "type": "TypeError", "value": "line\nbreak",
                    "mechanism": {"type": "onerror", "handled": false},
                    "stacktrace": {"frames": [
                        {"filename": "https://forge.example/app.js", "function": "render",
                         "lineno": 12, "colno": 5, "in_app": true},
                        {"function": "wasm-function[3]", "instruction_addr": "0x1a2b"}
                    ]}
                }]},
                "request": {"url": "https://forge.example/team/a"}
            })
        );
    }

    #[test]
    fn everything_written_reads_back_the_same() {
        let event = full_event();
        assert_eq!(
            serde_json::from_slice::<Event>(&event.to_json()).unwrap(),
            event
        );
        let message = Event::message(
            &context(),
            EventId::from_random_bytes([2; 16]),
            UnixMs(9),
            "hello",
            Level::Warning,
        );
        assert_eq!(
            serde_json::from_slice::<Event>(&message.to_json()).unwrap(),
            message
        );

        let session = SessionUpdate {
            sid: EventId::from_random_bytes([3; 16]),
            did: Some("user-7".into()),
            init: true,
            started: UnixMs(1_000),
            timestamp: UnixMs(3_500),
            status: SessionStatus::Crashed,
            errors: 2,
            duration: Some(2.5),
            attrs: SessionAttributes {
                release: "flowfuse@2.11.0".into(),
                environment: Some("production".into()),
            },
        };
        assert_eq!(
            serde_json::from_slice::<SessionUpdate>(&session.to_json()).unwrap(),
            session
        );

        let transaction = Transaction::navigation(
            &context(),
            EventId::from_random_bytes([4; 16]),
            TraceId([5; 16]),
            SpanId([6; 8]),
            "/team/a",
            UnixMs(100),
            UnixMs(350),
        );
        let json = transaction.to_json();
        assert_eq!(
            serde_json::from_slice::<Transaction>(&json).unwrap(),
            transaction
        );
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["spans"], serde_json::json!([]));
        assert_eq!(value["contexts"]["trace"]["type"], "trace");

        let report = ClientReport {
            timestamp: UnixMs(7),
            discarded_events: vec![DiscardedEvents {
                reason: DiscardReason::RatelimitBackoff,
                category: DataCategory::Other("metric_bucket".into()),
                quantity: 3,
            }],
        };
        assert_eq!(
            serde_json::from_slice::<ClientReport>(&report.to_json()).unwrap(),
            report
        );
    }

    #[test]
    fn timestamps_read_from_float_seconds_too() {
        let crumb: Breadcrumb =
            serde_json::from_str(r#"{"timestamp": 1795850763.5, "category": "x"}"#).unwrap();
        assert_eq!(crumb.timestamp, UnixMs(1_795_850_763_500));
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
