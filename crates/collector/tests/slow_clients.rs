//! Idle and slow clients cannot hold the collector: a connection has
//! `header_timeout` to send each request's headers, then the collector closes it;
//! while such connections are open, others are served; beyond `max_connections`,
//! new connections wait their turn instead of being refused.

mod common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use common::*;
use ff_telemetry_collector::loadgen::{SlowClient, hold_connection};

const HEADER_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a test waits for the collector to close a connection before failing.
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_do_not_block_others_and_are_closed_after_the_header_timeout() {
    let db = sqlite();
    let mut config = db.config();
    config.header_timeout = HEADER_TIMEOUT;
    let running = Running::start(&config).await;
    let slow: Vec<_> = (0..300)
        .map(|i| {
            let client = SlowClient::nth(i);
            (
                client,
                tokio::spawn(hold_connection(running.addr, client, PATIENCE)),
            )
        })
        .collect();

    // While all of them are connected, a normal client is served.
    let asked = Instant::now();
    assert_eq!(running.post_ping().await, 200);
    let served_in = asked.elapsed();

    let mut closed_after = Vec::new();
    for (client, task) in slow {
        let after = task.await.unwrap().unwrap();
        let after = after.unwrap_or_else(|| panic!("a {client:?} connection was never closed"));
        closed_after.push(after);
    }
    closed_after.sort_unstable();
    assert_eq!(running.state.n_pings().await.unwrap(), 1);
    let _ = writeln!(
        std::io::stderr(),
        "figures: 300 idle, trickling and kept-alive connections: a normal ping answered in \
         {served_in:?} among them; all 300 closed by the collector {:?}–{:?} after connecting \
         (header timeout {HEADER_TIMEOUT:?})",
        closed_after[0],
        closed_after[closed_after.len() - 1]
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_beyond_the_bound_waits_and_is_served_once_one_closes() {
    let db = sqlite();
    let mut config = db.config();
    config.header_timeout = HEADER_TIMEOUT;
    config.max_connections = 2;
    let running = Running::start(&config).await;
    let idle: Vec<_> = (0..2)
        .map(|_| tokio::spawn(hold_connection(running.addr, SlowClient::Idle, PATIENCE)))
        .collect();
    // Both slots are taken by idle connections; this one is served once the header
    // timeout frees one of them.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let asked = Instant::now();
    let answer = http().get(running.url("/api/health")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let waited = asked.elapsed();
    for task in idle {
        assert!(
            task.await.unwrap().unwrap().is_some(),
            "an idle connection stayed open"
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "figures: with max_connections 2 held by idle clients, a third was answered after \
         {waited:?} (header timeout {HEADER_TIMEOUT:?})"
    );
    running.stop().await;
}
