//! A load generator for `cargo xtask bench` and the fault tests: keep-alive
//! HTTP/1.1 connections over loopback, each sending requests back to back. [`run`]
//! sends a fixed number of `POST /ping`; [`run_mixed`] sends pings, PostHog batches
//! and Sentry envelopes in turn for a time, and says how many rows its 2xx answers
//! vouch for, so a caller can check them against what was stored.
//!
//! The client is a minimal hand-written HTTP/1.1 writer and reader so the measured
//! cost is the collector's, not a client library's.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ff_telemetry_wire::ping::PingPayload;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What to send.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadConfig {
    /// The collector.
    pub target: SocketAddr,
    /// Concurrent keep-alive connections.
    pub n_connections: usize,
    /// Total pings to send, split across the connections.
    pub n_requests: usize,
    /// How many distinct instance ids the pings cycle through.
    pub n_instances: usize,
}

impl LoadConfig {
    /// 32 connections, 10 instances.
    pub fn new(target: SocketAddr, n_requests: usize) -> Self {
        LoadConfig {
            target,
            n_connections: 32,
            n_requests,
            n_instances: 10,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Requests answered 200.
    pub n_accepted: usize,
    /// Requests answered with any other status.
    pub n_refused: usize,
    /// Requests that got no answer (connection errors).
    pub n_failed: usize,
    /// Wall time for the whole run.
    pub elapsed: Duration,
    /// Median latency of answered requests.
    pub p50: Duration,
    /// 99th percentile latency of answered requests.
    pub p99: Duration,
}

impl LoadReport {
    /// Answered requests per second.
    pub fn requests_per_sec(&self) -> f64 {
        (self.n_accepted + self.n_refused) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Sends the pings and reports counts and latencies.
///
/// ```no_run
/// # async fn bench(addr: std::net::SocketAddr) {
/// use ff_telemetry_collector::loadgen::{LoadConfig, run};
/// let report = run(&LoadConfig::new(addr, 50_000)).await;
/// println!("{:.0} req/s, p99 {:?}", report.requests_per_sec(), report.p99);
/// # }
/// ```
pub async fn run(config: &LoadConfig) -> LoadReport {
    let n_connections = config.n_connections.max(1);
    let bodies: Vec<String> = (0..config.n_instances.max(1))
        .map(|i| ping_body(i as u128))
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n_connections);
    for conn_idx in 0..n_connections {
        let n = config.n_requests / n_connections
            + usize::from(conn_idx < config.n_requests % n_connections);
        let bodies = bodies.clone();
        let target = config.target;
        tasks.push(tokio::spawn(async move {
            one_connection(target, n, conn_idx, &bodies).await
        }));
    }
    let mut report = LoadReport::default();
    let mut latencies = Vec::with_capacity(config.n_requests);
    for task in tasks {
        if let Ok(part) = task.await {
            report.n_accepted += part.n_accepted;
            report.n_refused += part.n_refused;
            report.n_failed += part.n_failed;
            latencies.extend(part.latencies);
        }
    }
    report.elapsed = started.elapsed();
    latencies.sort_unstable();
    report.p50 = percentile(&latencies, 50);
    report.p99 = percentile(&latencies, 99);
    report
}

/// The `p`-th percentile (0–100) of sorted `latencies`, nearest rank; zero when empty.
fn percentile(latencies: &[Duration], p: usize) -> Duration {
    latencies
        .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

#[derive(Default)]
struct ConnReport {
    n_accepted: usize,
    n_refused: usize,
    n_failed: usize,
    latencies: Vec<Duration>,
}

async fn one_connection(
    target: SocketAddr,
    n_requests: usize,
    conn_idx: usize,
    bodies: &[String],
) -> ConnReport {
    let mut report = ConnReport::default();
    let mut stream = None;
    let mut buf = Vec::with_capacity(1024);
    for i in 0..n_requests {
        if stream.is_none() {
            stream = TcpStream::connect(target).await.ok();
        }
        let Some(s) = stream.as_mut() else {
            report.n_failed += 1;
            continue;
        };
        let body = &bodies[(conn_idx + i) % bodies.len()];
        let request = format!(
            "POST /ping HTTP/1.1\r\nHost: {target}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let sent = Instant::now();
        match exchange(s, request.as_bytes(), &mut buf).await {
            Some(status) => {
                report.latencies.push(sent.elapsed());
                if status == 200 {
                    report.n_accepted += 1;
                } else {
                    report.n_refused += 1;
                }
            }
            None => {
                report.n_failed += 1;
                stream = None;
            }
        }
    }
    report
}

/// Writes one request and reads one response; returns its status.
async fn exchange(stream: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) -> Option<u16> {
    stream.write_all(request).await.ok()?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..header_end]).ok()?;
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let content_length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < header_end + content_length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(status)
}

/// Mixed traffic for a while: each connection sends in turn a usage ping, a PostHog
/// batch of [`batch_len`](Self::batch_len) `$pageview` events and a Sentry envelope
/// holding one error event, back to back. Every event has an id of its own (PostHog
/// `uuid`, Sentry `event_id`), so none is a duplicate of another, in this run or any
/// other.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MixedLoad {
    /// The collector.
    pub target: SocketAddr,
    /// Concurrent keep-alive connections.
    pub n_connections: usize,
    /// The longest the run lasts (it also ends when its stop signal fires).
    pub duration: Duration,
    /// Events per PostHog batch.
    pub batch_len: usize,
    /// A Sentry project id the collector accepts envelopes for.
    pub sentry_project: String,
    /// That project's public key.
    pub sentry_key: String,
}

impl MixedLoad {
    /// 64 connections for 60 s, batches of 10 events, to Sentry project `project`
    /// with `key`.
    pub fn new(target: SocketAddr, project: &str, key: &str) -> Self {
        MixedLoad {
            target,
            n_connections: 64,
            duration: Duration::from_secs(60),
            batch_len: 10,
            sentry_project: project.to_owned(),
            sentry_key: key.to_owned(),
        }
    }
}

/// What a mixed run got back.
#[derive(Debug, Clone, Default)]
pub struct MixedReport {
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, usize>,
    /// Requests that got no answer (the connection failed or closed first).
    pub n_unanswered: usize,
    /// Pings answered 2xx: each must be one stored row.
    pub pings_accepted: u64,
    /// PostHog events and Sentry items in requests answered 2xx: each must be one
    /// stored row.
    pub events_accepted: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Median latency of answered requests.
    pub p50: Duration,
    /// 99th percentile latency of answered requests.
    pub p99: Duration,
}

impl MixedReport {
    /// Requests answered, whatever the status.
    pub fn n_answered(&self) -> usize {
        self.statuses.values().sum()
    }

    /// Requests answered with a status in `range` (`200..300`, `500..600`, …).
    pub fn n_status(&self, range: std::ops::Range<u16>) -> usize {
        self.statuses
            .iter()
            .filter(|(status, _)| range.contains(status))
            .map(|(_, n)| n)
            .sum()
    }

    /// Answered requests per second.
    pub fn requests_per_sec(&self) -> f64 {
        self.n_answered() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Sends mixed traffic until `load.duration` has passed or `stop` completes,
/// whichever comes first; requests in flight then finish.
///
/// ```no_run
/// # async fn bench(addr: std::net::SocketAddr) {
/// use ff_telemetry_collector::loadgen::{MixedLoad, run_mixed};
/// let report = run_mixed(&MixedLoad::new(addr, "42", "key"), std::future::pending()).await;
/// println!("{} answered 2xx, p99 {:?}", report.n_status(200..300), report.p99);
/// # }
/// ```
pub async fn run_mixed(
    load: &MixedLoad,
    stop: impl Future<Output = ()> + Send + 'static,
) -> MixedReport {
    let stopped = Arc::new(AtomicBool::new(false));
    let flag = stopped.clone();
    let duration = load.duration;
    let stopper = tokio::spawn(async move {
        let _ = tokio::time::timeout(duration, stop).await;
        flag.store(true, Ordering::SeqCst);
    });
    // Ids unique across runs on one database: a random prefix, then a counter.
    let run_id = u128::from(getrandom::u64().unwrap_or_default()) << 64;
    let started = Instant::now();
    let tasks: Vec<_> = (0..load.n_connections.max(1))
        .map(|conn_idx| {
            let load = load.clone();
            let stopped = stopped.clone();
            tokio::spawn(async move { mixed_connection(&load, conn_idx, run_id, &stopped).await })
        })
        .collect();
    let mut report = MixedReport::default();
    let mut latencies = Vec::new();
    for task in tasks {
        if let Ok(part) = task.await {
            for (status, n) in part.statuses {
                *report.statuses.entry(status).or_default() += n;
            }
            report.n_unanswered += part.n_unanswered;
            report.pings_accepted += part.pings_accepted;
            report.events_accepted += part.events_accepted;
            latencies.extend(part.latencies);
        }
    }
    stopper.abort();
    report.elapsed = started.elapsed();
    latencies.sort_unstable();
    report.p50 = percentile(&latencies, 50);
    report.p99 = percentile(&latencies, 99);
    report
}

#[derive(Default)]
struct MixedPart {
    statuses: BTreeMap<u16, usize>,
    n_unanswered: usize,
    pings_accepted: u64,
    events_accepted: u64,
    latencies: Vec<Duration>,
}

async fn mixed_connection(
    load: &MixedLoad,
    conn_idx: usize,
    run_id: u128,
    stopped: &AtomicBool,
) -> MixedPart {
    let mut part = MixedPart::default();
    let mut stream = None;
    let mut buf = Vec::with_capacity(1024);
    let ping = ping_body(conn_idx as u128);
    let mut seq: u128 = 0;
    let mut next_id = || {
        seq += 1;
        // Marked as a version-4 UUID, as clients send; the bits it sets are unused.
        uuid::Builder::from_random_bytes((run_id | ((conn_idx as u128) << 40) | seq).to_be_bytes())
            .into_uuid()
    };
    for i in 0usize.. {
        if stopped.load(Ordering::SeqCst) {
            break;
        }
        let (path, body, n_rows, is_ping) = match i % 3 {
            0 => ("/ping".to_owned(), ping.clone(), 1, true),
            1 => {
                let ids: Vec<_> = (0..load.batch_len).map(|_| next_id()).collect();
                (
                    "/batch/".to_owned(),
                    posthog_batch(conn_idx, &ids),
                    ids.len(),
                    false,
                )
            }
            _ => (
                format!(
                    "/api/{}/envelope/?sentry_key={}",
                    load.sentry_project, load.sentry_key
                ),
                sentry_envelope(next_id()),
                1,
                false,
            ),
        };
        if stream.is_none() {
            stream = TcpStream::connect(load.target).await.ok();
        }
        let Some(s) = stream.as_mut() else {
            part.n_unanswered += 1;
            // Nothing listens (yet): do not spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            load.target,
            body.len()
        );
        let sent = Instant::now();
        match exchange(s, request.as_bytes(), &mut buf).await {
            Some(status) => {
                part.latencies.push(sent.elapsed());
                *part.statuses.entry(status).or_default() += 1;
                if (200..300).contains(&status) {
                    if is_ping {
                        part.pings_accepted += 1;
                    } else {
                        part.events_accepted += n_rows as u64;
                    }
                }
            }
            None => {
                part.n_unanswered += 1;
                stream = None;
            }
        }
    }
    part
}

/// How a slow client behaves until the collector closes its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowClient {
    /// Connects and sends nothing.
    Idle,
    /// Sends a request line, then one header byte every 50 ms (a slow loris).
    Trickling,
    /// Sends one whole request, reads the answer and stays connected (keep-alive).
    IdleAfterOneRequest,
}

impl SlowClient {
    /// Each kind in turn: `SlowClient::nth(i)` for the `i`-th connection.
    pub fn nth(i: usize) -> Self {
        [
            SlowClient::Idle,
            SlowClient::Trickling,
            SlowClient::IdleAfterOneRequest,
        ][i % 3]
    }
}

/// Connects to `target` as `client` and holds the connection until the collector
/// closes it; returns how long after connecting that was, `Ok(None)` when it was
/// still open after `patience`, or why it could not be opened.
///
/// ```no_run
/// # async fn check(addr: std::net::SocketAddr) {
/// use std::time::Duration;
/// use ff_telemetry_collector::loadgen::{SlowClient, hold_connection};
/// let held = hold_connection(addr, SlowClient::Trickling, Duration::from_secs(30)).await;
/// assert!(held.unwrap().is_some(), "the slow loris was never cut off");
/// # }
/// ```
pub async fn hold_connection(
    target: SocketAddr,
    client: SlowClient,
    patience: Duration,
) -> std::io::Result<Option<Duration>> {
    let stream = TcpStream::connect(target).await?;
    let connected = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let talker = tokio::spawn(async move {
        match client {
            SlowClient::Idle => {}
            SlowClient::Trickling => {
                let _ = writer
                    .write_all(b"POST /ping HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                    .await;
                // Bounded by `patience`, which aborts this task.
                loop {
                    if writer.write_all(b"a").await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            SlowClient::IdleAfterOneRequest => {
                let _ = writer
                    .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
                    .await;
            }
        }
        // Keeps the write half, and so the connection, open until aborted.
        std::future::pending::<()>().await;
        drop(writer);
    });
    let closed = tokio::time::timeout(patience, async {
        let mut chunk = [0u8; 1024];
        while let Ok(n) = reader.read(&mut chunk).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    talker.abort();
    Ok(closed.ok().map(|()| connected.elapsed()))
}

/// A PostHog batch of `$pageview` events, one per id.
fn posthog_batch(conn_idx: usize, ids: &[uuid::Uuid]) -> String {
    let events: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"event":"$pageview","distinct_id":"load-{conn_idx}","uuid":"{id}","timestamp":"2026-12-07T00:00:00.000Z","properties":{{"$current_url":"http://127.0.0.1/instances/{conn_idx}","$pathname":"/instances/{conn_idx}","$session_id":"{id}","$lib":"ff-telemetry-loadgen"}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"api_key":"phc_loadgen","batch":[{}]}}"#,
        events.join(",")
    )
}

/// A Sentry envelope with one error event.
fn sentry_envelope(id: uuid::Uuid) -> String {
    let id = id.simple();
    format!(
        "{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\"}}\n{{\"event_id\":\"{id}\",\"level\":\"error\",\"platform\":\"javascript\",\"timestamp\":1765065600.0,\"exception\":{{\"values\":[{{\"type\":\"TypeError\",\"value\":\"load test\"}}]}}}}\n"
    )
}

/// A realistic ping for instance number `n`.
fn ping_body(n: u128) -> String {
    let id = uuid::Uuid::from_u128(0x5db5_1f99_c6fb_4340_9c19_0000_0000_0000 | n);
    let json = format!(
        r#"{{"instanceId":"{id}","os":{{"type":"Linux","release":"6.1.0","arch":"x64"}},"env":{{"nodejs":"rust-1.95","flowforge":"2.{}.0"}},"platform":{{"counts":{{"users":{},"teams":2,"projects":4,"devices":9}},"config":{{"driver":"localfs","broker":{{"enabled":true}},"fileStore":{{"enabled":{}}},"email":{{"enabled":false}}}},"license":{{"type":"CE"}}}}}}"#,
        n % 3,
        n + 1,
        n.is_multiple_of(2)
    );
    debug_assert!(PingPayload::from_json_strict(&json).is_ok());
    json
}
