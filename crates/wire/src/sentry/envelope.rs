//! Sentry's envelope format: a header line, then items, each a header line and a
//! payload, written and read with serde.

use serde::{Deserialize, Serialize};

use crate::UnixMs;

/// The SDK that wrote an envelope or event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdkInfo {
    /// e.g. `ff-telemetry.web`
    pub name: String,
    /// The SDK's version.
    pub version: String,
}

/// The first line of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EnvelopeHeader {
    /// When the SDK sent it, RFC 3339 (set once, at send time). First, so that
    /// a stored envelope stamped at send time reads as one written then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    /// The id of the event or transaction inside, 32 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The DSN the envelope is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    /// The SDK that wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<SdkInfo>,
    /// The trace's dynamic sampling context, on transactions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceHeader>,
}

/// The `trace` envelope header (Sentry's dynamic sampling context): tells Sentry
/// the client-side sample rate, so it can extrapolate what was sampled away.
/// Values are strings on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TraceHeader {
    /// 32 hex digits.
    pub trace_id: String,
    /// The DSN's public key.
    pub public_key: String,
    /// The sample rate, e.g. `0.05`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<String>,
    /// `true` for a sampled (sent) trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled: Option<String>,
    /// Release name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Deployment environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The transaction (route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
}

/// The header line of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemHeader {
    /// `event`, `transaction`, `session`, `sessions`, `client_report`, `attachment`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Payload length in bytes. Optional on the wire: without it the payload ends at
    /// the next newline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// MIME type of the payload, for attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// File name, for attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// One item: its header and raw payload bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeItem {
    /// The item header; `length` is recomputed when writing.
    pub header: ItemHeader,
    /// The payload, usually JSON.
    pub payload: Vec<u8>,
}

impl EnvelopeItem {
    /// An item of the given type with a ready-made payload.
    pub fn new(kind: &str, payload: Vec<u8>) -> Self {
        EnvelopeItem {
            header: ItemHeader {
                kind: kind.to_owned(),
                length: None,
                content_type: None,
                filename: None,
            },
            payload,
        }
    }

    /// A JSON item of the given type, serialised by serde (for payloads other
    /// than the ones this module writes itself).
    pub fn json<T: Serialize>(kind: &str, payload: &T) -> Self {
        EnvelopeItem::new(
            kind,
            serde_json::to_vec(payload)
                .unwrap_or_else(|_| unreachable!("protocol types serialise")),
        )
    }
}

/// A Sentry envelope: a header line, then items, each a header line and a payload.
///
/// ```
/// use ff_telemetry_wire::sentry::{Envelope, EnvelopeHeader, EnvelopeItem};
/// let envelope = Envelope {
///     header: EnvelopeHeader { event_id: Some("9ec79c33ec9942ab8353589fcb2e04dc".into()), ..Default::default() },
///     items: vec![EnvelopeItem::json("event", &serde_json::json!({"message": "hi"}))],
/// };
/// let bytes = envelope.to_bytes();
/// assert_eq!(
///     String::from_utf8(bytes.clone()).unwrap(),
///     "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"event\",\"length\":16}\n{\"message\":\"hi\"}\n"
/// );
/// assert_eq!(Envelope::parse(&bytes).unwrap(), Envelope {
///     items: vec![EnvelopeItem { header: envelope.items[0].header.clone().with_length(16), ..envelope.items[0].clone() }],
///     ..envelope
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The envelope header.
    pub header: EnvelopeHeader,
    /// The items, in order.
    pub items: Vec<EnvelopeItem>,
}

/// Why bytes are not an envelope. Item indexes are 0-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The body is empty.
    #[error("envelope is empty")]
    Empty,
    /// The first line is not an envelope header.
    #[error("envelope header is not valid JSON: {0}")]
    BadHeader(String),
    /// An item header is not valid JSON or lacks `type`.
    #[error("item {index}: header is not valid: {reason}")]
    BadItemHeader {
        /// Which item.
        index: usize,
        /// The parser's complaint.
        reason: String,
    },
    /// An item's `length` runs past the end of the body.
    #[error("item {index}: length {length} runs past the end of the envelope")]
    Truncated {
        /// Which item.
        index: usize,
        /// The declared length.
        length: u64,
    },
    /// Bytes after a length-delimited payload that are not a newline.
    #[error("item {index}: payload is not followed by a newline")]
    MissingNewline {
        /// Which item.
        index: usize,
    },
}

impl ItemHeader {
    /// This header with `length` set.
    pub fn with_length(mut self, length: u64) -> Self {
        self.length = Some(length);
        self
    }
}

impl Envelope {
    /// The envelope in wire form, every item header carrying its payload length.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_with_header(&self.header)
    }

    fn to_bytes_with_header(&self, header: &EnvelopeHeader) -> Vec<u8> {
        // Header lines are JSON text; payloads are bytes (attachments need not be text).
        let mut out = to_json(header).into_bytes();
        out.push(b'\n');
        for item in &self.items {
            let header = ItemHeader {
                length: Some(item.payload.len() as u64),
                ..item.header.clone()
            };
            out.extend_from_slice(to_json(&header).as_bytes());
            out.push(b'\n');
            out.extend_from_slice(&item.payload);
            out.push(b'\n');
        }
        out
    }

    /// The wire form with `sent_at` set to `now`: call it once, when sending, so
    /// the server can correct the browser's clock skew.
    pub fn to_bytes_sent_at(&self, now: UnixMs) -> Vec<u8> {
        self.to_bytes_with_header(&EnvelopeHeader {
            sent_at: Some(now.to_rfc3339()),
            ..self.header.clone()
        })
    }

    /// Parses an envelope, accepting item headers with or without `length`.
    pub fn parse(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(EnvelopeError::Empty);
        }
        let (header_line, mut rest) = split_line(bytes);
        let header: EnvelopeHeader = serde_json::from_slice(header_line)
            .map_err(|e| EnvelopeError::BadHeader(e.to_string()))?;
        let mut items = Vec::new();
        while !rest.iter().all(u8::is_ascii_whitespace) {
            let index = items.len();
            let (line, after) = split_line(rest);
            let header: ItemHeader =
                serde_json::from_slice(line).map_err(|e| EnvelopeError::BadItemHeader {
                    index,
                    reason: e.to_string(),
                })?;
            let (payload, after) = match header.length {
                Some(length) => {
                    let n = usize::try_from(length)
                        .ok()
                        .filter(|n| *n <= after.len())
                        .ok_or(EnvelopeError::Truncated { index, length })?;
                    let (payload, after) = after.split_at(n);
                    let after = match after.first() {
                        None => after,
                        Some(b'\n') => &after[1..],
                        Some(_) => return Err(EnvelopeError::MissingNewline { index }),
                    };
                    (payload, after)
                }
                None => split_line(after),
            };
            items.push(EnvelopeItem {
                header,
                payload: payload.to_vec(),
            });
            rest = after;
        }
        Ok(Envelope { header, items })
    }
}

/// Sets `sent_at` in an envelope stored without one (written by
/// [`Envelope::to_bytes`] while `header.sent_at` was `None`), without parsing it:
/// an envelope that waited offline must say when it really left, or Sentry's
/// clock-skew correction shifts its events by the time it waited.
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_wire::sentry::{Envelope, EnvelopeHeader, stamp_sent_at};
/// let envelope = Envelope {
///     header: EnvelopeHeader { event_id: Some("9ec79c33ec9942ab8353589fcb2e04dc".into()), ..Default::default() },
///     items: vec![],
/// };
/// let stored = String::from_utf8(envelope.to_bytes()).unwrap();
/// assert_eq!(stamp_sent_at(&stored, UnixMs(0)).into_bytes(), envelope.to_bytes_sent_at(UnixMs(0)));
/// ```
pub fn stamp_sent_at(unsent: &str, now: UnixMs) -> String {
    let Some(rest) = unsent.strip_prefix('{') else {
        return unsent.to_owned();
    };
    // `{"sent_at":"…"}` written by serde, opened up to take the stored header's
    // fields after its own: the stored text is not parsed (a JSON parser would
    // cost the browser build kilobytes) and its fields stay as they were.
    let stamp = EnvelopeHeader {
        sent_at: Some(now.to_rfc3339()),
        ..EnvelopeHeader::default()
    };
    let mut out = to_json(&stamp);
    out.pop();
    if !rest.starts_with('}') {
        out.push(',');
    }
    out.push_str(rest);
    out
}

/// Splits at the first `\n` (dropped), or returns everything when there is none.
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

/// Appends one item to an envelope being written: its header line (`type` and
/// `length`), then the payload line. What the browser sends, item by item,
/// without building an [`EnvelopeItem`].
pub fn write_item(out: &mut String, kind: &str, payload: &str) {
    let header = ItemHeader {
        kind: kind.to_owned(),
        length: Some(payload.len() as u64),
        content_type: None,
        filename: None,
    };
    out.push_str(&to_json(&header));
    out.push('\n');
    out.push_str(payload);
    out.push('\n');
}

/// The JSON text of a wire value: plain data always serialises.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| unreachable!("wire types serialise"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_items_with_and_without_length() {
        let body =
            b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"https://k@h/1\"}\n\
{\"type\":\"attachment\",\"length\":10,\"filename\":\"a.txt\"}\n\xef\xbb\xbfHello\r\n\n\
{\"type\":\"event\"}\n{\"message\":\"x\"}\n\
{\"type\":\"session\"}\n{}";
        let env = Envelope::parse(body).unwrap();
        assert_eq!(env.header.dsn.as_deref(), Some("https://k@h/1"));
        let kinds: Vec<_> = env.items.iter().map(|i| i.header.kind.as_str()).collect();
        assert_eq!(kinds, ["attachment", "event", "session"]);
        assert_eq!(env.items[0].payload, b"\xef\xbb\xbfHello\r\n");
        assert_eq!(env.items[1].payload, b"{\"message\":\"x\"}");
        assert_eq!(env.items[2].payload, b"{}");
    }

    #[test]
    fn header_only_envelopes_are_valid() {
        let env = Envelope::parse(b"{}").unwrap();
        assert!(env.items.is_empty());
        let env = Envelope::parse(b"{}\n").unwrap();
        assert!(env.items.is_empty());
    }

    #[test]
    fn malformed_envelopes_say_why() {
        let cases: [(&[u8], EnvelopeError); 4] = [
            (b"", EnvelopeError::Empty),
            (
                b"{}\n{\"type\":\"event\",\"length\":99}\n{}",
                EnvelopeError::Truncated {
                    index: 0,
                    length: 99,
                },
            ),
            (
                b"{}\n{\"type\":\"event\",\"length\":2}\n{}x",
                EnvelopeError::MissingNewline { index: 0 },
            ),
            (
                b"{}\n{\"length\":2}\n{}",
                EnvelopeError::BadItemHeader {
                    index: 0,
                    reason: "missing field `type` at line 1 column 12".into(),
                },
            ),
        ];
        for (body, want) in cases {
            assert_eq!(Envelope::parse(body), Err(want));
        }
        assert!(matches!(
            Envelope::parse(b"nope\n"),
            Err(EnvelopeError::BadHeader(_))
        ));
    }

    #[test]
    fn written_envelopes_parse_back() {
        let env = Envelope {
            header: EnvelopeHeader {
                sent_at: Some("2026-11-28T07:00:00.000Z".into()),
                sdk: Some(SdkInfo {
                    name: "ff-telemetry.web".into(),
                    version: "0.1.0".into(),
                }),
                ..Default::default()
            },
            items: vec![
                EnvelopeItem::json("session", &serde_json::json!({"sid": "a", "init": true})),
                EnvelopeItem {
                    header: ItemHeader {
                        kind: "attachment".into(),
                        length: None,
                        content_type: None,
                        filename: Some("n.bin".into()),
                    },
                    payload: b"line\nbreak".to_vec(),
                },
            ],
        };
        let parsed = Envelope::parse(&env.to_bytes()).unwrap();
        assert_eq!(parsed.header, env.header);
        assert_eq!(parsed.items[1].payload, b"line\nbreak");
        assert_eq!(parsed.items[0].header.length, Some(23));
    }
}
