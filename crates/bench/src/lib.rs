//! Shared plumbing of the benchmark binaries `cargo xtask bench` runs: flag parsing,
//! a fresh Postgres database per benchmark, and percentiles. Each binary prints one
//! JSON object on stdout and nothing else there.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use ff_telemetry_wire::UnixMs;
use sqlx::Connection;

/// `--name value` flags, looked up by name.
#[derive(Debug, Clone)]
pub struct Flags(Vec<String>);

impl Flags {
    /// The process's arguments.
    pub fn from_env() -> Self {
        Flags(std::env::args().skip(1).collect())
    }

    /// The value after `--name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        let flag = format!("--{name}");
        let at = self.0.iter().position(|a| *a == flag)?;
        self.0.get(at + 1).map(String::as_str)
    }

    /// The value after `--name` parsed, or `default` when absent.
    ///
    /// ```
    /// let flags = ff_telemetry_bench::Flags::new(["--users", "10"]);
    /// assert_eq!(flags.number("users", 5).unwrap(), 10);
    /// assert_eq!(flags.number("teams", 5).unwrap(), 5);
    /// ```
    pub fn number(&self, name: &str, default: u64) -> Result<u64> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .replace('_', "")
                .parse()
                .with_context(|| format!("--{name} {v:?} is not a whole number")),
        }
    }

    /// Flags from a list (for tests and examples).
    pub fn new<const N: usize>(args: [&str; N]) -> Self {
        Flags(args.iter().map(|a| (*a).to_owned()).collect())
    }
}

/// Creates a new, empty database `name` on the server of `server_url` (a
/// `postgres://…/postgres` URL) and returns the URL of the new database, so each
/// benchmark starts from nothing.
pub async fn fresh_postgres_database(server_url: &str, name: &str) -> Result<String> {
    if !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        bail!("database name {name:?} must be lower-case letters and underscores");
    }
    let mut admin = sqlx::PgConnection::connect(server_url)
        .await
        .with_context(|| format!("connecting to {server_url}"))?;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .await?;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let (base, _) = server_url
        .rsplit_once('/')
        .context("the Postgres URL has no database path")?;
    Ok(format!("{base}/{name}"))
}

/// The database a benchmark runs on: a fresh database `name` on the server given by
/// `--postgres SERVER_URL`, else the SQLite file `file` in `dir`. Returns the
/// engine's name (`postgres` or `sqlite`) and the database URL.
pub async fn bench_database(
    flags: &Flags,
    dir: &std::path::Path,
    name: &str,
    file: &str,
) -> Result<(&'static str, String)> {
    Ok(match flags.get("postgres") {
        Some(server) => ("postgres", fresh_postgres_database(server, name).await?),
        None => (
            "sqlite",
            format!("sqlite://{}?mode=rwc", dir.join(file).display()),
        ),
    })
}

/// The wall clock as the project's time type.
pub fn now() -> UnixMs {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UnixMs(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
}

/// The `p`-th percentile (0–100) of `samples`, nearest rank; zero when empty.
///
/// ```
/// use std::time::Duration;
/// let ms = |n| Duration::from_millis(n);
/// let mut samples = vec![ms(5), ms(1), ms(3)];
/// assert_eq!(ff_telemetry_bench::percentile(&mut samples, 50), ms(3));
/// assert_eq!(ff_telemetry_bench::percentile(&mut samples, 100), ms(5));
/// ```
pub fn percentile(samples: &mut [Duration], p: usize) -> Duration {
    samples.sort_unstable();
    let last = samples.len().saturating_sub(1);
    samples
        .get((samples.len() * p / 100).min(last))
        .copied()
        .unwrap_or_default()
}

/// Milliseconds with microsecond precision, for JSON.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
