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
    pub fn write_line(&mut self, line: &[u8]) {
        if self.fd.is_none() {
            let flags = OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
            match open(&self.path, flags, Mode::empty()) {
                Ok(fd) => self.fd = Some(fd),
                Err(e) => return self.drop_line(e),
            }
        }
        let Some(fd) = &self.fd else { return };
        match nix::unistd::write(fd, line) {
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

/// Which lines a FIFO is told: VRRP transitions (`notify_fifo`, `vrrp_notify_fifo`), real and
/// virtual server changes (`notify_fifo`, `lvs_notify_fifo`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hears {
    pub vrrp: bool,
    pub lvs: bool,
}

/// The configured FIFOs and the buffer their VRRP lines are formatted in, sized when the
/// configuration is loaded from its longest name.
pub struct Fifos {
    list: Vec<(Fifo, Hears)>,
    line: Vec<u8>,
}

impl Fifos {
    pub fn new(list: Vec<(Fifo, Hears)>, longest_name: usize) -> Fifos {
        Fifos {
            list,
            line: vec![0; crate::notify::fifo_line_len(longest_name)],
        }
    }

    /// keepalived's line for an instance (or `group`) entering `word`, to every FIFO.
    pub fn announce(&mut self, group: bool, name: &str, word: &str, priority: u8) {
        if !self.list.iter().any(|(_, h)| h.vrrp) {
            return;
        }
        let Some(n) = crate::notify::fifo_line(&mut self.line, group, name, word, priority) else {
            // Cannot happen: the buffer was sized from the longest name.
            return;
        };
        for (f, _) in self.list.iter_mut().filter(|(_, h)| h.vrrp) {
            f.write_line(&self.line[..n]);
        }
    }

    #[cfg(feature = "lb")]
    /// A load balancer line (`RS [ip]:port VS UP`, `VS [vip]:tcp:80 DOWN`), with its newline,
    /// to the FIFOs that hear them.
    pub fn announce_lvs(&mut self, line: &str) {
        for (f, _) in self.list.iter_mut().filter(|(_, h)| h.lvs) {
            f.write_line(line.as_bytes());
        }
    }
}
