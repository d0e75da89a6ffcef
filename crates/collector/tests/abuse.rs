//! Limits and abuse: oversized bodies, decompression bombs, slow bodies, and
//! thousands of random or mutated bodies to every endpoint, after which the
//! collector still answers.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use common::*;
use ff_telemetry_collector::{BATCH_BODY_LIMIT, SINGLE_BODY_LIMIT};
use flate2::{Compress, Compression, FlushCompress};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A gzip stream that expands to `mib` MiB of zeros from about 1 KiB per MiB: one
/// self-contained deflate block, repeated. The trailer is never reached.
fn gzip_bomb(mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut compress = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(1 << 20);
    compress
        .compress_vec(&zeros, &mut block, FlushCompress::Full)
        .unwrap();
    assert_eq!(compress.total_in(), 1 << 20);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for _ in 0..mib {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&[0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
    out
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split(' ').nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test]
async fn decompression_bombs_get_413_without_memory_growth() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let bomb = gzip_bomb(1024);
    assert!(bomb.len() < SINGLE_BODY_LIMIT, "{}", bomb.len());
    let before = resident_bytes();
    let envelope = format!("/api/{SENTRY_PROJECT}/envelope/?sentry_key={SENTRY_KEY}");
    for uri in ["/e/", "/batch/?compression=gzip-js", envelope.as_str()] {
        for encoding in [None, Some("gzip")] {
            let mut request = Request::post(uri).header("content-type", "text/plain");
            if let Some(encoding) = encoding {
                request = request.header("content-encoding", encoding);
            }
            let answer = send(&app, request.body(Body::from(bomb.clone())).unwrap()).await;
            assert_eq!(answer.status, 413, "{uri} {encoding:?}");
            assert_eq!(
                answer.error(),
                format!("decompressed body is larger than {BATCH_BODY_LIMIT} bytes")
            );
        }
    }
    let grown = resident_bytes().saturating_sub(before);
    // Six bombs of 1 GiB each: what stays is bounded by the 20 MiB cap, not the bomb.
    assert!(grown < 256 << 20, "resident memory grew by {grown} bytes");
}

#[tokio::test]
async fn oversized_bodies_get_413_in_json() {
    let db = sqlite();
    let (app, _) = app(&db.config(), "127.0.0.1:1").await;
    let cases = [
        ("/ping", SINGLE_BODY_LIMIT + 1),
        ("/e/", BATCH_BODY_LIMIT + 1),
        (
            "/api/42/envelope/?sentry_key=publickey42",
            BATCH_BODY_LIMIT + 1,
        ),
    ];
    for (uri, len) in cases {
        let answer = send(&app, post(uri, "text/plain", vec![b'['; len])).await;
        assert_eq!(answer.status, 413, "{uri}");
        assert_eq!(answer.json()["status"], "error");
    }
    // A batch body just over the single limit is fine on a batch endpoint.
    let events: Vec<Value> = (0..9_000)
        .map(|i| json!({"event": "e", "distinct_id": format!("d{i}"), "properties": {"pad": "x".repeat(200)}}))
        .collect();
    let body = json!({"api_key": "phc", "batch": events}).to_string();
    assert!(body.len() > SINGLE_BODY_LIMIT);
    let answer = send(&app, post("/batch/", "application/json", body)).await;
    assert_eq!(answer.status, 200, "{}", answer.error());
}

/// A collector with 300 ms request and header timeouts and a client that sent it only
/// `start` of a request and then went quiet (the database is returned so its
/// directory lives as long as the test).
async fn stalled_request(start: &[u8]) -> (TestDb, Running, tokio::net::TcpStream) {
    let db = sqlite();
    let mut config = db.config();
    config.request_timeout = Duration::from_millis(300);
    config.header_timeout = Duration::from_millis(300);
    let running = Running::start(&config).await;
    let mut stream = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    stream.write_all(start).await.unwrap();
    (db, running, stream)
}

#[tokio::test]
async fn a_body_that_never_arrives_times_out_with_408() {
    let (_db, running, mut stream) = stalled_request(
        b"POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"instanceId\"",
    )
    .await;
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut chunk = [0u8; 1024];
        while !String::from_utf8_lossy(&response).contains("}") {
            let n = stream.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            response.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no answer");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains(r#""error":"request timed out""#), "{text}");
    running.stop().await;
}

#[tokio::test]
async fn headers_that_never_finish_get_the_connection_closed() {
    let (_db, running, mut stream) = stalled_request(b"POST /ping HTTP/1.1\r\nHost: x\r\n").await;
    let mut response = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut response)).await;
    assert!(read.is_ok(), "the server kept the connection open");
    let text = String::from_utf8_lossy(&response);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    // The collector still serves.
    let health = http().get(running.url("/api/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    running.stop().await;
}

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut body = seed.to_vec();
    match rng.below(6) {
        0 => (0..rng.below(600)).map(|_| rng.next() as u8).collect(),
        1 => {
            body.truncate(rng.below(body.len() + 1));
            body
        }
        2 => {
            for _ in 0..=rng.below(8) {
                if !body.is_empty() {
                    let i = rng.below(body.len());
                    body[i] ^= 1 << rng.below(8);
                }
            }
            body
        }
        3 => {
            const TOKENS: [&[u8]; 10] = [
                b"{",
                b"}",
                b"[",
                b"\"",
                b"\n",
                b"null",
                b"-1e999",
                b"\xff",
                b"\x1f\x8b",
                b"\\u0000",
            ];
            for _ in 0..=rng.below(6) {
                let at = rng.below(body.len() + 1);
                let token = TOKENS[rng.below(TOKENS.len())];
                body.splice(at..at, token.iter().copied());
            }
            body
        }
        4 => {
            let n = rng.below(3) + 1;
            body.repeat(n)
        }
        _ => body,
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let event = json!({"event": "e", "properties": {"distinct_id": "d", "token": "t", "n": [1, 2.5, null]}});
    let envelope = concat!(
        r#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}"#,
        "\n",
        r#"{"type":"event","length":16}"#,
        "\n",
        r#"{"message":"hi"}"#,
        "\n",
        r#"{"type":"session"}"#,
        "\n",
        r#"{"sid":"s"}"#,
        "\n",
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
    std::io::Write::write_all(&mut gz, event.to_string().as_bytes()).unwrap();
    vec![
        ping_json(INSTANCE).into_bytes(),
        event.to_string().into_bytes(),
        json!({"api_key": "t", "batch": [event.clone(), event]})
            .to_string()
            .into_bytes(),
        gz.finish().unwrap(),
        b"N4IgpgbmB2AuIC5wgDQgA4CcD26ydgEswBnRUAE0JKOgGNYB9QixEVtWbAaxjfgC+AoA".to_vec(),
        b"data=eyJldmVudCI6ImUifQ%3D%3D".to_vec(),
        envelope.as_bytes().to_vec(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_random_bodies_never_break_the_server() {
    let db = sqlite();
    let running = Running::start(&db.config()).await;
    let envelope = format!("/api/{SENTRY_PROJECT}/envelope/?sentry_key={SENTRY_KEY}");
    let endpoints: Vec<String> = vec![
        "/ping".into(),
        "/e/".into(),
        "/i/v0/e/?compression=gzip-js".into(),
        "/batch/".into(),
        "/capture/?compression=lz64".into(),
        "/track/?compression=base64&beacon=1".into(),
        envelope,
        "/api/1/envelope/".into(),
    ];
    let seeds = seeds();
    let n_tasks = 8;
    let n_per_task = 400;
    let mut tasks = Vec::new();
    for task_idx in 0..n_tasks {
        let (endpoints, seeds) = (endpoints.clone(), seeds.clone());
        let base = running.url("");
        tasks.push(tokio::spawn(async move {
            let client = http();
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (task_idx as u64 + 1));
            let mut n_sent = 0;
            for _ in 0..n_per_task {
                let uri = &endpoints[rng.below(endpoints.len())];
                let seed = &seeds[rng.below(seeds.len())];
                let body = mutate(&mut rng, seed);
                let mut request = client.post(format!("{base}{uri}")).body(body.clone());
                match rng.below(5) {
                    0 => request = request.header("content-encoding", "gzip"),
                    1 => {
                        request =
                            request.header("content-type", "application/x-www-form-urlencoded")
                    }
                    2 => {
                        request =
                            request.header("x-sentry-auth", "Sentry sentry_key=publickey42,,==")
                    }
                    _ => {}
                }
                let response = request.send().await.expect("the server answers");
                let status = response.status();
                let text = response.text().await.unwrap();
                assert!(
                    status.as_u16() < 500,
                    "{uri} {status} {text} for {:?}",
                    String::from_utf8_lossy(&body)
                );
                if !status.is_success() {
                    let json: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|_| panic!("{uri} {status}: {text}"));
                    assert_eq!(json["status"], "error");
                    assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()));
                }
                n_sent += 1;
            }
            n_sent
        }));
    }
    let mut n_sent = 0;
    for task in tasks {
        n_sent += task.await.unwrap();
    }
    assert_eq!(n_sent, n_tasks * n_per_task);
    let client = http();
    let health = client.get(running.url("/api/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ping = client
        .post(running.url("/ping"))
        .body(ping_json(INSTANCE))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    let dashboard = client.get(running.url("/")).send().await.unwrap();
    assert_eq!(dashboard.status(), 200);
    running.stop().await;
}
