//! The `ff-telemetry` binary as an administrator runs it.

use std::path::Path;
use std::process::{Command, Output};

use ff_telemetry_core::ping::PingPayload;

const BROKEN: &str = "\
port: web
license: {type: PRO}
colour: blue
telemetry:
  enabled: maybe
  url: ping.example.com
  frontend:
    sentry: {dsn: nope}
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
        "5 error(s), 1 warning(s)",
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
