//! lz-string's `decompressFromBase64`, which posthog-js uses for `compression=lz64`.
//!
//! The format is an LZW variant over UTF-16 code units whose bits are packed six to
//! a base64 character. Written from the format's description: a dictionary of
//! phrases, codes 0/1 introduce an 8/16-bit literal, 2 ends the stream, and the code
//! width grows by one bit each time the dictionary fills the current width.
//!
//! Every dictionary phrase but the literals is a range of the output (the previous
//! phrase plus the next one's first unit), so memory stays proportional to the
//! output, which is capped.

use super::DecodeError;

const ALPHABET: &[u8; 65] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

/// A dictionary phrase: a literal code unit or a range of the output. Eight bytes,
/// since a large input makes millions of them.
#[derive(Clone, Copy)]
enum Phrase {
    Literal(u16),
    Range { start: u32, len: u32 },
}

struct Bits<'a> {
    input: &'a [u8],
    /// Index of the next input character to load.
    next_idx: usize,
    value: u32,
    /// The bit of `value` read next; 0 means load the next character.
    mask: u32,
}

impl Bits<'_> {
    fn read(&mut self, n_bits: u32) -> Result<u32, DecodeError> {
        let mut out = 0;
        for bit in 0..n_bits {
            if self.mask == 0 {
                let c = *self
                    .input
                    .get(self.next_idx)
                    .ok_or_else(|| bad("stream ends without an end marker"))?;
                self.value = ALPHABET
                    .iter()
                    .position(|&a| a == c)
                    .ok_or_else(|| bad("character outside the base64 alphabet"))?
                    as u32;
                self.next_idx += 1;
                self.mask = 32;
            }
            if self.value & self.mask != 0 {
                out |= 1 << bit;
            }
            self.mask >>= 1;
        }
        Ok(out)
    }
}

fn bad(reason: &str) -> DecodeError {
    DecodeError::Invalid(format!("lz64: {reason}"))
}

/// Decompresses lz-string base64 text, refusing output over `cap_bytes` (counted as
/// two bytes per UTF-16 unit, checked as the output grows).
pub(crate) fn decompress_from_base64(
    input: &[u8],
    cap_bytes: usize,
) -> Result<String, DecodeError> {
    let mut bits = Bits {
        input,
        next_idx: 0,
        value: 0,
        mask: 0,
    };
    let mut out: Vec<u16> = Vec::new();
    let literal = |bits: &mut Bits, code: u32| -> Result<Option<u16>, DecodeError> {
        match code {
            0 => Ok(Some(bits.read(8)? as u16)),
            1 => Ok(Some(bits.read(16)? as u16)),
            _ => Ok(None),
        }
    };
    let first_code = bits.read(2)?;
    let first = match first_code {
        2 => return Ok(String::new()),
        code => literal(&mut bits, code)?.ok_or_else(|| bad("invalid first code"))?,
    };
    // Codes 0, 1 and 2 are reserved; phrases start at 3.
    let mut dict: Vec<Phrase> = vec![Phrase::Literal(0); 3];
    dict.push(Phrase::Literal(first));
    out.push(first);
    let mut prev = Phrase::Range { start: 0, len: 1 };
    let mut n_bits = 3u32;
    // Codes left before the width grows by one bit.
    let mut enlarge_in: u64 = 4;
    loop {
        let code = bits.read(n_bits)?;
        let code = match code {
            2 => break,
            0 | 1 => {
                let unit = literal(&mut bits, code)?.ok_or_else(|| bad("invalid literal"))?;
                dict.push(Phrase::Literal(unit));
                enlarge_in -= 1;
                dict.len() - 1
            }
            c => c as usize,
        };
        if enlarge_in == 0 {
            enlarge_in = 1 << n_bits;
            n_bits += 1;
        }
        let entry_start = out.len();
        match dict.get(code) {
            Some(&phrase) => push_phrase(&mut out, phrase),
            None if code == dict.len() => {
                // The phrase being defined: previous phrase plus its own first unit.
                push_phrase(&mut out, prev);
                let first_unit = out[entry_start];
                out.push(first_unit);
            }
            None => return Err(bad("code refers to an unknown phrase")),
        }
        if out.len() * 2 > cap_bytes || out.len() > u32::MAX as usize {
            return Err(DecodeError::TooLarge);
        }
        let entry_len = out.len() - entry_start;
        // The new phrase is the previous one plus this entry's first unit, which is
        // exactly the output from the previous phrase's start, one unit longer.
        let prev_len = phrase_len(prev);
        dict.push(Phrase::Range {
            start: (entry_start - prev_len) as u32,
            len: (prev_len + 1) as u32,
        });
        enlarge_in -= 1;
        prev = Phrase::Range {
            start: entry_start as u32,
            len: entry_len as u32,
        };
        if enlarge_in == 0 {
            enlarge_in = 1 << n_bits;
            n_bits += 1;
        }
        if n_bits > 24 {
            return Err(bad("dictionary too large"));
        }
    }
    String::from_utf16(&out).map_err(|_| bad("not valid UTF-16"))
}

fn phrase_len(phrase: Phrase) -> usize {
    match phrase {
        Phrase::Literal(_) => 1,
        Phrase::Range { len, .. } => len as usize,
    }
}

fn push_phrase(out: &mut Vec<u16>, phrase: Phrase) {
    match phrase {
        Phrase::Literal(unit) => out.push(unit),
        Phrase::Range { start, len } => {
            let start = start as usize;
            out.extend_from_within(start..start + len as usize);
        }
    }
}
