//! Signals arrive as readable data on a signalfd, so the poll loop handles them in order with
//! everything else.

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};

pub struct Signals {
    fd: SignalFd,
}

/// The signals keepalived acts on.
const HANDLED: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGCHLD,
];

impl Signals {
    /// Blocks the handled signals and opens a non-blocking signalfd for them.
    pub fn open() -> io::Result<Self> {
        let mut set = SigSet::empty();
        for s in HANDLED {
            set.add(s);
        }
        set.thread_block().map_err(io::Error::from)?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(io::Error::from)?;
        Ok(Signals { fd })
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_fd().as_raw_fd()
    }

    /// The next pending signal, if any.
    pub fn pending(&mut self) -> Option<Signal> {
        match self.fd.read_signal() {
            Ok(Some(info)) => Signal::try_from(info.ssi_signo as i32).ok(),
            _ => None,
        }
    }
}

/// `--signum=NAME`: the number of a signal keepalived knows by name, as keepalived prints it.
pub fn signum(name: &str) -> Option<i32> {
    let n = match name {
        "STOP" => libc::SIGTERM,
        "RELOAD" => libc::SIGHUP,
        "DATA" => libc::SIGUSR1,
        "STATS" => libc::SIGUSR2,
        "JSON" => libc::SIGRTMIN() + 2,
        _ => return None,
    };
    Some(n)
}
