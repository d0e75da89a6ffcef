//! The sender IP is hashed under the key, never stored or logged; X-Forwarded-For
//! is believed only from trusted proxies. Real sockets, so the peer address is real.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use ff_telemetry_collector::IpKey;
use serde_json::Value;

const FORWARDED_IP: &str = "203.0.113.77";

/// Every log line of this test binary, at every level.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn post_ping(url: &str, forwarded_for: &str, body: String) -> u16 {
    http()
        .post(url)
        .header("x-forwarded-for", forwarded_for)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn latest_hash(running: &Running) -> String {
    let body: Value = http()
        .get(running.url("/api/pings?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["pings"][0]["ip_hash"].as_str().unwrap().to_owned()
}

/// All text the database holds, wherever it is.
async fn database_text(db: &TestDb) -> Vec<u8> {
    match &db.url {
        // SQLite may fold its -wal file into the database and delete it between
        // listing and reading: then the listing is taken again, so every byte is
        // read from files that all existed together.
        None => (0..100)
            .find_map(|_| {
                db.sqlite_files()
                    .iter()
                    .map(std::fs::read)
                    .collect::<std::io::Result<Vec<_>>>()
                    .ok()
            })
            .expect("the database files stay put long enough to be read")
            .concat(),
        Some(url) => {
            use sqlx::{Connection, Row};
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            let mut text = Vec::new();
            for table in ["pings", "events"] {
                let rows = sqlx::query(&format!("SELECT CAST(t.* AS TEXT) FROM {table} t"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                for row in rows {
                    text.extend_from_slice(row.get::<String, _>(0).as_bytes());
                }
            }
            assert!(!text.is_empty());
            text
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_is_hashed_never_stored_or_logged_and_spoofing_is_ignored() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    for db in databases("ip_privacy").await {
        let key_file = db.dir.path().join("ip.key");
        std::fs::write(&key_file, "privacy-test-key-0123456789").unwrap();
        let key = IpKey::load(Some(&key_file), None, db.dir.path()).unwrap();

        // No trusted proxy: the header is a spoof, the socket peer is the sender.
        let mut config = db.config();
        config.ip_key_file = Some(key_file.clone());
        let untrusted = Running::start(&config).await;
        // The IP also hides in an unknown payload field, which must be dropped.
        let mut body: Value = serde_json::from_str(&ping_json(INSTANCE)).unwrap();
        body["senderIp"] = Value::String(FORWARDED_IP.into());
        assert_eq!(
            post_ping(&untrusted.url("/ping"), FORWARDED_IP, body.to_string()).await,
            200
        );
        assert_eq!(
            latest_hash(&untrusted).await,
            key.hash("127.0.0.1".parse().unwrap()),
            "{}",
            db.name
        );
        untrusted.stop().await;

        // Loopback trusted as a proxy: the forwarded address is the sender.
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        let trusted = Running::start(&config).await;
        let chain = format!("{FORWARDED_IP}, 127.0.0.5");
        assert_eq!(
            post_ping(&trusted.url("/ping"), &chain, body.to_string()).await,
            200
        );
        assert_eq!(
            latest_hash(&trusted).await,
            key.hash(FORWARDED_IP.parse().unwrap()),
            "{}",
            db.name
        );
        trusted.stop().await;

        let stored = database_text(&db).await;
        assert!(!stored.is_empty());
        assert!(
            !stored
                .windows(FORWARDED_IP.len())
                .any(|w| w == FORWARDED_IP.as_bytes()),
            "{}: the IP is in the database",
            db.name
        );
        let hash = key.hash(FORWARDED_IP.parse().unwrap());
        assert!(
            stored.windows(hash.len()).any(|w| w == hash.as_bytes()),
            "{}",
            db.name
        );
    }
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("request"), "requests are logged: {logged}");
    assert!(!logged.contains(FORWARDED_IP), "the IP is in the logs");
}
