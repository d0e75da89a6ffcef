//! The envelopes browser Sentry writes, read back by a third party's parser: the
//! `sentry-types` crate that Sentry's own Rust SDK uses.

use std::time::{Duration, SystemTime};

use ff_telemetry_browser::sentry::{
    BrowserSentry, CapturedError, Entropy, MECHANISM_ONERROR, Outgoing,
};
use ff_telemetry_wire::sentry::{DataCategory, Level, SdkInfo};
use ff_telemetry_wire::{FrontendSentry, UnixMs};
use sentry_types::protocol::v7::{
    Addr, Context, Envelope, EnvelopeItem, Level as TheirLevel, SessionStatus,
};

const START: UnixMs = UnixMs(1_795_850_763_000); // 2026-11-28T07:26:03Z
const PAGE: &str = "https://forge.example/team/acme/instances?token=s3cr3t#top";

const CHROMIUM_STACK: &str = "TypeError: Cannot read properties of undefined (reading 'name')
    at InstanceCard.render (https://forge.example/assets/index-4f1c2a.js:412:27)
    at ff_telemetry_web::api::capture::h1a2b3c (https://forge.example/pkg/ff_telemetry_web_bg.wasm:wasm-function[421]:0x3f2a1)
    at async loadInstances (https://forge.example/assets/index-4f1c2a.js:233:5)";

fn system_time(t: UnixMs) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(t.0)
}

fn entropy(n: u8) -> Entropy {
    // The sampling draw (bytes 40..44) is 0 so every transaction is kept.
    let mut bytes = [n; 48];
    bytes[40..44].fill(0);
    Entropy(bytes)
}

fn sentry() -> BrowserSentry {
    let config: FrontendSentry = serde_json::from_value(serde_json::json!({
        "dsn": "https://public@sentry.example/42",
        "environment": "production",
        "release": "flowfuse@2.11.0",
        "production_mode": true,
    }))
    .unwrap();
    let sdk = SdkInfo {
        name: "ff-telemetry.web".into(),
        version: "0.1.0".into(),
    };
    BrowserSentry::new(&config, sdk, PAGE, START, &entropy(1)).unwrap()
}

/// Drains what is due at `now`, parsed by sentry-types.
fn drain(sentry: &mut BrowserSentry, now: UnixMs) -> Vec<(Outgoing, Envelope)> {
    std::iter::from_fn(|| sentry.poll_transmit(now))
        .map(|out| {
            let parsed = Envelope::from_slice(out.body(now).as_bytes())
                .unwrap_or_else(|e| panic!("sentry-types rejects {:?}: {e}", out.body(now)));
            (out, parsed)
        })
        .collect()
}

fn only_item(envelope: &Envelope) -> &EnvelopeItem {
    let items: Vec<_> = envelope.items().collect();
    assert_eq!(items.len(), 1, "one item per envelope");
    items[0]
}

/// The header as sentry-types read it, and `sent_at` as written at send time.
fn check_header((out, envelope): &(Outgoing, Envelope), sent_at: UnixMs) {
    let header = serde_json::to_value(envelope.headers()).unwrap();
    let their_dsn: sentry_types::Dsn = header["dsn"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        their_dsn,
        "https://public@sentry.example/42".parse().unwrap()
    );
    assert_eq!(header["sdk"]["name"], "ff-telemetry.web");
    assert_eq!(header["sdk"]["version"], "0.1.0");
    assert!(header["sent_at"].is_string(), "{header}");
    let body = out.body(sent_at);
    let first_line = body.lines().next().unwrap();
    let ours: serde_json::Value = serde_json::from_str(first_line).unwrap();
    assert_eq!(ours["sent_at"], sent_at.to_rfc3339());
}

#[test]
fn session_event_transaction_and_client_report_parse_with_sentry_types() {
    let mut sentry = sentry();

    // Page load: the session starts.
    let sent = drain(&mut sentry, START + 5);
    assert_eq!(sent.len(), 1);
    check_header(&sent[0], START + 5);
    assert!(
        sentry.envelope_url().starts_with(
            "https://sentry.example/api/42/envelope/?sentry_version=7&sentry_key=public"
        )
    );
    let EnvelopeItem::SessionUpdate(first) = only_item(&sent[0].1) else {
        panic!("not a session: {:?}", sent[0].1);
    };
    assert!(first.init);
    assert_eq!(first.status, SessionStatus::Ok);
    assert_eq!(first.started, system_time(START));
    assert_eq!(first.attributes.release, "flowfuse@2.11.0");
    assert_eq!(first.attributes.environment.as_deref(), Some("production"));

    // A route change: a navigation transaction.
    sentry.set_user(Some("user-7"));
    sentry.handle_navigation_start(START + 100);
    let (to, template) = ("/team/acme/instances?sort=name", "/team/:slug/instances");
    sentry.handle_route_change(START + 350, to, Some(template), &entropy(2));
    let sent = drain(&mut sentry, START + 400);
    assert_eq!(sent.len(), 1);
    check_header(&sent[0], START + 400);
    let EnvelopeItem::Transaction(tx) = only_item(&sent[0].1) else {
        panic!("not a transaction: {:?}", sent[0].1);
    };
    assert_eq!(sent[0].1.uuid(), Some(&tx.event_id));
    assert_eq!(
        tx.name.as_deref(),
        Some(template),
        "named by the route template"
    );
    assert_eq!(tx.start_timestamp, system_time(START + 100));
    assert_eq!(tx.timestamp, Some(system_time(START + 350)));
    assert_eq!(tx.platform, "javascript");
    assert_eq!(tx.release.as_deref(), Some("flowfuse@2.11.0"));
    assert_eq!(
        tx.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("user-7")
    );
    // The dynamic sampling context tells Sentry the production sample rate.
    let header = serde_json::to_value(sent[0].1.headers()).unwrap();
    assert_eq!(header["trace"]["sample_rate"], "0.05");
    assert_eq!(header["trace"]["sampled"], "true");
    assert_eq!(header["trace"]["public_key"], "public");
    assert_eq!(header["trace"]["trace_id"], "02".repeat(16));
    assert_eq!(header["trace"]["transaction"], template);
    let Some(Context::Trace(trace)) = tx.contexts.get("trace") else {
        panic!("no trace context: {:?}", tx.contexts);
    };
    assert_eq!(trace.op.as_deref(), Some("navigation"));
    assert_eq!(trace.trace_id.to_string(), "02".repeat(16));
    assert_eq!(trace.span_id.to_string(), "02".repeat(8));

    // An unhandled error: the event, then the crashed session.
    sentry.handle_error(
        START + 1_000,
        CapturedError {
            kind: "TypeError",
            value: "Cannot read properties of undefined (reading 'name')",
            stack: Some(CHROMIUM_STACK),
            mechanism: MECHANISM_ONERROR,
            handled: false,
            tags: &[],
        },
        &entropy(3),
    );
    let sent = drain(&mut sentry, START + 1_001);
    assert_eq!(sent.len(), 2);
    let EnvelopeItem::Event(event) = only_item(&sent[0].1) else {
        panic!("not an event: {:?}", sent[0].1);
    };
    assert_eq!(sent[0].1.uuid(), Some(&event.event_id));
    assert_eq!(event.level, TheirLevel::Error);
    assert_eq!(event.platform, "javascript");
    assert_eq!(event.timestamp, system_time(START + 1_000));
    assert_eq!(event.environment.as_deref(), Some("production"));
    assert_eq!(event.release.as_deref(), Some("flowfuse@2.11.0"));
    assert_eq!(event.transaction.as_deref(), Some(template));
    assert_eq!(event.tags["route"], "/team/acme/instances");
    let user = event.user.as_ref().unwrap();
    assert_eq!(user.id.as_deref(), Some("user-7"));
    assert_eq!((user.email.as_ref(), user.ip_address), (None, None));
    assert_eq!(
        event
            .request
            .as_ref()
            .and_then(|r| r.url.as_ref())
            .map(|u| u.as_str()),
        Some("https://forge.example/team/acme/instances")
    );
    let sdk = event.sdk.as_ref().unwrap();
    assert_eq!(
        (sdk.name.as_str(), sdk.version.as_str()),
        ("ff-telemetry.web", "0.1.0")
    );
    let crumb = &event.breadcrumbs.values[0];
    assert_eq!(crumb.category.as_deref(), Some("navigation"));
    assert_eq!(crumb.data["to"], "/team/acme/instances");
    assert_eq!(crumb.timestamp, system_time(START + 350));

    let exception = &event.exception.values[0];
    assert_eq!(exception.ty, "TypeError");
    assert_eq!(
        exception.value.as_deref(),
        Some("Cannot read properties of undefined (reading 'name')")
    );
    let mechanism = exception.mechanism.as_ref().unwrap();
    assert_eq!(
        (mechanism.ty.as_str(), mechanism.handled),
        ("onerror", Some(false))
    );
    let frames = &exception.stacktrace.as_ref().unwrap().frames;
    let summary: Vec<_> = frames
        .iter()
        .map(|f| (f.function.as_deref(), f.lineno, f.colno, f.instruction_addr))
        .collect();
    assert_eq!(
        summary,
        [
            (Some("loadInstances"), Some(233), Some(5), None),
            (
                Some("ff_telemetry_web::api::capture::h1a2b3c"),
                None,
                None,
                Some(Addr(0x3f2a1))
            ),
            (Some("InstanceCard.render"), Some(412), Some(27), None),
        ]
    );
    assert_eq!(
        frames[0].filename.as_deref(),
        Some("https://forge.example/assets/index-4f1c2a.js")
    );
    assert_eq!(frames[0].in_app, Some(true));

    let EnvelopeItem::SessionUpdate(crashed) = only_item(&sent[1].1) else {
        panic!("not a session: {:?}", sent[1].1);
    };
    assert_eq!(crashed.session_id, first.session_id);
    assert!(!crashed.init);
    assert_eq!(crashed.status, SessionStatus::Crashed);
    assert_eq!(crashed.errors, 1);
    assert_eq!(crashed.duration, Some(1.0));
    assert_eq!(crashed.distinct_id.as_deref(), Some("user-7"));

    // A message while errors are rate-limited, then the page goes away: the
    // dropped message shows up in a client report, sent by beacon.
    sentry.handle_response(
        START + 2_000,
        DataCategory::Error,
        429,
        None,
        Some("60:error:key"),
    );
    sentry.handle_message(START + 2_001, "quota reached", Level::Warning, &entropy(4));
    sentry.handle_page_hide(START + 3_000);
    let sent = drain(&mut sentry, START + 3_000);
    assert_eq!(
        sent.len(),
        1,
        "crashed sessions do not exit; the message is limited"
    );
    assert!(sent[0].0.beacon);
    let EnvelopeItem::ClientReport(report) = only_item(&sent[0].1) else {
        panic!("not a client report: {:?}", sent[0].1);
    };
    let report = serde_json::to_value(report).unwrap();
    assert_eq!(
        report["discarded_events"],
        serde_json::json!([{"reason": "ratelimit_backoff", "category": "error", "quantity": 1}])
    );
}

#[test]
fn message_events_parse_with_sentry_types() {
    let mut sentry = sentry();
    let _session_start = drain(&mut sentry, START);
    sentry.handle_message(START + 10, "flow deployed", Level::Info, &entropy(5));
    let sent = drain(&mut sentry, START + 10);
    let EnvelopeItem::Event(event) = only_item(&sent[0].1) else {
        panic!("not an event: {:?}", sent[0].1);
    };
    assert_eq!(event.message.as_deref(), Some("flow deployed"));
    assert_eq!(event.level, TheirLevel::Info);
    assert!(event.exception.values.is_empty());
}
