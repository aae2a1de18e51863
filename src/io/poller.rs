//! The loop's one `ppoll(2)`: any number of descriptors, each registered with a [`Token`] that
//! says what it is. No fixed positions and no cap: the table grows when a source is added
//! (at start, or when an interface appears) and is reused by every wait, so the steady state
//! does not allocate.
//!
//! `libc::ppoll` over a table of `pollfd`s we keep, rather than nix's `poll`, because nix's
//! `PollFd` borrows its descriptor, so a table of them cannot live across iterations.

use crate::time::Instant;
use std::io;
use std::os::fd::RawFd;

/// What a registered descriptor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    Signals,
    Links,
    /// The VRRP socket of the interface with this ifindex.
    Vrrp(u32),
    /// The connection of the SMTP alert with this id.
    Mail(u32),
    /// The inotify descriptor watching `track_file`s.
    Files,
    /// A health checker's attempt in this executor slot (`io::checks`).
    #[cfg(feature = "lb")]
    Check(u32),
}

#[derive(Default)]
pub struct Poller {
    fds: Vec<libc::pollfd>,
    tokens: Vec<Token>,
}

impl Poller {
    /// Registers `fd` for readability.
    pub fn add(&mut self, fd: RawFd, token: Token) {
        self.remove(token);
        self.fds.push(libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
        self.tokens.push(token);
    }

    /// Also waits for `token` to be writable (or stops waiting for it).
    pub fn want_write(&mut self, token: Token, write: bool) {
        if let Some(k) = self.tokens.iter().position(|t| *t == token) {
            self.fds[k].events = if write {
                libc::POLLIN | libc::POLLOUT
            } else {
                libc::POLLIN
            };
        }
    }

    pub fn remove(&mut self, token: Token) {
        if let Some(k) = self.tokens.iter().position(|t| *t == token) {
            self.fds.swap_remove(k);
            self.tokens.swap_remove(k);
        }
    }

    /// Sleeps until a descriptor is readable or `deadline` passes (`now` is the clock read just
    /// before). A signal that interrupts the wait is not an error: it is on the signalfd.
    pub fn wait(&mut self, now: Instant, deadline: Option<Instant>) -> io::Result<()> {
        let ts = deadline.map(|d| {
            let us = d.saturating_since(now).as_micros() as i64;
            libc::timespec {
                tv_sec: us / 1_000_000,
                tv_nsec: (us % 1_000_000) * 1000,
            }
        });
        let tp = ts.as_ref().map_or(core::ptr::null(), |t| t as *const _);
        for f in &mut self.fds {
            f.revents = 0;
        }
        // SAFETY: fds points to fds.len() initialised pollfd entries that live for the call;
        // tp is null or points to a timespec on this stack frame; a null sigmask keeps ours.
        let rc = unsafe {
            libc::ppoll(
                self.fds.as_mut_ptr(),
                self.fds.len() as libc::nfds_t,
                tp,
                core::ptr::null(),
            )
        };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
        Ok(())
    }

    /// The tokens the last wait found readable, writable when asked, or in error (a read or
    /// write tells which).
    pub fn ready(&self) -> impl Iterator<Item = Token> + '_ {
        let mask = libc::POLLIN | libc::POLLOUT | libc::POLLERR | libc::POLLHUP;
        self.fds
            .iter()
            .zip(&self.tokens)
            .filter(move |(f, _)| f.revents & mask != 0)
            .map(|(_, t)| *t)
    }
}
