//! Browser Sentry as a sans-IO state machine: the browser crate reports what
//! happened (with the time and fresh random bytes) and sends what comes out.

use super::envelope::{Envelope, SdkInfo};
use super::filter::{
    Deduplicator, ErrorFingerprint, MAX_VALUE_CHARS, is_ignored, is_local_page, sanitize_route,
    sanitize_url, truncate_chars,
};
use super::protocol::{
    Breadcrumb, ClientReport, DataCategory, DiscardReason, DiscardedEvents, Event, EventContext,
    EventId, Exception, Level, Mechanism, SessionAttributes, SpanId, TraceId, Transaction, User,
};
use super::ratelimit::RateLimits;
use super::sampling::{is_sampled, traces_sample_rate};
use super::session::SessionTracker;
use super::stacktrace::parse_stack;
use crate::{Dsn, DsnError, FrontendSentry, UnixMs, text};

/// Route changes kept as breadcrumbs on events.
pub const MAX_BREADCRUMBS: usize = 10;

/// Events and transactions waiting to be sent; more are dropped (and reported as
/// `queue_overflow`). Session updates and client reports are always kept.
pub const MAX_QUEUED_EVENTS: usize = 30;

/// Why browser Sentry cannot start. The browser shows it as one console warning
/// and leaves Sentry off; the page is unaffected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SentrySetupError {
    /// The configured DSN does not parse.
    InvalidDsn(DsnError),
}

impl SentrySetupError {
    /// What is wrong, as `Display` writes it, built without `core::fmt`
    /// (whose formatting code would otherwise be in the browser build).
    pub fn message(&self) -> String {
        match self {
            SentrySetupError::InvalidDsn(e) => {
                text::concat(&["telemetry.frontend.sentry.dsn: ", &e.message()])
            }
        }
    }
}

impl std::fmt::Display for SentrySetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for SentrySetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SentrySetupError::InvalidDsn(e) => Some(e),
        }
    }
}

impl From<DsnError> for SentrySetupError {
    fn from(e: DsnError) -> Self {
        SentrySetupError::InvalidDsn(e)
    }
}

/// 48 fresh random bytes (e.g. from `crypto.getRandomValues`) for one input: ids
/// and the sampling draw come from them, so core itself has no randomness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entropy(pub [u8; 48]);

/// An error as the browser caught it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapturedError<'a> {
    /// `error.name` (`TypeError`; `panic` for Rust panics; empty is sent as `Error`).
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
    /// Tags from `captureException(error, {tags})`; the SDK's own `route` tag wins.
    pub tags: &'a [(String, String)],
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
///     mechanism: MECHANISM_ONERROR, handled: false, tags: &[],
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
    // `Vec`s, not `VecDeque`s: both are short (at most MAX_BREADCRUMBS, and
    // MAX_QUEUED_EVENTS plus sessions), and `VecDeque`'s code costs the browser
    // build more than shifting a few pointers.
    breadcrumbs: Vec<Breadcrumb>,
    queue: Vec<Envelope>,
    n_queued_events: usize,
    discarded: Vec<DiscardedEvents>,
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
            breadcrumbs: Vec::new(),
            queue: Vec::new(),
            n_queued_events: 0,
            discarded: Vec::new(),
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

    /// The envelope endpoint with query-string auth, where everything is sent
    /// (envelopes stored across a reload too).
    pub fn envelope_url(&self) -> &str {
        &self.url
    }

    /// The DSN events go to.
    pub fn dsn(&self) -> &Dsn {
        &self.dsn
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

    /// The page URL changed (`location.href` after a route change): events report
    /// it, sanitised, as `request.url`.
    pub fn set_page_url(&mut self, page_url: &str) {
        self.context.page_url = Some(sanitize_url(page_url));
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
            self.breadcrumbs.remove(0);
        }
        self.breadcrumbs
            .push(Breadcrumb::navigation(now, self.route.as_deref(), to));
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
        let envelope = Envelope::for_transaction(
            &transaction,
            self.traces_sample_rate,
            &self.dsn,
            &self.context.sdk,
        );
        self.queue_event(envelope, DataCategory::Transaction);
    }

    /// An error was caught (window `error`, `unhandledrejection`, a panic, or
    /// `captureException`). Queues its event unless filtered, and the session
    /// update it causes.
    pub fn handle_error(&mut self, now: UnixMs, error: CapturedError<'_>, entropy: &Entropy) {
        if self.muted {
            return;
        }
        let kind = if error.kind.is_empty() {
            "Error"
        } else {
            error.kind
        };
        let value = truncate_chars(error.value, MAX_VALUE_CHARS);
        let exception = Exception {
            kind: kind.to_owned(),
            value: (!value.is_empty()).then(|| value.to_owned()),
            mechanism: Some(Mechanism {
                kind: error.mechanism.to_owned(),
                handled: Some(error.handled),
            }),
            stacktrace: error.stack.and_then(parse_stack),
        };
        let text = text::concat(&[kind, ": ", value]);
        if !self.keep(&text, ErrorFingerprint::exception(&exception)) {
            return;
        }
        let mut event = Event::exception(&self.context, entropy.event_id(), now, exception);
        for (key, value) in error.tags {
            event.tags.insert(key, value);
        }
        self.queue_error_event(now, event, error.handled);
    }

    /// `captureMessage(message, level)`. Queues its event unless filtered.
    pub fn handle_message(&mut self, now: UnixMs, message: &str, level: Level, entropy: &Entropy) {
        let message = truncate_chars(message, MAX_VALUE_CHARS);
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

    /// The page came back from the back/forward cache (`pageshow` with
    /// `persisted`): sends go by `fetch` again. The session that exited stays
    /// ended; a restored page is not a new page load.
    pub fn handle_page_show(&mut self) {
        self.page_hidden = false;
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

    /// An envelope of `category` (see [`Outgoing::category`]; every envelope
    /// made here has one item) could not be delivered and will not be retried:
    /// it is counted in the next client report.
    pub fn handle_send_failure(&mut self, category: DataCategory) {
        self.discard(DiscardReason::SendError, category);
    }

    /// The next envelope to send at `now`, if any. Items whose category is
    /// rate-limited are dropped here (and counted for the client report).
    #[must_use]
    pub fn poll_transmit(&mut self, now: UnixMs) -> Option<Outgoing> {
        while !self.queue.is_empty() {
            let envelope = self.queue.remove(0);
            if envelope.items.iter().any(|i| {
                matches!(
                    DataCategory::for_item_type(&i.header.kind),
                    DataCategory::Error | DataCategory::Transaction
                )
            }) {
                self.n_queued_events = self.n_queued_events.saturating_sub(1);
            }
            let discarded = &mut self.discarded;
            let kept = self.rate_limits.filter_envelope(now, envelope, |category| {
                count_discard(discarded, DiscardReason::RatelimitBackoff, category);
            });
            if let Some(envelope) = kept {
                return Some(self.outgoing(envelope));
            }
        }
        if self.page_hidden && !self.discarded.is_empty() {
            let report = ClientReport {
                timestamp: now,
                discarded_events: std::mem::take(&mut self.discarded),
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
        // The breadcrumbs are lent to the event and taken back once it is
        // written, instead of cloned: a clone of every crumb costs code size.
        let mut event = event
            .with_route(self.route.as_deref())
            .with_breadcrumbs(std::mem::take(&mut self.breadcrumbs));
        let envelope = Envelope::for_event(&event, &self.dsn, &self.context.sdk);
        if let Some(lent) = event.breadcrumbs.take() {
            self.breadcrumbs = lent.values;
        }
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
        self.queue.push(envelope);
    }

    fn queue_session(&mut self, envelope: Envelope) {
        self.queue.push(envelope);
    }

    fn discard(&mut self, reason: DiscardReason, category: DataCategory) {
        count_discard(&mut self.discarded, reason, category);
    }

    fn outgoing(&self, envelope: Envelope) -> Outgoing {
        Outgoing {
            url: self.url.clone(),
            envelope,
            beacon: self.page_hidden,
        }
    }
}

/// Counts one discarded item in `discarded` (one entry per reason and category).
fn count_discard(
    discarded: &mut Vec<DiscardedEvents>,
    reason: DiscardReason,
    category: DataCategory,
) {
    match discarded
        .iter_mut()
        .find(|d| d.reason == reason && d.category == category)
    {
        Some(known) => known.quantity += 1,
        None => discarded.push(DiscardedEvents {
            reason,
            category,
            quantity: 1,
        }),
    }
}

impl Outgoing {
    /// The request body, with `sent_at` set to `now` (call it when sending).
    ///
    /// To keep an envelope across a reload, store `envelope.to_bytes()` and its
    /// [`category`](Outgoing::category); when sending it later, skip it while
    /// [`RateLimits::is_limited`] says so and send
    /// [`stamp_sent_at`](super::stamp_sent_at)`(stored, now)`.
    pub fn body(&self, now: UnixMs) -> Vec<u8> {
        // The same bytes as `to_bytes_sent_at(now)` (a test checks it), through
        // the path stored envelopes take anyway: one envelope writer less in
        // the browser build, and no copy of the header.
        super::stamp_sent_at(&self.envelope.to_bytes(), now)
    }

    /// The rate-limit category of what is inside (each envelope holds one item).
    pub fn category(&self) -> DataCategory {
        self.envelope
            .items
            .first()
            .map_or(DataCategory::Default, |item| {
                DataCategory::for_item_type(&item.header.kind)
            })
    }
}

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

    /// `N` bytes from `start`; every caller stays inside the 48. Without a
    /// panic path (no slice index), which would cost the browser build code.
    fn array<const N: usize>(&self, start: usize) -> [u8; N] {
        self.0
            .get(start..)
            .and_then(<[u8]>::first_chunk)
            .copied()
            .unwrap_or([0; N])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentry::stamp_sent_at;

    const PAGE: &str = "https://forge.example/team/acme";

    fn config(extra: serde_json::Value) -> FrontendSentry {
        let mut json = serde_json::json!({
            "dsn": "https://public@sentry.example/42",
            "environment": "production",
            "release": "flowfuse@2.11.0",
        });
        json.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(json).unwrap()
    }

    fn sdk() -> SdkInfo {
        SdkInfo {
            name: "ff-telemetry.web".into(),
            version: "0.1.0".into(),
        }
    }

    fn start(extra: serde_json::Value, page: &str) -> BrowserSentry {
        BrowserSentry::new(&config(extra), sdk(), page, UnixMs(0), &Entropy([0; 48])).unwrap()
    }

    /// Entropy whose sampling draw is `draw`.
    fn with_draw(draw: u32) -> Entropy {
        let mut bytes = [7; 48];
        bytes[40..44].copy_from_slice(&draw.to_le_bytes());
        Entropy(bytes)
    }

    fn error(value: &str) -> CapturedError<'_> {
        CapturedError {
            kind: "Error",
            value,
            stack: None,
            mechanism: MECHANISM_GENERIC,
            handled: true,
            tags: &[],
        }
    }

    /// The item types of everything due at `now`.
    fn sent(sentry: &mut BrowserSentry, now: UnixMs) -> Vec<String> {
        std::iter::from_fn(|| sentry.poll_transmit(now))
            .flat_map(|o| o.envelope.items)
            .map(|i| i.header.kind)
            .collect()
    }

    fn count(kinds: &[String], kind: &str) -> usize {
        kinds.iter().filter(|k| *k == kind).count()
    }

    #[test]
    fn invalid_dsn_is_an_error_naming_the_setting() {
        let bad = config(serde_json::json!({"dsn": "https://sentry.example/42"}));
        let err = BrowserSentry::new(&bad, sdk(), PAGE, UnixMs(0), &Entropy([0; 48])).unwrap_err();
        assert_eq!(
            err,
            SentrySetupError::InvalidDsn(DsnError::MissingPublicKey)
        );
        assert!(
            err.to_string()
                .starts_with("telemetry.frontend.sentry.dsn: public key is missing")
        );
    }

    #[test]
    fn production_mode_changes_how_many_navigations_are_sent() {
        let n_sent = |production_mode: bool| {
            let mut sentry = start(
                serde_json::json!({"production_mode": production_mode}),
                PAGE,
            );
            let mut kinds = sent(&mut sentry, UnixMs(0));
            for i in 0..1_000u32 {
                let draw = ((u64::from(i) << 32) / 1_000) as u32;
                let now = UnixMs(u64::from(i) * 10);
                sentry.handle_route_change(now, &format!("/r/{i}"), &with_draw(draw));
                kinds.extend(sent(&mut sentry, now));
            }
            count(&kinds, "transaction")
        };
        assert_eq!(n_sent(true), 50);
        assert_eq!(n_sent(false), 500);
    }

    #[test]
    fn configured_rate_overrides_production_mode() {
        let mut sentry = start(
            serde_json::json!({"production_mode": true, "traces_sample_rate": 1.0}),
            PAGE,
        );
        assert_eq!(sentry.traces_sample_rate(), 1.0);
        sentry.handle_route_change(UnixMs(1), "/a", &with_draw(u32::MAX));
        assert_eq!(count(&sent(&mut sentry, UnixMs(1)), "transaction"), 1);
    }

    #[test]
    fn errors_and_sessions_are_never_sampled_away() {
        let mut sentry = start(
            serde_json::json!({"production_mode": true, "traces_sample_rate": 0.0}),
            PAGE,
        );
        let mut kinds = sent(&mut sentry, UnixMs(0));
        for i in 0..20 {
            // Distinct errors (no de-duplication), each with a draw that would
            // drop a transaction.
            let value = format!("boom {i}");
            sentry.handle_error(UnixMs(i), error(&value), &with_draw(u32::MAX));
        }
        sentry.handle_page_hide(UnixMs(100));
        kinds.extend(sent(&mut sentry, UnixMs(100)));
        assert_eq!(count(&kinds, "event"), 20);
        // Start, first error, exit.
        assert_eq!(count(&kinds, "session"), 3);
    }

    #[test]
    fn local_pages_send_nothing_unless_asked_to() {
        for page in [
            "http://localhost:3000/",
            "http://127.0.0.1:8080/a",
            "http://[::1]/",
        ] {
            let mut sentry = start(serde_json::json!({}), page);
            assert!(sentry.is_muted());
            sentry.handle_route_change(UnixMs(1), "/a", &with_draw(0));
            sentry.handle_error(UnixMs(2), error("x"), &with_draw(0));
            sentry.handle_page_hide(UnixMs(3));
            assert_eq!(sent(&mut sentry, UnixMs(3)), Vec::<String>::new(), "{page}");

            let mut sentry = start(serde_json::json!({"report_localhost": true}), page);
            assert!(!sentry.is_muted());
            sentry.handle_error(UnixMs(2), error("x"), &with_draw(0));
            assert_eq!(
                sent(&mut sentry, UnixMs(2)),
                ["session", "event", "session"]
            );
        }
    }

    #[test]
    fn ignored_and_repeated_errors_are_dropped_and_reported() {
        let mut sentry = start(
            serde_json::json!({"ignore_errors": ["ResizeObserver loop"]}),
            PAGE,
        );
        let _ = sent(&mut sentry, UnixMs(0));
        sentry.handle_error(
            UnixMs(1),
            error("ResizeObserver loop limit exceeded"),
            &with_draw(0),
        );
        sentry.handle_error(UnixMs(2), error("boom"), &with_draw(0));
        sentry.handle_error(UnixMs(3), error("boom"), &with_draw(0));
        sentry.handle_message(UnixMs(4), "hello", Level::Info, &with_draw(0));
        sentry.handle_message(UnixMs(5), "hello", Level::Info, &with_draw(0));
        assert_eq!(sent(&mut sentry, UnixMs(5)), ["event", "session", "event"]);
        sentry.handle_page_hide(UnixMs(6));
        let last: Vec<_> = std::iter::from_fn(|| sentry.poll_transmit(UnixMs(6))).collect();
        let report: ClientReport =
            serde_json::from_slice(&last[1].envelope.items[0].payload).unwrap();
        assert_eq!(
            report.discarded_events,
            [DiscardedEvents {
                reason: DiscardReason::EventProcessor,
                category: DataCategory::Error,
                quantity: 3
            }]
        );
    }

    #[test]
    fn rate_limited_categories_stop_for_the_stated_time() {
        let mut sentry = start(serde_json::json!({"traces_sample_rate": 1.0}), PAGE);
        let _ = sent(&mut sentry, UnixMs(0));
        sentry.handle_response(UnixMs(1_000), 429, None, Some("30:transaction:project"));
        let mut step = |at: u64, value: &str| {
            let now = UnixMs(at);
            sentry.handle_route_change(now, "/a", &with_draw(0));
            sentry.handle_error(now, error(value), &with_draw(0));
            sent(&mut sentry, now)
        };
        assert_eq!(step(30_999, "a"), ["event", "session"]);
        assert_eq!(step(31_000, "b"), ["transaction", "event"]);
    }

    #[test]
    fn page_hide_exits_the_session_by_beacon() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        let first = sentry.poll_transmit(UnixMs(0)).unwrap();
        assert!(!first.beacon);
        sentry.handle_page_hide(UnixMs(9_000));
        let exit = sentry.poll_transmit(UnixMs(9_000)).unwrap();
        assert!(exit.beacon);
        let update: crate::sentry::SessionUpdate =
            serde_json::from_slice(&exit.envelope.items[0].payload).unwrap();
        assert_eq!(update.status, crate::sentry::SessionStatus::Exited);
        assert_eq!(sentry.poll_transmit(UnixMs(9_000)), None);

        // Back from the back/forward cache: fetch again, no second exit.
        sentry.handle_page_show();
        sentry.handle_error(UnixMs(9_500), error("x"), &with_draw(0));
        let event = sentry.poll_transmit(UnixMs(9_500)).unwrap();
        assert!(!event.beacon);
        sentry.handle_page_hide(UnixMs(9_900));
        assert_eq!(sentry.poll_transmit(UnixMs(9_900)), None);
    }

    #[test]
    fn stored_envelopes_are_resent_with_a_fresh_sent_at() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        sentry.handle_error(UnixMs(1), error("offline"), &with_draw(0));
        let _session_start = sentry.poll_transmit(UnixMs(1));
        let out = sentry.poll_transmit(UnixMs(1)).unwrap();
        assert_eq!(out.category(), DataCategory::Error);
        let stored = out.envelope.to_bytes();
        // An hour later, back online.
        let later = UnixMs(UnixMs::HOUR);
        assert!(!sentry.rate_limits().is_limited(later, &out.category()));
        assert_eq!(stamp_sent_at(&stored, later), out.body(later));
        assert_eq!(out.body(later), out.envelope.to_bytes_sent_at(later));
        let body = String::from_utf8(out.body(later)).unwrap();
        assert!(body.starts_with(r#"{"sent_at":"1970-01-01T01:00:00.000Z","event_id":"#));
    }

    #[test]
    fn without_a_release_there_are_no_sessions() {
        let no_release = FrontendSentry {
            release: None,
            ..config(serde_json::json!({}))
        };
        let mut sentry =
            BrowserSentry::new(&no_release, sdk(), PAGE, UnixMs(0), &Entropy([0; 48])).unwrap();
        sentry.handle_error(UnixMs(1), error("x"), &with_draw(0));
        sentry.handle_page_hide(UnixMs(2));
        assert_eq!(sent(&mut sentry, UnixMs(2)), ["event"]);
    }

    #[test]
    fn long_values_are_cut_and_nameless_errors_named() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        let _ = sent(&mut sentry, UnixMs(0));
        let long = "é".repeat(MAX_VALUE_CHARS + 10);
        let nameless = CapturedError {
            kind: "",
            ..error(&long)
        };
        sentry.handle_error(UnixMs(1), nameless, &with_draw(0));
        let out = sentry.poll_transmit(UnixMs(1)).unwrap();
        let event: Event = serde_json::from_slice(&out.envelope.items[0].payload).unwrap();
        let exception = &event.exception.unwrap().values[0];
        assert_eq!(exception.kind, "Error");
        let value = exception.value.as_deref().unwrap();
        assert_eq!(value.chars().count(), MAX_VALUE_CHARS);
    }

    #[test]
    fn capture_context_tags_are_kept_but_route_is_ours() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        let _ = sent(&mut sentry, UnixMs(0));
        sentry.handle_route_change(UnixMs(1), "/a", &with_draw(u32::MAX));
        let tagged = CapturedError {
            tags: &[
                ("feature".to_owned(), "deploy".to_owned()),
                ("route".to_owned(), "/fake".to_owned()),
            ],
            ..error("x")
        };
        sentry.handle_error(UnixMs(2), tagged, &with_draw(0));
        let out = sentry.poll_transmit(UnixMs(2)).unwrap();
        let event: Event = serde_json::from_slice(&out.envelope.items[0].payload).unwrap();
        assert_eq!(event.tags.get("feature"), Some("deploy"));
        assert_eq!(event.tags.get("route"), Some("/a"));
    }

    #[test]
    fn page_url_follows_the_app_and_stays_sanitised() {
        let mut sentry = start(serde_json::json!({}), "https://forge.example/?token=a");
        let _ = sent(&mut sentry, UnixMs(0));
        sentry.set_page_url("https://forge.example/team/b?token=secret#x");
        sentry.handle_message(UnixMs(1), "m", Level::Info, &with_draw(0));
        let out = sentry.poll_transmit(UnixMs(1)).unwrap();
        let event: Event = serde_json::from_slice(&out.envelope.items[0].payload).unwrap();
        let url = event.request.and_then(|r| r.url);
        assert_eq!(url.as_deref(), Some("https://forge.example/team/b"));
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        for i in 0..(MAX_QUEUED_EVENTS + 5) {
            let value = format!("e{i}");
            sentry.handle_error(UnixMs(1), error(&value), &with_draw(0));
        }
        let kinds = sent(&mut sentry, UnixMs(1));
        assert_eq!(count(&kinds, "event"), MAX_QUEUED_EVENTS);
        // Once drained, there is room again.
        sentry.handle_error(UnixMs(2), error("after"), &with_draw(0));
        assert_eq!(sent(&mut sentry, UnixMs(2)), ["event"]);
    }

    #[test]
    fn events_carry_route_breadcrumbs_and_user() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        for (i, route) in (0..12).map(|i| (i, format!("/r/{i}?q=secret"))) {
            sentry.handle_route_change(UnixMs(i), &route, &with_draw(u32::MAX));
        }
        sentry.set_user(Some("user-7"));
        sentry.handle_error(UnixMs(20), error("x"), &with_draw(0));
        let _session_start = sentry.poll_transmit(UnixMs(20));
        let out = sentry.poll_transmit(UnixMs(20)).unwrap();
        let event: Event = serde_json::from_slice(&out.envelope.items[0].payload).unwrap();
        assert_eq!(event.transaction.as_deref(), Some("/r/11"));
        assert_eq!(
            event.user,
            Some(User {
                id: "user-7".into()
            })
        );
        let crumbs = event.breadcrumbs.unwrap().values;
        assert_eq!(crumbs.len(), MAX_BREADCRUMBS);
        assert_eq!(crumbs[0].data.get("to"), Some("/r/2"));
        assert_eq!(crumbs[9].data.get("from"), Some("/r/10"));
        assert_eq!(crumbs[9].data.get("to"), Some("/r/11"));
    }
}
