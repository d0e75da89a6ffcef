//! Under concurrent load, every accepted ping is stored: rows equal 200s.
//! (Throughput is measured by `cargo xtask bench`, never asserted here.)

mod common;

use common::*;
use ff_telemetry_collector::loadgen::{LoadConfig, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_ping_is_stored() {
    for db in databases("load_count_check").await {
        let running = Running::start(&db.config()).await;
        let mut load = LoadConfig::new(running.addr, 2_000);
        load.n_connections = 16;
        let report = run(&load).await;
        assert_eq!(
            (report.n_accepted, report.n_refused, report.n_failed),
            (2_000, 0, 0),
            "{}",
            db.name
        );
        assert_eq!(running.state.n_pings().await.unwrap(), 2_000, "{}", db.name);
        assert!(report.p50 <= report.p99);
        running.stop().await;
    }
}
