//! The Sentry payloads the browser SDK sends: error events, session updates,
//! navigation transactions and client reports.
//!
//! Only the fields we send are modelled. Browser Sentry writes these types with
//! serde and the collector and the tests read them back (tolerating missing
//! optional fields, as other SDKs leave them out).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use super::datetime::{rfc3339, write_rfc3339};
use super::envelope::SdkInfo;
use crate::text::hex_string;
use crate::{UnixMs, Value};

fn is_false(b: &bool) -> bool {
    !*b
}

/// The `platform` of every browser event.
pub const PLATFORM_JAVASCRIPT: &str = "javascript";

/// A 32-hex-digit id (a UUIDv4 in simple form), used for `event_id` and a session's `sid`.
///
/// ```
/// use ff_telemetry_wire::sentry::EventId;
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
    /// An id written as 32 hex digits or as a hyphenated UUID; `None` for anything else.
    ///
    /// ```
    /// use ff_telemetry_wire::sentry::EventId;
    /// let id = EventId::parse("9ec79c33-ec99-42ab-8353-589fcb2e04dc").unwrap();
    /// assert_eq!(id.to_string(), "9ec79c33ec9942ab8353589fcb2e04dc");
    /// assert_eq!(EventId::parse("x"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        Uuid::try_parse(text).ok().map(EventId)
    }

    /// The 32 hex digits, what `to_string` gives, without going through `core::fmt`.
    pub fn hex(&self) -> String {
        hex_string(self.0.as_bytes())
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
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

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex_string(&self.0))
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
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
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
/// use ff_telemetry_wire::sentry::StringMap;
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

impl Serialize for StringMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
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
///
/// Its text is `String` when read back, and `&str` when the browser crate's `parse_stack`
/// makes it: the parsed frames borrow from the stack string instead of
/// copying every name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Frame<S = String> {
    /// Script or module URL (or `<anonymous>`, `[native code]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<S>,
    /// Function name; `wasm-function[N]` for unnamed WebAssembly functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<S>,
    /// 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineno: Option<u32>,
    /// 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colno: Option<u32>,
    /// Offset in the WebAssembly module, hex with `0x`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_addr: Option<S>,
    /// How to read `instruction_addr`: `rel:N`, an offset into image `N` of
    /// the event's [`DebugMeta`] (a frame of a WebAssembly module Sentry can
    /// symbolicate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr_mode: Option<S>,
    /// The frame's own platform when it differs from the event's: `native`
    /// on WebAssembly frames with an `addr_mode`, which Sentry then
    /// symbolicates with the module's debug file (it sends only native
    /// frames to its symbolicator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<S>,
    /// Whether the frame is the application's code (not the browser's or an extension's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_app: Option<bool>,
}

/// A stack trace (with `String` or `&str` text, as [`Frame`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stacktrace<S = String> {
    /// Oldest call first, the frame that threw last.
    #[serde(default)]
    pub frames: Vec<Frame<S>>,
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
    #[serde(deserialize_with = "rfc3339", serialize_with = "write_rfc3339")]
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
    #[serde(default, skip_serializing_if = "StringMap::is_empty")]
    pub data: StringMap,
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

/// An error event (exception or message).
///
/// ```
/// use ff_telemetry_wire::sentry::{Event, Level};
/// let event: Event = serde_json::from_str(r#"{
///     "event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "timestamp": "2026-11-28T07:26:03.123Z",
///     "platform": "javascript", "level": "error",
///     "exception": {"values": [{"type": "TypeError", "value": "x is undefined"}]}
/// }"#).unwrap();
/// assert_eq!(event.level, Level::Error);
/// assert_eq!(event.exception.unwrap().values[0].kind, "TypeError");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// 32 hex digits.
    pub event_id: EventId,
    /// When it happened.
    #[serde(deserialize_with = "rfc3339", serialize_with = "write_rfc3339")]
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
    #[serde(default, skip_serializing_if = "StringMap::is_empty")]
    pub tags: StringMap,
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
    /// The debug images the stack's frames point into (`addr_mode: "rel:N"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_meta: Option<DebugMeta>,
}

/// What Sentry needs to symbolicate an event's frames: the images (code
/// files) they point into.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DebugMeta {
    /// Image `N` is the one a frame's `addr_mode: "rel:N"` names.
    #[serde(default)]
    pub images: Vec<DebugImage>,
}

/// One code file whose debug file Sentry looks up by `debug_id`: a
/// WebAssembly module with a `build_id` custom section (`"type": "wasm"`, the
/// only kind of image the browser SDK has).
///
/// ```
/// use ff_telemetry_wire::sentry::DebugImage;
/// let image: DebugImage = serde_json::from_str(r#"{"type": "wasm",
///     "debug_id": "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
///     "code_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
///     "code_file": "http://h/pkg/x_bg.wasm", "debug_file": "x.debug.wasm"}"#).unwrap();
/// assert_eq!(image.code_id, "0a1b2c3d4e5f60718293a4b5c6d7e8f9");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "wasm")]
pub struct DebugImage {
    /// The id Sentry files the debug file under: the build id's first 16
    /// bytes as a hyphenated UUID, what `sentry-cli debug-files check` reports.
    pub debug_id: String,
    /// The whole build id in hex.
    #[serde(default)]
    pub code_id: String,
    /// Where the module was loaded from (the URL its frames show).
    pub code_file: String,
    /// The name of the file holding the module's debug information.
    #[serde(default)]
    pub debug_file: String,
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
    /// True on the first update of the session only (written only then).
    #[serde(default, skip_serializing_if = "is_false")]
    pub init: bool,
    /// When the session started.
    #[serde(deserialize_with = "rfc3339", serialize_with = "write_rfc3339")]
    pub started: UnixMs,
    /// When this update was made.
    #[serde(deserialize_with = "rfc3339", serialize_with = "write_rfc3339")]
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

/// The `trace` context of a transaction (written with `"type": "trace"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "trace")]
pub struct TraceContext {
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

/// A performance transaction: here, one route change of the single-page app
/// (written with `"type": "transaction"` and the empty `spans` list Sentry requires).
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_wire::sentry::Transaction;
/// let tx: Transaction = serde_json::from_str(r#"{
///     "type": "transaction", "event_id": "9ec79c33ec9942ab8353589fcb2e04dc",
///     "transaction": "/team/:id", "start_timestamp": "1970-01-01T00:00:01.000Z",
///     "timestamp": "1970-01-01T00:00:01.250Z", "platform": "javascript",
///     "contexts": {"trace": {"type": "trace", "trace_id": "02020202020202020202020202020202",
///         "span_id": "0303030303030303", "op": "navigation"}},
///     "spans": []
/// }"#).unwrap();
/// assert_eq!(tx.start_timestamp, UnixMs(1_000));
/// assert_eq!(tx.contexts.trace.op.as_deref(), Some("navigation"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "transaction")]
pub struct Transaction {
    /// 32 hex digits.
    pub event_id: EventId,
    /// The route.
    pub transaction: String,
    /// Where the name came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_info: Option<TransactionInfo>,
    /// When the navigation started.
    #[serde(deserialize_with = "rfc3339", serialize_with = "write_rfc3339")]
    pub start_timestamp: UnixMs,
    /// When it finished.
    #[serde(deserialize_with = "rfc3339", serialize_with = "write_rfc3339")]
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
    pub spans: Vec<Value>,
}

/// What kind of data an item or a rate limit is about: the Sentry data
/// categories of the items this SDK sends.
///
/// Only these: rate limits on other categories (attachments, replays, …) cannot
/// stop anything the browser sends, and each name costs the browser build code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataCategory {
    /// Error events (exceptions and messages).
    Error,
    /// Transactions.
    Transaction,
    /// Session updates.
    Session,
    /// Client reports: never rate-limited.
    Internal,
}

impl DataCategory {
    /// Every category, in wire order.
    pub const ALL: [DataCategory; 4] = [
        DataCategory::Error,
        DataCategory::Transaction,
        DataCategory::Session,
        DataCategory::Internal,
    ];

    /// The category name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCategory::Error => "error",
            DataCategory::Transaction => "transaction",
            DataCategory::Session => "session",
            DataCategory::Internal => "internal",
        }
    }

    /// The category of a name on the wire; `None` for a category this SDK
    /// sends nothing of.
    ///
    /// ```
    /// use ff_telemetry_wire::sentry::DataCategory;
    /// assert_eq!(DataCategory::from_name("transaction"), Some(DataCategory::Transaction));
    /// assert_eq!(DataCategory::from_name("replay"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<DataCategory> {
        // A search of the names `as_str` has rather than a `match` on strings:
        // one name table in the browser build, not two.
        DataCategory::ALL
            .into_iter()
            .find(|category| category.as_str() == name)
    }
}

impl Serialize for DataCategory {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DataCategory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        DataCategory::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown data category {name:?}")))
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
    #[serde(deserialize_with = "rfc3339", serialize_with = "write_rfc3339")]
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
    fn timestamps_read_from_float_seconds_too() {
        let crumb: Breadcrumb =
            serde_json::from_str(r#"{"timestamp": 1795850763.5, "category": "x"}"#).unwrap();
        assert_eq!(crumb.timestamp, UnixMs(1_795_850_763_500));
    }

    #[test]
    fn category_names_round_trip() {
        for category in DataCategory::ALL {
            assert_eq!(DataCategory::from_name(category.as_str()), Some(category));
        }
        assert_eq!(DataCategory::from_name("metric_bucket"), None);
        assert_eq!(DataCategory::from_name(""), None);
    }

    #[test]
    fn levels_parse_capture_message_names() {
        assert_eq!(Level::from_name("log"), Some(Level::Info));
        assert_eq!(Level::from_name("warning"), Some(Level::Warning));
        assert_eq!(Level::from_name("warn"), None);
    }
}
