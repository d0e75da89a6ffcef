//! Consent before tracking, with posthog-js's `cookieless_mode: "on_reject"`
//! semantics: while the user has not answered the app's consent banner nothing is
//! stored or sent and no stable id exists; a grant starts normal tracking from
//! that moment; a denial leaves cookieless tracking (or none); the decision is
//! remembered across page loads. See [`super::Client::handle_consent`].

use ff_telemetry_wire::Consent;

/// The `localStorage` key that remembers the user's decision: one for the page's
/// telemetry, so that it holds whichever PostHog project the page reports to.
pub const CONSENT_KEY: &str = "ff_telemetry_consent";

/// The consent in force when a page loads: the decision an earlier page load
/// remembered (`stored`, as [`decision_text`] wrote it), else the configured one.
///
/// ```
/// use ff_telemetry_browser::posthog::{consent_at_start, decision_text};
/// use ff_telemetry_wire::Consent;
/// assert_eq!(consent_at_start(Consent::Pending, None), Consent::Pending);
/// assert_eq!(consent_at_start(Consent::Pending, decision_text(Consent::Denied)), Consent::Denied);
/// ```
pub fn consent_at_start(configured: Consent, stored: Option<&str>) -> Consent {
    stored
        .and_then(Consent::from_name)
        .filter(|c| *c != Consent::Pending)
        .unwrap_or(configured)
}

/// What remembers `consent` across page loads; `None` for pending, which is not a
/// decision.
pub fn decision_text(consent: Consent) -> Option<&'static str> {
    Some(consent.name()).filter(|_| consent != Consent::Pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_decision_wins_over_the_config_and_pending_is_never_remembered() {
        for configured in [Consent::Granted, Consent::Pending, Consent::Denied] {
            assert_eq!(consent_at_start(configured, None), configured);
            assert_eq!(consent_at_start(configured, Some("junk")), configured);
            assert_eq!(consent_at_start(configured, Some("pending")), configured);
            for decision in [Consent::Granted, Consent::Denied] {
                let stored = decision_text(decision);
                assert_eq!(consent_at_start(configured, stored), decision);
            }
        }
        assert_eq!(decision_text(Consent::Pending), None);
    }
}
