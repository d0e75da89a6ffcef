//! `ff-telemetry`: run the demo, the reference platform or the collector, preview
//! the usage ping, check a `flowforge.yml`.

// Printing results is this binary's job.
#![allow(clippy::print_stdout)]

mod demo;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use ff_platform::config::{FileErrors, LoadedFile, load_flowforge_yml};
use ff_platform::{Platform, SeedSpec, StartOptions};
use ff_telemetry_backend::{Clock, SystemClock, init_backend_sentry};

/// FlowFuse-style telemetry: usage ping, Sentry, Prometheus, PostHog.
#[derive(Debug, Parser)]
#[command(name = "ff-telemetry", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the reference platform with telemetry as configured.
    Platform {
        /// The platform's flowforge.yml.
        #[arg(long)]
        config: PathBuf,
        /// Where the SQLite database lives (overrides `data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The single-page app to serve (overrides `spa_dir`).
        #[arg(long)]
        spa_dir: Option<PathBuf>,
        /// Mark the platform initialised, as its first-run setup would.
        #[arg(long)]
        setup: bool,
        /// Add demo data for this many users (and everything else in proportion).
        #[arg(long, value_name = "USERS")]
        seed: Option<u64>,
    },
    /// Print the exact usage ping the platform would send now.
    Preview {
        /// The platform's flowforge.yml.
        #[arg(long)]
        config: PathBuf,
        /// Where the SQLite database lives (overrides `data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Run the collector and the platform together, all telemetry pointing at the
    /// collector: the whole system on one machine, no accounts.
    Demo(demo::DemoOptions),
    /// Receive usage pings; a local PostHog and Sentry sink with a dashboard.
    Collector {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:3001")]
        listen: SocketAddr,
        /// `sqlite://…` or `postgres://…` (default: a SQLite file in the data dir).
        #[arg(long)]
        database: Option<String>,
        /// Where the default database and the generated IP-hash key live.
        #[arg(long, default_value = "collector-data")]
        data_dir: PathBuf,
        /// A file holding the IP-hash key (else $FF_TELEMETRY_IP_KEY, else generated).
        #[arg(long)]
        ip_key_file: Option<PathBuf>,
        /// A proxy whose X-Forwarded-For is believed (CIDR; repeatable).
        #[arg(long = "trusted-proxy", value_name = "CIDR")]
        trusted_proxies: Vec<ff_telemetry_collector::IpNet>,
        /// A PostHog project token to accept (repeatable; none: any token).
        #[arg(long = "posthog-token", value_name = "TOKEN")]
        posthog_tokens: Vec<String>,
        /// A Sentry PROJECT_ID:PUBLIC_KEY to accept (repeatable).
        #[arg(long = "sentry-key", value_name = "PROJECT_ID:PUBLIC_KEY")]
        sentry_keys: Vec<ff_telemetry_collector::SentryKey>,
        /// The bearer token the dashboard and query API need (else
        /// $FF_TELEMETRY_READ_TOKEN). Without one they are open, which is allowed only
        /// on a loopback address: on any other the collector refuses to start.
        #[arg(long, value_name = "TOKEN")]
        read_token: Option<String>,
    },
    /// Check a flowforge.yml: print every problem with its YAML path.
    CheckConfig {
        /// The file to check.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::CheckConfig { file } => check_config(&file),
        Command::Demo(options) => demo::run(options),
        Command::Collector {
            listen,
            database,
            data_dir,
            ip_key_file,
            trusted_proxies,
            posthog_tokens,
            sentry_keys,
            read_token,
        } => {
            init_logging();
            let mut config = ff_telemetry_collector::CollectorConfig::new(data_dir);
            config.listen = listen;
            config.database_url = database;
            config.ip_key_file = ip_key_file;
            config.trusted_proxies = trusted_proxies;
            config.posthog_tokens = posthog_tokens;
            config.sentry_keys = sentry_keys;
            config.read_token = read_token.or_else(read_token_from_env);
            runtime()?.block_on(ff_telemetry_collector::serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Platform {
            config,
            data_dir,
            spa_dir,
            setup,
            seed,
        } => {
            let Some(file) = read_or_report(&config)? else {
                return Ok(ExitCode::FAILURE);
            };
            init_logging();
            for warning in &file.warnings {
                tracing::warn!("{}: {warning}", config.display());
            }
            // Before the runtime starts, so every thread reports to this client.
            let _sentry = init_backend_sentry(&file.telemetry, ff_platform::PLATFORM_VERSION);
            let options = StartOptions {
                data_dir,
                spa_dir,
                ..StartOptions::from_env()
            };
            runtime()?.block_on(run_platform(file, options, setup, seed))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Preview { config, data_dir } => {
            let Some(file) = read_or_report(&config)? else {
                return Ok(ExitCode::FAILURE);
            };
            let options = StartOptions {
                data_dir,
                ..StartOptions::default()
            };
            let json = runtime()?.block_on(async {
                let platform = Platform::open(&file, &options).await?;
                let payload = platform.telemetry().payload(SystemClock.now()).await?;
                anyhow::Ok(serde_json::to_string_pretty(&payload)?)
            })?;
            println!("{json}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads `path`, printing every problem; `None` when it has errors.
fn read_or_report(path: &Path) -> Result<Option<LoadedFile>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(load_or_report(path, &text))
}

/// Checks `text` (the contents of `path`), printing every problem; `None` when it
/// has errors, so nothing starts half-configured.
fn load_or_report(path: &Path, text: &str) -> Option<LoadedFile> {
    match load_flowforge_yml(text) {
        Ok(file) => Some(file),
        Err(problems) => {
            print_problems(path, &problems, |line| eprintln!("{line}"));
            eprintln!("{}: not starting", path.display());
            None
        }
    }
}

/// The read token from `$FF_TELEMETRY_READ_TOKEN`, when set and not empty.
fn read_token_from_env() -> Option<String> {
    std::env::var(ff_telemetry_collector::READ_TOKEN_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
}

/// A line for the person at the terminal.
fn say(line: &str) {
    println!("{line}");
}

fn check_config(path: &Path) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match load_flowforge_yml(&text) {
        Ok(file) => {
            for warning in &file.warnings {
                println!("{}: warning: {warning}", path.display());
            }
            println!(
                "{}: ok ({} warning(s))",
                path.display(),
                file.warnings.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            print_problems(path, &problems, |line| println!("{line}"));
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_problems(path: &Path, problems: &FileErrors, print: impl Fn(&str)) {
    let file = path.display();
    for error in &problems.errors {
        print(&format!("{file}: error: {error}"));
    }
    for warning in &problems.warnings {
        print(&format!("{file}: warning: {warning}"));
    }
    print(&format!(
        "{file}: {} error(s), {} warning(s)",
        problems.errors.len(),
        problems.warnings.len()
    ));
}

async fn run_platform(
    file: LoadedFile,
    options: StartOptions,
    setup: bool,
    seed: Option<u64>,
) -> Result<()> {
    let platform = Platform::open(&file, &options).await?;
    if let Some(users) = seed {
        ff_platform::seed(platform.db(), &SeedSpec::scaled(users), SystemClock.now()).await?;
        tracing::info!(users, "demo data added");
    }
    if setup {
        platform.setup().await?;
    }
    let listener = tokio::net::TcpListener::bind((file.platform.host.as_str(), file.platform.port))
        .await
        .with_context(|| format!("binding {}:{}", file.platform.host, file.platform.port))?;
    tracing::info!("platform listening on http://{}", listener.local_addr()?);
    let scheduler = platform.telemetry().spawn_scheduler()?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    platform.serve(listener, shutdown).await?;
    scheduler.abort();
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}
