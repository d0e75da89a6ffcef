//! Ping gathering: seeds a platform database in bulk, then times building the usage
//! ping's payload (every count the ping carries) several times. Prints one JSON object.
//!
//! `ping_gathering [--users N] [--devices N] [--teams N] [--runs R] [--postgres SERVER_URL]`
//! (SQLite in a temporary folder unless `--postgres` is given).
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use ff_platform::config::load_flowforge_yml;
use ff_platform::{Platform, SeedSpec, StartOptions, seed};
use ff_telemetry_bench::{Flags, bench_database, millis, now, percentile};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<()> {
    let flags = Flags::from_env();
    let users = flags.number("users", 1_000_000)?;
    let devices = flags.number("devices", 100_000)?;
    let teams = flags.number("teams", 10_000)?;
    let runs = flags.number("runs", 7)?.max(1);
    let dir = tempfile::tempdir()?;
    let (engine, url) =
        bench_database(&flags, dir.path(), "ff_bench_platform", "platform.db").await?;
    let yml = format!("db: {{url: '{url}'}}\nadmin: {{token: bench}}\n");
    let file = load_flowforge_yml(&yml).map_err(|e| anyhow::anyhow!("{e}"))?;
    let platform = Platform::open(&file, &StartOptions::default()).await?;

    // Everything else in the proportions of a platform with that many teams.
    let spec = SeedSpec {
        users,
        devices,
        ..SeedSpec::scaled(teams.saturating_sub(1) * 3)
    };
    let seeding = Instant::now();
    seed(platform.db(), &spec, now()).await?;
    let seed_time = seeding.elapsed();

    let mut times = Vec::new();
    let mut counted_users = None;
    for _ in 0..runs {
        let started = Instant::now();
        let payload = platform.telemetry().payload(now()).await?;
        times.push(started.elapsed());
        counted_users = payload
            .platform
            .and_then(|p| p.counts)
            .and_then(|c| c.users);
    }
    let counted_users = counted_users.context("the payload has no users count")?;
    ensure!(
        counted_users == users,
        "the payload counts {counted_users} users, {users} were seeded"
    );
    let first = times[0];
    let report = json!({
        "engine": engine,
        "users": users,
        "devices": devices,
        "teams": spec.teams,
        "seed_seconds": seed_time.as_secs_f64(),
        "runs": runs,
        "first_ms": millis(first),
        "median_ms": millis(percentile(&mut times, 50)),
        "max_ms": millis(times.iter().copied().max().unwrap_or(Duration::ZERO)),
    });
    println!("{report}");
    Ok(())
}
