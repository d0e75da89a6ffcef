//! Browser Sentry as a sans-IO state machine: the browser crate reports what
//! happened (with the time and fresh random bytes) and sends what comes out.
//!
//! Every payload is one of `ff_telemetry_wire::sentry`'s types, built from this
//! state and written with serde into the text of its envelope; the tests read it
//! back with the same types (and with the `sentry-types` crate).

use super::debug_image::{point_frames_at, wasm_image};
use super::filter::{
    Deduplicator, ErrorFingerprint, MAX_ROUTE_CHARS, MAX_VALUE_CHARS, is_ignored, is_local_page,
    sanitize_route, sanitize_url, truncate_chars,
};
use super::ratelimit::{DEFAULT_RETRY_AFTER_MS, RateLimits, parse_retry_after};
use super::sampling::{decimal_text, is_sampled, traces_sample_rate};
use super::session::SessionTracker;
use super::stacktrace::parse_stack;
use crate::list;
use ff_telemetry_core::retry::{RetryPolicy, Verdict, classify};
use ff_telemetry_wire::sentry::{
    Breadcrumb, ClientReport, DataCategory, DebugImage, DebugMeta, DiscardReason, DiscardedEvents,
    EnvelopeHeader, Event, EventId, Exception, Frame, Level, Mechanism, PLATFORM_JAVASCRIPT,
    Request, SdkInfo, SessionAttributes, SpanId, Stacktrace, StringMap, TraceContext, TraceHeader,
    TraceId, Transaction, TransactionContexts, TransactionInfo, User, Values, stamp_sent_at,
    write_item,
};
use ff_telemetry_wire::{Dsn, DsnError, FrontendSentry, UnixMs, text};

/// Route changes kept as breadcrumbs on events.
pub const MAX_BREADCRUMBS: usize = 10;

/// Events and transactions of this page load waiting to be sent; more are
/// dropped (and reported as `queue_overflow`). Session updates and client
/// reports are always kept, and so are the (at most [`MAX_STORED_ENVELOPES`])
/// envelopes restored from an earlier page load.
pub const MAX_QUEUED_EVENTS: usize = 30;

/// Envelopes kept for the next page load when they could not be sent (the
/// newest ones).
pub const MAX_STORED_ENVELOPES: usize = 30;

/// Between stored envelopes, and between an envelope and its category. JSON
/// escapes control characters, so neither occurs inside an envelope. Both are
/// ASCII bytes, split on by `text`'s byte scans (a `char` pattern costs a searcher in the build).
const ENVELOPE_SEPARATOR: u8 = 0x1e;
const CATEGORY_SEPARATOR: u8 = 0x1f;

/// Why browser Sentry cannot start. The browser shows it as one console warning
/// and leaves Sentry off; the page is unaffected.
///
/// `Display` is written by hand, as [`DsnError`]'s is: no `core::fmt`
/// argument formatting in the browser build.
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

/// One envelope to POST to [`BrowserSentry::envelope_url`] (as `text/plain`,
/// so there is no CORS preflight). Each holds one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The rate-limit category of the item inside.
    pub category: DataCategory,
    /// The envelope in wire form without `sent_at` (see [`Outgoing::body`]).
    pub unsent: String,
    /// The page is going away: send with `navigator.sendBeacon` (or `fetch` with
    /// `keepalive`).
    pub beacon: bool,
}

/// What every event and transaction of one SDK instance shares.
#[derive(Debug, Clone)]
struct EventContext {
    /// `SENTRY_ENV` → `NODE_ENV` → `unknown`.
    environment: String,
    /// `flowfuse@<version>`, when known.
    release: Option<String>,
    /// The SDK's name and version.
    sdk: SdkInfo,
    /// The identified user's id, if any (nothing else about the user is sent).
    user_id: Option<String>,
    /// The page URL, sanitised (see [`sanitize_url`]).
    page_url: String,
}

/// What the sender does with an envelope once its answer is known (see
/// [`BrowserSentry::handle_answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAnswer {
    /// Delivered, or lost for good (counted in the next client report).
    Done,
    /// No answer (offline): kept in storage for the browser's return online
    /// or the next page load, so that a long outage does not fill the queue.
    Keep,
    /// Back in the queue for a retry: poll again at this time.
    RetryAt(UnixMs),
}

/// Browser Sentry, minus the I/O.
///
/// Inputs are `handle_*` calls; outputs are drained with [`BrowserSentry::poll_transmit`]
/// after each input until it returns `None`. Every response from the envelope
/// endpoint goes back in through [`BrowserSentry::handle_response`].
///
/// ```
/// use ff_telemetry_wire::{FrontendSentry, UnixMs};
/// use ff_telemetry_wire::sentry::{DataCategory, SdkInfo};
/// use ff_telemetry_browser::sentry::{BrowserSentry, CapturedError, Entropy, MECHANISM_ONERROR};
/// let config: FrontendSentry = serde_json::from_str(
///     r#"{"dsn": "https://key@sentry.example/1", "release": "flowfuse@2.1.0"}"#).unwrap();
/// let sdk = SdkInfo { name: "ff-telemetry.web".into(), version: "0.1.0".into() };
/// let mut sentry = BrowserSentry::new(&config, sdk, "https://app.example/", UnixMs(0), &Entropy([1; 48])).unwrap();
/// let session_start = sentry.poll_transmit(UnixMs(0)).unwrap();
/// assert_eq!(session_start.category, DataCategory::Session);
/// assert!(sentry.envelope_url().starts_with("https://sentry.example/api/1/envelope/?sentry_version=7"));
///
/// sentry.handle_error(UnixMs(5), CapturedError {
///     kind: "TypeError", value: "x is undefined", stack: None,
///     mechanism: MECHANISM_ONERROR, handled: false, tags: &[],
/// }, &Entropy([2; 48]));
/// let categories: Vec<_> = std::iter::from_fn(|| sentry.poll_transmit(UnixMs(6)))
///     .map(|o| o.category).collect();
/// // The event, then the crashed session.
/// assert_eq!(categories, [DataCategory::Error, DataCategory::Session]);
/// ```
#[derive(Debug, Clone)]
pub struct BrowserSentry {
    /// The DSN's public key (the `trace` header names it).
    public_key: String,
    /// The DSN as envelope headers name it: as configured (it parsed, so
    /// it has no stray whitespace), not rebuilt from its parts.
    dsn_text: String,
    url: String,
    context: EventContext,
    /// Events from a local page are not reported (`report_localhost: false`).
    muted: bool,
    traces_sample_rate: f64,
    /// `traces_sample_rate` as the `trace` envelope header states it.
    sample_rate_text: String,
    ignore_errors: Vec<String>,
    dedup: Deduplicator,
    /// `None` without a release: Sentry rejects sessions that have none.
    session: Option<SessionTracker>,
    rate_limits: RateLimits,
    /// The routes the router settled on, with when: the last one is the
    /// current route, the last [`MAX_BREADCRUMBS`] are the breadcrumbs, and
    /// one more is kept so the oldest breadcrumb still says where it came from.
    routes: Vec<(UnixMs, String)>,
    /// The current route's template (`/instances/:id`), when the router
    /// matched one: the `transaction` of events and transactions.
    route_template: Option<String>,
    navigation_started: Option<UnixMs>,
    // `Vec`s, not `VecDeque`s: both are short, and `VecDeque`'s code costs the
    // browser build more than shifting a few elements.
    queue: Vec<Outgoing>,
    /// How many envelopes at the front of `queue` an earlier page load kept
    /// ([`BrowserSentry::restore`]): they do not count against this page's
    /// [`MAX_QUEUED_EVENTS`].
    n_restored: usize,
    discarded: Vec<DiscardedEvents>,
    page_hidden: bool,
    /// The envelope at the front of `queue` waits for its retry until then
    /// (see [`BrowserSentry::handle_retry`]), and everything behind it too.
    retry_at: Option<UnixMs>,
    /// Until when the server asked to wait (`Retry-After`), for the envelope
    /// waiting for a retry: a flush does not go before it.
    retry_not_before: Option<UnixMs>,
    /// The last send found no answer (offline, or the server unreachable):
    /// a beacon would most likely be lost too.
    unreachable: bool,
    /// Consecutive retries of the envelope at the front.
    n_failures: u32,
    /// The SDK's own WebAssembly module, once known ([`BrowserSentry::set_wasm_module`]).
    wasm_image: Option<DebugImage>,
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
        let traces_sample_rate =
            traces_sample_rate(config.production_mode, config.traces_sample_rate);
        let context = EventContext {
            environment: config.environment.clone(),
            release: config.release.clone(),
            sdk,
            user_id: None,
            page_url: sanitize_url(page_url),
        };
        let mut sentry = BrowserSentry {
            dsn_text: config.dsn.clone(),
            public_key: dsn.public_key().to_owned(),
            url,
            muted: is_local_page(page_url) && !config.report_localhost,
            traces_sample_rate,
            sample_rate_text: decimal_text(traces_sample_rate),
            ignore_errors: config.ignore_errors.clone(),
            dedup: Deduplicator::default(),
            session: None,
            rate_limits: RateLimits::default(),
            routes: Vec::new(),
            route_template: None,
            navigation_started: None,
            queue: Vec::new(),
            n_restored: 0,
            discarded: Vec::new(),
            page_hidden: false,
            retry_at: None,
            retry_not_before: None,
            unreachable: false,
            n_failures: 0,
            wasm_image: None,
            context,
        };
        if let (Some(release), false) = (&config.release, sentry.muted) {
            let attrs = SessionAttributes {
                release: release.clone(),
                environment: Some(config.environment.clone()),
            };
            let (session, first) = SessionTracker::start(entropy.event_id(), now, attrs);
            sentry.session = Some(session);
            sentry.queue_session_update(Some(first));
        }
        Ok(sentry)
    }

    /// Queues the envelopes an earlier page load could not send (`stored`, as
    /// [`Outgoing::add_to_stored`] wrote it) ahead of everything queued so
    /// far. They are sent like this page's: not while rate-limited (then they
    /// are dropped and reported), each with a fresh `sent_at`. Entries without
    /// a category this SDK sends are skipped.
    pub fn restore(&mut self, stored: &str) {
        // A loop rather than `collect()`: less generic code in the browser build.
        let mut queue = Vec::new();
        for entry in text::split_ascii(stored, ENVELOPE_SEPARATOR) {
            let Some((name, unsent)) = text::split_once_ascii(entry, CATEGORY_SEPARATOR) else {
                continue;
            };
            if let Some(category) = DataCategory::from_name(name) {
                queue.push(Outgoing {
                    category,
                    unsent: unsent.to_owned(),
                    beacon: false,
                });
            }
        }
        self.n_restored += queue.len();
        queue.append(&mut self.queue);
        self.queue = queue;
    }

    /// The envelope endpoint with query-string auth, where everything is sent
    /// (envelopes stored across a reload too).
    pub fn envelope_url(&self) -> &str {
        &self.url
    }

    /// The public key of the DSN events go to (it names the project).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Whether this page's events are dropped (a local page without `report_localhost`).
    pub fn is_muted(&self) -> bool {
        self.muted
    }

    /// The navigation-transaction sample rate in force.
    pub fn traces_sample_rate(&self) -> f64 {
        self.traces_sample_rate
    }

    /// Sets the user that events, transactions and session updates carry (id only), or clears it.
    pub fn set_user(&mut self, id: Option<&str>) {
        let id = id.map(|id| truncate_chars(id, MAX_ROUTE_CHARS));
        self.context.user_id = id.map(str::to_owned);
        if let Some(session) = &mut self.session {
            session.set_distinct_id(id);
        }
    }

    /// The page URL changed (`location.href` after a route change): events report
    /// it, sanitised, as `request.url`.
    pub fn set_page_url(&mut self, page_url: &str) {
        self.context.page_url = sanitize_url(page_url);
    }

    /// The SDK's own WebAssembly module: its `build_id` custom section and a
    /// stack taken inside it (see [`wasm_image`]). From now on an error whose
    /// stack holds frames of the module names it in `debug_meta`, and those
    /// frames point into it, so Sentry can symbolicate them with the debug
    /// file the build uploaded. Ignored without an id.
    pub fn set_wasm_module(&mut self, build_id: &[u8], stack_inside: &str) {
        self.wasm_image = wasm_image(build_id, stack_inside);
    }

    /// A navigation began (the router's `beforeEach`). Optional: without it a
    /// navigation transaction lasts from this call's `now` to the route change.
    pub fn handle_navigation_start(&mut self, now: UnixMs) {
        self.navigation_started = Some(now);
    }

    /// The router settled on `to` (the router's `afterEach`; the first load too),
    /// which matched the route `template` (`/instances/:id`), if the router
    /// has one.
    ///
    /// Records a breadcrumb, makes `to` the route of later events, and, if
    /// sampled, queues a `navigation` transaction. Transactions and events
    /// are named by the template (source `route`), or without one by the
    /// path (source `url`), as Sentry's Vue Router integration names them.
    pub fn handle_route_change(
        &mut self,
        now: UnixMs,
        to: &str,
        template: Option<&str>,
        entropy: &Entropy,
    ) {
        let to = sanitize_route(to);
        let started = self.navigation_started.take().unwrap_or(now).min(now);
        if self.routes.len() > MAX_BREADCRUMBS {
            list::remove_at(&mut self.routes, 0);
        }
        self.routes.push((now, to.to_owned()));
        self.route_template = template.map(|t| truncate_chars(t, MAX_ROUTE_CHARS).to_owned());
        if self.muted {
            return;
        }
        if !is_sampled(self.traces_sample_rate, entropy.draw()) {
            self.discard(DiscardReason::SampleRate, DataCategory::Transaction);
            return;
        }
        let envelope = self.transaction_envelope(started, now, entropy);
        self.queue_event(DataCategory::Transaction, envelope);
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
        let mut stacktrace = error.stack.and_then(parse_stack);
        let text = text::concat(&[kind, ": ", value]);
        let fingerprint = ErrorFingerprint::exception(kind, value, stacktrace.as_ref());
        if !self.keep(&text, fingerprint) {
            return;
        }
        let image = self.wasm_image.as_ref().filter(|image| {
            let frames = stacktrace.as_mut().map(|st| st.frames.as_mut_slice());
            frames.is_some_and(|frames| point_frames_at(frames, image))
        });
        let debug_meta = image.map(|image| DebugMeta {
            images: vec![image.clone()],
        });
        let event = EventParts {
            level: Level::Error,
            tags: error.tags,
            debug_meta,
            body: EventBody::Exception {
                kind,
                value,
                mechanism: error.mechanism,
                handled: error.handled,
                stacktrace: stacktrace.as_ref(),
            },
        };
        self.queue_error_event(now, entropy.event_id(), event, error.handled);
    }

    /// `captureMessage(message, level)`. Queues its event unless filtered.
    pub fn handle_message(&mut self, now: UnixMs, message: &str, level: Level, entropy: &Entropy) {
        let message = truncate_chars(message, MAX_VALUE_CHARS);
        if self.muted || !self.keep(message, ErrorFingerprint::message(message)) {
            return;
        }
        let event = EventParts {
            level,
            tags: &[],
            debug_meta: None,
            body: EventBody::Message(message),
        };
        self.queue_error_event(now, entropy.event_id(), event, true);
    }

    /// The page is going away (`pagehide`): the session exits, and everything
    /// polled from now on goes by beacon, ending with a client report of what
    /// was dropped.
    pub fn handle_page_hide(&mut self, now: UnixMs) {
        self.page_hidden = true;
        let update = self.session.as_mut().and_then(|s| s.handle_page_hide(now));
        self.queue_session_update(update);
    }

    /// The page came back from the back/forward cache (`pageshow` with
    /// `persisted`): sends go by `fetch` again. The session that exited stays
    /// ended; a restored page is not a new page load.
    pub fn handle_page_show(&mut self) {
        self.page_hidden = false;
    }

    /// The answer to an envelope of `category` (see [`Outgoing::category`]): its
    /// HTTP status (0 for no answer) and its `Retry-After` and
    /// `X-Sentry-Rate-Limits` headers, if present. A refusal loses the envelope
    /// (counted in the next client report); [`Verdict::NoAnswer`] tells the
    /// caller to keep it for the next page load or the browser's return
    /// online (stored, so that a long outage does not fill the queue); a 5xx,
    /// or a 429 without `X-Sentry-Rate-Limits` (an overloaded server, not a
    /// used-up quota), to hand it back with [`BrowserSentry::handle_retry`]
    /// (issue 19: back off as told, lose nothing, where Sentry's own SDKs drop
    /// it).
    pub fn handle_response(
        &mut self,
        now: UnixMs,
        category: DataCategory,
        status: u16,
        retry_after: Option<&str>,
        rate_limits: Option<&str>,
    ) -> Verdict {
        self.rate_limits
            .update(now, status, retry_after, rate_limits);
        let verdict = classify(status);
        self.unreachable = verdict == Verdict::NoAnswer;
        if verdict == Verdict::Refused {
            self.handle_send_failure(category);
        } else if verdict == Verdict::Delivered {
            self.n_failures = 0;
        }
        verdict
    }

    /// The answer to `out` (HTTP status, 0 for none, and its `Retry-After`
    /// and `X-Sentry-Rate-Limits` headers): [`handle_response`] and, for a
    /// server that cannot take it now (a 5xx, or a 429 without Sentry's rate
    /// limits: overloaded, not a used-up quota), [`handle_retry`] with the
    /// default [`RetryPolicy`]. Says what the sender does next.
    ///
    /// [`handle_response`]: Self::handle_response
    /// [`handle_retry`]: Self::handle_retry
    pub fn handle_answer(
        &mut self,
        now: UnixMs,
        out: &Outgoing,
        status: u16,
        retry_after: Option<&str>,
        rate_limits: Option<&str>,
        jitter_draw: u32,
    ) -> AfterAnswer {
        let verdict = self.handle_response(now, out.category, status, retry_after, rate_limits);
        let overloaded = verdict == Verdict::ServerError
            || (verdict == Verdict::RateLimited && rate_limits.is_none());
        if verdict == Verdict::NoAnswer {
            return AfterAnswer::Keep;
        }
        if !overloaded {
            return AfterAnswer::Done;
        }
        let policy = RetryPolicy::default();
        match self.handle_retry(now, out.clone(), status, retry_after, policy, jitter_draw) {
            Some(at) => AfterAnswer::RetryAt(at),
            None => AfterAnswer::Done,
        }
    }

    /// Puts `out`, answered `status` (a 5xx or a 429, see
    /// [`handle_response`](Self::handle_response)), back at the front of the
    /// queue: nothing is sent before the `Retry-After` the server gave (60 s
    /// for a 429 without one, as its rate limit), nor before `policy`'s backoff
    /// (`jitter_draw` uniform random), except when the page goes away. After
    /// `policy.max_retries` retries it is dropped and counted. Returns when to
    /// poll again (or sooner, see [`handle_flush`](Self::handle_flush)).
    pub fn handle_retry(
        &mut self,
        now: UnixMs,
        out: Outgoing,
        status: u16,
        retry_after: Option<&str>,
        policy: RetryPolicy,
        jitter_draw: u32,
    ) -> Option<UnixMs> {
        self.n_failures += 1;
        let Some(backoff_ms) = policy.delay_ms(self.n_failures, jitter_draw) else {
            self.n_failures = 0;
            self.handle_send_failure(out.category);
            return None;
        };
        let asked_ms = retry_after
            .and_then(|v| parse_retry_after(v, now))
            .or((status == 429).then_some(DEFAULT_RETRY_AFTER_MS));
        let at = now + backoff_ms.max(asked_ms.unwrap_or(0));
        self.retry_not_before = asked_ms.map(|ms| now + ms);
        self.queue.insert(0, out);
        // It left the front once already: it takes no room of this page's.
        self.n_restored += 1;
        self.retry_at = Some(at);
        Some(at)
    }

    /// Whether the last send found no answer: what is left when the page goes
    /// away is then better kept for the next page load than sent by a beacon
    /// that would most likely be lost.
    pub fn is_unreachable(&self) -> bool {
        self.unreachable
    }

    /// Empties the queue, a retry's wait notwithstanding: for keeping what is
    /// unsent when the client stops.
    pub fn take_queued(&mut self) -> Vec<Outgoing> {
        self.retry_at = None;
        self.n_restored = 0;
        std::mem::take(&mut self.queue)
    }

    /// The app called `flush()`, or the browser is back online: what waits
    /// for a retry goes now, unless a server's `Retry-After` still holds.
    pub fn handle_flush(&mut self, now: UnixMs) {
        self.retry_at = self
            .retry_at
            .and(self.retry_not_before)
            .filter(|at| now < *at);
    }

    /// An envelope of `category` (see [`Outgoing::category`]) could not be
    /// delivered and will not be retried: it is counted in the next client report.
    pub fn handle_send_failure(&mut self, category: DataCategory) {
        self.discard(DiscardReason::SendError, category);
    }

    /// The next envelope to send at `now`, if any. Envelopes whose category is
    /// rate-limited are dropped here (and counted for the client report).
    #[must_use]
    pub fn poll_transmit(&mut self, now: UnixMs) -> Option<Outgoing> {
        // Leaving the page, there is no later: what waits for a retry goes now.
        if self.retry_at.is_some_and(|at| now < at) && !self.page_hidden {
            return None;
        }
        self.retry_at = None;
        while let Some(mut out) = list::remove_at(&mut self.queue, 0) {
            self.n_restored = self.n_restored.saturating_sub(1);
            if self.rate_limits.is_limited(now, out.category) {
                self.discard(DiscardReason::RatelimitBackoff, out.category);
                continue;
            }
            out.beacon = self.page_hidden;
            return Some(out);
        }
        if self.page_hidden && !self.discarded.is_empty() {
            let report = to_json(&ClientReport {
                timestamp: now,
                discarded_events: std::mem::take(&mut self.discarded),
            });
            return Some(Outgoing {
                category: DataCategory::Internal,
                unsent: self.envelope(None, None, "client_report", &report),
                beacon: true,
            });
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

    /// The current route: the last one the router settled on.
    fn route(&self) -> Option<&str> {
        self.routes.last().map(|(_, route)| route.as_str())
    }

    /// What events and transactions are named by: the current route's
    /// template, else its path.
    fn transaction_name(&self) -> Option<&str> {
        self.route_template.as_deref().or(self.route())
    }

    fn queue_error_event(
        &mut self,
        now: UnixMs,
        event_id: EventId,
        event: EventParts<'_>,
        handled: bool,
    ) {
        let payload = self.event_json(now, &event_id, event);
        let envelope = self.envelope(Some(&event_id), None, "event", &payload);
        self.queue_event(DataCategory::Error, envelope);
        let update = self
            .session
            .as_mut()
            .and_then(|s| s.handle_error(now, handled));
        self.queue_session_update(update);
    }

    /// The JSON of an error event: what every event says, and its body.
    fn event_json(&self, now: UnixMs, event_id: &EventId, event: EventParts<'_>) -> String {
        let route = self.route();
        let context = &self.context;
        let mut tags = StringMap::default();
        for (key, value) in event.tags {
            if route.is_none() || key != "route" {
                tags.insert(key, value);
            }
        }
        if let Some(route) = route {
            tags.insert("route", route);
        }
        let (exception, message) = match event.body {
            EventBody::Message(message) => (None, Some(message.to_owned())),
            EventBody::Exception {
                kind,
                value,
                mechanism,
                handled,
                stacktrace,
            } => {
                let exception = Exception {
                    kind: kind.to_owned(),
                    value: (!value.is_empty()).then(|| value.to_owned()),
                    mechanism: Some(Mechanism {
                        kind: mechanism.to_owned(),
                        handled: Some(handled),
                    }),
                    stacktrace: stacktrace.map(owned_stacktrace),
                };
                let values = Values {
                    values: vec![exception],
                };
                (Some(values), None)
            }
        };
        to_json(&Event {
            event_id: *event_id,
            timestamp: now,
            platform: PLATFORM_JAVASCRIPT.to_owned(),
            level: event.level,
            environment: Some(context.environment.clone()),
            release: context.release.clone(),
            transaction: self.transaction_name().map(str::to_owned),
            tags,
            user: self.user(),
            breadcrumbs: self.breadcrumbs(),
            sdk: Some(context.sdk.clone()),
            exception,
            message,
            request: Some(Request {
                url: Some(context.page_url.clone()),
            }),
            debug_meta: event.debug_meta,
        })
    }

    /// The identified user, by id only.
    fn user(&self) -> Option<User> {
        let id = self.context.user_id.clone()?;
        Some(User { id })
    }

    /// The route changes as `navigation` breadcrumbs, oldest first.
    fn breadcrumbs(&self) -> Option<Values<Breadcrumb>> {
        if self.routes.is_empty() {
            return None;
        }
        let first = self.routes.len().saturating_sub(MAX_BREADCRUMBS);
        let mut values = Vec::new();
        let mut from = None;
        for (i, (at, to)) in self.routes.iter().enumerate() {
            if i >= first {
                let mut data = StringMap::default();
                if let Some(from) = from {
                    data.insert("from", from);
                }
                data.insert("to", to);
                values.push(Breadcrumb {
                    timestamp: *at,
                    kind: Some("navigation".to_owned()),
                    category: Some("navigation".to_owned()),
                    message: None,
                    data,
                });
            }
            from = Some(to.as_str());
        }
        Some(Values { values })
    }

    /// The envelope of a `navigation` transaction for the current route, from
    /// `started` to `now`, with the `trace` header that tells Sentry the
    /// sample rate.
    fn transaction_envelope(&self, started: UnixMs, now: UnixMs, entropy: &Entropy) -> String {
        let (event_id, trace_id, span_id) =
            (entropy.event_id(), entropy.trace_id(), entropy.span_id());
        let context = &self.context;
        let name = self.transaction_name().unwrap_or_default();
        let source = if self.route_template.is_some() {
            "route"
        } else {
            "url"
        };
        let payload = to_json(&Transaction {
            event_id,
            transaction: name.to_owned(),
            transaction_info: Some(TransactionInfo {
                source: source.to_owned(),
            }),
            start_timestamp: started,
            timestamp: now,
            platform: PLATFORM_JAVASCRIPT.to_owned(),
            environment: Some(context.environment.clone()),
            release: context.release.clone(),
            user: self.user(),
            sdk: Some(context.sdk.clone()),
            contexts: TransactionContexts {
                trace: TraceContext {
                    trace_id,
                    span_id,
                    op: Some("navigation".to_owned()),
                    status: Some("ok".to_owned()),
                },
            },
            spans: Vec::new(),
        });
        let trace = TraceHeader {
            trace_id: trace_id.to_string(),
            public_key: self.public_key.clone(),
            sample_rate: Some(self.sample_rate_text.clone()),
            sampled: Some("true".to_owned()),
            release: context.release.clone(),
            environment: Some(context.environment.clone()),
            transaction: Some(name.to_owned()),
        };
        self.envelope(Some(&event_id), Some(trace), "transaction", &payload)
    }

    /// A one-item envelope without `sent_at` (stamped when sending): the
    /// header (the event id if any, the DSN, the SDK, the `trace` JSON if any),
    /// then the item.
    fn envelope(
        &self,
        event_id: Option<&EventId>,
        trace: Option<TraceHeader>,
        kind: &str,
        payload: &str,
    ) -> String {
        let header = EnvelopeHeader {
            sent_at: None,
            event_id: event_id.map(EventId::hex),
            dsn: Some(self.dsn_text.clone()),
            sdk: Some(self.context.sdk.clone()),
            trace,
        };
        let mut out = to_json(&header);
        out.push('\n');
        write_item(&mut out, kind, payload);
        out
    }

    fn queue_event(&mut self, category: DataCategory, unsent: String) {
        let is_event = |out: &&Outgoing| {
            matches!(
                out.category,
                DataCategory::Error | DataCategory::Transaction
            )
        };
        let this_page = self.queue.get(self.n_restored..).unwrap_or_default();
        if this_page.iter().filter(is_event).count() >= MAX_QUEUED_EVENTS {
            self.discard(DiscardReason::QueueOverflow, category);
            return;
        }
        self.queue.push(Outgoing {
            category,
            unsent,
            beacon: false,
        });
    }

    /// Queues the session update the tracker asked for, if any.
    fn queue_session_update(&mut self, update: Option<String>) {
        if let Some(update) = update {
            let unsent = self.envelope(None, None, "session", &update);
            self.queue.push(Outgoing {
                category: DataCategory::Session,
                unsent,
                beacon: false,
            });
        }
    }

    fn discard(&mut self, reason: DiscardReason, category: DataCategory) {
        count_discard(&mut self.discarded, reason, category);
    }
}

/// What differs between error events: the level, the caller's tags, the
/// debug image the stack points into and the body.
struct EventParts<'a> {
    level: Level,
    tags: &'a [(String, String)],
    debug_meta: Option<DebugMeta>,
    body: EventBody<'a>,
}

/// The `exception` or the `message` of an error event.
enum EventBody<'a> {
    /// One exception: its type and value (already cut), how it was caught,
    /// and its parsed stack.
    Exception {
        kind: &'a str,
        value: &'a str,
        mechanism: &'a str,
        handled: bool,
        stacktrace: Option<&'a Stacktrace<&'a str>>,
    },
    /// `captureMessage`'s message (already cut).
    Message(&'a str),
}

/// The JSON text of a payload: plain data always serialises.
fn to_json<T: serde::Serialize>(payload: &T) -> String {
    serde_json::to_string(payload).unwrap_or_else(|_| unreachable!("payloads serialise"))
}

/// The stack as the event carries it (the parsed one borrows from the error's text).
fn owned_stacktrace(stacktrace: &Stacktrace<&str>) -> Stacktrace {
    let own = |s: Option<&str>| s.map(str::to_owned);
    Stacktrace {
        frames: stacktrace
            .frames
            .iter()
            .map(|f| Frame {
                filename: own(f.filename),
                function: own(f.function),
                lineno: f.lineno,
                colno: f.colno,
                instruction_addr: own(f.instruction_addr),
                in_app: f.in_app,
                addr_mode: own(f.addr_mode),
                platform: own(f.platform),
            })
            .collect(),
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
    pub fn body(&self, now: UnixMs) -> String {
        stamp_sent_at(&self.unsent, now)
    }

    /// `stored` (the envelopes kept so far, as this returned them, or empty)
    /// with this one added, for the next page load to
    /// [`restore`](BrowserSentry::restore): at most the newest
    /// [`MAX_STORED_ENVELOPES`].
    pub fn add_to_stored(&self, stored: &str) -> String {
        // Entries are separated, so there is one more entry than separators.
        let mut n_old = usize::from(!stored.is_empty());
        for byte in stored.bytes() {
            n_old += usize::from(byte == ENVELOPE_SEPARATOR);
        }
        // Room for this one: drop the oldest, each up to its separator.
        let mut kept = stored;
        for _ in MAX_STORED_ENVELOPES..=n_old {
            kept = text::split_once_ascii(kept, ENVELOPE_SEPARATOR).map_or("", |(_, rest)| rest);
        }
        let mut text = String::with_capacity(kept.len() + self.unsent.len() + 16);
        if !kept.is_empty() {
            text.push_str(kept);
            text.push(char::from(ENVELOPE_SEPARATOR));
        }
        text.push_str(self.category.as_str());
        text.push(char::from(CATEGORY_SEPARATOR));
        text.push_str(&self.unsent);
        text
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
    use ff_telemetry_wire::sentry::{
        ClientReport, Envelope, Event, SessionStatus, SessionUpdate, Transaction, User,
    };

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

    /// The one item of an outgoing envelope, parsed back: its type and payload.
    fn item(out: &Outgoing) -> (String, Vec<u8>) {
        let envelope = Envelope::parse(out.unsent.as_bytes()).unwrap();
        assert_eq!(envelope.items.len(), 1, "one item per envelope");
        let item = envelope.items.into_iter().next().unwrap();
        (item.header.kind, item.payload)
    }

    /// The payload of an outgoing envelope, read as `T`.
    fn payload<T: serde::de::DeserializeOwned>(out: &Outgoing) -> T {
        serde_json::from_slice(&item(out).1).unwrap()
    }

    /// The item types of everything due at `now`.
    fn sent(sentry: &mut BrowserSentry, now: UnixMs) -> Vec<String> {
        std::iter::from_fn(|| sentry.poll_transmit(now))
            .map(|o| item(&o).0)
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
        assert_eq!(
            err.to_string(),
            "telemetry.frontend.sentry.dsn: public key is missing"
        );
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source, Some(DsnError::MissingPublicKey.to_string()));
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
                sentry.handle_route_change(now, &format!("/r/{i}"), None, &with_draw(draw));
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
        sentry.handle_route_change(UnixMs(1), "/a", None, &with_draw(u32::MAX));
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
            sentry.handle_route_change(UnixMs(1), "/a", None, &with_draw(0));
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
        let report: ClientReport = payload(&last[1]);
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
        sentry.handle_response(
            UnixMs(1_000),
            DataCategory::Error,
            429,
            None,
            Some("30:transaction:project"),
        );
        let mut step = |at: u64, value: &str| {
            let now = UnixMs(at);
            sentry.handle_route_change(now, "/a", None, &with_draw(0));
            sentry.handle_error(now, error(value), &with_draw(0));
            sent(&mut sentry, now)
        };
        assert_eq!(step(30_999, "a"), ["event", "session"]);
        assert_eq!(step(31_000, "b"), ["transaction", "event"]);
    }

    #[test]
    fn rate_limits_drop_only_their_category_and_never_the_client_report() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        let _ = sent(&mut sentry, UnixMs(0));
        sentry.handle_response(
            UnixMs(1),
            DataCategory::Error,
            200,
            None,
            Some("60:session"),
        );
        sentry.handle_error(UnixMs(2), error("a"), &with_draw(0));
        assert_eq!(
            sent(&mut sentry, UnixMs(2)),
            ["event"],
            "the session update is dropped"
        );
        // A 429 without headers limits everything for 60 s, but the report of
        // what was dropped still goes out.
        sentry.handle_response(UnixMs(3), DataCategory::Error, 429, None, None);
        sentry.handle_error(UnixMs(4), error("b"), &with_draw(0));
        sentry.handle_page_hide(UnixMs(5));
        let out: Vec<_> = std::iter::from_fn(|| sentry.poll_transmit(UnixMs(5))).collect();
        assert_eq!(out.len(), 1, "only the client report");
        let report: ClientReport = payload(&out[0]);
        let counted = |category| {
            report
                .discarded_events
                .iter()
                .find(|d| d.category == category && d.reason == DiscardReason::RatelimitBackoff)
                .map(|d| d.quantity)
        };
        // The update for the first error and the exit.
        assert_eq!(counted(DataCategory::Session), Some(2), "{report:?}");
        assert_eq!(counted(DataCategory::Error), Some(1), "{report:?}");
        // The limit ends: sent again.
        let mut later = start(serde_json::json!({}), PAGE);
        later.handle_response(UnixMs(0), DataCategory::Error, 429, None, None);
        later.handle_error(UnixMs(60_000), error("c"), &with_draw(0));
        assert_eq!(
            sent(&mut later, UnixMs(60_000)),
            ["session", "event", "session"]
        );
    }

    #[test]
    fn page_hide_exits_the_session_by_beacon() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        let first = sentry.poll_transmit(UnixMs(0)).unwrap();
        assert!(!first.beacon);
        sentry.handle_page_hide(UnixMs(9_000));
        let exit = sentry.poll_transmit(UnixMs(9_000)).unwrap();
        assert!(exit.beacon);
        let update: SessionUpdate = payload(&exit);
        assert_eq!(update.status, SessionStatus::Exited);
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
    fn an_envelope_to_retry_waits_for_retry_after_and_keeps_its_place() {
        let policy = RetryPolicy {
            base_delay_ms: 1_000,
            max_delay_ms: 60_000,
            max_retries: 2,
        };
        let mut sentry = start(serde_json::json!({}), PAGE);
        sentry.handle_error(UnixMs(1), error("first"), &with_draw(0));
        let first = sentry.poll_transmit(UnixMs(1)).unwrap(); // the session start
        // 429 with Retry-After: 30 s, longer than the backoff's 1 s.
        let at = sentry.handle_retry(UnixMs(2), first.clone(), 429, Some("30"), policy, u32::MAX);
        assert_eq!(at, Some(UnixMs(30_002)));
        sentry.handle_message(UnixMs(3), "behind it", Level::Info, &with_draw(0));
        assert_eq!(
            sentry.poll_transmit(UnixMs(30_001)),
            None,
            "nothing before Retry-After"
        );
        sentry.handle_flush(UnixMs(4));
        assert_eq!(
            sentry.poll_transmit(UnixMs(4)),
            None,
            "a flush does not go before Retry-After either"
        );
        assert_eq!(
            sentry.poll_transmit(UnixMs(30_002)),
            Some(first.clone()),
            "the same envelope, first"
        );
        // 503 without Retry-After: the backoff's second wait (at most 2 s).
        let at = sentry.handle_retry(UnixMs(30_010), first.clone(), 503, None, policy, u32::MAX);
        assert_eq!(at, Some(UnixMs(32_010)));
        // Leaving the page, nothing waits.
        sentry.handle_page_hide(UnixMs(30_020));
        assert_eq!(
            sentry.poll_transmit(UnixMs(30_020)).map(|o| o.unsent),
            Some(first.unsent.clone())
        );
        // Past `max_retries`, the envelope is dropped and counted.
        let first = sentry.poll_transmit(UnixMs(30_020)).unwrap();
        assert_eq!(
            sentry.handle_retry(UnixMs(30_030), first, 503, None, policy, 0),
            None
        );
        let rest: Vec<_> = std::iter::from_fn(|| sentry.poll_transmit(UnixMs(30_040))).collect();
        assert!(
            rest.last().unwrap().unsent.contains("send_error"),
            "the client report counts it"
        );
    }

    #[test]
    fn an_answer_says_what_becomes_of_the_envelope() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        sentry.handle_error(UnixMs(1), error("e"), &with_draw(0));
        let out = sentry.poll_transmit(UnixMs(1)).unwrap();
        let answer = |s: &mut BrowserSentry, status, limits| {
            s.handle_answer(UnixMs(2), &out, status, None, limits, 0)
        };
        assert_eq!(answer(&mut sentry, 200, None), AfterAnswer::Done);
        assert_eq!(
            answer(&mut sentry, 0, None),
            AfterAnswer::Keep,
            "offline: kept"
        );
        assert_eq!(
            answer(&mut sentry, 400, None),
            AfterAnswer::Done,
            "refused: lost"
        );
        // A used-up quota: that category waits (rate limits), the envelope is lost.
        let quota = Some("60:error:organization");
        assert_eq!(answer(&mut sentry, 429, quota), AfterAnswer::Done);
        // An overloaded server: retried, not before its backoff.
        let AfterAnswer::RetryAt(at) = answer(&mut sentry, 503, None) else {
            panic!("a 503 is retried");
        };
        assert!(at > UnixMs(2));
        assert_eq!(sentry.poll_transmit(UnixMs(2)), None, "waits for its retry");
        assert_eq!(sentry.poll_transmit(at), Some(out.clone()));
    }

    #[test]
    fn a_client_that_stops_hands_over_what_waits_for_a_retry() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        sentry.handle_error(UnixMs(1), error("waiting"), &with_draw(0));
        let first = sentry.poll_transmit(UnixMs(1)).unwrap();
        sentry.handle_response(UnixMs(2), first.category, 200, None, None);
        assert!(!sentry.is_unreachable());
        let second = sentry.poll_transmit(UnixMs(2)).unwrap();
        sentry.handle_response(UnixMs(3), second.category, 0, None, None);
        assert!(
            sentry.is_unreachable(),
            "no answer: a beacon now would be lost"
        );
        sentry.handle_response(UnixMs(3), second.category, 503, None, None);
        assert!(!sentry.is_unreachable());
        let at = sentry.handle_retry(
            UnixMs(3),
            second.clone(),
            503,
            None,
            RetryPolicy::default(),
            0,
        );
        assert!(at.is_some());
        let unsent = sentry.take_queued();
        assert_eq!(
            unsent.first(),
            Some(&second),
            "the envelope waiting for its retry, first"
        );
        assert!(unsent.iter().any(|o| o.unsent.contains("waiting")));
        assert_eq!(
            sentry.poll_transmit(UnixMs(60_000)),
            None,
            "nothing left to send"
        );
    }

    #[test]
    fn stored_envelopes_are_resent_by_the_next_page_load_with_a_fresh_sent_at() {
        let mut offline = start(serde_json::json!({}), PAGE);
        offline.handle_error(UnixMs(1), error("offline"), &with_draw(0));
        // Nothing answers: every envelope is kept for the next page load.
        let mut stored = String::new();
        let mut kept = Vec::new();
        while let Some(out) = offline.poll_transmit(UnixMs(1)) {
            stored = out.add_to_stored(&stored);
            kept.push(out);
        }
        assert_eq!(kept.len(), 3, "session start, event, session update");

        // An hour later, back online: they go first, each with a fresh `sent_at`.
        let later = UnixMs(UnixMs::HOUR);
        let mut next = BrowserSentry::new(
            &config(serde_json::json!({})),
            sdk(),
            PAGE,
            later,
            &Entropy([9; 48]),
        )
        .unwrap();
        next.restore(&stored);
        let sent: Vec<_> = std::iter::from_fn(|| next.poll_transmit(later)).collect();
        assert_eq!(
            sent.len(),
            4,
            "the three kept, then this page's session start"
        );
        for (out, old) in sent.iter().zip(&kept) {
            assert_eq!((&out.category, &out.unsent), (&old.category, &old.unsent));
        }
        let body = sent[1].body(later);
        assert_eq!(body, stamp_sent_at(&kept[1].unsent, later));
        // The same bytes as the general envelope writer with `sent_at` set.
        let envelope = Envelope::parse(kept[1].unsent.as_bytes()).unwrap();
        assert_eq!(body.as_bytes(), envelope.to_bytes_sent_at(later));
        assert!(body.starts_with(r#"{"sent_at":"1970-01-01T01:00:00.000Z","event_id":"#));
    }

    #[test]
    fn stored_envelopes_are_bounded_and_rate_limited_like_new_ones() {
        let mut sentry = start(serde_json::json!({"release": null}), PAGE);
        let mut stored = String::new();
        for i in 0..(MAX_STORED_ENVELOPES + 5) {
            let value = format!("e{i}");
            sentry.handle_error(UnixMs(1), error(&value), &with_draw(0));
            let out = sentry.poll_transmit(UnixMs(1)).unwrap();
            stored = out.add_to_stored(&stored);
        }
        // A broken entry (no category) is skipped.
        let stored = ["garbage\u{1e}", &stored].concat();
        let mut next = start(serde_json::json!({"release": null}), PAGE);
        next.restore(&stored);
        let sent: Vec<_> = std::iter::from_fn(|| next.poll_transmit(UnixMs(2))).collect();
        assert_eq!(sent.len(), MAX_STORED_ENVELOPES);
        let first: Event = payload(&sent[0]);
        assert_eq!(
            first.exception.unwrap().values[0].value.as_deref(),
            Some("e5")
        );

        let mut limited = start(serde_json::json!({"release": null}), PAGE);
        limited.handle_response(UnixMs(2), DataCategory::Error, 429, None, Some("60:error"));
        limited.restore(&stored);
        limited.handle_page_hide(UnixMs(3));
        let sent: Vec<_> = std::iter::from_fn(|| limited.poll_transmit(UnixMs(3))).collect();
        assert_eq!(sent.len(), 1, "only the client report");
        let report: ClientReport = payload(&sent[0]);
        assert_eq!(
            report.discarded_events[0].quantity,
            MAX_STORED_ENVELOPES as u64
        );
    }

    #[test]
    fn restored_envelopes_leave_this_pages_queue_its_room() {
        let mut earlier = start(serde_json::json!({"release": null}), PAGE);
        let mut stored = String::new();
        for i in 0..MAX_STORED_ENVELOPES {
            let value = format!("earlier {i}");
            earlier.handle_error(UnixMs(1), error(&value), &with_draw(0));
            stored = earlier
                .poll_transmit(UnixMs(1))
                .unwrap()
                .add_to_stored(&stored);
        }
        let mut sentry = start(serde_json::json!({"release": null}), PAGE);
        sentry.restore(&stored);
        // Errors of this page while the restored ones still wait.
        for i in 0..MAX_QUEUED_EVENTS {
            let value = format!("now {i}");
            sentry.handle_error(UnixMs(2), error(&value), &with_draw(0));
        }
        sentry.handle_error(UnixMs(2), error("one too many"), &with_draw(0));
        sentry.handle_page_hide(UnixMs(3));
        let sent: Vec<_> = std::iter::from_fn(|| sentry.poll_transmit(UnixMs(3))).collect();
        let (report, envelopes) = sent.split_last().unwrap();
        assert_eq!(envelopes.len(), MAX_STORED_ENVELOPES + MAX_QUEUED_EVENTS);
        let last: Event = payload(envelopes.last().unwrap());
        let value = last.exception.unwrap().values[0].value.clone();
        assert_eq!(value.as_deref(), Some("now 29"));
        let report: ClientReport = payload(report);
        assert_eq!(
            report.discarded_events,
            [DiscardedEvents {
                reason: DiscardReason::QueueOverflow,
                category: DataCategory::Error,
                quantity: 1
            }]
        );
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
        let event: Event = payload(&out);
        let exception = &event.exception.unwrap().values[0];
        assert_eq!(exception.kind, "Error");
        let value = exception.value.as_deref().unwrap();
        assert_eq!(value.chars().count(), MAX_VALUE_CHARS);
    }

    #[test]
    fn capture_context_tags_are_kept_but_route_is_ours() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        let _ = sent(&mut sentry, UnixMs(0));
        sentry.handle_route_change(UnixMs(1), "/a", None, &with_draw(u32::MAX));
        let tagged = CapturedError {
            tags: &[
                ("feature".to_owned(), "deploy".to_owned()),
                ("route".to_owned(), "/fake".to_owned()),
            ],
            ..error("x")
        };
        sentry.handle_error(UnixMs(2), tagged, &with_draw(0));
        let out = sentry.poll_transmit(UnixMs(2)).unwrap();
        let event: Event = payload(&out);
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
        let event: Event = payload(&out);
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
            sentry.handle_route_change(UnixMs(i), &route, None, &with_draw(u32::MAX));
        }
        sentry.set_user(Some("user-7"));
        sentry.handle_error(UnixMs(20), error("x"), &with_draw(0));
        let _session_start = sentry.poll_transmit(UnixMs(20));
        let out = sentry.poll_transmit(UnixMs(20)).unwrap();
        let event: Event = payload(&out);
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

    const STACK: &str = "TypeError: line
    at render (https://forge.example/app.js:12:5)
    at https://forge.example/pkg/sdk_bg.wasm:wasm-function[3]:0x1a2b";

    #[test]
    fn events_are_written_in_sentry_shape() {
        let mut sentry = start(serde_json::json!({}), "https://forge.example/team/a?x=1");
        let _ = sent(&mut sentry, UnixMs(0));
        sentry.set_user(Some("user \"7\""));
        sentry.handle_route_change(UnixMs(5), "/", None, &with_draw(u32::MAX));
        sentry.handle_route_change(
            UnixMs(6),
            "/team/a",
            Some("/team/:slug"),
            &with_draw(u32::MAX),
        );
        let error = CapturedError {
            kind: "TypeError",
            value: "line\nbreak",
            stack: Some(STACK),
            mechanism: MECHANISM_ONERROR,
            handled: false,
            tags: &[("feature".to_owned(), "deploy".to_owned())],
        };
        sentry.handle_error(UnixMs(1_795_850_763_123), error, &Entropy([1; 48]));
        let out = sentry.poll_transmit(UnixMs(1_795_850_763_200)).unwrap();
        let (kind, payload) = item(&out);
        assert_eq!(kind, "event");
        let json: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        let crumb = |at: &str, data| serde_json::json!({"timestamp": at, "type": "navigation", "category": "navigation", "data": data});
        assert_eq!(
            json,
            serde_json::json!({
                "event_id": "01010101010141018101010101010101",
                "timestamp": "2026-11-28T07:26:03.123Z",
                "platform": "javascript",
                "level": "error",
                "environment": "production",
                "release": "flowfuse@2.11.0",
                "transaction": "/team/:slug",
                "tags": {"feature": "deploy", "route": "/team/a"},
                "user": {"id": "user \"7\""},
                "breadcrumbs": {"values": [
                    crumb("1970-01-01T00:00:00.005Z", serde_json::json!({"to": "/"})),
                    crumb("1970-01-01T00:00:00.006Z", serde_json::json!({"from": "/", "to": "/team/a"})),
                ]},
                "sdk": {"name": "ff-telemetry.web", "version": "0.1.0"},
                "exception": {"values": [{
                    "type": "TypeError", "value": "line\nbreak",
                    "mechanism": {"type": "onerror", "handled": false},
                    "stacktrace": {"frames": [
                        {"filename": "https://forge.example/pkg/sdk_bg.wasm",
                         "function": "wasm-function[3]", "instruction_addr": "0x1a2b", "in_app": true},
                        {"filename": "https://forge.example/app.js", "function": "render",
                         "lineno": 12, "colno": 5, "in_app": true},
                    ]}
                }]},
                "request": {"url": "https://forge.example/team/a"}
            })
        );
        // The read side reads it all.
        let event: Event = payload_of(&payload);
        assert_eq!(
            event.user,
            Some(User {
                id: "user \"7\"".into()
            })
        );
        assert_eq!(event.breadcrumbs.unwrap().values.len(), 2);
        let envelope = Envelope::parse(out.unsent.as_bytes()).unwrap();
        assert_eq!(envelope.header.event_id, Some(event.event_id.to_string()));
        assert_eq!(
            envelope.header.dsn.as_deref(),
            Some("https://public@sentry.example/42")
        );
        assert_eq!(envelope.header.sdk, Some(sdk()));
        assert_eq!(envelope.header.sent_at, None);
        assert_eq!(envelope.items[0].header.length, Some(payload.len() as u64));
    }

    #[test]
    fn errors_with_frames_of_the_sdks_module_name_it_for_symbolication() {
        let mut sentry = start(serde_json::json!({}), PAGE);
        let _ = sent(&mut sentry, UnixMs(0));
        let inside = "Error\n    at https://forge.example/pkg/sdk_bg.wasm:wasm-function[9]:0x40";
        sentry.set_wasm_module(&[0xab; 16], inside);
        let event_json = |sentry: &mut BrowserSentry, stack| {
            let error = CapturedError {
                stack,
                ..error("boom")
            };
            sentry.handle_error(UnixMs(1), error, &Entropy([1; 48]));
            let out = sentry.poll_transmit(UnixMs(2)).unwrap();
            let json: serde_json::Value = serde_json::from_slice(&item(&out).1).unwrap();
            json
        };

        let json = event_json(&mut sentry, Some(STACK));
        assert_eq!(
            json["debug_meta"],
            serde_json::json!({"images": [{
                "type": "wasm",
                "debug_id": "abababab-abab-abab-abab-abababababab",
                "code_id": "ab".repeat(16),
                "code_file": "https://forge.example/pkg/sdk_bg.wasm",
                "debug_file": "ff_telemetry_web.debug.wasm",
            }]})
        );
        assert_eq!(
            json["exception"]["values"][0]["stacktrace"]["frames"][0],
            serde_json::json!({
                "filename": "https://forge.example/pkg/sdk_bg.wasm",
                "function": "wasm-function[3]", "instruction_addr": "0x1a2b", "in_app": true,
                "addr_mode": "rel:0", "platform": "native",
            })
        );
        // The read side reads it back.
        let event: Event = serde_json::from_value(json).unwrap();
        assert_eq!(event.debug_meta.unwrap().images[0].code_id, "ab".repeat(16));

        // Errors without the module's frames carry no image.
        let js_only = "Error: other\n    at f (https://forge.example/app.js:1:2)";
        let json = event_json(&mut sentry, Some(js_only));
        assert_eq!(json.get("debug_meta"), None);
        assert_eq!(
            json["exception"]["values"][0]["stacktrace"]["frames"][0].get("addr_mode"),
            None
        );
    }

    #[test]
    fn messages_without_route_or_user_are_written_in_sentry_shape() {
        let mut sentry = start(serde_json::json!({"release": null}), PAGE);
        sentry.handle_message(UnixMs(9), "hello", Level::Warning, &Entropy([2; 48]));
        let out = sentry.poll_transmit(UnixMs(9)).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&item(&out).1).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "event_id": "02020202020242028202020202020202",
                "timestamp": "1970-01-01T00:00:00.009Z",
                "platform": "javascript",
                "level": "warning",
                "environment": "production",
                "sdk": {"name": "ff-telemetry.web", "version": "0.1.0"},
                "message": "hello",
                "request": {"url": "https://forge.example/team/acme"}
            })
        );
    }

    #[test]
    fn transactions_are_written_in_sentry_shape() {
        let mut sentry = start(serde_json::json!({"production_mode": true}), PAGE);
        let _ = sent(&mut sentry, UnixMs(0));
        sentry.set_user(Some("user-7"));
        sentry.handle_navigation_start(UnixMs(100));
        let mut entropy = [4; 48];
        entropy[16..32].fill(5);
        entropy[32..40].fill(6);
        entropy[40..44].fill(0);
        let template = Some("/team/:slug");
        sentry.handle_route_change(UnixMs(350), "/team/a?q=1", template, &Entropy(entropy));
        let out = sentry.poll_transmit(UnixMs(350)).unwrap();
        assert_eq!(out.category, DataCategory::Transaction);
        let (kind, payload) = item(&out);
        assert_eq!(kind, "transaction");
        let json: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "transaction",
                "event_id": "04040404040444048404040404040404",
                "transaction": "/team/:slug",
                "transaction_info": {"source": "route"},
                "start_timestamp": "1970-01-01T00:00:00.100Z",
                "timestamp": "1970-01-01T00:00:00.350Z",
                "platform": "javascript",
                "environment": "production",
                "release": "flowfuse@2.11.0",
                "user": {"id": "user-7"},
                "sdk": {"name": "ff-telemetry.web", "version": "0.1.0"},
                "contexts": {"trace": {
                    "type": "trace", "trace_id": "05".repeat(16), "span_id": "06".repeat(8),
                    "op": "navigation", "status": "ok"
                }},
                "spans": []
            })
        );
        let transaction: Transaction = payload_of(&payload);
        assert_eq!(transaction.timestamp, UnixMs(350));
        let header = Envelope::parse(out.unsent.as_bytes()).unwrap().header;
        assert_eq!(
            header.event_id.as_deref(),
            Some("04040404040444048404040404040404")
        );
        let trace = header.trace.unwrap();
        assert_eq!(trace.trace_id, "05".repeat(16));
        assert_eq!(trace.public_key, "public");
        assert_eq!(trace.sample_rate.as_deref(), Some("0.05"));
        assert_eq!(trace.sampled.as_deref(), Some("true"));
        assert_eq!(trace.release.as_deref(), Some("flowfuse@2.11.0"));
        assert_eq!(trace.environment.as_deref(), Some("production"));
        assert_eq!(trace.transaction.as_deref(), Some("/team/:slug"));
    }

    #[test]
    fn routes_without_a_template_name_transactions_and_events_by_path_as_url() {
        let mut sentry = start(serde_json::json!({"traces_sample_rate": 1.0}), PAGE);
        let _ = sent(&mut sentry, UnixMs(0));
        let draw = with_draw(0);
        let named = |sentry: &mut BrowserSentry| {
            let out = sentry.poll_transmit(UnixMs(9)).unwrap();
            let tx: Transaction = payload_of(&item(&out).1);
            (tx.transaction, tx.transaction_info.unwrap().source)
        };
        sentry.handle_route_change(
            UnixMs(1),
            "/instances/line-1",
            Some("/instances/:id"),
            &draw,
        );
        assert_eq!(
            named(&mut sentry),
            ("/instances/:id".into(), "route".into())
        );
        sentry.handle_route_change(UnixMs(2), "/elsewhere/x?q=1", None, &draw);
        assert_eq!(named(&mut sentry), ("/elsewhere/x".into(), "url".into()));
        sentry.handle_message(UnixMs(3), "m", Level::Info, &draw);
        let event: serde_json::Value =
            serde_json::from_slice(&item(&sentry.poll_transmit(UnixMs(9)).unwrap()).1).unwrap();
        assert_eq!(event["transaction"], "/elsewhere/x");
    }

    #[test]
    fn client_reports_are_written_in_sentry_shape() {
        let mut sentry = start(serde_json::json!({"traces_sample_rate": 0.0}), PAGE);
        let _ = sent(&mut sentry, UnixMs(0));
        sentry.handle_route_change(UnixMs(1), "/a", None, &with_draw(0));
        sentry.handle_send_failure(DataCategory::Session);
        sentry.handle_page_hide(UnixMs(7));
        let _exit = sentry.poll_transmit(UnixMs(7)).unwrap();
        let out = sentry.poll_transmit(UnixMs(7)).unwrap();
        assert_eq!(out.category, DataCategory::Internal);
        assert!(out.beacon);
        let (kind, payload) = item(&out);
        assert_eq!(kind, "client_report");
        let json: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "timestamp": "1970-01-01T00:00:00.007Z",
                "discarded_events": [
                    {"reason": "sample_rate", "category": "transaction", "quantity": 1},
                    {"reason": "send_error", "category": "session", "quantity": 1},
                ]
            })
        );
        let report: ClientReport = payload_of(&payload);
        assert_eq!(report.discarded_events.len(), 2);
        assert_eq!(sentry.poll_transmit(UnixMs(7)), None);
    }

    #[test]
    fn a_refusal_loses_the_envelope_and_no_answer_or_a_server_error_keeps_it() {
        let table = [
            (0, Verdict::NoAnswer, 0),
            (200, Verdict::Delivered, 0),
            (429, Verdict::RateLimited, 0),
            // Retried (handle_retry), not lost.
            (500, Verdict::ServerError, 0),
            (413, Verdict::Refused, 1),
        ];
        for (status, want, n_lost) in table {
            let mut sentry = start(serde_json::json!({"traces_sample_rate": 0.0}), PAGE);
            let _ = sent(&mut sentry, UnixMs(0));
            let verdict =
                sentry.handle_response(UnixMs(1), DataCategory::Error, status, None, None);
            assert_eq!(verdict, want, "{status}");
            sentry.handle_page_hide(UnixMs(2));
            let lost: u64 = std::iter::from_fn(|| sentry.poll_transmit(UnixMs(2)))
                .filter(|out| out.category == DataCategory::Internal)
                .map(|out| payload::<ClientReport>(&out))
                .flat_map(|report| report.discarded_events)
                .filter(|d| {
                    d.reason == DiscardReason::SendError && d.category == DataCategory::Error
                })
                .map(|d| d.quantity)
                .sum();
            assert_eq!(lost, n_lost, "{status}");
        }
    }

    fn payload_of<T: serde::de::DeserializeOwned>(json: &[u8]) -> T {
        serde_json::from_slice(json).unwrap()
    }
}
