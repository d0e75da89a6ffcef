use ff_telemetry_wire::UnixMs;

/// Two random draws, taken once at start, that pick the daily send time.
///
/// Any `u32` is fine; the schedule reduces them to an hour (0–23) and a minute (0–59),
/// as FlowFuse does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleDraw {
    /// Picks the hour of day.
    pub hour: u32,
    /// Picks the minute of the hour.
    pub minute: u32,
}

/// When usage pings are due: once `startup_delay_ms` after start (only if the platform
/// was already initialised then), and every day at a time of day drawn at start, in
/// the platform's UTC offset.
///
/// Pure: the caller says when it started and what it drew, and asks for the next
/// send after any instant.
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_core::ping::{PingSchedule, ScheduleDraw};
/// let start = UnixMs(0); // midnight UTC
/// let s = PingSchedule::new(start, true, ScheduleDraw { hour: 3, minute: 70 }, 30_000, 0);
/// assert_eq!(s.daily_time(), (3, 10));
/// assert_eq!(s.next_after(start), UnixMs(30_000));
/// assert_eq!(s.next_after(UnixMs(30_000)), UnixMs((3 * 60 + 10) * 60_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingSchedule {
    startup_at: Option<UnixMs>,
    /// Minute of the local day, 0..1440.
    daily_minute: u32,
    utc_offset_minutes: i32,
}

impl PingSchedule {
    /// A schedule for a platform started at `started`.
    ///
    /// `utc_offset_minutes` is the platform's fixed offset from UTC (e.g. 120 for
    /// UTC+2); the daily time is a local wall-clock time.
    pub fn new(
        started: UnixMs,
        initialised_at_start: bool,
        draw: ScheduleDraw,
        startup_delay_ms: u64,
        utc_offset_minutes: i32,
    ) -> Self {
        PingSchedule {
            startup_at: initialised_at_start.then_some(started + startup_delay_ms),
            daily_minute: (draw.hour % 24) * 60 + draw.minute % 60,
            utc_offset_minutes: utc_offset_minutes.clamp(-18 * 60, 18 * 60),
        }
    }

    /// The first-run setup finished at `now`: a platform started before its setup
    /// sends its first ping `startup_delay_ms` later, as if it had just started
    /// initialised, instead of waiting for the next daily time. A schedule that
    /// already has a startup ping keeps it.
    ///
    /// ```
    /// use ff_telemetry_wire::UnixMs;
    /// use ff_telemetry_core::ping::{PingSchedule, ScheduleDraw};
    /// let mut s = PingSchedule::new(UnixMs(0), false, ScheduleDraw { hour: 3, minute: 0 }, 30_000, 0);
    /// s.handle_setup_done(UnixMs(60_000), 30_000);
    /// assert_eq!(s.next_after(UnixMs(60_000)), UnixMs(90_000));
    /// ```
    pub fn handle_setup_done(&mut self, now: UnixMs, startup_delay_ms: u64) {
        if self.startup_at.is_none() {
            self.startup_at = Some(now + startup_delay_ms);
        }
    }

    /// The drawn local send time as (hour, minute).
    pub fn daily_time(&self) -> (u8, u8) {
        (
            (self.daily_minute / 60) as u8,
            (self.daily_minute % 60) as u8,
        )
    }

    /// The one-off ping after start, if the platform was initialised at start.
    pub fn startup_at(&self) -> Option<UnixMs> {
        self.startup_at
    }

    /// The first daily send time strictly after `t`.
    pub fn next_daily_after(&self, t: UnixMs) -> UnixMs {
        let day = UnixMs::DAY as i128;
        let offset = i128::from(self.utc_offset_minutes) * UnixMs::MINUTE as i128;
        let local = i128::from(t.0) + offset;
        let slot = i128::from(self.daily_minute) * UnixMs::MINUTE as i128;
        let mut candidate = local.div_euclid(day) * day + slot;
        if candidate <= local {
            candidate += day;
        }
        UnixMs(u64::try_from(candidate - offset).unwrap_or(u64::MAX))
    }

    /// The first send time strictly after `t`: the startup ping or a daily one.
    pub fn next_after(&self, t: UnixMs) -> UnixMs {
        let daily = self.next_daily_after(t);
        match self.startup_at {
            Some(at) if at > t && at < daily => at,
            _ => daily,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const DRAW_0310: ScheduleDraw = ScheduleDraw {
        hour: 3,
        minute: 10,
    };

    fn at(day: u64, h: u64, m: u64) -> UnixMs {
        UnixMs(day * UnixMs::DAY + h * UnixMs::HOUR + m * UnixMs::MINUTE)
    }

    #[test]
    fn startup_ping_only_when_initialised() {
        let started = at(100, 12, 0);
        let s = PingSchedule::new(started, false, DRAW_0310, 30_000, 0);
        assert_eq!(s.startup_at(), None);
        assert_eq!(s.next_after(started), at(101, 3, 10));
        let s = PingSchedule::new(started, true, DRAW_0310, 30_000, 0);
        assert_eq!(s.next_after(started), started + 30_000);
    }

    #[test]
    fn setup_done_after_start_brings_the_first_ping_forward_once() {
        let started = at(100, 12, 0);
        let mut s = PingSchedule::new(started, false, DRAW_0310, 30_000, 0);
        let setup = at(100, 12, 5);
        s.handle_setup_done(setup, 30_000);
        assert_eq!(s.startup_at(), Some(setup + 30_000));
        assert_eq!(s.next_after(setup), setup + 30_000);
        assert_eq!(s.next_after(setup + 30_000), at(101, 3, 10));
        // A second notice (another request, a replay) moves nothing.
        s.handle_setup_done(at(100, 13, 0), 30_000);
        assert_eq!(s.startup_at(), Some(setup + 30_000));
        // Nor does one on a platform that started initialised.
        let mut s = PingSchedule::new(started, true, DRAW_0310, 30_000, 0);
        s.handle_setup_done(setup, 30_000);
        assert_eq!(s.startup_at(), Some(started + 30_000));
    }

    #[test]
    fn daily_time_crosses_midnight() {
        let s = PingSchedule::new(
            at(0, 0, 0),
            false,
            ScheduleDraw {
                hour: 23,
                minute: 59,
            },
            0,
            0,
        );
        assert_eq!(s.next_after(at(5, 23, 58)), at(5, 23, 59));
        assert_eq!(s.next_after(at(5, 23, 59)), at(6, 23, 59));
        let s = PingSchedule::new(
            at(0, 0, 0),
            false,
            ScheduleDraw { hour: 0, minute: 0 },
            0,
            0,
        );
        assert_eq!(s.next_after(at(5, 23, 59)), at(6, 0, 0));
    }

    #[test]
    fn offsets_shift_the_local_time() {
        // 03:10 at UTC+2 is 01:10 UTC; at UTC-5 it is 08:10 UTC.
        let plus2 = PingSchedule::new(at(0, 0, 0), false, DRAW_0310, 0, 120);
        assert_eq!(plus2.next_after(at(10, 0, 0)), at(10, 1, 10));
        assert_eq!(plus2.next_after(at(10, 1, 10)), at(11, 1, 10));
        let minus5 = PingSchedule::new(at(0, 0, 0), false, DRAW_0310, 0, -300);
        assert_eq!(minus5.next_after(at(10, 9, 0)), at(11, 8, 10));
        // 00:30 local at UTC+1 is 23:30 UTC the day before.
        let s = PingSchedule::new(
            at(0, 0, 0),
            false,
            ScheduleDraw {
                hour: 0,
                minute: 30,
            },
            0,
            60,
        );
        assert_eq!(s.next_after(at(10, 12, 0)), at(10, 23, 30));
    }

    #[test]
    fn sends_are_a_day_apart() {
        let s = PingSchedule::new(
            at(3, 7, 0),
            true,
            ScheduleDraw {
                hour: 17,
                minute: 42,
            },
            30_000,
            330,
        );
        let mut t = at(3, 7, 0);
        t = s.next_after(t); // startup
        let first_daily = s.next_after(t);
        let mut prev = first_daily;
        for _ in 0..400 {
            let next = s.next_after(prev);
            assert_eq!(next.0 - prev.0, UnixMs::DAY);
            prev = next;
        }
    }

    #[test]
    fn every_minute_of_the_day_is_reachable_and_none_outside() {
        let mut seen = HashSet::new();
        // Draws as a random generator gives them: whole u32 range, plus every small value.
        let mut x: u32 = 0x9E37_79B9;
        let draws = (0..24u32)
            .flat_map(|h| (0..60u32).map(move |m| (h, m)))
            .chain((0..200_000).map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let h = x;
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (h, x)
            }));
        for (hour, minute) in draws {
            let s = PingSchedule::new(UnixMs(0), false, ScheduleDraw { hour, minute }, 0, 0);
            let next = s.next_daily_after(UnixMs(0));
            assert!(next.0 > 0 && next.0 <= UnixMs::DAY, "{hour} {minute}");
            assert_eq!(next.0 % UnixMs::MINUTE, 0);
            let (h, m) = s.daily_time();
            assert!(h < 24 && m < 60);
            seen.insert(next.0 / UnixMs::MINUTE);
        }
        assert_eq!(seen.len(), 1440);
        // next_daily_after is strictly after t, so minute 0 shows up as the next day.
        assert!(seen.iter().all(|&minute| (1..=1440).contains(&minute)));
    }
}
