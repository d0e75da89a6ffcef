//! Collector ingest: `POST /ping` over loopback for a fixed time, then the same
//! pings through the same handler and storage in-process (no sockets, no HTTP
//! parsing) as the ceiling HTTP ingest is compared against. Prints one JSON object.
//!
//! `collector_ingest [--seconds S] [--connections C] [--postgres SERVER_URL]`
//! (SQLite in a temporary folder unless `--postgres` is given).
#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use ff_telemetry_bench::{Flags, fresh_postgres_database, millis, percentile};
use ff_telemetry_collector::loadgen::{self, LoadConfig};
use ff_telemetry_collector::{AppState, Collector, CollectorConfig, router};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Requests of the calibration run that also warms the database up.
const CALIBRATION_REQUESTS: u64 = 2_000;
/// Distinct instances the pings cycle through (as the load generator does).
const N_INSTANCES: usize = 10;

#[tokio::main]
async fn main() -> Result<()> {
    let flags = Flags::from_env();
    let seconds = flags.number("seconds", 10)?;
    let connections = usize::try_from(flags.number("connections", 32)?)?;
    let dir = tempfile::tempdir()?;
    let mut config = CollectorConfig::new(dir.path());
    config.listen = "127.0.0.1:0".parse()?;
    let engine = match flags.get("postgres") {
        Some(server) => {
            config.database_url = Some(fresh_postgres_database(server, "ff_bench_ingest").await?);
            "postgres"
        }
        None => "sqlite",
    };
    let collector = Collector::bind(&config).await?;
    let addr = collector.local_addr();
    let state = collector.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(collector.run_until(async {
        let _ = stopped.await;
    }));

    let duration = Duration::from_secs(seconds);
    let http = over_http(&state, addr, connections, duration).await?;
    let in_process = in_process(&state, connections, duration).await?;
    let _ = stop.send(());
    server.await??;

    let report = json!({
        "engine": engine,
        "connections": connections,
        "http": http,
        "in_process": in_process,
    });
    println!("{report}");
    Ok(())
}

/// The load generator sends a fixed count, so a short calibration run sizes the
/// measured run to take about `duration`.
async fn over_http(
    state: &AppState,
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
) -> Result<Value> {
    let mut load = LoadConfig::new(addr, usize::try_from(CALIBRATION_REQUESTS)?);
    load.n_connections = connections;
    let calibration = loadgen::run(&load).await;
    ensure!(
        calibration.n_accepted > 0,
        "the collector accepted no ping during calibration ({calibration:?})"
    );
    load.n_requests = (calibration.requests_per_sec() * duration.as_secs_f64()).ceil() as usize;
    let before = state.n_pings().await?;
    let report = loadgen::run(&load).await;
    let stored = state.n_pings().await? - before;
    Ok(json!({
        "requests": load.n_requests,
        "accepted": report.n_accepted,
        "refused": report.n_refused,
        "failed": report.n_failed,
        "stored": stored,
        "seconds": report.elapsed.as_secs_f64(),
        "requests_per_sec": report.requests_per_sec(),
        "p50_ms": millis(report.p50),
        "p99_ms": millis(report.p99),
    }))
}

/// `connections` tasks call the collector's router directly, back to back, until
/// `duration` has passed.
async fn in_process(state: &AppState, connections: usize, duration: Duration) -> Result<Value> {
    let app = router(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
    let bodies: Vec<String> = (0..N_INSTANCES).map(ping_body).collect();
    let before = state.n_pings().await?;
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|task| {
            let app = app.clone();
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut refused = 0usize;
                let mut i = task;
                while Instant::now() < deadline {
                    let request = Request::post("/ping")
                        .header("content-type", "application/json")
                        .body(Body::from(bodies[i % bodies.len()].clone()))?;
                    let sent = Instant::now();
                    let response = app.clone().oneshot(request).await?;
                    latencies.push(sent.elapsed());
                    if response.status() != StatusCode::OK {
                        refused += 1;
                    }
                    i += 1;
                }
                anyhow::Ok((latencies, refused))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (part, part_refused) = task.await.context("an in-process task panicked")??;
        latencies.extend(part);
        refused += part_refused;
    }
    let elapsed = started.elapsed();
    let stored = state.n_pings().await? - before;
    let accepted = latencies.len() - refused;
    Ok(json!({
        "requests": latencies.len(),
        "accepted": accepted,
        "refused": refused,
        "stored": stored,
        "seconds": elapsed.as_secs_f64(),
        "requests_per_sec": latencies.len() as f64 / elapsed.as_secs_f64(),
        "p50_ms": millis(percentile(&mut latencies, 50)),
        "p99_ms": millis(percentile(&mut latencies, 99)),
    }))
}

/// A ping shaped like the documented example, for instance number `n`.
fn ping_body(n: usize) -> String {
    json!({
        "instanceId": format!("5db51f99-c6fb-4340-9c19-{:012x}", n),
        "os": {"type": "Linux", "release": "6.1.0", "arch": "x64"},
        "env": {"nodejs": "rust-1.95", "flowforge": "2.0.0"},
        "platform": {
            "counts": {"users": n + 1, "teams": 2, "projects": 4, "devices": 9},
            "config": {
                "driver": "localfs",
                "broker": {"enabled": true},
                "fileStore": {"enabled": n % 2 == 0},
                "email": {"enabled": false}
            },
            "license": {"type": "CE"}
        }
    })
    .to_string()
}
