//! Storage on SQLite or Postgres through one code path (sqlx `Any`), with group commit.
//!
//! Every write goes through one writer task. Handlers send their rows over a bounded
//! channel and wait for the commit; the writer takes whatever has queued up while the
//! previous transaction was committing and writes it in one transaction. So a request
//! is answered 200 only once its rows are durably committed, and under load one
//! commit (one fsync) covers hundreds of requests. On SQLite, one writer also means no
//! lock contention: readers use WAL snapshots alongside it.

use std::str::FromStr;
use std::time::Duration;

use ff_telemetry_wire::UnixMs;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection as _, Executor, Row as _};
use tokio::sync::{mpsc, oneshot};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How many write requests may wait for the writer before handlers wait to enqueue.
const WRITE_QUEUE_LEN: usize = 8_192;
/// The most rows one transaction takes, so one huge batch cannot starve the rest.
const MAX_ROWS_PER_COMMIT: usize = 4_000;

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL (expected sqlite://… or postgres://…): {0}")]
    UnsupportedUrl(String),
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The writer task has stopped (the collector is shutting down).
    #[error("the database writer has stopped")]
    WriterGone,
    /// A commit failed; every request in that commit gets this.
    #[error("commit failed: {0}")]
    Commit(String),
}

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// PostHog capture.
    Posthog,
    /// A Sentry envelope item.
    Sentry,
}

impl Source {
    /// `posthog` or `sentry`, as stored and as in the query API.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Posthog => "posthog",
            Source::Sentry => "sentry",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "posthog" => Some(Source::Posthog),
            "sentry" => Some(Source::Sentry),
            _ => None,
        }
    }
}

/// A usage ping about to be stored.
#[derive(Debug, Clone)]
pub(crate) struct NewPing {
    pub received_at: UnixMs,
    pub instance_id: String,
    pub ip_hash: String,
    /// The payload as kept, JSON text.
    pub payload: String,
    pub n_dropped_fields: i64,
    pub platform_version: Option<String>,
    pub os_type: Option<String>,
    pub license_type: Option<String>,
    pub broker_enabled: Option<i64>,
    pub file_store_enabled: Option<i64>,
    pub email_enabled: Option<i64>,
}

/// A PostHog event or Sentry item about to be stored.
#[derive(Debug, Clone)]
pub(crate) struct NewEvent {
    pub source: Source,
    pub received_at: UnixMs,
    pub name: String,
    pub distinct_id: Option<String>,
    pub token: Option<String>,
    pub project_id: Option<String>,
    /// A one-line summary (Sentry errors).
    pub message: Option<String>,
    /// PostHog properties or Sentry item payload, JSON text.
    pub body: String,
}

#[derive(Debug)]
pub(crate) enum NewRow {
    Ping(NewPing),
    Event(NewEvent),
}

/// A stored ping as the query API returns it.
#[derive(Debug, Clone)]
pub(crate) struct PingRow {
    pub received_at: UnixMs,
    pub instance_id: String,
    pub ip_hash: String,
    pub payload: String,
    pub platform_version: Option<String>,
    pub os_type: Option<String>,
    pub license_type: Option<String>,
}

/// A stored event as the query API returns it.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub source: String,
    pub received_at: UnixMs,
    pub name: String,
    pub distinct_id: Option<String>,
    pub message: Option<String>,
    pub body: String,
}

/// A label and how many there are of it.
pub(crate) type Tally = Vec<(String, i64)>;

/// Everything the dashboard shows, read in one go.
#[derive(Debug, Clone, Default)]
pub(crate) struct DashboardData {
    /// (day number since the epoch, distinct instances that pinged that day).
    pub active_by_day: Vec<(i64, i64)>,
    pub n_instances: i64,
    pub versions: Tally,
    pub os_types: Tally,
    pub licenses: Tally,
    /// broker, file store, email: instances with the feature on.
    pub features: [i64; 3],
    pub latest_pings: Vec<PingRow>,
    pub posthog_by_name: Vec<(String, i64, UnixMs)>,
    pub sentry_errors: Vec<EventRow>,
    pub sentry_by_type: Tally,
}

/// How the store waits and how large it may grow.
#[derive(Debug, Clone)]
pub(crate) struct StoreOptions {
    /// The longest a read or a commit waits for a database connection (while the
    /// database is down, for instance).
    pub db_wait: Duration,
    /// The SQLite file's cap in bytes, if any.
    pub sqlite_max_bytes: Option<u64>,
}

struct WriteJob {
    rows: Vec<NewRow>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The database: a read pool and the single writer's queue.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pool: AnyPool,
    writer: mpsc::Sender<WriteJob>,
}

impl Store {
    /// Connects, migrates and starts the writer task. A request waits for a
    /// database connection at most `db_wait` (then its rows are refused with an
    /// error, never left queued); `sqlite_max_bytes` caps the SQLite file.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (migrator, max_connections) = if url.starts_with("sqlite:") {
            (&SQLITE_MIGRATIONS, 4)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (&POSTGRES_MIGRATIONS, 8)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let connect_options = AnyConnectOptions::from_str(url)?;
        let sqlite_max_bytes = options.sqlite_max_bytes;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(options.db_wait)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        // WAL lets readers run beside the writer; FULL makes each
                        // commit durable before the request is answered.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA busy_timeout = 5000",
                        ] {
                            conn.execute(pragma).await?;
                        }
                        if let Some(max_bytes) = sqlite_max_bytes {
                            let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
                                .fetch_one(&mut *conn)
                                .await?;
                            let max_pages = max_bytes / u64::try_from(page_size).unwrap_or(4096);
                            // A per-connection setting, so every connection sets it.
                            conn.execute(format!("PRAGMA max_page_count = {max_pages}").as_str())
                                .await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(connect_options)
            .await?;
        migrator.run(&pool).await?;
        let (writer, jobs) = mpsc::channel(WRITE_QUEUE_LEN);
        tokio::spawn(run_writer(pool.clone(), jobs));
        Ok(Store { pool, writer })
    }

    /// Stores the rows and returns once they are committed.
    pub async fn write(&self, rows: Vec<NewRow>) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let (done, committed) = oneshot::channel();
        self.writer
            .send(WriteJob { rows, done })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        committed
            .await
            .map_err(|_| StoreError::WriterGone)?
            .map_err(StoreError::Commit)
    }

    /// Waits for every connection to come back and closes them (SQLite checkpoints
    /// its WAL into the database file). Later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Pings, newest first.
    pub async fn pings(
        &self,
        limit: i64,
        since: Option<UnixMs>,
    ) -> Result<Vec<PingRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT received_at, instance_id, ip_hash, payload, platform_version, os_type, license_type \
             FROM pings WHERE received_at >= $1 ORDER BY received_at DESC, id DESC LIMIT $2",
        )
        .bind(since.map_or(0, ms_i64))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ping_row).collect()
    }

    /// Events, newest first, optionally of one source and one name.
    pub async fn events(
        &self,
        source: Option<Source>,
        name: Option<&str>,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT source, received_at, name, distinct_id, message, body FROM events \
             WHERE ($1 = '' OR source = $1) AND ($2 = '' OR name = $2) \
             ORDER BY received_at DESC, id DESC LIMIT $3",
        )
        .bind(source.map_or("", Source::as_str))
        .bind(name.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_row).collect()
    }

    /// How many pings are stored.
    pub async fn n_pings(&self) -> Result<i64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pings")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// How many events (PostHog events and Sentry items) are stored.
    pub async fn n_events(&self) -> Result<i64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// The dashboard's figures for the 30 days up to `now`.
    pub async fn dashboard(&self, now: UnixMs) -> Result<DashboardData, StoreError> {
        let since = ms_i64(UnixMs(now.0.saturating_sub(29 * UnixMs::DAY))) / (UnixMs::DAY as i64)
            * (UnixMs::DAY as i64);
        let active_by_day = sqlx::query(
            "SELECT received_at / 86400000 AS day, COUNT(DISTINCT instance_id) AS n FROM pings \
             WHERE received_at >= $1 GROUP BY received_at / 86400000 ORDER BY day",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let features = sqlx::query(
            "SELECT COUNT(DISTINCT instance_id), \
             COUNT(DISTINCT CASE WHEN broker_enabled = 1 THEN instance_id END), \
             COUNT(DISTINCT CASE WHEN file_store_enabled = 1 THEN instance_id END), \
             COUNT(DISTINCT CASE WHEN email_enabled = 1 THEN instance_id END) \
             FROM pings WHERE received_at >= $1",
        )
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let latest = sqlx::query(
            "SELECT received_at, instance_id, ip_hash, payload, platform_version, os_type, license_type \
             FROM pings ORDER BY received_at DESC, id DESC LIMIT 12",
        )
        .fetch_all(&self.pool)
        .await?;
        let posthog_by_name = sqlx::query(
            "SELECT name, COUNT(*) AS n, MAX(received_at) FROM events \
             WHERE source = 'posthog' AND received_at >= $1 GROUP BY name ORDER BY n DESC, name LIMIT 15",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>(0)?,
                r.try_get::<i64, _>(1)?,
                unix_ms(r.try_get::<i64, _>(2)?),
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let errors = sqlx::query(
            "SELECT source, received_at, name, distinct_id, message, body FROM events \
             WHERE source = 'sentry' AND name IN ('event', 'transaction') \
             ORDER BY received_at DESC, id DESC LIMIT 10",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(DashboardData {
            active_by_day,
            n_instances: features.try_get(0)?,
            features: [
                features.try_get(1)?,
                features.try_get(2)?,
                features.try_get(3)?,
            ],
            versions: self.tally("platform_version", since).await?,
            os_types: self.tally("os_type", since).await?,
            licenses: self.tally("license_type", since).await?,
            latest_pings: latest.iter().map(ping_row).collect::<Result<_, _>>()?,
            posthog_by_name,
            sentry_errors: errors.iter().map(event_row).collect::<Result<_, _>>()?,
            sentry_by_type: self.sentry_types(since).await?,
        })
    }

    /// Distinct instances per value of a ping column. `column` is one of ours, never input.
    async fn tally(&self, column: &'static str, since: i64) -> Result<Tally, StoreError> {
        let sql = format!(
            "SELECT COALESCE({column}, 'unknown') AS label, COUNT(DISTINCT instance_id) AS n \
             FROM pings WHERE received_at >= $1 GROUP BY COALESCE({column}, 'unknown') \
             ORDER BY n DESC, label LIMIT 8"
        );
        tally_rows(sqlx::query(&sql).bind(since).fetch_all(&self.pool).await?)
    }

    async fn sentry_types(&self, since: i64) -> Result<Tally, StoreError> {
        tally_rows(
            sqlx::query(
                "SELECT name, COUNT(*) AS n FROM events WHERE source = 'sentry' AND received_at >= $1 \
                 GROUP BY name ORDER BY n DESC, name",
            )
            .bind(since)
            .fetch_all(&self.pool)
            .await?,
        )
    }
}

fn tally_rows(rows: Vec<sqlx::any::AnyRow>) -> Result<Tally, StoreError> {
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

fn ping_row(r: &sqlx::any::AnyRow) -> Result<PingRow, StoreError> {
    Ok(PingRow {
        received_at: unix_ms(r.try_get(0)?),
        instance_id: r.try_get(1)?,
        ip_hash: r.try_get(2)?,
        payload: r.try_get(3)?,
        platform_version: r.try_get(4)?,
        os_type: r.try_get(5)?,
        license_type: r.try_get(6)?,
    })
}

fn event_row(r: &sqlx::any::AnyRow) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        source: r.try_get(0)?,
        received_at: unix_ms(r.try_get(1)?),
        name: r.try_get(2)?,
        distinct_id: r.try_get(3)?,
        message: r.try_get(4)?,
        body: r.try_get(5)?,
    })
}

fn ms_i64(t: UnixMs) -> i64 {
    i64::try_from(t.0).unwrap_or(i64::MAX)
}

fn unix_ms(ms: i64) -> UnixMs {
    UnixMs(u64::try_from(ms).unwrap_or(0))
}

/// The writer task: takes a job, adds every job already queued (up to a row cap),
/// commits them in one transaction and answers each.
async fn run_writer(pool: AnyPool, mut jobs: mpsc::Receiver<WriteJob>) {
    while let Some(first) = jobs.recv().await {
        let mut n_rows = first.rows.len();
        let mut group = vec![first];
        while n_rows < MAX_ROWS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => {
                    n_rows += job.rows.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        // A requester that has gone (timed out, disconnected) will never be told its
        // rows were stored, so they are not: stored rows stay equal to 200 answers.
        group.retain(|job| !job.done.is_closed());
        if group.is_empty() {
            continue;
        }
        let result = commit(&pool, &group).await.map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(n_rows, error = %e, "commit failed");
        }
        for job in group {
            // The requester may have timed out and gone; nothing to do then.
            let _ = job.done.send(result.clone());
        }
    }
}

/// Writes the group in one transaction. After a failure the connection is closed
/// rather than returned to the pool, so the next commit starts on a fresh one: a
/// Postgres connection cut by a server restart, or a SQLite connection that could
/// only open the file read-only, is not reused once the database is back.
async fn commit(pool: &AnyPool, group: &[WriteJob]) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let result = insert_all(&mut conn, group).await;
    if result.is_err() {
        conn.close_on_drop();
    }
    result
}

async fn insert_all(conn: &mut AnyConnection, group: &[WriteJob]) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    for row in group.iter().flat_map(|job| &job.rows) {
        match row {
            NewRow::Ping(p) => {
                sqlx::query(
                    "INSERT INTO pings (received_at, instance_id, ip_hash, payload, n_dropped_fields, \
                     platform_version, os_type, license_type, broker_enabled, file_store_enabled, email_enabled) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(ms_i64(p.received_at))
                .bind(&p.instance_id)
                .bind(&p.ip_hash)
                .bind(&p.payload)
                .bind(p.n_dropped_fields)
                .bind(&p.platform_version)
                .bind(&p.os_type)
                .bind(&p.license_type)
                .bind(p.broker_enabled)
                .bind(p.file_store_enabled)
                .bind(p.email_enabled)
                .execute(&mut *tx)
                .await?;
            }
            NewRow::Event(e) => {
                sqlx::query(
                    "INSERT INTO events (source, received_at, name, distinct_id, token, project_id, message, body) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(e.source.as_str())
                .bind(ms_i64(e.received_at))
                .bind(&e.name)
                .bind(&e.distinct_id)
                .bind(&e.token)
                .bind(&e.project_id)
                .bind(&e.message)
                .bind(&e.body)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await
}
