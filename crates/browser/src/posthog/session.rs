//! Session and window ids, rotated after inactivity or a maximum length.

use super::entropy::Entropy;
use ff_telemetry_wire::hyphenated;
use ff_telemetry_wire::{UnixMs, uuid_v7};

/// A session ends after this long without activity.
pub const SESSION_IDLE_MS: u64 = 30 * UnixMs::MINUTE;
/// A session ends after this long whatever the activity.
pub const SESSION_MAX_MS: u64 = 24 * UnixMs::HOUR;

/// The current session (`$session_id`) and window (`$window_id`), both UUIDv7.
///
/// Persisted between page loads, so a reload continues the session; a new
/// page load gets a new window id.
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_browser::posthog::Session;
/// let mut s = Session::new(UnixMs(0), [1; 10], [2; 10]);
/// let first = s.session_id().to_owned();
/// assert!(!s.handle_activity(UnixMs(29 * 60_000), &mut || [3; 10]));
/// assert!(s.handle_activity(UnixMs(60 * 60_000), &mut || [3; 10]), "30 min idle");
/// assert_ne!(s.session_id(), first);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    // Persisted field by field by `PersistedState`.
    pub(super) session_id: String,
    pub(super) window_id: String,
    pub(super) started: UnixMs,
    pub(super) last_activity: UnixMs,
}

impl Session {
    /// A session starting at `now`, its ids drawn from the two random arrays.
    pub fn new(now: UnixMs, session_random: [u8; 10], window_random: [u8; 10]) -> Self {
        Session {
            session_id: hyphenated(&uuid_v7(now, session_random)),
            window_id: hyphenated(&uuid_v7(now, window_random)),
            started: now,
            last_activity: now,
        }
    }

    /// Records activity (an event) at `now`; rotates both ids first when the
    /// session expired, with random bytes drawn from `rng` only then. Returns
    /// whether it rotated.
    pub fn handle_activity(&mut self, now: UnixMs, rng: &mut impl Entropy) -> bool {
        let expired = self.is_expired(now);
        if expired {
            *self = Session::new(now, rng.draw(), rng.draw());
        }
        self.last_activity = self.last_activity.max(now);
        expired
    }

    /// This session, continued on a new page load: same session, new window id.
    pub fn with_new_window(mut self, now: UnixMs, window_random: [u8; 10]) -> Self {
        self.window_id = hyphenated(&uuid_v7(now, window_random));
        self
    }

    /// Whether the session is over at `now`: idle too long or too old.
    pub fn is_expired(&self, now: UnixMs) -> bool {
        now.saturating_since(self.last_activity) >= SESSION_IDLE_MS
            || now.saturating_since(self.started) >= SESSION_MAX_MS
    }

    /// `$session_id`.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// `$window_id`.
    pub fn window_id(&self) -> &str {
        &self.window_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_after_30_minutes_idle() {
        let mut s = Session::new(UnixMs(0), [1; 10], [2; 10]);
        let id = s.session_id().to_owned();
        assert!(!s.handle_activity(UnixMs(SESSION_IDLE_MS - 1), &mut || [3; 10]));
        assert_eq!(s.session_id(), id);
        let later = UnixMs(2 * SESSION_IDLE_MS - 2);
        assert!(
            !s.handle_activity(later, &mut || [3; 10]),
            "idle counts from the last activity"
        );
        let mut n = 2;
        let mut counter = || {
            n += 1;
            [n; 10]
        };
        assert!(s.handle_activity(later + SESSION_IDLE_MS, &mut counter));
        assert_ne!(s.session_id(), id);
        assert_ne!(s.window_id(), s.session_id());
    }

    #[test]
    fn rotates_after_24_hours_even_when_busy() {
        let mut s = Session::new(UnixMs(0), [1; 10], [2; 10]);
        let id = s.session_id().to_owned();
        let mut now = UnixMs(0);
        while now.0 < SESSION_MAX_MS - 10 * UnixMs::MINUTE {
            now = now + 10 * UnixMs::MINUTE;
            assert!(!s.handle_activity(now, &mut || [3; 10]));
        }
        assert!(s.handle_activity(UnixMs(SESSION_MAX_MS), &mut || [3; 10]));
        assert_ne!(s.session_id(), id);
    }

    #[test]
    fn a_reload_keeps_the_session_and_changes_the_window() {
        let s = Session::new(UnixMs(0), [1; 10], [2; 10]);
        let reloaded = s.clone().with_new_window(UnixMs(5), [9; 10]);
        assert_eq!(reloaded.session_id(), s.session_id());
        assert_ne!(reloaded.window_id(), s.window_id());
    }
}
