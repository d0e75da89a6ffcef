//! `$pageview` / `$pageleave` for single-page apps, from route changes.

use super::properties::url_parts;
use super::url::sanitize_url;
use ff_telemetry_wire::hyphenated;
use ff_telemetry_wire::{UnixMs, uuid_v7};

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

/// A page event: the pages it is about. The client writes its properties
/// from these (see [`super::Client`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PageEvent {
    /// Which event.
    pub kind: PageEventKind,
    /// The page viewed (`$pageview`) or left (`$pageleave`): `$current_url`,
    /// `$host`, `$pathname`, `$pageview_id`.
    pub page: Page,
    /// The page on the other side of the navigation: the one left before a
    /// `$pageview` (`from`), the one going to after a `$pageleave` (`to`);
    /// none for the first `$pageview` and the final `$pageleave`.
    pub other: Option<Page>,
}

impl PageEvent {
    /// The page the `$prev_pageview_*` fields describe: the page left.
    pub fn previous(&self) -> Option<&Page> {
        match self.kind {
            PageEventKind::Pageview => self.other.as_ref(),
            PageEventKind::Pageleave => Some(&self.page),
        }
    }
}

/// Where the reader is on the page, in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScrollSample {
    /// `window.scrollY + window.innerHeight`: the bottom of the viewport.
    pub viewport_bottom: f64,
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
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_browser::posthog::{NavigationSource::*, PageviewTracker};
/// let mut t = PageviewTracker::default();
/// t.handle_navigation(UnixMs(0), "https://h/a", None, Router, [1; 10]);
/// let out = t.handle_navigation(UnixMs(1_500), "https://h/b", None, Router, [2; 10]);
/// let names: Vec<_> = out.iter().map(|e| e.kind.name()).collect();
/// assert_eq!(names, ["$pageleave", "$pageview"]);
/// assert_eq!(out[1].previous().unwrap().viewed_ms(UnixMs(1_500)), 1_500);
/// assert!(t.handle_navigation(UnixMs(1_600), "https://h/b", None, History, [3; 10]).is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct PageviewTracker {
    current: Option<Page>,
}

/// A page that had a `$pageview`.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Sanitised absolute URL.
    url: String,
    /// The route the router matched (`/instances/:id`), if it said.
    template: Option<String>,
    pageview_id: String,
    started: UnixMs,
    scroll: Option<Scroll>,
    /// The final `$pageleave` went out already (pagehide).
    left: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Scroll {
    last: f64,
    max: f64,
    content: f64,
}

/// How far the reader scrolled a page: the bottom of the viewport in CSS
/// pixels and as a fraction of the content height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScrollDepth {
    /// `$prev_pageview_last_scroll`.
    pub last_px: u32,
    /// `$prev_pageview_max_scroll`.
    pub max_px: u32,
    /// `$prev_pageview_last_scroll_percentage` (0 to 1).
    pub last_fraction: f64,
    /// `$prev_pageview_max_scroll_percentage` (0 to 1).
    pub max_fraction: f64,
}

impl PageviewTracker {
    /// A navigation to the absolute `url`, which matched the route `template`
    /// if the router said: `$pageleave` for the page being left (if it had a
    /// `$pageview` and was not left already) and `$pageview` for the new one,
    /// or nothing when `url` is the current page.
    pub fn handle_navigation(
        &mut self,
        now: UnixMs,
        url: &str,
        template: Option<&str>,
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
        let new_page = Page {
            pageview_id: hyphenated(&uuid_v7(now, pageview_random)),
            url,
            template: template.map(str::to_owned),
            started: now,
            scroll: None,
            left: false,
        };
        let previous = self.current.replace(new_page.clone());
        let mut out = Vec::with_capacity(2);
        if let Some(previous) = previous.as_ref().filter(|p| !p.left) {
            out.push(PageEvent {
                kind: PageEventKind::Pageleave,
                page: previous.clone(),
                other: Some(new_page.clone()),
            });
        }
        out.push(PageEvent {
            kind: PageEventKind::Pageview,
            page: new_page,
            other: previous,
        });
        out
    }

    /// The reader scrolled; feeds the `$prev_pageview_*scroll*` fields.
    pub fn handle_scroll(&mut self, sample: ScrollSample) {
        let Some(page) = &mut self.current else {
            return;
        };
        // `max` also turns NaN into 0.
        let bottom = sample.viewport_bottom.max(0.0);
        let max = page.scroll.map_or(bottom, |s| s.max.max(bottom));
        page.scroll = Some(Scroll {
            last: bottom,
            max,
            content: sample.content_height.max(bottom),
        });
    }

    /// The page is being hidden for good (`pagehide`): the final `$pageleave`
    /// for the current page, once.
    pub fn handle_page_hide(&mut self) -> Option<PageEvent> {
        let page = self.current.as_mut().filter(|p| !p.left)?;
        page.left = true;
        Some(PageEvent {
            kind: PageEventKind::Pageleave,
            page: page.clone(),
            other: None,
        })
    }

    /// The page shown again after a `pagehide` (back-forward cache): a later
    /// navigation or hide leaves it again.
    pub fn handle_page_show(&mut self) {
        if let Some(page) = &mut self.current {
            page.left = false;
        }
    }

    /// The page being viewed, if any.
    pub fn current(&self) -> Option<&Page> {
        self.current.as_ref()
    }
}

impl Page {
    /// The sanitised absolute URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The route template the router matched, if it said.
    pub fn template(&self) -> Option<&str> {
        self.template.as_deref()
    }

    /// `$pageview_id`.
    pub fn pageview_id(&self) -> &str {
        &self.pageview_id
    }

    /// How long the page had been viewed at `now`, in milliseconds.
    pub fn viewed_ms(&self, now: UnixMs) -> u64 {
        now.saturating_since(self.started)
    }

    /// How far the reader scrolled, if the page was scrolled.
    pub fn scroll_depth(&self) -> Option<ScrollDepth> {
        let s = self.scroll?;
        let fraction = |px: f64| {
            if s.content > 0.0 {
                (px / s.content).clamp(0.0, 1.0)
            } else {
                1.0
            }
        };
        Some(ScrollDepth {
            last_px: s.last as u32,
            max_px: s.max as u32,
            last_fraction: fraction(s.last),
            max_fraction: fraction(s.max),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::NavigationSource::{History, Router};
    use super::*;

    fn names(events: &[PageEvent]) -> Vec<&'static str> {
        events.iter().map(|e| e.kind.name()).collect()
    }

    fn other_url(event: &PageEvent) -> Option<&str> {
        event.other.as_ref().map(Page::url)
    }

    #[test]
    fn first_navigation_is_a_pageview_without_pageleave() {
        let mut t = PageviewTracker::default();
        let out = t.handle_navigation(UnixMs(0), "https://h/a", None, Router, [1; 10]);
        assert_eq!(names(&out), ["$pageview"]);
        assert_eq!(out[0].page.url(), "https://h/a");
        assert_eq!((other_url(&out[0]), out[0].previous()), (None, None));
    }

    #[test]
    fn route_sequence_carries_flowfuse_shape_and_prev_fields() {
        let mut t = PageviewTracker::default();
        let first = t.handle_navigation(UnixMs(1_000), "https://h/a", None, Router, [1; 10]);
        let a_id = first[0].page.pageview_id().to_owned();
        let out = t.handle_navigation(UnixMs(3_500), "https://h/b?tab=2", None, Router, [2; 10]);
        assert_eq!(names(&out), ["$pageleave", "$pageview"]);
        let (leave, view) = (&out[0], &out[1]);
        assert_eq!(leave.page.url(), "https://h/a");
        assert_eq!(other_url(leave), Some("https://h/b?tab=2"), "to");
        let left = leave.previous().unwrap();
        assert_eq!(left.pageview_id(), a_id);
        assert_eq!(left.viewed_ms(UnixMs(3_500)), 2_500);
        assert_eq!(view.page.url(), "https://h/b?tab=2");
        assert_eq!(other_url(view), Some("https://h/a"), "from");
        let before = view.previous().unwrap();
        assert_eq!(before.pageview_id(), a_id);
        assert_eq!(before.viewed_ms(UnixMs(3_500)), 2_500);
        assert_ne!(view.page.pageview_id(), a_id);
        assert_eq!(leave.other.as_ref(), Some(&view.page));

        let out = t.handle_navigation(UnixMs(4_000), "https://h/c", None, Router, [3; 10]);
        let before = out[1].previous().unwrap();
        assert_eq!(before.pageview_id(), view.page.pageview_id());
        assert_eq!(before.viewed_ms(UnixMs(4_000)), 500);
    }

    #[test]
    fn router_and_history_reporting_one_navigation_make_one_pageview() {
        for order in [[Router, History], [History, Router]] {
            let mut t = PageviewTracker::default();
            t.handle_navigation(UnixMs(0), "https://h/a", None, History, [1; 10]);
            let first = t.handle_navigation(UnixMs(10), "https://h/b", None, order[0], [2; 10]);
            let second = t.handle_navigation(UnixMs(11), "https://h/b", None, order[1], [3; 10]);
            assert_eq!(names(&first), ["$pageleave", "$pageview"], "{order:?}");
            assert!(second.is_empty(), "{order:?}");
        }
    }

    #[test]
    fn history_ignores_query_and_hash_changes_router_does_not() {
        let mut t = PageviewTracker::default();
        t.handle_navigation(UnixMs(0), "https://h/a", None, History, [1; 10]);
        assert!(
            t.handle_navigation(UnixMs(1), "https://h/a?x=1#top", None, History, [2; 10])
                .is_empty()
        );
        let out = t.handle_navigation(UnixMs(2), "https://h/a?x=1", None, Router, [3; 10]);
        assert_eq!(names(&out), ["$pageleave", "$pageview"]);
    }

    #[test]
    fn page_hide_sends_one_final_pageleave() {
        let mut t = PageviewTracker::default();
        assert_eq!(t.handle_page_hide(), None, "nothing viewed, nothing left");
        t.handle_navigation(UnixMs(0), "https://h/a", None, Router, [1; 10]);
        let leave = t.handle_page_hide().unwrap();
        assert_eq!(leave.kind, PageEventKind::Pageleave);
        assert_eq!(leave.page.url(), "https://h/a");
        assert_eq!(leave.other, None);
        assert_eq!(leave.previous().unwrap().viewed_ms(UnixMs(2_000)), 2_000);
        assert_eq!(t.handle_page_hide(), None);
        let out = t.handle_navigation(UnixMs(3_000), "https://h/b", None, Router, [2; 10]);
        assert_eq!(
            names(&out),
            ["$pageview"],
            "the left page is not left twice"
        );
        assert_eq!(other_url(&out[0]), Some("https://h/a"), "but named as from");
        t.handle_page_show();
        assert!(t.handle_page_hide().is_some(), "shown again, left again");
    }

    #[test]
    fn scroll_depth_goes_on_the_next_events() {
        let mut t = PageviewTracker::default();
        t.handle_navigation(UnixMs(0), "https://h/a", None, Router, [1; 10]);
        let sample = |y| ScrollSample {
            viewport_bottom: y + 500.0,
            content_height: 2_000.0,
        };
        t.handle_scroll(sample(1_000.0));
        t.handle_scroll(sample(0.0));
        let view = &t.handle_navigation(UnixMs(1), "https://h/b", None, Router, [2; 10])[1];
        assert_eq!(
            view.previous().unwrap().scroll_depth(),
            Some(ScrollDepth {
                last_px: 500,
                max_px: 1_500,
                last_fraction: 0.25,
                max_fraction: 0.75,
            })
        );
        assert_eq!(view.page.scroll_depth(), None, "the new page is unscrolled");
    }

    #[test]
    fn urls_are_sanitised_before_comparing_and_sending() {
        let mut t = PageviewTracker::default();
        let out = t.handle_navigation(UnixMs(0), "https://h/cb?code=1", None, Router, [1; 10]);
        assert_eq!(out[0].page.url(), "https://h/cb?code=<masked>");
        assert!(
            t.handle_navigation(UnixMs(1), "https://h/cb?code=2", None, Router, [2; 10])
                .is_empty(),
            "the same page once masked"
        );
        let out = t.handle_navigation(
            UnixMs(1),
            "https://h/u/ann@corp.example",
            None,
            Router,
            [2; 10],
        );
        assert_eq!(other_url(&out[0]), Some("https://h/u/<masked>"));
        assert_eq!(out[1].page.url(), "https://h/u/<masked>");
    }
}
