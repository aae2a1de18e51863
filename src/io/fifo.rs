//! keepalived's notify FIFOs: one line per transition (`INSTANCE "VI_1" MASTER 100`). The FIFO
//! is created if missing; a line is written without blocking, and dropped (counted, logged
//! once) when nobody reads or the reader is too slow.

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

pub struct Fifo {
    pub path: PathBuf,
    fd: Option<OwnedFd>,
    pub dropped: u64,
}

impl Fifo {
    /// Creates the FIFO if it does not exist (mode 0600, as keepalived).
    pub fn create(path: PathBuf) -> std::io::Result<Fifo> {
        match nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o600)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(Fifo {
            path,
            fd: None,
            dropped: 0,
        })
    }

    /// Writes one line; never blocks.
    pub fn write_line(&mut self, line: &str) {
        if self.fd.is_none() {
            let flags = OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
            match open(&self.path, flags, Mode::empty()) {
                Ok(fd) => self.fd = Some(fd),
                Err(e) => return self.drop_line(e),
            }
        }
        let Some(fd) = &self.fd else { return };
        match nix::unistd::write(fd, line.as_bytes()) {
            Ok(_) => {}
            Err(e) => {
                if e == Errno::EPIPE {
                    // The reader went away: open again next time.
                    self.fd = None;
                }
                self.drop_line(e);
            }
        }
    }

    fn drop_line(&mut self, e: Errno) {
        self.dropped += 1;
        if self.dropped == 1 || self.dropped.is_multiple_of(1000) {
            warn!(
                "notify FIFO {}: line dropped ({}; x{})",
                self.path.display(),
                if e == Errno::ENXIO {
                    "no reader"
                } else {
                    e.desc()
                },
                self.dropped
            );
        }
    }
}
