//! Session and window ids, rotated after inactivity or a maximum length.

use crate::json::Decimal;
use crate::text;
use crate::uuid7::hyphenated;
use crate::{UnixMs, uuid_v7};

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
/// use ff_telemetry_core::UnixMs;
/// use ff_telemetry_core::posthog::Session;
/// let mut s = Session::new(UnixMs(0), [1; 10], [2; 10]);
/// let first = s.session_id().to_owned();
/// assert!(!s.handle_activity(UnixMs(29 * 60_000), [3; 10], [4; 10]));
/// assert!(s.handle_activity(UnixMs(60 * 60_000), [3; 10], [4; 10]), "30 min idle");
/// assert_ne!(s.session_id(), first);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    session_id: String,
    window_id: String,
    started: UnixMs,
    last_activity: UnixMs,
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
    /// session expired. Returns whether it rotated.
    pub fn handle_activity(
        &mut self,
        now: UnixMs,
        session_random: [u8; 10],
        window_random: [u8; 10],
    ) -> bool {
        let expired = self.is_expired(now);
        if expired {
            *self = Session::new(now, session_random, window_random);
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

    /// `session_id window_id started last_activity`, for [`super::PersistedState::encode`].
    pub(super) fn encode(&self) -> String {
        let started = Decimal::new(self.started.0);
        let last_activity = Decimal::new(self.last_activity.0);
        text::concat(&[
            &self.session_id,
            " ",
            &self.window_id,
            " ",
            started.as_str(),
            " ",
            last_activity.as_str(),
        ])
    }

    /// The inverse of [`Session::encode`].
    pub(super) fn decode(s: &str) -> Option<Session> {
        let mut parts = text::split_ascii(s, b' ');
        let session = Session {
            session_id: parts.next()?.to_owned(),
            window_id: parts.next()?.to_owned(),
            started: UnixMs(text::parse_decimal(parts.next()?)?),
            last_activity: UnixMs(text::parse_decimal(parts.next()?)?),
        };
        parts.next().is_none().then_some(session)
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
        assert!(!s.handle_activity(UnixMs(SESSION_IDLE_MS - 1), [3; 10], [4; 10]));
        assert_eq!(s.session_id(), id);
        let later = UnixMs(2 * SESSION_IDLE_MS - 2);
        assert!(
            !s.handle_activity(later, [3; 10], [4; 10]),
            "idle counts from the last activity"
        );
        assert!(s.handle_activity(later + SESSION_IDLE_MS, [3; 10], [4; 10]));
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
            assert!(!s.handle_activity(now, [3; 10], [4; 10]));
        }
        assert!(s.handle_activity(UnixMs(SESSION_MAX_MS), [3; 10], [4; 10]));
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
