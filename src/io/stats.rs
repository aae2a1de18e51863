//! SIGUSR2: per-instance statistics in keepalived's `/tmp/keepalived.stats` format, followed by
//! an "Other Errors" section for the drops keepalived does not count in that file.

use crate::vrrp::packet::DropReason;
use crate::vrrp::router::Counters;
use core::fmt::Write as _;
use std::path::PathBuf;

/// keepalived writes `/tmp/keepalived.stats`; `TMPDIR` moves it (two daemons on one host).
pub fn stats_path() -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    // libc's getenv: std::env::var_os adds an environment lock and a C-string copy (0.5 KB)
    // that a single-threaded daemon does not need.
    // SAFETY: the name is a valid C string; the value is copied at once, and nothing in this
    // single-threaded process changes the environment.
    let value = unsafe { libc::getenv(c"TMPDIR".as_ptr()) };
    let dir = if value.is_null() {
        std::ffi::OsStr::new("/tmp")
    } else {
        // SAFETY: a non-null getenv result is a NUL-terminated string.
        std::ffi::OsStr::from_bytes(unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes())
    };
    std::path::Path::new(dir).join("keepalived.stats")
}

/// The lines of keepalived's file, in its order.
const SECTIONS: [(&str, &[&str]); 2] = [
    (
        "Packet Errors",
        &[
            "Length",
            "TTL",
            "Invalid Type",
            "Advertisement Interval",
            "Address List",
        ],
    ),
    (
        "Authentication Errors",
        &["Invalid Type", "Type Mismatch", "Failure"],
    ),
];

pub fn format_instance(out: &mut String, name: &str, c: &Counters) {
    // One formatting site (`num`) and plain pushes: a writeln! per line costs 1 KB more.
    fn num(out: &mut String, indent: &str, label: &str, n: u64) {
        let _ = writeln!(out, "{indent}{label}: {n}");
    }
    out.push_str("VRRP Instance: ");
    out.push_str(name);
    out.push_str("\n  Advertisements:\n");
    num(out, "    ", "Received", c.adverts_rx);
    num(out, "    ", "Sent", c.adverts_tx);
    num(out, "  ", "Became master", c.became_master);
    num(out, "  ", "Released master", c.released_master);
    for (section, lines) in SECTIONS {
        out.push_str("  ");
        out.push_str(section);
        out.push_str(":\n");
        for line in lines {
            let n: u64 = DropReason::ALL
                .iter()
                .filter(|r| r.keepalived_stat() == Some((section, line)))
                .map(|r| c.drops[r.index()])
                .sum();
            num(out, "    ", line, n);
        }
    }
    out.push_str("  Priority Zero:\n");
    num(out, "    ", "Received", c.prio0_rx);
    num(out, "    ", "Sent", c.prio0_tx);
    out.push_str("  Other Errors:\n");
    for r in DropReason::ALL
        .iter()
        .filter(|r| r.keepalived_stat().is_none())
    {
        num(out, "    ", r.name(), c.drops[r.index()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_layout_with_counts() {
        let mut c = Counters {
            adverts_rx: 7,
            adverts_tx: 3,
            became_master: 1,
            ..Counters::default()
        };
        c.drops[DropReason::AuthFailure.index()] = 4;
        c.drops[DropReason::Ttl.index()] = 2;
        c.drops[DropReason::Checksum.index()] = 1;
        let mut s = String::new();
        format_instance(&mut s, "VI_1", &c);
        let head = "VRRP Instance: VI_1\n  Advertisements:\n    Received: 7\n    Sent: 3\n  \
                    Became master: 1\n  Released master: 0\n  Packet Errors:\n    Length: 0\n    \
                    TTL: 2\n    Invalid Type: 0\n    Advertisement Interval: 0\n    Address List: 0\n  \
                    Authentication Errors:\n    Invalid Type: 0\n    Type Mismatch: 0\n    \
                    Failure: 4\n  Priority Zero:\n    Received: 0\n    Sent: 0\n  Other Errors:\n";
        assert!(s.starts_with(head), "{s}");
        assert!(s.contains("    Checksum: 1\n"), "{s}");
    }
}
