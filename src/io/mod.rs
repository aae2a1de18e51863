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

/// keepalived's `-P` (`--vrrp`) and `-C` (`--check`): which subsystems run. keepalived runs
/// each in a child process of its own; here they share the one process, and the other's part
/// of the configuration is left out at start and at each reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subsystems {
    /// VRRP: instances, sync groups, their scripts and tracked files (off with `-C`).
    pub vrrp: bool,
    /// The health checkers and IPVS: `virtual_server`s (off with `-P`).
    pub checkers: bool,
}

impl Subsystems {
    pub const ALL: Subsystems = Subsystems {
        vrrp: true,
        checkers: true,
    };

    /// Leaves out of `config` what does not run; what keepalived's other process would
    /// have done with it (the VRRP or LVS notify FIFO) goes too.
    pub fn restrict(self, config: &mut Config) {
        if !self.vrrp {
            config.instances.clear();
            config.sync_groups.clear();
            config.scripts.clear();
            config.track_files.clear();
            config.global.vrrp_notify_fifo = None;
        }
        if !self.checkers {
            config.virtual_servers.clear();
            config.vs_groups.clear();
            config.global.lvs_notify_fifo = None;
        }
    }
}

/// Where the daemon writes its process id: `-p`'s file always; `-r`'s (keepalived's VRRP
/// child) when VRRP runs and `-c`'s (its checker child) when the checkers run, each holding
/// this one process's id.
pub struct PidFiles<'a> {
    pub main: &'a Path,
    pub vrrp: Option<&'a Path>,
    pub checkers: Option<&'a Path>,
}

/// Starts the daemon (forking when `daemonize`), runs it until stopped and returns the exit
/// code keepalived would.
pub fn run(
    config: Config,
    conf_path: &Path,
    pidfiles: &PidFiles,
    only: Subsystems,
    daemonize: bool,
) -> u8 {
    info!(
        "Starting keepalived-rs {} with {}",
        env!("CARGO_PKG_VERSION"),
        conf_path.display()
    );
    let paths = [
        Some(pidfiles.main),
        pidfiles.vrrp.filter(|_| only.vrrp),
        pidfiles.checkers.filter(|_| only.checkers),
    ];
    for p in paths.iter().flatten() {
        if let Err(e) = pidfile::check_not_running(p) {
            error!("{e}");
            return 1;
        }
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
    let mut d = match daemon::Daemon::new(config, conf_path, only) {
        Ok(d) => d,
        Err(e) => return fail(ready, e.to_string()),
    };
    // The pidfiles appear once the sockets are open: a script that sees one can rely on it.
    let mut pids = Vec::with_capacity(3);
    for p in paths.iter().flatten() {
        match pidfile::PidFile::create(p) {
            Ok(f) => pids.push(f),
            Err(e) => return fail(ready, format!("pidfile {}: {e}", p.display())),
        }
    }
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
