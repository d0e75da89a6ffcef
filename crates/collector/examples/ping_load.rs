//! Manual throughput check until `cargo xtask bench` drives the load generator:
//! `cargo run --release -p ff-telemetry-collector --example ping_load -- [N] [CONNECTIONS] [DATABASE_URL]`
#![allow(clippy::print_stdout)]

use ff_telemetry_collector::loadgen::{LoadConfig, run};
use ff_telemetry_collector::{Collector, CollectorConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n_requests: usize = args.next().map_or(Ok(50_000), |a| a.parse())?;
    let n_connections: usize = args.next().map_or(Ok(64), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let mut config = CollectorConfig::new(dir.path());
    config.listen = "127.0.0.1:0".parse()?;
    config.database_url = args.next();
    let collector = Collector::bind(&config).await?;
    let addr = collector.local_addr();
    let state = collector.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(collector.run_until(async {
        let _ = stopped.await;
    }));
    let stored_before = state.n_pings().await?;
    let mut load = LoadConfig::new(addr, n_requests);
    load.n_connections = n_connections;
    let report = run(&load).await;
    let stored = state.n_pings().await? - stored_before;
    println!(
        "{} pings over {} connections: {:.0} req/s, p50 {:?}, p99 {:?}; accepted {}, refused {}, failed {}, stored {}",
        n_requests,
        n_connections,
        report.requests_per_sec(),
        report.p50,
        report.p99,
        report.n_accepted,
        report.n_refused,
        report.n_failed,
        stored
    );
    let _ = stop.send(());
    server.await??;
    Ok(())
}
