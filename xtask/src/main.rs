//! `cargo xtask`: the project's only build orchestration (see `cargo xtask help`).
//!
//! Each task is one module; everything runs from the workspace root, whatever the
//! current directory.

// xtask talks to a person on a terminal.
#![allow(clippy::print_stdout)]

mod bench;
mod browser;
mod build;
mod demo;
mod fuzz;
mod import_names;
mod postgres;
mod sentry_upload;
mod setup;
mod shell;
mod test;
mod wasm_sections;

use anyhow::{Result, bail};

const HELP: &str = "\
cargo xtask <task>

  setup   install what a fresh Debian machine lacks (idempotent)
  build   the browser SDK's npm package in npm/pkg (wasm-pack, wasm-opt -Os, minified glue)
          and its gzipped size
  demo    build, then run the collector and the platform with the demo SPA
          (arguments go to `ff-telemetry demo`, e.g. --config flowforge.yml, --fresh)
  test    setup, then fmt, clippy, every native test, the wasm32 build of core,
          and the browser and end-to-end suites
          (`test browser` or `test e2e`: that suite alone, after setup)
  bench   [--quick] [--update-readme] ff-telemetry against posthog-js,
          posthog-js-lite and @sentry/browser, collector ingest, ping gathering:
          a table on stdout and in target/bench/report.md (--update-readme:
          README Performance)
  fuzz    [--seconds N] [TARGET...] every fuzz target (crates/fuzz) for N s each
          (default 60): executions per target, 0 panics, the collector still serving
  help    this text
";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    match task {
        "setup" => setup::run(),
        "build" => build::run(),
        "demo" => demo::run(rest),
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => bail!("unknown task {other:?}\n\n{HELP}"),
    }
}
