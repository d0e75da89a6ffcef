//! Demo data of a chosen size, inserted in bulk: one `INSERT … SELECT` over a
//! number series per table (a recursive CTE in SQLite, `generate_series` in
//! Postgres), so a million users take seconds, not hours.

use ff_telemetry_wire::UnixMs;
use sqlx::Row;

use crate::db::{Db, DbError, Engine};

/// How many rows of each kind to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeedSpec {
    /// Users.
    pub users: u64,
    /// Teams.
    pub teams: u64,
    /// Node-RED instances; every fourth is suspended.
    pub projects: u64,
    /// Devices: a third never seen, a third seen an hour ago, a third a week ago.
    pub devices: u64,
    /// Instance snapshots.
    pub project_snapshots: u64,
    /// Instance templates.
    pub project_templates: u64,
    /// Instance stacks.
    pub project_stacks: u64,
    /// Team library entries.
    pub library_entries: u64,
    /// Shared library entries.
    pub shared_library_entries: u64,
    /// Blueprints (flow templates).
    pub blueprints: u64,
    /// Team broker clients.
    pub team_broker_clients: u64,
    /// Remote broker credentials.
    pub remote_brokers: u64,
}

impl SeedSpec {
    /// A platform of `users` users with everything else in plausible proportion.
    ///
    /// ```
    /// let spec = ff_platform::SeedSpec::scaled(1_000);
    /// assert_eq!((spec.users, spec.teams, spec.projects), (1_000, 334, 668));
    /// assert_ne!(spec.project_templates, spec.project_stacks);
    /// ```
    pub fn scaled(users: u64) -> Self {
        let teams = users / 3 + 1;
        let projects = teams * 2;
        SeedSpec {
            users,
            teams,
            projects,
            devices: projects * 3 / 2,
            project_snapshots: projects * 2,
            project_templates: 3,
            project_stacks: 2,
            library_entries: teams,
            shared_library_entries: teams / 2,
            blueprints: 5,
            team_broker_clients: teams,
            remote_brokers: teams / 4,
        }
    }
}

/// Adds `spec`'s rows to `db`, after any already there. `now` dates them.
pub async fn seed(db: &Db, spec: &SeedSpec, now: UnixMs) -> Result<(), DbError> {
    let teams_total = i64::try_from(spec.teams.max(1)).unwrap_or(i64::MAX);
    let projects_total = i64::try_from(spec.projects.max(1)).unwrap_or(i64::MAX);
    let tables: [(&str, &str, String, u64); 12] = [
        (
            "users",
            "username, email, admin, created_at",
            "'user' || n, 'user' || n || '@example.invalid', 0, $3".into(),
            spec.users,
        ),
        (
            "teams",
            "name, created_at",
            "'team' || n, $3".into(),
            spec.teams,
        ),
        (
            "projects",
            "team_id, name, state, created_at",
            format!(
                "1 + n % {teams_total}, 'instance' || n, \
                 CASE WHEN n % 4 = 0 THEN 'suspended' ELSE 'running' END, $3"
            ),
            spec.projects,
        ),
        (
            "devices",
            "team_id, name, last_seen_at",
            format!(
                "1 + n % {teams_total}, 'device' || n, \
                 CASE n % 3 WHEN 0 THEN NULL WHEN 1 THEN $3 - {} ELSE $3 - {} END",
                UnixMs::HOUR,
                7 * UnixMs::DAY
            ),
            spec.devices,
        ),
        (
            "project_snapshots",
            "project_id, name, created_at",
            format!("1 + n % {projects_total}, 'snapshot' || n, $3"),
            spec.project_snapshots,
        ),
        (
            "project_templates",
            "name",
            "'template' || n".into(),
            spec.project_templates,
        ),
        (
            "project_stacks",
            "name",
            "'stack' || n".into(),
            spec.project_stacks,
        ),
        (
            "library_entries",
            "team_id, name",
            format!("1 + n % {teams_total}, 'flow' || n"),
            spec.library_entries,
        ),
        (
            "shared_library_entries",
            "team_id, name",
            format!("1 + n % {teams_total}, 'shared-flow' || n"),
            spec.shared_library_entries,
        ),
        (
            "blueprints",
            "name",
            "'blueprint' || n".into(),
            spec.blueprints,
        ),
        (
            "team_broker_clients",
            "team_id, username",
            format!("1 + n % {teams_total}, 'client' || n"),
            spec.team_broker_clients,
        ),
        (
            "remote_broker_credentials",
            "team_id, host",
            format!("1 + n % {teams_total}, 'broker' || n || '.example.invalid'"),
            spec.remote_brokers,
        ),
    ];
    let now = i64::try_from(now.0).unwrap_or(i64::MAX);
    for (table, columns, values, n_rows) in tables {
        if n_rows == 0 {
            continue;
        }
        let after: i64 = sqlx::query(&format!("SELECT COALESCE(MAX(id), 0) FROM {table}"))
            .fetch_one(db.pool())
            .await?
            .try_get(0)?;
        let last = after.saturating_add(i64::try_from(n_rows).unwrap_or(i64::MAX));
        let sql = match db.engine() {
            // SQLite has no series function; a recursive CTE is its idiom.
            Engine::Sqlite => format!(
                "WITH RECURSIVE seq(n) AS (\
                   SELECT CAST($1 AS BIGINT) UNION ALL SELECT n + 1 FROM seq WHERE n < $2) \
                 INSERT INTO {table} ({columns}) SELECT {values} FROM seq"
            ),
            Engine::Postgres => format!(
                "INSERT INTO {table} ({columns}) SELECT {values} \
                 FROM generate_series(CAST($1 AS BIGINT), CAST($2 AS BIGINT)) AS seq(n)"
            ),
        };
        let mut query = sqlx::query(&sql).bind(after + 1).bind(last);
        if values.contains("$3") {
            query = query.bind(now);
        }
        query.execute(db.pool()).await?;
        tracing::debug!(table, n_rows, "seeded");
    }
    Ok(())
}
