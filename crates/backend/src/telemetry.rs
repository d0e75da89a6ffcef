//! [`Telemetry`]: the shared handle a platform builds once and hands to the scheduler,
//! the admin API and the metrics endpoint.

use std::sync::{Arc, Mutex};

use ff_telemetry_core::config::TelemetryConfig;
use ff_telemetry_core::ping::{PingInputs, effective_admin_setting, should_send};
use ff_telemetry_wire::UnixMs;
use ff_telemetry_wire::ping::{
    EnvInfo, LicenseInfo, OsInfo, PingPayload, PlatformConfigInfo, PlatformInfo,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use uuid::Uuid;

use crate::metrics::Metrics;
use crate::store::{SettingsStore, StatsProvider, StoreError, keys};

/// What the platform says about itself: fixed for the life of the process.
#[derive(Debug, Clone, PartialEq)]
pub struct HostInfo {
    /// The platform version (`env.flowforge`, and the Sentry release).
    pub version: String,
    /// The runtime version string (`env.nodejs` on the wire).
    pub runtime: String,
    /// The licence the platform runs under.
    pub license: LicenseInfo,
    /// Which platform features are on.
    pub platform_config: PlatformConfigInfo,
}

/// The outcome of the last ping attempt, as the admin API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PingStatus {
    /// The collector accepted it.
    Sent,
    /// Every attempt failed or the collector refused it.
    Failed,
}

/// The last ping attempt, stored in the settings so every replica reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastPing {
    /// When the attempt ended.
    pub at: UnixMs,
    /// How it ended.
    pub status: PingStatus,
}

/// The shared telemetry state of one platform process. Cheap to clone.
///
/// ```no_run
/// # async fn example(
/// #     stats: std::sync::Arc<dyn ff_telemetry_backend::StatsProvider>,
/// #     settings: std::sync::Arc<dyn ff_telemetry_backend::SettingsStore>,
/// #     host: ff_telemetry_backend::HostInfo,
/// # ) {
/// use ff_telemetry_backend::Telemetry;
/// use ff_telemetry_core::config::TelemetryConfig;
/// use ff_telemetry_wire::UnixMs;
/// let telemetry = Telemetry::new(TelemetryConfig::default(), host, stats, settings);
/// let payload = telemetry.payload(UnixMs(1_700_000_000_000)).await.unwrap();
/// println!("{}", payload.to_json());
/// # }
/// ```
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

struct Inner {
    config: TelemetryConfig,
    host: HostInfo,
    stats: Arc<dyn StatsProvider>,
    settings: Arc<dyn SettingsStore>,
    metrics: Metrics,
    next_ping_at: Mutex<Option<UnixMs>>,
    /// Becomes `true` when this process completes the first-run setup.
    setup_done: watch::Sender<bool>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("config", &self.inner.config)
            .field("host", &self.inner.host)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// Telemetry for a platform described by `host`, reading counts from `stats` and
    /// settings from `settings`.
    pub fn new(
        config: TelemetryConfig,
        host: HostInfo,
        stats: Arc<dyn StatsProvider>,
        settings: Arc<dyn SettingsStore>,
    ) -> Self {
        Telemetry {
            inner: Arc::new(Inner {
                config,
                host,
                stats,
                settings,
                metrics: Metrics::new(),
                next_ping_at: Mutex::new(None),
                setup_done: watch::Sender::new(false),
            }),
        }
    }

    /// The resolved `telemetry:` config.
    pub fn config(&self) -> &TelemetryConfig {
        &self.inner.config
    }

    /// What the platform said about itself.
    pub fn host(&self) -> &HostInfo {
        &self.inner.host
    }

    /// The platform's settings store.
    pub fn settings(&self) -> &dyn SettingsStore {
        self.inner.settings.as_ref()
    }

    /// The Prometheus metrics of this process.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Whether a licence is installed (such installs cannot opt out).
    pub fn licensed(&self) -> bool {
        self.inner.host.license.kind.is_licensed()
    }

    /// The installation's id, created (and stored) on first use. Replicas racing to
    /// create it agree on the first one stored.
    pub async fn instance_id(&self) -> Result<Uuid, StoreError> {
        let settings = self.settings();
        if let Some(id) = settings.get(keys::INSTANCE_ID).await? {
            return parse_instance_id(&id);
        }
        let fresh = Uuid::new_v4();
        if settings
            .compare_and_swap(keys::INSTANCE_ID, None, &fresh.to_string())
            .await?
        {
            return Ok(fresh);
        }
        // Another replica stored one first.
        let stored = settings.get(keys::INSTANCE_ID).await?;
        parse_instance_id(stored.as_deref().unwrap_or_default())
    }

    /// The admin setting as stored (`None` when never set).
    pub async fn stored_admin_setting(&self) -> Result<Option<bool>, StoreError> {
        Ok(parse_bool(
            self.settings()
                .get(keys::TELEMETRY_ENABLED)
                .await?
                .as_deref(),
        ))
    }

    /// The admin setting as reported: always `true` when licensed.
    pub async fn admin_enabled(&self) -> Result<bool, StoreError> {
        Ok(effective_admin_setting(
            self.stored_admin_setting().await?,
            self.licensed(),
        ))
    }

    /// Stores the admin setting. Callers refuse this for licensed installs first.
    pub async fn set_admin_enabled(&self, enabled: bool) -> Result<(), StoreError> {
        self.settings()
            .put(
                keys::TELEMETRY_ENABLED,
                if enabled { "true" } else { "false" },
            )
            .await
    }

    /// Everything the "may a ping be sent" rule needs, read now.
    pub async fn ping_inputs(&self) -> Result<PingInputs, StoreError> {
        let initialised = parse_bool(self.settings().get(keys::INITIALISED).await?.as_deref());
        Ok(PingInputs {
            initialised: initialised.unwrap_or(false),
            licensed: self.licensed(),
            yml_enabled: self.inner.config.enabled,
            admin_enabled: self.admin_enabled().await?,
        })
    }

    /// Whether a ping would be sent now.
    pub async fn ping_enabled(&self) -> Result<bool, StoreError> {
        Ok(should_send(&self.ping_inputs().await?))
    }

    /// The ping as it would be sent at `now`. The scheduler sends exactly this; the
    /// admin preview shows exactly this.
    pub async fn payload(&self, now: UnixMs) -> Result<PingPayload, StoreError> {
        let host = &self.inner.host;
        Ok(PingPayload {
            instance_id: self.instance_id().await?,
            os: Some(os_info()),
            env: Some(EnvInfo {
                nodejs: Some(host.runtime.clone()),
                flowforge: Some(host.version.clone()),
            }),
            platform: Some(PlatformInfo {
                counts: Some(self.inner.stats.counts(now).await?),
                config: Some(host.platform_config.clone()),
                license: Some(host.license.clone()),
            }),
        })
    }

    /// The last ping attempt recorded by any replica.
    pub async fn last_ping(&self) -> Result<Option<LastPing>, StoreError> {
        let stored = self.settings().get(keys::LAST_PING).await?;
        Ok(stored.and_then(|json| serde_json::from_str(&json).ok()))
    }

    pub(crate) async fn record_last_ping(&self, last: LastPing) -> Result<(), StoreError> {
        let json = serde_json::to_string(&last).map_err(|e| StoreError(e.to_string()))?;
        self.settings().put(keys::LAST_PING, &json).await
    }

    /// When this process's scheduler will next try to send, if it is running.
    pub fn next_ping_at(&self) -> Option<UnixMs> {
        self.inner
            .next_ping_at
            .lock()
            .map(|guard| *guard)
            .unwrap_or_default()
    }

    /// Tells this process's scheduler that the first-run setup has just been
    /// completed (and committed), so that a platform started before its setup sends
    /// its first ping after the startup delay rather than at the next daily time.
    pub fn handle_setup_done(&self) {
        self.inner.setup_done.send_replace(true);
    }

    /// Watches for [`handle_setup_done`](Self::handle_setup_done).
    pub(crate) fn setup_notices(&self) -> watch::Receiver<bool> {
        self.inner.setup_done.subscribe()
    }

    pub(crate) fn set_next_ping_at(&self, at: Option<UnixMs>) {
        if let Ok(mut guard) = self.inner.next_ping_at.lock() {
            *guard = at;
        }
    }
}

fn parse_instance_id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text.trim())
        .map_err(|e| StoreError(format!("{}: not a UUID: {e}", keys::INSTANCE_ID)))
}

/// `true`/`false` as stored; anything else counts as unset.
fn parse_bool(value: Option<&str>) -> Option<bool> {
    match value.map(str::trim) {
        Some("true") | Some("1") => Some(true),
        Some("false") | Some("0") => Some(false),
        _ => None,
    }
}

/// `os` in Node's words (`Linux`, `Darwin`, `Windows_NT`; `x64`, `arm64`), so the
/// collector's reports read the same as FlowFuse's.
fn os_info() -> OsInfo {
    let kind = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        "windows" => "Windows_NT",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "ia32",
        other => other,
    };
    OsInfo {
        kind: Some(kind.to_owned()),
        release: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|r| r.trim().to_owned()),
        arch: Some(arch.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_booleans() {
        assert_eq!(parse_bool(Some("true")), Some(true));
        assert_eq!(parse_bool(Some(" false ")), Some(false));
        assert_eq!(parse_bool(Some("maybe")), None);
        assert_eq!(parse_bool(None), None);
    }

    #[test]
    fn os_uses_node_names() {
        let os = os_info();
        assert!(matches!(
            os.kind.as_deref(),
            Some("Linux" | "Darwin" | "Windows_NT")
        ));
        assert!(!os.arch.unwrap_or_default().is_empty());
    }
}
