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

/// The syslog ident of a record: keepalived 2.2.7's checker process's for the load balancer's
/// (target [`crate::logf::CHECKERS`]), its VRRP process's for the rest.
fn ident(target: &str) -> &'static str {
    if target == crate::logf::CHECKERS {
        crate::logf::CHECKERS
    } else {
        "Keepalived_vrrp"
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
                "<{pri}>{}[{}]: {}",
                ident(record.target()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use log::Log as _;

    /// What the logger sends to syslog for a record of `target`.
    fn syslog_line(target: &str, level: log::Level, msg: &str) -> String {
        let (ours, theirs) = UnixDatagram::pair().unwrap();
        let logger = Logger {
            console: false,
            syslog: Some(ours),
            facility: 3 << 3,
            level: log::LevelFilter::Debug,
        };
        logger.log(
            &log::Record::builder()
                .target(target)
                .level(level)
                .args(format_args!("{msg}"))
                .build(),
        );
        let mut buf = [0u8; 600];
        let n = theirs.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn checker_lines_carry_the_healthcheckers_ident() {
        let pid = std::process::id();
        let line = syslog_line(
            crate::logf::CHECKERS,
            log::Level::Info,
            "TCP_CHECK on service [192.0.2.3]:tcp:80 failed.",
        );
        assert_eq!(
            line,
            format!(
                "<30>Keepalived_healthcheckers[{pid}]: \
                 TCP_CHECK on service [192.0.2.3]:tcp:80 failed."
            )
        );
        // Every other record is the VRRP process's, whatever its module.
        for target in ["keepalived_rs::logf", "keepalived_rs::io::daemon::lb", ""] {
            let line = syslog_line(target, log::Level::Error, "(VI_1) Entering MASTER STATE");
            assert_eq!(
                line,
                format!("<27>Keepalived_vrrp[{pid}]: (VI_1) Entering MASTER STATE")
            );
        }
    }

    /// Records as the macros make them, kept by a logger of the test's own.
    #[cfg(feature = "lb")]
    struct Capture(std::sync::Mutex<Vec<(String, String)>>);

    #[cfg(feature = "lb")]
    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata) -> bool {
            true
        }
        fn log(&self, r: &log::Record) {
            let kept = (r.target().to_string(), r.args().to_string());
            self.0.lock().unwrap().push(kept);
        }
        fn flush(&self) {}
    }

    /// The load balancer's macros give their records the checkers' target, the others not.
    /// (The only test of this binary that installs a logger.)
    #[cfg(feature = "lb")]
    #[test]
    fn lb_macros_log_with_the_checkers_target() {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Default::default())));
        log::set_logger(capture).expect("no other logger in the unit tests");
        log::set_max_level(log::LevelFilter::Info);
        lb_info!("lb line {}", 1);
        lb_warn!("lb line {}", 2);
        lb_error!("lb line {}", 3);
        info!("vrrp line {}", 1);
        error!("vrrp line {}", 2);
        let got = capture.0.lock().unwrap().clone();
        let target = |msg: &str| got.iter().find(|(_, m)| m == msg).map(|(t, _)| ident(t));
        for n in 1..=3 {
            assert_eq!(target(&format!("lb line {n}")), Some(crate::logf::CHECKERS));
        }
        for n in 1..=2 {
            assert_eq!(target(&format!("vrrp line {n}")), Some("Keepalived_vrrp"));
        }
    }
}
