//! keepalived-rs: keepalived's VRRP failover as one small single-threaded daemon.
//!
//! Layout (see README.md): `config` parses keepalived.conf into an immutable value, `wire` holds
//! packet formats as typed views, `vrrp` is the pure protocol logic driven by `now`, `netlink`
//! builds and parses rtnetlink messages, and `io` is the only place that makes syscalls, reads
//! the clock or uses `unsafe`.
#![deny(unsafe_code)]

// Logging: `error!`, `warn!`, `info!`, `debug!` take `format!` arguments like the `log` crate's
// macros, but each call site only builds its `format_args!` and calls one shared function. A
// `log::warn!` site also carries its own level check and target/location records (about 100
// bytes of code and data each, for ~45 sites). The logger prints only the level and message.
macro_rules! error {
    ($($t:tt)*) => { $crate::logf::error(format_args!($($t)*)) };
}
macro_rules! warn {
    ($($t:tt)*) => { $crate::logf::warn(format_args!($($t)*)) };
}
macro_rules! info {
    ($($t:tt)*) => { $crate::logf::info(format_args!($($t)*)) };
}
macro_rules! debug {
    ($($t:tt)*) => { $crate::logf::debug(format_args!($($t)*)) };
}

// The load balancer's lines (checkers, pools, IPVS, ha_suspend): keepalived's checker process
// logs them, so they carry its syslog ident (`logf::CHECKERS`, the records' target).
#[cfg(feature = "lb")]
macro_rules! lb_error {
    ($($t:tt)*) => { $crate::logf::checker(log::Level::Error, format_args!($($t)*)) };
}
#[cfg(feature = "lb")]
macro_rules! lb_warn {
    ($($t:tt)*) => { $crate::logf::checker(log::Level::Warn, format_args!($($t)*)) };
}
#[cfg(feature = "lb")]
macro_rules! lb_info {
    ($($t:tt)*) => { $crate::logf::checker(log::Level::Info, format_args!($($t)*)) };
}

/// The functions behind the logging macros: the only `log` call sites of the library.
pub mod logf {
    use core::fmt::Arguments;

    /// The target of the load balancer's records, which the logger writes as their syslog
    /// ident (keepalived 2.2.7's checker process's); every other record is `Keepalived_vrrp`'s.
    pub const CHECKERS: &str = "Keepalived_healthcheckers";

    #[cfg(feature = "lb")]
    #[inline(never)]
    pub fn checker(level: log::Level, a: Arguments) {
        log::log!(target: CHECKERS, level, "{a}");
    }

    #[inline(never)]
    pub fn error(a: Arguments) {
        log::error!("{a}");
    }
    #[inline(never)]
    pub fn warn(a: Arguments) {
        log::warn!("{a}");
    }
    #[inline(never)]
    pub fn info(a: Arguments) {
        log::info!("{a}");
    }
    #[inline(never)]
    pub fn debug(a: Arguments) {
        log::debug!("{a}");
    }
}

#[cfg(feature = "lb")]
pub mod check;
pub mod config;
pub mod io;
#[cfg(feature = "lb")]
pub mod ipvs;
pub mod netlink;
pub mod notify;
pub mod time;
pub mod track;
pub mod vrrp;
pub mod wire;
