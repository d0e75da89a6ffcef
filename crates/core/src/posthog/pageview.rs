//! `$pageview` / `$pageleave` for single-page apps, from route changes.

use super::properties::{EventProperties, url_parts};
use super::url::sanitize_url;
use crate::uuid7::hyphenated;
use crate::{UnixMs, uuid_v7};

/// Who reported a navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NavigationSource {
    /// The app's router adapter (`routeChanged`): every change of path, query
    /// or hash is a new page.
    Router,
    /// The SDK's own History API hooks (and the first load): only a change of
    /// path is a new page, as query and hash changes are usually state.
    History,
}

/// The two page events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEventKind {
    /// `$pageview`
    Pageview,
    /// `$pageleave`
    Pageleave,
}

impl PageEventKind {
    /// The event name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            PageEventKind::Pageview => "$pageview",
            PageEventKind::Pageleave => "$pageleave",
        }
    }
}

/// A page event with its page properties set (the rest are left default).
#[derive(Debug, Clone, PartialEq)]
pub struct PageEvent {
    /// Which event.
    pub kind: PageEventKind,
    /// `$current_url`, `$host`, `$pathname`, `to`/`from`, `$pageview_id` and the
    /// `$prev_pageview_*` fields.
    pub properties: EventProperties,
}

/// Where the reader is on the page, in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScrollSample {
    /// `window.scrollY`.
    pub scroll_y: f64,
    /// `window.innerHeight`.
    pub viewport_height: f64,
    /// `document.documentElement.scrollHeight`.
    pub content_height: f64,
}

/// Tracks the page being viewed and turns navigations into page events.
///
/// A navigation to the page already being viewed yields nothing, so when a
/// router adapter and the History hooks both report one navigation, in either
/// order, there is one `$pageview`. A `$pageleave` is only ever sent for a page
/// that had a `$pageview`, so with pageview capture off there is none.
///
/// ```
/// use ff_telemetry_core::UnixMs;
/// use ff_telemetry_core::posthog::{NavigationSource::*, PageviewTracker};
/// let mut t = PageviewTracker::default();
/// t.handle_navigation(UnixMs(0), "https://h/a", Router, [1; 10]);
/// let out = t.handle_navigation(UnixMs(1_500), "https://h/b", Router, [2; 10]);
/// let names: Vec<_> = out.iter().map(|e| e.kind.name()).collect();
/// assert_eq!(names, ["$pageleave", "$pageview"]);
/// assert_eq!(out[1].properties.prev_pageview_duration, Some(1.5));
/// assert!(t.handle_navigation(UnixMs(1_600), "https://h/b", History, [3; 10]).is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct PageviewTracker {
    current: Option<Page>,
}

#[derive(Debug, Clone)]
struct Page {
    /// Sanitised absolute URL.
    url: String,
    pageview_id: String,
    started: UnixMs,
    scroll: Option<Scroll>,
    /// The final `$pageleave` went out already (pagehide).
    left: bool,
}

#[derive(Debug, Clone, Copy)]
struct Scroll {
    last: f64,
    max: f64,
    content: f64,
}

impl PageviewTracker {
    /// A navigation to the absolute `url`: `$pageleave` for the page being left
    /// (if it had a `$pageview` and was not left already) and `$pageview` for the
    /// new one, or nothing when `url` is the current page.
    pub fn handle_navigation(
        &mut self,
        now: UnixMs,
        url: &str,
        source: NavigationSource,
        pageview_random: [u8; 10],
    ) -> Vec<PageEvent> {
        let url = sanitize_url(url);
        if let Some(current) = &self.current {
            // Each URL cut once, whichever comparison the source needs.
            let (current, new) = (url_parts(&current.url), url_parts(&url));
            let same_page = match source {
                NavigationSource::Router => current == new,
                NavigationSource::History => current.pathname == new.pathname,
            };
            if same_page {
                return Vec::new();
            }
        }
        let previous = self.current.take();
        let new_page = Page {
            pageview_id: hyphenated(&uuid_v7(now, pageview_random)),
            url,
            started: now,
            scroll: None,
            left: false,
        };
        let new_path = url_parts(&new_page.url).path_and_more.to_owned();
        let mut out = Vec::with_capacity(2);
        let mut pageview = page_properties(&new_page);
        pageview.pageview_id = Some(new_page.pageview_id.clone());
        if let Some(previous) = &previous {
            let from_path = url_parts(&previous.url).path_and_more.to_owned();
            if !previous.left {
                let mut leave = page_properties(previous);
                leave.to = Some(new_path);
                previous.describe_as_previous(now, &mut leave);
                out.push(PageEvent {
                    kind: PageEventKind::Pageleave,
                    properties: leave,
                });
            }
            pageview.from = Some(from_path);
            previous.describe_as_previous(now, &mut pageview);
        }
        out.push(PageEvent {
            kind: PageEventKind::Pageview,
            properties: pageview,
        });
        self.current = Some(new_page);
        out
    }

    /// The reader scrolled; feeds the `$prev_pageview_*scroll*` fields.
    pub fn handle_scroll(&mut self, sample: ScrollSample) {
        let Some(page) = &mut self.current else {
            return;
        };
        let bottom = (sample.scroll_y + sample.viewport_height).max(0.0);
        let content = sample.content_height.max(bottom);
        page.scroll = Some(match page.scroll {
            Some(s) => Scroll {
                last: bottom,
                max: s.max.max(bottom),
                content,
            },
            None => Scroll {
                last: bottom,
                max: bottom,
                content,
            },
        });
    }

    /// The page is being hidden for good (`pagehide`): the final `$pageleave`
    /// for the current page, once.
    pub fn handle_page_hide(&mut self, now: UnixMs) -> Option<PageEvent> {
        let page = self.current.as_mut().filter(|p| !p.left)?;
        page.left = true;
        let mut leave = page_properties(page);
        page.describe_as_previous(now, &mut leave);
        Some(PageEvent {
            kind: PageEventKind::Pageleave,
            properties: leave,
        })
    }

    /// The page shown again after a `pagehide` (back-forward cache): a later
    /// navigation or hide leaves it again.
    pub fn handle_page_show(&mut self) {
        if let Some(page) = &mut self.current {
            page.left = false;
        }
    }

    /// `$pageview_id` of the current page, if one was viewed.
    pub fn current_pageview_id(&self) -> Option<&str> {
        self.current.as_ref().map(|p| p.pageview_id.as_str())
    }
}

impl Page {
    fn describe_as_previous(&self, now: UnixMs, props: &mut EventProperties) {
        props.prev_pageview_id = Some(self.pageview_id.clone());
        props.prev_pageview_pathname = Some(url_parts(&self.url).pathname.to_owned());
        props.prev_pageview_duration = Some(now.saturating_since(self.started) as f64 / 1000.0);
        if let Some(s) = self.scroll {
            let percent = |px: f64| {
                if s.content > 0.0 {
                    (px / s.content).clamp(0.0, 1.0)
                } else {
                    1.0
                }
            };
            props.prev_pageview_last_scroll = Some(s.last as u32);
            props.prev_pageview_max_scroll = Some(s.max as u32);
            props.prev_pageview_last_scroll_percentage = Some(percent(s.last));
            props.prev_pageview_max_scroll_percentage = Some(percent(s.max));
        }
    }
}

fn page_properties(page: &Page) -> EventProperties {
    let parts = url_parts(&page.url);
    // Fields set one by one rather than `..EventProperties::empty()`, which
    // would build the empty value aside and copy every other field over.
    let mut props = EventProperties::empty();
    props.current_url = Some(page.url.clone());
    props.host = Some(parts.host.to_owned());
    props.pathname = Some(parts.pathname.to_owned());
    props
}

#[cfg(test)]
mod tests {
    use super::NavigationSource::{History, Router};
    use super::*;

    fn names(events: &[PageEvent]) -> Vec<&'static str> {
        events.iter().map(|e| e.kind.name()).collect()
    }

    #[test]
    fn first_navigation_is_a_pageview_without_pageleave() {
        let mut t = PageviewTracker::default();
        let out = t.handle_navigation(UnixMs(0), "https://h/a", Router, [1; 10]);
        assert_eq!(names(&out), ["$pageview"]);
        let p = &out[0].properties;
        assert_eq!(p.current_url.as_deref(), Some("https://h/a"));
        assert_eq!(
            (p.from.as_deref(), p.prev_pageview_id.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn route_sequence_carries_flowfuse_shape_and_prev_fields() {
        let mut t = PageviewTracker::default();
        let first = t.handle_navigation(UnixMs(1_000), "https://h/a", Router, [1; 10]);
        let a_id = first[0].properties.pageview_id.clone();
        let out = t.handle_navigation(UnixMs(3_500), "https://h/b?tab=2", Router, [2; 10]);
        assert_eq!(names(&out), ["$pageleave", "$pageview"]);
        let (leave, view) = (&out[0].properties, &out[1].properties);
        assert_eq!(leave.current_url.as_deref(), Some("https://h/a"));
        assert_eq!(leave.to.as_deref(), Some("/b?tab=2"));
        assert_eq!(leave.prev_pageview_id, a_id);
        assert_eq!(leave.prev_pageview_duration, Some(2.5));
        assert_eq!(leave.pageview_id, None);
        assert_eq!(view.current_url.as_deref(), Some("https://h/b?tab=2"));
        assert_eq!(view.pathname.as_deref(), Some("/b"));
        assert_eq!(view.from.as_deref(), Some("/a"));
        assert_eq!(view.prev_pageview_id, a_id);
        assert_eq!(view.prev_pageview_pathname.as_deref(), Some("/a"));
        assert_eq!(view.prev_pageview_duration, Some(2.5));
        assert_ne!(view.pageview_id, a_id);

        let out = t.handle_navigation(UnixMs(4_000), "https://h/c", Router, [3; 10]);
        assert_eq!(out[1].properties.prev_pageview_id, view.pageview_id);
        assert_eq!(out[1].properties.prev_pageview_duration, Some(0.5));
    }

    #[test]
    fn router_and_history_reporting_one_navigation_make_one_pageview() {
        for order in [[Router, History], [History, Router]] {
            let mut t = PageviewTracker::default();
            t.handle_navigation(UnixMs(0), "https://h/a", History, [1; 10]);
            let first = t.handle_navigation(UnixMs(10), "https://h/b", order[0], [2; 10]);
            let second = t.handle_navigation(UnixMs(11), "https://h/b", order[1], [3; 10]);
            assert_eq!(names(&first), ["$pageleave", "$pageview"], "{order:?}");
            assert!(second.is_empty(), "{order:?}");
        }
    }

    #[test]
    fn history_ignores_query_and_hash_changes_router_does_not() {
        let mut t = PageviewTracker::default();
        t.handle_navigation(UnixMs(0), "https://h/a", History, [1; 10]);
        assert!(
            t.handle_navigation(UnixMs(1), "https://h/a?x=1#top", History, [2; 10])
                .is_empty()
        );
        let out = t.handle_navigation(UnixMs(2), "https://h/a?x=1", Router, [3; 10]);
        assert_eq!(names(&out), ["$pageleave", "$pageview"]);
    }

    #[test]
    fn page_hide_sends_one_final_pageleave() {
        let mut t = PageviewTracker::default();
        assert_eq!(
            t.handle_page_hide(UnixMs(0)),
            None,
            "nothing viewed, nothing left"
        );
        t.handle_navigation(UnixMs(0), "https://h/a", Router, [1; 10]);
        let leave = t.handle_page_hide(UnixMs(2_000)).unwrap();
        assert_eq!(leave.kind, PageEventKind::Pageleave);
        assert_eq!(leave.properties.current_url.as_deref(), Some("https://h/a"));
        assert_eq!(leave.properties.prev_pageview_duration, Some(2.0));
        assert_eq!(t.handle_page_hide(UnixMs(2_001)), None);
        let out = t.handle_navigation(UnixMs(3_000), "https://h/b", Router, [2; 10]);
        assert_eq!(
            names(&out),
            ["$pageview"],
            "the left page is not left twice"
        );
    }

    #[test]
    fn scroll_depth_goes_on_the_next_events() {
        let mut t = PageviewTracker::default();
        t.handle_navigation(UnixMs(0), "https://h/a", Router, [1; 10]);
        let sample = |y| ScrollSample {
            scroll_y: y,
            viewport_height: 500.0,
            content_height: 2_000.0,
        };
        t.handle_scroll(sample(1_000.0));
        t.handle_scroll(sample(0.0));
        let view = &t.handle_navigation(UnixMs(1), "https://h/b", Router, [2; 10])[1];
        assert_eq!(view.properties.prev_pageview_max_scroll, Some(1_500));
        assert_eq!(
            view.properties.prev_pageview_max_scroll_percentage,
            Some(0.75)
        );
        assert_eq!(view.properties.prev_pageview_last_scroll, Some(500));
        assert_eq!(
            view.properties.prev_pageview_last_scroll_percentage,
            Some(0.25)
        );
    }

    #[test]
    fn urls_are_sanitised_before_comparing_and_sending() {
        let mut t = PageviewTracker::default();
        let out = t.handle_navigation(UnixMs(0), "https://h/cb?code=1", Router, [1; 10]);
        assert_eq!(
            out[0].properties.current_url.as_deref(),
            Some("https://h/cb?code=<masked>")
        );
        let out = t.handle_navigation(UnixMs(1), "https://h/u/ann@corp.example", Router, [2; 10]);
        assert_eq!(out[0].properties.to.as_deref(), Some("/u/<masked>"));
        assert_eq!(
            out[1].properties.current_url.as_deref(),
            Some("https://h/u/<masked>")
        );
    }
}
