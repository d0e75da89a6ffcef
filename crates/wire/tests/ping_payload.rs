//! The usage ping payload against the documentation's example.

use ff_telemetry_wire::ping::{LicenseType, PingPayload};

const EXAMPLE: &str = include_str!("fixtures/ping-example.json");

#[test]
fn documented_example_round_trips_exactly() {
    let payload = PingPayload::from_json_strict(EXAMPLE).unwrap();
    let original: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
    let again: serde_json::Value = serde_json::from_str(&payload.to_json()).unwrap();
    assert_eq!(again, original);
    let platform = payload.platform.unwrap();
    assert_eq!(platform.license.unwrap().kind, LicenseType::Dev);
    assert_eq!(platform.counts.unwrap().project_templates, Some(7));
}

#[test]
fn strict_parser_refuses_extra_fields_lenient_one_drops_them() {
    let mut value: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
    value["platform"]["config"]["baseUrl"] = "https://my-company.example".into();
    let text = value.to_string();
    let err = PingPayload::from_json_strict(&text).unwrap_err();
    assert_eq!(err.to_string(), "platform.config.baseUrl: unknown field");
    let (payload, dropped) = PingPayload::from_json_lenient(&text).unwrap();
    assert_eq!(dropped, ["platform.config.baseUrl"]);
    assert!(!payload.to_json().contains("my-company"));
}

#[test]
fn every_field_flowfuse_sends_has_a_place() {
    let json = r#"{"instanceId":"5db51f99-c6fb-4340-9c19-78adce58cc1b",
      "os":{"type":"Linux","release":"6.1.0","arch":"x64"},
      "env":{"nodejs":"rustc 1.95.0","flowforge":"2.10.0"},
      "platform":{"counts":{"users":1,"teams":2,"projects":3,"devices":4,"projectSnapshots":5,
        "projectTemplates":6,"projectStacks":7,"libraryEntries":8,"sharedLibraryEntries":9,
        "blueprints":10,"teamBrokerClients":11,"remoteBrokers":12,
        "projectsByState":{"suspended":13},"devicesByLastSeen":{"never":14,"day":15}},
        "config":{"driver":"localfs","broker":{"enabled":true},"fileStore":{"enabled":false},"email":{"enabled":true}},
        "license":{"type":"CE"}}}"#;
    let payload = PingPayload::from_json_strict(json).unwrap();
    let counts = payload.platform.unwrap().counts.unwrap();
    assert_eq!(counts.remote_brokers, Some(12));
    assert_eq!(counts.devices_by_last_seen.unwrap().day, Some(15));
}
