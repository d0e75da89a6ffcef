//! Browser Sentry in the page: feeds ff-telemetry-browser's [`BrowserSentry`] the page's
//! errors, route changes and lifecycle, and sends the envelopes it makes.
//! Every decision (filtering, sampling, sessions, rate limits) is ff-telemetry-browser's.

use std::cell::{Cell, RefCell, RefMut};
use std::rc::{Rc, Weak};

use ff_telemetry_browser::sentry::{
    AfterAnswer, BrowserSentry, CapturedError, Entropy, MECHANISM_GENERIC, MECHANISM_ONERROR,
    MECHANISM_ONUNHANDLEDREJECTION, MECHANISM_PANIC, Outgoing, SentrySetupError,
};
use ff_telemetry_wire::sentry::{Level, SdkInfo};
use ff_telemetry_wire::text::concat;
use ff_telemetry_wire::{FrontendSentry, UnixMs};
use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};

use crate::js;
use crate::listeners::Listeners;
use crate::panic;
use crate::transport::{self, Answer};

/// `sdk.name` in payloads and `sentry_client` in the auth query.
const SDK_NAME: &str = "ff-telemetry.web";

thread_local! {
    /// The client a crash is reported to (the page's latest). A `Cell`
    /// (swapped out and back) rather than a `RefCell`: no borrow to be left
    /// held by a trap.
    static CRASH_REPORTER: Cell<Weak<SentryClient>> = const { Cell::new(Weak::new()) };
}

/// A running browser Sentry. Held by [`crate::Telemetry`]; browser callbacks
/// hold it weakly, so dropping the handle stops everything.
pub struct SentryClient {
    me: Weak<SentryClient>,
    sentry: RefCell<BrowserSentry>,
    /// Where every envelope goes (fixed by the DSN), kept here so sending
    /// needs no copy of it nor a borrow of `sentry`.
    envelope_url: String,
    /// Whether unsent envelopes are kept in `localStorage`. Without it they
    /// are dropped: kept in memory, they could only be read by a later page
    /// load, which cannot see them.
    persist: bool,
    queue_key: String,
    listeners: Listeners,
    /// One POST at a time, so each answer (a rate limit, say) applies to
    /// the next envelope.
    in_flight: Cell<bool>,
    /// Between `pagehide` and `pageshow`: send by beacon, all at once.
    hidden: Cell<bool>,
    /// Drains the queue when an envelope's retry is due (`setTimeout`).
    on_retry: Function,
}

impl std::fmt::Debug for SentryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SentryClient")
    }
}

impl SentryClient {
    /// Starts Sentry for this page: the session starts, envelopes left unsent
    /// by the last page load are sent (first), and the page's `error`,
    /// `unhandledrejection`, `pagehide`, `pageshow` and `online` events are listened to.
    /// `persist` allows `localStorage` for envelopes that could not be sent.
    pub fn start(config: &FrontendSentry, persist: bool) -> Result<Rc<Self>, SentrySetupError> {
        let now = js::now();
        let sdk_info = SdkInfo {
            name: SDK_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        let href = js::href();
        let mut sentry = BrowserSentry::new(config, sdk_info, &href, now, &entropy())?;
        // Crash reports from inside the SDK name the module, so Sentry can
        // symbolicate their frames with the debug file the build uploaded.
        let (build_id, stack) = js::own_module();
        sentry.set_wasm_module(&build_id, &stack);
        let persist = persist && js::storage_works();
        // By project key: the envelopes are the project's, wherever it is.
        let queue_key = concat(&["ff_telemetry_sentry_", sentry.public_key()]);
        if let Some(stored) = take_stored(persist, &queue_key) {
            sentry.restore(&stored);
        }
        let envelope_url = sentry.envelope_url().to_owned();
        let this = Rc::new_cyclic(|me| SentryClient {
            me: me.clone(),
            sentry: RefCell::new(sentry),
            envelope_url,
            persist,
            queue_key,
            listeners: Listeners::default(),
            in_flight: Cell::new(false),
            hidden: Cell::new(false),
            on_retry: {
                let weak = me.clone();
                js::Callback::new(move |_| {
                    if let Some(this) = weak.upgrade() {
                        panic::guarded(|| this.drain());
                    }
                })
                .into_js_value()
                .unchecked_into()
            },
        });
        // `try_with` here and below: `with` carries a panic (and its message
        // formatting) for use after the thread's end, which a page never sees.
        let _ = CRASH_REPORTER.try_with(|r| r.set(this.me.clone()));
        panic::set_crash_reporter(report_crash);
        this.attach();
        this.drain();
        Ok(this)
    }

    /// `captureException(error, {mechanism, handled, tags})`: handled unless
    /// `handled` is `false` (an error nothing caught crashes the session).
    pub fn capture_exception(&self, error: &JsValue, context: &JsValue) {
        let mechanism = js::field(context, "mechanism").as_string();
        let handled = js::field(context, "handled").as_bool() != Some(false);
        let tags = js::string_entries(&js::field(context, "tags"));
        self.capture(
            error,
            mechanism.as_deref().unwrap_or(MECHANISM_GENERIC),
            handled,
            &tags,
        );
    }

    /// `captureMessage(message, level)`.
    pub fn capture_message(&self, message: &str, level: Level) {
        self.state()
            .handle_message(js::now(), message, level, &entropy());
        self.drain();
    }

    /// The app's router moved to `to`, matching the route `template` if it
    /// said: a breadcrumb, the route of later events, and maybe a navigation
    /// transaction.
    pub fn route_changed(&self, to: &str, template: Option<&str>) {
        {
            let mut sentry = self.state();
            sentry.set_page_url(&js::href());
            sentry.handle_route_change(js::now(), to, template, &entropy());
        }
        self.drain();
    }

    /// A navigation began: the next route change's transaction starts here.
    pub fn navigation_started(&self) {
        self.state().handle_navigation_start(js::now());
    }

    /// The user later events carry (id only), or none after `reset()`.
    pub fn set_user(&self, id: Option<&str>) {
        self.state().set_user(id);
    }

    /// Whether an envelope is being POSTed (`flush()` waits until none is).
    pub fn is_sending(&self) -> bool {
        self.in_flight.get()
    }

    /// `flush()`, or back online: what waits for a retry goes now (unless a
    /// server's `Retry-After` still holds).
    pub fn send_now(&self) {
        self.state().handle_flush(js::now());
        self.drain();
    }

    /// Removes the listeners this client added to the page, and keeps what
    /// is still unsent (waiting for a retry: no network, an overloaded
    /// server) for the next page load.
    pub fn detach(&self) {
        self.listeners.remove_all();
        let unsent = self.state().take_queued();
        for out in &unsent {
            self.store(out);
        }
    }

    /// The Sentry state, borrowed for one step. Every step goes through here
    /// so the build has one borrow site for it.
    fn state(&self) -> RefMut<'_, BrowserSentry> {
        panic::borrow(&self.sentry)
    }

    fn attach(&self) {
        type Handler = fn(&SentryClient, &JsValue);
        let handlers: [(&'static str, Handler); 5] = [
            ("error", |c, event| {
                c.capture(event, MECHANISM_ONERROR, false, &[])
            }),
            ("unhandledrejection", |c, event| {
                c.capture(event, MECHANISM_ONUNHANDLEDREJECTION, false, &[]);
            }),
            ("pagehide", |c, _| {
                c.hidden.set(true);
                c.state().handle_page_hide(js::now());
                c.drain();
            }),
            ("pageshow", |c, _| {
                c.hidden.set(false);
                c.state().handle_page_show();
                c.drain();
            }),
            ("online", |c, _| {
                if let Some(stored) = take_stored(c.persist, &c.queue_key) {
                    c.state().restore(&stored);
                }
                c.send_now();
            }),
        ];
        let listeners = &self.listeners;
        for (name, handler) in handlers {
            let weak = self.me.clone();
            listeners.add(name, move |event| {
                if let Some(this) = weak.upgrade() {
                    handler(&this, event);
                }
            });
        }
    }

    fn capture(&self, error: &JsValue, mechanism: &str, handled: bool, tags: &[(String, String)]) {
        let (kind, value, stack) = js::describe_error(error);
        let error = CapturedError {
            kind: &kind,
            value: &value,
            stack: stack.as_deref(),
            mechanism,
            handled,
            tags,
        };
        self.state().handle_error(js::now(), error, &entropy());
        self.drain();
    }

    /// Sends what is due: the next envelope when none is in flight, or, while
    /// the page is hidden, everything by beacon.
    fn drain(&self) {
        while !self.in_flight.get() || self.hidden.get() {
            let now = js::now();
            let next = self.state().poll_transmit(now);
            let Some(out) = next else { return };
            self.send(out, now);
        }
    }

    /// POSTs the envelope stamped with `now`, or hands it to the browser while
    /// the page is hidden (and keeps it for the next page load when the
    /// browser refuses).
    fn send(&self, out: Outgoing, now: UnixMs) {
        let body = out.body(now);
        let url = &self.envelope_url;
        if self.hidden.get() {
            // Offline or unreachable, a beacon would be lost: the next page
            // load sends it.
            let unreachable = !js::is_online() || self.state().is_unreachable();
            if unreachable || !transport::beacon_text(url, &body) {
                self.store(&out);
            }
            return;
        }
        let Some(this) = self.me.upgrade() else {
            return;
        };
        self.in_flight.set(true);
        let on_answer = move |answer: Answer| this.handle_answer(&out, &answer);
        transport::post_text(url.clone(), body, None, on_answer);
    }

    /// Feeds the answer back to the state machine and does what it says (see
    /// [`BrowserSentry::handle_answer`]): keep the envelope in `localStorage`,
    /// or poll again at its retry time; then sends what is next.
    fn handle_answer(&self, out: &Outgoing, answer: &Answer) {
        self.in_flight.set(false);
        let [a, b, c, d, ..] = js::random_bytes();
        let after = self.state().handle_answer(
            js::now(),
            out,
            answer.status,
            answer.retry_after.as_deref(),
            answer.rate_limits.as_deref(),
            u32::from_le_bytes([a, b, c, d]),
        );
        match after {
            AfterAnswer::Done => {}
            AfterAnswer::Keep => self.store(out),
            AfterAnswer::RetryAt(at) => {
                let delay = at.saturating_since(js::now()).min(i32::MAX as u64) as i32;
                js::set_timeout(&self.on_retry, delay);
            }
        }
        self.drain();
    }

    /// Keeps an unsent envelope for the return online or the next page load (core keeps the newest).
    fn store(&self, out: &Outgoing) {
        if !self.persist {
            return;
        }
        let stored = js::storage_get(&self.queue_key).unwrap_or_default();
        let kept = out.add_to_stored(&stored);
        if let Err(e) = js::storage_set(&self.queue_key, &kept) {
            js::warn_with("could not keep a Sentry envelope:", &e);
        }
    }
}

/// The envelopes kept for later (see [`SentryClient::store`]), removed from
/// `localStorage` as they are handed back.
fn take_stored(persist: bool, queue_key: &str) -> Option<String> {
    let stored = persist.then(|| js::storage_get(queue_key)).flatten()?;
    js::storage_remove(queue_key);
    Some(stored)
}

/// Reports what escaped SDK code (`thrown`: the trap after a panic, whose
/// stack has the wasm frames) as an unhandled error, which crashes the
/// session, sent at once by beacon: the SDK is off from now on. Nothing is
/// sent when the crash left Sentry's state borrowed.
fn report_crash(thrown: &JsValue) {
    let Some(this) = CRASH_REPORTER
        .try_with(|r| {
            let weak = r.take();
            let this = weak.upgrade();
            r.set(weak);
            this
        })
        .ok()
        .flatten()
    else {
        return;
    };
    let Ok(mut sentry) = this.sentry.try_borrow_mut() else {
        return;
    };
    let now = js::now();
    let (_, message, stack) = js::describe_error(thrown);
    let error = CapturedError {
        kind: "panic",
        value: &message,
        stack: stack.as_deref(),
        mechanism: MECHANISM_PANIC,
        handled: false,
        tags: &[],
    };
    sentry.handle_error(now, error, &entropy());
    while let Some(out) = sentry.poll_transmit(now) {
        transport::beacon_text(&this.envelope_url, &out.body(now));
    }
}

/// Fresh random bytes for one input to core.
fn entropy() -> Entropy {
    let mut bytes = [0; 48];
    js::fill_random(&mut bytes);
    Entropy(bytes)
}
