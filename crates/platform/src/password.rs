//! Password hashes of platform users: PBKDF2-HMAC-SHA256 with a random salt,
//! stored as a PHC string (`$pbkdf2-sha256$i=600000,l=32$<salt>$<hash>`), never the
//! password itself.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use ring::pbkdf2::{PBKDF2_HMAC_SHA256, derive as ring_derive};

/// PBKDF2 rounds: OWASP's 2023 figure for HMAC-SHA256.
const ROUNDS: u32 = 600_000;
const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;
const SCHEME: &str = "pbkdf2-sha256";

/// Hashes `password` with a fresh random salt. Slow on purpose (hundreds of
/// milliseconds): call it from a blocking thread.
///
/// ```
/// let stored = ff_platform::password::hash_password("s3cure-enough");
/// assert!(stored.starts_with("$pbkdf2-sha256$i=600000,l=32$"));
/// assert!(!stored.contains("s3cure"));
/// assert!(ff_platform::password::verify_password(&stored, "s3cure-enough"));
/// ```
pub fn hash_password(password: &str) -> String {
    let salt: [u8; SALT_BYTES] = rand::random();
    let hash = derive(password, &salt, ROUNDS);
    format!(
        "${SCHEME}$i={ROUNDS},l={HASH_BYTES}${}${}",
        B64.encode(salt),
        B64.encode(hash)
    )
}

/// Whether `password` matches a hash made by [`hash_password`]. A malformed stored
/// value matches nothing.
///
/// ```
/// let stored = ff_platform::password::hash_password("s3cure-enough");
/// assert!(!ff_platform::password::verify_password(&stored, "s3cure-enougH"));
/// assert!(!ff_platform::password::verify_password("s3cure-enough", "s3cure-enough"));
/// ```
pub fn verify_password(stored: &str, password: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some(""), Some(SCHEME), Some(params), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Some(rounds) = params
        .strip_prefix("i=")
        .and_then(|rest| rest.strip_suffix(&format!(",l={HASH_BYTES}")))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|&n| n > 0)
    else {
        return false;
    };
    let (Ok(salt), Ok(expected)) = (B64.decode(salt), B64.decode(hash)) else {
        return false;
    };
    let actual = derive(password, &salt, rounds);
    // Constant time: every byte is compared whatever the first difference.
    expected.len() == actual.len()
        && expected
            .iter()
            .zip(actual.iter())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

fn derive(password: &str, salt: &[u8], rounds: u32) -> [u8; HASH_BYTES] {
    let mut out = [0; HASH_BYTES];
    let rounds = std::num::NonZeroU32::new(rounds).unwrap_or(std::num::NonZeroU32::MIN);
    ring_derive(
        PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        password.as_bytes(),
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_differ_so_equal_passwords_hash_differently() {
        let a = hash_password("same-password-1");
        let b = hash_password("same-password-1");
        assert_ne!(a, b);
        assert!(verify_password(&a, "same-password-1") && verify_password(&b, "same-password-1"));
    }

    #[test]
    fn malformed_hashes_match_nothing() {
        let good = hash_password("pw-123456");
        let cases = [
            String::new(),
            good.replacen("pbkdf2-sha256", "pbkdf2-sha512", 1),
            good.replacen("i=600000", "i=0", 1),
            good.replacen("l=32", "l=16", 1),
            format!("{good}$extra"),
            good.replacen('$', "", 1),
        ];
        for stored in cases {
            assert!(!verify_password(&stored, "pw-123456"), "{stored}");
        }
    }
}
