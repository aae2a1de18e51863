//! Child processes: track and notify scripts. Spawned without waiting for them, reaped through
//! the loop (SIGCHLD on the signalfd, then `waitpid(WNOHANG)`), killed with their process group
//! at their timeout (TERM, then KILL two seconds later, as keepalived), a bounded number at
//! once. Their output goes to /dev/null, so a script that floods output, or forks a daemon that
//! keeps its descriptors, can never block us.

use crate::config::Command;
use crate::time::Instant;
use crate::track::script::Exit;
use core::time::Duration;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

/// Scripts running at once; past it a track script skips its run and a notify script waits.
pub const MAX_CHILDREN: usize = 64;

/// The shell that runs a command line with shell syntax.
pub const SHELL: &str = "/bin/sh";

/// keepalived's grace between TERM and KILL at a timeout.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// What a child was started for, handed back when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Track(crate::vrrp::router::ScriptId),
    /// A notify script of the owner with this index.
    Notify(usize),
    /// A FIFO reader script (`notify_fifo_script`): runs as long as we do.
    FifoReader,
    /// A script whose owner a reload removed: reaped, and its end ignored.
    Orphan,
    /// A MISC_CHECK script of this checker (`check::CheckerId`).
    #[cfg(feature = "lb")]
    Check(u32),
}

struct Child {
    pid: Pid,
    job: Job,
    deadline: Option<Instant>,
    /// TERM sent at the timeout; KILL follows at `deadline`.
    terminating: bool,
}

/// Who a script runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

#[derive(Default)]
pub struct Children {
    running: Vec<Child>,
}

impl Children {
    pub fn is_full(&self) -> bool {
        self.running.len() >= MAX_CHILDREN
    }

    /// Starts `cmd` with `extra` words appended, in its own process group, from `/`, with
    /// stdin/stdout/stderr on /dev/null. Plain words run directly; shell syntax through
    /// `/bin/sh -c` (the extra words become `$1`...).
    pub fn spawn(
        &mut self,
        cmd: &Command,
        extra: &[String],
        run_as: Option<RunAs>,
        job: Job,
        timeout: Option<Duration>,
        now: Instant,
    ) -> io::Result<()> {
        if self.is_full() {
            return Err(super::error(
                io::ErrorKind::WouldBlock,
                format!("{MAX_CHILDREN} scripts already running"),
            ));
        }
        let mut c = if cmd.needs_shell() {
            let mut c = std::process::Command::new(SHELL);
            c.arg("-c").arg(&cmd.line).arg(cmd.program());
            c
        } else {
            let mut words = cmd.line.split_ascii_whitespace();
            let mut c = std::process::Command::new(words.next().unwrap_or(""));
            c.args(words);
            c
        };
        c.args(extra)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some(r) = run_as {
            c.uid(r.uid).gid(r.gid);
        }
        // As keepalived: a script outlives us only by choice, not because we died.
        // SAFETY: the closure runs in the child between fork and exec and only makes one
        // async-signal-safe system call (prctl).
        unsafe {
            c.pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(io::Error::from));
        }
        let child = c.spawn()?;
        self.running.push(Child {
            pid: Pid::from_raw(child.id() as i32),
            job,
            deadline: timeout.map(|t| now + t),
            terminating: false,
        });
        // The std handle is dropped: we reap by pid through waitpid.
        Ok(())
    }

    /// Reload: jobs take their new identities (`f` gives `None` for one that is gone).
    pub fn retarget(&mut self, f: impl Fn(Job) -> Option<Job>) {
        for c in &mut self.running {
            c.job = f(c.job).unwrap_or(Job::Orphan);
        }
    }

    /// The earliest kill deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.running.iter().filter_map(|c| c.deadline).min()
    }

    /// Sends TERM (then KILL after the grace) to the process group of every child past its
    /// deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        for c in &mut self.running {
            if c.deadline.is_none_or(|d| d > now) {
                continue;
            }
            if c.terminating {
                let _ = killpg(c.pid, Signal::SIGKILL);
                c.deadline = Some(now + KILL_GRACE);
            } else {
                let _ = killpg(c.pid, Signal::SIGTERM);
                c.terminating = true;
                c.deadline = Some(now + KILL_GRACE);
            }
        }
    }

    /// Reaps every child that ended: `f(job, exit)` for each.
    pub fn reap(&mut self, mut f: impl FnMut(Job, Exit)) {
        loop {
            let st = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(st) => st,
            };
            let (pid, exit) = match st {
                WaitStatus::Exited(pid, code) => (pid, Exit::Status(code)),
                WaitStatus::Signaled(pid, sig, _) => (pid, Exit::Signal(sig as i32)),
                _ => continue,
            };
            let Some(k) = self.running.iter().position(|c| c.pid == pid) else {
                continue;
            };
            let c = self.running.swap_remove(k);
            // A group we TERMed may leave children behind: make sure they go too.
            let exit = if c.terminating {
                let _ = killpg(c.pid, Signal::SIGKILL);
                Exit::TimedOut
            } else {
                exit
            };
            f(c.job, exit);
        }
    }

    /// At stop: the FIFO reader and anything still running get TERM.
    pub fn terminate_all(&mut self) {
        for c in &self.running {
            let _ = killpg(c.pid, Signal::SIGTERM);
        }
    }
}
