//! Browser Sentry in the page: feeds core's [`BrowserSentry`] the page's
//! errors, route changes and lifecycle, and sends the envelopes it makes.
//! Every decision (filtering, sampling, sessions, rate limits) is core's.

use std::cell::{Cell, RefCell, RefMut};
use std::rc::{Rc, Weak};

use ff_telemetry_core::sentry::{
    BrowserSentry, CapturedError, DataCategory, Entropy, Level, MECHANISM_GENERIC,
    MECHANISM_ONERROR, MECHANISM_ONUNHANDLEDREJECTION, MECHANISM_PANIC, SdkInfo, SentrySetupError,
    stamp_sent_at,
};
use ff_telemetry_core::text::{concat, split_ascii, split_once_ascii};
use ff_telemetry_core::{FrontendSentry, UnixMs};
use wasm_bindgen::JsValue;

use crate::js;
use crate::listeners::Listeners;
use crate::panic::sdk;
use crate::storage::Storage;
use crate::transport::{self, Answer};

/// `sdk.name` in payloads and `sentry_client` in the auth query.
const SDK_NAME: &str = "ff-telemetry.web";
/// Envelopes kept for the next page load when they could not be sent.
const MAX_STORED_ENVELOPES: usize = 30;
/// Between stored envelopes, and between an envelope and its category. JSON
/// escapes control characters, so neither occurs inside an envelope. Both are
/// ASCII bytes, split on by core's byte scans (`str::split` with a `char`
/// would bring its searcher into the build).
const ENVELOPE_SEPARATOR: u8 = 0x1e;
const CATEGORY_SEPARATOR: u8 = 0x1f;

thread_local! {
    /// The client the panic hook reports to (the page's latest). A `Cell`
    /// (swapped out and back) rather than a `RefCell`: no borrow panics.
    static PANIC_REPORTER: Cell<Weak<SentryClient>> = const { Cell::new(Weak::new()) };
}

/// A running browser Sentry. Held by [`crate::Telemetry`]; browser callbacks
/// hold it weakly, so dropping the handle stops everything.
pub struct SentryClient {
    me: Weak<SentryClient>,
    sentry: RefCell<BrowserSentry>,
    /// Where every envelope goes (fixed by the DSN), kept here so sending
    /// needs no copy of it nor a borrow of `sentry`.
    envelope_url: String,
    storage: Storage,
    queue_key: String,
    listeners: RefCell<Listeners>,
    /// Envelopes from the last page load still to send (category, bytes).
    stored: RefCell<Vec<(DataCategory, String)>>,
    /// One POST at a time, so each answer (a rate limit, say) applies to
    /// the next envelope.
    in_flight: Cell<bool>,
    /// Between `pagehide` and `pageshow`: send by beacon, all at once.
    hidden: Cell<bool>,
}

impl std::fmt::Debug for SentryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SentryClient")
    }
}

/// A POST under way, so that a failed one can be kept or reported. One shape
/// for envelopes made on this page and those kept from an earlier page load:
/// the category and the bytes without `sent_at`, which is what is stored.
struct Sending {
    category: DataCategory,
    unsent: String,
    /// Made on this page (a refusal is counted in the client report).
    fresh: bool,
}

impl SentryClient {
    /// Starts Sentry for this page: the session starts, envelopes left unsent
    /// by the last page load are sent, and the page's `error`,
    /// `unhandledrejection`, `pagehide` and `pageshow` events are listened to.
    /// `persist` allows `localStorage` for envelopes that could not be sent.
    pub fn start(config: &FrontendSentry, persist: bool) -> Result<Rc<Self>, SentrySetupError> {
        let now = js::now();
        let sdk_info = SdkInfo {
            name: SDK_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        let href = js::href();
        let sentry = BrowserSentry::new(config, sdk_info, &href, now, &entropy())?;
        let storage = if persist {
            Storage::local_or_memory()
        } else {
            Storage::memory()
        };
        // By project key: the envelopes are the project's, wherever it is.
        let queue_key = concat(&["ff_telemetry_sentry_", sentry.dsn().public_key()]);
        let envelope_url = sentry.envelope_url().to_owned();
        let this = Rc::new_cyclic(|me| SentryClient {
            me: me.clone(),
            sentry: RefCell::new(sentry),
            envelope_url,
            storage,
            queue_key,
            listeners: RefCell::new(Listeners::default()),
            stored: RefCell::new(Vec::new()),
            in_flight: Cell::new(false),
            hidden: Cell::new(false),
        });
        // `try_with` here and below: `with` carries a panic (and its message
        // formatting) for use after the thread's end, which a page never sees.
        let _ = PANIC_REPORTER.try_with(|r| r.set(this.me.clone()));
        this.attach();
        this.load_stored();
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

    /// The app's router moved to `to`: a breadcrumb, the route of later
    /// events, and maybe a navigation transaction.
    pub fn route_changed(&self, to: &str) {
        {
            let mut sentry = self.state();
            sentry.set_page_url(&js::href());
            sentry.handle_route_change(js::now(), to, &entropy());
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

    /// Removes the listeners this client added to the page.
    pub fn detach(&self) {
        self.listeners.borrow_mut().remove_all();
    }

    /// The Sentry state, borrowed for one step. Every step goes through here
    /// so the build has one borrow site (and one panic location) for it.
    fn state(&self) -> RefMut<'_, BrowserSentry> {
        self.sentry.borrow_mut()
    }

    fn attach(&self) {
        type Handler = fn(&SentryClient, &JsValue);
        let handlers: [(&'static str, Handler); 4] = [
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
        ];
        let mut listeners = self.listeners.borrow_mut();
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
            let Some(next) = self.next_stored(now) else {
                let next = self.state().poll_transmit(now);
                let Some(out) = next else { return };
                let unsent = String::from_utf8(out.envelope.to_bytes()).unwrap_or_default();
                let sending = Sending {
                    category: out.category(),
                    unsent,
                    fresh: true,
                };
                self.send(sending, now);
                continue;
            };
            self.send(next, now);
        }
    }

    /// The oldest stored envelope not rate-limited now (the limited ones are
    /// dropped).
    fn next_stored(&self, now: UnixMs) -> Option<Sending> {
        let sentry = self.state();
        let mut stored = self.stored.borrow_mut();
        // A `Vec`, not a `VecDeque`: at most MAX_STORED_ENVELOPES, and
        // `VecDeque`'s code costs the browser build more than the shifts.
        while !stored.is_empty() {
            let (category, unsent) = stored.remove(0);
            if sentry.rate_limits().is_limited(now, &category) {
                continue;
            }
            return Some(Sending {
                category,
                unsent,
                fresh: false,
            });
        }
        None
    }

    /// POSTs the envelope stamped with `now`, or hands it to the browser while
    /// the page is hidden (and keeps it for the next page load when the
    /// browser refuses).
    fn send(&self, sending: Sending, now: UnixMs) {
        let body = stamp_sent_at(sending.unsent.as_bytes(), now);
        let Ok(text) = String::from_utf8(body) else {
            return;
        };
        let url = &self.envelope_url;
        if self.hidden.get() {
            if !transport::beacon_text(url, &text) {
                self.store(&sending);
            }
            return;
        }
        let Some(this) = self.me.upgrade() else {
            return;
        };
        self.in_flight.set(true);
        let on_answer = move |answer: Answer| {
            sdk(|| this.handle_answer(&sending, &answer));
        };
        transport::post_text(url, &text, None, Box::new(on_answer));
    }

    /// Feeds the answer back to core, then sends what is next; no answer at
    /// all (offline) keeps the envelope for the next page load.
    fn handle_answer(&self, sending: &Sending, answer: &Answer) {
        self.in_flight.set(false);
        if answer.status == 0 {
            self.store(sending);
        } else {
            let mut sentry = self.state();
            sentry.handle_response(
                js::now(),
                answer.status,
                answer.retry_after.as_deref(),
                answer.rate_limits.as_deref(),
            );
            let refused = !(200..300).contains(&answer.status) && answer.status != 429;
            if refused && sending.fresh {
                sentry.handle_send_failure(sending.category.clone());
            }
        }
        self.drain();
    }

    /// Keeps an unsent envelope for the next page load (the newest
    /// [`MAX_STORED_ENVELOPES`]).
    fn store(&self, sending: &Sending) {
        // Written straight into one string: the kept old entries, each followed
        // by the separator, then the new one.
        let stored = self.storage.get(&self.queue_key).unwrap_or_default();
        let old = split_ascii(&stored, ENVELOPE_SEPARATOR).filter(|entry| !entry.is_empty());
        let n_dropped = (old.clone().count() + 1).saturating_sub(MAX_STORED_ENVELOPES);
        let mut kept = String::new();
        for entry in old.skip(n_dropped) {
            kept.push_str(entry);
            kept.push(char::from(ENVELOPE_SEPARATOR));
        }
        kept.push_str(sending.category.as_str());
        kept.push(char::from(CATEGORY_SEPARATOR));
        kept.push_str(&sending.unsent);
        if let Err(e) = self.storage.set(&self.queue_key, &kept) {
            js::warn(&concat(&[
                "could not keep a Sentry envelope: ",
                e.message(),
            ]));
        }
    }

    /// Takes the envelopes the last page load could not send; they go first.
    fn load_stored(&self) {
        let Some(stored) = self.storage.get(&self.queue_key) else {
            return;
        };
        self.storage.remove(&self.queue_key);
        let entries = split_ascii(&stored, ENVELOPE_SEPARATOR).filter_map(|entry| {
            let (category, unsent) = split_once_ascii(entry, CATEGORY_SEPARATOR)?;
            Some((DataCategory::from_name(category), unsent.to_owned()))
        });
        self.stored.borrow_mut().extend(entries);
    }
}

/// Reports a panic inside the SDK as an unhandled error (which crashes the
/// session), sent at once by beacon: the SDK is off once the hook returns.
/// Nothing is sent when the panic struck while Sentry's state was in use.
pub fn report_panic(message: &str) {
    let Some(this) = PANIC_REPORTER
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
    let stack = js::stack_here();
    let error = CapturedError {
        kind: "panic",
        value: message,
        stack: stack.as_deref(),
        mechanism: MECHANISM_PANIC,
        handled: false,
        tags: &[],
    };
    sentry.handle_error(now, error, &entropy());
    while let Some(out) = sentry.poll_transmit(now) {
        let body = out.body(now);
        if let Ok(text) = std::str::from_utf8(&body) {
            transport::beacon_text(&out.url, text);
        }
    }
}

/// Fresh random bytes for one input to core.
fn entropy() -> Entropy {
    let mut bytes = [0; 48];
    js::fill_random(&mut bytes);
    Entropy(bytes)
}
