//! Time as a value. Only `src/io` reads the clock; everything else is handed an `Instant`.

use core::ops::{Add, Sub};
use core::time::Duration;

/// A point on the monotonic clock, in microseconds since an arbitrary origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);

    pub const fn from_micros(us: u64) -> Self {
        Instant(us)
    }
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms * 1000)
    }
    pub const fn as_micros(self) -> u64 {
        self.0
    }
    pub const fn as_millis(self) -> u64 {
        self.0 / 1000
    }
    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    // Out of line: inlined at every timer computation it costs 0.2 KB.
    #[inline(never)]
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.as_micros() as u64))
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant(self.0.saturating_sub(d.as_micros() as u64))
    }
}

impl core::fmt::Display for Instant {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// A wall-clock time broken down as C's `struct tm` does, for texts keepalived writes (mail Date
/// headers, dumps). The seconds come in already shifted to local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 is Sunday.
    pub weekday: usize,
}

impl Civil {
    pub const DAY_NAMES: [&'static str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    pub const MONTH_NAMES: [&'static str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];

    /// `secs` since 1970-01-01 00:00:00, proleptic Gregorian (the date part is Howard
    /// Hinnant's `civil_from_days`).
    pub fn from_secs(secs: i64) -> Civil {
        let days = secs.div_euclid(86_400);
        let s = secs.rem_euclid(86_400) as u32;
        let z = days.saturating_add(719_468);
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
        Civil {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day: (doy - (153 * mp + 2) / 5 + 1) as u32,
            hour: s / 3600,
            minute: s / 60 % 60,
            second: s % 60,
            weekday: (days + 4).rem_euclid(7) as usize,
        }
    }

    pub fn day_name(&self) -> &'static str {
        Self::DAY_NAMES[self.weekday]
    }

    pub fn month_name(&self) -> &'static str {
        Self::MONTH_NAMES[(self.month - 1) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let t = Instant::from_millis(1500);
        assert_eq!((t + Duration::from_millis(20)).as_micros(), 1_520_000);
        assert_eq!((t - Duration::from_secs(5)), Instant::ZERO);
        assert_eq!(
            t.saturating_since(Instant::from_millis(500)),
            Duration::from_secs(1)
        );
        assert_eq!(Instant::ZERO.saturating_since(t), Duration::ZERO);
        assert_eq!(t.to_string(), "1.500000s");
    }

    #[test]
    fn civil_dates() {
        let c = Civil::from_secs(0);
        assert_eq!((c.year, c.month, c.day, c.day_name()), (1970, 1, 1, "Thu"));
        let c = Civil::from_secs(-1);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (1969, 12, 31, 23, 59, 59)
        );
        let c = Civil::from_secs(11_016 * 86_400 + 3_723);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (2000, 2, 29, 1, 2, 3)
        );
        assert_eq!((c.day_name(), c.month_name()), ("Tue", "Feb"));
    }
}
