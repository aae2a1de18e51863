//! `track_file` on the host: the files are created at start when asked (`init_file`), read
//! once, then watched with inotify on their directories, so a write, a rename into place or a
//! delete is seen at once without polling.

use crate::config::TrackFile;
use crate::track::file::parse_value;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::ffi::OsString;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::Path;

pub struct FileWatch {
    inotify: Inotify,
    /// (directory watch, file name, index of the `track_file`).
    watches: Vec<(WatchDescriptor, OsString, usize)>,
}

impl FileWatch {
    /// Writes `init_file` values where asked (never at a reload) and watches every file's
    /// directory. A directory that cannot be watched is logged: its file then keeps the value
    /// read at start.
    pub fn new(files: &[TrackFile], init: bool) -> std::io::Result<FileWatch> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        let mut watches = Vec::new();
        for (k, f) in files.iter().enumerate() {
            if let (true, Some((value, overwrite))) = (init, f.init) {
                if overwrite || !f.path.exists() {
                    if let Err(e) = std::fs::write(&f.path, format!("{value}\n")) {
                        warn!(
                            "track_file {}: cannot initialise {}: {e}",
                            f.name,
                            f.path.display()
                        );
                    }
                }
            }
            let dir = match f.path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let Some(name) = f.path.file_name() else {
                warn!("track_file {}: {} names no file", f.name, f.path.display());
                continue;
            };
            let mask = AddWatchFlags::IN_CLOSE_WRITE
                | AddWatchFlags::IN_DELETE
                | AddWatchFlags::IN_MOVED_FROM
                | AddWatchFlags::IN_MOVED_TO;
            match inotify.add_watch(dir, mask) {
                Ok(wd) => watches.push((wd, name.to_os_string(), k)),
                Err(e) => warn!("track_file {}: cannot watch {}: {e}", f.name, dir.display()),
            }
        }
        Ok(FileWatch { inotify, watches })
    }

    pub fn fd(&self) -> RawFd {
        self.inotify.as_fd().as_raw_fd()
    }

    /// The current value of file `f` (0 when missing or unreadable, as keepalived); `None`
    /// for a number keepalived would ignore.
    pub fn read(f: &TrackFile) -> Option<i64> {
        match super::fs::read_file(&f.path) {
            Ok(bytes) => {
                let v = parse_value(&bytes);
                if v.is_none() {
                    warn!("Invalid number read from {} - ignoring", f.path.display());
                }
                v
            }
            Err(_) => Some(0),
        }
    }

    /// Drains the inotify queue: `f(index, value)` for each tracked file that changed.
    pub fn drain(&mut self, files: &[TrackFile], mut f: impl FnMut(usize, i64)) {
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            for ev in events {
                let Some(name) = &ev.name else { continue };
                for (wd, file, k) in &self.watches {
                    if *wd != ev.wd || file != name {
                        continue;
                    }
                    let gone = ev
                        .mask
                        .intersects(AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVED_FROM);
                    let value = if gone {
                        Some(0)
                    } else {
                        Self::read(&files[*k])
                    };
                    if let Some(v) = value {
                        f(*k, v);
                    }
                }
            }
        }
    }
}
