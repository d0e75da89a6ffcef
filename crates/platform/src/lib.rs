//! A small FlowFuse-style reference platform: users, teams, Node-RED instances,
//! devices and the rest of what the usage ping counts, in SQLite or Postgres. It
//! links `ff-telemetry-backend` exactly as a real platform would, so every number in
//! the ping comes from a real database.
//!
//! It manages nothing: there are no Node-RED processes, only the tables.
//!
//! # Concepts
//!
//! - [`config::load_flowforge_yml`]: the whole `flowforge.yml`, every problem at once.
//! - [`Db`]: the database (SQLite file by default, `postgres://` when given), migrated
//!   on open; it implements the backend's `SettingsStore` and `StatsProvider`.
//! - [`Platform`]: open it, [`Platform::router`] it, start the ping scheduler.
//! - [`setup`]: the first-run setup API (first administrator, telemetry choice).
//! - [`seed()`]: bulk demo data of any size.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ff_platform::{Platform, StartOptions, config::load_flowforge_yml};
//! let file = load_flowforge_yml("port: 0\nadmin: {token: s3cret}\n")?;
//! let platform = Platform::open(&file, &StartOptions::default()).await?;
//! let _scheduler = platform.telemetry().spawn_scheduler()?;
//! let listener = tokio::net::TcpListener::bind(("127.0.0.1", file.platform.port)).await?;
//! platform.serve(listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod app;
pub mod config;
mod db;
pub mod password;
mod routes;
mod seed;
pub mod setup;

pub use app::{PLATFORM_VERSION, Platform, PlatformError, StartOptions};
pub use db::{Db, DbError, Engine, NewAdmin};
pub use seed::{SeedSpec, seed};
