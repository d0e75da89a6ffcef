//! Collector ingest: `POST /ping` over loopback, against the same pings through the
//! same handler and storage in-process (no sockets, no HTTP parsing), the ceiling
//! HTTP ingest is compared with. The two alternate in rounds so a busy machine
//! slows both alike. Prints one JSON object.
//!
//! `collector_ingest [--seconds S] [--rounds R] [--connections C] [--postgres SERVER_URL]`
//! (S seconds per mode in total; SQLite in a temporary folder unless `--postgres`
//! is given).
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
const CALIBRATION_REQUESTS: usize = 2_000;
/// Distinct instances the pings cycle through (as the load generator does).
const N_INSTANCES: usize = 10;

#[tokio::main]
async fn main() -> Result<()> {
    let flags = Flags::from_env();
    let seconds = flags.number("seconds", 10)?;
    let rounds = u32::try_from(flags.number("rounds", 4)?.max(1))?;
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

    // Warms the database up and sizes the load generator's fixed-count runs.
    let calibration = over_http(&state, addr, connections, CALIBRATION_REQUESTS).await?;
    ensure!(
        calibration.accepted > 0,
        "the collector accepted no ping during calibration"
    );
    let round = Duration::from_secs(seconds) / rounds;
    let per_round =
        (calibration.requests as f64 / calibration.seconds * round.as_secs_f64()).ceil() as usize;
    let (mut http, mut direct) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        http.push(over_http(&state, addr, connections, per_round).await?);
        direct.push(in_process(&state, connections, round).await?);
    }
    let _ = stop.send(());
    server.await??;

    let report = json!({
        "engine": engine,
        "connections": connections,
        "rounds": rounds,
        "http": summary(&http),
        "in_process": summary(&direct),
    });
    println!("{report}");
    Ok(())
}

/// One timed run of either mode.
struct Round {
    requests: usize,
    accepted: usize,
    failed: usize,
    stored: i64,
    seconds: f64,
    p50: Duration,
    p99: Duration,
}

/// Totals over the rounds; latencies are the median of the rounds' percentiles.
fn summary(rounds: &[Round]) -> Value {
    let total = |f: fn(&Round) -> usize| rounds.iter().map(f).sum::<usize>();
    let seconds: f64 = rounds.iter().map(|r| r.seconds).sum();
    let mut p50: Vec<Duration> = rounds.iter().map(|r| r.p50).collect();
    let mut p99: Vec<Duration> = rounds.iter().map(|r| r.p99).collect();
    json!({
        "requests": total(|r| r.requests),
        "accepted": total(|r| r.accepted),
        "failed": total(|r| r.failed),
        "stored": rounds.iter().map(|r| r.stored).sum::<i64>(),
        "seconds": seconds,
        "requests_per_sec": total(|r| r.requests) as f64 / seconds.max(1e-9),
        "p50_ms": millis(percentile(&mut p50, 50)),
        "p99_ms": millis(percentile(&mut p99, 50)),
    })
}

/// `n_requests` pings from the load generator (which sends a fixed count).
async fn over_http(
    state: &AppState,
    addr: SocketAddr,
    connections: usize,
    n_requests: usize,
) -> Result<Round> {
    let mut load = LoadConfig::new(addr, n_requests);
    load.n_connections = connections;
    let before = state.n_pings().await?;
    let report = loadgen::run(&load).await;
    let stored = state.n_pings().await? - before;
    Ok(Round {
        requests: report.n_accepted + report.n_refused,
        accepted: report.n_accepted,
        failed: report.n_failed,
        stored,
        seconds: report.elapsed.as_secs_f64(),
        p50: report.p50,
        p99: report.p99,
    })
}

/// `connections` tasks call the collector's router directly, back to back, until
/// `duration` has passed.
async fn in_process(state: &AppState, connections: usize, duration: Duration) -> Result<Round> {
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
                let mut accepted = 0usize;
                let mut i = task;
                while Instant::now() < deadline {
                    let request = Request::post("/ping")
                        .header("content-type", "application/json")
                        .body(Body::from(bodies[i % bodies.len()].clone()))?;
                    let sent = Instant::now();
                    let response = app.clone().oneshot(request).await?;
                    latencies.push(sent.elapsed());
                    if response.status() == StatusCode::OK {
                        accepted += 1;
                    }
                    i += 1;
                }
                anyhow::Ok((latencies, accepted))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut accepted = 0;
    for task in tasks {
        let (part, part_accepted) = task.await.context("an in-process task panicked")??;
        latencies.extend(part);
        accepted += part_accepted;
    }
    let seconds = started.elapsed().as_secs_f64();
    let stored = state.n_pings().await? - before;
    Ok(Round {
        requests: latencies.len(),
        accepted,
        failed: 0,
        stored,
        seconds,
        p50: percentile(&mut latencies, 50),
        p99: percentile(&mut latencies, 99),
    })
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
                "fileStore": {"enabled": n.is_multiple_of(2)},
                "email": {"enabled": false}
            },
            "license": {"type": "CE"}
        }
    })
    .to_string()
}
