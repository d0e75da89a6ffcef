//! `cargo xtask demo`: builds everything, then becomes `ff-telemetry demo`, which
//! runs the collector and the reference platform with the demo SPA.

use std::os::unix::process::CommandExt;

use anyhow::{Result, bail};

use crate::build;
use crate::shell::{cmd, exec, step, target_dir};

pub fn run(args: &[String]) -> Result<()> {
    build::run()?;
    let bin = build_cli()?;
    step("ff-telemetry demo");
    let mut demo = cmd(&bin, &["demo", "--spa-dir", build::SPA_DIST]);
    demo.args(args);
    // Replace this process, so Ctrl-C reaches the demo alone and it stops cleanly.
    let err = demo.exec();
    bail!("could not start {bin}: {err}")
}

/// Builds the `ff-telemetry` binary and returns its path.
pub fn build_cli() -> Result<String> {
    step("ff-telemetry binary");
    exec(&mut cmd("cargo", &["build", "-p", "ff-telemetry-cli"]))?;
    Ok(target_dir()
        .join("debug/ff-telemetry")
        .to_string_lossy()
        .into_owned())
}
