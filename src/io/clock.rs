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

/// Now on the wall clock (CLOCK_REALTIME) with the local UTC offset: only the state dumps
/// and mail Date headers show it (keepalived prints wall-clock times there); timers never use
/// it.
pub fn wall_now() -> crate::vrrp::router::dump::WallTime {
    let micros = match nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME) {
        Ok(ts) => ts.tv_sec() * 1_000_000 + ts.tv_nsec() / 1000,
        Err(_) => 0,
    };
    // nix's TimeSpec seconds are the libc's time_t already (libc marks musl's time_t alias
    // deprecated ahead of a change of width; naming it is not needed).
    let secs = nix::sys::time::TimeSpec::new(micros.div_euclid(1_000_000), 0).tv_sec();
    // SAFETY: `tm` is plain data that localtime_r fills; both pointers are valid for the call.
    let utc_offset = unsafe {
        let mut tm: libc::tm = core::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            0
        } else {
            tm.tm_gmtoff as i32
        }
    };
    crate::vrrp::router::dump::WallTime { micros, utc_offset }
}
