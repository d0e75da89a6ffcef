//! Turning request bodies into JSON or envelope bytes: gzip (by header or by magic
//! bytes), deflate, base64, form `data=`, and lz-string — always under an output cap,
//! so a small compressed bomb cannot grow memory.

mod lz64;

use std::borrow::Cow;
use std::io::Read;

use base64::Engine as _;
use flate2::read::{GzDecoder, ZlibDecoder};
use serde_json::Value;

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The decoded body would exceed the cap.
    TooLarge,
    /// The body is not in any accepted encoding.
    Invalid(String),
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What a PostHog capture request carries besides its path.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CaptureInput<'a> {
    /// `?data=` (already URL-decoded), used when the body is empty (GET).
    pub query_data: Option<&'a str>,
    /// `?compression=`
    pub query_compression: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
    pub body: &'a [u8],
}

/// Decodes a PostHog capture request into its JSON body.
pub(crate) fn capture_json(input: CaptureInput<'_>, cap: usize) -> Result<Value, DecodeError> {
    let mut compression = input.query_compression.map(str::to_owned);
    let data: Cow<'_, [u8]> = if !input.body.is_empty() {
        let body = content_decoded(input.body, input.content_encoding, cap)?;
        let is_form = input
            .content_type
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
            || body.starts_with(b"data=");
        if is_form {
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|e| DecodeError::Invalid(format!("form body: {e}")))?;
            let mut data = None;
            for (key, value) in fields {
                match key.as_str() {
                    "data" => data = Some(value),
                    "compression" => compression = Some(value),
                    _ => {}
                }
            }
            Cow::Owned(
                data.ok_or_else(|| DecodeError::Invalid("form body has no data field".into()))?
                    .into_bytes(),
            )
        } else {
            body
        }
    } else if let Some(data) = input.query_data {
        Cow::Borrowed(data.as_bytes())
    } else {
        return Err(DecodeError::Invalid(
            "empty body and no data query parameter".into(),
        ));
    };
    payload_json(&data, compression.as_deref(), cap)
}

/// Decodes an envelope body: `Content-Encoding: gzip|deflate`, or gzip by magic bytes.
pub(crate) fn envelope_bytes<'a>(
    body: &'a [u8],
    content_encoding: Option<&str>,
    cap: usize,
) -> Result<Cow<'a, [u8]>, DecodeError> {
    let body = content_decoded(body, content_encoding, cap)?;
    if body.starts_with(&GZIP_MAGIC) {
        return gunzip(&body, cap).map(Cow::Owned);
    }
    Ok(body)
}

/// Undoes `Content-Encoding`.
fn content_decoded<'a>(
    body: &'a [u8],
    encoding: Option<&str>,
    cap: usize,
) -> Result<Cow<'a, [u8]>, DecodeError> {
    match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "identity") => Ok(Cow::Borrowed(body)),
        Some("gzip" | "x-gzip") => gunzip(body, cap).map(Cow::Owned),
        Some("deflate") => read_capped(ZlibDecoder::new(body), cap).map(Cow::Owned),
        Some(other) => Err(DecodeError::Invalid(format!(
            "unsupported Content-Encoding {other:?} (expected gzip or deflate)"
        ))),
    }
}

/// The payload after form/query extraction: gzip by magic, else by `compression`,
/// else JSON, else base64 of either.
fn payload_json(data: &[u8], compression: Option<&str>, cap: usize) -> Result<Value, DecodeError> {
    if data.starts_with(&GZIP_MAGIC) {
        return json(&gunzip(data, cap)?);
    }
    match compression {
        Some("lz64") => {
            let text = lz64::decompress_from_base64(&plus_for_space(data), cap)?;
            return json(text.as_bytes());
        }
        Some("base64") => return json(&from_base64(data, cap)?),
        _ => {}
    }
    let first = data.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) {
        return json(data);
    }
    match from_base64(data, cap) {
        Ok(decoded) => json(&decoded),
        Err(DecodeError::TooLarge) => Err(DecodeError::TooLarge),
        // JSON that is not an object or array (the capture rules refuse it by name).
        Err(_) if serde_json::from_slice::<Value>(data).is_ok() => json(data),
        Err(_) => Err(DecodeError::Invalid(
            "body is not JSON, gzip, base64 or lz64 (set compression=lz64)".into(),
        )),
    }
}

fn json(bytes: &[u8]) -> Result<Value, DecodeError> {
    serde_json::from_slice(bytes)
        .map_err(|e| DecodeError::Invalid(format!("body is not valid JSON: {e}")))
}

/// Base64 (standard alphabet, padding optional; a space from form decoding is a
/// `+`), gunzipped when the result is gzip.
fn from_base64(data: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
    let cleaned: Vec<u8> = plus_for_space(data)
        .into_iter()
        .filter(|b| !matches!(b, b'\n' | b'\r'))
        .collect();
    let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(
            cleaned
                .strip_suffix(b"==")
                .or(cleaned.strip_suffix(b"="))
                .unwrap_or(&cleaned),
        )
        .map_err(|e| DecodeError::Invalid(format!("base64: {e}")))?;
    if decoded.starts_with(&GZIP_MAGIC) {
        return gunzip(&decoded, cap);
    }
    Ok(decoded)
}

fn plus_for_space(data: &[u8]) -> Vec<u8> {
    data.iter()
        .filter(|b| !matches!(b, b'\n' | b'\r' | b'\t'))
        .map(|&b| if b == b' ' { b'+' } else { b })
        .collect()
}

fn gunzip(data: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
    read_capped(GzDecoder::new(data), cap)
}

/// Reads at most `cap` bytes; one more means the body is over the cap.
fn read_capped(reader: impl Read, cap: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    reader
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Invalid(format!("compressed body is corrupt: {e}")))?;
    if out.len() > cap {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;
    use serde_json::json;

    use super::*;

    const CAP: usize = 1 << 20;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn body(body: &[u8]) -> CaptureInput<'_> {
        CaptureInput {
            body,
            ..Default::default()
        }
    }

    #[test]
    fn lz64_matches_lz_string() {
        // Made with lz-string 1.5's compressToBase64.
        let cases = [
            ("", "Q==="),
            ("a", "IZA="),
            ("hello hello hello hello", "BYUwNmD2AEoTcq3FIA=="),
            (
                r#"{"api_key":"phc_x","batch":[{"event":"$pageview","properties":{"distinct_id":"d1","$current_url":"http://h/ä€😀","n":[1,2,3]}}]}"#,
                "N4IghgDglg+g1gUwJ4gFwggCwMYwB4gA0IARmAC7aZoDaoCAbggHblogAkEYA5o1AgDuRDACcA9hASjyAgM5pQAEyhzZzbORhQl7JQEYRHbAFdRollrMAbdpnLkIqAPTPMzgCeAagkC8G4AA9kWZafUIAJkIAZgBdAF8Y2KA",
            ),
            (
                &"ab".repeat(900),
                "IYI17SOrZ+6IcpqXrZj2u5/vQg4o0k8syi6q2m+uxh5p1l9tzj7r3n/voIHChokeLGSJ0qbJny5ihcqWqVEoA===",
            ),
        ];
        for (plain, packed) in cases {
            assert_eq!(
                lz64::decompress_from_base64(packed.as_bytes(), CAP).as_deref(),
                Ok(plain),
                "{packed}"
            );
        }
        assert_eq!(
            lz64::decompress_from_base64(b"IYI17SOrZ+6IcpqXrZj2u5/vQg4o0k8syi6q2m+uxh5p1l9tzj7r3n/voIHChokeLGSJ0qbJny5ihcqWqVEoA===", 100),
            Err(DecodeError::TooLarge)
        );
        for garbage in [&b""[..], b"IZ", b"!!!!", b"BYUwNmD2AEoTcq3F"] {
            assert!(matches!(
                lz64::decompress_from_base64(garbage, CAP),
                Err(DecodeError::Invalid(_))
            ));
        }
    }

    #[test]
    fn every_capture_encoding_gives_the_same_json() {
        let event = json!({"event": "e", "properties": {"distinct_id": "d", "token": "t"}});
        let text = event.to_string();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&text);
        let gz = gzip(text.as_bytes());
        let form = format!("data={}", urlencode(&b64));
        let lz = "N4IgpgbmB2AuIC5wgDQgA4CcD26ydgEswBnRUAE0JKOgGNYB9QixEVtWbAaxjfgC+AoA";
        let lz_form = format!("data={}&compression=lz64", urlencode(lz));
        let inputs = [
            body(text.as_bytes()),
            body(&gz),
            CaptureInput {
                content_type: Some("text/plain"),
                query_compression: Some("gzip-js"),
                ..body(&gz)
            },
            CaptureInput {
                content_encoding: Some("gzip"),
                ..body(&gz)
            },
            body(b64.as_bytes()),
            CaptureInput {
                query_compression: Some("base64"),
                ..body(b64.as_bytes())
            },
            body(form.as_bytes()),
            CaptureInput {
                content_type: Some("application/x-www-form-urlencoded"),
                ..body(lz_form.as_bytes())
            },
            CaptureInput {
                query_data: Some(&text),
                ..body(b"")
            },
            CaptureInput {
                query_data: Some(&b64.replace('+', " ")),
                ..body(b"")
            },
        ];
        for (i, input) in inputs.into_iter().enumerate() {
            assert_eq!(capture_json(input, CAP), Ok(event.clone()), "input {i}");
        }
    }

    #[test]
    fn bad_bodies_say_why() {
        let cases: [(CaptureInput<'_>, &str); 5] = [
            (body(b""), "empty body and no data query parameter"),
            (body(b"%%%"), "body is not JSON, gzip, base64 or lz64"),
            (body(b"{nope"), "body is not valid JSON"),
            (body(b"data"), "body is not valid JSON"),
            (
                CaptureInput {
                    content_encoding: Some("br"),
                    ..body(b"x")
                },
                "unsupported Content-Encoding",
            ),
        ];
        for (input, want) in cases {
            match capture_json(input, CAP) {
                Err(DecodeError::Invalid(reason)) => assert!(reason.starts_with(want), "{reason}"),
                other => panic!("{want}: {other:?}"),
            }
        }
        assert!(matches!(
            capture_json(body(b"data=x&other=1"), CAP),
            Err(DecodeError::Invalid(_))
        ));
    }

    #[test]
    fn decompression_stops_at_the_cap() {
        let bomb = gzip(&vec![b'['; 4 * CAP]);
        assert!(bomb.len() < CAP / 50);
        assert_eq!(capture_json(body(&bomb), CAP), Err(DecodeError::TooLarge));
        assert_eq!(
            envelope_bytes(&bomb, None, CAP).map(|b| b.len()),
            Err(DecodeError::TooLarge)
        );
        assert_eq!(
            envelope_bytes(&bomb, Some("gzip"), 8 * CAP).map(|b| b.len()),
            Ok(4 * CAP)
        );
    }

    fn urlencode(s: &str) -> String {
        serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_owned()
    }
}
