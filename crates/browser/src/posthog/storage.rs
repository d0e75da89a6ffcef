//! How the PostHog client lays out what it keeps in `localStorage` and reads
//! it back: a first line, then one unsent event a line (JSON text has no raw
//! line breaks). The state (identity, session, opt-out) has a key of its own
//! per project token; each page load's unsent events have theirs, after an
//! empty first line (see [`super::TabQueues`]). When the
//! browser refuses the whole (over the quota), the first line alone is kept,
//! and the unsent events stay in memory.

use ff_telemetry_wire::text::{split_ascii, split_once_ascii};

/// What [`save`] managed to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// The first line and every unsent event.
    All,
    /// The first line only: the events did not fit.
    StateOnly,
    /// Nothing: even the first line alone was refused.
    Nothing,
}

/// Writes `state` (the first line: the persisted state's JSON; empty for
/// a page's queue) and `events` with `write` (one `localStorage.setItem`), falling
/// back to the first line alone
/// when the whole is refused. Returns what was saved, and the first error
/// the browser gave when not everything was.
pub fn save<E>(
    state: &str,
    events: &[String],
    mut write: impl FnMut(&str) -> Result<(), E>,
) -> (Saved, Option<E>) {
    let mut text =
        String::with_capacity(state.len() + events.iter().map(|e| e.len() + 1).sum::<usize>());
    text.push_str(state);
    for event in events {
        text.push('\n');
        text.push_str(event);
    }
    let Err(e) = write(&text) else {
        return (Saved::All, None);
    };
    let saved = if write(state).is_ok() {
        Saved::StateOnly
    } else {
        Saved::Nothing
    };
    (saved, Some(e))
}

/// The stored text read back: the first line, and the events queued
/// after it (lines that are not a JSON object are skipped).
pub fn restore(stored: &str) -> (&str, impl Iterator<Item = &str>) {
    let (state, unsent) = split_once_ascii(stored, b'\n').unwrap_or((stored, ""));
    // Split at `\n` alone, as `save` ends lines (and without `str::split`'s
    // pattern machinery in the wasm).
    (
        state,
        split_ascii(unsent, b'\n').filter(|event| event.starts_with('{')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(names: &[&str]) -> Vec<String> {
        names
            .iter()
            .map(|n| format!(r#"{{"event":"{n}"}}"#))
            .collect()
    }

    #[test]
    fn state_and_events_round_trip() {
        let queued = events(&["a", "b"]);
        let mut stored = String::new();
        let (saved, error) = save::<()>(r#"["s"]"#, &queued, |text| {
            stored = text.to_owned();
            Ok(())
        });
        assert_eq!((saved, error), (Saved::All, None));
        let (state, unsent) = restore(&stored);
        assert_eq!(state, r#"["s"]"#);
        assert_eq!(unsent.collect::<Vec<_>>(), queued);
    }

    #[test]
    fn over_the_quota_the_state_alone_is_saved() {
        let mut stored = String::new();
        let (saved, error) = save(r#"["s"]"#, &events(&["big"]), |text| {
            if text.len() > 10 {
                return Err("QuotaExceededError");
            }
            stored = text.to_owned();
            Ok(())
        });
        assert_eq!(
            (saved, error),
            (Saved::StateOnly, Some("QuotaExceededError"))
        );
        assert_eq!(stored, r#"["s"]"#);
    }

    #[test]
    fn a_storage_that_refuses_everything_saves_nothing() {
        let (saved, error) = save(r#"["s"]"#, &[], |_| Err("SecurityError"));
        assert_eq!((saved, error), (Saved::Nothing, Some("SecurityError")));
    }

    #[test]
    fn a_stored_state_without_events_restores_no_events() {
        let (state, unsent) = restore(r#"["s"]"#);
        assert_eq!(state, r#"["s"]"#);
        assert_eq!(unsent.count(), 0);
    }

    #[test]
    fn lines_that_are_not_events_are_skipped() {
        let (_, unsent) = restore("[\"s\"]\n\n{\"event\":\"a\"}\ngarbage\r\n{\"event\":\"b\"}");
        assert_eq!(
            unsent.collect::<Vec<_>>(),
            [r#"{"event":"a"}"#, r#"{"event":"b"}"#]
        );
    }
}
