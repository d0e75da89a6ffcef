//! Shared pieces of the platform's integration tests: real databases, a real HTTP
//! receiver for pings, and bounded polling.

#![allow(dead_code)] // Each test file uses a different subset.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use ff_platform::config::load_flowforge_yml;
use ff_platform::{Platform, SeedSpec, StartOptions};
use ff_telemetry_backend::{Clock, PingScheduler, SchedulerOptions};
use ff_telemetry_core::retry::RetryPolicy;
use ff_telemetry_wire::ping::{Counts, DevicesByLastSeen, ProjectsByState};
use sqlx::Connection;

pub const POSTGRES_VAR: &str = "FF_TEST_POSTGRES_URL";
/// Set (never by CI) to skip the Postgres half of the tests that run on both databases.
pub const SKIP_POSTGRES_VAR: &str = "FF_TELEMETRY_SKIP_POSTGRES";
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// Small, all-different numbers, so a count read from the wrong table shows.
pub const SPEC: SeedSpec = SeedSpec {
    users: 7,
    teams: 5,
    projects: 8,
    devices: 9,
    project_snapshots: 11,
    project_templates: 4,
    project_stacks: 2,
    library_entries: 6,
    shared_library_entries: 3,
    blueprints: 12,
    team_broker_clients: 10,
    remote_brokers: 1,
};

pub fn expected_counts() -> Counts {
    Counts {
        users: Some(7),
        teams: Some(5),
        projects: Some(8),
        devices: Some(9),
        project_snapshots: Some(11),
        project_templates: Some(4),
        project_stacks: Some(2),
        library_entries: Some(6),
        shared_library_entries: Some(3),
        blueprints: Some(12),
        team_broker_clients: Some(10),
        remote_brokers: Some(1),
        // Every fourth instance is suspended: 4 and 8.
        projects_by_state: Some(ProjectsByState { suspended: Some(2) }),
        // Devices 3, 6, 9 never seen; 1, 4, 7 seen an hour ago; the rest a week ago.
        devices_by_last_seen: Some(DevicesByLastSeen {
            never: Some(3),
            day: Some(3),
        }),
    }
}

/// A fresh database: a SQLite file in a temporary directory, or a new database on
/// the test Postgres server.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("platform.db").display()
    );
    TestDb {
        url,
        _dir: Some(dir),
    }
}

/// A uniquely named database on `FF_TEST_POSTGRES_URL`. Without that variable the
/// test fails saying how to run it, unless `FF_TELEMETRY_SKIP_POSTGRES=1` (never set
/// by CI) asks to skip the Postgres half (`None`, with a skip line).
pub async fn postgres(test: &str) -> Option<TestDb> {
    let Ok(server) = std::env::var(POSTGRES_VAR) else {
        assert!(
            std::env::var_os(SKIP_POSTGRES_VAR).is_some(),
            "{test} also runs on Postgres: set {POSTGRES_VAR} to a server's URL \
             (`cargo xtask test` starts a throwaway cluster and sets it), \
             or {SKIP_POSTGRES_VAR}=1 to skip the Postgres half"
        );
        // Straight to the stream: the test harness captures eprintln! output.
        let _ = writeln!(
            std::io::stderr(),
            "skip: {test} on Postgres ({SKIP_POSTGRES_VAR} is set)"
        );
        return None;
    };
    let name = format!("ff_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server.as_str(), String::new()),
    };
    let (server_root, _) = base.rsplit_once('/').unwrap();
    Some(TestDb {
        url: format!("{server_root}/{name}{query}"),
        _dir: None,
    })
}

/// Every database engine available: SQLite always, Postgres when configured.
pub async fn every_engine(test: &str) -> Vec<TestDb> {
    let mut dbs = vec![sqlite()];
    dbs.extend(postgres(test).await);
    dbs
}

/// `flowforge.yml` text with the database and the admin token filled in.
pub fn yml(db: &TestDb, rest: &str) -> String {
    format!(
        "db: {{url: '{}'}}\nadmin: {{token: {ADMIN_TOKEN}}}\n{rest}",
        db.url
    )
}

pub async fn open(db: &TestDb, rest: &str) -> Platform {
    let file = load_flowforge_yml(&yml(db, rest)).unwrap();
    Platform::open(&file, &StartOptions::default())
        .await
        .unwrap()
}

/// A scheduler for `platform` with fast retries (10–50 ms apart).
pub fn scheduler(platform: &Platform, clock: Arc<dyn Clock>, replica: &str) -> PingScheduler {
    scheduler_with(platform, clock, replica, SchedulerOptions::default())
}

/// [`scheduler`] with other options than the retry policy and replica id.
pub fn scheduler_with(
    platform: &Platform,
    clock: Arc<dyn Clock>,
    replica: &str,
    base: SchedulerOptions,
) -> PingScheduler {
    let options = SchedulerOptions {
        retry: RetryPolicy {
            max_retries: 3,
            base_delay_ms: 10,
            max_delay_ms: 50,
        },
        replica_id: replica.to_owned(),
        ..base
    };
    PingScheduler::new(platform.telemetry().clone(), clock, options).unwrap()
}

/// A real HTTP server on 127.0.0.1 that records every ping POSTed to `/ping` and
/// answers with a fixed status.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    bodies: Arc<Mutex<Vec<String>>>,
    attempts: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct ReceiverState {
    status: StatusCode,
    bodies: Arc<Mutex<Vec<String>>>,
    attempts: Arc<AtomicUsize>,
}

impl Receiver {
    pub async fn start(status: StatusCode) -> Receiver {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(AtomicUsize::new(0));
        let state = ReceiverState {
            status,
            bodies: bodies.clone(),
            attempts: attempts.clone(),
        };
        let app = Router::new()
            .route("/ping", post(receive))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/ping", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            bodies,
            attempts,
        }
    }

    /// Bodies of the pings answered with a 2xx status.
    pub fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }

    /// Every POST, whatever the answer.
    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
}

async fn receive(State(state): State<ReceiverState>, body: String) -> StatusCode {
    state.attempts.fetch_add(1, Ordering::SeqCst);
    if state.status.is_success() {
        state.bodies.lock().unwrap().push(body);
    }
    state.status
}

/// A ping receiver on 127.0.0.1 that accepts every TCP connection, reads what is
/// sent and never answers: each sender attempt ends only by its own timeout.
pub struct HangingReceiver {
    pub url: String,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl HangingReceiver {
    pub async fn start() -> HangingReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/ping", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                // Reads everything and keeps the socket open until the client leaves.
                tokio::spawn(async move {
                    let mut sink = tokio::io::sink();
                    let _ = tokio::io::copy(&mut stream, &mut sink).await;
                });
            }
        });
        HangingReceiver {
            url,
            connections,
            task,
        }
    }

    /// TCP connections accepted so far: one per attempt (a timed-out connection is
    /// never reused).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for HangingReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A URL on 127.0.0.1 where nothing listens.
pub async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/ping")
}

/// Polls `condition` every 10 ms until it holds; panics after 20 s.
pub async fn wait_until(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The value of a counter in the platform's Prometheus text.
pub fn counter(platform: &Platform, name: &str) -> u64 {
    let text = platform.telemetry().metrics().render();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in metrics:\n{text}"))
}
