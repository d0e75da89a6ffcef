//! Where the scheduler gets the time: the system clock, or a virtual one in tests.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use ff_telemetry_wire::UnixMs;

/// The wall clock and a way to wait for it.
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> UnixMs;
    /// Returns once `now() >= at`.
    async fn sleep_until(&self, at: UnixMs);
}

/// The system clock, waited on with tokio timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> UnixMs {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        UnixMs(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
    }

    async fn sleep_until(&self, at: UnixMs) {
        // Sleep in bounded steps and re-read the clock, so a wall-clock jump (NTP,
        // suspend) delays a ping by at most one step.
        const STEP_MS: u64 = 60_000;
        loop {
            let remaining_ms = at.saturating_since(self.now());
            if remaining_ms == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(remaining_ms.min(STEP_MS))).await;
        }
    }
}

/// A clock that jumps instead of waiting, for tests and simulations: days of
/// schedule run in milliseconds. Waits for instants after `stop_at` never end, so a
/// scheduler on this clock parks once it has run every slot up to `stop_at`.
///
/// ```
/// use ff_telemetry_backend::{Clock, VirtualClock};
/// use ff_telemetry_wire::UnixMs;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let clock = VirtualClock::new(UnixMs(0), UnixMs(10_000));
/// clock.sleep_until(UnixMs(5_000)).await;
/// assert_eq!(clock.now(), UnixMs(5_000));
/// # });
/// ```
#[derive(Debug)]
pub struct VirtualClock {
    now: Mutex<UnixMs>,
    stop_at: UnixMs,
}

impl VirtualClock {
    /// A clock reading `start` that runs no further than `stop_at`.
    pub fn new(start: UnixMs, stop_at: UnixMs) -> Self {
        VirtualClock {
            now: Mutex::new(start),
            stop_at,
        }
    }
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> UnixMs {
        self.now.lock().map(|now| *now).unwrap_or_default()
    }

    async fn sleep_until(&self, at: UnixMs) {
        if at > self.stop_at {
            std::future::pending::<()>().await;
        }
        if let Ok(mut now) = self.now.lock() {
            *now = (*now).max(at);
        }
        // Let other tasks run, as a real wait would.
        tokio::task::yield_now().await;
    }
}
