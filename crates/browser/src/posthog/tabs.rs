//! Several tabs of one app: each page load keeps its unsent events under a
//! `localStorage` key of its own, and adopts the queues of pages that are gone.
//!
//! A page load's queue lives at `<state key>:<id>` (a fresh random id per
//! load), written only while the page holds the Web Lock of that name, which
//! the browser releases when the page goes away, however it goes (closed,
//! reloaded, crashed). Every page of the app asks for the lock of each other
//! queue it finds: at start, and when a `storage` event says another page
//! created one (a page keeps its key, empty or not, while it lives, so that
//! happens once per page and there is one request per page); the page granted it
//! adopts that queue: queues its events as its own, saves them under its own
//! key, then removes the other key, all while holding the lock. So one page
//! adopts each queue, a live page's queue is never taken, and no event is
//! ever in no key. The events' `uuid`s let the server drop what a page sent
//! just before it died and its adopter sends again.
//!
//! Without Web Locks (a page that is not a secure context, an old browser),
//! a page that starts adopts every queue it finds, as when all pages shared
//! one queue: a live page keeps its events in memory and saves them again, so
//! nothing is lost, but what it had queued may be sent twice, and the server
//! keeps one copy (the `uuid`).

use ff_telemetry_wire::text::{concat, write_decimal};

/// This page's queue key, and which keys are other pages' queues to adopt, when.
///
/// ```
/// use ff_telemetry_browser::posthog::{Adoption, TabQueues};
/// let queues = TabQueues::new("ff_telemetry_phc_k", [7; 10]);
/// assert_eq!(queues.own_key(), "ff_telemetry_phc_k:506381209866536711");
/// let other = "ff_telemetry_phc_k:42";
/// assert_eq!(queues.adoption(other, true, true), Some(Adoption::WhenGone));
/// assert_eq!(queues.adoption(other, true, false), Some(Adoption::Now), "no Web Locks");
/// assert_eq!(queues.adoption(other, false, true), None, "saved again: waited for already");
/// assert_eq!(queues.adoption("ff_telemetry_phc_k", true, true), None, "the shared state");
/// assert_eq!(queues.adoption(queues.own_key(), true, true), None);
/// ```
#[derive(Debug, Clone)]
pub struct TabQueues {
    /// `<state key>:`, what every queue key of the app starts with.
    prefix: String,
    /// `<state key>:<id>`.
    own: String,
}

impl TabQueues {
    /// The queues of the app whose state is kept at `state_key`, this page's
    /// id drawn from `draw`.
    pub fn new(state_key: &str, draw: [u8; 10]) -> Self {
        let prefix = concat(&[state_key, ":"]);
        let mut own = prefix.clone();
        let [a, b, c, d, e, f, g, h, ..] = draw;
        write_decimal(&mut own, u64::from_le_bytes([a, b, c, d, e, f, g, h]), 1);
        TabQueues { prefix, own }
    }

    /// The key (and Web Lock name) of this page's queue.
    pub fn own_key(&self) -> &str {
        &self.own
    }

    /// A `localStorage` key seen at start (`created`: true) or in a `storage`
    /// event (`created`: whether the key is new, its old value `null`), in a
    /// page that has Web Locks or not: when it is another page's queue, when
    /// to adopt it. A page's key lasts as long as the page, so this answers
    /// once per page (twice when the page started while this one looked).
    pub fn adoption(&self, key: &str, created: bool, locks: bool) -> Option<Adoption> {
        let queue = created && key.starts_with(&*self.prefix) && key != self.own;
        queue.then_some(if locks {
            Adoption::WhenGone
        } else {
            Adoption::Now
        })
    }
}

/// When a page adopts another page's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adoption {
    /// Once that page is gone: when the browser grants this page the Web
    /// Lock named by the queue's key.
    WhenGone,
    /// At once: without Web Locks a page cannot tell a live page from one
    /// that is gone, and a live page saves its events again.
    Now,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_page_load_has_a_queue_of_its_own() {
        let a = TabQueues::new("ff_telemetry_k", [1; 10]);
        let b = TabQueues::new("ff_telemetry_k", [2; 10]);
        assert_ne!(a.own_key(), b.own_key());
        assert!(a.own_key().starts_with("ff_telemetry_k:"));
    }

    #[test]
    fn only_other_pages_queues_of_the_same_app_are_adopted() {
        let q = TabQueues::new("ff_telemetry_k", [1; 10]);
        for ignored in [
            q.own_key(),
            "ff_telemetry_k",
            "ff_telemetry_k2:0202",
            "ff_telemetry_probe",
            "other",
        ] {
            assert_eq!(q.adoption(ignored, true, true), None, "{ignored}");
        }
        for other in ["ff_telemetry_k:0202", "ff_telemetry_k:0303"] {
            assert_eq!(q.adoption(other, true, true), Some(Adoption::WhenGone));
        }
    }

    #[test]
    fn a_queue_is_waited_for_once_when_created_not_at_each_save() {
        let q = TabQueues::new("ff_telemetry_k", [1; 10]);
        assert!(q.adoption("ff_telemetry_k:0202", true, true).is_some());
        assert_eq!(
            q.adoption("ff_telemetry_k:0202", false, true),
            None,
            "its page saves again: the one lock request waits already"
        );
    }

    #[test]
    fn without_web_locks_a_queue_is_adopted_at_once() {
        let q = TabQueues::new("ff_telemetry_k", [1; 10]);
        assert_eq!(
            q.adoption("ff_telemetry_k:0202", true, false),
            Some(Adoption::Now)
        );
    }
}
