//! `cargo xtask bench [--quick] [--update-readme] [--load-only] [--seconds N]`:
//! ff-telemetry side by side with posthog-js, posthog-js-lite and @sentry/browser,
//! and the collector (ingest, mixed load beside slow clients) and ping gathering on
//! SQLite and Postgres. `--load-only` runs just the collector load part, for
//! `--seconds` of mixed traffic (60 by default, 10 with `--quick`). Every comparison
//! is measured in the same run and shown as a ratio next to the absolute figures,
//! because shared machines are noisy.
//!
//! The browser half is `bench/run.mjs` (headless Chromium); the server half is the
//! `ff-telemetry-bench` binaries, built in release. Each prints JSON; this module
//! only runs them and writes the table to stdout and `target/bench/report.md`
//! (raw figures in `target/bench/results.json`). Nothing here asserts a figure.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::postgres::Throwaway;
use crate::setup::npm_install;
use crate::shell::{cmd, exec, project_root, read, step};

const README_START: &str = "<!-- bench:start (cargo xtask bench --update-readme) -->";
const README_END: &str = "<!-- bench:end -->";
/// Milliseconds building the ping payload may take on the big seed (SQLite).
const GATHERING_TARGET_MS: f64 = 100.0;

/// How much work each part does.
struct Scale {
    quick: bool,
    ingest_seconds: u64,
    ingest_rounds: u64,
    users: u64,
    devices: u64,
    teams: u64,
    gathering_runs: u64,
    load_seconds: u64,
}

/// Connections of the mixed-traffic load.
const LOAD_CONNECTIONS: u64 = 64;
/// Idle and slow connections opened at once beside it.
const SLOW_CONNECTIONS: u64 = 1_000;

impl Scale {
    fn new(quick: bool) -> Self {
        if quick {
            Scale {
                quick,
                ingest_seconds: 4,
                ingest_rounds: 2,
                users: 100_000,
                devices: 10_000,
                teams: 1_000,
                gathering_runs: 5,
                load_seconds: 10,
            }
        } else {
            Scale {
                quick,
                ingest_seconds: 12,
                ingest_rounds: 4,
                users: 1_000_000,
                devices: 100_000,
                teams: 10_000,
                gathering_runs: 7,
                load_seconds: 60,
            }
        }
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let mut quick = false;
    let mut update_readme = false;
    let mut load_only = false;
    let mut load_seconds = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--update-readme" => update_readme = true,
            "--load-only" => load_only = true,
            "--seconds" => {
                let n = args.next().and_then(|n| n.parse::<u64>().ok());
                load_seconds = Some(n.context("--seconds takes a whole number")?.clamp(1, 3_600));
            }
            other => bail!(
                "cargo xtask bench: unknown flag {other:?} (--quick, --update-readme, --load-only, --seconds N)"
            ),
        }
    }
    let mut scale = Scale::new(quick);
    if let Some(seconds) = load_seconds {
        scale.load_seconds = seconds;
    }
    if load_only {
        return run_load_only(&scale);
    }

    step("bench: dependencies and builds");
    npm_install("bench")?;
    crate::build::run()?;
    exec(&mut cmd(
        "cargo",
        &["build", "--release", "--quiet", "-p", "ff-telemetry-bench"],
    ))?;

    let started = std::time::Instant::now();
    let load_at_start = load_average();
    step("bench: browser (headless Chromium)");
    let mut node_args = vec!["bench/run.mjs", "--npm", "npm"];
    if quick {
        node_args.push("--quick");
    }
    let browser = json_from(&mut cmd("node", &node_args))?;
    println!("({:.0} s)", started.elapsed().as_secs_f64());

    step("bench: collector and ping gathering");
    let postgres = crate::postgres::start();
    let mut servers = Vec::new();
    let mut server_urls: Vec<Option<String>> = vec![None];
    server_urls.extend(postgres.as_ref().map(Throwaway::url).map(Some));
    for url in &server_urls {
        let ingest = bench_bin(
            "collector_ingest",
            &[
                ("seconds", scale.ingest_seconds),
                ("rounds", scale.ingest_rounds),
            ],
            url.as_deref(),
        )?;
        let gathering = bench_bin(
            "ping_gathering",
            &[
                ("users", scale.users),
                ("devices", scale.devices),
                ("teams", scale.teams),
                ("runs", scale.gathering_runs),
            ],
            url.as_deref(),
        )?;
        let load = collector_load(&scale, url.as_deref())?;
        servers.push(json!({"ingest": ingest, "gathering": gathering, "load": load}));
    }
    drop(postgres);
    println!("(measuring took {:.0} s)", started.elapsed().as_secs_f64());

    let machine = Machine::detect(&browser, [load_at_start, load_average()]);
    let report = render(&scale, &browser, &servers, &machine);
    let out_dir = project_root().join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    std::fs::write(out_dir.join("report.md"), &report)?;
    std::fs::write(
        out_dir.join("results.json"),
        serde_json::to_string_pretty(&json!({"browser": browser, "servers": servers}))?,
    )?;
    println!("\n{report}");
    println!("(written to target/bench/report.md)");
    if any_failure(&browser) {
        bail!("some browser measurements failed (see the table)");
    }
    if update_readme {
        if quick {
            bail!("--update-readme takes the full run's figures; run it without --quick");
        }
        update_readme_section(&report)?;
        println!("README.md: Performance section updated");
    }
    Ok(())
}

/// `cargo xtask bench --load-only`: the collector under load on SQLite and, when a
/// server can be started, Postgres; the table is printed, nothing is written.
fn run_load_only(scale: &Scale) -> Result<()> {
    step("bench: collector under load");
    exec(&mut cmd(
        "cargo",
        &["build", "--release", "--quiet", "-p", "ff-telemetry-bench"],
    ))?;
    let postgres = crate::postgres::start();
    let mut servers = vec![json!({"load": collector_load(scale, None)?})];
    if let Some(pg) = &postgres {
        servers.push(json!({"load": collector_load(scale, Some(&pg.url()))?}));
    }
    drop(postgres);
    println!("\n{}", load(scale, &servers));
    Ok(())
}

fn collector_load(scale: &Scale, postgres: Option<&str>) -> Result<Value> {
    bench_bin(
        "collector_load",
        &[
            ("seconds", scale.load_seconds),
            ("connections", LOAD_CONNECTIONS),
            ("slow", SLOW_CONNECTIONS),
        ],
        postgres,
    )
}

/// Runs one release binary of `ff-telemetry-bench` and parses its JSON.
fn bench_bin(name: &str, numbers: &[(&str, u64)], postgres: Option<&str>) -> Result<Value> {
    let exe = project_root().join("target/release").join(name);
    let mut c = Command::new(exe);
    for (flag, value) in numbers {
        c.arg(format!("--{flag}")).arg(value.to_string());
    }
    if let Some(url) = postgres {
        c.args(["--postgres", url]);
    }
    println!(
        "$ {name} on {}",
        if postgres.is_some() {
            "Postgres"
        } else {
            "SQLite"
        }
    );
    json_from(&mut c)
}

/// Runs `c` with stderr on the terminal and parses its stdout as one JSON value.
fn json_from(c: &mut Command) -> Result<Value> {
    let out = c
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {:?}", c.get_program()))?;
    if !out.status.success() {
        bail!("{:?} failed with {}", c.get_program(), out.status);
    }
    serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{:?} did not print one JSON object", c.get_program()))
}

struct Machine {
    cpu: String,
    cores: usize,
    chromium: String,
    date: String,
    /// The 1-minute load average when measuring started and when it ended:
    /// other work on a shared machine shows in every absolute figure.
    load: [Option<f64>; 2],
}

/// The 1-minute load average (`/proc/loadavg`), where there is one.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl Machine {
    fn detect(browser: &Value, load: [Option<f64>; 2]) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
            .map(|(_, model)| model.trim().to_owned())
            .unwrap_or_else(|| "unknown CPU".to_owned());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            chromium: browser["chromium"].as_str().unwrap_or("?").to_owned(),
            date: read(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
                .unwrap_or_default(),
            load,
        }
    }
}

/// Why the measurement at `pointer` failed, if it did.
fn failure(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)?
        .get("error")?
        .as_str()
        .map(|e| e.replace('|', "/"))
}

/// Whether any browser measurement failed.
fn any_failure(browser: &Value) -> bool {
    ["route_change", "startup", "error_capture"]
        .iter()
        .any(|part| {
            browser[part]
                .as_object()
                .is_some_and(|libs| libs.values().any(|m| m.get("error").is_some()))
        })
}

/// A number from `v` at a JSON pointer.
fn num(v: &Value, pointer: &str) -> Option<f64> {
    v.pointer(pointer).and_then(Value::as_f64)
}

fn fixed(x: Option<f64>, decimals: usize) -> String {
    x.map_or("n/a".to_owned(), |x| format!("{x:.decimals$}"))
}

fn kb(bytes: Option<f64>) -> String {
    bytes.map_or("n/a".to_owned(), |b| format!("{:.1} KB", b / 1024.0))
}

/// `a / b` as "0.25×", or n/a.
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "n/a".to_owned(),
    }
}

fn render(scale: &Scale, browser: &Value, servers: &[Value], machine: &Machine) -> String {
    let mut md = String::new();
    let mode = if scale.quick { " (--quick)" } else { "" };
    md += &format!(
        "Measured {}{mode} on {} ({} cores), {}, load average (1 min) {} when measuring \
         started and {} when it ended; all figures of a table come from the same run.\n\n",
        machine.date,
        machine.cpu,
        machine.cores,
        machine.chromium,
        fixed(machine.load[0], 2),
        fixed(machine.load[1], 2),
    );
    md += &sizes(browser);
    md += &route_changes(browser);
    md += &startup(browser);
    md += &error_capture(browser);
    md += &ingest(scale, servers);
    md += &gathering(scale, servers);
    md += &load(scale, servers);
    md
}

fn sizes(b: &Value) -> String {
    let gz = |k: &str| num(b, &format!("/size/{k}/gzip"));
    let br = |k: &str| num(b, &format!("/size/{k}/brotli"));
    let ours = gz("ours_total");
    // A PostHog bundle next to @sentry/browser's, as an app using both ships them.
    let with_sentry = |size: &dyn Fn(&str) -> Option<f64>, posthog: &str| {
        Some(size(posthog)? + size("sentry_init_bundle")?)
    };
    let anchors = with_sentry(&gz, "posthog_bundle");
    let row = |name: &str, g: Option<f64>, r: Option<f64>| {
        format!("| {name} | {} | {} | {} |\n", kb(g), kb(r), ratio(g, ours))
    };
    let part =
        |name: &str, key: &str| format!("| {name} | {} | {} | |\n", kb(gz(key)), kb(br(key)));
    let mut md = String::from(
        "### 1. Bundle size (gzip -9, brotli 11)\n\n\
         | what ships | gzip | brotli | × ours (gzip) |\n|---|---:|---:|---:|\n",
    );
    md += &row(
        "**ff-telemetry** (wasm + esbuild-minified JS)",
        ours,
        br("ours_total"),
    );
    md += &part("of which the wasm", "ours_wasm");
    md += &part("of which the JS", "ours_js");
    md += &row(
        "posthog-js `dist/array.js`",
        gz("posthog_array"),
        br("posthog_array"),
    );
    md += &row(
        "posthog-js `init` + `capture` (esbuild-minified)",
        gz("posthog_bundle"),
        br("posthog_bundle"),
    );
    md += &row(
        "posthog-js-lite `new PostHog` + `capture` (esbuild-minified)",
        gz("posthog_lite_bundle"),
        br("posthog_lite_bundle"),
    );
    md += &row(
        "@sentry/browser `init` (esbuild-minified)",
        gz("sentry_init_bundle"),
        br("sentry_init_bundle"),
    );
    md += &row(
        "**posthog-js + @sentry/browser** (the two bundles)",
        anchors,
        with_sentry(&br, "posthog_bundle"),
    );
    md += &row(
        "posthog-js-lite + @sentry/browser (the two bundles)",
        with_sentry(&gz, "posthog_lite_bundle"),
        with_sentry(&br, "posthog_lite_bundle"),
    );
    let verdict = |ok: bool| if ok { "met" } else { "**missed**" };
    if let (Some(ours), Some(anchors)) = (ours, anchors) {
        let budget = crate::build::WHOLE_SDK_BUDGET.target as f64;
        md += &format!(
            "\nTarget ≤ {} gzipped: {} ({}); {:.1}× smaller than posthog-js + @sentry/browser.\n\n",
            kb(Some(budget)),
            verdict(ours <= budget),
            kb(Some(ours)),
            anchors / ours
        );
    } else {
        md += "\n";
    }
    md
}

fn route_changes(b: &Value) -> String {
    let fig = |lib: &str, k: &str| num(b, &format!("/route_change/{lib}/{k}"));
    let base = fig("none", "median_us");
    let net = |lib: &str, k: &str| fig(lib, k).zip(base).map(|(m, base)| m - base);
    let mut md = format!(
        "### 2. Main-thread cost per route change ({} in a row per page load, page loads: {}, headless Chromium)\n\n\
         Each step is `history.pushState` plus the library's captures, timed one by one in chunks of {} \
         with an untimed {} ms pause between chunks (sending happens there). posthog-js-lite pauses \
         every {} steps instead, after its `flush()` has finished: it sends once 20 events are \
         queued and re-serialises its whole queue on every capture, so longer chunks or \
         unfinished sends would measure it with a longer queue than it holds between real \
         navigations. The no-library page \
         (pushState only) runs in the same run; \"net\" subtracts its median. Steps during which the \
         library logged a console warning (ff-telemetry: its bounded queue dropping events in this \
         burst) are also shown apart.\n\n\
         | library | median µs | p99 µs | net median µs | × posthog-js | × posthog-js-lite | steps that warned | net median µs, other steps | × posthog-js |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        count(b, "route_changes"),
        count(b, "loads_per_measure"),
        count(b, "route_change_chunk"),
        count(b, "route_change_pause_ms"),
        count(b, "route_change_chunk_posthog_lite"),
    );
    for (lib, name) in [
        ("none", "no library (pushState only)"),
        (
            "ours",
            "ff-telemetry `routeChanged` ($pageleave + $pageview)",
        ),
        (
            "posthog",
            "posthog-js `capture('$pageleave')` + `capture('$pageview')`",
        ),
        (
            "posthog_lite",
            "posthog-js-lite `capture('$pageleave')` + `capture('$pageview')`",
        ),
    ] {
        if let Some(error) = failure(b, &format!("/route_change/{lib}")) {
            md += &format!("| {name} | failed: {error} | | | | | | | |\n");
            continue;
        }
        let quiet = "median_us_without_warnings";
        let cells = if lib == "none" {
            ["—"; 5].map(str::to_owned)
        } else {
            [
                fixed(net(lib, "median_us"), 1),
                ratio(net(lib, "median_us"), net("posthog", "median_us")),
                ratio(net(lib, "median_us"), net("posthog_lite", "median_us")),
                fixed(net(lib, quiet), 1),
                ratio(net(lib, quiet), net("posthog", quiet)),
            ]
        };
        let [net_all, ratio_all, ratio_lite, net_quiet, ratio_quiet] = cells;
        md += &format!(
            "| {name} | {} | {} | {net_all} | {ratio_all} | {ratio_lite} | {} | {net_quiet} | {ratio_quiet} |\n",
            fixed(fig(lib, "median_us"), 1),
            fixed(fig(lib, "p99_us"), 1),
            fixed(fig(lib, "steps_with_warnings"), 0),
        );
    }
    md += "\nTarget: ff-telemetry at most a third of posthog-js (≤ 0.33×).\n\n";
    md
}

fn startup(b: &Value) -> String {
    let ms = |lib: &str| num(b, &format!("/startup/{lib}/median_ms"));
    let mut md = format!(
        "### 3. Start-up: import to ready to capture (median of {} fresh page loads)\n\n\
         | library | median ms | × posthog-js | × posthog-js-lite |\n|---|---:|---:|---:|\n",
        count(b, "startup_loads"),
    );
    for (lib, name) in [
        ("none", "no library (empty evaluate)"),
        ("ours", "ff-telemetry (`start`: fetch + instantiate wasm)"),
        ("posthog", "posthog-js (`import` + `init`)"),
        ("posthog_lite", "posthog-js-lite (`import` + `new PostHog`)"),
        ("sentry", "@sentry/browser (`import` + `init`)"),
    ] {
        if let Some(error) = failure(b, &format!("/startup/{lib}")) {
            md += &format!("| {name} | failed: {error} | | |\n");
            continue;
        }
        md += &format!(
            "| {name} | {} | {} | {} |\n",
            fixed(ms(lib), 2),
            ratio(ms(lib), ms("posthog")),
            ratio(ms(lib), ms("posthog_lite"))
        );
    }
    md + "\n"
}

fn error_capture(b: &Value) -> String {
    let us = |lib: &str, k: &str| num(b, &format!("/error_capture/{lib}/{k}"));
    let mut md = format!(
        "### 4. `captureException` cost per call ({} calls, median µs)\n\n\
         @sentry/browser buffers 40 envelopes and drops later ones after the whole \
         pipeline, so the first 40 calls and the rest are shown apart.\n\n\
         | library | all calls | first 40 | the rest | × @sentry/browser (all) |\n\
         |---|---:|---:|---:|---:|\n",
        count(b, "error_captures"),
    );
    for (lib, name) in [("ours", "ff-telemetry"), ("sentry", "@sentry/browser")] {
        if b.pointer(&format!("/error_capture/{lib}")).is_none() {
            md += &format!("| {name} | not measured | | | |\n");
            continue;
        }
        if let Some(error) = failure(b, &format!("/error_capture/{lib}")) {
            md += &format!("| {name} | failed: {error} | | | |\n");
            continue;
        }
        md += &format!(
            "| {name} | {} | {} | {} | {} |\n",
            fixed(us(lib, "median_us"), 1),
            fixed(us(lib, "first40_us"), 1),
            fixed(us(lib, "rest_us"), 1),
            ratio(us(lib, "median_us"), us("sentry", "median_us"))
        );
    }
    md + "\n"
}

fn ingest(scale: &Scale, servers: &[Value]) -> String {
    let mut md = format!(
        "### 5. Collector ingest: `POST /ping` over loopback\n\n\
         HTTP: the keep-alive load generator. In-process: the same pings through the \
         same handler and storage without sockets or HTTP, the ceiling HTTP is compared \
         with. The two alternate in {} rounds ({} s per mode in all); latencies are the \
         median of the rounds' percentiles. A request is answered once its row is \
         committed.\n\n\
         | database | connections | HTTP req/s | p50 ms | p99 ms | stored = accepted | in-process req/s | in-process p50 / p99 ms | HTTP ÷ in-process |\n\
         |---|---:|---:|---:|---:|---|---:|---:|---:|\n",
        scale.ingest_rounds, scale.ingest_seconds,
    );
    for s in servers {
        let i = &s["ingest"];
        let stored_ok = |part: &str| {
            let accepted = num(i, &format!("/{part}/accepted"));
            let stored = num(i, &format!("/{part}/stored"));
            match (accepted, stored) {
                (Some(a), Some(s)) if a == s => format!("yes ({a:.0})"),
                (a, s) => format!("**no** ({} accepted, {} stored)", fixed(a, 0), fixed(s, 0)),
            }
        };
        let rate = |part: &str| num(i, &format!("/{part}/requests_per_sec"));
        md += &format!(
            "| {} | {} | {} | {} | {} | {} (in-process: {}) | {} | {} / {} | {} |\n",
            i["engine"].as_str().unwrap_or("?"),
            fixed(num(i, "/connections"), 0),
            fixed(rate("http"), 0),
            fixed(num(i, "/http/p50_ms"), 2),
            fixed(num(i, "/http/p99_ms"), 2),
            stored_ok("http"),
            stored_ok("in_process"),
            fixed(rate("in_process"), 0),
            fixed(num(i, "/in_process/p50_ms"), 2),
            fixed(num(i, "/in_process/p99_ms"), 2),
            percent(rate("http"), rate("in_process")),
        );
    }
    if servers.len() < 2 {
        md += "\nPostgres: not measured (no PostgreSQL server on this machine).\n";
    }
    md + "\n"
}

fn percent(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.0} %", 100.0 * a / b),
        _ => "n/a".to_owned(),
    }
}

fn gathering(scale: &Scale, servers: &[Value]) -> String {
    let mut md = format!(
        "### 6. Ping gathering: building the usage-ping payload\n\n\
         Seeded with {} users, {} devices, {} teams (the rest in proportion to the teams); \
         median of {} builds. Target on SQLite: under {GATHERING_TARGET_MS:.0} ms (full run).\n\n\
         | database | seeding s | first build ms | median ms | max ms | × SQLite (median) |\n\
         |---|---:|---:|---:|---:|---:|\n",
        thousands(scale.users),
        thousands(scale.devices),
        thousands(scale.teams),
        scale.gathering_runs
    );
    let sqlite_median = servers
        .first()
        .and_then(|s| num(&s["gathering"], "/median_ms"));
    for s in servers {
        let g = &s["gathering"];
        md += &format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            g["engine"].as_str().unwrap_or("?"),
            fixed(num(g, "/seed_seconds"), 1),
            fixed(num(g, "/first_ms"), 1),
            fixed(num(g, "/median_ms"), 1),
            fixed(num(g, "/max_ms"), 1),
            ratio(num(g, "/median_ms"), sqlite_median),
        );
    }
    if servers.len() < 2 {
        md += "\nPostgres: not measured (no PostgreSQL server on this machine).\n";
    }
    md
}

fn load(scale: &Scale, servers: &[Value]) -> String {
    let mut md = format!(
        "\n### 7. Collector under load: mixed traffic, then beside {} slow clients\n\n\
         The collector runs as its own process with its production defaults. {LOAD_CONNECTIONS} \
         keep-alive connections send in turn a usage ping, a PostHog batch of 10 events and a \
         Sentry envelope with one error event, for {} s; then the same traffic runs while \
         {} more connections are opened at once and held (a third idle, a third sending a \
         header byte every 50 ms, a third idle after one request) until the collector closes \
         them. A row is counted accepted when its request was answered 2xx; stored rows are \
         counted in the database afterwards.\n\n\
         | database | requests | rows/s | req/s | p50 ms | p99 ms | answers | stored = accepted (both runs) | peak RSS MB |\n\
         |---|---:|---:|---:|---:|---:|---|---|---:|\n",
        thousands(SLOW_CONNECTIONS),
        scale.load_seconds,
        thousands(SLOW_CONNECTIONS),
    );
    let answers = |part: &Value| {
        let statuses = part["statuses"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(status, n)| format!("{} × {status}", thousands(n.as_u64().unwrap_or(0))))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        match part["unanswered"].as_u64() {
            Some(0) | None => statuses,
            Some(n) => format!("{statuses}, **{n} unanswered**"),
        }
    };
    let mut slow_rows = String::new();
    for s in servers {
        let l = &s["load"];
        let engine = l["engine"].as_str().unwrap_or("?");
        let stored = |what: &str| {
            (
                num(l, &format!("/accepted/{what}")),
                num(l, &format!("/stored/{what}")),
            )
        };
        let verdict = match (stored("pings"), stored("events")) {
            ((Some(ap), Some(sp)), (Some(ae), Some(se))) if ap == sp && ae == se => {
                format!("yes ({ap:.0} pings, {ae:.0} events)")
            }
            ((ap, sp), (ae, se)) => format!(
                "**no** (accepted {} pings, {} events; stored {}, {})",
                fixed(ap, 0),
                fixed(ae, 0),
                fixed(sp, 0),
                fixed(se, 0)
            ),
        };
        // Rate, latencies and answers of one part of the run.
        let served = |part: &str| {
            format!(
                "{} | {} | {} | {}",
                fixed(num(l, &format!("/{part}/requests_per_sec")), 0),
                fixed(num(l, &format!("/{part}/p50_ms")), 2),
                fixed(num(l, &format!("/{part}/p99_ms")), 2),
                answers(&l[part]),
            )
        };
        md += &format!(
            "| {engine} | {} | {} | {} | {verdict} | {} |\n",
            fixed(num(l, "/mixed/requests"), 0),
            fixed(num(l, "/mixed/rows_per_sec"), 0),
            served("mixed"),
            fixed(num(l, "/peak_rss_mb_before_slow"), 1),
        );
        slow_rows += &format!(
            "| {engine} | {} of {} | {}–{} | {} | {} |\n",
            fixed(num(l, "/slow/closed_by_collector"), 0),
            fixed(num(l, "/slow/opened"), 0),
            fixed(num(l, "/slow/closed_after_min_s"), 1),
            fixed(num(l, "/slow/closed_after_max_s"), 1),
            served("beside_slow"),
            fixed(num(l, "/peak_rss_mb"), 1),
        );
    }
    md += &format!(
        "\nBeside {} idle or slow connections (the collector's header timeout: {} s):\n\n\
         | database | closed by the collector | closed after s | req/s | p50 ms | p99 ms | answers | peak RSS MB |\n\
         |---|---|---:|---:|---:|---:|---|---:|\n{slow_rows}",
        thousands(SLOW_CONNECTIONS),
        fixed(
            servers
                .first()
                .and_then(|s| num(s, "/load/slow/header_timeout_s")),
            0
        ),
    );
    md
}

/// How many of something the browser run did, from its `counts`.
fn count(b: &Value, what: &str) -> String {
    b["counts"][what].as_u64().map_or("?".to_owned(), thousands)
}

/// 1000000 → "1,000,000".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Replaces the README's generated Performance block, or appends the section.
fn update_readme_section(report: &str) -> Result<()> {
    let path = project_root().join("README.md");
    let readme = std::fs::read_to_string(&path)?;
    let block = format!("{README_START}\n{report}\n{README_END}");
    let updated = match (readme.find(README_START), readme.find(README_END)) {
        (Some(start), Some(end)) if start < end => format!(
            "{}{block}{}",
            &readme[..start],
            &readme[end + README_END.len()..]
        ),
        (None, None) => format!(
            "{}\n\n## Performance\n\n`cargo xtask bench` measures ff-telemetry against posthog-js, \
             posthog-js-lite and @sentry/browser, and the collector and ping gathering; `--update-readme` rewrites \
             this section.\n\n{block}\n",
            readme.trim_end()
        ),
        _ => bail!("README.md has a broken bench marker pair; fix it by hand"),
    };
    std::fs::write(&path, updated)?;
    Ok(())
}
