//! The PostHog client in the page: drives the core [`Client`] and [`Outbox`]
//! from browser events, timers and HTTP answers.

use std::cell::{Cell, RefCell, RefMut};
use std::rc::{Rc, Weak};

use ff_telemetry_browser::posthog::{
    Adoption, AppProperties, BatchOutcome, Client, ClientConfig, NavigationSource, Outbox,
    OutboxLimits, PersistedState, TabQueues, restore, save, send_halving,
};
use ff_telemetry_wire::posthog::{batch_url, raw_batch_body};
use ff_telemetry_wire::text::concat;
use ff_telemetry_wire::{Consent, FrontendPosthog, UnixMs, Value};
use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::config::ClientOptions;
use crate::js::{self, Callback, warn, warn_numbers, warn_with};
use crate::listeners::Listeners;
use crate::transport;

/// `$lib` on every event.
const LIB: &str = "ff-telemetry-web";

/// Everything the PostHog client starts with.
#[derive(Debug, Clone)]
pub struct PosthogOptions {
    /// Key, host and `capture_pageview`, from the platform's frontend config.
    pub config: FrontendPosthog,
    /// Where to keep ids, opt-out and the unsent queue, Do Not Track,
    /// cookieless, and the consent in force.
    pub options: ClientOptions,
}

/// A running PostHog client. Held by [`crate::Telemetry`]; browser callbacks
/// hold it weakly, so dropping the handle stops everything.
pub struct PosthogClient {
    me: Weak<PosthogClient>,
    state: RefCell<State>,
    /// Whether state and unsent events are kept in `localStorage` (changed
    /// only by a consent decision, so outside the borrowed state).
    persist: Cell<bool>,
    listeners: Listeners,
    /// The armed `setTimeout`'s id.
    timer: Cell<Option<i32>>,
    /// Calls [`PosthogClient::pump`] when the timer fires: one closure for
    /// every timer rather than a new one each time it is armed.
    /// Owned by JavaScript's garbage collector (as the listeners are), not
    /// dropped with the client: an armed timer, or a queued save, may call
    /// it after the handle is freed, and it then finds no client.
    on_timer: Function,
    /// When the armed timer fires; `None` once it has (or when none is armed).
    timer_due: Cell<Option<UnixMs>>,
    /// Calls [`PosthogClient::save_if_pending`], queued as a microtask.
    /// Owned by the garbage collector, as `on_timer` is.
    saver: Function,
    /// Adopts the queue of a page that is gone when granted its Web Lock,
    /// which it releases when it returns (the lock's `name` is the queue's
    /// key). Owned by the garbage collector, as `on_timer` is.
    adopter: Function,
    save_pending: Cell<bool>,
    /// Whether a failed save was warned about: a full `localStorage` fails
    /// every save, and warns once.
    warned_storage: Cell<bool>,
}

impl std::fmt::Debug for PosthogClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PosthogClient")
    }
}

/// An app's call that makes an event with properties of its own (see
/// [`PosthogClient::app_event`]).
#[derive(Debug, Clone, Copy)]
pub enum AppCall<'a> {
    /// `capture(event, properties?, groups?)`: the event's name.
    Capture(&'a str),
    /// `identify(distinctId, set?, setOnce?)`: the user's id.
    Identify(&'a str),
    /// `group(type, key, properties?)`: the group's type and key.
    Group(&'a str, &'a str),
}

/// What a browser callback (page event, timer, deferred save, Web Lock) does
/// to the client, with the argument the browser passed.
type Handler = fn(&PosthogClient, &JsValue);

struct State {
    client: Client,
    /// Each event as the JSON text that is sent and persisted.
    outbox: Outbox<String>,
    batch_url: String,
    /// The `localStorage` key of the state (shared by the app's pages).
    storage_key: String,
    /// This page's key for its unsent events, and the other pages' keys.
    queues: TabQueues,
    /// Whether the "queue full" warning was given since the last delivery:
    /// a burst that overflows the queue warns once, not once per event.
    warned_queue_full: bool,
}

/// A browser callback that runs `handler` on the client (guarded) while it
/// lives, with the argument JavaScript passes: that is the closure type the
/// listeners have, and one closure type for every callback of the client
/// (listeners, timer, deferred save, Web Locks) costs its glue once.
fn callback(me: &Weak<PosthogClient>, handler: Handler) -> Function {
    let weak = me.clone();
    Callback::new(move |arg| {
        if let Some(this) = weak.upgrade() {
            crate::panic::guarded(|| handler(&this, &arg));
        }
    })
    .into_js_value()
    .unchecked_into()
}

impl PosthogClient {
    /// Starts a client: loads persisted state and unsent events, hooks the
    /// page, and captures the first pageview when `capture_pageview` is on.
    pub fn start(options: PosthogOptions) -> Result<Rc<PosthogClient>, String> {
        let batch_url = batch_url(&options.config.apiurl)
            .map_err(|e| concat(&["posthog.apiurl: ", &e.message()]))?;
        if options.config.apikey.is_empty() {
            return Err("posthog.apikey is empty".to_owned());
        }
        let token = &options.config.apikey;
        let may_store = options.options.persist();
        let storage_key = concat(&["ff_telemetry_", token]);
        let queues = TabQueues::new(&storage_key, js::random_bytes());
        // Read even when `localStorage` refuses writes (full): a stored
        // opt-out must hold.
        let stored = may_store.then(|| js::storage_get(&storage_key)).flatten();
        // Without `localStorage` (missing, blocked by privacy settings, or
        // full with nothing of ours to write over) nothing is kept, as with
        // `persistence: "memory"`: what would be kept in memory could only be
        // read by a later page load.
        let persist = may_store && (stored.is_some() || js::storage_works());
        let stored = stored.unwrap_or_default();
        // The state's line, then events an earlier version of the SDK
        // queued there, before each page had a queue of its own.
        let (state_line, unsent) = restore(&stored);
        let now = js::now();
        // Parsed by the browser's `JSON.parse`: no parser in the wasm.
        let persisted = js::parse_json(state_line)
            .ok()
            .and_then(|value| serde_wasm_bindgen::from_value::<Value>(value).ok())
            .and_then(|fields| PersistedState::from_fields(&strings(fields)?));
        let mut config = ClientConfig::new(token, LIB, env!("CARGO_PKG_VERSION"));
        config.capture_pageview = options.config.capture_pageview;
        config.respect_dnt = options.options.respect_dnt;
        config.cookieless = options.options.cookieless;
        config.consent = options.options.consent;
        config.consent_denied = options.options.consent_denied;
        let client = Client::new(config, persisted, now, &mut js::random_bytes);
        let mut outbox = Outbox::new(OutboxLimits::default());
        if !client.has_opted_out() {
            requeue(&mut outbox, unsent, now);
        }
        let this = Rc::new_cyclic(|me: &Weak<PosthogClient>| PosthogClient {
            me: me.clone(),
            persist: Cell::new(persist),
            saver: callback(me, |c, _| c.save_if_pending()),
            adopter: callback(me, |c, lock| {
                if let Some(key) = js::field(lock, "name").as_string() {
                    c.adopt(&key);
                }
            }),
            save_pending: Cell::new(false),
            warned_storage: Cell::new(false),
            timer_due: Cell::new(None),
            on_timer: callback(me, |c, _| {
                c.timer.set(None);
                c.timer_due.set(None);
                if let Some(this) = c.me.upgrade() {
                    PosthogClient::pump(this);
                }
            }),
            state: RefCell::new(State {
                client,
                outbox,
                batch_url,
                storage_key,
                queues,
                warned_queue_full: false,
            }),
            listeners: Listeners::default(),
            timer: Cell::new(None),
        });
        if persist {
            this.claim_queue();
        }
        this.save();
        this.attach();
        if options.config.capture_pageview {
            js::hook_history();
            this.on_history_navigation();
        }
        this.schedule();
        Ok(this)
    }

    /// The client's state, borrowed for one step (see [`crate::panic::borrow`]).
    fn state(&self) -> RefMut<'_, State> {
        crate::panic::borrow(&self.state)
    }

    /// The app's router moved to `to` (a path or URL), matching the route
    /// `template` if it said.
    pub fn route_changed(&self, to: &JsValue, template: Option<&str>) {
        let Some(url) = js::resolve_url(to) else {
            return warn("routeChanged(to, from): `to` must be a path or URL string; ignored");
        };
        self.navigate(&url, template, NavigationSource::Router);
    }

    /// `capture`, `identify` or `group` (see [`AppCall`]), with the
    /// caller's properties (see [`AppProperties`]). One method for the
    /// three: each would repeat the page read, the borrow and the queueing.
    pub fn app_event(&self, call: AppCall<'_>, user: AppProperties) {
        let adds_properties = !user.is_empty();
        let (env, now, rng) = (js::page_env(), js::now(), &mut js::random_bytes);
        let event = {
            let client = &mut self.state().client;
            match call {
                AppCall::Capture(name) => client.handle_capture(now, name, &env, rng),
                AppCall::Identify(distinct_id) => {
                    client.handle_identify(now, distinct_id, adds_properties, &env, rng)
                }
                AppCall::Group(group_type, group_key) => {
                    client.handle_group(now, group_type, group_key, &env, rng)
                }
            }
        };
        self.enqueue(event, adds_properties.then_some(&user));
    }

    /// `reset()`: forget the user (new anonymous id and session).
    pub fn reset(&self) {
        self.state()
            .client
            .handle_reset(js::now(), &mut js::random_bytes);
        self.save();
    }

    /// `consent(true)` / `consent(false)`: tracking from now on as `consent`
    /// allows (see `Client::handle_consent`); state is kept from a grant on
    /// when `persist` says it may be (a full or blocked `localStorage` then
    /// warns once, at the first save), with this page's queue claimed as at
    /// start; what was kept is forgotten after a denial.
    pub fn set_consent(&self, consent: Consent, persist: bool) {
        let held = (self.state().client).handle_consent(js::now(), consent, &mut js::random_bytes);
        let persisted = self.persist.replace(persist);
        if persist && !persisted {
            self.claim_queue();
        }
        if !persist {
            let state = self.state();
            js::storage_remove(&state.storage_key);
            js::storage_remove(state.queues.own_key());
        }
        if let Some((url, template)) = held {
            self.navigate(&url, template.as_deref(), NavigationSource::Router);
        }
        self.save();
    }

    /// `optOut()`: stop capturing and drop what is queued.
    pub fn opt_out(&self) {
        {
            let mut state = self.state();
            state.client.handle_opt_out();
            drop(state.outbox.take_all());
        }
        self.save();
    }

    /// `optIn()`.
    pub fn opt_in(&self) {
        self.state().client.handle_opt_in();
        self.save();
    }

    /// `hasOptedOut()`.
    pub fn has_opted_out(&self) -> bool {
        self.state().client.has_opted_out()
    }

    /// One step of `flush()`, polled until it returns false: once no batch
    /// is in flight, everything queued is made due and sent (`started` records
    /// that); the flush is over when, after that, no batch is in flight: the
    /// queue is empty, or a send failed (the retry then follows its backoff).
    pub fn flush_step(self: &Rc<Self>, started: &mut bool) -> bool {
        if !self.is_sending() {
            if *started {
                return false;
            }
            *started = true;
            self.state().outbox.handle_flush(js::now());
            Self::pump(self.clone());
        }
        self.is_sending()
    }

    fn is_sending(&self) -> bool {
        self.state().outbox.is_in_flight()
    }

    /// Removes every listener and timer this client added to the page. Its
    /// queue stays, with its Web Lock: another page adopts it once this one
    /// is gone.
    pub fn detach(&self) {
        self.save_if_pending();
        self.listeners.remove_all();
        if let Some(id) = self.timer.take() {
            js::clear_timeout(id);
        }
    }

    fn attach(&self) {
        // A call per listener rather than a loop over an array of them: less code.
        let add = |name, handler: Handler| {
            self.listeners
                .add_function(name, callback(&self.me, handler));
        };
        add("pagehide", |c, _| c.on_page_hide());
        add("pageshow", |c, _| c.state().client.handle_page_show());
        add("popstate", |c, _| c.on_history_navigation());
        add("ff-telemetry:navigate", |c, _| c.on_history_navigation());
        add("scroll", |c, _| c.on_scroll());
    }

    /// Holds the Web Lock of this page's queue key while the page lives
    /// (see [`TabQueues`]), and adopts the queues other pages left: once
    /// their page is gone, or at once without Web Locks. The key is written
    /// before the lock is granted: no other page knows the fresh key before
    /// its first write, which comes after the lock request.
    fn claim_queue(&self) {
        let locks = js::hold_lock(self.state().queues.own_key());
        for key in js::storage_keys().iter() {
            if let Some(key) = key.as_string() {
                self.on_key_seen(&key, true, locks);
            }
        }
        if locks {
            // Pages that start later, each with a queue to wait for.
            self.listeners.add_function(
                "storage",
                callback(&self.me, |c, event| {
                    if let Some(key) = js::field(event, "key").as_string() {
                        c.on_key_seen(&key, js::field(event, "oldValue").is_null(), true);
                    }
                }),
            );
        }
    }

    /// A `localStorage` key seen: when it is another page's queue, adopt it
    /// when [`TabQueues::adoption`] says.
    fn on_key_seen(&self, key: &str, created: bool, locks: bool) {
        let adoption = self.state().queues.adoption(key, created, locks);
        match adoption {
            Some(Adoption::WhenGone) => {
                js::request_lock(key, &self.adopter);
            }
            Some(Adoption::Now) => self.adopt(key),
            None => {}
        }
    }

    /// Adopts the queue another page left at `key`: its events join this
    /// page's queue and are saved under this page's key before `key` is
    /// removed, so they are never in no key.
    fn adopt(&self, key: &str) {
        let stored = js::storage_get(key).unwrap_or_default();
        {
            let state = &mut *self.state();
            if !state.client.has_opted_out() {
                requeue(&mut state.outbox, restore(&stored).1, js::now());
            }
        }
        self.save();
        js::storage_remove(key);
        self.schedule();
    }

    fn on_history_navigation(&self) {
        self.navigate(&js::href(), None, NavigationSource::History);
    }

    fn on_scroll(&self) {
        self.state().client.handle_scroll(js::scroll_sample());
    }

    /// The page is going away: the final `$pageleave` and everything unsent
    /// leave by beacon, as no answer can be awaited. What the browser refuses
    /// stays queued (and persisted) for the next page load.
    fn on_page_hide(&self) {
        let env = js::page_env();
        let final_leave = {
            let mut state = self.state();
            state.client.handle_scroll(js::scroll_sample());
            state
                .client
                .handle_page_hide(js::now(), &env, &mut js::random_bytes)
        };
        self.enqueue(final_leave, None);
        let events = self.state().outbox.take_all();
        if !events.is_empty() {
            self.send_while_leaving(&events);
        }
        self.save();
    }

    /// Beacon for `events`, halved until each part fits in a beacon and the
    /// browser accepts it (see [`send_halving`]); single events it refuses
    /// are queued again.
    fn send_while_leaving(&self, events: &[String]) {
        let refused = {
            // Borrowed while the browser takes the beacons: it calls nothing back.
            let state = self.state();
            let token = &state.client.config().token;
            send_halving(
                events,
                &|part: &[String]| batch_body(token, part),
                &mut |body: &str| transport::beacon_text(&state.batch_url, body),
            )
        };
        let now = js::now();
        let outbox = &mut self.state().outbox;
        for event in refused {
            outbox.handle_enqueue(now, event.clone());
        }
    }

    fn navigate(&self, url: &str, template: Option<&str>, source: NavigationSource) {
        let env = js::page_env();
        let events = {
            let mut state = self.state();
            state.client.handle_scroll(js::scroll_sample());
            state.client.handle_navigation(
                js::now(),
                url,
                template,
                source,
                &env,
                &mut js::random_bytes,
            )
        };
        for event in events {
            self.enqueue(Some(event), None);
        }
    }

    /// Queues `event` (if the client made one; its JSON text) with the
    /// caller's properties, if any, persists, and arms the timer.
    fn enqueue(&self, event: Option<String>, user: Option<&AppProperties>) {
        let Some(mut json) = event else {
            // Identity or consent may still have changed.
            return self.save();
        };
        // Route changes, mostly, add nothing: no JSON round trip for them.
        if let Some(user) = user {
            json = match merged(&json, user) {
                Some(merged) => merged,
                None => return warn("event dropped: the app's properties could not be added"),
            };
        }
        let warn_queue_full = {
            let mut state = self.state();
            let n_dropped = state.outbox.handle_enqueue(js::now(), json);
            n_dropped > 0 && !std::mem::replace(&mut state.warned_queue_full, true)
        };
        if warn_queue_full {
            warn("queue full: dropping the oldest events until the server catches up");
        }
        self.save_soon();
        self.schedule();
    }

    /// Sends due batches one after another until none is due, then arms the
    /// timer.
    fn pump(this: Rc<Self>) {
        let client = this.clone();
        let on_answer = move |answer: transport::Answer| {
            if client.handle_answer(&answer) {
                Self::pump(client.clone());
            } else {
                client.schedule();
            }
        };
        let sent = {
            // Borrowed while posting: the answer comes in a later task, so
            // it never borrows the state during the call.
            let state = &mut *this.state();
            let batch = state.outbox.poll_batch(js::now());
            if let Some(batch) = batch {
                let body = batch_body(&state.client.config().token, batch);
                let url = state.batch_url.clone();
                let gzip_url = url.clone() + "?compression=gzip-js";
                transport::post_text(url, body, Some(gzip_url), on_answer);
            }
            batch.is_some()
        };
        if !sent {
            this.schedule();
        }
    }

    /// Records the answer to the batch in flight; true when it was delivered.
    fn handle_answer(&self, answer: &transport::Answer) -> bool {
        let [a, b, c, d, ..] = js::random_bytes();
        let status = answer.status;
        let outcome = {
            let mut state = self.state();
            let now = js::now();
            let outcome =
                state
                    .outbox
                    .handle_response(now, status, u32::from_le_bytes([a, b, c, d]));
            if let Some(retry_after) = &answer.retry_after {
                state.outbox.handle_retry_after(now, retry_after);
            }
            if let BatchOutcome::Delivered(_) = outcome {
                state.warned_queue_full = false;
            }
            outcome
        };
        self.save();
        if let BatchOutcome::Dropped(n) = outcome {
            warn_numbers(
                n as f64,
                "events dropped: the server answered",
                status.into(),
            );
        }
        matches!(outcome, BatchOutcome::Delivered(_))
    }

    /// Arms the one timer for the outbox's next due time.
    fn schedule(&self) {
        let due = self.state().outbox.poll_timeout();
        if due.is_some() && self.timer_due.get() == due {
            // Armed for that time already: a burst of events re-arms nothing.
            return;
        }
        if let Some(id) = self.timer.take() {
            js::clear_timeout(id);
        }
        self.timer_due.set(None);
        let Some(at) = due else {
            return;
        };
        let delay = at.saturating_since(js::now()).min(i32::MAX as u64) as i32;
        let id = js::set_timeout(&self.on_timer, delay);
        self.timer.set(id);
        self.timer_due.set(due);
    }

    /// Persists at the end of the current task (a microtask): a burst of events
    /// (a loop of route changes, say) writes `localStorage` once rather than
    /// once per event, and the write still lands before the page can go away.
    fn save_soon(&self) {
        if !self.persist.get() || self.save_pending.replace(true) {
            return;
        }
        js::queue_microtask(&self.saver);
    }

    fn save_if_pending(&self) {
        if self.save_pending.get() {
            self.save();
        }
    }

    /// Persists the client state (shared by the app's pages) and the unsent
    /// events under this page's key (unless storing nothing), as [`save`]
    /// lays them out.
    fn save(&self) {
        self.save_pending.set(false);
        if !self.persist.get() {
            return;
        }
        let state = self.state();
        let persisted = state.client.encode_persisted();
        let error = js::storage_set(&state.storage_key, &persisted).err();
        let key = state.queues.own_key();
        let (_, e) = save("", state.outbox.queued(), |text| js::storage_set(key, text));
        if let Some(e) = error.or(e)
            && !self.warned_storage.replace(true)
        {
            warn_with("could not save:", &e);
        }
    }
}

/// Queues `events` an earlier page load left: they have waited long enough.
fn requeue<'a>(outbox: &mut Outbox<String>, events: impl Iterator<Item = &'a str>, now: UnixMs) {
    for event in events {
        outbox.handle_enqueue(now, event.to_owned());
    }
    outbox.handle_flush(now);
}

/// The strings of a JSON array of strings (`None` for anything else).
fn strings(value: Value) -> Option<Vec<String>> {
    let Value::Array(items) = value else {
        return None;
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// `event` (the JSON text the client wrote) with the app's properties merged
/// in. Read by the browser's `JSON.parse` and serde-wasm-bindgen, as the
/// app's properties are: no JSON parser in the module.
fn merged(event: &str, app: &AppProperties) -> Option<String> {
    let parsed = js::parse_json(event).ok()?;
    let mut event: Value = serde_wasm_bindgen::from_value(parsed).ok()?;
    app.merge_into(&mut event)
        .then(|| serde_json::to_string(&event).ok())
        .flatten()
}

/// The `/batch/` body for `events`, sent now.
fn batch_body(token: &str, events: &[String]) -> String {
    raw_batch_body(token, js::now(), events)
}
