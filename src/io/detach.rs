//! Daemonizing so that init scripts can trust the exit status of `start`: the parent stays until
//! the child has opened its sockets and written the pidfile, then exits with the child's verdict
//! (0, or the child's error code). keepalived's parent returns at once; waiting is what
//! start-stop-daemon and procd need to report a failed start as failed.

use nix::unistd::{fork, setsid, ForkResult};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// The child's end of the readiness pipe.
pub struct Ready(OwnedFd);

impl Ready {
    /// Tells the waiting parent how start-up went; it exits with `code`.
    pub fn report(self, code: u8) {
        // One byte into an empty pipe: written whole or not at all.
        let _ = nix::unistd::write(&self.0, &[code]);
    }
}

/// How long the parent waits for the child's verdict.
const WAIT_SECONDS: i32 = 30;

/// Forks. In the parent this never returns: it exits with the child's start-up code. In the
/// child it returns the pipe to report on, in a new session with stdio on /dev/null.
pub fn detach() -> io::Result<Ready> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(io::Error::from)?;
    // SAFETY: single-threaded process; the child only continues our own code.
    match unsafe { fork() }.map_err(io::Error::from)? {
        ForkResult::Parent { .. } => {
            drop(w);
            std::process::exit(wait_verdict(r) as i32);
        }
        ForkResult::Child => {
            drop(r);
            setsid().map_err(io::Error::from)?;
            let _ = nix::unistd::chdir("/");
            let null = nix::fcntl::open(
                "/dev/null",
                nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )?;
            for fd in 0..3 {
                // SAFETY: dup2 onto the standard descriptors, which this process owns.
                unsafe { libc::dup2(null.as_raw_fd(), fd) };
            }
            Ok(Ready(w))
        }
    }
}

/// The byte the child writes, or 1 if it died or stayed silent.
fn wait_verdict(r: OwnedFd) -> u8 {
    let mut fds = [libc::pollfd {
        fd: r.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, WAIT_SECONDS * 1000) };
    if n <= 0 {
        return 1;
    }
    let mut byte = [1u8];
    match nix::unistd::read(&r, &mut byte) {
        Ok(1) => byte[0],
        _ => 1,
    }
}
