//! Logging as keepalived does it: syslog through /dev/log (busybox syslogd reads it) with the
//! facility of `-S`, and the console with `-l`. Messages are formatted into a fixed buffer.

use core::fmt::Write as _;
use std::os::unix::net::UnixDatagram;

pub struct Logger {
    console: bool,
    syslog: Option<UnixDatagram>,
    /// Syslog facility code already shifted (LOG_DAEMON = 3 << 3).
    facility: u8,
    level: log::LevelFilter,
}

/// Installs the logger. `facility`: `-S 0..7` picks LOG_LOCAL0..7, default LOG_DAEMON.
pub fn init(console: bool, use_syslog: bool, facility: Option<u8>, detail: bool) {
    let syslog = if use_syslog {
        UnixDatagram::unbound()
            .ok()
            .filter(|s| s.connect("/dev/log").is_ok())
    } else {
        None
    };
    let facility = match facility {
        Some(n) => (16 + n.min(7)) << 3,
        None => 3 << 3,
    };
    let level = if detail {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    };
    // Leaked once at start-up: a OnceLock's initialisation code is 0.6 KB. A second init (tests)
    // leaks one more Logger, which set_logger refuses as it refused the OnceLock's.
    let logger = Box::leak(Box::new(Logger {
        console,
        syslog,
        facility,
        level,
    }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

/// Writes all of `bytes` to descriptor 1 or 2, retrying short writes; errors are dropped.
/// std's stdout/stderr (locks, line buffering, panics on error) cost 1.5 KB more.
pub fn write_fd(stderr: bool, mut bytes: &[u8]) {
    // SAFETY: descriptors 1 and 2 stay open for the life of the process (daemonizing puts
    // /dev/null on them).
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(if stderr { 2 } else { 1 }) };
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(0) => return,
            Ok(n) => bytes = &bytes[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// `print!` (or `eprint!` with `stderr`) through [`write_fd`].
pub fn print(stderr: bool, args: core::fmt::Arguments) {
    write_fd(stderr, args.to_string().as_bytes());
}

/// Where a formatted line is assembled; long lines are cut, never allocated.
struct Line {
    buf: [u8; 512],
    len: usize,
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

fn severity(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= self.level
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if let Some(sock) = &self.syslog {
            let mut line = Line {
                buf: [0; 512],
                len: 0,
            };
            let pri = self.facility | severity(record.level());
            let _ = write!(
                line,
                "<{pri}>Keepalived_vrrp[{}]: {}",
                std::process::id(),
                record.args()
            );
            let _ = sock.send(&line.buf[..line.len]);
        }
        if self.console {
            let mut line = Line {
                buf: [0; 512],
                len: 0,
            };
            let (h, m, s, ms) = wall_clock();
            let _ = writeln!(line, "{h:02}:{m:02}:{s:02}.{ms:03} {}", record.args());
            write_fd(true, &line.buf[..line.len]);
        }
    }

    fn flush(&self) {}
}

/// UTC time of day for console lines.
fn wall_clock() -> (u64, u64, u64, u64) {
    // nix rather than SystemTime::now(), whose unwrap drags in io::Error's Debug.
    let (secs, nanos) = match nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME) {
        Ok(ts) => (ts.tv_sec() as u64, ts.tv_nsec() as u64),
        Err(_) => (0, 0),
    };
    let day = secs % 86_400;
    (day / 3600, day / 60 % 60, day % 60, nanos / 1_000_000)
}
