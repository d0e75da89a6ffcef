//! `ff-telemetry-fuzz [--seconds N] [--seed S] [TARGET…]`: runs every target (or
//! those named) for N seconds each and prints executions and results; exits
//! non-zero when any input broke a target. Failing inputs are written to
//! `target/fuzz/failures/`.

// A command-line tool: its report goes to stdout.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use ff_telemetry_fuzz::engine::{Budget, Report, fuzz};
use ff_telemetry_fuzz::targets;

struct Args {
    seconds: f64,
    seed: u64,
    only: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 10.0,
        seed: 1,
        only: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--seconds" => {
                args.seconds = value("--seconds")?
                    .parse()
                    .map_err(|e| format!("--seconds: {e}"))?;
            }
            "--seed" => {
                args.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?;
            }
            other if other.starts_with('-') => return Err(format!("unknown flag {other}")),
            name => args.only.push(name.to_owned()),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ff-telemetry-fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let mut all = match targets::all() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("ff-telemetry-fuzz: cannot start the targets: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(unknown) = args
        .only
        .iter()
        .find(|n| all.iter().all(|t| t.name() != *n))
    {
        let names: Vec<&str> = all.iter().map(|t| t.name()).collect();
        eprintln!(
            "ff-telemetry-fuzz: no target {unknown:?}; the targets are {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    }
    all.retain(|t| args.only.is_empty() || args.only.iter().any(|n| n == t.name()));
    // Panics are caught and reported with their input; the default hook's
    // message for each would flood the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let budget = Budget::Time(Duration::from_secs_f64(args.seconds));
    println!(
        "{:<26} {:>10} {:>8} {:>11}  result",
        "target", "execs", "execs/s", "behaviours"
    );
    let mut reports = Vec::new();
    for target in &mut all {
        let report = fuzz(target.as_mut(), budget, args.seed);
        print_row(&report, args.seconds);
        reports.push(report);
    }
    let _ = std::panic::take_hook();
    let total: u64 = reports.iter().map(|r| r.execs).sum();
    let failed: Vec<&Report> = reports.iter().filter(|r| !r.passed()).collect();
    println!(
        "{total} executions over {} targets, {} failing",
        reports.len(),
        failed.len()
    );
    if failed.is_empty() {
        return ExitCode::SUCCESS;
    }
    for report in failed {
        describe_failure(report);
    }
    ExitCode::FAILURE
}

fn print_row(report: &Report, seconds: f64) {
    let result = match (&report.failures[..], &report.still_working) {
        ([], Ok(())) => "0 failures".to_owned(),
        ([], Err(e)) => format!("STOPPED WORKING: {e}"),
        (failures, _) => format!("{} FAILURES", failures.len()),
    };
    println!(
        "{:<26} {:>10} {:>8.0} {:>11}  {result}",
        report.name,
        report.execs,
        report.execs as f64 / seconds.max(0.001),
        report.behaviours
    );
}

/// Prints each failure and keeps its input for a regression test.
fn describe_failure(report: &Report) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz/failures");
    let _ = std::fs::create_dir_all(&dir);
    for (i, failure) in report.failures.iter().enumerate() {
        let path = dir.join(format!("{}-{i}.bin", report.name));
        let _ = std::fs::write(&path, &failure.input);
        let shown = String::from_utf8_lossy(&failure.input[..failure.input.len().min(400)]);
        println!(
            "\n{}: {}\n  input ({} bytes, kept in {}): {shown:?}",
            report.name,
            failure.message,
            failure.input.len(),
            path.display()
        );
    }
}
