//! The browser PostHog client's decisions: identity, consent, sessions and page
//! events, turned into ready-to-send [`CaptureEvent`]s.

use super::event::CaptureEvent;
use super::pageview::{NavigationSource, PageEvent, PageviewTracker, ScrollSample};
use super::properties::{EventProperties, describe_user_agent, url_parts};
use super::session::Session;
use super::url::sanitize_url;
use crate::text;
use crate::uuid7::hyphenated;
use crate::{UnixMs, uuid_v7};

/// A source of random bytes, drawn by the caller (`crypto.getRandomValues` in
/// the browser, a counter in tests).
pub trait Entropy {
    /// Ten fresh random bytes (the random part of a UUIDv7).
    fn draw(&mut self) -> [u8; 10];
}

impl<F: FnMut() -> [u8; 10]> Entropy for F {
    fn draw(&mut self) -> [u8; 10] {
        self()
    }
}

/// How the client behaves, fixed at start.
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
    /// `$lib`.
    pub lib: String,
    /// `$lib_version`.
    pub lib_version: String,
}

impl ClientConfig {
    /// Defaults for `token`: automatic pageviews on, DNT ignored (as posthog-js),
    /// stable ids.
    pub fn new(token: &str, lib: &str, lib_version: &str) -> Self {
        ClientConfig {
            token: token.to_owned(),
            capture_pageview: true,
            respect_dnt: false,
            cookieless: false,
            lib: lib.to_owned(),
            lib_version: lib_version.to_owned(),
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

/// First line of [`PersistedState::encode`]'s format.
const STATE_FORMAT: &str = "ff-telemetry-state 1";

impl PersistedState {
    /// A line-based text for `localStorage` (no JSON parser needed in the
    /// browser build): format tag, device id, distinct id, opt-out, session,
    /// then one `type<TAB>key` line per group, each field escaped.
    ///
    /// ```
    /// use ff_telemetry_core::posthog::PersistedState;
    /// let state = PersistedState {
    ///     device_id: "d".into(), distinct_id: "user\n1".into(),
    ///     groups: vec![("team".into(), "t\t1".into())], session: None, opted_out: true,
    /// };
    /// assert_eq!(PersistedState::decode(&state.encode()), Some(state));
    /// assert_eq!(PersistedState::decode("garbage"), None);
    /// ```
    pub fn encode(&self) -> String {
        self.encode_with(self.session.as_ref())
    }

    /// [`PersistedState::encode`] with `session` in place of the stored one:
    /// the client encodes its state without a copy of it.
    fn encode_with(&self, session: Option<&Session>) -> String {
        // Written into one string rather than joined from a line each: less code.
        let mut out = String::from(STATE_FORMAT);
        for id in [&self.device_id, &self.distinct_id] {
            out.push('\n');
            push_escaped(&mut out, id);
        }
        out.push_str(if self.opted_out { "\n1\n" } else { "\n0\n" });
        match session {
            Some(session) => out.push_str(&session.encode()),
            None => out.push('-'),
        }
        for (ty, key) in &self.groups {
            out.push('\n');
            push_escaped(&mut out, ty);
            out.push('\t');
            push_escaped(&mut out, key);
        }
        out
    }

    /// The inverse of [`PersistedState::encode`]; `None` for anything else.
    pub fn decode(text: &str) -> Option<PersistedState> {
        let mut lines = text::split_ascii(text, b'\n');
        if lines.next()? != STATE_FORMAT {
            return None;
        }
        let device_id = unescape(lines.next()?);
        let distinct_id = unescape(lines.next()?);
        let opted_out = match lines.next()? {
            "1" => true,
            "0" => false,
            _ => return None,
        };
        let session = match lines.next()? {
            "-" => None,
            s => Some(Session::decode(s)?),
        };
        // A loop rather than collecting `Option`s: less code in the browser build.
        let mut groups = Vec::new();
        for line in lines {
            let (ty, key) = text::split_once(line, "\t")?;
            groups.push((unescape(ty), unescape(key)));
        }
        (!device_id.is_empty() && !distinct_id.is_empty()).then_some(PersistedState {
            device_id,
            distinct_id,
            groups,
            session,
            opted_out,
        })
    }
}

/// What [`push_escaped`] replaces in stored state, and by what; [`unescape`]
/// undoes it. The escapes start with `%` and have no other `%`, so none can
/// overlap another: one pass each way is enough.
const ESCAPES: [(char, &str); 4] = [('%', "%25"), ('\n', "%0A"), ('\t', "%09"), ('\r', "%0D")];

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match ESCAPES.iter().find(|(raw, _)| *raw == c) {
            Some((_, escape)) => out.push_str(escape),
            None => out.push(c),
        }
    }
}

fn unescape(s: &str) -> String {
    let mut unescaped = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let (raw, n_bytes) = ESCAPES
            .iter()
            .find(|(_, escape)| rest.starts_with(escape))
            .map_or((c, c.len_utf8()), |(raw, escape)| (*raw, escape.len()));
        unescaped.push(raw);
        rest = rest.get(n_bytes..).unwrap_or_default();
    }
    unescaped
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
/// source, and returns the events to queue; nothing comes out while the user
/// opted out (or Do Not Track is on and respected). The caller persists
/// [`Client::persisted`] after each call unless it runs cookieless.
///
/// ```
/// use ff_telemetry_core::UnixMs;
/// use ff_telemetry_core::posthog::{Client, ClientConfig, NavigationSource, PageEnv};
/// let mut n = 0u8;
/// let mut rng = move || { n = n.wrapping_add(1); [n; 10] };
/// let mut client = Client::new(ClientConfig::new("phc_k", "ff-telemetry-web", "0.1.0"), None, UnixMs(0), &mut rng);
/// let env = PageEnv { location_href: "https://h/a".into(), ..PageEnv::default() };
/// let out = client.handle_navigation(UnixMs(0), "https://h/a", NavigationSource::Router, &env, &mut rng);
/// assert_eq!(out[0].event, "$pageview");
/// assert_eq!(out[0].properties.distinct_id, out[0].properties.device_id.clone().unwrap());
/// client.handle_opt_out();
/// assert!(client.handle_capture(UnixMs(1), "clicked", &env, &mut rng).is_none());
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    state: PersistedState,
    session: Session,
    pageviews: PageviewTracker,
}

impl Client {
    /// A client starting at `now`, continuing `persisted` state when there is
    /// some (and the config is not cookieless).
    pub fn new(
        config: ClientConfig,
        persisted: Option<PersistedState>,
        now: UnixMs,
        rng: &mut impl Entropy,
    ) -> Self {
        let persisted = persisted.filter(|_| !config.cookieless);
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
        }
    }

    /// The config this client runs with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Whether events may be captured for a page with `env`'s Do Not Track.
    pub fn may_capture(&self, env: &PageEnv) -> bool {
        let dnt_applies = self.config.respect_dnt && env.do_not_track;
        !(self.state.opted_out || dnt_applies)
    }

    /// A navigation to the absolute `url`. History-sourced navigations are
    /// ignored unless `capture_pageview` is on.
    pub fn handle_navigation(
        &mut self,
        now: UnixMs,
        url: &str,
        source: NavigationSource,
        env: &PageEnv,
        rng: &mut impl Entropy,
    ) -> Vec<CaptureEvent<EventProperties>> {
        if !self.may_capture(env)
            || (source == NavigationSource::History && !self.config.capture_pageview)
        {
            return Vec::new();
        }
        let events = self
            .pageviews
            .handle_navigation(now, url, source, rng.draw());
        // A loop rather than `map` and `collect`: less code in the browser build.
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            out.push(self.page_event(now, event, env, rng));
        }
        out
    }

    /// The page is going away: the final `$pageleave`, if a page was viewed.
    pub fn handle_page_hide(
        &mut self,
        now: UnixMs,
        env: &PageEnv,
        rng: &mut impl Entropy,
    ) -> Option<CaptureEvent<EventProperties>> {
        if !self.may_capture(env) {
            return None;
        }
        let event = self.pageviews.handle_page_hide(now)?;
        Some(self.page_event(now, event, env, rng))
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
    ) -> Option<CaptureEvent<EventProperties>> {
        if !self.may_capture(env) || name.is_empty() {
            return None;
        }
        Some(self.event(now, name, EventProperties::empty(), env, rng))
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
    ) -> Option<CaptureEvent<EventProperties>> {
        if !self.may_capture(env) || distinct_id.is_empty() {
            return None;
        }
        if distinct_id == self.state.distinct_id {
            return has_person_properties
                .then(|| self.event(now, "$set", EventProperties::empty(), env, rng));
        }
        let previous = std::mem::replace(&mut self.state.distinct_id, distinct_id.to_owned());
        let mut props = EventProperties::empty();
        props.anon_distinct_id = Some(previous);
        Some(self.event(now, "$identify", props, env, rng))
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
    ) -> Option<CaptureEvent<EventProperties>> {
        if !self.may_capture(env) || group_type.is_empty() || group_key.is_empty() {
            return None;
        }
        let groups = &mut self.state.groups;
        match groups.iter_mut().find(|(ty, _)| ty == group_type) {
            Some((_, key)) => *key = group_key.to_owned(),
            None => groups.push((group_type.to_owned(), group_key.to_owned())),
        }
        let mut props = EventProperties::empty();
        props.group_type = Some(group_type.to_owned());
        props.group_key = Some(group_key.to_owned());
        Some(self.event(now, "$groupidentify", props, env, rng))
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

    fn page_event(
        &mut self,
        now: UnixMs,
        event: PageEvent,
        env: &PageEnv,
        rng: &mut impl Entropy,
    ) -> CaptureEvent<EventProperties> {
        let mut props = event.properties;
        if event.kind == super::pageview::PageEventKind::Pageview {
            props.title = env.title.clone();
        }
        self.event(now, event.kind.name(), props, env, rng)
    }

    /// Fills the standard properties around the event-specific `props`.
    fn event(
        &mut self,
        now: UnixMs,
        name: &str,
        mut props: EventProperties,
        env: &PageEnv,
        rng: &mut impl Entropy,
    ) -> CaptureEvent<EventProperties> {
        self.session.handle_activity(now, rng.draw(), rng.draw());
        if props.current_url.is_none() {
            let url = sanitize_url(&env.location_href);
            let parts = url_parts(&url);
            props.host = Some(parts.host.to_owned());
            props.pathname = Some(parts.pathname.to_owned());
            props.current_url = Some(url);
        }
        if props.pageview_id.is_none() {
            props.pageview_id = self.pageviews.current_pageview_id().map(str::to_owned);
        }
        if let Some(referrer) = env.referrer.as_deref().filter(|r| !r.is_empty()) {
            let referrer = sanitize_url(referrer);
            props.referring_domain = Some(url_parts(&referrer).host.to_owned());
            props.referrer = Some(referrer);
        } else {
            props.referrer = Some("$direct".to_owned());
            props.referring_domain = Some("$direct".to_owned());
        }
        if let Some(ua) = &env.user_agent {
            let (browser, os, device) = describe_user_agent(ua);
            props.browser = Some(browser.to_owned());
            props.os = Some(os.to_owned());
            props.device_type = Some(device.to_owned());
            props.raw_user_agent = Some(ua.clone());
        }
        props.token = self.config.token.clone();
        props.distinct_id = self.state.distinct_id.clone();
        props.device_id = (!self.config.cookieless).then(|| self.state.device_id.clone());
        props.session_id = Some(self.session.session_id().to_owned());
        props.window_id = Some(self.session.window_id().to_owned());
        props.lib = self.config.lib.clone();
        props.lib_version = self.config.lib_version.clone();
        props.screen_width = env.screen_width;
        props.screen_height = env.screen_height;
        props.viewport_width = env.viewport_width;
        props.viewport_height = env.viewport_height;
        props.browser_language = env.language.clone();
        props.timezone = env.timezone.clone();
        props.groups = self.state.groups.clone();
        CaptureEvent {
            event: name.to_owned(),
            uuid: Some(hyphenated(&uuid_v7(now, rng.draw()))),
            timestamp: Some(now.to_rfc3339()),
            distinct_id: None,
            api_key: None,
            properties: props,
        }
    }
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
    use crate::posthog::BatchBody;
    use crate::posthog::NavigationSource::{History, Router};

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
            c.handle_navigation(UnixMs(1), "https://h/a", History, &e, &mut rng)
                .is_empty()
        );
        assert_eq!(
            c.handle_page_hide(UnixMs(2), &e, &mut rng),
            None,
            "no $pageleave when nothing was viewed"
        );
        let out = c.handle_navigation(UnixMs(3), "https://h/a", Router, &e, &mut rng);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn events_carry_identity_session_and_page_properties() {
        let (mut c, mut rng) = client(config());
        let e = env("https://h/a?token=x");
        let view = &c.handle_navigation(UnixMs(5), "https://h/a?token=x", History, &e, &mut rng)[0];
        let p = &view.properties;
        assert_eq!(p.token, "phc_k");
        assert_eq!(p.lib, "ff-telemetry-web");
        assert_eq!(p.title.as_deref(), Some("Page"));
        assert_eq!(p.current_url.as_deref(), Some("https://h/a?token=<masked>"));
        assert_eq!(
            p.referrer.as_deref(),
            Some("https://ref.example/x?email=<masked>")
        );
        assert_eq!(p.referring_domain.as_deref(), Some("ref.example"));
        assert_eq!(p.browser.as_deref(), Some("Chrome"));
        assert!(p.session_id.is_some() && p.window_id.is_some() && p.pageview_id.is_some());
        assert_eq!(view.uuid.as_deref().map(str::len), Some(36));
        assert_eq!(view.timestamp.as_deref(), Some("1970-01-01T00:00:00.005Z"));
        let custom = c
            .handle_capture(UnixMs(6), "clicked", &e, &mut rng)
            .unwrap();
        assert_eq!(
            custom.properties.pageview_id, p.pageview_id,
            "custom events name their page"
        );
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
            c.handle_navigation(UnixMs(1), "https://h/a", Router, &e, &mut rng)
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
        let ident = c
            .handle_identify(UnixMs(1), "user-1", false, &e, &mut rng)
            .unwrap();
        assert_eq!(ident.event, "$identify");
        assert_eq!(ident.properties.distinct_id, "user-1");
        assert_eq!(
            ident.properties.anon_distinct_id.as_deref(),
            Some(anon.as_str())
        );
        assert_eq!(
            c.handle_identify(UnixMs(2), "user-1", true, &e, &mut rng)
                .unwrap()
                .event,
            "$set"
        );
        assert_eq!(
            c.handle_identify(UnixMs(2), "user-1", false, &e, &mut rng),
            None
        );
        c.handle_group(UnixMs(3), "team", "t1", &e, &mut rng);
        let later = c.handle_capture(UnixMs(4), "x", &e, &mut rng).unwrap();
        assert_eq!(
            later.properties.groups,
            [("team".to_owned(), "t1".to_owned())]
        );
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
        assert_eq!(
            c.handle_capture(UnixMs(1), "x", &e, &mut rng)
                .unwrap()
                .properties
                .device_id,
            None
        );
    }

    #[test]
    fn batch_serialises_in_posthog_shape() {
        let (mut c, mut rng) = client(config());
        let e = env("https://h/a");
        let mut batch = c.handle_navigation(UnixMs(1_000), "https://h/a", Router, &e, &mut rng);
        batch.extend(c.handle_navigation(UnixMs(3_000), "https://h/b", Router, &e, &mut rng));
        let body = BatchBody {
            api_key: Some("phc_k".into()),
            batch,
            sent_at: Some(UnixMs(3_001).to_rfc3339()),
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["api_key"], "phc_k");
        let events = json["batch"].as_array().unwrap();
        let names: Vec<_> = events
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["$pageview", "$pageleave", "$pageview"]);
        let leave = &events[1]["properties"];
        assert_eq!(leave["$current_url"], "https://h/a");
        assert_eq!(leave["to"], "/b");
        assert_eq!(leave["$prev_pageview_duration"], 2.0);
        assert_eq!(events[2]["properties"]["from"], "/a");
        assert_eq!(events[2]["properties"]["$current_url"], "https://h/b");
        assert!(
            events[0]["properties"].get("to").is_none(),
            "absent fields are left out"
        );
        let back: BatchBody<EventProperties> = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, body);
        // The browser writes events with the small JSON writer: same JSON.
        for (event, serde) in body.batch.iter().zip(events) {
            let small: serde_json::Value =
                serde_json::from_str(&crate::json::to_string(event)).unwrap();
            assert_eq!(&small, serde);
        }
    }

    proptest::proptest! {
        #[test]
        fn stored_state_escapes_are_unchanged(s in "[a%\n\t\r0ADd925]{0,12}") {
            // The chains of std replaces these once were: stored state stays readable.
            let old_escape = s
                .replace('%', "%25")
                .replace('\n', "%0A")
                .replace('\t', "%09")
                .replace('\r', "%0D");
            let old_unescape = s
                .replace("%0D", "\r")
                .replace("%09", "\t")
                .replace("%0A", "\n")
                .replace("%25", "%");
            let mut escaped = String::new();
            push_escaped(&mut escaped, &s);
            proptest::prop_assert_eq!(&escaped, &old_escape);
            proptest::prop_assert_eq!(unescape(&s), old_unescape);
            proptest::prop_assert_eq!(unescape(&escaped), s);
        }
    }

    #[test]
    fn persisted_state_round_trips_with_session_and_odd_characters() {
        let (mut c, mut rng) = client(config());
        let e = env("https://h/a");
        c.handle_identify(UnixMs(1), "user\n%0A\t1", false, &e, &mut rng);
        c.handle_group(UnixMs(2), "team\t", "%key\n", &e, &mut rng);
        c.handle_opt_out();
        let state = c.persisted();
        assert_eq!(c.encode_persisted(), state.encode());
        assert!(state.session.is_some());
        assert_eq!(PersistedState::decode(&state.encode()), Some(state));
        for bad in [
            "",
            "ff-telemetry-state 1\nd\nu\nmaybe\n-",
            "ff-telemetry-state 1\nd\nu\n0\nnot a session",
        ] {
            assert_eq!(PersistedState::decode(bad), None, "{bad:?}");
        }
    }
}
