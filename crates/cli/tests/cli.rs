//! The `ff-telemetry` binary as an administrator runs it.

use std::path::Path;
use std::process::{Command, Output};

use ff_telemetry_wire::ping::PingPayload;

const BROKEN: &str = "\
port: web
license: {type: PRO}
colour: blue
telemetry:
  enabled: maybe
  url: ping.example.com
  frontend:
    sentry: {dsn: nope}
    plausible: {domain: example.com}
";

fn ff_telemetry(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ff-telemetry"))
        .args(args)
        .current_dir(dir)
        // The admin token is not needed for these commands.
        .env_remove("FF_ADMIN_TOKEN")
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn check_config_prints_every_problem_with_its_path_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "flowforge.yml", BROKEN);
    let out = ff_telemetry(&["check-config", &file], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in [
        "error: telemetry.enabled: expected a boolean",
        "error: telemetry.url: expected an http(s) URL",
        "error: telemetry.frontend.sentry.dsn: expected a Sentry DSN",
        "error: port: expected a port number",
        "error: license.type: expected CE, EE or DEV",
        "warning: colour: unknown key, ignored",
        // A telemetry warning is shown even though that section has errors.
        "warning: telemetry.frontend.plausible: deprecated",
        "5 error(s), 2 warning(s)",
    ] {
        assert!(stdout.contains(line), "{line} missing from:\n{stdout}");
    }
}

#[test]
fn check_config_passes_a_good_file_and_lists_its_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let yml = "telemetry:\n  frontend:\n    plausible: {domain: example.com}\n";
    let file = write(dir.path(), "flowforge.yml", yml);
    let out = ff_telemetry(&["check-config", &file], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("warning: telemetry.frontend.plausible: deprecated"),
        "{stdout}"
    );
    assert!(stdout.contains("ok (1 warning(s))"), "{stdout}");
}

#[test]
fn a_broken_config_stops_the_platform_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "flowforge.yml", BROKEN);
    let data = dir.path().join("data");
    let out = ff_telemetry(
        &[
            "platform",
            "--config",
            &file,
            "--data-dir",
            &data.display().to_string(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches(": error: ").count(), 5, "{stderr}");
    assert!(stderr.contains("not starting"), "{stderr}");
    assert!(!data.exists(), "nothing was created");
}

#[test]
fn a_broken_config_stops_the_demo_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "flowforge.yml", BROKEN);
    let data = dir.path().join("demo-data");
    let out = ff_telemetry(
        &[
            "demo",
            "--config",
            &file,
            "--data-dir",
            &data.display().to_string(),
            "--collector-listen",
            "127.0.0.1:0",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches(": error: ").count(), 5, "{stderr}");
    assert!(!data.exists(), "nothing was created");
}

#[test]
fn preview_prints_the_ping_the_platform_would_send() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "flowforge.yml",
        "license: {id: lic-9, type: EE}\n",
    );
    let out = ff_telemetry(
        &["preview", "--config", &file, "--data-dir", "data"],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ping = PingPayload::from_json_strict(&stdout).unwrap();
    let platform = ping.platform.unwrap();
    assert_eq!(platform.counts.unwrap().users, Some(0));
    assert_eq!(platform.license.unwrap().id.as_deref(), Some("lic-9"));
    assert!(dir.path().join("data/platform.db").exists());
    // The instance id is kept between runs.
    let again = ff_telemetry(
        &["preview", "--config", &file, "--data-dir", "data"],
        dir.path(),
    );
    let again = PingPayload::from_json_strict(&String::from_utf8_lossy(&again.stdout)).unwrap();
    assert_eq!(again.instance_id, ping.instance_id);
}

/// A one-request-at-a-time HTTP receiver on 127.0.0.1 that hands every body it gets
/// to the returned channel and answers 200.
fn ping_receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ping", listener.local_addr().unwrap());
    let (bodies, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut content_length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    content_length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; content_length];
            if reader.read_exact(&mut body).is_ok() {
                let _ = bodies.send(String::from_utf8_lossy(&body).into_owned());
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, received)
}

#[test]
fn the_platform_command_serves_and_sends_its_startup_ping() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let (url, pings) = ping_receiver();
    let yml = format!(
        "port: 0\nlicense: {{id: lic-7, type: DEV}}\ntelemetry:\n  url: {url}\n  startup_delay_seconds: 0.1\n"
    );
    let file = write(dir.path(), "flowforge.yml", &yml);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ff-telemetry"))
        .args([
            "platform",
            "--config",
            &file,
            "--data-dir",
            "data",
            "--setup",
            "--seed",
            "30",
        ])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("FF_ADMIN_TOKEN")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read the log to its end, so the platform never writes into a closed pipe.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (log_lines, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = log_lines.send(line);
        }
    });
    let ping = pings.recv_timeout(std::time::Duration::from_secs(20));
    child.kill().unwrap();
    child.wait().unwrap();
    let log: Vec<String> = log.iter().collect();
    assert!(
        log.iter()
            .any(|line| line.contains("platform listening on http://127.0.0.1:")),
        "{log:#?}"
    );
    let ping = PingPayload::from_json_strict(&ping.expect("no startup ping within 20 s")).unwrap();
    let platform = ping.platform.unwrap();
    assert_eq!(platform.counts.unwrap().users, Some(30));
    assert_eq!(platform.license.unwrap().id.as_deref(), Some("lic-7"));
}
