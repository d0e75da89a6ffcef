//! `POST /ping` (and `POST /`, the documented endpoint being a bare host) and
//! `GET /api/pings`, on SQLite and Postgres.

mod common;

use common::*;
use ff_telemetry_collector::IpKey;
use serde_json::json;

#[tokio::test]
async fn valid_ping_is_stored_with_hashed_ip_and_unknown_fields_dropped() {
    for db in databases("valid_ping_is_stored").await {
        let mut config = db.config();
        let key_file = db.dir.path().join("key");
        std::fs::write(&key_file, "a-test-key-of-enough-length").unwrap();
        config.ip_key_file = Some(key_file.clone());
        let (app, _) = app(&config, "198.51.100.23:5000").await;
        let mut body: serde_json::Value = serde_json::from_str(&ping_json(INSTANCE)).unwrap();
        body["hostname"] = json!("secret-host");
        body["os"]["user"] = json!("root");
        // Both paths take the ping; the root is where `telemetry.url`'s default points.
        for path in ["/ping", "/"] {
            let answer = send(&app, post(path, "application/json", body.to_string())).await;
            assert_eq!(answer.status, 200, "{} {path}: {}", db.name, answer.error());
            assert_eq!(answer.json(), json!({"status": "success"}));
        }
        let bad = send(&app, post("/", "application/json", "{}")).await;
        assert_eq!(bad.status, 400, "{}", db.name);
        assert_eq!(bad.error(), "(root): missing field `instanceId`");

        let pings = send(&app, get("/api/pings")).await.json();
        assert_eq!(pings["pings"].as_array().unwrap().len(), 2, "{}", db.name);
        let stored = &pings["pings"][0];
        let key = IpKey::load(Some(&key_file), None, db.dir.path()).unwrap();
        assert_eq!(
            stored["ip_hash"],
            key.hash("198.51.100.23".parse().unwrap()),
            "{}",
            db.name
        );
        assert_eq!(stored["payload"]["instanceId"], INSTANCE);
        assert_eq!(stored["payload"]["platform"]["license"]["type"], "EE");
        assert!(stored["payload"].get("hostname").is_none(), "{}", db.name);
        assert!(stored["payload"]["os"].get("user").is_none());
        let received = stored["received_at"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(received).is_ok(),
            "{received}"
        );
    }
}

#[tokio::test]
async fn bad_pings_are_refused_naming_the_field() {
    for db in databases("bad_pings_are_refused").await {
        let (app, state) = app(&db.config(), "127.0.0.1:1").await;
        let cases: [(&[u8], u16, &str); 7] = [
            (b"{}", 400, "(root): missing field `instanceId`"),
            (br#"{"instanceId":"nope"}"#, 400, "instanceId: "),
            (
                br#"{"instanceId":"5db51f99-c6fb-4340-9c19-78adce58cc1b","platform":{"counts":{"users":"6"}}}"#,
                400,
                "platform.counts.users: invalid type",
            ),
            (
                br#"{"instanceId":"5db51f99-c6fb-4340-9c19-78adce58cc1b","platform":{"license":{"type":"XX"}}}"#,
                400,
                "platform.license.type: unknown variant",
            ),
            (b"{not json", 400, "body is not JSON"),
            (b"\xff\xfe", 400, "body is not UTF-8"),
            (b"", 400, "body is not JSON"),
        ];
        for (body, status, message) in cases {
            let answer = send(&app, post("/ping", "application/json", body.to_vec())).await;
            assert_eq!(answer.status, status, "{}", String::from_utf8_lossy(body));
            assert_eq!(answer.json()["status"], "error");
            assert!(
                answer.error().starts_with(message),
                "{}: {}",
                db.name,
                answer.error()
            );
        }
        let too_big = vec![b' '; ff_telemetry_collector::SINGLE_BODY_LIMIT + 1];
        let answer = send(&app, post("/ping", "application/json", too_big)).await;
        assert_eq!(answer.status, 413);
        assert!(
            answer.error().contains("length limit"),
            "{}",
            answer.error()
        );
        assert_eq!(state.n_pings().await.unwrap(), 0, "{}", db.name);
    }
}

#[tokio::test]
async fn pings_api_is_newest_first_with_limit_and_since() {
    for db in databases("pings_api").await {
        let (app, _) = app(&db.config(), "127.0.0.1:1").await;
        let ids = [
            "00000000-0000-4000-8000-000000000001",
            "00000000-0000-4000-8000-000000000002",
            "00000000-0000-4000-8000-000000000003",
        ];
        for id in ids {
            let answer = send(&app, post("/ping", "application/json", ping_json(id))).await;
            assert_eq!(answer.status, 200);
        }
        let all = send(&app, get("/api/pings")).await.json();
        let got: Vec<&str> = all["pings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["payload"]["instanceId"].as_str().unwrap())
            .collect();
        assert_eq!(got, [ids[2], ids[1], ids[0]], "{}", db.name);
        let keys: Vec<&String> = all["pings"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["ip_hash", "payload", "received_at"]);

        let two = send(&app, get("/api/pings?limit=2")).await.json();
        assert_eq!(two["pings"].as_array().unwrap().len(), 2);
        let future = send(&app, get("/api/pings?since=2999-01-01T00:00:00Z"))
            .await
            .json();
        assert_eq!(future["pings"], json!([]));
        let past = send(&app, get("/api/pings?since=2020-01-01T00:00:00%2B02:00"))
            .await
            .json();
        assert_eq!(past["pings"].as_array().unwrap().len(), 3);

        for (uri, message) in [
            (
                "/api/pings?since=yesterday",
                "since: expected an RFC 3339 time",
            ),
            ("/api/pings?limit=0", "limit: expected a positive number"),
            ("/api/pings?limit=x", "Failed to deserialize query string"),
        ] {
            let answer = send(&app, get(uri)).await;
            assert_eq!(answer.status, 400, "{uri}");
            assert!(
                answer.error().starts_with(message),
                "{uri}: {}",
                answer.error()
            );
        }
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let answer = send(&app, get("/nope")).await;
    assert_eq!(
        (answer.status.as_u16(), answer.error()),
        (404, "no route for /nope".into())
    );
    let answer = send(&app, get("/ping")).await;
    assert_eq!(
        (answer.status.as_u16(), answer.error()),
        (405, "method not allowed".into())
    );
}
