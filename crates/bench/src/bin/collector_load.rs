//! The collector under load, as its own process: mixed traffic (usage pings,
//! PostHog batches, Sentry envelopes) on many keep-alive connections, then the same
//! traffic while 1,000 idle or slow connections are held open. Reports stored =
//! accepted, the collector's peak resident memory and the latencies. Prints one JSON
//! object.
//!
//! `collector_load [--seconds S] [--connections C] [--slow N] [--postgres SERVER_URL]`
//! (S seconds of mixed traffic; SQLite in a temporary folder unless `--postgres`).
//! The collector runs in a child process (this binary with `--serve`) so that its
//! memory is measured apart from the load generator's.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use ff_telemetry_bench::{Flags, bench_database, millis};
use ff_telemetry_collector::loadgen::{
    MixedLoad, MixedReport, SlowClient, hold_connection, run_mixed,
};
use ff_telemetry_collector::{Collector, CollectorConfig, SentryKey};
use serde_json::{Value, json};

const SENTRY_PROJECT: &str = "42";
const SENTRY_KEY: &str = "benchkey";

#[tokio::main]
async fn main() -> Result<()> {
    let flags = Flags::from_env();
    if flags.get("serve").is_some() {
        return serve(&flags).await;
    }
    let seconds = flags.number("seconds", 60)?;
    let connections = usize::try_from(flags.number("connections", 64)?)?;
    let n_slow = usize::try_from(flags.number("slow", 1_000)?)?;
    let dir = tempfile::tempdir()?;
    let (engine, database) =
        bench_database(&flags, dir.path(), "ff_bench_load", "collector.db").await?;
    let child = CollectorProcess::spawn(dir.path(), &database)?;
    let header_timeout = CollectorConfig::new(dir.path()).header_timeout;

    let mut load = MixedLoad::new(child.addr, SENTRY_PROJECT, SENTRY_KEY);
    load.n_connections = connections;
    load.duration = Duration::from_secs(seconds);
    let mixed = run_mixed(&load, std::future::pending()).await;
    let peak_after_mixed = child.peak_rss_bytes()?;

    // The same traffic beside slow clients, for the collector's header timeout plus
    // 3 s: long enough for it to close them all.
    let patience = header_timeout + Duration::from_secs(10);
    let slow: Vec<_> = (0..n_slow)
        .map(|i| tokio::spawn(hold_connection(child.addr, SlowClient::nth(i), patience)))
        .collect();
    load.duration = header_timeout + Duration::from_secs(3);
    let beside_slow = run_mixed(&load, std::future::pending()).await;
    let mut closed_after = Vec::new();
    let (mut n_still_open, mut n_refused) = (0, 0);
    let mut first_refusal = None;
    for task in slow {
        match task.await? {
            Ok(Some(after)) => closed_after.push(after),
            Ok(None) => n_still_open += 1,
            Err(e) => {
                n_refused += 1;
                first_refusal.get_or_insert(e.to_string());
            }
        }
    }
    closed_after.sort_unstable();
    let peak = child.peak_rss_bytes()?;
    let (stored_pings, stored_events) = child.stop()?;

    let accepted_pings = mixed.pings_accepted + beside_slow.pings_accepted;
    let accepted_events = mixed.events_accepted + beside_slow.events_accepted;
    let report = json!({
        "engine": engine,
        "connections": connections,
        "mixed": summary(&mixed),
        "beside_slow": summary(&beside_slow),
        "slow": {
            "opened": n_slow,
            "closed_by_collector": closed_after.len(),
            "still_open": n_still_open,
            "could_not_connect": n_refused,
            "first_connect_error": first_refusal,
            "closed_after_min_s": closed_after.first().map(Duration::as_secs_f64),
            "closed_after_max_s": closed_after.last().map(Duration::as_secs_f64),
            "header_timeout_s": header_timeout.as_secs_f64(),
        },
        "accepted": {"pings": accepted_pings, "events": accepted_events},
        "stored": {"pings": stored_pings, "events": stored_events},
        "peak_rss_mb": peak as f64 / (1 << 20) as f64,
        "peak_rss_mb_before_slow": peak_after_mixed as f64 / (1 << 20) as f64,
    });
    println!("{report}");
    Ok(())
}

fn summary(r: &MixedReport) -> Value {
    json!({
        "seconds": r.elapsed.as_secs_f64(),
        "requests": r.n_answered(),
        "ok": r.n_status(200..300),
        "statuses": r.statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "unanswered": r.n_unanswered,
        "requests_per_sec": r.requests_per_sec(),
        "rows_per_sec": (r.pings_accepted + r.events_accepted) as f64 / r.elapsed.as_secs_f64().max(1e-9),
        "p50_ms": millis(r.p50),
        "p99_ms": millis(r.p99),
    })
}

/// The collector child: serves on a free loopback port until its stdin closes,
/// printing its address first and its row counts last.
struct CollectorProcess {
    child: Child,
    addr: SocketAddr,
    stdout: BufReader<std::process::ChildStdout>,
}

impl CollectorProcess {
    fn spawn(dir: &std::path::Path, database: &str) -> Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--serve", "1", "--data-dir"])
            .arg(dir)
            .args(["--database", database])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the collector process")?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let addr = line
            .trim()
            .parse()
            .with_context(|| format!("the collector printed {line:?}, not its address"))?;
        Ok(CollectorProcess {
            child,
            addr,
            stdout,
        })
    }

    /// The child's peak resident set size so far (`VmHWM`).
    fn peak_rss_bytes(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/PID/status")?;
        Ok(kb * 1024)
    }

    /// Closes its stdin (it shuts down once every request is answered) and reads
    /// the rows it holds.
    fn stop(mut self) -> Result<(i64, i64)> {
        drop(self.child.stdin.take());
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        let status = self.child.wait()?;
        ensure!(
            status.success(),
            "the collector process exited with {status}"
        );
        let counts: Value = serde_json::from_str(line.trim())
            .with_context(|| format!("the collector printed {line:?}, not its counts"))?;
        match (counts["pings"].as_i64(), counts["events"].as_i64()) {
            (Some(pings), Some(events)) => Ok((pings, events)),
            _ => bail!("the collector printed {line:?}, not its counts"),
        }
    }
}

/// The child's side: a collector with production defaults on a free port.
async fn serve(flags: &Flags) -> Result<()> {
    let mut config = CollectorConfig::new(flags.get("data-dir").context("--data-dir")?);
    config.listen = "127.0.0.1:0".parse()?;
    config.database_url = flags.get("database").map(str::to_owned);
    config.sentry_keys = vec![SentryKey {
        project_id: SENTRY_PROJECT.into(),
        public_key: SENTRY_KEY.into(),
    }];
    let collector = Collector::bind(&config).await?;
    println!("{}", collector.local_addr());
    std::io::stdout().flush()?;
    let stdin_closed = async {
        // Blocks until the parent closes stdin (or goes away).
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
        })
        .await;
    };
    collector.run_until(stdin_closed).await?;
    // Every request is answered and the database closed: count on a fresh pool.
    let reopened = ff_telemetry_collector::AppState::open(&config).await?;
    let (pings, events) = (reopened.n_pings().await?, reopened.n_events().await?);
    println!("{}", json!({"pings": pings, "events": events}));
    Ok(())
}
