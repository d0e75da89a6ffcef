//! The two seams a platform implements: its settings store and its statistics.

use async_trait::async_trait;
use ff_telemetry_wire::UnixMs;
use ff_telemetry_wire::ping::Counts;

/// Settings keys this crate reads and writes in the platform's key/value store.
///
/// `instanceId`, `telemetry:enabled` and `setup:initialised` are FlowFuse's own
/// names; the `telemetry:` ones below them belong to this crate.
pub mod keys {
    /// The installation's UUIDv4, created on first start.
    pub const INSTANCE_ID: &str = "instanceId";
    /// The admin opt-out: `true` or `false`; absent means `true`.
    pub const TELEMETRY_ENABLED: &str = "telemetry:enabled";
    /// `true` once the platform's first-run setup is done.
    pub const INITIALISED: &str = "setup:initialised";
    /// The drawn daily send time, shared by all replicas (JSON `{"hour","minute"}`).
    pub const DAILY_TIME: &str = "telemetry:dailyTime";
    /// The ping lease ([`ff_telemetry_core::ping_lease::PingLease`] as JSON).
    pub const PING_LEASE: &str = "telemetry:lease";
    /// The last send attempt (JSON `{"at","status"}`).
    pub const LAST_PING: &str = "telemetry:lastPing";
}

/// A failure of the platform's storage. Telemetry logs it and carries on.
#[derive(Debug, thiserror::Error)]
#[error("settings store: {0}")]
pub struct StoreError(pub String);

/// The platform's key/value settings table, shared by all its replicas.
///
/// [`compare_and_swap`](SettingsStore::compare_and_swap) must be atomic across
/// replicas (one conditional `UPDATE`, or `INSERT … ON CONFLICT DO NOTHING` when the
/// key is expected to be absent): the choice of the one replica that sends a ping
/// rests on it.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The value stored under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Stores `value` under `key`, replacing any previous value.
    async fn put(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// Stores `new` under `key` only if the stored value is still `expected` (`None`:
    /// the key is absent). Returns whether it was stored.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError>;
}

/// The numbers the usage ping reports, read from the platform's database.
///
/// Each count should be one `COUNT` query; nothing but numbers may come back.
#[async_trait]
pub trait StatsProvider: Send + Sync {
    /// `platform.counts` as of `now` (`devicesByLastSeen.day` counts devices seen in
    /// the 24 hours before `now`).
    async fn counts(&self, now: UnixMs) -> Result<Counts, StoreError>;
}
