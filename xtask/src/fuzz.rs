//! `cargo xtask fuzz [--seconds N]`: every fuzz target of `crates/fuzz` for N
//! seconds each (default 60), with executions per target and the result.
//! `cargo xtask test` runs [`short_pass`].

use anyhow::{Result, bail};

use crate::shell::{cmd, exec, step};

/// Seconds per target of the short pass in `cargo xtask test` (13 targets).
const SHORT_PASS_SECONDS: &str = "2";

/// Runs the fuzz targets; arguments after `--seconds N` name targets to run alone.
pub fn run(args: &[String]) -> Result<()> {
    let mut seconds = "60".to_owned();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => match it.next() {
                Some(n) if n.parse::<f64>().is_ok_and(|n| n > 0.0) => seconds = n.clone(),
                _ => bail!("--seconds needs a positive number"),
            },
            other => rest.push(other),
        }
    }
    step(&format!("fuzzing every target for {seconds} s"));
    fuzz(&seconds, &rest)
}

/// A few seconds per target, for `cargo xtask test`.
pub fn short_pass() -> Result<()> {
    step("fuzz targets, short pass (`cargo xtask fuzz` runs them longer)");
    fuzz(SHORT_PASS_SECONDS, &[])
}

fn fuzz(seconds: &str, targets: &[&str]) -> Result<()> {
    let mut args = vec![
        "run",
        "--quiet",
        "-p",
        "ff-telemetry-fuzz",
        "--",
        "--seconds",
        seconds,
    ];
    args.extend_from_slice(targets);
    exec(&mut cmd("cargo", &args))
}
