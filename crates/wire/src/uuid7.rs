//! UUIDv7 (RFC 9562) from a given instant and random bytes.

use uuid::Uuid;

use crate::UnixMs;
use crate::text::write_hex;

/// A UUIDv7: 48 bits of `now` in milliseconds, then 74 bits from `random`.
///
/// Core has no randomness of its own, so the caller draws the 10 random bytes
/// (the browser from `crypto.getRandomValues`, tests from a counter). The
/// version and variant bits overwrite 6 of the 80 random bits.
///
/// ```
/// use ff_telemetry_wire::{UnixMs, uuid_v7};
/// let id = uuid_v7(UnixMs(0x0190_f0c4_8f3e), [0xff; 10]);
/// assert_eq!(id.to_string(), "0190f0c4-8f3e-7fff-bfff-ffffffffffff");
/// assert_eq!(id.get_version_num(), 7);
/// ```
pub fn uuid_v7(now: UnixMs, random: [u8; 10]) -> Uuid {
    // Arrays taken apart and put together rather than slices copied: no
    // length check, so no panic path (and its source path) in the browser build.
    let [_, _, t0, t1, t2, t3, t4, t5] = now.0.to_be_bytes();
    let [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9] = random;
    Uuid::from_bytes([
        t0,
        t1,
        t2,
        t3,
        t4,
        t5,
        0x70 | (r0 & 0x0f),
        r1,
        0x80 | (r2 & 0x3f),
        r3,
        r4,
        r5,
        r6,
        r7,
        r8,
        r9,
    ])
}

/// The hyphenated lowercase form of `uuid` (`0190f0c4-8f3e-7fff-bfff-ffffffffffff`),
/// the same text as `uuid.to_string()`.
///
/// Written with this crate's own hex encoder because `Uuid`'s `Display` brings a
/// second hex formatter and `core::fmt` padding into the browser build.
pub fn hyphenated(uuid: &Uuid) -> String {
    let mut text = String::with_capacity(36);
    for (i, byte) in uuid.as_bytes().iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        write_hex(&mut text, std::slice::from_ref(byte));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenated_is_the_uuid_crates_text() {
        for id in [
            uuid_v7(UnixMs(0x0190_f0c4_8f3e), [0xff; 10]),
            uuid_v7(UnixMs(1_001), [0; 10]),
            uuid_v7(UnixMs(u64::MAX), [0x5a; 10]),
        ] {
            assert_eq!(hyphenated(&id), id.to_string());
        }
    }

    #[test]
    fn sorts_by_time_and_keeps_version_and_variant() {
        let early = uuid_v7(UnixMs(1_000), [0xff; 10]);
        let late = uuid_v7(UnixMs(1_001), [0; 10]);
        assert!(early.to_string() < late.to_string());
        assert_eq!(late.to_string(), "00000000-03e9-7000-8000-000000000000");
        assert_eq!(late.get_variant(), uuid::Variant::RFC4122);
    }
}
