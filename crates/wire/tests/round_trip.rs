//! Every wire type written with serde reads back equal: the senders (browser,
//! backend) and the collector agree on each payload because they share the type.

use ff_telemetry_wire::ping::{
    Counts, DevicesByLastSeen, EnvInfo, FeatureFlag, LicenseInfo, LicenseType, OsInfo, PingPayload,
    PlatformConfigInfo, PlatformInfo, ProjectsByState,
};
use ff_telemetry_wire::posthog::{BatchBody, CaptureEvent};
use ff_telemetry_wire::sentry::{
    Breadcrumb, ClientReport, DataCategory, DebugImage, DebugMeta, DiscardReason, DiscardedEvents,
    Envelope, EnvelopeHeader, EnvelopeItem, Event, EventId, Exception, Frame, ItemHeader, Level,
    Mechanism, Request, SdkInfo, SessionAttributes, SessionStatus, SessionUpdate, SpanId,
    Stacktrace, StringMap, TraceContext, TraceHeader, TraceId, Transaction, TransactionContexts,
    TransactionInfo, User, Values,
};
use ff_telemetry_wire::{Dsn, UnixMs, Value};
use proptest::option::of;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Written with serde_json, read back with serde_json.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let text = serde_json::to_string(value).unwrap();
    let back: T =
        serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
    prop_assert_eq!(&back, value, "{}", text);
    Ok(())
}

fn text() -> impl Strategy<Value = String> {
    ".{0,12}"
}

fn instant() -> impl Strategy<Value = UnixMs> {
    // 1970 to 2100, at millisecond precision (what RFC 3339 with .mmm keeps).
    (0u64..4_102_444_800_000).prop_map(UnixMs)
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1_000_000i64..1_000_000).prop_map(|n| Value::Number(n as f64)),
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(Value::Number),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(("[a-z$_]{1,8}", inner), 0..3).prop_map(Value::Object),
        ]
    })
}

fn string_map() -> impl Strategy<Value = StringMap> {
    prop::collection::vec(("[a-z]{1,6}", text()), 0..3).prop_map(|pairs| {
        let mut map = StringMap::default();
        for (k, v) in pairs {
            map.insert(&k, &v);
        }
        map
    })
}

fn event_id() -> impl Strategy<Value = EventId> {
    any::<[u8; 16]>().prop_map(EventId::from_random_bytes)
}

fn sdk() -> impl Strategy<Value = SdkInfo> {
    (text(), text()).prop_map(|(name, version)| SdkInfo { name, version })
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![
        Just(Level::Debug),
        Just(Level::Info),
        Just(Level::Warning),
        Just(Level::Error),
        Just(Level::Fatal),
    ]
}

fn user() -> impl Strategy<Value = User> {
    text().prop_map(|id| User { id })
}

fn frame() -> impl Strategy<Value = Frame> {
    (
        of(text()),
        of(text()),
        of(any::<u32>()),
        of(any::<u32>()),
        of(text()),
        of(any::<bool>()),
        of(text()),
        of(text()),
    )
        .prop_map(
            |(filename, function, lineno, colno, instruction_addr, in_app, addr_mode, platform)| {
                Frame {
                    filename,
                    function,
                    lineno,
                    colno,
                    instruction_addr,
                    in_app,
                    addr_mode,
                    platform,
                }
            },
        )
}

fn debug_image() -> impl Strategy<Value = DebugImage> {
    (text(), text(), text(), text()).prop_map(|(debug_id, code_id, code_file, debug_file)| {
        DebugImage {
            debug_id,
            code_id,
            code_file,
            debug_file,
        }
    })
}

fn exception() -> impl Strategy<Value = Exception> {
    let mechanism =
        (text(), of(any::<bool>())).prop_map(|(kind, handled)| Mechanism { kind, handled });
    let stacktrace = prop::collection::vec(frame(), 0..3).prop_map(|frames| Stacktrace { frames });
    (text(), of(text()), of(mechanism), of(stacktrace)).prop_map(
        |(kind, value, mechanism, stacktrace)| Exception {
            kind,
            value,
            mechanism,
            stacktrace,
        },
    )
}

fn breadcrumb() -> impl Strategy<Value = Breadcrumb> {
    (instant(), of(text()), of(text()), of(text()), string_map()).prop_map(
        |(timestamp, kind, category, message, data)| Breadcrumb {
            timestamp,
            kind,
            category,
            message,
            data,
        },
    )
}

prop_compose! {
    fn event()(
        event_id in event_id(),
        timestamp in instant(),
        platform in text(),
        level in level(),
        (environment, release, transaction) in (of(text()), of(text()), of(text())),
        tags in string_map(),
        user in of(user()),
        breadcrumbs in of(prop::collection::vec(breadcrumb(), 0..3)),
        sdk in of(sdk()),
        exception in of(prop::collection::vec(exception(), 0..2)),
        message in of(text()),
        url in of(of(text())),
        images in of(prop::collection::vec(debug_image(), 0..2)),
    ) -> Event {
        Event {
            event_id, timestamp, platform, level, environment, release, transaction, tags, user,
            breadcrumbs: breadcrumbs.map(|values| Values { values }),
            sdk,
            exception: exception.map(|values| Values { values }),
            message,
            request: url.map(|url| Request { url }),
            debug_meta: images.map(|images| DebugMeta { images }),
        }
    }
}

fn session_status() -> impl Strategy<Value = SessionStatus> {
    prop_oneof![
        Just(SessionStatus::Ok),
        Just(SessionStatus::Exited),
        Just(SessionStatus::Crashed),
        Just(SessionStatus::Abnormal),
    ]
}

prop_compose! {
    fn session_update()(
        sid in event_id(),
        did in of(text()),
        init in any::<bool>(),
        started in instant(),
        timestamp in instant(),
        status in session_status(),
        errors in any::<u64>(),
        duration in of(0.0f64..1e9),
        release in text(),
        environment in of(text()),
    ) -> SessionUpdate {
        SessionUpdate {
            sid, did, init, started, timestamp, status, errors, duration,
            attrs: SessionAttributes { release, environment },
        }
    }
}

prop_compose! {
    fn transaction()(
        event_id in event_id(),
        transaction in text(),
        source in of(text()),
        (start_timestamp, timestamp) in (instant(), instant()),
        platform in text(),
        (environment, release) in (of(text()), of(text())),
        user in of(user()),
        sdk in of(sdk()),
        (trace_id, span_id) in (any::<[u8; 16]>(), any::<[u8; 8]>()),
        (op, status) in (of(text()), of(text())),
        spans in prop::collection::vec(value(), 0..2),
    ) -> Transaction {
        Transaction {
            event_id, transaction,
            transaction_info: source.map(|source| TransactionInfo { source }),
            start_timestamp, timestamp, platform, environment, release, user, sdk,
            contexts: TransactionContexts {
                trace: TraceContext { trace_id: TraceId(trace_id), span_id: SpanId(span_id), op, status },
            },
            spans,
        }
    }
}

fn client_report() -> impl Strategy<Value = ClientReport> {
    let reason = prop_oneof![
        Just(DiscardReason::RatelimitBackoff),
        Just(DiscardReason::SampleRate),
        Just(DiscardReason::EventProcessor),
        Just(DiscardReason::QueueOverflow),
        Just(DiscardReason::SendError),
    ];
    let category = prop::sample::select(DataCategory::ALL.to_vec());
    let discarded =
        (reason, category, any::<u64>()).prop_map(|(reason, category, quantity)| DiscardedEvents {
            reason,
            category,
            quantity,
        });
    (instant(), prop::collection::vec(discarded, 0..4)).prop_map(|(timestamp, discarded_events)| {
        ClientReport {
            timestamp,
            discarded_events,
        }
    })
}

prop_compose! {
    fn trace_header()(
        (trace_id, public_key) in (text(), text()),
        (sample_rate, sampled) in (of(text()), of(text())),
        (release, environment, transaction) in (of(text()), of(text()), of(text())),
    ) -> TraceHeader {
        TraceHeader { trace_id, public_key, sample_rate, sampled, release, environment, transaction }
    }
}

prop_compose! {
    fn envelope_header()(
        (sent_at, event_id, dsn) in (of(text()), of(text()), of(text())),
        sdk in of(sdk()),
        trace in of(trace_header()),
    ) -> EnvelopeHeader {
        EnvelopeHeader { sent_at, event_id, dsn, sdk, trace }
    }
}

fn envelope_item() -> impl Strategy<Value = EnvelopeItem> {
    (
        "[a-z_]{1,12}",
        of(text()),
        of(text()),
        prop::collection::vec(any::<u8>(), 0..48),
    )
        .prop_map(|(kind, content_type, filename, payload)| EnvelopeItem {
            header: ItemHeader {
                kind,
                length: Some(payload.len() as u64),
                content_type,
                filename,
            },
            payload,
        })
}

prop_compose! {
    fn capture_event()(
        event in text(),
        (uuid, timestamp, distinct_id, api_key) in (of(text()), of(text()), of(text()), of(text())),
        properties in value(),
    ) -> CaptureEvent<Value> {
        CaptureEvent { event, uuid, timestamp, distinct_id, api_key, properties }
    }
}

fn flag() -> impl Strategy<Value = Option<FeatureFlag>> {
    of(any::<bool>().prop_map(|enabled| FeatureFlag { enabled }))
}

prop_compose! {
    fn counts()(
        a in prop::array::uniform12(of(any::<u64>())),
        (suspended, never, day) in (of(of(any::<u64>())), of(any::<u64>()), of(any::<u64>())),
        by_last_seen in any::<bool>(),
    ) -> Counts {
        Counts {
            users: a[0], teams: a[1], projects: a[2], devices: a[3], project_snapshots: a[4],
            project_templates: a[5], project_stacks: a[6], library_entries: a[7],
            shared_library_entries: a[8], blueprints: a[9], team_broker_clients: a[10],
            remote_brokers: a[11],
            projects_by_state: suspended.map(|suspended| ProjectsByState { suspended }),
            devices_by_last_seen: by_last_seen.then_some(DevicesByLastSeen { never, day }),
        }
    }
}

prop_compose! {
    fn ping()(
        instance_id in any::<[u8; 16]>(),
        os in of((of(text()), of(text()), of(text()))),
        env in of((of(text()), of(text()))),
        counts in of(counts()),
        config in of((of(text()), flag(), flag(), flag())),
        license in of((of(text()), prop_oneof![Just(LicenseType::Ce), Just(LicenseType::Ee), Just(LicenseType::Dev)])),
        has_platform in any::<bool>(),
    ) -> PingPayload {
        PingPayload {
            instance_id: uuid::Uuid::from_bytes(instance_id),
            os: os.map(|(kind, release, arch)| OsInfo { kind, release, arch }),
            env: env.map(|(nodejs, flowforge)| EnvInfo { nodejs, flowforge }),
            platform: has_platform.then(|| PlatformInfo {
                counts,
                config: config.map(|(driver, broker, file_store, email)| PlatformConfigInfo {
                    driver, broker, file_store, email,
                }),
                license: license.map(|(id, kind)| LicenseInfo { id, kind }),
            }),
        }
    }
}

proptest! {
    #[test]
    fn sentry_events(event in event()) {
        round_trip(&event)?;
    }

    #[test]
    fn sentry_session_updates(update in session_update()) {
        round_trip(&update)?;
    }

    #[test]
    fn sentry_transactions(tx in transaction()) {
        round_trip(&tx)?;
    }

    #[test]
    fn sentry_client_reports(report in client_report()) {
        round_trip(&report)?;
    }

    #[test]
    fn sentry_envelope_and_item_headers(header in envelope_header(), item in envelope_item()) {
        round_trip(&header)?;
        round_trip(&item.header)?;
    }

    #[test]
    fn sentry_envelopes(header in envelope_header(), items in prop::collection::vec(envelope_item(), 0..3)) {
        let envelope = Envelope { header, items };
        prop_assert_eq!(Envelope::parse(&envelope.to_bytes()).unwrap(), envelope);
    }

    #[test]
    fn posthog_capture_events_and_batches(
        events in prop::collection::vec(capture_event(), 0..3),
        api_key in of(text()),
        sent_at in of(text()),
    ) {
        for event in &events {
            round_trip(event)?;
        }
        round_trip(&BatchBody { api_key, batch: events, sent_at })?;
    }

    #[test]
    fn usage_pings(ping in ping()) {
        round_trip(&ping)?;
        // The collector's strict reader takes what a sender writes.
        prop_assert_eq!(PingPayload::from_json_strict(&ping.to_json()).unwrap(), ping);
    }

    #[test]
    fn dsns(key in "[a-z0-9]{1,8}", host in "[a-z]{1,8}", port in of(1u16..), project in 1u32..) {
        let port = port.map_or(String::new(), |p| format!(":{p}"));
        let dsn: Dsn = format!("https://{key}@{host}.example{port}/{project}").parse().unwrap();
        round_trip(&dsn)?;
    }
}
