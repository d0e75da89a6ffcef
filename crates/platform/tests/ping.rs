//! The usage ping end to end: a real platform database, the real scheduler and
//! sender, and a real HTTP receiver on 127.0.0.1.

mod common;

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{
    HangingReceiver, Receiver, SPEC, counter, dead_url, every_engine, expected_counts, open,
    scheduler, scheduler_with, sqlite, wait_until,
};
use ff_platform::{Platform, seed};
use ff_telemetry_backend::{
    Clock, SchedulerOptions, SettingsStore, SkipReason, SlotOutcome, SystemClock, VirtualClock,
    keys,
};
use ff_telemetry_core::ping_lease::SlotKind;
use ff_telemetry_wire::UnixMs;
use ff_telemetry_wire::ping::PingPayload;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

fn telemetry_yml(url: &str, extra: &str) -> String {
    format!("telemetry:\n  url: {url}\n  startup_delay_seconds: 0.05\n{extra}")
}

/// Opens a seeded platform pinging `url`, set up or not, with the admin setting
/// stored as given.
async fn platform(
    db: &common::TestDb,
    yml: &str,
    initialised: bool,
    admin: Option<bool>,
) -> Platform {
    let platform = open(db, yml).await;
    seed(platform.db(), &SPEC, SystemClock.now()).await.unwrap();
    if initialised {
        platform.setup().await.unwrap();
    }
    if let Some(enabled) = admin {
        platform
            .db()
            .put(
                keys::TELEMETRY_ENABLED,
                if enabled { "true" } else { "false" },
            )
            .await
            .unwrap();
    }
    platform
}

async fn admin_get(platform: &Platform, path: &str) -> serde_json::Value {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {}", common::ADMIN_TOKEN))
        .body(Body::empty())
        .unwrap();
    let response = platform.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// Runs every slot of `days` virtual days on each platform's scheduler (all starting
/// at the same instant), and returns once every scheduler has parked past the end.
async fn run_virtual_days(platforms: &[&Platform], start: UnixMs, days: u64) {
    let stop = start + days * UnixMs::DAY;
    let tasks: Vec<_> = platforms
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let clock = Arc::new(VirtualClock::new(start, stop));
            scheduler(p, clock, &format!("replica-{i}")).spawn()
        })
        .collect();
    wait_until("every scheduler to pass its last slot", async || {
        platforms
            .iter()
            .all(|p| p.telemetry().next_ping_at().is_some_and(|t| t > stop))
    })
    .await;
    for task in tasks {
        task.abort();
    }
}

/// Runs the platform's scheduler on the real clock until its startup ping is
/// sent (the counter moves once the whole slot is done, outcome recorded).
async fn run_until_the_startup_ping(platform: &Platform) {
    let task = scheduler(platform, Arc::new(SystemClock), "a").spawn();
    wait_until("the startup ping", async || {
        counter(platform, "ff_telemetry_pings_sent_total") == 1
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn startup_ping_arrives_at_a_real_receiver_with_the_database_counts() {
    let receiver = Receiver::start(StatusCode::OK).await;
    let db = sqlite();
    let yml = telemetry_yml(&receiver.url, "license: {id: lic-42, type: DEV}\n");
    let platform = platform(&db, &yml, true, None).await;
    run_until_the_startup_ping(&platform).await;

    assert_eq!(receiver.bodies().len(), 1);
    let body = &receiver.bodies()[0];
    let ping = PingPayload::from_json_strict(body).unwrap();
    assert_eq!(
        ping.instance_id,
        platform.telemetry().instance_id().await.unwrap()
    );
    let info = ping.platform.clone().unwrap();
    assert_eq!(info.counts.unwrap(), expected_counts());
    let license = info.license.unwrap();
    assert_eq!(
        (license.id.as_deref(), license.kind.as_str()),
        (Some("lic-42"), "DEV")
    );
    assert_eq!(info.config.unwrap().driver.as_deref(), Some("localfs"));
    let env = ping.env.unwrap();
    assert_eq!(
        env.flowforge.as_deref(),
        Some(ff_platform::PLATFORM_VERSION)
    );
    // The runtime is the compiler that built the platform: "rust 1.95.0".
    let runtime = env.nodejs.unwrap();
    let version = runtime.strip_prefix("rust ").unwrap();
    assert_eq!(version.split('.').count(), 3, "{runtime}");
    assert!(
        version
            .split(['.', '-'])
            .next()
            .is_some_and(|major| major.parse::<u32>().is_ok()),
        "{runtime}"
    );
    // The preview is the same code path: the same JSON.
    let preview = admin_get(&platform, "/api/v1/admin/telemetry/preview").await;
    assert_eq!(
        preview,
        serde_json::from_str::<serde_json::Value>(body).unwrap()
    );
    // The outcome is visible to the administrator and in the metrics.
    let status = admin_get(&platform, "/api/v1/admin/telemetry").await;
    assert_eq!(status["last_ping"]["status"], "sent");
}

#[tokio::test]
async fn licensed_and_opted_out_still_sends() {
    let receiver = Receiver::start(StatusCode::OK).await;
    let db = sqlite();
    let yml = telemetry_yml(
        &receiver.url,
        "  enabled: false\nlicense: {id: lic-1, type: EE}\n",
    );
    let platform = platform(&db, &yml, true, Some(false)).await;
    run_until_the_startup_ping(&platform).await;
    assert_eq!(receiver.bodies().len(), 1);
    let status = admin_get(&platform, "/api/v1/admin/telemetry").await;
    assert_eq!(status["enabled"], true, "licensed installs read enabled");
    assert_eq!(status["effective"], true);
}

#[tokio::test]
async fn unlicensed_and_disabled_sends_nothing() {
    let receiver = Receiver::start(StatusCode::OK).await;
    for (case, extra, admin) in [
        ("admin opted out", "", Some(false)),
        ("yml disabled", "  enabled: false\n", None),
    ] {
        let db = sqlite();
        let platform = platform(&db, &telemetry_yml(&receiver.url, extra), true, admin).await;
        run_virtual_days(&[&platform], SystemClock.now(), 2).await;
        // The startup slot and two daily slots, each skipped.
        assert_eq!(
            counter(&platform, "ff_telemetry_pings_skipped_total"),
            3,
            "{case}"
        );
        assert_eq!(
            counter(&platform, "ff_telemetry_pings_sent_total"),
            0,
            "{case}"
        );
        let status = admin_get(&platform, "/api/v1/admin/telemetry").await;
        assert_eq!(status["effective"], false, "{case}");
    }
    assert_eq!(receiver.attempts(), 0);
}

#[tokio::test]
async fn not_initialised_sends_nothing() {
    let receiver = Receiver::start(StatusCode::OK).await;
    let db = sqlite();
    let yml = telemetry_yml(&receiver.url, "license: {id: lic-1, type: EE}\n");
    let platform = platform(&db, &yml, false, None).await;
    run_virtual_days(&[&platform], SystemClock.now(), 2).await;
    // No startup slot at all (not initialised at start); both daily slots skipped.
    assert_eq!(counter(&platform, "ff_telemetry_pings_skipped_total"), 2);
    assert_eq!(receiver.attempts(), 0);
}

#[tokio::test]
async fn an_opt_out_between_slots_stops_the_next_ping() {
    let receiver = Receiver::start(StatusCode::OK).await;
    let db = sqlite();
    let platform = platform(&db, &telemetry_yml(&receiver.url, ""), true, None).await;
    let t = UnixMs(1_800_000_000_000);
    let clock = Arc::new(VirtualClock::new(t, t + 2 * UnixMs::DAY));
    let scheduler = scheduler(&platform, clock.clone(), "a");
    assert_eq!(
        scheduler.run_slot(SlotKind::Daily, t).await,
        SlotOutcome::Sent
    );
    let request = Request::put("/api/v1/admin/telemetry")
        .header("authorization", format!("Bearer {}", common::ADMIN_TOKEN))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"enabled":false}"#))
        .unwrap();
    let response = platform.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    clock.sleep_until(t + UnixMs::DAY).await;
    assert_eq!(
        scheduler.run_slot(SlotKind::Daily, t + UnixMs::DAY).await,
        SlotOutcome::Skipped(SkipReason::Disabled)
    );
    assert_eq!(receiver.attempts(), 1);
}

#[tokio::test]
async fn a_restart_within_the_hour_sends_no_second_startup_ping() {
    let receiver = Receiver::start(StatusCode::OK).await;
    let db = sqlite();
    let platform = platform(&db, &telemetry_yml(&receiver.url, ""), true, None).await;
    let t = UnixMs(1_800_000_000_000);
    let at = |offset: u64| Arc::new(VirtualClock::new(t + offset, t + offset));
    let first = scheduler(&platform, at(0), "first-run");
    assert_eq!(
        first.run_slot(SlotKind::Startup, t).await,
        SlotOutcome::Sent
    );
    let restarted = scheduler(&platform, at(10 * UnixMs::MINUTE), "second-run");
    assert_eq!(
        restarted
            .run_slot(SlotKind::Startup, t + 10 * UnixMs::MINUTE)
            .await,
        SlotOutcome::Skipped(SkipReason::RecentPing)
    );
    let much_later = scheduler(&platform, at(2 * UnixMs::HOUR), "third-run");
    assert_eq!(
        much_later
            .run_slot(SlotKind::Startup, t + 2 * UnixMs::HOUR)
            .await,
        SlotOutcome::Sent
    );
    assert_eq!(receiver.bodies().len(), 2);
}

/// Collects formatted log lines of the current thread.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// GET over a real TCP connection; returns the status line.
async fn http_status_line(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.lines().next().unwrap_or_default().to_owned()
}

/// Runs the platform on a real port with a failing collector, and checks the bounded
/// retries, the logged failure and that the platform kept answering.
async fn failing_collector(url: &str, expected_attempts: usize, receiver: Option<&Receiver>) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let db = sqlite();
    let platform = platform(&db, &telemetry_yml(url, ""), true, None).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = platform.clone();
    tokio::spawn(async move { server.serve(listener, std::future::pending()).await });
    let task = scheduler(&platform, Arc::new(SystemClock), "a").spawn();
    assert_eq!(
        http_status_line(addr, "/api/v1/health").await,
        "HTTP/1.1 200 OK"
    );
    wait_until("the failure to be recorded", async || {
        counter(&platform, "ff_telemetry_pings_failed_total") == 1
    })
    .await;
    assert_eq!(
        http_status_line(addr, "/api/v1/health").await,
        "HTTP/1.1 200 OK"
    );
    task.abort();

    if let Some(receiver) = receiver {
        assert_eq!(receiver.attempts(), expected_attempts);
    }
    let logs = logs.text();
    assert!(
        logs.contains(&format!(
            "usage ping failed after {expected_attempts} attempt(s)"
        )),
        "{logs}"
    );
    let status = admin_get(&platform, "/api/v1/admin/telemetry").await;
    assert_eq!(status["last_ping"]["status"], "failed");
}

#[tokio::test(flavor = "current_thread")]
async fn a_503_collector_gets_three_retries_then_a_logged_failure() {
    let receiver = Receiver::start(StatusCode::SERVICE_UNAVAILABLE).await;
    failing_collector(&receiver.url, 4, Some(&receiver)).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_collector_that_is_down_gets_three_retries_then_a_logged_failure() {
    failing_collector(&dead_url().await, 4, None).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_4xx_answer_is_not_retried() {
    let receiver = Receiver::start(StatusCode::BAD_REQUEST).await;
    failing_collector(&receiver.url, 1, Some(&receiver)).await;
}

/// The receiver takes the connection and never answers. Each attempt ends at the
/// sender's timeout (shortened here from 10 s to 300 ms), the attempts are bounded
/// (the first and three retries), and the platform answers its own requests all the
/// while the sender waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_gets_bounded_timed_out_attempts_and_blocks_nothing() {
    let receiver = HangingReceiver::start().await;
    let db = sqlite();
    let platform = platform(&db, &telemetry_yml(&receiver.url, ""), true, None).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = platform.clone();
    tokio::spawn(async move { server.serve(listener, std::future::pending()).await });

    let attempt_timeout = std::time::Duration::from_millis(300);
    let options = SchedulerOptions {
        attempt_timeout,
        ..SchedulerOptions::default()
    };
    let started = std::time::Instant::now();
    let task = scheduler_with(&platform, Arc::new(SystemClock), "a", options).spawn();
    wait_until("the first attempt to connect", async || {
        receiver.connections() > 0
    })
    .await;
    // Until the sender gives up: the platform's health check and a page, one after
    // the other, each over a new connection.
    let (mut n_answered, mut n_answered_while_waiting) = (0, 0);
    let mut slowest = std::time::Duration::ZERO;
    wait_until("the sender to give up", async || {
        let waiting = counter(&platform, "ff_telemetry_pings_failed_total") == 0;
        for path in ["/api/v1/health", "/"] {
            let asked = std::time::Instant::now();
            assert_eq!(
                http_status_line(addr, path).await,
                "HTTP/1.1 200 OK",
                "{path}"
            );
            slowest = slowest.max(asked.elapsed());
            n_answered += 1;
            if waiting && counter(&platform, "ff_telemetry_pings_failed_total") == 0 {
                n_answered_while_waiting += 1;
            }
        }
        !waiting
    })
    .await;
    let gave_up_after = started.elapsed();
    task.abort();

    assert_eq!(receiver.connections(), 4, "the first attempt and 3 retries");
    // Every attempt lasted its whole timeout: four of them cannot end sooner.
    assert!(gave_up_after >= 4 * attempt_timeout, "{gave_up_after:?}");
    assert!(
        n_answered_while_waiting > 0,
        "no request was answered while the sender waited"
    );
    let status = admin_get(&platform, "/api/v1/admin/telemetry").await;
    assert_eq!(status["last_ping"]["status"], "failed");
    let _ = writeln!(
        std::io::stderr(),
        "figures: hanging receiver: {} attempts of {attempt_timeout:?} each, gave up after \
         {gave_up_after:?}; the platform answered {n_answered} requests meanwhile \
         ({n_answered_while_waiting} before it gave up), slowest {slowest:?}",
        receiver.connections()
    );
}

#[tokio::test]
async fn three_replicas_on_one_database_send_one_ping_per_slot() {
    for db in every_engine("three_replicas_on_one_database_send_one_ping_per_slot").await {
        let receiver = Receiver::start(StatusCode::OK).await;
        let yml = telemetry_yml(&receiver.url, "");
        let first = platform(&db, &yml, true, None).await;
        let second = common::open(&db, &yml).await;
        let third = common::open(&db, &yml).await;
        run_virtual_days(&[&first, &second, &third], SystemClock.now(), 3).await;
        // One startup ping and three daily pings, whoever sent them.
        let bodies = receiver.bodies();
        assert_eq!(bodies.len(), 4, "{}", db.url);
        let sent: u64 = [&first, &second, &third]
            .iter()
            .map(|p| counter(p, "ff_telemetry_pings_sent_total"))
            .sum();
        assert_eq!(sent, 4);
        let skipped: u64 = [&first, &second, &third]
            .iter()
            .map(|p| counter(p, "ff_telemetry_pings_skipped_total"))
            .sum();
        assert_eq!(skipped, 8, "each other replica skips each of the 4 slots");
        // All replicas are one installation.
        let id = first.telemetry().instance_id().await.unwrap().to_string();
        assert!(bodies.iter().all(|b| b.contains(&id)));
    }
}
