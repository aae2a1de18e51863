//! The file system calls the configuration loader makes (reading files, listing directories
//! for include globs), kept here with the other syscalls.

use std::path::{Path, PathBuf};

/// Fuzzing builds only (cargo-fuzz sets `--cfg fuzzing`): the config fuzz target confines every
/// read and directory listing to one directory, so generated text such as `include /*/*/*`
/// never walks or reads the real file system. Outside that directory the file system looks
/// empty; before [`confine_to`](sandbox::confine_to) is called, everywhere does.
#[cfg(fuzzing)]
pub mod sandbox {
    use std::path::{Component, Path, PathBuf};
    use std::sync::OnceLock;

    static ROOT: OnceLock<PathBuf> = OnceLock::new();

    /// Allows file access under `root` (an absolute path without `..`) from now on.
    pub fn confine_to(root: PathBuf) {
        let _ = ROOT.set(root);
    }

    pub(super) fn allows(path: &Path) -> bool {
        ROOT.get().is_some_and(|root| {
            path.starts_with(root) && !path.components().any(|c| c == Component::ParentDir)
        })
    }

    pub(super) fn denied() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::NotFound)
    }
}

/// `std::fs::read` as a plain open/read loop through nix: std's version sizes the buffer from
/// the file's metadata first, 0.9 KB more code.
pub fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    #[cfg(fuzzing)]
    if !sandbox::allows(path) {
        return Err(sandbox::denied());
    }
    use nix::fcntl::{open, OFlag};
    let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    let fd = open(path, flags, nix::sys::stat::Mode::empty())?;
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match nix::unistd::read(&fd, &mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// The names in a directory, without `.` and `..`, as `std::fs::read_dir` gives them (up to
/// the first error), at most `at_most` of them: a caller bounding its work stops reading a huge
/// directory early. nix's `Dir`, because std's pulls in `io::Error`'s `Debug` (1.8 KB).
pub fn dir_entries(dir: &Path, at_most: usize) -> Vec<std::ffi::OsString> {
    #[cfg(fuzzing)]
    if !sandbox::allows(dir) {
        return Vec::new();
    }
    use nix::fcntl::OFlag;
    use std::os::unix::ffi::OsStrExt;
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let Ok(mut d) = nix::dir::Dir::open(dir, flags, nix::sys::stat::Mode::empty()) else {
        return Vec::new();
    };
    d.iter()
        .map_while(Result::ok)
        .map(|e| std::ffi::OsStr::from_bytes(e.file_name().to_bytes()).to_os_string())
        .filter(|n| n != "." && n != "..")
        .take(at_most)
        .collect()
}

/// `path` made canonical where possible (to recognise include loops), else as given.
pub fn canonical(path: &Path) -> PathBuf {
    #[cfg(fuzzing)]
    if !sandbox::allows(path) {
        return path.to_path_buf();
    }
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether `path` is a regular file nobody may execute (keepalived skips other includes).
pub fn is_plain_file(path: &Path) -> std::io::Result<bool> {
    #[cfg(fuzzing)]
    if !sandbox::allows(path) {
        return Err(sandbox::denied());
    }
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)?;
    Ok(meta.is_file() && meta.permissions().mode() & 0o111 == 0)
}

/// The host name (uname's nodename in this UTS namespace), None if it cannot be read.
pub fn host_name() -> Option<String> {
    let bytes = read_file(Path::new("/proc/sys/kernel/hostname")).ok()?;
    let name = String::from_utf8_lossy(&bytes).trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// 64 random bits from the kernel (keepalived's `${_RANDOM}`).
#[cfg(not(fuzzing))]
pub fn random_u64() -> std::io::Result<u64> {
    use nix::fcntl::{open, OFlag};
    let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    let fd = open("/dev/urandom", flags, nix::sys::stat::Mode::empty())?;
    let mut bytes = [0u8; 8];
    let mut got = 0;
    while got < bytes.len() {
        match nix::unistd::read(&fd, &mut bytes[got..]) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(u64::from_ne_bytes(bytes))
}

/// Fuzzing builds: a fixed number, so that an input always expands the same way.
#[cfg(fuzzing)]
pub fn random_u64() -> std::io::Result<u64> {
    Ok(0x5eed)
}
