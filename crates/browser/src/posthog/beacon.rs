//! Leaving the page: the unsent events go by beacon, which the browser may
//! refuse (over 64 KiB, or its in-flight quota used up). A refused batch is
//! halved until each part is accepted; an event refused on its own is kept
//! for the next page load.

use super::BEACON_MAX_BYTES;

/// Hands `events` to `send` (one `navigator.sendBeacon` with the body
/// `body_of` writes for them), halving what is refused or larger than a
/// beacon may be. Returns the events that were refused even alone.
pub fn send_halving<'a, T>(
    events: &'a [T],
    body_of: &impl Fn(&[T]) -> String,
    send: &mut impl FnMut(&str) -> bool,
) -> Vec<&'a T> {
    let mut refused = Vec::new();
    send_part(events, body_of, send, &mut refused);
    refused
}

fn send_part<'a, T>(
    events: &'a [T],
    body_of: &impl Fn(&[T]) -> String,
    send: &mut impl FnMut(&str) -> bool,
    refused: &mut Vec<&'a T>,
) {
    if events.is_empty() {
        return;
    }
    let body = body_of(events);
    if body.len() <= BEACON_MAX_BYTES && send(&body) {
        return;
    }
    match events {
        [event] => refused.push(event),
        _ => {
            let (first, second) = events.split_at(events.len() / 2);
            send_part(first, body_of, send, refused);
            send_part(second, body_of, send, refused);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(events: &[String]) -> String {
        events.join(",")
    }

    #[test]
    fn what_fits_goes_in_one_beacon() {
        let events = vec!["a".to_owned(), "b".to_owned()];
        let mut sent = Vec::new();
        let refused = send_halving(&events, &body, &mut |b: &str| {
            sent.push(b.to_owned());
            true
        });
        assert_eq!(sent, ["a,b"]);
        assert!(refused.is_empty());
    }

    #[test]
    fn a_body_over_the_beacon_limit_is_split_without_asking_the_browser() {
        let big = "x".repeat(BEACON_MAX_BYTES / 2 + 1);
        let events = vec![big.clone(), big.clone(), big];
        let mut n_sent = 0;
        let refused = send_halving(&events, &body, &mut |b: &str| {
            assert!(b.len() <= BEACON_MAX_BYTES);
            n_sent += 1;
            true
        });
        assert_eq!(n_sent, 3);
        assert!(refused.is_empty());
    }

    #[test]
    fn a_refused_beacon_is_halved_and_single_refusals_are_kept() {
        let events: Vec<String> = ["a", "b", "c", "d"].map(String::from).into();
        // The browser takes only beacons without "c".
        let mut sent = Vec::new();
        let refused = send_halving(&events, &body, &mut |b: &str| {
            let ok = !b.contains('c');
            if ok {
                sent.push(b.to_owned());
            }
            ok
        });
        assert_eq!(sent, ["a,b", "d"]);
        assert_eq!(refused, [&"c".to_owned()]);
    }
}
