//! A load generator for `POST /ping`, for `cargo xtask bench`: keep-alive HTTP/1.1
//! connections over loopback, each sending pings back to back.
//!
//! The client is a minimal hand-written HTTP/1.1 writer and reader so the measured
//! cost is the collector's, not a client library's.

use std::net::SocketAddr;
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
    let pct = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    report.p50 = pct(50);
    report.p99 = pct(99);
    report
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
