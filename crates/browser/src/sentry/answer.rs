//! What browser Sentry makes of the envelope endpoint's answer.

use ff_telemetry_wire::UnixMs;

use super::browser::{BrowserSentry, Outgoing};
use crate::posthog::{Verdict, verdict};

/// What the edge does with an envelope once its POST is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAnswer {
    /// Nothing more: delivered, refused (and counted), or rate-limited.
    Done,
    /// No answer at all (offline): keep the envelope for the next page load.
    Keep,
}

impl BrowserSentry {
    /// The answer to `out`: its status (0 when none came) and its
    /// `Retry-After` and `X-Sentry-Rate-Limits` headers. Rate limits are
    /// recorded; an envelope the server refused (neither delivered nor
    /// rate-limited: a 4xx, a 5xx) counts as lost in the next client report.
    pub fn handle_answer(
        &mut self,
        now: UnixMs,
        out: &Outgoing,
        status: u16,
        retry_after: Option<&str>,
        rate_limits: Option<&str>,
    ) -> AfterAnswer {
        if status == 0 {
            return AfterAnswer::Keep;
        }
        self.handle_response(now, status, retry_after, rate_limits);
        if verdict(status) != Verdict::Delivered && status != 429 {
            self.handle_send_failure(out.category);
        }
        AfterAnswer::Done
    }
}

#[cfg(test)]
mod tests {
    use ff_telemetry_wire::FrontendSentry;
    use ff_telemetry_wire::sentry::{Envelope, SdkInfo};

    use super::*;
    use crate::sentry::Entropy;

    /// A started Sentry and the session start it sends first.
    fn started() -> (BrowserSentry, Outgoing) {
        let config: FrontendSentry = serde_json::from_value(serde_json::json!({
            "dsn": "https://public@sentry.example/42", "release": "app@1.0.0", "traces_sample_rate": 0.0
        }))
        .unwrap();
        let sdk = SdkInfo {
            name: "ff-telemetry.web".into(),
            version: "0.1.0".into(),
        };
        let page = "https://forge.example/a";
        let mut sentry =
            BrowserSentry::new(&config, sdk, page, UnixMs(0), &Entropy([1; 48])).unwrap();
        let first = sentry.poll_transmit(UnixMs(0)).expect("the session start");
        (sentry, first)
    }

    /// The client report's `discarded_events` sent when the page goes away
    /// (empty when there is none).
    fn discarded_at_page_hide(sentry: &mut BrowserSentry) -> Vec<serde_json::Value> {
        sentry.handle_page_hide(UnixMs(10));
        let mut discarded = Vec::new();
        while let Some(out) = sentry.poll_transmit(UnixMs(10)) {
            let envelope = Envelope::parse(out.unsent.as_bytes()).unwrap();
            let item = &envelope.items[0];
            if item.header.kind == "client_report" {
                let report: serde_json::Value = serde_json::from_slice(&item.payload).unwrap();
                discarded = report["discarded_events"].as_array().unwrap().clone();
            }
        }
        discarded
    }

    #[test]
    fn no_answer_keeps_the_envelope_for_the_next_page_load() {
        let (mut sentry, first) = started();
        let after = sentry.handle_answer(UnixMs(1), &first, 0, None, None);
        assert_eq!(after, AfterAnswer::Keep);
        assert!(discarded_at_page_hide(&mut sentry).is_empty());
    }

    #[test]
    fn a_refused_envelope_is_reported_as_lost() {
        for status in [400, 413, 500, 503] {
            let (mut sentry, first) = started();
            let after = sentry.handle_answer(UnixMs(1), &first, status, None, None);
            assert_eq!(after, AfterAnswer::Done);
            let discarded = discarded_at_page_hide(&mut sentry);
            assert_eq!(
                discarded,
                [serde_json::json!({"reason": "send_error", "category": "session", "quantity": 1})],
                "status {status}"
            );
        }
    }

    #[test]
    fn delivered_and_rate_limited_envelopes_are_not_lost() {
        for status in [200, 202, 429] {
            let (mut sentry, first) = started();
            let after = sentry.handle_answer(UnixMs(1), &first, status, None, None);
            assert_eq!(after, AfterAnswer::Done);
            // A 429 without headers holds back what follows (counted as
            // `ratelimit_backoff`), but the answered envelope is no send error.
            let discarded = discarded_at_page_hide(&mut sentry);
            assert!(
                discarded.iter().all(|d| d["reason"] != "send_error"),
                "status {status}: {discarded:?}"
            );
        }
    }
}
