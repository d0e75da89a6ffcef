//! The usage ping scheduler: the core schedule driven on tokio, one sender per slot
//! chosen through the database.

use std::sync::Arc;
use std::time::Duration;

use ff_telemetry_core::ping::{PingSchedule, ScheduleDraw, should_send};
use ff_telemetry_core::ping_lease::{ClaimDecision, PingLease, SlotKind, decide_claim};
use ff_telemetry_core::retry::RetryPolicy;
use ff_telemetry_wire::UnixMs;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::sender::{ATTEMPT_TIMEOUT, ClientError, PingSender};
use crate::store::{StoreError, keys};
use crate::telemetry::{LastPing, PingStatus, Telemetry};

/// How often a replica re-reads the lease after losing a compare-and-swap race
/// before it lets the slot go.
const MAX_CLAIM_TRIES: u32 = 5;

/// Knobs of the scheduler; the defaults are what production uses.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Retries of a failed send.
    pub retry: RetryPolicy,
    /// How long one attempt may take before it counts as a network error and is
    /// retried: [`ATTEMPT_TIMEOUT`] (10 s) by default; tests shorten it.
    pub attempt_timeout: Duration,
    /// The platform's offset from UTC; the daily time is local wall-clock time.
    pub utc_offset_minutes: i32,
    /// This process's name in the lease (for logs); random by default.
    pub replica_id: String,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            retry: RetryPolicy::default(),
            attempt_timeout: ATTEMPT_TIMEOUT,
            utc_offset_minutes: 0,
            replica_id: uuid::Uuid::new_v4().to_string(),
        }
    }
}

/// What happened in one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotOutcome {
    /// This replica sent the ping and the collector accepted it.
    Sent,
    /// This replica tried and gave up (retries exhausted or refused).
    Failed,
    /// Nothing was sent, for this reason.
    Skipped(SkipReason),
}

/// Why a slot sent nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The platform's first-run setup is not done.
    NotInitialised,
    /// Turned off in `flowforge.yml` or by the administrator (unlicensed only).
    Disabled,
    /// Another replica claimed this slot.
    SlotTaken,
    /// A ping was claimed within the last hour (a restart loop, or a replica
    /// starting beside others).
    RecentPing,
    /// The settings store or the statistics could not be read.
    StoreUnavailable,
}

/// Runs the usage ping schedule of one platform process.
#[derive(Clone)]
pub struct PingScheduler {
    telemetry: Telemetry,
    sender: PingSender,
    clock: Arc<dyn Clock>,
    options: SchedulerOptions,
}

impl std::fmt::Debug for PingScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PingScheduler")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct StoredDailyTime {
    hour: u32,
    minute: u32,
}

impl PingScheduler {
    /// A scheduler for `telemetry` on `clock`.
    pub fn new(
        telemetry: Telemetry,
        clock: Arc<dyn Clock>,
        options: SchedulerOptions,
    ) -> Result<Self, ClientError> {
        let sender = PingSender::new(
            &telemetry.config().url,
            options.retry,
            options.attempt_timeout,
        )?;
        Ok(PingScheduler {
            telemetry,
            sender,
            clock,
            options,
        })
    }

    /// Spawns the scheduler on the current tokio runtime; abort the handle to stop it.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(self.run())
    }

    /// Runs forever: the startup ping `startup_delay_ms` after now (if the platform is
    /// initialised now, else that long after [`Telemetry::handle_setup_done`]), then
    /// one ping a day at the time drawn on the first start of the installation. The
    /// send rule is re-read before every slot.
    pub async fn run(self) {
        // Subscribed before the settings are read, so a setup completed in between
        // is not missed.
        let mut setup_notices = self.telemetry.setup_notices();
        let started = self.clock.now();
        let initialised_at_start = match self.telemetry.ping_inputs().await {
            Ok(inputs) => inputs.initialised,
            Err(e) => {
                tracing::warn!("usage ping: cannot read settings at start: {e}");
                false
            }
        };
        let startup_delay_ms = self.telemetry.config().startup_delay_ms;
        let mut schedule = PingSchedule::new(
            started,
            initialised_at_start,
            self.daily_draw().await,
            startup_delay_ms,
            self.options.utc_offset_minutes,
        );
        let (hour, minute) = schedule.daily_time();
        tracing::info!(
            startup_at = schedule.startup_at().map(|t| t.to_rfc3339()),
            "usage ping scheduled daily at {hour:02}:{minute:02}"
        );
        let mut awaiting_setup = !initialised_at_start;
        let mut after = started;
        loop {
            let next = schedule.next_after(after);
            self.telemetry.set_next_ping_at(Some(next));
            tokio::select! {
                () = self.clock.sleep_until(next) => {}
                notice = setup_notices.wait_for(|done| *done), if awaiting_setup => {
                    awaiting_setup = false;
                    if notice.is_ok() {
                        schedule.handle_setup_done(self.clock.now(), startup_delay_ms);
                        tracing::info!(
                            startup_at = schedule.startup_at().map(|t| t.to_rfc3339()),
                            "first-run setup done: usage ping rescheduled"
                        );
                    }
                    continue;
                }
            }
            let kind = if schedule.startup_at() == Some(next) {
                SlotKind::Startup
            } else {
                SlotKind::Daily
            };
            self.run_slot(kind, next).await;
            // After a long stall (suspend), skip the slots missed meanwhile.
            after = next.max(self.clock.now());
        }
    }

    /// Runs one slot now: checks the rule, claims the slot through the database, and
    /// sends. Never fails: every outcome is logged, counted and returned.
    pub async fn run_slot(&self, kind: SlotKind, slot: UnixMs) -> SlotOutcome {
        let outcome = match self.try_slot(kind, slot).await {
            Ok(outcome) => outcome,
            Err(e) => {
                let message = format!("usage ping skipped: {e}");
                tracing::warn!(?kind, "{message}");
                sentry::capture_message(&message, sentry::Level::Warning);
                SlotOutcome::Skipped(SkipReason::StoreUnavailable)
            }
        };
        let metrics = self.telemetry.metrics();
        match outcome {
            SlotOutcome::Sent => metrics.ping_sent(),
            SlotOutcome::Failed => metrics.ping_failed(),
            SlotOutcome::Skipped(reason) => {
                tracing::info!(?kind, ?reason, "usage ping skipped");
                metrics.ping_skipped();
            }
        }
        outcome
    }

    async fn try_slot(&self, kind: SlotKind, slot: UnixMs) -> Result<SlotOutcome, StoreError> {
        let inputs = self.telemetry.ping_inputs().await?;
        if !should_send(&inputs) {
            let reason = if inputs.initialised {
                SkipReason::Disabled
            } else {
                SkipReason::NotInitialised
            };
            return Ok(SlotOutcome::Skipped(reason));
        }
        if let Some(reason) = self.claim(kind, slot).await? {
            return Ok(SlotOutcome::Skipped(reason));
        }
        let body = self.telemetry.payload(self.clock.now()).await?.to_json();
        let report = self.sender.send(&body, self.clock.as_ref()).await;
        let status = if report.delivered {
            tracing::info!(?kind, n_attempts = report.n_attempts, "usage ping sent");
            PingStatus::Sent
        } else {
            let message = format!(
                "usage ping failed after {} attempt(s); last outcome {:?}",
                report.n_attempts, report.last
            );
            tracing::warn!(?kind, url = %self.telemetry.config().url, "{message}");
            sentry::capture_message(&message, sentry::Level::Warning);
            PingStatus::Failed
        };
        let last = LastPing {
            at: self.clock.now(),
            status,
        };
        if let Err(e) = self.telemetry.record_last_ping(last).await {
            tracing::warn!("usage ping: could not record the outcome: {e}");
        }
        Ok(match status {
            PingStatus::Sent => SlotOutcome::Sent,
            PingStatus::Failed => SlotOutcome::Failed,
        })
    }

    /// Claims the slot: `None` when this replica won it, else why not.
    async fn claim(&self, kind: SlotKind, slot: UnixMs) -> Result<Option<SkipReason>, StoreError> {
        let settings = self.telemetry.settings();
        for _ in 0..MAX_CLAIM_TRIES {
            let stored = settings.get(keys::PING_LEASE).await?;
            // An unreadable lease is treated as none, and overwritten.
            let current: Option<PingLease> = stored
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok());
            let now = self.clock.now();
            match decide_claim(current.as_ref(), kind, slot, now) {
                ClaimDecision::SlotTaken => return Ok(Some(SkipReason::SlotTaken)),
                ClaimDecision::RecentPing => return Ok(Some(SkipReason::RecentPing)),
                ClaimDecision::Claim => {}
            }
            let lease = PingLease {
                kind,
                slot,
                holder: self.options.replica_id.clone(),
                claimed_at: now,
            };
            let json = serde_json::to_string(&lease).map_err(|e| StoreError(e.to_string()))?;
            if settings
                .compare_and_swap(keys::PING_LEASE, stored.as_deref(), &json)
                .await?
            {
                return Ok(None);
            }
        }
        Ok(Some(SkipReason::SlotTaken))
    }

    /// The installation's daily time: drawn once, stored, and shared by all replicas
    /// so that they agree on the daily slots.
    async fn daily_draw(&self) -> ScheduleDraw {
        let settings = self.telemetry.settings();
        let fresh = ScheduleDraw {
            hour: rand::random::<u32>() % 24,
            minute: rand::random::<u32>() % 60,
        };
        let read = |stored: Option<String>| {
            stored
                .and_then(|json| serde_json::from_str::<StoredDailyTime>(&json).ok())
                .map(|t| ScheduleDraw {
                    hour: t.hour,
                    minute: t.minute,
                })
        };
        let stored = match settings.get(keys::DAILY_TIME).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!("usage ping: cannot read the daily time, drawing one: {e}");
                return fresh;
            }
        };
        if let Some(draw) = read(stored.clone()) {
            return draw;
        }
        let json = serde_json::to_string(&StoredDailyTime {
            hour: fresh.hour,
            minute: fresh.minute,
        })
        .unwrap_or_default();
        match settings
            .compare_and_swap(keys::DAILY_TIME, stored.as_deref(), &json)
            .await
        {
            Ok(true) => fresh,
            // Another replica stored one first: use it.
            _ => read(settings.get(keys::DAILY_TIME).await.ok().flatten()).unwrap_or(fresh),
        }
    }
}

impl Telemetry {
    /// Starts the usage ping scheduler on the system clock with default options.
    /// Abort the handle to stop it.
    pub fn spawn_scheduler(&self) -> Result<JoinHandle<()>, ClientError> {
        Ok(PingScheduler::new(
            self.clone(),
            Arc::new(SystemClock),
            SchedulerOptions::default(),
        )?
        .spawn())
    }
}
