//! The only clock read in the program.

use crate::time::Instant;

/// Now on CLOCK_MONOTONIC.
pub fn now() -> Instant {
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC) {
        Ok(ts) => Instant::from_micros(ts.tv_sec() as u64 * 1_000_000 + ts.tv_nsec() as u64 / 1000),
        // CLOCK_MONOTONIC cannot fail on Linux; never let time run backwards if it did.
        Err(_) => Instant::ZERO,
    }
}

/// Seconds since the epoch on CLOCK_REALTIME (mail Date headers, dumps).
pub fn wall_secs() -> i64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME).map_or(0, |ts| ts.tv_sec())
}
