//! The OS edge: the poll loop, sockets, signals, the clock, logging, the pidfile. The only
//! place with syscalls and `unsafe`.
#![allow(unsafe_code)]

mod arp_sock;
#[cfg(feature = "lb")]
pub mod checks;
pub mod children;
pub mod clock;
mod daemon;
mod detach;
mod dump;
mod fifo;
mod files;
pub mod fs;
#[cfg(feature = "lb")]
pub mod ipvs;
pub mod log;
mod mail;
mod pidfile;
pub mod poller;
pub mod rtnl;
pub mod security;
pub mod signals;
mod stats;
mod sys;
mod vrrp_sock;

use crate::config::Config;
use std::path::Path;

/// The message of an `io::Error` we make. `io::Error::new(kind, String)` would box std's
/// `StringError`, whose `Debug` links in `str`'s escaping `Debug` (0.9 KB with Rust 1.88).
struct Msg(String);

impl core::fmt::Debug for Msg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::fmt::Display for Msg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Msg {}

/// An `io::Error` of `kind` that displays as `msg`.
fn error(kind: std::io::ErrorKind, msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(kind, Msg(msg.into()))
}

/// Starts the daemon (forking when `daemonize`), runs it until stopped and returns the exit
/// code keepalived would.
pub fn run(config: Config, conf_path: &Path, pidfile: &Path, daemonize: bool) -> u8 {
    info!(
        "Starting keepalived-rs {} with {}",
        env!("CARGO_PKG_VERSION"),
        conf_path.display()
    );
    if let Err(e) = pidfile::check_not_running(pidfile) {
        error!("{e}");
        return 1;
    }
    let ready = if daemonize {
        match detach::detach() {
            Ok(r) => Some(r),
            Err(e) => {
                error!("daemon: {e}");
                return 1;
            }
        }
    } else {
        None
    };
    let fail = |ready: Option<detach::Ready>, msg: String| {
        error!("{msg}");
        if let Some(r) = ready {
            r.report(1);
        }
        1
    };
    let mut d = match daemon::Daemon::new(config, conf_path) {
        Ok(d) => d,
        Err(e) => return fail(ready, e.to_string()),
    };
    // The pidfile appears once the sockets are open: a script that sees it can rely on it.
    let _pid = match pidfile::PidFile::create(pidfile) {
        Ok(p) => p,
        Err(e) => return fail(ready, format!("pidfile {}: {e}", pidfile.display())),
    };
    if let Some(r) = ready {
        r.report(0);
    }
    match d.run() {
        Ok(()) => {
            info!("Stopped");
            0
        }
        Err(e) => {
            error!("{e}");
            1
        }
    }
}
