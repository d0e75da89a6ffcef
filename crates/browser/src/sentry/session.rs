//! Release health: one session per page load, told what happens and saying which
//! session updates to send.
//!
//! One session per page load, not per route change: sentry-javascript's
//! per-navigation sessions inflated SPA session counts.

use ff_telemetry_wire::UnixMs;
use ff_telemetry_wire::sentry::{EventId, SessionAttributes, SessionStatus, SessionUpdate};

/// The session of one page load.
///
/// - start: `ok` with `init: true`;
/// - the first handled error: `ok` with `errors: 1` (later ones are only counted);
/// - an unhandled error: `crashed`, terminal;
/// - page hidden for good: `exited`, unless already terminal;
/// - nothing is sent after a terminal update.
///
/// Each update comes out as the JSON of a `session` envelope item
/// ([`SessionUpdate`]).
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_wire::sentry::{EventId, SessionAttributes, SessionStatus, SessionUpdate};
/// use ff_telemetry_browser::sentry::SessionTracker;
/// let attrs = SessionAttributes { release: "flowfuse@2.1.0".into(), environment: None };
/// let (mut session, first) = SessionTracker::start(EventId::from_random_bytes([1; 16]), UnixMs(0), attrs);
/// let first: SessionUpdate = serde_json::from_str(&first).unwrap();
/// assert!(first.init);
/// let crash = session.handle_error(UnixMs(2_000), false).unwrap();
/// let crash: SessionUpdate = serde_json::from_str(&crash).unwrap();
/// assert_eq!((crash.status, crash.errors, crash.duration), (SessionStatus::Crashed, 1, Some(2.0)));
/// assert_eq!(session.handle_page_hide(UnixMs(3_000)), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SessionTracker {
    sid: EventId,
    did: Option<String>,
    started: UnixMs,
    status: SessionStatus,
    errors: u64,
    attrs: SessionAttributes,
}

impl SessionTracker {
    /// Starts the page's session and returns it with its first (`init`) update.
    pub fn start(sid: EventId, now: UnixMs, attrs: SessionAttributes) -> (Self, String) {
        let tracker = SessionTracker {
            sid,
            did: None,
            started: now,
            status: SessionStatus::Ok,
            errors: 0,
            attrs,
        };
        let first = tracker.update(now, true);
        (tracker, first)
    }

    /// An error was reported. `handled: false` (nothing caught it) crashes the session.
    pub fn handle_error(&mut self, now: UnixMs, handled: bool) -> Option<String> {
        if self.status.is_terminal() {
            return None;
        }
        self.errors += 1;
        if !handled {
            self.status = SessionStatus::Crashed;
        } else if self.errors > 1 {
            return None;
        }
        Some(self.update(now, false))
    }

    /// The page is going away (`pagehide`): the session exits unless it already ended.
    pub fn handle_page_hide(&mut self, now: UnixMs) -> Option<String> {
        if self.status.is_terminal() {
            return None;
        }
        self.status = SessionStatus::Exited;
        Some(self.update(now, false))
    }

    /// Sets the distinct id later updates carry (the identified user), or clears it.
    pub fn set_distinct_id(&mut self, did: Option<&str>) {
        self.did = did.map(str::to_owned);
    }

    /// The current status.
    pub fn status(&self) -> SessionStatus {
        self.status
    }

    /// Errors counted so far.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// The JSON of the update due at `now` (see [`SessionUpdate`] for the fields).
    fn update(&self, now: UnixMs, init: bool) -> String {
        let update = SessionUpdate {
            sid: self.sid,
            did: self.did.clone(),
            init,
            started: self.started,
            timestamp: now,
            status: self.status,
            errors: self.errors,
            // Seconds since the start, to the millisecond `UnixMs` has.
            duration: Some(now.saturating_since(self.started) as f64 / 1000.0),
            attrs: self.attrs.clone(),
        };
        serde_json::to_string(&update).unwrap_or_else(|_| unreachable!("updates serialise"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_telemetry_wire::sentry::SessionUpdate;

    #[derive(Debug, Clone, Copy)]
    enum Input {
        Handled,
        Unhandled,
        PageHide,
    }

    /// What an update says: (status, errors, init).
    type Sent = Option<(SessionStatus, u64, bool)>;

    fn run(inputs: &[Input]) -> Vec<Sent> {
        let attrs = SessionAttributes {
            release: "flowfuse@2.1.0".into(),
            environment: Some("production".into()),
        };
        let (mut session, first) =
            SessionTracker::start(EventId::from_random_bytes([9; 16]), UnixMs(1_000), attrs);
        let summary = |json: String| {
            let u: SessionUpdate = serde_json::from_str(&json).unwrap();
            (u.status, u.errors, u.init)
        };
        let mut sent = vec![Some(summary(first))];
        for (i, input) in inputs.iter().enumerate() {
            let now = UnixMs(2_000 + i as u64 * 1_000);
            let update = match input {
                Input::Handled => session.handle_error(now, true),
                Input::Unhandled => session.handle_error(now, false),
                Input::PageHide => session.handle_page_hide(now),
            };
            sent.push(update.map(summary));
        }
        sent
    }

    #[test]
    fn transitions() {
        use Input::*;
        use SessionStatus::{Crashed, Exited, Ok};
        #[rustfmt::skip]
        let cases: [(&[Input], &[Sent]); 6] = [
            (&[PageHide], &[Some((Ok, 0, true)), Some((Exited, 0, false))]),
            (&[Unhandled, PageHide], &[Some((Ok, 0, true)), Some((Crashed, 1, false)), None]),
            (&[Handled, Handled, PageHide],
             &[Some((Ok, 0, true)), Some((Ok, 1, false)), None, Some((Exited, 2, false))]),
            (&[Handled, Unhandled, Unhandled, Handled],
             &[Some((Ok, 0, true)), Some((Ok, 1, false)), Some((Crashed, 2, false)), None, None]),
            (&[PageHide, Unhandled, PageHide], &[Some((Ok, 0, true)), Some((Exited, 0, false)), None, None]),
            (&[], &[Some((Ok, 0, true))]),
        ];
        for (inputs, want) in cases {
            assert_eq!(run(inputs), want, "{inputs:?}");
        }
    }

    #[test]
    fn updates_carry_identity_and_duration() {
        let attrs = SessionAttributes {
            release: "r".into(),
            environment: None,
        };
        let sid = EventId::from_random_bytes([3; 16]);
        let (mut session, first) = SessionTracker::start(sid, UnixMs(10_000), attrs);
        let first: SessionUpdate = serde_json::from_str(&first).unwrap();
        assert_eq!(first.did, None);
        assert_eq!(first.duration, Some(0.0));
        session.set_distinct_id(Some("user-7"));
        let exit = session.handle_page_hide(UnixMs(12_500)).unwrap();
        let exit: SessionUpdate = serde_json::from_str(&exit).unwrap();
        assert_eq!(exit.sid, sid);
        assert_eq!(exit.did.as_deref(), Some("user-7"));
        assert_eq!(exit.started, UnixMs(10_000));
        assert_eq!(exit.timestamp, UnixMs(12_500));
        assert_eq!(exit.duration, Some(2.5));
        assert_eq!(session.status(), SessionStatus::Exited);
        assert_eq!(session.errors(), 0);
    }

    #[test]
    fn updates_are_written_in_sentry_shape() {
        let attrs = SessionAttributes {
            release: "flowfuse@2.11.0".into(),
            environment: Some("production".into()),
        };
        let sid = EventId::from_random_bytes([3; 16]);
        let (mut session, first) = SessionTracker::start(sid, UnixMs(1_000), attrs);
        session.set_distinct_id(Some("user \"7\""));
        let crash = session.handle_error(UnixMs(3_500), false).unwrap();
        let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        let attrs = serde_json::json!({"release": "flowfuse@2.11.0", "environment": "production"});
        assert_eq!(
            json(&first),
            serde_json::json!({
                "sid": "03030303030343038303030303030303", "init": true,
                "started": "1970-01-01T00:00:01.000Z", "timestamp": "1970-01-01T00:00:01.000Z",
                "status": "ok", "errors": 0, "duration": 0.0, "attrs": attrs,
            })
        );
        assert_eq!(
            json(&crash),
            serde_json::json!({
                "sid": "03030303030343038303030303030303", "did": "user \"7\"",
                "started": "1970-01-01T00:00:01.000Z", "timestamp": "1970-01-01T00:00:03.500Z",
                "status": "crashed", "errors": 1, "duration": 2.5, "attrs": attrs,
            })
        );
    }
}
