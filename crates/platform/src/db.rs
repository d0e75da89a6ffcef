//! The platform database: SQLite (a file under the data directory) or Postgres, one
//! code path through sqlx's `Any` driver, with a migration set per engine.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use ff_telemetry_backend::{SettingsStore, StatsProvider, StoreError, keys};
use ff_telemetry_wire::UnixMs;
use ff_telemetry_wire::ping::{Counts, DevicesByLastSeen, ProjectsByState};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions, Row};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// An embedded SQLite file.
    Sqlite,
    /// A Postgres server.
    Postgres,
}

/// Why the database could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Connecting or querying failed.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names neither SQLite nor Postgres.
    #[error("database URL must start with postgres:// or sqlite:, found {0:?}")]
    UnsupportedUrl(String),
    /// The data directory could not be created.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A connection pool to the platform database, migrated.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
}

impl Db {
    /// Opens (creating if needed) and migrates the database at `url`.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let engine = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        // Bulk seeding runs statements of several seconds on purpose: not worth a warning.
        let options = AnyConnectOptions::from_str(url)?
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
        let pool = AnyPoolOptions::new()
            .max_connections(match engine {
                // One writer at a time anyway; a few readers beside it.
                Engine::Sqlite => 4,
                Engine::Postgres => 8,
            })
            .connect_with(options)
            .await?;
        if engine == Engine::Sqlite {
            // WAL lets readers run beside the writer; the busy timeout makes writers
            // wait for each other instead of failing.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        match engine {
            Engine::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Engine::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(Db { pool, engine })
    }

    /// Opens the default SQLite file `platform.db` under `data_dir`, creating both.
    pub async fn open_in_data_dir(data_dir: &Path) -> Result<Db, DbError> {
        std::fs::create_dir_all(data_dir).map_err(|source| DbError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let file = data_dir.join("platform.db");
        Db::connect(&format!("sqlite://{}?mode=rwc", file.display())).await
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The pool, for queries of the platform's own.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs one `SELECT COUNT(*)` (a fixed query from this crate, never user input).
    async fn count(&self, sql: &'static str, bind: Option<i64>) -> Result<Option<u64>, StoreError> {
        let mut query = sqlx::query(sql);
        if let Some(value) = bind {
            query = query.bind(value);
        }
        let row = query.fetch_one(&self.pool).await.map_err(store_error)?;
        let n: i64 = row.try_get(0).map_err(store_error)?;
        Ok(Some(u64::try_from(n).unwrap_or(0)))
    }

    /// Marks the first-run setup as done, as FlowFuse's setup wizard does. Returns
    /// `false` when it already was.
    pub async fn mark_initialised(&self) -> Result<bool, StoreError> {
        claim_initialised(&self.pool).await.map_err(store_error)
    }

    /// Completes the first-run setup in one transaction: marks the platform
    /// initialised, creates the first administrator (`password_hash` is a PHC
    /// string, never a password) and stores the admin telemetry setting. Returns
    /// `false`, having written nothing, when setup was already done. If any statement
    /// fails, nothing is written and setup stays pending.
    pub async fn complete_setup(
        &self,
        admin: &NewAdmin<'_>,
        telemetry_enabled: bool,
        now: UnixMs,
    ) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await?;
        // The claim comes first: a concurrent setup waits on this row and then finds
        // it taken, so exactly one request completes the setup.
        if !claim_initialised(&mut *tx).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO users (username, email, admin, created_at, password_hash) \
             VALUES ($1, $2, 1, $3, $4)",
        )
        .bind(admin.name)
        .bind(admin.email)
        .bind(i64::try_from(now.0).unwrap_or(i64::MAX))
        .bind(admin.password_hash)
        .execute(&mut *tx)
        .await?;
        upsert_setting(
            &mut *tx,
            keys::TELEMETRY_ENABLED,
            if telemetry_enabled { "true" } else { "false" },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// The first administrator, as [`Db::complete_setup`] stores it.
#[derive(Debug, Clone, Copy)]
pub struct NewAdmin<'a> {
    /// The name (also the username).
    pub name: &'a str,
    /// The email address.
    pub email: &'a str,
    /// The password's hash (see [`crate::password::hash_password`]).
    pub password_hash: &'a str,
}

/// Sets `setup:initialised` to `true` unless it already is; returns whether it
/// changed.
async fn claim_initialised<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, 'true') \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE settings.value <> 'true'",
    )
    .bind(keys::INITIALISED)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

async fn upsert_setting<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    key: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(executor)
    .await?;
    Ok(())
}

fn store_error(e: sqlx::Error) -> StoreError {
    StoreError(e.to_string())
}

#[async_trait]
impl SettingsStore for Db {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.map(|r| r.try_get::<String, _>(0))
            .transpose()
            .map_err(store_error)
    }

    async fn put(&self, key: &str, value: &str) -> Result<(), StoreError> {
        upsert_setting(&self.pool, key, value)
            .await
            .map_err(store_error)
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError> {
        let result = match expected {
            None => sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(new)
            .execute(&self.pool)
            .await,
            Some(expected) => {
                sqlx::query("UPDATE settings SET value = $1 WHERE key = $2 AND value = $3")
                    .bind(new)
                    .bind(key)
                    .bind(expected)
                    .execute(&self.pool)
                    .await
            }
        };
        Ok(result.map_err(store_error)?.rows_affected() == 1)
    }
}

#[async_trait]
impl StatsProvider for Db {
    async fn counts(&self, now: UnixMs) -> Result<Counts, StoreError> {
        let day_ago = i64::try_from(now.0.saturating_sub(UnixMs::DAY)).unwrap_or(i64::MAX);
        let count = |sql: &'static str| self.count(sql, None);
        Ok(Counts {
            users: count("SELECT COUNT(*) FROM users").await?,
            teams: count("SELECT COUNT(*) FROM teams").await?,
            projects: count("SELECT COUNT(*) FROM projects").await?,
            devices: count("SELECT COUNT(*) FROM devices").await?,
            project_snapshots: count("SELECT COUNT(*) FROM project_snapshots").await?,
            // FlowFuse swaps these two; here each counts its own table.
            project_templates: count("SELECT COUNT(*) FROM project_templates").await?,
            project_stacks: count("SELECT COUNT(*) FROM project_stacks").await?,
            library_entries: count("SELECT COUNT(*) FROM library_entries").await?,
            shared_library_entries: count("SELECT COUNT(*) FROM shared_library_entries").await?,
            blueprints: count("SELECT COUNT(*) FROM blueprints").await?,
            team_broker_clients: count("SELECT COUNT(*) FROM team_broker_clients").await?,
            remote_brokers: count("SELECT COUNT(*) FROM remote_broker_credentials").await?,
            projects_by_state: Some(ProjectsByState {
                suspended: count("SELECT COUNT(*) FROM projects WHERE state = 'suspended'").await?,
            }),
            devices_by_last_seen: Some(DevicesByLastSeen {
                never: count("SELECT COUNT(*) FROM devices WHERE last_seen_at IS NULL").await?,
                day: self
                    .count(
                        "SELECT COUNT(*) FROM devices WHERE last_seen_at >= $1",
                        Some(day_ago),
                    )
                    .await?,
            }),
        })
    }
}
