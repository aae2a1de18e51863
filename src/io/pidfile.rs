//! The pidfile init scripts use: refuse to start twice, remove it on exit.

use std::io;
use std::path::{Path, PathBuf};

pub struct PidFile(PathBuf);

impl PidFile {
    pub fn create(path: &Path) -> io::Result<Self> {
        std::fs::write(path, format!("{}\n", std::process::id()))?;
        Ok(PidFile(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// keepalived refuses to start when its pidfile names a live process.
pub fn check_not_running(path: &Path) -> io::Result<()> {
    // The config loader's read_file (linked anyway) rather than read_to_string.
    let Ok(bytes) = super::fs::read_file(path) else {
        return Ok(());
    };
    // Parsed as u64 (the parse the config uses): a negative or too large number is no pid,
    // as it was when this parsed an i32 and required pid > 0.
    let Some(pid) = core::str::from_utf8(&bytes)
        .unwrap_or("")
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| i32::try_from(n).ok())
    else {
        return Ok(());
    };
    if pid > 0
        && pid != std::process::id() as i32
        && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
    {
        return Err(super::error(
            io::ErrorKind::AlreadyExists,
            format!("daemon is already running (pid {pid}, {})", path.display()),
        ));
    }
    Ok(())
}
