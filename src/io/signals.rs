//! Signals arrive as readable data on a signalfd, so the poll loop handles them in order with
//! everything else.
//!
//! Every catchable signal whose default action would end the process is taken through the
//! signalfd, not only the ones keepalived acts on: an unexpected SIGALRM or real-time signal
//! (OpenWrt's status call sends keepalived's JSON signal, SIGRTMIN+2) must never kill the
//! daemon and leave its VIPs on the interface while the peer takes over.

use nix::sys::signal::SigSet;
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};

pub struct Signals {
    fd: SignalFd,
}

/// What a signal asks of the daemon (keepalived's `--signum` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// TERM, INT (and QUIT): stop cleanly.
    Stop,
    /// HUP: reload the configuration.
    Reload,
    /// USR1: write `/tmp/keepalived.data`.
    Data,
    /// USR2: write `/tmp/keepalived.stats`.
    Stats,
    /// SIGRTMAX-1: write the statistics, then zero them.
    StatsClear,
    /// SIGRTMIN+2: write `/tmp/keepalived.json`.
    Json,
    /// CHLD: reap children.
    Child,
    /// Anything else: logged and ignored.
    Other(i32),
}

fn json() -> i32 {
    libc::SIGRTMIN() + 2
}

fn stats_clear() -> i32 {
    libc::SIGRTMAX() - 1
}

/// Signals whose default action terminates the process and that can be caught synchronously
/// through a signalfd (not SIGSEGV and its kin, not SIGKILL/SIGSTOP), besides the real-time ones.
const CAUGHT: [i32; 17] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGHUP,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGCHLD,
    libc::SIGALRM,
    libc::SIGPIPE,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGIO,
    libc::SIGPWR,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGSTKFLT,
    libc::SIGTRAP,
];

impl Signals {
    /// Blocks the caught signals and opens a non-blocking signalfd for them. Children get an
    /// empty mask back (std's `Command` resets it before exec).
    pub fn open() -> io::Result<Self> {
        let set = caught_set();
        set.thread_block().map_err(io::Error::from)?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(io::Error::from)?;
        Ok(Signals { fd })
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_fd().as_raw_fd()
    }

    /// The next pending signal, if any.
    pub fn pending(&mut self) -> Option<Request> {
        let info = self.fd.read_signal().ok()??;
        let n = info.ssi_signo as i32;
        Some(match n {
            libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => Request::Stop,
            libc::SIGHUP => Request::Reload,
            libc::SIGUSR1 => Request::Data,
            libc::SIGUSR2 => Request::Stats,
            libc::SIGCHLD => Request::Child,
            n if n == json() => Request::Json,
            n if n == stats_clear() => Request::StatsClear,
            n => Request::Other(n),
        })
    }
}

fn caught_set() -> SigSet {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it before any sigaddset, and
    // every number added is a valid signal of this libc.
    unsafe {
        let mut raw: libc::sigset_t = core::mem::zeroed();
        libc::sigemptyset(&mut raw);
        for s in CAUGHT {
            libc::sigaddset(&mut raw, s);
        }
        for s in libc::SIGRTMIN()..=libc::SIGRTMAX() {
            libc::sigaddset(&mut raw, s);
        }
        SigSet::from_sigset_t_unchecked(raw)
    }
}

/// `--signum=NAME`: the number of a signal keepalived knows by name, as keepalived prints it.
pub fn signum(name: &str) -> Option<i32> {
    let n = match name {
        "STOP" => libc::SIGTERM,
        "RELOAD" => libc::SIGHUP,
        "DATA" => libc::SIGUSR1,
        "STATS" => libc::SIGUSR2,
        "STATS_CLEAR" => stats_clear(),
        "JSON" => json(),
        _ => return None,
    };
    Some(n)
}
