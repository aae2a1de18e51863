//! SIGUSR1 and the JSON signal: keepalived's state dumps, `$TMPDIR/keepalived.data` and
//! `$TMPDIR/keepalived.json` (default /tmp, like the statistics). The text comes from
//! [`crate::vrrp::router::dump`]; here the clocks are read and the file written.

use super::children::RunAs;
use super::{clock, stats};
use crate::config::Config;
use crate::vrrp::router::dump::{self, Host};
use crate::vrrp::router::Router;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SIGUSR1: `keepalived.data`.
    Data,
    /// SIGRTMIN+2: `keepalived.json`.
    Json,
}

/// Formats and writes one dump;
/// `run_as` and `script_run_as` who notify and tracked scripts run as (`None`: root).
pub fn write(
    kind: Kind,
    router: &Router,
    config: &Config,
    run_as: Option<RunAs>,
    script_run_as: &[Option<RunAs>],
) {
    let ids = |r: Option<RunAs>| r.map_or((0, 0), |r| (r.uid, r.gid));
    let script_ids: Vec<(u32, u32)> = script_run_as.iter().map(|&r| ids(r)).collect();
    let host_name = super::fs::host_name();
    let host = Host {
        now: clock::now(),
        wall: clock::wall_now(),
        host_name: host_name.as_deref(),
        script_ids: ids(run_as),
        vrrp_script_ids: &script_ids,
        fifo_ids: (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ),
    };
    let mut text = String::with_capacity(4096);
    let name = match kind {
        Kind::Data => {
            dump::data(router, config, &host, &mut text);
            "keepalived.data"
        }
        Kind::Json => {
            dump::json(router, config, &host, &mut text);
            "keepalived.json"
        }
    };
    write_named(name, &text);
}

/// Writes `text` to `name` beside the statistics file (`$TMPDIR`, default /tmp).
pub(super) fn write_named(name: &str, text: &str) {
    let path = stats::stats_path().with_file_name(name);
    match write_file(&path, text.as_bytes()) {
        Ok(()) => info!("Wrote {}", path.display()),
        Err(e) => error!("writing {}: {e}", path.display()),
    }
}

/// As keepalived's `fopen_safe`: mode 0600, and a symbolic link at `path` is refused rather
/// than followed (the directory is usually /tmp).
pub(super) fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use nix::fcntl::{open, OFlag};
    use nix::sys::stat::Mode;
    let flags =
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = open(path, flags, Mode::S_IRUSR | Mode::S_IWUSR)?;
    let mut rest = bytes;
    while !rest.is_empty() {
        match nix::unistd::write(&fd, rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => rest = &rest[n.min(rest.len())..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
