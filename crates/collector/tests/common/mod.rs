//! Test harness: a collector on SQLite (always) and on Postgres (when
//! `FF_TEST_POSTGRES_URL` is set, in a database of its own), through `oneshot` or on
//! a real socket.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use ff_telemetry_collector::{AppState, Collector, CollectorConfig, SentryKey, router};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::Connection;
use tokio::sync::oneshot;
use tower::ServiceExt;

pub const PG_VAR: &str = "FF_TEST_POSTGRES_URL";
/// Set (never by CI) to skip the Chromium tests on a machine that cannot have Chromium.
/// Set (never by CI) to skip the Postgres half of the tests that run on both databases.
pub const SKIP_POSTGRES_VAR: &str = "FF_TELEMETRY_SKIP_POSTGRES";
pub const SKIP_BROWSER_VAR: &str = "FF_TELEMETRY_SKIP_BROWSER";
pub const SENTRY_PROJECT: &str = "42";
pub const SENTRY_KEY: &str = "publickey42";

/// One database to run a test against.
pub struct TestDb {
    pub name: &'static str,
    pub url: Option<String>,
    pub dir: tempfile::TempDir,
}

/// A SQLite database in a fresh data dir, for tests about HTTP rather than storage.
pub fn sqlite() -> TestDb {
    TestDb {
        name: "sqlite",
        url: None,
        dir: tempfile::tempdir().unwrap(),
    }
}

/// SQLite always, and Postgres on the server `FF_TEST_POSTGRES_URL` names. Without
/// that variable the test fails saying how to run it, unless
/// `FF_TELEMETRY_SKIP_POSTGRES=1` (never set by CI) asks to skip the Postgres half.
pub async fn databases(test: &str) -> Vec<TestDb> {
    let mut dbs = vec![sqlite()];
    match std::env::var(PG_VAR) {
        Ok(url) if !url.is_empty() => dbs.push(postgres_on(&url).await),
        _ => {
            assert!(
                std::env::var_os(SKIP_POSTGRES_VAR).is_some(),
                "{test} also runs on Postgres: set {PG_VAR} to a server's URL \
                 (`cargo xtask test` starts a throwaway cluster and sets it), \
                 or {SKIP_POSTGRES_VAR}=1 to skip the Postgres half"
            );
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skip: {test} on Postgres ({SKIP_POSTGRES_VAR} is set)"
            );
        }
    }
    dbs
}

/// A new database of its own on the Postgres server at `server_url`.
pub async fn postgres_on(server_url: &str) -> TestDb {
    TestDb {
        name: "postgres",
        url: Some(fresh_postgres_db(server_url).await),
        dir: tempfile::tempdir().unwrap(),
    }
}

/// Creates a uniquely named database on the server and returns its URL.
async fn fresh_postgres_db(server_url: &str) -> String {
    let name = format!("ff_collector_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(server_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (without_query, query) = server_url.split_once('?').unwrap_or((server_url, ""));
    let (scheme, rest) = without_query.split_once("://").unwrap();
    let authority = rest.split('/').next().unwrap();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{scheme}://{authority}/{name}{query}")
}

impl TestDb {
    pub fn config(&self) -> CollectorConfig {
        let mut config = CollectorConfig::new(self.dir.path());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database_url = self.url.clone();
        config.sentry_keys = vec![SentryKey {
            project_id: SENTRY_PROJECT.into(),
            public_key: SENTRY_KEY.into(),
        }];
        config
    }

    pub fn sqlite_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("collector.db"))
            .collect()
    }
}

/// The app for `oneshot`, the peer being `peer`.
pub async fn app(config: &CollectorConfig, peer: &str) -> (Router, AppState) {
    let state = AppState::open(config).await.unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    (router(state.clone()).layer(MockConnectInfo(peer)), state)
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

pub fn post(uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// A collector on a real loopback socket, stopped on drop.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub async fn start(config: &CollectorConfig) -> Running {
        let collector = Collector::bind(config).await.unwrap();
        let addr = collector.local_addr();
        let state = collector.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            collector
                .run_until(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Running {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a valid ping over a real connection and returns the answer's status.
    pub async fn post_ping(&self) -> u16 {
        http()
            .post(self.url("/ping"))
            .header("content-type", "application/json")
            .body(ping_json(INSTANCE))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Polls `check` until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "condition not met in {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn ping_json(instance: &str) -> String {
    format!(
        r#"{{"instanceId":"{instance}","os":{{"type":"Linux","release":"6.1","arch":"x64"}},"env":{{"nodejs":"rust","flowforge":"2.1.0"}},"platform":{{"counts":{{"users":3}},"config":{{"driver":"localfs","broker":{{"enabled":true}},"fileStore":{{"enabled":false}},"email":{{"enabled":true}}}},"license":{{"type":"EE"}}}}}}"#
    )
}

pub const INSTANCE: &str = "5db51f99-c6fb-4340-9c19-78adce58cc1b";

/// An HTTP client. reqwest is built with rustls and no crypto provider (as the
/// backend ships it), so one is installed first even for plain http.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
