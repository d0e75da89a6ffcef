//! `ff-telemetry demo`: the collector and the reference platform in one process,
//! with every telemetry endpoint pointing at the collector, so the whole system runs
//! on one machine with no accounts.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;

use anyhow::{Context, Result};
use ff_platform::config::LoadedFile;
use ff_platform::{Platform, SeedSpec, StartOptions};
use ff_telemetry_backend::{Clock, StatsProvider, SystemClock, init_backend_sentry};
use ff_telemetry_collector::{Collector, CollectorConfig, SentryKey};
use tokio::sync::watch;

/// Where the demo keeps its state, what it serves, and how it starts.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoOptions {
    /// A real flowforge.yml instead of the generated one (checked before anything starts).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where the demo keeps its databases and generated config.
    #[arg(long, default_value = "data/demo")]
    pub data_dir: PathBuf,
    /// The platform's address when the config is generated (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// The collector's address (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:3001")]
    pub collector_listen: SocketAddr,
    /// The built single-page app (www/dist).
    #[arg(long)]
    pub spa_dir: Option<PathBuf>,
    /// Start a new, empty installation (no demo data) with the first-run setup
    /// pending: the app opens on its setup page.
    #[arg(long)]
    pub fresh: bool,
    /// Users of demo data added on the first start (the rest in proportion).
    #[arg(long = "seed", default_value_t = 25)]
    pub seed_users: u64,
    /// The collector's read token (else $FF_TELEMETRY_READ_TOKEN, else a new one,
    /// printed at start).
    #[arg(long, value_name = "TOKEN")]
    pub read_token: Option<String>,
}

/// The PostHog key and Sentry keys of the generated config.
const DEMO_POSTHOG_KEY: &str = "phc_demo";
const BROWSER_SENTRY_KEY: &str = "1:demo-browser-key";
const BACKEND_SENTRY_KEY: &str = "2:demo-backend-key";

/// Validates the config (before anything starts), then runs until Ctrl-C.
pub fn run(options: DemoOptions) -> Result<std::process::ExitCode> {
    let collector_addr = resolve_port(options.collector_listen)?;
    let (config_path, text) = match &options.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            (path.clone(), text)
        }
        None => {
            std::fs::create_dir_all(&options.data_dir)
                .with_context(|| format!("creating {}", options.data_dir.display()))?;
            let path = options.data_dir.join("flowforge.yml");
            let text = generated_config(resolve_port(options.listen)?, collector_addr);
            std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
            (path, text)
        }
    };
    let Some(file) = crate::load_or_report(&config_path, &text) else {
        return Ok(std::process::ExitCode::FAILURE);
    };
    crate::init_logging();
    for warning in &file.warnings {
        tracing::warn!("{}: {warning}", config_path.display());
    }
    let _sentry = init_backend_sentry(&file.telemetry, ff_platform::PLATFORM_VERSION);
    crate::runtime()?.block_on(serve(file, options, collector_addr))?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn serve(file: LoadedFile, options: DemoOptions, collector_addr: SocketAddr) -> Result<()> {
    let mut collector_config = CollectorConfig::new(options.data_dir.join("collector"));
    collector_config.listen = collector_addr;
    collector_config.sentry_keys = sentry_keys(&file);
    let read_token = options
        .read_token
        .clone()
        .or_else(crate::read_token_from_env)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    collector_config.read_token = Some(read_token.clone());
    let collector = Collector::bind(&collector_config)
        .await
        .context("starting the collector")?;

    let platform_dir = options.data_dir.join("platform");
    if options.fresh && platform_dir.exists() {
        // A fresh start is a new installation: the demo platform's data goes, what the
        // collector received stays.
        std::fs::remove_dir_all(&platform_dir)
            .with_context(|| format!("removing {}", platform_dir.display()))?;
    }
    let start = StartOptions {
        data_dir: Some(platform_dir),
        spa_dir: options.spa_dir.clone(),
        ..StartOptions::from_env()
    };
    let platform = Platform::open(&file, &start).await?;
    // A fresh installation stays empty until its administrator completes the setup
    // (so the setup page's ping preview counts nothing); otherwise the demo starts
    // set up, with demo data.
    if !options.fresh {
        let now = SystemClock.now();
        if platform.db().counts(now).await?.users.unwrap_or(0) == 0 {
            ff_platform::seed(platform.db(), &SeedSpec::scaled(options.seed_users), now).await?;
        }
        platform.setup().await?;
    }
    let listener = tokio::net::TcpListener::bind((file.platform.host.as_str(), file.platform.port))
        .await
        .with_context(|| format!("binding {}:{}", file.platform.host, file.platform.port))?;
    let platform_addr = listener.local_addr()?;
    let scheduler = platform.telemetry().spawn_scheduler()?;

    print_banner(
        &file,
        platform_addr,
        collector.local_addr(),
        &read_token,
        &options,
    );

    let (stop, stopped) = watch::channel(false);
    let until_stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let collector_task = tokio::spawn(collector.run_until(until_stopped(stopped.clone())));
    let platform_task = {
        let platform = platform.clone();
        let shutdown = until_stopped(stopped);
        tokio::spawn(async move { platform.serve(listener, shutdown).await })
    };
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    tracing::info!("stopping");
    scheduler.abort();
    let _ = stop.send(true);
    platform_task.await??;
    collector_task.await??;
    crate::say("demo stopped");
    Ok(())
}

/// Accepts envelopes for the DSNs the config names, whatever host they point at.
fn sentry_keys(file: &LoadedFile) -> Vec<SentryKey> {
    let frontend = file.telemetry.frontend.sentry.as_ref().map(|s| &s.dsn);
    let backend = file.telemetry.backend.sentry.as_ref().map(|s| &s.dsn);
    [frontend, backend]
        .into_iter()
        .flatten()
        .map(|dsn| SentryKey {
            project_id: dsn.project_id().to_owned(),
            public_key: dsn.public_key().to_owned(),
        })
        .collect()
}

/// Port 0 becomes a free port now, because the generated config must name it.
fn resolve_port(addr: SocketAddr) -> Result<SocketAddr> {
    if addr.port() != 0 {
        return Ok(addr);
    }
    let probe = StdListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    Ok(probe.local_addr()?)
}

fn generated_config(platform: SocketAddr, collector: SocketAddr) -> String {
    let admin_token = uuid::Uuid::new_v4().simple().to_string();
    let browser: SentryKey = BROWSER_SENTRY_KEY
        .parse()
        .unwrap_or_else(|_| unreachable!());
    let backend: SentryKey = BACKEND_SENTRY_KEY
        .parse()
        .unwrap_or_else(|_| unreachable!());
    let base = format!("http://{collector}");
    format!(
        "# Generated by `ff-telemetry demo`: every telemetry endpoint is the local collector.
host: {host}
port: {port}
admin:
  token: {admin_token}
license:
  type: CE
driver:
  type: localfs
broker:
  url: mqtt://127.0.0.1:1883
email:
  enabled: false
telemetry:
  enabled: true
  url: {base}/ping
  frontend:
    posthog:
      apikey: {DEMO_POSTHOG_KEY}
      apiurl: {base}
      capture_pageview: false
    sentry:
      dsn: {browser_dsn}
      report_localhost: true
  backend:
    sentry:
      dsn: {backend_dsn}
    prometheus:
      enabled: true
",
        host = platform.ip(),
        port = platform.port(),
        browser_dsn = browser.dsn(&base),
        backend_dsn = backend.dsn(&base),
    )
}

fn print_banner(
    file: &LoadedFile,
    platform: SocketAddr,
    collector: SocketAddr,
    read_token: &str,
    options: &DemoOptions,
) {
    let delay_s = file.telemetry.startup_delay_ms as f64 / 1000.0;
    let setup = if options.fresh {
        "first-run setup is pending: open the app to complete it".to_owned()
    } else {
        format!("first usage ping in {delay_s} s")
    };
    let spa = match &options.spa_dir {
        Some(dir) => dir.display().to_string(),
        None => "built-in page (no --spa-dir)".to_owned(),
    };
    crate::say(&format!(
        "\nff-telemetry demo is running
  app (SPA)       http://{platform}/        [{spa}]
  dashboard       http://{collector}/#token={read_token}
  read token      {read_token}   (the dashboard and /api/*: Authorization: Bearer …)
  admin token     {token}
  data            {data}
  {setup}; Ctrl-C stops everything\n",
        token = file
            .platform
            .admin_token
            .as_deref()
            .unwrap_or("(none: admin API closed)"),
        data = options.data_dir.display(),
    ));
}
