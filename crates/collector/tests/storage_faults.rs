//! Storage that fails under load: a read-only SQLite file, a full SQLite file and a
//! Postgres server stopped and started again. Every request that was not stored is
//! answered 5xx (never 2xx, never 4xx, never left without an answer), the collector
//! serves again without a restart once storage is back, and the rows stored equal
//! the rows the 2xx answers vouch for. Figures are printed; none is asserted.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use ff_telemetry_collector::CollectorConfig;
use ff_telemetry_collector::loadgen::{MixedLoad, MixedReport, run_mixed};
use ff_throwaway_postgres::Throwaway;
use sqlx::{Connection, SqliteConnection};

/// Load before the fault, and with the fault in place.
const BEFORE: Duration = Duration::from_millis(500);
const DURING: Duration = Duration::from_millis(1_500);
/// Load after the collector is seen serving again.
const AFTER: Duration = Duration::from_millis(500);

/// How one run went: what the load generator got back and what the collector holds.
struct Figures {
    report: MixedReport,
    /// Probes sent after the fault was lifted until one was stored (each counted).
    n_probes: usize,
    recovered_after: Duration,
}

/// Runs mixed load on a collector started from `config`; `inject` breaks storage
/// after [`BEFORE`], `lift` repairs it [`DURING`] later. Then probes until a ping is
/// stored, loads [`AFTER`] more, and checks the accounting.
async fn under_load(
    name: &str,
    config: &CollectorConfig,
    inject: impl AsyncFnOnce(),
    lift: impl AsyncFnOnce(),
) -> Figures {
    let running = Running::start(config).await;
    let mut load = MixedLoad::new(running.addr, SENTRY_PROJECT, SENTRY_KEY);
    load.n_connections = 8;
    load.duration = Duration::from_secs(60);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let load_task = tokio::spawn(async move {
        run_mixed(&load, async {
            let _ = stopped.await;
        })
        .await
    });

    tokio::time::sleep(BEFORE).await;
    inject().await;
    tokio::time::sleep(DURING).await;
    lift().await;
    let lifted = Instant::now();
    let mut n_probes = 0;
    let mut probes_stored = 0;
    while probes_stored == 0 {
        assert!(
            lifted.elapsed() < Duration::from_secs(30),
            "{name}: the collector stored nothing in 30 s after storage came back"
        );
        n_probes += 1;
        match running.post_ping().await {
            200 => probes_stored += 1,
            500..600 => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("{name}: a probe got {other}"),
        }
    }
    let recovered_after = lifted.elapsed();
    tokio::time::sleep(AFTER).await;
    let _ = stop.send(());
    let report = load_task.await.unwrap();

    let stored_pings = running.state.n_pings().await.unwrap();
    let stored_events = running.state.n_events().await.unwrap();
    let other: Vec<_> = report
        .statuses
        .iter()
        .filter(|(status, _)| !(200..300).contains(*status) && !(500..600).contains(*status))
        .collect();
    assert!(
        other.is_empty(),
        "{name}: answers neither 2xx nor 5xx: {other:?}"
    );
    assert_eq!(report.n_unanswered, 0, "{name}: requests left unanswered");
    assert!(
        report.n_status(500..600) > 0,
        "{name}: the fault was never felt (no 5xx): {:?}",
        report.statuses
    );
    assert_eq!(
        (stored_pings, stored_events),
        (
            i64::try_from(report.pings_accepted).unwrap() + probes_stored,
            i64::try_from(report.events_accepted).unwrap()
        ),
        "{name}: rows stored (pings, events) differ from rows answered 2xx"
    );
    let _ = writeln!(
        std::io::stderr(),
        "figures: {name}: {} requests in {:.1} s ({} answered 2xx, {} answered 5xx, 0 other), \
         rows stored = rows answered 2xx ({stored_pings} pings, {stored_events} events), \
         serving again {recovered_after:?} after storage came back ({n_probes} probes), \
         p50 {:?}, p99 {:?}",
        report.n_answered(),
        report.elapsed.as_secs_f64(),
        report.n_status(200..300),
        report.n_status(500..600),
        report.p50,
        report.p99,
    );
    running.stop().await;
    Figures {
        report,
        n_probes,
        recovered_after,
    }
}

/// `chattr` on `files`; a filesystem or user that cannot fails the test saying so.
fn chattr(flag: &str, files: &[&Path]) {
    let out = Command::new("chattr")
        .arg(flag)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("chattr could not run ({e}): apt-get install e2fsprogs"));
    assert!(
        out.status.success(),
        "chattr {flag} failed: {} (the read-only test needs root on a filesystem with the \
         immutable flag, such as ext4, for its temporary folder: set TMPDIR to one)",
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// The database and its write-ahead log made immutable (even root cannot write them;
/// a plain chmod would not stop root, nor descriptors already open for writing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_sqlite_file_gets_503s_and_is_written_again_once_writable() {
    let db = sqlite();
    let config = db.config();
    let files = [
        db.dir.path().join("collector.db"),
        db.dir.path().join("collector.db-wal"),
    ];
    let paths: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let figures = under_load(
        "read-only SQLite",
        &config,
        async || chattr("+i", &paths),
        async || chattr("-i", &paths),
    )
    .await;
    assert!(figures.n_probes >= 1 && figures.report.n_status(200..300) > 0);
}

/// A cap on the database (`sqlite_max_bytes`, SQLite's `max_page_count`) filled up
/// by another writer, as a full disk would be, then space freed by dropping what
/// that writer added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_file_gets_503s_and_is_written_again_once_space_is_freed() {
    const MAX_BYTES: u64 = 64 << 20;
    let db = sqlite();
    let mut config = db.config();
    config.sqlite_max_bytes = Some(MAX_BYTES);
    let file = db.dir.path().join("collector.db");
    let url = format!("sqlite://{}", file.display());
    let figures = under_load(
        "full SQLite",
        &config,
        async || fill(&url, MAX_BYTES).await,
        async || {
            let mut conn = filler_connection(&url, MAX_BYTES).await;
            sqlx::query("DROP TABLE filler")
                .execute(&mut conn)
                .await
                .unwrap();
        },
    )
    .await;
    assert!(figures.recovered_after < Duration::from_secs(30));
}

async fn filler_connection(url: &str, max_bytes: u64) -> SqliteConnection {
    let mut conn = SqliteConnection::connect(url).await.unwrap();
    for pragma in [
        "PRAGMA busy_timeout = 10000".to_owned(),
        format!("PRAGMA max_page_count = {}", max_bytes / 4096),
    ] {
        sqlx::query(&pragma).execute(&mut conn).await.unwrap();
    }
    conn
}

/// Fills the database up to its cap: big rows, then smaller ones, until even a
/// small row no longer fits.
async fn fill(url: &str, max_bytes: u64) {
    let mut conn = filler_connection(url, max_bytes).await;
    sqlx::query("CREATE TABLE filler (b BLOB)")
        .execute(&mut conn)
        .await
        .unwrap();
    for size in [1 << 20, 64 << 10, 4 << 10, 512] {
        // Bounded: the cap holds at most 64 MiB / 512 B rows.
        for _ in 0..(max_bytes / size) + 1 {
            let inserted = sqlx::query("INSERT INTO filler VALUES (zeroblob($1))")
                .bind(i64::try_from(size).unwrap())
                .execute(&mut conn)
                .await;
            match inserted {
                Ok(_) => {}
                Err(e) if e.to_string().contains("full") => break,
                Err(e) => panic!("filling the database: {e}"),
            }
        }
    }
}

/// A Postgres server of the test's own, stopped (`pg_ctl stop -m fast`: sessions
/// cut mid-transaction) and started again while the load runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_load_loses_nothing_and_answers_503_meanwhile() {
    let pg = Throwaway::start().unwrap_or_else(|e| {
        panic!("this test runs its own PostgreSQL server and could not start one: {e}")
    });
    let db = postgres_on(&pg.url()).await;
    let mut config = db.config();
    // Requests wait for the database a third of this (1 s) before their 503.
    config.request_timeout = Duration::from_secs(3);
    let pg = &pg;
    under_load(
        "Postgres stopped and started",
        &config,
        async || tokio::task::block_in_place(|| pg.stop()).unwrap(),
        async || tokio::task::block_in_place(|| pg.start_again()).unwrap(),
    )
    .await;
}
