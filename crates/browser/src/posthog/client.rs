//! The browser PostHog client's decisions: identity, consent, sessions and page
//! events, turned into the JSON text of ready-to-send capture events.

use super::entropy::Entropy;
use super::pageview::{
    NavigationSource, Page, PageEvent, PageEventKind, PageviewTracker, ScrollSample,
};
use super::properties::{describe_user_agent, url_parts};
use super::session::Session;
use super::url::sanitize_url;
use ff_telemetry_wire::hyphenated;
use ff_telemetry_wire::posthog::CaptureEvent;
use ff_telemetry_wire::text;
use ff_telemetry_wire::{Consent, ConsentDenied, UnixMs, Value, uuid_v7};

/// How the client behaves, fixed at start (but for `consent`, which
/// [`Client::handle_consent`] changes).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// PostHog project key.
    pub token: String,
    /// Capture the first pageview and History API navigations automatically.
    pub capture_pageview: bool,
    /// Treat a browser's Do Not Track signal as an opt-out.
    pub respect_dnt: bool,
    /// Keep no stable id: a fresh anonymous id per page load and no `$device_id`.
    pub cookieless: bool,
    /// The user's consent in force: until granted the client runs cookieless.
    pub consent: Consent,
    /// What tracking a denied consent leaves.
    pub consent_denied: ConsentDenied,
    /// `$lib` (a constant of the SDK, so not copied).
    pub lib: &'static str,
    /// `$lib_version`.
    pub lib_version: &'static str,
}

impl ClientConfig {
    /// Defaults for `token`: automatic pageviews on, DNT ignored (as posthog-js),
    /// stable ids.
    pub fn new(token: &str, lib: &'static str, lib_version: &'static str) -> Self {
        ClientConfig {
            token: token.to_owned(),
            capture_pageview: true,
            respect_dnt: false,
            cookieless: false,
            consent: Consent::Granted,
            consent_denied: ConsentDenied::Cookieless,
            lib,
            lib_version,
        }
    }
}

/// What the client keeps between page loads.
#[derive(Debug, Clone, PartialEq)]
pub struct PersistedState {
    /// The browser's anonymous id; also the distinct id until `identify`.
    pub device_id: String,
    /// The current distinct id.
    pub distinct_id: String,
    /// Group key by group type.
    pub groups: Vec<(String, String)>,
    /// The session to continue, if any.
    pub session: Option<Session>,
    /// The user opted out of capturing.
    pub opted_out: bool,
}

/// First field of [`PersistedState::encode`]'s format.
const STATE_FORMAT: &str = "ff-telemetry-state 2";

impl PersistedState {
    /// A JSON array of strings for `localStorage`: format tag, device id,
    /// distinct id, opt-out (`1` or `0`), the session's four fields (empty
    /// when there is none), then group type and key by turns. JSON because the
    /// browser reads it back with `JSON.parse`, leaving no parser in the wasm;
    /// see [`PersistedState::from_fields`].
    ///
    /// ```
    /// use ff_telemetry_browser::posthog::PersistedState;
    /// let state = PersistedState {
    ///     device_id: "d".into(), distinct_id: "user\n\"1\"".into(),
    ///     groups: vec![("team".into(), "t\t1".into())], session: None, opted_out: true,
    /// };
    /// let fields: Vec<String> = serde_json::from_str(&state.encode()).unwrap();
    /// assert_eq!(PersistedState::from_fields(&fields), Some(state));
    /// assert_eq!(PersistedState::from_fields(&["garbage".to_owned()]), None);
    /// ```
    pub fn encode(&self) -> String {
        self.encode_with(self.session.as_ref())
    }

    /// [`PersistedState::encode`] with `session` in place of the stored one:
    /// the client encodes its state without a copy of it.
    fn encode_with(&self, session: Option<&Session>) -> String {
        let (started, last_activity);
        let mut fields = vec![
            STATE_FORMAT,
            &self.device_id,
            &self.distinct_id,
            if self.opted_out { "1" } else { "0" },
        ];
        match session {
            Some(s) => {
                started = text::decimal(s.started.0);
                last_activity = text::decimal(s.last_activity.0);
                fields.extend([
                    s.session_id.as_str(),
                    s.window_id.as_str(),
                    &started,
                    &last_activity,
                ]);
            }
            // The session's four fields, empty.
            None => fields.extend(["", "", "", ""]),
        }
        for (ty, key) in &self.groups {
            fields.extend([ty.as_str(), key.as_str()]);
        }
        to_json(&fields)
    }

    /// The inverse of [`PersistedState::encode`], from the strings of its JSON
    /// array; `None` for anything else.
    pub fn from_fields(fields: &[String]) -> Option<PersistedState> {
        let [
            format,
            device_id,
            distinct_id,
            opted_out,
            session_id,
            window_id,
            started,
            last_activity,
            groups @ ..,
        ] = fields
        else {
            return None;
        };
        let opted_out = match opted_out.as_str() {
            "1" => true,
            "0" => false,
            _ => return None,
        };
        let session = if session_id.is_empty() {
            None
        } else {
            Some(Session {
                session_id: session_id.clone(),
                window_id: window_id.clone(),
                started: UnixMs(text::parse_decimal(started)?),
                last_activity: UnixMs(text::parse_decimal(last_activity)?),
            })
        };
        // A loop rather than `chunks_exact`, `map` and `collect`: less code.
        let mut pairs = Vec::with_capacity(groups.len() / 2);
        let mut rest = groups;
        while let [ty, key, more @ ..] = rest {
            pairs.push((ty.clone(), key.clone()));
            rest = more;
        }
        let valid = format == STATE_FORMAT
            && rest.is_empty()
            && !device_id.is_empty()
            && !distinct_id.is_empty();
        valid.then(|| PersistedState {
            device_id: device_id.clone(),
            distinct_id: distinct_id.clone(),
            groups: pairs,
            session,
            opted_out,
        })
    }
}

/// What the browser knows about the page when something is captured.
#[derive(Debug, Clone, Default, PartialEq)]
#[allow(missing_docs)] // Each field is named after the browser API it comes from.
pub struct PageEnv {
    pub location_href: String,
    pub title: Option<String>,
    pub referrer: Option<String>,
    pub screen_width: Option<u32>,
    pub screen_height: Option<u32>,
    pub viewport_width: Option<u32>,
    pub viewport_height: Option<u32>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    pub user_agent: Option<String>,
    /// `navigator.doNotTrack == "1"` (or its vendor variants).
    pub do_not_track: bool,
}

/// The sans-IO PostHog browser client.
///
/// Each `handle_*` call takes the time, the page environment and an entropy
/// source, and returns the events to queue as their JSON text (a
/// `ff_telemetry_wire::posthog::CaptureEvent` with the standard properties,
/// written with serde); nothing comes out while the user opted
/// out (or Do Not Track is on and respected). The caller persists
/// [`Client::encode_persisted`] after each call unless it runs cookieless.
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_wire::posthog::CaptureEvent;
/// use ff_telemetry_browser::posthog::{Client, ClientConfig, NavigationSource, PageEnv};
/// use serde_json::{Map, Value};
/// let mut n = 0u8;
/// let mut rng = move || { n = n.wrapping_add(1); [n; 10] };
/// let mut client = Client::new(ClientConfig::new("phc_k", "ff-telemetry-web", "0.1.0"), None, UnixMs(0), &mut rng);
/// let env = PageEnv { location_href: "https://h/a".into(), ..PageEnv::default() };
/// let out = client.handle_navigation(UnixMs(0), "https://h/a", None, NavigationSource::Router, &env, &mut rng);
/// let view: CaptureEvent<Map<String, Value>> = serde_json::from_str(&out[0]).unwrap();
/// assert_eq!(view.event, "$pageview");
/// assert_eq!(view.properties["distinct_id"], view.properties["$device_id"]);
/// client.handle_opt_out();
/// assert!(client.handle_capture(UnixMs(1), "clicked", &env, &mut rng).is_none());
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    state: PersistedState,
    session: Session,
    pageviews: PageviewTracker,
    /// The last navigation while consent is pending (URL and route template):
    /// its `$pageview` goes out if tracking starts on this page.
    held_page: Option<(String, Option<String>)>,
}

/// What an event adds to the standard properties.
enum Specific<'a> {
    /// Nothing.
    None,
    /// A page event's page properties.
    Page(&'a PageEvent),
    /// `$identify`'s `$anon_distinct_id`.
    Identify(&'a str),
    /// `$groupidentify`'s `$group_type` and `$group_key`.
    Group(&'a str, &'a str),
}

impl Client {
    /// A client starting at `now`, continuing `persisted` state when there is
    /// some (and the config is not cookieless, and consent is granted).
    pub fn new(
        config: ClientConfig,
        persisted: Option<PersistedState>,
        now: UnixMs,
        rng: &mut impl Entropy,
    ) -> Self {
        let persisted = persisted.filter(|_| !is_cookieless(&config));
        let mut state = persisted.unwrap_or_else(|| fresh_identity(now, rng));
        let session = match state.session.take() {
            Some(s) if !s.is_expired(now) => s.with_new_window(now, rng.draw()),
            _ => Session::new(now, rng.draw(), rng.draw()),
        };
        Client {
            config,
            state,
            session,
            pageviews: PageviewTracker::default(),
            held_page: None,
        }
    }

    /// The config this client runs with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Whether events may be captured for a page with `env`'s Do Not Track,
    /// under the consent in force.
    pub fn may_capture(&self, env: &PageEnv) -> bool {
        let dnt_applies = self.config.respect_dnt && env.do_not_track;
        let consented = match self.config.consent {
            Consent::Granted => true,
            Consent::Pending => false,
            Consent::Denied => self.config.consent_denied == ConsentDenied::Cookieless,
        };
        consented && !(self.state.opted_out || dnt_applies)
    }

    /// The user answered the consent banner (`consent` is `Granted` or
    /// `Denied`; `Pending` changes nothing). The identity is new either way, as
    /// posthog-js's `reset` on a consent change makes it: after a grant the
    /// client has a stable id from that moment (the caller persists it from
    /// now on); after a denial it runs cookieless, and the caller forgets what
    /// it stored. Returns the page viewed while consent was pending (its URL
    /// and route template), for the caller to report now as a router
    /// navigation ([`Client::handle_navigation`]): it gets its `$pageview` if
    /// tracking starts.
    pub fn handle_consent(
        &mut self,
        now: UnixMs,
        consent: Consent,
        rng: &mut impl Entropy,
    ) -> Option<(String, Option<String>)> {
        if consent == Consent::Pending || consent == self.config.consent {
            return None;
        }
        self.config.consent = consent;
        self.handle_reset(now, rng);
        self.held_page.take()
    }

    /// A navigation to the absolute `url`, which matched the route `template`
    /// (`/instances/:id`) if the router said: page events carry it as
    /// `route_template`. History-sourced navigations are ignored unless
    /// `capture_pageview` is on.
    pub fn handle_navigation(
        &mut self,
        now: UnixMs,
        url: &str,
        template: Option<&str>,
        source: NavigationSource,
        env: &PageEnv,
        rng: &mut impl Entropy,
    ) -> Vec<String> {
        if source == NavigationSource::History && !self.config.capture_pageview {
            return Vec::new();
        }
        if self.config.consent == Consent::Pending {
            self.held_page = Some((url.to_owned(), template.map(str::to_owned)));
        }
        if !self.may_capture(env) {
            return Vec::new();
        }
        let events = self
            .pageviews
            .handle_navigation(now, url, template, source, rng.draw());
        // A loop rather than `map` and `collect`: less code in the browser build.
        let mut out = Vec::with_capacity(events.len());
        for event in &events {
            out.push(self.event(now, event.kind.name(), Specific::Page(event), env, rng));
        }
        out
    }

    /// The page is going away: the final `$pageleave`, if a page was viewed.
    pub fn handle_page_hide(
        &mut self,
        now: UnixMs,
        env: &PageEnv,
        rng: &mut impl Entropy,
    ) -> Option<String> {
        if !self.may_capture(env) {
            return None;
        }
        let event = self.pageviews.handle_page_hide()?;
        Some(self.event(now, event.kind.name(), Specific::Page(&event), env, rng))
    }

    /// The page came back from the back-forward cache.
    pub fn handle_page_show(&mut self) {
        self.pageviews.handle_page_show();
    }

    /// The reader scrolled.
    pub fn handle_scroll(&mut self, sample: ScrollSample) {
        self.pageviews.handle_scroll(sample);
    }

    /// A custom event (or any event the app names).
    pub fn handle_capture(
        &mut self,
        now: UnixMs,
        name: &str,
        env: &PageEnv,
        rng: &mut impl Entropy,
    ) -> Option<String> {
        if !self.may_capture(env) || name.is_empty() {
            return None;
        }
        Some(self.event(now, name, Specific::None, env, rng))
    }

    /// `identify(distinct_id)`: an `$identify` event linking the anonymous id
    /// when the id changes; when it does not, a `$set` event if the caller has
    /// person properties to attach, else nothing. Nothing for an empty id.
    pub fn handle_identify(
        &mut self,
        now: UnixMs,
        distinct_id: &str,
        has_person_properties: bool,
        env: &PageEnv,
        rng: &mut impl Entropy,
    ) -> Option<String> {
        if !self.may_capture(env) || distinct_id.is_empty() {
            return None;
        }
        if distinct_id == self.state.distinct_id {
            return has_person_properties
                .then(|| self.event(now, "$set", Specific::None, env, rng));
        }
        let previous = std::mem::replace(&mut self.state.distinct_id, distinct_id.to_owned());
        let anon = Specific::Identify(&previous);
        Some(self.event(now, "$identify", anon, env, rng))
    }

    /// `group(type, key)`: later events carry `$groups`; a `$groupidentify`
    /// event records the group (the caller attaches `$group_set`).
    pub fn handle_group(
        &mut self,
        now: UnixMs,
        group_type: &str,
        group_key: &str,
        env: &PageEnv,
        rng: &mut impl Entropy,
    ) -> Option<String> {
        if !self.may_capture(env) || group_type.is_empty() || group_key.is_empty() {
            return None;
        }
        let groups = &mut self.state.groups;
        match groups.iter_mut().find(|(ty, _)| ty == group_type) {
            Some((_, key)) => *key = group_key.to_owned(),
            None => groups.push((group_type.to_owned(), group_key.to_owned())),
        }
        let group = Specific::Group(group_type, group_key);
        Some(self.event(now, "$groupidentify", group, env, rng))
    }

    /// `reset()` on logout: a new anonymous identity and session, no groups.
    /// The opt-out choice stays.
    pub fn handle_reset(&mut self, now: UnixMs, rng: &mut impl Entropy) {
        let opted_out = self.state.opted_out;
        self.state = fresh_identity(now, rng);
        self.state.opted_out = opted_out;
        self.session = Session::new(now, rng.draw(), rng.draw());
    }

    /// The user opts out: nothing is captured until [`Client::handle_opt_in`].
    pub fn handle_opt_out(&mut self) {
        self.state.opted_out = true;
    }

    /// The user opts back in.
    pub fn handle_opt_in(&mut self) {
        self.state.opted_out = false;
    }

    /// Whether the user opted out.
    pub fn has_opted_out(&self) -> bool {
        self.state.opted_out
    }

    /// [`Client::persisted`] encoded (see [`PersistedState::encode`]), without
    /// copying the state first.
    pub fn encode_persisted(&self) -> String {
        self.state.encode_with(Some(&self.session))
    }

    /// The state to persist (with the current session).
    pub fn persisted(&self) -> PersistedState {
        PersistedState {
            session: Some(self.session.clone()),
            ..self.state.clone()
        }
    }

    /// The JSON text of event `name`: the standard properties from the
    /// client's state and `env`, and what is `specific` to the event.
    fn event(
        &mut self,
        now: UnixMs,
        name: &str,
        specific: Specific<'_>,
        env: &PageEnv,
        rng: &mut impl Entropy,
    ) -> String {
        self.session.handle_activity(now, rng);
        let page_event = match specific {
            Specific::Page(event) => Some(event),
            _ => None,
        };
        let location;
        let url = match page_event {
            Some(event) => event.page.url(),
            None => {
                location = sanitize_url(&env.location_href);
                &location
            }
        };
        let referrer = env
            .referrer
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(sanitize_url);
        let referring_domain = referrer.as_deref().map_or(DIRECT, |r| url_parts(r).host);
        let page = url_parts(url);
        let mut props = Properties::default();
        props
            .str("token", &self.config.token)
            .str("distinct_id", &self.state.distinct_id)
            .str("$lib", self.config.lib)
            .str("$lib_version", self.config.lib_version);
        if !is_cookieless(&self.config) {
            props.str("$device_id", &self.state.device_id);
        }
        props
            .str("$session_id", self.session.session_id())
            .str("$window_id", self.session.window_id())
            .str("$current_url", url)
            .str("$host", page.host)
            .str("$pathname", page.pathname)
            .str("$referrer", referrer.as_deref().unwrap_or(DIRECT))
            .str("$referring_domain", referring_domain)
            .opt_number("$screen_width", env.screen_width.map(f64::from))
            .opt_number("$screen_height", env.screen_height.map(f64::from))
            .opt_number("$viewport_width", env.viewport_width.map(f64::from))
            .opt_number("$viewport_height", env.viewport_height.map(f64::from))
            .opt_str("$browser_language", env.language.as_deref())
            .opt_str("$timezone", env.timezone.as_deref());
        if let Some(ua) = &env.user_agent {
            let (browser, os, device) = describe_user_agent(ua);
            props
                .str("$raw_user_agent", ua)
                .str("$browser", browser)
                .str("$os", os)
                .str("$device_type", device);
        }
        let pageview_id = match page_event {
            Some(event) => Some(event.page.pageview_id()),
            None => self.pageviews.current().map(Page::pageview_id),
        };
        props.opt_str("$pageview_id", pageview_id);
        match specific {
            Specific::None => {}
            Specific::Page(event) => page_properties(&mut props, now, event, env),
            Specific::Identify(anon) => {
                props.str("$anon_distinct_id", anon);
            }
            Specific::Group(ty, key) => {
                props.str("$group_type", ty).str("$group_key", key);
            }
        }
        if !self.state.groups.is_empty() {
            let groups = self.state.groups.iter();
            let groups = groups.map(|(ty, key)| (ty.clone(), Value::from(key.as_str())));
            props
                .0
                .push(("$groups".to_owned(), Value::Object(groups.collect())));
        }
        to_json(&CaptureEvent {
            event: name.to_owned(),
            uuid: Some(hyphenated(&uuid_v7(now, rng.draw()))),
            timestamp: Some(now.to_rfc3339()),
            distinct_id: None,
            api_key: None,
            properties: Value::Object(props.0),
        })
    }
}

/// Whether the client keeps no stable id: cookieless by config, or until
/// consent is granted.
fn is_cookieless(config: &ClientConfig) -> bool {
    config.cookieless || config.consent != Consent::Granted
}

/// `$referrer` and `$referring_domain` when there is no referrer.
const DIRECT: &str = "$direct";

/// `title`, `to`/`from` and the `$prev_pageview_*` fields of a page event.
fn page_properties(props: &mut Properties, now: UnixMs, event: &PageEvent, env: &PageEnv) {
    let is_view = event.kind == PageEventKind::Pageview;
    if is_view {
        props.opt_str("title", env.title.as_deref());
    }
    // Not a `$` name: posthog-js has no property for it.
    props.opt_str("route_template", event.page.template());
    if let Some(other) = &event.other {
        // FlowFuse's shape: where the user went, or came from (path, query, hash).
        let other_path = url_parts(other.url()).path_and_more;
        props.str(if is_view { "from" } else { "to" }, other_path);
    }
    let Some(previous) = event.previous() else {
        return;
    };
    props
        .str("$prev_pageview_id", previous.pageview_id())
        .str(
            "$prev_pageview_pathname",
            url_parts(previous.url()).pathname,
        )
        // Seconds, to the millisecond `UnixMs` has.
        .number(
            "$prev_pageview_duration",
            previous.viewed_ms(now) as f64 / 1000.0,
        );
    if let Some(depth) = previous.scroll_depth() {
        props
            .number("$prev_pageview_last_scroll", depth.last_px.into())
            .number(
                "$prev_pageview_last_scroll_percentage",
                thousandths(depth.last_fraction),
            )
            .number("$prev_pageview_max_scroll", depth.max_px.into())
            .number(
                "$prev_pageview_max_scroll_percentage",
                thousandths(depth.max_fraction),
            );
    }
}

/// A fraction from 0 to 1, rounded to three decimals (`0.75`).
fn thousandths(fraction: f64) -> f64 {
    ((fraction * 1000.0 + 0.5) as u64) as f64 / 1000.0
}

/// An event's properties in the order they are added.
#[derive(Default)]
struct Properties(Vec<(String, Value)>);

impl Properties {
    fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.0.push((key.to_owned(), Value::from(value)));
        self
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.str(key, value);
        }
        self
    }

    fn number(&mut self, key: &str, value: f64) -> &mut Self {
        self.0.push((key.to_owned(), Value::Number(value)));
        self
    }

    fn opt_number(&mut self, key: &str, value: Option<f64>) -> &mut Self {
        if let Some(value) = value {
            self.number(key, value);
        }
        self
    }
}

/// The JSON text of plain data, which always serialises.
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| unreachable!("plain data serialises"))
}

fn fresh_identity(now: UnixMs, rng: &mut impl Entropy) -> PersistedState {
    let device_id = hyphenated(&uuid_v7(now, rng.draw()));
    PersistedState {
        distinct_id: device_id.clone(),
        device_id,
        groups: Vec::new(),
        session: None,
        opted_out: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posthog::NavigationSource::{History, Router};
    use ff_telemetry_wire::posthog::{BatchBody, CaptureEvent, raw_batch_body};
    use serde_json::{Map, Value, json};

    type Event = CaptureEvent<Map<String, Value>>;

    /// An event as the collector reads it.
    fn parse(json: &str) -> Event {
        serde_json::from_str(json).unwrap()
    }

    fn counter() -> impl FnMut() -> [u8; 10] {
        let mut n = 0u8;
        move || {
            n = n.wrapping_add(1);
            [n; 10]
        }
    }

    fn env(href: &str) -> PageEnv {
        PageEnv {
            location_href: href.to_owned(),
            title: Some("Page".into()),
            referrer: Some("https://ref.example/x?email=a@b.co".into()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36".into()),
            ..PageEnv::default()
        }
    }

    fn client(config: ClientConfig) -> (Client, impl FnMut() -> [u8; 10]) {
        let mut rng = counter();
        (Client::new(config, None, UnixMs(0), &mut rng), rng)
    }

    fn config() -> ClientConfig {
        ClientConfig::new("phc_k", "ff-telemetry-web", "0.1.0")
    }

    #[test]
    fn capture_pageview_off_ignores_history_but_not_the_router() {
        let (mut c, mut rng) = client(ClientConfig {
            capture_pageview: false,
            ..config()
        });
        let e = env("https://h/a");
        assert!(
            c.handle_navigation(UnixMs(1), "https://h/a", None, History, &e, &mut rng)
                .is_empty()
        );
        assert_eq!(
            c.handle_page_hide(UnixMs(2), &e, &mut rng),
            None,
            "no $pageleave when nothing was viewed"
        );
        let out = c.handle_navigation(UnixMs(3), "https://h/a", None, Router, &e, &mut rng);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn events_carry_identity_session_and_page_properties() {
        let (mut c, mut rng) = client(config());
        let e = PageEnv {
            screen_width: Some(1920),
            screen_height: Some(1080),
            viewport_width: Some(800),
            viewport_height: Some(600),
            language: Some("en-GB".into()),
            timezone: Some("Europe/London".into()),
            ..env("https://h:8080/a?token=x")
        };
        let out = c.handle_navigation(
            UnixMs(5),
            "https://h:8080/a?token=x",
            None,
            History,
            &e,
            &mut rng,
        );
        let view = parse(&out[0]);
        let p = &view.properties;
        let state = c.persisted();
        let session = state.session.as_ref().unwrap();
        let expected = json!({
            "token": "phc_k",
            "distinct_id": state.distinct_id,
            "$device_id": state.device_id,
            "$lib": "ff-telemetry-web",
            "$lib_version": "0.1.0",
            "$session_id": session.session_id(),
            "$window_id": session.window_id(),
            "$current_url": "https://h:8080/a?token=<masked>",
            "$host": "h:8080",
            "$pathname": "/a",
            "$referrer": "https://ref.example/x?email=<masked>",
            "$referring_domain": "ref.example",
            "$screen_width": 1920,
            "$screen_height": 1080,
            "$viewport_width": 800,
            "$viewport_height": 600,
            "$browser_language": "en-GB",
            "$timezone": "Europe/London",
            "$raw_user_agent": e.user_agent,
            "$browser": "Chrome",
            "$os": "Linux",
            "$device_type": "Desktop",
            "title": "Page",
            "$pageview_id": p["$pageview_id"],
        });
        assert_eq!(Value::Object(p.clone()), expected);
        assert_eq!(p["$pageview_id"].as_str().map(str::len), Some(36));
        assert_eq!(view.uuid.as_deref().map(str::len), Some(36));
        assert_eq!(view.timestamp.as_deref(), Some("1970-01-01T00:00:00.005Z"));
        let custom = parse(
            &c.handle_capture(UnixMs(6), "clicked", &e, &mut rng)
                .unwrap(),
        );
        assert_eq!(custom.event, "clicked");
        assert_eq!(
            custom.properties["$pageview_id"], p["$pageview_id"],
            "custom events name their page"
        );
        assert_eq!(custom.properties["$current_url"], p["$current_url"]);
        assert!(
            custom.properties.get("title").is_none(),
            "title is for pageviews"
        );
        assert_ne!(custom.uuid, view.uuid);
    }

    #[test]
    fn without_referrer_or_user_agent() {
        let (mut c, mut rng) = client(config());
        let e = PageEnv {
            location_href: "https://h/a".into(),
            referrer: Some(String::new()),
            ..PageEnv::default()
        };
        let p = parse(&c.handle_capture(UnixMs(1), "x", &e, &mut rng).unwrap()).properties;
        assert_eq!(p["$referrer"], "$direct");
        assert_eq!(p["$referring_domain"], "$direct");
        for absent in [
            "$browser",
            "$raw_user_agent",
            "$screen_width",
            "$pageview_id",
            "$groups",
        ] {
            assert!(p.get(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn opt_out_and_dnt_silence_everything() {
        let (mut c, mut rng) = client(ClientConfig {
            respect_dnt: true,
            ..config()
        });
        let dnt = PageEnv {
            do_not_track: true,
            ..env("https://h/a")
        };
        assert!(c.handle_capture(UnixMs(1), "x", &dnt, &mut rng).is_none());
        let e = env("https://h/a");
        c.handle_opt_out();
        assert!(
            c.handle_navigation(UnixMs(1), "https://h/a", None, Router, &e, &mut rng)
                .is_empty()
        );
        assert!(
            c.handle_identify(UnixMs(1), "u1", false, &e, &mut rng)
                .is_none()
        );
        assert!(c.persisted().opted_out);
        c.handle_opt_in();
        assert!(c.handle_capture(UnixMs(2), "x", &e, &mut rng).is_some());
    }

    #[test]
    fn identify_links_the_anonymous_id_and_reset_forgets_it() {
        let (mut c, mut rng) = client(config());
        let e = env("https://h/a");
        let anon = c.persisted().distinct_id;
        assert_eq!(anon, c.persisted().device_id);
        let ident = parse(
            &c.handle_identify(UnixMs(1), "user-1", false, &e, &mut rng)
                .unwrap(),
        );
        assert_eq!(ident.event, "$identify");
        assert_eq!(ident.properties["distinct_id"], "user-1");
        assert_eq!(ident.properties["$anon_distinct_id"], anon.as_str());
        assert_eq!(ident.properties["$device_id"], anon.as_str());
        let set = c.handle_identify(UnixMs(2), "user-1", true, &e, &mut rng);
        assert_eq!(parse(&set.unwrap()).event, "$set");
        assert_eq!(
            c.handle_identify(UnixMs(2), "user-1", false, &e, &mut rng),
            None
        );
        let group = parse(
            &c.handle_group(UnixMs(3), "team", "t1", &e, &mut rng)
                .unwrap(),
        );
        assert_eq!(group.event, "$groupidentify");
        assert_eq!(
            (
                &group.properties["$group_type"],
                &group.properties["$group_key"]
            ),
            (&json!("team"), &json!("t1"))
        );
        c.handle_group(UnixMs(3), "org", "o1", &e, &mut rng);
        c.handle_group(UnixMs(3), "team", "t2", &e, &mut rng);
        let later = parse(&c.handle_capture(UnixMs(4), "x", &e, &mut rng).unwrap());
        assert_eq!(
            later.properties["$groups"],
            json!({"team": "t2", "org": "o1"})
        );
        assert!(later.properties.get("$anon_distinct_id").is_none());
        c.handle_reset(UnixMs(5), &mut rng);
        let after = c.persisted();
        assert_ne!(after.distinct_id, "user-1");
        assert_ne!(after.device_id, anon);
        assert!(after.groups.is_empty());
    }

    #[test]
    fn persisted_state_continues_identity_and_session() {
        let (c, mut rng) = client(config());
        let saved = c.persisted();
        let next = Client::new(config(), Some(saved.clone()), UnixMs(60_000), &mut rng);
        let again = next.persisted();
        assert_eq!(again.device_id, saved.device_id);
        assert_eq!(
            again.session.as_ref().map(Session::session_id),
            saved.session.as_ref().map(Session::session_id)
        );
        let cookieless = Client::new(
            ClientConfig {
                cookieless: true,
                ..config()
            },
            Some(saved.clone()),
            UnixMs(60_000),
            &mut rng,
        );
        assert_ne!(cookieless.persisted().device_id, saved.device_id);
    }

    #[test]
    fn cookieless_events_have_no_device_id() {
        let (mut c, mut rng) = client(ClientConfig {
            cookieless: true,
            ..config()
        });
        let e = env("https://h/a");
        let p = parse(&c.handle_capture(UnixMs(1), "x", &e, &mut rng).unwrap()).properties;
        assert!(p.get("$device_id").is_none());
        assert!(p.contains_key("distinct_id"));
    }

    fn pending(denied: ConsentDenied) -> ClientConfig {
        ClientConfig {
            consent: Consent::Pending,
            consent_denied: denied,
            ..config()
        }
    }

    #[test]
    fn while_consent_is_pending_nothing_is_captured_and_stored_state_is_not_used() {
        let (_, mut rng) = client(config());
        let stored = Client::new(config(), None, UnixMs(0), &mut rng).persisted();
        let mut c = Client::new(
            pending(ConsentDenied::Cookieless),
            Some(stored.clone()),
            UnixMs(0),
            &mut rng,
        );
        assert_ne!(c.persisted().device_id, stored.device_id, "no stable id");
        let e = env("https://h/a");
        assert!(
            c.handle_navigation(UnixMs(1), "https://h/a", None, Router, &e, &mut rng)
                .is_empty()
        );
        assert_eq!(c.handle_capture(UnixMs(2), "x", &e, &mut rng), None);
        assert_eq!(c.handle_identify(UnixMs(3), "u", false, &e, &mut rng), None);
        assert_eq!(c.handle_page_hide(UnixMs(4), &e, &mut rng), None);
        assert_eq!(
            c.handle_consent(UnixMs(5), Consent::Pending, &mut rng),
            None
        );
    }

    #[test]
    fn a_grant_tracks_from_that_moment_starting_with_the_page_being_viewed() {
        let (_, mut rng) = client(config());
        let mut c = Client::new(
            pending(ConsentDenied::Cookieless),
            None,
            UnixMs(0),
            &mut rng,
        );
        let e = env("https://h/i/1");
        let template = Some("/i/:id");
        c.handle_navigation(UnixMs(1), "https://h/i/0", None, Router, &e, &mut rng);
        c.handle_navigation(UnixMs(2), "https://h/i/1", template, Router, &e, &mut rng);
        let pending_id = c.persisted().distinct_id;
        let (url, template) = c
            .handle_consent(UnixMs(3), Consent::Granted, &mut rng)
            .unwrap();
        let template = template.as_deref();
        let out = c.handle_navigation(UnixMs(3), &url, template, Router, &e, &mut rng);
        assert_eq!(out.len(), 1, "one $pageview, for the page viewed now");
        let view = parse(&out[0]);
        assert_eq!(view.event, "$pageview");
        assert_eq!(view.properties["$current_url"], "https://h/i/1");
        assert_eq!(view.properties["route_template"], "/i/:id");
        assert_eq!(
            view.properties["$device_id"],
            view.properties["distinct_id"]
        );
        assert_ne!(
            view.properties["distinct_id"],
            pending_id.as_str(),
            "a new id"
        );
        assert!(c.handle_capture(UnixMs(4), "x", &e, &mut rng).is_some());
        assert_eq!(
            c.handle_consent(UnixMs(5), Consent::Granted, &mut rng),
            None
        );
    }

    #[test]
    fn a_denial_leaves_cookieless_tracking_or_none_as_configured() {
        let e = env("https://h/a");
        for (denied, n_events) in [(ConsentDenied::Cookieless, 1), (ConsentDenied::Nothing, 0)] {
            let (_, mut rng) = client(config());
            let mut c = Client::new(pending(denied), None, UnixMs(0), &mut rng);
            c.handle_navigation(UnixMs(1), "https://h/a", None, Router, &e, &mut rng);
            let (url, _) = c
                .handle_consent(UnixMs(2), Consent::Denied, &mut rng)
                .unwrap();
            let out = c.handle_navigation(UnixMs(2), &url, None, Router, &e, &mut rng);
            assert_eq!(out.len(), n_events, "{denied:?}");
            for event in out
                .iter()
                .chain(&c.handle_capture(UnixMs(3), "x", &e, &mut rng))
            {
                let p = parse(event).properties;
                assert!(p.get("$device_id").is_none(), "cookieless: {p:?}");
            }
        }
    }

    #[test]
    fn denying_after_a_grant_drops_the_stable_id() {
        let (mut c, mut rng) = client(config());
        let e = env("https://h/a");
        let before = c.persisted().distinct_id;
        assert_eq!(c.handle_consent(UnixMs(1), Consent::Denied, &mut rng), None);
        let p = parse(&c.handle_capture(UnixMs(2), "x", &e, &mut rng).unwrap()).properties;
        assert_ne!(p["distinct_id"], before.as_str());
        assert!(p.get("$device_id").is_none());
    }

    #[test]
    fn page_events_carry_the_route_template_beside_the_real_url() {
        let (mut c, mut rng) = client(config());
        let e = env("https://h/a");
        let template = Some("/instances/:id");
        let out = c.handle_navigation(
            UnixMs(1),
            "https://h/instances/line-1",
            template,
            Router,
            &e,
            &mut rng,
        );
        let view = parse(&out[0]).properties;
        assert_eq!(view["$current_url"], "https://h/instances/line-1");
        assert_eq!(view["$pathname"], "/instances/line-1");
        assert_eq!(view["route_template"], "/instances/:id");
        let out = c.handle_navigation(UnixMs(2), "https://h/about", None, Router, &e, &mut rng);
        let (leave, view) = (parse(&out[0]).properties, parse(&out[1]).properties);
        assert_eq!(leave["route_template"], "/instances/:id", "the page left");
        assert!(view.get("route_template").is_none(), "{view:?}");
    }

    #[test]
    fn batch_serialises_in_posthog_shape() {
        let (mut c, mut rng) = client(config());
        let e = env("https://h/a");
        let mut batch =
            c.handle_navigation(UnixMs(1_000), "https://h/a", None, Router, &e, &mut rng);
        c.handle_scroll(ScrollSample {
            viewport_bottom: 1_500.0,
            content_height: 2_000.0,
        });
        batch.extend(c.handle_navigation(
            UnixMs(3_000),
            "https://h/b#x",
            None,
            Router,
            &e,
            &mut rng,
        ));
        batch.extend(c.handle_page_hide(UnixMs(3_250), &e, &mut rng));
        let body = raw_batch_body("phc_k", UnixMs(3_001), &batch);
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["api_key"], "phc_k");
        assert_eq!(json["sent_at"], "1970-01-01T00:00:03.001Z");
        let events = json["batch"].as_array().unwrap();
        let names: Vec<_> = events
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["$pageview", "$pageleave", "$pageview", "$pageleave"]
        );
        let [first, leave, view, last] = [0, 1, 2, 3].map(|i| &events[i]["properties"]);
        assert_eq!(leave["$current_url"], "https://h/a");
        assert_eq!(leave["$pathname"], "/a");
        assert_eq!(leave["to"], "/b#x");
        assert_eq!(leave["$prev_pageview_id"], first["$pageview_id"]);
        assert_eq!(
            leave["$pageview_id"], first["$pageview_id"],
            "the page left"
        );
        assert_eq!(leave["$prev_pageview_pathname"], "/a");
        assert_eq!(leave["$prev_pageview_duration"], 2.0);
        assert_eq!(leave["$prev_pageview_last_scroll"], 1_500);
        assert_eq!(leave["$prev_pageview_max_scroll"], 1_500);
        assert_eq!(leave["$prev_pageview_last_scroll_percentage"], 0.75);
        assert_eq!(leave["$prev_pageview_max_scroll_percentage"], 0.75);
        assert!(leave.get("title").is_none(), "title is for pageviews");
        assert_eq!(view["from"], "/a");
        assert_eq!(view["$current_url"], "https://h/b#x");
        assert_eq!(view["title"], "Page");
        assert_eq!(view["$prev_pageview_id"], first["$pageview_id"]);
        assert_eq!(view["$prev_pageview_duration"], 2.0);
        assert_ne!(view["$pageview_id"], first["$pageview_id"]);
        assert_eq!(last["$prev_pageview_id"], view["$pageview_id"]);
        assert_eq!(last["$prev_pageview_duration"], 0.25);
        assert!(
            last.get("to").is_none(),
            "the final $pageleave goes nowhere"
        );
        assert!(last.get("$prev_pageview_last_scroll").is_none());
        for absent in ["to", "from", "$prev_pageview_id"] {
            assert!(
                first.get(absent).is_none(),
                "{absent}: absent fields are left out"
            );
        }
        // The collector's types read the same batch.
        let typed: BatchBody<Map<String, Value>> = serde_json::from_str(&body).unwrap();
        assert_eq!(typed.batch.len(), 4);
        assert!(typed.batch.iter().all(|e| e.uuid.is_some()));
    }

    #[test]
    fn scroll_fractions_have_three_decimals() {
        for (fraction, want) in [(0.0, "0"), (1.0 / 3.0, "0.333"), (0.9996, "1"), (1.0, "1")] {
            assert_eq!(
                to_json(&ff_telemetry_wire::Value::Number(thousandths(fraction))),
                want
            );
        }
    }

    #[test]
    fn odd_characters_are_escaped() {
        let (mut c, mut rng) = client(config());
        let e = PageEnv {
            title: Some("quote \" backslash \\ newline \n é".into()),
            ..env("https://h/a")
        };
        c.handle_identify(UnixMs(1), "user \"1\"\n", false, &e, &mut rng);
        c.handle_group(UnixMs(1), "te\"am", "k\\1", &e, &mut rng);
        let view = c.handle_navigation(UnixMs(2), "https://h/a", None, Router, &e, &mut rng);
        let p = parse(&view[0]).properties;
        assert_eq!(p["title"], "quote \" backslash \\ newline \n é");
        assert_eq!(p["distinct_id"], "user \"1\"\n");
        assert_eq!(p["$groups"], json!({"te\"am": "k\\1"}));
    }

    /// What the browser does with stored state: `JSON.parse`, then the strings.
    fn decode(text: &str) -> Option<PersistedState> {
        let fields: Vec<String> = serde_json::from_str(text).ok()?;
        PersistedState::from_fields(&fields)
    }

    #[test]
    fn persisted_state_round_trips_with_session_and_odd_characters() {
        let (mut c, mut rng) = client(config());
        let e = env("https://h/a");
        c.handle_identify(UnixMs(1), "user\n%0A\t\"1\"\\é", false, &e, &mut rng);
        c.handle_group(UnixMs(2), "team\t", "%key\n", &e, &mut rng);
        c.handle_group(UnixMs(2), "org", "", &e, &mut rng);
        c.handle_group(UnixMs(2), "org", "o", &e, &mut rng);
        c.handle_opt_out();
        let state = c.persisted();
        assert_eq!(c.encode_persisted(), state.encode());
        assert!(state.session.is_some());
        assert_eq!(state.groups.len(), 2);
        assert_eq!(decode(&state.encode()), Some(state.clone()));
        let no_session = PersistedState {
            session: None,
            ..state
        };
        assert_eq!(decode(&no_session.encode()), Some(no_session));
        let good = r#""ff-telemetry-state 2","d","u","0","s","w","1","2""#;
        assert!(decode(&format!("[{good}]")).is_some());
        assert!(decode(&format!(r#"[{good},"team","t"]"#)).is_some());
        for bad in [
            "[]".to_owned(),
            format!(r#"[{good},"team"]"#),
            r#"["ff-telemetry-state 1","d","u","0","s","w","1","2"]"#.to_owned(),
            r#"["ff-telemetry-state 2","d","u","maybe","s","w","1","2"]"#.to_owned(),
            r#"["ff-telemetry-state 2","d","u","0","s","w","one","2"]"#.to_owned(),
            r#"["ff-telemetry-state 2","","u","0","","","",""]"#.to_owned(),
        ] {
            assert_eq!(decode(&bad), None, "{bad}");
        }
    }
}
