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

/// The functions behind the logging macros: the only `log` call sites of the library.
pub mod logf {
    use core::fmt::Arguments;

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
