//! Sender IPs: which one to believe, and the keyed hash that is stored instead of it.
//!
//! A plain SHA-256 of an IPv4 address is brute-forced in minutes (2^32 inputs), so
//! the stored value is HMAC-SHA256 under a secret key kept outside the database.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use sha2::Sha256;

/// The name of the generated key file inside the data directory.
pub const GENERATED_KEY_FILE: &str = "ip-hash.key";
const MIN_KEY_BYTES: usize = 16;

/// Why no IP-hash key could be had.
#[derive(Debug, thiserror::Error)]
pub enum IpKeyError {
    /// The key file or data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The key is too short to be a secret.
    #[error("{origin}: the IP-hash key must be at least {MIN_KEY_BYTES} bytes, found {found}")]
    TooShort {
        /// Where the key came from.
        origin: String,
        /// Its length.
        found: usize,
    },
    /// The system random source failed.
    #[error("cannot generate an IP-hash key: {0}")]
    Random(String),
}

/// The secret key that sender IPs are hashed under. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct IpKey(Vec<u8>);

impl std::fmt::Debug for IpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IpKey(..)")
    }
}

impl IpKey {
    /// A key from bytes (at least 16).
    ///
    /// ```
    /// use ff_telemetry_collector::IpKey;
    /// let key = IpKey::from_bytes(b"0123456789abcdef".to_vec(), "test").unwrap();
    /// let hash = key.hash("203.0.113.7".parse().unwrap());
    /// assert_eq!(hash.len(), 64);
    /// assert!(!hash.contains("203"));
    /// // IPv4-mapped IPv6 hashes as the IPv4 address it is.
    /// assert_eq!(key.hash("::ffff:203.0.113.7".parse().unwrap()), hash);
    /// ```
    pub fn from_bytes(bytes: Vec<u8>, origin: &str) -> Result<Self, IpKeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(IpKeyError::TooShort {
                origin: origin.to_owned(),
                found: bytes.len(),
            });
        }
        Ok(IpKey(bytes))
    }

    /// The key from `file`, else from the environment variable's value, else from
    /// (or newly generated into) `data_dir/ip-hash.key` with mode 0600.
    pub fn load(
        file: Option<&Path>,
        env_value: Option<&str>,
        data_dir: &Path,
    ) -> Result<Self, IpKeyError> {
        if let Some(path) = file {
            let bytes = std::fs::read(path).map_err(|source| IpKeyError::Io {
                path: path.to_owned(),
                source,
            })?;
            return Self::from_bytes(trim(&bytes).to_vec(), &path.display().to_string());
        }
        if let Some(value) = env_value.filter(|v| !v.trim().is_empty()) {
            return Self::from_bytes(value.trim().as_bytes().to_vec(), crate::config::IP_KEY_ENV);
        }
        let path = data_dir.join(GENERATED_KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => Self::from_bytes(bytes, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::generate(&path),
            Err(source) => Err(IpKeyError::Io { path, source }),
        }
    }

    /// `hex(HMAC-SHA256(key, ip))`, the IP written in its canonical text form.
    pub fn hash(&self, ip: IpAddr) -> String {
        let ip = ip.to_canonical();
        // HMAC takes keys of any length, so this never fails.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            unreachable!("HMAC accepts any key length")
        };
        mac.update(ip.to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn generate(path: &Path) -> Result<Self, IpKeyError> {
        let io = |source| IpKeyError::Io {
            path: path.to_owned(),
            source,
        };
        let mut key = vec![0u8; 32];
        getrandom::fill(&mut key).map_err(|e| IpKeyError::Random(e.to_string()))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut f) => {
                f.write_all(&key).map_err(io)?;
                f.sync_all().map_err(io)?;
                tracing::info!(path = %path.display(), "generated a new IP-hash key");
                Ok(IpKey(key))
            }
            // Another collector on the same data dir won the race: use its key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let bytes = std::fs::read(path).map_err(io)?;
                Self::from_bytes(bytes, &path.display().to_string())
            }
            Err(e) => Err(io(e)),
        }
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// The sender's IP: the socket peer, unless the peer is a trusted proxy, in which
/// case `X-Forwarded-For` is walked from the right past trusted proxies and the first
/// untrusted address is the sender. An unparsable header falls back to the peer.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            return peer;
        };
        for part in text.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(ip.to_canonical()),
                Err(_) => return peer,
            }
        }
    }
    let mut sender = peer;
    for hop in hops.into_iter().rev() {
        sender = hop;
        if !is_trusted(&hop) {
            break;
        }
    }
    sender
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_peers() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let cases = [
            // Untrusted peer: the header is a spoof and ignored.
            ("198.51.100.1", vec!["203.0.113.9"], "198.51.100.1"),
            // Trusted peer: the last untrusted hop is the sender.
            ("10.0.0.2", vec!["203.0.113.9"], "203.0.113.9"),
            (
                "10.0.0.2",
                vec!["1.1.1.1, 203.0.113.9, 10.0.0.3"],
                "203.0.113.9",
            ),
            ("10.0.0.2", vec!["1.1.1.1", "203.0.113.9"], "203.0.113.9"),
            // Trusted peer, garbage header: the peer.
            ("10.0.0.2", vec!["not-an-ip"], "10.0.0.2"),
            // Trusted peer, no header: the peer.
            ("10.0.0.2", vec![], "10.0.0.2"),
            ("::ffff:198.51.100.1", vec![], "198.51.100.1"),
        ];
        for (peer, xff, want) in cases {
            assert_eq!(
                client_ip(ip(peer), &headers(&xff), &trusted),
                ip(want),
                "{peer} {xff:?}"
            );
        }
    }

    #[test]
    fn generated_key_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = IpKey::load(None, None, dir.path()).unwrap();
        let second = IpKey::load(None, None, dir.path()).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(first.hash(ip), second.hash(ip));
        let meta = std::fs::metadata(dir.path().join(GENERATED_KEY_FILE)).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o600
        );
        assert_eq!(meta.len(), 32);
    }

    #[test]
    fn key_sources_in_order_and_too_short_keys_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k");
        std::fs::write(&file, "file-key-0123456789\n").unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let from_file = IpKey::load(Some(&file), Some("env-key-0123456789"), dir.path()).unwrap();
        let expected = IpKey::from_bytes(b"file-key-0123456789".to_vec(), "t").unwrap();
        assert_eq!(from_file.hash(ip), expected.hash(ip));
        let from_env = IpKey::load(None, Some("env-key-0123456789"), dir.path()).unwrap();
        assert_ne!(from_env.hash(ip), from_file.hash(ip));
        assert!(!dir.path().join(GENERATED_KEY_FILE).exists());
        assert!(matches!(
            IpKey::load(None, Some("short"), dir.path()),
            Err(IpKeyError::TooShort { found: 5, .. })
        ));
    }
}
