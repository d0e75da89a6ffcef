//! Records the version of the compiler that builds the platform: the ping's
//! `env.nodejs` field carries the runtime's version (FlowFuse sends Node's),
//! and for a Rust platform that is the compiler's, not the minimum it supports.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    // `rustc 1.95.0 (…)` → `1.95.0`; unknown when rustc does not say.
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=FF_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");
}
