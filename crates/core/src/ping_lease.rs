//! Which replica sends a usage ping: a lease record kept in the platform database.
//!
//! Every replica of a platform runs the same schedule. Before sending, a replica reads
//! the lease, asks [`decide_claim`] whether it may take the slot, and writes its own
//! lease only if the record it read is still there (compare-and-swap). The database
//! therefore picks exactly one sender per slot, with no broadcast election.
//!
//! The same record stops crash loops: a startup ping is skipped when any ping was
//! claimed in the last [`STARTUP_QUIET_MS`].

use serde::{Deserialize, Serialize};

use ff_telemetry_wire::UnixMs;

/// A restarted platform sends no startup ping if a ping was claimed this recently.
pub const STARTUP_QUIET_MS: u64 = UnixMs::HOUR;

/// The kind of send a slot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotKind {
    /// The one-off ping shortly after a start.
    Startup,
    /// The daily ping at the drawn time of day.
    Daily,
}

/// The last claimed ping slot, as stored (JSON) in the platform's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingLease {
    /// Startup or daily.
    pub kind: SlotKind,
    /// The scheduled instant of the slot (shared by all replicas for daily slots).
    pub slot: UnixMs,
    /// Which replica claimed it (a random id per process, for logs).
    pub holder: String,
    /// When it was claimed.
    pub claimed_at: UnixMs,
}

/// The answer of [`decide_claim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimDecision {
    /// Write a new lease for this slot and send if the write wins.
    Claim,
    /// Another replica already claimed this daily slot (or a later one).
    SlotTaken,
    /// A startup ping right after another ping: a restart loop or a replica starting
    /// beside others.
    RecentPing,
}

/// Whether a replica may claim the `kind` slot scheduled at `slot`, given the lease
/// it just read (`None` when no ping was ever claimed).
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_core::ping_lease::{decide_claim, ClaimDecision, PingLease, SlotKind};
/// let noon = UnixMs(12 * UnixMs::HOUR);
/// let sent_at_noon = PingLease {
///     kind: SlotKind::Daily, slot: noon, holder: "a".into(), claimed_at: noon,
/// };
/// assert_eq!(decide_claim(None, SlotKind::Daily, noon, noon), ClaimDecision::Claim);
/// assert_eq!(decide_claim(Some(&sent_at_noon), SlotKind::Daily, noon, noon), ClaimDecision::SlotTaken);
/// assert_eq!(
///     decide_claim(Some(&sent_at_noon), SlotKind::Startup, noon + 60_000, noon + 60_000),
///     ClaimDecision::RecentPing
/// );
/// ```
#[must_use]
pub fn decide_claim(
    current: Option<&PingLease>,
    kind: SlotKind,
    slot: UnixMs,
    now: UnixMs,
) -> ClaimDecision {
    let Some(current) = current else {
        return ClaimDecision::Claim;
    };
    match kind {
        SlotKind::Daily if current.kind == SlotKind::Daily && current.slot >= slot => {
            ClaimDecision::SlotTaken
        }
        SlotKind::Daily => ClaimDecision::Claim,
        // A lease claimed "in the future" (a replica whose clock runs ahead) is recent too.
        SlotKind::Startup if now.saturating_since(current.claimed_at) < STARTUP_QUIET_MS => {
            ClaimDecision::RecentPing
        }
        SlotKind::Startup => ClaimDecision::Claim,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(kind: SlotKind, slot_min: u64, claimed_min: u64) -> PingLease {
        PingLease {
            kind,
            slot: UnixMs(slot_min * UnixMs::MINUTE),
            holder: "replica-a".into(),
            claimed_at: UnixMs(claimed_min * UnixMs::MINUTE),
        }
    }

    #[test]
    fn claim_table() {
        use ClaimDecision::{Claim, RecentPing, SlotTaken};
        use SlotKind::{Daily, Startup};
        let day = 24 * 60;
        // (current lease, kind, slot minute, now minute, decision)
        let table = [
            (None, Daily, 600, 600, Claim),
            (None, Startup, 600, 600, Claim),
            // Daily: one sender per slot; an older slot never blocks a newer one.
            (Some(lease(Daily, 600, 600)), Daily, 600, 600, SlotTaken),
            (Some(lease(Daily, 600, 600)), Daily, 600, 601, SlotTaken),
            (
                Some(lease(Daily, 600 + day, 600 + day)),
                Daily,
                600,
                700,
                SlotTaken,
            ),
            (
                Some(lease(Daily, 600, 600)),
                Daily,
                600 + day,
                600 + day,
                Claim,
            ),
            // A startup ping does not take a daily slot, even a close one.
            (Some(lease(Startup, 599, 599)), Daily, 600, 600, Claim),
            // Startup: quiet for an hour after any claim.
            (Some(lease(Daily, 600, 600)), Startup, 610, 610, RecentPing),
            (
                Some(lease(Startup, 600, 600)),
                Startup,
                659,
                659,
                RecentPing,
            ),
            (Some(lease(Startup, 600, 600)), Startup, 660, 660, Claim),
            (Some(lease(Daily, 600, 600)), Startup, 2_000, 2_000, Claim),
            (
                Some(lease(Startup, 700, 700)),
                Startup,
                600,
                600,
                RecentPing,
            ),
        ];
        for (current, kind, slot, now, want) in table {
            let got = decide_claim(
                current.as_ref(),
                kind,
                UnixMs(slot * UnixMs::MINUTE),
                UnixMs(now * UnixMs::MINUTE),
            );
            assert_eq!(got, want, "{current:?} {kind:?} slot {slot} now {now}");
        }
    }

    #[test]
    fn lease_round_trips_as_json() {
        let l = lease(SlotKind::Startup, 1, 2);
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"startup","slot":60000,"holder":"replica-a","claimed_at":120000}"#
        );
        assert_eq!(serde_json::from_str::<PingLease>(&json).unwrap(), l);
    }
}
