//! The unsent-event queue: bounded, batched, retried; emptied whole when the page goes away.

use crate::list;
use crate::sentry::parse_retry_after;
use ff_telemetry_core::retry::{RetryPolicy, Verdict, classify};
use ff_telemetry_wire::UnixMs;

/// `navigator.sendBeacon`'s payload limit in Chromium and Firefox.
pub const BEACON_MAX_BYTES: usize = 64 * 1024;

/// Bounds and timings of an [`Outbox`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxLimits {
    /// Most events kept; the oldest are dropped beyond it.
    pub max_events: usize,
    /// Most bytes (serialised) kept; the oldest are dropped beyond it.
    pub max_bytes: usize,
    /// Most events in one request.
    pub batch_max_events: usize,
    /// Most bytes in one request, before compression.
    pub batch_max_bytes: usize,
    /// This many waiting events are sent at once instead of after the flush
    /// interval. Below `batch_max_events`, so that what piles up behind a
    /// batch in flight (a burst of events) leaves in one bigger request.
    pub send_at_once_events: usize,
    /// How long an event may wait for companions before a send.
    pub flush_interval_ms: u64,
    /// When to retry a failed send (no answer or a 5xx).
    pub retry: RetryPolicy,
}

impl Default for OutboxLimits {
    /// 1,000 events or 1 MiB kept (so the queue fits in `localStorage`), at most
    /// 1,000 events or 512 KiB per request, a send every 3 s or as soon as 100
    /// events wait.
    fn default() -> Self {
        OutboxLimits {
            max_events: 1_000,
            max_bytes: 1024 * 1024,
            batch_max_events: 1_000,
            batch_max_bytes: 512 * 1024,
            send_at_once_events: 100,
            flush_interval_ms: 3 * UnixMs::SECOND,
            // 1 s, 2 s, 4 s … capped at 5 minutes, 10 retries (about 20 minutes in all).
            retry: RetryPolicy {
                base_delay_ms: UnixMs::SECOND,
                max_delay_ms: 5 * UnixMs::MINUTE,
                max_retries: 10,
            },
        }
    }
}

/// What became of a batch after its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutcome {
    /// The server took this many events.
    Delivered(usize),
    /// The send failed; it is retried at this instant.
    RetryAt(UnixMs),
    /// This many events were dropped: refused (4xx) or retried too often.
    Dropped(usize),
}

/// What an [`Outbox`] queues: an event that knows its serialised size.
pub trait Queued {
    /// Bytes the event takes in a request (and in storage).
    fn n_bytes(&self) -> usize;
}

/// An event's JSON text.
impl Queued for String {
    fn n_bytes(&self) -> usize {
        self.len()
    }
}

/// A sans-IO send queue: events go in, batches come out when due, answers
/// come back as HTTP statuses.
///
/// Events stay queued until their batch is answered, so whatever is persisted
/// from [`Outbox::queued`] after each change survives a reload or a crash; the
/// events' `uuid`s let the server drop the rare resend.
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_browser::posthog::{BatchOutcome, Outbox, OutboxLimits};
/// let mut outbox = Outbox::new(OutboxLimits::default());
/// outbox.handle_enqueue(UnixMs(0), "e1".to_owned());
/// assert_eq!(outbox.poll_timeout(), Some(UnixMs(3_000)));
/// assert_eq!(outbox.poll_batch(UnixMs(2_999)), None);
/// assert_eq!(outbox.poll_batch(UnixMs(3_000)), Some(&["e1".to_owned()][..]));
/// assert_eq!(outbox.handle_response(UnixMs(3_100), 200, 0), BatchOutcome::Delivered(1));
/// assert!(outbox.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Outbox<T> {
    limits: OutboxLimits,
    /// Oldest first. A `Vec`, not a `VecDeque`: the queue is bounded and only
    /// shifted once per batch, and `VecDeque`'s code costs the browser build more.
    events: Vec<T>,
    n_bytes: usize,
    /// Events at the front that were handed out by `poll_batch` and not yet answered.
    n_in_flight: usize,
    /// Their bytes, so the bytes waiting behind them are known without a walk.
    n_in_flight_bytes: usize,
    /// When the next batch is due; `None` when empty.
    next_send_at: Option<UnixMs>,
    /// No batch before this instant: the server's `Retry-After`, which an
    /// explicit flush does not override.
    not_before: UnixMs,
    n_failures: u32,
    /// A batch was in flight when [`Outbox::take_all`] took its events: its
    /// answer is still to come, and must neither drop nor retry what was
    /// queued since, nor overlap a new request.
    taken_in_flight: bool,
}

impl<T: Queued> Outbox<T> {
    /// An empty outbox.
    pub fn new(limits: OutboxLimits) -> Self {
        Outbox {
            limits,
            events: Vec::new(),
            n_bytes: 0,
            n_in_flight: 0,
            n_in_flight_bytes: 0,
            next_send_at: None,
            not_before: UnixMs(0),
            n_failures: 0,
            taken_in_flight: false,
        }
    }

    /// Queues `event`; returns how many of the oldest events were dropped to
    /// stay within the limits (events in flight are never dropped here).
    pub fn handle_enqueue(&mut self, now: UnixMs, event: T) -> usize {
        self.n_bytes += event.n_bytes();
        self.events.push(event);
        let mut n_dropped = 0;
        while (self.events.len() > self.limits.max_events || self.n_bytes > self.limits.max_bytes)
            && self.events.len() > self.n_in_flight + 1
        {
            // The loop condition keeps the index in range.
            let Some(dropped) = list::remove_at(&mut self.events, self.n_in_flight) else {
                break;
            };
            self.n_bytes -= dropped.n_bytes();
            n_dropped += 1;
        }
        if self.next_send_at.is_none() {
            self.next_send_at = Some(now + self.limits.flush_interval_ms);
        }
        if self.n_failures == 0 && self.waiting_batch_is_full() {
            self.next_send_at = Some(now);
        }
        n_dropped
    }

    /// Makes the queued events due now (an explicit flush), even while backing
    /// off after a failure, but not before a server's `Retry-After` elapsed.
    pub fn handle_flush(&mut self, now: UnixMs) {
        if !self.events.is_empty() {
            self.next_send_at = Some(now.max(self.not_before));
        }
    }

    /// Applies the `Retry-After` header (seconds or an HTTP date) of the answer
    /// just given to [`Outbox::handle_response`]: when that batch is to be
    /// retried, it waits at least as long as the server asked, flush or not.
    /// An answer that delivered or dropped the batch is not delayed.
    ///
    /// ```
    /// use ff_telemetry_wire::UnixMs;
    /// use ff_telemetry_browser::posthog::{BatchOutcome, Outbox, OutboxLimits};
    /// let mut outbox = Outbox::new(OutboxLimits::default());
    /// outbox.handle_enqueue(UnixMs(0), "e1".to_owned());
    /// assert!(outbox.poll_batch(UnixMs(3_000)).is_some());
    /// assert!(matches!(outbox.handle_response(UnixMs(3_000), 429, 0), BatchOutcome::RetryAt(_)));
    /// outbox.handle_retry_after(UnixMs(3_000), "30");
    /// outbox.handle_flush(UnixMs(4_000));
    /// assert_eq!(outbox.poll_timeout(), Some(UnixMs(33_000)));
    /// ```
    pub fn handle_retry_after(&mut self, now: UnixMs, retry_after: &str) {
        let (Some(at), true) = (self.next_send_at, self.n_failures > 0) else {
            return;
        };
        if let Some(wait_ms) = parse_retry_after(retry_after, now) {
            self.not_before = now + wait_ms;
            self.next_send_at = Some(at.max(self.not_before));
        }
    }

    /// The next batch to send, when one is due and none is in flight.
    ///
    /// Answer it with [`Outbox::handle_response`] before polling again.
    #[must_use]
    pub fn poll_batch(&mut self, now: UnixMs) -> Option<&[T]> {
        if self.is_in_flight() || self.next_send_at.is_none_or(|at| now < at) {
            return None;
        }
        let (n, n_bytes) = self.batch_len();
        if n == 0 {
            return None;
        }
        self.n_in_flight = n;
        self.n_in_flight_bytes = n_bytes;
        self.events.get(..n)
    }

    /// Records the answer to the batch in flight: HTTP `status` (0 for a network
    /// error) and a uniform random `jitter_draw` for the backoff. 5xx and 429
    /// answers are retried `retry.max_retries` times (after a `Retry-After`
    /// given to [`Outbox::handle_retry_after`]); no answer at all is retried for
    /// as long as it takes, every `retry.max_delay_ms` after the retries run out.
    pub fn handle_response(&mut self, now: UnixMs, status: u16, jitter_draw: u32) -> BatchOutcome {
        if std::mem::take(&mut self.taken_in_flight) {
            // The batch left with `take_all`: nothing here was in it.
            return BatchOutcome::Delivered(0);
        }
        let (n, n_bytes) = (self.n_in_flight, self.n_in_flight_bytes);
        self.n_in_flight = 0;
        self.n_in_flight_bytes = 0;
        // A 429 asks to slow down (issue 19: back off as told, lose
        // nothing): retried like a 5xx, bounded by `retry.max_retries`.
        let verdict = classify(status);
        let retry_at = if verdict.is_retryable() || verdict == Verdict::RateLimited {
            self.n_failures += 1;
            let retry = self.limits.retry;
            retry
                .delay_ms(self.n_failures, jitter_draw)
                // No answer at all (offline): keep trying at the longest
                // wait, as the queue is bounded anyway; a server that keeps
                // failing gets given up on.
                .or_else(|| (verdict == Verdict::NoAnswer).then_some(retry.max_delay_ms))
                .map(|delay| now + delay)
        } else {
            None
        };
        if let Some(at) = retry_at {
            self.next_send_at = Some(at);
            return BatchOutcome::RetryAt(at);
        }
        // The batch's bytes are known: the events are dropped, not walked.
        self.events = self.events.split_off(n.min(self.events.len()));
        self.n_bytes -= n_bytes;
        self.n_failures = 0;
        // What waited behind the batch has waited long enough.
        self.next_send_at = (!self.events.is_empty()).then_some(now);
        match verdict {
            Verdict::Delivered => BatchOutcome::Delivered(n),
            _ => BatchOutcome::Dropped(n),
        }
    }

    /// Every queued event (in flight or not), oldest first, and empties the
    /// queue: for leaving the page, when no answer can be awaited. (The
    /// sender splits them as the browser's beacon limit requires.)
    pub fn take_all(&mut self) -> Vec<T> {
        self.taken_in_flight |= self.n_in_flight > 0;
        self.n_bytes = 0;
        self.n_in_flight = 0;
        self.n_in_flight_bytes = 0;
        self.next_send_at = None;
        self.n_failures = 0;
        std::mem::take(&mut self.events)
    }

    /// When [`Outbox::poll_batch`] next has something; changed by every
    /// `handle_*` call.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<UnixMs> {
        if self.is_in_flight() {
            None
        } else {
            self.next_send_at
        }
    }

    /// Every queued event, oldest first, for persisting.
    pub fn queued(&self) -> &[T] {
        &self.events
    }

    /// Number of queued events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Whether a batch is in flight (taken by [`Outbox::take_all`] or not).
    pub fn is_in_flight(&self) -> bool {
        self.n_in_flight > 0 || self.taken_in_flight
    }

    /// How many of the first events fit in one request, and their bytes.
    fn batch_len(&self) -> (usize, usize) {
        let mut n = 0;
        let mut bytes = 0;
        for event in &self.events {
            let b = event.n_bytes();
            if n == self.limits.batch_max_events
                || (n > 0 && bytes + b > self.limits.batch_max_bytes)
            {
                break;
            }
            n += 1;
            bytes += b;
        }
        (n, bytes)
    }

    /// Whether enough waits behind the batch in flight to send it at once
    /// (checked on every enqueue, so in constant time).
    fn waiting_batch_is_full(&self) -> bool {
        let waiting = self.events.len() - self.n_in_flight;
        let bytes = self.n_bytes - self.n_in_flight_bytes;
        waiting >= self.limits.send_at_once_events || bytes >= self.limits.batch_max_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test event: an id and its size in bytes.
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Ev(u32, usize);

    impl Queued for Ev {
        fn n_bytes(&self) -> usize {
            self.1
        }
    }

    fn ids(events: Option<&[Ev]>) -> Option<Vec<u32>> {
        events.map(|events| events.iter().map(|e| e.0).collect())
    }

    fn limits() -> OutboxLimits {
        OutboxLimits {
            max_events: 5,
            max_bytes: 1_000,
            batch_max_events: 3,
            batch_max_bytes: 300,
            send_at_once_events: 3,
            flush_interval_ms: 3_000,
            retry: RetryPolicy {
                base_delay_ms: 1_000,
                max_delay_ms: 60_000,
                max_retries: 2,
            },
        }
    }

    #[test]
    fn a_full_batch_is_due_at_once_and_the_rest_after_the_interval() {
        let mut o = Outbox::new(limits());
        for e in 1..=3 {
            o.handle_enqueue(UnixMs(10), Ev(e, 10));
        }
        assert_eq!(ids(o.poll_batch(UnixMs(10))), Some(vec![1, 2, 3]));
        o.handle_enqueue(UnixMs(20), Ev(4, 10));
        assert_eq!(
            o.poll_batch(UnixMs(20)),
            None,
            "one batch in flight at a time"
        );
        assert_eq!(
            o.handle_response(UnixMs(30), 200, 0),
            BatchOutcome::Delivered(3)
        );
        assert_eq!(ids(o.poll_batch(UnixMs(30))), Some(vec![4]));
    }

    #[test]
    fn what_piles_up_behind_a_batch_in_flight_leaves_in_one_bigger_request() {
        let mut o = Outbox::new(OutboxLimits {
            max_events: 100,
            batch_max_events: 50,
            send_at_once_events: 2,
            ..limits()
        });
        o.handle_enqueue(UnixMs(0), Ev(0, 1));
        o.handle_enqueue(UnixMs(0), Ev(1, 1));
        assert_eq!(
            ids(o.poll_batch(UnixMs(0))),
            Some(vec![0, 1]),
            "2 waiting: due now"
        );
        for e in 2..12 {
            assert_eq!(o.handle_enqueue(UnixMs(1), Ev(e, 1)), 0);
        }
        assert_eq!(
            o.handle_response(UnixMs(2), 200, 0),
            BatchOutcome::Delivered(2)
        );
        assert_eq!(ids(o.poll_batch(UnixMs(2))), Some((2..12).collect()));
    }

    #[test]
    fn batches_respect_the_byte_limit() {
        let mut o = Outbox::new(limits());
        o.handle_enqueue(UnixMs(0), Ev(1, 200));
        o.handle_enqueue(UnixMs(0), Ev(2, 200));
        assert_eq!(
            o.poll_timeout(),
            Some(UnixMs(0)),
            "300 bytes reached: due now"
        );
        assert_eq!(ids(o.poll_batch(UnixMs(0))), Some(vec![1]));
    }

    #[test]
    fn retries_with_backoff_then_gives_up() {
        let mut o = Outbox::new(limits());
        o.handle_enqueue(UnixMs(0), Ev(1, 10));
        assert!(o.poll_batch(UnixMs(3_000)).is_some());
        assert_eq!(
            o.handle_response(UnixMs(3_000), 503, 0),
            BatchOutcome::RetryAt(UnixMs(3_500))
        );
        assert_eq!(o.poll_batch(UnixMs(3_499)), None);
        assert!(o.poll_batch(UnixMs(3_500)).is_some());
        assert_eq!(
            o.handle_response(UnixMs(3_500), 0, u32::MAX),
            BatchOutcome::RetryAt(UnixMs(5_500))
        );
        assert!(o.poll_batch(UnixMs(5_500)).is_some());
        assert_eq!(
            o.handle_response(UnixMs(5_500), 500, 0),
            BatchOutcome::Dropped(1)
        );
        assert!(o.is_empty());
    }

    #[test]
    fn offline_is_retried_forever_at_the_longest_wait() {
        let mut o = Outbox::new(limits());
        o.handle_enqueue(UnixMs(0), Ev(1, 10));
        let mut now = UnixMs(3_000);
        for _ in 0..5 {
            assert!(o.poll_batch(now).is_some());
            match o.handle_response(now, 0, 0) {
                BatchOutcome::RetryAt(at) => now = at,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(o.poll_timeout(), Some(now));
        assert_eq!(o.len(), 1);
    }

    #[test]
    fn client_errors_drop_the_batch_without_retry() {
        let mut o = Outbox::new(limits());
        o.handle_enqueue(UnixMs(0), Ev(1, 10));
        o.handle_enqueue(UnixMs(0), Ev(2, 10));
        assert!(o.poll_batch(UnixMs(3_000)).is_some());
        assert_eq!(
            o.handle_response(UnixMs(3_000), 400, 0),
            BatchOutcome::Dropped(2)
        );
        assert_eq!(o.poll_timeout(), None);
    }

    #[test]
    fn retry_after_holds_the_retry_and_flushes_but_not_delivered_answers() {
        let mut o = Outbox::new(limits());
        o.handle_enqueue(UnixMs(0), Ev(1, 10));
        assert!(o.poll_batch(UnixMs(3_000)).is_some());
        // 429 with Retry-After: 7 s: longer than the backoff's 1 s.
        assert!(matches!(
            o.handle_response(UnixMs(3_000), 429, 0),
            BatchOutcome::RetryAt(_)
        ));
        o.handle_retry_after(UnixMs(3_000), "7");
        o.handle_flush(UnixMs(4_000));
        assert_eq!(o.poll_batch(UnixMs(9_999)), None);
        assert_eq!(o.poll_timeout(), Some(UnixMs(10_000)));
        assert!(o.poll_batch(UnixMs(10_000)).is_some());
        // A Retry-After on an answer that delivered delays nothing.
        o.handle_enqueue(UnixMs(10_000), Ev(2, 10));
        assert_eq!(
            o.handle_response(UnixMs(10_100), 200, 0),
            BatchOutcome::Delivered(1)
        );
        o.handle_retry_after(UnixMs(10_100), "60");
        assert_eq!(o.poll_timeout(), Some(UnixMs(10_100)));
        // Nor one the header cannot be read from.
        assert!(o.poll_batch(UnixMs(10_100)).is_some());
        o.handle_response(UnixMs(10_200), 503, 0);
        let backoff = o.poll_timeout();
        o.handle_retry_after(UnixMs(10_200), "soon");
        assert_eq!(o.poll_timeout(), backoff);
    }

    #[test]
    fn bounded_by_events_and_bytes_dropping_the_oldest_not_in_flight() {
        let mut o = Outbox::new(limits());
        o.handle_enqueue(UnixMs(0), Ev(0, 10));
        assert!(o.poll_batch(UnixMs(3_000)).is_some());
        let dropped: usize = (1..=6)
            .map(|e| o.handle_enqueue(UnixMs(3_000), Ev(e, 10)))
            .sum();
        assert_eq!(dropped, 2);
        assert_eq!(ids(Some(o.queued())), Some(vec![0, 3, 4, 5, 6]));
        assert_eq!(
            o.handle_enqueue(UnixMs(3_000), Ev(7, 990)),
            4,
            "bytes bound"
        );
        assert_eq!(ids(Some(o.queued())), Some(vec![0, 7]));
    }

    #[test]
    fn delivered_bytes_no_longer_count_against_the_bound() {
        let mut o = Outbox::new(limits());
        o.handle_enqueue(UnixMs(0), Ev(1, 290));
        o.handle_enqueue(UnixMs(0), Ev(2, 600));
        assert_eq!(ids(o.poll_batch(UnixMs(3_000))), Some(vec![1]));
        assert_eq!(
            o.handle_response(UnixMs(3_100), 200, 0),
            BatchOutcome::Delivered(1)
        );
        assert_eq!(
            o.handle_enqueue(UnixMs(3_100), Ev(3, 400)),
            0,
            "600 + 400 bytes fit in 1,000"
        );
        assert_eq!(o.handle_enqueue(UnixMs(3_100), Ev(4, 1)), 1);
        assert_eq!(ids(Some(o.queued())), Some(vec![3, 4]));
    }

    #[test]
    fn explicit_flush_skips_the_wait() {
        let mut o = Outbox::new(limits());
        o.handle_enqueue(UnixMs(0), Ev(1, 10));
        o.handle_flush(UnixMs(5));
        assert_eq!(ids(o.poll_batch(UnixMs(5))), Some(vec![1]));
    }

    #[test]
    fn the_answer_to_a_batch_taken_away_touches_nothing_queued_since() {
        let mut o = Outbox::new(limits());
        o.handle_enqueue(UnixMs(0), Ev(1, 10));
        assert!(o.poll_batch(UnixMs(3_000)).is_some());
        // Opted out (or left the page) while the batch was in flight.
        assert_eq!(ids(Some(&o.take_all())), Some(vec![1]));
        o.handle_response(UnixMs(3_100), 503, 0);
        assert_eq!(
            o.poll_timeout(),
            None,
            "nothing queued, so nothing due: a due time with no batch would spin the timer"
        );
        // Again in flight when taken; opted in again (or back from the
        // back-forward cache) before the answer came.
        o.handle_enqueue(UnixMs(3_200), Ev(2, 10));
        assert!(o.poll_batch(UnixMs(6_200)).is_some());
        assert_eq!(ids(Some(&o.take_all())), Some(vec![2]));
        o.handle_enqueue(UnixMs(6_300), Ev(3, 10));
        assert_eq!(
            o.poll_batch(UnixMs(9_300)),
            None,
            "one request at a time: the taken batch is still unanswered"
        );
        assert_eq!(o.poll_timeout(), None);
        o.handle_response(UnixMs(9_400), 200, 0);
        assert_eq!(
            ids(Some(o.queued())),
            Some(vec![3]),
            "not dropped by that answer"
        );
        assert_eq!(ids(o.poll_batch(UnixMs(9_400))), Some(vec![3]));
        assert_eq!(
            o.handle_response(UnixMs(9_500), 200, 0),
            BatchOutcome::Delivered(1)
        );
        assert!(o.is_empty());
    }

    #[test]
    fn take_all_takes_everything_in_order() {
        let mut o = Outbox::new(limits());
        for (e, bytes) in [(1, 40), (2, 40), (3, 30), (4, 90), (5, 10)] {
            o.handle_enqueue(UnixMs(0), Ev(e, bytes));
        }
        assert!(
            o.poll_batch(UnixMs(0)).is_some(),
            "in-flight events leave too"
        );
        assert_eq!(ids(Some(&o.take_all())), Some(vec![1, 2, 3, 4, 5]));
        assert!(o.is_empty() && o.is_in_flight(), "its answer is still owed");
        assert_eq!(o.poll_timeout(), None);
        o.handle_response(UnixMs(5), 0, 0);
        assert!(!o.is_in_flight());
        o.handle_enqueue(UnixMs(9), Ev(6, 10));
        assert_eq!(o.poll_timeout(), Some(UnixMs(3_009)), "a fresh start");
    }
}
