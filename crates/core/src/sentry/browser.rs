//! Browser Sentry as a sans-IO state machine: the browser crate reports what
//! happened (with the time and fresh random bytes) and sends what comes out.

use std::collections::{BTreeMap, VecDeque};

use super::envelope::{Envelope, SdkInfo};
use super::filter::{
    Deduplicator, ErrorFingerprint, is_ignored, is_local_page, sanitize_route, sanitize_url,
};
use super::protocol::{
    Breadcrumb, ClientReport, DataCategory, DiscardReason, DiscardedEvents, Event, EventContext,
    EventId, Exception, Level, Mechanism, SessionAttributes, SpanId, TraceId, Transaction, User,
};
use super::ratelimit::RateLimits;
use super::sampling::{is_sampled, traces_sample_rate};
use super::session::SessionTracker;
use super::stacktrace::parse_stack;
use crate::{Dsn, DsnError, FrontendSentry, UnixMs};

/// Route changes kept as breadcrumbs on events.
pub const MAX_BREADCRUMBS: usize = 10;

/// Events and transactions waiting to be sent; more are dropped (and reported as
/// `queue_overflow`). Session updates and client reports are always kept.
pub const MAX_QUEUED_EVENTS: usize = 30;

/// Why browser Sentry cannot start. The browser shows it as one console warning
/// and leaves Sentry off; the page is unaffected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SentrySetupError {
    /// The configured DSN does not parse.
    #[error("telemetry.frontend.sentry.dsn: {0}")]
    InvalidDsn(#[from] DsnError),
}

/// 48 fresh random bytes (e.g. from `crypto.getRandomValues`) for one input: ids
/// and the sampling draw come from them, so core itself has no randomness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entropy(pub [u8; 48]);

impl Entropy {
    fn event_id(&self) -> EventId {
        EventId::from_random_bytes(self.array(0))
    }

    fn trace_id(&self) -> TraceId {
        TraceId(self.array(16))
    }

    fn span_id(&self) -> SpanId {
        SpanId(self.array(32))
    }

    fn draw(&self) -> u32 {
        u32::from_le_bytes(self.array(40))
    }

    fn array<const N: usize>(&self, start: usize) -> [u8; N] {
        let mut out = [0; N];
        out.copy_from_slice(&self.0[start..start + N]);
        out
    }
}

/// An error as the browser caught it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapturedError<'a> {
    /// `error.name` (`TypeError`; `Error` when unknown; `panic` for Rust panics).
    pub kind: &'a str,
    /// `error.message` (or the rejection reason, or the panic message).
    pub value: &'a str,
    /// `error.stack`, in Chromium's or Firefox's format, if any.
    pub stack: Option<&'a str>,
    /// How it was caught: see the `MECHANISM_*` constants.
    pub mechanism: &'a str,
    /// False when nothing caught it: window `error`, `unhandledrejection`, a panic.
    /// An unhandled error crashes the session.
    pub handled: bool,
}

/// Mechanism of a window `error` event.
pub const MECHANISM_ONERROR: &str = "onerror";
/// Mechanism of an `unhandledrejection` event.
pub const MECHANISM_ONUNHANDLEDREJECTION: &str = "onunhandledrejection";
/// Mechanism of an explicit `captureException`.
pub const MECHANISM_GENERIC: &str = "generic";
/// Mechanism of a Rust panic inside the SDK.
pub const MECHANISM_PANIC: &str = "panic";

/// One envelope to POST (as `text/plain`, so there is no CORS preflight).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The DSN's envelope endpoint with query-string auth.
    pub url: String,
    /// The envelope, without `sent_at` (see [`Outgoing::body`]).
    pub envelope: Envelope,
    /// The page is going away: send with `navigator.sendBeacon` (or `fetch` with
    /// `keepalive`).
    pub beacon: bool,
}

impl Outgoing {
    /// The request body, with `sent_at` set to `now` (call it when sending).
    pub fn body(&self, now: UnixMs) -> Vec<u8> {
        self.envelope.to_bytes_sent_at(now)
    }
}

/// Browser Sentry, minus the I/O.
///
/// Inputs are `handle_*` calls; outputs are drained with [`BrowserSentry::poll_transmit`]
/// after each input until it returns `None`. Every response from the envelope
/// endpoint goes back in through [`BrowserSentry::handle_response`].
///
/// ```
/// use ff_telemetry_core::{FrontendSentry, UnixMs};
/// use ff_telemetry_core::sentry::{BrowserSentry, CapturedError, Entropy, SdkInfo, MECHANISM_ONERROR};
/// let config: FrontendSentry = serde_json::from_str(
///     r#"{"dsn": "https://key@sentry.example/1", "release": "flowfuse@2.1.0"}"#).unwrap();
/// let sdk = SdkInfo { name: "ff-telemetry.web".into(), version: "0.1.0".into() };
/// let mut sentry = BrowserSentry::new(&config, sdk, "https://app.example/", UnixMs(0), &Entropy([1; 48])).unwrap();
/// let session_start = sentry.poll_transmit(UnixMs(0)).unwrap();
/// assert_eq!(session_start.envelope.items[0].header.kind, "session");
/// assert!(session_start.url.starts_with("https://sentry.example/api/1/envelope/?sentry_version=7"));
///
/// sentry.handle_error(UnixMs(5), CapturedError {
///     kind: "TypeError", value: "x is undefined", stack: None,
///     mechanism: MECHANISM_ONERROR, handled: false,
/// }, &Entropy([2; 48]));
/// let kinds: Vec<_> = std::iter::from_fn(|| sentry.poll_transmit(UnixMs(6)))
///     .map(|o| o.envelope.items[0].header.kind.clone()).collect();
/// assert_eq!(kinds, ["event", "session"]); // the event, then the crashed session
/// ```
#[derive(Debug, Clone)]
pub struct BrowserSentry {
    dsn: Dsn,
    url: String,
    context: EventContext,
    /// Events from a local page are not reported (`report_localhost: false`).
    muted: bool,
    traces_sample_rate: f64,
    ignore_errors: Vec<String>,
    dedup: Deduplicator,
    /// `None` without a release: Sentry rejects sessions that have none.
    session: Option<SessionTracker>,
    rate_limits: RateLimits,
    route: Option<String>,
    navigation_started: Option<UnixMs>,
    breadcrumbs: VecDeque<Breadcrumb>,
    queue: VecDeque<Envelope>,
    n_queued_events: usize,
    discarded: BTreeMap<(DiscardReason, DataCategory), u64>,
    page_hidden: bool,
}

impl BrowserSentry {
    /// Starts browser Sentry for a page load at `now` (the session starts too).
    ///
    /// `sdk` names the browser SDK (`sdk` in payloads, `sentry_client` in auth);
    /// `page_url` is `location.href`. On a local page without
    /// `report_localhost`, Sentry starts muted: it accepts every input and sends
    /// nothing.
    pub fn new(
        config: &FrontendSentry,
        sdk: SdkInfo,
        page_url: &str,
        now: UnixMs,
        entropy: &Entropy,
    ) -> Result<Self, SentrySetupError> {
        let dsn: Dsn = config.dsn.parse()?;
        let url = dsn.envelope_url_with_auth(&sdk.name, &sdk.version);
        let context = EventContext {
            environment: config.environment.clone(),
            release: config.release.clone(),
            sdk,
            user: None,
            page_url: Some(sanitize_url(page_url)),
        };
        let mut sentry = BrowserSentry {
            dsn,
            url,
            muted: is_local_page(page_url) && !config.report_localhost,
            traces_sample_rate: traces_sample_rate(
                config.production_mode,
                config.traces_sample_rate,
            ),
            ignore_errors: config.ignore_errors.clone(),
            dedup: Deduplicator::default(),
            session: None,
            rate_limits: RateLimits::default(),
            route: None,
            navigation_started: None,
            breadcrumbs: VecDeque::new(),
            queue: VecDeque::new(),
            n_queued_events: 0,
            discarded: BTreeMap::new(),
            page_hidden: false,
            context,
        };
        if let (Some(release), false) = (&config.release, sentry.muted) {
            let attrs = SessionAttributes {
                release: release.clone(),
                environment: Some(config.environment.clone()),
            };
            let (session, first) = SessionTracker::start(entropy.event_id(), now, attrs);
            sentry.session = Some(session);
            sentry.queue_session(Envelope::for_session(
                &first,
                &sentry.dsn,
                &sentry.context.sdk,
            ));
        }
        Ok(sentry)
    }

    /// Whether this page's events are dropped (a local page without `report_localhost`).
    pub fn is_muted(&self) -> bool {
        self.muted
    }

    /// The navigation-transaction sample rate in force.
    pub fn traces_sample_rate(&self) -> f64 {
        self.traces_sample_rate
    }

    /// The rate limits the server has announced; check them again before
    /// re-sending an envelope that waited (e.g. across a reload).
    pub fn rate_limits(&self) -> &RateLimits {
        &self.rate_limits
    }

    /// Sets the user that events, transactions and session updates carry (id only), or clears it.
    pub fn set_user(&mut self, id: Option<&str>) {
        self.context.user = id.map(|id| User { id: id.to_owned() });
        if let Some(session) = &mut self.session {
            session.set_distinct_id(id);
        }
    }

    /// A navigation began (the router's `beforeEach`). Optional: without it a
    /// navigation transaction lasts from this call's `now` to the route change.
    pub fn handle_navigation_start(&mut self, now: UnixMs) {
        self.navigation_started = Some(now);
    }

    /// The router settled on `to` (the router's `afterEach`; the first load too).
    ///
    /// Records a breadcrumb, makes `to` the route of later events, and, if
    /// sampled, queues a `navigation` transaction for it.
    pub fn handle_route_change(&mut self, now: UnixMs, to: &str, entropy: &Entropy) {
        let to = sanitize_route(to);
        let started = self.navigation_started.take().unwrap_or(now).min(now);
        if self.breadcrumbs.len() == MAX_BREADCRUMBS {
            self.breadcrumbs.pop_front();
        }
        self.breadcrumbs
            .push_back(Breadcrumb::navigation(now, self.route.as_deref(), to));
        self.route = Some(to.to_owned());
        if self.muted {
            return;
        }
        if !is_sampled(self.traces_sample_rate, entropy.draw()) {
            self.discard(DiscardReason::SampleRate, DataCategory::Transaction);
            return;
        }
        let transaction = Transaction::navigation(
            &self.context,
            entropy.event_id(),
            entropy.trace_id(),
            entropy.span_id(),
            to,
            started,
            now,
        );
        let envelope = Envelope::for_transaction(&transaction, &self.dsn, &self.context.sdk);
        self.queue_event(envelope, DataCategory::Transaction);
    }

    /// An error was caught (window `error`, `unhandledrejection`, a panic, or
    /// `captureException`). Queues its event unless filtered, and the session
    /// update it causes.
    pub fn handle_error(&mut self, now: UnixMs, error: CapturedError<'_>, entropy: &Entropy) {
        if self.muted {
            return;
        }
        let exception = Exception {
            kind: error.kind.to_owned(),
            value: Some(error.value.to_owned()),
            mechanism: Some(Mechanism {
                kind: error.mechanism.to_owned(),
                handled: Some(error.handled),
            }),
            stacktrace: error.stack.and_then(parse_stack),
        };
        let text = format!("{}: {}", error.kind, error.value);
        if !self.keep(&text, ErrorFingerprint::exception(&exception)) {
            return;
        }
        let event = Event::exception(&self.context, entropy.event_id(), now, exception);
        self.queue_error_event(now, event, error.handled);
    }

    /// `captureMessage(message, level)`. Queues its event unless filtered.
    pub fn handle_message(&mut self, now: UnixMs, message: &str, level: Level, entropy: &Entropy) {
        if self.muted || !self.keep(message, ErrorFingerprint::message(message)) {
            return;
        }
        let event = Event::message(&self.context, entropy.event_id(), now, message, level);
        self.queue_error_event(now, event, true);
    }

    /// The page is going away (`pagehide`): the session exits, and everything
    /// polled from now on goes by beacon, ending with a client report of what
    /// was dropped.
    pub fn handle_page_hide(&mut self, now: UnixMs) {
        self.page_hidden = true;
        if let Some(update) = self.session.as_mut().and_then(|s| s.handle_page_hide(now)) {
            let envelope = Envelope::for_session(&update, &self.dsn, &self.context.sdk);
            self.queue_session(envelope);
        }
    }

    /// A response from the envelope endpoint: its status and its `Retry-After`
    /// and `X-Sentry-Rate-Limits` headers, if present.
    pub fn handle_response(
        &mut self,
        now: UnixMs,
        status: u16,
        retry_after: Option<&str>,
        rate_limits: Option<&str>,
    ) {
        self.rate_limits.handle_timeout(now);
        self.rate_limits
            .update(now, status, retry_after, rate_limits);
    }

    /// An envelope could not be delivered and will not be retried: it is counted
    /// in the next client report.
    pub fn handle_send_failure(&mut self, envelope: &Envelope) {
        for item in &envelope.items {
            self.discard(
                DiscardReason::SendError,
                DataCategory::for_item_type(&item.header.kind),
            );
        }
    }

    /// The next envelope to send at `now`, if any. Items whose category is
    /// rate-limited are dropped here (and counted for the client report).
    #[must_use]
    pub fn poll_transmit(&mut self, now: UnixMs) -> Option<Outgoing> {
        while let Some(envelope) = self.queue.pop_front() {
            if envelope
                .items
                .iter()
                .any(|i| matches!(i.header.kind.as_str(), "event" | "transaction"))
            {
                self.n_queued_events -= 1;
            }
            let (kept, dropped) = self.rate_limits.filter_envelope(now, envelope);
            for category in dropped {
                self.discard(DiscardReason::RatelimitBackoff, category);
            }
            if let Some(envelope) = kept {
                return Some(self.outgoing(envelope));
            }
        }
        if self.page_hidden && !self.discarded.is_empty() {
            let report = ClientReport {
                timestamp: now,
                discarded_events: std::mem::take(&mut self.discarded)
                    .into_iter()
                    .map(|((reason, category), quantity)| DiscardedEvents {
                        reason,
                        category,
                        quantity,
                    })
                    .collect(),
            };
            let envelope = Envelope::for_client_report(&report, &self.dsn, &self.context.sdk);
            return Some(self.outgoing(envelope));
        }
        None
    }

    /// Applies `ignore_errors` and de-duplication; counts what they drop.
    fn keep(&mut self, text: &str, fingerprint: ErrorFingerprint) -> bool {
        if is_ignored(text, &self.ignore_errors) || self.dedup.is_repeat(fingerprint) {
            self.discard(DiscardReason::EventProcessor, DataCategory::Error);
            return false;
        }
        true
    }

    fn queue_error_event(&mut self, now: UnixMs, event: Event, handled: bool) {
        let event = event
            .with_route(self.route.as_deref())
            .with_breadcrumbs(self.breadcrumbs.iter().cloned().collect());
        let envelope = Envelope::for_event(&event, &self.dsn, &self.context.sdk);
        self.queue_event(envelope, DataCategory::Error);
        if let Some(update) = self
            .session
            .as_mut()
            .and_then(|s| s.handle_error(now, handled))
        {
            let envelope = Envelope::for_session(&update, &self.dsn, &self.context.sdk);
            self.queue_session(envelope);
        }
    }

    fn queue_event(&mut self, envelope: Envelope, category: DataCategory) {
        if self.n_queued_events >= MAX_QUEUED_EVENTS {
            self.discard(DiscardReason::QueueOverflow, category);
            return;
        }
        self.n_queued_events += 1;
        self.queue.push_back(envelope);
    }

    fn queue_session(&mut self, envelope: Envelope) {
        self.queue.push_back(envelope);
    }

    fn discard(&mut self, reason: DiscardReason, category: DataCategory) {
        *self.discarded.entry((reason, category)).or_insert(0) += 1;
    }

    fn outgoing(&self, envelope: Envelope) -> Outgoing {
        Outgoing {
            url: self.url.clone(),
            envelope,
            beacon: self.page_hidden,
        }
    }
}
