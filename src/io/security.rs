//! Script security, checked once at start (keepalived 2.2.7 lib/notify.c `check_script_secure`,
//! vrrp.c `check_vrrp_script_security`). Each script's program is found; a script that cannot
//! be found or executed is disabled; when it runs as root (or is set-uid/set-gid root), every
//! part of its path must be safe from other users ([`component_problem`], the pure rule). An
//! unsafe script is disabled with `enable_script_security`, only logged without it.
//!
//! Disabled scripts leave the configuration the daemon runs, as in keepalived: a `vrrp_script`
//! and every `track_script` line naming it (the instances no longer track it), a notify or FIFO
//! script (that notification is skipped).

use super::children::{RunAs, SHELL};
use crate::config::{is_shell_syntax, Command, Config};
use nix::sys::stat::{lstat, stat};
use std::path::{Path, PathBuf};

/// Who scripts run as when `script_user` is not given, if that user exists.
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// Why one part of a script's path lets a user other than root change what runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A directory expected and something else found, or a program that is neither a file
    /// nor a symbolic link.
    WrongType,
    NotOwnedByRoot,
    /// A file, or a directory without the sticky bit, writable by a group other than root.
    GroupWritable,
    /// A file, or a directory without the sticky bit, writable by anyone.
    WorldWritable,
}

impl Problem {
    fn describe(self) -> &'static str {
        match self {
            Problem::WrongType => "wrong file type",
            Problem::NotOwnedByRoot => "not owned by root",
            Problem::GroupWritable => "writable by a group other than root",
            Problem::WorldWritable => "writable by everyone",
        }
    }
}

/// keepalived's rule for one part of a script's path, from lstat(2)'s owner, group and mode;
/// `last` for the program itself. A symbolic link is judged by its owner only (its mode means
/// nothing); a sticky directory by its owner only (others cannot replace root's entries in it).
/// A link may stand for a directory on the way (the kernel follows it): keepalived checks the
/// resolved path only, we check the path as written too, since that is the one we execute.
pub fn component_problem(uid: u32, gid: u32, mode: u32, last: bool) -> Option<Problem> {
    let kind = mode & libc::S_IFMT;
    let (dir, file, link) = (
        kind == libc::S_IFDIR,
        kind == libc::S_IFREG,
        kind == libc::S_IFLNK,
    );
    if !(link || if last { file } else { dir }) {
        return Some(Problem::WrongType);
    }
    if uid != 0 {
        return Some(Problem::NotOwnedByRoot);
    }
    if !(file || dir && mode & libc::S_ISVTX == 0) {
        return None;
    }
    if mode & libc::S_IWOTH != 0 {
        Some(Problem::WorldWritable)
    } else if gid != 0 && mode & libc::S_IWGRP != 0 {
        Some(Problem::GroupWritable)
    } else {
        None
    }
}

/// keepalived's `is_executable`: root needs any execute bit, others the bit of their class.
pub fn is_executable(mode: u32, file_uid: u32, file_gid: u32, who: RunAs) -> bool {
    let bit = if who.uid == 0 {
        libc::S_IXUSR | libc::S_IXGRP | libc::S_IXOTH
    } else if who.uid == file_uid {
        libc::S_IXUSR
    } else if who.gid == file_gid {
        libc::S_IXGRP
    } else {
        libc::S_IXOTH
    };
    mode & bit != 0
}

/// Whether the path must be safe: the script runs as root (user or group), or the file is
/// set-uid root or set-gid root.
pub fn needs_protection(mode: u32, file_uid: u32, file_gid: u32, who: RunAs) -> bool {
    who.uid == 0
        || who.gid == 0
        || file_uid == 0 && mode & libc::S_IXUSR != 0 && mode & libc::S_ISUID != 0
        || file_gid == 0 && mode & libc::S_IXGRP != 0 && mode & libc::S_ISGID != 0
}

/// The program a shell line starts with, when its first word is a plain program name or path.
/// Anything else (redirection first, an assignment, quoting, expansion) cannot be known
/// without running the shell.
pub fn shell_program(line: &str) -> Option<&str> {
    let word = line.split_ascii_whitespace().next()?;
    (!is_shell_syntax(word)).then_some(word)
}

/// What `-t` and the daemon learn from the checks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Scripts will run and `enable_script_security` is off: keepalived's "SECURITY VIOLATION",
    /// `-t` exits 6 (KEEPALIVED_CHK_EXIT_CONFIG_TEST_SECURITY).
    pub violation: bool,
    /// A `vrrp_script` was removed (unsafe, not found, no user to run it as): a configuration
    /// error for keepalived, `-t` exits 5 unless a violation outranks it.
    pub config_error: bool,
}

/// Why a script is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disabled {
    Insecure,
    NotFound,
    NotExecutable,
}

/// What the check of one command found.
#[derive(Debug, Default, Clone, Copy)]
struct Found {
    /// A program file was found (keepalived's SC_ISSCRIPT).
    script: bool,
    /// Its path is unsafe (disabling it or not).
    insecure: bool,
    disabled: Option<Disabled>,
}

impl Found {
    fn disable(&mut self, why: Disabled) {
        self.disabled.get_or_insert(why);
    }
}

/// Checks every script of `config` (when it has instances: keepalived checks nothing
/// otherwise) and returns it without the disabled ones, and with `script_user` set to
/// `keepalived_script` when that is the default user. Logs every finding.
pub fn enforce(mut config: Config) -> (Config, Report) {
    let mut report = Report::default();
    if config.instances.is_empty() {
        return (config, report);
    }
    let security = config.global.enable_script_security;
    let mut default = DefaultUser::new(&mut config, security);
    let mut all = Found::default();
    let mut removed: Vec<String> = Vec::new();
    config.scripts.retain(|s| {
        let who = match &s.user {
            Some((u, g)) => lookup(u, g.as_deref()),
            None => default.get(&mut report),
        };
        let Some(who) = who else {
            error!(
                "Unable to set default user for vrrp script {} - removing",
                s.name
            );
            report.config_error = true;
            removed.push(s.name.clone());
            return false;
        };
        let f = check_command(&s.script, who, security);
        all.script |= f.script;
        all.insecure |= f.insecure;
        match f.disabled {
            None => return true,
            Some(Disabled::Insecure) => {
                error!("Disabling track script {} due to insecure", s.name);
                report.config_error = true;
            }
            Some(Disabled::NotFound) => {
                error!(
                    "Disabling track script {} since not found/accessible",
                    s.name
                );
                report.config_error = true;
            }
            // keepalived drops it without a configuration error; its reason was logged.
            Some(Disabled::NotExecutable) => {}
        }
        removed.push(s.name.clone());
        false
    });
    let mut notify: Vec<&mut Option<Command>> = Vec::new();
    for inst in &mut config.instances {
        inst.track_scripts.retain(|t| !removed.contains(&t.name));
        notify.extend(inst.notify.commands_mut());
    }
    for group in &mut config.sync_groups {
        group.track_scripts.retain(|t| !removed.contains(&t.name));
        notify.extend(group.notify.commands_mut());
    }
    let g = &mut config.global;
    for f in [&mut g.notify_fifo, &mut g.vrrp_notify_fifo]
        .into_iter()
        .flatten()
    {
        notify.push(&mut f.script);
    }
    for slot in notify {
        let Some(cmd) = slot.as_ref() else { continue };
        let Some(who) = default.get(&mut report) else {
            info!(
                "Failed to set default user for notify script {} - ignoring",
                cmd.program()
            );
            *slot = None;
            continue;
        };
        let f = check_command(cmd, who, security);
        all.script |= f.script;
        all.insecure |= f.insecure;
        if f.disabled.is_some() {
            *slot = None;
        }
    }
    if let Some(name) = default.set_script_user {
        config.global.script_user = Some((name.to_string(), None));
    }
    if !security && all.script {
        report.violation = true;
        warn!(
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled.{}",
            if all.insecure {
                " There are insecure scripts."
            } else {
                ""
            }
        );
    }
    (config, report)
}

/// The user scripts without their own run as: `script_user`, else `keepalived_script` if it
/// exists, else ourselves (with `enable_script_security`, keepalived refuses that fallback).
/// Looked up at once, complained about at first use, as keepalived.
struct DefaultUser {
    who: Result<RunAs, String>,
    reported: bool,
    set_script_user: Option<&'static str>,
}

impl DefaultUser {
    fn new(config: &mut Config, security: bool) -> Self {
        let mut set_script_user = None;
        let who = match &config.global.script_user {
            Some((u, g)) => {
                lookup(u, g.as_deref()).ok_or_else(|| format!("Script user '{u}' does not exist"))
            }
            None => match lookup(DEFAULT_SCRIPT_USER, None) {
                Some(r) => {
                    set_script_user = Some(DEFAULT_SCRIPT_USER);
                    Ok(r)
                }
                None if security => Err(format!(
                    "Unable to set default user {DEFAULT_SCRIPT_USER} for script"
                )),
                None => Ok(RunAs {
                    uid: nix::unistd::getuid().as_raw(),
                    gid: nix::unistd::getgid().as_raw(),
                }),
            },
        };
        DefaultUser {
            who,
            reported: false,
            set_script_user,
        }
    }

    fn get(&mut self, report: &mut Report) -> Option<RunAs> {
        match &self.who {
            Ok(r) => Some(*r),
            Err(msg) => {
                if !self.reported {
                    error!("{msg}");
                    report.config_error = true;
                    self.reported = true;
                }
                None
            }
        }
    }
}

fn lookup(user: &str, group: Option<&str>) -> Option<RunAs> {
    use nix::unistd::{Group, User};
    let u = User::from_name(user).ok().flatten()?;
    let gid = match group {
        Some(g) => Group::from_name(g).ok().flatten()?.gid,
        None => u.gid,
    };
    Some(RunAs {
        uid: u.uid.as_raw(),
        gid: gid.as_raw(),
    })
}

/// Plain words: their program. A shell line: the shell, and its first program when that is a
/// plain name found on the PATH (a word not found may be a builtin or keyword: `exit`, `if`).
/// Later programs of a shell line are not checked; keepalived, which has no shell, checks
/// only the first word too.
fn check_command(cmd: &Command, who: RunAs, security: bool) -> Found {
    let mut f = Found::default();
    if cmd.needs_shell() {
        check_program(SHELL, true, who, security, &mut f);
        if let Some(p) = shell_program(&cmd.line) {
            check_program(p, false, who, security, &mut f);
        }
    } else {
        check_program(cmd.program(), true, who, security, &mut f);
    }
    f
}

fn check_program(name: &str, required: bool, who: RunAs, security: bool, f: &mut Found) {
    let path = match find(name, who, required) {
        Ok(p) => p,
        Err(msg) => {
            if required {
                warn!("{msg}");
                f.disable(Disabled::NotFound);
            }
            return;
        }
    };
    let real = match std::fs::canonicalize(&path) {
        Ok(p) => p,
        Err(e) => {
            warn!("Script {name} cannot be accessed - {e}");
            return f.disable(Disabled::NotFound);
        }
    };
    let Ok(st) = stat(&real) else {
        warn!("Unable to access script `{name}` - disabling");
        return f.disable(Disabled::NotFound);
    };
    f.script = true;
    let (mode, uid, gid) = (st.st_mode, st.st_uid, st.st_gid);
    if !is_executable(mode, uid, gid, who) {
        warn!(
            "WARNING - script '{name}' is not executable for uid:gid {}:{} - disabling.",
            who.uid, who.gid
        );
        return f.disable(Disabled::NotExecutable);
    }
    if !needs_protection(mode, uid, gid, who) {
        return;
    }
    let written = path.as_path();
    let paths = [written, real.as_path()];
    let paths = if written == real {
        &paths[..1]
    } else {
        &paths[..]
    };
    for p in paths {
        match walk(p) {
            Ok(()) => {}
            Err(None) => {
                warn!(
                    "check_script_secure could not find script '{}' - disabling",
                    p.display()
                );
                return f.disable(Disabled::NotFound);
            }
            Err(Some((_, Problem::WrongType))) => {
                warn!("Wrong file type found in script path '{}'.", p.display());
                return f.disable(Disabled::Insecure);
            }
            Err(Some((at, problem))) => {
                warn!(
                    "Unsafe permissions found for script '{}'{}.",
                    p.display(),
                    if security { " - disabling" } else { "" }
                );
                warn!("  {}: {}", at.display(), problem.describe());
                f.insecure = true;
                if security {
                    f.disable(Disabled::Insecure);
                }
                return;
            }
        }
    }
}

/// The file `name` names: a path (relative ones from `/`, where scripts start), or the first
/// regular file executable by `who` in a PATH directory, as execvp(3) finds it.
fn find(name: &str, who: RunAs, required: bool) -> Result<PathBuf, String> {
    if name.contains('/') {
        return Ok(Path::new("/").join(name));
    }
    if name.is_empty() {
        return Err("Cannot find script  in path - disabling".to_string());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    let mut denied = false;
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        let Ok(st) = stat(&p) else { continue };
        if st.st_mode & libc::S_IFMT == libc::S_IFREG
            && is_executable(st.st_mode, st.st_uid, st.st_gid, who)
        {
            if required {
                warn!(
                    "WARNING - script `{name}` resolved by path search to `{}`. Please specify full path.",
                    p.display()
                );
            }
            return Ok(p);
        }
        denied = true;
    }
    Err(if denied {
        format!("Permissions failure for script {name} in path - disabling")
    } else {
        format!("Cannot find script {name} in path - disabling")
    })
}

/// Every part of `path` from `/` down, through lstat(2): Err(None) when one cannot be read,
/// else the first unsafe part and why.
fn walk(path: &Path) -> Result<(), Option<(&Path, Problem)>> {
    let parts: Vec<&Path> = path.ancestors().collect();
    for (k, p) in parts.iter().rev().enumerate() {
        let st = lstat(*p).map_err(|_| None)?;
        let last = k + 1 == parts.len();
        if let Some(problem) = component_problem(st.st_uid, st.st_gid, st.st_mode, last) {
            return Err(Some((p, problem)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: u32 = libc::S_IFDIR;
    const FILE: u32 = libc::S_IFREG;
    const LINK: u32 = libc::S_IFLNK;
    const ROOT: RunAs = RunAs { uid: 0, gid: 0 };

    #[test]
    fn root_owned_parts_without_other_writers_are_safe() {
        assert_eq!(component_problem(0, 0, DIR | 0o755, false), None);
        assert_eq!(component_problem(0, 0, FILE | 0o755, true), None);
        // Group write is fine when the group is root.
        assert_eq!(component_problem(0, 0, DIR | 0o775, false), None);
        assert_eq!(component_problem(0, 0, FILE | 0o775, true), None);
        // /tmp: anyone may add entries, nobody may replace root's.
        assert_eq!(component_problem(0, 0, DIR | 0o1777, false), None);
        assert_eq!(component_problem(0, 50, DIR | 0o1777, false), None);
        // A link's mode means nothing (it is always 0777).
        assert_eq!(component_problem(0, 0, LINK | 0o777, true), None);
        assert_eq!(component_problem(0, 0, LINK | 0o777, false), None);
    }

    #[test]
    fn writable_by_others_or_owned_by_others_is_unsafe() {
        use Problem::*;
        assert_eq!(
            component_problem(0, 0, DIR | 0o777, false),
            Some(WorldWritable)
        );
        assert_eq!(
            component_problem(0, 0, FILE | 0o757, true),
            Some(WorldWritable)
        );
        assert_eq!(
            component_problem(0, 50, DIR | 0o775, false),
            Some(GroupWritable)
        );
        assert_eq!(
            component_problem(0, 50, FILE | 0o775, true),
            Some(GroupWritable)
        );
        // Another owner can chmod anything, sticky or not, link or not.
        for (mode, last) in [
            (DIR | 0o755, false),
            (DIR | 0o1755, false),
            (FILE | 0o500, true),
            (LINK | 0o777, true),
        ] {
            assert_eq!(
                component_problem(1000, 0, mode, last),
                Some(NotOwnedByRoot),
                "{mode:o}"
            );
        }
    }

    #[test]
    fn a_directory_must_be_a_directory_and_a_program_a_file() {
        use Problem::WrongType;
        assert_eq!(
            component_problem(0, 0, FILE | 0o755, false),
            Some(WrongType)
        );
        assert_eq!(component_problem(0, 0, DIR | 0o755, true), Some(WrongType));
        let fifo = libc::S_IFIFO | 0o644;
        assert_eq!(component_problem(0, 0, fifo, true), Some(WrongType));
        // The type is checked before the owner, as keepalived.
        assert_eq!(component_problem(1000, 0, fifo, true), Some(WrongType));
    }

    #[test]
    fn executable_as_keepalived_decides() {
        let user = RunAs {
            uid: 1000,
            gid: 100,
        };
        // Root needs any x bit.
        assert!(is_executable(FILE | 0o001, 5, 5, ROOT));
        assert!(!is_executable(FILE | 0o644, 0, 0, ROOT));
        // Others their class's bit only.
        assert!(is_executable(FILE | 0o100, 1000, 5, user));
        assert!(!is_executable(FILE | 0o011, 1000, 100, user));
        assert!(is_executable(FILE | 0o010, 5, 100, user));
        assert!(!is_executable(FILE | 0o101, 5, 100, user));
        assert!(is_executable(FILE | 0o001, 5, 5, user));
    }

    #[test]
    fn protection_when_root_runs_it_or_it_is_setuid_root() {
        let user = RunAs {
            uid: 1000,
            gid: 100,
        };
        assert!(needs_protection(FILE | 0o755, 1000, 100, ROOT));
        assert!(needs_protection(
            FILE | 0o755,
            1000,
            100,
            RunAs { uid: 1000, gid: 0 }
        ));
        assert!(!needs_protection(FILE | 0o755, 0, 0, user));
        assert!(needs_protection(FILE | 0o4755, 0, 5, user));
        assert!(needs_protection(FILE | 0o2755, 5, 0, user));
        // A set-uid bit without the execute bit does nothing.
        assert!(!needs_protection(FILE | 0o4655, 0, 5, user));
        assert!(!needs_protection(FILE | 0o4755, 5, 5, user));
    }

    #[test]
    fn the_first_program_of_a_shell_line() {
        assert_eq!(shell_program("pidof nginx || exit 1"), Some("pidof"));
        assert_eq!(
            shell_program("/usr/bin/test -e /x && exit 0"),
            Some("/usr/bin/test")
        );
        for line in [
            "[ -f /x ]",
            "</dev/tcp/h/80",
            "A=1 prog",
            "$CHECK",
            "'/a b' c",
            "",
        ] {
            assert_eq!(shell_program(line), None, "{line}");
        }
    }

    fn cmd(line: &str) -> Command {
        Command {
            line: line.to_string(),
            at: crate::config::Location {
                file: std::path::Path::new("t.conf").into(),
                line: 1,
            },
        }
    }

    /// A directory of its own under the temp dir, with `mode`, holding an executable `chk.sh`.
    fn script_in(tag: &str, mode: u32) -> (PathBuf, String) {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("kt-sec-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let file = dir.join("chk.sh");
        std::fs::write(&file, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, file.display().to_string())
    }

    #[test]
    fn a_root_script_in_a_world_writable_directory_is_disabled_only_with_security() {
        let (dir, file) = script_in("ww", 0o777);
        let f = check_command(&cmd(&file), ROOT, true);
        assert!(f.script && f.insecure);
        assert_eq!(f.disabled, Some(Disabled::Insecure));
        let f = check_command(&cmd(&file), ROOT, false);
        assert!(f.script && f.insecure);
        assert_eq!(f.disabled, None);
        // Through a shell line the first program is checked as well.
        let f = check_command(&cmd(&format!("{file} || exit 1")), ROOT, true);
        assert_eq!(f.disabled, Some(Disabled::Insecure));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_safe_script_runs_and_a_missing_one_is_disabled() {
        let (dir, file) = script_in("safe", 0o755);
        let f = check_command(&cmd(&file), ROOT, true);
        // Only root's own files are safe for root.
        let ours = nix::unistd::geteuid().is_root();
        assert_eq!(f.disabled, (!ours).then_some(Disabled::Insecure));
        std::fs::remove_dir_all(dir).unwrap();
        let f = check_command(&cmd(&file), ROOT, true);
        assert_eq!(f.disabled, Some(Disabled::NotFound));
        assert!(!f.script);
        // A shell builtin first is not "not found": only the shell is checked.
        let f = check_command(&cmd("exit 0; true"), ROOT, false);
        assert_eq!(f.disabled, None);
    }
}
