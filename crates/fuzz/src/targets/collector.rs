//! The collector's parsers of request bodies, through its real router: every
//! answer is 2xx or 4xx, an encoding changes nothing about the answer, and the
//! wire crate's verdict on a body is the answer the collector gives.

use std::io::Write;

use base64::Engine as _;
use ff_telemetry_wire::ping::PingPayload;
use ff_telemetry_wire::posthog::ingest::{TokenPolicy, ingest};
use ff_telemetry_wire::sentry::Envelope;
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};

use crate::collector::{Collector, PING, Req, envelope_uri, is_plain_json};
use crate::engine::Target;
use crate::seeds;

/// PostHog capture bodies: seeds from posthog-js and the batch shapes.
fn capture_seeds() -> Vec<Vec<u8>> {
    vec![
        seeds::gunzipped(&seeds::posthog_js().body),
        br#"{"api_key":"phc_k","batch":[{"event":"$pageview","distinct_id":"d","properties":{"$current_url":"https://h/"}}]}"#.to_vec(),
        br#"{"event":"clicked","properties":{"token":"phc_k","distinct_id":"d"},"uuid":"0190a0b0-0000-7000-8000-000000000000"}"#.to_vec(),
        br#"[{"event":"e","api_key":"phc_k","properties":{"distinct_id":"d"}}]"#.to_vec(),
    ]
}

/// Sentry envelopes: from @sentry/browser and the `sentry` crate.
fn envelope_seeds() -> Vec<Vec<u8>> {
    let mut all = vec![seeds::sentry_browser().body];
    all.extend(seeds::sentry_crate_envelopes());
    all
}

const CAPTURE_WORDS: &[&str] = &[
    "\"api_key\":",
    "\"token\":",
    "\"batch\":",
    "\"event\":",
    "\"properties\":",
    "\"distinct_id\":",
    "\"$set\":",
    "\"uuid\":",
    "\"timestamp\":",
    "$pageview",
];

const ENVELOPE_WORDS: &[&str] = &[
    "\n",
    "{\"type\":\"event\"}\n",
    "{\"type\":\"session\"}\n",
    "{\"type\":\"attachment\",\"length\":3}\n",
    "\"length\":",
    "\"event_id\":",
    "\"dsn\":",
    "\"sid\":",
    "\"status\":\"crashed\"",
    "\"attrs\":",
];

/// The status a body gets at `uri` as it is and under an encoding.
fn statuses(
    collector: &Collector,
    uri: &str,
    plain: &[u8],
    encoded: Vec<u8>,
    content_encoding: Option<&str>,
) -> Result<(u16, u16), String> {
    let plain_status = collector.send_expecting_no_5xx(Req {
        uri,
        body: plain.to_vec(),
        ..Req::default()
    })?;
    let encoded_status = collector.send_expecting_no_5xx(Req {
        uri,
        content_encoding,
        body: encoded,
        ..Req::default()
    })?;
    Ok((plain_status, encoded_status))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn same(what: &str, (plain, encoded): (u16, u16)) -> Result<String, String> {
    if plain != encoded {
        return Err(format!("{what}: plain {plain}, encoded {encoded}"));
    }
    Ok(format!("{what} {plain}"))
}

/// gzip and deflate, by `Content-Encoding` and by gzip's magic bytes, on
/// capture bodies and envelopes; a cut stream is refused.
#[derive(Debug)]
pub struct GzipDeflateTarget(pub Collector);

impl Target for GzipDeflateTarget {
    fn name(&self) -> &'static str {
        "collector-gzip-deflate"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let mut all = capture_seeds();
        all.extend(envelope_seeds());
        all
    }

    fn dictionary(&self) -> &'static [&'static str] {
        CAPTURE_WORDS
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let c = &self.0;
        let envelope = envelope_uri();
        let signature = match input.len() % 4 {
            0 => same(
                "capture gzip header",
                statuses(c, "/batch/", input, gzip(input), Some("gzip"))?,
            )?,
            1 if is_plain_json(input) => same(
                "capture gzip magic",
                statuses(c, "/batch/", input, gzip(input), None)?,
            )?,
            1 => format!(
                "capture gzip magic {}",
                c.send_expecting_no_5xx(Req {
                    uri: "/batch/",
                    body: gzip(input),
                    ..Req::default()
                })?
            ),
            2 => same(
                "envelope deflate",
                statuses(c, &envelope, input, deflate(input), Some("deflate"))?,
            )?,
            _ => same(
                "envelope gzip",
                statuses(c, &envelope, input, gzip(input), Some("gzip"))?,
            )?,
        };
        // A stream cut short is corrupt, whatever it held.
        let mut cut = gzip(input);
        cut.truncate(cut.len() / 2);
        let status = c.send_expecting_no_5xx(Req {
            uri: "/batch/",
            content_encoding: Some("gzip"),
            body: cut,
            ..Req::default()
        })?;
        if !(400..500).contains(&status) {
            return Err(format!("a cut gzip stream was answered {status}"));
        }
        Ok(signature)
    }

    fn still_working(&mut self) -> Result<(), String> {
        self.0.still_serving()
    }
}

/// base64 capture bodies (posthog-js's `compression=base64`, and bare), with
/// the `+` that form decoding turns into a space.
#[derive(Debug)]
pub struct Base64Target(pub Collector);

impl Target for Base64Target {
    fn name(&self) -> &'static str {
        "collector-base64"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        capture_seeds()
    }

    fn dictionary(&self) -> &'static [&'static str] {
        CAPTURE_WORDS
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let c = &self.0;
        // Garbage said to be base64.
        let (garbage, error) = c.answer_expecting_no_5xx(Req {
            uri: "/e/?compression=base64",
            body: input.to_vec(),
            ..Req::default()
        })?;
        if !is_plain_json(input) {
            return Ok(format!("raw {garbage} {error}"));
        }
        let mut encoded = base64::engine::general_purpose::STANDARD.encode(input);
        if input.len().is_multiple_of(2) {
            encoded = encoded.replace('+', " ");
        }
        let uri = if input.len().is_multiple_of(3) {
            "/e/?compression=base64"
        } else {
            "/e/"
        };
        let plain = c.send_expecting_no_5xx(Req {
            uri: "/e/",
            body: input.to_vec(),
            ..Req::default()
        })?;
        let b64 = c.send_expecting_no_5xx(Req {
            uri,
            body: encoded.into_bytes(),
            ..Req::default()
        })?;
        same("base64", (plain, b64))
    }

    fn still_working(&mut self) -> Result<(), String> {
        self.0.still_serving()
    }
}

/// lz-string `compressToBase64` text (`compression=lz64`) in a form body, a
/// raw body and a GET query: all three answer alike.
#[derive(Debug)]
pub struct Lz64Target(pub Collector);

impl Target for Lz64Target {
    fn name(&self) -> &'static str {
        "collector-lz64"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        // Made with lz-string 1.5's compressToBase64 (the collector's tests use them too).
        [
            "N4IgpgbmB2AuIC5wgDQgA4CcD26ydgEswBnRUAE0JKOgGNYB9QixEVtWbAaxjfgC+AoA",
            "N4IghgDglg+g1gUwJ4gFwggCwMYwB4gA0IARmAC7aZoDaoCAbggHblogAkEYA5o1AgDuRDACcA9hASjyAgM5pQAEyhzZzbORhQl7JQEYRHbAFdRollrMAbdpnLkIqAPTPMzgCeAagkC8G4AA9kWZafUIAJkIAZgBdAF8Y2KA",
            "IYI17SOrZ+6IcpqXrZj2u5/vQg4o0k8syi6q2m+uxh5p1l9tzj7r3n/voIHChokeLGSJ0qbJny5ihcqWqVEoA===",
            "BYUwNmD2AEoTcq3FIA==",
            "Q===",
        ]
        .map(|s| s.as_bytes().to_vec())
        .into()
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let c = &self.0;
        let (raw, error) = c.answer_expecting_no_5xx(Req {
            uri: "/e/?compression=lz64",
            body: input.to_vec(),
            ..Req::default()
        })?;
        let text = String::from_utf8_lossy(input);
        let form = serde_urlencoded::to_string([("data", text.as_ref()), ("compression", "lz64")])
            .map_err(|e| format!("form: {e}"))?;
        let form_status = c.send_expecting_no_5xx(Req {
            uri: "/e/",
            content_type: Some("application/x-www-form-urlencoded"),
            body: form.clone().into_bytes(),
            ..Req::default()
        })?;
        let query = c.send_expecting_no_5xx(Req {
            get: true,
            uri: &format!("/e/?{form}"),
            ..Req::default()
        })?;
        // A body that is not UTF-8 cannot travel in a form or query unchanged.
        if std::str::from_utf8(input).is_ok() && !(raw == form_status && raw == query) {
            return Err(format!(
                "{text:?}: raw body {raw}, form {form_status}, query {query}"
            ));
        }
        Ok(format!("lz64 {raw} {error}"))
    }

    fn still_working(&mut self) -> Result<(), String> {
        self.0.still_serving()
    }
}

/// Form bodies (`data=…&compression=…`, as posthog-js's beacons send them).
#[derive(Debug)]
pub struct FormTarget(pub Collector);

impl Target for FormTarget {
    fn name(&self) -> &'static str {
        "collector-form"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        capture_seeds()
            .into_iter()
            .flat_map(|json| {
                let b64 = base64::engine::general_purpose::STANDARD.encode(&json);
                let text = String::from_utf8_lossy(&json).into_owned();
                [
                    serde_urlencoded::to_string([("data", b64.as_str())]).unwrap_or_default(),
                    serde_urlencoded::to_string([("data", text.as_str())]).unwrap_or_default(),
                ]
            })
            .map(String::into_bytes)
            .collect()
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "data=",
            "&",
            "compression=",
            "lz64",
            "base64",
            "gzip-js",
            "%",
            "+",
            "=",
            "%2B",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let (status, error) = self.0.answer_expecting_no_5xx(Req {
            uri: "/e/",
            content_type: Some("application/x-www-form-urlencoded"),
            body: input.to_vec(),
            ..Req::default()
        })?;
        Ok(format!("form {status} {error}"))
    }

    fn still_working(&mut self) -> Result<(), String> {
        self.0.still_serving()
    }
}

/// PostHog capture shapes: the collector answers what the wire crate's
/// capture rules decide.
#[derive(Debug)]
pub struct CaptureTarget(pub Collector);

impl Target for CaptureTarget {
    fn name(&self) -> &'static str {
        "posthog-capture"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        capture_seeds()
    }

    fn dictionary(&self) -> &'static [&'static str] {
        CAPTURE_WORDS
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let (status, error) = self.0.answer_expecting_no_5xx(Req {
            uri: "/batch/",
            content_type: Some("application/json"),
            body: input.to_vec(),
            ..Req::default()
        })?;
        if !is_plain_json(input) {
            return Ok(format!("not json {status} {error}"));
        }
        let verdict = match serde_json::from_slice(input) {
            Err(_) => 400,
            Ok(value) => match ingest(&value, &TokenPolicy::AcceptAny) {
                Ok(_) => 200,
                Err(e) => e.status(),
            },
        };
        if status != verdict {
            return Err(format!(
                "{:?}: the capture rules say {verdict}, the collector {status}",
                String::from_utf8_lossy(&input[..input.len().min(300)])
            ));
        }
        Ok(format!("json {status} {error}"))
    }

    fn still_working(&mut self) -> Result<(), String> {
        self.0.still_serving()
    }
}

/// Sentry envelopes: a parsed envelope writes back to itself, and what does
/// not parse is refused.
#[derive(Debug)]
pub struct EnvelopeTarget(pub Collector);

impl Target for EnvelopeTarget {
    fn name(&self) -> &'static str {
        "sentry-envelope"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        envelope_seeds()
    }

    fn dictionary(&self) -> &'static [&'static str] {
        ENVELOPE_WORDS
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let parsed = Envelope::parse(input);
        if let Ok(envelope) = &parsed {
            let bytes = envelope.to_bytes();
            let again = Envelope::parse(&bytes)
                .map_err(|e| format!("an envelope written back does not parse: {e}"))?;
            if again.to_bytes() != bytes {
                return Err("an envelope written back reads differently".to_owned());
            }
        }
        let (status, error) = self.0.answer_expecting_no_5xx(Req {
            uri: &envelope_uri(),
            body: input.to_vec(),
            ..Req::default()
        })?;
        match &parsed {
            Err(e) if !(400..500).contains(&status) => Err(format!(
                "an envelope that does not parse ({e}) was answered {status}"
            )),
            Err(e) => Ok(format!("{status} {}", crate::engine::shape(&e.to_string()))),
            Ok(envelope) => Ok(format!(
                "{status} {error} parsed, {} items",
                envelope.items.len().min(4)
            )),
        }
    }

    fn still_working(&mut self) -> Result<(), String> {
        self.0.still_serving()
    }
}

/// The usage ping: what the wire crate reads is stored (200), what it
/// refuses is a 400, and a payload read writes back to itself.
#[derive(Debug)]
pub struct PingTarget(pub Collector);

impl Target for PingTarget {
    fn name(&self) -> &'static str {
        "ping"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        vec![PING.as_bytes().to_vec()]
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "\"instanceId\":",
            "\"counts\":",
            "\"license\":",
            "\"type\":",
            "\"EE\"",
            "\"os\":",
            "\"platform\":",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let status = self.0.send_expecting_no_5xx(Req {
            uri: "/ping",
            content_type: Some("application/json"),
            body: input.to_vec(),
            ..Req::default()
        })?;
        let Ok(text) = std::str::from_utf8(input) else {
            return Ok(format!("not utf-8 {status}"));
        };
        match PingPayload::from_json_lenient(text) {
            Ok((payload, _dropped)) => {
                let again = PingPayload::from_json_strict(&payload.to_json())
                    .map_err(|e| format!("a ping written back does not parse: {e}"))?;
                if again != payload {
                    return Err(format!("{text:?} reads differently written back"));
                }
                if status != 200 {
                    return Err(format!("a valid ping was answered {status}"));
                }
                Ok("valid 200".to_owned())
            }
            Err(e) if status == 400 => Ok(format!("400 {}", crate::engine::shape(&e.to_string()))),
            Err(e) => Err(format!("an invalid ping ({e}) was answered {status}")),
        }
    }

    fn still_working(&mut self) -> Result<(), String> {
        self.0.still_serving()
    }
}
